"""Cover for the hub by a stand-in household, the constellation's limits and the
liaison worker's exceptions to them, withdrawals of unavailability and bed changes,
what a child's social worker sees, and how long crisis help is asked for."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from constellation import services as people
from constellation.models import Activity, Child, Constellation, Household, HubCover
from constellation.services import ActionRefused
from delegated_authority import rules
from delegated_authority import services as authority
from delegated_authority.models import Approval, Decision, Holder
from sleepovers import selectors, services
from sleepovers.models import CrisisReason, LimitOverride, Night, Request, Status

from .. import factories as f
from .helpers import allow_hub, stay

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------


def day(n: int):
    """The date ``n`` days from today."""
    return timezone.localdate() + timedelta(days=n)


def morning(n: int, hour: int = 9):
    """``hour`` o'clock, local time, ``n`` days from today (for travelling in time)."""
    d = day(n)
    return local(d.year, d.month, d.day, hour)


def local(y, m, d, hour, minute=0):
    """An aware datetime at the given local (Europe/London) wall-clock time."""
    return timezone.make_aware(timezone.datetime(y, m, d, hour, minute))


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


def ask_neighbour(world, **kw):
    return ask(world, carer=world.neighbour_carer, children=[world.neighbour_child], **kw)


def crisis_now(world, *, reason=CrisisReason.COMPOSURE):
    now = timezone.now()
    return services.create_request(
        by=world.satellite_carer,
        kind="crisis",
        children=[world.child],
        start=now,
        end=now + timedelta(hours=3),
        crisis_reason=reason,
    )


def cover(world, stand_in, first: int, last: int, *, by=None, note="Hub family on holiday"):
    """Cover of the world's hub by ``stand_in`` from ``first`` to ``last`` days ahead,
    arranged by the liaison worker, or by a manager when the liaison worker does not
    oversee the stand-in (another constellation's hub)."""
    if by is None:
        overseen = Household.objects.managed_by(world.liaison).filter(pk=stand_in.pk).exists()
        by = world.liaison if overseen else world.manager
    return services.arrange_cover(
        world.constellation,
        by=by,
        stand_in=stand_in,
        start=day(first),
        end=day(last),
        note=note,
    )


def spare_home(world, *, beds: int = 1, carer: bool = True, active: bool = True, name=None):
    """Another household of the world's constellation, given beds for sleepovers."""
    household = f.satellite_in(world.constellation, active=active, name=name or "The Fairweathers")
    people.update_household(household, by=None, beds=beds)
    household.refresh_from_db()
    user = f.carer_of(household, email=f"{household.pk}-carer@test.example") if carer else None
    return SimpleNamespace(household=household, carer=user)


def other_hub(world):
    return world.other_constellation.hub


def hub_carer_decides(child, *, by):
    """An agreement that lets the hub carers (only) decide a planned hub stay."""
    today = timezone.localdate()
    return authority.create_agreement(
        child,
        by=by,
        effective_from=today - timedelta(days=1),
        review_on=today + timedelta(days=180),
        signed_off_role="liaison_worker",
        clauses=[
            authority.ClauseInput(
                Decision.objects.get(code="overnight_hub_planned"), Holder.HUB_CARER
            )
        ],
    )


def refusal(excinfo, field: str) -> str:
    """The ValidationError's messages for ``field``, in one string (asserting it is named)."""
    messages = excinfo.value.message_dict
    assert field in messages, messages
    return " ".join(messages[field])


def first_note(request: Request) -> str:
    return request.timeline.order_by("at", "pk").first().note


def activity(verb: str, target) -> Activity | None:
    return Activity.objects.filter(verb=verb, target_id=target.pk).first()


@pytest.fixture
def allowed(world):
    for child in (world.child, world.neighbour_child):
        allow_hub(child, by=world.liaison)
    return world


@pytest.fixture
def stand_in(world):
    """A household of the constellation with one bed and a carer of its own."""
    return spare_home(world, beds=1)


# --- the HubCover queryset and cover_on ----------------------------------------------------


def test_the_cover_queryset_knows_which_days_a_cover_is_in_force(world):
    kept = cover(world, other_hub(world), 3, 5)
    dropped = HubCover.objects.create(
        constellation=world.constellation,
        stand_in=other_hub(world),
        start=day(10),
        end=day(12),
        arranged_by=world.liaison,
        withdrawn_at=timezone.now(),
    )
    assert list(HubCover.objects.in_force()) == [kept]
    assert list(HubCover.objects.on(day(3))) == [kept]
    assert list(HubCover.objects.on(day(5))) == [kept]
    assert not HubCover.objects.on(day(2)).exists()
    assert not HubCover.objects.on(day(6)).exists()
    assert not HubCover.objects.on(day(11)).exists()  # withdrawn
    assert list(HubCover.objects.overlapping(day(0), day(3))) == [kept]
    assert not HubCover.objects.overlapping(day(6), day(12)).exists()
    assert dropped not in HubCover.objects.overlapping(day(0), day(20))


