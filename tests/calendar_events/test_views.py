"""The calendar's pages, as families, the hub, the liaison worker and the manager use
them: the month, a week, a day, one date with its answers and the household's own,
who came, and the printable month. The clock is pinned: Monday 4 January 2027, 10:00
London."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calendar_events import services
from calendar_events.models import Attendance, Event, Rsvp
from calendar_events.recurrence import key_of
from calendar_events.services import Invitation, london_start
from sleepovers import services as sleepovers

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 1, 4, 10, tzinfo=LONDON)  # a Monday
FIRST_TUESDAY = london_start(date(2027, 1, 5), 19)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def body(response) -> str:
    return response.content.decode()


def main(response) -> str:
    return body(response).split("<main", 1)[1]


def meeting(world, **fields) -> Event:
    """The monthly constellation meeting: first Tuesday, 19:00 to 21:00, room for 10."""
    values = {
        "constellation": world.constellation,
        "by": world.hub_carer,
        "kind": Event.Kind.MEETING,
        "title": "Constellation meeting",
        "start": FIRST_TUESDAY,
        "end": FIRST_TUESDAY + timedelta(hours=2),
        "place": "The Hub Home, front room",
        "description": "Tea, news and the term's plans.",
        "rule": "FREQ=MONTHLY;BYDAY=1TU",
        "capacity": 10,
    }
    values.update(fields)
    return services.create_event(**values)


def contact_session(world) -> Event:
    start = london_start(date(2027, 1, 12), 16)
    return services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind=Event.Kind.CONTACT,
        title="Family time for the Ashfords",
        start=start,
        end=start + timedelta(hours=1),
        invitation=Invitation(everyone=False, households=(world.satellite,)),
    )


def date_url(event, start=None, name="date") -> str:
    return reverse(f"calendar_events:{name}", args=[event.pk, key_of(start or event.start)])


def answer_url(event, start=None) -> str:
    return date_url(event, start, "answer")


@pytest.fixture
def cal(clock, world):
    world.meeting = meeting(world)
    world.contact = contact_session(world)
    return world


JANUARY = reverse("calendar_events:month", args=[2027, 1])


# --- the month -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["hub_carer", "satellite_carer", "liaison", "manager"])
def test_the_month_shows_the_meeting_to_everyone_of_the_constellation(login, cal, who):
    html = main(login(getattr(cal, who)).get(reverse("calendar_events:index")))
    assert "January 2027" in html
    assert "Constellation meeting" in html
    assert date_url(cal.meeting) in html
    # Days are tappable, and the months either side are a tap away.
    assert reverse("calendar_events:day", args=[date(2027, 1, 5)]) in html
    assert reverse("calendar_events:month", args=[2026, 12]) in html
    assert reverse("calendar_events:month", args=[2027, 2]) in html
    # A grid for wide screens and an agenda for narrow ones.
    assert "cal-month d-none d-md-table" in html
    assert "cal-agenda d-md-none" in html


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("hub_carer", True),
        ("liaison", True),
        ("satellite_carer", True),
        ("neighbour_carer", False),
        ("manager", False),
    ],
)
def test_a_contact_session_shows_only_to_its_household_the_hub_and_the_liaison_worker(
    login, cal, who, sees
):
    client = login(getattr(cal, who))
    html = main(client.get(JANUARY))
    assert ("Family time for the Ashfords" in html) is sees
    week = main(client.get(reverse("calendar_events:week", args=[date(2027, 1, 12)])))
    assert ("Family time for the Ashfords" in week) is sees
    day = main(client.get(reverse("calendar_events:day", args=[date(2027, 1, 12)])))
    assert ("Family time for the Ashfords" in day) is sees
    printed = body(client.get(reverse("calendar_events:print", args=[2027, 1])))
    assert ("Family time for the Ashfords" in printed) is sees
    expected = 200 if sees else 404
    assert client.get(date_url(cal.contact)).status_code == expected
    assert client.get(reverse("calendar_events:event", args=[cal.contact.pk])).status_code in (
        {302} if sees else {404}
    )


@pytest.mark.parametrize(
    "who", ["other_hub_carer", "other_satellite_carer", "other_service_manager", "social_worker"]
)
def test_outsiders_see_nothing_of_the_constellations_calendar(login, cal, who):
    client = login(getattr(cal, who))
    html = body(client.get(JANUARY))
    assert "Constellation meeting" not in html
    assert "Family time" not in html
    assert "Constellation meeting" not in body(
        client.get(reverse("calendar_events:print", args=[2027, 1]))
    )
    for url in (
        date_url(cal.meeting),
        answer_url(cal.meeting),
        date_url(cal.meeting, name="attendance"),
        reverse("calendar_events:event", args=[cal.meeting.pk]),
    ):
        response = client.post(url) if url.endswith("/answer/") else client.get(url)
        assert response.status_code == 404, (url, response.status_code)


def test_who_reads_several_constellations_can_show_one(login, cal):
    client = login(cal.manager)
    html = main(client.get(JANUARY))
    assert "Constellation meeting" in html
    assert "Riverside" in html  # each date says whose it is
    assert f'<option value="{cal.other_constellation.pk}"' in html
    only_hillside = main(client.get(f"{JANUARY}?constellation={cal.other_constellation.pk}"))
    assert "Constellation meeting" not in only_hillside
    riverside = main(client.get(f"{JANUARY}?constellation={cal.constellation.pk}"))
    assert "Constellation meeting" in riverside
    # Another service's constellation is not theirs to show: nothing.
    other = main(client.get(f"{JANUARY}?constellation={cal.other_service_constellation.pk}"))
    assert "Constellation meeting" not in other
    assert "Seaside" not in other
    assert client.get(f"{JANUARY}?constellation=abc").status_code == 200


def test_the_hubs_periods_away_and_covers_show_in_the_calendar(login, cal):
    sleepovers.add_unavailability(
        cal.hub, by=cal.hub_carer, start=date(2027, 1, 20), end=date(2027, 1, 22), note="Half term"
    )
    sleepovers.arrange_cover(
        cal.constellation,
        by=cal.manager,
        stand_in=cal.other_constellation.hub,
        start=date(2027, 1, 26),
        end=date(2027, 1, 26),
        note="Hub carers at a wedding",
    )
    client = login(cal.satellite_carer)
    html = main(client.get(JANUARY))
    assert "Hub not available" in html
    assert "Half term" in html
    assert "Hillside Hub covers for the hub" in html
    day = main(client.get(reverse("calendar_events:day", args=[date(2027, 1, 21)])))
    assert "Hub not available" in day
    assert "Half term" in day
    quiet = main(client.get(reverse("calendar_events:day", args=[date(2027, 1, 25)])))
    assert "Hub not available" not in quiet
    assert "Nothing on." in quiet


def test_a_cancelled_date_is_struck_through_and_labelled(login, cal):
    february = london_start(date(2027, 2, 2), 19)
    services.cancel_occurrence(cal.meeting, february, by=cal.hub_carer, reason="Snow")
    client = login(cal.satellite_carer)
    html = main(client.get(reverse("calendar_events:month", args=[2027, 2])))
    assert '<s class="cal-title">Constellation meeting</s>' in html
    assert "Cancelled" in html
    page = main(client.get(date_url(cal.meeting, february)))
    assert "This date is cancelled" in page
    assert "Send my answer" not in page
    # The other dates stay.
    march = main(client.get(reverse("calendar_events:month", args=[2027, 3])))
    assert "Cancelled" not in march
    assert "Constellation meeting" in march


@pytest.mark.parametrize(
    "url",
    [
        "/calendar/1999/12/",
        "/calendar/2027/13/",
        "/calendar/2027/0/",
        "/calendar/2027/13/print/",
        "/calendar/2101/1/print.pdf",
        "/calendar/day/2027-02-30/",
        "/calendar/week/2027-13-01/",
        "/calendar/day/1900-01-01/",
    ],
)
def test_impossible_months_and_days_are_not_found(login, cal, url):
    assert login(cal.satellite_carer).get(url).status_code == 404


def test_the_week_agenda_lists_each_day_and_moves_by_a_week(login, cal):
    html = main(
        login(cal.satellite_carer).get(reverse("calendar_events:week", args=[date(2027, 1, 7)]))
    )
    assert "Week of 4 January 2027" in html
    assert "Tuesday 5 January" in html
    assert "Sunday 10 January" in html
    assert "Constellation meeting" in html
    assert reverse("calendar_events:week", args=[date(2026, 12, 28)]) in html
    assert reverse("calendar_events:week", args=[date(2027, 1, 11)]) in html


@pytest.mark.parametrize(("month", "day"), [(3, 23), (3, 30), (10, 26), (11, 2)])
def test_a_tuesday_at_seven_stays_at_seven_across_the_clock_changes(login, cal, month, day):
    start = london_start(date(2027, 3, 2), 19)
    services.create_event(
        constellation=cal.constellation,
        by=cal.hub_carer,
        kind=Event.Kind.ACTIVITY,
        title="Youth club",
        start=start,
        end=start + timedelta(hours=1, minutes=30),
        rule="FREQ=WEEKLY;BYDAY=TU",
        repeat_until=date(2027, 11, 30),
    )
    client = login(cal.satellite_carer)
    html = main(client.get(reverse("calendar_events:day", args=[date(2027, month, day)])))
    assert re.search(r"19:00</span>\s*<span class=\"cal-title\">Youth club", html)
    assert "18:00" not in html
    assert "20:00" not in html
    month_html = main(client.get(reverse("calendar_events:month", args=[2027, month])))
    times = re.findall(r"(\d\d:\d\d)</span>\s*<span class=\"cal-title\">Youth club", month_html)
    assert times
    assert set(times) == {"19:00"}
    original = london_start(date(2027, month, day), 19)
    page = main(client.get(date_url(Event.objects.get(title="Youth club"), original)))
    assert f"{original.astimezone(LONDON):%A %-d %B %Y}, 19:00–20:30" in page


# --- one date --------------------------------------------------------------------------


def test_the_date_page_says_what_when_where_and_who(login, cal):
    services.answer(
        cal.meeting,
        FIRST_TUESDAY,
        by=cal.neighbour_carer,
        household=cal.neighbour,
        answer="yes",
        adults=1,
        children=[cal.neighbour_child],
    )
    cal.hub_carer.first_name, cal.hub_carer.last_name = "Hanna", "Hubbard"
    cal.hub_carer.save()
    html = main(login(cal.satellite_carer).get(date_url(cal.meeting)))
    assert "Constellation meeting" in html
    assert "Constellation meeting</h1>" in html or "Constellation meeting\n" in html
    assert "Tuesday 5 January 2027, 19:00–21:00" in html
    assert "The Hub Home, front room" in html
    assert "Tea, news and the term" in html
    assert "Hanna Hubbard" in html
    assert "10 in all, 8 left" in html
    assert "2 people coming" in html
    # Who answered: the household by name, its child by the name they go by.
    assert "The Brookes" in html
    assert "Bob" in html
    assert "Stone" not in html  # never a surname
    assert "Bobby" not in html
    for health in ("Penicillin", "Melatonin", "quiet room"):  # nor a health note
        assert health not in html
    # The satellite's own form, open until the start.
    assert "Send my answer" in html
    assert "Tuesday 5 January, 19:00" in html


def test_an_event_address_leads_to_its_next_date_or_its_only_one(login, cal):
    client = login(cal.satellite_carer)
    response = client.get(reverse("calendar_events:event", args=[cal.meeting.pk]))
    assert response.status_code == 302
    assert response["Location"] == date_url(cal.meeting)
    with time_machine.travel(datetime(2027, 1, 5, 22, tzinfo=LONDON), tick=False):
        response = client.get(reverse("calendar_events:event", args=[cal.meeting.pk]))
    assert response["Location"] == date_url(cal.meeting, london_start(date(2027, 2, 2), 19))
    response = client.get(reverse("calendar_events:event", args=[cal.contact.pk]))
    assert response["Location"] == date_url(cal.contact)


@pytest.mark.parametrize(
    "key",
    [
        "20270106T190000Z",
        "20270105T180000Z",
        "20270105T190000Y",
        "99991231T235959Z",
        "00010101T000000Z",
        "20271332T250000Z",
    ],
)
def test_a_date_the_event_does_not_have_is_not_found(login, cal, key):
    url = f"/calendar/events/{cal.meeting.pk}/{key}/"
    assert login(cal.satellite_carer).get(url).status_code == 404


def test_the_hub_and_staff_see_who_is_coming_and_staff_do_not_answer(login, cal):
    services.answer(
        cal.meeting,
        FIRST_TUESDAY,
        by=cal.satellite_carer,
        household=cal.satellite,
        answer="yes",
        adults=2,
        children=[cal.child],
    )
    for who in ("hub_carer", "liaison", "manager"):
        client = login(getattr(cal, who))
        html = main(client.get(date_url(cal.meeting)))
        assert "Who is coming" in html, who
        assert "The Ashfords" in html, who
        assert "Mara" in html, who
        assert "Quill" not in html, who
        # The hub family answers for itself, as every household of the constellation.
        assert ("Send my answer" in html) is (who == "hub_carer"), who
        if who != "hub_carer":
            response = client.post(answer_url(cal.meeting), {"answer": "yes", "adults": 1})
            assert response.status_code == 403, who
    assert Rsvp.objects.count() == 1


# --- answering -------------------------------------------------------------------------


def test_a_satellite_carer_answers_yes_and_sees_it(login, cal):
    client = login(cal.satellite_carer)
    response = client.post(
        answer_url(cal.meeting), {"answer": "yes", "adults": "2", "children": [cal.child.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == date_url(cal.meeting)
    rsvp = Rsvp.objects.get(household=cal.satellite)
    assert (rsvp.answer, rsvp.adults, rsvp.people) == ("yes", 2, 3)
    assert list(rsvp.children.all()) == [cal.child]
    html = main(client.get(response["Location"]))
    assert "your answer (Yes) is saved" in html
    assert "You said: <strong>Yes</strong>, 3 people" in html
    assert "7 left" in html
    # The form starts from the answer given, to change it.
    assert re.search(r'value="yes" checked', html)
    assert f'value="{cal.child.pk}" checked' in html
    # And the month marks it.
    assert "You: Yes" in main(client.get(JANUARY))
    # Changing it to no frees the places.
    client.post(answer_url(cal.meeting), {"answer": "no"})
    rsvp.refresh_from_db()
    assert (rsvp.answer, rsvp.people) == ("no", 0)


def _bad_inputs(world):
    return {
        "a child of another household": (
            {"answer": "yes", "adults": "1", "children": [world.neighbour_child.pk]},
            "Choose children of your own household.",
        ),
        "an answer not in the choices": ({"answer": "perhaps", "adults": "1"}, "yes, no or maybe"),
        "no answer": ({"adults": "1"}, "yes, no or maybe"),
        "minus one adult": ({"answer": "yes", "adults": "-1"}, "from 0 to 20"),
        "adults as letters": ({"answer": "yes", "adults": "abc"}, "from 0 to 20"),
        "too many adults": ({"answer": "yes", "adults": "21"}, "from 0 to 20"),
        "nobody coming on a yes": ({"answer": "yes", "adults": "0"}, "at least one adult"),
        "more than the event holds": (
            {"answer": "yes", "adults": "11"},
            "room for 10 people in all",
        ),
        "a child id that is not a number": (
            {"answer": "yes", "adults": "1", "children": ["x"]},
            "Choose children of your own household.",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "a child of another household",
        "an answer not in the choices",
        "no answer",
        "minus one adult",
        "adults as letters",
        "too many adults",
        "nobody coming on a yes",
        "more than the event holds",
        "a child id that is not a number",
    ],
)
def test_bad_answers_come_back_with_a_message_and_nothing_saved(login, cal, case):
    data, message = _bad_inputs(cal)[case]
    response = login(cal.satellite_carer).post(answer_url(cal.meeting), data)
    assert response.status_code == 400
    assert message in body(response)
    assert "Send my answer" in body(response)
    assert not Rsvp.objects.exists()


def test_after_answers_close_the_page_says_so_and_nothing_is_saved(login, cal):
    client = login(cal.satellite_carer)
    with time_machine.travel(datetime(2027, 1, 5, 19, 5, tzinfo=LONDON), tick=False):
        html = main(client.get(date_url(cal.meeting)))
        assert "Send my answer" not in html
        assert "Answers closed at 19:00 on Tuesday 5 January" in html
        response = client.post(answer_url(cal.meeting), {"answer": "yes", "adults": "1"})
        assert response.status_code == 409
        page = main(response)
    assert "Answers closed at 19:00" in page
    assert "call the hub carer" in page
    assert not Rsvp.objects.exists()


def test_a_cancelled_date_refuses_with_its_message(login, cal):
    services.cancel_occurrence(cal.meeting, FIRST_TUESDAY, by=cal.hub_carer)
    client = login(cal.satellite_carer)
    response = client.post(answer_url(cal.meeting), {"answer": "yes", "adults": "1"})
    assert response.status_code == 409
    assert "This date was cancelled." in main(response)
    assert not Rsvp.objects.exists()


def test_when_the_event_is_full_a_yes_waits_and_the_page_says_so(login, cal):
    small = meeting(cal, title="Cinema trip", capacity=2, rule="", kind=Event.Kind.SOCIAL)
    services.answer(
        small, small.start, by=cal.neighbour_carer, household=cal.neighbour, answer="yes", adults=2
    )
    client = login(cal.satellite_carer)
    response = client.post(answer_url(small), {"answer": "yes", "adults": "1"})
    assert response.status_code == 302
    html = main(client.get(response["Location"]))
    assert "you are on the waiting list" in html
    assert "1 person waiting for a place" in html
    assert "2 in all, 0 left" in html
    assert Rsvp.objects.get(household=cal.satellite).waiting


def test_a_household_not_invited_cannot_answer(login, cal):
    response = login(cal.neighbour_carer).post(
        answer_url(cal.contact), {"answer": "yes", "adults": "1"}
    )
    assert response.status_code == 404
    assert not Rsvp.objects.exists()


def test_answering_is_a_post(login, cal):
    assert login(cal.satellite_carer).get(answer_url(cal.meeting)).status_code == 405


# --- who came -------------------------------------------------------------------------


AFTER = datetime(2027, 1, 5, 21, 30, tzinfo=LONDON)


def test_who_came_starts_from_the_answers_and_is_recorded(login, cal):
    services.answer(
        cal.meeting,
        FIRST_TUESDAY,
        by=cal.satellite_carer,
        household=cal.satellite,
        answer="yes",
        adults=2,
        children=[cal.child],
    )
    services.answer(
        cal.meeting,
        FIRST_TUESDAY,
        by=cal.neighbour_carer,
        household=cal.neighbour,
        answer="maybe",
        adults=1,
    )
    client = login(cal.hub_carer)
    url = date_url(cal.meeting, name="attendance")
    with time_machine.travel(AFTER, tick=False):
        html = main(client.get(url))
        lines = html.count('data-testid="attendance-line"')
        assert lines == 3  # the hub and its two satellites
        adults = dict(re.findall(r'name="h(\d+)-adults" id="[^"]+" value="(\d*)"', html))
        assert adults == {
            str(cal.satellite.pk): "2",
            str(cal.neighbour.pk): "0",
            str(cal.hub.pk): "0",
        }
        assert f'value="{cal.child.pk}" checked' in html
        assert "Quill" not in html
        response = client.post(
            url,
            {
                f"h{cal.satellite.pk}-adults": "2",
                f"h{cal.satellite.pk}-children": [cal.child.pk],
                f"h{cal.neighbour.pk}-adults": "1",
                f"h{cal.neighbour.pk}-children": [cal.neighbour_child.pk],
                f"h{cal.hub.pk}-adults": "2",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == date_url(cal.meeting)
        page = main(client.get(response["Location"]))
    assert "who came is recorded" in page
    came = {a.household: a.people for a in Attendance.objects.all()}
    assert came == {cal.satellite: 3, cal.neighbour: 2, cal.hub: 2}


@pytest.mark.parametrize(
    "case",
    ["minus one", "letters", "a child of another household"],
)
def test_bad_lines_of_who_came_come_back_with_a_message(login, cal, case):
    sat = f"h{cal.satellite.pk}"
    data = {
        "minus one": {f"{sat}-adults": "-1"},
        "letters": {f"{sat}-adults": "two"},
        "a child of another household": {f"{sat}-children": [cal.neighbour_child.pk]},
    }[case]
    with time_machine.travel(AFTER, tick=False):
        response = login(cal.hub_carer).post(date_url(cal.meeting, name="attendance"), data)
    assert response.status_code == 400
    assert "from 0 to 20" in body(response) or "this household only" in body(response)
    assert not Attendance.objects.exists()


def test_who_came_waits_for_the_start_and_is_for_those_who_keep_the_calendar(login, cal):
    url = date_url(cal.meeting, name="attendance")
    client = login(cal.hub_carer)
    html = main(client.get(url))
    assert "Record who came once the event has started" in html
    assert "Save who came" not in html
    response = client.post(url, {f"h{cal.satellite.pk}-adults": "1"})
    assert response.status_code == 302
    assert not Attendance.objects.exists()
    with time_machine.travel(AFTER, tick=False):
        assert login(cal.satellite_carer).get(url).status_code == 403
        assert login(cal.liaison).get(url).status_code == 200
        assert login(cal.manager).get(url).status_code == 200
        assert login(cal.other_hub_carer).get(url).status_code == 404
        # The date page offers it to the hub.
        assert "Record who came" in main(login(cal.hub_carer).get(date_url(cal.meeting)))
        assert "Record who came" not in main(login(cal.satellite_carer).get(date_url(cal.meeting)))


def test_the_hub_home_lists_dates_to_record_and_marks_the_overdue(login, cal):
    client = login(cal.hub_carer)
    assert "Record who came" not in main(client.get(reverse("home")))
    with time_machine.travel(datetime(2027, 2, 5, 9, tzinfo=LONDON), tick=False):
        client = login(cal.hub_carer)  # a new session, a month on
        html = main(client.get(reverse("home")))
        assert "Record who came" in html
        january = date_url(cal.meeting, name="attendance")
        february = date_url(cal.meeting, london_start(date(2027, 2, 2), 19), "attendance")
        assert january in html
        assert february in html
        # The contact session of 12 January is the hub's to record too.
        assert date_url(cal.contact, name="attendance") in html
        # 5 and 12 January ended over 7 days ago; 2 February did not.
        panel = html.split('data-testid="attendance-due"', 1)[1].split("</section>", 1)[0]
        assert panel.count("Overdue") == 2
        after_february = html.split(february, 1)[1].split("</li>", 1)[0]
        assert "Overdue" not in after_february
        client.post(january, {f"h{cal.satellite.pk}-adults": "2"})
        html = main(client.get(reverse("home")))
        assert january not in html
        assert february in html
        assert "Record who came" not in main(login(cal.satellite_carer).get(reverse("home")))


# --- the printable month ---------------------------------------------------------------


def test_the_printable_month_is_one_a4_page_without_navigation(login, cal, settings):
    client = login(cal.satellite_carer)
    html = body(client.get(reverse("calendar_events:print", args=[2027, 1])))
    assert "calendar_events/print.css" in html
    assert (
        "@page { size: A4" in (settings.BASE_DIR / "static/calendar_events/print.css").read_text()
    )
    assert "navbar" not in html
    assert '<table class="grid">' in html
    assert "January 2027" in html
    assert "Constellation meeting" in html
    assert "19:00" in html
    assert "Family time for the Ashfords" in html  # their own contact session
    assert reverse("calendar_events:print", args=[2027, 1]) in main(client.get(JANUARY))


def test_the_pdf_is_one_a4_page_of_what_the_user_may_see(login, cal):
    # The busiest month there is: six activities every day, and forty on one day.
    for n in range(6):
        start = london_start(date(2027, 1, 1), 9 + n)
        services.create_event(
            constellation=cal.constellation,
            by=cal.hub_carer,
            kind=Event.Kind.ACTIVITY,
            title=f"Holiday club with a long name to wrap, group {n}",
            start=start,
            end=start + timedelta(minutes=30),
            rule="FREQ=DAILY",
        )
    for n in range(40):
        start = london_start(date(2027, 1, 13), 9 + n % 10)
        services.create_event(
            constellation=cal.constellation,
            by=cal.hub_carer,
            kind=Event.Kind.ACTIVITY,
            title=f"Busy day activity {n}",
            start=start,
            end=start + timedelta(minutes=30),
        )
    response = login(cal.neighbour_carer).get(reverse("calendar_events:print_pdf", args=[2027, 1]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "calendar-2027-01.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    # The same page, drawn again: one A4 page (landscape), however busy the month.
    from weasyprint import HTML

    from calendar_events.views import print_css

    html = body(login(cal.neighbour_carer).get(reverse("calendar_events:print", args=[2027, 1])))
    assert "Family time" not in html  # another household's contact session
    assert "and 43 more" in html  # 46 on the 13th: 3 shown, and a line to say so
    assert "and 3 more" in html
    pages = HTML(string=html).render(stylesheets=[print_css()]).pages
    assert len(pages) == 1
    assert (round(pages[0].width * 25.4 / 96), round(pages[0].height * 25.4 / 96)) == (297, 210)
