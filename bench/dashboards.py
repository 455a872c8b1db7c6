"""Benchmark: the fostering manager's dashboard at full size and at a tenth.

Two throw-away PostgreSQL databases of its own, ``bench_dash_full`` and
``bench_dash_tenth``, dropped and made again, migrated, and filled by
``manage.py dashboard_dataset`` at ``--scale 1.0`` and ``0.1`` (50 and 5
constellations, each over the five years ending today); ``--reuse`` keeps a database
that already holds the data set. Then, in the same run, the test client logged in as
the service's manager loads the manager's dashboard (``dashboards:service``,
``/dashboards/``, its default period) in each database, and a trivial page of the
same app for the same user: the notification centre, a full page (the layout, the
navigation, the session, the middleware) whose only read is the manager's own
notifications, of which the data set has none. The login page, the other
benchmarks' yardstick, is anonymous and so skips the session and the role lookups
every manager page pays; the unread badge (``notifications:unread``) is cheaper
still but a fragment without the layout. Both are shown for reference.

Each page, at each size: ``--repeats`` timed loads (30, or ``BENCH_REPEATS``), in
three rounds alternating the two databases, each round after ``--warmup`` loads (3),
so that whatever else the machine does weighs on both sizes alike: the median and the
95th percentile in ms, and the ratios full / tenth and page / trivial page. When the
dashboard does not exist yet (no URL named ``dashboards:service``, or a 404) it says
so and measures the rest (exit 0); a page answering anything else (a 500, an
exception) is reported and the run exits 1.

    make bench-dashboards
    .venv/bin/python bench/dashboards.py --reuse     # measure again, keep the data
    BENCH_POSTGRES_URL=postgres://user@host:5432 make bench-dashboards

It prints the table that goes into the README's performance section."""

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument(
    "--reuse", action="store_true", help="keep a database that already holds the data set"
)
parser.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "30")))
parser.add_argument("--warmup", type=int, default=3)
ARGS = parser.parse_args()

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
SIZES = {"full": ("bench_dash_full", 1.0), "tenth": ("bench_dash_tenth", 0.1)}
SERVICE = "Bench Fostering Service"  # dashboard_dataset's default name
BLOCKS = 3  # rounds of both sizes, over which the timed loads are shared

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
# Never the real database, and never a shared Redis: the two databases named above,
# and the in-process cache (cleared when the run moves from one database to the other).
os.environ["DATABASE_URL"] = f"{SERVER}/{SIZES['full'][0]}"
os.environ.pop("REDIS_URL", None)
os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="mockingbird-bench-")

import django  # noqa: E402

django.setup()

import psycopg2  # noqa: E402
from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402


def server():
    """A connection to the server's maintenance database, to drop and create ours."""
    url = urlsplit(SERVER)
    conn = psycopg2.connect(
        dbname="postgres",
        user=url.username or "postgres",
        password=url.password or None,
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
    )
    conn.autocommit = True
    return conn


def exists(name: str) -> bool:
    conn = server()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        conn.close()


def use(name: str) -> None:
    """Point Django's connection at another of our databases."""
    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name
    settings.DATABASES["default"]["NAME"] = name
    cache.clear()


def refresh() -> None:
    """A database kept with --reuse: apply the migrations added since (the dashboard's
    indexes, say) and refresh the planner's statistics."""
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def has_data_set() -> bool:
    from constellation.models import FosteringService

    try:
        return FosteringService.objects.filter(name=SERVICE).exists()
    except Exception:  # no tables yet
        return False


def build(name: str, scale: float) -> dict:
    """Drop and make ``name`` again, migrate it and fill it at ``scale``; the seconds
    each step took."""
    connections["default"].close()
    conn = server()
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    use(name)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    out = io.StringIO()
    started = time.perf_counter()
    call_command("dashboard_dataset", scale=scale, seed=1, years=5, force=True, stdout=out)
    built = time.perf_counter() - started
    print(out.getvalue(), file=sys.stderr)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"migrate": migrated, "build": built, "analyze": time.perf_counter() - started}


def row_counts() -> dict[str, int]:
    """Rows per table of the project's apps (many-to-many tables included)."""
    counts = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in {
            "constellation",
            "sleepovers",
            "calendar_events",
            "delegated_authority",
            "notifications",
            "people",
        }:
            counts[model._meta.label] = model.objects.count()
    return counts


def load(client: Client, url: str, times: list[float], *, warmup: int, timed: int, cold=False):
    """``warmup`` loads, then ``timed`` loads whose ms are added to ``times``. Returns
    200, or what the page answered instead (a status, or the exception it raised).
    ``cold``: the kept figures are dropped before each load (untimed), as after a
    change: the page computes every measure live. ``cold="ready"``: dropped, then
    made ready by the beat's task (untimed), as some minutes after a change: the
    page draws the charts and tables from the figures the task kept."""
    from constellation.kept_figures import make_ready

    for n in range(warmup + timed):
        if cold:
            cache.clear()
        if cold == "ready":
            make_ready()
        t = time.perf_counter()
        try:
            response = client.get(url)
        except Exception as error:  # the view raised: the test client re-raises it
            print(f"{url}: {error!r}", file=sys.stderr)
            return type(error).__name__
        if n >= warmup:
            times.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            return response.status_code
    return 200


def dashboard_url() -> str | None:
    try:
        return reverse("dashboards:service")
    except NoReverseMatch:
        return None


