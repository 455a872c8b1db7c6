"""The pages where the calendar is kept: a new event, a change, a cancellation; one
date moved or cancelled, a series changed from a date on; and the liaison worker's
list of people kept connected. Every effect is checked where a family would see it,
through ``selectors.window``."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from calendar_events import access, selectors, services
from calendar_events.models import Event, KeptConnected, Occurrence
from calendar_events.recurrence import key_of

LONDON = ZoneInfo("Europe/London")
NEW = "/calendar/events/new/"


@pytest.fixture(autouse=True)
def _december_morning():
    # 1 December 2026, 10:00 in London: the calendar of the winter and spring ahead.
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=LONDON), tick=False):
        yield


def at(day: str, clock: str = "19:00") -> datetime:
    """An aware moment at London wall-clock time."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=LONDON)


def event_data(**changes) -> dict:
    data = {
        "kind": "meeting",
        "title": "Constellation meeting",
        "place": "The Hub Home",
        "description": "Tea, news and the month ahead.",
        "start": "2027-01-05T19:00",
        "end": "2027-01-05T21:00",
        "repeat": "",
        "invite": "everyone",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post_new(client, world, **changes):
    data = event_data(constellation=world.constellation.pk, **changes)
    return client.post(NEW, data)


def dates(user, first: str, last: str) -> list:
    """What the user's calendar shows over the London days: (title, start, cancelled)."""
    found = selectors.window(user, date.fromisoformat(first), date.fromisoformat(last))
    return [(s.title, s.start.astimezone(LONDON), s.cancelled) for s in found.slots]


def the_event() -> Event:
    [event] = Event.objects.all()
    return event


def meeting_series(world, **fields) -> Event:
    values = {
        "constellation": world.constellation,
        "by": world.hub_carer,
        "kind": "meeting",
        "title": "Constellation meeting",
        "start": at("2027-01-05"),
        "end": at("2027-01-05", "21:00"),
        "rule": "FREQ=WEEKLY;BYDAY=TU",
    }
    values.update(fields)
    return services.create_event(**values)


def keep(world, **fields) -> KeptConnected:
    values = {
        "constellation": world.constellation,
        "by": world.liaison,
        "name": "Jordan Reyes",
        "email": "jordan@example.org",
        "relationship": "young_person",
        "consent": "Jordan agreed by phone with the liaison worker on 20 November.",
        "ends_on": date(2027, 11, 30),
    }
    values.update(fields)
    return services.keep_connected(**values)


# --- a new event ------------------------------------------------------------------


def test_the_hub_carer_sees_their_constellation_chosen_and_its_households(world, login):
    response = login(world.hub_carer).get(NEW)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<option value="{world.constellation.pk}" selected>Riverside</option>' in body
    assert "The Ashfords" in body
    assert "The Brookes" in body
    assert "Hillside" not in body
    assert "The Cedars" not in body


def test_a_day_tapped_on_the_month_starts_the_new_event_that_evening(world, login):
    client = login(world.hub_carer)
    body = client.get(f"{NEW}?day=2027-03-30").content.decode()
    assert 'value="2027-03-30T19:00"' in body
    assert "Monthly on the last Tuesday" in body
    assert client.get(f"{NEW}?day=not-a-day").status_code == 200


def test_a_weekly_meeting_keeps_its_time_across_the_clock_change(world, login):
    response = post_new(login(world.hub_carer), world, repeat="weekly")
    event = the_event()
    assert response.status_code == 302
    assert response["Location"].startswith(f"/calendar/events/{event.pk}/")
    assert event.rule == "FREQ=WEEKLY;BYDAY=TU"
    assert event.organiser == world.hub_carer
    shown = dates(world.satellite_carer, "2027-03-20", "2027-04-03")
    assert [start for _, start, _ in shown] == [
        at("2027-03-23"),
        at("2027-03-30"),  # after the clocks went forward: still 19:00
    ]
    assert all(start.hour == 19 for _, start, _ in shown)


def test_monthly_on_the_first_tuesday_until_a_day(world, login):
    response = post_new(
        login(world.hub_carer), world, repeat="monthly_nth", repeat_until="2027-04-30"
    )
    assert response.status_code == 302
    event = the_event()
    assert (event.rule, event.repeat_until) == ("FREQ=MONTHLY;BYDAY=1TU", date(2027, 4, 30))
    shown = dates(world.satellite_carer, "2027-01-01", "2027-06-30")
    assert [start for _, start, _ in shown] == [
        at("2027-01-05"),
        at("2027-02-02"),
        at("2027-03-02"),
        at("2027-04-06"),
    ]


def test_the_repeat_presets_are_worded_from_the_first_date(world, login):
    client = login(world.hub_carer)
    response = client.post(
        NEW, event_data(constellation=world.constellation.pk, title="", repeat="weekly")
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Monthly on the first Tuesday" in body
    assert "Every 2 weeks on Tuesday" in body


def test_monthly_on_the_last_tuesday(world, login):
    client = login(world.hub_carer)
    response = post_new(
        client,
        world,
        repeat="monthly_last",
        start="2027-01-26T19:00",
        end="2027-01-26T21:00",
        repeat_count="3",
    )
    assert response.status_code == 302
    assert the_event().rule == "FREQ=MONTHLY;BYDAY=-1TU;COUNT=3"
    shown = dates(world.hub_carer, "2027-01-01", "2027-06-30")
    assert [start.date() for _, start, _ in shown] == [
        date(2027, 1, 26),
        date(2027, 2, 23),
        date(2027, 3, 30),
    ]


def test_the_last_tuesday_is_refused_for_a_first_tuesday(world, login):
    response = post_new(login(world.hub_carer), world, repeat="monthly_last")
    assert response.status_code == 400
    assert "is not the last Tuesday of its month" in response.content.decode()
    assert not Event.objects.exists()


def test_a_custom_rule_with_a_number_of_times(world, login):
    response = post_new(
        login(world.liaison),
        world,
        kind="training",
        title="Therapeutic parenting",
        start="2027-01-13T10:00",
        end="2027-01-13T12:30",
        repeat="custom",
        rule="FREQ=MONTHLY;BYDAY=2WE",
        repeat_count="3",
    )
    assert response.status_code == 302
    event = the_event()
    assert event.rule == "FREQ=MONTHLY;BYDAY=2WE;COUNT=3"
    shown = dates(world.neighbour_carer, "2027-01-01", "2027-12-31")
    assert [start for _, start, _ in shown] == [
        at("2027-01-13", "10:00"),
        at("2027-02-10", "10:00"),
        at("2027-03-10", "10:00"),
    ]


def test_an_all_day_event_runs_from_london_midnight_to_the_midnight_after(world, login):
    response = post_new(
        login(world.hub_carer),
        world,
        kind="activity",
        title="Half-term camp",
        start="",
        end="",
        all_day="on",
        first_day="2027-04-03",
        last_day="2027-04-04",
        capacity="12",
        closes_hours="48",
    )
    assert response.status_code == 302
    event = the_event()
    assert event.all_day
    assert event.start == at("2027-04-03", "00:00")
    assert event.end == at("2027-04-05", "00:00")
    assert (event.capacity, event.rsvp_closes_minutes) == (12, 48 * 60)
    [slot] = selectors.window(world.satellite_carer, date(2027, 4, 1), date(2027, 4, 30)).slots
    assert slot.days == [date(2027, 4, 3), date(2027, 4, 4)]


def test_a_contact_session_is_for_its_one_household(world, login):
    response = post_new(
        login(world.hub_carer),
        world,
        kind="contact",
        title="Contact with Mara's mum",
        invite="chosen",
        households=[world.satellite.pk],
    )
    assert response.status_code == 302
    event = the_event()
    assert not event.invite_everyone
    assert list(event.invited_households.all()) == [world.satellite]
    assert dates(world.satellite_carer, "2027-01-05", "2027-01-05")
    assert dates(world.neighbour_carer, "2027-01-05", "2027-01-05") == []


@pytest.mark.parametrize(
    "invitation",
    [
        {"invite": "everyone"},
        {"invite": "chosen", "households": "both"},
    ],
    ids=["everyone", "two households"],
)
def test_a_contact_session_for_more_than_one_household_is_refused(world, login, invitation):
    if invitation.get("households") == "both":
        invitation["households"] = [world.satellite.pk, world.neighbour.pk]
    response = post_new(login(world.hub_carer), world, kind="contact", **invitation)
    assert response.status_code == 400
    assert "A contact session is private: choose the one household" in response.content.decode()
    assert not Event.objects.exists()


def test_people_kept_connected_are_invited_to_a_social_get_together(world, login):
    person = keep(world)
    response = post_new(
        login(world.hub_carer),
        world,
        kind="social",
        title="Summer picnic",
        contacts=[person.pk],
    )
    assert response.status_code == 302
    assert list(the_event().invited_contacts.all()) == [person]


def _bad(world):
    person = keep(world)
    other = world.other_constellation
    return {
        "end before start": ({"end": "2027-01-05T18:00"}, "The end must come after the start."),
        "a rule giving no date": (
            {"repeat": "custom", "rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"},
            "This repeat rule gives no date at all",
        ),
        "an hourly rule": (
            {"repeat": "custom", "rule": "FREQ=HOURLY"},
            "Repeat daily, weekly, monthly or yearly",
        ),
        "a time the clocks skip": (
            {"start": "2027-03-28T01:30", "end": "2027-03-28T03:00"},
            "01:30 on 28 March 2027 does not exist in London",
        ),
        "another constellation's household": (
            {"invite": "chosen", "households": [other.hub.pk]},
            "Invite households of this constellation only.",
        ),
        "room for nobody": ({"capacity": "0"}, "Room for at least one person"),
        "kept connected on a meeting": (
            {"contacts": [person.pk]},
            "People kept connected are invited to social get-togethers only.",
        ),
        "no title": ({"title": "  "}, "Give the event a title."),
        "a year typed wrong": (
            {"start": "2072-01-05T19:00", "end": "2072-01-05T21:00"},
            "An event starts at most 3 years from now",
        ),
        "an end date and a count": (
            {"repeat": "weekly", "repeat_until": "2027-03-01", "repeat_count": "4"},
            "Give an end date or a number of times, not both.",
        ),
        "a custom rule left empty": ({"repeat": "custom"}, "Give the custom repeat rule"),
        "an all-day event without days": ({"all_day": "on"}, "Give the first day."),
        "not a date": ({"start": "next tuesday"}, "Enter a date and time"),
    }


BAD = [
    "end before start",
    "a rule giving no date",
    "an hourly rule",
    "a time the clocks skip",
    "another constellation's household",
    "room for nobody",
    "kept connected on a meeting",
    "no title",
    "a year typed wrong",
    "an end date and a count",
    "a custom rule left empty",
    "an all-day event without days",
    "not a date",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_answers_400_with_a_message_and_saves_nothing(world, login, case):
    changes, message = _bad(world)[case]
    response = post_new(login(world.hub_carer), world, **changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Event.objects.exists()


def test_a_manager_chooses_among_the_service_constellations(world, login):
    client = login(world.manager)
    body = client.get(NEW).content.decode()
    assert "Riverside" in body
    assert "Hillside" in body
    assert "Seaside" not in body
    # Households of another constellation than the one chosen: the service refuses.
    response = post_new(
        client, world, invite="chosen", households=[world.other_constellation.hub.pk]
    )
    assert response.status_code == 400
    assert not Event.objects.exists()


def test_a_constellation_the_user_does_not_keep_cannot_be_chosen(world, login):
    client = login(world.other_liaison)
    response = client.post(NEW, event_data(constellation=world.constellation.pk))
    assert response.status_code == 400
    assert "Choose a constellation whose calendar you keep." in response.content.decode()
    assert not Event.objects.exists()


@pytest.mark.parametrize("who", ["satellite_carer", "social_worker"])
def test_who_keeps_no_calendar_may_not_put_events_on_it(world, login, who):
    client = login(getattr(world, who))
    assert client.get(NEW).status_code == 403
    assert post_new(client, world).status_code == 403
    assert not Event.objects.exists()


def test_another_service_sees_nothing_of_riverside_on_its_new_event_page(world, login):
    body = login(world.other_service_manager).get(NEW).content.decode()
    assert "Riverside" not in body
    assert "The Ashfords" not in body


# --- changing an event ------------------------------------------------------------


def edit_url(event):
    return reverse("calendar_events:event_edit", kwargs={"pk": event.pk})


def test_the_hub_carer_changes_an_event(world, login):
    event = meeting_series(world)
    client = login(world.hub_carer)
    form = client.get(edit_url(event))
    assert form.status_code == 200
    assert 'value="2027-01-05T19:00"' in form.content.decode()
    response = client.post(
        edit_url(event), event_data(repeat="weekly", title="Meeting and supper", place="Hall")
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"/calendar/events/{event.pk}/")
    event.refresh_from_db()
    assert (event.title, event.place, event.sequence) == ("Meeting and supper", "Hall", 1)
    assert dates(world.satellite_carer, "2027-01-12", "2027-01-12") == [
        ("Meeting and supper", at("2027-01-12"), False)
    ]


def test_retiming_a_series_with_answers_points_to_changing_it_from_a_date_on(world, login):
    event = meeting_series(world)
    services.answer(
        event,
        at("2027-01-12"),
        by=world.satellite_carer,
        answer="yes",
        adults=2,
        household=world.satellite,
    )
    client = login(world.hub_carer)
    response = client.post(
        edit_url(event),
        event_data(repeat="weekly", start="2027-01-05T18:00", end="2027-01-05T20:00"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "change the series from the next date on instead" in body
    link = reverse(
        "calendar_events:occurrence_from", kwargs={"pk": event.pk, "key": "20270112T190000Z"}
    )
    assert link in body
    event.refresh_from_db()
    assert (event.start, event.sequence) == (at("2027-01-05"), 0)


def test_a_change_with_bad_input_saves_nothing(world, login):
    event = meeting_series(world)
    response = login(world.hub_carer).post(
        edit_url(event), event_data(repeat="weekly", end="2027-01-05T18:00")
    )
    assert response.status_code == 400
    assert "The end must come after the start." in response.content.decode()
    event.refresh_from_db()
    assert (event.end, event.sequence) == (at("2027-01-05", "21:00"), 0)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("satellite_carer", 403),
        ("neighbour_carer", 403),
        ("social_worker", 404),
        ("other_liaison", 404),
        ("other_hub_carer", 404),
        ("other_service_manager", 404),
        ("other_service_liaison", 404),
    ],
)
def test_who_may_not_keep_an_event_of_riverside(world, login, who, status):
    event = meeting_series(world)
    client = login(getattr(world, who))
    key = key_of(at("2027-01-12"))
    urls = [
        edit_url(event),
        reverse("calendar_events:event_cancel", kwargs={"pk": event.pk}),
        reverse("calendar_events:occurrence_move", kwargs={"pk": event.pk, "key": key}),
        reverse("calendar_events:occurrence_cancel", kwargs={"pk": event.pk, "key": key}),
        reverse("calendar_events:occurrence_from", kwargs={"pk": event.pk, "key": key}),
    ]
    for url in urls:
        assert client.get(url).status_code == status, url
        assert client.post(url, {"reason": "x"}).status_code == status, url
    event.refresh_from_db()
    assert (event.status, event.sequence) == ("scheduled", 0)
    assert not Occurrence.objects.exists()


@pytest.mark.parametrize("who", ["hub_carer", "second_hub_carer", "liaison", "manager"])
def test_who_keeps_the_calendar_opens_every_page_of_an_event(world, login, who):
    event = meeting_series(world)
    client = login(getattr(world, who))
    key = key_of(at("2027-01-12"))
    for name in ("event_edit", "event_cancel"):
        assert (
            client.get(reverse(f"calendar_events:{name}", kwargs={"pk": event.pk})).status_code
            == 200
        )
    for name in ("occurrence_move", "occurrence_cancel", "occurrence_from"):
        url = reverse(f"calendar_events:{name}", kwargs={"pk": event.pk, "key": key})
        assert client.get(url).status_code == 200, name


def test_a_contact_session_is_not_the_managers_to_keep(world, login):
    event = services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind="contact",
        title="Contact",
        start=at("2027-01-06", "16:00"),
        end=at("2027-01-06", "17:00"),
        invitation=services.Invitation(everyone=False, households=(world.satellite,)),
    )
    assert login(world.manager).get(edit_url(event)).status_code == 404
    assert login(world.liaison).get(edit_url(event)).status_code == 200


def test_cancelling_an_event_asks_first_then_cancels_every_date(world, login):
    event = meeting_series(world)
    client = login(world.liaison)
    url = reverse("calendar_events:event_cancel", kwargs={"pk": event.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert "Every date of it is cancelled" in page.content.decode()
    response = client.post(url, {"reason": "The hub is closed for repairs"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/calendar/events/{event.pk}/")
    shown = dates(world.satellite_carer, "2027-01-01", "2027-01-31")
    assert len(shown) == 4
    assert all(cancelled for _, _, cancelled in shown)
    # Again: the refusal is a message, not an error page.
    again = client.post(url, {"reason": ""})
    assert again.status_code == 302
    assert [str(m) for m in get_messages(again.wsgi_request)][-1] == (
        "This event was cancelled already."
    )


# --- one date ---------------------------------------------------------------------


def date_url(name, event, day="2027-01-12", clock="19:00"):
    return reverse(
        f"calendar_events:{name}", kwargs={"pk": event.pk, "key": key_of(at(day, clock))}
    )


def test_moving_one_date_leaves_the_others(world, login):
    event = meeting_series(world)
    client = login(world.hub_carer)
    url = date_url("occurrence_move", event)
    form = client.get(url)
    assert 'value="2027-01-12T19:00"' in form.content.decode()
    response = client.post(url, {"start": "2027-01-13T18:00", "end": "2027-01-13T20:00"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/calendar/events/{event.pk}/")
    shown = dates(world.satellite_carer, "2027-01-01", "2027-01-20")
    assert [start for _, start, _ in shown] == [
        at("2027-01-05"),
        at("2027-01-13", "18:00"),
        at("2027-01-19"),
    ]


def test_a_move_with_bad_input_moves_nothing(world, login):
    event = meeting_series(world)
    client = login(world.hub_carer)
    url = date_url("occurrence_move", event)
    response = client.post(url, {"start": "2027-01-13T18:00", "end": "2027-01-13T17:00"})
    assert response.status_code == 400
    assert "The end must come after the start." in response.content.decode()
    response = client.post(url, {"start": "", "end": ""})
    assert response.status_code == 400
    assert "Give when it starts." in response.content.decode()
    assert not Occurrence.objects.filter(start__isnull=False).exists()


def test_a_date_the_series_does_not_have_is_404(world, login):
    event = meeting_series(world)
    client = login(world.hub_carer)
    assert client.get(date_url("occurrence_move", event, "2027-01-13")).status_code == 404
    bad_key = f"/calendar/events/{event.pk}/not-a-date/cancel/"
    assert client.get(bad_key).status_code == 404
    assert (
        client.post(date_url("occurrence_cancel", event, "2027-01-12", "18:00")).status_code == 404
    )


def test_cancelling_one_date_keeps_it_shown_cancelled(world, login):
    event = meeting_series(world)
    client = login(world.hub_carer)
    url = date_url("occurrence_cancel", event)
    assert "The other dates stay." in client.get(url).content.decode()
    response = client.post(url, {"reason": "Snow"})
    assert response.status_code == 302
    shown = dates(world.satellite_carer, "2027-01-01", "2027-01-20")
    assert [(start, cancelled) for _, start, cancelled in shown] == [
        (at("2027-01-05"), False),
        (at("2027-01-12"), True),
        (at("2027-01-19"), False),
    ]


def test_cancelling_the_date_of_a_single_event_cancels_the_event(world, login):
    event = meeting_series(world, rule="")
    response = login(world.hub_carer).post(
        date_url("occurrence_cancel", event, "2027-01-05"), {"reason": ""}
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.cancelled


def test_moving_a_single_event_is_changing_it(world, login):
    event = meeting_series(world, rule="")
    response = login(world.hub_carer).get(date_url("occurrence_move", event, "2027-01-05"))
    assert response.status_code == 302
    assert response["Location"] == edit_url(event)


def test_changing_a_series_from_a_date_on(world, login):
    event = meeting_series(world)
    services.answer(
        event,
        at("2027-01-26"),
        by=world.satellite_carer,
        answer="yes",
        adults=1,
        household=world.satellite,
    )
    client = login(world.hub_carer)
    url = date_url("occurrence_from", event, "2027-01-19")
    form = client.get(url)
    assert form.status_code == 200
    assert 'value="2027-01-19T19:00"' in form.content.decode()
    response = client.post(
        url,
        event_data(
            start="2027-01-19T18:30",
            end="2027-01-19T20:30",
            repeat="weekly",
            title="Meeting (earlier)",
            kind=None,
            invite=None,
        ),
    )
    assert response.status_code == 302
    new = Event.objects.exclude(pk=event.pk).get()
    assert response["Location"].startswith(f"/calendar/events/{new.pk}/")
    assert new.follows == event
    shown = dates(world.satellite_carer, "2027-01-01", "2027-01-31")
    assert [(title, start) for title, start, _ in shown] == [
        ("Constellation meeting", at("2027-01-05")),
        ("Constellation meeting", at("2027-01-12")),
        ("Meeting (earlier)", at("2027-01-19", "18:30")),
        ("Meeting (earlier)", at("2027-01-26", "18:30")),
    ]


def test_changing_from_a_date_on_to_another_weekday_follows_the_new_start(world, login):
    event = meeting_series(world, rule="FREQ=WEEKLY;BYDAY=TU;COUNT=6")
    client = login(world.hub_carer)
    url = date_url("occurrence_from", event, "2027-01-19")
    page = client.get(url).content.decode()
    assert 'name="repeat_count" value="4"' in page  # the dates left
    response = client.post(
        url,
        event_data(
            start="2027-01-21T19:00",
            end="2027-01-21T21:00",
            repeat="weekly",
            repeat_count="4",
            kind=None,
            invite=None,
        ),
    )
    assert response.status_code == 302
    new = Event.objects.exclude(pk=event.pk).get()
    assert new.rule == "FREQ=WEEKLY;BYDAY=TH;COUNT=4"
    shown = dates(world.hub_carer, "2027-01-01", "2027-03-31")
    assert [start.date() for _, start, _ in shown] == [
        date(2027, 1, 5),
        date(2027, 1, 12),
        date(2027, 1, 21),
        date(2027, 1, 28),
        date(2027, 2, 4),
        date(2027, 2, 11),
    ]


def test_changing_from_the_first_date_is_changing_the_event(world, login):
    event = meeting_series(world)
    response = login(world.hub_carer).get(date_url("occurrence_from", event, "2027-01-05"))
    assert response.status_code == 302
    assert response["Location"] == edit_url(event)


def test_a_change_from_a_date_on_with_bad_input_changes_nothing(world, login):
    event = meeting_series(world)
    response = login(world.hub_carer).post(
        date_url("occurrence_from", event, "2027-01-19"),
        event_data(
            start="2027-01-19T18:30",
            end="2027-01-19T20:30",
            repeat="custom",
            rule="FREQ=HOURLY",
            kind=None,
            invite=None,
        ),
    )
    assert response.status_code == 400
    assert "Repeat daily, weekly, monthly or yearly" in response.content.decode()
    assert Event.objects.count() == 1
    event.refresh_from_db()
    assert event.repeat_until is None


# --- people kept connected ------------------------------------------------------------

KEPT = "/calendar/kept-connected/"


def kept_data(world, **changes):
    data = {
        "constellation": world.constellation.pk,
        "name": "Jordan Reyes",
        "email": "jordan@example.org",
        "relationship": "young_person",
        "consent": "Jordan agreed by phone on 20 November.",
        "ends_on": "2027-11-30",
    }
    data.update(changes)
    return data


def test_the_liaison_worker_keeps_someone_connected(world, login):
    from constellation.services import move_child

    move_child(world.child, to=None, by=world.liaison, reason="Home to birth family")
    client = login(world.liaison)
    page = client.get(f"{KEPT}new/").content.decode()
    assert ">Mara<" in page
    assert "Quill" not in page
    response = client.post(f"{KEPT}new/", kept_data(world, child=world.child.pk))
    assert response.status_code == 302
    person = KeptConnected.objects.get()
    assert (person.constellation, person.child, person.added_by) == (
        world.constellation,
        world.child,
        world.liaison,
    )
    listed = client.get(KEPT).content.decode()
    assert "Jordan Reyes" in listed
    assert "jordan@example.org" in listed
    assert "Withdraw Jordan Reyes" in listed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"consent": "  "}, "Record who agreed, how and when."),
        ({"ends_on": "2026-11-30"}, "The end date cannot be in the past."),
        ({"ends_on": "2035-01-01"}, "at most five years"),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"relationship": "cousin"}, "Select a valid choice."),
    ],
)
def test_bad_input_keeps_nobody_connected(world, login, changes, message):
    response = login(world.liaison).post(f"{KEPT}new/", kept_data(world, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not KeptConnected.objects.exists()


def test_the_liaison_worker_of_another_constellation_cannot_add_to_riverside(world, login):
    response = login(world.other_liaison).post(f"{KEPT}new/", kept_data(world))
    assert response.status_code == 400
    assert not KeptConnected.objects.exists()


def test_the_hub_carer_reads_the_list_and_cannot_change_it(world, login):
    person = keep(world)
    client = login(world.hub_carer)
    listed = client.get(KEPT)
    assert listed.status_code == 200
    body = listed.content.decode()
    assert "Jordan Reyes" in body
    assert "Withdraw" not in body
    assert "jordan@example.org" not in body
    assert client.get(f"{KEPT}new/").status_code == 403
    assert client.post(f"{KEPT}{person.pk}/withdraw/").status_code == 403
    person.refresh_from_db()
    assert person.withdrawn_at is None


def test_withdrawing_someone_stops_their_invitations(world, login):
    person = keep(world)
    client = login(world.manager)
    response = client.post(f"{KEPT}{person.pk}/withdraw/")
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.withdrawn_by == world.manager
    assert person not in access.contacts_to_invite(world.constellation)
    again = client.post(f"{KEPT}{person.pk}/withdraw/", follow=True)
    assert "They are no longer kept connected already." in again.content.decode()
    assert "No longer kept connected" in again.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("satellite_carer", 404),
        ("other_liaison", 404),
        ("other_hub_carer", 404),
        ("other_service_manager", 404),
    ],
)
def test_outsiders_cannot_withdraw_someone(world, login, who, status):
    person = keep(world)
    assert login(getattr(world, who)).post(f"{KEPT}{person.pk}/withdraw/").status_code == status
    person.refresh_from_db()
    assert person.withdrawn_at is None


@pytest.mark.parametrize("who", ["satellite_carer", "social_worker"])
def test_families_do_not_see_the_list(world, login, who):
    keep(world)
    client = login(getattr(world, who))
    assert client.get(KEPT).status_code == 403
    assert client.get(f"{KEPT}new/").status_code == 403


def test_another_service_sees_nobody_of_riverside(world, login):
    keep(world)
    body = login(world.other_service_manager).get(KEPT).content.decode()
    assert "Jordan Reyes" not in body
