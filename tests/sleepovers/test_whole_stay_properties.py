"""Properties over random stays, accepts, bed changes and agreement versions: whatever
is asked and answered in whatever order,
- no night holds more children than beds without a recorded emergency;
- no accepted night lies outside the agreement in force that night without a
  recorded approval;
- no child passes the consecutive-nights limit or the yearly allowance with planned
  stays, without an exception."""

import contextlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constellation.services import ActionRefused
from delegated_authority import rules
from delegated_authority import services as authority
from delegated_authority.models import Approval, Decision, Holder
from sleepovers import selectors, services
from sleepovers.models import (
    DECISION_FOR_KIND,
    HOLDING_BEDS,
    Kind,
    Night,
    Request,
    Status,
    night_span,
    nights_between,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
FIRST_DAY = date(2027, 1, 4)
DAYS = 21
LIMIT = 3
ALLOWANCE = 6

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class _Rollback(Exception):
    pass


def _each_example_rolled_back(fn):
    try:
        with transaction.atomic():
            fn()
            raise _Rollback
    except _Rollback:
        pass


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2027, 1, 1, 9, tzinfo=LONDON), tick=False) as traveller:
        yield traveller


def _agreement(child, *, by, effective, review, holder):
    clauses = [
        authority.ClauseInput(Decision.objects.get(code=code), holder)
        for code in ("overnight_hub_planned", "stay_hub_short_notice")
    ]
    authority.create_agreement(
        child,
        by=by,
        effective_from=effective,
        review_on=review,
        signed_off_role="liaison_worker",
        clauses=clauses,
    )


def _moment(day: int, hour: int) -> datetime:
    d = FIRST_DAY + timedelta(days=day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=LONDON)


