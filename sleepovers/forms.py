"""Input for the sleepover pages: validation, clean-up and the crispy layout.

Forms never save and hold no business rule: the views hand ``cleaned_data`` to one
service function, and a ``ValidationError({field: message})`` from the service is
attached to the form's field with ``attach_errors``."""

import re
from datetime import date, datetime, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from constellation.clock import (
    CRISIS,
    EARLIEST_YEAR,
    LATEST_YEAR,
    PERIOD,
    PLANNED,
    TEMPORARY,
    Bounds,
    LocalDateTimeField,
    at_hour,
)
from constellation.forms import NOTES_MAX, DateInput
from constellation.inputs import RecordChoiceField, RecordsChoiceField, WholeNumberField
from constellation.models import Child, Household

from . import access
from .models import MAX_NIGHTS_LIMIT, CrisisReason, Kind, Request, Status

REASON_MAX = Request._meta.get_field("decline_reason").max_length
BOOKABLE_KINDS = [(k.value, k.label) for k in (Kind.PLANNED, Kind.SHORT_BREAK, Kind.TRANSPORT)]
# Dates the pages accept, so that a typo of the year is an error and not a query.
EARLIEST = date(EARLIEST_YEAR, 1, 1)
LATEST = date(LATEST_YEAR, 12, 31)


def helper(submit_label: str, *, danger: bool = False, action: str = "") -> FormHelper:
    form_helper = FormHelper()
    form_helper.form_method = "post"
    form_helper.form_class = "sleepover-form"
    if action:
        form_helper.form_action = action
    button = Submit("submit", submit_label)
    button.field_classes = "btn btn-danger btn-lg" if danger else "btn btn-primary btn-lg"
    form_helper.add_input(button)
    return form_helper


def attach_errors(form: forms.Form, error: ValidationError, *, rename=None) -> None:
    """Put a service's ``ValidationError`` on the form: each named field on that field
    (``rename`` maps the service's names to the form's), anything else on the form."""
    rename = rename or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        name = rename.get(field, field)
        form.add_error(name if name in form.fields else None, messages)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _datetime(label: str, *, required: bool = True, help_text: str = "") -> LocalDateTimeField:
    # London time through the one parser: a time the clocks skip or repeat is refused.
    return LocalDateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=DateTimeInput(),
        error_messages={"invalid": "Enter a date and time, for example 2026-03-14 17:00."},
    )


def _in_range(value, what: str):
    day = value.date() if isinstance(value, datetime) else value
    if value is not None and not EARLIEST <= day <= LATEST:
        raise forms.ValidationError(f"{what} must be between the years 2000 and 2100.")
    return value


def _bounded(form: forms.Form, bounds: Bounds, start: str, end: str | None = None) -> None:
    """Check the form's start (and end) against how far from now they may be."""
    data = form.cleaned_data
    if data.get(start) is None or (end is not None and data.get(end) is None):
        return
    try:
        bounds.check(
            data[start], data[end] if end else None, start_field=start, end_field=end or "end"
        )
    except ValidationError as error:
        attach_errors(form, error)


def _reason(label: str, *, required: bool = True, max_length: int = REASON_MAX):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why, in a few words: the other side will read it."},
    )


class ChildrenField(RecordsChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Child.objects.none(),
            label="Children",
            error_messages={
                "required": "Choose at least one child.",
                "invalid_choice": "Choose children who live in your household.",
                "invalid_pk_value": "Choose children who live in your household.",
            },
            **kwargs,
        )

    tallies: dict = {}  # child id: limits.Tally

    def label_from_instance(self, child):
        tally = self.tallies.get(child.pk)
        label = f"{child.known_as}, {child.age}"
        if tally is not None:
            nights = "night" if tally.held == 1 else "nights"
            label += f" ({tally.held} planned {nights} at the hub this year"
            if tally.asked:
                label += f", {tally.asked} more asked for"
            label += ")"
        return label


def own_children(user, household_id: int | None):
    """The placed children of the user's own household: the only ones they may book for."""
    if household_id is None:
        return Child.objects.none()
    return Child.objects.visible_to(user).filter(
        household_id=household_id, status=Child.Status.PLACED
    )


