"""The liaison worker's part of the sleepover API: cover for the hub by a stand-in,
exceptions to the constellation's limits, withdrawing the hub's unavailability,
and temporary placements at the hub, with who may do what (403 for those who see
the constellation, 404 for those who do not), the input that never gets past the
serializers and the services (400 naming the field, nothing saved) and the moves
refused in the present state (409)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from constellation import services as people
from constellation.models import Activity, Child, HubCover, Placement
from sleepovers import services
from sleepovers.models import Kind, LimitOverride, Night, Request, Status, Unavailability

from .. import factories as f
from .helpers import stay

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------


@pytest.fixture
def as_user():
    def _as(user):
        client = APIClient()
        client.force_login(user)
        return client

    return _as


def url(name, pk=None, query=""):
    path = reverse(f"api:{name}", args=[pk] if pk is not None else [])
    return f"{path}?{query}" if query else path


def post(client, path, data=None):
    return client.post(path, data if data is not None else {}, format="json")


def day(n: int):
    """The date ``n`` days from today."""
    return timezone.localdate() + timedelta(days=n)


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def booking(world, *, days=5, nights=1, **fields):
    """A planned stay of Mara's, as the Ashfords send it."""
    start, end = stay(days, nights)
    return {
        "kind": "planned",
        "children": [world.child.pk],
        "start": start.isoformat(),
        "end": end.isoformat(),
        **fields,
    }


def spare_home(world, *, beds=1, name="The Fairweathers"):
    """Another household of the world's constellation, with beds and a carer."""
    household = f.satellite_in(world.constellation, name=name)
    people.update_household(household, by=None, beds=beds)
    household.refresh_from_db()
    carer = f.carer_of(household, email=f"{household.pk}-carer@test.example")
    return SimpleNamespace(household=household, carer=carer)


@pytest.fixture
def stand_in(world):
    return spare_home(world)


def cover_body(world, stand_in_id, *, first=5, last=8, **fields):
    return {
        "constellation": world.constellation.pk,
        "stand_in": stand_in_id,
        "start": day(first).isoformat(),
        "end": day(last).isoformat(),
        "note": "The hub family is on holiday",
        **fields,
    }


def arrange(world, stand_in_household, first=5, last=8):
    return services.arrange_cover(
        world.constellation,
        by=world.liaison,
        stand_in=stand_in_household,
        start=day(first),
        end=day(last),
        note="Hub family on holiday",
    )


# --- cover for the hub -----------------------------------------------------------------


def test_the_liaison_names_a_stand_in_and_the_families_see_it(world, stand_in, as_user):
    response = post(
        as_user(world.liaison),
        url("hub-cover-list"),
        cover_body(world, stand_in.household.pk),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["constellation"] == world.constellation.pk
    assert body["stand_in"] == {
        "id": stand_in.household.pk,
        "name": "The Fairweathers",
        "phone": stand_in.household.phone,
        "second_phone": stand_in.household.second_phone,
    }
    assert stand_in.household.phone  # a number the families can ring
    assert (body["start"], body["end"]) == (day(5).isoformat(), day(8).isoformat())
    assert body["note"] == "The hub family is on holiday"
    assert body["in_force"] is True
    cover = HubCover.objects.get()
    assert (cover.stand_in, cover.arranged_by) == (stand_in.household, world.liaison)

    for user in ("satellite_carer", "neighbour_carer", "hub_carer", "manager"):
        assert ids(as_user(getattr(world, user)).get(url("hub-cover-list"))) == [body["id"]], user
    assert ids(as_user(stand_in.carer).get(url("hub-cover-list"))) == [body["id"]]
    for outsider in ("other_service_carer", "other_service_manager", "other_satellite_carer"):
        assert ids(as_user(getattr(world, outsider)).get(url("hub-cover-list"))) == [], outsider


def test_a_stand_in_of_another_constellation_sees_the_cover_it_gives(world, as_user):
    """The manager asks the Hillside hub to cover: its carer sees the cover in the
    list, though not a member of Riverside; Hillside's satellite does not."""
    stand_in = world.other_constellation.hub
    response = post(as_user(world.manager), url("hub-cover-list"), cover_body(world, stand_in.pk))
    assert response.status_code == 201, response.content
    assert response.json()["stand_in"]["name"] == "Hillside Hub"
    assert ids(as_user(world.other_hub_carer).get(url("hub-cover-list"))) == [response.json()["id"]]
    assert ids(as_user(world.other_satellite_carer).get(url("hub-cover-list"))) == []
    assert ids(as_user(world.other_service_carer).get(url("hub-cover-list"))) == []


def test_the_cover_list_filters_by_constellation(world, stand_in, as_user):
    cover = arrange(world, stand_in.household)
    client = as_user(world.manager)
    assert ids(
        client.get(url("hub-cover-list", query=f"constellation={world.constellation.pk}"))
    ) == [cover.pk]
    query = f"constellation={world.other_constellation.pk}"
    assert ids(client.get(url("hub-cover-list", query=query))) == []
    response = client.get(url("hub-cover-list", query="constellation=x"))
    assert response.status_code == 400
    assert "constellation" in response.json()


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("satellite_carer", 403),
        ("hub_carer", 403),
        ("social_worker", 404),  # Mara's social worker does not see the constellation
        ("other_liaison", 404),
        ("other_service_manager", 404),
        ("other_service_liaison", 404),
    ],
)
def test_only_the_liaison_and_managers_arrange_cover(world, stand_in, as_user, user, expected):
    response = post(
        as_user(getattr(world, user)),
        url("hub-cover-list"),
        cover_body(world, stand_in.household.pk),
    )
    assert response.status_code == expected, response.content
    assert "detail" in response.json()
    assert not HubCover.objects.exists()


