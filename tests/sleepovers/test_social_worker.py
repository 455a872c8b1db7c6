"""A child's social worker follows the stays asked for the children whose case they
hold: on the sleepovers page, the request page and the API, and nothing of a sibling
on another caseload, nor the family's notes, which may speak of the others."""

from django.urls import reverse
from rest_framework.test import APIClient

from sleepovers import services

from .. import factories as f
from .helpers import stay


def siblings_stay(world, notes="Zed has a cough, Mara is worried about school"):
    sibling = f.child_in(
        world.satellite, first_name="Zachary", last_name="Quill", preferred_name="Zed"
    )
    start, end = stay(4)
    return services.create_request(
        by=world.satellite_carer,
        kind="planned",
        children=[world.child, sibling],
        start=start,
        end=end,
        notes=notes,
    )


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_the_sleepovers_page_lists_the_stays_of_their_cases_only(client, world):
    own = siblings_stay(world)
    start, end = stay(9)
    neighbours = services.create_request(
        by=world.neighbour_carer,
        kind="planned",
        children=[world.neighbour_child],
        start=start,
        end=end,
    )
    client.force_login(world.social_worker)
    page = client.get(reverse("sleepovers:index")).content.decode()
    assert reverse("sleepovers:request", args=[own.pk]) in page
    assert reverse("sleepovers:request", args=[neighbours.pk]) not in page
    assert world.child.known_as in page
    assert "Zed" not in page


def test_the_request_page_shows_their_child_but_not_the_sibling_or_the_notes(client, world):
    request = siblings_stay(world)
    client.force_login(world.social_worker)
    page = client.get(reverse("sleepovers:request", args=[request.pk])).content.decode()
    assert world.child.known_as in page
    assert "Zed" not in page
    assert "has a cough" not in page
    # The hub carer sees the whole request.
    client.force_login(world.hub_carer)
    page = client.get(reverse("sleepovers:request", args=[request.pk])).content.decode()
    assert "Zed" in page
    assert "has a cough" in page


def test_the_api_shows_their_child_but_not_the_sibling_or_the_notes(world):
    request = siblings_stay(world)
    found = api(world.social_worker).get(reverse("api:sleepover-detail", args=[request.pk]))
    assert found.status_code == 200
    body = found.json()
    assert [c["preferred_name"] for c in body["children"]] == [world.child.known_as]
    assert body["notes"] == ""
    listed = api(world.social_worker).get(reverse("api:sleepover-list")).json()["results"]
    assert [[c["preferred_name"] for c in r["children"]] for r in listed] == [
        [world.child.known_as]
    ]
    whole = api(world.hub_carer).get(reverse("api:sleepover-detail", args=[request.pk])).json()
    assert sorted(c["preferred_name"] for c in whole["children"]) == sorted(
        [world.child.known_as, "Zed"]
    )
    assert "has a cough" in whole["notes"]


def test_they_cannot_act_on_the_request(client, world):
    request = siblings_stay(world)
    client.force_login(world.social_worker)
    for verb in ("accept", "cancel", "arrived"):
        response = client.post(reverse(f"sleepovers:{verb}", args=[request.pk]), {"reason": "x"})
        assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "requested"
