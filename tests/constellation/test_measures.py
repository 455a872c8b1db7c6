"""The dashboards' measures (``constellation.measures``, issue 12), each on a small
data set built by hand, with the numbers a fostering manager would read on the
dashboard written in the test.

The data is made as the product makes it (the sleepovers, calendar and constellation
services, with the clock moved to the moment each thing happens) except where a
service cannot say it (the nights of the property test). The clock is pinned
(time-machine, not ticking) and every moment is a London wall-clock time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendar_events import services as calendar
from calendar_events.models import Answer, Event, KeptConnected
from constellation import measures, selectors
from constellation import services as people
from constellation.models import CheckIn, MoveKind
from constellation.periods import MAX_MONTHS, Period, PeriodError
from delegated_authority import services as authority
from delegated_authority.models import Decision, Holder
from notifications.models import CrisisAlert, EscalationStep
from notifications.services import escalation
from sleepovers import services as sleepovers
from sleepovers.models import CrisisReason, Kind, Night, Request, Status
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# The world is built on this day: its satellites join and its children are placed.
START = datetime(2025, 11, 3, 9, 0, tzinfo=LONDON)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A London wall-clock moment (none of the tests' moments falls in a clock change)."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def clock():
    """The clock stands still at ``START``; a test moves it to each moment it acts at.
    List it before ``world``, so the world is built on ``START``."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign(child, *, by, effective=date(2025, 11, 1), review=date(2027, 12, 31)):
    """A delegated authority agreement that lets the hub carers accept stays, short
    notice stays and transport for ``child``."""
    codes = ("overnight_hub_planned", "stay_hub_short_notice", "transport_hub_carer")
    return authority.create_agreement(
        child,
        by=by,
        effective_from=effective,
        review_on=review,
        signed_off_role="liaison_worker",
        clauses=[authority.ClauseInput(Decision.objects.get(code=c), Holder.BOTH) for c in codes],
    )


def ask(carer, kind, children, start, end=None, **kw):
    if kind == Kind.CRISIS:
        kw.setdefault("crisis_reason", CrisisReason.OVERNIGHT)
        end = end or sleepovers.crisis_end(start, kw["crisis_reason"])
    return sleepovers.create_request(
        by=carer, kind=kind, children=list(children), start=start, end=end, **kw
    )


def planned(carer, children, first_night: date, nights: int = 1):
    """A planned stay from 17:00 on ``first_night`` to 10:00 the morning after the last."""
    start = at(first_night.year, first_night.month, first_night.day, 17)
    last = first_night + timedelta(days=nights)
    return ask(carer, Kind.PLANNED, children, start, at(last.year, last.month, last.day, 10))


def row(constellation, period: Period) -> dict:
    return measures.figures([constellation], period).rows[constellation.pk]


def month(year: int, number: int) -> Period:
    return Period.month(year, number)


def kinds(series: dict) -> dict:
    """A month of ``monthly()``, without the kinds of which there were none."""
    return {k: v for k, v in series.items() if v}


# --------------------------------------------------------------------------- support care


@pytest.fixture
def january(clock, world):
    """Riverside's January 2026: every way a request can end, made on 5 January.

    - R1 planned, Amara, nights of 30 and 31 January and 1 February: accepted;
    - R2 planned, Bobby, 14 January: accepted, then cancelled by the family;
    - R3 planned, Amara, 20 January: declined;
    - R4 planned, Bobby, 21 January: never answered, expired;
    - R5 short break, Amara, 10 January 10:00-15:00: accepted, arrived, collected;
    - R6 transport, Bobby, 12 January 15:00-16:00: accepted;
    - R7 planned, Bobby, 10 February: accepted (asked in January, a stay in February);
    - R8 crisis, Amara, 8 January at 19:00 overnight: accepted after 5 minutes;
    - R9 planned, Bobby, 10 March: still waiting for an answer;
    - R10 a temporary placement of Bobby at the hub, arranged by the liaison worker on
      22 January for the nights of 24 and 25 January: accepted."""
    w = world
    for child in (w.child, w.neighbour_child):
        sign(child, by=w.liaison)
    clock.move_to(at(2026, 1, 5, 10))
    amara, bobby = w.satellite_carer, w.neighbour_carer
    r = {
        1: planned(amara, [w.child], date(2026, 1, 30), nights=3),
        2: planned(bobby, [w.neighbour_child], date(2026, 1, 14)),
        3: planned(amara, [w.child], date(2026, 1, 20)),
        4: planned(bobby, [w.neighbour_child], date(2026, 1, 21)),
        5: ask(amara, Kind.SHORT_BREAK, [w.child], at(2026, 1, 10, 10), at(2026, 1, 10, 15)),
        6: ask(
            bobby, Kind.TRANSPORT, [w.neighbour_child], at(2026, 1, 12, 15), at(2026, 1, 12, 16)
        ),
        7: planned(bobby, [w.neighbour_child], date(2026, 2, 10)),
        9: planned(bobby, [w.neighbour_child], date(2026, 3, 10)),
    }
    clock.move_to(at(2026, 1, 5, 11))
    for n in (1, 2, 5, 6, 7):
        sleepovers.accept(r[n], by=w.hub_carer)
    sleepovers.decline(r[3], by=w.hub_carer, reason="We are away that weekend.")
    clock.move_to(at(2026, 1, 6, 9))
    sleepovers.cancel(r[2], by=bobby, reason="Grandma is visiting instead.")
    clock.move_to(at(2026, 1, 8, 19))
    r[8] = ask(amara, Kind.CRISIS, [w.child], at(2026, 1, 8, 19))
    clock.move_to(at(2026, 1, 8, 19, 5))
    sleepovers.accept(r[8], by=w.hub_carer)
    clock.move_to(at(2026, 1, 10, 10))
    sleepovers.arrived(r[5], by=w.hub_carer)
    clock.move_to(at(2026, 1, 10, 15))
    sleepovers.collected(r[5], by=w.hub_carer)
    clock.move_to(at(2026, 1, 22, 9))
    assert sleepovers.expire_overdue() == 1
    clock.move_to(at(2026, 1, 22, 10))
    r[10] = sleepovers.arrange_temporary_placement(
        w.neighbour_child, by=w.liaison, start=at(2026, 1, 24, 12), expected_end=at(2026, 1, 26, 10)
    )
    sleepovers.accept(r[10], by=w.hub_carer)
    statuses = {n: Request.objects.get(pk=q.pk).status for n, q in r.items()}
    assert statuses == {
        1: Status.ACCEPTED,
        2: Status.CANCELLED,
        3: Status.DECLINED,
        4: Status.EXPIRED,
        5: Status.COLLECTED,
        6: Status.ACCEPTED,
        7: Status.ACCEPTED,
        8: Status.ACCEPTED,
        9: Status.REQUESTED,
        10: Status.ACCEPTED,
    }
    clock.move_to(at(2026, 4, 1, 9))
    return w


