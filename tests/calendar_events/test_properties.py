"""Properties over many random series and answers.

The dates ``recurrence.slots`` gives for a random rule, start and window are the
ones a phone calendar finds: ``recurring_ical_events`` expanding a VEVENT with
``DTSTART;TZID=Europe/London`` (built here, not by the feed). They lie in the
window, keep the series' wall-clock time, and a window split in two gives the same
dates. Random answers and cancellations never put more people on a date than it
holds, and the waiting list keeps the order households joined it."""

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from calendar_events import services
from calendar_events.models import Answer, Event, Rsvp
from calendar_events.recurrence import first_date, placed, slots, wall
from constellation.services import ActionRefused

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# The clock changes of the years drawn: starts and windows crowd around them.
CHANGES = [
    datetime(2026, 3, 29, 1),  # noqa: DTZ001 (London wall clock)
    datetime(2026, 10, 25, 1),  # noqa: DTZ001
    datetime(2027, 3, 28, 1),  # noqa: DTZ001
    datetime(2027, 10, 31, 1),  # noqa: DTZ001
    datetime(2028, 3, 26, 1),  # noqa: DTZ001
    datetime(2028, 10, 29, 1),  # noqa: DTZ001
]


def exists(local: datetime) -> bool:
    return wall(placed(local)) == local


@st.composite
def rules(draw):
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    interval = draw(st.integers(1, 3))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if freq in ("DAILY", "WEEKLY") and draw(st.booleans()):
        days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1, max_size=4))
        parts.append("BYDAY=" + ",".join(sorted(days, key=WEEKDAYS.index)))
    elif freq == "MONTHLY" and draw(st.booleans()):
        nth = draw(st.sampled_from([1, 2, 3, 4, -1, -2]))
        parts.append(f"BYDAY={nth}{draw(st.sampled_from(WEEKDAYS))}")
    elif freq == "MONTHLY" and draw(st.booleans()):
        parts.append(f"BYMONTHDAY={draw(st.sampled_from([1, 15, 28, -1]))}")
    end = draw(st.sampled_from(["none", "count", "until"]))
    count = until = None
    if end == "count":
        count = draw(st.integers(1, 30))
        parts.append(f"COUNT={count}")
    elif end == "until":
        until = draw(st.dates(date(2026, 1, 1), date(2029, 12, 31)))
    return ";".join(parts), until


@st.composite
def moments(draw):
    """A London wall-clock time in 2026-2028, often within days of a clock change."""
    if draw(st.booleans()):
        base = draw(st.sampled_from(CHANGES))
        day = (base + timedelta(days=draw(st.integers(-9, 9)))).date()
    else:
        day = draw(st.dates(date(2026, 1, 1), date(2028, 12, 31)))
    hour = draw(st.integers(0, 23))
    minute = draw(st.sampled_from([0, 15, 30, 45]))
    return datetime.combine(day, time(hour, minute))


@st.composite
def series(draw):
    text, until = draw(rules())
    wanted = draw(moments())
    local = first_date(text, wanted, until)
    assume(local is not None and exists(local))
    minutes = draw(st.sampled_from([30, 60, 90, 120, 180, 300]))
    event = Event(
        pk=1,
        kind=Event.Kind.MEETING,
        title="Meeting",
        start=placed(local),
        end=placed(local + timedelta(minutes=minutes)),
        rule=text,
        repeat_until=until,
    )
    return event


@st.composite
def windows(draw):
    first = draw(moments())
    days = draw(st.integers(1, 120))
    hours = draw(st.integers(0, 23))
    return placed(first), placed(first + timedelta(days=days, hours=hours))


