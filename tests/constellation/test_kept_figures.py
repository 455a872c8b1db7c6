"""The dashboards' kept figures (``constellation.kept_figures``): a page read again
with nothing changed is served from what was kept, a change made through the
services shows on the very next page, a change the activity record does not see
shows within the keep, and a kept page is never shown to someone who reads other
constellations."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from constellation import kept_figures, measures
from constellation.periods import Period
from sleepovers import services as sleepover_services
from sleepovers.models import Kind, Night

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=LONDON)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _request(world, *, child, carer):
    start = datetime(2026, 11, 23, 18, 0, tzinfo=LONDON)
    return sleepover_services.create_request(
        by=carer, kind=Kind.PLANNED, children=[child], start=start, end=start + timedelta(hours=16)
    )


def _page(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboards:service"))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def _without_tokens(page: str) -> str:
    """The page without its per-request CSRF token and CSP nonces."""
    return re.sub(r'(content|nonce|value)="[A-Za-z0-9+/=_-]{20,}"', "", page)


def _headline(page: str, key: str) -> str:
    return re.search(rf'data-measure="{key}">([^<]*)<', page)[1]


def _month_row(page: str, month: str, column: int = 0) -> str:
    """The ``column``-th figure of a month's row in the "Month by month" table."""
    row = re.search(rf"<th scope=\"row\">{month}</th>(.*?)</tr>", page, re.S)[1]
    return re.findall(r'<td class="text-end">([^<]*)</td>', row)[column]


def test_a_request_made_after_the_page_was_read_is_on_the_next_page(clock, client, world):
    client.force_login(world.manager)
    first, cold = _page(client)
    assert _headline(first, "requests") == "0"
    assert _month_row(first, "November 2026") == "0"

    again, warm = _page(client)
    assert _without_tokens(again) == _without_tokens(first)
    assert warm < cold
    assert warm <= 12, f"a page read again with nothing changed took {warm} queries"

    _request(world, child=world.child, carer=world.satellite_carer)
    after, _ = _page(client)
    assert _headline(after, "requests") == "1"
    assert _month_row(after, "November 2026") == "1"


def test_a_change_the_activity_record_does_not_see_shows_within_the_keep(clock, client, world):
    request = _request(world, child=world.child, carer=world.satellite_carer)
    client.force_login(world.manager)
    before, _ = _page(client)
    assert _month_row(before, "November 2026", column=1) == "0"  # nights

    # Written straight to the table, as an administrator's edit would be.
    Night.objects.create(hub=world.hub, date=NOW.date(), request=request, child=world.child)

    clock.shift(timedelta(seconds=kept_figures.KEEP_SECONDS + 1))
    after, _ = _page(client)
    assert _month_row(after, "November 2026", column=1) == "1"
    assert _headline(after, "nights") == "1"


def test_a_page_kept_for_a_manager_is_not_shown_to_a_liaison_worker(clock, client, world):
    client.force_login(world.manager)
    page, _ = _page(client)
    assert world.other_constellation.name in page

    client.force_login(world.liaison)
    theirs, _ = _page(client)
    assert world.constellation.name in theirs
    assert world.other_constellation.name not in theirs


def test_kept_figures_are_the_live_measures(clock, world):
    _request(world, child=world.child, carer=world.satellite_carer)
    period = Period.default(NOW.date())
    kept = kept_figures.figures([world.constellation], period)
    assert kept.rows == measures.figures([world.constellation], period).rows
    assert kept.rows[world.constellation.pk]["requests"] == 1


def test_the_data_version_moves_with_the_activity_record_of_the_service_only(clock, world):
    ours = kept_figures.data_version([world.constellation.pk])
    theirs = kept_figures.data_version([world.other_service_constellation.pk])
    _request(world, child=world.child, carer=world.satellite_carer)
    assert kept_figures.data_version([world.constellation.pk]) != ours
    assert kept_figures.data_version([world.other_service_constellation.pk]) == theirs


def test_a_change_committed_after_a_newer_one_was_read_moves_the_version(clock, world):
    """Two changes at once: the one that took its id first commits last. Its row of the
    activity record is not the newest already read, yet the version moves."""
    from django.contrib.contenttypes.models import ContentType

    from constellation.models import Activity

    def row(pk):
        return Activity.objects.create(
            pk=pk,
            service=world.service,
            constellation=world.constellation,
            verb="sleepover.accepted",
            target_type=ContentType.objects.get_for_model(world.constellation),
            target_id=world.constellation.pk,
            summary="A change",
        )

    _request(world, child=world.child, carer=world.satellite_carer)
    top = Activity.objects.order_by("-pk").values_list("pk", flat=True).first()
    row(top + 10)  # committed first
    read = kept_figures.data_version([world.constellation.pk])
    row(top + 5)  # took its id earlier, committed later
    assert kept_figures.data_version([world.constellation.pk]) != read


def test_a_dashboard_answers_head_as_it_answers_get(clock, client, world):
    client.force_login(world.manager)
    assert client.head(reverse("dashboards:service")).status_code == 200
    assert client.post(reverse("dashboards:service")).status_code == 405


def test_the_task_makes_the_default_dashboards_ready_after_a_change(clock, client, world):
    from constellation.tasks import make_dashboards_ready

    scopes = kept_figures.dashboard_scopes()
    # The service (Riverside and Hillside), the liaison worker's Riverside, the other
    # liaison worker's Hillside and the other service's constellation.
    assert [world.constellation.pk, world.other_constellation.pk] in scopes
    assert [world.constellation.pk] in scopes
    assert [world.other_service_constellation.pk] in scopes

    assert make_dashboards_ready() == len(scopes)
    assert make_dashboards_ready() == 0  # nothing changed: nothing computed

    client.force_login(world.manager)
    _, ready = _page(client)
    kept_figures.cache.clear()
    _, cold = _page(client)
    assert ready < cold - 20, (ready, cold)
    make_dashboards_ready()

    _request(world, child=world.child, carer=world.satellite_carer)
    # Northshire's scopes are computed again; Southshire's are still kept.
    assert make_dashboards_ready() == len(scopes) - 1