def test_requests_made_in_january_by_kind_and_how_they_ended(january):
    w = january
    jan = month(2026, 1)
    counts = measures.request_counts([w.constellation.pk], jan)[w.constellation.pk]
    assert counts == {
        "requests": 10,
        "requests_planned": 6,
        "requests_short_break": 1,
        "requests_transport": 1,
        "requests_crisis": 1,
        "requests_temporary": 1,
        "declined": 1,
        "expired": 1,
        "cancelled": 1,
        # R1, R2 (accepted, then cancelled: it was accepted), R5, R6, R7, R8, R10.
        "accepted_ever": 7,
    }
    figures = row(w.constellation, jan)
    assert figures["requests"] == 10
    assert (figures["declined"], figures["expired"], figures["cancelled"]) == (1, 1, 1)
    # 7 accepted ÷ (7 accepted + 1 declined + 1 expired); R9, unanswered, is in neither.
    assert figures["acceptance_rate"] == pytest.approx(7 / 9)
    # Nothing was asked in February: no rate rather than 0%.
    february = row(w.constellation, month(2026, 2))
    assert february["requests"] == 0
    assert february["acceptance_rate"] is None

    # Hillside asked for nothing; the total over both is Riverside's.
    both = measures.figures([w.constellation, w.other_constellation], jan)
    other = both.rows[w.other_constellation.pk]
    assert (other["requests"], other["stays"], other["nights"]) == (0, 0, 0)
    assert other["acceptance_rate"] is None
    assert both.total["requests"] == 10
    assert both.total["stays"] == 5
    assert both.total["nights"] == 5
    assert both.total["acceptance_rate"] == pytest.approx(7 / 9)
    assert both.total["months"] == 1


def test_stays_are_accepted_requests_counted_in_the_month_they_start(january):
    w = january
    jan, feb, mar = month(2026, 1), month(2026, 2), month(2026, 3)
    assert measures.stay_counts([w.constellation.pk], jan)[w.constellation.pk] == {
        # R1 (starts 30 January), R5 (collected), R6, R8, R10; not R2 (cancelled),
        # R3 (declined), R4 (expired), R9 (unanswered); R7 starts in February.
        "stays": 5,
        "stays_planned": 1,
        "stays_short_break": 1,
        "stays_transport": 1,
        "stays_crisis": 1,
        "stays_temporary": 1,
    }
    february = row(w.constellation, feb)
    assert (february["stays"], february["stays_planned"]) == (1, 1)
    assert row(w.constellation, mar)["stays"] == 0
    quarter = row(w.constellation, Period.of_months(date(2026, 1, 1), date(2026, 3, 1)))
    assert (quarter["requests"], quarter["stays"]) == (10, 6)


def test_a_stay_across_the_end_of_january_counts_each_night_in_its_own_month(january):
    w = january
    jan, feb = month(2026, 1), month(2026, 2)
    # January: R1's nights of 30 and 31 January, R8's of 8 January, R10's of 24 and
    # 25 January. R2's night of 14 January was given back when it was cancelled;
    # short breaks and transport hold no night.
    assert measures.night_counts([w.constellation.pk], jan) == {w.constellation.pk: 5}
    # February: R1's night of 1 February and R7's of 10 February.
    assert measures.night_counts([w.constellation.pk], feb) == {w.constellation.pk: 2}
    assert row(w.constellation, jan)["nights"] == 5
    assert row(w.constellation, feb)["nights"] == 2
    both = Period.of_months(date(2026, 1, 1), date(2026, 2, 1))
    assert row(w.constellation, both)["nights"] == 7

    series = measures.monthly(
        [w.constellation], Period.of_months(date(2026, 1, 1), date(2026, 3, 1))
    )
    assert {m: kinds(v) for m, v in series["nights"].items()} == {
        date(2026, 1, 1): {Kind.PLANNED: 2, Kind.CRISIS: 1, Kind.TEMPORARY: 2},
        date(2026, 2, 1): {Kind.PLANNED: 2},
        date(2026, 3, 1): {},
    }
    assert {m: kinds(v) for m, v in series["requests"].items()} == {
        date(2026, 1, 1): {
            Kind.PLANNED: 6,
            Kind.SHORT_BREAK: 1,
            Kind.TRANSPORT: 1,
            Kind.CRISIS: 1,
            Kind.TEMPORARY: 1,
        },
        date(2026, 2, 1): {},
        date(2026, 3, 1): {},
    }
    assert series["crisis"][date(2026, 1, 1)] == {"median": 5.0, "p90": 5.0}
    assert series["crisis"][date(2026, 2, 1)] == {}


# --------------------------------------------------------------- the last evening of a month


def test_a_crisis_late_on_the_last_day_of_a_month_belongs_to_that_london_month(clock, world):
    """Crisis stays asked at 23:30 on the last day of a month and at 00:30 on the first
    of the next, London time, on both sides of the clock changes. At 00:30 on
    1 April (BST) it is still 31 March in UTC; an overnight crisis asked at 00:30
    holds the night before (the night of 31 March), so the stay is April's and its
    night March's."""
    w = world
    for child in (w.child, w.neighbour_child):
        sign(child, by=w.liaison)
    amara, bobby = w.satellite_carer, w.neighbour_carer

    def crisis(carer, child, when):
        clock.move_to(when)
        request = ask(carer, Kind.CRISIS, [child], when)
        clock.move_to(when + timedelta(minutes=10))
        sleepovers.accept(request, by=w.hub_carer)
        return request

    crisis(amara, w.child, at(2026, 3, 31, 23, 30))  # BST since 29 March
    crisis(bobby, w.neighbour_child, at(2026, 4, 1, 0, 30))
    crisis(amara, w.child, at(2026, 10, 1, 0, 30))  # BST: 30 September 23:30 in UTC
    crisis(amara, w.child, at(2026, 10, 31, 23, 30))  # GMT since 25 October
    crisis(bobby, w.neighbour_child, at(2026, 11, 1, 0, 30))
    nights = sorted(Night.objects.values_list("date", flat=True))
    assert nights == [
        date(2026, 3, 31),
        date(2026, 3, 31),
        date(2026, 9, 30),
        date(2026, 10, 31),
        date(2026, 10, 31),
    ]
    clock.move_to(at(2026, 12, 1, 9))

    expected = {
        # month: (requests made, stays started, nights)
        (2026, 3): (1, 1, 2),
        (2026, 4): (1, 1, 0),
        (2026, 9): (0, 0, 1),
        (2026, 10): (2, 2, 2),
        (2026, 11): (1, 1, 0),
    }
    for (year, number), (made, stays, nights_held) in expected.items():
        figures = row(w.constellation, month(year, number))
        assert (figures["requests"], figures["stays"], figures["nights"]) == (
            made,
            stays,
            nights_held,
        ), f"{year}-{number:02}"
        assert figures["stays_crisis"] == stays

    series = measures.monthly(
        [w.constellation], Period.of_months(date(2026, 3, 1), date(2026, 11, 1))
    )
    made = {m: sum(v.values()) for m, v in series["requests"].items()}
    held = {m: sum(v.values()) for m, v in series["nights"].items()}
    assert made == {
        date(2026, 3, 1): 1,
        date(2026, 4, 1): 1,
        date(2026, 5, 1): 0,
        date(2026, 6, 1): 0,
        date(2026, 7, 1): 0,
        date(2026, 8, 1): 0,
        date(2026, 9, 1): 0,
        date(2026, 10, 1): 2,
        date(2026, 11, 1): 1,
    }
    assert held == {
        date(2026, 3, 1): 2,
        date(2026, 4, 1): 0,
        date(2026, 5, 1): 0,
        date(2026, 6, 1): 0,
        date(2026, 7, 1): 0,
        date(2026, 8, 1): 0,
        date(2026, 9, 1): 1,
        date(2026, 10, 1): 2,
        date(2026, 11, 1): 0,
    }
    # Each crisis answered in 10 minutes, in the month it was asked.
    assert series["crisis"][date(2026, 3, 1)] == {"median": 10.0, "p90": 10.0}
    assert series["crisis"][date(2026, 4, 1)] == {"median": 10.0, "p90": 10.0}
    assert series["crisis"][date(2026, 9, 1)] == {}


