"""Benchmark: the liaison worker's desk and activity feed, as a ratio to the login page.

At 1x (10,000 activity rows over a year, spread over the demo's constellations and
their households) and at 10x (100,000 rows), the median time of the login page (a
trivial page of the same app), the liaison worker's desk, the feed's first page
unfiltered and filtered (by constellation, by constellation and kind, by household),
and a page deep in the feed (after 90% of Riverside's rows), each loaded with the
test client in the same run.

    make bench-activity                                              # SQLite, throw-away
    BENCH_DATABASE_URL=postgres://.../feed_bench make bench-activity  # throw-away PostgreSQL

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

ROWS = 10_000  # at 1x, over a year
REPEATS = int(os.environ.get("BENCH_REPEATS", "15"))
# A constellation's year: mostly requests, stays and events; concerns are rare.
KIND_MIX = {
    "request": 40,
    "stay": 20,
    "event": 14,
    "check_in": 15,
    "approval": 5,
    "membership": 3,
    "concern": 2,
    "placement": 1,
}


def build(total: int, already: int, rng: random.Random) -> int:
    """Add activity rows to the demo's ``already`` until there are ``total`` (bulk, in
    time order, over the year to now); returns how many there are."""
    from django.contrib.contenttypes.models import ContentType

    from constellation.models import Activity, Constellation, Household
    from people.models import User

    places = []
    for constellation in Constellation.objects.select_related("service"):
        households = list(
            Household.objects.filter(memberships__constellation=constellation).distinct()
        )
        if constellation.hub_id:
            households.append(constellation.hub)
        places.append((constellation, households))
    actor = User.objects.get(email="hub@example.org")
    target = ContentType.objects.get_for_model(Household)
    kinds = [kind for kind, share in KIND_MIX.items() for _ in range(share)]
    now = timezone.now()
    step = timedelta(days=365) / total
    batch = []
    for i in range(already, total):
        constellation, households = rng.choice(places)
        household = rng.choice(households)
        batch.append(
            Activity(
                service_id=constellation.service_id,
                constellation=constellation,
                household=household,
                actor=actor,
                verb="bench.row",
                kind=rng.choice(kinds),
                target_type=target,
                target_id=household.pk,
                summary=f"Bench row {i} for {household.name}",
                created_at=now - timedelta(days=365) + step * i,
            )
        )
        if len(batch) == 5000:
            Activity.objects.bulk_create(batch)
            batch = []
    Activity.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE constellation_activity")
    return Activity.objects.count()


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
    from constellation.desk_forms import cursor_text
    from constellation.models import Activity, Constellation
    from people.models import User

    riverside = Constellation.objects.get(name="Riverside")
    household = (
        Activity.objects.filter(constellation=riverside, household__isnull=False)
        .values_list("household_id", flat=True)
        .first()
    )
    rows = Activity.objects.filter(constellation=riverside).order_by("-created_at", "-pk")
    deep = rows.values_list("created_at", "pk")[rows.count() * 9 // 10]
    liaison = User.objects.get(email="liaison@example.org")
    anonymous, client = Client(), Client()
    client.force_login(liaison)
    feed = reverse("constellation:activity")
    return {
        "login page": median_ms(anonymous, reverse("account_login")),
        "desk": median_ms(client, reverse("constellation:desk")),
        "feed, first page": median_ms(client, feed),
        "feed, one constellation": median_ms(client, feed, {"constellation": riverside.pk}),
        "feed, constellation and kind": median_ms(
            client, feed, {"constellation": riverside.pk, "kind": "concern"}
        ),
        "feed, one household": median_ms(client, feed, {"household": household}),
        "feed, a page 90% down": median_ms(
            client, feed, {"constellation": riverside.pk, "after": cursor_text(deep)}
        ),
    }


def main() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    # As in production: no query log kept for each request.
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    call_command("seed_demo", force=True, verbosity=0, stdout=sys.stderr)
    from constellation.models import Activity

    rng = random.Random(11)
    results, sizes = {}, {}
    count = Activity.objects.count()  # the demo's own rows
    for scale in (1, 10):
        started = time.perf_counter()
        count = build(ROWS * scale, count, rng)
        sizes[f"{scale}x"] = count
        print(
            f"{scale}x: {count} activity rows, built in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        results[f"{scale}x"] = measure()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"database: {connection.vendor}")
    print(f"date: {timezone.localdate():%Y-%m-%d}")
    print(f"median of {REPEATS} loads each, as a ratio to the login page")
    print()
    print("| page | " + " | ".join(f"{s} ({n} rows): ms | ratio" for s, n in sizes.items()) + " |")
    print("|---|" + "---:|---:|" * len(results))
    for page in results["1x"]:
        cells = [
            f"{figures[page]:.1f} | {figures[page] / figures['login page']:.1f}"
            for figures in results.values()
        ]
        print(f"| {page} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
