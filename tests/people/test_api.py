"""GET /api/v1/me/: who the API thinks you are."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories as f

pytestmark = pytest.mark.django_db

ME = reverse("api:me")


def me(user):
    client = APIClient()
    client.force_login(user)
    response = client.get(ME)
    assert response.status_code == 200
    return response.json()


def test_anonymous_gets_401_with_a_token_challenge(db):
    response = APIClient().get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"detail"}


def test_a_wrong_token_gets_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert client.get(ME).status_code == 401


def test_hub_carer(world):
    body = me(world.hub_carer)
    assert body == {
        "id": world.hub_carer.pk,
        "email": "hub@test.example",
        "name": world.hub_carer.get_full_name(),
        "roles": ["hub"],
        "constellations": [{"id": world.constellation.pk, "name": "Riverside"}],
    }


@pytest.mark.parametrize(
    ("user", "roles", "constellations"),
    [
        ("satellite_carer", ["satellite"], ["Riverside"]),
        ("liaison", ["liaison"], ["Riverside"]),
        ("other_liaison", ["liaison"], ["Hillside"]),
        ("manager", ["manager"], ["Hillside", "Riverside"]),
        ("other_service_manager", ["manager"], ["Seaside"]),
        ("social_worker", ["social_worker"], []),
    ],
)
def test_roles_and_constellations(world, user, roles, constellations):
    body = me(getattr(world, user))
    assert body["roles"] == roles
    assert [c["name"] for c in body["constellations"]] == constellations


def test_a_person_without_a_role(db):
    body = me(f.UserFactory(email="nobody@test.example"))
    assert body["roles"] == []
    assert body["constellations"] == []


def test_token_authentication(world):
    token = Token.objects.create(user=world.satellite_carer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == "satellite@test.example"


def test_an_inactive_users_token_is_refused(world):
    token = Token.objects.create(user=world.satellite_carer)
    world.satellite_carer.is_active = False
    world.satellite_carer.save(update_fields=["is_active"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(ME).status_code == 401


def test_me_is_read_only(world):
    client = APIClient()
    client.force_login(world.hub_carer)
    assert client.patch(ME, {"email": "x@test.example"}, format="json").status_code == 405
