"""Input for the pages of regular contact and concerns: a check-in (three taps and a
sentence), a follow-up's resolution, a constellation's contact thresholds, a concern
opened by hand and a concern closed.

Forms never save: the views hand ``cleaned_data`` to one service. Dates and times
are London time, read by ``constellation.clock`` (a time the clocks skip or repeat
is refused, naming the field); the rules of the state of things (a follow-up given
to someone who may act on it, a concern closed once) are the services' to refuse."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from people.models import User

from .clock import LONDON, parse_day, to_utc
from .forms import DateInput
from .inputs import RecordChoiceField, RecordsChoiceField, WholeNumberField
from .models import MAX_CONTACT_DAYS, CheckIn, Child, Concern
from .services.concerns import DESCRIPTION_MAX, NOTE_MAX
from .services.contact import ACTION_MAX, RESOLUTION_MAX
from .services.contact import NOTE_MAX as CHECK_IN_NOTE_MAX

BUTTONS = "constellation/contact/_buttons.html"
# A check-in is written up soon after it happened: a year earlier is a typo of the year.
LATEST_WRITE_UP = timedelta(days=366)
FOLLOW_UP_DAYS = 7
MADE, ATTEMPTED = "made", "attempted"
TIME = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2})?", re.ASCII)


def _helper(submit_label: str, *, danger: bool = False, action: str = "") -> FormHelper:
    form_helper = FormHelper()
    form_helper.form_method = "post"
    if action:
        form_helper.form_action = action
    button = Submit("submit", submit_label)
    button.field_classes = "btn btn-danger btn-lg" if danger else "btn btn-primary btn-lg"
    form_helper.add_input(button)
    return form_helper


class DayField(forms.DateField):
    """A London calendar date ``YYYY-MM-DD`` through ``clock.parse_day`` (ASCII digits,
    years 2000 to 2100)."""

    widget = DateInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_day(value, field="value")
        except ValidationError as error:
            raise ValidationError(error.message_dict["value"]) from None


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class ClockTimeField(forms.TimeField):
    """A time of day ``HH:MM`` (seconds ignored) in ASCII digits, as a browser's time
    input sends it. Whether it exists on its date in London is the form's to check."""

    widget = TimeInput
    default_error_messages = {"invalid": "Give a time, for example 14:30."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, time):
            return value
        match = TIME.fullmatch(str(value).strip())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return time(int(match[1]), int(match[2]))


def _text(label: str, max_length: int, *, rows: int = 2, required: bool = False, **kwargs):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kwargs,
    )


# --- a check-in -----------------------------------------------------------------------------


