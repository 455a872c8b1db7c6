"""Each choice a liaison worker makes from a set (a stand-in household, a child for
an exception, a child for a temporary placement, where a child moves to) comes from
one named helper: the page offers exactly what the API accepts, and a choice
outside is a 400 naming the field at both doors and refused by the service."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from constellation import services as people
from constellation.models import Child, Household, HubCover
from sleepovers import access, services
from sleepovers.models import Kind, LimitOverride, Request, Status

from .. import factories as f

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------


def day(n: int):
    return timezone.localdate() + timedelta(days=n)


def options(response, name: str) -> set[int]:
    """The ids a page's ``<select name=...>`` offers (the empty choice left out)."""
    assert response.status_code == 200
    html = response.content.decode()
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no {name} field on the page"
    return {int(v) for v in re.findall(r'value="(\d+)"', select[1])}


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def tried(call):
    """Run ``call`` and undo whatever it saved: each candidate is tried on its own."""
    with transaction.atomic():
        result = call()
        transaction.set_rollback(True)
    return result


def accepted_by_api(user, path: str, bodies: dict[int, dict]) -> set[int]:
    """The candidates the API takes (201 or 200); every other answer is a 400 naming
    the field."""
    accepted = set()
    for pk, body in bodies.items():
        response = tried(lambda body=body: api(user).post(path, body, format="json"))
        if response.status_code in (200, 201):
            accepted.add(pk)
        else:
            assert response.status_code == 400, (pk, response.content)
    return accepted


def spare_home(world, *, name="The Fairweathers", beds=2):
    household = f.satellite_in(world.constellation, name=name)
    people.update_household(household, by=None, beds=beds)
    household.refresh_from_db()
    f.carer_of(household, email=f"{household.pk}-carer@test.example")
    return household


def all_households():
    return list(Household.objects.values_list("pk", flat=True))


def all_children():
    return list(Child.objects.values_list("pk", flat=True))


# --- stand-in households -------------------------------------------------------------


def _cover_body(world, pk):
    return {
        "constellation": world.constellation.pk,
        "stand_in": pk,
        "start": day(3).isoformat(),
        "end": day(5).isoformat(),
        "note": "Hub family on holiday",
    }


@pytest.mark.parametrize("who", ["liaison", "manager"])
def test_the_stand_ins_offered_are_the_stand_ins_the_api_accepts(world, client, who):
    user = getattr(world, who)
    fairweathers = spare_home(world)
    people.update_household(world.other_constellation.hub, by=None, beds=2)
    client.force_login(user)
    offered = options(
        client.get(reverse("sleepovers:constellation", args=[world.constellation.pk])),
        "stand_in",
    )
    bodies = {pk: _cover_body(world, pk) for pk in all_households()}
    assert accepted_by_api(user, reverse("api:hub-cover-list"), bodies) == offered
    assert offered == set(
        access.stand_in_choices(user, world.constellation).values_list("pk", flat=True)
    )
    assert fairweathers.pk in offered
    assert world.hub.pk not in offered  # the hub cannot stand in for itself
    assert world.neighbour.pk not in offered  # no beds
    assert world.other_service_constellation.hub_id not in offered
    # Another constellation's hub: the manager oversees it, its liaison worker does not.
    assert (world.other_constellation.hub_id in offered) == (who == "manager")


STAND_INS_OUTSIDE = {
    "the hub itself": lambda w: w.hub,
    "a household without beds": lambda w: w.neighbour,
    "another service's household": lambda w: w.other_service_constellation.hub,
    "a household the liaison worker does not oversee": lambda w: w.other_constellation.hub,
}


