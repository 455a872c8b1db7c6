"""Forms of the calendar's pages: a household's answer to one date, and who came.

They check the shape of what was typed (a choice, a whole number, children of the
household); the rules of the state of things (capacity, closing time, a cancelled
date) are the service's, whose ``ValidationError`` is put back on the form with
``attach_errors``."""

from django import forms
from django.core.exceptions import ValidationError

from constellation.inputs import RecordsChoiceField, WholeNumberField
from constellation.models import Child

from . import access
from .models import Answer
from .services import MAX_ADULTS, Came

ANSWER_MESSAGE = "Answer yes, no or maybe."
ADULTS_MESSAGE = f"Give a whole number of adults from 0 to {MAX_ADULTS}."
CHILDREN_MESSAGE = "Choose children of your own household."


def attach_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` on the form: each named field on that
    field, anything else on the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


def _adults_field(**kwargs) -> forms.IntegerField:
    return WholeNumberField(
        min_value=0,
        max_value=MAX_ADULTS,
        required=False,
        error_messages={
            "invalid": ADULTS_MESSAGE,
            "min_value": ADULTS_MESSAGE,
            "max_value": ADULTS_MESSAGE,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "form-control"}),
        **kwargs,
    )


class ChildChoiceField(RecordsChoiceField):
    def label_from_instance(self, obj: Child) -> str:
        # Other households and printouts never see a surname: the form neither.
        return obj.known_as


class AnswerForm(forms.Form):
    """A household's answer to one date: yes, no or maybe, how many adults, and which
    of its placed children (``access.children_of``) come."""

    answer = forms.ChoiceField(
        choices=Answer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": ANSWER_MESSAGE, "invalid_choice": ANSWER_MESSAGE},
    )
    adults = _adults_field(label="Adults coming", initial=1)
    children = ChildChoiceField(
        queryset=Child.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Children coming",
        error_messages={"invalid_choice": CHILDREN_MESSAGE, "invalid_pk_value": CHILDREN_MESSAGE},
    )

    def __init__(self, *args, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["children"].queryset = access.children_of(household)

    def clean_adults(self) -> int:
        return self.cleaned_data["adults"] or 0


class AttendanceForm(forms.Form):
    """Who came to one date: a line per household (adults, and its children ticked)
    and per person kept connected who answered (people), from
    ``selectors.attendance_lines``. The lines' initial values are the answers (or what
    was recorded before)."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"{line.prefix}-adults"] = _adults_field(
                label="Adults" if line.household is not None else "People",
                initial=line.adults,
            )
            if line.household is not None and line.children:
                self.fields[f"{line.prefix}-children"] = forms.TypedMultipleChoiceField(
                    choices=[(child.pk, child.known_as) for child in line.children],
                    coerce=int,
                    required=False,
                    initial=line.came_children,
                    widget=forms.CheckboxSelectMultiple,
                    label="Children",
                    error_messages={"invalid_choice": "Tick children of this household only."},
                )
        for line in lines:
            line.adults_field = self[f"{line.prefix}-adults"]
            name = f"{line.prefix}-children"
            line.children_field = self[name] if name in self.fields else None

    def clean(self):
        # A post that carries none of the form's lines is not "nobody came": it is a
        # form that did not come back whole, and what was recorded stays.
        if (
            self.is_bound
            and self.lines
            and not any(f"{line.prefix}-adults" in self.data for line in self.lines)
        ):
            raise ValidationError(
                "The form came back without its lines: nothing was changed. Try again."
            )
        return super().clean()

    def came(self) -> list[Came]:
        """The lines as the service takes them (after ``is_valid``)."""
        found = []
        for line in self.lines:
            adults = self.cleaned_data.get(f"{line.prefix}-adults") or 0
            ticked = set(self.cleaned_data.get(f"{line.prefix}-children") or ())
            children = tuple(child for child in line.children if child.pk in ticked)
            found.append(
                Came(
                    household=line.household,
                    contact=line.contact,
                    adults=adults,
                    children=children,
                )
            )
        return found
