"""The read side of the calendar: the dates a user sees over a window, with the
answers counted, and the hub's own availability beside them (read from the
sleepovers app, not copied). Pages, the API, feeds and reminders all read here, in
a fixed number of queries whatever the number of events, dates and answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, Sum

from constellation.models import Carer, Constellation, HubCover
from sleepovers.models import Unavailability

from .models import Answer, Event, Occurrence, Rsvp
from .recurrence import MAX_WINDOW, Slot, london_midnight, slots
from .services import MAX_LENGTH, closes_at


def occurrence_rows(events, first: datetime, last: datetime) -> list[Occurrence]:
    """The rows said of ``events``' dates that may touch ``first``..``last``: one
    query (the dates the rule puts there, and the ones moved into it)."""
    return list(
        Occurrence.objects.filter(event__in=events).filter(
            Q(original_start__gte=first - MAX_LENGTH - timedelta(days=1), original_start__lt=last)
            | Q(start__lt=last, end__gt=first)
        )
    )


def expand(events, first: datetime, last: datetime, *, cancelled: bool = True) -> list[Slot]:
    """The dates of ``events`` (a queryset or list) over ``first``..``last`` (aware),
    with their rows: two queries."""
    events = list(events)
    if not events:
        return []
    return slots(
        events, first, last, rows=occurrence_rows(events, first, last), cancelled=cancelled
    )


def count_answers(found: list[Slot], *, household=None) -> None:
    """Attach to each slot ``coming`` (people with a place), ``waiting`` (people on the
    waiting list), ``answers`` (households that answered yes/maybe/no) and, when
    ``household`` is given, ``mine`` (its own Rsvp): two queries at most."""
    row_ids = [slot.occurrence.pk for slot in found if slot.occurrence is not None]
    totals: dict[int, dict] = {}
    mine: dict[int, Rsvp] = {}
    if row_ids:
        for line in (
            Rsvp.objects.filter(occurrence_id__in=row_ids)
            .values("occurrence_id")
            .annotate(
                coming=Sum("people", filter=Q(answer=Answer.YES, waiting_since__isnull=True)),
                waiting=Sum("people", filter=Q(answer=Answer.YES, waiting_since__isnull=False)),
                yes=Count("pk", filter=Q(answer=Answer.YES)),
                maybe=Count("pk", filter=Q(answer=Answer.MAYBE)),
                no=Count("pk", filter=Q(answer=Answer.NO)),
            )
        ):
            totals[line["occurrence_id"]] = line
        if household is not None:
            mine = {
                rsvp.occurrence_id: rsvp
                for rsvp in Rsvp.objects.filter(occurrence_id__in=row_ids, household=household)
            }
    for slot in found:
        line = totals.get(slot.occurrence.pk if slot.occurrence else None, {})
        slot.coming = line.get("coming") or 0
        slot.extra["waiting"] = line.get("waiting") or 0
        slot.extra["answers"] = {
            "yes": line.get("yes", 0), "maybe": line.get("maybe", 0), "no": line.get("no", 0)
        }  # fmt: skip
        slot.extra["mine"] = mine.get(slot.occurrence.pk) if slot.occurrence else None
        capacity = slot.event.capacity
        slot.extra["places_left"] = None if capacity is None else max(capacity - slot.coming, 0)
        slot.extra["closes_at"] = closes_at(slot.event, slot.start)


@dataclass
class Away:
    """A period the hub is not available, or covered by a stand-in, as the calendar
    shows it: London days ``first``..``last`` inclusive."""

    kind: str  # "away" or "cover"
    first: date
    last: date
    note: str
    pk: int
    stand_in: str = ""
    withdrawn: bool = False

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def hub_periods(constellations, first: date, last: date) -> list[Away]:
    """The hub's unavailable periods and covers of ``constellations`` overlapping
    ``first``..``last`` (London days), from the sleepovers app: two queries."""
    constellations = list(constellations)
    hubs = [c.hub_id for c in constellations if c.hub_id]
    periods = [
        Away("away", u.start, u.end, u.note, u.pk)
        for u in Unavailability.objects.filter(hub_id__in=hubs).covering(first, last)
    ]
    periods += [
        Away("cover", c.start, c.end, c.note, c.pk, stand_in=c.stand_in.name)
        for c in HubCover.objects.in_force()
        .overlapping(first, last)
        .filter(constellation__in=constellations)
        .select_related("stand_in")
    ]
    periods.sort(key=lambda p: (p.first, p.kind, p.pk))
    return periods


def constellations_of(user):
    """The constellations whose calendar ``user`` reads: the one their household is in
    (hub or active member), those they are liaison worker of, and for a manager
    their service's."""
    if not user.is_authenticated:
        return Constellation.objects.none()
    own = Carer.objects.current().filter(user=user).values("household_id")
    return (
        Constellation.objects.filter(
            Q(hub__in=own)
            | Q(memberships__household__in=own, memberships__status="active")
            | Q(pk__in=Constellation.objects.managed_by(user).values("pk"))
        )
        .distinct()
        .order_by("name")
    )


