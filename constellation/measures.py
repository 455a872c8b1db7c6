"""The measures of the dashboards and the evaluation return (issue 12), each defined
once here, with the definition the pages show as its footnote.

Everything that grows with the years (requests, nights, crisis answers, event dates,
attendance, check-ins, concerns) is counted by the database, grouped by constellation
(and by London month for the charts), so a dashboard's number of queries does not
depend on how much data there is. What is read row by row is people, not events:
the memberships of the constellations, their children's placements and their carers,
to work out who was in a constellation on which day.

Conventions:
- A period is whole London months (``periods.Period``); a moment belongs to the
  London date it falls on.
- A span of days (a membership, a placement, a carer's registration) runs from its
  first day up to, not including, its end date: a household that left on 15 March
  was in the constellation until 14 March.
- A constellation's households are its hub and its satellites.
- Rates per child-year and per household-year divide by the days children (or
  households) spent in the constellation during the period, over 365.25.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Least, TruncDate, TruncMonth
from django.utils import timezone

from calendar_events.models import Attendance, Event, Occurrence
from delegated_authority.models import Agreement
from delegated_authority.services import REVIEW_WINDOW_DAYS
from notifications.models import EscalationStep
from sleepovers.models import HOLDING_BEDS, Kind, Night, Request, Status, Transition

from .models import (
    Carer,
    CheckIn,
    Child,
    Concern,
    Constellation,
    ConstellationMembership,
    MoveKind,
    Placement,
)
from .periods import Period, add_months
from .selectors import RED, contact_level

LONDON = ZoneInfo("Europe/London")
YEAR_DAYS = 365.25
# The Mockingbird model's size for a constellation: six to ten satellite households.
SATELLITES_MIN, SATELLITES_MAX = 6, 10
# An answer to a crisis request: the hub accepted, declined, offered another time or
# asked for approval (the first such move), or tapped "I've seen it, I'm calling you".
ANSWERS = (Status.ACCEPTED, Status.DECLINED, Status.OFFERED, Status.AWAITING_APPROVAL)
REQUEST_KINDS = list(Kind)
EVENT_KINDS = list(Event.Kind)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    kind: str  # a tables.Column kind: int, float, percent, text, date
    definition: str


def _m(key, label, kind, definition):
    return Measure(key, label, kind, definition)


KIND_LABELS = {
    Kind.PLANNED: "planned overnight stays",
    Kind.SHORT_BREAK: "short breaks",
    Kind.TRANSPORT: "transport",
    Kind.CRISIS: "crisis",
    Kind.TEMPORARY: "temporary placements",
}

MEASURES: dict[str, Measure] = {
    m.key: m
    for m in [
        _m(
            "requests",
            "Requests",
            "int",
            "Requests made in the period (by the date they were made), of every kind.",
        ),
        *[
            _m(
                f"requests_{k.value}",
                f"Requests: {KIND_LABELS[k]}",
                "int",
                f"Requests of the kind \u201c{k.label}\u201d made in the period.",
            )
            for k in REQUEST_KINDS
        ],
        _m(
            "stays",
            "Stays",
            "int",
            "Requests accepted and not cancelled (accepted, arrived or collected), counted in the "
            "month the stay starts. A declined, cancelled, expired or unanswered request is not a stay.",
        ),
        *[
            _m(
                f"stays_{k.value}",
                f"Stays: {KIND_LABELS[k]}",
                "int",
                f"Stays of the kind \u201c{k.label}\u201d starting in the period.",
            )
            for k in REQUEST_KINDS
        ],
        _m(
            "nights",
            "Nights provided",
            "int",
            "Nights at the hub held by accepted overnight stays (planned, crisis, temporary "
            "placement), one per child per night; a stay across a month boundary counts each "
            "night in its own month. The same count as the sleepovers fairness table.",
        ),
        _m(
            "acceptance_rate",
            "Acceptance rate",
            "percent",
            "Of the requests made in the period that were answered or ran out of time, the share "
            "the hub accepted at some point: accepted \u00f7 (accepted + declined + expired).",
        ),
        _m("declined", "Declined", "int", "Requests made in the period that the hub declined."),
        _m(
            "expired",
            "Expired",
            "int",
            "Requests made in the period whose time passed without an answer.",
        ),
        _m(
            "cancelled",
            "Cancelled",
            "int",
            "Requests made in the period that were cancelled (by the family, or a stay called off).",
        ),
        _m("crisis_requests", "Crisis requests", "int", "Crisis requests made in the period."),
        _m(
            "crisis_answered",
            "Crisis requests answered",
            "int",
            "Crisis requests the hub answered: accepted, declined, offered another time, asked "
            "for approval, or tapped \u201cI've seen it, I'm calling you\u201d.",
        ),
        _m(
            "crisis_median_minutes",
            "Crisis: median minutes to answer",
            "float",
            "The median of the minutes from a crisis request to its first answer, over the "
            "answered crisis requests made in the period.",
        ),
        _m(
            "crisis_p90_minutes",
            "Crisis: 90th percentile minutes to answer",
            "float",
            "Nine in ten answered crisis requests were answered within this many minutes "
            "(the 90th percentile, interpolated).",
        ),
        _m(
            "crisis_escalated",
            "Crisis requests escalated",
            "int",
            "Crisis requests whose alert went past the hub to the liaison worker or the "
            "out-of-hours duty contact (the step ran or passed on because nobody could be reached).",
        ),
        _m(
            "nights_per_household",
            "Nights per household",
            "float",
            "Nights provided \u00f7 households of the constellation (hub and satellites) at the end of the period.",
        ),
        _m(
            "nights_per_child",
            "Nights per child",
            "float",
            "Nights provided \u00f7 children placed in the constellation at the end of the period.",
        ),
        _m(
            "nights_spread",
            "Spread of nights between households",
            "int",
            "Fairness: the most nights any active satellite household had in the period minus "
            "the fewest (a household with none counts as 0).",
        ),
        _m(
            "events_held",
            "Event dates held",
            "int",
            "Dates of constellation events, of every kind, in the period whose attendance the "
            "hub carer recorded. A cancelled date, or one whose attendance is not recorded, is not counted.",
        ),
        *[
            _m(
                f"events_{k.value}",
                f"Held: {k.label}",
                "int",
                f"Dates held of the kind \u201c{k.label}\u201d.",
            )
            for k in EVENT_KINDS
        ],
        _m(
            "attending_households",
            "Households attending",
            "int",
            "Households recorded as coming, summed over the dates held.",
        ),
        _m(
            "attending_adults",
            "Adults attending",
            "int",
            "Adults recorded as coming (households and people kept connected), summed over the dates held.",
        ),
        _m(
            "attending_children",
            "Children attending",
            "int",
            "Children and young people recorded as coming, summed over the dates held.",
        ),
        _m(
            "attendance_share",
            "Attendance (share of invited households)",
            "percent",
            "Invited households attending \u00f7 households invited, over the dates held. An event "
            "for the whole constellation invites its hub and the satellites in it on that day; "
            "otherwise the chosen households (a household that came without being chosen is "
            "counted as attending, not in this share).",
        ),
        _m(
            "meeting_months",
            "Months with a constellation meeting",
            "int",
            "Months of the period with at least one constellation meeting held (attendance "
            "recorded). For all the constellations together: the months in which every one of "
            "them held one.",
        ),
        _m("months", "Months in the period", "int", "Whole months in the period."),
        _m(
            "siblings_apart",
            "Children with a sibling placed apart",
            "int",
            "Children placed in the constellation at the end of the period with a brother or sister "
            "placed in another household.",
        ),
        _m(
            "siblings_met",
            "Of them, met their sibling",
            "int",
            "Of those children, the ones who were with that sibling at least once in the period: "
            "both recorded at the same constellation event, or both staying at the hub the same night.",
        ),
        _m(
            "coverage",
            "Check-in coverage",
            "percent",
            "At the end of the period, the share of the active satellite households whose last "
            "check-in made is within the constellation's red threshold (14 days unless changed).",
        ),
        _m(
            "check_ins",
            "Check-ins made",
            "int",
            "Check-ins made with a household in the period (an attempt that did not reach them is not counted).",
        ),
        _m(
            "check_ins_per_household",
            "Check-ins per household",
            "float",
            "Check-ins made \u00f7 active satellite households at the end of the period.",
        ),
        _m("concerns_opened", "Concerns opened", "int", "Concerns opened in the period."),
        _m("concerns_closed", "Concerns closed", "int", "Concerns closed in the period."),
        _m(
            "concerns_open",
            "Concerns open at the end",
            "int",
            "Concerns open at the end of the period.",
        ),
        _m(
            "children",
            "Children in the constellation",
            "int",
            "Children placed with the constellation's households at the end of the period.",
        ),
        _m(
            "child_years",
            "Child-years",
            "float",
            "Days children were placed with the constellation's households in the period \u00f7 365.25.",
        ),
        _m(
            "placement_moves",
            "Placement moves",
            "int",
            "Placements with the constellation's households that ended in the period, whatever the reason.",
        ),
        _m(
            "unplanned_endings",
            "Unplanned placement endings",
            "int",
            "Placements that ended in the period because of a disruption (ended unplanned).",
        ),
        _m(
            "unplanned_rate",
            "Unplanned endings per child-year",
            "float",
            "Unplanned placement endings \u00f7 child-years (Department for Education evaluation measure).",
        ),
        _m(
            "households_joined",
            "Households joined",
            "int",
            "Satellite households that joined in the period.",
        ),
        _m(
            "households_left",
            "Households left",
            "int",
            "Satellite households whose membership ended in the period, having joined: "
            "left, or withdrawn after their join date.",
        ),
        _m(
            "household_years",
            "Household-years",
            "float",
            "Days households (hub and satellites) were in the constellation in the period \u00f7 365.25.",
        ),
        _m(
            "carers_deregistered",
            "Carers de-registered",
            "int",
            "Foster carers of the constellation's households whose registration ended in the period (de-registered).",
        ),
        _m(
            "deregistration_rate",
            "De-registrations per household-year",
            "float",
            "Carers de-registered \u00f7 household-years (Department for Education evaluation measure).",
        ),
        _m(
            "retention_12m",
            "12-month retention",
            "percent",
            "Of the satellite households in the constellation twelve months before the end of the "
            "period, the share still in it at the end.",
        ),
        _m(
            "active_satellites",
            "Active satellites",
            "int",
            "Satellite households in the constellation at the end of the period.",
        ),
        _m(
            "satellites_in_model",
            "Within 6\u201310 satellites",
            "text",
            "Yes when the constellation had six to ten active satellite households at the end of the period (the model's size).",
        ),
        _m(
            "agreements_in_force",
            "Delegated authority agreements in force",
            "int",
            "Children placed at the end of the period with a delegated authority agreement in force.",
        ),
        _m(
            "agreements_due",
            "Agreements due for review",
            "int",
            f"Of them, agreements whose review date falls within {REVIEW_WINDOW_DAYS} days after the end of the period.",
        ),
        _m(
            "agreements_overdue",
            "Agreements overdue for review",
            "int",
            "Of them, agreements whose review date had passed at the end of the period.",
        ),
        _m(
            "children_without_agreement",
            "Children without an agreement",
            "int",
            "Children placed at the end of the period with no delegated authority agreement in force.",
        ),
    ]
}


# ---------------------------------------------------------------------------- helpers


def _ids(constellations) -> list[int]:
    return [c.pk if hasattr(c, "pk") else c for c in constellations]


def _ratio(numerator, denominator):
    """``numerator / denominator``, or None ("not recorded") when there is nothing to divide by."""
    if not denominator:
        return None
    return numerator / denominator


def _overlap_days(start: date | None, end: date | None, period: Period) -> int:
    """Days of the half-open span [start, end) inside the period (end None: still open)."""
    if start is None:
        return 0
    first = max(start, period.first)
    after = min(end or date.max, period.last + timedelta(days=1))
    return max(0, (after - first).days)


def _in_on(start: date | None, end: date | None, day: date) -> bool:
    return start is not None and start <= day and (end is None or day < end)


def _as_of(period: Period) -> date:
    """The day "at the end of the period" is read on: its last day, or today (London)
    while the period is still under way, so a month in progress is not read three
    weeks ahead (a household rung yesterday is in touch today)."""
    return min(period.last, timezone.localdate())


def _a_year_before(day: date) -> date:
    """The same day a year earlier (28 February for a 29 February): where 12-month
    retention looks back from."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _month_of(moment_field: str):
    return TruncMonth(moment_field, tzinfo=LONDON)


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") else value


