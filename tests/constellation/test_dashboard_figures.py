"""The same figure is the same everywhere (the dashboard, its exports, the evaluation
return and the sleepovers fairness table), and the manager's dashboard reads in a
number of queries that does not depend on how many constellations there are."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from constellation import measures
from constellation.periods import Period
from sleepovers import selectors as sleepover_selectors
from sleepovers import services as sleepover_services
from sleepovers.models import Kind, Night
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=LONDON)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _request(world, *, child, carer, start_days=3):
    start = datetime.combine(NOW.date() + timedelta(days=start_days), datetime.min.time())
    start = start.replace(hour=18, tzinfo=LONDON)
    return sleepover_services.create_request(
        by=carer,
        kind=Kind.PLANNED,
        children=[child],
        start=start,
        end=start + timedelta(hours=16),
    )


def _nights(world, request, child, days):
    Night.objects.bulk_create(
        Night(hub=world.hub, date=day, request=request, child=child) for day in days
    )


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


def test_the_dashboard_its_exports_the_return_and_the_fairness_table_agree(clock, client, world):
    ours = _request(world, child=world.child, carer=world.satellite_carer)
    theirs = _request(world, child=world.neighbour_child, carer=world.neighbour_carer)
    # Nights this calendar year (one across the end of January), and one last year.
    _nights(world, ours, world.child, [date(2026, 1, 31), date(2026, 2, 1), date(2026, 6, 3)])
    _nights(world, ours, world.child, [date(2025, 12, 30)])
    _nights(world, theirs, world.neighbour_child, [date(2026, 3, 10)])

    fairness = {
        row["household"]: row["total"]
        for row in sleepover_selectors.fairness(world.manager, [world.constellation], NOW.date())
        if row["constellation"] == world.constellation.name
    }
    assert fairness[world.satellite.name] == 3
    assert fairness[world.neighbour.name] == 1

    year = Period.of_months(date(2026, 1, 1), date(2026, 12, 1))
    names = measures.carers_first_names([world.satellite.pk, world.neighbour.pk])
    figures = measures.figures([world.constellation], year)
    assert figures.rows[world.constellation.pk]["nights"] == sum(fairness.values()) == 4

    client.force_login(world.manager)
    query = {"start": "2026-01", "end": "2026-12"}
    page = client.get(reverse("dashboards:service"), query)
    assert page.status_code == 200
    fairness_table = next(t for t in page.context["tables"] if t.name == "fairness")
    on_page = {
        r["household"]: r["total"]
        for r in fairness_table.rows
        if r["constellation"] == world.constellation.name
    }
    assert on_page[names[world.satellite.pk]] == 3
    assert on_page[names[world.neighbour.pk]] == 1
    support = next(t for t in page.context["tables"] if t.name == "support-care")
    row = next(r for r in support.rows if r["constellation"] == world.constellation.name)
    assert row["nights"] == 4

    exported = _csv(
        client.get(reverse("dashboards:export", args=["fairness"]), {**query, "format": "csv"})
    )
    header = exported[0]
    households = {
        r[header.index("Household")]: int(r[header.index("Nights")])
        for r in exported[1:]
        if r[0] == world.constellation.name
    }
    assert households[names[world.satellite.pk]] == 3
    assert households[names[world.neighbour.pk]] == 1

    support_csv = _csv(
        client.get(reverse("dashboards:export", args=["support-care"]), {**query, "format": "csv"})
    )
    nights_column = support_csv[0].index("Nights provided")
    ours_row = next(r for r in support_csv[1:] if r[0] == world.constellation.name)
    assert int(ours_row[nights_column]) == 4

    returned = _csv(client.get(reverse("dashboards:evaluation_return"), {**query, "format": "csv"}))
    nights_column = returned[0].index("Nights provided")
    quarters = {
        r[0]: int(r[nights_column]) for r in returned[1:] if r[3] == world.constellation.name
    }
    # Q1 holds 31 January, 1 February and 10 March; Q2 holds 3 June.
    assert quarters == {"2026 Q1": 3, "2026 Q2": 1, "2026 Q3": 0, "2026 Q4": 0}
    assert sum(quarters.values()) == 4

    months = measures.monthly([world.constellation], year)["nights"]
    assert sum(sum(m.values()) for m in months.values()) == 4
    assert sum(months[date(2026, 1, 1)].values()) == 1
    assert sum(months[date(2026, 2, 1)].values()) == 1


def _constellations(service, count: int) -> None:
    for i in range(count):
        constellation = f.ConstellationFactory(service=service, name=f"Constellation {i:02}")
        f.hub_for(constellation)
        satellite = f.satellite_in(constellation)
        f.carer_of(satellite, first_name=f"Carer{i}")
        f.child_in(satellite)


def _dashboard_queries(client, manager) -> int:
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboards:service"))
    assert response.status_code == 200
    return len(queries)


def test_the_manager_dashboard_reads_in_the_same_queries_for_2_and_20_constellations(clock, client):
    small = f.ServiceFactory(name="Small service")
    large = f.ServiceFactory(name="Large service")
    _constellations(small, 2)
    _constellations(large, 20)
    small_manager = f.staff(small, "manager")
    large_manager = f.staff(large, "manager")
    small_count = _dashboard_queries(client, small_manager)
    large_count = _dashboard_queries(client, large_manager)
    assert small_count == large_count
