"""Every rule of a stay holds over every one of its nights, at the moment of answering,
whatever the clock says: the night's definition, the beds, the delegated authority
version by version, the consecutive-nights limit across back-to-back stays, the
yearly allowance by year, the shapes of the kinds, expiry, and nobody answering their
own request. Each example of the issue is a test here; the kinds get hypothesis
properties in ``test_whole_stay_properties.py``."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from constellation.services import ActionRefused
from delegated_authority import services as authority
from delegated_authority.models import Approval, Decision, Holder
from sleepovers import access, selectors, services
from sleepovers.models import CrisisReason, Kind, Night, Request, Status, nights_between

LONDON = ZoneInfo("Europe/London")


def at(y, m, d, h=0, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=LONDON)


@pytest.fixture
def clock():
    """The clock at 09:00 on 1 December 2026, London: every date below is ahead."""
    with time_machine.travel(at(2026, 12, 1, 9), tick=False) as traveller:
        yield traveller


def agreement(child, *, by, effective, review, holder=Holder.BOTH):
    clauses = [
        authority.ClauseInput(Decision.objects.get(code=code), holder)
        for code in ("overnight_hub_planned", "stay_hub_short_notice")
    ]
    return authority.create_agreement(
        child,
        by=by,
        effective_from=effective,
        review_on=review,
        signed_off_role="liaison_worker",
        clauses=clauses,
    )


def social_worker_decides(world):
    """Mara's agreement keeps stays at the hub with her social worker: the hub's
    acceptance waits for the social worker's approval."""
    agreement(
        world.child,
        by=world.liaison,
        effective=date(2026, 11, 1),
        review=date(2027, 9, 1),
        holder=Holder.SOCIAL_WORKER,
    )


@pytest.fixture
def riverside(clock, world):
    """Riverside as in the demo: 3 beds, at most 3 consecutive planned nights; every
    child's agreement lets the hub carers accept until a review in 2027."""
    for child in (world.child, world.neighbour_child):
        agreement(child, by=world.liaison, effective=date(2026, 11, 1), review=date(2027, 9, 1))
    services.update_limits(
        world.constellation,
        by=world.liaison,
        max_consecutive_nights=3,
        yearly_allowance_nights=None,
    )
    return world


def more_children(world, n):
    from tests import factories as f

    kids = []
    for i in range(n):
        kid = f.child_in(world.satellite, first_name=f"Kid{i}", preferred_name="")
        agreement(kid, by=world.liaison, effective=date(2026, 11, 1), review=date(2027, 9, 1))
        kids.append(kid)
    return kids


def planned(world, start, end, children=None, carer=None):
    return services.create_request(
        by=carer or world.satellite_carer,
        kind=Kind.PLANNED,
        children=children or [world.child],
        start=start,
        end=end,
    )


# --- 1. a night is more than its start date -------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "nights"),
    [
        (at(2027, 1, 14, 17), at(2027, 1, 15, 10), [date(2027, 1, 14)]),
        (at(2027, 1, 15, 0, 30), at(2027, 1, 15, 10), [date(2027, 1, 14)]),
        (at(2027, 1, 15, 6, 59), at(2027, 1, 15, 10), [date(2027, 1, 14)]),
        (at(2027, 1, 15, 7, 0), at(2027, 1, 15, 10), []),
        (at(2027, 1, 15, 9), at(2027, 1, 15, 21, 0), []),
        (at(2027, 1, 15, 9), at(2027, 1, 15, 21, 1), [date(2027, 1, 15)]),
        (at(2027, 1, 15, 20), at(2027, 1, 16, 0, 0), [date(2027, 1, 15)]),
        (at(2027, 1, 14, 17), at(2027, 1, 17, 10), [date(2027, 1, d) for d in (14, 15, 16)]),
        # The clock-change nights are nights like any other.
        (at(2027, 3, 27, 17), at(2027, 3, 28, 10), [date(2027, 3, 27)]),
        (at(2027, 10, 30, 17), at(2027, 10, 31, 10), [date(2027, 10, 30)]),
        (at(2026, 12, 31, 17), at(2027, 1, 1, 10), [date(2026, 12, 31)]),
    ],
)
def test_a_night_is_every_night_a_stay_covers_any_part_of(start, end, nights):
    assert nights_between(start, end) == nights


