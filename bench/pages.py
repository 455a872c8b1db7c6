"""Benchmark: the pages a hub carer opens in the night, as a ratio to the login page.

At 1x (1,000 requests to one hub over a year, 660 of them still open, most of those
in the past) and at 10x (10,000 requests, 6,600 open), the median time of the login
page (a trivial page of the same app), the hub's inbox, the hub's home page, a
request's page and the nights month view, each over the same number of loads with
the test client. The goal: every page within 3 times the login page at any size.

    make bench                                           # SQLite in a throw-away folder
    BENCH_DATABASE_URL=postgres://.../inbox_db make bench  # a throw-away PostgreSQL database

It prints the table that goes into the README's performance section."""

import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
# Never the real database: a throw-away one named by BENCH_DATABASE_URL, or SQLite.
os.environ.pop("DATABASE_URL", None)
if os.environ.get("BENCH_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="mockingbird-bench-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

REQUESTS = 1000  # at 1x, over a year
OPEN_SHARE = 0.66  # of them still open (requested, awaiting approval or offered)
PAST_SHARE = 0.8  # of the requests, starting before today
REPEATS = int(os.environ.get("BENCH_REPEATS", "15"))
GOAL = 3.0


def build(scale: int, already: int) -> int:
    """Add requests to the Riverside hub until it has ``REQUESTS * scale``, spread
    over the year around today; returns how many there are now."""
    from constellation.models import Carer, Child, Constellation
    from sleepovers.models import CrisisReason, Kind, Night, Request, Status

    constellation = Constellation.objects.get(name="Riverside")
    hub = constellation.hub
    children = list(
        Child.objects.filter(
            household__memberships__constellation=constellation,
            household__memberships__status="active",
        )
    )
    requesters = {
        c.household_id: Carer.objects.current().filter(household_id=c.household_id).first().user
        for c in children
    }
    rng = random.Random(7 + scale)
    today = timezone.localdate()
    total = REQUESTS * scale
    first_day = today - timedelta(days=int(365 * PAST_SHARE))
    rows, kids, stays = [], [], []
    for i in range(already, total):
        child = rng.choice(children)
        day = first_day + timedelta(days=i * 365 // total)
        start = timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 17))
        crisis = rng.random() < 0.02
        nights = rng.choice([1, 1, 2])
        if rng.random() < OPEN_SHARE:
            status = rng.choice([Status.REQUESTED] * 8 + [Status.AWAITING_APPROVAL, Status.OFFERED])
        else:
            status = rng.choice([Status.ACCEPTED, Status.DECLINED, Status.CANCELLED])
        rows.append(
            Request(
                constellation=constellation,
                hub=hub,
                household_id=child.household_id,
                requested_by=requesters[child.household_id],
                kind=Kind.CRISIS if crisis else Kind.PLANNED,
                crisis_reason=CrisisReason.DROP_OFF if crisis else "",
                status=status,
                start=start,
                end=start + timedelta(days=nights, hours=-7),
                notes="We would be grateful for a night." if rng.random() < 0.3 else "",
                created_at=start - timedelta(days=7),
            )
        )
        kids.append(child)
    Request.objects.bulk_create(rows, batch_size=500)
    Through = Request.children.through
    Through.objects.bulk_create(
        [Through(request_id=r.pk, child_id=c.pk) for r, c in zip(rows, kids, strict=True)],
        batch_size=500,
    )
    # The accepted stays hold their nights (beds may run over: this is a load, not a rule).
    for r, c in zip(rows, kids, strict=True):
        if r.status == Status.ACCEPTED:
            stays.extend(Night(hub=hub, date=d, request=r, child=c) for d in r.nights)
    Night.objects.bulk_create(stays, batch_size=500, ignore_conflicts=True)
    return total


def median_ms(client: Client, url: str, params=None) -> float:
    client.get(url, params or {})  # warm: templates and the first connection
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        response = client.get(url, params or {})
        times.append(time.perf_counter() - t)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times) * 1000


def measure() -> dict[str, float]:
    from constellation.models import Constellation
    from people.models import User
    from sleepovers.models import OPEN, Request

    hub = Constellation.objects.get(name="Riverside").hub
    hub_carer = User.objects.get(email="hub@example.org")
    anonymous = Client()
    client = Client()
    client.force_login(hub_carer)
    today = timezone.localdate()
    waiting = (
        Request.objects.filter(status__in=OPEN, hub=hub)
        .order_by("start")
        .values_list("pk", flat=True)
    )
    one = waiting[len(waiting) // 2]
    return {
        "login page": median_ms(anonymous, reverse("account_login")),
        "hub inbox": median_ms(client, reverse("sleepovers:index")),
        "hub home": median_ms(client, reverse("home")),
        "a request": median_ms(client, reverse("sleepovers:request", args=[one])),
        "nights month": median_ms(
            client, reverse("sleepovers:nights"), {"month": f"{today:%Y-%m}"}
        ),
    }


def main() -> None:
    from sleepovers.models import OPEN, Request

    settings.ALLOWED_HOSTS = ["*"]
    # As in production: no query log kept for each request.
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    call_command("seed_demo", force=True, verbosity=0, stdout=sys.stderr)
    results, sizes = {}, {}
    count = 0
    for scale in (1, 10):
        started = time.perf_counter()
        count = build(scale, count)
        open_now = Request.objects.filter(status__in=OPEN).count()
        past = Request.objects.filter(status__in=OPEN, start__lt=timezone.now()).count()
        sizes[f"{scale}x"] = (Request.objects.count(), open_now, past)
        print(
            f"{scale}x: {Request.objects.count()} requests, {open_now} open ({past} in the past), "
            f"built in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        results[f"{scale}x"] = measure()
    # As it runs: the sweep expires what passed unanswered (every 5 minutes).
    from sleepovers import services

    started = time.perf_counter()
    expired = services.expire_overdue()
    open_now = Request.objects.filter(status__in=OPEN).count()
    sizes["10x swept"] = (Request.objects.count(), open_now, 0)
    print(
        f"10x swept: {expired} expired in {time.perf_counter() - started:.1f} s, {open_now} open",
        file=sys.stderr,
    )
    results["10x swept"] = measure()

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"database: {connection.vendor}")
    print(f"date: {timezone.localdate():%Y-%m-%d}")
    print(f"median of {REPEATS} loads each, as a ratio to the login page (goal: within {GOAL:g})")
    print()
    head = "| page | " + " | ".join(
        f"{s} ({sizes[s][0]} requests, {sizes[s][1]} open): ms | ratio" for s in results
    )
    print(head + " |")
    print("|---|" + "---:|---:|" * len(results))
    failed = []
    for page in results["1x"]:
        cells = []
        for scale, figures in results.items():
            ratio = figures[page] / figures["login page"]
            cells.append(f"{figures[page]:.1f} | {ratio:.1f}")
            if ratio > GOAL:
                failed.append(f"{page} at {scale}")
        print(f"| {page} | " + " | ".join(cells) + " |")
    if failed:
        print(f"\nover {GOAL:g} times the login page: {', '.join(failed)}")


if __name__ == "__main__":
    main()
