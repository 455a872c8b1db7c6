"""The read side of sleepovers: named reads that pages, the API, feeds and other apps
use (the hub's inbox, a home page's panels, nights with guests, fairness). Built on
the QuerySets; nothing here writes."""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from constellation.models import (
    Carer,
    Child,
    Constellation,
    ConstellationMembership,
    Household,
    HubCover,
)

from .models import (
    ALLOWED,
    HOSTING,
    OPEN,
    BedChange,
    Kind,
    Night,
    Request,
    Status,
    Transition,
    Unavailability,
)

# --- beds and nights -------------------------------------------------------------------


def beds_by_night(hub: Household, first: date, last: date) -> dict[date, int]:
    """The beds of each night from ``first`` to ``last`` (inclusive), in one query:
    the newest bed change covering a night wins over the hub's usual number."""
    changes = list(
        BedChange.objects.filter(hub=hub).covering(first, last).order_by("created_at", "pk")
    )
    beds = {}
    day = first
    while day <= last:
        beds[day] = hub.beds
        for change in changes:  # oldest first, so the newest is applied last
            if change.start <= day <= change.end:
                beds[day] = change.beds
        day += timedelta(days=1)
    return beds


def booked_by_night(hub: Household, first: date, last: date) -> dict[date, int]:
    rows = (
        Night.objects.filter(hub=hub, date__gte=first, date__lte=last)
        .values("date")
        .annotate(n=Count("pk"))
    )
    return {row["date"]: row["n"] for row in rows}


@dataclass(frozen=True)
class NightInfo:
    date: date
    beds: int
    booked: int
    unavailable: str  # the hub's note, or ""
    covered_by: str = ""  # the stand-in household answering for the hub that night

    @property
    def free(self) -> int:
        return max(self.beds - self.booked, 0)


def nights(hub: Household, first: date, last: date) -> list[NightInfo]:
    """Each night's beds, booked children, free beds and unavailability: three queries
    whatever the range."""
    beds = beds_by_night(hub, first, last)
    booked = booked_by_night(hub, first, last)
    periods = list(Unavailability.objects.filter(hub=hub).covering(first, last))
    result = []
    for day, count in beds.items():
        note = next((p.note for p in periods if p.start <= day <= p.end), "")
        result.append(NightInfo(day, count, booked.get(day, 0), note))
    return result


def cover_on(constellation: Constellation, day: date) -> HubCover | None:
    """The stand-in covering the constellation's hub on the day, if any."""
    return (
        HubCover.objects.on(day)
        .filter(constellation=constellation)
        .select_related("stand_in")
        .order_by("-arranged_at", "-pk")
        .first()
    )


def nights_for_families(
    constellation: Constellation, first: date, last: date
) -> tuple[list[NightInfo], list[HubCover]]:
    """What the families see before they book: each night's free beds at the hub, or
    at the stand-in covering it that night (named), and the covers in the range."""
    days = {n.date: n for n in nights(constellation.hub, first, last)}
    covers = list(
        HubCover.objects.overlapping(first, last)
        .filter(constellation=constellation)
        .select_related("stand_in")
    )
    for cover in covers:
        for n in nights(cover.stand_in, max(first, cover.start), min(last, cover.end)):
            days[n.date] = replace(n, covered_by=cover.stand_in.name)
    return list(days.values()), covers


# The satellite home page shows the hub's free beds this far ahead, in days.
HOME_AVAILABILITY_DAYS = 14

# The inbox shows every open crisis (up to this many: more at once is a flood that the
# phone and the liaison worker handle, and the rest follow on the next pages), then
# the most urgent of what waits, a page at a time; the hub's home page a shorter list.
INBOX_CRISES = 8
INBOX_PAGE = 6
HOME_INBOX = 3
# A stand-in's home lists the stays it hosts up to this many, soonest first.
HOSTING_SHOWN = 10


@dataclass(frozen=True)
class Actions:
    """What the viewing person may do with a request now, read from the table."""

    accept: bool = False
    decline: bool = False
    offer: bool = False
    arrived: bool = False
    collected: bool = False
    did_not_arrive: bool = False
    take_offer: bool = False
    cancel: bool = False