def test_a_crisis_after_midnight_holds_the_night_and_is_refused_on_a_full_night(riverside):
    w = riverside
    kids = more_children(w, 3)
    full = planned(w, at(2027, 1, 14, 17), at(2027, 1, 15, 10), children=kids)
    services.accept(full, by=w.hub_carer)
    with time_machine.travel(at(2027, 1, 15, 0, 30), tick=False):
        crisis = services.create_request(
            by=w.neighbour_carer,
            kind=Kind.CRISIS,
            children=[w.neighbour_child],
            start=at(2027, 1, 15, 0, 30),
            end=services.crisis_end(at(2027, 1, 15, 0, 30), CrisisReason.OVERNIGHT),
            crisis_reason=CrisisReason.OVERNIGHT,
        )
        assert crisis.nights == [date(2027, 1, 14)]
        with pytest.raises(services.NightFull, match="full on the night of Thursday 14 January"):
            services.accept(crisis, by=w.hub_carer)
        crisis.refresh_from_db()
        assert crisis.status == Status.REQUESTED
        # Only a confirmed emergency goes over the beds: recorded and counted.
        services.accept(crisis, by=w.hub_carer, emergency=True)
    crisis.refresh_from_db()
    assert crisis.emergency_over_beds is True
    assert "Emergency arrangement" in crisis.timeline.last().note
    night = selectors.nights(w.hub, date(2027, 1, 14), date(2027, 1, 14))[0]
    assert (night.beds, night.booked) == (3, 4)


# --- 2. the delegated authority over every night ---------------------------------------------


def test_a_stay_past_the_agreements_review_date_waits_for_approval(clock, world):
    w = world
    agreement(w.child, by=w.liaison, effective=date(2026, 11, 1), review=date(2027, 3, 30))
    request = planned(w, at(2027, 3, 29, 17), at(2027, 4, 1, 10))
    services.accept(request, by=w.hub_carer)
    request.refresh_from_db()
    assert request.status == Status.AWAITING_APPROVAL
    assert not Night.objects.filter(request=request).exists()
    approval = Approval.objects.get(subject_id=request.pk)
    assert "31 March" in approval.details
    # The person actually asked is named, with their part.
    note = request.timeline.last().note
    assert f"asked of {w.social_worker}, the child's social worker" in note
    assert "foster carers" not in note


def test_a_new_version_from_new_year_giving_stays_to_the_social_worker_is_asked(clock, world):
    w = world
    agreement(w.child, by=w.liaison, effective=date(2026, 11, 1), review=date(2027, 9, 1))
    agreement(
        w.child,
        by=w.liaison,
        effective=date(2027, 1, 1),
        review=date(2027, 9, 1),
        holder=Holder.SOCIAL_WORKER,
    )
    request = planned(w, at(2026, 12, 31, 17), at(2027, 1, 2, 10))
    services.accept(request, by=w.hub_carer)
    request.refresh_from_db()
    assert request.status == Status.AWAITING_APPROVAL
    assert "1 January" in Approval.objects.get(subject_id=request.pk).details
    # The night before the new version alone is within the old one: accepted at once.
    alone = planned(
        w,
        at(2026, 12, 30, 17),
        at(2026, 12, 31, 10),
        children=[w.neighbour_child],
        carer=w.neighbour_carer,
    )
    agreement(w.neighbour_child, by=w.liaison, effective=date(2026, 11, 1), review=date(2027, 9, 1))
    services.accept(alone, by=w.hub_carer)
    alone.refresh_from_db()
    assert alone.status == Status.ACCEPTED


# --- 3. back-to-back stays and the consecutive-nights limit -------------------------------------


def test_back_to_back_stays_do_not_get_round_the_limit(riverside):
    w = riverside
    with pytest.raises(ValidationError, match="at most 3 consecutive"):
        planned(w, at(2027, 2, 5, 17), at(2027, 2, 9, 10))
    first = planned(w, at(2027, 2, 5, 17), at(2027, 2, 8, 10))
    with pytest.raises(ValidationError, match="6 nights in a row"):
        planned(w, at(2027, 2, 8, 17), at(2027, 2, 11, 10))
    services.accept(first, by=w.hub_carer)
    with pytest.raises(ValidationError, match="nights in a row"):
        planned(w, at(2027, 2, 8, 17), at(2027, 2, 9, 10))
    # With a night between, a new run begins.
    planned(w, at(2027, 2, 9, 17), at(2027, 2, 10, 10))


