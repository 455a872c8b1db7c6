"""Crisis escalation with the clock moved: at once to the hub carers, after the
constellation's minutes to the liaison worker (and the hub carers by text again),
then to the out-of-hours duty contact; a step that reaches nobody passes on at
once; any answer, and "I've seen it", stops it (DOMAIN.md workflow 2, issue 9)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from constellation import services as people
from constellation.models import LiaisonAssignment
from constellation.services import ActionRefused
from notifications.models import Channel, CrisisAlert, EscalationStep, Kind, Notification
from notifications.selectors import crisis_alert_status
from notifications.services import escalation, sweep
from sleepovers import services
from sleepovers.models import SleepoverSettings
from sleepovers.models import Status as RequestStatus
from tests import factories as f
from tests.sleepovers.helpers import allow_hub

LONDON = ZoneInfo("Europe/London")
# Two in the morning on an ordinary winter night.
NIGHT = datetime(2027, 2, 10, 2, 0, tzinfo=LONDON)


@pytest.fixture
def at_night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def crisis_world(at_night, world):
    allow_hub(world.child, by=world.liaison)
    for user, phone in (
        (world.hub_carer, "07700 900111"),
        (world.second_hub_carer, "07700 900222"),
        (world.liaison, "07700 900333"),
    ):
        user.phone = phone
        user.save(update_fields=["phone"])
    service = world.service
    service.out_of_hours_name = "Northshire duty team"
    service.out_of_hours_phone = "01632 960000"
    service.out_of_hours_email = "duty@northshire.example"
    service.save()
    return world


def raise_crisis(world, *, by=None, children=None):
    now = timezone.now()
    return services.create_request(
        by=by or world.satellite_carer,
        kind="crisis",
        children=children or [world.child],
        start=now - timedelta(minutes=5),
        end=now + timedelta(hours=3),
        crisis_reason="composure",
    )


def rows(request, **filters):
    return Notification.objects.filter(target_id=request.pk, key__startswith="crisis:", **filters)


def channels_to(request, user, step):
    return set(
        rows(request, recipient=user, key=f"crisis:{request.pk}:{step}").values_list(
            "channel", flat=True
        )
    )


def test_every_hub_carer_is_alerted_at_once_on_every_channel_they_have(
    crisis_world, django_capture_on_commit_callbacks
):
    w = crisis_world
    with django_capture_on_commit_callbacks(execute=True):
        request = raise_crisis(w)
    for carer in (w.hub_carer, w.second_hub_carer):
        assert channels_to(request, carer, 0) == {Channel.IN_APP, Channel.SMS, Channel.EMAIL}
    # In the app at once; the rest queued for the worker (eager in tests: sent).
    assert not rows(request).exclude(status=Notification.Status.SENT).exists()
    # Nobody else is alerted yet: not the requester, not the liaison worker.
    assert not rows(request, recipient=w.satellite_carer).exists()
    assert not rows(request, recipient=w.liaison).exists()
    steps = {s.step: s for s in EscalationStep.objects.filter(alert__request=request)}
    assert steps[0].status == EscalationStep.Status.DONE
    assert steps[1].due_at == NIGHT + timedelta(minutes=10)
    assert steps[2].due_at == NIGHT + timedelta(minutes=30)


def test_the_requester_sees_who_was_alerted_how_and_what_happens_next(crisis_world):
    request = raise_crisis(crisis_world)
    status = crisis_alert_status(request)
    names = {person.name for person in status.reached}
    assert crisis_world.hub_carer.get_full_name() in names
    assert crisis_world.second_hub_carer.get_full_name() in names
    assert status.next_step == "the liaison worker is alerted"
    assert timezone.localtime(status.next_at).strftime("%H:%M") == "02:10"


def test_nothing_escalates_before_the_minutes_are_up(crisis_world, at_night):
    request = raise_crisis(crisis_world)
    at_night.shift(timedelta(minutes=9, seconds=59))
    sweep()
    assert not rows(request, recipient=crisis_world.liaison).exists()
    assert not rows(request, key__endswith=":1").exists()


def test_unanswered_after_ten_minutes_the_liaison_worker_and_the_hub_by_text(
    crisis_world, at_night
):
    w = crisis_world
    request = raise_crisis(w)
    at_night.shift(timedelta(minutes=10))
    sweep()
    assert channels_to(request, w.hub_carer, 1) == {Channel.SMS}
    assert channels_to(request, w.second_hub_carer, 1) == {Channel.SMS}
    assert channels_to(request, w.liaison, 1) == {Channel.IN_APP, Channel.SMS, Channel.EMAIL}
    # Another constellation's liaison worker hears nothing of it.
    assert not Notification.objects.filter(recipient=w.other_liaison).exists()
    # The duty contact is not alerted yet.
    assert not rows(request, recipient__isnull=True).exists()
    status = crisis_alert_status(request)
    assert "out-of-hours" in status.next_step
    assert timezone.localtime(status.next_at).strftime("%H:%M") == "02:30"


def test_after_thirty_minutes_the_out_of_hours_duty_contact(crisis_world, at_night):
    request = raise_crisis(crisis_world)
    at_night.shift(timedelta(minutes=10))
    sweep()
    at_night.shift(timedelta(minutes=20))
    sweep()
    duty = rows(request, recipient__isnull=True, key=f"crisis:{request.pk}:2")
    assert set(duty.values_list("channel", "to_address")) == {
        (Channel.SMS, "01632 960000"),
        (Channel.EMAIL, "duty@northshire.example"),
    }
    assert set(duty.values_list("to_name", flat=True)) == {"Northshire duty team"}
    assert not EscalationStep.objects.filter(
        alert__request=request, status=EscalationStep.Status.WAITING
    ).exists()


def test_the_minutes_are_set_per_constellation(crisis_world, at_night):
    SleepoverSettings.objects.update_or_create(
        constellation=crisis_world.constellation, defaults={"crisis_escalation_minutes": 4}
    )
    request = raise_crisis(crisis_world)
    at_night.shift(timedelta(minutes=4))
    sweep()
    assert channels_to(request, crisis_world.liaison, 1)
    step = EscalationStep.objects.get(alert__request=request, step=2)
    assert step.due_at == NIGHT + timedelta(minutes=24)


def test_with_no_liaison_worker_the_duty_contact_is_alerted_at_ten_minutes(crisis_world, at_night):
    LiaisonAssignment.objects.filter(constellation=crisis_world.constellation).update(
        ended_on=timezone.localdate()
    )
    request = raise_crisis(crisis_world)
    at_night.shift(timedelta(minutes=10))
    sweep()
    steps = {s.step: s.status for s in EscalationStep.objects.filter(alert__request=request)}
    assert steps == {
        0: EscalationStep.Status.DONE,
        1: EscalationStep.Status.PASSED_ON,
        2: EscalationStep.Status.DONE,
    }
    # The hub carers still have their text message again.
    assert channels_to(request, crisis_world.hub_carer, 1) == {Channel.SMS}
    assert rows(request, key=f"crisis:{request.pk}:2", channel=Channel.SMS).exists()


def test_a_step_that_reaches_nobody_passes_on_and_the_page_says_so(crisis_world, at_night):
    w = crisis_world
    LiaisonAssignment.objects.filter(constellation=w.constellation).update(
        ended_on=timezone.localdate()
    )
    w.service.out_of_hours_phone = w.service.out_of_hours_email = ""
    w.service.save()
    request = raise_crisis(w)
    at_night.shift(timedelta(minutes=10))
    sweep()
    statuses = list(
        EscalationStep.objects.filter(alert__request=request)
        .order_by("step")
        .values_list("status", flat=True)
    )
    assert statuses == ["done", "passed_on", "passed_on"]
    status = crisis_alert_status(request)
    assert status.next_step == ""
    assert status.next_at is None


def test_a_hub_with_one_carer_and_no_phone_still_escalates_on_time(at_night, world):
    """A single carer without a phone: alerted in the app and by email at once; the
    text-message repeat reaches nobody, the liaison worker is alerted at 10 minutes."""
    allow_hub(world.child, by=world.liaison)
    people.end_carer(
        world.second_hub_carer.carer_roles.get(ended_on__isnull=True), by=None, reason="Moved"
    )
    request = raise_crisis(world)
    assert channels_to(request, world.hub_carer, 0) == {Channel.IN_APP, Channel.EMAIL}
    assert not rows(request, recipient=world.second_hub_carer).exists()
    at_night.shift(timedelta(minutes=10))
    sweep()
    assert channels_to(request, world.liaison, 1) == {Channel.IN_APP, Channel.EMAIL}


ANSWERS = {
    "accept": lambda w, r: services.accept(r, by=w.hub_carer),
    "decline": lambda w, r: services.decline(r, by=w.hub_carer, reason="We cannot tonight"),
    "offer": lambda w, r: services.offer(
        r,
        by=w.hub_carer,
        start=timezone.now() + timedelta(hours=1),
        end=timezone.now() + timedelta(hours=4),
    ),
    "cancel": lambda w, r: services.cancel(r, by=w.satellite_carer, reason="Sorted now"),
    "seen": lambda w, r: escalation.seen(r, by=w.second_hub_carer),
}


@pytest.mark.parametrize("answer", ANSWERS)
def test_escalation_stops_on_every_answer(crisis_world, at_night, answer):
    w = crisis_world
    request = raise_crisis(w)
    at_night.shift(timedelta(minutes=3))
    ANSWERS[answer](w, request)
    alert = CrisisAlert.objects.get(request=request)
    assert alert.stopped_at == NIGHT + timedelta(minutes=3)
    at_night.shift(timedelta(minutes=40))
    sweep()
    assert not rows(request, key__endswith=":1").exists()
    assert not rows(request, key__endswith=":2").exists()
    assert set(EscalationStep.objects.filter(alert=alert).values_list("status", flat=True)) == {
        "done",
        "stopped",
    }


def test_escalation_stops_when_the_request_expires(crisis_world, at_night):
    request = raise_crisis(crisis_world)
    # A crisis left unanswered past its end expires (the beat's sweep of requests).
    at_night.shift(timedelta(hours=4))
    services.expire_overdue()
    request.refresh_from_db()
    assert request.status == RequestStatus.EXPIRED
    assert CrisisAlert.objects.get(request=request).stop_reason == "expired"


def test_seen_tells_the_family_at_once_and_cannot_be_said_twice(crisis_world, at_night):
    w = crisis_world
    w.satellite_carer.phone = "07700 900444"
    w.satellite_carer.save(update_fields=["phone"])
    request = raise_crisis(w)
    at_night.shift(timedelta(minutes=2))
    escalation.seen(request, by=w.hub_carer)
    told = Notification.objects.filter(recipient=w.satellite_carer, key=f"crisis:{request.pk}:seen")
    assert set(told.values_list("channel", flat=True)) >= {Channel.IN_APP, Channel.SMS}
    assert all(n.kind == Kind.CRISIS_SEEN for n in told)
    assert w.hub_carer.first_name in told.first().body
    assert "calling you" in told.first().body
    status = crisis_alert_status(request)
    assert status.alert.seen_by == w.hub_carer
    with pytest.raises(ActionRefused):
        escalation.seen(request, by=w.second_hub_carer)


def test_seen_is_refused_for_a_planned_request_and_an_answered_crisis(crisis_world):
    w = crisis_world
    request = raise_crisis(w)
    services.decline(request, by=w.hub_carer, reason="Full")
    with pytest.raises(ActionRefused):
        escalation.seen(request, by=w.hub_carer)


def test_during_a_cover_the_stand_ins_carers_are_alerted_not_the_hubs(crisis_world):
    w = crisis_world
    household = f.satellite_in(w.constellation, name="The Fairweathers")
    people.update_household(household, by=None, beds=2)
    household.refresh_from_db()
    stand_in_carer = f.carer_of(household, email="stand-in@test.example")
    today = timezone.localdate()
    services.arrange_cover(
        w.constellation, by=w.liaison, stand_in=household, start=today, end=today
    )
    request = raise_crisis(w)
    assert request.hub_id == household.pk
    assert channels_to(request, stand_in_carer, 0)
    assert not rows(request, recipient=w.hub_carer).exists()


def test_two_sweeps_at_once_run_a_step_once(crisis_world, at_night):
    request = raise_crisis(crisis_world)
    at_night.shift(timedelta(minutes=10))
    sweep()
    sweep()
    liaison_rows = rows(request, recipient=crisis_world.liaison)
    assert liaison_rows.count() == 3  # app, SMS, email: once each
    assert EscalationStep.objects.get(alert__request=request, step=1).ran_at == (
        NIGHT + timedelta(minutes=10)
    )


@pytest.mark.django_db
def test_a_crisis_on_the_night_the_clocks_go_back_escalates_after_real_minutes():
    """At 01:55 BST on the last Sunday of October the liaison step is due ten real
    minutes later, at 01:05 GMT, not at 02:05."""
    start = datetime(2027, 10, 31, 0, 55, tzinfo=ZoneInfo("UTC"))  # 01:55 BST
    with time_machine.travel(start, tick=False):
        from tests.conftest import build_world

        w = build_world()
        allow_hub(w.child, by=w.liaison)
        request = raise_crisis(w)
        step = EscalationStep.objects.get(alert__request=request, step=1)
        assert step.due_at == start + timedelta(minutes=10)
        assert timezone.localtime(step.due_at).strftime("%H:%M %Z") == "01:05 GMT"