def test_cover_on_names_the_stand_in_of_the_day(world):
    arranged = cover(world, other_hub(world), 3, 5)
    assert selectors.cover_on(world.constellation, day(4)) == arranged
    assert selectors.cover_on(world.constellation, day(4)).stand_in == other_hub(world)
    assert selectors.cover_on(world.constellation, day(6)) is None
    assert selectors.cover_on(world.other_constellation, day(4)) is None


# --- where requests go during a cover ---------------------------------------------------


def test_a_planned_stay_inside_the_cover_goes_to_the_stand_in(world, stand_in):
    cover(world, stand_in.household, 5, 8)
    request = ask(world, days=5, nights=2)
    assert request.hub == stand_in.household
    assert request.constellation == world.constellation
    note = first_note(request)
    assert "Sent to The Fairweathers" in note
    assert "covering for the hub" in note
    assert request in Request.objects.inbox_of(stand_in.household)
    assert request not in Request.objects.inbox_of(world.hub)


def test_a_planned_stay_outside_the_cover_goes_to_the_hub(world, stand_in):
    cover(world, stand_in.household, 5, 8)
    before, after = ask(world, days=2), ask(world, days=9, nights=2)
    assert before.hub == after.hub == world.hub
    assert first_note(before) == first_note(after) == ""


def test_asking_the_hub_by_name_during_the_cover_still_goes_to_the_stand_in(world, stand_in):
    cover(world, stand_in.household, 5, 8)
    request = ask(world, days=5, hub=world.hub)
    assert request.hub == stand_in.household


@pytest.mark.parametrize(
    ("days", "nights"),
    [(3, 3), (7, 3), (4, 6)],
    ids=["across-the-start", "across-the-end", "around-the-cover"],
)
def test_a_planned_stay_across_the_edge_of_a_cover_is_refused(world, stand_in, days, nights):
    cover(world, stand_in.household, 5, 8)
    with pytest.raises(ValidationError) as refused:
        ask(world, days=days, nights=nights)
    message = refusal(refused, "end")
    assert "The Fairweathers covers for the hub" in message
    assert "separately" in message
    assert not Request.objects.exists()


def test_a_crisis_during_the_cover_goes_to_the_stand_in(world, stand_in):
    cover(world, stand_in.household, 0, 2)
    request = crisis_now(world)
    assert request.hub == stand_in.household
    assert "covering for the hub" in first_note(request)


def test_a_crisis_after_the_cover_goes_to_the_hub(world, stand_in):
    cover(world, stand_in.household, 1, 2)
    assert crisis_now(world).hub == world.hub


def test_the_families_see_the_stand_ins_beds_on_the_covered_nights(world, stand_in):
    cover(world, stand_in.household, 5, 6)
    nights, covers = selectors.nights_for_families(world.constellation, day(4), day(7))
    by_day = {n.date: n for n in nights}
    assert [c.stand_in for c in covers] == [stand_in.household]
    assert (by_day[day(4)].beds, by_day[day(4)].covered_by) == (3, "")
    assert (by_day[day(5)].beds, by_day[day(5)].covered_by) == (1, "The Fairweathers")
    assert (by_day[day(6)].beds, by_day[day(6)].covered_by) == (1, "The Fairweathers")
    assert (by_day[day(7)].beds, by_day[day(7)].covered_by) == (3, "")


# --- answering during a cover ------------------------------------------------------------


def test_the_stand_in_answers_and_counts_its_own_beds(allowed, stand_in):
    cover(allowed, stand_in.household, 5, 8)
    first, second = ask(allowed, days=5), ask_neighbour(allowed, days=5)
    services.accept(first, by=stand_in.carer)
    first.refresh_from_db()
    assert first.status == Status.ACCEPTED
    assert set(Night.objects.filter(request=first).values_list("hub", flat=True)) == {
        stand_in.household.pk
    }
    with pytest.raises(services.NightFull, match="full on the night"):
        services.accept(second, by=stand_in.carer)
    second.refresh_from_db()
    assert second.status == Status.REQUESTED
    # The hub's own beds are untouched by the stand-in's guests.
    assert selectors.nights(allowed.hub, day(5), day(5))[0].booked == 0
    assert selectors.nights(stand_in.household, day(5), day(5))[0].free == 0