def actions_for(sleepover: Request, *, is_hub: bool, is_requester: bool) -> Actions:
    allowed = ALLOWED[Status(sleepover.status)]
    return Actions(
        accept=is_hub and sleepover.status == Status.REQUESTED,
        decline=is_hub and Status.DECLINED in allowed,
        offer=is_hub and Status.OFFERED in allowed,
        arrived=is_hub and Status.ARRIVED in allowed,
        collected=is_hub and Status.COLLECTED in allowed,
        did_not_arrive=is_hub and Status.DID_NOT_ARRIVE in allowed,
        take_offer=is_requester and sleepover.status == Status.OFFERED,
        cancel=is_requester and Status.CANCELLED in allowed,
    )


def with_children(requests):
    return requests.select_related("household", "requested_by").prefetch_related(
        Prefetch("children", queryset=Child.objects.order_by("preferred_name", "first_name"))
    )


def span(rows: list[Request], first: date | None = None, last: date | None = None):
    """The first and last night the requests (and the given dates) cover."""
    firsts = [r.nights[0] for r in rows if r.nights] + ([first] if first else [])
    lasts = [r.nights[-1] for r in rows if r.nights] + ([last] if last else [])
    return (min(firsts), max(lasts)) if firsts else (None, None)


def attach_beds(hub: Household, rows: list[Request], by_day=None) -> None:
    """Each overnight request's fewest free beds and the hub's note for a night it is
    away, from one read of the nights the requests span (or ``by_day``, read already)."""
    for r in rows:
        r.fewest_free, r.short_of_beds, r.away_note = None, False, ""
    stays = [r for r in rows if r.nights]
    if not stays:
        return
    if by_day is None:
        by_day = {n.date: n for n in nights(hub, *span(stays))}
    for r in stays:
        infos = [by_day[day] for day in r.nights]
        r.fewest_free = min(i.free for i in infos)
        r.short_of_beds = r.fewest_free < len(r.children.all())
        r.away_note = next((i.unavailable for i in infos if i.unavailable), "")


def by_urgency(requests, now):
    """Open requests most urgent first, ordered in the database: every crisis not over
    yet, then the rest of what is not over yet, then what is (a stay whose time has
    passed can no longer be given); within each, what waits for the hub's answer before
    what waits for an approval or the family's reply to an offer, then by start."""
    return requests.annotate(
        over_rank=Case(
            When(end__lte=now, then=Value(2)),
            When(kind=Kind.CRISIS, then=Value(0)),
            default=Value(1),
        ),
        status_rank=Case(
            When(status=Status.REQUESTED, then=Value(0)),
            When(status=Status.AWAITING_APPROVAL, then=Value(1)),
            default=Value(2),
        ),
    ).order_by("over_rank", "status_rank", "start", "pk")


@dataclass
class InboxPage:
    """One page of a hub's open requests, most urgent first (iterate it for the
    requests). The first page holds the crises not over yet (up to ``INBOX_CRISES``)
    and ``size`` more in order of urgency; each further page the next ``size``.
    ``total`` counts every open request, ``crises`` the crises not over yet, ``rest``
    those after this page."""

    rows: list[Request]
    number: int
    pages: int
    total: int
    crises: int
    rest: int

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def inbox_counts(requests, now, **more) -> dict[str, int]:
    """How many of ``requests`` are open (``total``) and how many of those are crises
    not over yet at ``now`` (``crises``), with the ``more`` aggregates asked for, in one
    COUNT query."""
    return requests.aggregate(
        total=Count("pk", filter=Q(status__in=OPEN)),
        crises=Count("pk", filter=Q(status__in=OPEN, kind=Kind.CRISIS, end__gt=now)),
        **more,
    )