# --------------------------------------------------------------------------------- crisis


@pytest.fixture
def february_crises(clock, world):
    """Five crisis requests in Riverside in February 2026, one in Hillside:

    - K1 answered (accepted) after 2 minutes;
    - K2 "I've seen it" after 4 minutes, accepted after 20: answered in 4;
    - K3 "I've seen it" after 10 minutes, then cancelled by the family: answered in 10;
    - K4 nobody answered in 10 minutes: the liaison worker was alerted (step 1
      ran); declined after 30 minutes: escalated, and answered in 30;
    - K5 never answered: escalated to the liaison worker and the duty contact, expired;
    - Hillside's one crisis accepted after 60 minutes."""
    w = world
    for child in (w.child, w.neighbour_child, w.other_constellation_child):
        sign(child, by=w.liaison)
    day = CrisisReason.DROP_OFF  # a few hours in the day: no night

    def asked(carer, child, when):
        clock.move_to(when)
        return ask(carer, Kind.CRISIS, [child], when, crisis_reason=day)

    k1 = asked(w.satellite_carer, w.child, at(2026, 2, 2, 10))
    clock.move_to(at(2026, 2, 2, 10, 2))
    sleepovers.accept(k1, by=w.hub_carer)

    k2 = asked(w.neighbour_carer, w.neighbour_child, at(2026, 2, 3, 10))
    clock.move_to(at(2026, 2, 3, 10, 4))
    escalation.seen(k2, by=w.hub_carer)
    clock.move_to(at(2026, 2, 3, 10, 20))
    sleepovers.accept(k2, by=w.second_hub_carer)

    k3 = asked(w.satellite_carer, w.child, at(2026, 2, 4, 10))
    clock.move_to(at(2026, 2, 4, 10, 10))
    escalation.seen(k3, by=w.hub_carer)
    clock.move_to(at(2026, 2, 4, 10, 30))
    sleepovers.cancel(k3, by=w.satellite_carer, reason="My partner came home.")

    k4 = asked(w.neighbour_carer, w.neighbour_child, at(2026, 2, 5, 10))
    clock.move_to(at(2026, 2, 5, 10, 10))
    assert escalation.run_due_steps() == 1
    clock.move_to(at(2026, 2, 5, 10, 30))
    sleepovers.decline(k4, by=w.hub_carer, reason="We are at hospital ourselves.")

    k5 = asked(w.satellite_carer, w.child, at(2026, 2, 6, 10))
    clock.move_to(at(2026, 2, 6, 10, 10))
    escalation.run_due_steps()
    clock.move_to(at(2026, 2, 6, 10, 30))
    escalation.run_due_steps()
    clock.move_to(at(2026, 2, 6, 15))
    assert sleepovers.expire_overdue() == 1

    hillside = asked(w.other_satellite_carer, w.other_constellation_child, at(2026, 2, 9, 10))
    clock.move_to(at(2026, 2, 9, 11))
    sleepovers.accept(hillside, by=w.other_hub_carer)

    steps = dict(EscalationStep.objects.filter(alert__request=k4).values_list("step", "status"))
    assert steps[EscalationStep.Step.LIAISON] == EscalationStep.Status.DONE
    steps = dict(EscalationStep.objects.filter(alert__request=k5).values_list("step", "status"))
    assert steps[EscalationStep.Step.LIAISON] == EscalationStep.Status.DONE
    assert steps[EscalationStep.Step.DUTY] == EscalationStep.Status.DONE
    assert CrisisAlert.objects.get(request=k3).seen_at == at(2026, 2, 4, 10, 10)
    assert not k3.timeline.filter(to_status__in=measures.ANSWERS).exists()
    clock.move_to(at(2026, 3, 2, 9))
    return w


def test_crisis_response_minutes_median_and_90th_percentile(february_crises):
    w = february_crises
    feb = month(2026, 2)
    crisis = measures.crisis_figures([w.constellation.pk, w.other_constellation.pk], feb)
    # Riverside: answered in 2, 4, 10 and 30 minutes. The median is halfway between 4
    # and 10; the 90th percentile lies 0.9 x 3 = 2.7 ranks along: 10 + 0.7 x (30 - 10).
    assert crisis[w.constellation.pk] == {
        "crisis_requests": 5,
        "crisis_answered": 4,
        "crisis_escalated": 2,
        "crisis_median_minutes": pytest.approx(7.0),
        "crisis_p90_minutes": pytest.approx(24.0),
    }
    assert crisis[w.other_constellation.pk] == {
        "crisis_requests": 1,
        "crisis_answered": 1,
        "crisis_escalated": 0,
        "crisis_median_minutes": pytest.approx(60.0),
        "crisis_p90_minutes": pytest.approx(60.0),
    }
    # Both together: 2, 4, 10, 30, 60. The 90th percentile: 30 + 0.6 x (60 - 30).
    assert crisis[None] == {
        "crisis_requests": 6,
        "crisis_answered": 5,
        "crisis_escalated": 2,
        "crisis_median_minutes": pytest.approx(10.0),
        "crisis_p90_minutes": pytest.approx(48.0),
    }
    figures = measures.figures([w.constellation, w.other_constellation], feb)
    assert figures.rows[w.constellation.pk]["crisis_median_minutes"] == pytest.approx(7.0)
    assert figures.rows[w.constellation.pk]["crisis_p90_minutes"] == pytest.approx(24.0)
    assert figures.total["crisis_median_minutes"] == pytest.approx(10.0)
    assert figures.total["crisis_p90_minutes"] == pytest.approx(48.0)
    assert figures.total["crisis_requests"] == 6
    # K5 expired; K3 was cancelled after it was seen; K4 declined.
    riverside = figures.rows[w.constellation.pk]
    assert (riverside["declined"], riverside["expired"], riverside["cancelled"]) == (1, 1, 1)

    series = measures.monthly(
        [w.constellation], Period.of_months(date(2026, 1, 1), date(2026, 2, 1))
    )
    assert series["crisis"][date(2026, 1, 1)] == {}
    got = series["crisis"][date(2026, 2, 1)]
    assert got["median"] == pytest.approx(7.0)
    assert got["p90"] == pytest.approx(24.0)


def test_no_crisis_in_a_month_reads_as_not_recorded(february_crises):
    w = february_crises
    figures = row(w.constellation, month(2026, 1))
    assert (figures["crisis_requests"], figures["crisis_answered"]) == (0, 0)
    assert figures["crisis_median_minutes"] is None
    assert figures["crisis_p90_minutes"] is None


# ----------------------------------------------------------------------- fairness of nights