def test_the_hubs_carers_cannot_answer_a_request_sent_to_the_stand_in(allowed, stand_in):
    from django.core.exceptions import PermissionDenied

    from sleepovers import access

    cover(allowed, stand_in.household, 5, 8)
    request = ask(allowed, days=5)
    for carer in (allowed.hub_carer, allowed.second_hub_carer):
        with pytest.raises(PermissionDenied, match="hub's carers"):
            access.get_request_for_hub(carer, request.pk)
    assert access.get_request_for_hub(stand_in.carer, request.pk) == request


def test_the_stand_in_does_not_answer_the_hubs_requests(allowed, stand_in):
    from django.http import Http404

    from sleepovers import access

    cover(allowed, stand_in.household, 5, 8)
    request = ask(allowed, days=10)
    # It does not even see it: 404.
    with pytest.raises(Http404):
        access.get_request_for_hub(stand_in.carer, request.pk)


def test_the_hubs_unavailability_does_not_refuse_a_stay_during_the_cover(world, stand_in):
    services.add_unavailability(
        world.hub, by=world.hub_carer, start=day(5), end=day(8), note="Family holiday in Cornwall"
    )
    with pytest.raises(ValidationError, match="Family holiday in Cornwall"):
        ask(world, days=6)
    cover(world, stand_in.household, 5, 8)
    request = ask(world, days=6)
    assert request.hub == stand_in.household


def test_the_stand_ins_own_unavailability_refuses_a_stay_during_the_cover(world, stand_in):
    cover(world, stand_in.household, 5, 8)
    services.add_unavailability(
        stand_in.household,
        by=stand_in.carer,
        start=day(6),
        end=day(6),
        note="Grandad's birthday",
    )
    with pytest.raises(ValidationError) as refused:
        ask(world, days=6)
    assert "Grandad's birthday" in refusal(refused, "start")
    assert ask(world, days=7).hub == stand_in.household


# --- arranging cover: who and which household -------------------------------------------


def test_a_liaison_worker_arranges_cover_and_it_is_recorded(world, stand_in):
    home = stand_in.household
    arranged = cover(world, home, 2, 4, note="  Hub carers at a wedding  ")
    arranged.refresh_from_db()
    assert (arranged.stand_in, arranged.start, arranged.end) == (home, day(2), day(4))
    assert arranged.arranged_by == world.liaison
    assert arranged.note == "Hub carers at a wedding"
    row = activity("hub.cover_arranged", arranged)
    assert row is not None
    assert (row.actor, row.constellation) == (world.liaison, world.constellation)
    assert "The Fairweathers covers for the hub" in row.summary
    assert arranged.history.count() == 1


def test_a_manager_of_the_service_arranges_cover_too(world):
    assert cover(world, other_hub(world), 2, 4, by=world.manager).arranged_by == world.manager


def test_a_satellite_household_given_beds_may_stand_in(world):
    home = spare_home(world, beds=2)
    assert services.stand_in_problem(world.constellation, home.household) == ""
    assert services.stand_in_problem(world.constellation, other_hub(world)) == ""


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("other_service", "same fostering service"),
        ("hub", "cannot cover for itself"),
        ("no_beds", "has no beds"),
        ("no_carers", "has no carers"),
        ("not_active", "not an active household of a constellation"),
    ],
)
def test_unsuitable_stand_ins_are_refused_with_the_reason(world, which, message):
    household = {
        "other_service": lambda: world.other_service_constellation.hub,
        "hub": lambda: world.hub,
        "no_beds": lambda: world.neighbour,
        "no_carers": lambda: spare_home(world, beds=2, carer=False, name="Empty House").household,
        "not_active": lambda: spare_home(world, beds=2, active=False, name="Proposed").household,
    }[which]()
    assert message in services.stand_in_problem(world.constellation, household)
    with pytest.raises(ValidationError) as refused:
        cover(world, household, 2, 4)
    assert message in refusal(refused, "stand_in")
    assert not HubCover.objects.exists()


def test_an_overlapping_cover_is_refused(world, stand_in):
    cover(world, other_hub(world), 3, 6)
    with pytest.raises(ValidationError) as refused:
        cover(world, stand_in.household, 6, 9)
    assert "Hillside Hub already covers" in refusal(refused, "start")
    # Back to back is fine.
    assert cover(world, stand_in.household, 7, 9).stand_in == stand_in.household
    assert HubCover.objects.count() == 2


def test_a_withdrawn_cover_does_not_block_a_new_one(world, stand_in):
    first = cover(world, other_hub(world), 3, 6)
    services.end_cover(first, by=world.liaison)
    assert cover(world, stand_in.household, 3, 6).stand_in == stand_in.household


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        (-1, 3, "start", "cannot start in the past"),
        (5, 4, "end", "not be before the first"),
        (1, 400, "end", "at most a year"),
    ],
)
def test_bad_cover_dates_are_refused(world, first, last, field, message):
    with pytest.raises(ValidationError) as refused:
        cover(world, other_hub(world), first, last)
    assert message in refusal(refused, field)
    assert not HubCover.objects.exists()


