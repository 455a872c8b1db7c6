"""The last bed, taken at the same moment by two hub carers (or raced by a bed
change), is given exactly once: real threads, real transactions, PostgreSQL."""

import threading

import pytest
from django.db import connection

from constellation import services as people
from sleepovers import selectors, services
from sleepovers.models import Night, Request, Status
from sleepovers.services import beds as beds_module
from tests.conftest import build_world
from tests.factories import child_in

from .helpers import allow_hub, stay

ROUNDS = 10


def _race(*calls):
    """Run the calls at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcomes[i] = ("refused", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.fixture(autouse=True)
def _wide_window(monkeypatch):
    """Widen the gap between reading a night's bookings and writing them, so that
    without the hub's lock the two transactions would surely interleave."""
    import time

    real = selectors.booked_by_night

    def slow(*args, **kwargs):
        result = real(*args, **kwargs)
        time.sleep(0.05)
        return result

    monkeypatch.setattr(beds_module, "booked_by_night", slow)


@pytest.fixture
def race_world(requires_postgres, transactional_db):
    world = build_world()
    for child in (world.child, world.neighbour_child):
        allow_hub(child, by=world.liaison)
    return world


@pytest.mark.postgres
def test_two_hub_carers_accepting_the_last_bed_leave_exactly_one(race_world):
    w = race_world
    for round_ in range(ROUNDS):
        start, end = stay(3 + round_ * 2)
        # Two beds are taken already; one is left for two requests.
        services.change_beds(w.hub, by=w.hub_carer, start=start.date(), end=start.date(), beds=1)
        first = services.create_request(
            by=w.satellite_carer, kind="planned", children=[w.child], start=start, end=end
        )
        second = services.create_request(
            by=w.neighbour_carer, kind="planned", children=[w.neighbour_child], start=start, end=end
        )
        outcomes = _race(
            lambda r=first: services.accept(r, by=w.hub_carer),
            lambda r=second: services.accept(r, by=w.second_hub_carer),
        )
        kinds = sorted(o[0] for o in outcomes)
        assert kinds == ["ok", "refused"], (round_, outcomes)
        refused = next(o[1] for o in outcomes if o[0] == "refused")
        assert isinstance(refused, services.NightFull), refused
        statuses = sorted(
            Request.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
        )
        assert statuses == [Status.ACCEPTED, Status.REQUESTED]
        assert Night.objects.filter(hub=w.hub, date=start.date()).count() == 1


@pytest.mark.postgres
def test_an_accept_racing_a_bed_change_never_overbooks(race_world):
    w = race_world
    for round_ in range(ROUNDS):
        start, end = stay(3 + round_ * 2)
        request = services.create_request(
            by=w.satellite_carer, kind="planned", children=[w.child], start=start, end=end
        )
        outcomes = _race(
            lambda r=request: services.accept(r, by=w.hub_carer),
            lambda d=start.date(): services.change_beds(  # noqa: B008 - bound per round
                w.hub, by=w.second_hub_carer, start=d, end=d, beds=0
            ),
        )
        booked = Night.objects.filter(hub=w.hub, date=start.date()).count()
        beds = selectors.beds_by_night(w.hub, start.date(), start.date())[start.date()]
        assert booked <= beds, (round_, outcomes, booked, beds)
        # Exactly one of the two went through.
        assert sorted(o[0] for o in outcomes) == ["ok", "refused"], (round_, outcomes)


@pytest.mark.postgres
def test_many_requests_at_once_never_exceed_the_beds(race_world):
    w = race_world
    start, end = stay(40)
    children = [w.child, w.neighbour_child]
    for n in range(4):
        extra = child_in(w.satellite if n % 2 else w.neighbour, first_name=f"Extra{n}")
        allow_hub(extra, by=w.liaison)
        children.append(extra)
    requests = []
    for child in children:
        carer = w.satellite_carer if child.household_id == w.satellite.pk else w.neighbour_carer
        requests.append(
            services.create_request(
                by=carer, kind="planned", children=[child], start=start, end=end
            )
        )
    hub_carers = [w.hub_carer, w.second_hub_carer]
    outcomes = _race(
        *[
            (lambda r=r, i=i: services.accept(r, by=hub_carers[i % 2]))
            for i, r in enumerate(requests)
        ]
    )
    accepted = [o for o in outcomes if o[0] == "ok"]
    assert len(accepted) == 3  # the hub's beds
    assert Night.objects.filter(hub=w.hub, date=start.date()).count() == 3
    assert people  # the constellation services built the world
