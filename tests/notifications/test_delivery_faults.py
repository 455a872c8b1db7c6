"""A crisis alert survives what goes wrong around it: the broker down when the
request is made, a worker killed in the middle of a send, a provider that fails for
a while or for good, and an operator watching /healthz. Each alert is delivered,
and never twice.

Delivery runs eagerly here (the task body in this process); the channel is replaced
by a provider that records what it was asked to send."""

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from config.celery import app as celery_app
from notifications import channels, tasks
from notifications import services as outbox
from notifications.models import Channel, Notification
from notifications.services.outbox import CLAIM_TIMEOUT, MAX_ATTEMPTS
from sleepovers import services as sleepovers
from sleepovers.models import Request
from tests.conftest import build_world

LONDON = ZoneInfo("Europe/London")
NIGHT = datetime(2026, 1, 14, 2, 10, tzinfo=LONDON)
DEAD_BROKER = "redis://127.0.0.1:1/0"


class Provider:
    """Stands for the SMS and email providers: ``delivered`` lists the row of each
    message that went out; ``failure`` (an exception) is raised instead of sending."""

    def __init__(self):
        self.delivered: list[int] = []
        self.tried: list[int] = []
        self.failure: BaseException | None = None
        self.pause = 0.0
        self._lock = threading.Lock()

    def send(self, row) -> str:
        with self._lock:
            self.tried.append(row.pk)
        if self.pause:
            time.sleep(self.pause)
        if self.failure is not None:
            raise self.failure
        with self._lock:
            self.delivered.append(row.pk)
            return f"ref-{len(self.delivered)}"


@pytest.fixture
def provider(monkeypatch):
    provider = Provider()
    monkeypatch.setattr(channels, "send", provider.send)
    return provider


def _forget_broker_connections():
    # The producer pool keeps the connection it made first: drop it so that the next
    # publish connects to the broker now configured.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_unreachable():
    """Celery publishing to a broker nobody listens on, as when Redis is down."""
    conf = celery_app.conf
    saved = conf.broker_url
    conf.task_always_eager = False
    conf.broker_url = DEAD_BROKER
    _forget_broker_connections()
    try:
        yield
    finally:
        conf.broker_url = saved
        _forget_broker_connections()
        conf.task_always_eager = True


def crisis_world():
    world = build_world()
    world.hub_carer.phone = "07700 900201"
    world.second_hub_carer.phone = "07700 900202"
    world.liaison.phone = "07700 900301"
    for user in (world.hub_carer, world.second_hub_carer, world.liaison):
        user.save(update_fields=["phone"])
    return world


def ask_for_help(world, now: datetime) -> Request:
    return sleepovers.create_request(
        by=world.satellite_carer,
        kind="crisis",
        children=[world.child],
        start=now,
        end=now + timedelta(hours=4),
        crisis_reason="composure",
    )


def hub_alerts(request: Request) -> list[Notification]:
    return list(
        Notification.objects.filter(key=f"crisis:{request.pk}:0")
        .exclude(channel=Channel.IN_APP)
        .order_by("pk")
    )


def text_to(world, request: Request) -> Notification:
    """The first hub carer's text message of the crisis alert."""
    return Notification.objects.get(
        key=f"crisis:{request.pk}:0", recipient=world.hub_carer, channel=Channel.SMS
    )


# --- the broker down when the crisis is asked -----------------------------------------


