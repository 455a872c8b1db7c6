"""Sleepover journeys in a real Chromium, each on a phone and on a desktop: a planned
stay booked and accepted; a crisis alerted, seen and accepted while the family watches;
a stay beyond the child's delegated authority approved by the liaison worker and then
lived through to its collection; a request declined and another time offered and taken."""

import re
from datetime import timedelta

import time_machine
from django.utils import timezone

from delegated_authority import services as authority
from delegated_authority.models import Decision, Holder
from sleepovers.models import Request
from tests.factories import PASSWORD
from tests.sleepovers.helpers import allow_hub

REQUEST_PAGE = re.compile(r"/sleepovers/\d+/$")
# The family's request page asks every 10 s whether its status moved: a change shows within this.
LIVE_MS = 15_000


def local(moment) -> str:
    """A moment as a datetime-local input takes it (London time)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def evening(days_ahead: int, hour: int = 17):
    day = timezone.localdate() + timedelta(days=days_ahead)
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, hour, 0))


def book(journey, family, *, start, end, notes=""):
    """The satellite carer books from their home page; returns the request's page."""
    family.get_by_role("link", name="Book a sleepover").first.click()
    family.wait_for_url("**/sleepovers/new/")
    journey.check(family, "book a sleepover")
    family.get_by_label("Planned overnight stay").check()
    family.get_by_label("From").fill(local(start))
    family.get_by_label("Until").fill(local(end))
    if notes:
        family.get_by_label("Anything the hub should know").fill(notes)
    family.get_by_role("button", name="Send the request").click()
    family.wait_for_load_state()
    assert REQUEST_PAGE.search(family.url), family.locator("form.sleepover-form").inner_text()
    journey.check(family, "the request")
    return family


def hub_inbox(journey, email="hub@test.example"):
    hub = journey.log_in(email, PASSWORD)
    journey.menu(hub, "Sleepovers")
    return hub


def status(page):
    return page.get_by_test_id("status-words")


def test_a_planned_sleepover_is_booked_and_accepted(people, journey):
    allow_hub(people.child, by=people.liaison, nights=2)
    family = journey.log_in("satellite@test.example", PASSWORD)
    book(journey, family, start=evening(5), end=evening(6, 10), notes="Mara likes the top bunk")
    assert "Planned overnight stay" in family.locator("h1").inner_text()
    assert "Mara" in family.locator("main").inner_text()
    assert "The hub has not answered yet." in status(family).inner_text()

    hub = hub_inbox(journey)
    card = hub.get_by_test_id("inbox-item").filter(has_text="The Ashfords")
    assert card.count() == 1
    assert "Mara" in card.inner_text()
    assert "likes the top bunk" in card.inner_text()
    card.get_by_role("button", name="Accept").click()
    hub.wait_for_load_state()
    journey.check(hub, "inbox after accepting")
    assert "accepted" in hub.locator("main").inner_text().lower()

    # The family's page, still open, shows the answer by itself.
    status(family).filter(has_text="Booked").wait_for(timeout=LIVE_MS)
    assert Request.objects.get().status == "accepted"
    journey.menu(family, "Sleepovers")
    assert "Accepted" in family.locator("main").inner_text()
    journey.finish(family)


def test_a_crisis_is_alerted_seen_and_accepted_while_the_family_watches(people, journey):
    allow_hub(people.child, by=people.liaison, nights=2)
    hub = journey.log_in("hub@test.example", PASSWORD)
    hub.evaluate("window.stillTheSamePage = true")
    family = journey.log_in("satellite@test.example", PASSWORD)

    family.get_by_role("link", name="Need help now").first.click()
    family.wait_for_url("**/sleepovers/crisis/")
    journey.check(family, "need help now")
    family.get_by_label("Drop a child off (another child needs the doctor)").check()
    mara = family.get_by_role("checkbox", name="Mara")
    if not mara.is_checked():
        mara.check()
    family.get_by_label("Anything the hub must know now").fill("Her brother has a high fever")
    family.get_by_role("button", name="Ask the hub for help now").click()
    family.wait_for_url(REQUEST_PAGE)
    journey.check(family, "the crisis request")
    assert "has been alerted" in status(family).inner_text()
    crisis = Request.objects.get(kind="crisis")

    # The hub carer's home page, open all along, shows the crisis by itself.
    card = hub.locator(f'[data-request="{crisis.pk}"]')
    card.wait_for(timeout=LIVE_MS)
    assert "Crisis" in card.inner_text()
    assert "Mara" in card.inner_text()
    assert hub.evaluate("window.stillTheSamePage") is True
    journey.check(hub, "home with the crisis")
    card.get_by_role("link", name="The Ashfords").click()
    hub.wait_for_url(f"**/sleepovers/{crisis.pk}/")
    journey.check(hub, "the crisis, hub's view")
    assert "high fever" in hub.locator("main").inner_text()
    hub.get_by_role("button", name="I've seen it, I'm calling you").click()
    hub.wait_for_load_state()
    assert hub.get_by_test_id("crisis-seen").is_visible()

    # The family sees that the hub has seen it, without reloading.
    family.get_by_test_id("crisis-seen").wait_for(timeout=LIVE_MS)
    assert "The hub has seen it and is calling you." in status(family).inner_text()

    hub.get_by_role("button", name="Accept").click()
    hub.wait_for_load_state()
    journey.check(hub, "the crisis accepted, hub's view")
    status(family).filter(has_text="Booked").wait_for(timeout=LIVE_MS)
    crisis.refresh_from_db()
    assert crisis.status == "accepted"
    journey.finish(family)


