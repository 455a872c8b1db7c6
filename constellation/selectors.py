"""The read side of regular contact and the liaison worker's desk (issue 11): named
reads that the pages, the API, the reminders and the digest all use, so that a
count shown in one place is the count shown in every other.

Days are counted in Europe/London calendar days: a contact at 23:50 on Monday is
one day old on Tuesday."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.utils import timezone

from .models import (
    Activity,
    CheckIn,
    Child,
    Concern,
    Constellation,
    ConstellationMembership,
    FollowUp,
    Household,
)

OK, AMBER, RED = "ok", "amber", "red"
LEVEL_LABELS = {OK: "In touch", AMBER: "Due a check-in", RED: "Overdue"}


def contact_level(days: int, *, amber_days: int, red_days: int) -> str:
    """The coverage level of a household ``days`` London days after its last contact
    made: amber when more than ``amber_days`` have passed, red when more than
    ``red_days`` (defaults 10 and 14: 10 days is still in touch, 11 is amber, 14 is
    amber, 15 is red). The one rule for pages, API, reminders and the digest."""
    if days > red_days:
        return RED
    if days > amber_days:
        return AMBER
    return OK


@dataclass(frozen=True)
class CoverageRow:
    """One satellite household's contact coverage on ``today``.

    ``last_contact`` is the London date of the last contact made (None if never);
    ``days`` counts London days since it, or since the household joined when never
    contacted; ``level`` is ok, amber or red (``contact_level``)."""

    household: Household
    constellation: Constellation
    last_contact: date | None
    days: int
    level: str
    open_follow_ups: int
    overdue_follow_ups: int

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment).date() if moment is not None else None


def coverage(constellations, *, today: date | None = None) -> list[CoverageRow]:
    """Coverage of every active satellite household of ``constellations`` (a queryset
    or list of Constellations), reddest first, then by the days since contact, then
    by name. Three queries whatever the number of households."""
    today = today or timezone.localdate()
    memberships = list(
        ConstellationMembership.objects.filter(
            constellation__in=constellations, status=ConstellationMembership.Status.ACTIVE
        )
        .select_related("household", "constellation")
        .annotate(
            last_made=Max(
                "household__check_ins__occurred_at",
                filter=Q(household__check_ins__made=True)
                & Q(household__check_ins__constellation=F("constellation")),
            )
        )
    )
    follow_ups = {
        row["check_in__household"]: row
        for row in FollowUp.objects.open()
        .filter(check_in__household__in=[m.household_id for m in memberships])
        .values("check_in__household")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(due_on__lt=today)),
        )
    }
    rows = []
    for m in memberships:
        last = _local_date(m.last_made)
        since = last or m.joined_on or m.proposed_on
        days = max(0, (today - since).days)
        c = m.constellation
        counts = follow_ups.get(m.household_id, {})
        rows.append(
            CoverageRow(
                household=m.household,
                constellation=c,
                last_contact=last,
                days=days,
                level=contact_level(
                    days, amber_days=c.contact_amber_days, red_days=c.contact_red_days
                ),
                open_follow_ups=counts.get("open", 0),
                overdue_follow_ups=counts.get("overdue", 0),
            )
        )
    order = {RED: 0, AMBER: 1, OK: 2}
    rows.sort(key=lambda r: (order[r.level], -r.days, r.household.name))
    return rows


def check_ins_of(household: Household, user, *, limit: int = 20):
    """The household's latest check-ins the user may read, with their follow-ups."""
    return (
        CheckIn.objects.visible_to(user)
        .filter(household=household)
        .select_related("recorded_by")
        .prefetch_related("follow_ups__assigned_to")[:limit]
    )


def concerns_of_household(household: Household, user):
    """The household's concerns the user may read: open ones first, newest first."""
    return (
        Concern.objects.visible_to(user)
        .filter(household=household)
        .select_related("opened_by", "closed_by")
        .order_by("status", "-opened_at")
    )


def open_concerns_of_child(child: Child, user):
    """Open concerns naming the child, or about the household the child lives in."""
    return (
        Concern.objects.visible_to(user)
        .open()
        .filter(Q(children=child) | Q(household_id=child.household_id))
        .distinct()
        .select_related("household")
    )


def stays_to_resolve(constellations, *, now: datetime | None = None):
    """Stays not over yet (open or accepted) booked by a household for a child who
    has since moved away from it and does not live there now (a child who came back
    is the household's again): the liaison worker resolves them (issue 11)."""
    from sleepovers.models import OPEN, Request, Status

    now = now or timezone.now()
    moved_away = Request.children.through.objects.filter(
        request_id=OuterRef("pk"),
        child__former_access__household_id=OuterRef("household_id"),
    ).exclude(child__household_id=OuterRef("household_id"))
    return (
        Request.objects.filter(
            constellation__in=constellations,
            status__in=[*OPEN, Status.ACCEPTED],
            end__gt=now,
        )
        .filter(Exists(moved_away))
        .select_related("household")
        .order_by("start")
    )


# --- the liaison worker's desk ------------------------------------------------------------


