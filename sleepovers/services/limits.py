"""The rules a stay keeps over every one of its nights: its shape (what covers a night
is a stay), the hub's availability, the constellation's consecutive-nights limit and
yearly allowance, and the liaison worker's exceptions to them.

One definition of each count lives here (nights held, nights asked for), and the
booking form's tally, the fairness table and the rules all read it. Rules from
DOMAIN.md (workflow 1: planned support care, fairness) and the issue on sleepover
rules over the whole stay."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q

from constellation.models import Child, Constellation, Household

from ..models import (
    MAX_NIGHTS_LIMIT,
    OPEN,
    Kind,
    LimitOverride,
    Night,
    Request,
    Status,
    Unavailability,
    night_span,
    nights_between,
)
from ..selectors import beds_by_night, booked_by_night
from .cover import settings_for

# A short break or transport is help during the day: it lies within one day and
# covers no part of a night. Anything that covers a night is a stay.
DAYTIME_KINDS = {Kind.SHORT_BREAK, Kind.TRANSPORT}
# Help in a crisis is for now: an unplanned overnight stay, a night or two. What lasts
# longer is a planned stay (under the limits) or a temporary placement (the liaison
# worker's), so that no label gets round the limits.
CRISIS_NIGHTS = 2


def check_shape(kind: str, start: datetime, end: datetime) -> list[date]:
    """The nights a request of ``kind`` from ``start`` to ``end`` (aware) covers,
    after checking its shape: a short break or transport lies within one day and
    covers no night; a planned stay covers at least one night; a crisis at most
    ``CRISIS_NIGHTS``. Raises
    ValidationError naming the field."""
    stay = nights_between(start, end)
    if kind in DAYTIME_KINDS and stay:
        first = stay[0]
        begins, _ = night_span(first)
        label = Kind(kind).label.lower()
        raise ValidationError(
            {
                "end": f"A {label} is help during the day and ends by "
                f"{begins:%H:%M}; for a night or more, book a planned overnight stay."
            }
        )
    if kind == Kind.PLANNED and not stay:
        raise ValidationError({"end": "A planned overnight stay covers at least one night."})
    if kind == Kind.CRISIS and len(stay) > CRISIS_NIGHTS:
        raise ValidationError(
            {
                "end": f"Help in a crisis covers at most {CRISIS_NIGHTS} nights: for longer, "
                f"book a planned stay, or the liaison worker arranges a temporary placement."
            }
        )
    return stay


def nights_asked(request: Request) -> list[date]:
    """The nights an open request would hold if accepted: the offered time's while
    another time is offered, else its own."""
    if request.status == Status.OFFERED and request.offered_start and request.offered_end:
        return nights_between(request.offered_start, request.offered_end)
    return request.nights


def _open_requests_for(children, first: date, last: date, *, exclude: int | None):
    """Open requests of these children that may cover a night from first to last."""
    begins, _ = night_span(first - timedelta(days=1))
    _, ends = night_span(last + timedelta(days=1))
    overlapping = Q(start__lt=ends, end__gt=begins) | Q(
        offered_start__lt=ends, offered_end__gt=begins
    )
    return (
        Request.objects.filter(status__in=OPEN, children__in=children)
        .filter(overlapping)
        .exclude(pk=exclude)
        .distinct()
        .prefetch_related(Prefetch("children", queryset=Child.objects.only("pk")))
    )


def child_nights(
    children, first: date, last: date, *, asked: bool, exclude: int | None = None
) -> dict[int, dict[date, str]]:
    """For each child, the nights from ``first`` to ``last`` (dates) already taken at a
    hub: ``"held"`` (an accepted stay's night) or, when ``asked``, ``"asked"`` (an open
    request's). ``exclude`` leaves out one request (the one being checked). Two
    queries."""
    ids = [c.pk for c in children]
    found: dict[int, dict[date, str]] = {pk: {} for pk in ids}
    for row in Night.objects.filter(child_id__in=ids, date__gte=first, date__lte=last).exclude(
        request_id=exclude
    ):
        found[row.child_id][row.date] = "held"
    if asked:
        for request in _open_requests_for(children, first, last, exclude=exclude):
            nights = [d for d in nights_asked(request) if first <= d <= last]
            for child in request.children.all():
                if child.pk in found:
                    for day in nights:
                        found[child.pk].setdefault(day, "asked")
    return found


@dataclass(frozen=True)
class Tally:
    """A child's planned nights in a calendar year: held (accepted, past or coming)
    and asked for (open requests)."""

    held: int = 0
    asked: int = 0

    @property
    def total(self) -> int:
        return self.held + self.asked


def planned_tally(children, year: int, *, exclude: int | None = None) -> dict[int, Tally]:
    """For each child, the planned nights of ``year`` (each night counts in its own
    year) held and asked for: the one count the booking form's tally, the yearly
    allowance and the fairness table use. Two queries."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    held: dict[int, int] = defaultdict(int)
    asked: dict[int, int] = defaultdict(int)
    ids = [c.pk for c in children]
    rows = (
        Night.objects.filter(
            child_id__in=ids, date__gte=first, date__lte=last, request__kind=Kind.PLANNED
        )
        .exclude(request_id=exclude)
        .values_list("child_id", flat=True)
    )
    for child_id in rows:
        held[child_id] += 1
    open_planned = _open_requests_for(children, first, last, exclude=exclude).filter(
        kind=Kind.PLANNED
    )
    for request in open_planned:
        n = sum(1 for d in nights_asked(request) if first <= d <= last)
        for child in request.children.all():
            if child.pk in ids:
                asked[child.pk] += n
    return {pk: Tally(held[pk], asked[pk]) for pk in ids}


def overrides_for(children, first: date, last: date) -> dict[int, LimitOverride]:
    """For each child, an exception in force covering every night from first to last."""
    found = (
        LimitOverride.objects.in_force()
        .filter(child__in=children, start__lte=first, end__gte=last)
        .select_related("granted_by")
        .order_by("granted_at")
    )
    return {o.child_id: o for o in found}


def _run_around(stay: list[date], taken: dict[date, str]) -> tuple[date, date]:
    """The first and last night of the unbroken run of nights at the hub that holds
    the stay, with the child's other nights taken."""
    first, last = stay[0], stay[-1]
    while (first - timedelta(days=1)) in taken:
        first -= timedelta(days=1)
    while (last + timedelta(days=1)) in taken:
        last += timedelta(days=1)
    return first, last


def check_limits(
    constellation: Constellation,
    children,
    stay: list[date],
    *,
    asked: bool,
    exclude: int | None = None,
) -> str:
    """Refuse a planned stay (its nights, ``stay``) that the constellation's limits do
    not allow for a child, over every night: the consecutive-nights limit counts the
    child's adjacent nights at a hub that are held (and, when ``asked``, asked for);
    the yearly allowance counts each night in its own year. A child with the liaison
    worker's exception covering the stay skips both. Checked when asking (held and
    asked) and again at acceptance under the hub's lock (held only). Returns the
    exception's note for the timeline ("" when none applied); raises
    ValidationError naming the field."""
    limits = settings_for(constellation)
    overrides = overrides_for(children, stay[0], stay[-1])
    checked = [c for c in children if c.pk not in overrides]
    if checked:
        margin = timedelta(days=MAX_NIGHTS_LIMIT + 1)
        taken = child_nights(
            checked, stay[0] - margin, stay[-1] + margin, asked=asked, exclude=exclude
        )
        for child in checked:
            first, last = _run_around(stay, taken[child.pk])
            run = (last - first).days + 1
            if run > limits.max_consecutive_nights:
                if run == len(stay):
                    raise ValidationError(
                        {
                            "end": f"A planned stay is at most {limits.max_consecutive_nights} "
                            f"consecutive nights in this constellation (the liaison worker "
                            f"may make an exception)."
                        }
                    )
                raise ValidationError(
                    {
                        "end": f"With {child.known_as}'s other nights at the hub, this makes "
                        f"{run} nights in a row ({first:%d %B} to {last:%d %B}); a planned "
                        f"stay is at most {limits.max_consecutive_nights} consecutive nights "
                        f"in this constellation (the liaison worker may make an exception)."
                    }
                )
        allowance = limits.yearly_allowance_nights
        if allowance is not None:
            by_year: dict[int, int] = defaultdict(int)
            for day in stay:
                by_year[day.year] += 1
            for year, new in sorted(by_year.items()):
                tallies = planned_tally(checked, year, exclude=exclude)
                for child in checked:
                    tally = tallies[child.pk]
                    used = tally.total if asked else tally.held
                    if used + new > allowance:
                        words = "had or asked for" if asked else "had"
                        raise ValidationError(
                            {
                                "children": f"{child.known_as} has {words} {used} of "
                                f"{allowance} planned nights in {year}; this stay adds {new} "
                                f"(the liaison worker may make an exception)."
                            }
                        )
    if not overrides:
        return ""
    return "Beyond the limits by the liaison worker's exception: " + "; ".join(
        f"{c.known_as}: {overrides[c.pk].reason} ({overrides[c.pk].granted_by})"
        for c in children
        if c.pk in overrides
    )


def check_availability(hub: Household, stay: list[date]) -> None:
    """Refuse a planned stay on a night the hub (or its stand-in) is not available."""
    periods = list(Unavailability.objects.filter(hub=hub).covering(stay[0], stay[-1]))
    if periods:
        p = periods[0]
        raise ValidationError(
            {"start": f"The hub is not available from {p.start:%d %B} to {p.end:%d %B}: {p.note}"}
        )


def check_planned(constellation: Constellation, hub: Household, children, stay, **kw) -> str:
    """Availability, then the limits (see ``check_limits``), for a planned stay."""
    if not stay:
        raise ValidationError({"end": "A planned overnight stay covers at least one night."})
    check_availability(hub, stay)
    return check_limits(constellation, children, stay, **kw)


def beds_problem(hub: Household, stay: list[date], children: int) -> str:
    """Why the hub has no bed for ``children`` more on a night of ``stay``, naming the
    night and the free beds; "" when every night has room. Read without holding:
    the hold itself is ``beds._hold_nights``, under the hub's lock."""
    beds = beds_by_night(hub, stay[0], stay[-1])
    booked = booked_by_night(hub, stay[0], stay[-1])
    for day in stay:
        free = beds[day] - booked.get(day, 0)
        if free < children:
            free = max(free, 0)
            return (
                f"The hub is full on the night of {day:%A %d %B}: {free} bed"
                f"{'s' if free != 1 else ''} free for {children} "
                f"child{'ren' if children != 1 else ''}."
            )
    return ""