@dataclass
class Window:
    """What a user's calendar shows over ``first``..``last`` (London days)."""

    first: date
    last: date
    slots: list[Slot]
    periods: list[Away]
    constellations: list[Constellation] = field(default_factory=list)

    def on(self, day: date) -> dict:
        return {
            "slots": [s for s in self.slots if day in s.days],
            "periods": [p for p in self.periods if p.first <= day <= p.last],
        }


def window(
    user,
    first: date,
    last: date,
    *,
    constellation: Constellation | None = None,
    household=None,
    periods: bool = True,
) -> Window:
    """The events ``user`` may see (``Event.objects.visible_to``) with a date over the
    London days ``first``..``last`` inclusive, each date counted, with the user's own
    household's answers (``household`` when the caller knows it, else looked up), and
    the hub's availability (left out when ``periods`` is False): a fixed number of
    queries. Raises ``ValueError`` for a window over 400 days."""
    start, end = london_midnight(first), london_midnight(last + timedelta(days=1))
    if end - start > MAX_WINDOW:
        raise ValueError("window too wide")
    constellations = list(constellations_of(user))
    if constellation is not None:
        constellations = [c for c in constellations if c.pk == constellation.pk]
    events = (
        Event.objects.visible_to(user)
        .filter(constellation__in=constellations)
        .dated_between(start, end)
        .select_related("constellation")
    )
    found = expand(events, start, end)
    if household is None and user.is_authenticated:
        carer = Carer.objects.current().filter(user=user).select_related("household").first()
        household = carer.household if carer else None
    count_answers(found, household=household)
    away = hub_periods(constellations, first, last) if periods else []
    return Window(first, last, found, away, constellations)


# --- the calendar's pages: a month, a week, a day, one date, who came -------------------

ATTENDANCE_LOOK_BACK = timedelta(days=60)
ATTENDANCE_OVERDUE = timedelta(days=7)


def when(slot: Slot) -> str:
    """A date's time in words, at London wall-clock time: "Tuesday 5 January 2027,
    19:00–21:00"; an all-day date gives its day(s)."""
    start, end = slot.local_start, slot.local_end
    if slot.all_day:
        days = slot.days
        if len(days) == 1:
            return f"{days[0]:%A %-d %B %Y}, all day"
        return f"{days[0]:%A %-d %B} to {days[-1]:%A %-d %B %Y}, all day"
    if slot.days[-1] == start.date():
        return f"{start:%A %-d %B %Y, %H:%M}–{end:%H:%M}"
    return f"{start:%A %-d %B %Y, %H:%M} to {end:%A %-d %B %Y, %H:%M}"


@dataclass
class Day:
    """One London day of a page: the dates on it and the hub's periods away or covered."""

    date: date
    slots: list[Slot]
    periods: list[Away]
    in_month: bool = True

    @property
    def empty(self) -> bool:
        return not self.slots and not self.periods


def _days(found: Window, first: date, last: date, *, month: int | None = None) -> list[Day]:
    days = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        on = found.on(day)
        days.append(Day(day, on["slots"], on["periods"], month is None or day.month == month))
    return days


