"""The calendar's reminders at pinned clocks: due or not, written once however many
times beat runs, and at London wall-clock time across both clock changes."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from calendar_events import reminders, services, tasks, tokens
from calendar_events.models import Event
from calendar_events.recurrence import key_of
from calendar_events.services import Invitation, london_start
from notifications.models import Channel, Kind, Notification

LONDON = ZoneInfo("Europe/London")


def at(*args):
    return datetime(*args, tzinfo=LONDON)


def run(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return reminders.send_due()


def told(user, kind=Kind.EVENT_REMINDER):
    return Notification.objects.filter(recipient=user, kind=kind, channel=Channel.IN_APP)


def make_event(w, day, hour=19, **fields):
    fields.setdefault("kind", Event.Kind.MEETING)
    fields.setdefault("title", "Constellation meeting")
    with time_machine.travel(at(2027, 1, 1, 9), tick=False):
        return services.create_event(
            constellation=w.constellation,
            by=w.hub_carer,
            start=london_start(day, hour),
            end=london_start(day, hour + 2),
            **fields,
        )


def say(w, event, original_start, household, answer="yes", adults=1, when=None):
    carer = w.satellite_carer if household == w.satellite else w.neighbour_carer
    with time_machine.travel(when or at(2027, 1, 2, 9), tick=False):
        return services.answer(
            event, original_start, by=carer, answer=answer, adults=adults, household=household
        )


# --- answer, please ----------------------------------------------------------------


def test_a_week_before_households_that_have_not_answered_are_asked(world):
    w = world
    event = make_event(w, date(2027, 1, 12))
    say(w, event, event.start, w.satellite, answer="no")
    assert run(at(2027, 1, 5, 18, 59)) == 0
    assert run(at(2027, 1, 5, 19, 0)) > 0
    row = told(w.neighbour_carer).get()
    assert row.subject == "Are you coming? Constellation meeting, 19:00 on Tue 12 Jan"
    assert row.link == f"/calendar/events/{event.pk}/{key_of(event.start)}/"
    assert not told(w.satellite_carer).exists()  # answered already
    assert not told(w.hub_carer).exists()  # the hub organises
    assert not told(w.other_satellite_carer).exists()
    assert run(at(2027, 1, 5, 19, 15)) == 0
    assert told(w.neighbour_carer).count() == 1


def test_a_missed_tick_is_caught_up_until_answers_close(world):
    w = world
    event = make_event(w, date(2027, 1, 12), rsvp_closes_minutes=24 * 60)
    assert run(at(2027, 1, 11, 18, 59)) > 0
    assert told(w.neighbour_carer).count() == 1
    assert "by 19:00 on Mon 11 Jan" in told(w.neighbour_carer).get().body
    Notification.objects.all().delete()
    assert run(at(2027, 1, 11, 19, 0)) == 0  # answers closed: too late to ask
    assert not Notification.objects.exists()
    assert event.pk


def test_cancelled_dates_and_contact_sessions_of_others_ask_nobody_else(world):
    w = world
    series = make_event(w, date(2027, 1, 5), rule="FREQ=WEEKLY")
    with time_machine.travel(at(2027, 1, 2, 9), tick=False):
        services.cancel_occurrence(series, london_start(date(2027, 1, 12), 19), by=w.hub_carer)
    make_event(
        w,
        date(2027, 1, 13),
        kind=Event.Kind.CONTACT,
        title="Contact for Mara",
        invitation=Invitation(everyone=False, households=(w.satellite,)),
    )
    run(at(2027, 1, 6, 20))
    keys = {r.key for r in Notification.objects.filter(kind=Kind.EVENT_REMINDER)}
    assert f"event-answer:{series.pk}:20270112T190000Z" not in keys
    assert f"event-answer:{series.pk}:20270119T190000Z" not in keys  # not within 7 days yet
    assert {r.subject for r in told(w.satellite_carer)} == {
        "Are you coming? A session at the hub, 19:00 on Wed 13 Jan"
    }
    assert not told(w.neighbour_carer).exists()


# --- the day before --------------------------------------------------------------------


def test_the_day_before_those_coming_are_reminded(world):
    w = world
    event = make_event(w, date(2027, 1, 12), capacity=2)
    say(w, event, event.start, w.satellite, adults=2)
    waiting = say(w, event, event.start, w.neighbour, adults=1)
    assert waiting.waiting
    run(at(2027, 1, 11, 17, 59))
    assert not Notification.objects.filter(key__startswith="event-tomorrow").exists()
    run(at(2027, 1, 11, 18, 0))
    row = told(w.satellite_carer).get(key__startswith="event-tomorrow")
    assert row.subject == "Reminder: Constellation meeting, 19:00 tomorrow"
    assert not told(w.neighbour_carer).filter(key__startswith="event-tomorrow").exists()
    assert not told(w.hub_carer).exists()
    run(at(2027, 1, 11, 18, 15))
    assert told(w.satellite_carer).filter(key__startswith="event-tomorrow").count() == 1


def test_the_day_before_is_caught_up_on_the_day_but_not_for_a_late_yes(world):
    w = world
    event = make_event(w, date(2027, 1, 12))
    say(w, event, event.start, w.satellite)
    say(w, event, event.start, w.neighbour, when=at(2027, 1, 12, 8))
    run(at(2027, 1, 12, 9))
    assert told(w.satellite_carer).get(key__startswith="event-tomorrow").subject == (
        "Reminder: Constellation meeting, 19:00 today"
    )
    assert not told(w.neighbour_carer).filter(key__startswith="event-tomorrow").exists()
    Notification.objects.all().delete()
    run(at(2027, 1, 12, 19, 1))  # it has begun
    assert not Notification.objects.filter(key__startswith="event-tomorrow").exists()


@pytest.mark.parametrize(
    ("first_day", "the_date", "week_before", "evening_before"),
    [
        # Spring: GMT to BST on Sunday 28 March 2027.
        (date(2027, 3, 2), date(2027, 3, 30), at(2027, 3, 23, 19), at(2027, 3, 29, 18)),
        # Autumn: BST to GMT on Sunday 31 October 2027.
        (date(2027, 10, 5), date(2027, 11, 2), at(2027, 10, 26, 19), at(2027, 11, 1, 18)),
    ],
)
def test_reminders_keep_london_wall_clock_across_the_clock_changes(
    world, first_day, the_date, week_before, evening_before
):
    w = world
    series = make_event(w, first_day, rule="FREQ=WEEKLY;BYDAY=TU")
    original = london_start(the_date, 19)
    key = f"{series.pk}:{key_of(original)}"
    asked = f"event-answer:{key}"
    run(week_before - timedelta(minutes=1))
    assert not Notification.objects.filter(key=asked).exists()
    run(week_before)
    row = told(w.neighbour_carer).get(key=asked)
    assert row.subject == (
        f"Are you coming? Constellation meeting, 19:00 on Tue {the_date.day} {the_date:%b}"
    )
    say(w, series, original, w.satellite, when=week_before)
    run(evening_before - timedelta(minutes=1))
    assert not Notification.objects.filter(key=f"event-tomorrow:{key}").exists()
    run(evening_before)
    row = told(w.satellite_carer).get(key=f"event-tomorrow:{key}")
    assert row.subject == "Reminder: Constellation meeting, 19:00 tomorrow"


# --- next month's calendar ----------------------------------------------------------


def test_next_months_calendar_on_the_25th_once_per_person(world):
    w = world
    make_event(w, date(2027, 2, 2), rule="FREQ=WEEKLY;COUNT=3")
    make_event(
        w,
        date(2027, 2, 10),
        kind=Event.Kind.ACTIVITY,
        title="Pottery",
        invitation=Invitation(everyone=False, households=(w.satellite,)),
    )
    make_event(
        w,
        date(2027, 2, 11),
        kind=Event.Kind.CONTACT,
        title="Contact for Mara",
        invitation=Invitation(everyone=False, households=(w.satellite,)),
    )
    make_event(w, date(2027, 3, 2), title="March meeting")
    assert (
        run(at(2027, 1, 25, 8, 59)) == 0
        or not Notification.objects.filter(kind=Kind.CALENDAR_MONTH).exists()
    )
    run(at(2027, 1, 25, 9))
    month = {
        person: told(person, Kind.CALENDAR_MONTH).get()
        for person in (w.satellite_carer, w.neighbour_carer, w.hub_carer, w.second_hub_carer)
    }
    assert month[w.satellite_carer].subject == "Next month's calendar: February 2027"
    assert month[w.satellite_carer].body.startswith("5 dates on the calendar for you")
    assert month[w.neighbour_carer].body.startswith("3 dates")
    assert month[w.hub_carer].body.startswith("5 dates")
    assert month[w.satellite_carer].link == "/calendar/2027/2/"
    assert not told(w.other_satellite_carer, Kind.CALENDAR_MONTH).exists()
    assert not told(w.liaison, Kind.CALENDAR_MONTH).exists()
    for row in Notification.objects.filter(kind=Kind.CALENDAR_MONTH):
        assert "Mara" not in row.body
    run(at(2027, 1, 27, 9))
    assert told(w.satellite_carer, Kind.CALENDAR_MONTH).count() == 1


def test_next_months_calendar_is_caught_up_later_in_the_month(world):
    w = world
    make_event(w, date(2028, 1, 4))
    run(at(2027, 12, 24, 23))
    assert not Notification.objects.filter(kind=Kind.CALENDAR_MONTH).exists()
    run(at(2027, 12, 31, 23, 45))
    row = told(w.neighbour_carer, Kind.CALENDAR_MONTH).get()
    assert row.subject == "Next month's calendar: January 2028"
    assert row.link == "/calendar/2028/1/"


# --- invitations to people kept connected ---------------------------------------------


def kept(w, **fields):
    with time_machine.travel(at(2027, 1, 1, 9), tick=False):
        return services.keep_connected(
            constellation=w.constellation,
            by=w.liaison,
            name=fields.pop("name", "Jordan"),
            email=fields.pop("email", "jordan@example.org"),
            relationship="young_person",
            consent="Jordan agreed by phone on 1 January 2027",
            ends_on=fields.pop("ends_on", date(2027, 12, 31)),
        )


def test_people_kept_connected_are_invited_by_email_21_days_before(world, client):
    w = world
    jordan = kept(w)
    gone = kept(w, name="Alex", email="alex@example.org")
    with time_machine.travel(at(2027, 1, 2, 9), tick=False):
        services.stop_keeping_connected(gone, by=w.liaison)
    picnic = make_event(
        w,
        date(2027, 2, 10),
        14,
        kind=Event.Kind.SOCIAL,
        title="Summer picnic",
        place="Riverside Park",
        invitation=Invitation(contacts=(jordan, gone)),
    )
    run(at(2027, 1, 20, 13, 59))
    assert not Notification.objects.filter(to_address="jordan@example.org").exists()
    run(at(2027, 1, 20, 14, 0))
    row = Notification.objects.get(to_address="jordan@example.org")
    assert row.channel == Channel.EMAIL
    assert row.recipient is None
    assert row.subject == "You're invited: Summer picnic, 14:00 on Wed 10 Feb"
    assert "Riverside invites you to Summer picnic" in row.body
    assert not Notification.objects.filter(to_address="alex@example.org").exists()
    run(at(2027, 1, 21, 14, 0))
    assert Notification.objects.filter(to_address="jordan@example.org").count() == 1
    # The link opens Jordan's own answer page.
    with time_machine.travel(at(2027, 1, 21, 15), tick=False):
        response = client.get(row.link)
    assert response.status_code == 200
    assert "Summer picnic" in response.content.decode()
    assert tokens.read(row.link.split("/")[-2]).contact_id == jordan.pk
    assert picnic.pk == tokens.read(row.link.split("/")[-2]).event_id


def test_each_date_of_a_social_series_is_its_own_invitation(world):
    w = world
    jordan = kept(w)
    series = make_event(
        w,
        date(2027, 1, 8),
        18,
        kind=Event.Kind.SOCIAL,
        title="Games night",
        rule="FREQ=WEEKLY",
        invitation=Invitation(contacts=(jordan,)),
    )
    run(at(2027, 1, 5, 12))
    rows = Notification.objects.filter(to_address="jordan@example.org").order_by("key")
    assert [r.key.split(":")[2] for r in rows] == [
        key_of(london_start(date(2027, 1, 8), 18)),
        key_of(london_start(date(2027, 1, 15), 18)),
        key_of(london_start(date(2027, 1, 22), 18)),
    ]
    assert all(str(series.pk) in r.key for r in rows)


def test_the_beat_task_runs_the_reminders(world):
    w = world
    make_event(w, date(2027, 1, 12))
    with time_machine.travel(at(2027, 1, 6, 9), tick=False):
        assert tasks.send_reminders.delay().get() > 0
        assert tasks.send_reminders.delay().get() == 0
    assert told(w.neighbour_carer).count() == 1


def test_the_invitation_email_reaches_the_person_with_the_link_to_answer(world, mailoutbox):
    from notifications.services.outbox import deliver

    w = world
    jordan = kept(w)
    make_event(
        w,
        date(2027, 1, 20),
        14,
        kind=Event.Kind.SOCIAL,
        title="Summer picnic",
        invitation=Invitation(contacts=(jordan,)),
    )
    run(at(2027, 1, 5, 12))
    row = Notification.objects.get(to_address="jordan@example.org")
    with time_machine.travel(at(2027, 1, 5, 12, 1), tick=False):
        assert deliver(row.pk)
    (email,) = mailoutbox
    assert email.to == ["jordan@example.org"]
    assert email.subject == "You're invited: Summer picnic, 14:00 on Wed 20 Jan"
    assert row.link in email.body
    assert w.child.last_name not in email.body
