"""Faults in the alerts: what reaches whom, and when."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications.models import Channel, EscalationStep, Kind, Notification
from notifications.preferences import save_choices
from notifications.services import sweep
from notifications.services.outbox import Message, notify
from sleepovers import services
from tests import factories as f

LONDON = ZoneInfo("Europe/London")
NIGHT = datetime(2027, 2, 10, 2, 0, tzinfo=LONDON)


@pytest.fixture
def at_night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


def _phones(w):
    for user, phone in (
        (w.hub_carer, "07700 900111"),
        (w.second_hub_carer, "07700 900222"),
        (w.liaison, "07700 900333"),
        (w.satellite_carer, "07700 900444"),
    ):
        user.phone = phone
        user.save(update_fields=["phone"])


def raise_crisis(w, children):
    now = timezone.now()
    return services.create_request(
        by=w.satellite_carer,
        kind="crisis",
        children=children,
        start=now - timedelta(minutes=5),
        end=now + timedelta(hours=3),
        crisis_reason="composure",
    )


def test_crisis_sms_and_email_carry_no_child_surname(at_night, world, settings):
    """The household is named after its carers, and a child placed with them often
    shares that surname (the demo's Bradley Ashford of "The Ashfords"): the text
    message and email still name the household, so the child's surname leaves by SMS,
    email and push."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    w = world
    _phones(w)
    child = f.child_in(w.satellite, first_name="Bradley", last_name="Ashford")
    request = raise_crisis(w, [child])
    outside = Notification.objects.filter(target_id=request.pk).exclude(channel=Channel.IN_APP)
    assert outside.exists()
    leaked = [(n.channel, n.body) for n in outside if "Ashford" in n.body or "Ashford" in n.subject]
    assert not leaked, leaked


def test_a_deactivated_user_still_receives_a_message_kept_for_the_end_of_quiet_hours(
    at_night, world, settings, django_capture_on_commit_callbacks
):
    """A message held back by quiet hours is sent at their end even when the account
    was deactivated (or the carer left) in between: nothing re-checks the recipient
    at delivery (notifications/channels.py send_email / send_sms)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    w = world
    save_choices(w.neighbour_carer, channels={}, quiet_from=time(22), quiet_until=time(7))
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            [w.neighbour_carer],
            Message(
                kind=Kind.ANSWER,
                subject="Request accepted",
                body="The hub accepted your sleepover request.",
                link="/",
                key="break:deactivated",
            ),
            service=w.service,
        )
    assert Notification.objects.filter(key="break:deactivated", channel=Channel.EMAIL).exists()
    w.neighbour_carer.is_active = False
    w.neighbour_carer.save(update_fields=["is_active"])
    mail.outbox.clear()
    with time_machine.travel(datetime(2027, 2, 10, 7, 1, tzinfo=LONDON), tick=False):
        sweep()
    assert [m.to for m in mail.outbox] == [], "an email went to a deactivated account"


def test_a_crisis_the_hub_accepts_that_needs_approval_wakes_the_approver(
    at_night, world, settings, django_capture_on_commit_callbacks
):
    """A crisis the hub accepts but the child's delegated authority does not cover
    waits for an approval. The escalation stops (the hub has answered); the
    approver is woken at once by text, whatever their quiet hours, so the family's
    crisis does not wait for the morning."""
    w = world
    _phones(w)
    for user in (w.liaison, w.social_worker):
        save_choices(user, channels={}, quiet_from=time(22), quiet_until=time(7))
        user.phone = "07700 900999"
        user.save(update_fields=["phone"])
    with django_capture_on_commit_callbacks(execute=True):
        request = raise_crisis(w, [w.child])
    with django_capture_on_commit_callbacks(execute=True):
        accepted = services.accept(request, by=w.hub_carer, emergency=True)
    assert accepted.status == "awaiting_approval"
    assert not EscalationStep.objects.filter(
        alert__request=request, status=EscalationStep.Status.WAITING
    ).exists()
    approval_rows = Notification.objects.filter(kind=Kind.CRISIS_APPROVAL).exclude(
        channel=Channel.IN_APP
    )
    woken = approval_rows.filter(
        due_at__lte=timezone.now(), channel__in=[Channel.SMS, Channel.PUSH]
    )
    assert woken.exists(), list(approval_rows.values_list("destination", "channel", "due_at"))


def test_the_requester_is_told_the_hub_is_alerted_when_no_hub_carer_can_be(at_night, world, client):
    """With every carer of the hub deactivated, the crisis step to the hub reaches
    nobody, yet the requester reads "Sent: the hub is alerted now"."""
    w = world
    for u in (w.hub_carer, w.second_hub_carer):
        u.is_active = False
        u.save(update_fields=["is_active"])
    client.force_login(w.satellite_carer)
    response = client.post(
        "/sleepovers/crisis/",
        {"crisis_reason": "composure", "children": [w.child.pk], "notes": ""},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    step = EscalationStep.objects.get(step=0)
    assert step.status == EscalationStep.Status.PASSED_ON
    assert "the hub is alerted now" not in page
