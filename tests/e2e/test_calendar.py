"""A satellite carer, on a phone, opens the constellation calendar from the menu, finds
the get-together in the month's agenda (the grid is for wide screens), taps it and
answers yes for two adults and a child: the page says it is saved, the answer is
recorded and the month marks it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from calendar_events import services
from calendar_events.models import Event, Rsvp
from constellation.models import Child, Constellation
from people.models import User

PASSWORD = "mockingbird-demo"  # noqa: S105 - the documented demo password
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TITLE = "Picnic in Riverside Park"


@pytest.fixture
def picnic(transactional_db, django_db_serialized_rollback, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    call_command("seed_demo", force=True, verbosity=0)
    riverside = Constellation.objects.get(name="Riverside")
    start = services.london_start(timezone.localdate() + timedelta(days=2), 12)
    return services.create_event(
        constellation=riverside,
        by=User.objects.get(email="hub@example.org"),
        kind=Event.Kind.SOCIAL,
        title=TITLE,
        place="Riverside Park, by the bandstand",
        start=start,
        end=start + timedelta(hours=3),
        capacity=30,
    )


@pytest.fixture
def phone(browser):
    contexts = []

    def open_page():
        contexts.append(browser.new_context(**PHONE))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/")


def test_a_satellite_carer_answers_yes_on_a_phone(picnic, live_server, phone):
    base = live_server.url
    carer = User.objects.get(email="satellite@example.org")
    child = Child.objects.filter(household__carers__user=carer, status="placed").first()
    page = phone()
    log_in(page, base, carer.email)

    # The menu folds away on a phone: open it and tap Calendar.
    page.get_by_role("button", name="Show or hide the menu").click()
    page.get_by_role("link", name="Calendar", exact=True).click()
    page.wait_for_url(f"{base}/calendar/")
    # On a phone the month is a list; the grid is hidden.
    assert not page.locator("table.cal-month").is_visible()
    if timezone.localtime(picnic.start).month != timezone.localdate().month:
        page.locator("a[rel=next]").click()
    slot = page.locator(".cal-agenda").get_by_test_id("cal-slot").filter(has_text=TITLE)
    assert slot.is_visible()
    slot.click()

    assert TITLE in page.locator("h1").inner_text()
    assert "Riverside Park, by the bandstand" in page.locator("main").inner_text()
    assert "12:00–15:00" in page.get_by_test_id("when").inner_text()
    page.locator("label", has_text="Yes").click()
    page.get_by_label("Adults coming").fill("2")
    page.get_by_label(child.known_as).check()
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_load_state()

    assert "your answer (Yes) is saved" in page.locator("main").inner_text()
    assert "You said: Yes, 3 people" in page.get_by_test_id("my-answer").inner_text()
    # The child by the name they go by, never their full name.
    assert child.known_as in page.locator("main").inner_text()
    assert child.full_name not in page.locator("main").inner_text()
    rsvp = Rsvp.objects.get(occurrence__event=picnic, household__carers__user=carer)
    assert (rsvp.answer, rsvp.adults, rsvp.people) == ("yes", 2, 3)
    assert list(rsvp.children.all()) == [child]

    page.get_by_role("link", name=timezone.localtime(picnic.start).strftime("%B %Y")).click()
    assert "You: Yes" in page.locator(".cal-agenda").inner_text()
