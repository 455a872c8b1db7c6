"""A crisis alert leaves by a real Celery worker on Redis: the hub carers' texts and
emails are sent as soon as the request is made, and when nobody has answered after
the constellation's escalation minutes the liaison worker is alerted too.

The worker runs in its own process on its own queue against the test database; the
beat is played by calling the sweep with the clock moved on, as beat would a minute
later. Texts go through the console SMS backend, which appends one line per text
(tab-separated: time, phone, reference, text) to the worker's ``sms.log``."""

import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from config.celery import app as celery_app
from notifications import services as outbox
from notifications.models import Channel, Notification
from sleepovers import services as sleepovers
from tests.conftest import build_world

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
# A winter night long past: the worker compares due times with its own clock, so
# everything the test writes is already due for it.
NIGHT = datetime(2026, 1, 14, 2, 10, tzinfo=LONDON)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


class Worker:
    """A Celery worker subprocess consuming one queue of its own."""

    def __init__(self, var_dir: Path, log_path: Path):
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.sms_log = var_dir / "sms.log"
        self.log_path = log_path
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "VAR_DIR": str(var_dir),
            "SMS_BACKEND": "console",
            "EMAIL_URL": "consolemail://",
        }
        # A file, not a pipe: a pipe nobody reads fills up and stops the worker.
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own worker
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                self.queue,
                "--concurrency=1",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def texts(self) -> list[list[str]]:
        if not self.sms_log.exists():
            return []
        return [line.split("\t") for line in self.sms_log.read_text().splitlines() if line]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def worker(requires_postgres, requires_redis, transactional_db, tmp_path):
    """A real worker; tasks this test process queues go to its queue."""
    worker = Worker(tmp_path / "var", tmp_path / "worker.log")
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = worker.queue
    try:
        yield worker
    finally:
        celery_app.conf.task_default_queue = default_queue
        celery_app.conf.task_always_eager = True
        worker.stop()
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(worker.queue)


def wait_until_sent(rows, worker: Worker, seconds: float = 60) -> list[Notification]:
    pks = [r.pk for r in rows]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = list(Notification.objects.filter(pk__in=pks).order_by("pk"))
        if all(r.status == Notification.Status.SENT for r in now):
            return now
        if worker.process.poll() is not None:
            break
        time.sleep(0.2)
    states = {r.pk: (r.status, r.last_error) for r in Notification.objects.filter(pk__in=pks)}
    pytest.fail(f"not sent by the worker: {states}\n--- worker ---\n{worker.output()}")


def by_text(rows) -> list[Notification]:
    return [r for r in rows if r.channel == Channel.SMS]


def test_a_crisis_reaches_the_hub_by_the_worker_and_then_the_liaison_worker(worker):
    world = build_world()
    world.hub_carer.phone = "07700 900201"
    world.second_hub_carer.phone = "07700 900202"
    world.liaison.phone = "07700 900301"
    for user in (world.hub_carer, world.second_hub_carer, world.liaison):
        user.save(update_fields=["phone"])

    with time_machine.travel(NIGHT, tick=False):
        request = sleepovers.create_request(
            by=world.satellite_carer,
            kind="crisis",
            children=[world.child],
            start=NIGHT,
            end=NIGHT + timedelta(hours=4),
            crisis_reason="composure",
        )
    hub_rows = list(Notification.objects.filter(key=f"crisis:{request.pk}:0"))
    outgoing = [r for r in hub_rows if r.channel != Channel.IN_APP]
    # Each hub carer: a text and an email (push is not configured here).
    assert sorted((r.recipient_id, r.channel) for r in outgoing) == sorted(
        (u.pk, c)
        for u in (world.hub_carer, world.second_hub_carer)
        for c in (Channel.SMS, Channel.EMAIL)
    )

    # Nobody calls the sweep: the task queued when the request committed is enough.
    delivered = wait_until_sent(outgoing, worker)
    assert all(r.attempts == 1 and r.sent_at is not None for r in delivered)
    texts = worker.texts()
    assert sorted(t[1] for t in texts) == ["07700 900201", "07700 900202"]
    assert {t[2] for t in texts} == {f"notification-{r.pk}" for r in by_text(outgoing)}
    asker = world.satellite_carer.first_name
    assert all(f"Crisis request from {asker}" in t[3] for t in texts)
    assert not Notification.objects.filter(recipient=world.liaison).exists()

    # Nine minutes on, still unanswered: the beat's sweep alerts nobody new.
    with time_machine.travel(NIGHT + timedelta(minutes=9), tick=False):
        outbox.sweep(now=NIGHT + timedelta(minutes=9))
    assert not Notification.objects.filter(recipient=world.liaison).exists()

    # Past the ten escalation minutes: the liaison worker, and the hub again by text.
    later = NIGHT + timedelta(minutes=10, seconds=30)
    with time_machine.travel(later, tick=False):
        outbox.sweep(now=later)
    escalated = list(
        Notification.objects.filter(key=f"crisis:{request.pk}:1").exclude(channel=Channel.IN_APP)
    )
    assert sorted((r.recipient_id, r.channel) for r in escalated) == sorted(
        [
            (world.liaison.pk, Channel.SMS),
            (world.liaison.pk, Channel.EMAIL),
            (world.hub_carer.pk, Channel.SMS),
            (world.second_hub_carer.pk, Channel.SMS),
        ]
    )
    assert Notification.objects.get(
        key=f"crisis:{request.pk}:1", recipient=world.liaison, channel=Channel.IN_APP
    ).status == (Notification.Status.SENT)

    delivered = wait_until_sent(escalated, worker)
    assert all(r.attempts == 1 for r in delivered)
    texts = worker.texts()
    to_liaison = [t for t in texts if t[1] == "07700 900301"]
    assert len(to_liaison) == 1
    assert "no answer from the hub for 10 minutes" in to_liaison[0][3]
    # Every text was sent once: one line per text row, none twice.
    references = [t[2] for t in texts]
    assert sorted(references) == sorted(
        f"notification-{r.pk}" for r in by_text(outgoing) + by_text(escalated)
    )