@pytest.mark.parametrize("outside", STAND_INS_OUTSIDE.values(), ids=STAND_INS_OUTSIDE.keys())
def test_a_stand_in_outside_the_set_is_refused_at_every_door(world, client, outside):
    household = outside(world)
    people.update_household(world.other_constellation.hub, by=None, beds=2)
    people.update_household(world.other_service_constellation.hub, by=None, beds=2)
    household.refresh_from_db()
    client.force_login(world.liaison)
    page = client.post(
        reverse("sleepovers:arrange_cover", args=[world.constellation.pk]),
        {**_cover_body(world, household.pk), "constellation": ""},
    )
    assert page.status_code == 400
    assert "Choose a household from the list." in page.content.decode()
    response = api(world.liaison).post(
        reverse("api:hub-cover-list"), _cover_body(world, household.pk), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["stand_in"]
    with pytest.raises(ValidationError) as refused:
        services.arrange_cover(
            world.constellation, by=world.liaison, stand_in=household, start=day(3), end=day(5)
        )
    assert list(refused.value.message_dict) == ["stand_in"]
    assert not HubCover.objects.exists()


# --- children for an exception to the limits --------------------------------------------


def _exception_body(world, pk):
    return {
        "constellation": world.constellation.pk,
        "child": pk,
        "start": day(3).isoformat(),
        "end": day(9).isoformat(),
        "reason": "Mum's operation",
    }


def test_the_children_offered_for_an_exception_are_those_the_api_accepts(world, client):
    client.force_login(world.liaison)
    offered = options(
        client.get(reverse("sleepovers:constellation", args=[world.constellation.pk])), "child"
    )
    bodies = {pk: _exception_body(world, pk) for pk in all_children()}
    assert accepted_by_api(world.liaison, reverse("api:limit-override-list"), bodies) == offered
    assert offered == {world.child.pk, world.neighbour_child.pk, world.hub_child.pk}


CHILDREN_OUTSIDE = {
    "another constellation's child": lambda w: w.other_constellation_child,
    "another service's child": lambda w: w.other_service_child,
}


@pytest.mark.parametrize("outside", CHILDREN_OUTSIDE.values(), ids=CHILDREN_OUTSIDE.keys())
def test_a_child_outside_is_refused_an_exception_at_every_door(world, client, outside):
    child = outside(world)
    client.force_login(world.liaison)
    page = client.post(
        reverse("sleepovers:grant_override", args=[world.constellation.pk]),
        {**_exception_body(world, child.pk), "constellation": ""},
    )
    assert page.status_code == 400
    assert "Choose a child of this constellation" in page.content.decode()
    response = api(world.liaison).post(
        reverse("api:limit-override-list"), _exception_body(world, child.pk), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["child"]
    with pytest.raises(ValidationError) as refused:
        services.grant_override(
            world.constellation,
            by=world.liaison,
            child=child,
            start=day(3),
            end=day(9),
            reason="Mum's operation",
        )
    assert list(refused.value.message_dict) == ["child"]
    assert not LimitOverride.objects.exists()


# --- children for a temporary placement ----------------------------------------------------


def _placement_api_body(pk):
    return {
        "child": pk,
        "start": day(1).isoformat(),
        "expected_end": day(8).isoformat(),
        "notes": "",
    }


def _placement_page_body(pk):
    start = timezone.localtime(timezone.now() + timedelta(days=1))
    return {
        "child": pk,
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "expected_end": day(8).isoformat(),
        "notes": "",
    }


@pytest.fixture
def bob_at_the_hub(world):
    """Bob is already staying at the hub for a temporary placement."""
    return services.arrange_temporary_placement(
        world.neighbour_child, by=world.liaison, start=day(0), expected_end=day(10)
    )


@pytest.mark.parametrize("who", ["liaison", "manager"])
def test_the_children_offered_for_a_temporary_placement_are_those_the_api_accepts(
    nine_am, world, client, bob_at_the_hub, who
):
    user = getattr(world, who)
    client.force_login(user)
    offered = options(client.get(reverse("sleepovers:temporary")), "child")
    bodies = {pk: _placement_api_body(pk) for pk in all_children()}
    assert accepted_by_api(user, reverse("api:sleepover-temporary"), bodies) == offered
    assert world.child.pk in offered
    assert world.neighbour_child.pk not in offered  # at the hub already
    assert world.hub_child.pk not in offered  # the hub's own
    assert world.other_service_child.pk not in offered
    assert (world.other_constellation_child.pk in offered) == (who == "manager")


PLACEMENT_OUTSIDE = {
    "a child already in a temporary placement": lambda w: w.neighbour_child,
    "another constellation's child": lambda w: w.other_constellation_child,
    "another service's child": lambda w: w.other_service_child,
    "the hub's own child": lambda w: w.hub_child,
}


@pytest.mark.parametrize("outside", PLACEMENT_OUTSIDE.values(), ids=PLACEMENT_OUTSIDE.keys())
def test_a_child_outside_is_refused_a_temporary_placement_at_every_door(
    nine_am, world, client, bob_at_the_hub, outside
):
    child = outside(world)
    before = Request.objects.count()
    client.force_login(world.liaison)
    page = client.post(reverse("sleepovers:temporary"), _placement_page_body(child.pk))
    assert page.status_code == 400
    assert "Choose a child placed in one of your constellations." in page.content.decode()
    response = api(world.liaison).post(
        reverse("api:sleepover-temporary"), _placement_api_body(child.pk), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["child"]
    assert Request.objects.count() == before


def test_the_service_refuses_a_second_temporary_placement_for_the_same_child(
    nine_am, world, bob_at_the_hub
):
    with pytest.raises(ValidationError) as refused:
        services.arrange_temporary_placement(
            world.neighbour_child, by=world.liaison, start=day(1), expected_end=day(5)
        )
    assert refused.value.message_dict == {"child": [access.PLACEMENT_CHILD_MESSAGE]}
    assert Request.objects.filter(kind=Kind.TEMPORARY).count() == 1


# --- where a child moves at the end of a temporary placement ----------------------------------


@pytest.fixture
def arrived(nine_am, world):
    request = services.arrange_temporary_placement(
        world.child, by=world.liaison, start=timezone.now(), expected_end=day(7)
    )
    services.accept(request, by=world.hub_carer)
    services.arrived(request, by=world.hub_carer)
    request.refresh_from_db()
    assert request.status == Status.ARRIVED
    return request


def test_the_households_offered_for_the_move_are_those_the_api_accepts(world, client, arrived):
    client.force_login(world.liaison)
    offered = options(client.get(reverse("sleepovers:request", args=[arrived.pk])), "to")
    path = reverse("api:sleepover-end-placement", args=[arrived.pk])
    bodies = {pk: {"to": pk, "reason": "A new placement"} for pk in all_households()}
    assert accepted_by_api(world.liaison, path, bodies) == offered
    assert {world.neighbour.pk, world.satellite.pk, world.hub.pk} <= offered
    assert world.other_service_constellation.hub_id not in offered
    assert world.other_constellation.hub_id not in offered  # not the liaison worker's


DESTINATIONS_OUTSIDE = {
    "another service's household": lambda w: w.other_service_constellation.hub,
    "a household the liaison worker does not oversee": lambda w: w.other_constellation.hub,
}


@pytest.mark.parametrize("outside", DESTINATIONS_OUTSIDE.values(), ids=DESTINATIONS_OUTSIDE.keys())
def test_a_move_outside_the_set_is_refused_at_every_door(world, client, arrived, outside):
    household = outside(world)
    client.force_login(world.liaison)
    page = client.post(
        reverse("sleepovers:end_placement", args=[arrived.pk]),
        {"to": household.pk, "reason": "A new placement"},
    )
    assert page.status_code == 400
    assert "Choose a household from the list" in page.content.decode()
    response = api(world.liaison).post(
        reverse("api:sleepover-end-placement", args=[arrived.pk]),
        {"to": household.pk, "reason": "A new placement"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["to"]
    with pytest.raises(ValidationError) as refused:
        services.end_temporary_placement(
            arrived, by=world.liaison, to=household, reason="A new placement"
        )
    assert list(refused.value.message_dict) == ["to"]
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED
    assert Child.objects.get(pk=world.child.pk).household == world.satellite


def test_moving_on_from_care_is_always_a_choice(world, arrived):
    services.end_temporary_placement(arrived, by=world.liaison, to=None, reason="Home to mum")
    assert Child.objects.get(pk=world.child.pk).status == Child.Status.MOVED_ON
