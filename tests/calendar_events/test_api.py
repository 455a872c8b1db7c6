"""The calendar's API: who sees which dates and events, who changes them, answers and
who came, times at London wall-clock time across the clock changes, and input that
never gets past the serializers and the services (400 naming the field, never 500).

The clock is pinned to Monday 4 January 2027, 09:00 London, the day before the first
Tuesday of the year."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from calendar_events import services
from calendar_events.models import Event, Occurrence, Rsvp
from calendar_events.recurrence import key_of
from calendar_events.services import Invitation, london_start
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 1, 4, 9, tzinfo=LONDON)
FIRST_TUESDAY = "FREQ=MONTHLY;BYDAY=1TU"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cal(clock, world):
    """Riverside's calendar: the monthly meeting, a social with room for 6, and a
    contact session for the Ashfords; Hillside's quiz; Seaside's beach day."""
    w = world
    w.meeting = services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.MEETING,
        title="Constellation meeting",
        place="The Hub Home",
        start=london_start(date(2027, 1, 5), 19),
        end=london_start(date(2027, 1, 5), 20, 30),
        rule=FIRST_TUESDAY,
    )
    w.social = services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Pizza and games",
        start=london_start(date(2027, 1, 16), 14),
        end=london_start(date(2027, 1, 16), 16),
        capacity=6,
    )
    w.contact = services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.CONTACT,
        title="Family time for Mara",
        start=london_start(date(2027, 1, 12), 16),
        end=london_start(date(2027, 1, 12), 17),
        invitation=Invitation(everyone=False, households=(w.satellite,)),
    )
    w.quiz = services.create_event(
        constellation=w.other_constellation,
        by=w.other_hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Hillside quiz night",
        start=london_start(date(2027, 1, 15), 19),
        end=london_start(date(2027, 1, 15), 21),
    )
    w.beach = services.create_event(
        constellation=w.other_service_constellation,
        by=w.other_service_hub_carer,
        kind=Event.Kind.ACTIVITY,
        title="Seaside beach day",
        start=london_start(date(2027, 1, 9), 10),
        end=london_start(date(2027, 1, 9), 15),
    )
    return w


def api(user=None) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def events_url(query: str = "") -> str:
    return reverse("api:event-list") + (f"?{query}" if query else "")


def detail(event) -> str:
    return reverse("api:event-detail", args=[event.pk])


def on_date(name: str, event, start: datetime) -> str:
    return reverse(f"api:event-date-{name}", args=[event.pk, key_of(start)])


def titles(response) -> list[str]:
    return [item["title"] for item in response.json()["results"]]


# --- who sees which dates ------------------------------------------------------------

EVERYONE_OF_RIVERSIDE = {"Constellation meeting", "Pizza and games"}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("hub_carer", {*EVERYONE_OF_RIVERSIDE, "Family time for Mara"}),
        ("second_hub_carer", {*EVERYONE_OF_RIVERSIDE, "Family time for Mara"}),
        ("satellite_carer", {*EVERYONE_OF_RIVERSIDE, "Family time for Mara"}),
        ("neighbour_carer", EVERYONE_OF_RIVERSIDE),
        ("liaison", {*EVERYONE_OF_RIVERSIDE, "Family time for Mara"}),
        ("manager", {*EVERYONE_OF_RIVERSIDE, "Hillside quiz night"}),
        ("social_worker", set()),
        ("other_hub_carer", {"Hillside quiz night"}),
        ("other_satellite_carer", {"Hillside quiz night"}),
        ("other_liaison", {"Hillside quiz night"}),
        ("other_service_manager", {"Seaside beach day"}),
        ("other_service_carer", {"Seaside beach day"}),
    ],
)
def test_each_role_lists_the_dates_it_may_see(cal, who, sees):
    response = api(getattr(cal, who)).get(events_url())
    assert response.status_code == 200
    assert set(titles(response)) == sees


def test_anonymous_is_refused_everywhere(cal):
    client = api()
    paths = [
        ("get", events_url()),
        ("post", events_url()),
        ("get", detail(cal.social)),
        ("patch", detail(cal.social)),
        ("delete", detail(cal.social)),
        ("post", reverse("api:event-rsvp", args=[cal.social.pk])),
        ("post", reverse("api:event-attendance", args=[cal.social.pk])),
        *[("post", on_date(name, cal.meeting, cal.meeting.start)) for name in ("move", "cancel")],
        ("post", on_date("from-here", cal.meeting, cal.meeting.start)),
    ]
    for method, path in paths:
        assert getattr(client, method)(path, {}, format="json").status_code == 401, path


def test_a_date_in_the_list_says_when_where_and_how_full(cal):
    services.answer(
        cal.social,
        cal.social.start,
        by=cal.satellite_carer,
        answer="yes",
        adults=2,
        children=[cal.child],
        household=cal.satellite,
    )
    response = api(cal.satellite_carer).get(events_url())
    [social] = [item for item in response.json()["results"] if item["title"] == "Pizza and games"]
    assert social == {
        "event": cal.social.pk,
        "date": "20270116T140000Z",
        "constellation": cal.constellation.pk,
        "kind": "social",
        "kind_label": "Social get-together",
        "title": "Pizza and games",
        "place": "",
        "start": "2027-01-16T14:00:00+00:00",
        "end": "2027-01-16T16:00:00+00:00",
        "first_day": "2027-01-16",
        "last_day": "2027-01-16",
        "all_day": False,
        "cancelled": False,
        "moved": False,
        "capacity": 6,
        "places_left": 3,
        "coming": 3,
        "waiting": 0,
        "answers_close": "2027-01-16T14:00:00+00:00",
        "mine": {
            "answer": "yes",
            "adults": 2,
            "children": [cal.child.pk],
            "people": 3,
            "waiting": False,
        },
    }
    # The neighbours see the count, not the Ashfords' answer.
    response = api(cal.neighbour_carer).get(events_url())
    [social] = [item for item in response.json()["results"] if item["title"] == "Pizza and games"]
    assert (social["coming"], social["mine"]) == (3, None)


def test_the_list_defaults_to_a_month_from_today_and_takes_a_window(cal):
    response = api(cal.hub_carer).get(events_url())
    meetings = [i["start"] for i in response.json()["results"] if i["kind"] == "meeting"]
    assert meetings == ["2027-01-05T19:00:00+00:00", "2027-02-02T19:00:00+00:00"]
    response = api(cal.hub_carer).get(events_url("from=2027-06-01&to=2027-06-30"))
    assert titles(response) == ["Constellation meeting"]
    assert response.json()["results"][0]["date"] == "20270601T180000Z"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2027-02-01&to=2027-01-31", "to"),
        ("from=2027-01-01&to=2028-01-03", "to"),
        ("to=2026-12-01", "to"),
        ("from=yesterday", "from"),
        ("from=2027-02-30", "from"),
        ("from=1999-12-31", "from"),
        ("to=2027-01-05T10:00", "to"),
        ("from=２０２７-01-01", "from"),
    ],
)
def test_a_window_backwards_too_wide_or_not_a_date_is_a_400(cal, query, field):
    response = api(cal.hub_carer).get(events_url(query))
    assert response.status_code == 400
    assert field in response.json()


def test_a_full_year_is_the_widest_window(cal):
    response = api(cal.hub_carer).get(events_url("from=2027-01-01&to=2028-01-02&limit=100"))
    assert response.status_code == 200
    assert response.json()["count"] == 12 + 2  # a meeting a month, the social, the contact


def test_the_monthly_meeting_stays_at_seven_in_the_evening_across_the_clock_changes(cal):
    response = api(cal.satellite_carer).get(events_url("from=2027-03-01&to=2027-11-30&limit=100"))
    starts = {i["first_day"]: i["start"] for i in response.json()["results"]}
    assert starts["2027-03-02"] == "2027-03-02T19:00:00+00:00"  # GMT
    assert starts["2027-04-06"] == "2027-04-06T19:00:00+01:00"  # BST, after 28 March
    assert starts["2027-10-05"] == "2027-10-05T19:00:00+01:00"
    assert starts["2027-11-02"] == "2027-11-02T19:00:00+00:00"  # GMT, after 31 October
    assert all(start[11:16] == "19:00" for start in starts.values())
    assert len(starts) == 9


def test_the_list_runs_in_the_same_queries_for_one_event_or_thirty(cal):
    def queries() -> int:
        client = api(cal.satellite_carer)
        client.get(events_url())  # the session and the user, once
        with CaptureQueriesContext(connection) as captured:
            response = client.get(events_url("from=2027-01-01&to=2027-12-31&limit=100"))
        assert response.status_code == 200
        return len(captured)

    services.answer(
        cal.social,
        cal.social.start,
        by=cal.satellite_carer,
        answer="yes",
        adults=1,
        children=[cal.child],
        household=cal.satellite,
    )
    before = queries()
    for n in range(30):
        event = services.create_event(
            constellation=cal.constellation,
            by=cal.hub_carer,
            kind=Event.Kind.ACTIVITY,
            title=f"Swimming {n}",
            start=london_start(date(2027, 2, 1) + timedelta(days=n), 16),
            end=london_start(date(2027, 2, 1) + timedelta(days=n), 17),
            rule="FREQ=WEEKLY;COUNT=4" if n % 2 else "",
            capacity=10,
        )
        services.answer(
            event,
            event.start,
            by=cal.satellite_carer,
            answer="yes",
            adults=1,
            children=[cal.child],
            household=cal.satellite,
        )
        services.answer(
            event, event.start, by=cal.neighbour_carer, answer="maybe", household=cal.neighbour
        )
    services.move_occurrence(
        cal.meeting,
        london_start(date(2027, 3, 2), 19),
        by=cal.hub_carer,
        start=london_start(date(2027, 3, 3), 19),
        end=london_start(date(2027, 3, 3), 20),
    )
    assert queries() == before


# --- events -------------------------------------------------------------------------------


def new_event(**fields) -> dict:
    return {
        "kind": "activity",
        "title": "Climbing wall",
        "place": "Leisure centre",
        "start": "2027-02-13T10:00",
        "end": "2027-02-13T12:00",
        **fields,
    }


@pytest.mark.parametrize("who", ["hub_carer", "liaison", "manager"])
def test_those_who_keep_the_calendar_put_events_on_it(cal, who):
    body = new_event(constellation=cal.constellation.pk, capacity=12)
    response = api(getattr(cal, who)).post(events_url(), body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["title"], data["start"], data["capacity"]) == (
        "Climbing wall",
        "2027-02-13T10:00:00+00:00",
        12,
    )
    assert data["dates"][0]["date"] == "20270213T100000Z"
    assert Event.objects.get(pk=data["id"]).organiser == getattr(cal, who)


def test_a_hub_carer_need_not_name_their_constellation(cal):
    response = api(cal.hub_carer).post(
        events_url(), new_event(start="2027-04-10T10:00", end="2027-04-10T12:00"), format="json"
    )
    assert response.status_code == 201
    assert response.json()["constellation"]["id"] == cal.constellation.pk
    assert response.json()["start"] == "2027-04-10T10:00:00+01:00"  # London time, BST


def test_a_manager_of_two_constellations_names_one(cal):
    response = api(cal.manager).post(events_url(), new_event(), format="json")
    assert response.status_code == 400
    assert "constellation" in response.json()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("satellite_carer", 403),
        ("social_worker", 404),
        ("other_hub_carer", 404),
        ("other_liaison", 404),
        ("other_service_manager", 404),
        ("other_service_hub_carer", 404),
    ],
)
def test_nobody_else_puts_events_on_riverside(cal, who, status):
    body = new_event(constellation=cal.constellation.pk)
    response = api(getattr(cal, who)).post(events_url(), body, format="json")
    assert response.status_code == status
    assert not Event.objects.filter(title="Climbing wall").exists()


def test_a_satellite_carer_keeps_no_calendar(cal):
    response = api(cal.satellite_carer).post(events_url(), new_event(), format="json")
    assert response.status_code == 403


def test_an_all_day_event_takes_its_days(cal):
    body = new_event(all_day=True, start="2027-02-13", end="2027-02-14", title="Camping weekend")
    response = api(cal.hub_carer).post(events_url(), body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["start"], data["end"]) == (
        "2027-02-13T00:00:00+00:00",
        "2027-02-15T00:00:00+00:00",
    )
    assert (data["dates"][0]["first_day"], data["dates"][0]["last_day"]) == (
        "2027-02-13",
        "2027-02-14",
    )


def test_a_contact_session_invites_its_one_household(cal):
    body = new_event(kind="contact", title="Family time", households=[cal.satellite.pk])
    response = api(cal.hub_carer).post(events_url(), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["invite_everyone"] is False
    assert (
        api(cal.neighbour_carer).get(detail(Event.objects.get(title="Family time"))).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"end": "2027-02-13T09:00"}, "end", "after the start"),
        ({"end": "2027-02-13T10:00"}, "end", "after the start"),
        ({"end": "2027-03-20T10:00"}, "end", "31 days"),
        ({"rule": "FREQ=SECONDLY"}, "rule", "daily, weekly"),
        ({"rule": "FREQ=HOURLY;INTERVAL=2"}, "rule", "daily, weekly"),
        ({"rule": "FREQ=DAILY;COUNT=100000"}, "rule", "from 1 to 1000"),
        ({"rule": "FREQ=DAILY;COUNT=5;UNTIL=20270301"}, "rule", "not both"),
        ({"rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rule", "no date"),
        ({"rule": FIRST_TUESDAY}, "rule", "Tuesday 2 March 2027"),
        ({"rule": "FREQ=WEEKLY;BYHOUR=9"}, "rule", "BYHOUR"),
        ({"rule": "not a rule"}, "rule", "FREQ=MONTHLY"),
        ({"repeat_until": "2027-03-01"}, "repeat_until", "repeating"),
        ({"rule": "FREQ=WEEKLY", "repeat_until": "2027-01-01"}, "repeat_until", "first date"),
        (
            {"start": "2027-03-28T01:30", "end": "2027-03-28T03:00"},
            "start",
            "does not exist in London",
        ),
        ({"start": "2027-10-31T01:30", "end": "2027-10-31T03:00"}, "start", "+01:00"),
        ({"start": "2027-02-13"}, "start", "all-day"),
        ({"all_day": True}, "start", "midnight"),
        ({"start": "2027-02-13T25:00"}, "start", "for example"),
        ({"start": "2127-02-13T10:00"}, "start", "2100"),
        ({"kind": "party"}, "kind", ""),
        ({"title": ""}, "title", ""),
        ({"title": "x" * 121}, "title", ""),
        ({"capacity": 0}, "capacity", ""),
        ({"capacity": "10"}, "capacity", ""),
        ({"capacity": 2.5}, "capacity", ""),
        ({"title": ["Climbing", "wall"]}, "title", ""),
        ({"title": 7}, "title", ""),
        ({"place": {"name": "Hall"}}, "place", ""),
        ({"all_day": "true"}, "all_day", ""),
        ({"households": "1"}, "households", ""),
        ({"households": ["1"]}, "households", ""),
        ({"households": [2**70]}, "households", ""),
        ({"rsvp_closes_minutes": -5}, "rsvp_closes_minutes", ""),
        ({"colour": "red"}, "colour", "unknown"),
        ({"constellation": "Riverside"}, "constellation", ""),
        ({"kind": "contact", "households": []}, "households", "one household"),
        ({"contacts": [1]}, "contacts", "kept connected"),
    ],
)
def test_bad_input_to_a_new_event_is_a_400_naming_the_field(cal, fields, field, words):
    response = api(cal.hub_carer).post(events_url(), new_event(**fields), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert words in " ".join(map(str, response.json()[field]))
    assert not Event.objects.filter(title="Climbing wall").exists()


def test_households_of_another_constellation_are_not_invited(cal):
    other = cal.other_constellation.memberships.get().household
    body = new_event(invite_everyone=False, households=[cal.satellite.pk, other.pk])
    response = api(cal.hub_carer).post(events_url(), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"households": ["Invite households of this constellation only."]}


def test_a_body_that_is_not_an_object_is_a_400(cal):
    for body in ([new_event()], "Climbing wall", 5, None):
        response = api(cal.hub_carer).post(events_url(), body, format="json")
        assert response.status_code == 400
    response = api(cal.hub_carer).post(events_url(), "{not json", content_type="application/json")
    assert response.status_code == 400


# --- one event ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("hub_carer", 200),
        ("satellite_carer", 200),
        ("neighbour_carer", 404),
        ("liaison", 200),
        ("manager", 404),
        ("social_worker", 404),
        ("other_hub_carer", 404),
        ("other_service_manager", 404),
    ],
)
def test_a_contact_session_shows_only_to_its_household_the_hub_and_the_liaison(cal, who, status):
    assert api(getattr(cal, who)).get(detail(cal.contact)).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("hub_carer", 200),
        ("satellite_carer", 200),
        ("neighbour_carer", 200),
        ("liaison", 200),
        ("manager", 200),
        ("social_worker", 404),
        ("other_hub_carer", 404),
        ("other_satellite_carer", 404),
        ("other_liaison", 404),
        ("other_service_manager", 404),
        ("other_service_carer", 404),
    ],
)
def test_an_event_shows_to_its_constellation_and_service(cal, who, status):
    assert api(getattr(cal, who)).get(detail(cal.meeting)).status_code == status


def test_an_event_shows_its_rule_and_next_dates(cal):
    data = api(cal.satellite_carer).get(detail(cal.meeting)).json()
    assert data["rule"] == FIRST_TUESDAY
    assert data["contacts"] == []
    assert [d["first_day"] for d in data["dates"][:4]] == [
        "2027-01-05",
        "2027-02-02",
        "2027-03-02",
        "2027-04-06",
    ]
    assert len(data["dates"]) == 12
    assert (
        api(cal.satellite_carer).get(reverse("api:event-detail", args=[2**63 + 5])).status_code
        == 404
    )


def test_no_surname_or_health_note_reaches_the_families(cal):
    services.answer(
        cal.social,
        cal.social.start,
        by=cal.satellite_carer,
        answer="yes",
        adults=1,
        children=[cal.child],
        household=cal.satellite,
    )
    for who in ("satellite_carer", "neighbour_carer", "hub_carer"):
        client = api(getattr(cal, who))
        for path in (events_url(), detail(cal.social), detail(cal.meeting)):
            body = client.get(path).content.decode()
            for secret in (cal.child.last_name, cal.child.allergies, cal.child.medication_notes):
                assert secret not in body, (who, path, secret)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("hub_carer", 200),
        ("liaison", 200),
        ("manager", 200),
        ("satellite_carer", 403),
        ("neighbour_carer", 403),
        ("social_worker", 404),
        ("other_hub_carer", 404),
        ("other_liaison", 404),
        ("other_service_manager", 404),
    ],
)
def test_who_changes_an_event(cal, who, status):
    response = api(getattr(cal, who)).patch(
        detail(cal.social), {"title": "Pizza, games and a film"}, format="json"
    )
    assert response.status_code == status
    cal.social.refresh_from_db()
    assert (cal.social.title == "Pizza, games and a film") == (status == 200)
    if status == 200:
        assert response.json()["sequence"] == 1


def test_a_change_moves_a_single_event_and_its_invitation(cal):
    body = {
        "start": "2027-01-23T14:00",
        "end": "2027-01-23T17:00",
        "invite_everyone": False,
        "households": [cal.neighbour.pk],
    }
    response = api(cal.hub_carer).patch(detail(cal.social), body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["start"] == "2027-01-23T14:00:00+00:00"
    assert [h["name"] for h in response.json()["households"]] == ["The Brookes"]
    assert api(cal.satellite_carer).get(detail(cal.social)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"end": "2027-01-16T13:00"}, "end"),
        ({"constellation": 5}, "constellation"),
        ({"capacity": "lots"}, "capacity"),
        ({"kind": "contact"}, "kind"),
        ({"rule": "FREQ=SECONDLY"}, "rule"),
        ({"households": [10**6]}, "households"),
        ({"start": "2027-03-28T01:15"}, "start"),
    ],
)
def test_bad_changes_are_a_400_naming_the_field(cal, body, field):
    response = api(cal.hub_carer).patch(detail(cal.social), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    cal.social.refresh_from_db()
    assert cal.social.sequence == 0


def test_a_series_with_answers_is_retimed_from_a_date_on_not_all_at_once(cal):
    services.answer(
        cal.meeting, cal.meeting.start, by=cal.satellite_carer, answer="yes", adults=1,
        household=cal.satellite,
    )  # fmt: skip
    body = {"start": "2027-01-05T18:30", "end": "2027-01-05T20:00"}
    response = api(cal.hub_carer).patch(detail(cal.meeting), body, format="json")
    assert response.status_code == 409
    assert "from the next date on" in response.json()["detail"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("hub_carer", 200),
        ("satellite_carer", 403),
        ("other_hub_carer", 404),
        ("other_service_manager", 404),
    ],
)
def test_delete_cancels_the_event_and_keeps_it(cal, who, status):
    response = api(getattr(cal, who)).delete(detail(cal.social), {"reason": "Snow"}, format="json")
    assert response.status_code == status
    cal.social.refresh_from_db()
    assert cal.social.cancelled == (status == 200)
    if status == 200:
        assert response.json()["cancelled"] is True
        again = api(cal.hub_carer).delete(detail(cal.social))
        assert again.status_code == 409
        listed = api(cal.satellite_carer).get(events_url()).json()["results"]
        assert [i["cancelled"] for i in listed if i["title"] == "Pizza and games"] == [True]


# --- one date of a series -------------------------------------------------------------------

FEB = london_start(date(2027, 2, 2), 19)


def test_a_date_is_moved_and_the_others_stay(cal):
    body = {"start": "2027-02-03T18:00", "end": "2027-02-03T19:30"}
    response = api(cal.hub_carer).post(on_date("move", cal.meeting, FEB), body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["moved"] is True
    assert response.json()["start"] == "2027-02-03T18:00:00+00:00"
    listed = api(cal.satellite_carer).get(events_url("from=2027-01-01&to=2027-03-31")).json()
    meetings = [(i["date"], i["start"]) for i in listed["results"] if i["kind"] == "meeting"]
    assert meetings == [
        ("20270105T190000Z", "2027-01-05T19:00:00+00:00"),
        ("20270202T190000Z", "2027-02-03T18:00:00+00:00"),
        ("20270302T190000Z", "2027-03-02T19:00:00+00:00"),
    ]


def test_a_date_is_cancelled_once(cal):
    path = on_date("cancel", cal.meeting, FEB)
    response = api(cal.liaison).post(path, {"reason": "Half term"}, format="json")
    assert response.status_code == 200
    assert response.json()["cancelled"] is True
    assert api(cal.liaison).post(path, {}, format="json").status_code == 409
    listed = api(cal.satellite_carer).get(events_url()).json()["results"]
    assert [i["cancelled"] for i in listed if i["kind"] == "meeting"] == [False, True]


def test_a_series_is_changed_from_a_date_on(cal):
    march = london_start(date(2027, 3, 2), 19)
    body = {"start": "2027-03-02T18:30", "end": "2027-03-02T20:00", "place": "The library"}
    response = api(cal.manager).post(on_date("from-here", cal.meeting, march), body, format="json")
    assert response.status_code == 201, response.json()
    new = Event.objects.get(pk=response.json()["id"])
    assert new.follows == cal.meeting
    assert response.json()["place"] == "The library"
    listed = api(cal.satellite_carer).get(events_url("from=2027-01-01&to=2027-04-30")).json()
    meetings = [(i["start"], i["place"]) for i in listed["results"] if i["kind"] == "meeting"]
    assert meetings == [
        ("2027-01-05T19:00:00+00:00", "The Hub Home"),
        ("2027-02-02T19:00:00+00:00", "The Hub Home"),
        ("2027-03-02T18:30:00+00:00", "The library"),
        ("2027-04-06T18:30:00+01:00", "The library"),
    ]


@pytest.mark.parametrize("name", ["move", "cancel", "from-here"])
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("satellite_carer", 403),
        ("neighbour_carer", 403),
        ("social_worker", 404),
        ("other_hub_carer", 404),
        ("other_liaison", 404),
        ("other_service_manager", 404),
    ],
)
def test_nobody_else_changes_a_date(cal, name, who, status):
    body = {"start": "2027-02-03T18:00", "end": "2027-02-03T19:30"}
    response = api(getattr(cal, who)).post(on_date(name, cal.meeting, FEB), body, format="json")
    assert response.status_code == status
    assert not Occurrence.objects.filter(event=cal.meeting).exists()
    assert Event.objects.filter(follows=cal.meeting).count() == 0


def test_a_date_the_series_does_not_have_is_a_404(cal):
    client = api(cal.hub_carer)
    for key in ("20270203T190000Z", "tuesday", "20271302T190000Z", "2" * 40):
        path = reverse("api:event-date-cancel", args=[cal.meeting.pk, key])
        assert client.post(path, {}, format="json").status_code == 404, key
    path = reverse("api:event-date-cancel", args=[cal.quiz.pk, "20270115T190000Z"])
    assert client.post(path, {}, format="json").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2027-02-03T18:00", "end": "2027-02-03T17:00"}, "end"),
        ({"start": "2027-03-28T01:30", "end": "2027-03-28T03:00"}, "start"),
        ({"start": "2027-02-03", "end": "2027-02-03"}, "start"),
        ({"start": 1738000000, "end": "2027-02-03T19:00"}, "start"),
        ({"start": "2027-02-03T18:00"}, "end"),
        ({"start": "2027-09-03T18:00", "end": "2027-09-03T19:00"}, "start"),
    ],
)
def test_a_bad_move_is_a_400(cal, body, field):
    response = api(cal.hub_carer).post(on_date("move", cal.meeting, FEB), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_single_event_is_changed_itself_not_moved(cal):
    body = {"start": "2027-01-17T14:00", "end": "2027-01-17T16:00"}
    response = api(cal.hub_carer).post(
        on_date("move", cal.social, cal.social.start), body, format="json"
    )
    assert response.status_code == 409


# --- answers ---------------------------------------------------------------------------------


def rsvp(client, event, **body):
    return client.post(reverse("api:event-rsvp", args=[event.pk]), body, format="json")


def test_a_household_answers_for_its_adults_and_children(cal):
    response = rsvp(
        api(cal.satellite_carer), cal.social, answer="yes", adults=2, children=[cal.child.pk]
    )
    assert response.status_code == 200, response.json()
    assert response.json()["mine"]["people"] == 3
    assert response.json()["places_left"] == 3
    response = rsvp(
        api(cal.satellite_carer), cal.meeting, date="20270202T190000Z", answer="maybe", adults=1
    )
    assert response.status_code == 200
    assert response.json()["mine"]["answer"] == "maybe"
    assert Rsvp.objects.filter(household=cal.satellite).count() == 2


def test_a_yes_beyond_the_places_left_waits_and_more_than_the_room_is_a_400(cal):
    assert rsvp(api(cal.neighbour_carer), cal.social, answer="yes", adults=5).status_code == 200
    response = rsvp(api(cal.satellite_carer), cal.social, answer="yes", adults=2)
    assert response.status_code == 200
    assert response.json()["mine"]["waiting"] is True
    assert response.json()["waiting"] == 2
    response = rsvp(api(cal.hub_carer), cal.social, answer="yes", adults=7)
    assert response.status_code == 400
    assert "room for 6" in response.json()["adults"][0]
    # The Brookes cannot come after all: the Ashfords move up.
    assert rsvp(api(cal.neighbour_carer), cal.social, answer="no").status_code == 200
    mine = api(cal.satellite_carer).get(events_url()).json()["results"]
    [social] = [i for i in mine if i["title"] == "Pizza and games"]
    assert (social["mine"]["waiting"], social["coming"]) == (False, 2)


def test_answers_close_at_the_time_the_organiser_set(cal, clock):
    services.update_event(cal.social, by=cal.hub_carer, rsvp_closes_minutes=60)
    clock.move_to(datetime(2027, 1, 16, 13, 30, tzinfo=LONDON))
    response = rsvp(api(cal.satellite_carer), cal.social, answer="yes", adults=1)
    assert response.status_code == 409
    assert "closed at 13:00" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answer": "yes", "adults": 1, "children": ["child"]}, "children"),
        ({"answer": "yes", "adults": "2"}, "adults"),
        ({"answer": "yes", "adults": 21}, "adults"),
        ({"answer": "yes", "adults": -1}, "adults"),
        ({"answer": ["yes"], "adults": 1}, "answer"),
        ({"answer": "perhaps", "adults": 1}, "answer"),
        ({"answer": "yes", "adults": 0}, "adults"),
        ({"answer": "yes", "adults": 1, "date": "20270116T150000Z"}, "date"),
        ({"answer": "yes", "adults": 1, "date": 20270116}, "date"),
        ({"answer": "yes", "adults": 1, "date": "tomorrow"}, "date"),
        ({"answer": "yes", "adults": 1, "children": "Mara"}, "children"),
        ({"answer": "yes", "adults": 1, "friends": 3}, "friends"),
    ],
)
def test_a_bad_answer_is_a_400_naming_the_field(cal, body, field):
    response = rsvp(api(cal.satellite_carer), cal.social, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Rsvp.objects.exists()


def test_children_of_another_household_are_not_answered_for(cal):
    for child in (cal.neighbour_child, cal.other_service_child, cal.hub_child):
        response = rsvp(
            api(cal.satellite_carer), cal.social, answer="yes", adults=1, children=[child.pk]
        )
        assert response.status_code == 400
        assert response.json() == {"children": ["Choose children of your own household."]}
    assert not Rsvp.objects.exists()


def test_a_series_date_must_be_named(cal):
    response = rsvp(api(cal.satellite_carer), cal.meeting, answer="yes", adults=1)
    assert response.status_code == 400
    assert "date" in response.json()


@pytest.mark.parametrize(
    ("who", "event", "status"),
    [
        ("liaison", "social", 403),
        ("manager", "social", 403),
        ("neighbour_carer", "contact", 404),
        ("manager", "contact", 404),
        ("other_satellite_carer", "social", 404),
        ("other_service_carer", "social", 404),
        ("satellite_carer", "quiz", 404),
        ("satellite_carer", "contact", 200),
        ("hub_carer", "social", 200),
    ],
)
def test_who_answers(cal, who, event, status):
    response = rsvp(api(getattr(cal, who)), getattr(cal, event), answer="yes", adults=1)
    assert response.status_code == status


# --- who came ----------------------------------------------------------------------------------


@pytest.fixture
def bowling(cal):
    """A children's activity last Saturday."""
    return services.create_event(
        constellation=cal.constellation,
        by=cal.hub_carer,
        kind=Event.Kind.ACTIVITY,
        title="Bowling",
        start=london_start(date(2027, 1, 2), 14),
        end=london_start(date(2027, 1, 2), 16),
    )