@pytest.mark.parametrize(
    "who",
    ["hub_carer", "satellite_carer", "other_liaison", "other_service_manager", "social_worker"],
)
def test_only_the_liaison_worker_or_a_manager_arranges_cover(world, who):
    with pytest.raises(ActionRefused, match="liaison worker or a manager"):
        cover(world, other_hub(world), 2, 4, by=getattr(world, who))
    assert not HubCover.objects.exists()


# --- ending cover ---------------------------------------------------------------------------


def test_a_cover_not_yet_begun_is_withdrawn(world, stand_in):
    arranged = cover(world, stand_in.household, 3, 6)
    services.end_cover(arranged, by=world.liaison)
    arranged.refresh_from_db()
    assert arranged.withdrawn_by == world.liaison
    assert arranged.withdrawn_at is not None
    assert (arranged.start, arranged.end) == (day(3), day(6))
    assert selectors.cover_on(world.constellation, day(4)) is None
    assert ask(world, days=4).hub == world.hub
    row = activity("hub.cover_ended", arranged)
    assert row is not None
    assert "withdrawn" in row.summary


def test_a_cover_in_progress_ends_and_the_hub_answers_again_now(world, stand_in):
    arranged = cover(world, stand_in.household, 1, 6)
    first, last = day(1), day(2)
    with time_machine.travel(morning(3)):
        services.end_cover(arranged, by=world.liaison)
        arranged.refresh_from_db()
        assert arranged.withdrawn_at is None
        assert (arranged.start, arranged.end) == (first, last)
        row = activity("hub.cover_ended", arranged)
        assert row is not None
        assert "the hub answers again" in row.summary
        # From tonight, the hub again.
        assert ask(world, days=0).hub == world.hub
        with pytest.raises(ActionRefused, match="over already"):
            services.end_cover(arranged, by=world.liaison)


def test_requests_already_sent_stay_with_the_stand_in_after_the_cover_ends(world, stand_in):
    arranged = cover(world, stand_in.household, 3, 6)
    request = ask(world, days=4)
    services.end_cover(arranged, by=world.liaison)
    request.refresh_from_db()
    assert request.hub == stand_in.household


def test_a_cover_that_is_over_cannot_be_ended(world, stand_in):
    arranged = cover(world, stand_in.household, 1, 2)
    with time_machine.travel(morning(4)), pytest.raises(ActionRefused, match="over already"):
        services.end_cover(arranged, by=world.liaison)
    arranged.refresh_from_db()
    assert (arranged.end, arranged.withdrawn_at) == (day(2), None)
    assert activity("hub.cover_ended", arranged) is None


def test_a_withdrawn_cover_cannot_be_ended_again(world, stand_in):
    arranged = cover(world, stand_in.household, 3, 6)
    services.end_cover(arranged, by=world.liaison)
    with pytest.raises(ActionRefused, match="over already"):
        services.end_cover(arranged, by=world.liaison)
    assert Activity.objects.filter(verb="hub.cover_ended", target_id=arranged.pk).count() == 1


@pytest.mark.parametrize("who", ["hub_carer", "other_liaison", "other_service_manager"])
def test_only_the_liaison_worker_or_a_manager_ends_cover(world, stand_in, who):
    arranged = cover(world, stand_in.household, 3, 6)
    with pytest.raises(ActionRefused, match="liaison worker or a manager"):
        services.end_cover(arranged, by=getattr(world, who))
    arranged.refresh_from_db()
    assert arranged.withdrawn_at is None


# --- what the stand-in's carers see, and decide, while they cover ------------------------


def test_the_stand_in_sees_the_childrens_full_records_only_while_it_covers(world):
    carer = world.other_hub_carer
    covered = {world.child, world.neighbour_child, world.hub_child}
    cover(world, other_hub(world), 2, 4)

    def seen():
        return set(Child.objects.full_records_for(carer))

    def constellations():
        return set(Constellation.objects.visible_to(carer))

    assert not covered & seen()  # today: not yet
    assert world.constellation not in constellations()
    with time_machine.travel(morning(1)):
        assert not covered & seen()
    for during in (2, 3, 4):
        with time_machine.travel(morning(during)):
            assert covered <= seen()
            assert world.constellation in constellations()
    with time_machine.travel(morning(5)):
        assert not covered & seen()
        assert world.constellation not in constellations()
    # Its own constellation's children stay in view all along.
    assert world.other_constellation_child in seen()


