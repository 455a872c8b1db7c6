"""No email, SMS or push holds a child's surname, allergy, medication or need: they
travel through third parties and land on shared phones (issue 9, "Privacy")."""

import json
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constellation import services as people
from constellation.models import HubCover
from delegated_authority import services as authority
from delegated_authority.models import Decision
from notifications import channels
from notifications.models import Channel, Notification, PushSubscription
from notifications.services import escalation, reminders, sweep
from sleepovers import services
from sleepovers.models import Request
from tests import factories as f
from tests.sleepovers.helpers import allow_hub

LONDON = ZoneInfo("Europe/London")
NIGHT = datetime(2027, 2, 10, 2, 0, tzinfo=LONDON)

# Words that cannot turn up by chance in a message's own text.
secret = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=6, max_size=12).map(lambda s: "Zq" + s)


def outgoing_texts(rows) -> list[str]:
    """What leaves the application for each row: the email (both parts and the
    subject), the SMS text, the push payload."""
    texts = []
    with mock.patch("pywebpush.webpush") as push:
        for row in rows:
            if row.channel == Channel.EMAIL:
                mail.outbox = []
                channels.send(row)
                message = mail.outbox[0]
                texts += [message.subject, message.body]
                texts += [content for content, _ in message.alternatives]
            elif row.channel == Channel.SMS:
                texts.append(channels.sms_text(row.body, channels.absolute_link(row.link)))
            elif row.channel == Channel.PUSH:
                channels.send(row)
        texts += [
            json.dumps(call.kwargs.get("data") or call.args[1:2]) for call in push.call_args_list
        ]
    return texts


def everything_happens(world, surname):
    """A crisis escalated to the duty contact and seen; planned requests accepted,
    declined and offered; an approval asked and decided; cover arranged; a limits
    exception; reminders and the digest."""
    now = timezone.now()
    crisis = services.create_request(
        by=world.satellite_carer,
        kind="crisis",
        children=[world.child],
        start=now,
        end=now + timedelta(hours=3),
        crisis_reason="composure",
    )
    with time_machine.travel(now + timedelta(minutes=31), tick=False):
        sweep()
    escalation.seen(crisis, by=world.hub_carer)
    requests = []
    for days in (2, 4, 6):
        start = timezone.localtime(now).replace(hour=17, minute=0) + timedelta(days=days)
        requests.append(
            services.create_request(
                by=world.satellite_carer,
                kind="planned",
                children=[world.child],
                start=start,
                end=start + timedelta(hours=17),
            )
        )
    services.accept(requests[0], by=world.hub_carer)
    services.decline(requests[1], by=world.hub_carer, reason="Away")
    offered = timezone.localtime(now).replace(hour=17, minute=0) + timedelta(days=8)
    services.offer(
        requests[2], by=world.hub_carer, start=offered, end=offered + timedelta(hours=17)
    )
    approval = authority.request_approval(
        world.child, Decision.objects.get(code="haircuts"), by=world.satellite_carer
    )
    authority.decide_approval(approval, by=approval.assigned_to or world.liaison, approve=True)
    today = timezone.localdate()
    services.grant_override(
        world.constellation,
        by=world.liaison,
        child=world.child,
        start=today + timedelta(days=10),
        end=today + timedelta(days=12),
        reason="Respite over half term",
    )
    household = f.satellite_in(world.constellation, name=f"The {surname}s {now:%H%M%S%f}")
    people.update_household(household, by=None, beds=2)
    f.carer_of(household, last_name=surname)
    services.arrange_cover(
        world.constellation,
        by=world.liaison,
        stand_in=household,
        start=today + timedelta(days=20),
        end=today + timedelta(days=22),
    )
    with time_machine.travel(now + timedelta(days=2, hours=18), tick=False):
        reminders.send_due()


@pytest.fixture
def night_world(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.VAPID_PUBLIC_KEY = "public"
    settings.VAPID_PRIVATE_KEY = "private"
    # No push service is ever called from a test: deliveries made during the
    # events are recorded by this mock; the texts are read again below.
    with time_machine.travel(NIGHT, tick=False), mock.patch("pywebpush.webpush"):
        allow_hub(world.child, by=world.liaison)
        for user, phone in ((world.hub_carer, "07700900111"), (world.liaison, "07700900333")):
            user.phone = phone
            user.save(update_fields=["phone"])
            PushSubscription.objects.create(
                user=user,
                endpoint=f"https://push.example.net/{user.pk}",
                p256dh="key",
                auth="auth",
            )
        world.satellite_carer.phone = "07700900444"
        world.satellite_carer.save(update_fields=["phone"])
        world.service.out_of_hours_phone = "01632960000"
        world.service.out_of_hours_email = "duty@northshire.example"
        world.service.save()
        yield world


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(surname=secret, allergy=secret, medication=secret, need=secret)
def test_no_message_that_leaves_holds_a_childs_surname_or_health_detail(
    night_world, surname, allergy, medication, need
):
    w = night_world
    w.child.last_name = surname
    w.child.allergies = f"Allergic to {allergy}"
    w.child.medication_notes = f"Takes {medication} at night"
    w.child.needs = f"Needs {need} to settle"
    w.child.save()
    # In kinship care the child shares the family's surname, and the household is
    # called after it: messages must name neither.
    w.satellite.name = f"The {surname}s"
    w.satellite.save()
    w.satellite_carer.last_name = surname
    w.satellite_carer.save(update_fields=["last_name"])
    start = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with time_machine.travel(NIGHT, tick=False):
        # Each example is a fresh night of events: the earlier ones are cancelled.
        for earlier in Request.objects.filter(status__in=["requested", "accepted", "offered"]):
            services.cancel(earlier, by=w.satellite_carer, reason="Another example")
        HubCover.objects.filter(constellation=w.constellation).update(withdrawn_at=NIGHT)
        everything_happens(w, surname)
    rows = list(
        Notification.objects.filter(pk__gt=start)
        .exclude(channel=Channel.IN_APP)
        .select_related("recipient")
    )
    assert {r.channel for r in rows} >= {Channel.EMAIL, Channel.SMS, Channel.PUSH}
    texts = outgoing_texts(rows)
    assert texts
    for text in texts:
        for word in (surname, allergy, medication, need):
            assert word not in text
    # The in-app centre keeps to the same words.
    for row in Notification.objects.filter(pk__gt=start, channel=Channel.IN_APP):
        for word in (surname, allergy, medication, need):
            assert word not in row.subject + row.body