class _People:
    """Who was in each constellation when: hubs, memberships, placements and carers of
    the constellations, read once (people, not events)."""

    def __init__(self, ids: list[int]):
        self.hub_of = dict(Constellation.objects.filter(pk__in=ids).values_list("pk", "hub_id"))
        self.memberships = list(
            ConstellationMembership.objects.filter(
                constellation__in=ids, joined_on__isnull=False
            ).values_list("constellation_id", "household_id", "joined_on", "ended_on", "status")
        )
        households = set(self.hub_of.values()) | {m[1] for m in self.memberships}
        households.discard(None)
        self.placements = list(
            Placement.objects.filter(household__in=households).values_list(
                "child_id", "household_id", "started_on", "ended_on", "move_kind"
            )
        )
        self.carers = list(
            Carer.objects.filter(
                household__in=households, deregistered=True, ended_on__isnull=False
            ).values_list("household_id", "ended_on")
        )

    def spans(self, cid: int) -> list[tuple[int, date | None, date | None]]:
        """(household, first day, end) of every household of the constellation; a hub's
        span is open (the hub has no membership history)."""
        out = [(m[1], m[2], m[3]) for m in self.memberships if m[0] == cid]
        hub = self.hub_of.get(cid)
        if hub is not None:
            out.append((hub, date.min, None))
        return out

    def households_on(self, cid: int, day: date, *, satellites_only: bool = False) -> set[int]:
        spans = [(m[1], m[2], m[3]) for m in self.memberships if m[0] == cid]
        found = {h for h, s, e in spans if _in_on(s, e, day)}
        if not satellites_only and self.hub_of.get(cid) is not None:
            found.add(self.hub_of[cid])
        return found

    def in_constellation(self, cid: int, household: int, day: date) -> bool:
        return any(h == household and _in_on(s, e, day) for h, s, e in self.spans(cid))

    def children_on(self, cid: int, day: date) -> dict[int, int]:
        """{child: household} placed with the constellation's households on ``day``."""
        households = self.households_on(cid, day)
        return {
            child: household
            for child, household, s, e, _ in self.placements
            if household in households and _in_on(s, e, day)
        }


