"""The constellation's monthly meeting, in a real Chromium, on a phone and on a desktop:
the hub carer puts it on the calendar, a satellite household answers yes, the family's
calendar feed (fetched from the address its subscription page gives) holds the meeting,
and once it has started the hub carer records who came."""

from datetime import UTC, timedelta

import time_machine
from django.utils import timezone

from calendar_events import services
from calendar_events.models import Event, Occurrence, Rsvp
from tests.factories import PASSWORD

TITLE = "Monthly support meeting"


def test_a_monthly_meeting_is_answered_fed_and_attended(people, journey, live_server, settings):
    # The site's public address, which the feed's address is built on, is the live server.
    settings.SITE_URL = live_server.url
    day = timezone.localdate() + timedelta(days=2)
    start = services.london_start(day, 10)

    hub = journey.log_in("hub@test.example", PASSWORD)
    journey.menu(hub, "Calendar")
    hub.get_by_role("link", name="New event").click()
    hub.wait_for_load_state()
    journey.check(hub, "new event")
    hub.get_by_label("Title").fill(TITLE)
    hub.get_by_label("Place").fill("The hub's front room")
    hub.get_by_label("Starts").fill(f"{day:%Y-%m-%d}T10:00")
    hub.get_by_label("Ends").fill(f"{day:%Y-%m-%d}T12:00")
    hub.get_by_label("Repeats").select_option("monthly_nth")
    hub.get_by_label("Or this many times").fill("6")
    hub.get_by_role("button", name="Put it on the calendar").click()
    hub.wait_for_load_state()
    journey.check(hub, "the meeting")
    assert TITLE in hub.locator("main").inner_text()
    event = Event.objects.get(title=TITLE)
    assert event.kind == "meeting"
    assert event.rule  # it repeats

    family = journey.log_in("satellite@test.example", PASSWORD)
    journey.menu(family, "Calendar")
    if day.month != timezone.localdate().month:
        family.locator("a[rel=next]").click()
        family.wait_for_load_state()
    family.get_by_test_id("cal-slot").filter(has_text=TITLE).locator("visible=true").first.click()
    family.wait_for_load_state()
    journey.check(family, "the meeting, family's view")
    assert TITLE in family.locator("h1").inner_text()
    family.locator("label", has_text="Yes").click()
    family.get_by_label("Adults coming").fill("2")
    family.get_by_role("button", name="Send my answer").click()
    family.wait_for_load_state()
    journey.check(family, "the answer saved")
    assert "your answer (Yes) is saved" in family.locator("main").inner_text()
    rsvp = Rsvp.objects.get(occurrence__event=event, household=people.satellite)
    assert (rsvp.answer, rsvp.adults) == ("yes", 2)

    # The family's phone calendar: the address from the subscription page holds the meeting.
    journey.menu(family, "Calendar")
    family.get_by_role("link", name="Add to my phone's calendar").first.click()
    family.wait_for_load_state()
    journey.check(family, "subscribe")
    make = family.get_by_role("button", name="Make my address")
    if make.count():
        make.click()
        family.wait_for_load_state()
        journey.check(family, "subscribe with an address")
    address = family.locator("#feed-https").input_value()
    assert address.startswith(f"{live_server.url}/calendar/feed/")
    assert family.locator("#feed-webcal").input_value().startswith("webcal://")
    feed = family.request.get(address)
    assert feed.ok
    assert feed.headers["content-type"].startswith("text/calendar")
    ics = feed.text()
    assert "BEGIN:VCALENDAR" in ics
    assert f"SUMMARY:{TITLE}" in ics
    # The first date, at 10:00 London (written in UTC or with its time zone).
    utc = f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    assert utc in ics or f"{day:%Y%m%d}T100000" in ics

    # Once the meeting has started, the hub carer records who came.
    with time_machine.travel(start + timedelta(minutes=30), tick=True):
        hub.reload()
        journey.check(hub, "the meeting under way")
        hub.get_by_role("link", name="Record who came").click()
        hub.wait_for_load_state()
        journey.check(hub, "who came")
        line = hub.get_by_test_id("attendance-line").filter(has_text="The Ashfords")
        assert "answered Yes" in line.inner_text()
        assert line.locator("input.cal-adults").input_value() == "2"
        hub.get_by_role("button", name="Save who came").click()
        hub.wait_for_load_state()
        journey.check(hub, "who came, saved")
        assert "Recorded" in hub.locator("main").inner_text()
        occurrence = Occurrence.objects.get(event=event)
        assert occurrence.attendance_recorded_at is not None
        journey.finish(hub)