def test_the_limit_is_checked_again_at_acceptance(riverside):
    w = riverside
    first = planned(w, at(2027, 2, 5, 17), at(2027, 2, 7, 10))
    second = planned(w, at(2027, 2, 8, 17), at(2027, 2, 9, 10))
    # An offer moves the first next to the second (3 nights in a row, within the
    # limit then); the limit is lowered before the family takes it.
    services.offer(first, by=w.hub_carer, start=at(2027, 2, 6, 17), end=at(2027, 2, 8, 10))
    services.accept(second, by=w.hub_carer)
    services.update_limits(
        w.constellation, by=w.liaison, max_consecutive_nights=2, yearly_allowance_nights=None
    )
    with pytest.raises(ActionRefused, match="3 nights in a row"):
        services.take_offer(first, by=w.satellite_carer)
    first.refresh_from_db()
    assert first.status == Status.OFFERED


# --- 4. the yearly allowance ---------------------------------------------------------------------


def test_each_night_counts_in_its_own_year(riverside):
    w = riverside
    services.update_limits(
        w.constellation, by=w.liaison, max_consecutive_nights=3, yearly_allowance_nights=5
    )
    for start_day in (4, 11):
        stay = planned(w, at(2027, 1, start_day, 17), at(2027, 1, start_day + 2, 10))
        services.accept(stay, by=w.hub_carer)
    extra = planned(w, at(2027, 1, 20, 17), at(2027, 1, 21, 10))
    services.accept(extra, by=w.hub_carer)
    assert services.planned_tally([w.child], 2027)[w.child.pk].held == 5
    with pytest.raises(ValidationError, match="5 of 5 planned nights in 2027"):
        planned(w, at(2026, 12, 30, 17), at(2027, 1, 2, 10))
    # The nights of the old year alone are within that year's allowance.
    planned(w, at(2026, 12, 30, 17), at(2027, 1, 1, 10))


def test_requests_asked_before_any_is_accepted_count_against_the_allowance(riverside):
    w = riverside
    services.update_limits(
        w.constellation, by=w.liaison, max_consecutive_nights=3, yearly_allowance_nights=5
    )
    planned(w, at(2027, 3, 1, 17), at(2027, 3, 3, 10))
    planned(w, at(2027, 3, 8, 17), at(2027, 3, 10, 10))
    with pytest.raises(ValidationError, match="had or asked for 4 of 5"):
        planned(w, at(2027, 3, 15, 17), at(2027, 3, 17, 10))


def test_the_allowance_is_checked_again_at_acceptance(riverside):
    w = riverside
    services.update_limits(
        w.constellation, by=w.liaison, max_consecutive_nights=3, yearly_allowance_nights=5
    )
    first = planned(w, at(2027, 3, 1, 17), at(2027, 3, 3, 10))
    second = planned(w, at(2027, 3, 8, 17), at(2027, 3, 10, 10))
    services.accept(first, by=w.hub_carer)
    services.update_limits(
        w.constellation, by=w.liaison, max_consecutive_nights=3, yearly_allowance_nights=3
    )
    with pytest.raises(ActionRefused, match="had 2 of 3 planned nights in 2027"):
        services.accept(second, by=w.hub_carer)


def test_the_booking_form_tally_shows_nights_asked_for_as_well_as_held(riverside, login):
    from django.urls import reverse

    w = riverside
    held = planned(w, at(2027, 1, 4, 17), at(2027, 1, 6, 10))
    services.accept(held, by=w.hub_carer)
    planned(w, at(2027, 1, 11, 17), at(2027, 1, 12, 10))
    with time_machine.travel(at(2027, 1, 2, 9), tick=False):
        html = login(w.satellite_carer).get(reverse("sleepovers:new")).content.decode()
        assert "2 planned nights at the hub this year, 1 more asked for" in html
        # The fairness table counts the same nights for the household.
        staff = login(w.liaison).get(reverse("sleepovers:index")).content.decode()
    table = staff[staff.index("Nights per household in 2027") :]
    row = table[table.index("The Ashfords") : table.index("</tr>", table.index("The Ashfords"))]
    assert ">2<" in row