def _other_service_home(w):
    return w.other_service_constellation.hub_id


COVER_ERRORS = [
    ("unknown field", {"colour": "red"}, "colour"),
    (
        "end before start",
        {"start": lambda w: day(8).isoformat(), "end": lambda w: day(5).isoformat()},
        "end",
    ),
    ("start in the past", {"start": lambda w: day(-1).isoformat()}, "start"),
    ("stand-in of another service", {"stand_in": _other_service_home}, "stand_in"),
    ("the hub itself", {"stand_in": lambda w: w.hub.pk}, "stand_in"),
    ("a household without beds", {"stand_in": lambda w: w.satellite.pk}, "stand_in"),
    ("unknown stand-in", {"stand_in": 987654}, "stand_in"),
    ("stand-in a string", {"stand_in": lambda w: str(w.satellite.pk)}, "stand_in"),
    ("stand-in a float", {"stand_in": 1.5}, "stand_in"),
    ("stand-in a boolean", {"stand_in": True}, "stand_in"),
    (
        "constellation a string",
        {"constellation": lambda w: str(w.constellation.pk)},
        "constellation",
    ),
    ("constellation too big", {"constellation": 2**70}, "constellation"),
    ("year 1900", {"start": "1900-01-01"}, "start"),
    ("year 9999", {"end": "9999-12-31"}, "end"),
    ("no such day", {"start": "2030-02-30"}, "start"),
    ("a date-time", {"start": lambda w: timezone.now().isoformat()}, "start"),
    ("a year long and more", {"end": lambda w: day(5 + 367).isoformat()}, "end"),
    ("long note", {"note": "x" * 201}, "note"),
    ("note a number", {"note": 5}, "note"),
    ("missing start", {"start": ...}, "start"),
]


