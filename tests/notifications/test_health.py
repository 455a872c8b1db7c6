"""/healthz tells an operator when alerts are not going out: 503 once a due
notification has waited over five minutes (issue 9, "Operations")."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.models import Channel, Kind, Notification

NOW = datetime(2027, 2, 10, 2, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def due_sms(world):
    def write(waited: timedelta, status=Notification.Status.PENDING):
        return Notification.objects.create(
            service=world.service,
            recipient=world.hub_carer,
            destination=f"user:{world.hub_carer.pk}",
            channel=Channel.SMS,
            kind=Kind.CRISIS,
            subject="Crisis",
            body="Crisis request: open the app",
            key=f"health-{waited}-{status}",
            due_at=NOW - waited,
            status=status,
        )

    return write


@pytest.mark.django_db
def test_healthy_with_nothing_waiting(client):
    with time_machine.travel(NOW, tick=False):
        body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["notifications"]["oldest_due_seconds"] is None


def test_a_due_alert_waiting_five_minutes_is_still_healthy(client, due_sms):
    due_sms(timedelta(minutes=5))
    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["notifications"]["oldest_due_seconds"] == 300


def test_a_due_alert_waiting_longer_answers_503_but_the_web_check_stays_up(client, due_sms):
    due_sms(timedelta(minutes=5, seconds=1))
    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")
        web = client.get("/healthz", {"scope": "web"})
    assert response.status_code == 503
    assert response.json()["notifications"]["oldest_due_seconds"] == 301
    assert web.status_code == 200


def test_sent_and_failed_rows_and_rows_due_later_do_not_count(client, due_sms):
    due_sms(timedelta(hours=1), status=Notification.Status.SENT)
    due_sms(timedelta(hours=2), status=Notification.Status.FAILED)
    due_sms(-timedelta(hours=8))  # quiet hours: due in the morning
    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["notifications"]["oldest_due_seconds"] is None
