"""Input for the pages where the hub carer (and the liaison worker, the managers) keep
the calendar, and where the liaison worker keeps the list of people kept connected.

Forms never save and hold no business rule: a time typed on a page is London time,
read by ``constellation.clock``'s one parser (a time the clocks skip or repeat is
refused, naming the field); a repeat chosen from the presets becomes an RFC 5545
rule built from the first date; everything else (end after start, a rule that gives
dates, who may be invited) is the service's to refuse, and ``attach_errors`` puts its
``ValidationError`` on the form's field."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError

from constellation.clock import Bounds, LocalDateTimeField, parse_day
from constellation.inputs import RecordChoiceField, RecordsChoiceField, WholeNumberField
from constellation.models import Child, Constellation, Household

from . import access
from .models import Event, KeptConnected
from .recurrence import london_midnight, wall

# A year typed wrong is an error, not an event in 2099: events are put on the
# calendar at most three years ahead, and recorded at most a year late.
EVENT_BOUNDS = Bounds(
    "An event", back=timedelta(days=366), ahead=timedelta(days=3 * 366), longest=None
)
MAX_CAPACITY = 1000
MAX_CLOSING_HOURS = 24 * 28
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ORDINALS = ("first", "second", "third", "fourth", "fifth")

NO_REPEAT = ""
WEEKLY = "weekly"
FORTNIGHTLY = "fortnightly"
MONTHLY_NTH = "monthly_nth"
MONTHLY_LAST = "monthly_last"
MONTHLY_DAY = "monthly_day"
CUSTOM = "custom"
PRESETS = (NO_REPEAT, WEEKLY, FORTNIGHTLY, MONTHLY_NTH, MONTHLY_LAST, MONTHLY_DAY, CUSTOM)

EVERYONE = "everyone"
CHOSEN = "chosen"


def helper(submit_label: str, *, danger: bool = False) -> FormHelper:
    form_helper = FormHelper()
    form_helper.form_method = "post"
    form_helper.form_class = "calendar-form"
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


# --- the repeat presets ---------------------------------------------------------------


def _nth(day: date) -> int:
    return (day.day - 1) // 7 + 1


def _is_last(day: date) -> bool:
    return (day + timedelta(days=7)).month != day.month


def preset_rule(preset: str, day: date) -> str:
    """The RRULE (without COUNT or UNTIL) of a repeat preset for a series whose first
    date is ``day`` (a London day): ``weekly`` → ``FREQ=WEEKLY;BYDAY=TU``,
    ``monthly_nth`` on the first Tuesday → ``FREQ=MONTHLY;BYDAY=1TU``, ``monthly_last``
    → ``BYDAY=-1TU``, ``monthly_day`` → ``BYMONTHDAY=5``; ``""`` for no repeat."""
    weekday = WEEKDAYS[day.weekday()]
    return {
        NO_REPEAT: "",
        WEEKLY: f"FREQ=WEEKLY;BYDAY={weekday}",
        FORTNIGHTLY: f"FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday}",
        MONTHLY_NTH: f"FREQ=MONTHLY;BYDAY={_nth(day)}{weekday}",
        MONTHLY_LAST: f"FREQ=MONTHLY;BYDAY=-1{weekday}",
        MONTHLY_DAY: f"FREQ=MONTHLY;BYMONTHDAY={day.day}",
    }[preset]


def repeat_choices(day: date | None) -> list[tuple[str, str]]:
    """The repeat presets in words, for a first date on ``day`` (general words when
    the day is not known yet)."""
    if day is None:
        return [
            (NO_REPEAT, "Does not repeat"),
            (WEEKLY, "Every week on the same day"),
            (FORTNIGHTLY, "Every 2 weeks on the same day"),
            (MONTHLY_NTH, "Monthly on the same weekday (e.g. the first Tuesday)"),
            (MONTHLY_LAST, "Monthly on the last of that weekday"),
            (MONTHLY_DAY, "Monthly on the same day of the month"),
            (CUSTOM, "Custom rule (RRULE)"),
        ]
    name = f"{day:%A}"
    return [
        (NO_REPEAT, "Does not repeat"),
        (WEEKLY, f"Every week on {name}"),
        (FORTNIGHTLY, f"Every 2 weeks on {name}"),
        (MONTHLY_NTH, f"Monthly on the {ORDINALS[_nth(day) - 1]} {name}"),
        (MONTHLY_LAST, f"Monthly on the last {name}"),
        (MONTHLY_DAY, f"Monthly on day {day.day}"),
        (CUSTOM, "Custom rule (RRULE)"),
    ]


def _parts(rule: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in rule.split(";") if "=" in part)


def same_rule(one: str, other: str) -> bool:
    """Whether two RRULE texts say the same (the same parts, in any order)."""
    return _parts(one.upper()) == _parts(other.upper())


def split_rule(rule: str, day: date) -> tuple[str, str, int | None]:
    """A stored rule as the form shows it: (preset, custom text, count)."""
    parts = _parts(rule)
    count = parts.pop("COUNT", None)
    base = ";".join(f"{k}={v}" for k, v in parts.items())
    for preset in PRESETS[1:-1]:
        if same_rule(base, preset_rule(preset, day)):
            return preset, "", int(count) if count else None
    if not rule:
        return NO_REPEAT, "", None
    return CUSTOM, rule, None


# --- fields -----------------------------------------------------------------------


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DayField(forms.DateField):
    """A London day ``YYYY-MM-DD`` through ``constellation.clock.parse_day`` (years
    2000 to 2100)."""

    widget = DateInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_day(value, field="value")
        except ValidationError as error:
            raise ValidationError(error.message_dict["value"]) from None


def _moment(label: str, help_text: str = "") -> LocalDateTimeField:
    return LocalDateTimeField(
        label=label,
        required=False,
        help_text=help_text,
        widget=DateTimeInput(),
        error_messages={"invalid": "Enter a date and time, for example 2027-01-05 19:00."},
    )


class HouseholdsField(RecordsChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(
            queryset=kwargs.pop("queryset"),
            required=False,
            error_messages={
                "invalid_choice": "Invite households of this constellation only.",
                "invalid_pk_value": "Invite households of this constellation only.",
            },
            **kwargs,
        )


# --- an event ---------------------------------------------------------------------


class EventForm(forms.Form):
    """A new event, an event changed, or a series changed from one date on.

    ``mode`` is ``"new"`` (all fields), ``"edit"`` (no constellation: an event stays on
    its calendar) or ``"from"`` (when, how it repeats, what and where: the invitation
    follows the series). ``cleaned_data`` gains ``when`` (``start``, ``end`` aware,
    ``all_day``, ``rule`` with its COUNT, ``repeat_until``) and, but for ``"from"``,
    ``invitation`` parts (``everyone``, ``households``, ``contacts``)."""

    constellation = RecordChoiceField(
        queryset=Constellation.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose a constellation whose calendar you keep."},
    )
    kind = forms.ChoiceField(
        label="What kind of event", choices=Event.Kind.choices, initial=Event.Kind.MEETING
    )
    title = forms.CharField(
        max_length=Event._meta.get_field("title").max_length,
        error_messages={"required": "Give the event a title."},
    )
    place = forms.CharField(
        max_length=Event._meta.get_field("place").max_length,
        required=False,
        help_text="Where it happens, as families would look it up.",
    )
    description = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    all_day = forms.BooleanField(
        label="All day", required=False, help_text="Give the first and last day below."
    )
    start = _moment("Starts")
    end = _moment("Ends")
    first_day = DayField(label="First day", required=False)
    last_day = DayField(label="Last day", required=False)
    repeat = forms.ChoiceField(label="Repeats", required=False, choices=repeat_choices(None))
    rule = forms.CharField(
        label="Custom repeat rule",
        required=False,
        max_length=200,
        help_text="RFC 5545, for example FREQ=MONTHLY;BYDAY=1TU (the first Tuesday of "
        "each month). Only with “Custom rule”.",
    )
    repeat_until = DayField(
        label="Repeat until", required=False, help_text="The last day a date may fall on."
    )
    repeat_count = WholeNumberField(
        label="Or this many times",
        required=False,
        min_value=1,
        max_value=1000,
    )
    capacity = WholeNumberField(
        label="Room for (people)",
        required=False,
        max_value=MAX_CAPACITY,
        help_text="Adults and children. Leave empty for no limit.",
    )
    closes_hours = WholeNumberField(
        label="Answers close (hours before)",
        required=False,
        min_value=0,
        max_value=MAX_CLOSING_HOURS,
        help_text="Leave empty or 0: answers close when it starts.",
    )
    invite = forms.ChoiceField(
        label="Who is invited",
        choices=[(EVERYONE, "The whole constellation"), (CHOSEN, "Chosen households")],
        initial=EVERYONE,
        widget=forms.RadioSelect,
    )
    households = HouseholdsField(label="Households", queryset=Household.objects.none())
    contacts = RecordsChoiceField(
        label="People kept connected (social get-togethers only)",
        queryset=KeptConnected.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Invite people kept connected by this constellation only.",
            "invalid_pk_value": "Invite people kept connected by this constellation only.",
        },
    )
    affects_beds = forms.BooleanField(
        label="The hub's beds are not free for sleepovers during it", required=False
    )

    def __init__(self, *args, user, mode: str = "new", event: Event | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode = mode
        self.event = event
        if mode == "new":
            constellations = access.constellations_to_keep(user)
        else:
            constellations = Constellation.objects.filter(pk=event.constellation_id)
            del self.fields["constellation"]
        if mode == "from":
            for name in ("kind", "invite", "households", "contacts"):
                del self.fields[name]
        else:
            self.fields["households"].queryset = self._households(constellations)
            self.fields["contacts"].queryset = KeptConnected.objects.filter(
                pk__in=[
                    person.pk
                    for constellation in constellations
                    for person in access.contacts_to_invite(constellation)
                ]
            )
            self.many = len(constellations) > 1
            if self.many:
                self.fields["households"].label_from_instance = self._household_label
        if mode == "new":
            self.fields["constellation"].queryset = constellations
            if len(constellations) == 1:
                self.fields["constellation"].initial = constellations[0].pk
            else:
                self.fields["constellation"].empty_label = "Choose a constellation"
        day = self._day()
        self.fields["repeat"].choices = repeat_choices(day)
        self.helper = helper(
            {"new": "Put it on the calendar", "edit": "Save the changes"}.get(
                mode, "Change from this date on"
            )
        )
        self.helper.layout = self._layout()

    def _households(self, constellations):
        """The households each constellation may invite (``access.households_to_invite``)."""
        self._constellation_of = {
            household_id: constellation.name
            for constellation in constellations
            for household_id in access.households_to_invite(constellation).values_list(
                "pk", flat=True
            )
        }
        return Household.objects.filter(pk__in=list(self._constellation_of)).order_by("name")

    def _household_label(self, household):
        return f"{household.name} ({self._constellation_of.get(household.pk, '')})"

    def _day(self) -> date | None:
        """The first date as typed (or as it was), to word the repeat presets."""
        if self.is_bound:
            for name, parse in (("start", self._local_day), ("first_day", parse_day)):
                try:
                    value = self.data.get(name, "")
                    if value:
                        return parse(value, field=name)
                except ValidationError:
                    continue
            return None
        start = self.initial.get("start")
        if isinstance(start, datetime):
            return wall(start).date() if start.tzinfo else start.date()
        return None

    @staticmethod
    def _local_day(value: str, *, field: str) -> date:
        from constellation.clock import parse_local

        return wall(parse_local(value, field=field)).date()

    def _layout(self) -> Layout:
        names = set(self.fields)

        def present(*fields):
            return [name for name in fields if name in names]

        sections = [
            Fieldset("", *present("constellation", "kind", "title", "place", "description")),
            Fieldset(
                "When",
                HTML(
                    '<p class="small text-body-secondary">A timed event: its start and end. '
                    "All day: its first and last day.</p>"
                ),
                "start",
                "end",
                "all_day",
                "first_day",
                "last_day",
            ),
            Fieldset("Repeats", "repeat", "rule", "repeat_until", "repeat_count"),
            Fieldset(
                "Answers",
                *present("capacity", "closes_hours", "invite", "households", "contacts"),
            ),
            Fieldset("The hub", "affects_beds"),
        ]
        return Layout(*sections)

    # --- cleaning ---

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the event a title.")
        return title

    def clean_place(self):
        return self.cleaned_data["place"].strip()

    def clean_description(self):
        return self.cleaned_data["description"].strip()

    def clean(self):
        data = super().clean()
        when = self._when(data)
        if when is not None:
            data["when"] = when
        if self.mode != "from":
            data["everyone"] = data.get("invite") == EVERYONE
            data["chosen"] = tuple(data.get("households") or ()) if not data["everyone"] else ()
            data["people"] = tuple(data.get("contacts") or ())
        hours = data.get("closes_hours")
        data["rsvp_closes_minutes"] = (hours or 0) * 60
        return data

    def _when(self, data) -> dict | None:
        all_day = data.get("all_day", False)
        if all_day:
            first, last = data.get("first_day"), data.get("last_day")
            if first is None and "first_day" not in self.errors:
                self.add_error("first_day", "Give the first day.")
            if last is None and "last_day" not in self.errors:
                self.add_error("last_day", "Give the last day (the same as the first for one day).")
            if first is None or last is None:
                return None
            if last < first:
                self.add_error("last_day", "The last day cannot come before the first.")
                return None
            start, end = london_midnight(first), london_midnight(last + timedelta(days=1))
        else:
            start, end = data.get("start"), data.get("end")
            if start is None and "start" not in self.errors:
                self.add_error("start", "Give when it starts (or tick “All day”).")
            if end is None and "end" not in self.errors:
                self.add_error("end", "Give when it ends.")
            if start is None or end is None:
                return None
        day = wall(start).date()
        rule = self._rule(data, day)
        if rule is None:
            return None
        if not rule and data.get("repeat_count"):
            self.add_error("repeat_count", "Only a repeating event repeats a number of times.")
            return None
        return {
            "start": start,
            "end": end,
            "all_day": all_day,
            "rule": rule,
            "repeat_until": data.get("repeat_until"),
        }

    def _rule(self, data, day: date) -> str | None:
        preset = data.get("repeat") or NO_REPEAT
        count = data.get("repeat_count")
        until = data.get("repeat_until")
        if preset == CUSTOM:
            rule = (data.get("rule") or "").strip()
            if not rule:
                self.add_error("rule", "Give the custom repeat rule, or choose a preset.")
                return None
        else:
            if preset == MONTHLY_LAST and not _is_last(day):
                self.add_error(
                    "repeat",
                    f"{day:%A %-d %B} is not the last {day:%A} of its month: start on the "
                    f"last one, or choose “Monthly on the {ORDINALS[_nth(day) - 1]} {day:%A}”.",
                )
                return None
            rule = preset_rule(preset, day)
        if count is not None and until is not None:
            self.add_error("repeat_count", "Give an end date or a number of times, not both.")
            return None
        if count is not None and rule:
            rule = f"{rule};COUNT={count}"
        return rule

    def check_bounds(self) -> bool:
        """Whether the start is within what the calendar takes (a year back, three
        ahead); the error goes on the start (or first day) when not."""
        when = self.cleaned_data.get("when")
        if when is None:
            return False
        field = "first_day" if when["all_day"] else "start"
        try:
            EVENT_BOUNDS.check(when["start"], start_field=field)
        except ValidationError as error:
            attach_errors(self, error)
            return False
        return True

    def rename(self) -> dict[str, str]:
        """Where a service's field errors go on this form."""
        when = self.cleaned_data.get("when") or {}
        all_day = when.get("all_day", False)
        preset = self.cleaned_data.get("repeat") or NO_REPEAT
        return {
            "start": "first_day" if all_day else "start",
            "end": "last_day" if all_day else "end",
            "rule": "rule" if preset == CUSTOM else "repeat",
            "rsvp_closes_minutes": "closes_hours",
        }


