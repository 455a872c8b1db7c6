"""Benchmark: 1,000 sleepover requests over a year for one hub, then the median
time of the hub's nights month view and of an accept.

    make bench                                        # SQLite in a throw-away folder
    BENCH_DATABASE_URL=postgres://.../bench make bench   # a throw-away PostgreSQL database

It prints the figures that go into the README's performance section."""

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

REQUESTS = 1000
REPEATS = 5


def main() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    call_command("seed_demo", force=True, verbosity=0)

    from constellation.models import Carer, Child, Constellation
    from delegated_authority.models import Decision, Holder
    from delegated_authority.services import ClauseInput, create_agreement
    from people.models import User
    from sleepovers import services
    from sleepovers.models import Kind, Night, Request, Status

    constellation = Constellation.objects.get(name="Riverside")
    hub = constellation.hub
    hub_carer = User.objects.get(email="hub@example.org")
    liaison = User.objects.get(email="liaison@example.org")
    children = list(
        Child.objects.filter(
            household__memberships__constellation=constellation,
            household__memberships__status="active",
        )
    )
    today = timezone.localdate()
    for child in children:
        create_agreement(
            child,
            by=liaison,
            effective_from=today,
            review_on=today + timedelta(days=500),  # in force for every stay below
            signed_off_role="liaison_worker",
            clauses=[
                ClauseInput(
                    Decision.objects.get(code="overnight_hub_planned"),
                    Holder.BOTH,
                    max_consecutive_nights=3,
                )
            ],
        )
    requesters = {
        c.household_id: Carer.objects.current().filter(household_id=c.household_id).first().user
        for c in children
    }
    rng = random.Random(7)
    started = time.perf_counter()
    booked: dict = {}
    taken: set = set()
    for i in range(REQUESTS):
        child = rng.choice(children)
        day = today + timedelta(days=1 + i * 365 // REQUESTS)
        start = timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 17))
        nights = rng.choice([1, 1, 2])
        request = Request.objects.create(
            constellation=constellation,
            hub=hub,
            household_id=child.household_id,
            requested_by=requesters[child.household_id],
            kind=Kind.PLANNED,
            start=start,
            end=start + timedelta(days=nights, hours=-7),
        )
        request.children.set([child])
        stay = request.nights
        free = all(booked.get(d, 0) < hub.beds and (d, child.pk) not in taken for d in stay)
        if free and rng.random() < 0.6:
            Night.objects.bulk_create(
                Night(hub=hub, date=d, request=request, child=child) for d in stay
            )
            for d in stay:
                booked[d] = booked.get(d, 0) + 1
                taken.add((d, child.pk))
            Request.objects.filter(pk=request.pk).update(status=Status.ACCEPTED)
    print(f"created {REQUESTS} requests in {time.perf_counter() - started:.1f} s")

    client = Client()
    client.force_login(hub_carer)
    url = reverse("sleepovers:nights")
    month_times = []
    for month in range(12):
        first = (today.replace(day=1) + timedelta(days=32 * month)).replace(day=1)
        for _ in range(REPEATS):
            t = time.perf_counter()
            response = client.get(url, {"month": f"{first:%Y-%m}"})
            month_times.append(time.perf_counter() - t)
            assert response.status_code == 200, response.status_code

    accept_times = []
    for i in range(50):
        child = children[i % len(children)]
        day = today + timedelta(days=400 + i)
        start = timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 17))
        request = services.create_request(
            by=requesters[child.household_id],
            kind=Kind.PLANNED,
            children=[child],
            start=start,
            end=start + timedelta(hours=17),
        )
        t = time.perf_counter()
        response = client.post(reverse("sleepovers:accept", args=[request.pk]))
        accept_times.append(time.perf_counter() - t)
        assert response.status_code in (200, 302), response.status_code
        request.refresh_from_db()
        assert request.status == Status.ACCEPTED, request.status

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"database: {connection.vendor}")
    print(f"date: {timezone.localdate():%Y-%m-%d}")
    print(
        f"nights month view: median {statistics.median(month_times) * 1000:.1f} ms "
        f"over {len(month_times)} loads (p90 {sorted(month_times)[int(len(month_times) * 0.9)] * 1000:.1f} ms)"
    )
    print(
        f"accept: median {statistics.median(accept_times) * 1000:.1f} ms over {len(accept_times)} accepts"
    )


if __name__ == "__main__":
    main()