@pytest.mark.parametrize(
    ("changes", "field"), [pytest.param(c, fld, id=name) for name, c, fld in COVER_ERRORS]
)
def test_bad_cover_is_400_naming_the_field(world, stand_in, as_user, changes, field):
    body = cover_body(world, stand_in.household.pk)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value(world) if callable(value) else value
    response = post(as_user(world.liaison), url("hub-cover-list"), body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not HubCover.objects.exists()


def test_a_cover_overlapping_another_is_400_naming_the_first(world, stand_in, as_user):
    arrange(world, stand_in.household, 5, 8)
    second = spare_home(world, name="The Greens")
    response = post(
        as_user(world.liaison),
        url("hub-cover-list"),
        cover_body(world, second.household.pk, first=8, last=10),
    )
    assert response.status_code == 400
    assert "The Fairweathers already covers" in response.json()["start"][0]
    assert HubCover.objects.count() == 1
    # The day after the first cover ends is free to cover.
    response = post(
        as_user(world.liaison),
        url("hub-cover-list"),
        cover_body(world, second.household.pk, first=9, last=10),
    )
    assert response.status_code == 201, response.content


def test_ending_a_cover_begun_today_withdraws_it_and_the_hub_answers_now(
    nine_am, world, stand_in, as_user
):
    cover = arrange(world, stand_in.household, 0, 6)
    client = as_user(world.liaison)
    response = post(client, url("hub-cover-end", cover.pk))
    assert response.status_code == 200, response.content
    assert response.json()["in_force"] is False
    # Tonight's requests go to the hub again.
    response = post(as_user(world.satellite_carer), url("sleepover-list"), booking(world, days=0))
    assert response.status_code == 201, response.content
    assert response.json()["hub"]["id"] == world.hub.pk
    # Ending it again is refused.
    assert post(client, url("hub-cover-end", cover.pk)).status_code == 409


def test_ending_a_cover_begun_earlier_ends_it_yesterday(world, stand_in, as_user):
    cover = arrange(world, stand_in.household, 0, 6)
    first = day(0)
    # The same wall-clock time two days on: 48 hours is another day across a clock change.
    later = timezone.localtime() + timedelta(days=2)
    with time_machine.travel(timezone.make_aware(later.replace(tzinfo=None))):
        client = as_user(world.liaison)
        response = post(client, url("hub-cover-end", cover.pk))
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["in_force"] is True
        assert body["end"] == (first + timedelta(days=1)).isoformat()
        assert post(client, url("hub-cover-end", cover.pk)).status_code == 409


def test_ending_a_cover_not_yet_begun_withdraws_it(world, stand_in, as_user):
    cover = arrange(world, stand_in.household, 5, 8)
    client = as_user(world.manager)
    response = post(client, url("hub-cover-end", cover.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["in_force"] is False
    assert body["end"] == day(8).isoformat()
    cover.refresh_from_db()
    assert cover.withdrawn_by == world.manager
    # Gone from the list, and the nights go to the hub again.
    assert ids(as_user(world.satellite_carer).get(url("hub-cover-list"))) == []
    response = post(as_user(world.satellite_carer), url("sleepover-list"), booking(world))
    assert response.status_code == 201, response.content
    assert response.json()["hub"]["id"] == world.hub.pk
    # Ending it twice is refused, and changes nothing.
    response = post(client, url("hub-cover-end", cover.pk))
    assert response.status_code == 409
    assert "over already" in response.json()["detail"]


def test_ending_a_cover_in_progress_twice_is_409(world, stand_in, as_user):
    cover = arrange(world, stand_in.household, 0, 6)
    client = as_user(world.liaison)
    assert post(client, url("hub-cover-end", cover.pk)).status_code == 200
    response = post(client, url("hub-cover-end", cover.pk))
    assert response.status_code == 409
    assert Activity.objects.filter(verb="hub.cover_ended").count() == 1


def test_a_cover_over_already_cannot_be_ended(world, stand_in, as_user):
    cover = arrange(world, stand_in.household, 0, 2)
    HubCover.objects.filter(pk=cover.pk).update(start=day(-5), end=day(-1))
    response = post(as_user(world.liaison), url("hub-cover-end", cover.pk))
    assert response.status_code == 409
    cover.refresh_from_db()
    assert (cover.end, cover.withdrawn_at) == (day(-1), None)


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("satellite_carer", 403),
        ("hub_carer", 403),
        ("other_service_manager", 404),
        ("other_liaison", 404),
    ],
)
def test_only_the_liaison_and_managers_end_cover(world, stand_in, as_user, user, expected):
    cover = arrange(world, stand_in.household, 5, 8)
    response = post(as_user(getattr(world, user)), url("hub-cover-end", cover.pk))
    assert response.status_code == expected
    cover.refresh_from_db()
    assert (cover.end, cover.withdrawn_at) == (day(8), None)


def test_ending_a_cover_with_a_body_or_an_unknown_id(world, stand_in, as_user):
    cover = arrange(world, stand_in.household, 5, 8)
    client = as_user(world.liaison)
    response = post(client, url("hub-cover-end", cover.pk), {"when": "now"})
    assert response.status_code == 400
    assert "when" in response.json()
    assert post(client, url("hub-cover-end", 987654)).status_code == 404
    assert post(client, f"/api/v1/hub-covers/{2**70}/end/").status_code == 404
    cover.refresh_from_db()
    assert cover.withdrawn_at is None


def test_requests_for_nights_in_the_cover_go_to_the_stand_in(world, stand_in, as_user):
    arrange(world, stand_in.household, 5, 8)
    family = as_user(world.satellite_carer)
    response = post(family, url("sleepover-list"), booking(world, days=5, nights=2))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["hub"] == {
        "id": stand_in.household.pk,
        "name": "The Fairweathers",
        "phone": stand_in.household.phone,
        "second_phone": stand_in.household.second_phone,
    }
    assert "Sent to The Fairweathers" in body["timeline"][0]["note"]
    # The stand-in's carer sees it to answer; outside the cover, the hub is asked.
    assert body["id"] in ids(as_user(stand_in.carer).get(url("sleepover-list")))
    response = post(family, url("sleepover-list"), booking(world, days=10))
    assert response.status_code == 201, response.content
    assert response.json()["hub"]["id"] == world.hub.pk
    # A stay across the edge of the cover is refused, naming the stand-in.
    response = post(family, url("sleepover-list"), booking(world, days=8, nights=2))
    assert response.status_code == 400
    assert "The Fairweathers covers for the hub" in response.json()["end"][0]


# --- exceptions to the limits ----------------------------------------------------------


def override_body(world, *, first=5, last=8, **fields):
    return {
        "constellation": world.constellation.pk,
        "child": world.child.pk,
        "start": day(first).isoformat(),
        "end": day(last).isoformat(),
        "reason": "Birth family funeral: four nights agreed",
        **fields,
    }


def test_an_exception_lets_a_longer_stay_through_until_withdrawn(world, as_user):
    limit = services.settings_for(world.constellation).max_consecutive_nights
    long_stay = booking(world, days=5, nights=limit + 1)
    family = as_user(world.satellite_carer)

    response = post(family, url("sleepover-list"), long_stay)
    assert response.status_code == 400
    assert f"at most {limit} consecutive nights" in response.json()["end"][0]

    liaison = as_user(world.liaison)
    response = post(liaison, url("limit-override-list"), override_body(world, last=5 + limit))
    assert response.status_code == 201, response.content
    override = response.json()
    assert override["constellation"] == world.constellation.pk
    assert override["child"] == world.child.pk
    assert (override["start"], override["end"]) == (day(5).isoformat(), day(5 + limit).isoformat())
    assert override["reason"] == "Birth family funeral: four nights agreed"
    assert override["granted_by"] == str(world.liaison)
    assert override["in_force"] is True

    response = post(family, url("sleepover-list"), long_stay)
    assert response.status_code == 201, response.content
    assert response.json()["nights"] == limit + 1
    assert "Birth family funeral" in response.json()["timeline"][0]["note"]

    response = post(liaison, url("limit-override-withdraw", override["id"]))
    assert response.status_code == 200, response.content
    assert response.json()["in_force"] is False
    assert LimitOverride.objects.get().withdrawn_by == world.liaison

    # The request made under it stays; a new one keeps to the limits again.
    assert Request.objects.count() == 1
    response = post(family, url("sleepover-list"), long_stay)
    assert response.status_code == 400
    assert "end" in response.json()
    assert Request.objects.count() == 1

    response = post(liaison, url("limit-override-withdraw", override["id"]))
    assert response.status_code == 409
    assert "withdrawn already" in response.json()["detail"]


def test_an_exception_covers_only_its_nights(world, as_user):
    limit = services.settings_for(world.constellation).max_consecutive_nights
    post(as_user(world.liaison), url("limit-override-list"), override_body(world, last=5 + limit))
    # One night more than the exception covers keeps to the limits.
    response = post(
        as_user(world.satellite_carer),
        url("sleepover-list"),
        booking(world, days=4, nights=limit + 1),
    )
    assert response.status_code == 400
    assert "end" in response.json()


def test_a_manager_grants_an_exception_too(world, as_user):
    response = post(as_user(world.manager), url("limit-override-list"), override_body(world))
    assert response.status_code == 201, response.content
    assert response.json()["granted_by"] == str(world.manager)


def _other_constellation_child(w):
    return w.other_constellation_child.pk


OVERRIDE_ERRORS = [
    ("empty reason", {"reason": ""}, "reason"),
    ("blank reason", {"reason": "   "}, "reason"),
    ("reason a number", {"reason": 5}, "reason"),
    ("long reason", {"reason": "x" * 501}, "reason"),
    ("missing reason", {"reason": ...}, "reason"),
    ("child of another constellation", {"child": _other_constellation_child}, "child"),
    ("child of another service", {"child": lambda w: w.other_service_child.pk}, "child"),
    ("unknown child", {"child": 987654}, "child"),
    ("child a string", {"child": lambda w: str(w.child.pk)}, "child"),
    (
        "end before start",
        {"start": lambda w: day(8).isoformat(), "end": lambda w: day(5).isoformat()},
        "end",
    ),
    ("start in the past", {"start": lambda w: day(-1).isoformat()}, "start"),
    ("year 1900", {"start": "1900-01-01"}, "start"),
    ("unknown field", {"nights": 4}, "nights"),
]


@pytest.mark.parametrize(
    ("changes", "field"), [pytest.param(c, fld, id=name) for name, c, fld in OVERRIDE_ERRORS]
)
def test_bad_exceptions_are_400_naming_the_field(world, as_user, changes, field):
    body = override_body(world)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value(world) if callable(value) else value
    response = post(as_user(world.liaison), url("limit-override-list"), body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not LimitOverride.objects.exists()


def test_a_manager_cannot_waive_a_child_of_another_constellation_here(world, as_user):
    """The manager oversees Dana (Hillside), but not as a child of Riverside."""
    body = override_body(world, child=world.other_constellation_child.pk)
    response = post(as_user(world.manager), url("limit-override-list"), body)
    assert response.status_code == 400
    assert "child" in response.json()
    assert not LimitOverride.objects.exists()


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("satellite_carer", 403),
        ("hub_carer", 403),
        ("other_liaison", 404),
        ("other_service_manager", 404),
    ],
)
def test_only_the_liaison_and_managers_grant_and_withdraw_exceptions(
    world, as_user, user, expected
):
    client = as_user(getattr(world, user))
    response = post(client, url("limit-override-list"), override_body(world))
    assert response.status_code == expected, response.content
    assert not LimitOverride.objects.exists()

    override = services.grant_override(
        world.constellation,
        by=world.liaison,
        child=world.child,
        start=day(5),
        end=day(8),
        reason="Respite agreed at the review",
    )
    assert post(client, url("limit-override-withdraw", override.pk)).status_code == expected
    override.refresh_from_db()
    assert override.withdrawn_at is None