def pages() -> dict[str, tuple[str | None, bool, bool | str]]:
    """Each page measured: its URL (None: no such URL yet), whether it is anonymous,
    and whether it is read cold (the dashboard's kept figures dropped first)."""
    return {
        "manager dashboard, read again": (dashboard_url(), False, False),
        "manager dashboard, first read after a change": (dashboard_url(), False, True),
        "manager dashboard, first read after the task ran": (dashboard_url(), False, "ready"),
        "trivial: notification centre": (reverse("notifications:centre"), False, False),
        "unread badge (fragment)": (reverse("notifications:unread"), False, False),
        "login page (anonymous)": (reverse("account_login"), True, False),
    }


def measure() -> dict[str, dict[str, dict]]:
    """Every page in both databases, interleaved: ``BLOCKS`` rounds of both sizes,
    each page a few warm-up loads then its share of the timed loads, so that whatever
    else the machine does weighs on both sizes alike. Per size and page: status,
    median, p95."""
    from people.models import StaffRole

    clients = {}
    for size, (name, _scale) in SIZES.items():
        use(name)
        manager = StaffRole.objects.active().get(role="manager", service__name=SERVICE).user
        clients[size] = Client()
        clients[size].force_login(manager)
    measured = pages()
    times = {size: {page: [] for page in measured} for size in SIZES}
    status = {size: dict.fromkeys(measured, 200) for size in SIZES}
    for block in range(BLOCKS):
        share = ARGS.repeats // BLOCKS + (1 if block < ARGS.repeats % BLOCKS else 0)
        # full then tenth, then tenth then full, ...: neither size always goes first.
        for size in list(SIZES)[:: 1 if block % 2 == 0 else -1]:
            use(SIZES[size][0])
            for page, (url, anonymous, cold) in measured.items():
                if url is None:
                    status[size][page] = "no URL"
                if status[size][page] != 200:
                    continue
                client = Client() if anonymous else clients[size]
                status[size][page] = load(
                    client, url, times[size][page], warmup=ARGS.warmup, timed=share, cold=cold
                )
    results = {}
    for size in SIZES:
        results[size] = {}
        for page in measured:
            found = times[size][page]
            if status[size][page] == 200:
                p95 = statistics.quantiles(found, n=20, method="inclusive")[18]
                results[size][page] = {
                    "status": 200,
                    "median": statistics.median(found),
                    "p95": p95,
                }
            else:
                results[size][page] = {"status": status[size][page]}
    return results


def main() -> int:
    settings.ALLOWED_HOSTS = ["*"]
    # As in production: no query log kept for each request. A manager would be asked
    # to enrol a second factor first; the benchmark measures the page, not that.
    settings.DEBUG = False
    settings.MFA_REQUIRED_FOR_STAFF = False
    made, counts = {}, {}
    for size, (name, scale) in SIZES.items():
        if ARGS.reuse and exists(name):
            use(name)
            if has_data_set():
                print(f"{size}: reusing {name} (migrate, analyze)", file=sys.stderr)
                refresh()
                made[size] = None
        if size not in made:
            print(f"{size}: building {name} at --scale {scale}", file=sys.stderr)
            made[size] = build(name, scale)
        counts[size] = row_counts()
    results = measure()

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"database: PostgreSQL {connection.pg_version // 10000} ({SERVER.rsplit('@', 1)[-1]})")
    print(f"date: {timezone.localdate():%Y-%m-%d}")
    print()
    print("| data set | constellations | requests | nights | rows in all | migrate | generate |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for size, (name, scale) in SIZES.items():
        c, m = counts[size], made[size]
        timing = (
            ("reused", "reused") if m is None else (f"{m['migrate']:.0f} s", f"{m['build']:.0f} s")
        )
        print(
            f"| {size} (`{name}`, --scale {scale}) | {c['constellation.Constellation']} "
            f"| {c['sleepovers.Request']:,} | {c['sleepovers.Night']:,} "
            f"| {sum(c.values()):,} | {timing[0]} | {timing[1]} |"
        )
    print()
    print(
        f"{ARGS.repeats} timed loads of each page at each size (ms), in {BLOCKS} rounds "
        f"alternating the sizes, each round after {ARGS.warmup} warm-up loads"
    )
    print()
    print(
        "| page | full: median | full: p95 | tenth: median | tenth: p95 | full / tenth "
        "| full / trivial | tenth / trivial |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    trivial = "trivial: notification centre"
    failed = []
    for page in results["full"]:
        cells = []
        for size in SIZES:
            figures = results[size][page]
            if figures["status"] == 200:
                cells += [f"{figures['median']:.1f}", f"{figures['p95']:.1f}"]
            else:
                cells += [f"({figures['status']})", ""]
                if figures["status"] not in (404, "no URL"):
                    failed.append(f"{page} at {size}: {figures['status']}")
        full, tenth = results["full"][page], results["tenth"][page]
        both = full["status"] == tenth["status"] == 200
        cells.append(f"{full['median'] / tenth['median']:.2f}" if both else "")
        for size in SIZES:
            figures = results[size][page]
            cells.append(
                f"{figures['median'] / results[size][trivial]['median']:.1f}"
                if figures["status"] == 200
                else ""
            )
        print(f"| {page} | " + " | ".join(cells) + " |")
    board = results["full"]["manager dashboard, read again"]["status"]
    if board in (404, "no URL"):
        print(
            "\nThe manager's dashboard does not exist yet "
            f"({'no URL named dashboards:service' if board == 'no URL' else '/dashboards/ answers 404'}): "
            "run again with --reuse once it does."
        )
    if failed:
        print("\nunexpected answers: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