step = st.one_of(
    st.tuples(
        st.just("ask"),
        st.sampled_from([Kind.PLANNED, Kind.CRISIS]),
        st.integers(0, DAYS - 5),  # first day
        st.sampled_from([0, 9, 15, 17, 20, 23]),  # start hour
        st.integers(1, 80),  # length in hours
        st.sets(st.integers(0, 3), min_size=1, max_size=3),  # which children
    ),
    st.tuples(st.just("accept"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("beds"), st.integers(0, DAYS - 1), st.integers(0, 3), st.integers(0, 4)),
    st.tuples(st.just("approve"), st.integers(0, 30), st.booleans()),
)
versions = st.lists(
    st.tuples(
        st.integers(-5, DAYS),  # effective from, days after the first day
        st.integers(0, DAYS + 5),  # review, days after it takes effect
        st.sampled_from([Holder.BOTH, Holder.HUB_CARER, Holder.SOCIAL_WORKER]),
    ),
    min_size=1,
    max_size=3,
)


def _world(world):
    """Four children in two households of Riverside, with limits."""
    w = world
    extra = [f.child_in(w.satellite, first_name="Ivy"), f.child_in(w.neighbour, first_name="Jo")]
    services.update_limits(
        w.constellation,
        by=w.liaison,
        max_consecutive_nights=LIMIT,
        yearly_allowance_nights=ALLOWANCE,
    )
    return [w.child, w.neighbour_child, *extra]


def _carer_of(world, child):
    return (
        world.satellite_carer
        if child.household_id == world.satellite.pk
        else (world.neighbour_carer)
    )


def _run(clock, world, children, plan, agreements):
    """Play the plan; the clock only moves forward (a crisis is asked when it starts)."""
    w = world
    now = datetime(2027, 1, 1, 9, tzinfo=LONDON)
    for child in children:
        for effective, review, holder in sorted(agreements, key=lambda v: v[0]):
            day = FIRST_DAY + timedelta(days=effective)
            with contextlib.suppress(ActionRefused):
                _agreement(
                    child,
                    by=w.liaison,
                    effective=day,
                    review=day + timedelta(days=review),
                    holder=holder,
                )
    asked: list[Request] = []
    for move in plan:
        try:
            with transaction.atomic():
                if move[0] == "ask":
                    _, kind, day, hour, hours, which = move
                    chosen = [children[i] for i in sorted(which)]
                    household = chosen[0].household_id
                    chosen = [c for c in chosen if c.household_id == household]
                    start = _moment(day, hour)
                    if kind == Kind.CRISIS and start > now:
                        now = start
                        clock.move_to(now)
                    asked.append(
                        services.create_request(
                            by=_carer_of(w, chosen[0]),
                            kind=kind,
                            children=chosen,
                            start=start,
                            end=start + timedelta(hours=hours),
                            crisis_reason="other" if kind == Kind.CRISIS else "",
                        )
                    )
                elif move[0] == "accept" and asked:
                    _, i, emergency = move
                    services.accept(asked[i % len(asked)], by=w.hub_carer, emergency=emergency)
                elif move[0] == "beds":
                    _, day, nights, beds = move
                    first = FIRST_DAY + timedelta(days=day)
                    services.change_beds(
                        w.hub,
                        by=w.hub_carer,
                        start=first,
                        end=first + timedelta(days=nights),
                        beds=beds,
                    )
                elif move[0] == "approve":
                    _, i, yes = move
                    waiting = list(Approval.objects.pending().order_by("pk"))
                    if waiting:
                        authority.decide_approval(
                            waiting[i % len(waiting)],
                            by=w.social_worker,
                            approve=yes,
                            note="" if yes else "Not this time",
                        )
        except (ValidationError, ActionRefused):
            pass


def _check_beds(world):
    last = FIRST_DAY + timedelta(days=DAYS + 5)
    for night in selectors.nights(world.hub, FIRST_DAY - timedelta(days=2), last):
        if night.booked > night.beds:
            assert Request.objects.filter(
                held_nights__date=night.date, emergency_over_beds=True
            ).exists(), f"{night.date}: {night.booked} children for {night.beds} beds"


def _check_authority(world):
    for request in Request.objects.filter(status__in=HOLDING_BEDS).prefetch_related("children"):
        decision = Decision.objects.get(code=DECISION_FOR_KIND[request.kind])
        for child in request.children.all():
            approved = Approval.objects.filter(
                subject_id=request.pk, child=child, status=Approval.Status.APPROVED
            ).exists()
            if approved:
                continue
            for night in request.nights:
                verdict = rules.may_decide(
                    world.hub_carer, child, decision, at=night, nights=len(request.nights)
                )
                assert verdict.allowed, f"{child} on {night}: {verdict.reason}"


def _check_limits(children):
    for child in children:
        planned = sorted(
            Night.objects.filter(child=child, request__kind=Kind.PLANNED).values_list(
                "date", flat=True
            )
        )
        per_year = defaultdict(int)
        for day in planned:
            per_year[day.year] += 1
        assert all(n <= ALLOWANCE for n in per_year.values()), per_year
        held = set(Night.objects.filter(child=child).values_list("date", flat=True))
        for day in planned:
            run_first, run_last = day, day
            while run_first - timedelta(days=1) in held:
                run_first -= timedelta(days=1)
            while run_last + timedelta(days=1) in held:
                run_last += timedelta(days=1)
            # A run through a planned night may be longer only with crisis nights
            # accepted later (a crisis is not limited).
            run = (run_last - run_first).days + 1
            if run > LIMIT:
                crisis = Night.objects.filter(
                    child=child,
                    date__gte=run_first,
                    date__lte=run_last,
                    request__kind=Kind.CRISIS,
                ).exists()
                assert crisis, f"{child}: planned nights {run_first}..{run_last}"


@PROPERTY
@given(plan=st.lists(step, min_size=3, max_size=14), agreements=versions)
def test_no_rule_is_broken_over_any_night(clock, world, plan, agreements):
    def example():
        children = _world(world)
        _run(clock, world, children, plan, agreements)
        _check_beds(world)
        _check_authority(world)
        _check_limits(children)
        assert (
            not Request.objects.filter(status=Status.ACCEPTED, kind=Kind.SHORT_BREAK)
            .filter(held_nights__isnull=False)
            .exists()
        )

    _each_example_rolled_back(example)


def _nights_by_instants(start, end):
    found, day = [], timezone_localdate(start) - timedelta(days=1)
    while day <= timezone_localdate(end):
        begins, ends = night_span(day)
        if start < ends and end > begins:
            found.append(day)
        day += timedelta(days=1)
    return found


def timezone_localdate(moment):
    return moment.astimezone(LONDON).date()


_instants = st.datetimes(
    min_value=datetime(2026, 12, 1),  # noqa: DTZ001
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(ZoneInfo("UTC")),
)


@settings(max_examples=400, deadline=None)
@given(
    start=st.one_of(
        _instants,
        st.sampled_from(
            [
                datetime(2027, 3, 28, 0, 59, tzinfo=LONDON),
                datetime(2027, 10, 31, 1, 30, tzinfo=LONDON),
                datetime(2027, 10, 31, 1, 30, fold=1, tzinfo=LONDON),
                datetime(2026, 12, 31, 23, 59, tzinfo=LONDON),
            ]
        ),
    ),
    hours=st.integers(0, 24 * 20),
    minutes=st.integers(1, 59),
)
def test_a_night_is_the_same_by_wall_clock_and_by_instants(start, hours, minutes):
    end = start + timedelta(hours=hours, minutes=minutes)
    assert nights_between(start, end) == _nights_by_instants(start, end)