def test_another_household_of_the_stand_ins_constellation_sees_nothing_more(world):
    cover(world, other_hub(world), 0, 4)
    assert world.child not in Child.objects.full_records_for(world.other_satellite_carer)
    assert world.child in Child.objects.full_records_for(world.other_hub_carer)


def test_the_stand_in_is_a_hub_carer_for_the_delegated_authority_on_covered_days(world):
    hub_carer_decides(world.child, by=world.liaison)
    cover(world, other_hub(world), 3, 5)
    carer = world.other_hub_carer
    assert rules.relation_to(carer, world.child, world.constellation, day=day(4)) == rules.HUB_CARER
    assert rules.relation_to(carer, world.child, world.constellation, day=day(6)) is None
    assert rules.may_decide(carer, world.child, "overnight_hub_planned", at=day(3)).allowed
    outside = rules.may_decide(carer, world.child, "overnight_hub_planned", at=day(6))
    assert not outside.allowed
    assert "carers in the constellation" in outside.reason
    # The child's own foster carer does not hold a hub-carer clause.
    assert not rules.may_decide(
        world.satellite_carer, world.child, "overnight_hub_planned", at=day(4)
    ).allowed


def test_the_stand_in_accepting_within_the_authority_accepts_at_once(world):
    hub_carer_decides(world.child, by=world.liaison)
    cover(world, other_hub(world), 3, 5)
    request = ask(world, days=3, nights=2)
    services.accept(request, by=world.other_hub_carer)
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    assert Night.objects.filter(request=request, hub=other_hub(world)).count() == 2


def test_the_stand_in_sends_a_stay_the_authority_does_not_cover_for_approval(world):
    cover(world, other_hub(world), 0, 3)  # in force today
    request = ask(world, days=1)  # no agreement at all: fails closed
    services.accept(request, by=world.other_hub_carer)
    request.refresh_from_db()
    assert request.status == Status.AWAITING_APPROVAL
    assert not Night.objects.filter(request=request).exists()
    approval = Approval.objects.get(subject_type="sleepover", subject_id=request.pk)
    assert approval.assigned_to == world.social_worker


def test_the_stand_in_sends_for_approval_before_the_cover_begins(world):
    cover(world, other_hub(world), 3, 5)
    request = ask(world, days=3)  # sent to the stand-in; no agreement: fails closed
    services.accept(request, by=world.other_hub_carer)
    request.refresh_from_db()
    assert request.status == Status.AWAITING_APPROVAL


# --- the constellation's limits ---------------------------------------------------------


def test_the_liaison_worker_changes_the_limits(world):
    limits = services.update_limits(
        world.constellation, by=world.liaison, max_consecutive_nights=5, yearly_allowance_nights=20
    )
    stored = services.settings_for(world.constellation)
    assert (stored.max_consecutive_nights, stored.yearly_allowance_nights) == (5, 20)
    row = activity("sleepover.limits_changed", limits)
    assert row is not None
    assert "at most 5 nights, 20 nights a year" in row.summary
    assert ask(world, days=3, nights=5).hub == world.hub
    with pytest.raises(ValidationError) as refused:
        ask(world, days=10, nights=6)
    assert "at most 5 consecutive nights" in refusal(refused, "end")


def test_an_empty_allowance_means_no_allowance(world):
    services.update_limits(
        world.constellation, by=world.manager, max_consecutive_nights=3, yearly_allowance_nights=1
    )
    services.update_limits(
        world.constellation,
        by=world.manager,
        max_consecutive_nights=3,
        yearly_allowance_nights=None,
    )
    assert services.settings_for(world.constellation).yearly_allowance_nights is None
    assert ask(world, days=3, nights=3).kind == "planned"


@pytest.mark.parametrize(
    ("nights", "allowance", "field"),
    [
        (0, None, "max_consecutive_nights"),
        (15, None, "max_consecutive_nights"),
        (3, 0, "yearly_allowance_nights"),
        (3, 366, "yearly_allowance_nights"),
    ],
)
def test_bad_limits_are_refused_naming_the_field(world, nights, allowance, field):
    with pytest.raises(ValidationError) as refused:
        services.update_limits(
            world.constellation,
            by=world.liaison,
            max_consecutive_nights=nights,
            yearly_allowance_nights=allowance,
        )
    assert "Between 1 and" in refusal(refused, field)
    stored = services.settings_for(world.constellation)
    assert (stored.max_consecutive_nights, stored.yearly_allowance_nights) == (3, None)