def test_withdrawing_an_exception_with_a_body_or_an_unknown_id(world, as_user):
    override = services.grant_override(
        world.constellation,
        by=world.liaison,
        child=world.child,
        start=day(5),
        end=day(8),
        reason="Respite agreed at the review",
    )
    client = as_user(world.liaison)
    response = post(client, url("limit-override-withdraw", override.pk), {"reason": "No"})
    assert response.status_code == 400
    assert "reason" in response.json()
    assert post(client, url("limit-override-withdraw", 987654)).status_code == 404
    override.refresh_from_db()
    assert override.withdrawn_at is None


def test_the_exceptions_list_shows_only_constellations_the_user_oversees(world, as_user):
    own = services.grant_override(
        world.constellation,
        by=world.liaison,
        child=world.child,
        start=day(5),
        end=day(8),
        reason="Respite agreed at the review",
    )
    hillside = services.grant_override(
        world.other_constellation,
        by=world.other_liaison,
        child=world.other_constellation_child,
        start=day(5),
        end=day(8),
        reason="Hillside's own exception",
    )

    def listed(user, query=""):
        return ids(as_user(getattr(world, user)).get(url("limit-override-list", query=query)))

    assert listed("liaison") == [own.pk]
    assert listed("other_liaison") == [hillside.pk]
    assert listed("manager") == [hillside.pk, own.pk]  # newest first
    assert listed("manager", f"constellation={world.constellation.pk}") == [own.pk]
    for user in ("hub_carer", "satellite_carer", "social_worker", "other_service_manager"):
        assert listed(user) == [], user
    response = as_user(world.manager).get(url("limit-override-list", query="constellation=0"))
    assert response.status_code == 400
    assert "constellation" in response.json()


