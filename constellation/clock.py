"""The one parser of moments the project takes as input, and the windows they must fall in.

Every date and time typed on a page or sent to the API goes through ``parse_local``:
a wall-clock time without an offset is London time (Europe/London), one with an
offset or ``Z`` is taken as given, and the answer is an aware datetime in UTC, so
that every comparison of moments compares instants, never wall clocks. A London
time that does not exist (the clocks go forward) or happens twice (the clocks go
back) is refused with a message naming the field, rather than guessed.

``Bounds`` says how far from now a start may be (a crisis is now, a planned stay is
not in the past, a period away may be recorded a year late), so that a typo of the
year is an error and not a stay in 2100."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework import serializers

LONDON = ZoneInfo("Europe/London")
# Years a person may mean: anything else is a typo, and far-off years would overflow
# the date arithmetic of a stay (a night after 31 December 9999).
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100

# What a browser's datetime-local input and an ISO 8601 client send: a date, a time
# to the minute (seconds optional), and optionally an offset or Z. ASCII digits only.
MOMENT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?"
    r"(Z|[+-]\d{2}:?\d{2})?",
    re.ASCII | re.IGNORECASE,
)
DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)

INVALID = "Give a date and time, for example 2026-03-14T17:00."
INVALID_DAY = "Give a date, for example 2026-03-14."
OUT_OF_RANGE = f"Give a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}."


def _refuse(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def _exists(wall: datetime) -> bool:
    aware = wall.replace(tzinfo=LONDON, fold=0)
    return aware.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) == wall


def _happens_twice(wall: datetime) -> bool:
    return (
        wall.replace(tzinfo=LONDON, fold=0).utcoffset()
        != wall.replace(tzinfo=LONDON, fold=1).utcoffset()
    )


def _words(wall: datetime) -> str:
    return f"{wall:%H:%M} on {wall.day} {wall:%B %Y}"


def _change_at(wall: datetime, *, step: timedelta, inside) -> datetime:
    """The wall-clock minute where the gap (or the repeated hour) around ``wall`` ends,
    walking by ``step``: the clocks' change, as a London carer would read it."""
    minute = wall.replace(second=0, microsecond=0)
    for _ in range(3 * 60):
        nxt = minute + step
        if not inside(nxt):
            return minute if step < timedelta(0) else nxt
        minute = nxt
    return minute


def to_utc(wall: datetime, *, field: str, offset_hint: bool = False) -> datetime:
    """A London wall-clock time (naive) as an aware datetime in UTC; refused with a
    ``ValidationError({field: ...})`` when that time does not exist or happens twice."""
    if not _exists(wall):
        forward = _change_at(wall, step=timedelta(minutes=-1), inside=lambda w: not _exists(w))
        raise _refuse(
            field,
            f"{_words(wall)} does not exist in London: the clocks go forward at "
            f"{forward:%H:%M}. Choose another time.",
            "nonexistent",
        )
    if _happens_twice(wall):
        back = _change_at(wall, step=timedelta(minutes=1), inside=_happens_twice)
        first = wall.replace(tzinfo=LONDON, fold=0).strftime("%z")
        second = wall.replace(tzinfo=LONDON, fold=1).strftime("%z")
        how = (
            f", or give the offset ({first[:3]}:{first[3:]} for the first, "
            f"{second[:3]}:{second[3:]} for the second)"
            if offset_hint
            else ""
        )
        raise _refuse(
            field,
            f"{_words(wall)} happens twice in London: the clocks go back an hour at "
            f"{back:%H:%M}. Choose another time{how}.",
            "ambiguous",
        )
    return wall.replace(tzinfo=LONDON).astimezone(UTC)


def _check_year(year: int, field: str) -> None:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise _refuse(field, OUT_OF_RANGE, "out_of_range")


def parse_local(value: str | datetime, *, field: str, offset_hint: bool = False) -> datetime:
    """The moment meant by ``value``, as an aware datetime in UTC.

    ``value`` is a string ``YYYY-MM-DDTHH:MM[:SS]`` (a space may stand for the T) in
    London time, or the same with an offset (``+01:00``) or ``Z``; or a datetime,
    naive (London wall clock) or aware. Refused, with a ``ValidationError`` naming
    ``field``: anything else (a date alone, other digits than 0-9), a year outside
    2000-2100, and a London time that does not exist or happens twice at a clock
    change (``offset_hint`` adds how to give the offset, for API clients)."""
    if isinstance(value, datetime):
        _check_year(value.year, field)
        if timezone.is_aware(value):
            return value.astimezone(UTC)
        return to_utc(value, field=field, offset_hint=offset_hint)
    if not isinstance(value, str):
        raise _refuse(field, INVALID, "invalid")
    match = MOMENT.fullmatch(value.strip())
    if match is None:
        raise _refuse(field, INVALID, "invalid")
    _check_year(int(match[1]), field)
    try:
        parsed = datetime.fromisoformat(match[0].upper().replace(" ", "T"))
    except ValueError:
        raise _refuse(field, INVALID, "invalid") from None
    if parsed.tzinfo is not None:
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise _refuse(field, OUT_OF_RANGE, "out_of_range") from None
    return to_utc(parsed, field=field, offset_hint=offset_hint)