def test_nights_per_household_per_child_and_the_spread(clock, world):
    """March 2026: the Ashfords' two children stay two nights, the Brookes' child one;
    the Carters (a third satellite) have none. Households at the end: the hub and three
    satellites; children: Amara, Ivy, Bobby, the hub's Cara and the Carters' Cass."""
    w = world
    carters = f.satellite_in(w.constellation, name="The Carters")
    f.carer_of(carters)
    f.child_in(carters, first_name="Cass")
    ivy = f.child_in(w.satellite, first_name="Ivy")
    for child in (w.child, ivy, w.neighbour_child):
        sign(child, by=w.liaison)
    clock.move_to(at(2026, 3, 2, 9))
    ashfords = planned(w.satellite_carer, [w.child, ivy], date(2026, 3, 10), nights=2)
    brookes = planned(w.neighbour_carer, [w.neighbour_child], date(2026, 3, 20))
    sleepovers.accept(ashfords, by=w.hub_carer)
    sleepovers.accept(brookes, by=w.hub_carer)
    clock.move_to(at(2026, 4, 1, 9))

    mar = month(2026, 3)
    figures = row(w.constellation, mar)
    assert figures["nights"] == 5
    assert figures["households_at_end"] == 4
    assert figures["nights_per_household"] == pytest.approx(5 / 4)
    assert figures["children"] == 5
    assert figures["nights_per_child"] == pytest.approx(5 / 5)
    # The Ashfords had 4, the Carters none (counted as 0).
    assert figures["nights_spread"] == 4
    assert measures.nights_per_household([w.constellation.pk], mar) == {
        w.constellation.pk: {w.satellite.pk: 4, w.neighbour.pk: 1}
    }
    by_household = {
        r["household_id"]: (r["total"], r["planned"], r["crisis"], r["other"])
        for r in measures.household_nights([w.constellation.pk], mar)
    }
    assert by_household == {
        w.satellite.pk: (4, 4, 0, 0),
        w.neighbour.pk: (1, 1, 0, 0),
        carters.pk: (0, 0, 0, 0),
    }
    # February: nobody had a night; every household 0, a spread of 0.
    february = row(w.constellation, month(2026, 2))
    assert (february["nights"], february["nights_spread"]) == (0, 0)
    assert february["nights_per_household"] == 0


# ------------------------------------------------------------------------------ community


@pytest.fixture
def may_events(clock, world):
    """Riverside's calendar in May and June 2026.

    - E1 an all-day social get-together on Saturday 9 May, the whole constellation and
      Sam (kept connected): the Ashfords (2 adults, Amara), the hub (1 adult, Cara)
      and Sam (2 people) came;
    - E2 the constellation meeting every Tuesday at 19:00 from 5 May to 2 June:
      5 May recorded (the Ashfords 1 adult; the Brookes 2 adults and Bobby), 12 May
      cancelled, 19 May recorded (the Ashfords 1, the Brookes 1, the Carters 2, the hub
      1), 26 May answered but attendance never recorded, 2 June recorded (the hub 1);
    - E3 a training session on 20 May for the Ashfords and the Brookes only: the
      Brookes came (1 adult);
    - E4 a children's activity on 23 May whose attendance was never recorded;
    - E5 a social on 30 May, cancelled.
    The Carters joined on 15 May."""
    w = world
    clock.move_to(at(2026, 5, 1, 9))
    sam = calendar.keep_connected(
        constellation=w.constellation,
        by=w.liaison,
        name="Sam",
        email="sam@test.example",
        relationship=KeptConnected.Relationship.YOUNG_PERSON,
        consent="Sam agreed by email on 1 May 2026",
        ends_on=date(2027, 5, 1),
    )
    hub = w.hub_carer
    e1 = calendar.create_event(
        constellation=w.constellation,
        by=hub,
        kind=Event.Kind.SOCIAL,
        title="Summer picnic",
        start=calendar.london_start(date(2026, 5, 9), 0),
        end=calendar.london_start(date(2026, 5, 10), 0),
        all_day=True,
        invitation=calendar.Invitation(everyone=True, contacts=(sam,)),
    )
    tuesday = calendar.london_start(date(2026, 5, 5), 19)
    e2 = calendar.create_event(
        constellation=w.constellation,
        by=hub,
        kind=Event.Kind.MEETING,
        title="Constellation meeting",
        start=tuesday,
        end=tuesday + timedelta(hours=2),
        rule="FREQ=WEEKLY;BYDAY=TU",
        repeat_until=date(2026, 6, 2),
    )
    training = calendar.london_start(date(2026, 5, 20), 10)
    e3 = calendar.create_event(
        constellation=w.constellation,
        by=hub,
        kind=Event.Kind.TRAINING,
        title="Therapeutic parenting",
        start=training,
        end=training + timedelta(hours=2),
        invitation=calendar.Invitation(everyone=False, households=(w.satellite, w.neighbour)),
    )
    activity = calendar.london_start(date(2026, 5, 23), 14)
    calendar.create_event(
        constellation=w.constellation,
        by=hub,
        kind=Event.Kind.ACTIVITY,
        title="Climbing wall",
        start=activity,
        end=activity + timedelta(hours=2),
    )
    party = calendar.london_start(date(2026, 5, 30), 15)
    e5 = calendar.create_event(
        constellation=w.constellation,
        by=hub,
        kind=Event.Kind.SOCIAL,
        title="Garden party",
        start=party,
        end=party + timedelta(hours=3),
    )
    Came = calendar.Came

    clock.move_to(at(2026, 5, 5, 21, 30))
    calendar.record_attendance(
        e2,
        tuesday,
        by=hub,
        came=[
            Came(household=w.satellite, adults=1),
            Came(household=w.neighbour, adults=2, children=(w.neighbour_child,)),
        ],
    )
    clock.move_to(at(2026, 5, 10, 9))
    calendar.record_attendance(
        e1,
        e1.start,
        by=hub,
        came=[
            Came(household=w.satellite, adults=2, children=(w.child,)),
            Came(household=w.hub, adults=1, children=(w.hub_child,)),
            Came(contact=sam, adults=2),
        ],
    )
    clock.move_to(at(2026, 5, 11, 9))
    calendar.cancel_occurrence(e2, tuesday + timedelta(days=7), by=hub, reason="Half term")
    clock.move_to(at(2026, 5, 15, 9))
    carters = f.satellite_in(w.constellation, name="The Carters")
    f.carer_of(carters)
    clock.move_to(at(2026, 5, 19, 21, 30))
    calendar.record_attendance(
        e2,
        tuesday + timedelta(days=14),
        by=hub,
        came=[
            Came(household=w.satellite, adults=1),
            Came(household=w.neighbour, adults=1),
            Came(household=carters, adults=2),
            Came(household=w.hub, adults=1),
        ],
    )
    clock.move_to(at(2026, 5, 20, 12, 30))
    calendar.record_attendance(e3, training, by=hub, came=[Came(household=w.neighbour, adults=1)])
    calendar.answer(
        e2,
        tuesday + timedelta(days=21),
        by=w.satellite_carer,
        answer=Answer.YES,
        adults=1,
        household=w.satellite,
    )
    clock.move_to(at(2026, 5, 25, 9))
    calendar.cancel_event(e5, by=hub, reason="Rain")
    clock.move_to(at(2026, 6, 2, 21, 30))
    calendar.record_attendance(
        e2, tuesday + timedelta(days=28), by=hub, came=[Came(household=w.hub, adults=1)]
    )
    clock.move_to(at(2026, 7, 1, 9))
    return w