def test_a_crisis_asked_while_the_broker_is_down_is_saved_and_delivered_once_it_returns(
    transactional_db, client, provider
):
    world = crisis_world()
    client.force_login(world.satellite_carer)
    # The clock ticks: the broker's connection timeout is measured on it.
    with time_machine.travel(NIGHT, tick=True), broker_unreachable():
        started = time.monotonic()
        response = client.post(
            reverse("sleepovers:crisis"),
            {"crisis_reason": "composure", "children": [world.child.pk], "notes": "Please"},
        )
        took = time.monotonic() - started
        request = Request.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("sleepovers:request", args=[request.pk])
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "the hub is alerted now" in page.content.decode()
    # A broker that refuses connections does not keep the family waiting.
    assert took < 10
    rows = hub_alerts(request)
    assert len(rows) == 4  # a text and an email to each hub carer
    assert {r.status for r in rows} == {Notification.Status.PENDING}
    # The alert in the app is there at once, whatever the broker.
    assert (
        Notification.objects.filter(key=f"crisis:{request.pk}:0", channel=Channel.IN_APP)
        .exclude(status=Notification.Status.SENT)
        .count()
        == 0
    )
    assert provider.tried == []

    # The broker is back: the next beat's sweep queues them, each goes out once.
    a_minute_later = NIGHT + timedelta(minutes=1)
    with time_machine.travel(a_minute_later, tick=False):
        assert outbox.sweep(now=a_minute_later) == 4
        assert outbox.sweep(now=a_minute_later) == 0
    assert sorted(provider.delivered) == sorted(r.pk for r in rows)
    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Notification.Status.SENT, 1)


# --- a worker killed in the middle of a send --------------------------------------------


class WorkerKilled(BaseException):
    """The worker process dies: nothing after the claim runs (not even ``except``)."""


def test_a_row_claimed_by_a_worker_that_died_is_sent_once_after_the_claim_timeout(db, provider):
    world = crisis_world()
    with time_machine.travel(NIGHT, tick=False) as clock:
        request = ask_for_help(world, NIGHT)
        row = text_to(world, request)
        provider.failure = WorkerKilled()
        with pytest.raises(WorkerKilled):
            tasks.deliver.apply(args=([row.pk],))
        provider.failure = None
        row.refresh_from_db()
        assert (row.status, row.claimed_at, row.attempts) == ("sending", NIGHT, 1)

        # Still within the claim: the worker may yet finish, so nobody sends it again.
        clock.move_to(NIGHT + CLAIM_TIMEOUT - timedelta(seconds=1))
        outbox.sweep()
        tasks.deliver.delay([row.pk])
        assert provider.delivered.count(row.pk) == 0
        row.refresh_from_db()
        assert row.status == Notification.Status.SENDING

        # The claim has run out: the next sweep sends it, once.
        clock.move_to(NIGHT + CLAIM_TIMEOUT + timedelta(seconds=1))
        outbox.sweep()
        outbox.sweep()
        tasks.deliver.delay([row.pk])
    assert provider.delivered.count(row.pk) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.SENT, 2)


def test_a_sent_text_is_never_sent_again_by_the_sweep_or_a_duplicate_task(db, provider):
    world = crisis_world()
    with time_machine.travel(NIGHT, tick=False) as clock:
        request = ask_for_help(world, NIGHT)
        row = text_to(world, request)
        tasks.deliver.delay([row.pk])
        tasks.deliver.delay([row.pk])  # the same task delivered twice by the broker
        for later in (timedelta(minutes=1), CLAIM_TIMEOUT * 2, timedelta(days=1)):
            clock.move_to(NIGHT + later)
            outbox.sweep()
            tasks.deliver.delay([row.pk])
        assert outbox.deliver(row.pk) is False
    assert provider.delivered.count(row.pk) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.SENT, 1)


