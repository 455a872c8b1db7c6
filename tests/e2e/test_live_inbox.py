"""The hub carer's inbox, open on a phone, updates by itself: a crisis raised by a
satellite family shows as a new card within seconds, without a reload; and a reason
the hub carer is typing meanwhile is never swapped away."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from constellation.models import Child
from people.models import User
from sleepovers import services
from sleepovers.models import Kind
from tests.sleepovers.helpers import stay

PASSWORD = "mockingbird-demo"  # noqa: S105 - the documented demo password
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# The block polls every 10 s: a change shows within this.
WITHIN_MS = 15_000


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    call_command("seed_demo", force=True, verbosity=0)


def log_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/")


def raise_crisis(email="satellite@example.org"):
    """The family's crisis button, pressed elsewhere: the same service call."""
    carer = User.objects.get(email=email)
    child = Child.objects.filter(household__carers__user=carer).order_by("pk").first()
    start = timezone.now()
    return services.create_request(
        by=carer,
        kind=Kind.CRISIS,
        children=[child],
        start=start,
        end=services.crisis_end(start, "drop_off"),
        crisis_reason="drop_off",
    )


@pytest.fixture
def phone(browser):
    """Pages on a phone-sized screen, closed after the test: a page left open would go
    on polling the live server while the next tests use the database."""
    contexts = []

    def open_page():
        contexts.append(browser.new_context(**PHONE))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def open_inbox(phone, base):
    page = phone()
    log_in(page, base, "hub@example.org")
    page.goto(f"{base}/sleepovers/")
    # Set on this very page: a reload would lose it.
    page.evaluate("window.stillTheSamePage = true")
    return page


def test_a_crisis_shows_on_the_hubs_inbox_without_a_reload(demo, live_server, phone):
    page = open_inbox(phone, live_server.url)
    assert page.get_by_test_id("inbox-item").count() == 0

    crisis = raise_crisis()

    card = page.locator(f'[data-request="{crisis.pk}"]')
    card.wait_for(timeout=WITHIN_MS)
    assert "Crisis" in card.inner_text()
    assert "New" in card.get_by_test_id("new-badge").inner_text()
    assert "inbox-item-new" in card.get_attribute("class")
    assert card.get_by_role("button", name="Accept").is_visible()
    # Said in the live region for a screen reader, and no reload happened.
    news = page.locator("#live-news")
    assert news.get_attribute("aria-live") == "polite"
    assert f"a crisis request from {crisis.household.name}" in news.inner_text()
    assert page.evaluate("window.stillTheSamePage") is True


def test_a_reason_being_typed_is_kept_when_a_crisis_comes(demo, live_server, phone):
    start, end = stay(6)
    carer = User.objects.get(email="satellite@example.org")
    planned = services.create_request(
        by=carer,
        kind=Kind.PLANNED,
        children=list(Child.objects.filter(household__carers__user=carer).order_by("pk")[:1]),
        start=start,
        end=end,
    )
    page = open_inbox(phone, live_server.url)
    card = page.locator(f'[data-request="{planned.pk}"]')
    card.get_by_text("Decline", exact=True).click()
    reason = card.get_by_label("Why? The family will read it.")
    reason.fill("We are away that weekend, sorry")

    crisis = raise_crisis()

    # The change is said, but the block with the reason being typed stays as it is.
    page.locator("#live-news").filter(has_text="crisis request").wait_for(timeout=WITHIN_MS)
    assert reason.input_value() == "We are away that weekend, sorry"
    assert page.locator(f'[data-request="{crisis.pk}"]').count() == 0

    # Once the reason is cleared and left, the next poll shows the crisis.
    reason.fill("")
    page.locator("h1").click()
    page.locator(f'[data-request="{crisis.pk}"]').wait_for(timeout=WITHIN_MS)
    assert page.evaluate("window.stillTheSamePage") is True