@pytest.mark.parametrize(
    "who",
    ["hub_carer", "satellite_carer", "social_worker", "other_liaison", "other_service_manager"],
)
def test_only_the_liaison_worker_or_a_manager_changes_the_limits(world, who):
    with pytest.raises(ActionRefused, match="liaison worker or a manager"):
        services.update_limits(
            world.constellation,
            by=getattr(world, who),
            max_consecutive_nights=10,
            yearly_allowance_nights=None,
        )
    assert services.settings_for(world.constellation).max_consecutive_nights == 3


# --- exceptions to the limits ------------------------------------------------------------


def grant(world, child=None, first=3, last=8, *, by=None, reason="Birth mother in hospital"):
    return services.grant_override(
        world.constellation,
        by=by or world.liaison,
        child=child or world.child,
        start=day(first),
        end=day(last),
        reason=reason,
    )


def test_a_stay_beyond_the_limit_names_it_and_the_exception(world):
    with pytest.raises(ValidationError) as refused:
        ask(world, days=3, nights=4)
    message = refusal(refused, "end")
    assert "at most 3 consecutive nights" in message
    assert "liaison worker may make an exception" in message


def test_an_exception_lets_the_longer_stay_be_asked_with_its_reason(world):
    override = grant(world, first=3, last=8)
    assert override.granted_by == world.liaison
    assert activity("sleepover.limits_waived", override) is not None
    request = ask(world, days=3, nights=4)
    assert request.hub == world.hub
    note = first_note(request)
    assert "exception" in note
    assert "Birth mother in hospital" in note


def test_an_exception_that_does_not_cover_every_night_does_not_waive(world):
    grant(world, first=3, last=5)
    assert services.overrides_for([world.child], day(3), day(5)).keys() == {world.child.pk}
    assert services.overrides_for([world.child], day(3), day(6)) == {}
    with pytest.raises(ValidationError, match="at most 3 consecutive nights"):
        ask(world, days=3, nights=4)


def test_an_exception_for_one_of_two_children_does_not_waive(world):
    sibling = f.child_in(world.satellite, first_name="Zed", preferred_name="Zee")
    grant(world, child=world.child)
    with pytest.raises(ValidationError, match="at most 3 consecutive nights"):
        ask(world, children=[world.child, sibling], days=3, nights=4)
    grant(world, child=sibling, reason="Siblings stay together")
    request = ask(world, children=[world.child, sibling], days=3, nights=4)
    assert "Siblings stay together" in first_note(request)


def test_a_withdrawn_exception_no_longer_waives(world):
    override = grant(world)
    services.withdraw_override(override, by=world.liaison)
    override.refresh_from_db()
    assert override.withdrawn_by == world.liaison
    assert override.withdrawn_at is not None
    assert activity("sleepover.limits_waiver_withdrawn", override) is not None
    assert services.overrides_for([world.child], day(3), day(6)) == {}
    with pytest.raises(ValidationError, match="at most 3 consecutive nights"):
        ask(world, days=3, nights=4)
    with pytest.raises(ActionRefused, match="withdrawn already"):
        services.withdraw_override(override, by=world.liaison)


def test_a_request_made_under_an_exception_stays_when_it_is_withdrawn(world):
    override = grant(world)
    request = ask(world, days=3, nights=4)
    services.withdraw_override(override, by=world.liaison)
    assert Request.objects.filter(pk=request.pk, status=Status.REQUESTED).exists()


@pytest.mark.parametrize("who", ["hub_carer", "other_liaison", "other_service_manager"])
def test_only_the_liaison_worker_or_a_manager_withdraws_an_exception(world, who):
    override = grant(world)
    with pytest.raises(ActionRefused, match="liaison worker or a manager"):
        services.withdraw_override(override, by=getattr(world, who))
    override.refresh_from_db()
    assert override.withdrawn_at is None


def test_an_exception_waives_the_yearly_allowance(world):
    services.update_limits(
        world.constellation, by=world.liaison, max_consecutive_nights=3, yearly_allowance_nights=1
    )
    with pytest.raises(ValidationError) as refused:
        ask(world, days=3, nights=2)
    message = refusal(refused, "children")
    assert "0 of 1 planned nights" in message
    assert "exception" in message
    grant(world, first=3, last=4, reason="Respite before court")
    request = ask(world, days=3, nights=2)
    assert "Respite before court" in first_note(request)


def test_an_exception_does_not_waive_the_delegated_authoritys_nights(world):
    allow_hub(world.child, by=world.liaison, nights=1)
    grant(world)
    with pytest.raises(ValidationError) as refused:
        ask(world, days=3, nights=2)
    assert "allows at most 1 consecutive night" in refusal(refused, "end")
    assert not Request.objects.exists()