# --- withdrawing the hub's unavailability ---------------------------------------------


@pytest.fixture
def away(world):
    """The hub is away on the nights of days 5 and 6."""
    return services.add_unavailability(
        world.hub, by=world.hub_carer, start=day(5), end=day(6), note="Family wedding"
    )


def test_the_hub_withdraws_its_unavailability_and_families_can_book(world, away, as_user):
    family = as_user(world.satellite_carer)
    response = post(family, url("sleepover-list"), booking(world))
    assert response.status_code == 400
    assert "Family wedding" in response.json()["start"][0]
    assert ids(family.get(url("hub-unavailability-list"))) == [away.pk]

    hub = as_user(world.hub_carer)
    response = post(hub, url("hub-unavailability-withdraw", away.pk))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == away.pk
    assert response.json()["note"] == "Family wedding"
    away.refresh_from_db()
    assert away.withdrawn_by == world.hub_carer

    assert ids(family.get(url("hub-unavailability-list"))) == []
    assert ids(hub.get(url("hub-unavailability-list"))) == []
    night = hub.get(url("hub-nights", world.hub.pk, f"from={day(5)}&to={day(5)}")).json()[0]
    assert (night["unavailable"], night["why"]) == (False, "")
    response = post(family, url("sleepover-list"), booking(world))
    assert response.status_code == 201, response.content

    response = post(hub, url("hub-unavailability-withdraw", away.pk))
    assert response.status_code == 409
    assert "withdrawn already" in response.json()["detail"]


@pytest.mark.parametrize("user", ["second_hub_carer", "liaison", "manager"])
def test_the_other_hub_carer_and_the_staff_withdraw_it_too(world, away, as_user, user):
    response = post(as_user(getattr(world, user)), url("hub-unavailability-withdraw", away.pk))
    assert response.status_code == 200, response.content
    away.refresh_from_db()
    assert away.withdrawn_at is not None


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("satellite_carer", 403),
        ("neighbour_carer", 403),
        ("other_hub_carer", 404),
        ("other_liaison", 404),
        ("other_service_manager", 404),
        ("other_service_hub_carer", 404),
    ],
)
def test_only_the_hub_and_its_staff_withdraw_unavailability(world, away, as_user, user, expected):
    response = post(as_user(getattr(world, user)), url("hub-unavailability-withdraw", away.pk))
    assert response.status_code == expected
    away.refresh_from_db()
    assert away.withdrawn_at is None
    assert ids(as_user(world.satellite_carer).get(url("hub-unavailability-list"))) == [away.pk]