def inbox_page(
    requests, *, page: int = 1, size: int = INBOX_PAGE, now=None, counts=None
) -> InboxPage:
    """Slice ``requests`` (open requests, visible to the viewer, of one hub) into the
    page asked for, 1-based (out of range gives the nearest page): one COUNT query
    (none when ``counts``, from ``inbox_counts``, are given), one query for the rows and
    one for their children, whatever the number open."""
    now = now or timezone.now()
    counts = counts or inbox_counts(requests, now)
    total, crises = counts["total"], counts["crises"]
    first = min(crises, INBOX_CRISES) + size
    pages = 1 + max(0, -(-(total - first) // size))
    number = min(max(page, 1), pages)
    start = 0 if number == 1 else first + (number - 2) * size
    stop = first if number == 1 else start + size
    shown = by_urgency(with_children(requests).select_related("hub"), now)
    rows = list(shown[start:stop]) if total else []
    for r in rows:
        r.actions = actions_for(r, is_hub=True, is_requester=False)
    return InboxPage(
        rows=rows,
        number=number,
        pages=pages,
        total=total,
        crises=crises,
        rest=max(total - start - len(rows), 0),
    )


def hub_inbox(
    user, hub: Household | int, *, page: int = 1, size: int = INBOX_PAGE, now=None, counts=None
) -> InboxPage:
    """A page of the hub's open requests that ``user`` sees, most urgent first (see
    ``by_urgency`` and ``InboxPage``), each overnight one with its fewest free beds
    (read over the nights of the shown requests only). A bounded number of queries
    whatever the number of open requests. Each card shows its children as
    ``access.RequestViewer`` decides (``shown_children``), and the full records shown
    are logged."""
    inbox = _open_page(user, hub, page=page, size=size, now=now, counts=counts)
    if inbox.rows:
        attach_beds(inbox.rows[0].hub, inbox.rows)
    inbox.rows = _shown(user, inbox.rows, log=True)
    return inbox


def _open_page(user, hub, **kwargs) -> InboxPage:
    return inbox_page(Request.objects.visible_to(user).open().filter(hub=hub), **kwargs)


def _shown(user, rows: list[Request], *, records: bool = True, log: bool = False):
    # Imported here: the access helpers import the services, which import this module.
    from .access import RequestViewer

    return RequestViewer(user).attach(rows, records=records, log=log)


# --- live blocks: what a page shows, as one short version to compare ---------------------


def _scalar(queryset, function: str) -> Subquery:
    """``function`` (COUNT, MAX) of the queryset's primary keys as a scalar subquery (no
    GROUP BY: the function is not one Django knows as an aggregate)."""
    return Subquery(
        queryset.order_by().annotate(_v=Func(F("pk"), function=function)).values("_v"),
        output_field=IntegerField(),
    )


def _live_facts(user, hub: Household | int, now, *, covers_from: date | None = None) -> dict:
    """The facts a hub's live blocks depend on, read in one query: the open requests
    (how many in each status, the crises not over yet, those whose time has passed),
    the newest request and the newest move of any of the hub's requests (every request,
    answer, cancellation, approval, arrival and expiry writes one: ``Transition``),
    the hub's usual beds and its bed changes and periods away in force; and, from
    ``covers_from``, the covers of or by the hub now or coming."""
    hub_id = getattr(hub, "pk", hub)
    requests = Request.objects.visible_to(user).filter(hub_id=hub_id)
    open_ = requests.filter(status__in=OPEN)
    facts = {
        **{
            f"open_{status}": _scalar(open_.filter(status=status), "COUNT")
            for status in sorted(OPEN)
        },
        "crises": _scalar(open_.filter(kind=Kind.CRISIS, end__gt=now), "COUNT"),
        "over": _scalar(open_.filter(end__lte=now), "COUNT"),
        "last_request": _scalar(requests, "MAX"),
        "last_move": _scalar(Transition.objects.filter(request__in=requests.values("pk")), "MAX"),
        "bed_changes": _scalar(BedChange.objects.in_force().filter(hub_id=hub_id), "COUNT"),
        "last_bed_change": _scalar(BedChange.objects.filter(hub_id=hub_id), "MAX"),
        "away": _scalar(Unavailability.objects.in_force().filter(hub_id=hub_id), "COUNT"),
        "last_away": _scalar(Unavailability.objects.filter(hub_id=hub_id), "MAX"),
    }
    if covers_from is not None:
        covers = HubCover.objects.filter(Q(constellation__hub_id=hub_id) | Q(stand_in_id=hub_id))
        facts.update(
            covers=_scalar(covers.now_or_coming(covers_from), "COUNT"),
            last_cover=_scalar(covers, "MAX"),
        )
    # Named apart from the household's own fields (its ``bed_changes``, ``covering``).
    named = {f"live_{name}": value for name, value in facts.items()}
    row = Household.objects.filter(pk=hub_id).annotate(**named).values("beds", *named).first()
    return row or {}


@dataclass(frozen=True)
class Version:
    """What a live block was read at: ``value`` (``<newest request's id>.<digest>``,
    the id letting a poll tell which cards are new, see ``seen_request``) for the page
    to poll with, and the counts of the open requests (``total``, ``crises``, as
    ``inbox_counts`` gives them, at ``now``) for the block itself, so it need not count
    them again."""

    value: str
    counts: dict
    now: datetime

    def __str__(self) -> str:
        return self.value


def _version(facts: dict, now, *extra) -> Version:
    digest = hashlib.blake2b(
        repr((sorted(facts.items()), extra)).encode(), digest_size=8
    ).hexdigest()
    counts = {
        "total": sum(facts.get(f"live_open_{status}") or 0 for status in OPEN),
        "crises": facts.get("live_crises") or 0,
    }
    return Version(f"{facts.get('live_last_request') or 0}.{digest}", counts, now)


def inbox_version(user, hub: Household | int, *, now=None) -> Version:
    """A short version of what the hub's inbox shows ``user`` (``hub_inbox``, any page):
    it changes when a request comes, is answered, cancelled, approved, offered, expires
    or its time passes, and when the beds or the hub's periods away change. One query;
    the inbox's live block is re-rendered only when the page's version is not this one."""
    now = now or timezone.now()
    return _version(_live_facts(user, hub, now), now)


def hub_home_version(user, hub: Household | int, today: date, *, now=None) -> Version:
    """A short version of the hub carer's home page's live block (``hub_home``: the most
    urgent open requests, tonight and the week with the children booked, the covers):
    as ``inbox_version``, and it changes with the night (``today``) and the covers of
    or by the hub. One query."""
    now = now or timezone.now()
    facts = _live_facts(user, hub, now, covers_from=today)
    return _version(facts, now, today.isoformat())


def seen_request(version: str) -> int | None:
    """The newest request's id a page's version (``inbox_version``) was read with, or
    None when the version is not one of ours."""
    head, dot, digest = (version or "").partition(".")
    ours = (
        dot
        and head.isascii()
        and head.isdigit()
        and len(head) < 19
        and len(digest) == 16
        and all(c in "0123456789abcdef" for c in digest)
    )
    return int(head) if ours else None


def mark_new(rows: list[Request], seen: int | None) -> int:
    """Mark (``is_new``) the requests that came after the newest one a page had seen,
    and say how many; none when the page's version is unknown."""
    for r in rows:
        r.is_new = seen is not None and r.pk > seen
    return sum(r.is_new for r in rows)


def hub_home(user, hub: Household, today: date, *, version: Version | None = None) -> dict:
    """The hub carer's home page: the most urgent open requests (every crisis, then
    ``HOME_INBOX`` of what waits; ``inbox.total`` counts them all, as in ``hub_inbox``),
    and tonight and the six nights after with the children booked, from one read of
    the nights both cover; with the ``version`` of it all (``hub_home_version``, read
    first, so that a change in between shows at the page's next poll, unless given;
    its counts are the inbox's)."""
    version = version or hub_home_version(user, hub, today)
    last = today + timedelta(days=6)
    inbox = _open_page(user, hub, size=HOME_INBOX, now=version.now, counts=version.counts)
    by_day = {n.date: n for n in nights(hub, *span(inbox.rows, today, last))}
    attach_beds(hub, inbox.rows, by_day)
    inbox.rows = _shown(user, inbox.rows, log=True)
    guests = guests_by_night(hub, today, last)
    week = [today + timedelta(days=i) for i in range(7)]
    return {
        "version": version,
        "inbox": inbox,
        "week": [{"night": by_day[day], "guests": guests.get(day, [])} for day in week],
        # Who covers for this hub, and whom this hub covers for, now or coming.
        "covers": list(
            HubCover.objects.now_or_coming(today)
            .filter(Q(constellation__hub=hub) | Q(stand_in=hub))
            .select_related("constellation", "stand_in")
        ),
    }


def guests_by_night(hub: Household, first: date, last: date) -> dict[date, list[Night]]:
    """The children booked at the hub each night, in one query."""
    found = defaultdict(list)
    for row in Night.objects.guests(hub, first, last):
        found[row.date].append(row)
    return found


def nights_with_guests(hub: Household, first: date, last: date, *, guests: bool) -> list[dict]:
    """Each night's beds, free beds and the hub's note, with the children booked
    (only for those who see the children's records): four queries whatever the range."""
    found = guests_by_night(hub, first, last) if guests else {}
    return [{"night": n, "guests": found.get(n.date, [])} for n in nights(hub, first, last)]


def hub_availability(constellation: Constellation, first: date, last: date) -> dict:
    """What a family sees before it books: free beds each night (at the stand-in on
    the nights it covers), who covers when, and the periods the hub is away."""
    days, covers = nights_for_families(constellation, first, last)
    return {
        "days": days,
        "covers": covers,
        "away": list(Unavailability.objects.filter(hub=constellation.hub).covering(first, last)),
    }


def cover_duty(user, household_id: int, today: date, *, page: int = 1) -> dict:
    """For a household standing in for a hub: its covers now or coming, a page of the
    open requests sent to it to answer (as the hub's inbox, see ``hub_inbox``), and the
    ``HOSTING_SHOWN`` soonest stays it hosts (to record arrivals and collections).
    Empty when it covers nothing and has none: two queries then."""
    covers = list(
        HubCover.objects.now_or_coming(today)
        .filter(stand_in_id=household_id)
        .select_related("constellation", "stand_in")
    )
    now = timezone.now()
    mine = Request.objects.visible_to(user).filter(hub=household_id)
    hosts = Q(status__in=HOSTING, end__gte=now)
    counts = inbox_counts(mine, now, hosting=Count("pk", filter=hosts))
    if not covers and not counts["total"] and not counts["hosting"]:
        return {}
    hosting = _shown(
        user,
        with_children(mine.filter(hosts))
        .select_related("hub")
        .order_by("start", "pk")[:HOSTING_SHOWN],
        log=True,
    )
    inbox = hub_inbox(user, household_id, page=page, now=now, counts=counts)
    household = covers[0].stand_in if covers else [*inbox.rows, *hosting][0].hub
    for r in hosting:
        r.actions = actions_for(r, is_hub=True, is_requester=False)
    return {"stand_in": household, "covering": covers, "cover_inbox": inbox, "hosting": hosting}


def household_requests_now(user, household_id: int) -> list[Request]:
    """A family's requests that are open or not over yet, soonest first, with their
    children as the user may see them (``shown_children``)."""
    return _shown(
        user,
        with_children(
            Request.objects.visible_to(user).filter(
                household_id=household_id,
                status__in=OPEN | {Status.ACCEPTED, Status.ARRIVED},
                end__gte=timezone.now(),
            )
        ).order_by("start")[:10],
        records=False,
    )


def hub_phones(hub: Household) -> dict:
    return {
        "hub": hub,
        "hub_carers": Carer.objects.current().filter(household=hub).select_related("user"),
    }


def fairness(user, constellations, today: date) -> list[dict]:
    """Nights at the hub per household in ``today``'s calendar year, held ones past and
    booked ahead (one per child and night, each night in its own year): the same
    count as a child's tally on the booking form and the yearly allowance
    (``services.limits.planned_tally``). One query, with the active households that
    had none."""
    counted = Night.objects.per_household(
        constellations, date(today.year, 1, 1), date(today.year, 12, 31)
    )
    rows = {
        (c["request__constellation__name"], c["request__household_id"]): {
            "constellation": c["request__constellation__name"],
            "household": c["request__household__name"],
            "total": c["total"],
            "planned": c["planned"],
            "crisis": c["crisis"],
            "other": c["total"] - c["planned"] - c["crisis"],
        }
        for c in counted
    }
    members = ConstellationMembership.objects.visible_to(user).filter(
        constellation__in=constellations, status=ConstellationMembership.Status.ACTIVE
    )
    for m in members.select_related("constellation", "household"):
        rows.setdefault(
            (m.constellation.name, m.household_id),
            {
                "constellation": m.constellation.name,
                "household": m.household.name,
                "total": 0,
                "planned": 0,
                "crisis": 0,
                "other": 0,
            },
        )
    return sorted(rows.values(), key=lambda r: (r["constellation"], r["household"]))
