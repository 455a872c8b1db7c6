"""The calendar's reminders through the notifications outbox (issue 10, part 8).

Beat runs ``send_due`` every 15 minutes (``tasks.send_reminders``). Each reminder
finds what is due by querying (the events with a date in a window, expanded with
``selectors.expand``), so a tick missed while the worker was down is caught up;
each is written once, whatever the number of runs, by its outbox key. Times are
London wall clock, also across the clock changes ("7 days before 19:00" is 19:00 a
week earlier, whatever the offset did in between).

- answer please: from 7 days before a date until its answers close, to the carers
  of invited households that have not answered;
- the day before: from 18:00 the day before (caught up on the day, before the
  start), to the carers of households that said yes and have a place, and by email
  to people kept connected who did;
- next month's calendar: from 09:00 on the 25th (caught up until the month ends),
  once per person per month, to the carers of every member household and the hub
  of each constellation with something on next month;
- invitations to people kept connected: by email, for each date of a social
  get-together they are invited to, once the date is within 21 days and while
  answers are open and their consent is in force."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from constellation.clock import LONDON
from constellation.models import Constellation, ConstellationMembership
from notifications.models import Kind
from notifications.services.outbox import Message, notify

from .models import Event, KeptConnected, Rsvp
from .notify import (
    carers_of_households,
    date_link,
    label_of,
    place_words,
    tell_contact,
    when_words,
)
from .recurrence import Slot, london_midnight, placed, wall
from .selectors import expand
from .services import closes_at

ASK_BEFORE = timedelta(days=7)
INVITE_BEFORE = timedelta(days=21)
EVENING = time(18)
MONTHLY_DAY = 25
MORNING = time(9)


def events_between(first: datetime, last: datetime, **filters):
    """Scheduled events that may have a date between ``first`` and ``last`` (aware):
    a single event overlapping them, a series begun before ``last`` and not ended
    over a month before ``first``, or a date moved into them. One query when read."""
    return (
        Event.objects.filter(status=Event.Status.SCHEDULED, **filters)
        .dated_between(first, last)
        .select_related("constellation__service")
        .prefetch_related("invited_households")
    )


def _dates(first: datetime, last: datetime, **filters) -> list[Slot]:
    """The dates not cancelled that start between ``first`` and ``last``."""
    found = expand(events_between(first, last, **filters), first, last, cancelled=False)
    return [slot for slot in found if first <= slot.start < last]


def _members(constellation_ids) -> dict[int, set[int]]:
    """Active member households of each constellation: one query."""
    found: dict[int, set[int]] = defaultdict(set)
    for constellation_id, household_id in ConstellationMembership.objects.filter(
        constellation_id__in=set(constellation_ids),
        status=ConstellationMembership.Status.ACTIVE,
    ).values_list("constellation_id", "household_id"):
        found[constellation_id].add(household_id)
    return found


def _invited(event: Event, members: dict[int, set[int]]) -> set[int]:
    ids = {h.pk for h in event.invited_households.all()}
    if event.invite_everyone and event.kind != Event.Kind.CONTACT:
        ids |= members.get(event.constellation_id, set())
    return ids


def _answers(found: list[Slot]) -> dict[tuple[int, datetime], list[Rsvp]]:
    """The answers given for these dates, by (event id, original start): one query."""
    starts = {slot.original_start for slot in found}
    events = {slot.event.pk for slot in found}
    by_date: dict[tuple[int, datetime], list[Rsvp]] = defaultdict(list)
    if not found:
        return by_date
    for rsvp in Rsvp.objects.filter(
        occurrence__event_id__in=events, occurrence__original_start__in=starts
    ).select_related("occurrence", "contact"):
        by_date[(rsvp.occurrence.event_id, rsvp.occurrence.original_start)].append(rsvp)
    return by_date


def answer_please(now: datetime) -> int:
    """From 7 days (wall clock) before each date until its answers close: the carers
    of invited households that have not answered, once per date."""
    found = [
        slot
        for slot in _dates(now, now + ASK_BEFORE + timedelta(hours=2))
        if placed(wall(slot.start) - ASK_BEFORE) <= now < closes_at(slot.event, slot.start)
    ]
    members = _members(slot.event.constellation_id for slot in found)
    answers = _answers(found)
    sent = 0
    for slot in found:
        event = slot.event
        answered = {r.household_id for r in answers[(event.pk, slot.original_start)]}
        waiting = _invited(event, members) - answered
        if not waiting:
            continue
        label, when = label_of(event), when_words(slot, now)
        closes = closes_at(event, slot.start).astimezone(LONDON)
        by = ""
        if closes != slot.start:
            by = f" by {closes:%H:%M} on {closes:%a} {closes.day} {closes:%b}"
        with transaction.atomic():
            sent += len(
                notify(
                    carers_of_households(waiting),
                    Message(
                        kind=Kind.EVENT_REMINDER,
                        subject=f"Are you coming? {label}, {when}",
                        body=f"{label} is {when}{place_words(event)}. Say whether your "
                        f"household is coming{by}: open the calendar to answer.",
                        link=date_link(event, slot.original_start),
                        key=f"event-answer:{event.pk}:{slot.key}",
                        target=event,
                    ),
                    service=event.constellation.service,
                    now=now,
                )
            )
    return sent


def _evening_before(slot: Slot) -> datetime:
    day = slot.local_start.date() - timedelta(days=1)
    return placed(datetime.combine(day, EVENING))


def day_before(now: datetime) -> int:
    """From 18:00 the day before each date (caught up on the day, before it starts):
    the carers of households that said yes and have a place, and by email the people
    kept connected who did, once per date. An answer given after that evening needs
    no reminder."""
    today = timezone.localdate(now)
    found = [
        slot
        for slot in _dates(now, london_midnight(today + timedelta(days=2)))
        if _evening_before(slot) <= now
    ]
    answers = _answers(found)
    current = set(KeptConnected.objects.current(today).values_list("pk", flat=True))
    sent = 0
    for slot in found:
        event = slot.event
        evening = _evening_before(slot)
        coming = [
            r
            for r in answers[(event.pk, slot.original_start)]
            if r.coming and (slot.local_start.date() != today or r.answered_at < evening)
        ]
        if not coming:
            continue
        label, when = label_of(event), when_words(slot, now)
        households = [r.household_id for r in coming if r.household_id]
        message = {
            "kind": Kind.EVENT_REMINDER,
            "subject": f"Reminder: {label}, {when}",
            "body": f"Reminder: {label} is {when}{place_words(event)}. "
            "If your plans changed, change your answer or call the hub carer.",
            "key": f"event-tomorrow:{event.pk}:{slot.key}",
        }
        with transaction.atomic():
            sent += len(
                notify(
                    carers_of_households(households),
                    Message(link=date_link(event, slot.original_start), target=event, **message),
                    service=event.constellation.service,
                    now=now,
                )
            )
            for rsvp in coming:
                if rsvp.contact_id in current:
                    sent += len(tell_contact(rsvp.contact, event, slot.original_start, **message))
    return sent


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_ahead(now: datetime) -> int:
    """From 09:00 on the 25th (or later in the month, if missed): to the carers of
    each member household and of the hub of every constellation, how many dates of
    next month's calendar are theirs (a household counts the events it is invited
    to; the hub all), with a link to the month. Once per person per month; nothing
    when there is nothing on."""
    local = timezone.localtime(now)
    if local.day < MONTHLY_DAY or (local.day == MONTHLY_DAY and local.time() < MORNING):
        return 0
    first_day = _next_month(local.date())
    after = _next_month(first_day)
    first, last = london_midnight(first_day), london_midnight(after)
    found = expand(events_between(first, last), first, last, cancelled=False)
    found = [slot for slot in found if first <= slot.start < last]
    constellations = Constellation.objects.filter(hub__isnull=False).select_related("service")
    members = _members(c.pk for c in constellations)
    month = f"{first_day:%B %Y}"
    sent = 0
    for constellation in constellations:
        theirs = [slot for slot in found if slot.event.constellation_id == constellation.pk]
        counts: dict[int, int] = {constellation.hub_id: len(theirs)}
        for household_id in members.get(constellation.pk, set()):
            counts[household_id] = sum(
                1 for slot in theirs if household_id in _invited(slot.event, members)
            )
        for household_id, count in counts.items():
            if not count:
                continue
            dates = f"{count} date{'s' if count != 1 else ''}"
            with transaction.atomic():
                for user in carers_of_households([household_id]):
                    sent += len(
                        notify(
                            [user],
                            Message(
                                kind=Kind.CALENDAR_MONTH,
                                subject=f"Next month's calendar: {month}",
                                body=f"{dates} on the calendar for you in {month}. "
                                "See the month and say who is coming.",
                                link=f"/calendar/{first_day.year}/{first_day.month}/",
                                key=f"calendar-month:{user.pk}:{first_day:%Y-%m}",
                            ),
                            service=constellation.service,
                            now=now,
                        )
                    )
    return sent


def invite_kept_connected(now: datetime) -> int:
    """Once each date of a social get-together is within 21 days (and its answers
    are open): an email to each person kept connected it invites whose consent is in
    force, with the link to answer without an account."""
    today = timezone.localdate(now)
    found = [
        slot
        for slot in _dates(now, now + INVITE_BEFORE + timedelta(hours=2), kind=Event.Kind.SOCIAL)
        if placed(wall(slot.start) - INVITE_BEFORE) <= now < closes_at(slot.event, slot.start)
    ]
    if not found:
        return 0
    invited: dict[int, list[KeptConnected]] = defaultdict(list)
    for through in Event.invited_contacts.through.objects.filter(
        event_id__in={slot.event.pk for slot in found},
        keptconnected__in=KeptConnected.objects.current(today),
    ).select_related("keptconnected"):
        invited[through.event_id].append(through.keptconnected)
    sent = 0
    for slot in found:
        event = slot.event
        label, when = event.title, when_words(slot, now)
        for contact in invited.get(event.pk, []):
            with transaction.atomic():
                sent += len(
                    tell_contact(
                        contact,
                        event,
                        slot.original_start,
                        kind=Kind.EVENT_REMINDER,
                        subject=f"You're invited: {label}, {when}",
                        body=f"{event.constellation.name} invites you to {label}, {when}"
                        f"{place_words(event)}. Say whether you can come: no account needed.",
                        key=f"event-invite:{event.pk}:{slot.key}:{contact.pk}",
                    )
                )
    return sent


def send_due(*, now: datetime | None = None) -> int:
    """Every calendar reminder that is due and not yet written. Returns how many
    notifications were written."""
    now = now or timezone.now()
    return answer_please(now) + day_before(now) + month_ahead(now) + invite_kept_connected(now)
