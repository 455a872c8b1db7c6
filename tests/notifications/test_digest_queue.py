"""The liaison worker's weekly digest carries the desk's queue as counts: open concerns,
households past the red threshold, follow-ups overdue and approvals waiting, read
through ``constellation.selectors.queue``. Counts only: no child's or household's name
reaches the outbox (an email, a text message, a push)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from constellation.models import CheckIn, Concern
from constellation.services import concerns, contact
from delegated_authority import services as authority
from delegated_authority.models import Decision
from notifications.models import Channel, Kind, Notification
from notifications.services import reminders
from tests.sleepovers.helpers import allow_hub

LONDON = ZoneInfo("Europe/London")
# The world is built on a Monday; three weeks on, every household never contacted is
# past the red threshold (14 days).
BUILT = datetime(2027, 2, 1, 9, tzinfo=LONDON)
THREE_WEEKS_ON = datetime(2027, 2, 22, 9, tzinfo=LONDON)  # a Monday, after 08:00


@pytest.fixture
def clock():
    with time_machine.travel(BUILT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def busy(clock, world):
    """In Riverside: one open concern about the Ashfords, the Brookes contacted with a
    follow-up that falls overdue, an approval waiting on the liaison worker."""
    w = world
    allow_hub(w.child, by=w.liaison)
    concerns.open_concern_by_hand(
        w.satellite,
        by=w.hub_carer,
        reasons=[Concern.Reason.CANNOT_COPE],
        children=[w.child],
    )
    authority.request_approval(
        w.child, Decision.objects.get(code="haircuts"), by=w.satellite_carer, details="A trim"
    )
    clock.move_to(THREE_WEEKS_ON - timedelta(days=2))
    contact.record_check_in(
        w.neighbour,
        by=w.hub_carer,
        occurred_at=timezone.now() - timedelta(hours=1),
        method=CheckIn.Method.PHONE,
        note="All well",
        follow_ups=[
            contact.FollowUpInput(
                action="Send the school holiday dates",
                due_on=timezone.localdate(),
                assigned_to=w.hub_carer,
            )
        ],
    )
    clock.move_to(THREE_WEEKS_ON)
    return w


def digest_of(user):
    rows = Notification.objects.filter(recipient=user, kind=Kind.DIGEST, channel=Channel.IN_APP)
    return rows.order_by("-created_at").first()


def test_the_digest_counts_what_waits_on_the_liaison_worker(busy):
    w = busy
    reminders.send_due()
    body = digest_of(w.liaison).body
    assert "Waiting on you: 1 open concern, 1 household past red, 1 follow-up overdue, " in body
    assert "1 approval to answer." in body
    assert digest_of(w.liaison).link == reverse("constellation:desk")


def test_the_digest_names_no_child_and_no_household(busy, settings):
    w = busy
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminders.send_due()
    rows = Notification.objects.filter(recipient=w.liaison, kind=Kind.DIGEST)
    assert rows.exists()
    for row in rows:
        text = f"{row.subject} {row.body}"
        for name in ("Amara", "Mara", "Quill", "Ashfords", "Brookes", "holiday dates"):
            assert name not in text, (row.channel, name)


def test_another_constellations_liaison_worker_counts_none_of_it(busy):
    w = busy
    reminders.send_due()
    other = digest_of(w.other_liaison).body
    # Hillside's own household was never contacted either: that is theirs to count.
    assert "0 open concerns" in other
    assert "0 follow-ups overdue" in other
    assert "0 approvals to answer" in other
    assert "1 household past red" in other


def test_next_weeks_digest_counts_what_was_resolved_as_gone(busy, clock):
    w = busy
    reminders.send_due()
    concern = Concern.objects.get(household=w.satellite)
    concerns.close_concern(concern, by=w.liaison, note="Respite arranged; met the family")
    follow_up = w.neighbour.check_ins.get().follow_ups.get()
    contact.resolve_follow_up(follow_up, by=w.hub_carer, resolution="Sent by email")
    contact.record_check_in(
        w.satellite,
        by=w.hub_carer,
        occurred_at=timezone.now() - timedelta(minutes=5),
        method=CheckIn.Method.VISIT,
    )
    clock.move_to(THREE_WEEKS_ON + timedelta(days=7))
    reminders.send_due()
    assert digest_of(w.liaison).body.endswith(
        "Waiting on you: 0 open concerns, 0 households past red, 0 follow-ups overdue, "
        "1 approval to answer."
    )
    assert Notification.objects.filter(recipient=w.liaison, kind=Kind.DIGEST).count() >= 2


def test_the_digest_is_written_once_a_week_whatever_the_ticks(busy, django_assert_max_num_queries):
    w = busy
    reminders.weekly_digests(timezone.now())
    # Later ticks of the same week find the digest written and count nothing again.
    with django_assert_max_num_queries(3):
        assert reminders.weekly_digests(timezone.now()) == 0
    assert (
        Notification.objects.filter(
            recipient=w.liaison, kind=Kind.DIGEST, channel=Channel.IN_APP
        ).count()
        == 1
    )


def test_a_full_queue_is_counted_as_fifty_or_more():
    assert reminders._waiting([0] * 50, "open concern", "open concerns") == (
        "50 or more open concerns"
    )
    assert reminders._waiting([0] * 49, "open concern", "open concerns") == "49 open concerns"
    assert reminders._waiting([], "follow-up", "follow-ups", " overdue") == "0 follow-ups overdue"
