"""The one parser of moments: London wall-clock times, offsets, and the clock changes."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from constellation import clock
from constellation.clock import parse_day, parse_local

LONDON = ZoneInfo("Europe/London")


def wall(*parts) -> datetime:
    """A London wall-clock time, as a page or a caller hands it over (no offset)."""
    return datetime(*parts, tzinfo=LONDON).replace(tzinfo=None)


def refused(value, field="start", **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_local(value, field=field, **kwargs)
    assert list(caught.value.message_dict) == [field]
    [message] = caught.value.message_dict[field]
    return message


def test_an_ordinary_london_time_is_the_instant_meant_in_utc():
    winter = parse_local("2027-01-15T17:00", field="start")
    summer = parse_local("2027-07-15 17:00", field="start")
    assert winter == datetime(2027, 1, 15, 17, tzinfo=UTC)
    assert summer == datetime(2027, 7, 15, 16, tzinfo=UTC)
    assert winter.tzinfo is UTC
    assert summer.tzinfo is UTC


def test_the_last_minute_before_and_the_first_after_the_clocks_go_forward():
    assert parse_local("2027-03-28T00:59", field="start") == datetime(
        2027, 3, 28, 0, 59, tzinfo=UTC
    )
    assert parse_local("2027-03-28T02:00", field="start") == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_refused_saying_when_they_go_forward():
    assert refused("2027-03-28T01:30") == (
        "01:30 on 28 March 2027 does not exist in London: the clocks go forward at 01:00. "
        "Choose another time."
    )
    assert "does not exist" in refused(wall(2027, 3, 28, 1, 0), field="until")


def test_a_time_that_happens_twice_is_refused_saying_when_the_clocks_go_back():
    message = refused("2027-10-31T01:30", field="end")
    assert message == (
        "01:30 on 31 October 2027 happens twice in London: the clocks go back an hour at "
        "02:00. Choose another time."
    )
    with_hint = refused("2027-10-31T01:30", offset_hint=True)
    assert "+01:00 for the first, +00:00 for the second" in with_hint


def test_an_explicit_offset_chooses_which_of_the_two_times_is_meant():
    first = parse_local("2027-10-31T01:30+01:00", field="start")
    second = parse_local("2027-10-31T01:30+00:00", field="start")
    assert second - first == timedelta(hours=1)
    assert first == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_z_and_other_offsets_are_taken_as_given():
    assert parse_local("2027-03-28T01:30Z", field="start") == datetime(
        2027, 3, 28, 1, 30, tzinfo=UTC
    )
    assert parse_local("2027-03-28T01:30:15-0500", field="start") == datetime(
        2027, 3, 28, 6, 30, 15, tzinfo=UTC
    )
    aware = datetime(2027, 10, 31, 1, 30, tzinfo=timezone(timedelta(hours=1)))
    assert parse_local(aware, field="start") == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "tomorrow",
        "2027-01-15",  # a date alone is not a time
        "2027-02-30T10:00",
        "2027-01-15T25:00",
        "2027-01-15T10:00+25:00",
        "2027-W03-1T10:00",
        "20270115T1000",
        "２０２７-01-15T10:00",
        "²027-01-15T10:00",
        "2027-01-15T10:00\x00",
        None,
        17,
        1.5,
        True,
        [],
        {},
    ],
)
def test_anything_else_is_refused_naming_the_field(value):
    assert refused(value, field="until") == "Give a date and time, for example 2026-03-14T17:00."


@pytest.mark.parametrize(
    "value",
    [
        "1999-12-31T23:00",
        "2101-01-01T00:00",
        "0001-01-01T00:00+14:00",
        "9999-12-31T23:59-14:00",
        wall(1, 1, 1),
        datetime(9999, 12, 31, tzinfo=UTC),
    ],
)
def test_years_nobody_means_are_refused(value):
    assert refused(value) == "Give a date between the years 2000 and 2100."


def test_a_day_is_ascii_digits_within_the_years():
    assert parse_day("2027-03-28", field="start") == date(2027, 3, 28)
    for value in ("2027-3-28", "２０２７-03-28", "2101-01-01", "2027-02-30", 20270328, None):
        with pytest.raises(ValidationError) as caught:
            parse_day(value, field="start")
        assert list(caught.value.message_dict) == ["start"]


# --- the windows ---------------------------------------------------------------------------


@time_machine.travel(datetime(2027, 3, 1, 12, tzinfo=LONDON), tick=False)
def test_a_crisis_is_now_and_a_planned_stay_not_in_the_past_nor_years_ahead():
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    clock.CRISIS.check(now - timedelta(hours=2), now + timedelta(hours=4))
    for start in (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)):
        with pytest.raises(ValidationError) as caught:
            clock.CRISIS.check(start, start + timedelta(hours=1))
        assert "Help in a crisis" in caught.value.message_dict["start"][0]
    with pytest.raises(ValidationError, match="A request cannot start"):
        clock.PLANNED.check(now - timedelta(days=1))
    with pytest.raises(ValidationError, match="at most 2 years from now"):
        clock.PLANNED.check(now + timedelta(days=800))


@time_machine.travel(datetime(2027, 3, 1, 12, tzinfo=LONDON), tick=False)
def test_a_period_away_may_be_recorded_within_a_year_and_last_a_year():
    clock.PERIOD.check(date(2026, 3, 5), date(2026, 3, 10))
    with pytest.raises(ValidationError) as early:
        clock.PERIOD.check(date(2000, 1, 1), date(2100, 1, 1))
    assert list(early.value.message_dict) == ["start"]
    with pytest.raises(ValidationError) as long:
        clock.PERIOD.check(date(2027, 3, 5), date(2028, 6, 1), end_field="last")
    assert long.value.message_dict == {"last": ["The period lasts at most a year."]}


# --- every time around both clock changes --------------------------------------------------

AROUND = st.sampled_from([wall(2027, 3, 28), wall(2027, 10, 31)]).flatmap(
    lambda day: st.integers(-120, 240).map(lambda minutes: day + timedelta(minutes=minutes))
)
OFFSETS = st.sampled_from(["", "Z", "+00:00", "+01:00", "-05:00", "+0100"])


@settings(max_examples=300, deadline=None)
@given(moment=AROUND, offset=OFFSETS, separator=st.sampled_from(["T", " "]))
def test_a_time_near_a_clock_change_is_refused_naming_the_field_or_is_exactly_the_instant_meant(
    moment, offset, separator
):
    text = moment.strftime(f"%Y-%m-%d{separator}%H:%M") + offset
    try:
        parsed = parse_local(text, field="start")
    except ValidationError as error:
        refusal = error
    else:
        refusal = None
    if refusal is not None:
        assert list(refusal.message_dict) == ["start"]
        assert not offset  # with an offset, every time is one instant
        # Refused only when London has no such time, or has it twice.
        instants = {moment.replace(tzinfo=LONDON, fold=fold).astimezone(UTC) for fold in (0, 1)}
        round_trip = moment.replace(tzinfo=LONDON).astimezone(UTC).astimezone(LONDON)
        assert len(instants) == 2 or round_trip.replace(tzinfo=None) != moment
        return
    assert parsed.tzinfo is UTC
    if offset:
        assert parsed == datetime.fromisoformat(text.replace(" ", "T"))
    else:
        # The one instant that reads ``moment`` on a London clock.
        assert parsed.astimezone(LONDON).replace(tzinfo=None) == moment
        assert {moment.replace(tzinfo=LONDON, fold=fold).astimezone(UTC) for fold in (0, 1)} == {
            parsed
        }
