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
    MOVES_ON,
    Carer,
    Child,
    ConstellationMembership,
    Household,
    MoveKind,
    Placement,
    PlanningMeeting,
    SupervisionNote,
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


def _day(label: str, *, help_text: str = "", required: bool = True) -> forms.DateField:
    """A calendar day typed on a page (``YYYY-MM-DD`` from the date picker), today by
    default; the form's ``clean_<field>`` says which days it takes."""
    return forms.DateField(
        label=label,
        required=required,
        initial=timezone.localdate,
        widget=DateInput(),
        help_text=help_text,
        error_messages={
            "required": f"Give the {label[0].lower()}{label[1:]}.",
            "invalid": "Give a date, for example 2026-03-14.",
        },
    )


def _text(
    label: str, max_length: int, *, missing: str, rows: int = 3, help_text: str = ""
) -> forms.CharField:
    """A required text (stripped); empty or only spaces is refused with ``missing``."""
    return forms.CharField(
        label=label,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": missing},
    )


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
        label=label,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give the reason."},
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


LEFT, DEREGISTERED = "left", "deregistered"


class EndCarerForm(forms.Form):
    """A carer leaves the household, or is de-registered as a foster carer, on a day
    (not in the future; the service refuses a day before they started)."""

    ending = forms.ChoiceField(
        label="What happened",
        choices=[
            (LEFT, "The carer leaves the household"),
            (DEREGISTERED, "The carer is de-registered as a foster carer (approval ended)"),
        ],
        initial=LEFT,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose whether the carer left or was de-registered."},
    )
    on = _day("Date", help_text="The day their role ended.")
    reason = _reason("Reason", Carer._meta.get_field("end_reason").max_length)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("End this carer's role", danger=True)

    def clean_on(self):
        on = self.cleaned_data["on"]
        _not_in_future(on, "The date")
        return on

    @property
    def deregistered(self) -> bool:
        return self.cleaned_data.get("ending") == DEREGISTERED


# --- memberships --------------------------------------------------------------------------


class ProposeMembershipForm(forms.Form):
    household = RecordChoiceField(
        queryset=Household.objects.none(),
        empty_label="Choose a household",
        help_text="Satellite households of the service that are not in or proposed to "
        "a constellation.",
        error_messages={
            "required": "Choose the household to propose.",
            "invalid_choice": "Choose a satellite household of this fostering service that "
            "is not in or proposed to a constellation.",
        },
    )
    planning_meeting = RecordChoiceField(
        label="From the planning meeting",
        queryset=PlanningMeeting.objects.none(),
        required=False,
        empty_label="Not from a planning meeting",
        help_text="The shared planning meeting of this constellation that proposed it.",
        error_messages={"invalid_choice": "Choose a planning meeting of this constellation."},
    )
    reason = forms.CharField(
        label="Why it is proposed",
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, households, meetings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        field = self.fields["planning_meeting"]
        field.queryset = meetings if meetings is not None else PlanningMeeting.objects.none()
        field.label_from_instance = meeting_label
        self.helper = helper("Propose household")


def meeting_label(meeting: PlanningMeeting) -> str:
    attendees = meeting.attendees if len(meeting.attendees) <= 60 else meeting.attendees[:57] + "…"
    return f"{meeting.held_on:%-d %B %Y} ({attendees})"


class PlanningMeetingForm(forms.Form):
    """A shared planning meeting held on a day (not in the future): who attended and
    what it decided."""

    held_on = _day("Date of the meeting")
    attendees = _text(
        "Who attended",
        PlanningMeeting._meta.get_field("attendees").max_length,
        missing="Say who attended.",
        rows=2,
        help_text="Names and roles, for example “Sam Hill (liaison), the Ashfords, the hub "
        "carers”.",
    )
    decisions = _text(
        "What it decided",
        PlanningMeeting._meta.get_field("decisions").max_length,
        missing="Say what the meeting decided.",
        rows=5,
        help_text="Which households are proposed to join, and anything else agreed.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("Record the meeting")

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        _not_in_future(held_on, "The meeting's date")
        return held_on


class ActivateMembershipForm(forms.Form):
    """The day a proposed household joins (not in the future; the service refuses a
    day before it was proposed)."""

    joined_on = _day("Date it joined", help_text="Today, or the day the household joined.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("Activate membership")

    def clean_joined_on(self):
        joined_on = self.cleaned_data["joined_on"]
        _not_in_future(joined_on, "The date it joined")
        return joined_on


class MembershipReasonForm(forms.Form):
    """A household withdraws or leaves on a day (not in the future; the service refuses
    a day before it was proposed or joined), for a reason."""

    on = _day("Date")
    reason = _reason()

    def __init__(self, *args, submit_label: str, date_label: str = "Date", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].label = date_label
        self.helper = helper(submit_label, danger=True)

    def clean_on(self):
        on = self.cleaned_data["on"]
        _not_in_future(on, "The date")
        return on


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


class MoveChildForm(forms.Form):
    """A child's move: why (``MoveKind``), when, and for a planned move or a
    disruption the new household (one the user oversees, of the child's service)."""

    kind = forms.ChoiceField(
        label="Kind of move",
        choices=MoveKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the kind of move.",
            "invalid_choice": "Choose the kind of move.",
        },
    )
    to = RecordChoiceField(
        label="New household",
        queryset=Household.objects.none(),
        required=False,
        empty_label="No new household (the child moves on from care)",
        help_text="Only for a planned move or a disruption.",
        error_messages={
            "invalid_choice": "Choose a household of the service that you oversee, other "
            "than the one the child lives in."
        },
    )
    on = forms.DateField(
        label="Date of the move",
        widget=DateInput(),
        initial=timezone.localdate,
        error_messages={
            "required": "Give the date of the move.",
            "invalid": "Give a date, for example 2026-03-14.",
        },
    )
    reason = _reason("Reason for the move", Placement._meta.get_field("reason_for_move").max_length)

    field_order = ["kind", "to", "on", "reason"]

    def __init__(self, *args, child: Child, destinations, **kwargs):
        super().__init__(*args, **kwargs)
        self.child = child
        self.fields["to"].queryset = destinations
        self.fields["to"].label_from_instance = lambda h: f"{h.name} ({h.get_kind_display()})"
        self.helper = helper("Record the move")

    def clean_on(self):
        on = self.cleaned_data["on"]
        _not_in_future(on, "The date of the move")
        if on < self.child.date_of_birth:
            raise forms.ValidationError("The move cannot be before the child was born.")
        return on

    def clean(self):
        cleaned = super().clean()
        kind, to = cleaned.get("kind"), cleaned.get("to")
        if kind in MOVES_ON and to is not None:
            self.add_error(
                "to",
                f"{MoveKind(kind).label} takes the child on from care: leave the new "
                "household empty.",
            )
        elif kind and kind not in MOVES_ON and to is None and "to" not in self.errors:
            self.add_error("to", "Choose the new household for a planned move or a disruption.")
        return cleaned

    @property
    def moves_on(self) -> bool:
        return self.cleaned_data.get("kind") in MOVES_ON


# --- supervision ------------------------------------------------------------------------


class SupervisionNoteForm(forms.Form):
    """A liaison worker's note of a supervision held on a day (not in the future)."""

    supervised_on = _day("Date of the supervision")
    note = _text(
        "Note",
        SupervisionNote._meta.get_field("note").max_length,
        missing="Write the supervision note.",
        rows=8,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("Save the note")

    def clean_supervised_on(self):
        day = self.cleaned_data["supervised_on"]
        _not_in_future(day, "The supervision's date")
        return day