# ---------------------------------------------------------------------------- measures


def request_counts(ids, period: Period) -> dict[int, dict[str, int]]:
    """Requests made in the period per constellation: ``requests``, ``requests_<kind>``,
    ``declined``, ``expired``, ``cancelled``, ``accepted_ever`` and the acceptance
    rate's parts. One query."""
    accepted_ever = Exists(
        Transition.objects.filter(request=OuterRef("pk"), to_status=Status.ACCEPTED)
    )
    rows = (
        Request.objects.filter(
            constellation__in=ids, created_at__gte=period.start, created_at__lt=period.end
        )
        .values("constellation_id")
        .annotate(
            requests=Count("pk"),
            declined=Count("pk", filter=Q(status=Status.DECLINED)),
            expired=Count("pk", filter=Q(status=Status.EXPIRED)),
            cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
            accepted_ever=Count("pk", filter=Q(accepted_ever)),
            **{f"requests_{k.value}": Count("pk", filter=Q(kind=k)) for k in REQUEST_KINDS},
        )
        .order_by()
    )
    return {r.pop("constellation_id"): r for r in rows}


def stay_counts(ids, period: Period) -> dict[int, dict[str, int]]:
    """Stays (requests holding beds: accepted, arrived, collected) starting in the
    period per constellation, all kinds and by kind. One query."""
    rows = (
        Request.objects.filter(
            constellation__in=ids,
            status__in=HOLDING_BEDS,
            start__gte=period.start,
            start__lt=period.end,
        )
        .values("constellation_id")
        .annotate(
            stays=Count("pk"),
            **{f"stays_{k.value}": Count("pk", filter=Q(kind=k)) for k in REQUEST_KINDS},
        )
        .order_by()
    )
    return {r.pop("constellation_id"): r for r in rows}