class _AskForm(forms.Form):
    def __init__(self, *args, children, tallies=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["children"]
        field.queryset = children
        field.tallies = tallies or {}
        if not self.is_bound and len(field.tallies) == 1:
            # One child in the household: ticked already, one tap fewer.
            self.initial.setdefault("children", list(field.tallies))

    def clean_notes(self):
        return self.cleaned_data["notes"].strip()


class BookingForm(_AskForm):
    kind = forms.ChoiceField(
        label="What do you need?",
        choices=BOOKABLE_KINDS,
        initial=Kind.PLANNED,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "Choose a planned overnight stay, a short break or transport. "
            "In a crisis, use “Need help now”."
        },
    )
    children = ChildrenField()
    start = _datetime("From")
    end = _datetime("Until", help_text="For an overnight stay: when you collect in the morning.")
    notes = forms.CharField(
        label="Anything the hub should know",
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tomorrow = timezone.localdate() + timedelta(days=1)
        self.initial.setdefault("start", _at(tomorrow, 17))
        self.initial.setdefault("end", _at(tomorrow + timedelta(days=1), 10))
        self.helper = helper("Send the request")

    def clean_start(self):
        return _in_range(self.cleaned_data["start"], "The start")

    def clean_end(self):
        return _in_range(self.cleaned_data["end"], "The end")

    def clean(self):
        _bounded(self, PLANNED, "start", "end")
        return self.cleaned_data


def _at(day: date, hour: int) -> datetime:
    return at_hour(day, hour)


class CrisisForm(_AskForm):
    crisis_reason = forms.ChoiceField(
        label="What help do you need?",
        choices=CrisisReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say what help you need."},
    )
    children = ChildrenField()
    until = _datetime(
        "Until (if you know)",
        required=False,
        help_text="Leave empty: the hub agrees the time with you on the phone.",
    )
    notes = forms.CharField(
        label="Anything the hub must know now",
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("Ask the hub for help now", danger=True)

    def clean_until(self):
        until = _in_range(self.cleaned_data["until"], "The time")
        if until is not None:
            try:
                CRISIS.check(timezone.now(), until, end_field="until")
            except ValidationError as error:
                raise forms.ValidationError(error.message_dict["until"]) from None
        return until


class AcceptForm(forms.Form):
    emergency = forms.BooleanField(
        required=False,
        label="Emergency arrangement beyond the beds",
        help_text="Only for a crisis, when every bed is taken and you can still take the child.",
    )


class DeclineForm(forms.Form):
    reason = _reason("Why you decline (the family reads this)")


class CancelForm(forms.Form):
    reason = _reason("Why (the hub reads this)")


class DidNotArriveForm(forms.Form):
    note = _reason("Note", required=False)


class OfferForm(forms.Form):
    start = _datetime("From")
    end = _datetime("Until")

    def clean_start(self):
        return _in_range(self.cleaned_data["start"], "The start")

    def clean_end(self):
        return _in_range(self.cleaned_data["end"], "The end")

    def clean(self):
        _bounded(self, PLANNED, "start", "end")
        return self.cleaned_data


# --- the hub's beds and availability -------------------------------------------------


class _PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=DateInput())
    end = forms.DateField(label="Until (the last night)", widget=DateInput())

    def clean_start(self):
        return _in_range(self.cleaned_data["start"], "The first date")

    def clean_end(self):
        return _in_range(self.cleaned_data["end"], "The last date")


class BedsForm(_PeriodForm):
    beds = WholeNumberField(label="Beds for these nights", min_value=0, max_value=20)
    note = forms.CharField(label="Why (optional)", required=False, max_length=200)

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, auto_id="beds-%s", **kwargs)
        self.helper = helper("Change the beds", action=action)

    def clean(self):
        _bounded(self, PERIOD, "start", "end")
        return self.cleaned_data


class UnavailabilityForm(_PeriodForm):
    note = forms.CharField(
        label="Why (the families read this)",
        max_length=200,
        error_messages={"required": "Say why, in a few words: the families will read it."},
    )

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, auto_id="away-%s", **kwargs)
        self.fields["end"].label = "Until (the last day)"
        self.helper = helper("Add the period", action=action)

    def clean_note(self):
        return self.cleaned_data["note"].strip()


# --- the liaison worker's part -----------------------------------------------------------


class LimitsForm(forms.Form):
    max_consecutive_nights = WholeNumberField(
        label="Longest planned stay (nights in a row)", min_value=1, max_value=MAX_NIGHTS_LIMIT
    )
    yearly_allowance_nights = WholeNumberField(
        label="Planned nights per child per year",
        required=False,
        min_value=1,
        max_value=365,
        help_text="Leave empty for no yearly allowance. Crisis stays and temporary "
        "placements are counted, never capped.",
    )
    crisis_escalation_minutes = WholeNumberField(
        label="Minutes before an unanswered crisis request alerts the liaison worker",
        min_value=2,
        max_value=60,
        required=False,
        help_text="Then the out-of-hours duty contact 20 minutes later. Empty keeps it as it is.",
    )

    def __init__(self, *args, action: str = "", **kwargs):
        super().__init__(*args, auto_id="limits-%s", **kwargs)
        self.helper = helper("Save the limits", action=action)