def test_a_stay_beyond_delegated_authority_waits_for_approval_then_completes(people, journey):
    # Mara's agreement leaves planned overnight stays at the hub to the liaison worker.
    today = timezone.localdate()
    authority.create_agreement(
        people.child,
        by=people.liaison,
        effective_from=today - timedelta(days=1),
        review_on=today + timedelta(days=180),
        signed_off_role="liaison_worker",
        clauses=[
            authority.ClauseInput(
                Decision.objects.get(code="overnight_hub_planned"), Holder.LIAISON_WORKER
            )
        ],
    )
    family = journey.log_in("satellite@test.example", PASSWORD)
    book(journey, family, start=evening(2), end=evening(5, 10))

    hub = hub_inbox(journey)
    card = hub.get_by_test_id("inbox-item").filter(has_text="The Ashfords")
    card.get_by_role("button", name="Accept").click()
    hub.wait_for_load_state()
    journey.check(hub, "inbox after accepting")
    stay = Request.objects.get()
    assert stay.status == "awaiting_approval"
    family.reload()
    journey.check(family, "the request, waiting for approval")
    assert "waits for the approval" in status(family).inner_text()

    liaison = journey.log_in("liaison@test.example", PASSWORD)
    journey.menu(liaison, "Approvals")
    waiting = liaison.locator("article").filter(has_text="Mara")
    assert waiting.count() == 1
    assert "3 nights" in waiting.inner_text()
    waiting.get_by_label("Note").fill("Agreed with the social worker")
    waiting.get_by_role("button", name="Approve").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "approvals after approving")
    assert "Nothing is waiting for you." in liaison.locator("main").inner_text()
    stay.refresh_from_db()
    assert stay.status == "accepted"
    family.reload()
    assert "Booked" in status(family).inner_text()

    # The day after the stay began, the hub records the arrival, then the collection.
    with time_machine.travel(evening(3, 12), tick=True):
        hub.goto(journey.url(f"/sleepovers/{stay.pk}/"))
        journey.check(hub, "the stay under way")
        hub.get_by_role("button", name="Arrived").click()
        hub.wait_for_load_state()
        assert "At the hub now." in status(hub).inner_text() or "Arrived" in hub.inner_text("main")
        hub.get_by_role("button", name="Collected").click()
        hub.wait_for_load_state()
        journey.check(hub, "the stay collected")
        family.reload()
        assert "Collected: the stay is over." in status(family).inner_text()
        timeline = family.locator(".timeline").inner_text()
        for step in ("Requested", "Waiting for approval", "Accepted", "Arrived", "Collected"):
            assert step in timeline
        stay.refresh_from_db()
        assert stay.status == "collected"
        journey.finish(family)


def test_the_hub_declines_one_request_and_offers_another_time_on_another(people, journey):
    allow_hub(people.child, by=people.liaison, nights=2)
    family = journey.log_in("satellite@test.example", PASSWORD)
    book(journey, family, start=evening(3), end=evening(4, 10))
    family.goto(journey.url("/"))
    book(journey, family, start=evening(10), end=evening(11, 10))
    first, second = Request.objects.order_by("start")

    hub = hub_inbox(journey)
    one = hub.locator(f'[data-request="{first.pk}"]')
    one.get_by_text("Decline", exact=True).click()
    one.get_by_label("Why? The family will read it.").fill("We are away that night, sorry")
    one.get_by_role("button", name="Decline the request").click()
    hub.wait_for_load_state()
    journey.check(hub, "inbox after declining")

    other = hub.locator(f'[data-request="{second.pk}"]')
    other.get_by_text("Offer another time", exact=True).click()
    offered_start, offered_end = evening(12), evening(13, 10)
    other.get_by_label("From").fill(local(offered_start))
    other.get_by_label("Until").fill(local(offered_end))
    other.get_by_role("button", name="Send the offer").click()
    hub.wait_for_load_state()
    journey.check(hub, "inbox after offering")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("declined", "offered")

    family.goto(journey.url(f"/sleepovers/{first.pk}/"))
    journey.check(family, "the declined request")
    assert "We are away that night, sorry" in status(family).inner_text()
    family.goto(journey.url(f"/sleepovers/{second.pk}/"))
    journey.check(family, "the offer")
    words = status(family).inner_text()
    assert "offers another" in words
    assert timezone.localtime(offered_start).strftime("%a %-d %b, 17:00") in words
    family.get_by_role("button", name="Take the offer").click()
    family.wait_for_load_state()
    journey.check(family, "the offer taken")
    assert "Booked" in status(family).inner_text()
    second.refresh_from_db()
    assert second.status == "accepted"
    assert (second.start, second.end) == (offered_start, offered_end)
    journey.finish(family)
