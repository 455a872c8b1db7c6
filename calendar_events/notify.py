"""The calendar's messages through the notifications outbox (issue 10, part 7).

Phone calendars refresh a subscribed feed only every 8 to 24 hours (Google), so a
change or cancellation of a date happening today or tomorrow (Europe/London) also
goes out as a notification: to the carers of the invited households and the hub
carers, never to the person who made the change. A birth-family contact session is
told only to its own household and the hub carers. A yes on the waiting list that
moves up is told to its household (or, for someone kept connected, by email).

The receivers are connected in ``CalendarEventsConfig.ready`` to the signals of
``calendar_events.signals``, sent inside the transaction of the change: what they
write to the outbox commits or rolls back with it. Messages are a short line, the
time at London wall clock and a link to the date's page; never a child's name or
any health, care or family detail (a contact session is "A session at the hub")."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from constellation.clock import LONDON
from constellation.models import Carer, ConstellationMembership
from notifications.models import Kind
from notifications.services.outbox import Message, notify, notify_contact
from people.models import User

from . import tokens
from .models import Answer, Event, KeptConnected, Occurrence, Rsvp
from .recurrence import Slot, key_of, london_midnight, slot_of, slots
from .selectors import expand

# Where the state before a save is kept on the instance (see ``remember_before``).
BEFORE = "_calendar_before"
EVENT_TIMING = ("start", "end", "all_day", "rule", "repeat_until")
DATE_TIMING = ("start", "end", "cancelled")
# How far ahead a date that left today or tomorrow is looked for, to say where it went.
LOOK_AHEAD = timedelta(days=62)


# --- words and links shared with the reminders ----------------------------------------


def label_of(event: Event) -> str:
    """How a message names an event: its title; a contact session is never named
    (messages travel through mail and SMS providers and land on shared phones)."""
    if event.kind == Event.Kind.CONTACT:
        return "A session at the hub"
    return event.title


def when_words(slot: Slot, now: datetime) -> str:
    """A date's start in London words, relative to ``now``: "19:30 today",
    "19:00 tomorrow", "19:00 on Tue 5 Jan"; an all-day date without its hour."""
    local = slot.start.astimezone(LONDON)
    today = now.astimezone(LONDON).date()
    if local.date() == today:
        day = "today"
    elif local.date() == today + timedelta(days=1):
        day = "tomorrow"
    else:
        day = f"on {local:%a} {local.day} {local:%b}"
    return day if slot.all_day else f"{local:%H:%M} {day}"


def place_words(event: Event) -> str:
    return f", at {event.place}" if event.place.strip() else ""


def date_link(event: Event, original_start: datetime) -> str:
    """The path of one date's page: ``/calendar/events/<pk>/<key>/``."""
    return f"/calendar/events/{event.pk}/{key_of(original_start)}/"


def invited_household_ids(event: Event) -> set[int]:
    """The households ``event`` invites now: those chosen, and for the whole
    constellation its active member households (a contact session: its one
    household). The hub is not among them: it organises."""
    ids = set(event.invited_households.values_list("pk", flat=True))
    if event.invite_everyone and event.kind != Event.Kind.CONTACT:
        ids |= set(
            ConstellationMembership.objects.filter(
                constellation_id=event.constellation_id,
                status=ConstellationMembership.Status.ACTIVE,
            ).values_list("household_id", flat=True)
        )
    return ids


def carers_of_households(ids: Iterable[int]) -> list[User]:
    """The current carers of these households, in a stable order: one query."""
    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return []
    return [
        c.user
        for c in Carer.objects.current()
        .filter(household_id__in=ids)
        .select_related("user", "user__notification_preferences")
        .order_by("household_id", "role", "pk")
    ]


def people_to_tell(event: Event) -> list[User]:
    """The carers of the invited households and the hub carers."""
    return carers_of_households([*invited_household_ids(event), event.constellation.hub_id])


def tell_contact(contact: KeptConnected, event: Event, original_start: datetime, **message):
    """Email someone kept connected (whose consent is in force), with the link to
    their own answer page for the date."""
    link = tokens.link(contact=contact, event=event, original_start=original_start)
    return notify_contact(
        name=contact.name,
        phone="",
        email=contact.email,
        message=Message(link=link, target=event, **message),
        service=event.constellation.service,
    )


