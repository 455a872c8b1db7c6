"""Reminders of regular contact, with the clock moved (Europe/London): a check-in due
when a household turns amber and again when it turns red, a follow-up due today and
overdue; each written once, from 08:00, caught up after a missed tick.

The first day is today (under ``make test-clock``, the sweep's day: a clock-change
day, 31 December), the world built at noon on it; every run pins its own moment."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from constellation import reminders, services
from constellation.models import CheckIn, FollowUp, Household
from notifications.models import Channel, Kind, Notification

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SECRETS = ("Quill", "Amara", "Penicillin", "Melatonin", "quiet room")


@pytest.fixture
def day0():
    """Today in London; the clock stands at noon on it while the world is built (list
    it before ``world``)."""
    today = timezone.localdate()
    with time_machine.travel(at(today, 0, 12), tick=False):
        yield today


def at(day0: date, days: int, hour: int, minute: int = 0) -> datetime:
    day = day0 + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def run(day0: date, days: int, hour: int = 9, minute: int = 0) -> int:
    with time_machine.travel(at(day0, days, hour, minute), tick=False):
        return reminders.send_due()


def record(day0: date, days: int, household: Household, by, *, made=True, follow_ups=()):
    """A check-in at 10:00 on that day, recorded at 10:05."""
    with time_machine.travel(at(day0, days, 10, 5), tick=False):
        return services.record_check_in(
            household,
            by=by,
            occurred_at=at(day0, days, 10),
            method=CheckIn.Method.PHONE,
            made=made,
            follow_ups=list(follow_ups),
        )


def about(model, pk: int):
    return Notification.objects.filter(
        kind=Kind.CONTACT_DUE,
        channel=Channel.IN_APP,
        target_type=ContentType.objects.get_for_model(model),
        target_id=pk,
    )


def check_ins_due(user, household) -> list[str]:
    """The check-in reminders about ``household`` in ``user``'s notification centre."""
    return list(
        about(Household, household.pk)
        .filter(recipient=user)
        .order_by("created_at", "pk")
        .values_list("subject", flat=True)
    )


def follow_up_reminders(user, follow_up) -> list[str]:
    return list(
        about(FollowUp, follow_up.pk)
        .filter(recipient=user)
        .order_by("created_at", "pk")
        .values_list("subject", flat=True)
    )


DUE = "A check-in with The Ashfords is due"
OVERDUE = "A check-in with The Ashfords is overdue"


# --- a check-in due ------------------------------------------------------------------------


def test_a_household_is_due_on_day_11_and_overdue_on_day_15_once_each(day0, world):
    w = world
    record(day0, 0, w.satellite, w.hub_carer)
    for days in range(1, 11):
        run(day0, days)
    assert check_ins_due(w.hub_carer, w.satellite) == []  # 10 days: still in touch
    run(day0, 11, 7, 59)
    assert check_ins_due(w.hub_carer, w.satellite) == []  # nobody is woken for a check-in
    run(day0, 11, 8, 0)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE]
    assert check_ins_due(w.second_hub_carer, w.satellite) == [DUE]
    for days, hour in ((11, 9), (11, 23), (12, 9), (13, 9), (14, 9), (14, 23)):
        run(day0, days, hour)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE]  # amber is told once
    run(day0, 15, 8, 15)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE, OVERDUE]
    for days in range(16, 22):
        run(day0, days)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE, OVERDUE]
    # The hub carers are reminded; the household itself and the liaison worker are not.
    for other in (w.liaison, w.satellite_carer, w.manager):
        assert check_ins_due(other, w.satellite) == []


def test_the_reminder_says_how_long_and_links_to_a_new_check_in(day0, world):
    w = world
    record(day0, 0, w.satellite, w.hub_carer)
    run(day0, 11)
    [row] = about(Household, w.satellite.pk).filter(recipient=w.hub_carer)
    assert row.body == (
        "The Ashfords: last contact 11 days ago. Record a check-in when you have been in touch."
    )
    assert row.link == reverse("constellation:check_in_create", args=[w.satellite.pk])
    # The Brookes were never contacted: counted from the day they joined.
    [never] = about(Household, w.neighbour.pk).filter(recipient=w.hub_carer)
    assert never.subject == "A check-in with The Brookes is due"
    assert "no contact recorded in 11 days" in never.body


def test_a_missed_tick_is_caught_up(day0, world):
    w = world
    record(day0, 0, w.satellite, w.hub_carer)
    run(day0, 10, 23, 45)
    # The worker was down from then until the afternoon of day 13.
    assert run(day0, 13, 15, 30) > 0
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE]
    # Down again over the day it turned red: the next tick writes it.
    run(day0, 16, 8, 0)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE, OVERDUE]


def test_a_contact_made_resets_the_clock_and_an_attempt_does_not(day0, world):
    w = world
    record(day0, 0, w.satellite, w.hub_carer)
    run(day0, 11)
    record(day0, 12, w.satellite, w.hub_carer, made=False)  # nobody answered
    run(day0, 15)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE, OVERDUE]
    record(day0, 16, w.satellite, w.liaison)  # contact made, by the liaison worker
    for days in range(16, 27):
        run(day0, days, 12)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE, OVERDUE]  # in touch again
    run(day0, 27, 12)  # 11 days after the new contact
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE, OVERDUE, DUE]
    run(day0, 27, 18)
    assert len(check_ins_due(w.hub_carer, w.satellite)) == 3


