"""Reminders and digests with the clock moved (Europe/London): found by querying, so a
tick missed while the worker was down is caught up, and written once each."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from delegated_authority import services as authority
from delegated_authority.models import Approval, Decision
from notifications.models import Channel, Kind, Notification
from notifications.services import reminders
from sleepovers import services
from tests.sleepovers.helpers import allow_hub

LONDON = ZoneInfo("Europe/London")


def local(y, m, d, hour, minute=0):
    return datetime(y, m, d, hour, minute, tzinfo=LONDON)


# A Wednesday in February.
WEDNESDAY_NOON = local(2027, 2, 10, 12)


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def allowed(clock, world):
    allow_hub(world.child, by=world.liaison)
    return world


def planned(world, start, nights=1):
    return services.create_request(
        by=world.satellite_carer,
        kind="planned",
        children=[world.child],
        start=start,
        end=start.replace(hour=10) + timedelta(days=nights),
    )


def kinds_to(user, kind):
    return Notification.objects.filter(recipient=user, kind=kind)


# --- a stay tomorrow ----------------------------------------------------------------------


def test_a_stay_tomorrow_is_reminded_from_six_in_the_evening_once(allowed, clock):
    w = allowed
    request = planned(w, local(2027, 2, 11, 17))
    services.accept(request, by=w.hub_carer)
    clock.move_to(local(2027, 2, 10, 17, 59))
    reminders.send_due()
    assert not kinds_to(w.satellite_carer, Kind.STAY_TOMORROW).exists()
    clock.move_to(local(2027, 2, 10, 18, 0))
    reminders.send_due()
    reminders.send_due()  # the next tick writes nothing new
    family = kinds_to(w.satellite_carer, Kind.STAY_TOMORROW)
    assert family.filter(channel=Channel.IN_APP).count() == 1
    assert "tomorrow at 17:00" in family.first().body
    for carer in (w.hub_carer, w.second_hub_carer):
        assert kinds_to(carer, Kind.STAY_TOMORROW).filter(channel=Channel.IN_APP).count() == 1
    # Nobody else: not the neighbour, not another constellation's hub.
    assert not kinds_to(w.neighbour_carer, Kind.STAY_TOMORROW).exists()
    assert not kinds_to(w.other_hub_carer, Kind.STAY_TOMORROW).exists()


def test_a_reminder_missed_in_the_evening_is_caught_up_in_the_morning(allowed, clock):
    w = allowed
    request = planned(w, local(2027, 2, 11, 17))
    services.accept(request, by=w.hub_carer)
    # The worker was down from 17:00 until 07:00 the next morning.
    clock.move_to(local(2027, 2, 11, 7))
    reminders.send_due()
    body = kinds_to(w.satellite_carer, Kind.STAY_TOMORROW).first().body
    assert "today at 17:00" in body


def test_a_stay_accepted_for_today_after_the_reminder_time_is_not_reminded(allowed, clock):
    w = allowed
    clock.move_to(local(2027, 2, 11, 9))
    request = planned(w, local(2027, 2, 11, 17))
    services.accept(request, by=w.hub_carer)
    reminders.send_due()
    assert not kinds_to(w.satellite_carer, Kind.STAY_TOMORROW).exists()


def test_a_declined_or_cancelled_stay_is_not_reminded(allowed, clock):
    w = allowed
    request = planned(w, local(2027, 2, 11, 17))
    services.decline(request, by=w.hub_carer, reason="Away")
    clock.move_to(local(2027, 2, 10, 19))
    reminders.send_due()
    assert not Notification.objects.filter(kind=Kind.STAY_TOMORROW).exists()


def test_stay_tomorrow_over_the_spring_clock_change(allowed, clock):
    """On Saturday 27 March 2027 at 18:00 GMT, a stay on Sunday (BST) at 17:00."""
    w = allowed
    clock.move_to(local(2027, 3, 26, 12))
    allow_hub(w.child, by=w.liaison)
    request = planned(w, local(2027, 3, 28, 17))
    services.accept(request, by=w.hub_carer)
    clock.move_to(local(2027, 3, 27, 17, 59))
    reminders.send_due()
    assert not kinds_to(w.satellite_carer, Kind.STAY_TOMORROW).exists()
    clock.move_to(local(2027, 3, 27, 18))
    reminders.send_due()
    assert "tomorrow at 17:00" in kinds_to(w.satellite_carer, Kind.STAY_TOMORROW).first().body


# --- 48 hours unanswered ------------------------------------------------------------------


def test_a_planned_request_unanswered_for_48_hours_reminds_the_hub_once(allowed, clock):
    w = allowed
    request = planned(w, local(2027, 2, 20, 17))
    clock.shift(timedelta(hours=47, minutes=59))
    reminders.send_due()
    assert not kinds_to(w.hub_carer, Kind.UNANSWERED).exists()
    clock.shift(timedelta(minutes=1))
    reminders.send_due()
    reminders.send_due()
    rows = kinds_to(w.hub_carer, Kind.UNANSWERED).filter(channel=Channel.IN_APP)
    assert rows.count() == 1
    assert rows.first().target_id == request.pk
    assert "still waits for your answer" in rows.first().body
    assert not kinds_to(w.satellite_carer, Kind.UNANSWERED).exists()


def test_an_answered_request_is_not_reminded(allowed, clock):
    w = allowed
    request = planned(w, local(2027, 2, 20, 17))
    services.accept(request, by=w.hub_carer)
    clock.shift(timedelta(days=3))
    reminders.send_due()
    assert not Notification.objects.filter(kind=Kind.UNANSWERED).exists()


def test_an_offer_unanswered_for_48_hours_reminds_the_family(allowed, clock):
    w = allowed
    request = planned(w, local(2027, 2, 20, 17))
    clock.shift(timedelta(hours=1))
    services.offer(
        request, by=w.hub_carer, start=local(2027, 2, 21, 17), end=local(2027, 2, 22, 10)
    )
    clock.shift(timedelta(hours=47))
    reminders.send_due()
    assert not kinds_to(w.satellite_carer, Kind.UNANSWERED).exists()
    clock.shift(timedelta(hours=1))
    reminders.send_due()
    rows = kinds_to(w.satellite_carer, Kind.UNANSWERED).filter(channel=Channel.IN_APP)
    assert rows.count() == 1
    assert "offered another time" in rows.first().body
    # The hub is not reminded of its own offer.
    assert not kinds_to(w.hub_carer, Kind.UNANSWERED).exists()


# --- approvals waiting, reviews -----------------------------------------------------------


def test_approvals_waiting_remind_the_holder_once_a_day_from_eight(clock, world):
    decision = Decision.objects.get(code="haircuts")
    approval = authority.request_approval(
        world.child, decision, by=world.satellite_carer, details="A first haircut"
    )
    holder = approval.assigned_to or world.liaison
    clock.move_to(local(2027, 2, 11, 7, 59))
    reminders.send_due()
    assert not kinds_to(holder, Kind.APPROVALS_WAITING).exists()
    clock.move_to(local(2027, 2, 11, 8))
    reminders.send_due()
    clock.move_to(local(2027, 2, 11, 20))
    reminders.send_due()
    assert kinds_to(holder, Kind.APPROVALS_WAITING).filter(channel=Channel.IN_APP).count() == 1
    clock.move_to(local(2027, 2, 12, 9))
    reminders.send_due()
    assert kinds_to(holder, Kind.APPROVALS_WAITING).filter(channel=Channel.IN_APP).count() == 2
    authority.decide_approval(approval, by=holder, approve=True)
    clock.move_to(local(2027, 2, 13, 9))
    reminders.send_due()
    assert kinds_to(holder, Kind.APPROVALS_WAITING).filter(channel=Channel.IN_APP).count() == 2
    assert Approval.objects.filter(pk=approval.pk, status="approved").exists()


def test_a_review_reminder_goes_onto_the_outbox_for_the_liaison_worker(clock, world):
    authority.create_agreement(
        world.child,
        by=world.liaison,
        effective_from=date(2027, 1, 1),
        review_on=date(2027, 3, 1),
        signed_off_role="liaison_worker",
        clauses=[],
    )
    authority.send_review_reminders()
    rows = kinds_to(world.liaison, Kind.REVIEW)
    assert rows.filter(channel=Channel.IN_APP).count() == 1
    assert "1 March" in rows.first().body
    assert not kinds_to(world.other_liaison, Kind.REVIEW).exists()
    authority.send_review_reminders()
    assert rows.filter(channel=Channel.IN_APP).count() == 1


# --- the weekly digest --------------------------------------------------------------------


def test_the_weekly_digest_counts_last_week_once_from_monday_at_eight(allowed, clock):
    w = allowed
    # Last week: one planned request, one crisis.
    clock.move_to(local(2027, 2, 9, 10))
    planned(w, local(2027, 2, 12, 17))
    services.create_request(
        by=w.satellite_carer,
        kind="crisis",
        children=[w.child],
        start=timezone.now(),
        end=timezone.now() + timedelta(hours=3),
        crisis_reason="composure",
    )
    clock.move_to(local(2027, 2, 15, 7, 59))  # Monday
    assert reminders.weekly_digests(timezone.now()) == 0
    clock.move_to(local(2027, 2, 15, 8))
    reminders.send_due()
    reminders.send_due()
    digest = kinds_to(w.liaison, Kind.DIGEST).filter(channel=Channel.IN_APP)
    assert digest.count() == 1
    assert "2 requests (1 crisis)" in digest.first().body
    assert "Riverside" in digest.first().body
    # The other constellation's liaison worker has their own, counting none of these.
    other = kinds_to(w.other_liaison, Kind.DIGEST).first()
    assert "0 requests" in other.body


def test_a_digest_missed_on_monday_is_sent_on_tuesday(allowed, clock):
    clock.move_to(local(2027, 2, 16, 9))  # Tuesday
    reminders.send_due()
    assert kinds_to(allowed.liaison, Kind.DIGEST).filter(channel=Channel.IN_APP).count() == 1