def test_event_dates_held_and_who_came_in_may(may_events):
    w = may_events
    may = month(2026, 5)
    got = measures.event_figures([w.constellation.pk], may)[w.constellation.pk]
    assert got == {
        # E1; E2 on 5 and 19 May (12 May cancelled, 26 May not recorded); E3.
        "events_held": 4,
        "events_meeting": 2,
        "events_training": 1,
        "events_social": 1,
        "events_activity": 0,
        "events_community": 0,
        "events_contact": 0,
        # E1 the hub and 2 satellites; 5 May the hub and 2 satellites; 19 May the hub
        # and 3 (the Carters joined on 15 May); E3 the two households chosen.
        "invited": 3 + 3 + 4 + 2,
        # E1 2, 5 May 2, 19 May 4, E3 1.
        "attending_households": 9,
        # All of them were invited.
        "attending_invited": 9,
        # E1 2 + 1 + Sam's 2; 5 May 1 + 2; 19 May 1 + 1 + 2 + 1; E3 1.
        "attending_adults": 14,
        # E1 Amara and Cara; 5 May Bobby.
        "attending_children": 3,
        "meeting_months": 1,
    }
    figures = row(w.constellation, may)
    assert figures["attendance_share"] == pytest.approx(9 / 12)
    assert figures["meeting_months"] == 1
    assert figures["months"] == 1


def test_a_household_not_chosen_who_came_is_attending_but_not_in_the_share(clock, world):
    """The hub carer came to a training for two chosen satellites and recorded herself:
    three households attended, but the share of those invited is 1 of 2, never above
    100%."""
    w = world
    clock.move_to(at(2026, 5, 1, 9))
    training = calendar.london_start(date(2026, 5, 20), 10)
    event = calendar.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.TRAINING,
        title="Therapeutic parenting",
        start=training,
        end=training + timedelta(hours=2),
        invitation=calendar.Invitation(everyone=False, households=(w.satellite, w.neighbour)),
    )
    clock.move_to(at(2026, 5, 20, 12, 30))
    calendar.record_attendance(
        event,
        training,
        by=w.hub_carer,
        came=[
            calendar.Came(household=w.neighbour, adults=1),
            calendar.Came(household=w.hub, adults=1),
        ],
    )
    clock.move_to(at(2026, 6, 1, 9))
    figures = row(w.constellation, month(2026, 5))
    assert figures["attending_households"] == 2
    assert figures["invited"] == 2
    assert figures["attendance_share"] == pytest.approx(1 / 2)


def test_months_with_a_meeting_and_attendance_over_may_and_june(may_events):
    w = may_events
    period = Period.of_months(date(2026, 5, 1), date(2026, 6, 1))
    figures = row(w.constellation, period)
    assert figures["events_held"] == 5
    assert figures["events_meeting"] == 3
    assert figures["meeting_months"] == 2
    assert figures["attending_households"] == 10
    # 2 June invited the hub and the three satellites.
    assert figures["attendance_share"] == pytest.approx(10 / 16)
    june = row(w.constellation, month(2026, 6))
    assert (june["events_held"], june["meeting_months"], june["attending_adults"]) == (1, 1, 1)
    assert june["attendance_share"] == pytest.approx(1 / 4)
    april = row(w.constellation, month(2026, 4))
    assert (april["events_held"], april["meeting_months"]) == (0, 0)
    assert april["attendance_share"] is None

    series = measures.monthly([w.constellation], period)["events"]
    assert {m: kinds(v) for m, v in series.items()} == {
        date(2026, 5, 1): {Event.Kind.SOCIAL: 2, Event.Kind.MEETING: 6, Event.Kind.TRAINING: 1},
        date(2026, 6, 1): {Event.Kind.MEETING: 1},
    }


# ------------------------------------------------------------------------------- siblings


@pytest.fixture
def siblings(clock, world):
    """Brothers and sisters of Riverside, all placed since the start:

    - Amara (the Ashfords) and Ada (the Brookes): both at the social on 6 June;
    - Ben (the Ashfords) and Bea (the Brookes): both at the hub the night of 10 June;
    - Eve (the Ashfords, at the hub on 11 June and at the social) and Ed (the Brookes,
      at the hub on 12 June): never together;
    - Cal (the Brookes) and Dana (Hillside): never together;
    - Dot and Dee, both with the Ashfords: not placed apart."""
    w = world
    child = f.child_in
    w.ada = child(w.neighbour, first_name="Ada", siblings=[w.child])
    w.ben = child(w.satellite, first_name="Ben")
    w.bea = child(w.neighbour, first_name="Bea", siblings=[w.ben])
    w.eve = child(w.satellite, first_name="Eve")
    w.ed = child(w.neighbour, first_name="Ed", siblings=[w.eve])
    w.cal = child(w.neighbour, first_name="Cal", siblings=[w.other_constellation_child])
    w.dot = child(w.satellite, first_name="Dot")
    w.dee = child(w.satellite, first_name="Dee", siblings=[w.dot])
    for c in (w.ben, w.bea, w.eve, w.ed):
        sign(c, by=w.liaison)
    clock.move_to(at(2026, 6, 1, 9))
    stays = [
        planned(w.satellite_carer, [w.ben], date(2026, 6, 10)),
        planned(w.neighbour_carer, [w.bea], date(2026, 6, 10)),
        planned(w.satellite_carer, [w.eve], date(2026, 6, 11)),
        planned(w.neighbour_carer, [w.ed], date(2026, 6, 12)),
    ]
    for stay in stays:
        sleepovers.accept(stay, by=w.hub_carer)
    social = calendar.london_start(date(2026, 6, 6), 14)
    event = calendar.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Barbecue",
        start=social,
        end=social + timedelta(hours=3),
    )
    clock.move_to(at(2026, 6, 6, 18))
    calendar.record_attendance(
        event,
        social,
        by=w.hub_carer,
        came=[
            calendar.Came(household=w.satellite, adults=1, children=(w.child, w.eve)),
            calendar.Came(household=w.neighbour, adults=1, children=(w.ada,)),
        ],
    )
    clock.move_to(at(2026, 7, 1, 9))
    return w


def test_siblings_placed_apart_and_who_met_in_june(siblings):
    w = siblings
    june = month(2026, 6)
    people = measures._People([w.constellation.pk, w.other_constellation.pk])
    got = measures.sibling_figures([w.constellation.pk, w.other_constellation.pk], june, people)
    # Apart: Amara, Ada, Ben, Bea, Eve, Ed, Cal (not Dot and Dee, together).
    # Met: Amara and Ada (the social), Ben and Bea (the hub, 10 June).
    assert got[w.constellation.pk] == {"siblings_apart": 7, "siblings_met": 4}
    # Dana, in Hillside, has Cal in Riverside: apart, never met.
    assert got[w.other_constellation.pk] == {"siblings_apart": 1, "siblings_met": 0}
    figures = measures.figures([w.constellation, w.other_constellation], june)
    assert figures.total["siblings_apart"] == 8
    assert figures.total["siblings_met"] == 4


def test_siblings_who_met_in_june_had_not_met_in_may(siblings):
    w = siblings
    figures = row(w.constellation, month(2026, 5))
    assert (figures["siblings_apart"], figures["siblings_met"]) == (7, 0)


# -------------------------------------------------------------------------------- contact


