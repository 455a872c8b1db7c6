"""Who reaches the dashboards, their exports and the evaluation return (issue 12), what
a refused or malformed request answers, and what an export may hold.

- Every URL (each page, each export table in each format, for the service and for one
  constellation, the evaluation return as a page and as CSV/XLSX) is tried by an
  anonymous visitor (sent to log in), by users with no dashboards (403) and by the
  readers (a fostering manager: their service; a liaison worker: their constellations).
- Another constellation or another service's is a 404, never a partial page.
- Bad filters answer 400 with the message on the page; a bad table or constellation a
  404; never a 500, and a refused export leaves no audit record.
- A successful export writes one ``ExportRecord``; its readers are the service's managers.
- Spreadsheet formulas smuggled in names come out as text; children's surnames and
  health notes never leave in a dashboard or an export.

The clock is pinned (15 June 2026, noon in London), so the default period is
July 2025 to June 2026 whatever the hour the suite runs at.
"""

from __future__ import annotations

import csv
import html
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from constellation.dashboards import RETURN_KEYS
from constellation.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from constellation.measures import MEASURES
from constellation.models import Constellation, ExportRecord
from people.models import StaffRole
from sleepovers import services as sleepover_services
from sleepovers.models import Kind, Night
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=LONDON)
# The default period at NOW: the twelve months to this month.
DEFAULT_START, DEFAULT_END = "2025-07", "2026-06"
PERIOD = {"start": "2026-01", "end": "2026-06"}

TABLES = [
    "support-care",
    "crisis",
    "community",
    "contact",
    "stability",
    "fidelity",
    "fairness",
    "months",
    "all",
]
FORMATS = ["csv", "xlsx"]
EXPORTS = [(t, fmt) for t in TABLES for fmt in FORMATS if not (t == "all" and fmt == "csv")]

