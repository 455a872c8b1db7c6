"""Check-ins, follow-ups and coverage, at the service level: a contact is never in
the future, an attempt does not reset the clock, a follow-up must be something to do
by a real date by someone who may act on it, a high concern opens a concern; and a
household's days since the last contact made are London days, amber when more than
the constellation's amber days have passed and red when more than its red days."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from constellation import selectors, services
from constellation.models import Activity, CheckIn, Concern, FollowUp
from constellation.services import ActionRefused, FollowUpInput
from notifications.models import Kind, Notification
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# The world is built at 09:00 on Wednesday 1 July 2026 (summer time): every household
# joins that day.
START = datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def clock():
    """The clock, pinned at START; move it with ``clock.move_to(...)``."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def check_in(world, household=None, *, when=None, made=True, level="none", **kwargs):
    return services.record_check_in(
        household or world.satellite,
        by=kwargs.pop("by", world.hub_carer),
        occurred_at=when or timezone.now(),
        method=kwargs.pop("method", CheckIn.Method.PHONE),
        made=made,
        concern_level=level,
        **kwargs,
    )


def row_of(household, constellation=None):
    rows = selectors.coverage([constellation or household.memberships.get().constellation])
    return next(r for r in rows if r.household == household)


# --- recording a check-in --------------------------------------------------------------------


def test_a_check_in_is_recorded_with_the_activity_record(clock, world):
    done = check_in(
        world,
        when=START - timedelta(hours=2),
        participants="Both carers and Mara",
        note="  Settled after the half term  ",
        level="low",
    )
    assert done.constellation == world.constellation
    assert done.note == "Settled after the half term"
    assert done.recorded_by == world.hub_carer
    activity = Activity.objects.get(verb="check_in.recorded")
    assert activity.household == world.satellite
    assert activity.summary == "Phone call with The Ashfords: low concern"


def test_a_check_in_cannot_be_in_the_future(clock, world):
    with pytest.raises(ActionRefused, match="cannot be in the future"):
        check_in(world, when=START + timedelta(minutes=1))
    check_in(world, when=START)  # now itself is fine
    assert CheckIn.objects.count() == 1


def test_a_check_in_needs_an_aware_moment_a_known_method_and_level(clock, world):
    with pytest.raises(ActionRefused, match="time zone"):
        check_in(world, when=datetime(2026, 7, 1, 8, 0))  # noqa: DTZ001
    with pytest.raises(ActionRefused, match="how the contact happened"):
        check_in(world, method="pigeon")
    with pytest.raises(ActionRefused, match="level of concern"):
        check_in(world, level="extreme")
    assert not CheckIn.objects.exists()


def test_the_hub_household_is_not_checked_in_with(clock, world):
    with pytest.raises(ActionRefused, match="not a satellite household"):
        check_in(world, world.hub)


def test_an_attempted_contact_does_not_reset_the_clock(clock, world):
    check_in(world, when=START)
    clock.move_to(at(date(2026, 7, 13)))
    check_in(world, made=False)  # nobody answered today
    row = row_of(world.satellite)
    assert (row.last_contact, row.days, row.level) == (date(2026, 7, 1), 12, selectors.AMBER)
    assert Activity.objects.filter(verb="check_in.attempted").count() == 1

    check_in(world)  # got through an hour later
    row = row_of(world.satellite)
    assert (row.last_contact, row.days, row.level) == (date(2026, 7, 13), 0, selectors.OK)


# --- follow-ups --------------------------------------------------------------------------------


def follow_up(world, action="Ring the school about the trip", days=3, to=None):
    return FollowUpInput(
        action=action,
        due_on=timezone.localdate() + timedelta(days=days),
        assigned_to=to or world.hub_carer,
    )


def test_follow_ups_are_written_with_the_check_in(clock, world):
    done = check_in(
        world, follow_ups=[follow_up(world), follow_up(world, "Visit", to=world.liaison)]
    )
    assert [(f.action, f.assigned_to) for f in done.follow_ups.order_by("pk")] == [
        ("Ring the school about the trip", world.hub_carer),
        ("Visit", world.liaison),
    ]
    row = row_of(world.satellite)
    assert (row.open_follow_ups, row.overdue_follow_ups) == (2, 0)


