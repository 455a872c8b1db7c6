"""The calendar's pages read in a fixed number of queries whatever the number of
events, dates and answers: each page is counted with one event, then with thirty
(series and single events, answered by two households, a date moved and one
cancelled), and must take exactly as many."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendar_events import selectors, services
from calendar_events.models import Event
from calendar_events.recurrence import key_of
from calendar_events.services import london_start

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 1, 4, 10, tzinfo=LONDON)
AFTER = datetime(2027, 2, 3, 9, tzinfo=LONDON)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def add_events(world, first: int, last: int) -> list[Event]:
    """Events ``first``..``last - 1``: every third a weekly series, the rest single
    dates spread over January from the 12th (the first is on the 12th, in every
    page's window); each answered by the two satellites."""
    made = []
    for n in range(first, last):
        day = date(2027, 1, 12 + n % 15)
        start = london_start(day, 10 + n % 9)
        event = services.create_event(
            constellation=world.constellation,
            by=world.hub_carer,
            kind=Event.Kind.SOCIAL,
            title=f"Get-together {n}",
            start=start,
            end=start + timedelta(hours=1),
            rule="FREQ=WEEKLY" if n % 3 == 0 else "",
            capacity=50,
        )
        for household, carer, child in (
            (world.satellite, world.satellite_carer, world.child),
            (world.neighbour, world.neighbour_carer, world.neighbour_child),
        ):
            services.answer(
                event,
                start,
                by=carer,
                household=household,
                answer="yes",
                adults=1,
                children=[child],
            )
        made.append(event)
    return made


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


PAGES = {
    "month": reverse("calendar_events:month", args=[2027, 1]),
    "week": reverse("calendar_events:week", args=[date(2027, 1, 11)]),
    "day": reverse("calendar_events:day", args=[date(2027, 1, 12)]),
    "print": reverse("calendar_events:print", args=[2027, 1]),
}


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("who", ["satellite_carer", "hub_carer", "liaison", "manager"])
def test_calendar_pages_take_the_same_queries_for_one_event_or_thirty(
    clock, login, world, django_assert_num_queries, page, who
):
    first = add_events(world, 0, 1)[0]
    client = login(getattr(world, who))
    client.get(PAGES[page])  # sessions and the like, once
    one = count(client, PAGES[page])
    events = add_events(world, 1, 30)
    # A moved date and a cancelled one change nothing either.
    services.move_occurrence(
        first,
        first.start + timedelta(days=7),
        by=world.hub_carer,
        start=first.start + timedelta(days=8),
        end=first.start + timedelta(days=8, hours=1),
    )
    services.cancel_occurrence(events[2], events[2].start + timedelta(days=7), by=world.hub_carer)
    with django_assert_num_queries(one):
        response = client.get(PAGES[page])
    assert "Get-together 15" in response.content.decode()  # on the 12th, as the first


def test_a_dates_page_takes_the_same_queries_however_many_answered(
    clock, login, world, django_assert_num_queries
):
    from tests import factories as f

    event = add_events(world, 0, 1)[0]
    url = reverse("calendar_events:date", args=[event.pk, key_of(event.start)])
    client = login(world.satellite_carer)
    client.get(url)
    one = count(client, url)
    for n in range(8):
        household = f.satellite_in(world.constellation, name=f"Household {n}")
        carer = f.carer_of(household)
        child = f.child_in(household, first_name=f"Kid{n}", preferred_name="")
        services.answer(
            event,
            event.start,
            by=carer,
            household=household,
            answer="yes",
            adults=2,
            children=[child],
        )
    with django_assert_num_queries(one):
        response = client.get(url)
    assert "Household 7" in response.content.decode()
    assert "Kid7" in response.content.decode()


def test_who_came_reads_the_same_queries_however_many_households(
    clock, login, world, django_assert_num_queries
):
    from tests import factories as f

    event = add_events(world, 0, 1)[0]
    url = reverse("calendar_events:attendance", args=[event.pk, key_of(event.start)])
    with time_machine.travel(AFTER, tick=False):
        client = login(world.hub_carer)
        client.get(url)
        one = count(client, url)
        for n in range(8):
            household = f.satellite_in(world.constellation, name=f"Household {n}")
            f.child_in(household, first_name=f"Kid{n}", preferred_name="")
        with django_assert_num_queries(one):
            response = client.get(url)
    assert "Household 7" in response.content.decode()


def test_the_dates_to_record_are_read_in_two_queries(clock, world, django_assert_num_queries):
    add_events(world, 0, 30)
    with time_machine.travel(AFTER, tick=False), django_assert_num_queries(2):
        due = selectors.attendance_due(world.hub_carer, AFTER.date())
    assert len(due) > 30  # the single dates and each week of the series
    assert all(d.slot.end <= AFTER for d in due)
    assert any(d.overdue for d in due)
    assert not any(d.overdue for d in due if AFTER - d.slot.end <= timedelta(days=7))
    # Nobody else's hub: the satellite carer has none to record.
    assert selectors.attendance_due(world.satellite_carer, AFTER.date()) == []


def test_the_hub_home_reads_the_same_queries_with_one_date_to_record_or_many(
    clock, login, world, django_assert_num_queries
):
    add_events(world, 0, 1)
    with time_machine.travel(AFTER, tick=False):
        client = login(world.hub_carer)
        client.get(reverse("home"))
        one = count(client, reverse("home"))
    add_events(world, 1, 30)
    with time_machine.travel(AFTER, tick=False), django_assert_num_queries(one):
        response = client.get(reverse("home"))
    assert "Get-together 29" in response.content.decode()
