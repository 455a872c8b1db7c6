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


# --- what every endpoint shares: bodies, unknown paths, documented errors -----------


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.parametrize("depth", [33, 5000, 100_000])
def test_a_body_nested_too_deeply_is_400_not_500(world, depth):
    """Python's JSON decoder ends a deep enough body in RecursionError: the parser of
    every endpoint refuses it first, saying why."""
    body = "[" * depth + "]" * depth
    response = _client(world.liaison).patch(
        reverse("api:household-detail", args=[world.satellite.pk]),
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["detail"]


def test_a_body_of_ordinary_depth_is_read(world):
    response = _client(world.liaison).patch(
        reverse("api:household-detail", args=[world.satellite.pk]),
        data={"phone": "07700 900123"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["phone"] == "07700 900123"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/children/null,null/",
        "/api/v1/children/-1/",
        "/api/v1/sleepovers/a%0Ab%0Dc/arrived/",
        "/api/v1/no-such-thing/",
    ],
)
def test_a_path_naming_no_endpoint_is_a_json_404(world, path):
    client = _client(world.hub_carer)
    for method in ("get", "post", "patch", "delete"):
        response = getattr(client, method)(path)
        assert response.status_code == 404, method
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


def test_a_path_naming_no_endpoint_asks_an_anonymous_caller_to_sign_in(db):
    response = APIClient().get("/api/v1/no-such-thing/")
    assert response.status_code == 401


def test_every_operation_documents_its_error_answers():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"401", "403"}
            if "{" in path:
                expected.add("404")
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if operation.get("requestBody") or query:
                expected.add("400")
            assert expected <= set(responses), (method, path, sorted(responses))
            for status in expected:
                assert "application/json" in responses[status]["content"], (method, path, status)
