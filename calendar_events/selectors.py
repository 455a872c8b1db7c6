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


def window(user, first: date, last: date, *, constellation: Constellation | None = None) -> Window:
    """The events ``user`` may see (``Event.objects.visible_to``) with a date over the
    London days ``first``..``last`` inclusive, each date counted, with the user's own
    household's answers, and the hub's availability: a fixed number of queries.
    Raises ``ValueError`` for a window over 400 days."""
    start, end = london_midnight(first), london_midnight(last + timedelta(days=1))
    if end - start > MAX_WINDOW:
        raise ValueError("window too wide")
    constellations = list(constellations_of(user))
    if constellation is not None:
        constellations = [c for c in constellations if c.pk == constellation.pk]
    events = Event.objects.visible_to(user).filter(constellation__in=constellations)
    events = (
        events.filter(
            Q(rule="", start__lt=end, end__gt=start)
            | (
                ~Q(rule="")
                & Q(start__lt=end)
                & (Q(repeat_until__isnull=True) | Q(repeat_until__gte=first - timedelta(days=32)))
            )
            | Q(occurrences__start__lt=end, occurrences__end__gt=start)
        )
        .distinct()
        .select_related("constellation")
    )
    found = expand(events, start, end)
    household = (
        Carer.objects.current().filter(user=user).select_related("household").first()
        if user.is_authenticated
        else None
    )
    count_answers(found, household=household.household if household else None)
    return Window(first, last, found, hub_periods(constellations, first, last), constellations)
