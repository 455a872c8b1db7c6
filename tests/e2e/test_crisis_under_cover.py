"""A crisis while the hub is covered, in a real Chromium: the satellite carer taps
"Need help now", the request goes to the stand-in household, whose carer sees it on
their home page with the child's needs and accepts it; the satellite carer's page
shows the answer without reloading."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from constellation.models import Constellation, Household, HubCover
from people.models import User
from sleepovers import services
from sleepovers.models import Request, tonight

PASSWORD = "mockingbird-demo"  # noqa: S105 - the documented demo password


@pytest.fixture
def covered(transactional_db, django_db_serialized_rollback, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    call_command("seed_demo", force=True, verbosity=0)
    riverside = Constellation.objects.get(name="Riverside")
    stand_in = Household.objects.get(hub_of__name="Hillside")
    today = timezone.localdate()
    cover = services.arrange_cover(
        riverside,
        by=User.objects.get(email="liaison@example.org"),
        stand_in=stand_in,
        start=today,
        end=today + timedelta(days=2),
        note="Riverside's carers are at a funeral.",
    )
    # In the small hours the night in progress began yesterday: the cover holds it too,
    # as a cover arranged the day before would.
    HubCover.objects.filter(pk=cover.pk).update(start=tonight())
    return stand_in


def log_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/")


def test_a_crisis_under_cover_reaches_the_stand_in_who_answers(covered, live_server, browser):
    base = live_server.url
    family = browser.new_context().new_page()
    log_in(family, base, "satellite@example.org")
    # The family's home page says who covers, with their number.
    assert f"{covered.name} covers for the hub" in family.locator("main").inner_text()

    family.get_by_role("link", name="Need help now").first.click()
    assert covered.name in family.locator("main").inner_text()
    family.get_by_label("Drop a child off (another child needs the doctor)").check()
    boxes = family.get_by_role("checkbox")
    if not boxes.first.is_checked():
        boxes.first.check()
    family.get_by_role("button", name="Ask the hub for help now").click()
    family.wait_for_url(f"{base}/sleepovers/*/")
    crisis = Request.objects.get(kind="crisis", requested_by__email="satellite@example.org")
    assert crisis.hub == covered
    assert "has been alerted" in family.get_by_test_id("status-words").inner_text()

    stand_in = browser.new_context().new_page()
    log_in(stand_in, base, "hub2@example.org")
    item = stand_in.get_by_test_id("inbox-item").filter(has_text="Crisis")
    assert item.count() == 1
    child = crisis.children.get()
    assert child.needs
    assert child.needs in item.inner_text()  # the needs and allergies are at hand
    assert child.allergies in item.inner_text()
    item.get_by_role("button", name="Accept").click()
    stand_in.wait_for_load_state()

    crisis.refresh_from_db()
    assert crisis.status in {"accepted", "awaiting_approval"}
    expected = "Booked" if crisis.status == "accepted" else "waits for the approval"
    # The family's page polls every 20 s and shows the answer without a reload.
    family.get_by_test_id("status-words").filter(has_text=expected).wait_for(timeout=30_000)
