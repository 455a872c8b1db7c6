"""Benchmark: how soon a crisis request's text message reaches the hub.

A constellation with a hub of two carers (each with a phone) and a few satellite
households; a real Celery worker (a subprocess, concurrency 2, as in ``make run``);
then 200 crisis requests asked one after another, each a fresh request. For each,
the time from ``create_request`` returning (its transaction committed, the delivery
task queued) to the ``sent_at`` of the first hub carer's text message, written by
the worker once the console SMS backend has taken it: the median and the 95th
percentile. And the delivery throughput: every text and email of those alerts
(four per request), over the run, per second. Then a backlog: 100 more crisis
requests asked as if the broker were down (their rows written, no task queued), and
one sweep, as beat runs when the broker returns: how fast the worker drains it.

    BENCH_DATABASE_URL=postgres://.../bench REDIS_URL=redis://.../5 \\
        .venv/bin/python bench/alerts.py --broker redis
    .venv/bin/python bench/alerts.py --broker filesystem   # SQLite, no server at all

``--broker redis`` uses ``REDIS_URL``; ``--broker filesystem`` is the embedded
default of ``make run`` (kombu's filesystem broker under a throw-away var folder).
Either way the database is a throw-away one named by ``BENCH_DATABASE_URL`` or
SQLite in that folder (SQLite refuses the requester's write with "database is locked"
while the worker's two processes write: use PostgreSQL). ``--polling-interval``
tries another interval for the worker's polls of the filesystem broker. It prints
small markdown tables."""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--broker", choices=["redis", "filesystem"], default="filesystem")
parser.add_argument("--requests", type=int, default=200)
parser.add_argument(
    "--backlog", type=int, default=100, help="requests asked while the broker is down"
)
parser.add_argument("--concurrency", type=int, default=2)
parser.add_argument(
    "--polling-interval",
    type=float,
    default=None,
    help="seconds between the worker's polls of the filesystem broker (settings: 0.1)",
)
parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for delivery")
ARGS = parser.parse_args()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Never the real database: a throw-away one named by BENCH_DATABASE_URL, or SQLite.
os.environ.pop("DATABASE_URL", None)
if os.environ.get("BENCH_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
if ARGS.broker == "redis":
    if not os.environ.get("REDIS_URL"):
        sys.exit("--broker redis needs REDIS_URL")
else:
    os.environ.pop("REDIS_URL", None)
# The worker shares this folder: the SQLite file, the filesystem broker, sms.log.
os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="mockingbird-bench-alerts-")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
os.environ["SMS_BACKEND"] = "console"
os.environ["EMAIL_URL"] = "dummymail://"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
# The filesystem broker keeps its control exchange in "control/" under the working
# folder: the throw-away one, not the checkout.
os.chdir(os.environ["VAR_DIR"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.celery import app as celery_app  # noqa: E402

REASONS = ["composure", "drop_off", "pick_up", "carer_health", "other"]


def build(tag: str):
    """A service of its own (the database may hold earlier runs): a constellation,
    its hub with two carers with phones, three satellites with a child each."""
    from constellation import services as people
    from people.models import StaffRole
    from tests import factories as f

    service = f.ServiceFactory(name=f"Bench service {tag}")
    constellation = f.ConstellationFactory(service=service, name=f"Bench {tag}")
    hub = f.hub_for(constellation, name="Bench Hub", beds=3)
    hub_carers = [
        f.carer_of(hub, email=f"hub-{tag}@bench.example", phone="07700 900501"),
        f.carer_of(hub, role="second", email=f"hub2-{tag}@bench.example", phone="07700 900502"),
    ]
    liaison = f.staff(service, StaffRole.Role.LIAISON, email=f"liaison-{tag}@bench.example")
    people.assign_liaison(constellation, liaison, by=None)
    askers = []
    for n in range(3):
        satellite = f.satellite_in(constellation, name=f"Satellite {n}")
        carer = f.carer_of(satellite, email=f"sat{n}-{tag}@bench.example")
        askers.append((carer, f.child_in(satellite, first_name=f"Child{n}")))
    return hub_carers, askers


def stop_alerts() -> int:
    """Stop every crisis alert still escalating (earlier runs' in the same database),
    so that only this run's rows are delivered while it is measured."""
    from notifications.models import EscalationStep
    from notifications.services import escalation
    from sleepovers.models import Request

    waiting = EscalationStep.objects.filter(status=EscalationStep.Status.WAITING)
    requests = Request.objects.filter(crisis_alert__steps__in=waiting).distinct()
    for request in requests:
        escalation.stop(request, reason="benchmark over")
    return len(requests)


def start_worker(queue: str, log: Path) -> subprocess.Popen:
    argv = [
        "worker",
        "-Q",
        queue,
        f"--concurrency={ARGS.concurrency}",
        "--loglevel=WARNING",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    if ARGS.polling_interval is None:
        command = [sys.executable, "-m", "celery", "-A", "config", *argv]
    else:
        # The settings' transport options with another polling interval.
        command = [
            sys.executable,
            "-c",
            "import sys; from config.celery import app; "
            "app.conf.broker_transport_options = {**app.conf.broker_transport_options, "
            f"'polling_interval': {ARGS.polling_interval!r}}}; app.worker_main(sys.argv[1:])",
            *argv,
        ]
    return subprocess.Popen(  # noqa: S603 - our own worker
        command,
        cwd=os.environ["VAR_DIR"],
        env=os.environ.copy(),
        stdout=open(log, "wb"),  # noqa: SIM115 - the worker's, closed when it exits
        stderr=subprocess.STDOUT,
    )


def ask(carer, child, n: int):
    from sleepovers import services as sleepovers

    now = timezone.now()
    return sleepovers.create_request(
        by=carer,
        kind="crisis",
        children=[child],
        start=now,
        end=now + timedelta(hours=3),
        crisis_reason=REASONS[n % len(REASONS)],
    )


def wait_sent(keys: list[str], deadline: float) -> None:
    from notifications.models import Channel, Notification

    waiting = Notification.objects.filter(key__in=keys).exclude(channel=Channel.IN_APP)
    while time.monotonic() < deadline:
        left = waiting.exclude(status=Notification.Status.SENT).count()
        if not left:
            return
        time.sleep(0.2)
    raise SystemExit(f"{left} notification(s) not sent before the timeout")


def drain_backlog(askers) -> tuple[int, int, float]:
    """Crisis requests asked while the broker is down, then one sweep: returns the
    requests, their rows and the seconds from the sweep to the last one sent."""
    from notifications import services as notifications
    from notifications.models import Channel, Notification
    from notifications.services import outbox

    queue = outbox.queue
    outbox.queue = lambda ids: False  # what ``queue`` answers when the broker is down
    try:
        keys = [f"crisis:{ask(*askers[n % len(askers)], n).pk}:0" for n in range(ARGS.backlog)]
    finally:
        outbox.queue = queue
    rows = Notification.objects.filter(key__in=keys).exclude(channel=Channel.IN_APP)
    started = timezone.now()
    notifications.sweep()
    wait_sent(keys, time.monotonic() + ARGS.timeout)
    last = max(rows.values_list("sent_at", flat=True))
    return len(keys), rows.count(), (last - started).total_seconds()


def memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def main() -> None:
    from notifications.models import Channel, Notification

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    stop_alerts()
    tag = uuid.uuid4().hex[:6]
    hub_carers, askers = build(tag)
    queue = f"bench-{tag}"
    celery_app.conf.task_default_queue = queue
    log = Path(os.environ["VAR_DIR"]) / "worker.log"
    worker = start_worker(queue, log)
    try:
        # Warm up: the worker's start, the first connections, the templates.
        warm = ask(*askers[0], 0)
        wait_sent([f"crisis:{warm.pk}:0"], time.monotonic() + 120)

        committed, keys = {}, []
        started = time.perf_counter()
        first_commit = timezone.now()
        for n in range(ARGS.requests):
            carer, child = askers[n % len(askers)]
            request = ask(carer, child, n)
            committed[request.pk] = timezone.now()
            keys.append(f"crisis:{request.pk}:0")
        asking = time.perf_counter() - started
        wait_sent(keys, time.monotonic() + ARGS.timeout)
        backlog, backlog_rows, drain = drain_backlog(askers)
    finally:
        stop_alerts()
        worker.terminate()
        worker.wait(timeout=60)
    if ARGS.broker == "redis":
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(queue)

    texts = Notification.objects.filter(
        key__in=keys, channel=Channel.SMS, recipient=hub_carers[0]
    ).values_list("target_id", "sent_at")
    latencies = sorted((sent - committed[pk]).total_seconds() * 1000 for pk, sent in texts)
    rows = Notification.objects.filter(key__in=keys).exclude(channel=Channel.IN_APP)
    sent_at = sorted(rows.values_list("sent_at", flat=True))
    span = (sent_at[-1] - first_commit).total_seconds()
    twice = rows.filter(attempts__gt=1).count()

    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18]
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores (nproc), "
        f"{memory_gb():.1f} GB RAM, Python {platform.python_version()}"
    )
    print(f"date: {timezone.localtime():%Y-%m-%d %H:%M %Z}")
    print(
        f"broker: {ARGS.broker} ({settings.CELERY_BROKER_URL.split('://')[0]}), "
        f"database: {connection.vendor}, worker concurrency {ARGS.concurrency}"
        + (
            f", polling interval {ARGS.polling_interval:g} s"
            if ARGS.polling_interval is not None
            else ""
        )
    )
    print()
    print(
        "| broker | database | crisis requests | asking took (s) | commit to hub text sent: "
        "median (ms) | p95 (ms) | max (ms) | rows sent | rows/s | tried twice |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {ARGS.broker} | {connection.vendor} | {len(latencies)} | {asking:.1f} | "
        f"{statistics.median(latencies):.0f} | {p95:.0f} | {latencies[-1]:.0f} | "
        f"{len(sent_at)} | {len(sent_at) / span:.1f} | {twice} |"
    )
    print()
    print("| broker | backlog (crisis requests) | rows | drained in (s) | rows/s |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| {ARGS.broker} | {backlog} | {backlog_rows} | {drain:.1f} | {backlog_rows / drain:.1f} |"
    )


if __name__ == "__main__":
    main()
