"""Benchmark: the calendar's pages and feed, as a ratio to the login page.

At 1x (a year of one constellation's calendar: 12 series without an end, 120 single
events, each date answered by every household, a tenth of the dates moved or
cancelled) and at 10x (ten times the events and answers), the median time of the
login page (a trivial page of the same app), a satellite carer's month view, week
view and a date's page, the hub carer's month view, the satellite carer's
subscription feed and the API's list of the month's dates.

    make bench-calendar                                           # SQLite, throw-away
    BENCH_DATABASE_URL=postgres://.../cal_bench make bench-calendar  # throw-away PostgreSQL

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

REPEATS = int(os.environ.get("BENCH_REPEATS", "15"))
SERIES = 12
SINGLES = 120


def build(scale: int, rng: random.Random) -> int:
    """Add ``SERIES * scale`` series and ``SINGLES * scale`` single events to
    Riverside's calendar around today, every date of the coming month answered by
    each household; returns how many events the constellation has."""
    from calendar_events.models import Answer, Event, Occurrence, Rsvp
    from calendar_events.recurrence import placed, wall
    from constellation.models import Constellation, Household

    constellation = Constellation.objects.get(name="Riverside")
    organiser = constellation.hub.carers.first().user
    households = list(
        Household.objects.filter(
            memberships__constellation=constellation, memberships__status="active"
        )
    )
    today = timezone.localdate()
    events = []
    for n in range(SERIES * scale):
        day = today - timedelta(days=rng.randint(0, 60))
        start = placed(timezone.datetime(day.year, day.month, day.day, 18 + n % 3))
        rule = rng.choice(["FREQ=WEEKLY", "FREQ=MONTHLY;BYMONTHDAY=" + str(day.day)])
        events.append(
            Event(
                constellation=constellation,
                kind=rng.choice(Event.Kind.values[:5]),
                title=f"Series {n}",
                organiser=organiser,
                start=start,
                end=start + timedelta(hours=2),
                rule=rule,
                capacity=rng.choice([None, 30]),
            )
        )
    for n in range(SINGLES * scale):
        day = today + timedelta(days=rng.randint(-180, 180))
        start = placed(timezone.datetime(day.year, day.month, day.day, 10 + n % 8))
        events.append(
            Event(
                constellation=constellation,
                kind=rng.choice(Event.Kind.values[:5]),
                title=f"Event {n}",
                organiser=organiser,
                start=start,
                end=start + timedelta(hours=2),
                capacity=rng.choice([None, 20]),
            )
        )
    Event.objects.bulk_create(events, batch_size=500)
    from calendar_events.selectors import expand

    first = placed(timezone.datetime(today.year, today.month, 1)) - timedelta(days=7)
    found = expand(events, first, first + timedelta(days=45))
    rows = []
    for slot in found:
        moved = rng.random() < 0.1
        start = placed(wall(slot.start) + timedelta(hours=1)) if moved else None
        rows.append(
            Occurrence(
                event=slot.event,
                original_start=slot.original_start,
                start=start,
                end=start + timedelta(hours=2) if moved else None,
                cancelled=not moved and rng.random() < 0.05,
            )
        )
    Occurrence.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    rows = list(Occurrence.objects.filter(event__in=events))
    answers = [
        Rsvp(
            occurrence=row,
            household=household,
            answer=rng.choice(Answer.values),
            adults=2,
            people=2,
        )
        for row in rows
        for household in households
    ]
    Rsvp.objects.bulk_create(answers, batch_size=500, ignore_conflicts=True)
    return Event.objects.filter(constellation=constellation).count()


def median_ms(client: Client, url: str, params=None) -> float:
    client.get(url, params or {})
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        times.append(time.perf_counter() - t)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times) * 1000


def measure() -> dict[str, float]:
    from calendar_events import services
    from calendar_events.models import Event
    from calendar_events.recurrence import key_of
    from people.models import User

    today = timezone.localdate()
    satellite = User.objects.get(email="satellite@example.org")
    hub_carer = User.objects.get(email="hub@example.org")
    anonymous, family, hub = Client(), Client(), Client()
    family.force_login(satellite)
    hub.force_login(hub_carer)
    month = {"year": today.year, "month": today.month}
    one = Event.objects.visible_to(satellite).filter(rule="", start__gte=timezone.now()).first()
    token = services.feed_of(satellite).token
    return {
        "login page": median_ms(anonymous, reverse("account_login")),
        "month (satellite)": median_ms(family, reverse("calendar_events:month", kwargs=month)),
        "month (hub carer)": median_ms(hub, reverse("calendar_events:month", kwargs=month)),
        "week (satellite)": median_ms(
            family, reverse("calendar_events:week", kwargs={"day": today})
        ),
        "a date's page": median_ms(
            family, reverse("calendar_events:date", args=[one.pk, key_of(one.start)])
        )
        if one
        else 0.0,
        "subscription feed": median_ms(
            anonymous, reverse("calendar_events:feed", kwargs={"token": token})
        ),
        "API month list": median_ms(
            family,
            reverse("api:event-list"),
            {"from": f"{today:%Y-%m}-01", "to": f"{today + timedelta(days=31):%Y-%m-%d}"},
        ),
    }


def main() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    call_command("seed_demo", force=True, verbosity=0, stdout=sys.stderr)
    rng = random.Random(10)
    results, sizes = {}, {}
    for scale in (1, 10):
        started = time.perf_counter()
        events = build(scale if scale == 1 else scale - 1, rng)
        from calendar_events.models import Occurrence, Rsvp

        sizes[f"{scale}x"] = (events, Occurrence.objects.count(), Rsvp.objects.count())
        print(
            f"{scale}x: {events} events, {sizes[f'{scale}x'][1]} dated rows, "
            f"{sizes[f'{scale}x'][2]} answers, built in {time.perf_counter() - started:.1f} s",
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
    print(
        "| page | "
        + " | ".join(f"{s} ({n[0]} events, {n[2]} answers): ms | ratio" for s, n in sizes.items())
        + " |"
    )
    print("|---|" + "---:|---:|" * len(results))
    for page in results["1x"]:
        cells = [
            f"{figures[page]:.1f} | {figures[page] / figures['login page']:.1f}"
            for figures in results.values()
        ]
        print(f"| {page} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
