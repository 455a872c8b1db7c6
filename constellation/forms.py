"""Input for the constellation pages: validation, clean-up and the crispy layout.

Forms never save: the views hand ``cleaned_data`` to one service function."""

from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from constellation.inputs import RecordChoiceField, RecordsChoiceField, WholeNumberField
from people.models import StaffRole, User

from .models import (
    CHILD_NOTES_MAX,
    Carer,
    Child,
    ConstellationMembership,
    Household,
    date_of_birth_problem,
)

# Free-text notes: room for a page of writing, and a bound on what a request may carry.
NOTES_MAX = CHILD_NOTES_MAX
REASON_MAX = 1000


def helper(submit_label: str, *, danger: bool = False) -> FormHelper:
    form_helper = FormHelper()
    form_helper.form_method = "post"
    button = Submit("submit", submit_label)
    if danger:
        button.field_classes = "btn btn-danger"
    form_helper.add_input(button)
    return form_helper


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _not_in_future(value: date | None, what: str) -> None:
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError(f"{what} cannot be in the future.")


def _notes(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=NOTES_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _reason(label: str = "Reason", max_length: int = REASON_MAX) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- households and carers -------------------------------------------------------------


class HouseholdForm(forms.Form):
    name = forms.CharField(
        max_length=Household._meta.get_field("name").max_length,
        help_text="How the constellation knows the household, for example “The Ashfords”.",
    )
    address = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    postcode = forms.CharField(
        max_length=Household._meta.get_field("postcode").max_length, required=False
    )
    phone = forms.CharField(
        max_length=Household._meta.get_field("phone").max_length,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    second_phone = forms.CharField(
        max_length=Household._meta.get_field("second_phone").max_length,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    beds = WholeNumberField(
        min_value=0,
        max_value=20,
        initial=0,
        help_text="For a hub home: the number of beds for sleepovers.",
    )

    def __init__(self, *args, submit_label: str = "Save household", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper(submit_label)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the household a name.")
        return name


class HouseholdCreateForm(HouseholdForm):
    kind = forms.ChoiceField(
        choices=Household.Kind.choices,
        initial=Household.Kind.SATELLITE,
        widget=forms.RadioSelect,
        help_text="A satellite household is proposed to the constellation; a hub home "
        "becomes its hub.",
    )
    reason = forms.CharField(
        label="Why it is proposed",
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = ["kind", "name", "address", "postcode", "phone", "second_phone", "beds"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("submit_label", "Add household")
        super().__init__(*args, **kwargs)


class CarerForm(forms.Form):
    email = forms.EmailField(
        max_length=User._meta.get_field("email").max_length,
        help_text="The invitation to set a password goes to this address.",
    )
    first_name = forms.CharField(max_length=User._meta.get_field("first_name").max_length)
    last_name = forms.CharField(max_length=User._meta.get_field("last_name").max_length)
    phone = forms.CharField(
        max_length=User._meta.get_field("phone").max_length,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    role = forms.ChoiceField(
        choices=Carer.Role.choices, initial=Carer.Role.PRIMARY, widget=forms.RadioSelect
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("Add carer and send invitation")


class EndCarerForm(forms.Form):
    reason = _reason("Why the carer is leaving", Carer._meta.get_field("end_reason").max_length)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("End this carer's role", danger=True)


# --- memberships --------------------------------------------------------------------------


class ProposeMembershipForm(forms.Form):
    household = RecordChoiceField(
        queryset=Household.objects.none(),
        empty_label="Choose a household",
        help_text="Satellite households of the service that are not in or proposed to "
        "a constellation.",
    )
    reason = forms.CharField(
        label="Why it is proposed",
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.helper = helper("Propose household")


class MembershipReasonForm(forms.Form):
    reason = _reason()

    def __init__(self, *args, submit_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper(submit_label, danger=True)


def proposable_households(households):
    """Narrow households a user manages to satellites with no open membership."""
    return (
        households.filter(kind=Household.Kind.SATELLITE)
        .exclude(pk__in=ConstellationMembership.objects.open().values("household_id"))
        .order_by("name")
    )


# --- children -------------------------------------------------------------------------------


class ChildForm(forms.Form):
    first_name = forms.CharField(max_length=Child._meta.get_field("first_name").max_length)
    last_name = forms.CharField(max_length=Child._meta.get_field("last_name").max_length)
    preferred_name = forms.CharField(
        max_length=Child._meta.get_field("preferred_name").max_length,
        required=False,
        help_text="What the child likes to be called. Other households see only this "
        "name and the child's age.",
    )
    date_of_birth = forms.DateField(widget=DateInput())
    needs = _notes("Needs", "Care needs, routines, what helps.")
    allergies = _notes("Allergies")
    medication_notes = _notes("Medication notes")
    emergency_contacts = _notes("Emergency contacts")
    social_worker = RecordChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No social worker with an account",
    )
    kept_connected = forms.BooleanField(
        required=False,
        label="Keep connected",
        help_text="After moving on, keep receiving invitations to social events.",
    )
    siblings = RecordsChoiceField(
        queryset=Child.objects.none(),
        required=False,
        help_text="Brothers and sisters in the service's care.",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, service, siblings=None, submit_label: str = "Save record", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["siblings"].queryset = (
            siblings if siblings is not None else Child.objects.none()
        ).filter(service=service)
        self.fields["siblings"].label_from_instance = lambda c: f"{c.full_name} ({c.age})"
        self.fields["social_worker"].queryset = User.objects.filter(
            staff_roles__service=service,
            staff_roles__role=StaffRole.Role.SOCIAL_WORKER,
            staff_roles__ended_on__isnull=True,
        ).distinct()
        self.helper = helper(submit_label)

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        problem = date_of_birth_problem(born)
        if problem:
            raise forms.ValidationError(problem)
        return born

    def clean_first_name(self):
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip()

    def clean_preferred_name(self):
        return self.cleaned_data["preferred_name"].strip()


class ChildCreateForm(ChildForm):
    placed_on = forms.DateField(
        label="Placed on",
        required=False,
        widget=DateInput(),
        help_text="Leave empty for today.",
    )

    field_order = ["first_name", "last_name", "preferred_name", "date_of_birth", "placed_on"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("submit_label", "Add child")
        super().__init__(*args, **kwargs)

    def clean_placed_on(self):
        placed_on = self.cleaned_data.get("placed_on")
        _not_in_future(placed_on, "The placement date")
        return placed_on

    def clean(self):
        cleaned = super().clean()
        born, placed_on = cleaned.get("date_of_birth"), cleaned.get("placed_on")
        if born and placed_on and placed_on < born:
            self.add_error("placed_on", "The placement cannot start before the child was born.")
        return cleaned


MOVED_ON = "moved_on"


class MoveChildForm(forms.Form):
    to = forms.ChoiceField(
        label="Moves to",
        help_text="Another household of the service, or moved on from the service's care "
        "(permanence, home to birth family, adoption, leaving care).",
    )
    reason = _reason("Reason for the move", 200)
    on = forms.DateField(label="Date of the move", widget=DateInput())

    def __init__(self, *args, child: Child, destinations, **kwargs):
        super().__init__(*args, **kwargs)
        self.child = child
        self.destinations = destinations
        self.fields["to"].choices = [
            ("", "Choose where the child goes"),
            (MOVED_ON, "Moved on from the service's care"),
            *[(str(h.pk), f"{h.name} ({h.get_kind_display()})") for h in destinations],
        ]
        self.fields["on"].initial = timezone.localdate()
        self.helper = helper("Record the move")

    def clean_to(self) -> Household | None:
        value = self.cleaned_data["to"]
        if value == MOVED_ON:
            return None
        # ChoiceField has already checked that the value is one of the choices offered.
        return next(h for h in self.destinations if str(h.pk) == value)

    def clean_on(self):
        on = self.cleaned_data["on"]
        _not_in_future(on, "The date of the move")
        if on < self.child.date_of_birth:
            raise forms.ValidationError("The move cannot be before the child was born.")
        return on
