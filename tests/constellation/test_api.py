"""The constellation API: who sees what, who may change what, and that no input
gets past the serializers to the database (or to a 500)."""

import json
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from constellation import services
from constellation.models import Activity, Child, Household
from people.models import ChildRecordAccess
from tests import factories as f

pytestmark = pytest.mark.django_db

CHILD_FULL_KEYS = {
    "record",
    "id",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "age",
    "household",
    "needs",
    "allergies",
    "medication_notes",
    "emergency_contacts",
    "status",
    "siblings",
}
CHILD_LIMITED_KEYS = {"record", "id", "preferred_name", "age", "household"}
HOUSEHOLD_FULL_KEYS = {
    "record",
    "id",
    "name",
    "kind",
    "address",
    "postcode",
    "phone",
    "second_phone",
    "beds",
}
HOUSEHOLD_REDUCED_KEYS = {"record", "id", "name", "kind", "phone", "second_phone", "beds"}


@pytest.fixture
def as_user():
    def _as(user):
        client = APIClient()
        client.force_login(user)
        return client

    return _as


def url(name, pk=None):
    return reverse(f"api:{name}", args=[pk] if pk is not None else [])


def patch(client, path, data):
    return client.patch(path, data=json.dumps(data), content_type="application/json")


def results(response):
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["results"]}


def access_rows(user, child):
    return list(
        ChildRecordAccess.objects.filter(user=user, child=child).values_list("channel", flat=True)
    )


# --- anonymous: 401, with the header that says how to authenticate --------------------

ENDPOINTS = [
    ("get", "constellation-list", False),
    ("get", "constellation-detail", True),
    ("get", "household-list", False),
    ("get", "household-detail", True),
    ("patch", "household-detail", True),
    ("get", "child-list", False),
    ("get", "child-detail", True),
    ("patch", "child-detail", True),
]


