"""The hub's usual number of beds changes through one service, under the hub's lock,
whatever the door (the API, the household page, the admin): a night already booked is
never left with more children than beds. And a bed change covers at most a year."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from constellation.models import Activity
from constellation.services import ActionRefused
from sleepovers import selectors, services
from sleepovers.models import Night
from tests import factories as f

from .helpers import allow_hub, stay

pytestmark = pytest.mark.django_db

DAYS_AHEAD = 5


@pytest.fixture
def full_night(nine_am, world):
    """Three children booked at the hub (3 beds) on one night five days ahead."""
    extra = f.child_in(world.satellite, first_name="Cyd", last_name="Quill")
    start, end = stay(DAYS_AHEAD)
    for child, carer in (
        (world.child, world.satellite_carer),
        (world.neighbour_child, world.neighbour_carer),
        (extra, world.satellite_carer),
    ):
        allow_hub(child, by=world.liaison)
        request = services.create_request(
            by=carer, kind="planned", children=[child], start=start, end=end
        )
        services.accept(request, by=world.hub_carer)
    night = start.date()
    assert Night.objects.filter(hub=world.hub, date=night).count() == 3
    return night


def api_patch(user, household, data):
    client = APIClient()
    client.force_login(user)
    return client.patch(
        reverse("api:household-detail", args=[household.pk]),
        data=json.dumps(data),
        content_type="application/json",
    )


def night_on(world, day):
    world.hub.refresh_from_db()
    return selectors.nights(world.hub, day, day)[0]


def beds_activity():
    return Activity.objects.filter(verb="hub.usual_beds_changed")


# --- the doors -----------------------------------------------------------------------


def test_the_api_refuses_fewer_beds_than_children_booked(world, full_night):
    response = api_patch(world.liaison, world.hub, {"beds": 0, "phone": "07700 900999"})

    assert response.status_code == 409, response.content
    detail = response.json()["detail"]
    assert "3 children are booked" in detail
    assert f"{full_night:%A %d %B %Y}" in detail
    assert "0 beds" in detail
    world.hub.refresh_from_db()
    assert world.hub.beds == 3
    assert world.hub.phone != "07700 900999"  # nothing saved, not even the other fields
    info = night_on(world, full_night)
    assert (info.beds, info.booked) == (3, 3)
    assert not beds_activity().exists()
    assert not Activity.objects.filter(verb="household.updated").exists()


def test_the_household_page_refuses_the_same(world, full_night, login):
    page = reverse("constellation:household_edit", args=[world.hub.pk])
    phone = world.hub.phone
    response = login(world.liaison).post(
        page, {"name": "The Hub Home", "phone": "07700 900999", "beds": "2"}
    )

    assert response.status_code == 200  # the form again, with the reason
    assert "3 children are booked" in response.content.decode()
    world.hub.refresh_from_db()
    assert (world.hub.beds, world.hub.phone) == (3, phone)
    assert not beds_activity().exists()


def test_more_beds_are_accepted_and_recorded(world, full_night):
    response = api_patch(world.liaison, world.hub, {"beds": 5})

    assert response.status_code == 200, response.content
    assert response.json()["beds"] == 5
    world.hub.refresh_from_db()
    assert world.hub.beds == 5
    assert night_on(world, full_night).free == 2
    activity = beds_activity().get()
    assert activity.actor == world.liaison
    assert activity.payload == {"from": 3, "to": 5}
    assert activity.constellation == world.constellation
    assert "3 to 5" in activity.summary


def test_the_household_page_changes_the_beds_through_the_same_service(world, nine_am, login):
    page = reverse("constellation:household_edit", args=[world.hub.pk])
    response = login(world.liaison).post(page, {"name": "The Hub Home", "beds": "1"})

    assert response.status_code == 302
    world.hub.refresh_from_db()
    assert world.hub.beds == 1  # nothing booked: fewer beds are fine
    assert beds_activity().get().payload == {"from": 3, "to": 1}


def test_a_night_covered_by_a_bed_change_keeps_its_number(world, full_night):
    services.change_beds(
        world.hub, by=world.hub_carer, start=full_night, end=full_night, beds=3, note="Cousins"
    )

    response = api_patch(world.liaison, world.hub, {"beds": 1})

    assert response.status_code == 200, response.content
    assert night_on(world, full_night).beds == 3
    assert night_on(world, full_night + timedelta(days=1)).beds == 1


def test_nights_already_past_do_not_hold_the_beds(world, full_night):
    with time_machine.travel(timezone.now() + timedelta(days=DAYS_AHEAD + 1), tick=False):
        response = api_patch(world.liaison, world.hub, {"beds": 0})
    assert response.status_code == 200, response.content


def test_the_admin_cannot_change_a_household(world, nine_am, login):
    admin = f.UserFactory(is_superuser=True, is_staff=True)
    page = reverse("admin:constellation_household_change", args=[world.hub.pk])
    response = login(admin).post(page, {"name": "The Hub Home", "beds": "0"})
    assert response.status_code == 403
    world.hub.refresh_from_db()
    assert world.hub.beds == 3


# --- who may ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("liaison", 200),
        ("manager", 200),
        ("hub_carer", 403),  # the hub carers change the beds for dates on the beds page
        ("satellite_carer", 403),
        ("other_liaison", 404),
        ("other_service_manager", 404),
    ],
)
def test_who_may_change_the_beds_through_the_api(world, nine_am, user, status):
    response = api_patch(getattr(world, user), world.hub, {"beds": 4})
    assert response.status_code == status, response.content
    world.hub.refresh_from_db()
    assert world.hub.beds == (4 if status == 200 else 3)


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("hub_carer", True),
        ("second_hub_carer", True),
        ("liaison", True),
        ("manager", True),
        ("satellite_carer", False),
        ("other_liaison", False),
        ("other_hub_carer", False),
        ("other_service_manager", False),
    ],
)
def test_who_may_change_the_beds_through_the_service(world, nine_am, user, allowed):
    if allowed:
        services.set_usual_beds(world.hub, by=getattr(world, user), beds=4)
    else:
        with pytest.raises(ActionRefused):
            services.set_usual_beds(world.hub, by=getattr(world, user), beds=4)
    world.hub.refresh_from_db()
    assert world.hub.beds == (4 if allowed else 3)


@pytest.mark.parametrize("beds", [-1, 21, True])
def test_beds_out_of_range_are_refused_by_the_service(world, nine_am, beds):
    with pytest.raises(ValidationError) as refused:
        services.set_usual_beds(world.hub, by=world.liaison, beds=beds)
    assert "beds" in refused.value.message_dict


# --- a bed change covers at most a year ----------------------------------------------


def test_a_bed_change_covers_at_most_a_year(world, nine_am):
    today = timezone.localdate()
    services.change_beds(
        world.hub, by=world.hub_carer, start=today, end=today + timedelta(days=365), beds=2
    )
    with pytest.raises(ValidationError) as refused:
        services.change_beds(
            world.hub, by=world.hub_carer, start=today, end=today.replace(year=2100), beds=2
        )
    assert "end" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.change_beds(
            world.hub, by=world.hub_carer, start=today, end=today + timedelta(days=366), beds=2
        )


def test_a_bed_change_starts_at_most_a_year_ago(world, nine_am):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        services.change_beds(
            world.hub,
            by=world.hub_carer,
            start=today.replace(year=2000, day=1),
            end=today.replace(year=2000, day=1),
            beds=2,
        )
    assert "start" in refused.value.message_dict


def test_the_beds_page_refuses_a_change_of_decades(world, nine_am, login):
    today = timezone.localdate()
    response = login(world.hub_carer).post(
        reverse("sleepovers:change_beds", args=[world.hub.pk]),
        {"start": today.isoformat(), "end": today.replace(year=2099).isoformat(), "beds": "1"},
    )
    assert response.status_code == 400
    assert "at most a year" in response.content.decode()
    assert not world.hub.bed_changes.exists()