def parse_day(value: str | date, *, field: str) -> date:
    """A calendar date ``YYYY-MM-DD`` (ASCII digits) between 2000 and 2100, or a
    ``ValidationError`` naming ``field``."""
    if isinstance(value, datetime):
        raise _refuse(field, INVALID_DAY, "invalid")
    if isinstance(value, date):
        _check_year(value.year, field)
        return value
    match = DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _refuse(field, INVALID_DAY, "invalid")
    _check_year(int(match[1]), field)
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _refuse(field, INVALID_DAY, "invalid") from None


def at_hour(day: date, hour: int, *, field: str = "start") -> datetime:
    """``hour``:00 London time on ``day``, in UTC (the default start or end of a stay)."""
    return parse_local(datetime.combine(day, datetime.min.time()).replace(hour=hour), field=field)


# --- how far from now -------------------------------------------------------------------


def _span(delta: timedelta) -> str:
    if delta >= timedelta(days=365):
        years = delta.days // 365
        return "a year" if years == 1 else f"{years} years"
    if delta >= timedelta(days=1):
        return "a day" if delta.days == 1 else f"{delta.days} days"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minutes"


@dataclass(frozen=True)
class Bounds:
    """How far before and after now ``what`` may start, and how long it may last.

    ``check`` takes datetimes (compared with now, as instants) or dates (compared with
    today in London) and raises ``ValidationError({field: message})``."""

    what: str
    back: timedelta
    ahead: timedelta
    longest: timedelta | None = None

    def check(
        self,
        start: date | datetime,
        end: date | datetime | None = None,
        *,
        start_field: str = "start",
        end_field: str = "end",
        now: datetime | None = None,
    ) -> None:
        now = now or timezone.now()
        reference: date | datetime = (
            now if isinstance(start, datetime) else timezone.localdate(now, LONDON)
        )
        if start < reference - self.back:
            raise _refuse(
                start_field,
                f"{self.what} cannot start more than {_span(self.back)} ago: check the date.",
                "too_early",
            )
        if start > reference + self.ahead:
            raise _refuse(
                start_field,
                f"{self.what} starts at most {_span(self.ahead)} from now: check the date.",
                "too_late",
            )
        if end is not None and self.longest is not None and end - start > self.longest:
            raise _refuse(
                end_field, f"{self.what} lasts at most {_span(self.longest)}.", "too_long"
            )


YEAR = timedelta(days=366)
# A crisis is now: a form filled in a minute ago, or help asked for tonight.
CRISIS = Bounds("Help in a crisis", back=timedelta(days=1), ahead=timedelta(days=1), longest=YEAR)
# Planned stays, short breaks, transport and the hub's offers: not in the past (a form
# may take a while to fill in), and not beyond the hub's horizon.
PLANNED = Bounds("A request", back=timedelta(minutes=30), ahead=timedelta(days=730), longest=YEAR)
# A temporary placement follows a disruption that has just happened or is coming.
TEMPORARY = Bounds(
    "A temporary placement", back=timedelta(days=7), ahead=timedelta(days=365), longest=YEAR
)
# The hub's periods away and changes of beds may be recorded late, within a year.
PERIOD = Bounds("The period", back=timedelta(days=365), ahead=timedelta(days=730), longest=YEAR)


# --- the same parser as a form field and a serializer field ---------------------------------


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed on a page, through ``parse_local``: London time, refused
    when it does not exist or happens twice at a clock change."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, datetime.min.time())
        try:
            return parse_local(value, field="value")
        except ValidationError as error:
            [refusal] = error.error_dict["value"]
            if refusal.code == "invalid":
                # The page's own wording of "not a date and time" (its example).
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            raise ValidationError(refusal.messages, code=refusal.code) from None

    def prepare_value(self, value):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value, LONDON).replace(tzinfo=None)
        return value


class LocalDateTimeSerializerField(serializers.Field):
    """An ISO 8601 date and time in the API, through ``parse_local``: without an offset
    it is London time; with one (or Z) it is taken as given. Answers a UTC datetime."""

    default_error_messages = {"invalid": INVALID}

    def to_internal_value(self, data):
        try:
            return parse_local(data, field="value", offset_hint=True)
        except ValidationError as error:
            raise serializers.ValidationError(error.message_dict["value"]) from None

    def to_representation(self, value):
        return value.isoformat()