@pytest.mark.parametrize(("method", "name", "detail"), ENDPOINTS)
def test_anonymous_requests_get_401(world, method, name, detail):
    pk = {"constellation": world.constellation.pk, "household": world.satellite.pk}.get(
        name.split("-")[0], world.child.pk
    )
    path = url(name, pk if detail else None)
    response = getattr(APIClient(), method)(path, data={}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert "Amara" not in response.content.decode()


@pytest.mark.parametrize(("method", "name", "detail"), ENDPOINTS)
def test_a_bad_token_gets_401(world, method, name, detail):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    path = url(name, world.child.pk if detail else None)
    assert getattr(client, method)(path, data={}, format="json").status_code == 401


# --- constellations -------------------------------------------------------------------


def test_satellite_carer_sees_their_constellation_and_the_hubs_phone(world, as_user):
    rows = results(as_user(world.satellite_carer).get(url("constellation-list")))
    assert list(rows) == [world.constellation.pk]
    row = rows[world.constellation.pk]
    assert row["name"] == "Riverside"
    assert row["service_name"] == "Northshire Fostering"
    assert row["hub"] == {
        "id": world.hub.pk,
        "name": "The Hub Home",
        "phone": world.hub.phone,
        "second_phone": world.hub.second_phone,
    }
    assert row["active_satellites"] == 2
    assert row["size_warning"] == world.constellation.size_warning(2)
    assert "2 active satellite households" in row["size_warning"]


def test_constellation_without_hub_and_with_enough_satellites(world, as_user):
    constellation = f.ConstellationFactory(service=world.service, name="Meadow")
    for _ in range(6):
        f.satellite_in(constellation)
    f.satellite_in(constellation, active=False)
    body = as_user(world.manager).get(url("constellation-detail", constellation.pk)).json()
    assert body["hub"] is None
    assert body["active_satellites"] == 6
    assert body["size_warning"] == ""


def test_manager_sees_every_constellation_of_the_service_and_no_other(world, as_user):
    rows = results(as_user(world.manager).get(url("constellation-list")))
    assert set(rows) == {world.constellation.pk, world.other_constellation.pk}
    rows = results(as_user(world.other_service_manager).get(url("constellation-list")))
    assert set(rows) == {world.other_service_constellation.pk}


@pytest.mark.parametrize(
    ("user", "constellation", "status"),
    [
        ("hub_carer", "constellation", 200),
        ("satellite_carer", "constellation", 200),
        ("liaison", "constellation", 200),
        ("manager", "other_constellation", 200),
        ("hub_carer", "other_constellation", 404),
        ("satellite_carer", "other_constellation", 404),
        ("liaison", "other_constellation", 404),
        ("social_worker", "constellation", 404),
        ("manager", "other_service_constellation", 404),
        ("other_service_manager", "constellation", 404),
        ("other_service_carer", "constellation", 404),
    ],
)
def test_constellation_detail_matrix(world, as_user, user, constellation, status):
    pk = getattr(world, constellation).pk
    response = as_user(getattr(world, user)).get(url("constellation-detail", pk))
    assert response.status_code == status
    if status == 404:
        assert getattr(world, constellation).name not in response.content.decode()


def test_constellations_are_read_only(world, as_user):
    client = as_user(world.manager)
    path = url("constellation-detail", world.constellation.pk)
    assert patch(client, path, {"name": "Renamed"}).status_code == 405
    assert client.delete(path).status_code == 405
    assert client.post(url("constellation-list"), {}, format="json").status_code == 405


def test_unknown_and_malformed_ids_are_404(world, as_user):
    client = as_user(world.manager)
    for name in ("constellation", "household", "child"):
        assert client.get(url(f"{name}-detail", 999999)).status_code == 404
        assert client.get(url(f"{name}-detail", 10**30)).status_code == 404
        assert client.get(f"/api/v1/{name}s/abc/").status_code == 404


# --- households -----------------------------------------------------------------------


def test_satellite_carer_sees_own_address_and_only_names_of_the_others(world, as_user):
    rows = results(as_user(world.satellite_carer).get(url("household-list")))
    assert set(rows) == {world.hub.pk, world.satellite.pk, world.neighbour.pk}
    assert set(rows[world.satellite.pk]) == HOUSEHOLD_FULL_KEYS
    assert rows[world.satellite.pk]["address"] == world.satellite.address
    for other in (world.hub, world.neighbour):
        assert set(rows[other.pk]) == HOUSEHOLD_REDUCED_KEYS
        assert rows[other.pk]["name"] == other.name
        assert rows[other.pk]["phone"] == other.phone
        assert other.postcode not in json.dumps(rows[other.pk])


def test_list_and_detail_agree_on_who_sees_an_address(world, as_user):
    """The list decides a page in one query, the detail through access.py: same rule."""
    users = [
        "hub_carer",
        "second_hub_carer",
        "satellite_carer",
        "neighbour_carer",
        "liaison",
        "manager",
        "social_worker",
        "other_hub_carer",
        "other_satellite_carer",
        "other_liaison",
        "other_service_manager",
        "other_service_carer",
    ]
    for name in users:
        client = as_user(getattr(world, name))
        rows = results(client.get(url("household-list")))
        for pk, row in rows.items():
            detail = client.get(url("household-detail", pk)).json()
            assert detail == row, (name, pk)


@pytest.mark.parametrize("user", ["hub_carer", "liaison", "manager"])
def test_hub_liaison_and_manager_see_every_address_of_the_constellation(world, as_user, user):
    rows = results(as_user(getattr(world, user)).get(url("household-list")))
    for household in (world.hub, world.satellite, world.neighbour):
        assert rows[household.pk]["postcode"] == household.postcode


def test_household_lists_stop_at_the_constellation_and_the_service(world, as_user):
    south = {h.pk for h in Household.objects.filter(service=world.other_service)}
    hillside = {h.pk for h in Household.objects.filter(name__in=["Hillside Hub", "The Cedars"])}
    for user in ("hub_carer", "satellite_carer", "liaison"):
        rows = results(as_user(getattr(world, user)).get(url("household-list")))
        assert not set(rows) & (south | hillside)
    rows = results(as_user(world.manager).get(url("household-list")))
    assert hillside <= set(rows)
    assert not set(rows) & south
    rows = results(as_user(world.other_service_manager).get(url("household-list")))
    assert set(rows) == south


def test_social_worker_sees_the_childs_household_without_address(world, as_user):
    response = as_user(world.social_worker).get(url("household-detail", world.satellite.pk))
    assert response.status_code == 200
    assert set(response.json()) == HOUSEHOLD_REDUCED_KEYS
    response = as_user(world.social_worker).get(url("household-detail", world.neighbour.pk))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("user", "household", "status", "keys"),
    [
        ("satellite_carer", "satellite", 200, HOUSEHOLD_FULL_KEYS),
        ("satellite_carer", "neighbour", 200, HOUSEHOLD_REDUCED_KEYS),
        ("satellite_carer", "hub", 200, HOUSEHOLD_REDUCED_KEYS),
        ("hub_carer", "neighbour", 200, HOUSEHOLD_FULL_KEYS),
        ("liaison", "satellite", 200, HOUSEHOLD_FULL_KEYS),
        ("manager", "satellite", 200, HOUSEHOLD_FULL_KEYS),
        ("other_hub_carer", "satellite", 404, None),
        ("other_liaison", "hub", 404, None),
        ("other_service_manager", "satellite", 404, None),
        ("other_service_liaison", "satellite", 404, None),
    ],
)
def test_household_detail_matrix(world, as_user, user, household, status, keys):
    response = as_user(getattr(world, user)).get(
        url("household-detail", getattr(world, household).pk)
    )
    assert response.status_code == status
    if keys:
        assert set(response.json()) == keys
    else:
        assert getattr(world, household).name not in response.content.decode()


