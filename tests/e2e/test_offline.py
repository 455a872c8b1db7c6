"""A satellite carer's phone loses its signal: the service worker, which kept the
offline page while the phone was online, shows it for any page, with the hub's
numbers, the out-of-hours duty number and 999 to tap, styled as the app. After
signing out, the page kept on the phone has no one's numbers any more (a shared
phone): only 999."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from constellation.models import Constellation
from people.models import User

PASSWORD = "mockingbird-demo"  # noqa: S105 - the documented demo password
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
CACHE = "mockingbird-offline-v1"
# Whom the kept offline page is for ("" for anyone), or null when none is kept.
KEPT_FOR = """async () => {
  const cache = await caches.open("CACHE");
  const kept = await cache.match("/offline/", { ignoreVary: true });
  return kept ? kept.headers.get("X-Offline-For") : null;
}""".replace("CACHE", CACHE)


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    call_command("seed_demo", force=True, verbosity=0)


@pytest.fixture
def phone(browser):
    contexts = []

    def open_context():
        contexts.append(browser.new_context(**PHONE))
        return contexts[-1]

    yield open_context
    for context in contexts:
        context.close()


def log_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/")


def wait_until_kept_for(page, who: str):
    """The service worker is ready and has kept the offline page for ``who``."""
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        f"({KEPT_FOR})().then((kept) => kept === {who!r})", polling=200, timeout=15_000
    )


def bar_colour(page) -> str:
    colour = page.locator("nav.navbar").evaluate("(nav) => getComputedStyle(nav).backgroundColor")
    assert colour not in {"", "transparent", "rgba(0, 0, 0, 0)"}
    return colour


def tel(number: str) -> str:
    return f'a[href="tel:{number.replace(" ", "")}"]'


def test_offline_the_phone_shows_the_numbers_to_call_and_forgets_them_at_sign_out(
    demo, live_server, phone
):
    base = live_server.url
    carer = User.objects.get(email="satellite@example.org")
    riverside = Constellation.objects.select_related("hub", "service").get(name="Riverside")
    hub, service = riverside.hub, riverside.service
    hillside = Constellation.objects.select_related("hub").get(name="Hillside")
    assert hub.phone
    assert service.out_of_hours_phone
    assert hillside.hub.phone

    context = phone()
    page = context.new_page()
    log_in(page, base, carer.email)
    wait_until_kept_for(page, str(carer.pk))
    online_bar = bar_colour(page)

    context.set_offline(True)
    page.goto(f"{base}/sleepovers/")
    offline = page.get_by_test_id("offline-page")
    expect(offline.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page).to_have_url(f"{base}/sleepovers/")
    expect(offline.locator(tel(hub.phone))).to_be_visible()
    expect(offline.locator(tel(service.out_of_hours_phone))).to_be_visible()
    expect(offline.get_by_role("heading", name="In an emergency call 999")).to_be_visible()
    expect(offline.locator('a[href="tel:999"]')).to_be_visible()
    expect(offline.locator(tel(hillside.hub.phone))).to_have_count(0)
    # The app's stylesheets were kept too: the bar is the app's blue, as online.
    assert bar_colour(page) == online_bar

    # Back online, the carer signs out: their numbers leave the phone.
    context.set_offline(False)
    page.goto(f"{base}/")
    page.get_by_role("button", name="Show or hide the menu").click()
    page.get_by_role("button", name=re.compile(carer.first_name)).click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/"))
    wait_until_kept_for(page, "")

    context.set_offline(True)
    page.goto(f"{base}/calendar/")
    offline = page.get_by_test_id("offline-page")
    expect(offline.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(offline.locator('a[href="tel:999"]')).to_be_visible()
    expect(offline.locator(tel(hub.phone))).to_have_count(0)
    expect(offline.locator(tel(service.out_of_hours_phone))).to_have_count(0)
    expect(offline.get_by_text("Sign in when you are back online")).to_be_visible()


def test_offline_before_anyone_signs_in_the_phone_shows_999(demo, live_server, phone):
    base = live_server.url
    context = phone()
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    wait_until_kept_for(page, "")

    context.set_offline(True)
    page.goto(f"{base}/")
    offline = page.get_by_test_id("offline-page")
    expect(offline.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(offline.locator('a[href="tel:999"]')).to_be_visible()
    assert offline.locator('a[href^="tel:"]').count() == 1
