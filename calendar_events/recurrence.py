"""The dates of an event: one place that reads a series' rule and says when it meets.

A rule is RFC 5545's RRULE (``FREQ=MONTHLY;BYDAY=1TU``), read at London wall-clock
time with python-dateutil: the series is expanded from a *naive* London start and
each date is then placed in Europe/London, so 19:00 stays 19:00 across the clock
changes (expanding from an aware start would drift by an hour over BST). A date
that falls in the hour the clocks skip is read as iCalendar reads it, with the
offset before the change (01:30 on the last Sunday of March is 02:30 BST).

A rule is only ever expanded over a window asked for, never into rows. ``Slot`` is
one date as pages, the API, reminders and feeds all see it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from dateutil.rrule import rrule, rrulestr
from django.core.exceptions import ValidationError

from constellation.clock import LONDON

from .models import Event, Occurrence

# What a constellation's calendar needs: no rule that meets more than once a day
# (BYHOUR and the like), so that "from this date on" and a date's key are plain.
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
MAX_COUNT = 1000
MAX_INTERVAL = 366
# The widest window one question may expand (pages ask for a month or a week; the
# API refuses wider, and feeds carry the rule itself).
MAX_WINDOW = timedelta(days=400)
KEY_FORMAT = "%Y%m%dT%H%M%SZ"

RULE_HELP = (
    "Give a repeat rule such as FREQ=MONTHLY;BYDAY=1TU (the first Tuesday of each "
    "month) or FREQ=WEEKLY;INTERVAL=2."
)


# The calendar shows ten years either side of today: far enough for any plan, and a
# bound on the work of expanding a series (a daily rule is walked from its start).
YEARS_SHOWN = 10


def years_shown(today: date) -> tuple[int, int]:
    """The first and last year the calendar's pages, API and feeds show, from the
    London ``today``."""
    return today.year - YEARS_SHOWN, today.year + YEARS_SHOWN


def wall(moment: datetime) -> datetime:
    """An aware moment as a naive London wall-clock time."""
    return moment.astimezone(LONDON).replace(tzinfo=None)


def placed(local: datetime) -> datetime:
    """A naive London wall-clock time as an aware moment in UTC. A time in the hour
    the clocks skip takes the offset before the change (RFC 5545, 3.3.5)."""
    return local.replace(tzinfo=LONDON, fold=0).astimezone(UTC)


def london_midnight(day: date) -> datetime:
    return placed(datetime.combine(day, time()))


def key_of(original_start: datetime) -> str:
    """A date's key in URLs and the API: its original start in UTC, ``20270105T190000Z``."""
    return original_start.astimezone(UTC).strftime(KEY_FORMAT)


KEY = re.compile(r"\d{8}T\d{6}Z", re.ASCII)