@pytest.fixture
def contact(clock, world):
    """Riverside's check-ins and concerns around January 2026. Four satellites: the
    Ashfords, the Brookes, the Carters and the Dunns (all joined 3 November 2025).

    Check-ins made: the Ashfords on 2 December and on 17 January (14 days before
    31 January); the Brookes on 16 January (15 days before), and an attempt on
    30 January that reached nobody; the Carters at 23:30 on 31 January; the Dunns
    never.

    Concerns: C1 about the Ashfords 1 December, closed 2 January; C2 about the Brookes
    15 December, closed 5 February; C3 about the Carters 10 January, closed
    20 January; C4 about the Dunns 25 January, still open."""
    w = world
    w.carters = f.satellite_in(w.constellation, name="The Carters")
    f.carer_of(w.carters)
    w.dunns = f.satellite_in(w.constellation, name="The Dunns")
    f.carer_of(w.dunns)

    def check_in(household, when, made=True):
        clock.move_to(when)
        people.record_check_in(
            household, by=w.hub_carer, occurred_at=when, method=CheckIn.Method.PHONE, made=made
        )

    def concern(household, when):
        clock.move_to(when)
        return people.open_concern_by_hand(household, by=w.hub_carer, reasons=["cannot_cope"])

    def close(item, when):
        clock.move_to(when)
        people.close_concern(item, by=w.liaison, note="Extra respite agreed.")

    c1 = concern(w.satellite, at(2025, 12, 1))
    check_in(w.satellite, at(2025, 12, 2, 10))
    c2 = concern(w.neighbour, at(2025, 12, 15))
    close(c1, at(2026, 1, 2))
    c3 = concern(w.carters, at(2026, 1, 10))
    check_in(w.neighbour, at(2026, 1, 16, 10))
    check_in(w.satellite, at(2026, 1, 17, 10))
    close(c3, at(2026, 1, 20))
    c4 = concern(w.dunns, at(2026, 1, 25))
    check_in(w.neighbour, at(2026, 1, 30, 10), made=False)
    check_in(w.carters, at(2026, 1, 31, 23, 30))
    close(c2, at(2026, 2, 5))
    w.open_concern = c4
    clock.move_to(at(2026, 3, 1, 9))
    return w


def test_check_in_coverage_and_check_ins_in_january(contact):
    w = contact
    jan = month(2026, 1)
    people_now = measures._People([w.constellation.pk])
    got = measures.contact_figures([w.constellation.pk], jan, people_now)[w.constellation.pk]
    assert got == {
        # The attempt of 30 January is not a check-in made.
        "check_ins": 3,
        # On 31 January: the Ashfords (14 days) and the Carters (that day) are within
        # the 14 days; the Brookes (15 days) and the Dunns (never) are not.
        "coverage_households": 4,
        "coverage_covered": 2,
        "concerns_opened": 2,
        "concerns_closed": 2,
        "concerns_open": 2,
    }
    figures = row(w.constellation, jan)
    assert figures["coverage"] == pytest.approx(0.5)
    assert figures["check_ins_per_household"] == pytest.approx(3 / 4)


def test_contact_in_december_and_february(contact):
    w = contact
    december = row(w.constellation, month(2025, 12))
    assert december["check_ins"] == 1
    assert (december["concerns_opened"], december["concerns_closed"]) == (2, 0)
    assert december["concerns_open"] == 2
    # 31 December: the Ashfords were rung on 2 December, 29 days before.
    assert december["coverage"] == pytest.approx(0)
    february = row(w.constellation, month(2026, 2))
    assert february["check_ins"] == 0
    assert february["check_ins_per_household"] == 0
    assert (february["concerns_opened"], february["concerns_closed"]) == (0, 1)
    assert february["concerns_open"] == 1
    # 28 February: the Carters' last check-in was 28 days before.
    assert february["coverage"] == pytest.approx(0)

    series = measures.monthly(
        [w.constellation], Period.of_months(date(2025, 12, 1), date(2026, 1, 1))
    )
    assert series["contact"] == {
        date(2025, 12, 1): {"check_ins": 1, "households": 1, "satellites": 4, "share": 0.25},
        date(2026, 1, 1): {"check_ins": 3, "households": 3, "satellites": 4, "share": 0.75},
    }


def test_coverage_follows_the_constellations_red_threshold(contact):
    w = contact
    people.set_contact_thresholds(w.constellation, by=w.liaison, amber_days=10, red_days=15)
    # The Brookes' 15 days are now within the threshold.
    assert row(w.constellation, month(2026, 1))["coverage"] == pytest.approx(3 / 4)


def test_the_month_under_way_is_read_on_today_not_on_its_last_day(clock, world):
    """The dashboard opens on the twelve months to this month (``Period.default``), so
    on 10 January 2026 its period ends on 31 January, three weeks ahead. What is read
    "at the end of the period" must be read on today for the month under way: the
    contact page shows both satellites in touch today (the Ashfords rung 8 days ago,
    the Brookes yesterday), and Amara's agreement, due for review on 20 January, is
    due, not overdue."""
    w = world
    sign(w.child, by=w.liaison, effective=date(2025, 11, 1), review=date(2026, 1, 20))
    for household, when in ((w.satellite, at(2026, 1, 2, 10)), (w.neighbour, at(2026, 1, 9, 10))):
        clock.move_to(when)
        people.record_check_in(
            household, by=w.hub_carer, occurred_at=when, method=CheckIn.Method.VISIT
        )
    clock.move_to(at(2026, 1, 10, 9))
    today = date(2026, 1, 10)
    on_the_contact_page = selectors.coverage([w.constellation], today=today)
    assert [r.level for r in on_the_contact_page] == [selectors.OK, selectors.OK]

    figures = row(w.constellation, Period.default(today))
    assert figures["coverage"] == pytest.approx(1.0)
    assert (figures["agreements_due"], figures["agreements_overdue"]) == (1, 0)


# ------------------------------------------------------------------------------ stability


@pytest.fixture
def year_2026(clock, world):
    """Riverside through 2026 (the hub, the Ashfords and the Brookes since 3 November
    2025; Amara, Cara at the hub, Bobby and Zoe placed since then).

    - 1 February the Dunns join; 1 March they leave (28 days);
    - 1 March Xander placed with the Ashfords; 1 June his placement disrupts (he
      moves to Elm House, outside the constellation);
    - 1 April the Carters join, with Yara;
    - 1 July the Brookes leave (Bobby stays with them);
    - 1 August Bobby's carer is de-registered (the Brookes had left);
    - 1 September Zoe is adopted;
    - 15 September the Ashfords' second carer is de-registered;
    - 1 October Yara moves from the Carters to the Ashfords (planned);
    - 1 November Bobby's placement with the Brookes disrupts (outside the constellation
      by then);
    - 1 December the Carters' second carer leaves (not de-registered)."""
    w = world
    zoe = f.child_in(w.satellite, first_name="Zoe")
    ashford_second = people.add_carer(
        w.satellite,
        by=None,
        email="ashford2@test.example",
        first_name="Ash",
        last_name="Ford",
        role="second",
        send_invitation=False,
    )
    elm = f.HouseholdFactory(service=w.service, name="Elm House")
    clock.move_to(at(2026, 2, 1))
    dunns = f.satellite_in(w.constellation, name="The Dunns")
    clock.move_to(at(2026, 3, 1))
    people.end_membership(dunns.memberships.get(), by=w.liaison, reason="Moved away")
    xander = f.child_in(w.satellite, first_name="Xander")
    clock.move_to(at(2026, 4, 1))
    carters = f.satellite_in(w.constellation, name="The Carters")
    f.carer_of(carters)
    carters_second = people.add_carer(
        carters,
        by=None,
        email="carter2@test.example",
        first_name="Cy",
        last_name="Carter",
        role="second",
        send_invitation=False,
    )
    yara = f.child_in(carters, first_name="Yara")
    clock.move_to(at(2026, 6, 1))
    people.move_child(
        xander, to=elm, by=w.liaison, reason="Placement broke down", kind=MoveKind.DISRUPTION
    )
    clock.move_to(at(2026, 7, 1))
    people.end_membership(w.neighbour.memberships.get(), by=w.liaison, reason="Retiring")
    clock.move_to(at(2026, 8, 1))
    people.end_carer(w.neighbour.carers.get(), by=w.liaison, reason="Retired", deregistered=True)
    clock.move_to(at(2026, 9, 1))
    people.move_child(zoe, to=None, by=w.liaison, reason="Adopted", kind=MoveKind.ADOPTION)
    clock.move_to(at(2026, 9, 15))
    people.end_carer(ashford_second, by=w.liaison, reason="Approval ended", deregistered=True)
    clock.move_to(at(2026, 10, 1))
    people.move_child(
        yara, to=w.satellite, by=w.liaison, reason="Long-term match", kind=MoveKind.PLANNED
    )
    clock.move_to(at(2026, 11, 1))
    people.move_child(
        w.neighbour_child, to=elm, by=w.liaison, reason="Broke down", kind=MoveKind.DISRUPTION
    )
    clock.move_to(at(2026, 12, 1))
    people.end_carer(carters_second, by=w.liaison, reason="Moved out")
    clock.move_to(at(2027, 1, 4))
    return w


