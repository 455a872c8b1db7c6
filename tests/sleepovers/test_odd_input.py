"""Odd input at the clock changes and in query parameters: a 400 (or 404) that names
what is wrong, never a 500, and nothing saved."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from constellation import services as people
from sleepovers import services
from sleepovers.models import BedChange, Night, Request, Transition, Unavailability
from tests import factories as f

from .helpers import allow_hub

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def before_spring_forward():
    """The evening before the clocks go forward (28 March 2027, 01:00 to 02:00)."""
    with time_machine.travel(datetime(2027, 3, 27, 23, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def before_fall_back():
    """The evening before the clocks go back (31 October 2027, 02:00 to 01:00)."""
    with time_machine.travel(datetime(2027, 10, 30, 23, 0, tzinfo=LONDON), tick=False):
        yield


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def saved():
    return (
        Request.objects.count(),
        Transition.objects.count(),
        Night.objects.count(),
        Unavailability.objects.count(),
        BedChange.objects.count(),
    )


NOTHING = (0, 0, 0, 0, 0)


def crisis(world, start, end):
    return {
        "kind": "crisis",
        "crisis_reason": "overnight",
        "children": [world.child.pk],
        "start": start,
        "end": end,
    }


def refused_naming(response, field: str, words: str = "") -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    message = " ".join(body[field])
    assert words in message
    return message


# --- the API at the clock changes ------------------------------------------------------------


def test_a_crisis_at_a_time_that_does_not_exist_is_a_400_naming_the_start(
    before_spring_forward, world
):
    response = api(world.satellite_carer).post(
        reverse("api:sleepover-list"),
        crisis(world, "2027-03-28T01:30", "2027-03-28T02:30"),
        format="json",
    )
    message = refused_naming(response, "start", "does not exist in London")
    assert "the clocks go forward at 01:00" in message
    assert saved() == NOTHING


def test_a_crisis_inside_the_missing_hour_is_not_moved_an_hour_later(before_spring_forward, world):
    response = api(world.satellite_carer).post(
        reverse("api:sleepover-list"),
        crisis(world, "2027-03-28T01:30", "2027-03-28T01:45"),
        format="json",
    )
    refused_naming(response, "start", "does not exist")
    assert saved() == NOTHING


def test_a_time_that_happens_twice_is_a_400_saying_how_to_give_the_offset(before_fall_back, world):
    response = api(world.satellite_carer).post(
        reverse("api:sleepover-list"),
        crisis(world, "2027-10-30T23:30", "2027-10-31T01:30"),
        format="json",
    )
    message = refused_naming(response, "end", "happens twice in London")
    assert "+01:00 for the first, +00:00 for the second" in message
    assert saved() == NOTHING


def test_with_the_offset_the_time_that_happens_twice_is_stored_as_meant(before_fall_back, world):
    response = api(world.satellite_carer).post(
        reverse("api:sleepover-list"),
        crisis(world, "2027-10-30T23:30", "2027-10-31T01:30+00:00"),
        format="json",
    )
    assert response.status_code == 201, response.content
    request = Request.objects.get()
    assert request.end == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # the second 01:30


def test_the_hubs_offer_at_a_time_that_does_not_exist_is_a_400(before_spring_forward, world):
    allow_hub(world.child, by=world.liaison)
    asked = api(world.satellite_carer).post(
        reverse("api:sleepover-list"),
        {
            "kind": "planned",
            "children": [world.child.pk],
            "start": "2027-04-02T17:00",
            "end": "2027-04-03T10:00",
        },
        format="json",
    )
    assert asked.status_code == 201, asked.content
    request = Request.objects.get()
    response = api(world.hub_carer).post(
        reverse("api:sleepover-offer", args=[request.pk]),
        {"start": "2027-03-28T01:15", "end": "2027-03-29T10:00"},
        format="json",
    )
    refused_naming(response, "start", "does not exist")
    request.refresh_from_db()
    assert request.status == "requested"
    assert request.offered_start is None


# --- far-off years ------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2000, 2100])
def test_a_crisis_in_a_far_off_year_is_a_400_naming_the_start(before_spring_forward, world, year):
    response = api(world.satellite_carer).post(
        reverse("api:sleepover-list"),
        crisis(world, f"{year}-06-01T10:00", f"{year}-06-01T14:00"),
        format="json",
    )
    refused_naming(response, "start", "Help in a crisis")
    assert saved() == NOTHING


def test_a_period_away_from_2000_to_2100_is_a_400_naming_the_start(world):
    response = api(world.hub_carer).post(
        reverse("api:hub-unavailability-list"),
        {"hub": world.hub.pk, "start": "2000-01-01", "end": "2100-12-31", "note": "Away"},
        format="json",
    )
    refused_naming(response, "start", "cannot start more than a year ago")
    assert saved() == NOTHING


# --- the pages -------------------------------------------------------------------------------


def test_the_booking_page_refuses_a_time_that_does_not_exist_naming_it(
    before_spring_forward, world, client
):
    client.force_login(world.satellite_carer)
    response = client.post(
        reverse("sleepovers:new"),
        {
            "kind": "planned",
            "children": [world.child.pk],
            "start": "2027-03-28T01:30",
            "end": "2027-03-29T10:00",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["start"] == [
        "01:30 on 28 March 2027 does not exist in London: the clocks go forward at 01:00. "
        "Choose another time."
    ]
    assert saved() == NOTHING


def test_the_crisis_page_refuses_an_until_that_happens_twice(before_fall_back, world, client):
    client.force_login(world.satellite_carer)
    response = client.post(
        reverse("sleepovers:crisis"),
        {
            "crisis_reason": "overnight",
            "children": [world.child.pk],
            "until": "2027-10-31T01:30",
        },
    )
    assert response.status_code == 400
    [message] = response.context["form"].errors["until"]
    assert "happens twice in London" in message
    assert saved() == NOTHING


def test_the_beds_page_refuses_a_period_away_from_2000_to_2100(world, client):
    client.force_login(world.hub_carer)
    response = client.post(
        reverse("sleepovers:add_unavailability", args=[world.hub.pk]),
        {"start": "2000-01-01", "end": "2100-12-31", "note": "Away"},
    )
    assert response.status_code == 400
    assert "cannot start more than a year ago" in response.context["away_form"].errors["start"][0]
    assert saved() == NOTHING


# --- ?hub= on the pages -------------------------------------------------------------------


ODD_IDS = ["²", "٣", "１", "-1", "1.0", " 1", "9" * 30, "abc"]


@pytest.mark.parametrize("page", ["nights", "availability", "beds"])
def test_an_odd_hub_in_the_query_is_a_404(world, client, page):
    client.force_login(world.liaison)
    for hub in ODD_IDS:
        response = client.get(reverse(f"sleepovers:{page}"), {"hub": hub})
        assert response.status_code == 404, hub


def test_a_household_that_is_not_a_hub_has_no_availability_page(world, client):
    client.force_login(world.liaison)
    response = client.get(reverse("sleepovers:availability"), {"hub": world.satellite.pk})
    assert response.status_code == 404


def test_a_stand_in_has_its_beds_page_but_no_availability_of_its_own(world, client):
    stand_in = f.satellite_in(world.constellation, name="The Fairweathers")
    people.update_household(stand_in, by=None, beds=2)
    carer = f.carer_of(stand_in, email="fair@test.example")
    today = timezone.localdate()
    services.arrange_cover(
        world.constellation, by=world.liaison, stand_in=stand_in, start=today, end=today, note=""
    )
    client.force_login(world.liaison)
    response = client.get(reverse("sleepovers:availability"), {"hub": stand_in.pk})
    assert response.status_code == 404
    client.force_login(carer)
    assert client.get(reverse("sleepovers:beds"), {"hub": stand_in.pk}).status_code == 200


def test_an_odd_hub_in_the_api_query_is_a_400(world):
    client = api(world.hub_carer)
    for hub in [*ODD_IDS, "null"]:
        response = client.get(reverse("api:hub-unavailability-list"), {"hub": hub})
        assert response.status_code == 400, hub
        assert "hub" in response.json()