class CheckInForm(forms.Form):
    """A contact with a satellite household, and optionally one follow-up.

    ``cleaned_data`` gains ``occurred_at`` (aware, UTC; from ``on`` and ``at`` in
    London time, not in the future), ``made`` as a boolean and ``follow_ups`` (a list
    of ``FollowUpInput``, empty when no follow-up action is written)."""

    method = forms.ChoiceField(
        label="How were you in touch?",
        choices=CheckIn.Method.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how you were in touch.",
            "invalid_choice": "Choose how you were in touch from the list.",
        },
    )
    made = forms.ChoiceField(
        label="Did you reach them?",
        choices=[(MADE, "Contact made"), (ATTEMPTED, "Only attempted")],
        initial=MADE,
        widget=forms.RadioSelect,
        help_text="An attempt is recorded, but only a contact made resets the household's "
        "days since the last contact.",
        error_messages={
            "required": "Say whether contact was made or only attempted.",
            "invalid_choice": "Say whether contact was made or only attempted.",
        },
    )
    concern_level = forms.ChoiceField(
        label="How worried are you?",
        choices=CheckIn.Level.choices,
        initial=CheckIn.Level.NONE,
        widget=forms.RadioSelect,
        help_text="High opens a concern, and the liaison worker is alerted at once.",
        error_messages={
            "required": "Choose a level of concern.",
            "invalid_choice": "Choose a level of concern from the list.",
        },
    )
    note = _text("How are things?", CHECK_IN_NOTE_MAX, help_text="A sentence is enough.")
    participants = forms.CharField(
        label="Who took part",
        max_length=CheckIn._meta.get_field("participants").max_length,
        required=False,
    )
    on = DayField(label="Date", error_messages={"required": "Give the date of the contact."})
    at = ClockTimeField(
        label="Time (London)", error_messages={"required": "Give the time of the contact."}
    )
    follow_up_action = _text(
        "Follow-up",
        ACTION_MAX,
        help_text="Something to do next. Leave empty if there is nothing to follow up.",
    )
    follow_up_due = DayField(label="Due by", required=False)
    follow_up_to = RecordChoiceField(
        label="Who does it",
        queryset=User.objects.none(),
        required=False,
        empty_label="Choose who",
        error_messages={
            "invalid_choice": "Give the follow-up to a hub carer or liaison worker of the "
            "constellation."
        },
    )

    def __init__(self, *args, assignees: list[User], user: User, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.localtime(timezone.now(), LONDON)
        self.fields["on"].initial = now.date()
        self.fields["at"].initial = now.strftime("%H:%M")
        self.fields["follow_up_due"].initial = now.date() + timedelta(days=FOLLOW_UP_DAYS)
        field = self.fields["follow_up_to"]
        field.queryset = User.objects.filter(pk__in=[u.pk for u in assignees]).order_by(
            "first_name", "last_name", "email"
        )
        field.label_from_instance = lambda u: u.get_full_name() or u.email
        if user.pk in {u.pk for u in assignees}:
            field.initial = user.pk
        self.helper = _helper("Record the check-in")
        self.helper.layout = Layout(
            Field("method", template=BUTTONS),
            Field("made", template=BUTTONS),
            Field("concern_level", template=BUTTONS),
            "note",
            "participants",
            Row(Column("on", css_class="col-7"), Column("at", css_class="col-5")),
            Fieldset(
                "A follow-up (optional)",
                "follow_up_action",
                Row(
                    Column("follow_up_due", css_class="col-12 col-sm-5"),
                    Column("follow_up_to", css_class="col-12 col-sm-7"),
                ),
            ),
        )

    def clean_made(self) -> bool:
        return self.cleaned_data["made"] == MADE

    def clean_note(self) -> str:
        return self.cleaned_data["note"].strip()

    def clean_participants(self) -> str:
        return self.cleaned_data["participants"].strip()

    def clean_follow_up_action(self) -> str:
        return self.cleaned_data["follow_up_action"].strip()

    def _occurred_at(self, on: date, at: time) -> datetime | None:
        try:
            moment = to_utc(datetime.combine(on, at), field="at")
        except ValidationError as error:
            self.add_error("at", error.message_dict["at"])
            return None
        now = timezone.now()
        if moment > now:
            self.add_error("at", "A check-in cannot be in the future.")
            return None
        if moment < now - LATEST_WRITE_UP:
            self.add_error("on", "A check-in is recorded within a year: check the date.")
            return None
        return moment

    def _follow_ups(self) -> list:
        from .services.contact import FollowUpInput

        data = self.cleaned_data
        action = data.get("follow_up_action", "")
        if not action:
            # The date and the person come filled in: with no action there is no
            # follow-up, and nothing typed in them stands in the way of the check-in.
            for name in ("follow_up_due", "follow_up_to"):
                self.errors.pop(name, None)
            return []
        due, to = data.get("follow_up_due"), data.get("follow_up_to")
        if due is None and "follow_up_due" not in self.errors:
            self.add_error("follow_up_due", "Give the date the follow-up is due by.")
        elif due is not None and due < timezone.localdate():
            self.add_error("follow_up_due", "A follow-up cannot be due before today.")
        if to is None and "follow_up_to" not in self.errors:
            self.add_error("follow_up_to", "Choose who does the follow-up.")
        if self.errors.keys() & {"follow_up_due", "follow_up_to"}:
            return []
        return [FollowUpInput(action=action, due_on=due, assigned_to=to)]

    def clean(self):
        cleaned = super().clean()
        on, at = cleaned.get("on"), cleaned.get("at")
        if on is not None and at is not None:
            cleaned["occurred_at"] = self._occurred_at(on, at)
        cleaned["follow_ups"] = self._follow_ups()
        return cleaned


class ResolveForm(forms.Form):
    resolution = _text(
        "How it was resolved",
        RESOLUTION_MAX,
        required=True,
        error_messages={"required": "Say how the follow-up was resolved."},
    )

    def clean_resolution(self) -> str:
        resolution = self.cleaned_data["resolution"].strip()
        if not resolution:
            raise ValidationError("Say how the follow-up was resolved.")
        return resolution


# --- a constellation's thresholds ---------------------------------------------------------


class ThresholdsForm(forms.Form):
    amber_days = WholeNumberField(
        label="Amber after (days)",
        min_value=1,
        max_value=MAX_CONTACT_DAYS - 1,
        help_text="A household is amber (due a check-in) when more days than this have "
        "passed since the last contact made.",
    )
    red_days = WholeNumberField(
        label="Red after (days)",
        min_value=2,
        max_value=MAX_CONTACT_DAYS,
        help_text="A household is red (overdue) when more days than this have passed.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Save the thresholds")

    def clean(self):
        cleaned = super().clean()
        amber, red = cleaned.get("amber_days"), cleaned.get("red_days")
        if amber is not None and red is not None and red <= amber:
            self.add_error("red_days", "Red must be more days than amber.")
        return cleaned


# --- concerns ---------------------------------------------------------------------------------


class ChildrenField(RecordsChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, child: Child) -> str:
        return f"{child.known_as}, {child.age}"


class ConcernForm(forms.Form):
    reasons = forms.MultipleChoiceField(
        label="Why this placement may be at risk",
        choices=Concern.Reason.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one reason.",
            "invalid_choice": "Choose reasons from the list.",
            "invalid_list": "Choose reasons from the list.",
        },
    )
    description = _text(
        "What is happening",
        DESCRIPTION_MAX,
        rows=3,
        help_text="Needed when the reason is something else. The liaison worker reads it "
        "in the app; the alert never names a child or says what was written.",
    )
    children = ChildrenField(
        label="Which children",
        queryset=Child.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": "Choose children placed in this household.",
            "invalid_pk_value": "Choose children placed in this household.",
        },
    )

    def __init__(self, *args, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["children"].queryset = children
        self.helper = _helper("Open the concern", danger=True)

    def clean_description(self) -> str:
        return self.cleaned_data["description"].strip()

    def clean(self):
        cleaned = super().clean()
        if Concern.Reason.OTHER in cleaned.get("reasons", []) and not cleaned.get("description"):
            self.add_error("description", "Describe the concern when the reason is something else.")
        return cleaned


class CloseConcernForm(forms.Form):
    note = _text(
        "What was done",
        NOTE_MAX,
        rows=4,
        required=True,
        error_messages={"required": "Record what was done before closing the concern."},
    )
    stability_meeting_on = DayField(
        label="Placement stability meeting",
        required=False,
        help_text="If one was held (or is booked), its date.",
    )

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Close the concern", action=action)

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise ValidationError("Record what was done before closing the concern.")
        return note