@pytest.mark.parametrize("body", [{"note": "Back early"}, {"withdrawn": True}, {"": None}])
def test_withdrawing_with_any_field_is_400(world, away, as_user, body):
    response = post(as_user(world.hub_carer), url("hub-unavailability-withdraw", away.pk), body)
    assert response.status_code == 400
    assert next(iter(body)) in response.json()
    away.refresh_from_db()
    assert away.withdrawn_at is None


def test_withdrawing_an_unknown_period_is_404(world, as_user):
    assert (
        post(as_user(world.hub_carer), url("hub-unavailability-withdraw", 987654)).status_code
        == 404
    )
    assert not Unavailability.objects.exists()


# --- temporary placements ----------------------------------------------------------------


def placement_body(world, *, child=None, first=0, last=7, **fields):
    return {
        "child": child or world.child.pk,
        "start": day(first).isoformat(),
        "expected_end": day(last).isoformat(),
        "notes": "The Ashfords' placement ended suddenly.",
        **fields,
    }


def test_the_liaison_arranges_a_temporary_placement(world, as_user):
    response = post(as_user(world.liaison), url("sleepover-temporary"), placement_body(world))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "temporary"
    assert body["kind_label"] == "Temporary placement"
    assert body["status"] == "requested"
    assert [
        (c["id"], c["preferred_name"], c["age"], c["record"]["last_name"]) for c in body["children"]
    ] == [(world.child.pk, "Mara", world.child.age, "Quill")]
    assert body["household"] == {"id": world.satellite.pk, "name": "The Ashfords"}
    assert body["hub"]["id"] == world.hub.pk
    assert body["nights"] == 7
    assert body["notes"] == "The Ashfords' placement ended suddenly."
    assert body["timeline"][0]["by"] == world.liaison.get_full_name()
    # The hub carers see it in their list, to accept against the beds.
    assert body["id"] in ids(as_user(world.hub_carer).get(url("sleepover-list")))


@pytest.mark.parametrize(
    "user", ["hub_carer", "satellite_carer", "social_worker", "other_service_carer"]
)
def test_carers_cannot_arrange_a_temporary_placement(world, as_user, user):
    """Only the liaison worker (or a manager) arranges one: 403 for everyone else."""
    response = post(
        as_user(getattr(world, user)), url("sleepover-temporary"), placement_body(world)
    )
    assert response.status_code == 403
    assert not Request.objects.exists()


TEMPORARY_ERRORS = [
    ("child of another service", {"child": lambda w: w.other_service_child.pk}, "child"),
    (
        "child of another constellation",
        {"child": lambda w: w.other_constellation_child.pk},
        "child",
    ),
    ("unknown child", {"child": 987654}, "child"),
    ("child a string", {"child": lambda w: str(w.child.pk)}, "child"),
    ("expected end a word", {"expected_end": "soon"}, "expected_end"),
    ("year 1900", {"start": "1900-01-01"}, "start"),
    ("notes a number", {"notes": 5}, "notes"),
    ("missing expected end", {"expected_end": ...}, "expected_end"),
    ("unknown field", {"hub": 1}, "hub"),
]