def reference(event: Event, first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    """The dates a phone calendar finds: a VEVENT at London time, expanded by
    recurring-ical-events."""
    calendar = icalendar.Calendar()
    vevent = icalendar.Event()
    vevent.add("uid", "meeting@test")
    vevent.add("dtstart", event.start.astimezone(LONDON))
    vevent.add("dtend", event.end.astimezone(LONDON))
    recur = icalendar.vRecur.from_ical(event.rule)
    if event.repeat_until is not None:
        recur["UNTIL"] = [placed(datetime.combine(event.repeat_until, time(23, 59, 59)))]
    vevent.add("rrule", recur)
    calendar.add_component(vevent)
    assert b"DTSTART;TZID=Europe/London:" in calendar.to_ical()
    found = recurring_ical_events.of(calendar).between(first, last)
    return sorted((c["DTSTART"].dt.astimezone(UTC), c["DTEND"].dt.astimezone(UTC)) for c in found)


def skipped(event: Event, start: datetime) -> bool:
    """Whether the series' wall-clock time does not exist on this date's London day
    (it falls in the hour the clocks skip)."""
    day = start.astimezone(LONDON).date()
    return not exists(datetime.combine(day, wall(event.start).time()))


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


@PROPERTY
@given(event=series(), window=windows())
def test_slots_are_what_a_phone_calendar_finds(event, window):
    first, last = window
    ours = [(s.start, s.end) for s in slots([event], first, last) if not skipped(event, s.start)]
    theirs = [d for d in reference(event, first, last) if not skipped(event, d[0])]
    assert ours == theirs


@PROPERTY
@given(event=series(), window=windows())
def test_slots_lie_in_the_window_at_the_series_wall_clock_time(event, window):
    first, last = window
    found = slots([event], first, last)
    length = wall(event.end) - wall(event.start)
    for slot in found:
        assert slot.start < last
        assert slot.end > first
        if not skipped(event, slot.start):
            assert wall(slot.start).time() == wall(event.start).time()
            # An end in the hour the clocks skip is placed an hour on (RFC 5545).
            if exists(wall(slot.start).replace(tzinfo=None) + length):
                assert wall(slot.end) - wall(slot.start) == length
    assert [s.start for s in found] == sorted(s.start for s in found)


@PROPERTY
@given(event=series(), window=windows(), cut=st.floats(0.01, 0.99))
def test_a_window_split_in_two_gives_the_same_dates(event, window, cut):
    first, last = window
    middle = first + (last - first) * cut
    whole = [s.key for s in slots([event], first, last)]
    halves = [s.key for s in slots([event], first, middle)]
    for key in (s.key for s in slots([event], middle, last)):
        if key not in halves:  # a date across the cut is in both halves
            halves.append(key)
    assert halves == whole


# --- answers -----------------------------------------------------------------------

FIRST = services.london_start(date(2027, 1, 5), 19)
BEFORE = FIRST - timedelta(days=20)


@pytest.fixture
def households(world):
    from tests import factories as f

    more = [f.satellite_in(world.constellation, name=name) for name in ("The Carters", "The Dales")]
    return [world.satellite, world.neighbour, world.hub, *more]


steps = st.lists(
    st.tuples(
        st.integers(0, 4),  # which household
        st.sampled_from([Answer.YES, Answer.YES, Answer.NO, Answer.MAYBE]),
        st.integers(1, 4),  # adults
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(capacity=st.integers(1, 6), steps=steps)
def test_answers_never_overfill_a_date_and_the_queue_keeps_its_order(
    world, households, capacity, steps
):
    event = services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Picnic",
        start=FIRST,
        end=FIRST + timedelta(hours=2),
        capacity=capacity,
    )
    queue: list[int] = []  # households waiting, in the order they joined the queue
    for n, (which, said, adults) in enumerate(steps):
        household = households[which]
        with contextlib.suppress(ActionRefused, services.ValidationError):
            services.answer(
                event,
                FIRST,
                by=None,
                answer=said,
                adults=adults,
                household=household,
                now=BEFORE + timedelta(minutes=n),
            )
        rsvps = list(Rsvp.objects.filter(occurrence__event=event))
        coming = sum(r.people for r in rsvps if r.coming)
        assert coming <= capacity
        waiting = sorted((r for r in rsvps if r.waiting), key=lambda r: (r.waiting_since, r.pk))
        assert all(r.answer == Answer.YES for r in waiting)
        now_waiting = [r.household_id for r in waiting]
        queue = [h for h in queue if h in now_waiting]
        queue += [h for h in now_waiting if h not in queue]
        assert now_waiting == queue
        if waiting:
            # Nobody waits while the first in line would fit.
            assert waiting[0].people > capacity - coming


def test_a_slot_ending_in_the_skipped_hour_ends_an_hour_of_real_time_later():
    """00:30 to 01:30 daily: on 29 March 2026 01:30 does not exist in London, so the
    end takes the offset from before the change (RFC 5545): 02:30 BST, one real hour
    after the start, as a phone calendar shows it."""
    local = datetime(2026, 3, 27, 0, 30)  # noqa: DTZ001
    event = Event(
        pk=1,
        kind=Event.Kind.MEETING,
        title="Meeting",
        start=placed(local),
        end=placed(local + timedelta(hours=1)),
        rule="FREQ=DAILY",
    )
    found = slots([event], placed(datetime(2026, 3, 29)), placed(datetime(2026, 3, 30)))  # noqa: DTZ001
    assert [(wall(s.start).time(), wall(s.end).time()) for s in found] == [
        (time(0, 30), time(2, 30))
    ]
    assert found[0].end - found[0].start == timedelta(hours=1)
