"""Same-day and next-day changes of the calendar go out through the outbox (phone
calendars refresh subscribed feeds only every 8-24 hours), to the people invited
and the hub carers, not the person who made the change; contact sessions only to
their household; a waiting list moving up tells the household."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from calendar_events import services
from calendar_events.models import Event
from calendar_events.recurrence import key_of
from calendar_events.services import Invitation, london_start
from notifications.models import Channel, Kind, Notification

LONDON = ZoneInfo("Europe/London")
TUESDAY = date(2027, 1, 5)


@pytest.fixture
def morning():
    """Tuesday 5 January 2027, 10:00 London, the clock stopped."""
    with time_machine.travel(datetime(2027, 1, 5, 10, tzinfo=LONDON), tick=False):
        yield


def told(user, kind=Kind.EVENT_CHANGED):
    return Notification.objects.filter(recipient=user, kind=kind, channel=Channel.IN_APP)


def meeting(w, day=TUESDAY, hour=19, **fields):
    fields.setdefault("kind", Event.Kind.MEETING)
    fields.setdefault("title", "Constellation meeting")
    fields.setdefault("place", "The Hub Home")
    return services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        start=london_start(day, hour),
        end=london_start(day, hour + 2),
        **fields,
    )


def everyone_but_the_actor(w):
    return [w.satellite_carer, w.neighbour_carer, w.second_hub_carer]


def outsiders(w):
    return [w.liaison, w.manager, w.other_hub_carer, w.other_satellite_carer, w.social_worker]


def test_a_meeting_moved_today_tells_the_families_and_the_other_hub_carer(world, morning):
    w = world
    event = meeting(w)
    services.update_event(
        event, by=w.hub_carer, start=london_start(TUESDAY, 19, 30), end=london_start(TUESDAY, 21)
    )
    for person in everyone_but_the_actor(w):
        row = told(person).get()
        assert row.subject == "Constellation meeting moved to 19:30 today"
        assert "19:00 today, is now 19:30 today" in row.body
        # A single event's date is keyed by its start: the page of the new time.
        assert row.link == f"/calendar/events/{event.pk}/20270105T193000Z/"
    assert not told(w.hub_carer).exists()
    for person in outsiders(w):
        assert not told(person).exists()


def test_a_meeting_moved_away_from_tomorrow_is_told_too(world, morning):
    w = world
    event = meeting(w, TUESDAY + timedelta(days=1))
    later = TUESDAY + timedelta(days=8)
    services.update_event(
        event, by=w.hub_carer, start=london_start(later, 19), end=london_start(later, 21)
    )
    row = told(w.satellite_carer).get()
    assert row.subject == "Constellation meeting moved to 19:00 on Wed 13 Jan"
    assert "19:00 tomorrow, is now 19:00 on Wed 13 Jan" in row.body


def test_a_change_next_week_tells_nobody(world, morning):
    w = world
    event = meeting(w, TUESDAY + timedelta(days=7))
    services.update_event(event, by=w.hub_carer, place="The village hall")
    services.cancel_event(event, by=w.hub_carer)
    assert not Notification.objects.filter(kind=Kind.EVENT_CHANGED).exists()


def test_a_new_event_today_is_not_a_change(world, morning):
    meeting(world)
    assert not Notification.objects.filter(kind=Kind.EVENT_CHANGED).exists()


def test_a_place_changed_today_says_where(world, morning):
    w = world
    event = meeting(w)
    services.update_event(event, by=w.second_hub_carer, place="The village hall")
    row = told(w.neighbour_carer).get()
    assert row.subject == "Constellation meeting changed (19:00 today)"
    assert "at The village hall" in row.body
    assert told(w.hub_carer).exists()
    assert not told(w.second_hub_carer).exists()


def test_a_date_of_a_series_cancelled_tomorrow(world, morning):
    w = world
    series = meeting(w, TUESDAY - timedelta(days=6), rule="FREQ=WEEKLY;BYDAY=WE")
    tomorrow = london_start(TUESDAY + timedelta(days=1), 19)
    services.cancel_occurrence(series, tomorrow, by=w.hub_carer, reason="Jo is unwell")
    row = told(w.satellite_carer).get()
    assert row.subject == "Constellation meeting cancelled (19:00 tomorrow)"
    assert "unwell" not in row.body  # the reason may hold anything: never sent
    assert row.link == f"/calendar/events/{series.pk}/{key_of(tomorrow)}/"
    services.cancel_occurrence(
        series, london_start(TUESDAY + timedelta(days=8), 19), by=w.hub_carer
    )
    assert told(w.satellite_carer).count() == 1


def test_a_date_moved_into_today_is_told_and_one_moved_next_month_is_not(world, morning):
    w = world
    series = meeting(w, TUESDAY - timedelta(days=7), rule="FREQ=WEEKLY;BYDAY=TU")
    next_week = london_start(TUESDAY + timedelta(days=7), 19)
    services.move_occurrence(
        series,
        next_week,
        by=w.hub_carer,
        start=london_start(TUESDAY + timedelta(days=1), 18),
        end=london_start(TUESDAY + timedelta(days=1), 20),
    )
    row = told(w.satellite_carer).get()
    assert row.subject == "Constellation meeting moved to 18:00 tomorrow"
    in_a_month = london_start(TUESDAY + timedelta(days=28), 19)
    services.move_occurrence(
        series,
        in_a_month,
        by=w.hub_carer,
        start=in_a_month + timedelta(hours=1),
        end=in_a_month + timedelta(hours=3),
    )
    assert told(w.satellite_carer).count() == 1


def test_a_series_changed_from_today_on(world, morning):
    w = world
    series = meeting(w, TUESDAY - timedelta(days=7), rule="FREQ=WEEKLY;BYDAY=TU")
    services.change_from(
        series,
        london_start(TUESDAY, 19),
        by=w.hub_carer,
        start=london_start(TUESDAY, 19, 30),
        end=london_start(TUESDAY, 21),
    )
    row = told(w.satellite_carer).get()
    assert row.subject == "Constellation meeting moved to 19:30 today"


def test_an_event_cancelled_today_tells_each_person_once(world, morning):
    w = world
    event = meeting(w)
    services.cancel_event(event, by=w.liaison)
    for person in [w.satellite_carer, w.neighbour_carer, w.hub_carer, w.second_hub_carer]:
        assert told(person).get().subject == "Constellation meeting cancelled (19:00 today)"
    assert not told(w.liaison).exists()


def test_chosen_households_only(world, morning):
    w = world
    event = meeting(
        w,
        kind=Event.Kind.ACTIVITY,
        title="Pottery",
        invitation=Invitation(everyone=False, households=(w.satellite,)),
    )
    services.cancel_event(event, by=w.hub_carer)
    assert told(w.satellite_carer).exists()
    assert told(w.second_hub_carer).exists()
    assert not told(w.neighbour_carer).exists()


def test_a_contact_session_is_told_only_to_its_household_and_the_hub_unnamed(world, morning):
    w = world
    event = meeting(
        w,
        kind=Event.Kind.CONTACT,
        title="Contact for Mara with her mum",
        invitation=Invitation(everyone=False, households=(w.satellite,)),
    )
    services.update_event(
        event, by=w.hub_carer, start=london_start(TUESDAY, 16), end=london_start(TUESDAY, 17)
    )
    rows = Notification.objects.filter(kind=Kind.EVENT_CHANGED)
    assert {r.recipient for r in rows} == {w.satellite_carer, w.second_hub_carer}
    for row in rows:
        assert row.subject == "A session at the hub moved to 16:00 today"
        assert "Mara" not in row.subject + row.body
        assert "mum" not in row.subject + row.body


def test_no_surname_or_health_detail_in_any_message(world, morning):
    w = world
    event = meeting(w)
    services.update_event(event, by=w.hub_carer, place="The village hall")
    services.cancel_event(event, by=w.hub_carer)
    for row in Notification.objects.all():
        text = row.subject + row.body
        for secret in (w.child.last_name, w.child.allergies, w.child.medication_notes):
            assert secret not in text


def test_a_rolled_back_change_sends_nothing(world, morning):
    w = world
    event = meeting(w)

    def cancel_then_fail():
        with transaction.atomic():
            services.cancel_event(event, by=w.hub_carer)
            raise RuntimeError("the page failed after the change")

    with pytest.raises(RuntimeError):
        cancel_then_fail()
    assert not Notification.objects.filter(kind=Kind.EVENT_CHANGED).exists()
    assert Event.objects.get(pk=event.pk).status == Event.Status.SCHEDULED


def test_the_change_is_written_once_per_channel(world, morning):
    w = world
    w.satellite_carer.phone = "07700 900123"
    w.satellite_carer.save(update_fields=["phone"])
    event = meeting(w)
    services.cancel_event(event, by=w.hub_carer)
    rows = Notification.objects.filter(recipient=w.satellite_carer, kind=Kind.EVENT_CHANGED)
    # Calendar changes: in the app and by email by default; not by text message.
    assert sorted(r.channel for r in rows) == [Channel.IN_APP, Channel.EMAIL]


# --- the waiting list ---------------------------------------------------------------


def social(w, capacity=None, contacts=()):
    return services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Summer picnic",
        place="Riverside Park",
        start=london_start(TUESDAY + timedelta(days=10), 14),
        end=london_start(TUESDAY + timedelta(days=10), 17),
        capacity=capacity,
        invitation=Invitation(contacts=tuple(contacts)),
    )


def kept(w, **fields):
    return services.keep_connected(
        constellation=w.constellation,
        by=w.liaison,
        name=fields.pop("name", "Jordan"),
        email=fields.pop("email", "jordan@example.org"),
        relationship="young_person",
        consent="Jordan agreed by phone on 2 January 2027",
        ends_on=fields.pop("ends_on", date(2027, 12, 31)),
    )


def test_a_place_freed_tells_the_household_that_waited(world, morning):
    w = world
    event = social(w, capacity=3)
    services.answer(
        event, event.start, by=w.neighbour_carer, answer="yes", adults=2, household=w.neighbour
    )
    waiting = services.answer(
        event, event.start, by=w.satellite_carer, answer="yes", adults=2, household=w.satellite
    )
    assert waiting.waiting
    services.answer(event, event.start, by=w.neighbour_carer, answer="no", household=w.neighbour)
    row = told(w.satellite_carer, Kind.EVENT_PLACE).get()
    assert row.subject == "A place for you: Summer picnic, 14:00 on Fri 15 Jan"
    assert "2 people of yours" in row.body
    assert row.link == f"/calendar/events/{event.pk}/{key_of(event.start)}/"
    assert not told(w.neighbour_carer, Kind.EVENT_PLACE).exists()
    assert not told(w.hub_carer, Kind.EVENT_PLACE).exists()


def test_a_place_freed_reaches_someone_kept_connected_by_email(world, morning):
    w = world
    jordan = kept(w)
    event = social(w, capacity=2, contacts=[jordan])
    services.answer(
        event, event.start, by=w.neighbour_carer, answer="yes", adults=2, household=w.neighbour
    )
    services.answer(event, event.start, by=None, answer="yes", adults=1, contact=jordan)
    services.answer(
        event, event.start, by=w.neighbour_carer, answer="maybe", adults=1, household=w.neighbour
    )
    row = Notification.objects.get(kind=Kind.EVENT_PLACE)
    assert row.recipient is None
    assert (row.channel, row.to_address) == (Channel.EMAIL, "jordan@example.org")
    assert row.link.startswith("/calendar/invitation/")


def test_someone_kept_connected_who_said_yes_hears_of_a_cancellation(world, morning):
    w = world
    jordan = kept(w)
    event = social(w, contacts=[jordan])
    services.answer(event, event.start, by=None, answer="yes", adults=1, contact=jordan)
    with time_machine.travel(datetime(2027, 1, 14, 12, tzinfo=LONDON), tick=False):
        services.cancel_event(event, by=w.hub_carer)
    row = Notification.objects.get(kind=Kind.EVENT_CHANGED, channel=Channel.EMAIL, recipient=None)
    assert row.to_address == "jordan@example.org"
    assert row.subject == "Summer picnic cancelled (14:00 tomorrow)"