def test_thresholds_the_constellation_sets_are_the_ones_reminded(day0, world):
    w = world
    services.set_contact_thresholds(w.constellation, by=w.liaison, amber_days=5, red_days=7)
    record(day0, 0, w.satellite, w.hub_carer)
    run(day0, 5)
    assert check_ins_due(w.hub_carer, w.satellite) == []
    run(day0, 6)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE]
    run(day0, 8)
    assert check_ins_due(w.hub_carer, w.satellite) == [DUE, OVERDUE]


# --- follow-ups -----------------------------------------------------------------------------


def test_a_follow_up_is_reminded_when_due_and_when_overdue_to_its_person(day0, world):
    w = world
    due_on = day0 + timedelta(days=3)
    check_in = record(
        day0,
        0,
        w.satellite,
        w.hub_carer,
        follow_ups=[
            services.FollowUpInput("Send the respite dates", due_on, w.liaison),
            services.FollowUpInput("Ring the school", due_on, w.hub_carer),
        ],
    )
    mine, resolved = check_in.follow_ups.order_by("pk")
    with time_machine.travel(at(day0, 2, 16), tick=False):
        services.resolve_follow_up(resolved, by=w.hub_carer, resolution="The school rang back")
    run(day0, 2)
    run(day0, 3, 7, 45)
    assert follow_up_reminders(w.liaison, mine) == []
    run(day0, 3, 8, 0)
    run(day0, 3, 17, 0)
    assert follow_up_reminders(w.liaison, mine) == ["A follow-up is due today (The Ashfords)"]
    run(day0, 4)
    run(day0, 5)
    run(day0, 9)
    assert follow_up_reminders(w.liaison, mine) == [
        "A follow-up is due today (The Ashfords)",
        "A follow-up is overdue (The Ashfords)",
    ]
    [overdue] = about(FollowUp, mine.pk).filter(recipient=w.liaison, subject__contains="overdue")
    assert overdue.body.startswith(f"A follow-up with The Ashfords was due on {due_on.day} ")
    # Only the person it was given to; nothing for the one resolved.
    assert about(FollowUp, mine.pk).exclude(recipient=w.liaison).count() == 0
    assert not about(FollowUp, resolved.pk).exists()


def test_a_follow_up_missed_on_its_day_is_reminded_as_overdue(day0, world):
    w = world
    check_in = record(
        day0,
        0,
        w.satellite,
        w.hub_carer,
        follow_ups=[services.FollowUpInput("Visit", day0 + timedelta(days=1), w.hub_carer)],
    )
    run(day0, 4, 10)  # the worker was down on the day it was due
    assert follow_up_reminders(w.hub_carer, check_in.follow_ups.get()) == [
        "A follow-up is overdue (The Ashfords)"
    ]


def test_a_follow_up_resolved_before_its_day_is_never_reminded(day0, world):
    w = world
    check_in = record(
        day0,
        0,
        w.satellite,
        w.hub_carer,
        follow_ups=[services.FollowUpInput("Call back", day0 + timedelta(days=1), w.hub_carer)],
    )
    follow_up = check_in.follow_ups.get()
    with time_machine.travel(at(day0, 0, 15), tick=False):
        services.resolve_follow_up(follow_up, by=w.hub_carer, resolution="Called back")
    for days in range(1, 5):
        run(day0, days)
    assert not about(FollowUp, follow_up.pk).exists()


# --- what the words hold --------------------------------------------------------------------


def test_reminders_name_households_never_a_child(day0, world):
    w = world
    record(
        day0,
        0,
        w.satellite,
        w.hub_carer,
        follow_ups=[services.FollowUpInput("Talk about Mara", day0, w.hub_carer)],
    )
    for days in (0, 1, 11, 15):
        run(day0, days)
    sent = Notification.objects.filter(kind=Kind.CONTACT_DUE)
    assert sent.filter(channel=Channel.IN_APP).count() >= 4
    for row in sent:
        for secret in SECRETS:
            assert secret not in row.subject + row.body, (secret, row.subject)
        assert "Talk about" not in row.body  # the action stays in the app


def test_a_household_that_joins_again_is_reminded_again(day0, world):
    w = world
    run(day0, 11)
    brookes_due = "A check-in with The Brookes is due"
    assert check_ins_due(w.hub_carer, w.neighbour) == [brookes_due]  # never contacted
    with time_machine.travel(at(day0, 12, 10), tick=False):
        services.withdraw_membership(
            w.neighbour.memberships.get(), by=w.liaison, reason="A break after a move"
        )
    run(day0, 20)
    with time_machine.travel(at(day0, 20, 10), tick=False):
        membership = services.propose_membership(w.constellation, w.neighbour, by=w.liaison)
        services.activate_membership(membership, by=w.liaison)
    run(day0, 30)
    assert check_ins_due(w.hub_carer, w.neighbour) == [brookes_due]  # 10 days since joining
    run(day0, 31)
    assert check_ins_due(w.hub_carer, w.neighbour) == [brookes_due, brookes_due]
