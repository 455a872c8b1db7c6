"""Every change of the calendar: events, a series changed from one date on, answers
and the waiting list (strictly first come, first served), who came, people kept
connected and calendar feeds."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from calendar_events import selectors, services, signals
from calendar_events.models import (
    Answer,
    Attendance,
    CalendarFeed,
    Event,
    KeptConnected,
    Occurrence,
    Rsvp,
)
from calendar_events.recurrence import london_midnight
from constellation.models import Activity
from constellation.services import ActionRefused
from tests import factories as f

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 9, tzinfo=LONDON)
FIRST = services.london_start(date(2027, 1, 5), 19)  # the first Tuesday of 2027


@pytest.fixture(autouse=True)
def _december_2026():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def carters(world):
    """A third satellite household of Riverside, with one child placed."""
    household = f.satellite_in(world.constellation, name="The Carters")
    carer = f.carer_of(household, email="carters@test.example")
    child = f.child_in(household, first_name="Cass", last_name="Carter", preferred_name="Cassie")
    return household, carer, child


def meeting(world, **fields):
    fields.setdefault("kind", Event.Kind.MEETING)
    fields.setdefault("title", "Constellation meeting")
    fields.setdefault("rule", "FREQ=MONTHLY;BYDAY=1TU")
    start = fields.pop("start", FIRST)
    return services.create_event(
        constellation=world.constellation,
        by=fields.pop("by", world.hub_carer),
        start=start,
        end=fields.pop("end", start + timedelta(hours=2)),
        **fields,
    )


def yes(event, household, *, adults=1, children=(), when=FIRST, by=None, **kwargs):
    return services.answer(
        event,
        when,
        by=by,
        answer=Answer.YES,
        adults=adults,
        children=children,
        household=household,
        **kwargs,
    )


def say(event, household, answer, *, when=FIRST, **kwargs):
    return services.answer(event, when, by=None, answer=answer, household=household, **kwargs)


def state(event, when=FIRST):
    """(household name, people, coming or waiting) for each answer of a date, in the
    order of the waiting list then the coming."""
    rsvps = Rsvp.objects.filter(occurrence__event=event, occurrence__original_start=when)
    return sorted(
        (r.household.name, r.people, "coming" if r.coming else "waiting" if r.waiting else r.answer)
        for r in rsvps.select_related("household")
    )


# --- events ------------------------------------------------------------------------


def test_create_event_puts_a_series_on_the_calendar_and_records_it(world):
    event = meeting(world, place="The Hub Home", capacity=20)
    assert event.constellation == world.constellation
    assert event.organiser == world.hub_carer
    assert (event.rule, event.repeat_until, event.invite_everyone) == (
        "FREQ=MONTHLY;BYDAY=1TU",
        None,
        True,
    )
    assert Activity.objects.filter(verb="event.created", target_id=event.pk).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"end": FIRST}, "end"),
        ({"end": FIRST - timedelta(hours=1)}, "end"),
        ({"end": FIRST + timedelta(days=32)}, "end"),
        ({"kind": "party"}, "kind"),
        ({"capacity": 0}, "capacity"),
        ({"rule": "FREQ=HOURLY"}, "rule"),
        ({"rule": "", "repeat_until": date(2027, 2, 1)}, "repeat_until"),
    ],
)
def test_create_event_refuses_bad_input_on_its_field(world, fields, field):
    with pytest.raises(ValidationError) as refused:
        meeting(world, **fields)
    assert field in refused.value.message_dict
    assert Event.objects.count() == 0


def test_a_contact_session_is_for_exactly_one_household(world):
    for invitation in (
        services.Invitation(),
        services.Invitation(everyone=False, households=(world.satellite, world.neighbour)),
    ):
        with pytest.raises(ValidationError) as refused:
            meeting(world, kind=Event.Kind.CONTACT, rule="", invitation=invitation)
        assert refused.value.error_dict["households"][0].code == "contact_one_household"
    event = meeting(
        world,
        kind=Event.Kind.CONTACT,
        rule="",
        invitation=services.Invitation(everyone=False, households=(world.satellite,)),
    )
    assert not event.invite_everyone
    assert list(event.invited_households.all()) == [world.satellite]


def test_households_of_another_constellation_cannot_be_invited(world):
    other = world.other_constellation.memberships.first().household
    with pytest.raises(ValidationError) as refused:
        meeting(world, invitation=services.Invitation(everyone=False, households=(other,)))
    assert "households" in refused.value.message_dict


def test_people_kept_connected_are_invited_to_social_get_togethers_only(world):
    person = services.keep_connected(
        constellation=world.constellation,
        by=world.liaison,
        name="Jay",
        email="jay@example.org",
        relationship=KeptConnected.Relationship.YOUNG_PERSON,
        consent="Jay agreed by phone, 1 Dec 2026",
        ends_on=date(2027, 12, 31),
    )
    with pytest.raises(ValidationError) as refused:
        meeting(world, invitation=services.Invitation(contacts=(person,)))
    assert "contacts" in refused.value.message_dict
    social = meeting(
        world, kind=Event.Kind.SOCIAL, invitation=services.Invitation(contacts=(person,))
    )
    assert list(social.invited_contacts.all()) == [person]


def test_update_event_changes_every_date_and_raises_the_sequence(world):
    event = meeting(world)
    changed = services.update_event(event, by=world.hub_carer, title="Meeting", place="Library")
    assert (changed.title, changed.place, changed.sequence) == ("Meeting", "Library", 1)
    assert Activity.objects.filter(verb="event.changed", target_id=event.pk).exists()


def test_an_update_that_changes_nothing_leaves_the_event_and_phone_calendars_alone(world):
    event = meeting(world)
    same = services.update_event(
        event,
        by=world.hub_carer,
        title=event.title,
        start=event.start,
        invitation=services.Invitation(everyone=True),
    )
    assert same.sequence == 0
    assert not Activity.objects.filter(verb="event.changed", target_id=event.pk).exists()


def test_a_series_without_rows_may_be_retimed_whole(world):
    event = meeting(world)
    later = FIRST + timedelta(minutes=30)
    changed = services.update_event(
        event, by=world.hub_carer, start=later, end=later + timedelta(hours=2)
    )
    assert changed.start == later


def test_update_event_refuses_to_retime_a_series_with_rows(world):
    event = meeting(world)
    yes(event, world.satellite)
    later = FIRST + timedelta(minutes=30)
    with pytest.raises(ActionRefused, match="from the next date on"):
        services.update_event(
            event, by=world.hub_carer, start=later, end=later + timedelta(hours=2)
        )
    with pytest.raises(ActionRefused):
        services.update_event(event, by=world.hub_carer, rule="FREQ=MONTHLY;BYDAY=1TU;COUNT=3")
    event.refresh_from_db()
    assert (event.start, event.rule, event.sequence) == (FIRST, "FREQ=MONTHLY;BYDAY=1TU", 0)
    # What and where may still change.
    assert services.update_event(event, by=world.hub_carer, place="Library").place == "Library"


def test_a_single_events_answers_follow_it_when_it_is_retimed(world):
    event = meeting(world, rule="")
    yes(event, world.satellite)
    later = FIRST + timedelta(days=1)
    services.update_event(event, by=world.hub_carer, start=later, end=later + timedelta(hours=2))
    row = Occurrence.objects.get(event=event)
    assert row.original_start == later
    assert state(event, later) == [("The Ashfords", 1, "coming")]


def test_update_event_refuses_a_cancelled_event_and_changes_of_a_contact_session(world):
    event = meeting(world)
    with pytest.raises(ValidationError) as refused:
        services.update_event(event, by=world.hub_carer, kind=Event.Kind.CONTACT)
    assert "kind" in refused.value.message_dict
    services.cancel_event(event, by=world.hub_carer)
    with pytest.raises(ActionRefused, match="cancelled"):
        services.update_event(event, by=world.hub_carer, title="Again")


def test_cancel_event_cancels_every_date_once(world):
    event = meeting(world)
    cancelled = services.cancel_event(event, by=world.hub_carer, reason="Hub closed")
    assert cancelled.cancelled
    assert cancelled.sequence == 1
    found = selectors.expand(
        [cancelled], london_midnight(date(2027, 1, 1)), london_midnight(date(2027, 4, 1))
    )
    assert [s.cancelled for s in found] == [True, True, True]
    with pytest.raises(ActionRefused, match="already"):
        services.cancel_event(event, by=world.hub_carer)


def test_a_cancelled_date_cannot_be_cancelled_again_or_moved(world):
    event = meeting(world)
    services.cancel_occurrence(event, FIRST, by=world.hub_carer)
    with pytest.raises(ActionRefused, match="already"):
        services.cancel_occurrence(event, FIRST, by=world.hub_carer)
    with pytest.raises(ActionRefused, match="cancelled"):
        services.move_occurrence(
            event, FIRST, by=world.hub_carer, start=FIRST, end=FIRST + timedelta(hours=1)
        )


# --- a series changed from one date on ---------------------------------------------


def test_change_from_ends_the_old_series_the_day_before_and_answers_move_along(world):
    event = meeting(world, capacity=10)
    march = services.london_start(date(2027, 3, 2), 19)
    april = services.london_start(date(2027, 4, 6), 19)
    yes(event, world.satellite, when=FIRST)
    yes(event, world.satellite, when=april, adults=2)
    new = services.change_from(
        event,
        march,
        by=world.hub_carer,
        start=march,
        end=march + timedelta(hours=2),
        place="The village hall",
    )
    event.refresh_from_db()
    assert event.repeat_until == date(2027, 3, 1)
    assert event.sequence == 1
    assert new.follows == event
    assert new.uid != event.uid
    assert (new.rule, new.place, new.capacity) == ("FREQ=MONTHLY;BYDAY=1TU", "The village hall", 10)
    year = selectors.expand(
        [event, new], london_midnight(date(2027, 1, 1)), london_midnight(date(2027, 6, 1))
    )
    assert [(s.event, s.local_start.date()) for s in year] == [
        (event, date(2027, 1, 5)),
        (event, date(2027, 2, 2)),
        (new, date(2027, 3, 2)),
        (new, date(2027, 4, 6)),
        (new, date(2027, 5, 4)),
    ]
    # January's answer stays with the old series; April's moved with the new one.
    assert state(event, FIRST) == [("The Ashfords", 1, "coming")]
    assert state(new, april) == [("The Ashfords", 2, "coming")]


def test_change_from_to_another_time_leaves_the_answers_of_dates_it_does_not_keep(world):
    event = meeting(world)
    march = services.london_start(date(2027, 3, 2), 19)
    april = services.london_start(date(2027, 4, 6), 19)
    yes(event, world.satellite, when=april)
    earlier = march - timedelta(minutes=30)
    new = services.change_from(
        event, march, by=world.hub_carer, start=earlier, end=earlier + timedelta(hours=2)
    )
    assert new.start == earlier
    assert not Occurrence.objects.filter(event=new).exists()
    assert Occurrence.objects.get(original_start=april).event == event


def test_change_from_splits_a_count_between_the_two_series(world):
    event = meeting(world, rule="FREQ=MONTHLY;BYDAY=1TU;COUNT=6")
    march = services.london_start(date(2027, 3, 2), 19)
    new = services.change_from(
        event, march, by=world.hub_carer, start=march, end=march + timedelta(hours=2)
    )
    event.refresh_from_db()
    assert "COUNT" not in event.rule
    assert new.rule == "FREQ=MONTHLY;BYDAY=1TU;COUNT=4"
    found = selectors.expand(
        [event, new], london_midnight(date(2027, 1, 1)), london_midnight(date(2027, 12, 31))
    )
    assert [(s.event == new, s.local_start.month) for s in found] == [
        (False, 1),
        (False, 2),
        (True, 3),
        (True, 4),
        (True, 5),
        (True, 6),
    ]


def test_change_from_refuses_the_first_date_a_single_event_and_dates_not_of_the_rule(world):
    event = meeting(world)
    with pytest.raises(ActionRefused, match="first date"):
        services.change_from(
            event, FIRST, by=world.hub_carer, start=FIRST, end=FIRST + timedelta(hours=1)
        )
    with pytest.raises(ActionRefused, match="no date then"):
        services.change_from(
            event,
            FIRST + timedelta(days=1),
            by=world.hub_carer,
            start=FIRST,
            end=FIRST + timedelta(hours=1),
        )
    single = meeting(world, rule="")
    with pytest.raises(ActionRefused, match="once"):
        services.change_from(
            single, FIRST, by=world.hub_carer, start=FIRST, end=FIRST + timedelta(hours=1)
        )


def test_change_from_to_a_start_its_new_rule_does_not_give_changes_nothing(world):
    event = meeting(world)
    march = services.london_start(date(2027, 3, 2), 19)
    wednesday = march + timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.change_from(
            event, march, by=world.hub_carer, start=wednesday, end=wednesday + timedelta(hours=2)
        )
    assert "rule" in refused.value.message_dict
    event.refresh_from_db()
    assert event.repeat_until is None
    assert Event.objects.count() == 1


# --- answers -----------------------------------------------------------------------


def test_a_household_answers_with_its_adults_and_children(world):
    event = meeting(world, capacity=10)
    rsvp = yes(event, world.satellite, adults=2, children=[world.child], by=world.satellite_carer)
    assert (rsvp.answer, rsvp.adults, rsvp.people, rsvp.waiting) == ("yes", 2, 3, False)
    assert list(rsvp.children.all()) == [world.child]
    again = say(event, world.satellite, Answer.NO)
    assert again.pk == rsvp.pk
    assert (again.people, list(again.children.all())) == (0, [])


def test_a_household_not_invited_cannot_answer(world):
    event = meeting(
        world, invitation=services.Invitation(everyone=False, households=(world.neighbour,))
    )
    with pytest.raises(ActionRefused, match="not invited"):
        yes(event, world.satellite)
    other = world.other_constellation.memberships.first().household
    with pytest.raises(ActionRefused, match="not invited"):
        yes(meeting(world), other)
    assert not Rsvp.objects.exists()


def test_children_of_another_household_are_refused(world):
    event = meeting(world)
    with pytest.raises(ValidationError) as refused:
        yes(event, world.satellite, children=[world.neighbour_child])
    assert refused.value.error_dict["children"][0].code == "not_your_child"
    assert not Rsvp.objects.exists()


@pytest.mark.parametrize(
    ("adults", "field"),
    [(0, "adults"), (-1, "adults"), (21, "adults")],
)
def test_a_yes_needs_someone_coming_and_at_most_twenty_adults(world, adults, field):
    with pytest.raises(ValidationError) as refused:
        yes(meeting(world), world.satellite, adults=adults)
    assert field in refused.value.message_dict


def test_more_people_than_the_event_holds_in_one_answer_is_refused(world):
    event = meeting(world, capacity=2)
    with pytest.raises(ValidationError) as refused:
        yes(event, world.satellite, adults=2, children=[world.child])
    assert refused.value.error_dict["adults"][0].code == "over_capacity"
    assert "room for 2 people" in refused.value.message_dict["adults"][0]
    assert not Rsvp.objects.exists()


def test_the_waiting_list_moves_up_in_order_when_a_yes_becomes_no(world, carters):
    household, _, cassie = carters
    event = meeting(world, capacity=4)
    freed = []
    signals.place_freed.connect(lambda rsvp, **kw: freed.append(rsvp.household.name), weak=False)
    try:
        yes(event, world.satellite, adults=2, children=[world.child])  # 3 of 4
        yes(event, world.neighbour, adults=2)  # 2 do not fit: waits
        yes(event, household, adults=1)  # 1 would fit, but the Brookes asked first
        assert state(event) == [
            ("The Ashfords", 3, "coming"),
            ("The Brookes", 2, "waiting"),
            ("The Carters", 1, "waiting"),
        ]
        say(event, world.satellite, Answer.NO)
        assert state(event) == [
            ("The Ashfords", 0, "no"),
            ("The Brookes", 2, "coming"),
            ("The Carters", 1, "coming"),
        ]
        assert freed == ["The Brookes", "The Carters"]
    finally:
        signals.place_freed.receivers.clear()


def test_fewer_people_free_places_for_the_next_in_line_only_when_they_fit(world, carters):
    household, _, cassie = carters
    event = meeting(world, capacity=4)
    yes(event, world.satellite, adults=2, children=[world.child])  # 3
    yes(event, world.neighbour, adults=2, children=[world.neighbour_child])  # 3: waits
    yes(event, household, adults=1)  # waits behind the Brookes
    yes(event, world.satellite, adults=1, children=[world.child])  # 2 now: 2 free
    # The Brookes (3) still do not fit, and nobody passes them.
    assert state(event) == [
        ("The Ashfords", 2, "coming"),
        ("The Brookes", 3, "waiting"),
        ("The Carters", 1, "waiting"),
    ]
    yes(event, world.satellite, adults=1)  # 1 now: 3 free
    assert state(event) == [
        ("The Ashfords", 1, "coming"),
        ("The Brookes", 3, "coming"),
        ("The Carters", 1, "waiting"),
    ]


def test_the_head_of_the_waiting_list_giving_up_lets_the_next_move_up(world, carters):
    household, _, _ = carters
    event = meeting(world, capacity=4)
    yes(event, world.satellite, adults=3)  # 1 left
    yes(event, world.neighbour, adults=2)  # waits
    yes(event, household, adults=1)  # would fit, waits behind the Brookes
    say(event, world.neighbour, Answer.MAYBE)
    assert state(event) == [
        ("The Ashfords", 3, "coming"),
        ("The Brookes", 0, "maybe"),
        ("The Carters", 1, "coming"),
    ]


def test_a_waiting_household_that_comes_with_fewer_people_takes_the_place(world, carters):
    household, _, _ = carters
    event = meeting(world, capacity=4)
    yes(event, world.satellite, adults=3)  # 1 left
    first = yes(event, world.neighbour, adults=2)  # waits
    yes(event, household, adults=1)  # waits behind the Brookes
    yes(event, world.neighbour, adults=1)  # the Brookes now fit, and they were first
    assert state(event) == [
        ("The Ashfords", 3, "coming"),
        ("The Brookes", 1, "coming"),
        ("The Carters", 1, "waiting"),
    ]
    # A household still waiting keeps its place in the queue when it answers again.
    later = yes(event, household, adults=2)
    assert later.waiting_since == Rsvp.objects.get(household=household).waiting_since
    assert first.waiting_since < later.waiting_since or first.pk < later.pk


def test_a_household_coming_cannot_bring_more_while_others_wait(world):
    event = meeting(world, capacity=4)
    yes(event, world.satellite, adults=2)
    yes(event, world.neighbour, adults=3)  # waits: 2 free
    with pytest.raises(ActionRefused, match="keep the 2"):
        yes(event, world.satellite, adults=3)
    assert state(event) == [("The Ashfords", 2, "coming"), ("The Brookes", 3, "waiting")]


def test_a_household_coming_cannot_bring_more_than_the_places_left(world):
    event = meeting(world, capacity=4)
    yes(event, world.satellite, adults=2)
    yes(event, world.neighbour, adults=1)
    with pytest.raises(ActionRefused, match="Only 3 places"):
        yes(event, world.satellite, adults=4)
    assert yes(event, world.satellite, adults=3).coming


def test_answers_close_the_organisers_minutes_before_the_start(world):
    event = meeting(world, rsvp_closes_minutes=60)
    yes(event, world.satellite, now=FIRST - timedelta(minutes=61))
    with pytest.raises(ActionRefused, match="closed at 18:00 on 5 January"):
        yes(event, world.neighbour, now=FIRST - timedelta(minutes=60))
    assert state(event) == [("The Ashfords", 1, "coming")]


def test_answers_close_at_the_start_by_default(world):
    event = meeting(world)
    yes(event, world.satellite, now=FIRST - timedelta(seconds=1))
    for moment in (FIRST, FIRST + timedelta(hours=1)):
        with pytest.raises(ActionRefused, match="closed"):
            say(event, world.satellite, Answer.NO, now=moment)


def test_answers_close_by_where_a_moved_date_now_is(world):
    event = meeting(world)
    earlier = FIRST - timedelta(days=2)
    services.move_occurrence(
        event, FIRST, by=world.hub_carer, start=earlier, end=earlier + timedelta(hours=2)
    )
    with pytest.raises(ActionRefused, match="closed"):
        yes(event, world.satellite, now=earlier + timedelta(minutes=1))


def test_answers_for_a_cancelled_date_or_event_are_refused(world):
    event = meeting(world)
    services.cancel_occurrence(event, FIRST, by=world.hub_carer)
    with pytest.raises(ActionRefused, match="date was cancelled"):
        yes(event, world.satellite)
    february = services.london_start(date(2027, 2, 2), 19)
    services.cancel_event(event, by=world.hub_carer)
    with pytest.raises(ActionRefused, match="event was cancelled"):
        yes(event, world.satellite, when=february)
    assert not Rsvp.objects.exists()


def test_raising_the_capacity_moves_the_waiting_list_up(world, carters):
    household, _, _ = carters
    event = meeting(world, capacity=3)
    yes(event, world.satellite, adults=3)
    yes(event, world.neighbour, adults=2)
    yes(event, household, adults=2)
    services.update_event(event, by=world.hub_carer, capacity=5)
    assert state(event) == [
        ("The Ashfords", 3, "coming"),
        ("The Brookes", 2, "coming"),
        ("The Carters", 2, "waiting"),
    ]
    services.update_event(event, by=world.hub_carer, capacity=None)
    assert state(event)[-1] == ("The Carters", 2, "coming")


def test_a_capacity_raised_after_a_date_moves_up_only_dates_to_come(world):
    event = meeting(world, capacity=1)
    yes(event, world.satellite)
    yes(event, world.neighbour)
    with time_machine.travel(FIRST + timedelta(days=1), tick=False):
        services.update_event(event, by=world.hub_carer, capacity=2)
    assert state(event) == [("The Ashfords", 1, "coming"), ("The Brookes", 1, "waiting")]


def test_a_person_kept_connected_answers_with_a_number_of_people(world):
    person = services.keep_connected(
        constellation=world.constellation,
        by=world.liaison,
        name="Jay",
        email="jay@example.org",
        relationship=KeptConnected.Relationship.YOUNG_PERSON,
        consent="Jay agreed by phone",
        ends_on=date(2027, 12, 31),
    )
    social = meeting(
        world, kind=Event.Kind.SOCIAL, invitation=services.Invitation(contacts=(person,))
    )
    rsvp = services.answer(social, FIRST, by=None, answer=Answer.YES, adults=2, contact=person)
    assert (rsvp.contact, rsvp.people) == (person, 2)
    with pytest.raises(ValidationError):
        services.answer(
            social, FIRST, by=None, answer=Answer.YES, children=[world.child], contact=person
        )
    with pytest.raises(ActionRefused, match="not invited"):
        services.answer(meeting(world), FIRST, by=None, answer=Answer.YES, adults=1, contact=person)


# --- who came ----------------------------------------------------------------------


def test_who_came_is_recorded_once_the_date_has_started_and_replaced_after(world):
    event = meeting(world)
    came = [
        services.Came(household=world.satellite, adults=2, children=(world.child,)),
        services.Came(household=world.hub, adults=2),
    ]
    with pytest.raises(ActionRefused, match="once the event has started"):
        services.record_attendance(
            event, FIRST, by=world.hub_carer, came=came, now=FIRST - timedelta(minutes=1)
        )
    assert not Attendance.objects.exists()
    row = services.record_attendance(event, FIRST, by=world.hub_carer, came=came, now=FIRST)
    assert row.attendance_recorded_by == world.hub_carer
    assert sorted(row.attendance.values_list("household__name", "people")) == [
        ("The Ashfords", 3),
        ("The Hub Home", 2),
    ]
    services.record_attendance(
        event,
        FIRST,
        by=world.hub_carer,
        came=[services.Came(household=world.neighbour, adults=1)],
        now=FIRST + timedelta(days=2),
    )
    assert list(Attendance.objects.values_list("household__name", "people")) == [("The Brookes", 1)]


def test_who_came_refuses_households_of_other_constellations_and_others_children(world):
    event = meeting(world)
    other = world.other_constellation.memberships.first().household
    with pytest.raises(ValidationError) as refused:
        services.record_attendance(
            event,
            FIRST,
            by=world.hub_carer,
            came=[services.Came(household=other, adults=1)],
            now=FIRST + timedelta(hours=3),
        )
    assert "households" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.record_attendance(
            event,
            FIRST,
            by=world.hub_carer,
            came=[services.Came(household=world.satellite, children=(world.neighbour_child,))],
            now=FIRST + timedelta(hours=3),
        )
    assert refused.value.error_dict["children"][0].code == "not_their_child"
    with pytest.raises(ValidationError) as refused:
        services.record_attendance(
            event,
            FIRST,
            by=world.hub_carer,
            came=[services.Came(adults=1)],
            now=FIRST + timedelta(hours=3),
        )
    assert "households" in refused.value.message_dict
    assert not Attendance.objects.exists()


def test_nobody_is_recorded_at_a_cancelled_date(world):
    event = meeting(world)
    services.cancel_occurrence(event, FIRST, by=world.hub_carer)
    with pytest.raises(ActionRefused, match="cancelled"):
        services.record_attendance(
            event,
            FIRST,
            by=world.hub_carer,
            came=[services.Came(household=world.satellite, adults=1)],
            now=FIRST + timedelta(hours=3),
        )


# --- people kept connected ---------------------------------------------------------


def _keep(world, **fields):
    values = {
        "constellation": world.constellation,
        "by": world.liaison,
        "name": "Jay",
        "email": "jay@example.org",
        "relationship": KeptConnected.Relationship.YOUNG_PERSON,
        "consent": "Jay and their social worker agreed at the review, 1 Dec 2026",
        "ends_on": date(2027, 12, 31),
    }
    return services.keep_connected(**{**values, **fields})


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"consent": "  "}, "consent"),
        ({"ends_on": date(2026, 11, 30)}, "ends_on"),
        ({"ends_on": date(2032, 12, 31)}, "ends_on"),
        ({"name": ""}, "name"),
        ({"email": "not an address"}, "email"),
        ({"relationship": "cousin"}, "relationship"),
    ],
)
def test_keep_connected_refuses_what_it_cannot_keep(world, fields, field):
    with pytest.raises(ValidationError) as refused:
        _keep(world, **fields)
    assert field in refused.value.message_dict
    assert not KeptConnected.objects.exists()


def test_keep_connected_refuses_a_child_of_another_service(world):
    with pytest.raises(ValidationError) as refused:
        _keep(world, child=world.other_service_child)
    assert "child" in refused.value.message_dict


def test_someone_kept_connected_until_withdrawn(world):
    person = _keep(world, child=world.child)
    assert list(KeptConnected.objects.current()) == [person]
    services.stop_keeping_connected(person, by=world.liaison)
    assert not KeptConnected.objects.current().exists()
    with pytest.raises(ActionRefused):
        services.stop_keeping_connected(person, by=world.liaison)


# --- feeds -------------------------------------------------------------------------


def test_a_feed_is_made_once_renewed_and_revoked(world):
    feed = services.feed_of(world.satellite_carer)
    assert services.feed_of(world.satellite_carer) == feed
    assert len(feed.token) >= 40
    renewed = services.renew_feed(world.satellite_carer)
    assert renewed.token != feed.token
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert list(CalendarFeed.objects.live().filter(user=world.satellite_carer)) == [renewed]
    assert services.revoke_feeds(world.satellite_carer) == 1
    assert not CalendarFeed.objects.live().filter(user=world.satellite_carer).exists()
    assert services.revoke_feeds(world.satellite_carer) == 0
    # Another user's feed is untouched.
    other = services.feed_of(world.neighbour_carer)
    services.revoke_feeds(world.satellite_carer)
    assert CalendarFeed.objects.live().filter(pk=other.pk).exists()


# --- signals are sent inside the transaction ---------------------------------------


class Boom(Exception):
    pass


@pytest.fixture
def failing():
    """Connect a receiver that fails: the change it was told of must roll back."""
    connected = []

    def connect(signal):
        def receiver(**kwargs):
            raise Boom

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


def test_calendar_changed_is_sent_inside_the_transaction(world, failing):
    event = meeting(world)
    failing(signals.calendar_changed)
    with pytest.raises(Boom):
        meeting(world, title="Second")
    assert Event.objects.count() == 1
    with pytest.raises(Boom):
        services.update_event(event, by=world.hub_carer, title="Renamed")
    with pytest.raises(Boom):
        services.cancel_occurrence(event, FIRST, by=world.hub_carer)
    with pytest.raises(Boom):
        services.cancel_event(event, by=world.hub_carer)
    event.refresh_from_db()
    assert (event.title, event.status, event.sequence) == (
        "Constellation meeting",
        Event.Status.SCHEDULED,
        0,
    )
    assert not Occurrence.objects.filter(cancelled=True).exists()


def test_answered_and_place_freed_are_sent_inside_the_transaction(world):
    event = meeting(world, capacity=1)
    yes(event, world.satellite)
    yes(event, world.neighbour)

    def fail(**kwargs):
        raise Boom

    signals.place_freed.connect(fail, weak=False)
    try:
        with pytest.raises(Boom):
            say(event, world.satellite, Answer.NO)
    finally:
        signals.place_freed.disconnect(fail)
    assert state(event) == [("The Ashfords", 1, "coming"), ("The Brookes", 1, "waiting")]
    signals.answered.connect(fail, weak=False)
    try:
        with pytest.raises(Boom):
            say(event, world.satellite, Answer.NO)
    finally:
        signals.answered.disconnect(fail)
    assert state(event) == [("The Ashfords", 1, "coming"), ("The Brookes", 1, "waiting")]
