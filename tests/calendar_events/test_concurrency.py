"""Two households taking the last places of a date at the same moment: exactly one
gets them and the other waits, whether the date's row exists yet or not; a
cancellation and a new yes at once never put more people on a date than it holds.
Real threads, each with its own connection and transaction, on PostgreSQL."""

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from calendar_events import services
from calendar_events.models import Answer, Event, Occurrence, Rsvp
from tests import factories as f
from tests.concurrency import race
from tests.conftest import build_world

LONDON = ZoneInfo("Europe/London")
ROUNDS = 5


@pytest.fixture(autouse=True)
def _wide_window(monkeypatch):
    """Widen the gap between counting a date's places and saving an answer, so that
    without the date's lock the two transactions would surely interleave."""
    real = services._coming

    def slow(*args, **kwargs):
        result = real(*args, **kwargs)
        time.sleep(0.05)
        return result

    monkeypatch.setattr(services, "_coming", slow)


@pytest.fixture
def race_world(requires_postgres, transactional_db):
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=LONDON), tick=True):
        world = build_world()
        carters = f.satellite_in(world.constellation, name="The Carters")
        yield world, carters


def _meeting(world, capacity):
    start = services.london_start(date(2027, 1, 5), 19)
    return services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind=Event.Kind.MEETING,
        title="Constellation meeting",
        start=start,
        end=start + timedelta(hours=2),
        rule="FREQ=MONTHLY;BYDAY=1TU",
        capacity=capacity,
    )


def _date(round_):
    """The first Tuesday of month ``round_ + 1`` of 2027, 19:00 London."""
    first = date(2027, round_ + 1, 1)
    tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
    return services.london_start(tuesday, 19)


def _yes(event, when, household, adults):
    return lambda: services.answer(
        event, when, by=None, answer=Answer.YES, adults=adults, household=household
    )


def _no(event, when, household):
    return lambda: services.answer(event, when, by=None, answer=Answer.NO, household=household)


def _on(event, when):
    rsvps = Rsvp.objects.filter(occurrence__event=event, occurrence__original_start=when)
    coming = sum(r.people for r in rsvps if r.coming)
    waiting = sorted((r.waiting_since, r.pk, r.household_id) for r in rsvps if r.waiting)
    return rsvps, coming, [h for _, _, h in waiting]


@pytest.mark.postgres
def test_two_households_taking_the_last_places_of_a_date_without_a_row(race_world):
    world, _ = race_world
    event = _meeting(world, capacity=2)
    for round_ in range(ROUNDS):
        when = _date(round_)
        assert not Occurrence.objects.filter(event=event, original_start=when).exists()
        outcomes = race(
            _yes(event, when, world.satellite, 2), _yes(event, when, world.neighbour, 2)
        )
        assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
        rsvps, coming, waiting = _on(event, when)
        assert coming == 2, round_
        assert len(waiting) == 1, round_
        assert Occurrence.objects.filter(event=event, original_start=when).count() == 1


@pytest.mark.postgres
def test_two_households_taking_the_last_place_of_a_date_with_a_row(race_world):
    world, carters = race_world
    event = _meeting(world, capacity=3)
    for round_ in range(ROUNDS):
        when = _date(round_)
        _yes(event, when, carters, 2)()  # the row exists; one place is left
        outcomes = race(
            _yes(event, when, world.satellite, 1), _yes(event, when, world.neighbour, 1)
        )
        assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
        answers = sorted(o[1].coming for o in outcomes)
        assert answers == [False, True], round_
        _, coming, waiting = _on(event, when)
        assert coming == 3
        assert len(waiting) == 1


@pytest.mark.postgres
def test_a_cancellation_and_a_new_yes_at_once_never_overfill_and_keep_the_queue(race_world):
    world, carters = race_world
    event = _meeting(world, capacity=2)
    for round_ in range(ROUNDS):
        when = _date(round_)
        _yes(event, when, world.satellite, 2)()  # full
        _yes(event, when, world.neighbour, 2)()  # waits first
        outcomes = race(_no(event, when, world.satellite), _yes(event, when, carters, 2))
        assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
        _, coming, waiting = _on(event, when)
        # Whatever came first, the place freed went to the Brookes, who asked first.
        assert coming == 2, round_
        assert waiting == [carters.pk], round_
        assert Rsvp.objects.get(
            occurrence__event=event, occurrence__original_start=when, household=world.neighbour
        ).coming


@pytest.mark.postgres
def test_a_cancellation_and_a_new_yes_at_once_give_the_place_to_the_newcomer(race_world):
    world, _ = race_world
    event = _meeting(world, capacity=2)
    for round_ in range(ROUNDS):
        when = _date(round_)
        _yes(event, when, world.satellite, 2)()  # full, nobody waiting
        outcomes = race(_no(event, when, world.satellite), _yes(event, when, world.neighbour, 2))
        assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
        _, coming, waiting = _on(event, when)
        assert (coming, waiting) == (2, []), round_