# --- 6. time passes ----------------------------------------------------------------------


def test_a_request_never_answered_expires_and_cannot_be_accepted_after_its_time(riverside):
    w = riverside
    request = planned(w, at(2027, 1, 5, 17), at(2027, 1, 6, 10))
    with time_machine.travel(at(2027, 1, 7, 9), tick=False):
        with pytest.raises(ActionRefused, match="time asked for has passed"):
            services.accept(request, by=w.hub_carer)
        assert services.expire_overdue() == 1
        assert services.expire_overdue() == 0
    request.refresh_from_db()
    assert request.status == Status.EXPIRED
    assert request.timeline.last().note == "Its time passed without an answer."
    assert not Night.objects.filter(request=request).exists()
    assert request not in Request.objects.inbox_of(w.hub)


def test_an_offer_cannot_be_taken_after_the_offered_time(riverside):
    w = riverside
    request = planned(w, at(2027, 1, 12, 17), at(2027, 1, 13, 10))
    services.offer(request, by=w.hub_carer, start=at(2027, 1, 12, 17), end=at(2027, 1, 13, 10))
    with time_machine.travel(at(2027, 1, 14, 9), tick=False):
        with pytest.raises(ActionRefused, match="offered time has passed"):
            services.take_offer(request, by=w.satellite_carer)
        services.expire_overdue()
    request.refresh_from_db()
    assert request.status == Status.EXPIRED


def test_a_waiting_approval_is_withdrawn_when_the_request_expires(clock, world):
    w = world
    social_worker_decides(w)
    request = planned(w, at(2027, 1, 5, 17), at(2027, 1, 6, 10))
    services.accept(request, by=w.hub_carer)
    with time_machine.travel(at(2027, 1, 7, 9), tick=False):
        services.expire_overdue()
    assert Approval.objects.get(subject_id=request.pk).status == Approval.Status.WITHDRAWN


def test_arrival_and_non_arrival_keep_to_the_stays_time(riverside):
    w = riverside
    request = planned(w, at(2027, 1, 5, 17), at(2027, 1, 6, 10))
    services.accept(request, by=w.hub_carer)
    with pytest.raises(ActionRefused, match="record the arrival when the child comes"):
        services.arrived(request, by=w.hub_carer)
    with pytest.raises(ActionRefused, match="has not begun"):
        services.did_not_arrive(request, by=w.hub_carer)
    with time_machine.travel(at(2027, 1, 5, 18), tick=False):
        with pytest.raises(ActionRefused, match="The stay has begun"):
            services.cancel(request, by=w.satellite_carer, reason="Plans changed")
        services.arrived(request, by=w.hub_carer)
    request.refresh_from_db()
    assert request.status == Status.ARRIVED


# --- 8. words that are true ----------------------------------------------------------------------


def test_the_beds_are_checked_before_anyone_is_asked_to_approve(clock, world):
    w = world
    social_worker_decides(w)
    kids = more_children(w, 2)
    services.accept(planned(w, at(2027, 1, 14, 17), at(2027, 1, 15, 10), kids), by=w.hub_carer)
    from tests import factories as f

    sister = f.child_in(w.satellite, first_name="Sis", preferred_name="")
    two = planned(w, at(2027, 1, 14, 17), at(2027, 1, 15, 10), children=[w.child, sister])
    with pytest.raises(services.NightFull, match="1 bed free for 2 children"):
        services.accept(two, by=w.hub_carer)
    assert not Approval.objects.exists()