def test_an_exception_does_not_waive_the_hubs_unavailability(world):
    grant(world)
    services.add_unavailability(
        world.hub, by=world.hub_carer, start=day(4), end=day(4), note="Hospital appointment"
    )
    with pytest.raises(ValidationError, match="Hospital appointment"):
        ask(world, days=3, nights=4)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"child": "other_constellation_child"}, "child", "placed in this constellation"),
        ({"child": "other_service_child"}, "child", "placed in this constellation"),
        ({"reason": "   "}, "reason", "Say why"),
        ({"first": -1}, "start", "cannot start in the past"),
        ({"first": 6, "last": 5}, "end", "not be before the first"),
    ],
)
def test_bad_exceptions_are_refused_naming_the_field(world, change, field, message):
    kwargs = dict(change)
    if "child" in kwargs:
        kwargs["child"] = getattr(world, kwargs["child"])
    with pytest.raises(ValidationError) as refused:
        grant(world, **kwargs)
    assert message in refusal(refused, field)
    assert not LimitOverride.objects.exists()


@pytest.mark.parametrize("who", ["hub_carer", "satellite_carer", "other_liaison"])
def test_only_the_liaison_worker_or_a_manager_grants_an_exception(world, who):
    with pytest.raises(ActionRefused, match="liaison worker or a manager"):
        grant(world, by=getattr(world, who))
    assert not LimitOverride.objects.exists()


# --- withdrawing unavailability and bed changes ----------------------------------------


def away(world, first=5, last=6, note="Family wedding in Leeds"):
    return services.add_unavailability(
        world.hub, by=world.hub_carer, start=day(first), end=day(last), note=note
    )


@pytest.mark.parametrize("who", ["hub_carer", "second_hub_carer", "liaison", "manager"])
def test_withdrawn_unavailability_makes_the_nights_bookable_again(world, who):
    period = away(world)
    with pytest.raises(ValidationError, match="Family wedding in Leeds"):
        ask(world, days=5)
    services.withdraw_unavailability(period, by=getattr(world, who))
    period.refresh_from_db()
    assert period.withdrawn_by == getattr(world, who)
    assert period.withdrawn_at is not None
    assert selectors.nights(world.hub, day(5), day(5))[0].unavailable == ""
    assert ask(world, days=5).hub == world.hub
    assert activity("hub.available_again", period) is not None


def test_unavailability_is_withdrawn_only_once(world):
    period = away(world)
    services.withdraw_unavailability(period, by=world.hub_carer)
    with pytest.raises(ActionRefused, match="withdrawn already"):
        services.withdraw_unavailability(period, by=world.second_hub_carer)
    period.refresh_from_db()
    assert period.withdrawn_by == world.hub_carer


@pytest.mark.parametrize("who", ["satellite_carer", "neighbour_carer", "other_hub_carer"])
def test_only_the_hubs_people_withdraw_its_unavailability(world, who):
    period = away(world)
    with pytest.raises(ActionRefused, match="hub's carers"):
        services.withdraw_unavailability(period, by=getattr(world, who))
    period.refresh_from_db()
    assert period.withdrawn_at is None
    with pytest.raises(ValidationError, match="Family wedding in Leeds"):
        ask(world, days=5)


@pytest.mark.parametrize("who", ["other_liaison", "other_service_manager"])
def test_staff_of_another_constellation_or_service_cannot_withdraw_unavailability(world, who):
    period = away(world)
    with pytest.raises(ActionRefused):
        services.withdraw_unavailability(period, by=getattr(world, who))


@pytest.fixture
def one_bed_hub(world):
    """The hub with one bed usually, two on the night five days ahead (a camp bed)."""
    people.update_household(world.hub, by=None, beds=1)
    world.hub.refresh_from_db()
    change = services.change_beds(
        world.hub, by=world.hub_carer, start=day(5), end=day(5), beds=2, note="Camp bed"
    )
    return change


def beds_on(hub, n):
    return selectors.nights(hub, day(n), day(n))[0].beds


def test_withdrawing_an_extra_bed_restores_the_usual_beds(world, one_bed_hub):
    assert beds_on(world.hub, 5) == 2
    services.withdraw_bed_change(one_bed_hub, by=world.hub_carer)
    one_bed_hub.refresh_from_db()
    assert one_bed_hub.withdrawn_by == world.hub_carer
    assert beds_on(world.hub, 5) == 1
    assert activity("hub.beds_change_withdrawn", one_bed_hub) is not None
    with pytest.raises(ActionRefused, match="withdrawn already"):
        services.withdraw_bed_change(one_bed_hub, by=world.hub_carer)