def _choice_errors(field: RecordChoiceField, message: str) -> None:
    field.error_messages["invalid_choice"] = message
    field.error_messages["required"] = message


class OverrideForm(_PeriodForm):
    child = RecordChoiceField(queryset=Child.objects.none(), label="Child")
    reason = _reason("Why the exception")

    field_order = ["child", "start", "end", "reason"]

    def __init__(self, *args, user, constellation, action: str = "", **kwargs):
        super().__init__(*args, auto_id="override-%s", **kwargs)
        self.fields["child"].queryset = access.children_for_exception(user, constellation)
        _choice_errors(self.fields["child"], access.EXCEPTION_CHILD_MESSAGE)
        self.fields["start"].label = "First night"
        self.fields["end"].label = "Last night"
        self.helper = helper("Make the exception", action=action)

    def clean_reason(self):
        return self.cleaned_data["reason"].strip()


class StandInField(RecordChoiceField):
    def label_from_instance(self, household):
        return f"{household.name} ({household.beds} bed{'s' if household.beds != 1 else ''})"


class CoverForm(_PeriodForm):
    stand_in = StandInField(queryset=Household.objects.none(), label="Stand-in household")
    note = forms.CharField(label="Note for the families (optional)", required=False, max_length=200)

    field_order = ["stand_in", "start", "end", "note"]

    def __init__(self, *args, user, constellation, action: str = "", **kwargs):
        super().__init__(*args, auto_id="cover-%s", **kwargs)
        self.fields["stand_in"].queryset = access.stand_in_choices(user, constellation)
        _choice_errors(self.fields["stand_in"], access.STAND_IN_MESSAGE)
        self.fields["end"].label = "Until (the last day)"
        self.helper = helper("Arrange the cover", action=action)


class TemporaryPlacementForm(forms.Form):
    child = RecordChoiceField(queryset=Child.objects.none(), label="Child")
    start = _datetime("From")
    expected_end = forms.DateField(
        label="Expected end",
        widget=DateInput(),
        help_text="The day a new placement is expected; it can end earlier or later.",
        error_messages={"invalid": "Enter a date, for example 2026-03-14."},
    )
    notes = forms.CharField(
        label="What the hub must know",
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = access.children_for_temporary_placement(user)
        _choice_errors(self.fields["child"], access.PLACEMENT_CHILD_MESSAGE)
        self.helper = helper("Arrange and agree the temporary placement")

    def clean_start(self):
        return _in_range(self.cleaned_data["start"], "The start")

    def clean_expected_end(self):
        return _in_range(self.cleaned_data["expected_end"], "The expected end")

    def clean(self):
        _bounded(self, TEMPORARY, "start")
        return self.cleaned_data

    def clean_notes(self):
        return self.cleaned_data["notes"].strip()


class EndPlacementForm(forms.Form):
    to = RecordChoiceField(
        queryset=Household.objects.none(),
        required=False,
        label="Moves to",
        empty_label="Moves on from care in the service",
    )
    reason = _reason("Where and why (kept in the placement history)", max_length=200)

    def __init__(self, *args, user, sleepover, **kwargs):
        super().__init__(*args, auto_id="end-%s", **kwargs)
        self.fields["to"].queryset = access.move_destinations(user, sleepover)
        self.fields["to"].error_messages["invalid_choice"] = access.DESTINATION_MESSAGE
        self.fields["to"].widget.attrs["class"] = "form-select"
        self.fields["reason"].widget.attrs["class"] = "form-control"

    def clean_reason(self):
        return self.cleaned_data["reason"].strip()


# --- looking ------------------------------------------------------------------------


MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)


class MonthForm(forms.Form):
    month = forms.CharField(required=False)

    def clean_month(self) -> date:
        value = self.cleaned_data["month"]
        if not value:
            return timezone.localdate().replace(day=1)
        match = MONTH.match(value)
        try:
            first = date(int(match[1]), int(match[2]), 1) if match else None
        except ValueError:
            first = None
        if first is None:
            raise forms.ValidationError("Give the month as year and month, for example 2026-03.")
        return _in_range(first, "The month")


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Kind.choices])
    household = RecordChoiceField(
        required=False, queryset=Household.objects.none(), empty_label="Every household"
    )

    def __init__(self, *args, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.fields["household"].error_messages["invalid_choice"] = (
            "Choose a household from the list."
        )
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"
