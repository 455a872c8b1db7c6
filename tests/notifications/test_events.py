"""Every event notifies the people it concerns, with the change and never twice;
quiet hours hold back what can wait; nothing leaves the service or reaches the
person who acted."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from notifications.models import Channel, Kind, Notification
from notifications.preferences import save_choices
from notifications.services import Message, notify
from sleepovers import services
from tests import factories as f
from tests.sleepovers.helpers import allow_hub

LONDON = ZoneInfo("Europe/London")
NOON = datetime(2027, 2, 10, 12, tzinfo=LONDON)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def allowed(clock, world):
    allow_hub(world.child, by=world.liaison)
    return world


def ask(world, days=3):
    start = timezone.localtime().replace(hour=17, minute=0) + timedelta(days=days)
    return services.create_request(
        by=world.satellite_carer,
        kind="planned",
        children=[world.child],
        start=start,
        end=start.replace(hour=10) + timedelta(days=1),
    )


def app_rows(user, kind=None):
    rows = Notification.objects.filter(recipient=user, channel=Channel.IN_APP)
    return rows.filter(kind=kind) if kind else rows


def test_a_new_planned_request_tells_the_hub_carers_not_the_requester(allowed):
    w = allowed
    request = ask(w)
    for carer in (w.hub_carer, w.second_hub_carer):
        row = app_rows(carer, Kind.REQUEST).get()
        assert row.link == request.get_absolute_url()
        # Named by the carers' first names, never the household's (surname) name.
        assert w.satellite_carer.first_name in row.body
        assert "Ashford" not in row.body
    assert not app_rows(w.satellite_carer).exists()
    assert not app_rows(w.other_hub_carer).exists()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ("accept", "accepted"),
        ("decline", "declined"),
        ("offer", "offered another time"),
    ],
)
def test_the_hubs_answer_tells_the_family_not_the_hub_carer_who_gave_it(allowed, answer, words):
    w = allowed
    request = ask(w)
    if answer == "accept":
        services.accept(request, by=w.hub_carer)
    elif answer == "decline":
        services.decline(request, by=w.hub_carer, reason="Full")
    else:
        start = NOON.replace(hour=17) + timedelta(days=4)
        services.offer(request, by=w.hub_carer, start=start, end=start + timedelta(hours=17))
    row = app_rows(w.satellite_carer, Kind.ANSWER).get()
    assert words in row.body
    assert not app_rows(w.hub_carer, Kind.ANSWER).exists()


def test_the_family_cancelling_tells_the_hub(allowed):
    w = allowed
    request = ask(w)
    services.cancel(request, by=w.satellite_carer, reason="Plans changed")
    assert "cancelled" in app_rows(w.hub_carer, Kind.REQUEST_CHANGED).get().body
    assert not app_rows(w.satellite_carer, Kind.REQUEST_CHANGED).exists()


def test_taking_an_offer_tells_the_hub(allowed):
    w = allowed
    request = ask(w)
    start = NOON.replace(hour=17) + timedelta(days=4)
    services.offer(request, by=w.hub_carer, start=start, end=start + timedelta(hours=17))
    services.take_offer(request, by=w.satellite_carer)
    assert "took the time you offered" in app_rows(w.hub_carer, Kind.REQUEST_CHANGED).get().body


def test_a_rolled_back_change_leaves_no_notification(allowed):
    def ask_then_fail():
        with transaction.atomic():
            ask(allowed)
            raise RuntimeError("the change fails after the request was written")

    with pytest.raises(RuntimeError):
        ask_then_fail()
    assert not Notification.objects.exists()


def test_the_same_event_is_written_once_per_recipient_and_channel(allowed):
    w = allowed
    message = Message(kind=Kind.REQUEST, subject="S", body="B", link="/", key="same-event")
    first = notify([w.hub_carer, w.hub_carer], message, service=w.service)
    again = notify([w.hub_carer], message, service=w.service)
    assert [r.channel for r in first] == [Channel.IN_APP, Channel.EMAIL]
    assert again == []
    assert Notification.objects.filter(key="same-event").count() == 2


def test_quiet_hours_hold_back_email_until_they_end_but_never_a_crisis(allowed, clock):
    w = allowed
    save_choices(w.hub_carer, channels={}, quiet_from=time(22), quiet_until=time(7))
    clock.move_to(datetime(2027, 2, 10, 23, 30, tzinfo=LONDON))
    request = ask(w)
    email = Notification.objects.get(recipient=w.hub_carer, kind=Kind.REQUEST, channel="email")
    assert email.due_at == datetime(2027, 2, 11, 7, tzinfo=LONDON)
    assert app_rows(w.hub_carer, Kind.REQUEST).get().due_at == timezone.now()
    # The second hub carer has no quiet hours: at once.
    other = Notification.objects.get(
        recipient=w.second_hub_carer, kind=Kind.REQUEST, channel="email"
    )
    assert other.due_at == timezone.now()
    now = timezone.now()
    services.create_request(
        by=w.satellite_carer,
        kind="crisis",
        children=[w.child],
        start=now,
        end=now + timedelta(hours=3),
        crisis_reason="composure",
    )
    crisis = Notification.objects.get(recipient=w.hub_carer, kind=Kind.CRISIS, channel="email")
    assert crisis.due_at == now
    assert request.pk


def test_quiet_hours_end_at_the_wall_clock_hour_on_the_day_the_clocks_go_forward(allowed, clock):
    w = allowed
    save_choices(w.hub_carer, channels={}, quiet_from=time(22), quiet_until=time(7))
    clock.move_to(datetime(2027, 3, 28, 0, 30, tzinfo=LONDON))  # GMT; BST from 01:00 GMT
    allow_hub(w.child, by=w.liaison)
    ask(w)
    email = Notification.objects.get(recipient=w.hub_carer, kind=Kind.REQUEST, channel="email")
    assert timezone.localtime(email.due_at).strftime("%H:%M %Z") == "07:00 BST"


def test_a_channel_switched_off_is_not_used_and_the_app_always_is(allowed):
    w = allowed
    save_choices(w.hub_carer, channels={Kind.REQUEST: []}, quiet_from=None, quiet_until=None)
    ask(w)
    assert set(
        Notification.objects.filter(recipient=w.hub_carer, kind=Kind.REQUEST).values_list(
            "channel", flat=True
        )
    ) == {Channel.IN_APP}


def test_an_inactive_user_is_not_notified(allowed):
    w = allowed
    w.second_hub_carer.is_active = False
    w.second_hub_carer.save(update_fields=["is_active"])
    ask(w)
    assert not Notification.objects.filter(recipient=w.second_hub_carer).exists()


def test_every_row_belongs_to_the_service_of_its_event(allowed):
    w = allowed
    request = ask(w)
    services.accept(request, by=w.hub_carer)
    assert set(Notification.objects.values_list("service_id", flat=True)) == {w.service.pk}


def test_cover_arranged_tells_the_stand_in_the_hub_and_the_satellites(allowed):
    from constellation import services as people

    w = allowed
    household = f.satellite_in(w.constellation, name="The Fairweathers")
    people.update_household(household, by=None, beds=2)
    stand_in_carer = f.carer_of(household, email="stand-in@test.example")
    today = timezone.localdate()
    services.arrange_cover(
        w.constellation,
        by=w.liaison,
        stand_in=household,
        start=today + timedelta(days=2),
        end=today + timedelta(days=5),
    )
    for user in (stand_in_carer, w.hub_carer, w.satellite_carer, w.neighbour_carer):
        body = app_rows(user, Kind.COVER).get().body
        assert stand_in_carer.first_name in body
        assert "Fairweather" not in body
    assert not app_rows(w.liaison, Kind.COVER).exists()  # who arranged it
    assert not app_rows(w.other_satellite_carer, Kind.COVER).exists()


def test_an_approval_answered_tells_the_family_and_the_hub(clock, world):
    from delegated_authority import services as authority
    from delegated_authority.models import Approval
    from tests.sleepovers.test_whole_stay import social_worker_decides

    w = world
    social_worker_decides(w)  # the hub's acceptance waits for the social worker
    request = ask(w)
    services.accept(request, by=w.hub_carer)
    approval = Approval.objects.get(subject_id=request.pk, status="pending")
    assert app_rows(w.social_worker, Kind.APPROVAL).exists()
    authority.decide_approval(approval, by=w.social_worker, approve=True)
    assert "accepted" in app_rows(w.satellite_carer, Kind.ANSWER).first().body  # newest
    booked = app_rows(w.hub_carer, Kind.REQUEST_CHANGED).get()
    assert "approved: it is booked" in booked.body


def test_quiet_hours_ending_in_the_repeated_hour_end_at_the_one_still_to_come(allowed, clock):
    """On 31 October 2027 01:00 to 02:00 happens twice. Quiet until 01:30, asked at
    01:10 the second time (GMT): the email waits for 01:30 GMT, not an 01:30 BST
    already past."""
    from zoneinfo import ZoneInfo as Zone

    w = allowed
    save_choices(w.hub_carer, channels={}, quiet_from=time(22), quiet_until=time(1, 30))
    clock.move_to(datetime(2027, 10, 31, 1, 10, tzinfo=Zone("UTC")))  # 01:10 GMT
    allow_hub(w.child, by=w.liaison)
    ask(w)
    email = Notification.objects.get(recipient=w.hub_carer, kind=Kind.REQUEST, channel="email")
    assert email.due_at == datetime(2027, 10, 31, 1, 30, tzinfo=Zone("UTC"))