def event_initial(event: Event) -> dict:
    """What the event form shows of an event (London wall-clock times)."""
    day = wall(event.start).date()
    preset, custom, count = split_rule(event.rule, day)
    initial = {
        "kind": event.kind,
        "title": event.title,
        "place": event.place,
        "description": event.description,
        "all_day": event.all_day,
        "repeat": preset,
        "rule": custom,
        "repeat_until": event.repeat_until,
        "repeat_count": count,
        "capacity": event.capacity,
        "closes_hours": event.rsvp_closes_minutes // 60 or None,
        "invite": EVERYONE if event.invite_everyone else CHOSEN,
        "households": list(event.invited_households.all()),
        "contacts": list(event.invited_contacts.all()),
        "affects_beds": event.affects_beds,
    }
    if event.all_day:
        initial["first_day"] = day
        initial["last_day"] = wall(event.end).date() - timedelta(days=1)
    else:
        initial["start"], initial["end"] = event.start, event.end
    return initial


# --- one date ---------------------------------------------------------------------


class MoveForm(forms.Form):
    """Where one date of a series goes: a start and end, or (all day) a first and last
    day. ``cleaned_data`` gains ``start`` and ``end``, aware."""

    start = _moment("Starts")
    end = _moment("Ends")
    first_day = DayField(label="First day", required=False)
    last_day = DayField(label="Last day", required=False)

    def __init__(self, *args, all_day: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.all_day = all_day
        for name in ("start", "end") if all_day else ("first_day", "last_day"):
            del self.fields[name]
        self.helper = helper("Move this date")

    def clean(self):
        data = super().clean()
        if self.all_day:
            first, last = data.get("first_day"), data.get("last_day")
            if first is None and "first_day" not in self.errors:
                self.add_error("first_day", "Give the first day.")
            if last is None and "last_day" not in self.errors:
                self.add_error("last_day", "Give the last day.")
            if first and last:
                if last < first:
                    self.add_error("last_day", "The last day cannot come before the first.")
                else:
                    data["start"] = london_midnight(first)
                    data["end"] = london_midnight(last + timedelta(days=1))
        else:
            for name, words in (("start", "when it starts"), ("end", "when it ends")):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, f"Give {words}.")
        return data

    @property
    def rename(self) -> dict[str, str]:
        return {"start": "first_day", "end": "last_day"} if self.all_day else {}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why (the families read this)",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, submit_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper(submit_label, danger=True)

    def clean_reason(self):
        return self.cleaned_data["reason"].strip()


