"""Requests and their lifecycle, beds, availability, limits and the delegated
authority at the moment of acceptance."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from constellation import services as people
from constellation.models import Activity
from constellation.services import ActionRefused
from delegated_authority import services as authority
from delegated_authority.models import Approval
from sleepovers import selectors, services
from sleepovers.models import ALLOWED, Night, Request, Status, Transition

from .helpers import allow_hub, evening, stay

pytestmark = pytest.mark.django_db


def ask(world, *, carer=None, children=None, kind="planned", days=5, nights=1, **kw):
    start, end = stay(days, nights)
    return services.create_request(
        by=carer or world.satellite_carer,
        kind=kind,
        children=children or [world.child],
        start=kw.pop("start", start),
        end=kw.pop("end", end),
        **kw,
    )


@pytest.fixture
def allowed(world):
    for child in (world.child, world.neighbour_child):
        allow_hub(child, by=world.liaison)
    return world


# --- the table -----------------------------------------------------------------------

PAIRS = [(a, b) for a in Status for b in Status if a != b]


def _in_status(world, status):
    request = ask(world)
    path = {
        Status.REQUESTED: [],
        Status.AWAITING_APPROVAL: [Status.AWAITING_APPROVAL],
        Status.OFFERED: [Status.OFFERED],
        Status.ACCEPTED: [Status.ACCEPTED],
        Status.DECLINED: [Status.DECLINED],
        Status.CANCELLED: [Status.CANCELLED],
        Status.ARRIVED: [Status.ACCEPTED, Status.ARRIVED],
        Status.COLLECTED: [Status.ACCEPTED, Status.ARRIVED, Status.COLLECTED],
        Status.DID_NOT_ARRIVE: [Status.ACCEPTED, Status.DID_NOT_ARRIVE],
        Status.EXPIRED: [Status.EXPIRED],
    }[status]
    for step in path:
        services._move(request, step, by=world.hub_carer)
    return request


@pytest.mark.parametrize(("start", "to"), PAIRS)
def test_every_move_follows_the_table(allowed, start, to):
    request = _in_status(allowed, start)
    before = Transition.objects.filter(request=request).count()
    if to in ALLOWED[start]:
        services._move(request, to, by=allowed.hub_carer, note="why")
        request.refresh_from_db()
        assert request.status == to
        last = Transition.objects.filter(request=request).last()
        assert (last.from_status, last.to_status, last.by) == (start, to, allowed.hub_carer)
        assert Activity.objects.filter(verb=f"sleepover.{to}", target_id=request.pk).exists()
    else:
        with pytest.raises(ActionRefused, match="cannot be"):
            services._move(request, to, by=allowed.hub_carer)
        request.refresh_from_db()
        assert request.status == start
        assert Transition.objects.filter(request=request).count() == before


# --- asking ------------------------------------------------------------------------------


def test_a_planned_stay_is_asked_and_accepted(allowed):
    request = ask(allowed, nights=2)
    assert request.status == Status.REQUESTED
    assert request.hub == allowed.hub
    services.accept(request, by=allowed.hub_carer)
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    assert Night.objects.filter(request=request).count() == 2
    night = selectors.nights(allowed.hub, request.nights[0], request.nights[0])[0]
    assert (night.beds, night.booked, night.free) == (3, 1, 2)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"start": evening(5), "end": evening(4)}, "end", "after the start"),
        ({"start": evening(-2), "end": evening(-1, 10)}, "start", "in the past"),
        ({"nights": 4}, "end", "at most 3 consecutive nights"),
        ({"kind": "temporary"}, "kind", "liaison worker"),
        ({"kind": "rocket"}, "kind", "Unknown kind"),
        ({"children": "neighbour"}, "children", "live in your household"),
        ({"children": "other_service"}, "children", "live in your household"),
        ({"hub": "other"}, "hub", "your own constellation's hub"),
        ({"kind": "crisis", "start": evening(0), "end": evening(0, 20)}, "crisis_reason", "help"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(allowed, change, field, message):
    kwargs = dict(change)
    if kwargs.get("children") == "neighbour":
        kwargs["children"] = [allowed.neighbour_child]
    elif kwargs.get("children") == "other_service":
        kwargs["children"] = [allowed.other_service_child]
    if kwargs.get("hub") == "other":
        kwargs["hub"] = allowed.other_constellation.hub
    with pytest.raises(ValidationError) as refusal:
        ask(allowed, **kwargs)
    assert field in refusal.value.message_dict
    assert message in " ".join(refusal.value.message_dict[field])
    assert not Request.objects.exists()


def test_a_household_not_active_in_the_constellation_cannot_ask(allowed):
    people.end_membership(allowed.satellite.memberships.get(), by=allowed.liaison, reason="Left")
    with pytest.raises(ValidationError, match="not an active member"):
        ask(allowed)


def test_a_planned_stay_in_an_unavailable_period_is_refused_with_the_note(allowed):
    start, _ = stay(5)
    services.add_unavailability(
        allowed.hub,
        by=allowed.hub_carer,
        start=start.date(),
        end=start.date() + timedelta(days=3),
        note="Family wedding in Leeds",
    )
    with pytest.raises(ValidationError, match="Family wedding in Leeds"):
        ask(allowed, days=6)


def test_more_nights_than_the_delegated_authority_allows_are_refused(world):
    allow_hub(world.child, by=world.liaison, nights=1)
    with pytest.raises(ValidationError, match="allows at most 1 consecutive night"):
        ask(world, nights=2)


def test_the_yearly_allowance_counts_planned_nights(world):
    import time_machine

    allowed = world
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, 2, 9, 0))):
        for child in (world.child, world.neighbour_child):
            allow_hub(child, by=world.liaison)
        limits = services.settings_for(allowed.constellation)
        limits.yearly_allowance_nights = 2
        limits.save()
        first = ask(allowed, days=3, nights=2)
        services.accept(first, by=allowed.hub_carer)
        assert services.planned_tally([allowed.child], 2026)[allowed.child.pk].held == 2
        with pytest.raises(ValidationError, match="2 of 2 planned nights"):
            ask(allowed, days=20, nights=1)
        # Another child of the household still has the whole allowance.
        ask(allowed, carer=allowed.neighbour_carer, children=[allowed.neighbour_child], days=20)


def test_a_crisis_works_at_any_hour_and_is_recorded(allowed, django_capture_on_commit_callbacks):
    from sleepovers import signals

    raised = []
    signals.crisis_raised.connect(
        lambda sender, request, **kw: raised.append(request.pk),
        weak=False,
        dispatch_uid="test-crisis",
    )
    try:
        now = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            request = services.create_request(
                by=allowed.satellite_carer,
                kind="crisis",
                children=[allowed.child],
                start=now - timedelta(minutes=5),
                end=now + timedelta(hours=3),
                crisis_reason="composure",
            )
    finally:
        signals.crisis_raised.disconnect(dispatch_uid="test-crisis")
    assert raised == [request.pk]
    assert Activity.objects.filter(verb="sleepover.crisis_raised", target_id=request.pk).exists()


# --- answering -----------------------------------------------------------------------------


def test_a_full_night_is_refused_and_nothing_changes(allowed):
    start, _ = stay(5)
    services.change_beds(
        allowed.hub, by=allowed.hub_carer, start=start.date(), end=start.date(), beds=1
    )
    first = ask(allowed)
    second = ask(allowed, carer=allowed.neighbour_carer, children=[allowed.neighbour_child])
    services.accept(first, by=allowed.hub_carer)
    with pytest.raises(services.NightFull, match="full on the night"):
        services.accept(second, by=allowed.hub_carer)
    second.refresh_from_db()
    assert second.status == Status.REQUESTED
    assert Night.objects.filter(request=second).count() == 0


def test_a_crisis_may_go_beyond_the_beds_only_when_confirmed(allowed):
    from sleepovers.models import tonight

    now = timezone.now()
    # No bed on any night the crisis covers: the one in progress (after midnight,
    # the night before) and the next.
    services.change_beds(
        allowed.hub,
        by=allowed.hub_carer,
        start=tonight(),
        end=timezone.localdate() + timedelta(days=1),
        beds=0,
    )
    request = services.create_request(
        by=allowed.satellite_carer,
        kind="crisis",
        children=[allowed.child],
        start=now,
        end=now + timedelta(hours=20),
        crisis_reason="overnight",
    )
    with pytest.raises(services.NightFull):
        services.accept(request, by=allowed.hub_carer)
    services.accept(request, by=allowed.hub_carer, emergency=True)
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    assert request.emergency_over_beds
    assert "Emergency arrangement" in request.timeline.last().note


def test_only_the_hub_answers_and_only_the_requester_cancels(allowed):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from sleepovers import access

    request = ask(allowed)
    for outsider in (allowed.satellite_carer, allowed.liaison):
        with pytest.raises(PermissionDenied, match="hub's carers"):
            access.get_request_for_hub(outsider, request.pk)
    with pytest.raises(Http404):
        access.get_request_for_hub(allowed.other_hub_carer, request.pk)
    with pytest.raises(PermissionDenied, match="requesting household"):
        access.get_request_for_requester(allowed.hub_carer, request.pk)
    assert access.get_request_for_hub(allowed.hub_carer, request.pk) == request


def test_a_decline_needs_a_reason_that_the_family_reads(allowed):
    request = ask(allowed)
    with pytest.raises(ActionRefused, match="Say why"):
        services.decline(request, by=allowed.hub_carer, reason=" ")
    services.decline(request, by=allowed.hub_carer, reason="We are full of cold")
    request.refresh_from_db()
    assert (request.status, request.decline_reason) == (Status.DECLINED, "We are full of cold")


def test_an_offer_taken_becomes_the_stay(allowed):
    request = ask(allowed, days=5)
    new_start, new_end = stay(8)
    services.offer(request, by=allowed.hub_carer, start=new_start, end=new_end)
    services.take_offer(request, by=allowed.satellite_carer)
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    assert request.start == new_start
    assert list(Night.objects.filter(request=request).values_list("date", flat=True)) == [
        new_start.date()
    ]


def test_cancelling_frees_the_bed(allowed):
    request = ask(allowed)
    services.accept(request, by=allowed.hub_carer)
    services.cancel(request, by=allowed.satellite_carer, reason="Child unwell")
    assert not Night.objects.filter(request=request).exists()


def test_arrival_and_collection_are_recorded(allowed):
    request = ask(allowed)
    services.accept(request, by=allowed.hub_carer)
    with time_machine.travel(request.start):
        services.arrived(request, by=allowed.second_hub_carer)
        services.collected(request, by=allowed.hub_carer)
    request.refresh_from_db()
    assert [t.to_status for t in request.timeline.all()] == [
        Status.REQUESTED,
        Status.ACCEPTED,
        Status.ARRIVED,
        Status.COLLECTED,
    ]


def test_a_bed_change_below_the_bookings_is_refused(allowed):
    request = ask(allowed)
    services.accept(request, by=allowed.hub_carer)
    day = request.nights[0]
    with pytest.raises(ActionRefused, match="already booked"):
        services.change_beds(allowed.hub, by=allowed.hub_carer, start=day, end=day, beds=0)


# --- delegated authority at the moment of acceptance --------------------------------------


def test_without_authority_the_stay_waits_for_approval_then_proceeds(world):
    authority.create_agreement(
        world.child,
        by=world.liaison,
        effective_from=timezone.localdate() - timedelta(days=1),
        review_on=timezone.localdate() + timedelta(days=90),
        signed_off_role="liaison_worker",
        clauses=[
            authority.ClauseInput(
                __import__(
                    "delegated_authority.models", fromlist=["Decision"]
                ).Decision.objects.get(code="overnight_hub_planned"),
                "social_worker",
            )
        ],
    )
    request = ask(world)
    services.accept(request, by=world.hub_carer)
    request.refresh_from_db()
    assert request.status == Status.AWAITING_APPROVAL
    assert not Night.objects.filter(request=request).exists()
    approval = Approval.objects.get(subject_type="sleepover", subject_id=request.pk)
    assert approval.assigned_to == world.social_worker
    with pytest.raises(ActionRefused, match="waits for approval"):
        services.accept(request, by=world.hub_carer)
    authority.decide_approval(approval, by=world.social_worker, approve=True, note="Fine")
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    assert Night.objects.filter(request=request).count() == 1


def test_a_refused_approval_declines_the_stay_with_the_holders_note(world):
    request = ask(world)  # no agreement at all: fails closed
    services.accept(request, by=world.hub_carer)
    approval = Approval.objects.get(subject_type="sleepover", subject_id=request.pk)
    authority.decide_approval(approval, by=world.social_worker, approve=False, note="Contact day")
    request.refresh_from_db()
    assert request.status == Status.DECLINED
    assert request.decline_reason == f"Not approved by {world.social_worker}: Contact day"


# --- temporary placement -------------------------------------------------------------------


def test_a_temporary_placement_is_arranged_accepted_and_ends_with_the_move(allowed):
    from constellation.models import Placement

    start, _ = stay(2)
    request = services.arrange_temporary_placement(
        allowed.child,
        by=allowed.liaison,
        start=start,
        expected_end=start + timedelta(days=14),
        notes="Placement ended suddenly",
    )
    assert request.kind == "temporary"
    assert "agreed by the liaison worker" in request.timeline.first().note
    services.accept(request, by=allowed.hub_carer)
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED  # no second approval: the liaison agreed
    assert Night.objects.filter(request=request).count() == 14
    with time_machine.travel(request.start):
        services.arrived(request, by=allowed.hub_carer)
    services.end_temporary_placement(
        request,
        by=allowed.liaison,
        to=allowed.neighbour,
        reason="New placement in the constellation",
    )
    allowed.child.refresh_from_db()
    assert allowed.child.household == allowed.neighbour
    assert Placement.objects.filter(child=allowed.child).count() == 2
    request.refresh_from_db()
    assert request.status == Status.COLLECTED


def test_only_the_liaison_worker_arranges_a_temporary_placement(allowed):
    start, _ = stay(2)
    for who in (allowed.hub_carer, allowed.satellite_carer, allowed.other_liaison):
        with pytest.raises(ValidationError, match="Choose a child placed in one of your"):
            services.arrange_temporary_placement(
                allowed.child, by=who, start=start, expected_end=start + timedelta(days=3)
            )
    assert not Request.objects.exists()


def test_an_offer_keeps_to_the_limits_and_the_hubs_availability(allowed):
    request = ask(allowed, days=5)
    start, end = stay(10, nights=4)
    with pytest.raises(ValidationError, match="at most 3 consecutive nights"):
        services.offer(request, by=allowed.hub_carer, start=start, end=end)
    away_start, away_end = stay(12)
    services.add_unavailability(
        allowed.hub,
        by=allowed.hub_carer,
        start=away_start.date(),
        end=away_start.date(),
        note="Our own family",
    )
    with pytest.raises(ValidationError, match="Our own family"):
        services.offer(request, by=allowed.hub_carer, start=away_start, end=away_end)
    request.refresh_from_db()
    assert request.status == Status.REQUESTED