def parse_key(text: str) -> datetime | None:
    """A date's key (``20270105T190000Z``, exactly so: ASCII digits, in UTC) as an
    aware moment, or None."""
    if not isinstance(text, str) or not KEY.fullmatch(text):
        return None
    try:
        return datetime.strptime(text, KEY_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _refuse(message: str) -> ValidationError:
    return ValidationError({"rule": [ValidationError(message, code="invalid_rule")]})


@dataclass(frozen=True)
class Rule:
    """A checked rule: ``text`` is the RRULE without UNTIL, ``until`` the last London
    day a date may fall on (from UNTIL, or given apart)."""

    text: str
    until: date | None


def clean_rule(text: str, *, until: date | None = None) -> Rule:
    """Check and normalise a repeat rule typed on a page or sent to the API.

    ``text`` is an RRULE value (an ``RRULE:`` prefix is allowed), parts separated by
    ``;``; ``UNTIL`` may be a date (``20270630``) or a moment (``20270630T230000Z``),
    read as the London day it falls on. Refused with ``ValidationError({"rule": ...})``:
    unknown parts, a frequency finer than daily, ``COUNT`` with ``UNTIL``, a count
    over 1000 or an interval over 366, and anything dateutil cannot read."""
    body = (text or "").strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body:
        raise _refuse(RULE_HELP)
    if len(body) > 200 or not body.isascii() or "\n" in body or "\r" in body:
        raise _refuse(RULE_HELP)
    parts: dict[str, str] = {}
    for chunk in body.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip().upper()
        value = value.strip().upper()
        if not sep or not name or not value:
            raise _refuse(RULE_HELP)
        if name not in PARTS:
            raise _refuse(f"{name} is not a repeat the calendar knows. {RULE_HELP}")
        if name in parts:
            raise _refuse(f"{name} is given twice.")
        parts[name] = value
    if parts.get("FREQ") not in FREQUENCIES:
        raise _refuse(
            "Repeat daily, weekly, monthly or yearly (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)."
        )
    if "COUNT" in parts and ("UNTIL" in parts or until is not None):
        raise _refuse("Give either how many times (COUNT) or an end date, not both.")
    for name, limit in (("COUNT", MAX_COUNT), ("INTERVAL", MAX_INTERVAL)):
        if name in parts and (
            not re.fullmatch(r"\d{1,4}", parts[name]) or not 1 <= int(parts[name]) <= limit
        ):
            raise _refuse(f"{name} must be a whole number from 1 to {limit}.")
    if "UNTIL" in parts:
        raw = parts.pop("UNTIL")
        match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(T(\d{2})(\d{2})(\d{2})(Z?))?", raw)
        if not match:
            raise _refuse("UNTIL must be a date such as 20270630.")
        try:
            if match.group(4):
                moment = datetime.strptime(raw[:15], "%Y%m%dT%H%M%S")  # noqa: DTZ007 (London wall clock)
                if match.group(8):
                    moment = wall(moment.replace(tzinfo=UTC))
                until = moment.date()
            else:
                until = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise _refuse("UNTIL must be a date such as 20270630.") from None
    _check_numbers(parts)
    _check_meets(parts)
    text = ";".join(f"{name}={value}" for name, value in parts.items())
    # A wall-clock probe in 9626 (the calendar of 2026): dateutil walks a rule that
    # never meets to the year 9999 whatever UNTIL says; from here that is cheap.
    probe = datetime(9626, 1, 1, 12)  # noqa: DTZ001
    try:
        # Read it, and expand it over a few years: some rules dateutil reads only
        # fail once expanded (BYDAY=9TU).
        rule = rrulestr(text, dtstart=probe)
        list(rule.replace(count=None, until=probe + PROBE_SPAN))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        raise _refuse(f"That repeat rule cannot be read. {RULE_HELP}") from None
    return Rule(text=text, until=until)


# RFC 5545, 3.3.10: the ranges of the numbers of each BY part.
NUMBER_RANGES = {"BYMONTH": (1, 12), "BYMONTHDAY": (1, 31), "BYSETPOS": (1, 366)}
SIGNED = {"BYMONTHDAY", "BYSETPOS"}
WEEKDAY = re.compile(r"([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
PROBE_SPAN = timedelta(days=3 * 366)


DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # a leap year's


def _check_meets(parts: dict[str, str]) -> None:
    """Refuse at once the rules that can never meet, which dateutil would walk to the
    year 9999 to find out (seconds of work): a month day no chosen month has
    (BYMONTH=2;BYMONTHDAY=30), and a BYSETPOS past the dates a day or a week holds."""
    months = [int(m) for m in parts.get("BYMONTH", "").split(",") if m] or range(1, 13)
    if "BYMONTHDAY" in parts:
        days = [int(d) for d in parts["BYMONTHDAY"].split(",")]
        if not any(abs(d) <= DAYS_IN_MONTH[m - 1] for m in months for d in days):
            raise _refuse_never()
    if "BYSETPOS" in parts:
        most = _most_per_period(parts)
        if not any(abs(int(p)) <= most for p in parts["BYSETPOS"].split(",")):
            raise _refuse_never()


def _most_per_period(parts: dict[str, str]) -> int:
    """At most how many dates one period of the rule (a day, week, month or year)
    holds before BYSETPOS picks among them."""
    freq = parts["FREQ"]
    days = parts["BYDAY"].split(",") if "BYDAY" in parts else []
    if freq == "DAILY":
        return 1
    if freq == "WEEKLY":
        return len(set(days)) or 1
    months = len(set(parts["BYMONTH"].split(","))) if "BYMONTH" in parts else 12
    if freq == "MONTHLY":
        months = 1
    bounds = []
    if days:
        numbered = [WEEKDAY.fullmatch(d).group(2) is not None for d in days]
        if freq == "YEARLY" and "BYMONTH" not in parts:
            bounds.append(sum(1 if n else 53 for n in numbered))
        else:
            bounds.append(sum(1 if n else 5 for n in numbered) * months)
    if "BYMONTHDAY" in parts:
        bounds.append(len(set(parts["BYMONTHDAY"].split(","))) * months)
    if bounds:
        return min(bounds)
    return months if freq == "YEARLY" and "BYMONTH" in parts else 1


def _refuse_never() -> ValidationError:
    return ValidationError(
        {"rule": [ValidationError("This repeat rule gives no date at all.", code="no_dates")]}
    )


def _check_numbers(parts: dict[str, str]) -> None:
    """Refuse numbers out of RFC 5545's ranges (BYMONTH=13, BYMONTHDAY=0, BYDAY=9TU)
    and a numbered weekday on a daily or weekly rule, which dateutil would quietly read
    as every such weekday."""
    for name, (low, high) in NUMBER_RANGES.items():
        if name not in parts:
            continue
        for item in parts[name].split(","):
            match = re.fullmatch(r"([+-]?)(\d{1,3})", item)
            if (
                not match
                or (match.group(1) == "-" and name not in SIGNED)
                or not low <= int(match.group(2)) <= high
            ):
                raise _refuse(f"{name} must be numbers from {low} to {high}.")
    if "BYDAY" in parts:
        limit = {"MONTHLY": 5, "YEARLY": 53}.get(parts["FREQ"], 0)
        if parts["FREQ"] == "YEARLY" and "BYMONTH" in parts:
            limit = 5
        for item in parts["BYDAY"].split(","):
            match = WEEKDAY.fullmatch(item)
            if not match:
                raise _refuse(f"BYDAY takes days such as TU, 1TU or -1FR. {RULE_HELP}")
            if match.group(2) is not None and not 1 <= int(match.group(2)) <= limit:
                if not limit:
                    raise _refuse(
                        "A numbered day such as 1TU repeats monthly or yearly only "
                        "(FREQ=MONTHLY;BYDAY=1TU)."
                    )
                raise _refuse(f"A numbered day counts from 1 to {limit} (or -1 to -{limit}).")


def series(rule_text: str, local_start: datetime, until: date | None) -> rrule:
    """The dateutil rule of a series starting at ``local_start`` (naive London)."""
    rule = rrulestr(rule_text, dtstart=local_start)
    if until is not None:
        rule = rule.replace(until=datetime.combine(until, time(23, 59, 59)))
    return rule


# How far ahead the first date of a series is looked for: a rule that never meets
# (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) would otherwise be walked to the year 9999,
# seconds of work for one request. Leap days come within it.
FIRST_DATE_HORIZON = timedelta(days=9 * 366)


def first_date(rule_text: str, local_start: datetime, until: date | None) -> datetime | None:
    """The first wall-clock start the rule gives, or None when it gives none within
    nine years (a series whose rule never meets, or whose end comes before its
    first date)."""
    try:
        # dateutil stops looking only at the year 9999, whatever UNTIL says, when a
        # period gives no date: look for the first date in the same calendar 400k
        # years on (the Gregorian calendar repeats every 400 years, weekdays and
        # leap days alike), near 9999, so that the search ends within a few
        # centuries instead of eight thousand years.
        shift = _CYCLE * max(0, (_LATEST_START - local_start.year) // _CYCLE)
        start = local_start.replace(year=local_start.year + shift)
        end = until.replace(year=until.year + shift) if until is not None else None
        rule = series(rule_text, start, end)
        horizon = start + FIRST_DATE_HORIZON
        if end is None or datetime.combine(end, time(23, 59, 59)) > horizon:
            # The first date does not depend on COUNT (at least 1).
            rule = rule.replace(count=None, until=horizon)
        found = rule.after(start, inc=True)
        return found.replace(year=found.year - shift) if found is not None else None
    except (ValueError, OverflowError, IndexError):
        return None


_CYCLE = 400  # years after which the Gregorian calendar repeats exactly
_LATEST_START = 9999 - 10  # leaves room for the nine-year horizon before 9999


@dataclass
class Slot:
    """One date of an event as everyone sees it: where it is now (``start``, ``end``,
    aware), where the rule put it (``original_start``, its key), and whether it was
    moved or cancelled. ``occurrence`` is its row, when one exists."""

    event: Event
    original_start: datetime
    start: datetime
    end: datetime
    occurrence: Occurrence | None = None
    cancelled: bool = False
    moved: bool = False
    coming: int = 0  # people who said yes and have a place
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return key_of(self.original_start)

    @property
    def all_day(self) -> bool:
        return self.event.all_day

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(LONDON)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(LONDON)

    @property
    def days(self) -> list[date]:
        """The London days it is on (an all-day end is exclusive; a timed date that
        ends at midnight is not on the next day)."""
        first = self.local_start.date()
        last = (self.local_end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    @property
    def last_day(self) -> date:
        return self.days[-1]

    @property
    def place(self) -> str:
        return self.event.place

    @property
    def title(self) -> str:
        return self.event.title


def _local_length(event: Event) -> timedelta:
    return wall(event.end) - wall(event.start)


def original_starts(event: Event, first: datetime, last: datetime) -> list[datetime]:
    """Where the rule puts the event's dates whose time overlaps ``first``..``last``
    (aware), as aware moments: the event's own start for a single event."""
    length = _local_length(event)
    if not event.rule:
        return [event.start] if event.start < last and event.end > first else []
    local_start = wall(event.start)
    rule = series(event.rule, local_start, event.repeat_until)
    # A date overlaps the window when it starts before its end and ends after its start.
    lo = wall(first) - length - timedelta(hours=2)
    hi = wall(last) + timedelta(hours=2)
    found = []
    for local in rule.between(lo, hi, inc=True):
        start = placed(local)
        # From the wall clock the start really shows: a date in the skipped hour
        # (01:30 read as 02:30) still lasts its length, as ``_slot`` gives it.
        end = placed(wall(start) + length)
        if start < last and end > first:
            found.append(start)
    return found


def is_date_of(event: Event, original_start: datetime) -> bool:
    """Whether the rule (or the single event) puts a date at ``original_start``."""
    if not event.rule:
        return original_start == event.start
    return original_start in original_starts(
        event, original_start, original_start + timedelta(seconds=1)
    )


def slots(
    events: Iterable[Event],
    first: datetime,
    last: datetime,
    *,
    rows: Iterable[Occurrence] = (),
    cancelled: bool = True,
) -> list[Slot]:
    """Every date of ``events`` overlapping ``first``..``last`` (aware), in order of
    start: the rule's dates, with the ``rows`` said of them applied (a date moved into
    the window comes in, one moved out goes, a cancelled one is kept and marked unless
    ``cancelled`` is False). A cancelled event's dates are all cancelled. Pure: reads
    nothing from the database (``rows`` must hold the events' rows that touch the
    window, see ``selectors.occurrence_rows``)."""
    if last - first > MAX_WINDOW:
        raise ValueError("window too wide")
    by_key: dict[tuple[int, datetime], Occurrence] = {
        (row.event_id, row.original_start): row for row in rows
    }
    found: list[Slot] = []
    seen: set[tuple[int, datetime]] = set()
    events = list(events)
    by_id = {event.pk: event for event in events}
    for event in events:
        length = _local_length(event)
        for original in original_starts(event, first, last):
            seen.add((event.pk, original))
            row = by_key.get((event.pk, original))
            slot = _slot(event, original, row, length)
            if slot.start < last and slot.end > first:
                found.append(slot)
    for (event_id, original), row in by_key.items():
        event = by_id.get(event_id)
        if event is None or (event_id, original) in seen or not row.moved:
            continue
        if row.start < last and row.end > first and is_date_of(event, original):
            found.append(_slot(event, original, row, _local_length(event)))
    if not cancelled:
        found = [slot for slot in found if not slot.cancelled]
    found.sort(key=lambda slot: (slot.start, slot.event.pk))
    return found


def _slot(event: Event, original: datetime, row: Occurrence | None, length: timedelta) -> Slot:
    if row is not None and row.moved:
        start, end = row.start, row.end
    elif event.rule:
        start, end = original, placed(wall(original) + length)
    else:
        start, end = event.start, event.end
    return Slot(
        event=event,
        original_start=original,
        start=start,
        end=end,
        occurrence=row,
        cancelled=event.cancelled or bool(row and row.cancelled),
        moved=bool(row and row.moved),
    )


def slot_of(event: Event, original_start: datetime, row: Occurrence | None = None) -> Slot | None:
    """The one date of ``event`` whose original start is ``original_start``, or None
    when the rule puts no date there."""
    if not is_date_of(event, original_start):
        return None
    return _slot(event, original_start, row, _local_length(event))


def count_before(event: Event, original_start: datetime) -> int:
    """How many dates of the series come before ``original_start`` (for a COUNT rule
    changed from one date on)."""
    rule = series(event.rule, wall(event.start), event.repeat_until)
    return len(rule.between(wall(event.start), wall(original_start), inc=True)) - 1