@dataclass
class Queue:
    """What waits on a liaison worker (or a manager), each list small and linked."""

    approvals: list = field(default_factory=list)
    temporary_placements: list = field(default_factory=list)
    concerns: list = field(default_factory=list)
    reviews: list = field(default_factory=list)
    red_households: list = field(default_factory=list)
    overdue_follow_ups: list = field(default_factory=list)
    stays_to_resolve: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(
            len(x)
            for x in (
                self.approvals,
                self.temporary_placements,
                self.concerns,
                self.reviews,
                self.red_households,
                self.overdue_follow_ups,
                self.stays_to_resolve,
            )
        )


REVIEW_AHEAD = timedelta(days=14)
TEMPORARY_AHEAD = timedelta(days=7)


def desk_constellations(user, constellation_id: int | None = None):
    """The constellations of a user's desk: those they manage (a liaison worker's
    assignments; a manager's whole service), optionally one of them."""
    constellations = Constellation.objects.managed_by(user)
    if constellation_id is not None:
        constellations = constellations.filter(pk=constellation_id)
    return constellations


def queue(user, *, constellations=None, now: datetime | None = None) -> Queue:
    """Everything waiting on ``user`` in ``constellations`` (default: their desk):
    approvals they hold, temporary placements whose expected end is within 7 days or
    past, open concerns, delegated authority agreements due for review within 14 days
    or overdue, households past the red threshold, follow-ups overdue, and stays to
    resolve for children who moved away. A bounded number of queries."""
    from delegated_authority.models import Agreement, Approval
    from sleepovers.models import Kind, Request, Status

    now = now or timezone.now()
    today = timezone.localdate(now)
    if constellations is None:
        constellations = desk_constellations(user)
    constellations = list(constellations)
    q = Queue()
    q.approvals = list(
        Approval.objects.pending()
        .for_holder(user)
        .filter(Q(constellation__in=constellations) | Q(assigned_to=user))
        .select_related("child", "decision")
        .order_by("requested_at")[:50]
    )
    q.temporary_placements = list(
        Request.objects.filter(
            constellation__in=constellations,
            kind=Kind.TEMPORARY,
            status__in=[
                Status.REQUESTED,
                Status.AWAITING_APPROVAL,
                Status.ACCEPTED,
                Status.ARRIVED,
            ],
            end__lte=now + TEMPORARY_AHEAD,
        )
        .select_related("household")
        .prefetch_related("children")
        .order_by("end")[:50]
    )
    q.concerns = list(
        Concern.objects.open()
        .filter(constellation__in=constellations)
        .select_related("household", "constellation")
        .order_by("opened_at")[:50]
    )
    children = Child.objects.placed_in(constellations)
    q.reviews = list(
        Agreement.objects.latest_versions()
        .filter(child__in=children, review_on__lte=today + REVIEW_AHEAD)
        .select_related("child")
        .order_by("review_on")[:50]
    )
    q.red_households = [r for r in coverage(constellations, today=today) if r.level == RED]
    q.overdue_follow_ups = list(
        FollowUp.objects.overdue(today)
        .filter(check_in__constellation__in=constellations)
        .select_related("check_in__household", "assigned_to")
        .order_by("due_on")[:50]
    )
    q.stays_to_resolve = list(stays_to_resolve(constellations, now=now)[:50])
    return q


# --- the activity feed ----------------------------------------------------------------


@dataclass(frozen=True)
class FeedFilters:
    """The feed's filters, each optional: ids, an ActivityKind value, London dates."""

    constellation: int | None = None
    household: int | None = None
    child: int | None = None
    kind: str | None = None
    since: date | None = None
    until: date | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def activity_feed(user, filters: FeedFilters):
    """The activity record the user may read (``Activity.objects.visible_to``),
    filtered, newest first (``-created_at, -pk``: the order the indexes
    ``activity_feed``, ``activity_feed_kind`` and ``activity_household`` serve).
    Keyset paging is the caller's (``page_after``)."""
    rows = Activity.objects.visible_to(user)
    if filters.constellation:
        rows = rows.filter(constellation_id=filters.constellation)
    if filters.household:
        rows = rows.filter(household_id=filters.household)
    if filters.child:
        rows = rows.filter(children=filters.child)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.since:
        rows = rows.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        rows = rows.filter(created_at__lt=_start_of(filters.until + timedelta(days=1)))
    return rows.select_related("actor", "constellation", "household").order_by("-created_at", "-pk")


def page_after(rows, *, after: tuple[datetime, int] | None, size: int = 25):
    """One page of ``rows`` (ordered ``-created_at, -pk``) after the cursor ``after``
    (the last row's moment and id), and the cursor of the next page or None. One
    query: a page past 100,000 rows costs what the first does."""
    if after is not None:
        moment, pk = after
        # ``created_at <= moment`` is what an index seeks to (an OR alone is only a
        # filter, read from the newest row down); the OR breaks ties within a moment.
        rows = rows.filter(created_at__lte=moment).filter(
            Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk)
        )
    page = list(rows[: size + 1])
    more = len(page) > size
    page = page[:size]
    cursor = (page[-1].created_at, page[-1].pk) if more and page else None
    return page, cursor