def test_liaison_changes_a_household_through_the_service(world, as_user):
    response = patch(
        as_user(world.liaison),
        url("household-detail", world.hub.pk),
        {"beds": 4, "phone": " 07700 900123 ", "address": "2 New Road"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["beds"] == 4
    world.hub.refresh_from_db()
    assert (world.hub.beds, world.hub.phone, world.hub.address) == (4, "07700 900123", "2 New Road")
    activity = Activity.objects.get(verb="household.updated")
    assert activity.actor == world.liaison
    assert set(activity.payload["fields"]) == {"beds", "phone", "address"}


def test_manager_may_change_any_household_of_the_service(world, as_user):
    cedars = Household.objects.get(name="The Cedars")
    response = patch(as_user(world.manager), url("household-detail", cedars.pk), {"beds": 0})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("user", "household", "status"),
    [
        ("hub_carer", "hub", 403),
        ("second_hub_carer", "satellite", 403),
        ("satellite_carer", "satellite", 403),
        ("satellite_carer", "neighbour", 403),
        ("social_worker", "satellite", 403),
        ("other_liaison", "satellite", 404),
        ("other_hub_carer", "hub", 404),
        ("other_service_manager", "satellite", 404),
        ("other_service_liaison", "hub", 404),
    ],
)
def test_household_patch_refused(world, as_user, user, household, status):
    target = getattr(world, household)
    before = Household.objects.filter(pk=target.pk).values().get()
    response = patch(
        as_user(getattr(world, user)), url("household-detail", target.pk), {"name": "Taken over"}
    )
    assert response.status_code == status
    assert "detail" in response.json()
    assert Household.objects.filter(pk=target.pk).values().get() == before


BAD_HOUSEHOLD_INPUT = [
    ("name", ["The", "Ashfords"]),
    ("name", {"first": "x"}),
    ("name", None),
    ("name", ""),
    ("name", "x" * 10_000),
    ("name", "Null\x00byte"),
    ("address", "x" * 10_000),
    ("address", None),
    ("postcode", "x" * 11),
    ("postcode", ["AB1"]),
    ("phone", "0" * 31),
    ("second_phone", 12.5e300),
    ("phone", 7700900123),
    ("name", 42),
    ("name", True),
    ("beds", "many"),
    ("beds", "3 beds"),
    ("beds", -1),
    ("beds", 21),
    ("beds", 65_536),
    ("beds", 10**40),
    ("beds", 2.5),
    ("beds", True),
    ("beds", None),
    ("beds", [3]),
    ("service", "another service"),
    ("kind", "hub"),
    ("id", 1),
]


@pytest.mark.parametrize(("field", "value"), BAD_HOUSEHOLD_INPUT)
def test_bad_household_input_is_400_naming_the_field(world, as_user, field, value):
    before = Household.objects.filter(pk=world.satellite.pk).values().get()
    response = patch(
        as_user(world.liaison),
        url("household-detail", world.satellite.pk),
        {field: value, "phone": "01234 567890"} if field != "phone" else {field: value},
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Household.objects.filter(pk=world.satellite.pk).values().get() == before
    assert not Activity.objects.filter(verb="household.updated").exists()


@pytest.mark.parametrize("beds", [0, 20, "7"])
def test_beds_within_the_limit_are_accepted(world, as_user, beds):
    response = patch(as_user(world.liaison), url("household-detail", world.hub.pk), {"beds": beds})
    assert response.status_code == 200, response.content
    world.hub.refresh_from_db()
    assert world.hub.beds == int(beds)


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"a string"', "null", "{", "123"], ids=repr)
def test_household_patch_with_a_body_that_is_not_an_object_is_400(world, as_user, body):
    response = as_user(world.liaison).patch(
        url("household-detail", world.satellite.pk), data=body, content_type="application/json"
    )
    assert response.status_code == 400


def test_household_patch_must_be_json(world, as_user):
    response = as_user(world.liaison).patch(
        url("household-detail", world.satellite.pk),
        data="name=Other",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    world.satellite.refresh_from_db()
    assert world.satellite.name == "The Ashfords"


def test_household_put_and_delete_are_not_allowed(world, as_user):
    client = as_user(world.liaison)
    path = url("household-detail", world.satellite.pk)
    assert client.put(path, {"name": "x"}, format="json").status_code == 405
    assert client.delete(path).status_code == 405
    assert client.post(url("household-list"), {"name": "x"}, format="json").status_code == 405


def test_a_refused_household_change_is_409(world, as_user, monkeypatch):
    def refuse(household, *, by, **changes):
        raise services.ActionRefused("The hub is closed for changes.")

    monkeypatch.setattr(services, "update_household", refuse)
    response = patch(as_user(world.liaison), url("household-detail", world.hub.pk), {"beds": 5})
    assert response.status_code == 409
    assert response.json() == {"detail": "The hub is closed for changes."}


# --- children -------------------------------------------------------------------------


def test_hub_carer_sees_a_satellite_childs_allergies_and_it_is_logged(world, as_user):
    response = as_user(world.hub_carer).get(url("child-detail", world.child.pk))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CHILD_FULL_KEYS
    assert body["allergies"] == "Penicillin"
    assert body["last_name"] == "Quill"
    assert body["household"] == world.satellite.pk
    assert body["age"] == world.child.age
    assert body["status"] == "placed"
    assert access_rows(world.hub_carer, world.child) == ["api"]


def test_satellite_carer_sees_a_neighbours_child_by_preferred_name_and_age(world, as_user):
    response = as_user(world.satellite_carer).get(url("child-detail", world.neighbour_child.pk))
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "record": "summary",
        "id": world.neighbour_child.pk,
        "preferred_name": "Bob",
        "age": world.neighbour_child.age,
        "household": world.neighbour.pk,
    }
    assert "last_name" not in body
    assert "allergies" not in body
    assert "Stone" not in response.content.decode()
    assert access_rows(world.satellite_carer, world.neighbour_child) == []


def test_limited_view_falls_back_to_the_first_name(world, as_user):
    services.update_child(world.neighbour_child, by=None, preferred_name="")
    body = as_user(world.satellite_carer).get(url("child-detail", world.neighbour_child.pk)).json()
    assert body["preferred_name"] == "Bobby"


def test_satellite_carer_sees_own_child_in_full(world, as_user):
    body = as_user(world.satellite_carer).get(url("child-detail", world.child.pk)).json()
    assert body["medication_notes"] == "Melatonin 2mg at bedtime"
    assert access_rows(world.satellite_carer, world.child) == ["api"]


@pytest.mark.parametrize(
    ("user", "child", "status"),
    [
        ("hub_carer", "child", "full"),
        ("hub_carer", "hub_child", "full"),
        ("second_hub_carer", "neighbour_child", "full"),
        ("satellite_carer", "child", "full"),
        ("satellite_carer", "neighbour_child", "limited"),
        ("satellite_carer", "hub_child", "limited"),
        ("neighbour_carer", "child", "limited"),
        ("liaison", "neighbour_child", "full"),
        ("manager", "other_constellation_child", "full"),
        ("social_worker", "child", "full"),
        ("social_worker", "neighbour_child", 404),
        ("hub_carer", "other_constellation_child", 404),
        ("satellite_carer", "other_constellation_child", 404),
        ("liaison", "other_constellation_child", 404),
        ("other_liaison", "child", 404),
        ("other_hub_carer", "child", 404),
        ("hub_carer", "other_service_child", 404),
        ("manager", "other_service_child", 404),
        ("other_service_manager", "child", 404),
        ("other_service_liaison", "child", 404),
        ("other_service_carer", "child", 404),
    ],
)
def test_child_detail_matrix(world, as_user, user, child, status):
    viewer, target = getattr(world, user), getattr(world, child)
    response = as_user(viewer).get(url("child-detail", target.pk))
    if status == 404:
        assert response.status_code == 404
        assert target.first_name not in response.content.decode()
        assert access_rows(viewer, target) == []
    else:
        assert response.status_code == 200
        keys = CHILD_FULL_KEYS if status == "full" else CHILD_LIMITED_KEYS
        assert set(response.json()) == keys
        assert access_rows(viewer, target) == (["api"] if status == "full" else [])


def test_a_child_who_moved_on_is_no_longer_shared_with_the_constellation(world, as_user):
    services.move_child(world.neighbour_child, to=None, by=None, reason="Adoption")
    response = as_user(world.satellite_carer).get(url("child-detail", world.neighbour_child.pk))
    assert response.status_code == 404


def test_satellite_carers_child_list_mixes_full_and_limited(world, as_user):
    rows = results(as_user(world.satellite_carer).get(url("child-list")))
    assert set(rows) == {world.child.pk, world.neighbour_child.pk, world.hub_child.pk}
    assert set(rows[world.child.pk]) == CHILD_FULL_KEYS
    assert rows[world.child.pk]["allergies"] == "Penicillin"
    assert set(rows[world.neighbour_child.pk]) == CHILD_LIMITED_KEYS
    assert rows[world.neighbour_child.pk]["preferred_name"] == "Bob"
    assert set(rows[world.hub_child.pk]) == CHILD_LIMITED_KEYS
    # The full records shown in the list are logged; the limited ones are not.
    assert access_rows(world.satellite_carer, world.child) == ["api"]
    assert access_rows(world.satellite_carer, world.neighbour_child) == []


def test_hub_carers_child_list_is_the_constellation_in_full(world, as_user):
    rows = results(as_user(world.hub_carer).get(url("child-list")))
    assert set(rows) == {world.child.pk, world.neighbour_child.pk, world.hub_child.pk}
    assert all(set(row) == CHILD_FULL_KEYS for row in rows.values())
    assert rows[world.child.pk]["allergies"] == "Penicillin"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("liaison", {"child", "neighbour_child", "hub_child"}),
        ("other_liaison", {"other_constellation_child"}),
        ("manager", {"child", "neighbour_child", "hub_child", "other_constellation_child"}),
        ("other_service_manager", {"other_service_child"}),
        ("other_service_carer", {"other_service_child"}),
        ("social_worker", {"child"}),
    ],
)
def test_child_lists_stop_at_the_constellation_and_the_service(world, as_user, user, expected):
    rows = results(as_user(getattr(world, user)).get(url("child-list")))
    assert set(rows) == {getattr(world, name).pk for name in expected}


