"""The calendar as iCalendar: the per-event download and each user's private feed.

Every calendar the app serves is parsed back with ``icalendar`` and expanded with
``recurring_ical_events`` as phone calendars do; the dates must be the ones the
pages show (``selectors.window``) for the same user, at London wall-clock time
across both clock changes. The clock is pinned to 1 December 2026, 10:00 London."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from icalendar import Calendar

from calendar_events import feeds, selectors, services
from calendar_events.models import CalendarFeed
from calendar_events.recurrence import london_midnight
from constellation.models import Child
from sleepovers import services as sleepovers
from tests import factories as f
from tests.sleepovers.helpers import allow_hub, stay

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 10, tzinfo=LONDON)
SURNAMES = ("Quill", "Stone", "Hubb")
HEALTH = ("QzAllergyPeanuts", "QzNeedsRoutine", "QzMedicationInhaler")


def at(y, m, d, h=0, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=LONDON)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def w(clock, world):
    for child in (world.child, world.neighbour_child, world.hub_child):
        Child.objects.filter(pk=child.pk).update(
            allergies=HEALTH[0], needs=HEALTH[1], medication_notes=HEALTH[2]
        )
    return world


def meeting(w, **changes):
    """The monthly constellation meeting: the first Tuesday at 19:00, from 5 January
    2027, with no end."""
    fields = {
        "constellation": w.constellation,
        "by": w.hub_carer,
        "kind": "meeting",
        "title": "Constellation meeting",
        "place": "The Hub Home",
        "start": at(2027, 1, 5, 19),
        "end": at(2027, 1, 5, 21),
        "rule": "FREQ=MONTHLY;BYDAY=1TU",
    }
    fields.update(changes)
    return services.create_event(**fields)


def contact_session(w, household=None):
    return services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind="contact",
        title="Family time",
        start=at(2027, 1, 12, 16),
        end=at(2027, 1, 12, 17),
        invitation=services.Invitation(everyone=False, households=(household or w.satellite,)),
    )


def fetch(client, user):
    token = services.feed_of(user).token
    return client.get(reverse("calendar_events:feed", kwargs={"token": token}))


def parsed(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def feed_of(client, user) -> Calendar:
    return parsed(fetch(client, user))


def text_of(client, user) -> str:
    return fetch(client, user).content.decode()


def _moment(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return london_midnight(value)


def expanded(calendar: Calendar, first: date, last: date, *, uids=None) -> set:
    """The dates a phone calendar shows over the London days ``first``..``last``:
    (uid, start, end, cancelled), moments in UTC."""
    found = set()
    for component in recurring_ical_events.of(calendar).between(
        london_midnight(first), london_midnight(last + timedelta(days=1))
    ):
        uid = str(component["UID"])
        if uids is not None and uid not in uids:
            continue
        found.add(
            (
                uid,
                _moment(component.start),
                _moment(component.end),
                component.get("STATUS") == "CANCELLED",
            )
        )
    return found


def shown(user, first: date, last: date) -> set:
    """The same dates as the pages show them."""
    return {
        (feeds.event_uid(s.event), s.start, s.end, s.cancelled)
        for s in selectors.window(user, first, last).slots
    }


def components(calendar: Calendar, uid: str) -> list:
    return [c for c in calendar.walk("VEVENT") if str(c["UID"]) == uid]


def accepted_stay(w, days=5, nights=2):
    if not w.child.agreements.exists():
        allow_hub(w.child, by=w.liaison)
    start, end = stay(days, nights)
    asked = sleepovers.create_request(
        by=w.satellite_carer, kind="planned", children=[w.child], start=start, end=end
    )
    return sleepovers.accept(asked, by=w.hub_carer)


# --- the feed is what the pages show ------------------------------------------------


def test_the_feed_expands_to_the_dates_the_pages_show_across_both_clock_changes(client, w):
    event = meeting(w)
    services.move_occurrence(
        event, at(2027, 2, 2, 19), by=w.hub_carer, start=at(2027, 2, 3, 19), end=at(2027, 2, 3, 21)
    )
    services.cancel_occurrence(event, at(2027, 4, 6, 19), by=w.hub_carer, reason="Easter")
    contact_session(w)
    services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind="activity",
        title="Half-term trip",
        start=at(2027, 2, 15),
        end=at(2027, 2, 17),
        all_day=True,
    )
    first, last = date(2027, 1, 1), date(2027, 11, 30)
    for user in (w.satellite_carer, w.neighbour_carer, w.hub_carer, w.liaison, w.manager):
        calendar = feed_of(client, user)
        pages = shown(user, first, last)
        assert expanded(calendar, first, last, uids={uid for uid, *_ in pages}) == pages
        assert expanded(calendar, first, last) >= pages

    calendar = feed_of(client, w.satellite_carer)
    dates = sorted(
        expanded(calendar, first, last, uids={feeds.event_uid(event)}), key=lambda d: d[1]
    )
    assert len(dates) == 11
    # 19:00 in London all year, whatever the clocks do (GMT, then BST from 28 March,
    # then GMT again from 31 October 2027).
    assert {start.astimezone(LONDON).hour for _, start, _, _ in dates} == {19}
    offsets = {
        start.astimezone(LONDON).date(): start.astimezone(LONDON).utcoffset()
        for _, start, _, _ in dates
    }
    assert offsets[date(2027, 3, 2)] == timedelta(0)
    assert offsets[date(2027, 5, 4)] == timedelta(hours=1)
    assert offsets[date(2027, 10, 5)] == timedelta(hours=1)
    assert offsets[date(2027, 11, 2)] == timedelta(0)
    # The moved date is on the Wednesday; the cancelled one stays, marked.
    days = {start.astimezone(LONDON).date(): cancelled for _, start, _, cancelled in dates}
    assert date(2027, 2, 3) in days
    assert date(2027, 2, 2) not in days
    assert days[date(2027, 4, 6)] is True
    assert sum(days.values()) == 1


def test_the_periods_away_are_the_ones_the_pages_show(client, w):
    sleepovers.add_unavailability(
        w.hub,
        by=w.hub_carer,
        start=date(2026, 12, 21),
        end=date(2026, 12, 23),
        note="Christmas with family",
    )
    calendar = feed_of(client, w.satellite_carer)
    periods = selectors.window(w.satellite_carer, date(2026, 12, 1), date(2027, 1, 31)).periods
    feed_periods = {
        (c.start, c.end - timedelta(days=1))
        for c in calendar.walk("VEVENT")
        if str(c["UID"]).startswith("hub-away-")
    }
    assert feed_periods == {(p.first, p.last) for p in periods if p.kind == "away"}


# --- the iCalendar rules ---------------------------------------------------------------


def test_every_calendar_has_the_london_vtimezone_and_refresh_hints(client, w):
    event = meeting(w)
    nobody = f.UserFactory(email="nobody@test.example")
    client.force_login(w.hub_carer)
    responses = [
        fetch(client, w.satellite_carer),
        fetch(client, nobody),  # an empty calendar still has its time zone
        client.get(reverse("calendar_events:event_ics", kwargs={"pk": event.pk})),
    ]
    for response in responses:
        calendar = parsed(response)
        text = response.content.decode()
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
        assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
        assert "X-PUBLISHED-TTL:PT1H\r\n" in text
        assert calendar["X-WR-CALNAME"]
        assert (
            text.index("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT") or "BEGIN:VEVENT" not in text
        )
    assert parsed(responses[0])["X-WR-CALNAME"] == "Riverside calendar"


def test_a_series_is_one_master_with_its_rule_and_overrides_for_changed_dates(client, w):
    event = meeting(w)
    services.move_occurrence(
        event, at(2027, 2, 2, 19), by=w.hub_carer, start=at(2027, 2, 3, 19), end=at(2027, 2, 3, 21)
    )
    services.cancel_occurrence(event, at(2027, 4, 6, 19), by=w.hub_carer, reason="Easter")
    # An answer alone writes a row, but changes nothing a calendar shows.
    services.answer(
        event,
        at(2027, 3, 2, 19),
        by=w.satellite_carer,
        answer="yes",
        adults=1,
        household=w.satellite,
    )
    event.refresh_from_db()
    text = text_of(client, w.satellite_carer)
    uid = f"{event.uid}@127.0.0.1"
    parts = components(Calendar.from_ical(text), uid)
    assert len(parts) == 3
    master, moved, cancelled = parts
    assert "RECURRENCE-ID" not in master
    assert master["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=1TU"  # no end: no UNTIL, no COUNT
    assert "DTSTART;TZID=Europe/London:20270105T190000\r\n" in text
    assert "RECURRENCE-ID;TZID=Europe/London:20270202T190000\r\n" in text
    assert "DTSTART;TZID=Europe/London:20270203T190000\r\n" in text
    assert "RECURRENCE-ID;TZID=Europe/London:20270406T190000\r\n" in text  # BST
    assert moved["STATUS"] == "CONFIRMED"
    assert cancelled["STATUS"] == "CANCELLED"
    rows = {row.original_start: row for row in event.occurrences.all()}
    assert cancelled["SEQUENCE"] == event.sequence + rows[at(2027, 4, 6, 19)].sequence
    assert cancelled["SEQUENCE"] > master["SEQUENCE"]
    assert moved["SEQUENCE"] == event.sequence + rows[at(2027, 2, 2, 19)].sequence
    assert all(part.DTSTAMP.tzinfo is not None for part in parts)


def test_a_rule_without_an_end_runs_on_in_the_feed(client, w):
    event = meeting(w)
    calendar = feed_of(client, w.satellite_carer)
    far = recurring_ical_events.of(calendar).between(at(2031, 6, 1), at(2031, 7, 1))
    assert [(c.start.astimezone(LONDON), str(c["UID"])) for c in far] == [
        (at(2031, 6, 3, 19), feeds.event_uid(event))
    ]


def test_a_timed_series_ends_at_the_end_of_its_last_london_day_in_utc(client, w):
    meeting(w, repeat_until=date(2027, 6, 30))
    text = text_of(client, w.satellite_carer)
    assert "RRULE:FREQ=MONTHLY;UNTIL=20270630T225959Z;BYDAY=1TU\r\n" in text
    calendar = Calendar.from_ical(text)
    assert len(recurring_ical_events.of(calendar).between(at(2027, 1, 1), at(2028, 1, 1))) == 6


def test_an_all_day_series_ends_on_a_date(client, w):
    event = services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind="activity",
        title="Saturday club",
        start=at(2027, 1, 2),
        end=at(2027, 1, 3),
        all_day=True,
        rule="FREQ=WEEKLY;BYDAY=SA",
        repeat_until=date(2027, 1, 30),
    )
    text = text_of(client, w.satellite_carer)
    assert "DTSTART;VALUE=DATE:20270102\r\n" in text
    assert "DTEND;VALUE=DATE:20270103\r\n" in text
    assert "RRULE:FREQ=WEEKLY;UNTIL=20270130;BYDAY=SA\r\n" in text
    pages = shown(w.satellite_carer, date(2027, 1, 1), date(2027, 2, 28))
    got = expanded(
        Calendar.from_ical(text), date(2027, 1, 1), date(2027, 2, 28), uids={feeds.event_uid(event)}
    )
    assert got == pages
    assert len(got) == 5


def test_an_unavailable_period_ends_on_the_day_after_its_last(client, w):
    sleepovers.add_unavailability(
        w.hub,
        by=w.hub_carer,
        start=date(2026, 12, 21),
        end=date(2026, 12, 23),
        note="Christmas with family",
    )
    text = text_of(client, w.satellite_carer)
    block = re.search(
        r"BEGIN:VEVENT\r\n(?:(?!END:VEVENT).)*?UID:hub-away-.*?END:VEVENT", text, re.S
    ).group(0)
    assert "DTSTART;VALUE=DATE:20261221\r\n" in block
    assert "DTEND;VALUE=DATE:20261224\r\n" in block
    assert "SUMMARY:Hub not available\r\n" in block
    assert "TRANSP:TRANSPARENT\r\n" in block


def test_a_cover_names_the_stand_in_by_its_carers_first_names(client, w):
    from constellation import services as people

    stand_in = f.satellite_in(w.constellation, name="The Fairweathers")
    people.update_household(stand_in, by=None, beds=1)
    stand_in.refresh_from_db()
    f.carer_of(stand_in, email="fw@test.example", first_name="Freya", last_name="Fairweather")
    sleepovers.arrange_cover(
        w.constellation,
        by=w.liaison,
        stand_in=stand_in,
        start=date(2027, 1, 4),
        end=date(2027, 1, 6),
        note="Hub family away",
    )
    text = text_of(client, w.neighbour_carer)
    assert "SUMMARY:Hub covered by Freya\r\n" in text
    assert "DTEND;VALUE=DATE:20270107\r\n" in text
    assert "Fairweather" not in text


def test_a_cancelled_event_stays_with_its_raised_sequence(client, w):
    event = services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind="social",
        title="Winter picnic",
        start=at(2027, 1, 16, 12),
        end=at(2027, 1, 16, 15),
    )
    services.cancel_event(event, by=w.hub_carer, reason="Snow")
    event.refresh_from_db()
    (vevent,) = components(feed_of(client, w.satellite_carer), feeds.event_uid(event))
    assert vevent["STATUS"] == "CANCELLED"
    assert vevent["SEQUENCE"] == event.sequence == 1


def test_a_cancelled_series_cancels_its_moved_dates_too(client, w):
    event = meeting(w)
    services.move_occurrence(
        event, at(2027, 2, 2, 19), by=w.hub_carer, start=at(2027, 2, 3, 19), end=at(2027, 2, 3, 21)
    )
    services.cancel_event(event, by=w.hub_carer)
    parts = components(feed_of(client, w.satellite_carer), feeds.event_uid(event))
    assert [p["STATUS"] for p in parts] == ["CANCELLED", "CANCELLED"]


def test_uids_are_stable_and_a_series_changed_from_a_date_is_another_event(client, w):
    event = meeting(w)
    first = feed_of(client, w.satellite_carer)
    new = services.change_from(
        event, at(2027, 6, 1, 19), by=w.hub_carer, start=at(2027, 6, 1, 18), end=at(2027, 6, 1, 20)
    )
    event.refresh_from_db()
    text = text_of(client, w.satellite_carer)
    second = Calendar.from_ical(text)
    assert [str(c["UID"]) for c in first.walk("VEVENT")] == [feeds.event_uid(event)]
    uids = [str(c["UID"]) for c in second.walk("VEVENT")]
    assert uids == [feeds.event_uid(event), feeds.event_uid(new)]
    assert "RRULE:FREQ=MONTHLY;UNTIL=20270531T225959Z;BYDAY=1TU\r\n" in text
    (master,) = components(second, feeds.event_uid(event))
    assert master["SEQUENCE"] == event.sequence == 1
    first_day, last_day = date(2027, 1, 1), date(2027, 11, 30)
    pages = shown(w.satellite_carer, first_day, last_day)
    assert expanded(second, first_day, last_day) == pages
    assert {s.astimezone(LONDON).hour for _, s, _, _ in pages} == {18, 19}


# --- who sees what -----------------------------------------------------------------------


def test_a_contact_session_is_only_in_the_feeds_of_those_who_may_see_it(client, w):
    session = contact_session(w)
    uid = feeds.event_uid(session)
    for user in (w.satellite_carer, w.hub_carer, w.second_hub_carer, w.liaison):
        assert components(feed_of(client, user), uid), user
    for user in (w.neighbour_carer, w.manager, w.other_hub_carer, w.other_service_manager):
        text = text_of(client, user)
        assert uid not in text, user
        assert "Family time" not in text, user


def test_another_constellations_events_are_not_in_the_feed(client, w):
    meeting(w)
    for user in (w.other_satellite_carer, w.other_hub_carer, w.other_service_carer):
        assert "Constellation meeting" not in text_of(client, user)


def test_stays_at_the_hub_name_the_children_by_first_name_only(client, w):
    booked = accepted_stay(w)
    for user in (w.satellite_carer, w.hub_carer):
        (vevent,) = components(feed_of(client, user), f"stay-{booked.pk}@127.0.0.1")
        assert vevent["SUMMARY"] == "Sleepover at the hub: Mara"
        assert vevent.start == booked.start
    for user in (w.neighbour_carer, w.liaison, w.other_hub_carer):
        assert f"stay-{booked.pk}@" not in text_of(client, user), user


def test_a_stay_not_accepted_is_not_in_the_feed(client, w):
    allow_hub(w.child, by=w.liaison)
    start = timezone.make_aware(datetime(2026, 12, 10, 17))  # noqa: DTZ001
    sleepovers.create_request(
        by=w.satellite_carer,
        kind="planned",
        children=[w.child],
        start=start,
        end=start + timedelta(hours=17),
    )
    assert "Sleepover at the hub" not in text_of(client, w.satellite_carer)


def test_no_feed_holds_a_surname_or_a_health_note(client, w):
    accepted_stay(w)
    meeting(w)
    contact_session(w)
    sleepovers.add_unavailability(
        w.hub, by=w.hub_carer, start=date(2026, 12, 21), end=date(2026, 12, 23), note="Christmas"
    )
    for user in (
        w.satellite_carer,
        w.neighbour_carer,
        w.hub_carer,
        w.second_hub_carer,
        w.liaison,
        w.manager,
    ):
        text = text_of(client, user)
        for secret in (*SURNAMES, *HEALTH, "The Ashfords", "The Brookes"):
            assert secret not in text, (user, secret)


FIRST = st.text(alphabet="abcdefghijklmnop", min_size=2, max_size=12).map(str.capitalize)


@examples(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=FIRST,
    preferred=st.one_of(st.just(""), FIRST),
    surname=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12).map(
        lambda s: "Qx" + s
    ),
    health=st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30).map(
        lambda s: "Zz" + s
    ),
)
def test_no_feed_holds_a_childs_surname_or_health_note_whatever_the_names(
    client, w, first, preferred, surname, health
):
    if not hasattr(w, "_stay"):
        w._stay = accepted_stay(w)
    Child.objects.filter(pk=w.child.pk).update(
        first_name=first,
        last_name=surname,
        preferred_name=preferred,
        allergies=health,
        needs=health,
        medication_notes=health,
    )
    for user in (w.satellite_carer, w.hub_carer):
        calendar = feed_of(client, user)
        text = calendar.to_ical().decode()
        assert surname not in text
        assert "Zz" not in text
        (vevent,) = components(calendar, f"stay-{w._stay.pk}@127.0.0.1")
        assert vevent["SUMMARY"] == f"Sleepover at the hub: {preferred or first}"


@examples(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=st.text(
        st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=120
    ).filter(str.strip)
)
def test_any_title_parses_back_as_written(client, w, title):
    event = services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind="social",
        title=title,
        place="Park; by the gate, north side",
        start=at(2027, 1, 16, 12),
        end=at(2027, 1, 16, 15),
    )
    (vevent,) = components(feed_of(client, w.satellite_carer), feeds.event_uid(event))
    assert vevent["SUMMARY"] == title
    assert vevent["LOCATION"] == "Park; by the gate, north side"


# --- the secret address ------------------------------------------------------------------


def test_a_revoked_or_unknown_address_answers_404(client, w):
    meeting(w)
    old = services.feed_of(w.satellite_carer)
    url = reverse("calendar_events:feed", kwargs={"token": old.token})
    assert client.get(url).status_code == 200
    services.renew_feed(w.satellite_carer)
    assert client.get(url).status_code == 404
    new = services.feed_of(w.satellite_carer)
    assert new.token != old.token
    assert (
        client.get(reverse("calendar_events:feed", kwargs={"token": new.token})).status_code == 200
    )
    services.revoke_feeds(w.satellite_carer)
    assert (
        client.get(reverse("calendar_events:feed", kwargs={"token": new.token})).status_code == 404
    )
    for token in ("not-a-real-token", "x" * 65, "%00", "a%00b", "é", old.token.upper()):
        assert client.get(f"/calendar/feed/{token}.ics").status_code == 404, token


def test_an_address_of_a_deactivated_user_answers_404(client, w):
    feed = services.feed_of(w.satellite_carer)
    w.satellite_carer.is_active = False
    w.satellite_carer.save(update_fields=["is_active"])
    assert (
        client.get(reverse("calendar_events:feed", kwargs={"token": feed.token})).status_code == 404
    )


def test_a_fetch_is_recorded_and_needs_no_login(client, w):
    feed = services.feed_of(w.satellite_carer)
    assert feed.last_fetched_at is None
    response = client.get(reverse("calendar_events:feed", kwargs={"token": feed.token}))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    feed.refresh_from_db()
    assert feed.last_fetched_at == timezone.now()


def test_the_feed_takes_a_constant_number_of_queries(client, w):
    def add(n):
        for i in range(n):
            event = meeting(
                w, title=f"Meeting {i}", start=at(2027, 1, 5, 19), end=at(2027, 1, 5, 20)
            )
            services.answer(
                event,
                at(2027, 1, 5, 19),
                by=w.satellite_carer,
                answer="yes",
                adults=1,
                household=w.satellite,
            )
            services.answer(
                event,
                at(2027, 1, 5, 19),
                by=w.neighbour_carer,
                answer="maybe",
                adults=2,
                household=w.neighbour,
            )
            services.cancel_occurrence(event, at(2027, 2, 2, 19), by=w.hub_carer)
            services.move_occurrence(
                event,
                at(2027, 3, 2, 19),
                by=w.hub_carer,
                start=at(2027, 3, 3, 19),
                end=at(2027, 3, 3, 20),
            )
            services.create_event(
                constellation=w.constellation,
                by=w.hub_carer,
                kind="social",
                title=f"Picnic {i}",
                start=at(2027, 1, 16, 12),
                end=at(2027, 1, 16, 15),
            )

    def count(user) -> tuple[int, int]:
        feed = services.feed_of(user)
        url = reverse("calendar_events:feed", kwargs={"token": feed.token})
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), response.content.count(b"BEGIN:VEVENT")

    accepted_stay(w)
    add(1)
    one = {user: count(user) for user in (w.satellite_carer, w.hub_carer, w.manager)}
    add(29)
    thirty = {user: count(user) for user in (w.satellite_carer, w.hub_carer, w.manager)}
    for user in one:
        assert thirty[user][0] == one[user][0] <= 12, user
        assert thirty[user][1] > one[user][1]


# --- the per-event download ---------------------------------------------------------------


def test_an_event_downloads_as_an_ics_file(client, w):
    event = meeting(w)
    services.cancel_occurrence(event, at(2027, 4, 6, 19), by=w.hub_carer)
    client.force_login(w.satellite_carer)
    response = client.get(reverse("calendar_events:event_ics", kwargs={"pk": event.pk}))
    calendar = parsed(response)
    assert response["Content-Disposition"] == 'attachment; filename="constellation-meeting.ics"'
    parts = components(calendar, feeds.event_uid(event))
    assert [p.get("RECURRENCE-ID") is not None for p in parts] == [False, True]
    assert calendar["X-WR-CALNAME"] == "Constellation meeting"
    first, last = date(2027, 1, 1), date(2027, 11, 30)
    pages = {d for d in shown(w.satellite_carer, first, last) if d[0] == feeds.event_uid(event)}
    assert expanded(calendar, first, last) == pages


def test_an_event_not_visible_is_a_404_to_download(client, w):
    session = contact_session(w)
    url = reverse("calendar_events:event_ics", kwargs={"pk": session.pk})
    for user in (w.neighbour_carer, w.manager, w.other_hub_carer, w.other_service_manager):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
    client.force_login(w.satellite_carer)
    assert client.get(url).status_code == 200
    assert client.get("/calendar/events/99999999999999999999/event.ics").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


# --- the subscribe page -------------------------------------------------------------------


def test_the_subscribe_page_shows_the_address_and_how_to_add_it(client, w, settings):
    settings.SITE_URL = "https://mockingbird.example.org"
    client.force_login(w.satellite_carer)
    response = client.get(reverse("calendar_events:subscribe"))
    assert response.status_code == 200
    feed = CalendarFeed.objects.live().get(user=w.satellite_carer)
    body = response.content.decode()
    assert f"https://mockingbird.example.org/calendar/feed/{feed.token}.ics" in body
    assert f"webcal://mockingbird.example.org/calendar/feed/{feed.token}.ics" in body
    for words in ("iPhone", "Android", "Google Calendar", "every 8 to 24 hours"):
        assert words in body
    # Asking again shows the same address.
    client.get(reverse("calendar_events:subscribe"))
    assert CalendarFeed.objects.filter(user=w.satellite_carer).count() == 1


def test_renewing_the_address_turns_the_old_one_off(client, w):
    client.force_login(w.satellite_carer)
    client.get(reverse("calendar_events:subscribe"))
    old = CalendarFeed.objects.live().get(user=w.satellite_carer)
    response = client.post(reverse("calendar_events:subscribe_renew"), follow=True)
    assert "You have a new address" in response.content.decode()
    new = CalendarFeed.objects.live().get(user=w.satellite_carer)
    assert new.token != old.token
    assert new.token in response.content.decode()
    client.logout()
    assert (
        client.get(reverse("calendar_events:feed", kwargs={"token": old.token})).status_code == 404
    )
    assert (
        client.get(reverse("calendar_events:feed", kwargs={"token": new.token})).status_code == 200
    )


def test_revoking_the_address_leaves_none_until_asked(client, w):
    client.force_login(w.satellite_carer)
    client.get(reverse("calendar_events:subscribe"))
    old = CalendarFeed.objects.live().get(user=w.satellite_carer)
    response = client.post(reverse("calendar_events:subscribe_revoke"), follow=True)
    body = response.content.decode()
    assert "turned off" in body
    assert old.token not in body
    assert not CalendarFeed.objects.live().filter(user=w.satellite_carer).exists()
    assert "Make my address" in body
    assert (
        client.get(reverse("calendar_events:feed", kwargs={"token": old.token})).status_code == 404
    )
    client.post(reverse("calendar_events:subscribe_renew"))
    assert CalendarFeed.objects.live().filter(user=w.satellite_carer).count() == 1


def test_the_address_actions_take_posts_only(client, w):
    client.force_login(w.satellite_carer)
    assert client.get(reverse("calendar_events:subscribe_renew")).status_code == 405
    assert client.get(reverse("calendar_events:subscribe_revoke")).status_code == 405
    assert client.post(reverse("calendar_events:feed", kwargs={"token": "x"})).status_code == 405
