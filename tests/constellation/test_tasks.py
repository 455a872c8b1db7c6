"""The constellation app's periodic tasks, run eagerly as beat would run them: each
calls its service, and a second run writes nothing new."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from constellation import services, tasks
from constellation.models import Activity, CheckIn, Child, FormerHouseholdAccess
from notifications.models import Channel, Kind, Notification

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def day0():
    """Today in London; noon on it while the world is built (list it before ``world``)."""
    today = timezone.localdate()
    with time_machine.travel(at(today, 0, 12), tick=False):
        yield today


def at(day0: date, days: int, hour: int) -> datetime:
    day = day0 + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def test_beat_runs_both_tasks():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in (tasks.end_former_access, tasks.send_contact_reminders):
        assert task.name in schedule
        assert task.name in celery_app.tasks


def test_the_reminders_task_writes_what_is_due_once(day0, world):
    w = world
    with time_machine.travel(at(day0, 0, 12), tick=False):
        services.record_check_in(
            w.satellite,
            by=w.hub_carer,
            occurred_at=at(day0, 0, 11),
            method=CheckIn.Method.VISIT,
        )
    with time_machine.travel(at(day0, 11, 7), tick=False):
        assert tasks.send_contact_reminders.delay().get() == 0  # before 08:00
    with time_machine.travel(at(day0, 11, 9), tick=False):
        written = tasks.send_contact_reminders.delay().get()
        assert written > 0
        assert tasks.send_contact_reminders.delay().get() == 0
    mine = Notification.objects.filter(
        recipient=w.hub_carer, kind=Kind.CONTACT_DUE, channel=Channel.IN_APP
    )
    assert "A check-in with The Ashfords is due" in set(mine.values_list("subject", flat=True))


def test_the_access_task_ends_a_former_household_s_grant_after_seven_days(day0, world):
    w = world
    services.move_child(w.child, to=w.neighbour, by=w.liaison, reason="A planned move", on=day0)
    grant = FormerHouseholdAccess.objects.get(child=w.child, household=w.satellite)
    full = Child.objects.full_records_for
    with time_machine.travel(at(day0, 7, 6), tick=False):
        assert tasks.end_former_access.delay().get() == 0
        assert full(w.satellite_carer).filter(pk=w.child.pk).exists()  # the last day
    with time_machine.travel(at(day0, 8, 0), tick=False):
        assert not full(w.satellite_carer).filter(pk=w.child.pk).exists()  # even before the task
        assert tasks.end_former_access.delay().get() == 1
        assert tasks.end_former_access.delay().get() == 0
    grant.refresh_from_db()
    assert grant.ended_at == at(day0, 8, 0)
    [row] = Activity.objects.filter(verb="access.ended")
    assert row.household == w.satellite
    assert list(row.children.all()) == [w.child]
    assert row.summary.startswith("The Ashfords no longer sees Mara's full record")
    assert "Quill" not in row.summary
