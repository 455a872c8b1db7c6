"""The OpenAPI schema and its Swagger page: complete, valid, and served from our
own static files."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

API_PATHS = [
    "/api/v1/me/",
    "/api/v1/constellations/",
    "/api/v1/constellations/{id}/",
    "/api/v1/households/",
    "/api/v1/households/{id}/",
    "/api/v1/children/",
    "/api/v1/children/{id}/",
]


def test_schema_and_docs_need_a_login(db):
    for path in ("/api/schema/", "/api/docs/"):
        assert APIClient().get(path).status_code == 401


def test_schema_is_served_and_lists_every_endpoint(world):
    client = APIClient()
    client.force_login(world.satellite_carer)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    for path in API_PATHS:
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/households/{id}/"]) == {"get", "patch"}
    assert set(schema["paths"]["/api/v1/children/{id}/"]) == {"get", "patch"}
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    child = schema["components"]["schemas"]["ChildRecord"]
    assert len(child["oneOf"]) == 2


def test_schema_generates_without_errors_or_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in API_PATHS:
        assert f"{path}:" in text


def _local_references(text: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', text)


def test_docs_page_uses_only_local_assets(world):
    client = APIClient()
    client.force_login(world.satellite_carer)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"https?://", html)
    references = _local_references(html)
    assert references
    for reference in references:
        assert reference.startswith("/"), reference
        assert not reference.startswith("//"), reference
        if reference.startswith("/static/"):
            assert finders.find(reference.removeprefix("/static/")), reference
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert not re.search(r"https?://", script.content.decode())