# What a spreadsheet runs as a formula when a cell starts with it (exports.neutralise).
TRIGGERS = tuple("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture(autouse=True)
def clock():
    """Pinned before ``world`` is built (autouse fixtures come first)."""
    with time_machine.travel(NOW, tick=False):
        yield


# --- the URLs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One URL of the dashboards. ``view``: service, constellation, month,
    evaluation_return or export; ``table``/``fmt`` for the exports (and the
    evaluation return's downloads); ``scoped``: the export of one constellation."""

    view: str
    table: str | None = None
    fmt: str | None = None
    scoped: bool = False

    @property
    def id(self) -> str:
        parts = [self.view, self.table, self.fmt, "one-constellation" if self.scoped else None]
        return ":".join(p for p in parts if p)

    @property
    def is_export(self) -> bool:
        return self.fmt is not None

    @property
    def takes_constellation(self) -> bool:
        """Whether the URL names a constellation (a drill-down or a scoped export)."""
        return self.view in ("constellation", "month") or self.scoped

    @property
    def takes_filters(self) -> bool:
        return self.view != "month"  # a month's page is that month

    @property
    def record_table(self) -> str:
        return "evaluation-return" if self.view == "evaluation_return" else self.table

    def target(self, constellation: Constellation | None = None) -> tuple[str, dict]:
        pk = constellation.pk if constellation is not None else None
        if self.view == "service":
            return reverse("dashboards:service"), {}
        if self.view == "constellation":
            return reverse("dashboards:constellation", args=[pk]), {}
        if self.view == "month":
            return reverse("dashboards:constellation_month", args=[pk, 2026, 5]), {}
        if self.view == "evaluation_return":
            return reverse("dashboards:evaluation_return"), (
                {"format": self.fmt} if self.fmt else {}
            )
        params = {"format": self.fmt}
        if self.scoped:
            params["constellation"] = pk
        return reverse("dashboards:export", args=[self.table]), params


PAGES = [
    Endpoint("service"),
    Endpoint("constellation"),
    Endpoint("month"),
    Endpoint("evaluation_return"),
]
RETURN_DOWNLOADS = [Endpoint("evaluation_return", fmt=fmt) for fmt in FORMATS]
TABLE_EXPORTS = [
    Endpoint("export", table=t, fmt=fmt, scoped=scoped)
    for scoped in (False, True)
    for t, fmt in EXPORTS
]
DOWNLOADS = RETURN_DOWNLOADS + TABLE_EXPORTS
ENDPOINTS = PAGES + DOWNLOADS


def _ids(endpoints):
    return [e.id for e in endpoints]


def _get(client, endpoint: Endpoint, scope=None, **extra):
    path, params = endpoint.target(scope)
    return client.get(path, {**params, **extra})


def _text(response) -> str:
    return html.unescape(response.content.decode("utf-8", errors="replace"))


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def _workbook(response):
    return openpyxl.load_workbook(io.BytesIO(response.content))


def _xlsx_text(response) -> str:
    """Every part of the workbook (cells, shared strings, properties), as text."""
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return "\n".join(
            html.unescape(archive.read(name).decode("utf-8", errors="replace"))
            for name in archive.namelist()
        )


def _body(response) -> str:
    if response["Content-Type"] == XLSX_CONTENT_TYPE:
        return _xlsx_text(response)
    if response["Content-Type"] == CSV_CONTENT_TYPE:
        return response.content.decode("utf-8-sig")
    return _text(response)


def _data_rows(response) -> int:
    """How many rows of data the download holds (its header rows left out)."""
    if response["Content-Type"] == CSV_CONTENT_TYPE:
        return len(_csv(response)) - 1
    book = _workbook(response)
    return sum(book[name].max_row - 1 for name in book.sheetnames if name != "About")


def _nobody(world):
    return f.UserFactory(email="nobody@test.example")


def _user(world, role: str):
    return _nobody(world) if role == "nobody" else getattr(world, role)


# --- anonymous visitors and users with no dashboards ---------------------------------


NO_DASHBOARDS = ["hub_carer", "satellite_carer", "social_worker", "nobody"]


def test_outsiders_are_sent_to_log_in_or_refused_and_nothing_is_exported(client, world):
    """On every URL, an anonymous visitor is sent to log in (302); a hub carer, a
    satellite carer, a social worker and a user with no role are refused (403)."""
    users = {role: _user(world, role) for role in NO_DASHBOARDS}
    wrong = []
    for endpoint in ENDPOINTS:
        client.logout()
        response = _get(client, endpoint, world.constellation)
        if response.status_code != 302 or not response.url.startswith(
            f"{reverse('account_login')}?next="
        ):
            wrong.append((f"anonymous, {endpoint.id}", f"{response.status_code}, not 302"))
        for role, user in users.items():
            client.force_login(user)
            response = _get(client, endpoint, world.constellation)
            if response.status_code != 403 or response.get("Content-Disposition"):
                wrong.append((f"{role}, {endpoint.id}", f"{response.status_code}, not 403"))
    assert not wrong, "\n".join(f"{where}: {problem}" for where, problem in wrong)
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize("role", NO_DASHBOARDS)
def test_refused_users_are_refused_before_their_input_is_read(client, world, role):
    """A bad table or filter does not tell a carer anything a 403 would not."""
    client.force_login(_user(world, role))

    for path, params in [
        (reverse("dashboards:export", args=["nope"]), {"format": "csv"}),
        (reverse("dashboards:export", args=["fairness"]), {"format": "pdf"}),
        (reverse("dashboards:export", args=["fairness"]), {"constellation": "abc"}),
        (reverse("dashboards:service"), {"start": "2026-13"}),
        (reverse("dashboards:constellation", args=[world.other_service_constellation.pk]), {}),
        (reverse("dashboards:constellation_month", args=[world.constellation.pk, 2026, 13]), {}),
    ]:
        assert client.get(path, params).status_code == 403, (path, params)
    assert not ExportRecord.objects.exists()


# --- the readers: a fostering manager and a liaison worker --------------------------


READERS = ["manager", "liaison"]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids(ENDPOINTS))
def test_a_manager_and_a_liaison_worker_read_every_url_of_their_own(
    client, world, endpoint, reader
):
    user = getattr(world, reader)
    client.force_login(user)

    response = _get(client, endpoint, world.constellation)

    assert response.status_code == 200, _text(response)[:2000]
    if not endpoint.is_export:
        assert response["Content-Type"].startswith("text/html")
        assert "Riverside" in _text(response)
        assert not ExportRecord.objects.exists()
        return

    expected_type = CSV_CONTENT_TYPE if endpoint.fmt == "csv" else XLSX_CONTENT_TYPE
    assert response["Content-Type"] == expected_type
    name = f"{endpoint.record_table}-{DEFAULT_START}-to-{DEFAULT_END}.{endpoint.fmt}"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert "no-store" in response["Cache-Control"]

    record = ExportRecord.objects.get()
    assert record.user == user
    assert record.service == world.service
    assert record.table == endpoint.record_table
    assert record.format == endpoint.fmt
    assert record.filters["start"] == DEFAULT_START
    assert record.filters["end"] == DEFAULT_END
    if endpoint.scoped or reader == "liaison":
        assert record.filters["constellations"] == [world.constellation.pk]
    else:
        assert record.filters["constellations"] == sorted(
            [world.constellation.pk, world.other_constellation.pk]
        )
    assert record.rows == _data_rows(response)
    assert record.at == NOW


def test_an_export_records_the_period_asked_for(client, world):
    client.force_login(world.manager)

    response = client.get(
        reverse("dashboards:export", args=["fairness"]), {**PERIOD, "format": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="fairness-2026-01-to-2026-06.csv"'
    )
    record = ExportRecord.objects.get()
    assert (record.filters["start"], record.filters["end"]) == ("2026-01", "2026-06")


def test_every_constellation_of_the_managers_service_and_none_of_another_is_listed(client, world):
    lakeside = f.ConstellationFactory(service=world.service, name="Lakeside")
    client.force_login(world.manager)

    response = client.get(reverse("dashboards:service"))

    assert response.status_code == 200
    listed = {c.name for c in response.context["constellations"]}
    assert listed == {"Riverside", "Hillside", "Lakeside"}
    page = _text(response)
    for name in ("Riverside", "Hillside", "Lakeside"):
        assert name in page
    for pk in (world.constellation.pk, world.other_constellation.pk, lakeside.pk):
        assert reverse("dashboards:constellation", args=[pk]) in page
    assert "Seaside" not in page
    assert (
        reverse("dashboards:constellation", args=[world.other_service_constellation.pk]) not in page
    )


def test_a_manager_drills_down_into_every_constellation_of_their_service(client, world):
    lakeside = f.ConstellationFactory(service=world.service, name="Lakeside")
    client.force_login(world.manager)

    for constellation in (world.constellation, world.other_constellation, lakeside):
        for path, params in [
            (reverse("dashboards:constellation", args=[constellation.pk]), PERIOD),
            (reverse("dashboards:constellation_month", args=[constellation.pk, 2026, 3]), {}),
            (
                reverse("dashboards:export", args=["all"]),
                {"format": "xlsx", "constellation": constellation.pk},
            ),
        ]:
            response = client.get(path, params)
            assert response.status_code == 200, (constellation.name, path)
            assert constellation.name in _body(response)
    assert ExportRecord.objects.count() == 3
    assert sorted(r.filters["constellations"] for r in ExportRecord.objects.all()) == sorted(
        [[world.constellation.pk], [world.other_constellation.pk], [lakeside.pk]]
    )


def test_a_liaison_worker_sees_only_their_constellations(client, world):
    client.force_login(world.liaison)

    response = client.get(reverse("dashboards:service"))

    assert response.status_code == 200
    assert [c.name for c in response.context["constellations"]] == ["Riverside"]
    page = _text(response)
    assert "Riverside" in page
    assert "Hillside" not in page
    assert "Seaside" not in page

    workbook = client.get(reverse("dashboards:export", args=["all"]), {"format": "xlsx"})
    assert workbook.status_code == 200
    assert "Riverside" in _xlsx_text(workbook)
    assert "Hillside" not in _xlsx_text(workbook)

    returned = client.get(reverse("dashboards:evaluation_return"), {"format": "csv"})
    assert returned.status_code == 200
    rows = _csv(returned)
    column = rows[0].index("Constellation")
    assert {r[column] for r in rows[1:]} == {"Riverside"}

    printable = client.get(reverse("dashboards:evaluation_return"))
    assert "Riverside" in _text(printable)
    assert "Hillside" not in _text(printable)


DRILL_DOWNS = [e for e in ENDPOINTS if e.takes_constellation]


def test_a_liaison_worker_cannot_reach_the_other_constellation_of_their_service(client, world):
    client.force_login(world.liaison)
    for endpoint in DRILL_DOWNS:
        response = _get(client, endpoint, world.other_constellation)

        assert response.status_code == 404, endpoint.id
        assert "Hillside" not in _text(response), endpoint.id
    assert not ExportRecord.objects.exists()


def test_a_manager_cannot_reach_another_services_constellation(client, world):
    client.force_login(world.manager)
    for endpoint in DRILL_DOWNS:
        response = _get(client, endpoint, world.other_service_constellation)

        assert response.status_code == 404, endpoint.id
        assert "Seaside" not in _text(response), endpoint.id
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids(ENDPOINTS))
def test_another_service_sees_nothing_of_this_one(client, world, endpoint):
    """Southshire's manager and liaison worker: this service's constellations are not
    found, and their own pages and exports hold nothing of it."""
    for reader in (world.other_service_manager, world.other_service_liaison):
        client.force_login(reader)
        if endpoint.takes_constellation:
            for theirs in (world.constellation, world.other_constellation):
                response = _get(client, endpoint, theirs)
                assert response.status_code == 404, (reader.email, theirs.name)
            assert not ExportRecord.objects.filter(user=reader).exists()
            response = _get(client, endpoint, world.other_service_constellation)
        else:
            response = _get(client, endpoint)

        assert response.status_code == 200, reader.email
        body = _body(response)
        if endpoint.table != "months":  # the month-by-month table names no constellation
            assert "Seaside" in body
        for name in ("Riverside", "Hillside", "Northshire"):
            assert name not in body, (reader.email, name)
    if endpoint.is_export:
        assert {r.service for r in ExportRecord.objects.all()} == {world.other_service}
        assert ExportRecord.objects.count() == 2


def test_the_export_audit_trail_is_read_by_the_services_managers_only(client, world):
    client.force_login(world.manager)
    assert (
        client.get(reverse("dashboards:export", args=["fairness"]), {"format": "csv"}).status_code
        == 200
    )
    client.force_login(world.liaison)
    assert (
        client.get(reverse("dashboards:evaluation_return"), {"format": "xlsx"}).status_code == 200
    )
    client.force_login(world.other_service_manager)
    assert (
        client.get(reverse("dashboards:export", args=["all"]), {"format": "xlsx"}).status_code
        == 200
    )

    managers = ExportRecord.objects.get(user=world.manager)
    liaisons = ExportRecord.objects.get(user=world.liaison)
    southern = ExportRecord.objects.get(user=world.other_service_manager)
    assert managers.service == liaisons.service == world.service
    assert southern.service == world.other_service

    assert set(ExportRecord.objects.visible_to(world.manager)) == {managers, liaisons}
    assert set(ExportRecord.objects.visible_to(world.other_service_manager)) == {southern}
    # A liaison worker reads their own exports, not the manager's.
    assert set(ExportRecord.objects.visible_to(world.liaison)) == {liaisons}
    assert not ExportRecord.objects.visible_to(world.other_service_liaison).exists()
    assert not ExportRecord.objects.visible_to(world.hub_carer).exists()
    assert not ExportRecord.objects.visible_to(AnonymousUser()).exists()

    # A manager whose role has lapsed reads only what they exported themselves.
    StaffRole.objects.filter(user=world.other_service_manager).delete()
    assert set(ExportRecord.objects.visible_to(world.other_service_manager)) == {southern}


def test_an_export_cannot_be_posted(client, world):
    client.force_login(world.manager)
    allowed = []
    for endpoint in DOWNLOADS:
        path, params = endpoint.target(world.constellation)
        response = client.post(f"{path}?{urlencode(params)}")
        if response.status_code != 405:
            allowed.append((endpoint.id, response.status_code))
    assert allowed == []
    assert not ExportRecord.objects.exists()


# --- bad input -----------------------------------------------------------------------
# Each URL is tried with every bad value that applies to it; the failures are
# collected, so one run names every (URL, value) that answers wrongly.

BAD_PERIODS = [
    ("month-13", {"start": "2026-13"}, "There is no month 2026-13."),
    ("month-00", {"end": "2026-00"}, "There is no month 2026-00."),
    ("not-a-month", {"start": "abcd"}, "Give the start month as YYYY-MM"),
    ("end-not-a-month", {"end": "06/2026"}, "Give the end month as YYYY-MM"),
    (
        "ends-before-it-starts",
        {"end": "2026-01", "start": "2026-06"},
        "The period ends before it starts",
    ),
    ("fifty-years", {"start": "1990-01", "end": "2040-01"}, "choose at most 10 years"),
    ("nul-start", {"start": "2026-\x0001"}, "Null characters are not allowed"),
    ("nul-end", {"end": "\x00"}, "Null characters are not allowed"),
    ("5000-chars-start", {"start": "2" * 5000}, "at most 7 characters"),
    ("5000-chars-end", {"end": "x" * 5000}, "at most 7 characters"),
    ("year-1", {"start": "0001-01"}, "There is no month 0001-01."),
    ("year-1899", {"start": "1899-12"}, "There is no month 1899-12."),
    ("end-only-in-1900", {"end": "1900-01"}, "The period must lie within 1900 to 9998"),
    ("arabic-indic-digits", {"start": "\u0662\u0660\u0662\u0666-\u0660\u0665"}, "as YYYY-MM"),
    ("full-width-digits", {"end": "\uff12\uff10\uff12\uff16-\uff10\uff15"}, "as YYYY-MM"),
]
BAD_FORMATS = [
    ("pdf", {"format": "pdf"}, "Select a valid choice. pdf is not one of"),
    ("upper-case", {"format": "CSV "}, "Select a valid choice."),
    ("nul", {"format": "csv\x00"}, "Select a valid choice."),
    ("5000-chars", {"format": "x" * 5000}, "Select a valid choice."),
]
BAD_CONSTELLATIONS = [
    "abc",
    "\u0661",  # an Arabic-Indic 1
    " 1",
    "1.5",
    "\x00",
    "7" * 5000,
    "x" * 5000,
    "99999999999999999999",
    "-1",
    "0",
]
FILTERED = [e for e in ENDPOINTS if e.takes_filters]


def _refused(response, status: int, message: str | None) -> str | None:
    """What is wrong with ``response`` as a refusal (None: nothing)."""
    if response.status_code != status:
        return f"{response.status_code}, not {status}"
    if response.get("Content-Disposition"):
        return "a download"
    if status == 400:
        page = _text(response)
        if 'data-testid="filter-errors"' not in page:
            return "no message shown"
        if message is not None and message not in page:
            return f"{message!r} not shown"
    return None


@pytest.mark.parametrize("endpoint", FILTERED, ids=_ids(FILTERED))
def test_bad_input_is_refused_with_its_message_and_nothing_is_exported(client, world, endpoint):
    client.force_login(world.manager)
    client.raise_request_exception = False  # a server error is a finding, not a crash
    cases = [(name, params, 400, message) for name, params, message in BAD_PERIODS]
    if endpoint.is_export:
        cases += [(f"format-{n}", p, 400, m) for n, p, m in BAD_FORMATS]
    if endpoint.view == "export":
        cases += [
            (f"constellation={v[:12]!r}", {"constellation": v}, 404, None)
            for v in BAD_CONSTELLATIONS
        ]
        if endpoint.scoped:
            cases += [
                (
                    "another-services-constellation",
                    {"constellation": world.other_service_constellation.pk},
                    404,
                    None,
                )
            ]
    wrong = []
    for name, params, status, message in cases:
        response = _get(client, endpoint, world.constellation, **params)
        problem = _refused(response, status, message)
        if problem:
            wrong.append((name, problem))
    assert not wrong, "\n".join(f"{where}: {problem}" for where, problem in wrong)
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize(
    "params",
    [{"start": "9999-12", "end": "9999-12"}, {"end": "9999-12"}, {"start": "9999-12"}],
    ids=["start-and-end", "end", "start"],
)
def test_a_period_at_the_end_of_the_calendar_is_refused_not_a_crash(client, world, params):
    """December 9999 is the last month a date holds: the dashboards read the moment
    after the period (and the period before it), so such a period must be refused
    with a message like any other bad filter (a 400), on every URL alike."""
    client.force_login(world.manager)
    client.raise_request_exception = False
    wrong = []
    for endpoint in FILTERED:
        response = _get(client, endpoint, world.constellation, **params)
        problem = _refused(response, 400, None)
        if problem:
            wrong.append((endpoint.id, problem))
    assert not wrong, "\n".join(f"{where}: {problem}" for where, problem in wrong)
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize("table", TABLES)
def test_an_export_with_no_format_is_a_400(client, world, table):
    client.force_login(world.manager)

    response = client.get(reverse("dashboards:export", args=[table]))

    assert _refused(response, 400, "Choose the export's format: format=csv or format=xlsx.") is None
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize("scoped", [False, True], ids=["service", "one-constellation"])
def test_all_the_tables_as_csv_is_a_400_that_says_to_choose_xlsx(client, world, scoped):
    client.force_login(world.manager)
    params = {"format": "csv", **({"constellation": world.constellation.pk} if scoped else {})}

    response = client.get(reverse("dashboards:export", args=["all"]), params)

    assert (
        _refused(response, 400, "All the tables come as one Excel workbook: choose XLSX.") is None
    )
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize(
    "table", ["nope", "all-tables", "FAIRNESS", "evaluation-return", "fairness-"]
)
def test_an_unknown_table_is_a_404_and_nothing_is_exported(client, world, table):
    client.force_login(world.manager)

    for fmt in FORMATS:
        for extra in ({}, {"constellation": world.constellation.pk}, {"constellation": "abc"}):
            response = client.get(
                reverse("dashboards:export", args=[table]), {"format": fmt, **extra}
            )
            assert response.status_code == 404, (fmt, extra)
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize(
    ("year", "month"),
    [
        (2026, 13),
        (2026, 0),
        (0, 1),
        (1, 1),
        (1899, 12),
        (9999, 12),
        (99999, 1),
        (2026, 99999999999),
    ],
)
def test_a_month_that_does_not_exist_is_a_404(client, world, year, month):
    """The drill-down's month is in the path: a month no calendar holds (or whose
    neighbouring months none does) is not found, never a server error."""
    client.force_login(world.manager)
    client.raise_request_exception = False

    response = client.get(
        reverse("dashboards:constellation_month", args=[world.constellation.pk, year, month])
    )

    assert response.status_code == 404


def test_a_constellation_that_does_not_exist_is_a_404(client, world):
    client.force_login(world.manager)
    missing = Constellation.objects.order_by("-pk").first().pk + 1000

    for path in (
        reverse("dashboards:constellation", args=[missing]),
        reverse("dashboards:constellation_month", args=[missing, 2026, 5]),
        reverse("dashboards:constellation", args=[2**70]),
    ):
        assert client.get(path).status_code == 404, path


# --- what an export holds: formulas --------------------------------------------------


def _request(*, child, carer):
    start = datetime.combine(NOW.date() + timedelta(days=3), datetime.min.time())
    start = start.replace(hour=18, tzinfo=LONDON)
    return sleepover_services.create_request(
        by=carer, kind=Kind.PLANNED, children=[child], start=start, end=start + timedelta(hours=16)
    )


def _nights(hub, request, child, days):
    Night.objects.bulk_create(Night(hub=hub, date=d, request=request, child=child) for d in days)


def _rename(user, first_name):
    user.first_name = first_name
    user.save(update_fields=["first_name"])


@pytest.fixture
def formulas(world):
    """Names a spreadsheet would run: the carers' first names, the household's and the
    constellations' names. The satellite has three nights in the period."""
    _rename(world.satellite_carer, HYPERLINK)
    f.carer_of(world.satellite, role="second", first_name="+1", email="plus@test.example")
    _rename(world.neighbour_carer, "-2+3")
    _rename(world.other_satellite_carer, "@SUM(A1)")
    widened = f.satellite_in(world.constellation, name="Full Width")
    f.carer_of(widened, first_name="\uff1d1+1", email="wide@test.example")
    world.satellite.name = HYPERLINK
    world.satellite.save(update_fields=["name"])
    world.constellation.name = HYPERLINK
    world.constellation.save(update_fields=["name"])
    world.other_constellation.name = "\t=1+1"
    world.other_constellation.save(update_fields=["name"])
    f.ConstellationFactory(service=world.service, name="\r-1+1")
    request = _request(child=world.child, carer=world.satellite_carer)
    _nights(
        world.hub, request, world.child, [date(2026, 2, 10), date(2026, 3, 5), date(2026, 5, 20)]
    )
    return world


def _assert_no_formula_text(cells):
    for cell in cells:
        if isinstance(cell, str):
            assert not cell.startswith(TRIGGERS), f"runs as a formula: {cell!r}"


def _number(text: str) -> float:
    assert not text.startswith("'"), text
    return float(text)


def test_the_fairness_csv_holds_formulas_as_text_and_numbers_as_numbers(client, formulas):
    world = formulas
    client.force_login(world.manager)

    response = client.get(
        reverse("dashboards:export", args=["fairness"]), {**PERIOD, "format": "csv"}
    )

    assert response.status_code == 200
    rows = _csv(response)
    for row in rows:
        _assert_no_formula_text(row)
    header = rows[0]
    assert header[:2] == ["Constellation", "Household"]
    households = {r[1]: r for r in rows[1:]}
    assert households.keys() == {
        f"'{HYPERLINK} and +1",
        "'-2+3",
        "'\uff1d1+1",
        "'@SUM(A1)",
    }
    ours = households[f"'{HYPERLINK} and +1"]
    assert ours[0] == f"'{HYPERLINK}"
    assert households["'@SUM(A1)"][0] == "'\t=1+1"
    for row in rows[1:]:
        for value in row[2:]:
            assert _number(value) == int(value)
    assert int(ours[header.index("Nights")]) == 3
    assert int(ours[header.index("Planned")]) == 3
    # The household's own name (here a formula too) is never what names it.
    assert all(HYPERLINK not in r[1] or r[1].endswith("and +1") for r in rows[1:])


def test_the_evaluation_return_csv_holds_formulas_as_text_and_numbers_as_numbers(client, formulas):
    world = formulas
    client.force_login(world.manager)

    response = client.get(reverse("dashboards:evaluation_return"), {**PERIOD, "format": "csv"})

    assert response.status_code == 200
    rows = _csv(response)
    for row in rows:
        _assert_no_formula_text(row)
    header = rows[0]
    assert header[:4] == ["Quarter", "From", "To", "Constellation"]
    names = {r[3] for r in rows[1:]}
    assert names == {f"'{HYPERLINK}", "'\t=1+1", "'\r-1+1"}
    kinds = ["text", "date", "date", "text", *(MEASURES[k].kind for k in RETURN_KEYS)]
    assert len(kinds) == len(header)
    numeric = [i for i, kind in enumerate(kinds) if kind in ("int", "float", "percent")]
    assert len(numeric) > 40
    for row in rows[1:]:
        assert row[0] in ("2026 Q1", "2026 Q2")
        assert date.fromisoformat(row[1]) <= date.fromisoformat(row[2])
        for i in numeric:
            if row[i]:  # empty: not recorded
                _number(row[i])
    nights = header.index("Nights provided")
    ours = {r[0]: r[nights] for r in rows[1:] if r[3] == f"'{HYPERLINK}"}
    assert ours == {"2026 Q1": "2", "2026 Q2": "1"}


@pytest.mark.parametrize(
    "download",
    [
        pytest.param(("dashboards:export", ["all"]), id="all"),
        pytest.param(("dashboards:export", ["fairness"]), id="fairness"),
        pytest.param(("dashboards:evaluation_return", []), id="evaluation-return"),
    ],
)
def test_the_workbook_holds_no_formula_and_formulas_as_text(client, formulas, download):
    world = formulas
    client.force_login(world.manager)
    name, args = download

    response = client.get(reverse(name, args=args), {**PERIOD, "format": "xlsx"})

    assert response.status_code == 200
    book = _workbook(response)
    texts = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                assert cell.hyperlink is None, f"{sheet.title}!{cell.coordinate} is a link"
                if isinstance(cell.value, str):
                    texts.add(cell.value)
        _assert_no_formula_text(texts)
    assert f"'{HYPERLINK}" in texts
    assert "'\t=1+1" in texts
    if args != ["fairness"]:
        # XlsxWriter stores a carriage return as Excel's escape _x000D_, which Excel
        # reads back as the character (openpyxl leaves it escaped): the prefix is first.
        assert {"'\r-1+1", "'_x000D_-1+1"} & texts
    if args != []:
        assert f"'{HYPERLINK} and +1" in texts
        assert "'-2+3" in texts
        assert "'@SUM(A1)" in texts
        fairness = next(s for s in book.worksheets if s.cell(1, 2).value == "Household")
        header = [c.value for c in fairness[1]]
        for row in fairness.iter_rows(min_row=2):
            for cell in row[2:]:
                assert cell.data_type == "n"
                assert isinstance(cell.value, int | float)
            if row[1].value == f"'{HYPERLINK} and +1":
                assert row[header.index("Nights")].value == 3
    # the workbook's own metadata is no formula either
    assert not (book.properties.title or "").startswith(TRIGGERS)


# --- what an export holds: nothing of the children -----------------------------------

SURNAMES = ["Zyxwvut", "Qoqmvrx", "Jzzkpwy", "Vxqbbnl"]
SECRETS = [
    "Penicillin-ZQ",
    "Nightlight-ZQ",
    "Melatonin-ZQ",
    "Granny-Zebedee-ZQ",
    "Xanthippe",
    "Ximenez",
]


@pytest.fixture
def private(world):
    """Children with distinctive surnames, names and health notes, each household
    named after its child; nights at the hub in the period."""
    placed = [
        (world.child, world.satellite),
        (world.neighbour_child, world.neighbour),
        (world.hub_child, world.hub),
        (world.other_constellation_child, world.other_constellation_child.household),
    ]
    for (child, household), surname in zip(placed, SURNAMES, strict=True):
        child.first_name = "Xanthippe"
        child.preferred_name = "Ximenez"
        child.last_name = surname
        child.needs = "Needs a Nightlight-ZQ to settle"
        child.allergies = "Penicillin-ZQ"
        child.medication_notes = "Melatonin-ZQ 2mg at bedtime"
        child.emergency_contacts = "Granny-Zebedee-ZQ 0300 555 0199"
        child.save()
        household.name = surname
        household.save(update_fields=["name"])
    for child, carer in [
        (world.child, world.satellite_carer),
        (world.neighbour_child, world.neighbour_carer),
    ]:
        request = _request(child=child, carer=carer)
        _nights(world.hub, request, child, [date(2026, 2, 10), date(2026, 5, 20)])
    return world


def _leaks(text: str) -> list[str]:
    return [s for s in [*SURNAMES, *SECRETS] if s.lower() in text.lower()]


def test_no_dashboard_page_names_a_child_or_their_health(client, private):
    world = private
    client.force_login(world.manager)
    pages = [
        (reverse("dashboards:service"), PERIOD),
        (reverse("dashboards:service"), {}),
        (reverse("dashboards:evaluation_return"), PERIOD),
    ]
    for constellation in (world.constellation, world.other_constellation):
        pages += [
            (reverse("dashboards:constellation", args=[constellation.pk]), PERIOD),
            (reverse("dashboards:constellation_month", args=[constellation.pk, 2026, 2]), {}),
            (reverse("dashboards:constellation_month", args=[constellation.pk, 2026, 5]), {}),
        ]
    for path, params in pages:
        response = client.get(path, params)
        assert response.status_code == 200, path
        assert _leaks(_text(response)) == [], path
    # the pages did read the nights: the names are not missing for want of data
    response = client.get(reverse("dashboards:service"), PERIOD)
    assert response.context["headline"][2].value == 4


@pytest.mark.parametrize("table", TABLES)
def test_no_export_names_a_child_or_their_health(client, private, table):
    world = private
    client.force_login(world.manager)
    leaks = []
    for fmt in FORMATS if table != "all" else ["xlsx"]:
        for scope in ({}, {"constellation": world.constellation.pk}):
            params = {**PERIOD, "format": fmt, **scope}
            response = client.get(reverse("dashboards:export", args=[table]), params)
            assert response.status_code == 200, params
            if found := _leaks(_body(response)):
                leaks.append((fmt, scope, found))
    assert leaks == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_evaluation_return_names_no_child_nor_their_health(client, private, fmt):
    world = private
    client.force_login(world.manager)

    response = client.get(reverse("dashboards:evaluation_return"), {**PERIOD, "format": fmt})

    assert response.status_code == 200
    body = _body(response)
    assert "Riverside" in body
    assert _leaks(body) == []


def test_the_fairness_export_names_households_by_their_carers_first_names(client, private):
    world = private
    client.force_login(world.manager)

    response = client.get(
        reverse("dashboards:export", args=["fairness"]), {**PERIOD, "format": "csv"}
    )

    rows = _csv(response)
    households = {r[1]: int(r[2]) for r in rows[1:]}
    assert households[world.satellite_carer.first_name] == 2
    assert households[world.neighbour_carer.first_name] == 2