# --- what a save changed ----------------------------------------------------------------


def remember_before(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """``pre_save`` of ``Event`` and ``Occurrence``: keep on the instance when it was
    before this save, so that a date moved *away* from today or tomorrow is told as
    well as one moved into them. One query, only for saves that touch the timing."""
    if raw or instance.pk is None:
        return
    fields = EVENT_TIMING if isinstance(instance, Event) else DATE_TIMING
    if update_fields is not None and not set(update_fields) & set(fields):
        return
    setattr(instance, BEFORE, type(instance).objects.filter(pk=instance.pk).values(*fields).first())


def _as_before(event: Event) -> Event | None:
    values = getattr(event, BEFORE, None)
    if not values:
        return None
    was = copy.copy(event)
    for name, value in values.items():
        setattr(was, name, value)
    return was


def _window(now: datetime) -> tuple[datetime, datetime]:
    """Now until the end of tomorrow, London."""
    return now, london_midnight(timezone.localdate(now) + timedelta(days=2))


def _touches(slot: Slot | None, first: datetime, last: datetime) -> bool:
    return slot is not None and slot.start < last and slot.end > first


def _next_date(event: Event, after: Slot) -> Slot | None:
    """Where a series' date went that left its day: the first date of ``event`` from
    that day on."""
    if not event.rule:
        return slot_of(event, event.start, None) if not event.cancelled else None
    start = london_midnight(after.local_start.date())
    found = expand([event], start, start + LOOK_AHEAD, cancelled=False)
    return found[0] if found else None


def _retimed_pairs(event: Event, first: datetime, last: datetime) -> list[tuple]:
    """(before, after) of each date that changed time, paired by London day."""
    afters = expand([event], first, last, cancelled=False)
    befores: list[Slot] = []
    was = _as_before(event)
    if was is not None:
        befores += slots([was], first, last, cancelled=False)
    old = event.follows if event.follows_id else None
    old_was = _as_before(old) if old is not None else None
    if old_was is not None:  # changed "from this date on": the old series' dates that left
        still = {s.original_start for s in slots([old], first, last)}
        was_there = slots([old_was], first, last, cancelled=False)
        befores += [s for s in was_there if s.original_start not in still]
    pairs: list[tuple] = []
    paired: set[int] = set()
    by_day = {s.local_start.date(): s for s in afters}
    for before in befores:
        after = by_day.get(before.local_start.date()) if event.rule else None
        after = after or _next_date(event, before)
        if after is not None:
            paired.add(id(after))
            for same in afters:
                if same.original_start == after.original_start:
                    paired.add(id(same))
        pairs.append((before, after))
    pairs += [(None, after) for after in afters if id(after) not in paired]
    return pairs


def _date_pairs(event: Event, row: Occurrence) -> list[tuple]:
    after = slot_of(event, row.original_start, row)
    values = getattr(row, BEFORE, None) or {}
    before = slot_of(event, row.original_start, None)
    if values.get("start") is not None and before is not None:
        before = copy.copy(before)
        before.start, before.end, before.moved = values["start"], values["end"], True
    return [(before, after)]


# --- receivers --------------------------------------------------------------------------


def on_calendar_changed(
    sender, event: Event, change: str, by=None, occurrence=None, reason: str = "", **kwargs
) -> None:
    """An event or one of its dates changed: when the date was, or now is, today or
    tomorrow (London), tell the people invited and the hub carers (not ``by``), and
    people kept connected who said yes or maybe. A new event tells nobody (the month's
    calendar and the reminders do); ``reason`` is never sent (it may hold anything)."""
    if change == "created":
        return
    now = timezone.now()
    first, last = _window(now)
    if change in ("date_moved", "date_cancelled") and occurrence is not None:
        pairs = _date_pairs(event, occurrence)
    elif change == "cancelled":
        pairs = [
            (slot, slot)
            for slot in expand([event], first, last)
            if not (slot.occurrence is not None and slot.occurrence.cancelled)
        ]
    elif change == "retimed":
        pairs = _retimed_pairs(event, first, last)
    else:
        pairs = [(slot, slot) for slot in expand([event], first, last, cancelled=False)]
    cancelled = change in ("cancelled", "date_cancelled")
    for before, after in pairs:
        if not (_touches(before, first, last) or _touches(after, first, last)):
            continue
        _tell_change(event, before, after, cancelled=cancelled, by=by, now=now, change=change)


def _words_of_change(event, before, after, *, cancelled: bool, now) -> tuple[str, str, Slot]:
    label, place = label_of(event), place_words(event)
    if cancelled:
        slot = before or after
        when = when_words(slot, now)
        return f"{label} cancelled ({when})", f"{label}, {when}{place}, is cancelled.", slot
    if after is None:
        when = when_words(before, now)
        return (
            f"{label} is no longer {when}",
            f"{label} is no longer {when}: open the calendar for its dates.",
            before,
        )
    if before is None:
        when = when_words(after, now)
        return f"{label} moved to {when}", f"{label} is now {when}{place}.", after
    if (before.start, before.end) != (after.start, after.end):
        was, when = when_words(before, now), when_words(after, now)
        if was == when:  # the end moved, or an all-day date's length changed
            return f"{label} changed ({when})", f"{label}, {when}{place}: its times changed.", after
        return f"{label} moved to {when}", f"{label}, {was}, is now {when}{place}.", after
    when = when_words(after, now)
    return (
        f"{label} changed ({when})",
        f"{label}, {when}{place}: details changed. Open the calendar to see them.",
        after,
    )


def _tell_change(event, before, after, *, cancelled, by, now, change) -> None:
    subject, body, slot = _words_of_change(event, before, after, cancelled=cancelled, now=now)
    row = slot.occurrence
    key = (
        f"event-changed:{event.pk}:{slot.key}:{change}:"
        f"{event.sequence}.{row.sequence if row is not None else 0}"
    )
    message = {"kind": Kind.EVENT_CHANGED, "subject": subject, "body": body, "key": key}
    notify(
        people_to_tell(event),
        Message(link=date_link(event, slot.original_start), target=event, **message),
        service=event.constellation.service,
        exclude=by,
        now=now,
    )
    if event.kind != Event.Kind.SOCIAL:
        return
    starts = {s.original_start for s in (before, after) if s is not None}
    answered = (
        Rsvp.objects.filter(
            Q(occurrence__event=event) | Q(occurrence__event_id=event.follows_id),
            occurrence__original_start__in=starts,
            answer__in=(Answer.YES, Answer.MAYBE),
            contact__in=KeptConnected.objects.current(timezone.localdate(now)),
        )
        .select_related("contact")
        .order_by("pk")
    )
    for rsvp in answered:
        tell_contact(rsvp.contact, event, slot.original_start, **message)


def on_place_freed(sender, rsvp: Rsvp, by=None, **kwargs) -> None:
    """A yes on the waiting list was given a place: tell its household's carers, or
    the person kept connected by email (while their consent is in force)."""
    row = rsvp.occurrence
    event = row.event
    slot = slot_of(event, row.original_start, row)
    if slot is None:
        return
    now = timezone.now()
    label, when = label_of(event), when_words(slot, now)
    people = f"{rsvp.people} {'person' if rsvp.people == 1 else 'people'}"
    message = {
        "kind": Kind.EVENT_PLACE,
        "subject": f"A place for you: {label}, {when}",
        "body": f"A place came free: {people} of yours are now down to come to "
        f"{label}, {when}{place_words(event)}.",
        # Once per answer that waited: a new wait is a new answer.
        "key": f"event-place:{rsvp.pk}:{rsvp.answered_at.timestamp():.0f}",
    }
    if rsvp.household_id is not None:
        notify(
            carers_of_households([rsvp.household_id]),
            Message(link=date_link(event, row.original_start), target=event, **message),
            service=event.constellation.service,
            now=now,
        )
    elif KeptConnected.objects.current().filter(pk=rsvp.contact_id).exists():
        tell_contact(rsvp.contact, event, row.original_start, **message)