def attendance(client, event, **body):
    return client.post(reverse("api:event-attendance", args=[event.pk]), body, format="json")


def test_the_hub_records_who_came(cal, bowling):
    lines = [
        {"household": cal.satellite.pk, "adults": 1, "children": [cal.child.pk]},
        {"household": cal.hub.pk, "adults": 2},
    ]
    response = attendance(api(cal.hub_carer), bowling, lines=lines)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["date"], data["people"]) == ("20270102T140000Z", 4)
    assert {line["household"]: line["children"] for line in data["lines"]} == {
        cal.satellite.pk: [cal.child.pk],
        cal.hub.pk: [],
    }
    # Recorded again, it replaces what was recorded.
    response = attendance(api(cal.liaison), bowling, lines=lines[:1])
    assert response.json()["people"] == 2


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manager", 200),
        ("satellite_carer", 403),
        ("neighbour_carer", 403),
        ("social_worker", 404),
        ("other_hub_carer", 404),
        ("other_liaison", 404),
        ("other_service_manager", 404),
    ],
)
def test_who_records_who_came(cal, bowling, who, status):
    response = attendance(api(getattr(cal, who)), bowling, lines=[])
    assert response.status_code == status


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"household": "The Ashfords"}, "lines"),
        ({"household": 1, "adults": "1"}, "lines"),
        ({"household": None}, "lines"),
        ({"adults": 1}, "lines"),
        ({"household": 10**6}, "households"),
    ],
)
def test_bad_lines_of_who_came_are_a_400(cal, bowling, line, field):
    response = attendance(api(cal.hub_carer), bowling, lines=[line])
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_who_came_is_checked_against_the_households_and_the_date(cal, bowling):
    client = api(cal.hub_carer)
    other = cal.other_constellation.memberships.get().household
    response = attendance(client, bowling, lines=[{"household": other.pk, "adults": 1}])
    assert response.json() == {"households": ["Record households of this constellation only."]}
    line = {"household": cal.satellite.pk, "children": [cal.neighbour_child.pk]}
    response = attendance(client, bowling, lines=[line])
    assert response.json() == {"children": ["Each child with their own household."]}
    line = {"household": cal.satellite.pk, "adults": 1}
    response = attendance(client, bowling, lines=[line, line])
    assert response.json() == {"households": ["Each household or person once."]}
    response = attendance(client, bowling, lines="everyone")
    assert response.status_code == 400
    # Not yet started: nobody can have come.
    response = attendance(client, cal.social, lines=[line])
    assert response.status_code == 409
    assert not Occurrence.objects.filter(attendance_recorded_at__isnull=False).exists()