def night_counts(ids, period: Period) -> dict[int, int]:
    """Nights held at the hub in the period per constellation (``Night`` rows: one per
    child and night, each night in its own month). One query."""
    rows = (
        Night.objects.filter(
            request__constellation__in=ids, date__gte=period.first, date__lte=period.last
        )
        .values("request__constellation_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r["request__constellation_id"]: r["n"] for r in rows}


def nights_per_household(ids, period: Period) -> dict[int, dict[int, int]]:
    """{constellation: {requesting household: nights}} in the period: the count of
    ``Night.objects.per_household``, the sleepovers fairness table's. One query."""
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        Night.objects.per_household(ids, period.first, period.last)
        .values("request__constellation_id", "request__household_id")
        .annotate(n=Count("pk"))
    ):
        out[row["request__constellation_id"]][row["request__household_id"]] = row["n"]
    return out


def _answered_at():
    first_answer = (
        Transition.objects.filter(request=OuterRef("pk"), to_status__in=ANSWERS)
        .order_by("at")
        .values("at")[:1]
    )
    seen = F("crisis_alert__seen_at")
    answer = Subquery(first_answer)
    # LEAST ignores NULLs on PostgreSQL but not on SQLite: pair each with the other.
    return Least(Coalesce(answer, seen), Coalesce(seen, answer))


class _Percentile(models.Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class _Minutes(models.Func):
    template = "EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0"
    arg_joiner = " - "
    output_field = models.FloatField()


def _percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks: PostgreSQL's ``percentile_cont``."""
    if not values:
        return None
    values = sorted(values)
    position = (len(values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def crisis_figures(ids, period: Period) -> dict[int | None, dict]:
    """Crisis requests made in the period, per constellation and (key None) for all of
    them: ``crisis_requests``, ``crisis_answered``, ``crisis_escalated`` and the median
    and 90th percentile of minutes to the first answer (floats, None when none was
    answered). Two queries on PostgreSQL (``percentile_cont``); on SQLite the answered
    requests' minutes are read and ranked in Python (``_percentile``, same result)."""
    escalated = Exists(
        EscalationStep.objects.filter(
            alert__request=OuterRef("pk"),
            step__gte=EscalationStep.Step.LIAISON,
            status__in=[EscalationStep.Status.DONE, EscalationStep.Status.PASSED_ON],
        )
    )
    crises = Request.objects.filter(
        constellation__in=ids,
        kind=Kind.CRISIS,
        created_at__gte=period.start,
        created_at__lt=period.end,
    ).annotate(answered_at=_answered_at())
    counts = {
        r.pop("constellation_id"): r
        for r in crises.values("constellation_id")
        .annotate(
            crisis_requests=Count("pk"),
            crisis_answered=Count("pk", filter=Q(answered_at__isnull=False)),
            crisis_escalated=Count("pk", filter=Q(escalated)),
        )
        .order_by()
    }
    answered = crises.filter(answered_at__isnull=False)
    spans: dict[int | None, dict] = {}
    if connection.vendor == "postgresql":
        minutes = _Minutes(F("answered_at"), F("created_at"))
        for row in (
            answered.annotate(minutes=minutes)
            .values("constellation_id")
            .annotate(median=_Percentile("minutes", 0.5), p90=_Percentile("minutes", 0.9))
            .order_by()
        ):
            spans[row["constellation_id"]] = row
        overall = answered.annotate(minutes=minutes).aggregate(
            median=_Percentile("minutes", 0.5), p90=_Percentile("minutes", 0.9)
        )
        spans[None] = overall
    else:
        per: dict[int | None, list[float]] = defaultdict(list)
        for cid, created, at in answered.values_list(
            "constellation_id", "created_at", "answered_at"
        ):
            if isinstance(at, str):  # SQLite hands back the LEAST of two datetimes as text
                from django.utils.dateparse import parse_datetime

                at = parse_datetime(at)
            value = (at - created).total_seconds() / 60
            per[cid].append(value)
            per[None].append(value)
        spans = {
            k: {"median": _percentile(v, 0.5), "p90": _percentile(v, 0.9)} for k, v in per.items()
        }
    out: dict[int | None, dict] = {}
    for cid in [*ids, None]:
        base = counts.get(cid) if cid is not None else None
        if cid is None:
            base = {
                key: sum(c[key] for c in counts.values())
                for key in ("crisis_requests", "crisis_answered", "crisis_escalated")
            }
        base = dict(base or {"crisis_requests": 0, "crisis_answered": 0, "crisis_escalated": 0})
        span = spans.get(cid) or {}
        base["crisis_median_minutes"] = span.get("median")
        base["crisis_p90_minutes"] = span.get("p90")
        out[cid] = base
    return out


def _held_dates(ids, period: Period):
    """Event dates in the period whose attendance was recorded and that were not
    cancelled, with their constellation, kind and (moved or not) start."""
    return (
        Occurrence.objects.filter(
            event__constellation__in=ids,
            attendance_recorded_at__isnull=False,
            cancelled=False,
        )
        .annotate(when=Coalesce("start", "original_start"))
        .filter(when__gte=period.start, when__lt=period.end)
        .annotate(day=TruncDate("when", tzinfo=LONDON))
    )


def _invited_households():
    """Households invited to an occurrence's date: the chosen ones, or (an event for
    the whole constellation) its hub and the satellites in it on that London day."""
    day = OuterRef("day")  # the London date of the outer occurrence (``_held_dates``)
    members = (
        ConstellationMembership.objects.filter(
            constellation=OuterRef("event__constellation"),
            joined_on__isnull=False,
            joined_on__lte=day,
        )
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))
        .order_by()
        .values("constellation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    chosen = (
        Event.invited_households.through.objects.filter(event=OuterRef("event"))
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return models.Case(
        models.When(
            event__invite_everyone=True,
            then=Coalesce(Subquery(members, output_field=models.IntegerField()), 0) + 1,
        ),
        default=Coalesce(Subquery(chosen, output_field=models.IntegerField()), 0),
        output_field=models.IntegerField(),
    )


def event_figures(ids, period: Period) -> dict[int, dict]:
    """Per constellation: dates held in the period (all and by kind), attendance
    (households, adults, children, and the share of invited households) and the
    months with a constellation meeting held (under the key None: the months in which
    every one of ``ids`` held one). Three queries."""
    held = _held_dates(ids, period)
    out: dict[int, dict] = defaultdict(dict)
    for row in (
        held.annotate(invited=_invited_households())
        .values("event__constellation_id")
        .annotate(
            events_held=Count("pk"),
            invited=Sum("invited"),
            **{f"events_{k.value}": Count("pk", filter=Q(event__kind=k)) for k in EVENT_KINDS},
        )
        .order_by()
    ):
        out[row.pop("event__constellation_id")].update(row)
    chosen_one = Event.invited_households.through.objects.filter(
        event=OuterRef("occurrence__event"), household=OuterRef("household")
    )
    for row in (
        Attendance.objects.filter(occurrence__in=held.values("pk"))
        .values("occurrence__event__constellation_id")
        .annotate(
            attending_households=Count("pk", filter=Q(household__isnull=False)),
            attending_invited=Count(
                "pk",
                filter=Q(household__isnull=False)
                & (Q(occurrence__event__invite_everyone=True) | Exists(chosen_one)),
            ),
            attending_adults=Coalesce(Sum("adults"), 0),
            attending_people=Coalesce(Sum("people"), 0),
        )
        .order_by()
    ):
        cid = row.pop("occurrence__event__constellation_id")
        row["attending_children"] = row.pop("attending_people") - row["attending_adults"]
        out[cid].update(row)
    met: dict[int, set] = defaultdict(set)  # constellation -> months with a meeting
    for cid, month in (
        held.filter(event__kind=Event.Kind.MEETING)
        .annotate(month=_month_of("when"))
        .values_list("event__constellation_id", "month")
        .distinct()
        .order_by()
    ):
        met[cid].add(_as_date(month))
    for cid, months in met.items():
        out[cid]["meeting_months"] = len(months)
    # All the constellations together: the months in which every one of them met.
    every = set.intersection(*(met.get(cid, set()) for cid in ids)) if ids else set()
    out[None]["meeting_months"] = len(every)
    return out


def sibling_figures(ids, period: Period, people: _People) -> dict[int, dict]:
    """Per constellation: children placed in it at the end of the period who have a
    sibling placed in another household, and how many of them were with that sibling
    in the period at a recorded event or the same night at the hub. Three queries."""
    as_of = _as_of(period)
    placed_now = {cid: people.children_on(cid, as_of) for cid in ids}
    all_children = {child for found in placed_now.values() for child in found}
    pairs = list(
        Child.siblings.through.objects.filter(from_child__in=all_children).values_list(
            "from_child_id", "to_child_id"
        )
    )
    if not pairs:
        return {}
    # Where each sibling lives at the end of the period (any household of the service).
    siblings = {to for _, to in pairs}
    home = dict(
        Placement.objects.filter(child__in=siblings, started_on__lte=as_of)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=as_of))
        .values_list("child_id", "household_id")
    )
    apart: dict[int, set[int]] = defaultdict(set)  # child -> its siblings placed apart
    for child, sibling in pairs:
        for found in placed_now.values():
            if child in found and sibling in home and home[sibling] != found[child]:
                apart[child].add(sibling)
    if not apart:
        return {}
    interested = set(apart) | {s for sibs in apart.values() for s in sibs}
    met: set[tuple[int, int]] = set()
    # Both recorded at the same event date in the period.
    through = Attendance.children.through
    together = (
        through.objects.filter(
            child__in=interested,
            attendance__occurrence__in=_held_dates(
                Constellation.objects.values("pk"), period
            ).values("pk"),
        )
        .values("attendance__occurrence_id")
        .annotate(n=Count("child", distinct=True))
        .filter(n__gte=2)
        .values("attendance__occurrence_id")
    )
    seen_at: dict[int, set[int]] = defaultdict(set)
    for occurrence, child in through.objects.filter(
        attendance__occurrence__in=together, child__in=interested
    ).values_list("attendance__occurrence_id", "child_id"):
        seen_at[occurrence].add(child)
    # Both staying at the same hub the same night in the period.
    shared_nights = (
        Night.objects.filter(child__in=interested, date__gte=period.first, date__lte=period.last)
        .values("hub_id", "date")
        .annotate(n=Count("child", distinct=True))
        .filter(n__gte=2)
    )
    nights = defaultdict(set)
    night_q = Q()
    for row in shared_nights:
        night_q |= Q(hub_id=row["hub_id"], date=row["date"])
    if night_q:
        for hub, day, child in Night.objects.filter(night_q, child__in=interested).values_list(
            "hub_id", "date", "child_id"
        ):
            nights[(hub, day)].add(child)
    for group in [*seen_at.values(), *nights.values()]:
        for child in group & set(apart):
            if apart[child] & group:
                met.add(child)
    out: dict[int, dict] = {}
    for cid, found in placed_now.items():
        children_apart = [c for c in found if c in apart]
        out[cid] = {
            "siblings_apart": len(children_apart),
            "siblings_met": sum(1 for c in children_apart if c in met),
        }
    return out


def contact_figures(ids, period: Period, people: _People) -> dict[int, dict]:
    """Per constellation: check-ins made in the period and per active satellite at the
    end, coverage at the end (share whose last contact made is within the red
    threshold, ``selectors.contact_level``), and concerns opened, closed and open at
    the end. Three queries."""
    out: dict[int, dict] = defaultdict(dict)
    for row in (
        CheckIn.objects.made()
        .filter(constellation__in=ids, occurred_at__gte=period.start, occurred_at__lt=period.end)
        .values("constellation_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        out[row["constellation_id"]]["check_ins"] = row["n"]
    last_made = {
        (row["constellation_id"], row["household_id"]): row["last"]
        for row in CheckIn.objects.made()
        .filter(constellation__in=ids, occurred_at__lt=period.end)
        .values("constellation_id", "household_id")
        .annotate(last=models.Max("occurred_at"))
        .order_by()
    }
    thresholds = {
        c["pk"]: c
        for c in Constellation.objects.filter(pk__in=ids).values(
            "pk", "contact_amber_days", "contact_red_days"
        )
    }
    as_of = _as_of(period)
    for cid in ids:
        covered = total = 0
        for household, start, end in people.spans(cid):
            if household == people.hub_of.get(cid) or not _in_on(start, end, as_of):
                continue
            last = last_made.get((cid, household))
            since = last.astimezone(LONDON).date() if last else start
            days = max(0, (as_of - since).days)
            t = thresholds[cid]
            total += 1
            if (
                contact_level(
                    days, amber_days=t["contact_amber_days"], red_days=t["contact_red_days"]
                )
                != RED
            ):
                covered += 1
        out[cid]["coverage_households"] = total
        out[cid]["coverage_covered"] = covered
    for row in (
        Concern.objects.filter(constellation__in=ids)
        .values("constellation_id")
        .annotate(
            concerns_opened=Count(
                "pk", filter=Q(opened_at__gte=period.start, opened_at__lt=period.end)
            ),
            concerns_closed=Count(
                "pk", filter=Q(closed_at__gte=period.start, closed_at__lt=period.end)
            ),
            concerns_open=Count(
                "pk",
                filter=Q(opened_at__lt=period.end)
                & (Q(closed_at__isnull=True) | Q(closed_at__gte=period.end)),
            ),
        )
        .order_by()
    ):
        out[row.pop("constellation_id")].update(row)
    return out


def stability_figures(ids, period: Period, people: _People) -> dict[int, dict]:
    """Per constellation (DfE evaluation measures): children at the end, child-years,
    placement moves and unplanned endings (``MoveKind.DISRUPTION``) in the period;
    satellites joined and left, household-years, carers de-registered; 12-month
    retention; active satellites at the end. Read from ``people`` (no query)."""
    out: dict[int, dict] = {}
    as_of = _as_of(period)
    retention_base = _a_year_before(as_of)
    for cid in ids:
        spans = people.spans(cid)
        hub = people.hub_of.get(cid)
        child_days = 0
        moves = unplanned = 0
        for _child, household, start, end, move_kind in people.placements:
            for h, s, e in spans:
                if h != household:
                    continue
                # The part of the placement while the household was in the constellation.
                lo = max(start, s)
                hi = min(end or date.max, e or date.max)
                child_days += (
                    _overlap_days(lo, None if hi == date.max else hi, period) if hi > lo else 0
                )
                if (
                    end
                    and period.first <= end <= period.last
                    and _in_on(s, e, end - timedelta(days=1))
                ):
                    moves += 1
                    unplanned += move_kind == MoveKind.DISRUPTION
        household_days = sum(_overlap_days(s, e, period) for _, s, e in spans)
        deregistered = sum(
            1
            for household, ended in people.carers
            if period.first <= ended <= period.last
            and people.in_constellation(cid, household, ended - timedelta(days=1))
        )
        satellites_then = people.households_on(cid, retention_base, satellites_only=True)
        satellites_now = people.households_on(cid, as_of, satellites_only=True)
        memberships = [m for m in people.memberships if m[0] == cid]
        out[cid] = {
            "children": len(people.children_on(cid, as_of)),
            "child_years": child_days / YEAR_DAYS,
            "placement_moves": moves,
            "unplanned_endings": unplanned,
            "households_joined": sum(1 for m in memberships if period.first <= m[2] <= period.last),
            "households_left": sum(
                1 for m in memberships if m[3] and period.first <= m[3] <= period.last
            ),
            "household_years": household_days / YEAR_DAYS,
            "carers_deregistered": deregistered,
            "retention_base": len(satellites_then),
            "retained": len(satellites_then & satellites_now),
            "active_satellites": len(satellites_now),
            "households_at_end": len(satellites_now) + (1 if hub else 0),
        }
    return out


def agreement_figures(ids, period: Period, people: _People) -> dict[int, dict]:
    """Per constellation: of the children placed at the end of the period, those with a
    delegated authority agreement in force then (the newest version effective by that
    day), due for review within ``REVIEW_WINDOW_DAYS`` after it, overdue, and without
    one. One query."""
    as_of = _as_of(period)
    placed = {cid: people.children_on(cid, as_of) for cid in ids}
    children = {c for found in placed.values() for c in found}
    newer = Agreement.objects.filter(
        child=OuterRef("child"), effective_from__lte=as_of, version__gt=OuterRef("version")
    )
    review = dict(
        Agreement.objects.filter(child__in=children, effective_from__lte=as_of)
        .filter(~Exists(newer))
        .values_list("child_id", "review_on")
    )
    due_by = as_of + timedelta(days=REVIEW_WINDOW_DAYS)
    out = {}
    for cid, found in placed.items():
        reviews = [review[c] for c in found if c in review]
        out[cid] = {
            "agreements_in_force": len(reviews),
            "agreements_due": sum(1 for r in reviews if as_of <= r <= due_by),
            "agreements_overdue": sum(1 for r in reviews if r < as_of),
            "children_without_agreement": len(found) - len(reviews),
        }
    return out


# ---------------------------------------------------------------------------- together


ADDITIVE = [
    "requests",
    *[f"requests_{k.value}" for k in REQUEST_KINDS],
    "stays",
    *[f"stays_{k.value}" for k in REQUEST_KINDS],
    "nights",
    "declined",
    "expired",
    "cancelled",
    "accepted_ever",
    "crisis_requests",
    "crisis_answered",
    "crisis_escalated",
    "events_held",
    *[f"events_{k.value}" for k in EVENT_KINDS],
    "invited",
    "attending_households",
    "attending_invited",
    "attending_adults",
    "attending_children",
    "meeting_months",
    "siblings_apart",
    "siblings_met",
    "coverage_households",
    "coverage_covered",
    "check_ins",
    "concerns_opened",
    "concerns_closed",
    "concerns_open",
    "children",
    "child_years",
    "placement_moves",
    "unplanned_endings",
    "households_joined",
    "households_left",
    "household_years",
    "carers_deregistered",
    "retention_base",
    "retained",
    "active_satellites",
    "households_at_end",
    "agreements_in_force",
    "agreements_due",
    "agreements_overdue",
    "children_without_agreement",
]


def _derive(row: dict, period: Period) -> dict:
    """The rates and shares from a row's counts (the same for a constellation and a total)."""
    answered = row["accepted_ever"] + row["declined"] + row["expired"]
    row["acceptance_rate"] = _ratio(row["accepted_ever"], answered)
    row["nights_per_household"] = _ratio(row["nights"], row["households_at_end"])
    row["nights_per_child"] = _ratio(row["nights"], row["children"])
    row["attendance_share"] = _ratio(row["attending_invited"], row["invited"])
    row["coverage"] = _ratio(row["coverage_covered"], row["coverage_households"])
    row["check_ins_per_household"] = _ratio(row["check_ins"], row["active_satellites"])
    row["unplanned_rate"] = _ratio(row["unplanned_endings"], row["child_years"])
    row["deregistration_rate"] = _ratio(row["carers_deregistered"], row["household_years"])
    row["retention_12m"] = _ratio(row["retained"], row["retention_base"])
    row["months"] = period.months_count
    return row


@dataclass
class Figures:
    """The measures of a period: ``rows`` {constellation id: {measure key: value}} and
    ``total`` over them all. Counts are ints, rates floats, shares fractions 0..1,
    and None means there was nothing to measure (shown as "not recorded")."""

    period: Period
    rows: dict[int, dict]
    total: dict


def figures(constellations, period: Period) -> Figures:
    """Every measure of ``MEASURES`` for ``constellations`` (Constellations or ids) over
    ``period``. The number of queries is the same whatever the data's size or the
    number of constellations (about 20)."""
    ids = _ids(constellations)
    people = _People(ids)
    events = event_figures(ids, period)
    parts = [
        request_counts(ids, period),
        stay_counts(ids, period),
        {cid: {"nights": n} for cid, n in night_counts(ids, period).items()},
        events,
        sibling_figures(ids, period, people),
        contact_figures(ids, period, people),
        stability_figures(ids, period, people),
        agreement_figures(ids, period, people),
    ]
    crisis = crisis_figures(ids, period)
    spread = nights_per_household(ids, period)
    rows: dict[int, dict] = {}
    for cid in ids:
        row = dict.fromkeys(ADDITIVE, 0)
        for part in parts:
            row.update({k: v for k, v in part.get(cid, {}).items() if v is not None})
        row.update(crisis[cid])
        satellites = people.households_on(cid, _as_of(period), satellites_only=True)
        counts = [spread.get(cid, {}).get(h, 0) for h in satellites]
        row["nights_spread"] = (max(counts) - min(counts)) if counts else None
        low = row["active_satellites"]
        row["satellites_in_model"] = "Yes" if SATELLITES_MIN <= low <= SATELLITES_MAX else "No"
        rows[cid] = _derive(row, period)
    total = {key: sum(r[key] for r in rows.values()) for key in ADDITIVE}
    total["meeting_months"] = events.get(None, {}).get("meeting_months", 0)
    total.update(dict(crisis[None].items()))
    spreads = [r["nights_spread"] for r in rows.values() if r["nights_spread"] is not None]
    total["nights_spread"] = max(spreads) if spreads else None
    in_model = sum(1 for r in rows.values() if r["satellites_in_model"] == "Yes")
    total["satellites_in_model"] = f"{in_model} of {len(rows)}"
    return Figures(period=period, rows=rows, total=_derive(total, period))


def monthly(constellations, period: Period) -> dict[str, dict[date, dict]]:
    """The series of the charts, by London month (first of the month): requests and
    nights by kind, stays, crisis answers' median and 90th percentile in minutes,
    dates held and attendance by event kind, check-ins and households contacted.
    Five queries (plus the crisis one per month on SQLite)."""
    ids = _ids(constellations)
    months = period.months()
    series: dict[str, dict[date, dict]] = {
        name: {m: {} for m in months}
        for name in ("requests", "nights", "crisis", "events", "contact")
    }
    for row in (
        Request.objects.filter(
            constellation__in=ids, created_at__gte=period.start, created_at__lt=period.end
        )
        .annotate(month=_month_of("created_at"))
        .values("month", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        series["requests"][_as_date(row["month"])][row["kind"]] = row["n"]
    for row in (
        Night.objects.filter(
            request__constellation__in=ids, date__gte=period.first, date__lte=period.last
        )
        .annotate(month=TruncMonth("date"))
        .values("month", "request__kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        series["nights"][_as_date(row["month"])][row["request__kind"]] = row["n"]
    crises = (
        Request.objects.filter(
            constellation__in=ids,
            kind=Kind.CRISIS,
            created_at__gte=period.start,
            created_at__lt=period.end,
        )
        .annotate(answered_at=_answered_at())
        .filter(answered_at__isnull=False)
    )
    if connection.vendor == "postgresql":
        for row in (
            crises.annotate(
                month=_month_of("created_at"), minutes=_Minutes(F("answered_at"), F("created_at"))
            )
            .values("month")
            .annotate(median=_Percentile("minutes", 0.5), p90=_Percentile("minutes", 0.9))
            .order_by()
        ):
            series["crisis"][_as_date(row["month"])] = {"median": row["median"], "p90": row["p90"]}
    else:
        per: dict[date, list[float]] = defaultdict(list)
        from django.utils.dateparse import parse_datetime

        for created, at in crises.values_list("created_at", "answered_at"):
            at = parse_datetime(at) if isinstance(at, str) else at
            per[created.astimezone(LONDON).date().replace(day=1)].append(
                (at - created).total_seconds() / 60
            )
        for month, values in per.items():
            series["crisis"][month] = {
                "median": _percentile(values, 0.5),
                "p90": _percentile(values, 0.9),
            }
    held = _held_dates(ids, period)
    for row in (
        Attendance.objects.filter(occurrence__in=held.values("pk"), household__isnull=False)
        .annotate(month=_month_of(Coalesce("occurrence__start", "occurrence__original_start")))
        .values("month", "occurrence__event__kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        series["events"][_as_date(row["month"])][row["occurrence__event__kind"]] = row["n"]
    for row in (
        CheckIn.objects.made()
        .filter(constellation__in=ids, occurred_at__gte=period.start, occurred_at__lt=period.end)
        .annotate(month=_month_of("occurred_at"))
        .values("month")
        .annotate(n=Count("pk"), households=Count("household", distinct=True))
        .order_by()
    ):
        series["contact"][_as_date(row["month"])] = {
            "check_ins": row["n"],
            "households": row["households"],
        }
    people = _People(ids)
    for month in months:
        month_last = min(add_months(month, 1) - timedelta(days=1), _as_of(period))
        satellites = sum(
            len(people.households_on(cid, month_last, satellites_only=True)) for cid in ids
        )
        row = series["contact"][month]
        row["satellites"] = satellites
        row["share"] = _ratio(row.get("households", 0), satellites)
    return series


def household_nights(ids, period: Period) -> list[dict]:
    """Fairness, household by household: nights at the hub in the period per
    requesting household (all, planned, crisis, other kinds), with the satellites in
    the constellation at the end of the period that had none (0). The count of
    ``Night.objects.per_household``, as the sleepovers fairness table. Dicts with
    ``constellation_id``, ``household_id``, ``total``, ``planned``, ``crisis``,
    ``other``. Two queries, plus the people of the constellations."""
    rows = {}
    for c in (
        Night.objects.per_household(ids, period.first, period.last)
        .values("request__constellation_id", "request__household_id")
        .annotate(
            n=Count("pk"),
            n_planned=Count("pk", filter=Q(request__kind=Kind.PLANNED)),
            n_crisis=Count("pk", filter=Q(request__kind=Kind.CRISIS)),
        )
    ):
        key = (c["request__constellation_id"], c["request__household_id"])
        rows[key] = {
            "constellation_id": key[0],
            "household_id": key[1],
            "total": c["n"],
            "planned": c["n_planned"],
            "crisis": c["n_crisis"],
            "other": c["n"] - c["n_planned"] - c["n_crisis"],
        }
    people = _People(ids)
    for cid in ids:
        for household in people.households_on(cid, _as_of(period), satellites_only=True):
            rows.setdefault(
                (cid, household),
                {
                    "constellation_id": cid,
                    "household_id": household,
                    "total": 0,
                    "planned": 0,
                    "crisis": 0,
                    "other": 0,
                },
            )
    return list(rows.values())


def carers_first_names(household_ids) -> dict[int, str]:
    """How the dashboards and their exports name a household: its current carers'
    first names ("Anna and Ben"), never the household's name, which is usually a
    surname a placed child may share (exports leave the service). One query."""
    names: dict[int, list[str]] = defaultdict(list)
    for household, first in (
        Carer.objects.current()
        .filter(household__in=list(household_ids))
        .order_by("role", "pk")
        .values_list("household_id", "user__first_name")
    ):
        if first and first.strip():
            names[household].append(first.strip())
    out = {}
    for household in household_ids:
        words = names.get(household, [])
        if not words:
            out[household] = f"Household {household}"
        elif len(words) == 1:
            out[household] = words[0]
        else:
            out[household] = ", ".join(words[:-1]) + " and " + words[-1]
    return out