@pytest.mark.parametrize(
    ("changes", "field"), [pytest.param(c, fld, id=name) for name, c, fld in TEMPORARY_ERRORS]
)
def test_bad_temporary_placements_are_400_naming_the_field(world, as_user, changes, field):
    body = placement_body(world)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value(world) if callable(value) else value
    response = post(as_user(world.liaison), url("sleepover-temporary"), body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Request.objects.exists()


def test_an_expected_end_before_the_start_is_400(world, as_user):
    body = placement_body(world, first=7, last=3)
    response = post(as_user(world.liaison), url("sleepover-temporary"), body)
    assert response.status_code == 400
    assert "after the start" in str(response.json())
    assert not Request.objects.exists()


def test_an_expected_end_before_the_start_names_expected_end(world, as_user):
    body = placement_body(world, first=7, last=3)
    response = post(as_user(world.liaison), url("sleepover-temporary"), body)
    assert response.status_code == 400
    assert "expected_end" in response.json(), response.json()


def test_a_child_who_moved_on_is_400_naming_child(world, as_user):
    people.move_child(world.child, to=None, by=world.manager, reason="Adopted")
    response = post(as_user(world.manager), url("sleepover-temporary"), placement_body(world))
    assert response.status_code == 400
    assert "child" in response.json(), response.json()


def test_a_child_who_moved_on_is_refused(world, as_user):
    people.move_child(world.child, to=None, by=world.manager, reason="Adopted")
    response = post(as_user(world.manager), url("sleepover-temporary"), placement_body(world))
    assert response.status_code == 400
    assert "not placed" in str(response.json())
    assert not Request.objects.exists()


@pytest.fixture
def arrived(world, as_user):
    """Mara's temporary placement, begun now, accepted by the hub and arrived, via the
    API."""
    body = {**placement_body(world), "start": timezone.now().replace(microsecond=0).isoformat()}
    response = post(as_user(world.liaison), url("sleepover-temporary"), body)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    hub = as_user(world.hub_carer)
    response = post(hub, url("sleepover-accept", pk))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    nights = hub.get(url("hub-nights", world.hub.pk, f"from={day(0)}&to={day(6)}")).json()
    assert [n["booked"] for n in nights] == [1] * 7
    response = post(hub, url("sleepover-arrived", pk))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "arrived"
    return Request.objects.get(pk=pk)


def test_the_placement_ends_with_a_move_within_the_constellation(world, arrived, as_user):
    liaison = as_user(world.liaison)
    response = post(
        liaison,
        url("sleepover-end-placement", arrived.pk),
        {"to": world.neighbour.pk, "reason": "A long-term placement with the Brookes"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "collected"
    last = body["timeline"][-1]
    assert (last["from"], last["to"]) == ("arrived", "collected")
    assert "A long-term placement with the Brookes" in last["note"]
    assert last["by"] == world.liaison.get_full_name()

    child = Child.objects.get(pk=world.child.pk)
    assert (child.household, child.status) == (world.neighbour, Child.Status.PLACED)
    placement = Placement.objects.get(child=child, ended_on__isnull=True)
    assert (placement.household, placement.started_on) == (world.neighbour, day(0))
    before = Placement.objects.get(child=child, household=world.satellite)
    assert before.ended_on == day(0)
    assert before.reason_for_move == "A long-term placement with the Brookes"
    # The nights after today are given back to the hub.
    hub = as_user(world.hub_carer)
    nights = hub.get(url("hub-nights", world.hub.pk, f"from={day(0)}&to={day(6)}")).json()
    assert [n["booked"] for n in nights] == [1, 0, 0, 0, 0, 0, 0]
    # Mara is now the Brookes' child: their carer may ask the hub for her.
    response = post(
        as_user(world.neighbour_carer),
        url("sleepover-list"),
        booking(world, days=10),
    )
    assert response.status_code == 201, response.content
    assert response.json()["household"]["name"] == "The Brookes"

    response = post(
        liaison,
        url("sleepover-end-placement", arrived.pk),
        {"to": world.neighbour.pk, "reason": "Again"},
    )
    assert response.status_code == 409


def test_the_placement_ends_with_the_child_moving_on(world, arrived, as_user):
    response = post(
        as_user(world.manager),
        url("sleepover-end-placement", arrived.pk),
        {"to": None, "reason": "Returned home to birth family"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "collected"
    child = Child.objects.get(pk=world.child.pk)
    assert (child.household, child.status) == (None, Child.Status.MOVED_ON)
    assert not Placement.objects.filter(child=child, ended_on__isnull=True).exists()
    assert Placement.objects.get(child=child).reason_for_move == "Returned home to birth family"
    assert not Night.objects.filter(request=arrived, date__gt=day(0)).exists()


def test_ending_before_the_child_arrived_is_409(world, as_user):
    response = post(as_user(world.liaison), url("sleepover-temporary"), placement_body(world))
    pk = response.json()["id"]
    liaison = as_user(world.liaison)
    body = {"to": world.neighbour.pk, "reason": "A placement was found before she came"}
    response = post(liaison, url("sleepover-end-placement", pk))
    assert response.status_code == 400  # no body at all: to and reason are required
    response = post(liaison, url("sleepover-end-placement", pk), body)
    assert response.status_code == 409
    assert "not arrived" in response.json()["detail"]
    assert post(as_user(world.hub_carer), url("sleepover-accept", pk)).status_code == 200
    response = post(liaison, url("sleepover-end-placement", pk), body)
    assert response.status_code == 409
    child = Child.objects.get(pk=world.child.pk)
    assert child.household == world.satellite
    assert Request.objects.get(pk=pk).status == Status.ACCEPTED


@pytest.mark.parametrize(
    ("to", "reason", "field"),
    [
        (lambda w: w.other_service_constellation.hub_id, "Moved south", "to"),
        (lambda w: w.other_constellation.hub_id, "Moved to Hillside", "to"),  # not the liaison's
        (lambda w: 987654, "Somewhere", "to"),
        (lambda w: str(w.neighbour.pk), "Brookes", "to"),
        (lambda w: w.neighbour.pk, "", "reason"),
        (lambda w: w.neighbour.pk, "   ", "reason"),
        (lambda w: w.neighbour.pk, "x" * 201, "reason"),
    ],
)
def test_bad_moves_are_400_naming_the_field(world, arrived, as_user, to, reason, field):
    response = post(
        as_user(world.liaison),
        url("sleepover-end-placement", arrived.pk),
        {"to": to(world), "reason": reason},
    )
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED
    assert Child.objects.get(pk=world.child.pk).household == world.satellite


def test_an_unknown_field_in_the_move_is_400(world, arrived, as_user):
    response = post(
        as_user(world.liaison),
        url("sleepover-end-placement", arrived.pk),
        {"to": None, "reason": "Home", "on": "2030-01-01"},
    )
    assert response.status_code == 400
    assert "on" in response.json()
    assert Child.objects.get(pk=world.child.pk).status == Child.Status.PLACED


def test_a_manager_may_move_the_child_to_another_constellation(world, arrived, as_user):
    response = post(
        as_user(world.manager),
        url("sleepover-end-placement", arrived.pk),
        {"to": world.other_constellation.hub_id, "reason": "Hillside Hub has a long-term bed"},
    )
    assert response.status_code == 200, response.content
    assert Child.objects.get(pk=world.child.pk).household_id == world.other_constellation.hub_id


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("hub_carer", 403),
        ("satellite_carer", 403),
        ("social_worker", 403),
        ("other_liaison", 404),
        ("other_service_manager", 404),
    ],
)
def test_only_the_liaison_and_managers_end_a_placement(world, arrived, as_user, user, expected):
    response = post(
        as_user(getattr(world, user)),
        url("sleepover-end-placement", arrived.pk),
        {"to": None, "reason": "Home"},
    )
    assert response.status_code == expected, response.content
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED
    assert Child.objects.get(pk=world.child.pk).status == Child.Status.PLACED


def test_ending_a_request_that_is_not_a_temporary_placement_is_404(world, as_user):
    response = post(as_user(world.satellite_carer), url("sleepover-list"), booking(world))
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    response = post(
        as_user(world.liaison),
        url("sleepover-end-placement", pk),
        {"to": world.neighbour.pk, "reason": "Moving"},
    )
    assert response.status_code == 404
    assert Request.objects.get(pk=pk).status == Status.REQUESTED
    assert Child.objects.get(pk=world.child.pk).household == world.satellite
    assert post(as_user(world.liaison), url("sleepover-end-placement", 987654)).status_code == 404


def test_a_temporary_placement_cannot_be_asked_for_by_a_family(world, as_user):
    response = post(
        as_user(world.satellite_carer), url("sleepover-list"), booking(world, kind="temporary")
    )
    assert response.status_code == 400
    assert "liaison worker" in response.json()["kind"][0]
    assert not Request.objects.filter(kind=Kind.TEMPORARY).exists()


# --- anonymous and the schema ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/hub-covers/"),
        ("post", "/api/v1/hub-covers/"),
        ("post", "/api/v1/hub-covers/1/end/"),
        ("get", "/api/v1/limit-overrides/"),
        ("post", "/api/v1/limit-overrides/"),
        ("post", "/api/v1/limit-overrides/1/withdraw/"),
        ("post", "/api/v1/hub-unavailability/1/withdraw/"),
        ("post", "/api/v1/sleepovers/temporary/"),
        ("post", "/api/v1/sleepovers/1/end-placement/"),
    ],
)
def test_anonymous_requests_get_401(world, stand_in, method, path):
    arrange(world, stand_in.household)
    response = getattr(APIClient(), method)(path, data={}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert "Fairweathers" not in response.content.decode()


def test_the_schema_lists_the_new_endpoints(world, as_user):
    response = as_user(world.liaison).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/hub-covers/": {"get", "post"},
        "/api/v1/hub-covers/{id}/end/": {"post"},
        "/api/v1/limit-overrides/": {"get", "post"},
        "/api/v1/limit-overrides/{id}/withdraw/": {"post"},
        "/api/v1/hub-unavailability/{id}/withdraw/": {"post"},
        "/api/v1/sleepovers/temporary/": {"post"},
        "/api/v1/sleepovers/{id}/end-placement/": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) - {"parameters"} == methods, (path, set(paths[path]))