@pytest.mark.parametrize(
    ("action", "days", "who", "message"),
    [
        ("   ", 3, "hub_carer", "Say what the follow-up is"),
        ("x" * 301, 3, "hub_carer", "at most 300 characters"),
        ("Ring back", -1, "hub_carer", "cannot be due before today"),
        ("Ring back", 367, "hub_carer", "within a year"),
        ("Ring back", 3, "satellite_carer", "hub carers or liaison workers only"),
        ("Ring back", 3, "manager", "hub carers or liaison workers only"),
        ("Ring back", 3, "other_liaison", "hub carers or liaison workers only"),
    ],
)
def test_a_follow_up_is_refused_and_nothing_is_written(clock, world, action, days, who, message):
    bad = follow_up(world, action, days, to=getattr(world, who))
    with pytest.raises(ActionRefused, match=message):
        check_in(world, follow_ups=[follow_up(world), bad])
    assert not CheckIn.objects.exists()
    assert not FollowUp.objects.exists()


def test_a_follow_up_due_today_is_open_and_tomorrow_it_is_overdue(clock, world):
    check_in(world, follow_ups=[follow_up(world, days=0)])
    assert row_of(world.satellite).overdue_follow_ups == 0
    clock.move_to(at(date(2026, 7, 2)))
    row = row_of(world.satellite)
    assert (row.open_follow_ups, row.overdue_follow_ups) == (1, 1)


def test_a_follow_up_may_be_due_a_year_on(clock, world):
    check_in(world, follow_ups=[follow_up(world, "Annual review visit", 366)])
    assert FollowUp.objects.get().action == "Annual review visit"


def test_a_contact_from_before_the_household_joined_still_counts(clock, world):
    """A household proposed and joined after the hub had already been in touch: the
    contact made before the join date is its last contact, not "never"."""
    from constellation.models import ConstellationMembership

    check_in(world)
    ConstellationMembership.objects.filter(household=world.satellite).update(
        joined_on=timezone.localdate() + timedelta(days=1)
    )
    assert row_of(world.satellite).last_contact is not None


def test_resolving_a_follow_up(clock, world):
    done = check_in(world, follow_ups=[follow_up(world)])
    item = done.follow_ups.get()
    clock.move_to(START + timedelta(hours=3))
    services.resolve_follow_up(item, by=world.liaison, resolution="  School agreed  ")
    item.refresh_from_db()
    assert item.resolution == "School agreed"
    assert item.resolved_by == world.liaison
    assert item.resolved_at == START + timedelta(hours=3)
    assert row_of(world.satellite).open_follow_ups == 0
    assert Activity.objects.filter(verb="follow_up.resolved", household=world.satellite).exists()

    with pytest.raises(ActionRefused, match="already resolved"):
        services.resolve_follow_up(item, by=world.hub_carer, resolution="Again")


@pytest.mark.parametrize(("resolution", "message"), [("  ", "Say how"), ("x" * 501, "at most 500")])
def test_a_resolution_must_say_how_it_ended(clock, world, resolution, message):
    item = check_in(world, follow_ups=[follow_up(world)]).follow_ups.get()
    with pytest.raises(ActionRefused, match=message):
        services.resolve_follow_up(item, by=world.hub_carer, resolution=resolution)
    item.refresh_from_db()
    assert item.resolved_at is None


# --- a high concern ----------------------------------------------------------------------------


def test_a_check_in_at_high_concern_opens_a_concern_and_alerts_the_liaison_worker(clock, world):
    done = check_in(world, level="high", note="Carer in tears, says she cannot go on")
    concern = Concern.objects.get()
    assert (concern.household, concern.source, concern.status) == (
        world.satellite,
        Concern.Source.HIGH_CHECK_IN,
        Concern.Status.OPEN,
    )
    assert (concern.trigger_id, concern.trigger_type.model_class()) == (done.pk, CheckIn)
    alert = Notification.objects.get(recipient=world.liaison, kind=Kind.CONCERN, channel="app")
    assert alert.due_at == START
    assert f"{world.satellite_carer.first_name}'s household" in alert.body
    assert "tears" not in alert.body  # the note stays in the app

    # While it is open, another high check-in adds no second concern.
    check_in(world, level="high")
    assert Concern.objects.count() == 1


