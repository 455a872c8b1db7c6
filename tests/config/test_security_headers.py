"""Security headers on every kind of response, and templates that the Content
Security Policy can hold to: no inline script, no inline event handler, no inline
style, nothing from another host."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Emails are not served to a browser under our policy; their styles must be inline.
EMAIL_DIRS = ("/email/",)


def _templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        if any(part in str(path) for part in EMAIL_DIRS):
            continue
        yield path


@pytest.mark.parametrize("path", list(_templates()), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_inline_script_handler_or_style(path):
    text = path.read_text()
    for match in re.finditer(r"<script\b([^>]*)>", text, re.I):
        assert re.search(r"\bsrc\s*=", match.group(1)), f"inline <script> in {path.name}"
    assert not re.search(r"\son[a-z]+\s*=\s*[\"']", text, re.I), f"inline handler in {path.name}"
    assert not re.search(r"\sstyle\s*=\s*[\"']", text, re.I), f"inline style in {path.name}"
    assert "javascript:" not in text.lower(), f"javascript: URL in {path.name}"
    assert not re.search(
        r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=\s*[\"'](?:https?:)?//", text, re.I
    ), f"an asset from another host in {path.name}"


def test_the_inline_script_check_would_catch_one(tmp_path):
    """The check above is not vacuous: a template with an inline script fails it."""
    bad = tmp_path / "bad.html"
    bad.write_text('<div><script>alert(1)</script><button onclick="x()">Go</button></div>')
    with pytest.raises(AssertionError):
        test_no_template_has_inline_script_handler_or_style(bad)


def _pages(world):
    return {
        "hub_carer": [
            reverse("home"),
            "/api/v1/me/",
            reverse("calendar_events:month", args=[2027, 2]),
        ],
        "satellite_carer": [reverse("home"), reverse("constellation:child", args=[world.child.pk])],
        "manager": [reverse("home"), "/api/v1/me/"],
    }


HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.mark.parametrize("who", ["hub_carer", "satellite_carer", "manager", "anonymous"])
def test_pages_and_api_carry_the_security_headers_and_are_never_stored(
    client, world, who, settings
):
    settings.MFA_REQUIRED_FOR_STAFF = False
    if who == "anonymous":
        urls = [reverse("account_login"), "/api/v1/me/", reverse("healthz")]
    else:
        client.force_login(getattr(world, who))
        urls = _pages(world)[who]
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        for header, value in HEADERS.items():
            assert response.get(header) == value, (url, header, response.get(header))
        policy = response.get("Content-Security-Policy", "")
        assert "script-src 'self'" in policy, url
        assert "unsafe-inline" not in policy, url
        assert "frame-ancestors 'none'" in policy, url
        assert "object-src 'none'" in policy, url
        cache_control = response.get("Cache-Control", "")
        assert "no-store" in cache_control, (url, cache_control)
        assert "private" in cache_control, (url, cache_control)


def test_an_error_answer_is_not_stored_either(client, world):
    client.force_login(world.satellite_carer)
    response = client.get(reverse("constellation:child", args=[world.other_service_child.pk]))
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


def test_static_files_stay_cacheable(client):
    response = client.get(settings.STATIC_URL + "css/app.css")
    assert "no-store" not in response.get("Cache-Control", "")


def test_production_sends_hsts_and_secure_cookies(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_SSL_REDIRECT = False
    response = client.get(reverse("account_login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert settings.SESSION_COOKIE_HTTPONLY
