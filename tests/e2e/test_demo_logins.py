"""Each demo login, typed into the real login page, reaches its own home page."""

import pytest
from django.core.management import call_command

PASSWORD = "mockingbird-demo"  # noqa: S105 - the documented demo password

HOMES = [
    ("hub@example.org", "Riverside"),
    ("hub2@example.org", "Hillside"),
    ("satellite@example.org", "Your household"),
    ("satellite2@example.org", "Your household"),
    ("liaison@example.org", "Your constellations"),
    ("manager@example.org", "Northshire Fostering Service"),
    ("manager-other@example.org", "Southshire Fostering Service"),
]


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    call_command("seed_demo", force=True, verbosity=0)


@pytest.mark.parametrize(("email", "expected"), HOMES)
def test_demo_login_reaches_its_home_page(demo, live_server, page, email, expected):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")
    body = page.locator("main").inner_text()
    assert expected in body
    # Another service's names never appear.
    other = "Southshire" if "other" not in email else "Northshire"
    assert other not in page.content()