def test_approved_while_the_hub_filled_goes_back_to_the_hub_not_declined(clock, world):
    w = world
    social_worker_decides(w)
    waiting = planned(w, at(2027, 1, 14, 17), at(2027, 1, 15, 10))
    services.accept(waiting, by=w.hub_carer)
    services.change_beds(
        w.hub, by=w.hub_carer, start=date(2027, 1, 14), end=date(2027, 1, 14), beds=0
    )
    approval = Approval.objects.get(subject_id=waiting.pk)
    authority.decide_approval(approval, by=w.social_worker, approve=True)
    waiting.refresh_from_db()
    assert waiting.status == Status.REQUESTED
    assert waiting.decline_reason == ""
    note = waiting.timeline.last().note
    assert note.startswith(f"Approved by {w.social_worker}; but now The hub is full")
    assert "declined" not in note.lower()
    # When the bed comes back, the hub accepts at once: the approval already given holds.
    services.change_beds(
        w.hub, by=w.hub_carer, start=date(2027, 1, 14), end=date(2027, 1, 14), beds=3
    )
    services.accept(waiting, by=w.hub_carer)
    waiting.refresh_from_db()
    assert waiting.status == Status.ACCEPTED


# --- 12. each kind has its shape ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        (Kind.SHORT_BREAK, at(2027, 1, 12, 17), at(2027, 1, 15, 10)),
        (Kind.SHORT_BREAK, at(2027, 1, 12, 17), at(2027, 12, 10, 10)),
        (Kind.SHORT_BREAK, at(2027, 1, 12, 15), at(2027, 1, 12, 22)),
        (Kind.TRANSPORT, at(2027, 1, 12, 6), at(2027, 1, 12, 9)),
        (Kind.TRANSPORT, at(2027, 1, 12, 20), at(2027, 1, 13, 8)),
    ],
)
def test_a_short_break_or_transport_lies_within_the_day(riverside, kind, start, end):
    with pytest.raises(ValidationError, match="help during the day"):
        services.create_request(
            by=riverside.satellite_carer,
            kind=kind,
            children=[riverside.child],
            start=start,
            end=end,
        )
    assert not Request.objects.exists()


def test_a_short_break_after_school_is_asked_and_holds_no_bed(riverside):
    w = riverside
    request = services.create_request(
        by=w.satellite_carer,
        kind=Kind.SHORT_BREAK,
        children=[w.child],
        start=at(2027, 1, 12, 15, 30),
        end=at(2027, 1, 12, 19),
    )
    services.accept(request, by=w.hub_carer)
    assert request.nights == []
    assert not Night.objects.exists()


# --- 14. nobody answers their own request --------------------------------------------------------


def test_a_stand_ins_own_crisis_goes_to_the_hub_and_it_cannot_answer_it(riverside):
    w = riverside
    w.neighbour.beds = 2
    w.neighbour.save(update_fields=["beds"])
    services.arrange_cover(
        w.constellation,
        by=w.liaison,
        stand_in=w.neighbour,
        start=date(2027, 1, 10),
        end=date(2027, 1, 20),
    )
    with time_machine.travel(at(2027, 1, 12, 14), tick=False):
        crisis = services.create_request(
            by=w.neighbour_carer,
            kind=Kind.CRISIS,
            children=[w.neighbour_child],
            start=at(2027, 1, 12, 14),
            end=at(2027, 1, 12, 18),
            crisis_reason=CrisisReason.CARER_HEALTH,
        )
        assert crisis.hub == w.hub
        assert "goes to the hub's own carers and the liaison worker" in crisis.timeline.last().note
        with pytest.raises(PermissionDenied):
            access.get_request_for_hub(w.neighbour_carer, crisis.pk)
        assert access.is_hub_carer(w.hub_carer, crisis)
        # Another family's crisis in the same days goes to the stand-in.
        other = services.create_request(
            by=w.satellite_carer,
            kind=Kind.CRISIS,
            children=[w.child],
            start=at(2027, 1, 12, 14),
            end=at(2027, 1, 12, 18),
            crisis_reason=CrisisReason.CARER_HEALTH,
        )
        assert other.hub == w.neighbour
        assert access.is_hub_carer(w.neighbour_carer, other)


# --- the night in progress, stays begun, crises that are stays ------------------------------