# --- people kept connected ------------------------------------------------------------


class KeptConnectedForm(forms.Form):
    constellation = RecordChoiceField(
        queryset=Constellation.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose a constellation you are liaison worker of."},
    )
    name = forms.CharField(
        max_length=KeptConnected._meta.get_field("name").max_length,
        error_messages={"required": "Give their name."},
        help_text="How the constellation knows them.",
    )
    email = forms.EmailField(help_text="Invitations go here, with a link to answer.")
    relationship = forms.ChoiceField(choices=KeptConnected.Relationship.choices)
    child = RecordChoiceField(
        label="Their record, if they were a child of the constellation",
        queryset=Child.objects.none(),
        required=False,
        empty_label="No record",
        error_messages={"invalid_choice": "Choose a young person who moved on from here."},
    )
    consent = forms.CharField(
        label="Consent",
        error_messages={"required": "Record who agreed, how and when."},
        max_length=KeptConnected._meta.get_field("consent").max_length,
        help_text="Who agreed to be kept connected, how and when.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    ends_on = DayField(label="Until", help_text="The last day invitations may be sent.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        constellations = Constellation.objects.managed_by(user).order_by("name")
        self.fields["constellation"].queryset = constellations
        if len(constellations) == 1:
            self.fields["constellation"].initial = constellations[0].pk
        else:
            self.fields["constellation"].empty_label = "Choose a constellation"
        self.fields["child"].queryset = (
            Child.objects.auditable_by(user).filter(status=Child.Status.MOVED_ON).distinct()
        )
        self.fields["child"].label_from_instance = lambda child: child.known_as
        self.helper = helper("Keep them connected")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give their name.")
        return name

    def clean_consent(self):
        return self.cleaned_data["consent"].strip()
