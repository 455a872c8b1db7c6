"""The dates of a series as every page, the API, reminders and feeds see them: read
at London wall-clock time, expanded only over the window asked for, with single
dates moved or cancelled, across both clock changes of 2027."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from calendar_events import selectors, services
from calendar_events.models import Event, Occurrence
from calendar_events.recurrence import (
    clean_rule,
    key_of,
    london_midnight,
    parse_key,
    placed,
    slot_of,
    slots,
)

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def _december_2026():
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=LONDON), tick=False):
        yield


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return services.london_start(day, hour, minute)


def series(world, *, rule, start, hours=2, **fields):
    fields.setdefault("kind", Event.Kind.MEETING)
    fields.setdefault("title", "Constellation meeting")
    return services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        start=start,
        end=start + timedelta(hours=hours),
        rule=rule,
        **fields,
    )


def dates(event, first: date, last: date, **kwargs):
    """The slots of ``event`` over London days ``first``..``last`` (inclusive)."""
    return selectors.expand(
        [event], london_midnight(first), london_midnight(last + timedelta(days=1)), **kwargs
    )


def local(slot):
    return slot.start.astimezone(LONDON)


# --- rules by weekday --------------------------------------------------------------


def test_the_monthly_meeting_falls_on_every_first_tuesday_of_2027_at_seven(world):
    meeting = series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 5), 19))
    found = dates(meeting, date(2027, 1, 1), date(2027, 12, 31))
    assert [local(s).date() for s in found] == [
        date(2027, 1, 5),
        date(2027, 2, 2),
        date(2027, 3, 2),
        date(2027, 4, 6),
        date(2027, 5, 4),
        date(2027, 6, 1),
        date(2027, 7, 6),
        date(2027, 8, 3),
        date(2027, 9, 7),
        date(2027, 10, 5),
        date(2027, 11, 2),
        date(2027, 12, 7),
    ]
    assert {local(s).strftime("%a %H:%M") for s in found} == {"Tue 19:00"}
    assert all(s.end - s.start == timedelta(hours=2) for s in found)


def test_a_weekly_series_meets_every_chosen_weekday(world):
    club = series(
        world,
        rule="FREQ=WEEKLY;BYDAY=WE,SA",
        start=at(date(2027, 1, 6), 16),
        kind=Event.Kind.ACTIVITY,
        title="Youth club",
    )
    found = dates(club, date(2027, 1, 1), date(2027, 1, 31))
    assert [local(s).day for s in found] == [6, 9, 13, 16, 20, 23, 27, 30]
    assert {local(s).strftime("%a %H:%M") for s in found} == {"Wed 16:00", "Sat 16:00"}


def test_a_fortnightly_series_skips_the_weeks_between(world):
    group = series(world, rule="FREQ=WEEKLY;INTERVAL=2", start=at(date(2027, 1, 4), 10))
    found = dates(group, date(2027, 1, 1), date(2027, 2, 28))
    assert [local(s).date() for s in found] == [
        date(2027, 1, 4),
        date(2027, 1, 18),
        date(2027, 2, 1),
        date(2027, 2, 15),
    ]


def test_the_last_friday_of_each_month(world):
    social = series(
        world,
        rule="FREQ=MONTHLY;BYDAY=-1FR",
        start=at(date(2027, 1, 29), 18),
        kind=Event.Kind.SOCIAL,
        title="Pizza night",
    )
    found = dates(social, date(2027, 1, 1), date(2027, 6, 30))
    assert [local(s).date() for s in found] == [
        date(2027, 1, 29),
        date(2027, 2, 26),
        date(2027, 3, 26),
        date(2027, 4, 30),
        date(2027, 5, 28),
        date(2027, 6, 25),
    ]


def test_a_count_ends_the_series(world):
    course = series(world, rule="FREQ=WEEKLY;COUNT=3", start=at(date(2027, 1, 4), 10))
    found = dates(course, date(2027, 1, 1), date(2027, 3, 31))
    assert [local(s).day for s in found] == [4, 11, 18]


def test_an_end_day_is_the_last_london_day_a_date_may_fall_on(world):
    course = series(
        world, rule="FREQ=WEEKLY", start=at(date(2027, 1, 4), 10), repeat_until=date(2027, 1, 18)
    )
    assert course.repeat_until == date(2027, 1, 18)
    found = dates(course, date(2027, 1, 1), date(2027, 3, 31))
    assert [local(s).day for s in found] == [4, 11, 18]


# --- a rule without an end ---------------------------------------------------------


def test_a_rule_without_an_end_is_expanded_only_over_the_window_asked(world):
    meeting = series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 5), 19))
    assert meeting.repeat_until is None
    far = selectors.window(world.hub_carer, date(2035, 5, 1), date(2035, 5, 31))
    assert [(s.event, local(s)) for s in far.slots] == [
        (meeting, datetime(2035, 5, 1, 19, tzinfo=LONDON))
    ]
    a_year = selectors.window(world.hub_carer, date(2040, 1, 1), date(2040, 12, 31))
    assert len(a_year.slots) == 12
    # Reading dates never writes them: rows exist only once something is said of a date.
    assert Occurrence.objects.count() == 0


def test_a_window_too_wide_is_refused_before_any_expansion(world):
    meeting = series(world, rule="FREQ=DAILY", start=at(date(2027, 1, 5), 19))
    with pytest.raises(ValueError, match="too wide"):
        dates(meeting, date(2027, 1, 1), date(2028, 6, 1))
    with pytest.raises(ValueError, match="too wide"):
        selectors.window(world.hub_carer, date(2027, 1, 1), date(2028, 6, 1))


# --- single dates moved and cancelled ----------------------------------------------


def test_a_date_moved_leaves_its_month_and_joins_the_next(world):
    meeting = series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 5), 19))
    february = at(date(2027, 2, 2), 19)
    services.move_occurrence(
        meeting,
        february,
        by=world.hub_carer,
        start=at(date(2027, 3, 9), 18),
        end=at(date(2027, 3, 9), 20),
    )
    in_february = dates(meeting, date(2027, 2, 1), date(2027, 2, 28))
    assert in_february == []
    in_march = dates(meeting, date(2027, 3, 1), date(2027, 3, 31))
    assert [(local(s), s.moved, s.key) for s in in_march] == [
        (datetime(2027, 3, 2, 19, tzinfo=LONDON), False, "20270302T190000Z"),
        (datetime(2027, 3, 9, 18, tzinfo=LONDON), True, "20270202T190000Z"),
    ]
    # The other dates are untouched.
    assert [local(s).day for s in dates(meeting, date(2027, 4, 1), date(2027, 4, 30))] == [6]


def test_a_date_moved_into_a_window_from_outside_it_is_found(world):
    meeting = series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 5), 19))
    services.move_occurrence(
        meeting,
        at(date(2027, 4, 6), 19),
        by=world.hub_carer,
        start=at(date(2027, 3, 30), 19),
        end=at(date(2027, 3, 30), 21),
    )
    week = dates(meeting, date(2027, 3, 29), date(2027, 4, 4))
    assert [(local(s), s.original_start) for s in week] == [
        (datetime(2027, 3, 30, 19, tzinfo=LONDON), at(date(2027, 4, 6), 19))
    ]
    assert dates(meeting, date(2027, 4, 5), date(2027, 4, 11)) == []


def test_a_cancelled_date_stays_marked_and_the_others_go_on(world):
    meeting = series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 5), 19))
    services.cancel_occurrence(meeting, at(date(2027, 3, 2), 19), by=world.hub_carer)
    spring = dates(meeting, date(2027, 3, 1), date(2027, 4, 30))
    assert [(local(s).day, s.cancelled) for s in spring] == [(2, True), (6, False)]
    shown = dates(meeting, date(2027, 3, 1), date(2027, 4, 30), cancelled=False)
    assert [local(s).month for s in shown] == [4]


def test_a_moved_date_can_be_moved_back_to_where_the_rule_put_it(world):
    meeting = series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 5), 19))
    february = at(date(2027, 2, 2), 19)
    services.move_occurrence(
        meeting,
        february,
        by=world.hub_carer,
        start=at(date(2027, 2, 9), 19),
        end=at(date(2027, 2, 9), 21),
    )
    row = services.move_occurrence(
        meeting, february, by=world.hub_carer, start=february, end=february + timedelta(hours=2)
    )
    assert not row.moved
    assert [local(s).day for s in dates(meeting, date(2027, 2, 1), date(2027, 2, 28))] == [2]


def test_a_date_the_rule_does_not_give_cannot_be_moved_or_cancelled(world):
    meeting = series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 5), 19))
    from constellation.services import ActionRefused

    with pytest.raises(ActionRefused, match="no date then"):
        services.cancel_occurrence(meeting, at(date(2027, 2, 3), 19), by=world.hub_carer)
    with pytest.raises(ActionRefused, match="no date then"):
        services.move_occurrence(
            meeting,
            at(date(2027, 2, 2), 18),
            by=world.hub_carer,
            start=at(date(2027, 2, 3), 19),
            end=at(date(2027, 2, 3), 20),
        )
    assert Occurrence.objects.count() == 0


# --- the clock changes -------------------------------------------------------------


def test_seven_pm_stays_seven_pm_across_both_clock_changes_of_2027(world):
    meeting = series(world, rule="FREQ=WEEKLY;BYDAY=SU", start=at(date(2027, 3, 21), 19))
    found = dates(meeting, date(2027, 3, 20), date(2027, 11, 7))
    assert local(found[0]).date() == date(2027, 3, 21)
    assert local(found[-1]).date() == date(2027, 11, 7)
    assert {local(s).strftime("%H:%M") for s in found} == {"19:00"}
    by_day = {local(s).date(): s.start.astimezone(UTC) for s in found}
    # Greenwich time before the clocks go forward on 28 March, and after they go back
    # on 31 October; British Summer Time (an hour ahead of UTC) in between.
    assert by_day[date(2027, 3, 21)].hour == 19
    assert by_day[date(2027, 3, 28)].hour == 18
    assert by_day[date(2027, 10, 24)].hour == 18
    assert by_day[date(2027, 10, 31)].hour == 19
    assert by_day[date(2027, 3, 28)] - by_day[date(2027, 3, 21)] == timedelta(days=7, hours=-1)
    assert by_day[date(2027, 10, 31)] - by_day[date(2027, 10, 24)] == timedelta(days=7, hours=1)
    assert all(s.end - s.start == timedelta(hours=2) for s in found)
    assert [key_of(s.original_start) for s in found[:2]] == [
        "20270321T190000Z",
        "20270328T180000Z",
    ]


def test_a_daily_date_in_the_skipped_hour_is_read_as_icalendar_reads_it(world):
    # 01:30 does not exist on 28 March 2027: RFC 5545 reads it with the offset before
    # the change, that is 02:30 British Summer Time.
    early = series(world, rule="FREQ=DAILY", start=at(date(2027, 3, 26), 1, 30), hours=1)
    found = dates(early, date(2027, 3, 26), date(2027, 3, 30))
    assert [local(s).strftime("%d %H:%M %Z") for s in found] == [
        "26 01:30 GMT",
        "27 01:30 GMT",
        "28 02:30 BST",
        "29 01:30 BST",
        "30 01:30 BST",
    ]
    spring = found[2]
    assert spring.start == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert spring.key == "20270328T013000Z"
    assert spring.end - spring.start == timedelta(hours=1)
    # Its key finds it again (a page's link, an answer).
    assert slot_of(early, parse_key(spring.key)).start == spring.start


def test_a_date_in_the_repeated_hour_is_the_first_of_the_two(world):
    early = series(world, rule="FREQ=DAILY", start=at(date(2027, 10, 30), 1, 30), hours=1)
    found = dates(early, date(2027, 10, 31), date(2027, 10, 31))
    assert [s.start for s in found] == [datetime(2027, 10, 31, 0, 30, tzinfo=UTC)]
    assert local(found[0]).strftime("%H:%M %Z") == "01:30 BST"


# --- all-day events ----------------------------------------------------------------


def test_an_all_day_event_ends_at_midnight_after_its_last_day(world):
    fair = services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind=Event.Kind.COMMUNITY,
        title="School fair week",
        all_day=True,
        start=london_midnight(date(2026, 12, 21)),
        end=london_midnight(date(2026, 12, 24)),
    )
    (slot,) = dates(fair, date(2026, 12, 1), date(2026, 12, 31))
    assert slot.all_day
    assert slot.days == [date(2026, 12, 21), date(2026, 12, 22), date(2026, 12, 23)]
    assert slot.last_day == date(2026, 12, 23)
    assert dates(fair, date(2026, 12, 24), date(2026, 12, 31)) == []


def test_an_all_day_series_stays_on_whole_london_days_across_the_clock_change(world):
    camp = services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind=Event.Kind.ACTIVITY,
        title="Holiday club",
        all_day=True,
        start=london_midnight(date(2027, 3, 27)),
        end=london_midnight(date(2027, 3, 29)),
        rule="FREQ=WEEKLY;COUNT=3",
    )
    found = dates(camp, date(2027, 3, 1), date(2027, 4, 30))
    assert [s.days for s in found] == [
        [date(2027, 3, 27), date(2027, 3, 28)],
        [date(2027, 4, 3), date(2027, 4, 4)],
        [date(2027, 4, 10), date(2027, 4, 11)],
    ]
    assert {local(s).strftime("%H:%M") for s in found} == {"00:00"}
    # The first spans the change: 47 hours of real time for two London days.
    assert found[0].end - found[0].start == timedelta(hours=47)
    assert found[1].end - found[1].start == timedelta(hours=48)


def test_an_all_day_event_must_start_and_end_at_midnight(world):
    with pytest.raises(ValidationError) as refused:
        services.create_event(
            constellation=world.constellation,
            by=world.hub_carer,
            kind=Event.Kind.COMMUNITY,
            title="Fair",
            all_day=True,
            start=at(date(2026, 12, 21), 9),
            end=london_midnight(date(2026, 12, 22)),
        )
    assert "start" in refused.value.message_dict


def test_a_timed_event_ending_at_midnight_is_not_on_the_next_day(world):
    party = services.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Party",
        start=at(date(2026, 12, 31), 20),
        end=london_midnight(date(2027, 1, 1)),
    )
    (slot,) = dates(party, date(2026, 12, 31), date(2027, 1, 1))
    assert slot.days == [date(2026, 12, 31)]


# --- rules refused -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("FREQ=HOURLY", "daily, weekly, monthly or yearly"),
        ("FREQ=MINUTELY;INTERVAL=5", "daily, weekly, monthly or yearly"),
        ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR is not a repeat"),
        ("FREQ=DAILY;BYMINUTE=30", "BYMINUTE is not a repeat"),
        ("FREQ=DAILY;COUNT=5;UNTIL=20270101", "not both"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be"),
        ("FREQ=DAILY;COUNT=5000", "COUNT must be"),
        ("FREQ=DAILY;COUNT=-1", "COUNT must be"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be"),
        ("FREQ=DAILY;INTERVAL=400", "INTERVAL must be"),
        ("FREQ=DAILY;COUNT=\u0665", "Give a repeat rule"),  # an Arabic-Indic five
        ("FREQ=WEEKLY;INTERVAL=\uff12", "Give a repeat rule"),  # a full-width two
        ("FREQ=DAILY\nX-INJECTED:yes", "Give a repeat rule"),
        ("FREQ=DAILY;COUNT=2\r\nBEGIN:VEVENT", "Give a repeat rule"),
        ("FREQ=DAILY;FREQ=WEEKLY", "given twice"),
        ("garbage", "Give a repeat rule"),
        ("", "Give a repeat rule"),
        ("   ", "Give a repeat rule"),
        (";;;", "Give a repeat rule"),
        ("FREQ=", "Give a repeat rule"),
        ("FREQ=MONTHLY;BYDAY=XX", "BYDAY takes days"),
        ("FREQ=MONTHLY;BYDAY=1TU,", "BYDAY takes days"),
        ("FREQ=MONTHLY;BYDAY=9TU", "counts from 1 to 5"),
        ("FREQ=MONTHLY;BYDAY=0TU", "counts from 1 to 5"),
        ("FREQ=WEEKLY;BYDAY=1TU", "monthly or yearly only"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY must be"),
        ("FREQ=MONTHLY;BYMONTHDAY=40", "BYMONTHDAY must be"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH must be"),
        ("FREQ=MONTHLY;BYSETPOS=0;BYDAY=TU", "BYSETPOS must be"),
        ("FREQ=WEEKLY;WKST=XX", "cannot be read"),
        ("FREQ=DAILY;UNTIL=20270230", "UNTIL must be a date"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL must be a date"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no date at all"),
        ("FREQ=DAILY;BYMONTH=4,6;BYMONTHDAY=31", "no date at all"),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2", "no date at all"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "no date at all"),
        ("FREQ=YEARLY;BYMONTH=2;BYDAY=MO;BYSETPOS=-6", "no date at all"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=3", "no date at all"),
        ("FREQ=DAILY;" + "INTERVAL=1;" * 30, "Give a repeat rule"),
    ],
)
def test_rules_the_calendar_cannot_keep_are_refused_on_the_rule(text, says):
    with pytest.raises(ValidationError) as refused:
        clean_rule(text)
    assert list(refused.value.message_dict) == ["rule"]
    assert says in " ".join(refused.value.message_dict["rule"])


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
        "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3",
    ],
)
def test_a_never_meeting_rule_is_refused_at_once(text):
    # dateutil would walk such a rule to the year 9999 (seconds) to find no date.
    import time

    began = time.monotonic()
    with pytest.raises(ValidationError):
        clean_rule(text)
    assert time.monotonic() - began < 0.5


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("RRULE:FREQ=MONTHLY;BYDAY=1TU", "FREQ=MONTHLY;BYDAY=1TU"),
        ("freq=monthly;byday=-1fr", "FREQ=MONTHLY;BYDAY=-1FR"),
        (" FREQ = WEEKLY ; INTERVAL = 2 ", "FREQ=WEEKLY;INTERVAL=2"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        ),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5", "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5"),
        ("FREQ=YEARLY;BYMONTH=1,7;BYSETPOS=2", "FREQ=YEARLY;BYMONTH=1,7;BYSETPOS=2"),
    ],
)
def test_rules_are_normalised(text, normal):
    assert clean_rule(text).text == normal


@pytest.mark.parametrize(
    ("until", "day"),
    [
        ("20270630", date(2027, 6, 30)),
        ("20270630T190000", date(2027, 6, 30)),  # a London wall-clock time
        ("20270630T225959Z", date(2027, 6, 30)),  # 23:59:59 in London, summer time
        ("20270630T230000Z", date(2027, 7, 1)),  # midnight in London: the next day
        ("20271231T235959Z", date(2027, 12, 31)),  # winter: UTC is London time
        ("20270101T000000Z", date(2027, 1, 1)),
    ],
)
def test_until_as_a_date_or_a_moment_is_read_as_the_london_day(until, day):
    checked = clean_rule(f"FREQ=WEEKLY;UNTIL={until}")
    assert checked.text == "FREQ=WEEKLY"
    assert checked.until == day


def test_an_until_moment_ends_the_series_on_its_london_day(world):
    course = series(
        world, rule="FREQ=DAILY;UNTIL=20270630T225959Z", start=at(date(2027, 6, 28), 19)
    )
    assert course.rule == "FREQ=DAILY"
    assert course.repeat_until == date(2027, 6, 30)
    found = dates(course, date(2027, 6, 1), date(2027, 7, 31))
    assert [local(s).day for s in found] == [28, 29, 30]


def test_a_rule_producing_no_date_is_refused_by_create_event(world):
    with pytest.raises(ValidationError) as refused:
        series(world, rule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", start=at(date(2027, 1, 5), 19))
    assert list(refused.value.message_dict) == ["rule"]
    assert refused.value.error_dict["rule"][0].code == "no_dates"
    assert Event.objects.count() == 0


def test_a_series_whose_end_comes_before_any_date_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        series(
            world,
            rule="FREQ=MONTHLY;BYDAY=1TU",
            start=at(date(2027, 1, 4), 19),
            repeat_until=date(2027, 1, 4),
        )
    assert "rule" in refused.value.message_dict


def test_a_start_that_is_not_a_date_of_its_rule_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        # 4 January 2027 is a Monday; the rule gives Tuesday 5 January first.
        series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 4), 19))
    assert refused.value.error_dict["rule"][0].code == "start_not_a_date"
    assert "Tuesday 5 January 2027" in refused.value.message_dict["rule"][0]


def test_an_end_of_repeats_before_the_first_date_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        series(
            world,
            rule="FREQ=WEEKLY",
            start=at(date(2027, 1, 5), 19),
            repeat_until=date(2027, 1, 1),
        )
    assert "repeat_until" in refused.value.message_dict


def test_an_end_of_repeats_on_a_single_event_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        series(world, rule="", start=at(date(2027, 1, 5), 19), repeat_until=date(2027, 2, 1))
    assert "repeat_until" in refused.value.message_dict


# --- keys --------------------------------------------------------------------------


def test_a_dates_key_is_its_original_start_in_utc():
    moment = placed(datetime(2027, 7, 6, 19))  # noqa: DTZ001 (London wall clock)
    assert key_of(moment) == "20270706T180000Z"
    assert parse_key("20270706T180000Z") == moment


@pytest.mark.parametrize(
    "key",
    [
        "",
        "20270706",
        "20270706T180000",
        "2027-07-06T18:00:00Z",
        "20271306T180000Z",
        "2027076T180000Z",
        "\uff12\uff10\uff12\uff17" + "0706T180000Z",
        "20270706T180000Z\n",
        None,
    ],
)
def test_keys_not_of_the_form_are_none(key):
    assert parse_key(key) is None


def test_slots_is_pure_and_keeps_rows_to_the_window(world, django_assert_num_queries):
    meeting = series(world, rule="FREQ=MONTHLY;BYDAY=1TU", start=at(date(2027, 1, 5), 19))
    with django_assert_num_queries(0):
        found = slots(
            [meeting],
            london_midnight(date(2027, 1, 1)),
            london_midnight(date(2027, 4, 1)),
        )
    assert len(found) == 3