def test_the_usual_beds_are_not_cut_under_the_night_in_progress(riverside):
    w = riverside
    kids = more_children(w, 3)
    services.accept(planned(w, at(2027, 1, 14, 17), at(2027, 1, 15, 10), kids), by=w.hub_carer)
    with (
        time_machine.travel(at(2027, 1, 15, 0, 30), tick=False),
        pytest.raises(ActionRefused, match="night of Thursday 14 January"),
    ):
        services.set_usual_beds(w.hub, by=w.liaison, beds=0)
    w.hub.refresh_from_db()
    assert w.hub.beds == 3


def test_after_midnight_the_hub_home_calls_the_night_in_progress_tonight(riverside, login):
    from django.urls import reverse

    w = riverside
    services.accept(planned(w, at(2027, 1, 14, 17), at(2027, 1, 15, 10)), by=w.hub_carer)
    with time_machine.travel(at(2027, 1, 15, 0, 30), tick=False):
        html = login(w.hub_carer).get(reverse("home")).content.decode()
    week = html[html.index("Tonight and this week") :]
    assert "Tonight, Thu 14 Jan" in week
    assert "1 of 3 beds taken" in week


def test_a_planned_stay_cannot_be_accepted_or_approved_once_begun(clock, world):
    w = world
    social_worker_decides(w)
    agreement(w.neighbour_child, by=w.liaison, effective=date(2026, 11, 1), review=date(2027, 9, 1))
    begun = planned(
        w,
        at(2027, 2, 5, 17),
        at(2027, 2, 7, 10),
        children=[w.neighbour_child],
        carer=w.neighbour_carer,
    )
    waiting = planned(w, at(2027, 3, 29, 17), at(2027, 3, 31, 10))
    services.accept(waiting, by=w.hub_carer)
    with (
        time_machine.travel(at(2027, 2, 6, 12), tick=False),
        pytest.raises(ActionRefused, match="time asked for has passed"),
    ):
        services.accept(begun, by=w.hub_carer)
    with time_machine.travel(at(2027, 3, 30, 12), tick=False):
        approval = Approval.objects.get(subject_id=waiting.pk)
        authority.decide_approval(approval, by=w.social_worker, approve=True)
    waiting.refresh_from_db()
    assert waiting.status == Status.EXPIRED
    assert not Night.objects.filter(request__in=[begun, waiting]).exists()


def test_a_crisis_of_many_nights_is_not_a_way_round_the_limits(riverside):
    w = riverside
    with time_machine.travel(at(2027, 1, 15, 12), tick=False):
        with pytest.raises(ValidationError, match="at most 2 nights"):
            services.create_request(
                by=w.satellite_carer,
                kind=Kind.CRISIS,
                children=[w.child],
                start=at(2027, 1, 15, 12),
                end=at(2027, 1, 25, 10),
                crisis_reason=CrisisReason.OVERNIGHT,
            )
        with pytest.raises(ValidationError, match="The end has passed"):
            services.create_request(
                by=w.satellite_carer,
                kind=Kind.CRISIS,
                children=[w.child],
                start=at(2027, 1, 14, 13),
                end=at(2027, 1, 14, 15),
                crisis_reason=CrisisReason.OTHER,
            )
    assert not Request.objects.exists()


def test_a_withdrawn_request_for_approval_goes_back_to_the_hub(clock, world, login):
    from django.urls import reverse

    w = world
    social_worker_decides(w)
    request = planned(w, at(2027, 1, 14, 17), at(2027, 1, 15, 10))
    services.accept(request, by=w.hub_carer)
    authority.withdraw_approval(Approval.objects.get(subject_id=request.pk), by=w.hub_carer)
    request.refresh_from_db()
    assert request.status == Status.REQUESTED
    assert "withdrew the request for approval" in request.timeline.last().note
    # A refusal names who refused, once.
    services.accept(request, by=w.hub_carer)
    approval = Approval.objects.get(subject_id=request.pk, status=Approval.Status.PENDING)
    authority.decide_approval(approval, by=w.social_worker, approve=False, note="Not this month")
    html = login(w.satellite_carer).get(reverse("sleepovers:request", args=[request.pk]))
    page = html.content.decode()
    status = page.index('id="request-status"')
    words = page[status : page.index("</section>", status)]
    assert f"Not approved by {w.social_worker}: Not this month" in words
    assert "The hub declined" not in page
    assert words.count("Not approved") == 1