@pytest.mark.postgres
def test_two_workers_delivering_the_same_text_at_once_send_it_once(
    requires_postgres, transactional_db, provider
):
    world = crisis_world()
    with time_machine.travel(NIGHT, tick=True):
        with broker_unreachable():
            request = ask_for_help(world, NIGHT)
        row = text_to(world, request)
        assert row.status == Notification.Status.PENDING
        provider.pause = 0.3  # a slow provider: the second worker arrives mid-send
        start = threading.Barrier(2)
        results: list[bool] = []

        def worker():
            try:
                start.wait()
                results.append(outbox.deliver(row.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(results) == [False, True]
    assert provider.tried.count(row.pk) == 1
    assert provider.delivered.count(row.pk) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.SENT, 1)


# --- a provider that fails --------------------------------------------------------------


def test_a_provider_failing_for_a_while_is_tried_again_later_and_later_then_the_row_fails(
    db, provider, django_capture_on_commit_callbacks
):
    world = crisis_world()
    provider.failure = TimeoutError("the SMS provider did not answer")
    with time_machine.travel(NIGHT, tick=False) as clock:
        request = ask_for_help(world, NIGHT)
        row = text_to(world, request)
        outbox.sweep()
        waits = []
        for attempt in range(1, MAX_ATTEMPTS):
            row.refresh_from_db()
            assert (row.status, row.attempts) == (Notification.Status.PENDING, attempt)
            assert row.last_error == "TimeoutError: the SMS provider did not answer"
            waits.append(row.due_at)
            # Not before its time...
            clock.move_to(row.due_at - timedelta(seconds=1))
            outbox.sweep()
            assert provider.tried.count(row.pk) == attempt
            # ...and at its time.
            clock.move_to(row.due_at)
            outbox.sweep()
            assert provider.tried.count(row.pk) == attempt + 1
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Notification.Status.FAILED, MAX_ATTEMPTS)
        assert row.last_error == "TimeoutError: the SMS provider did not answer"
        # Failed: the sweep leaves it for the admin.
        clock.move_to(NIGHT + timedelta(days=1))
        outbox.sweep()
        assert provider.tried.count(row.pk) == MAX_ATTEMPTS
        assert provider.delivered == []

        # The provider is back and the admin retries: it goes out, once.
        provider.failure = None
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox.retry(Notification.objects.filter(pk=row.pk)) == 1
        outbox.sweep()
    assert provider.delivered.count(row.pk) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Notification.Status.SENT, 1, "")
    # The waits between attempts double from 30 seconds and stop growing at 30 minutes.
    gaps = [round((b - a).total_seconds()) for a, b in pairwise([NIGHT, *waits])]
    assert gaps == [30, 60, 120, 240, 480, 960, 1800]


def test_a_number_the_provider_refuses_for_good_fails_at_once_until_the_admin_retries(
    db, provider, django_capture_on_commit_callbacks
):
    world = crisis_world()
    provider.failure = channels.PermanentFailure("not a mobile number")
    with time_machine.travel(NIGHT, tick=False) as clock:
        request = ask_for_help(world, NIGHT)
        row = text_to(world, request)
        outbox.sweep()
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Notification.Status.FAILED, 1)
        assert row.last_error == "not a mobile number"
        clock.move_to(NIGHT + timedelta(hours=1))
        outbox.sweep()
        assert provider.tried.count(row.pk) == 1

        provider.failure = None
        with django_capture_on_commit_callbacks(execute=True):
            outbox.retry(Notification.objects.filter(pk=row.pk))
    assert provider.delivered.count(row.pk) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Notification.Status.SENT, 1, "")


# --- /healthz ---------------------------------------------------------------------------


def test_healthz_answers_503_when_an_alert_has_waited_too_long(db, client, settings, provider):
    world = crisis_world()
    limit = settings.NOTIFICATIONS_MAX_DELAY_SECONDS
    with time_machine.travel(NIGHT, tick=False) as clock:
        ask_for_help(world, NIGHT)  # its alerts written, never queued: no worker runs

        clock.move_to(NIGHT + timedelta(seconds=limit))
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json()["notifications"]["oldest_due_seconds"] == limit

        clock.move_to(NIGHT + timedelta(seconds=limit + 1))
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["notifications"]["oldest_due_seconds"] == limit + 1

        # The worker is back and catches up: healthy again.
        outbox.sweep()
        response = client.get("/healthz")
        assert response.status_code == 200
        assert not response.json()["notifications"]["oldest_due_seconds"]


def test_healthz_answers_503_when_the_provider_has_kept_an_alert_back_too_long(
    db, client, settings, provider
):
    world = crisis_world()
    provider.failure = TimeoutError("the SMS provider did not answer")
    minutes = settings.NOTIFICATIONS_MAX_DELAY_SECONDS // 60 * 3
    with time_machine.travel(NIGHT, tick=False) as clock:
        request = ask_for_help(world, NIGHT)
        for minute in range(minutes + 1):  # beat's sweep, every minute
            clock.move_to(NIGHT + timedelta(minutes=minute))
            outbox.sweep()
        assert provider.delivered == []
        assert text_to(world, request).status == Notification.Status.PENDING
        # The hub's crisis text has not gone out for three times the limit.
        response = client.get("/healthz")
    assert response.status_code == 503