def test_siblings_are_listed_when_visible(world, as_user):
    world.child.siblings.add(world.neighbour_child, world.other_constellation_child)
    body = as_user(world.hub_carer).get(url("child-detail", world.child.pk)).json()
    # The sibling in another constellation is not the hub's to see, not even by id.
    assert body["siblings"] == [world.neighbour_child.pk]
    rows = results(as_user(world.manager).get(url("child-list")))
    assert sorted(rows[world.child.pk]["siblings"]) == sorted(
        [world.neighbour_child.pk, world.other_constellation_child.pk]
    )
    assert rows[world.neighbour_child.pk]["siblings"] == [world.child.pk]


def test_liaison_updates_a_child_through_the_service(world, as_user):
    dob = timezone.localdate() - relativedelta(years=9)
    response = patch(
        as_user(world.liaison),
        url("child-detail", world.child.pk),
        {"allergies": "Penicillin, sesame", "date_of_birth": dob.isoformat(), "needs": "x" * 5000},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["allergies"] == "Penicillin, sesame"
    assert body["age"] == 9
    world.child.refresh_from_db()
    assert world.child.allergies == "Penicillin, sesame"
    assert world.child.date_of_birth == dob
    activity = Activity.objects.get(verb="child.updated")
    assert activity.actor == world.liaison
    assert set(activity.payload["fields"]) == {"allergies", "date_of_birth", "needs"}
    # The reply shows the full record, so it is in the access log too.
    assert access_rows(world.liaison, world.child) == ["api"]


@pytest.mark.parametrize(
    "dob",
    [lambda today: today, lambda today: today - relativedelta(years=25)],
    ids=["today", "exactly-25-years-ago"],
)
def test_date_of_birth_boundaries_are_accepted(world, as_user, dob):
    value = dob(timezone.localdate())
    response = patch(
        as_user(world.manager),
        url("child-detail", world.child.pk),
        {"date_of_birth": value.isoformat()},
    )
    assert response.status_code == 200, response.content
    world.child.refresh_from_db()
    assert world.child.date_of_birth == value


@pytest.mark.parametrize(
    ("user", "child", "status"),
    [
        ("hub_carer", "child", 403),
        ("second_hub_carer", "hub_child", 403),
        ("satellite_carer", "child", 403),
        ("satellite_carer", "neighbour_child", 403),
        ("neighbour_carer", "neighbour_child", 403),
        ("social_worker", "child", 403),
        ("social_worker", "neighbour_child", 404),
        ("satellite_carer", "other_constellation_child", 404),
        ("other_liaison", "child", 404),
        ("other_hub_carer", "child", 404),
        ("other_service_manager", "child", 404),
        ("other_service_liaison", "child", 404),
        ("manager", "other_service_child", 404),
        ("liaison", "other_service_child", 404),
    ],
)
def test_child_patch_refused(world, as_user, user, child, status):
    target = getattr(world, child)
    before = Child.objects.filter(pk=target.pk).values().get()
    response = patch(
        as_user(getattr(world, user)),
        url("child-detail", target.pk),
        {"allergies": "None", "first_name": "Changed"},
    )
    assert response.status_code == status
    assert "detail" in response.json()
    assert target.first_name not in response.content.decode()
    assert Child.objects.filter(pk=target.pk).values().get() == before
    assert not Activity.objects.filter(verb="child.updated").exists()


BAD_CHILD_INPUT = [
    ("first_name", ["Amara", "Jane"]),
    ("first_name", {"given": "Amara"}),
    ("first_name", None),
    ("first_name", ""),
    ("first_name", "   "),
    ("first_name", "x" * 61),
    ("first_name", "x" * 10_000),
    ("last_name", None),
    ("last_name", "x" * 10_000),
    ("preferred_name", "x" * 61),
    ("preferred_name", ["Mara"]),
    ("preferred_name", "Ma\x00ra"),
    ("preferred_name", 7),
    ("last_name", "\ud800"),
    ("date_of_birth", "1800-01-01"),
    ("date_of_birth", "9999-12-31"),
    ("date_of_birth", "not-a-date"),
    ("date_of_birth", "2015-02-30"),
    ("date_of_birth", "2015-05-17T10:00:00Z"),
    ("date_of_birth", ""),
    ("date_of_birth", None),
    ("date_of_birth", 20150517),
    ("date_of_birth", ["2015-05-17"]),
    ("needs", "x" * 10_000),
    ("needs", None),
    ("allergies", "x" * 5001),
    ("allergies", ["peanuts", "sesame"]),
    ("allergies", {"peanuts": True}),
    ("medication_notes", "x" * 10_000),
    ("emergency_contacts", "x" * 10_000),
    ("emergency_contacts", None),
    ("status", "moved_on"),
    ("household", 1),
    ("service", 2),
    ("social_worker", None),
    ("favourite_colour", "blue"),
]


@pytest.mark.parametrize(("field", "value"), BAD_CHILD_INPUT)
def test_bad_child_input_is_400_naming_the_field(world, as_user, field, value):
    before = Child.objects.filter(pk=world.child.pk).values().get()
    response = patch(
        as_user(world.liaison),
        url("child-detail", world.child.pk),
        # A valid change alongside: nothing at all is saved when one field is wrong.
        {field: value, "needs": "Changed"} if field != "needs" else {field: value},
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Child.objects.filter(pk=world.child.pk).values().get() == before
    assert not Activity.objects.filter(verb="child.updated").exists()


@pytest.mark.parametrize("days", [1, 400])
def test_date_of_birth_in_the_future_is_refused(world, as_user, days):
    future = timezone.localdate() + timedelta(days=days)
    response = patch(
        as_user(world.liaison),
        url("child-detail", world.child.pk),
        {"date_of_birth": future.isoformat()},
    )
    assert response.status_code == 400
    assert "future" in response.json()["date_of_birth"][0]


def test_date_of_birth_more_than_25_years_ago_is_refused(world, as_user):
    too_old = timezone.localdate() - relativedelta(years=25) - timedelta(days=1)
    response = patch(
        as_user(world.liaison),
        url("child-detail", world.child.pk),
        {"date_of_birth": too_old.isoformat()},
    )
    assert response.status_code == 400
    assert "25 years" in response.json()["date_of_birth"][0]
    world.child.refresh_from_db()
    assert world.child.date_of_birth == date(2014, 3, 2)


def test_several_bad_fields_are_all_named(world, as_user):
    response = patch(
        as_user(world.liaison),
        url("child-detail", world.child.pk),
        {"first_name": None, "date_of_birth": "soon", "nickname": "x"},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"first_name", "date_of_birth", "nickname"}


@pytest.mark.parametrize("body", ["not json", "[]", '"text"', "null", "{"], ids=repr)
def test_child_patch_with_a_body_that_is_not_an_object_is_400(world, as_user, body):
    response = as_user(world.liaison).patch(
        url("child-detail", world.child.pk), data=body, content_type="application/json"
    )
    assert response.status_code == 400


def test_an_empty_patch_changes_nothing(world, as_user):
    response = patch(as_user(world.liaison), url("child-detail", world.child.pk), {})
    assert response.status_code == 200
    assert not Activity.objects.filter(verb="child.updated").exists()


def test_a_refused_child_change_is_409(world, as_user, monkeypatch):
    def refuse(child, *, by, **changes):
        raise services.ActionRefused("The record is locked while the move is recorded.")

    monkeypatch.setattr(services, "update_child", refuse)
    response = patch(as_user(world.liaison), url("child-detail", world.child.pk), {"needs": "x"})
    assert response.status_code == 409
    assert response.json() == {"detail": "The record is locked while the move is recorded."}


def test_children_put_post_and_delete_are_not_allowed(world, as_user):
    client = as_user(world.manager)
    path = url("child-detail", world.child.pk)
    assert client.put(path, {"needs": "x"}, format="json").status_code == 405
    assert client.delete(path).status_code == 405
    assert client.post(url("child-list"), {"first_name": "x"}, format="json").status_code == 405


def test_there_is_no_browsable_api(world, as_user):
    # The browsable API would fill its edit forms from the full record.
    client = as_user(world.satellite_carer)
    path = url("child-detail", world.neighbour_child.pk)
    response = client.get(path, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert client.get(path, HTTP_ACCEPT="text/html").status_code == 406
    assert client.get(path + "?format=api").status_code == 404
    for response in (client.get(path, HTTP_ACCEPT="text/html"), client.get(path)):
        assert "Stone" not in response.content.decode()


# --- token authentication and CSRF ------------------------------------------------------


def test_token_authentication_reads_and_writes(world):
    token = Token.objects.create(user=world.liaison)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = client.get(url("child-detail", world.child.pk)).json()
    assert body["allergies"] == "Penicillin"
    response = client.patch(
        url("child-detail", world.child.pk), {"allergies": "None known"}, format="json"
    )
    assert response.status_code == 200
    world.child.refresh_from_db()
    assert world.child.allergies == "None known"


def test_token_of_a_satellite_carer_sees_what_their_session_would(world):
    token = Token.objects.create(user=world.satellite_carer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert set(client.get(url("child-detail", world.neighbour_child.pk)).json()) == (
        CHILD_LIMITED_KEYS
    )
    assert client.get(url("child-detail", world.other_service_child.pk)).status_code == 404
    response = client.patch(url("child-detail", world.child.pk), {"needs": "x"}, format="json")
    assert response.status_code == 403


def test_a_session_patch_without_csrf_token_is_refused(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.liaison)
    response = client.patch(url("household-detail", world.hub.pk), {"beds": 9}, format="json")
    assert response.status_code == 403
    world.hub.refresh_from_db()
    assert world.hub.beds == 3


# --- query counts: constant in the number of rows ----------------------------------------


def _count_queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


GROW = {
    "child-list": lambda world, i: (
        f.child_in(world.satellite, first_name=f"Kid{i}"),
        f.child_in(world.neighbour, first_name=f"Nb{i}"),
    ),
    "household-list": lambda world, i: f.satellite_in(world.constellation, name=f"Home {i}"),
    "constellation-list": lambda world, i: f.hub_for(
        f.ConstellationFactory(service=world.service), name=f"Hub {i}"
    ),
}


@pytest.mark.parametrize(
    ("user", "name"),
    [
        ("satellite_carer", "child-list"),
        ("hub_carer", "child-list"),
        ("manager", "child-list"),
        ("satellite_carer", "household-list"),
        ("liaison", "household-list"),
        ("manager", "constellation-list"),
    ],
)
def test_list_query_counts_do_not_grow_with_the_rows(world, as_user, user, name):
    client = as_user(getattr(world, user))
    path = url(name) + "?limit=100"
    counts = []
    # Up to 93 children: one audit insert of their views even where SQLite caps a
    # query at 999 parameters (99 audit rows).
    for start, stop in ((0, 5), (5, 45)):
        for i in range(start, stop):
            GROW[name](world, i)
        counts.append(_count_queries(client, path))
    assert counts[0] == counts[1]
    assert client.get(path).json()["count"] >= 45


@pytest.mark.parametrize("n", [5, 50])
def test_child_list_query_budget(world, as_user, django_assert_max_num_queries, n):
    for i in range(n):
        f.child_in(world.neighbour, first_name=f"Nb{i}")
    client = as_user(world.satellite_carer)
    # session, user, count, page, which are full, the access log, the audit trail, siblings
    with django_assert_max_num_queries(8):
        response = client.get(url("child-list"))
    assert response.json()["count"] == n + 3


@pytest.mark.parametrize("n", [5, 50])
def test_household_and_constellation_list_query_budget(
    world, as_user, django_assert_max_num_queries, n
):
    for i in range(n):
        f.satellite_in(world.constellation, name=f"Household {i}")
        f.hub_for(f.ConstellationFactory(service=world.service), name=f"Hub {i}")
    client = as_user(world.manager)
    # session, user, count, page, which show the address
    with django_assert_max_num_queries(5):
        assert client.get(url("household-list")).json()["count"] >= n
    # session, user, count, page
    with django_assert_max_num_queries(4):
        assert client.get(url("constellation-list")).json()["count"] == n + 2


# --- pagination input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=-1",
        "limit=0",
        "offset=-5",
        "limit=1e9",
        f"limit={10**30}",
        f"offset={10**30}",
        "offset=abc&limit=2",
    ],
)
def test_odd_pagination_parameters_never_fail(world, as_user, query):
    response = as_user(world.manager).get(url("child-list") + "?" + query)
    assert response.status_code == 200
    assert len(response.json()["results"]) <= 100


def test_pages_are_capped_at_100(world, as_user):
    for i in range(105):
        f.ChildFactory(household=world.satellite, first_name=f"K{i:03}")
    body = as_user(world.manager).get(url("child-list") + "?limit=1000").json()
    assert len(body["results"]) == 100
    assert body["next"]


# --- the schema: each answer matches exactly one shape ------------------------------


def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_full_and_summary_records_say_which_they_are(world, as_user):
    client = as_user(world.satellite_carer)
    own = client.get(url("child-detail", world.child.pk)).json()
    neighbour = client.get(url("child-detail", world.neighbour_child.pk)).json()
    assert own["record"] == "full"
    assert neighbour["record"] == "summary"
    households = {h["id"]: h["record"] for h in client.get(url("household-list")).json()["results"]}
    assert households[world.satellite.pk] == "full"
    assert households[world.neighbour.pk] == "summary"


@pytest.mark.parametrize(
    ("component", "name", "target"),
    [
        ("ChildRecord", "child-detail", "child"),
        ("ChildRecord", "child-detail", "neighbour_child"),
        ("HouseholdRecord", "household-detail", "satellite"),
        ("HouseholdRecord", "household-detail", "neighbour"),
    ],
)
def test_an_answer_matches_exactly_one_shape_of_the_schema(world, as_user, component, name, target):
    """A full record holds every field of the summary: without the ``record`` field
    it matched both shapes of the schema's ``oneOf``, and no client could tell."""
    import jsonschema

    body = as_user(world.satellite_carer).get(url(name, getattr(world, target).pk)).json()
    document = {**_schema(), "$ref": f"#/components/schemas/{component}"}
    jsonschema.Draft202012Validator(document).validate(body)