def test_withdrawing_a_newer_change_brings_back_the_older_one(world, one_bed_hub):
    newer = services.change_beds(world.hub, by=world.hub_carer, start=day(5), end=day(5), beds=0)
    assert beds_on(world.hub, 5) == 0
    services.withdraw_bed_change(newer, by=world.hub_carer)
    assert beds_on(world.hub, 5) == 2


def test_an_extra_bed_in_use_cannot_be_withdrawn(allowed, one_bed_hub):
    for request in (ask(allowed, days=5), ask_neighbour(allowed, days=5)):
        services.accept(request, by=allowed.hub_carer)
    with pytest.raises(ActionRefused, match="more than the 1 beds"):
        services.withdraw_bed_change(one_bed_hub, by=allowed.hub_carer)
    one_bed_hub.refresh_from_db()
    assert (one_bed_hub.withdrawn_at, one_bed_hub.withdrawn_by) == (None, None)
    night = selectors.nights(allowed.hub, day(5), day(5))[0]
    assert (night.beds, night.booked) == (2, 2)
    assert activity("hub.beds_change_withdrawn", one_bed_hub) is None


def test_a_satellite_carer_cannot_withdraw_a_bed_change(world, one_bed_hub):
    with pytest.raises(ActionRefused, match="hub's carers"):
        services.withdraw_bed_change(one_bed_hub, by=world.satellite_carer)
    assert beds_on(world.hub, 5) == 2


# --- what a child's social worker sees ----------------------------------------------------


def test_the_social_worker_sees_the_requests_of_their_children_only(world):
    assert world.child.social_worker == world.social_worker
    theirs = ask(world, days=3)
    others = ask_neighbour(world, days=3)
    visible = set(Request.objects.visible_to(world.social_worker))
    assert theirs in visible
    assert others not in visible
    # The hub sees both; the neighbour only its own.
    assert {theirs, others} <= set(Request.objects.visible_to(world.hub_carer))
    assert set(Request.objects.visible_to(world.neighbour_carer)) == {others}


def test_a_stand_in_sees_the_requests_sent_to_it(world, stand_in):
    cover(world, stand_in.household, 5, 6)
    sent = ask(world, days=5)
    kept = ask(world, days=9)
    visible = set(Request.objects.visible_to(stand_in.carer))
    assert sent in visible
    assert kept not in visible


# --- until when crisis help is asked -------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (local(2026, 6, 14, 21, 30), local(2026, 6, 15, 10)),  # summer time
        (local(2026, 1, 14, 19, 0), local(2026, 1, 15, 10)),  # winter
        (local(2026, 3, 28, 22, 0), local(2026, 3, 29, 10)),  # the clocks go forward
        (local(2026, 12, 31, 20, 0), local(2027, 1, 1, 10)),  # new year
    ],
)
def test_an_overnight_crisis_ends_at_ten_the_next_local_morning(start, end):
    found = services.crisis_end(start, CrisisReason.OVERNIGHT)
    assert found == end
    assert timezone.localtime(found).hour == 10


def test_an_overnight_crisis_in_the_small_hours_ends_the_same_morning():
    start = local(2026, 6, 14, 0, 30)
    assert services.crisis_end(start, CrisisReason.OVERNIGHT) == local(2026, 6, 14, 10, 0)


@pytest.mark.parametrize(
    "reason",
    [r for r in CrisisReason if r != CrisisReason.OVERNIGHT],
)
def test_other_crises_are_asked_for_four_hours(reason):
    start = local(2026, 6, 14, 13, 15)
    assert services.crisis_end(start, reason) == start + timedelta(hours=4)


@pytest.mark.parametrize("reason", [CrisisReason.OVERNIGHT, CrisisReason.PICK_UP])
def test_a_given_end_wins(reason):
    start, until = local(2026, 6, 14, 13, 15), local(2026, 6, 14, 15, 45)
    assert services.crisis_end(start, reason, until) == until


# --- offers keep to who answers on the offered days ------------------------------------------


def test_the_stand_in_cannot_offer_days_the_hub_answers(world):
    cover(world, other_hub(world), 3, 5)
    request = ask(world, days=4)
    start, end = stay(8)
    with pytest.raises(ValidationError, match="answers for the hub on those days"):
        services.offer(request, by=world.other_hub_carer, start=start, end=end)
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


def test_the_hub_cannot_offer_days_a_stand_in_covers_but_may_offer_its_own(world):
    cover(world, other_hub(world), 3, 5)
    request = ask(world, days=8)
    start, end = stay(4)
    with pytest.raises(ValidationError, match="answers for the hub on those days"):
        services.offer(request, by=world.hub_carer, start=start, end=end)
    start, end = stay(9)
    services.offer(request, by=world.hub_carer, start=start, end=end)
    request.refresh_from_db()
    assert request.status == Status.OFFERED
