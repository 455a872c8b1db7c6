"""A month of the calendar reads in the same number of queries whatever it holds:
one event, or thirty series with their dates moved and cancelled and two hundred
answers, for every kind of reader."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendar_events import selectors, services
from calendar_events.models import Answer, Event, Occurrence, Rsvp
from calendar_events.recurrence import london_midnight
from tests import factories as f

LONDON = ZoneInfo("Europe/London")
JANUARY = (date(2027, 1, 1), date(2027, 1, 31))
READERS = ["hub_carer", "satellite_carer", "liaison", "manager"]


@pytest.fixture(autouse=True)
def _december_2026():
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=LONDON), tick=False):
        yield


def _series(world, n: int) -> Event:
    day = date(2027, 1, 4 + n % 7)
    start = services.london_start(day, 9 + n % 10)
    return services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind=Event.Kind.SOCIAL if n % 2 else Event.Kind.MEETING,
        title=f"Event {n}",
        start=start,
        end=start + timedelta(hours=2),
        rule="FREQ=WEEKLY" if n % 3 else "FREQ=DAILY;INTERVAL=2",
        capacity=50,
    )


def _count(user) -> tuple[list[str], int]:
    """The queries of one month's read by ``user``, and the dates it shows."""
    with CaptureQueriesContext(connection) as captured:
        month = selectors.window(user, *JANUARY)
    return [q["sql"][:100] for q in captured.captured_queries], len(month.slots)


@pytest.mark.parametrize("reader", READERS)
def test_a_busy_month_reads_in_as_few_queries_as_a_quiet_one(world, reader):
    user = getattr(world, reader)
    single = _series(world, 0)
    services.answer(
        single,
        single.start,
        by=world.satellite_carer,
        answer=Answer.YES,
        adults=1,
        household=world.satellite,
    )
    quiet, quiet_slots = _count(user)
    households = [world.satellite, world.neighbour, world.hub] + [
        f.satellite_in(world.constellation, name=f"Household {n}") for n in range(5)
    ]
    events = [_series(world, n) for n in range(1, 30)]
    first, last = london_midnight(JANUARY[0]), london_midnight(date(2027, 2, 1))
    rows = [
        Occurrence.objects.get_or_create(event=slot.event, original_start=slot.original_start)[0]
        for slot in selectors.expand(events, first, last)
    ]
    for n, row in enumerate(rows[:10]):
        if n % 2:
            row.cancelled = True
        else:
            row.start = row.original_start + timedelta(days=1)
            row.end = row.start + timedelta(hours=1)
        row.save()
    made = 0
    for row in rows:
        for household in households:
            if made < 200:
                Rsvp.objects.create(
                    occurrence=row,
                    household=household,
                    answer=[Answer.YES, Answer.NO, Answer.MAYBE][made % 3],
                    adults=1,
                    people=1,
                )
                made += 1
    assert made == 200
    busy, busy_slots = _count(user)
    assert busy_slots > 100 > quiet_slots
    assert len(busy) == len(quiet), busy
    assert len(busy) <= 8