def test_stability_over_2026(year_2026):
    w = year_2026
    year = Period.of_months(date(2026, 1, 1), date(2026, 12, 1))
    people_then = measures._People([w.constellation.pk])
    got = measures.stability_figures([w.constellation.pk], year, people_then)[w.constellation.pk]
    # Days placed in the constellation in 2026: Amara 365, Cara 365, Bobby 181 (to
    # 30 June), Xander 92 (March to May), Yara 183 with the Carters (April to
    # September) and 92 with the Ashfords, Zoe 243 (to 31 August).
    child_days = 365 + 365 + 181 + 92 + 183 + 92 + 243
    # Days in the constellation: the hub 365, the Ashfords 365, the Brookes 181, the
    # Carters 275 (from 1 April), the Dunns 28 (February).
    household_days = 365 + 365 + 181 + 275 + 28
    assert got == {
        # Amara, Cara and Yara on 31 December.
        "children": 3,
        "child_years": pytest.approx(child_days / 365.25),
        # Xander's disruption, Yara's planned move, Zoe's adoption; not Bobby's
        # disruption in November (the Brookes had left).
        "placement_moves": 3,
        "unplanned_endings": 1,
        "households_joined": 2,
        "households_left": 2,
        "household_years": pytest.approx(household_days / 365.25),
        # The Ashfords' second carer; not Bobby's carer (after the Brookes left), nor
        # the Carters' second carer (left, not de-registered).
        "carers_deregistered": 1,
        # The Ashfords and the Brookes on 31 December 2025; the Ashfords still in.
        "retention_base": 2,
        "retained": 1,
        "active_satellites": 2,
        "households_at_end": 3,
    }
    figures = row(w.constellation, year)
    assert figures["unplanned_rate"] == pytest.approx(1 / (child_days / 365.25))
    assert figures["deregistration_rate"] == pytest.approx(1 / (household_days / 365.25))
    assert figures["retention_12m"] == pytest.approx(0.5)
    assert figures["satellites_in_model"] == "No"


def test_stability_in_the_first_half_of_2026(year_2026):
    w = year_2026
    half = Period.of_months(date(2026, 1, 1), date(2026, 6, 1))
    figures = row(w.constellation, half)
    # On 30 June: Amara, Cara, Bobby, Zoe and Yara (with the Carters).
    assert figures["children"] == 5
    # Amara, Cara, Bobby and Zoe 181 days each, Xander 92, Yara 91 (April to June).
    assert figures["child_years"] == pytest.approx((4 * 181 + 92 + 91) / 365.25)
    assert (figures["placement_moves"], figures["unplanned_endings"]) == (1, 1)
    # The Brookes left on 1 July: the second half's.
    assert (figures["households_joined"], figures["households_left"]) == (2, 1)
    assert figures["household_years"] == pytest.approx((181 + 181 + 181 + 91 + 28) / 365.25)
    assert figures["carers_deregistered"] == 0
    assert figures["deregistration_rate"] == 0
    # 30 June 2025: nobody was in yet.
    assert figures["retention_12m"] is None
    assert figures["active_satellites"] == 3


def test_a_member_household_withdrawn_has_left(clock, world):
    """A household that had joined can be ended as "left" or as "withdrawn" (both
    offered on the membership page). Either way it is no longer in the constellation:
    the households that left must account for the satellite the dashboard lost, as
    the households joined account for the ones it gained."""
    w = world
    clock.move_to(at(2026, 1, 10))
    people.withdraw_membership(
        w.neighbour.memberships.get(), by=w.liaison, reason="Stepping back from fostering"
    )
    clock.move_to(at(2026, 2, 2))
    december, january = row(w.constellation, month(2025, 12)), row(w.constellation, month(2026, 1))
    assert (december["active_satellites"], january["active_satellites"]) == (2, 1)
    assert january["households_joined"] == 0
    assert january["households_left"] == 1


# ------------------------------------------------------------------------------- fidelity


@pytest.fixture
def august(clock, world):
    """Riverside on 31 August 2026: six satellites (a seventh only proposed), and its
    children's delegated authority agreements.

    - Amara: review on 31 August (due); Ivy: review on 30 September (due, the last
      day of the 30); Ian: review on 1 October (in force, not yet due);
    - Bobby: review on 30 August (overdue);
    - Cara (the hub): version 1 reviewed 1 July, version 2 from 20 August, review
      February 2027 (in force, not due);
    - Quinn: version 1 review 1 August (overdue), version 2 only from 5 September;
    - Wren: an agreement only from 1 September; Val: none;
    - Moss: an agreement, but adopted on 15 August.
    Hillside has one satellite; its child Dana has no agreement."""
    w = world
    by = w.liaison
    new_year = date(2026, 1, 1)
    extra = [f.satellite_in(w.constellation, name=f"Satellite {n}") for n in range(3, 7)]
    f.satellite_in(w.constellation, name="Proposed", active=False)
    ivy = f.child_in(w.satellite, first_name="Ivy")
    ian = f.child_in(w.satellite, first_name="Ian")
    quinn = f.child_in(extra[0], first_name="Quinn")
    wren = f.child_in(extra[1], first_name="Wren")
    f.child_in(extra[2], first_name="Val")
    moss = f.child_in(extra[3], first_name="Moss")
    sign(w.child, by=by, effective=new_year, review=date(2026, 8, 31))
    sign(ivy, by=by, effective=new_year, review=date(2026, 9, 30))
    sign(ian, by=by, effective=new_year, review=date(2026, 10, 1))
    sign(w.neighbour_child, by=by, effective=new_year, review=date(2026, 8, 30))
    sign(w.hub_child, by=by, effective=new_year, review=date(2026, 7, 1))
    sign(w.hub_child, by=by, effective=date(2026, 8, 20), review=date(2027, 2, 1))
    sign(quinn, by=by, effective=new_year, review=date(2026, 8, 1))
    sign(quinn, by=by, effective=date(2026, 9, 5), review=date(2027, 3, 1))
    sign(wren, by=by, effective=date(2026, 9, 1), review=date(2027, 3, 1))
    sign(moss, by=by, effective=new_year, review=date(2026, 12, 1))
    clock.move_to(at(2026, 8, 15))
    people.move_child(moss, to=None, by=by, reason="Adopted", kind=MoveKind.ADOPTION)
    clock.move_to(at(2026, 9, 1, 9))
    return w