def test_a_new_household_member_of_riverside_can_be_recorded(cal, bowling):
    newcomer = f.satellite_in(cal.constellation, name="The Carvers")
    response = attendance(
        api(cal.hub_carer), bowling, lines=[{"household": newcomer.pk, "adults": 2}]
    )
    assert response.status_code == 200


# --- no input gives a 500 ------------------------------------------------------------------

_rules = st.sampled_from(
    [
        "",
        FIRST_TUESDAY,
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;COUNT=3",
        "FREQ=DAILY;COUNT=1001",
        "FREQ=SECONDLY",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=WEEKLY;UNTIL=20270301T000000Z",
        "RRULE:FREQ=WEEKLY;INTERVAL=400",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU",
        "FREQ=WEEKLY;;",
        "FREQ=WEEKLY\nBEGIN:VEVENT",
    ]
)
_moments = st.one_of(
    st.sampled_from(
        [
            "2027-03-28T01:30",
            "2027-10-31T01:30",
            "2027-10-31T01:30+01:00",
            "2027-01-16T14:00",
            "2027-01-16",
            "2027-02-30",
            "9999-12-31T23:59",
            "2027-01-16T14:00+25:00",
            "٢٠٢٧-01-16T14:00",
        ]
    ),
    st.datetimes(
        min_value=datetime(2026, 6, 1),  # noqa: DTZ001 (London wall clock, as a page sends)
        max_value=datetime(2028, 6, 1),  # noqa: DTZ001
    ).map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M")),
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    _moments,
    _rules,
    st.sampled_from(["yes", "no", "maybe", "social", "contact", "meeting", "20270116T140000Z"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    "kind", "title", "place", "description", "start", "end", "all_day", "rule", "repeat_until",
    "capacity", "rsvp_closes_minutes", "invite_everyone", "households", "contacts", "affects_beds",
    "constellation", "date", "answer", "adults", "children", "lines", "reason",
]  # fmt: skip


@st.composite
def _bodies(draw, ids):
    if draw(st.integers(0, 9)) == 0:
        return draw(_values)
    body = {}
    for key in draw(
        st.lists(st.sampled_from(FIELDS) | st.text(max_size=5), max_size=8, unique=True)
    ):
        if key == "lines" and draw(st.booleans()):
            body[key] = [
                {
                    "household": draw(st.sampled_from(ids) | _scalars),
                    "adults": draw(st.integers(-1, 25) | _scalars),
                    "children": draw(st.lists(st.sampled_from(ids) | _scalars, max_size=3)),
                }
                for _ in range(draw(st.integers(0, 3)))
            ]
        elif key in ("children", "households", "contacts") and draw(st.booleans()):
            body[key] = draw(st.lists(st.sampled_from(ids) | _scalars, max_size=3))
        elif draw(st.booleans()) and key not in ("start", "end", "rule", "title"):
            body[key] = draw(st.sampled_from(ids))
        else:
            body[key] = draw(_values)
    return body


class _Rollback(Exception):
    pass


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_body_sent_to_a_write_endpoint_gives_a_500(cal, data):
    ids = [
        cal.child.pk, cal.neighbour_child.pk, cal.hub.pk, cal.satellite.pk, cal.neighbour.pk,
        cal.constellation.pk, cal.other_service_child.pk, cal.other_constellation.pk,
    ]  # fmt: skip
    feb = london_start(date(2027, 2, 2), 19)
    endpoints = [
        ("post", events_url()),
        ("patch", detail(cal.meeting)),
        ("patch", detail(cal.social)),
        ("delete", detail(cal.social)),
        ("post", reverse("api:event-rsvp", args=[cal.social.pk])),
        ("post", reverse("api:event-rsvp", args=[cal.meeting.pk])),
        ("post", reverse("api:event-attendance", args=[cal.meeting.pk])),
        *[("post", on_date(name, cal.meeting, feb)) for name in ("move", "cancel", "from-here")],
    ]
    clients = {who: api(getattr(cal, who)) for who in ("hub_carer", "satellite_carer", "manager")}
    method, path = data.draw(st.sampled_from(endpoints), label="endpoint")
    who = data.draw(st.sampled_from(sorted(clients)), label="user")
    body = data.draw(_bodies(ids), label="body")
    try:
        with transaction.atomic():
            response = getattr(clients[who], method)(path, body, format="json")
            assert response.status_code < 500, (method, path, who, body, response.content[:500])
            raise _Rollback
    except _Rollback:
        pass


def test_who_came_records_people_kept_connected_beside_households(cal):
    person = services.keep_connected(
        constellation=cal.constellation,
        by=cal.liaison,
        name="Jade",
        email="jade@example.org",
        relationship="young_person",
        consent="Jade agreed by email",
        ends_on=date(2027, 12, 31),
    )
    start = london_start(date(2027, 1, 2), 12)
    picnic = services.create_event(
        constellation=cal.constellation,
        by=cal.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Picnic",
        start=start,
        end=start + timedelta(hours=2),
        invitation=services.Invitation(contacts=(person,)),
    )
    client = api(cal.hub_carer)
    lines = [{"household": cal.satellite.pk, "adults": 1}, {"contact": person.pk, "adults": 2}]
    response = attendance(client, picnic, lines=lines)
    assert response.status_code == 200, response.content
    assert response.json()["people"] == 3
    assert {line["contact"] for line in response.json()["lines"]} == {None, person.pk}
    both = attendance(client, picnic, lines=[{"household": cal.satellite.pk, "contact": person.pk}])
    assert both.status_code == 400