def month(user, year: int, month_number: int, *, constellation=None) -> dict:
    """The month grid of ``user``'s calendar: whole weeks Monday to Sunday around the
    month (``weeks``, lists of ``Day``), its days (``days``, only the month's) and the
    hub's periods overlapping it, read through ``window``: a fixed number of queries."""
    first = date(year, month_number, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    grid_first = first - timedelta(days=first.weekday())
    grid_last = last + timedelta(days=6 - last.weekday())
    found = window(user, grid_first, grid_last, constellation=constellation)
    days = _days(found, grid_first, grid_last, month=month_number)
    return {
        "window": found,
        "first": first,
        "last": last,
        "weeks": [days[n : n + 7] for n in range(0, len(days), 7)],
        "days": [d for d in days if d.in_month],
        "periods": [p for p in found.periods if p.first <= last and p.last >= first],
    }


def days_between(user, first: date, last: date, *, constellation=None) -> dict:
    """The days ``first``..``last`` of ``user``'s calendar (a week or one day), each
    with its dates and the hub's periods, read through ``window``."""
    found = window(user, first, last, constellation=constellation)
    return {"window": found, "days": _days(found, first, last)}


@dataclass
class DatePage:
    """One date of an event as its page shows it: the slot (counted, with the user's
    own answer in ``slot.extra``) and the answers so far, by kind."""

    slot: Slot
    coming: list[Rsvp]
    waiting: list[Rsvp]
    maybe: list[Rsvp]
    not_coming: list[Rsvp]

    @property
    def answered(self) -> bool:
        return bool(self.coming or self.waiting or self.maybe or self.not_coming)


def date_page(user, event: Event, original_start: datetime, *, household=None) -> DatePage | None:
    """One date of ``event`` (already fetched through ``access.get_event_for``) whose
    original start is ``original_start`` (aware), or None when the event has no date
    then. Each answer carries its household or person kept connected and the children
    ``user`` may see (``Child.objects.visible_to``), to be shown by ``known_as``; the
    slot is counted (``count_answers``) with ``household``'s own answer: five queries."""
    from django.db.models import Prefetch

    from constellation.models import Child

    from .recurrence import slot_of

    row = Occurrence.objects.filter(event=event, original_start=original_start).first()
    slot = slot_of(event, original_start, row)
    if slot is None:
        return None
    count_answers([slot], household=household)
    rsvps = []
    if row is not None:
        rsvps = list(
            Rsvp.objects.filter(occurrence=row)
            .select_related("household", "contact")
            .prefetch_related(
                Prefetch(
                    "children",
                    queryset=Child.objects.visible_to(user).order_by(
                        "preferred_name", "first_name"
                    ),
                    to_attr="shown_children",
                )
            )
            .order_by("answered_at", "pk")
        )
    rsvps.sort(key=lambda r: (r.waiting_since or r.answered_at, r.pk))
    yes = [r for r in rsvps if r.answer == Answer.YES]
    return DatePage(
        slot=slot,
        coming=[r for r in yes if not r.waiting],
        waiting=[r for r in yes if r.waiting],
        maybe=[r for r in rsvps if r.answer == Answer.MAYBE],
        not_coming=[r for r in rsvps if r.answer == Answer.NO],
    )


def next_date(event: Event, now: datetime) -> datetime | None:
    """The original start of ``event``'s date in progress or next to come after ``now``
    (aware); else its last date before; None when it has no date at all."""
    from .recurrence import placed, series, wall

    if not event.rule:
        return event.start
    upcoming = [s for s in expand([event], now - MAX_LENGTH, now + MAX_WINDOW / 2) if s.end > now]
    if upcoming:
        return upcoming[0].original_start
    before = series(event.rule, wall(event.start), event.repeat_until).before(wall(now), inc=True)
    return placed(before) if before is not None else None


def _dated_between(events, start: datetime, end: datetime):
    """``events`` that may have a date overlapping ``start``..``end`` (aware), as
    ``window`` narrows them (``EventQuerySet.dated_between``)."""
    return events.dated_between(start, end)


@dataclass
class Due:
    """A date of the hub's calendar that has ended without who came recorded."""

    slot: Slot
    overdue: bool

    @property
    def key(self) -> str:
        return self.slot.key


def attendance_due(user, today: date, *, now: datetime | None = None) -> list[Due]:
    """The dates of the calendars of the hubs ``user`` cares for that ended in the
    last 60 days (from London ``today``) and whose attendance is not recorded, oldest
    first; ``overdue`` when they ended over 7 days before ``now``. Cancelled dates are
    left out. Two queries whatever the number of events and dates."""
    from django.utils import timezone

    now = now or timezone.now()
    start = london_midnight(today) - ATTENDANCE_LOOK_BACK
    own = Carer.objects.current().filter(user=user).values("household_id")
    events = _dated_between(
        Event.objects.filter(constellation__hub__in=own, status=Event.Status.SCHEDULED),
        start,
        now,
    ).select_related("constellation")
    found = expand(events, start, now, cancelled=False)
    return [
        Due(slot, overdue=now - slot.end > ATTENDANCE_OVERDUE)
        for slot in found
        if slot.end <= now
        and slot.end > start
        and (slot.occurrence is None or slot.occurrence.attendance_recorded_at is None)
    ]


@dataclass
class AttendanceLine:
    """One line of the attendance form: a household (or a person kept connected), its
    placed children to tick, and what the form starts from (what was recorded, else
    the answers: a yes with a place comes prefilled)."""

    household: object | None
    contact: object | None
    children: list
    adults: int = 0
    came_children: list[int] = field(default_factory=list)
    answer: str = ""

    @property
    def prefix(self) -> str:
        return f"h{self.household.pk}" if self.household is not None else f"c{self.contact.pk}"

    @property
    def name(self) -> str:
        return self.household.name if self.household is not None else self.contact.name


def attendance_lines(event: Event, slot: Slot) -> list[AttendanceLine]:
    """The lines of the attendance form for one date: every household that may be
    recorded (``access.households_to_record``; for a contact session its household
    and the hub), with its placed children, and the people kept connected who
    answered; each prefilled from what was recorded, else from the answers. Five
    queries whatever the number of households."""
    from django.db.models import Prefetch

    from constellation.models import Child

    from .access import households_to_record
    from .models import Attendance

    households = households_to_record(event.constellation)
    if event.kind == Event.Kind.CONTACT:
        households = households.filter(
            Q(pk__in=event.invited_households.values("pk")) | Q(hub_of=event.constellation)
        )
    households = list(
        households.prefetch_related(
            Prefetch(
                "children",
                queryset=Child.objects.filter(status=Child.Status.PLACED).order_by(
                    "preferred_name", "first_name"
                ),
                to_attr="placed_children",
            )
        )
    )
    row = slot.occurrence
    rsvps, recorded = [], []
    if row is not None:
        rsvps = list(
            Rsvp.objects.filter(occurrence=row)
            .select_related("contact")
            .prefetch_related("children")
        )
        if row.attendance_recorded_at is not None:
            recorded = list(Attendance.objects.filter(occurrence=row).prefetch_related("children"))
    by_household = {r.household_id: r for r in rsvps if r.household_id}
    came = {a.household_id or -a.contact_id: a for a in recorded}
    lines = []
    for household in households:
        line = AttendanceLine(household, None, household.placed_children)
        rsvp = by_household.get(household.pk)
        line.answer = rsvp.get_answer_display() if rsvp else ""
        if row is not None and row.attendance_recorded_at is not None:
            done = came.get(household.pk)
            if done is not None:
                line.adults = done.adults
                line.came_children = [c.pk for c in done.children.all()]
        elif rsvp is not None and rsvp.coming:
            line.adults = rsvp.adults
            line.came_children = [c.pk for c in rsvp.children.all()]
        lines.append(line)
    for rsvp in rsvps:
        if rsvp.contact_id is None:
            continue
        line = AttendanceLine(None, rsvp.contact, [], answer=rsvp.get_answer_display())
        if row.attendance_recorded_at is not None:
            done = came.get(-rsvp.contact_id)
            line.adults = done.adults if done is not None else 0
        elif rsvp.coming:
            line.adults = rsvp.adults
        lines.append(line)
    return lines


def upcoming(user, today: date, *, household=None, days: int = 21, limit: int = 4) -> list[Slot]:
    """The next dates ``user`` may see from now over ``days`` London days, at most
    ``limit``, cancelled ones left out, each counted with ``household``'s own answer
    (for the home page; ``window``'s queries, without the hub's periods)."""
    from django.utils import timezone

    now = timezone.now()
    found = window(
        user, today, today + timedelta(days=days - 1), household=household, periods=False
    )
    return [slot for slot in found.slots if not slot.cancelled and slot.end > now][:limit]


def bed_events(user, constellation: Constellation, first: date, last: date) -> list[Slot]:
    """The dates of ``constellation``'s events marked as taking the hub's beds, over the
    London days ``first``..``last``, that ``user`` may see, cancelled ones left out:
    shown beside the hub's availability so that families know before they book."""
    found = window(user, first, last, constellation=constellation)
    return [slot for slot in found.slots if slot.event.affects_beds and not slot.cancelled]