def test_delegated_authority_agreements_at_the_end_of_august(august):
    w = august
    aug = month(2026, 8)
    ids = [w.constellation.pk, w.other_constellation.pk]
    got = measures.agreement_figures(ids, aug, measures._People(ids))
    assert got[w.constellation.pk] == {
        # Amara, Ivy, Ian, Bobby, Cara, Quinn.
        "agreements_in_force": 6,
        "agreements_due": 2,  # Amara, Ivy
        "agreements_overdue": 2,  # Bobby, Quinn
        "children_without_agreement": 2,  # Wren, Val
    }
    assert got[w.other_constellation.pk] == {
        "agreements_in_force": 0,
        "agreements_due": 0,
        "agreements_overdue": 0,
        "children_without_agreement": 1,
    }
    figures = measures.figures([w.constellation, w.other_constellation], aug)
    assert figures.total["agreements_in_force"] == 6
    assert figures.total["children_without_agreement"] == 3


def test_satellites_within_the_models_six_to_ten(august, clock):
    w = august
    aug = month(2026, 8)
    figures = measures.figures([w.constellation, w.other_constellation], aug)
    riverside = figures.rows[w.constellation.pk]
    hillside = figures.rows[w.other_constellation.pk]
    assert (riverside["active_satellites"], riverside["satellites_in_model"]) == (6, "Yes")
    assert (hillside["active_satellites"], hillside["satellites_in_model"]) == (1, "No")
    assert figures.total["active_satellites"] == 7
    assert figures.total["satellites_in_model"] == "1 of 2"
    assert riverside["children"] == 8
    # Four more join on 1 September (ten: still the model's size), one more on 1 October.
    for n in range(7, 11):
        f.satellite_in(w.constellation, name=f"Satellite {n}")
    clock.move_to(at(2026, 10, 1, 9))
    f.satellite_in(w.constellation, name="Satellite 11")
    clock.move_to(at(2026, 11, 2, 9))
    assert row(w.constellation, month(2026, 9))["satellites_in_model"] == "Yes"
    assert row(w.constellation, month(2026, 9))["active_satellites"] == 10
    assert row(w.constellation, month(2026, 10))["satellites_in_model"] == "No"
    assert row(w.constellation, month(2026, 10))["active_satellites"] == 11


# -------------------------------------------------------------------------------- periods


def test_a_period_is_whole_london_months():
    march = Period.month(2026, 3)
    assert (march.first, march.last, march.days, march.months_count) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        31,
        1,
    )
    assert march.start == at(2026, 3, 1, 0)
    # Midnight after 31 March is BST: 23:00 UTC on 31 March.
    assert march.end == at(2026, 4, 1, 0) == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    assert march.label() == "March 2026"
    period = Period.of_months(date(2025, 11, 17), date(2026, 2, 3))
    assert (period.first, period.last) == (date(2025, 11, 1), date(2026, 2, 28))
    assert period.months() == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert period.label() == "November 2025 to February 2026"
    assert Period.default(date(2026, 5, 17)) == Period(date(2025, 6, 1), date(2026, 5, 31))


def test_a_period_ending_before_it_starts_or_too_long_is_refused():
    with pytest.raises(PeriodError, match="ends before it starts"):
        Period.of_months(date(2026, 3, 1), date(2026, 2, 1))
    with pytest.raises(PeriodError, match="121 months"):
        Period.of_months(date(2016, 1, 1), date(2026, 1, 1))
    assert Period.of_months(date(2016, 2, 1), date(2026, 1, 1)).months_count == MAX_MONTHS
    with pytest.raises(PeriodError, match="no such month"):
        Period.month(2026, 13)


def test_quarters_cut_to_the_period_and_the_period_before():
    period = Period.of_months(date(2026, 2, 1), date(2026, 8, 1))
    assert period.quarters() == [
        Period(date(2026, 2, 1), date(2026, 3, 31)),
        Period(date(2026, 4, 1), date(2026, 6, 30)),
        Period(date(2026, 7, 1), date(2026, 8, 31)),
    ]
    assert [q.quarter_label() for q in period.quarters()] == ["2026 Q1", "2026 Q2", "2026 Q3"]
    across = Period.of_months(date(2025, 11, 1), date(2026, 1, 1))
    assert across.quarters() == [
        Period(date(2025, 11, 1), date(2025, 12, 31)),
        Period(date(2026, 1, 1), date(2026, 1, 31)),
    ]
    assert Period.month(2026, 5).quarters() == [Period.month(2026, 5)]
    # Seven months before February-August 2026: July 2025 to January 2026.
    assert period.previous() == Period(date(2025, 7, 1), date(2026, 1, 31))
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)
    assert across.previous() == Period(date(2025, 8, 1), date(2025, 10, 31))


# --------------------------------------------------------------------------------- property


class _Rollback(Exception):
    pass


def _rolled_back(fn):
    try:
        with transaction.atomic():
            fn()
            raise _Rollback
    except _Rollback:
        pass


FIRST_DAY = date(2025, 11, 1)
nights_drawn = st.sets(
    st.tuples(
        st.integers(0, 3 * 365),  # days after 1 November 2025
        st.integers(0, 2),  # which child
    ),
    max_size=40,
)


@pytest.fixture
def stays(world):
    """A planned stay for each of three children, for nights to hang on (the nights
    themselves are drawn by the property)."""
    w = world
    children = [w.child, w.neighbour_child, f.child_in(w.satellite, first_name="Ivy")]
    requests = []
    for kind, child in zip((Kind.PLANNED, Kind.CRISIS, Kind.TEMPORARY), children, strict=True):
        request = Request.objects.create(
            constellation=w.constellation,
            hub=w.hub,
            household=child.household,
            requested_by=w.satellite_carer,
            kind=kind,
            start=START,
            end=START + timedelta(days=1),
            status=Status.ACCEPTED,
        )
        request.children.set([child])
        requests.append((request, child))
    return w, requests


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=nights_drawn,
    first=st.integers(0, 24),  # the period's first month, after November 2025
    length=st.integers(1, 15),  # its months
)
def test_the_months_nights_add_up_to_the_periods(stays, drawn, first, length):
    w, requests = stays
    from constellation.periods import add_months

    start_month = add_months(FIRST_DAY, first)
    period = Period.of_months(start_month, add_months(start_month, length - 1))

    def run():
        Night.objects.bulk_create(
            Night(
                hub=w.hub,
                date=FIRST_DAY + timedelta(days=offset),
                request=requests[which][0],
                child=requests[which][1],
            )
            for offset, which in drawn
        )
        inside = Counter(
            (FIRST_DAY + timedelta(days=offset)).replace(day=1)
            for offset, _ in drawn
            if period.first <= FIRST_DAY + timedelta(days=offset) <= period.last
        )
        series = measures.monthly([w.constellation], period)["nights"]
        assert set(series) == set(period.months())
        by_month = {m: sum(v.values()) for m, v in series.items()}
        assert by_month == {m: inside.get(m, 0) for m in period.months()}
        total = measures.figures([w.constellation, w.other_constellation], period).total
        assert sum(by_month.values()) == total["nights"] == sum(inside.values())

    _rolled_back(run)
