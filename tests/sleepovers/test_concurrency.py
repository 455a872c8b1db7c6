"""The last bed, taken at the same moment by two hub carers (or raced by a bed
change), is given exactly once; every action on a hub's requests at the same moment
queues in the one lock order of ``sleepovers/services/beds.py`` and never deadlocks:
real threads, real transactions, PostgreSQL."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from constellation import services as people
from constellation.services import ActionRefused
from delegated_authority import services as authority
from delegated_authority.models import Approval
from sleepovers import selectors, services
from sleepovers.models import ALLOWED, Night, Request, Status
from sleepovers.services import beds as beds_module
from tests.concurrency import race
from tests.conftest import build_world
from tests.factories import child_in

from .helpers import allow_hub, stay

ROUNDS = 10


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
        outcomes = race(
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
        outcomes = race(
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
    outcomes = race(
        *[
            (lambda r=r, i=i: services.accept(r, by=hub_carers[i % 2]))
            for i, r in enumerate(requests)
        ]
    )
    accepted = [o for o in outcomes if o[0] == "ok"]
    assert len(accepted) == 3  # the hub's beds
    assert Night.objects.filter(hub=w.hub, date=start.date()).count() == 3
    assert people  # the constellation services built the world


# --- every action at once: one lock order, never a deadlock ----------------------------

MIX_ROUNDS = 3


def _api(user):
    """A DRF client of its own for one thread (force_authenticate: no session row)."""
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _post(user, request, verb, body=None):
    def call():
        response = _api(user).post(
            reverse(f"api:sleepover-{verb}", args=[request.pk]), body or {}, format="json"
        )
        assert response.status_code in (200, 400, 409), (verb, response.status_code)
        return response.status_code

    return call


def _patch_beds(user, hub, beds):
    def call():
        response = _api(user).patch(
            reverse("api:household-detail", args=[hub.pk]), {"beds": beds}, format="json"
        )
        assert response.status_code in (200, 409), response.status_code
        return response.status_code

    return call


def _no_failure(outcomes):
    """Every call answered or was refused by a rule: no 500, no deadlock."""
    for outcome, value in outcomes:
        if outcome == "refused":
            assert isinstance(value, ActionRefused | ValidationError), repr(value)


def _assert_the_table_and_the_beds_hold(hub, requests, first, last):
    for request in Request.objects.filter(pk__in=[r.pk for r in requests]):
        moves = list(request.timeline.order_by("at", "pk"))
        for move in moves[1:]:
            assert move.to_status in ALLOWED[move.from_status], (request.pk, move)
        assert moves[-1].to_status == request.status, request.pk
        held = Night.objects.filter(request=request).exists()
        assert held == (request.status in (Status.ACCEPTED, Status.ARRIVED, Status.COLLECTED)), (
            request.pk,
            request.status,
        )
    hub.refresh_from_db()
    beds = selectors.beds_by_night(hub, first, last)
    booked = selectors.booked_by_night(hub, first, last)
    for day, n in booked.items():
        assert n <= beds[day], (day, n, beds[day])


@pytest.fixture
def mix_world(race_world):
    """Eight children, each with an agreement that lets the hub carers accept."""
    w = race_world
    w.children = [w.child, w.neighbour_child]
    for n in range(6):
        home = w.satellite if n % 2 else w.neighbour
        extra = child_in(home, first_name=f"Extra{n}")
        allow_hub(extra, by=w.liaison)
        w.children.append(extra)
    return w


def _carer_of(w, child):
    return w.satellite_carer if child.household_id == w.satellite.pk else w.neighbour_carer


def _ask(w, child, days_ahead):
    start, end = stay(days_ahead)
    return services.create_request(
        by=_carer_of(w, child), kind="planned", children=[child], start=start, end=end
    )


@pytest.mark.postgres
def test_the_hub_carer_accepting_five_and_declining_five_at_once(mix_world):
    w = mix_world
    for round_ in range(2):
        first = 3 + round_ * 12
        requests = [_ask(w, w.children[i % 2], first + i) for i in range(10)]
        outcomes = race(
            *[
                _post(w.hub_carer, r, "accept")
                if i % 2 == 0
                else _post(w.hub_carer, r, "decline", {"reason": "Our own family that night"})
                for i, r in enumerate(requests)
            ]
        )
        _no_failure(outcomes)
        assert outcomes == [("ok", 200)] * 10, (round_, outcomes)
        statuses = [Request.objects.get(pk=r.pk).status for r in requests]
        assert statuses == [Status.ACCEPTED, Status.DECLINED] * 5


@pytest.mark.postgres
def test_every_action_at_once_never_fails_nor_overbooks(mix_world):
    w = mix_world
    c = w.children
    for round_ in range(MIX_ROUNDS):
        day = 3 + round_ * 4
        night = stay(day)[0].date()
        services.change_beds(w.hub, by=w.hub_carer, start=night, end=night, beds=6)
        to_accept, to_decline, to_offer = (_ask(w, c[i], day) for i in (0, 1, 2))
        to_arrive, to_collect, no_show = (_ask(w, c[i], day) for i in (4, 5, 7))
        # Cancelled by the family before it begins: the night after.
        to_cancel = _ask(w, c[6], day + 1)
        # The race runs ten minutes after this night's stays began: the children
        # can be recorded as arrived or not, and what is asked can still be given.
        with time_machine.travel(stay(day)[0] + timedelta(minutes=10), tick=True):
            for r in (to_arrive, to_collect, to_cancel, no_show):
                services.accept(r, by=w.hub_carer)
            services.arrived(to_collect, by=w.hub_carer)
            # The offer to take: asked for the next night, offered this one.
            to_take = _ask(w, c[3], day + 1)
            offered_start, offered_end = stay(day)
            services.offer(to_take, by=w.hub_carer, start=offered_start, end=offered_end)
            later_start, later_end = stay(day + 1)
            requests = [to_accept, to_decline, to_offer, to_take, to_arrive, to_collect]
            requests += [to_cancel, no_show]

            outcomes = race(
                _post(w.hub_carer, to_accept, "accept"),
                _post(w.second_hub_carer, to_decline, "decline", {"reason": "Full that night"}),
                _post(
                    w.hub_carer,
                    to_offer,
                    "offer",
                    {"start": later_start.isoformat(), "end": later_end.isoformat()},
                ),
                _post(_carer_of(w, c[3]), to_take, "take-offer"),
                _post(w.hub_carer, to_arrive, "arrived"),
                _post(w.second_hub_carer, to_collect, "collected"),
                _post(_carer_of(w, c[6]), to_cancel, "cancel", {"reason": "Grandma visits"}),
                lambda r=no_show: services.did_not_arrive(r, by=w.hub_carer, note="Unwell"),
                lambda d=night: services.change_beds(  # noqa: B008 - bound per round
                    w.hub, by=w.second_hub_carer, start=d, end=d, beds=4
                ),
                _patch_beds(w.liaison, w.hub, 2 + round_ % 2),
            )

            _no_failure(outcomes)
            # Every move not competing for a bed succeeds; an accept and a taken offer
            # compete with the bed change for the night's last beds, and may find it full.
            assert [o[0] for o in outcomes[:8]] == ["ok"] * 8, (round_, outcomes)
            accept, decline, offer, take, arrived, collected, cancel = (o[1] for o in outcomes[:7])
            assert (decline, offer, arrived, collected, cancel) == (200,) * 5, (round_, outcomes)
            assert {accept, take} <= {200, 409}, (round_, outcomes)
            _assert_the_table_and_the_beds_hold(w.hub, requests, night, night + timedelta(days=1))


@pytest.mark.postgres
def test_an_approval_decided_while_the_hub_declines_or_the_family_cancels(race_world):
    """Deciding an approval locks the approval; declining and cancelling withdraw the
    request's approvals: both in the one lock order, so one waits for the other."""
    w = race_world
    waiting = child_in(w.satellite, first_name="Ula", social_worker=w.social_worker)
    for round_ in range(ROUNDS):
        requests = []
        for days_ahead in (3 + round_ * 2, 4 + round_ * 2):
            start, end = stay(days_ahead)
            request = services.create_request(
                by=w.satellite_carer, kind="planned", children=[waiting], start=start, end=end
            )
            services.accept(request, by=w.hub_carer)  # no agreement: waits for approval
            requests.append(request)
        declined, cancelled = requests
        approvals = [
            Approval.objects.get(subject_type="sleepover", subject_id=r.pk) for r in requests
        ]
        outcomes = race(
            lambda a=approvals[0]: authority.decide_approval(
                a, by=w.social_worker, approve=True, note="Fine"
            ),
            _post(w.hub_carer, declined, "decline", {"reason": "Full after all"}),
            lambda a=approvals[1]: authority.decide_approval(
                a, by=w.social_worker, approve=True, note="Fine"
            ),
            _post(w.satellite_carer, cancelled, "cancel", {"reason": "Plans changed"}),
        )
        _no_failure(outcomes)
        for request, approval in zip(requests, approvals, strict=True):
            request.refresh_from_db()
            approval.refresh_from_db()
        # Whoever came second met the state the first left, never a deadlock: approved
        # first, the stay is accepted (then a decline is refused, a cancel frees the
        # bed); declined or cancelled first, the approval is withdrawn and not given.
        assert (declined.status, approvals[0].status) in {
            (Status.ACCEPTED, Approval.Status.APPROVED),
            (Status.DECLINED, Approval.Status.WITHDRAWN),
        }, round_
        assert (cancelled.status, approvals[1].status) in {
            (Status.CANCELLED, Approval.Status.APPROVED),
            (Status.CANCELLED, Approval.Status.WITHDRAWN),
        }, round_
        first, last = stay(3 + round_ * 2)[0].date(), stay(4 + round_ * 2)[0].date()
        _assert_the_table_and_the_beds_hold(w.hub, requests, first, last)
