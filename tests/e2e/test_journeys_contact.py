"""Keeping in touch, in a real Chromium, on a phone and on a desktop: the hub carer
records a check-in at high concern, which opens a concern and tells the liaison worker,
who records what was done and closes it."""

from constellation.models import CheckIn, Concern
from notifications.models import Notification
from tests.factories import PASSWORD


def test_a_check_in_at_high_concern_is_closed_by_the_liaison_worker(people, journey):
    hub = journey.log_in("hub@test.example", PASSWORD)
    journey.menu(hub, "Constellations")
    hub.get_by_role("link", name="Riverside").first.click()
    hub.wait_for_load_state()
    journey.check(hub, "the constellation")
    hub.get_by_role("link", name="The Ashfords").first.click()
    hub.wait_for_load_state()
    journey.check(hub, "the household")
    hub.get_by_role("link", name="Record a check-in").click()
    hub.wait_for_load_state()
    journey.check(hub, "record a check-in")
    hub.locator("label", has_text="Visit").click()
    hub.locator("fieldset", has_text="How worried are you?").locator(
        "label", has_text="High"
    ).click()
    hub.get_by_label("How are things?").fill("The placement is close to breaking down")
    hub.get_by_label("Who took part").fill("Both carers")
    hub.get_by_role("button", name="Record the check-in").click()
    hub.wait_for_load_state()
    journey.check(hub, "the household after the check-in")
    main = hub.locator("main").inner_text()
    assert "Record a check-in" in main  # back on the household's page
    check_in = CheckIn.objects.get(household=people.satellite)
    assert (check_in.concern_level, check_in.method) == ("high", "visit")
    concern = Concern.objects.get(household=people.satellite, status="open")
    assert concern.source == "high_check_in"
    assert "Open" in hub.locator("main").inner_text()

    liaison = journey.log_in("liaison@test.example", PASSWORD)
    # The liaison worker was told at once, in the app.
    told = Notification.objects.filter(recipient=people.liaison, kind__icontains="concern")
    assert told.exists()
    journey.menu(liaison, "Notifications", exact=False)
    assert told.first().subject in liaison.locator("main").inner_text()
    journey.menu(liaison, "Constellations")
    liaison.get_by_role("link", name="Riverside").first.click()
    liaison.wait_for_load_state()
    liaison.get_by_role("link", name="Concerns", exact=True).click()
    liaison.wait_for_load_state()
    journey.check(liaison, "open concerns")
    liaison.get_by_test_id("concerns").get_by_role("link", name="The Ashfords").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "the concern")
    page = liaison.locator("main").inner_text()
    assert "A check-in at high concern" in page
    done = "Visited with the social worker; respite agreed"
    liaison.get_by_role("textbox", name="What was done").fill(done)
    liaison.get_by_role("button", name="Close the concern").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "the concern closed")
    assert "Closed" in liaison.locator("h1").inner_text()
    assert "respite agreed" in liaison.locator("main").inner_text()
    concern.refresh_from_db()
    assert concern.status == "closed"
    assert concern.closed_by == people.liaison
    journey.finish(liaison)