@pytest.mark.parametrize("level", ["none", "low", "medium"])
def test_below_high_no_concern_opens(clock, world, level):
    check_in(world, level=level)
    assert not Concern.objects.exists()


# --- coverage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "level", "label"),
    [
        (9, selectors.OK, "In touch"),
        (10, selectors.OK, "In touch"),
        (11, selectors.AMBER, "Due a check-in"),
        (14, selectors.AMBER, "Due a check-in"),
        (15, selectors.RED, "Overdue"),
    ],
)
def test_coverage_thresholds_by_default(clock, world, days, level, label):
    """Amber when MORE than 10 days have passed since the last contact made, red when
    more than 14."""
    check_in(world, when=START)
    clock.move_to(START + timedelta(days=days))
    row = row_of(world.satellite)
    assert (row.days, row.level, row.level_label) == (days, level, label)


def test_a_constellation_sets_its_own_thresholds(clock, world):
    services.set_contact_thresholds(world.constellation, by=world.liaison, amber_days=3, red_days=5)
    check_in(world, when=START)
    f.satellite_in(world.other_constellation, name="The Dales")  # joins today
    levels = {}
    for days in (3, 4, 5, 6):
        clock.move_to(START + timedelta(days=days))
        levels[days] = (
            row_of(world.satellite).level,
            row_of(
                world.other_constellation.memberships.get(household__name="The Dales").household
            ).level,
        )
    assert levels == {
        3: (selectors.OK, selectors.OK),
        4: (selectors.AMBER, selectors.OK),
        5: (selectors.AMBER, selectors.OK),
        6: (selectors.RED, selectors.OK),  # Hillside keeps 10 and 14
    }
    assert Activity.objects.filter(verb="constellation.contact_thresholds").count() == 1


@pytest.mark.parametrize(("amber", "red"), [(0, 5), (5, 5), (6, 5), (10, 91)])
def test_thresholds_out_of_order_are_refused(clock, world, amber, red):
    with pytest.raises(ActionRefused, match="less than red"):
        services.set_contact_thresholds(
            world.constellation, by=world.liaison, amber_days=amber, red_days=red
        )
    world.constellation.refresh_from_db()
    assert (world.constellation.contact_amber_days, world.constellation.contact_red_days) == (
        10,
        14,
    )


def test_a_household_never_contacted_counts_from_the_day_it_joined(clock, world):
    late = f.satellite_in(world.constellation, active=False, name="The Carters")
    clock.move_to(at(date(2026, 7, 6)))
    services.activate_membership(late.memberships.get(), by=world.liaison)  # joins 6 July
    clock.move_to(at(date(2026, 7, 16)))
    rows = {r.household.name: r for r in selectors.coverage([world.constellation])}
    assert (rows["The Brookes"].last_contact, rows["The Brookes"].days) == (None, 15)
    assert rows["The Brookes"].level == selectors.RED
    assert (rows["The Carters"].days, rows["The Carters"].level) == (10, selectors.OK)
    # Reddest first, then the longest without contact, then by name.
    assert list(rows) == ["The Ashfords", "The Brookes", "The Carters"]


def test_days_are_london_days_around_midnight(clock, world):
    """A contact at 00:30 on 2 July in London is 23:30 on 1 July in UTC: on 12 July it
    is 10 days old (in touch), not 11; one at 23:30 on 1 July is 11 days old."""
    clock.move_to(at(date(2026, 7, 2), 1))
    check_in(world, world.satellite, when=at(date(2026, 7, 2), 0, 30))
    check_in(world, world.neighbour, when=at(date(2026, 7, 1), 23, 30))
    clock.move_to(at(date(2026, 7, 12), 0, 5))
    assert (row_of(world.satellite).days, row_of(world.satellite).level) == (10, selectors.OK)
    assert (row_of(world.neighbour).days, row_of(world.neighbour).level) == (11, selectors.AMBER)
