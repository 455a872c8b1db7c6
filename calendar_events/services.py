"""Every change of the calendar: events and their dates, answers, the waiting list,
who came, people kept connected and calendar feeds (issue 10).

Each verb takes keyword-only arguments, runs in one transaction, writes the
activity record and sends ``calendar_events.signals.calendar_changed`` inside the
transaction (the notifications outbox listens). Who may act is checked before, in
``access.py``; these functions check what the state of things allows and raise
``ActionRefused`` (a page's message, the API's 409) or ``ValidationError`` naming
the field (400)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from constellation.clock import LONDON
from constellation.models import Child, Constellation, Household
from constellation.services import ActionRefused, record_activity
from people.models import User

from . import signals
from .access import children_of
from .models import Answer, Attendance, CalendarFeed, Event, KeptConnected, Occurrence, Rsvp
from .recurrence import (
    MAX_WINDOW,
    clean_rule,
    count_before,
    first_date,
    is_date_of,
    key_of,
    placed,
    slot_of,
    wall,
)

MAX_ADULTS = 20
MAX_LENGTH = timedelta(days=31)
TIMING = ("start", "end", "all_day", "rule", "repeat_until")


def _field(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def _record(
    event: Event,
    *,
    by: User | None,
    verb: str,
    summary: str,
    household: Household | None = None,
    children=(),
    **payload,
) -> None:
    """The activity record of a change to ``event``: filed under ``household`` (the
    household that answered; a contact session's one household by default) and
    ``children`` (those answered for, or who came), for the desk's filters."""
    if household is None and event.kind == Event.Kind.CONTACT:
        household = event.invited_households.first()
    record_activity(
        service=event.constellation.service,
        constellation=event.constellation,
        actor=by,
        verb=verb,
        target=event,
        summary=summary,
        payload=payload,
        household=household,
        children=children,
    )


# --- events ---------------------------------------------------------------------


@dataclass
class Invitation:
    """Who an event invites: the whole constellation, or ``households``; plus, for a
    social get-together, ``contacts`` kept connected."""

    everyone: bool = True
    households: tuple[Household, ...] = ()
    contacts: tuple[KeptConnected, ...] = ()


def _check_minutes(start: datetime, end: datetime) -> None:
    """Times are to the minute: a date's key (its start) must read the same in a URL."""
    for name, moment in (("start", start), ("end", end)):
        if moment.second or moment.microsecond:
            raise _field(name, "Give the time to the minute, for example 19:00.", "seconds")


def _check_timing(*, start: datetime, end: datetime, all_day: bool, rule: str, until: date | None):
    if start is None or end is None:
        raise _field("start", "Give when the event starts and ends.")
    _check_minutes(start, end)
    if end <= start:
        raise _field("end", "The end must come after the start.", "end_before_start")
    if end - start > MAX_LENGTH:
        raise _field("end", "An event lasts at most 31 days.", "too_long")
    if all_day and (
        wall(start).time() != datetime.min.time() or wall(end).time() != datetime.min.time()
    ):
        raise _field("start", "An all-day event starts and ends at midnight.")
    if not rule:
        if until is not None:
            raise _field("repeat_until", "Only a repeating event has an end date for its repeats.")
        return None
    checked = clean_rule(rule, until=until)
    if checked.until is not None and checked.until < wall(start).date():
        raise _field("repeat_until", "The repeats must end on or after the first date.")
    found = first_date(checked.text, wall(start), checked.until)
    if found is None:
        raise _field(
            "rule", "This repeat rule gives no date at all: check its days and end.", "no_dates"
        )
    if found != wall(start):
        raise _field(
            "rule",
            f"The first date must be one the rule gives: it gives {found:%A %-d %B %Y} first.",
            "start_not_a_date",
        )
    return checked


def _check_invitation(constellation: Constellation, kind: str, invitation: Invitation) -> None:
    households = list(invitation.households)
    for household in households:
        if not _is_member(constellation, household):
            raise _field("households", "Invite households of this constellation only.")
    for contact in invitation.contacts:
        if contact.constellation_id != constellation.pk:
            raise _field("contacts", "Invite people kept connected by this constellation only.")
    if invitation.contacts and kind != Event.Kind.SOCIAL:
        raise _field("contacts", "People kept connected are invited to social get-togethers only.")
    if kind == Event.Kind.CONTACT:
        if invitation.everyone or len(households) != 1 or invitation.contacts:
            raise _field(
                "households",
                "A contact session is private: choose the one household it is for.",
                "contact_one_household",
            )
    elif not invitation.everyone and not households and not invitation.contacts:
        raise _field("households", "Invite the whole constellation or choose households.")


def _is_member(constellation: Constellation, household: Household) -> bool:
    return Constellation.objects.of_household_now(household).filter(pk=constellation.pk).exists()


def create_event(
    *,
    constellation: Constellation,
    by: User,
    kind: str,
    title: str,
    start: datetime,
    end: datetime,
    all_day: bool = False,
    place: str = "",
    description: str = "",
    rule: str = "",
    repeat_until: date | None = None,
    capacity: int | None = None,
    rsvp_closes_minutes: int = 0,
    invitation: Invitation | None = None,
    affects_beds: bool = False,
) -> Event:
    """Put an event (or a series) on ``constellation``'s calendar, organised by ``by``.

    ``start`` and ``end`` are aware (``constellation.clock.parse_local``); for a series
    they are the first date's, and ``rule`` an RFC 5545 RRULE read at London wall-clock
    time (``recurrence.clean_rule``), ending on ``repeat_until`` (a London day,
    inclusive) or never. Refused (``ValidationError`` naming the field): end not after
    start, over 31 days, a rule that gives no date or not the first date given, a
    contact session not for exactly one household, people kept connected on anything
    but a social get-together, households of another constellation."""
    invitation = invitation or Invitation()
    if kind not in Event.Kind.values:
        raise _field("kind", "Choose what kind of event it is.")
    if capacity is not None and capacity < 1:
        raise _field("capacity", "Room for at least one person, or leave it empty for no limit.")
    checked = _check_timing(start=start, end=end, all_day=all_day, rule=rule, until=repeat_until)
    _check_invitation(constellation, kind, invitation)
    with transaction.atomic():
        event = Event.objects.create(
            constellation=constellation,
            kind=kind,
            title=title,
            place=place,
            description=description,
            organiser=by,
            all_day=all_day,
            start=start,
            end=end,
            rule=checked.text if checked else "",
            repeat_until=checked.until if checked else None,
            capacity=capacity,
            rsvp_closes_minutes=rsvp_closes_minutes,
            invite_everyone=invitation.everyone and kind != Event.Kind.CONTACT,
            affects_beds=affects_beds,
        )
        event.invited_households.set(invitation.households)
        event.invited_contacts.set(invitation.contacts)
        _record(event, by=by, verb="event.created", summary=f"{event.get_kind_display()}: {title}")
        signals.send_changed(event, change="created", by=by)
    return event


def update_event(
    event: Event, *, by: User, invitation: Invitation | None = None, **changes
) -> Event:
    """Change an event for all its dates: what, where, who is invited, capacity and
    closing; and when, for a single event or a series none of whose dates has been
    answered, moved or recorded yet (otherwise change it from one date on,
    ``change_from``). Raises the iCalendar ``SEQUENCE``. Places made by a capacity
    raised or lifted go to those waiting, on every date still to come. Refused as
    ``create_event``, and ``ActionRefused`` for a cancelled event."""
    allowed = {
        "kind",
        "title",
        "place",
        "description",
        "capacity",
        "rsvp_closes_minutes",
        "affects_beds",
        *TIMING,
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown fields {unknown}")
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if event.cancelled:
            raise ActionRefused("This event was cancelled; it cannot be changed.")
        kind = changes.get("kind", event.kind)
        if kind not in Event.Kind.values:
            raise _field("kind", "Choose what kind of event it is.")
        if (kind == Event.Kind.CONTACT) != (event.kind == Event.Kind.CONTACT):
            raise _field(
                "kind", "A contact session stays a contact session, and nothing else becomes one."
            )
        capacity = changes.get("capacity", event.capacity)
        if capacity is not None and capacity < 1:
            raise _field(
                "capacity", "Room for at least one person, or leave it empty for no limit."
            )
        timing = {name: changes.get(name, getattr(event, name)) for name in TIMING}
        retimed = any(timing[name] != getattr(event, name) for name in TIMING)
        if retimed:
            checked = _check_timing(
                start=timing["start"],
                end=timing["end"],
                all_day=timing["all_day"],
                rule=timing["rule"],
                until=timing["repeat_until"],
            )
            changes["rule"] = checked.text if checked else ""
            changes["repeat_until"] = checked.until if checked else None
            rows = event.occurrences.all()
            if event.rule and rows.exists():
                raise ActionRefused(
                    "Some dates of this series were answered, moved or recorded already: "
                    "change the series from the next date on instead."
                )
        if invitation is not None:
            _check_invitation(event.constellation, kind, invitation)
        elif kind != Event.Kind.SOCIAL and event.invited_contacts.exists():
            raise _field(
                "kind",
                "People kept connected are invited to social get-togethers only: "
                "take them off the invitation first.",
            )
        changed = [name for name, value in changes.items() if getattr(event, name) != value]
        if invitation is not None:
            changed += _invitation_changes(event, kind, invitation)
        if not changed:
            return event  # nothing to tell anyone, and phone calendars need no update
        for name, value in changes.items():
            setattr(event, name, value)
        event.sequence += 1
        event.updated_at = timezone.now()
        event.save()
        if retimed and not event.rule:
            # A single event's one row follows it (its answers stay with it).
            event.occurrences.update(original_start=event.start, start=None, end=None)
        if invitation is not None:
            event.invite_everyone = invitation.everyone and kind != Event.Kind.CONTACT
            event.save(update_fields=["invite_everyone"])
            event.invited_households.set(invitation.households)
            event.invited_contacts.set(invitation.contacts)
        _record(event, by=by, verb="event.changed", summary=f"Changed: {event.title}")
        signals.send_changed(event, change="retimed" if retimed else "changed", by=by)
        # Room made (a capacity raised or lifted) goes to those waiting, on every date
        # still to come, each under its lock (the event's row first, then the date's).
        now = timezone.now()
        for row in event.occurrences.select_for_update().filter(
            Q(start__gt=now) | Q(start__isnull=True, original_start__gt=now)
        ):
            _move_up(row, by=by)
    return event


def _invitation_changes(event: Event, kind: str, invitation: Invitation) -> list[str]:
    changed = []
    if event.invite_everyone != (invitation.everyone and kind != Event.Kind.CONTACT):
        changed.append("invite_everyone")
    if {h.pk for h in invitation.households} != set(
        event.invited_households.values_list("pk", flat=True)
    ):
        changed.append("invited_households")
    if {c.pk for c in invitation.contacts} != set(
        event.invited_contacts.values_list("pk", flat=True)
    ):
        changed.append("invited_contacts")
    return changed


def cancel_event(event: Event, *, by: User, reason: str = "") -> Event:
    """Cancel an event and all its dates. It stays in every feed with
    ``STATUS:CANCELLED`` and a raised ``SEQUENCE``, so phone calendars drop it."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if event.cancelled:
            raise ActionRefused("This event was cancelled already.")
        event.status = Event.Status.CANCELLED
        event.cancelled_at, event.cancelled_by = timezone.now(), by
        event.sequence += 1
        event.updated_at = event.cancelled_at
        event.save(
            update_fields=["status", "cancelled_at", "cancelled_by", "sequence", "updated_at"]
        )
        _record(
            event, by=by, verb="event.cancelled", summary=f"Cancelled: {event.title}", reason=reason
        )
        signals.send_changed(event, change="cancelled", by=by, reason=reason)
    return event


# --- one date of an event ---------------------------------------------------------


def occurrence_for(event: Event, original_start: datetime, *, lock: bool = False) -> Occurrence:
    """The row of one date of ``event`` (made when first needed), locked for the rest
    of the transaction when ``lock``: the lock under which answers and the waiting
    list change, so that two households never take the last place at once. Raises
    ``Http404``-free ``ActionRefused`` when the event has no date at ``original_start``."""
    if not is_date_of(event, original_start):
        raise ActionRefused("This event has no date then.")
    row, _ = Occurrence.objects.get_or_create(event=event, original_start=original_start)
    if lock:
        row = Occurrence.objects.select_for_update().get(pk=row.pk)
    return row


def move_occurrence(
    event: Event, original_start: datetime, *, by: User, start: datetime, end: datetime
) -> Occurrence:
    """Move one date of a series to ``start``..``end`` (aware), leaving the others. The
    feed then carries it with its ``RECURRENCE-ID``. A single event is changed with
    ``update_event``."""
    if not event.rule:
        raise ActionRefused("This event happens once: change the event itself.")
    if event.cancelled:
        raise ActionRefused("This event was cancelled; it cannot be changed.")
    _check_minutes(start, end)
    if end <= start:
        raise _field("end", "The end must come after the start.", "end_before_start")
    if end - start > MAX_LENGTH:
        raise _field("end", "An event lasts at most 31 days.", "too_long")
    if abs(start - original_start) > MAX_WINDOW / 2:
        raise _field("start", "Move a date by at most six months.")
    with transaction.atomic():
        row = occurrence_for(event, original_start, lock=True)
        if row.cancelled:
            raise ActionRefused("This date was cancelled; it cannot be moved.")
        row.start, row.end = start, end
        if start == original_start and wall(end) - wall(start) == wall(event.end) - wall(
            event.start
        ):
            row.start = row.end = None
        row.sequence += 1
        row.changed_at, row.changed_by = timezone.now(), by
        row.save(update_fields=["start", "end", "sequence", "changed_at", "changed_by"])
        _record(
            event,
            by=by,
            verb="event.date_moved",
            summary=f"Moved a date: {event.title}",
            date=key_of(original_start),
        )
        signals.send_changed(event, change="date_moved", by=by, occurrence=row)
    return row


def cancel_occurrence(
    event: Event, original_start: datetime, *, by: User, reason: str = ""
) -> Occurrence | Event:
    """Cancel one date of a series (the others stay); for a single event, the event."""
    if not event.rule:
        return cancel_event(event, by=by, reason=reason)
    with transaction.atomic():
        row = occurrence_for(event, original_start, lock=True)
        if row.cancelled or event.cancelled:
            raise ActionRefused("This date was cancelled already.")
        row.cancelled = True
        row.sequence += 1
        row.changed_at, row.changed_by = timezone.now(), by
        row.save(update_fields=["cancelled", "sequence", "changed_at", "changed_by"])
        _record(
            event,
            by=by,
            verb="event.date_cancelled",
            summary=f"Cancelled a date: {event.title}",
            date=key_of(original_start),
            reason=reason,
        )
        signals.send_changed(event, change="date_cancelled", by=by, occurrence=row, reason=reason)
    return row


def change_from(
    event: Event,
    original_start: datetime,
    *,
    by: User,
    start: datetime,
    end: datetime,
    rule: str | None = None,
    repeat_until: date | None = None,
    **changes,
) -> Event:
    """Change a series from one date on: the series ends the day before that date and
    a new one (``follows`` the first, a new ``UID``) starts at ``start``..``end`` with
    ``rule`` (the old rule when None) and the other ``changes`` (title, place, ...).
    Dates after the change that the new series still has keep their answers; the
    rest stay with the old series. Refused as ``create_event``, and when
    ``original_start`` is the series' first date (change the whole event instead)."""
    if not event.rule:
        raise ActionRefused("This event happens once: change the event itself.")
    if event.cancelled:
        raise ActionRefused("This event was cancelled; it cannot be changed.")
    if not is_date_of(event, original_start):
        raise ActionRefused("This event has no date then.")
    if original_start == event.start:
        raise ActionRefused("This is the first date of the series: change the whole event instead.")
    new_rule = event.rule if rule is None else rule
    if new_rule and "COUNT=" in new_rule.upper() and rule is None:
        parts = dict(p.split("=", 1) for p in new_rule.split(";"))
        parts["COUNT"] = str(max(1, int(parts["COUNT"]) - count_before(event, original_start)))
        new_rule = ";".join(f"{k}={v}" for k, v in parts.items())
    if repeat_until is None and rule is None:
        repeat_until = event.repeat_until
    with transaction.atomic():
        old = Event.objects.select_for_update().get(pk=event.pk)
        invitation = Invitation(
            everyone=old.invite_everyone,
            households=tuple(old.invited_households.all()),
            contacts=tuple(old.invited_contacts.all()),
        )
        fields = {
            name: changes.get(name, getattr(old, name))
            for name in (
                "kind",
                "title",
                "place",
                "description",
                "capacity",
                "rsvp_closes_minutes",
                "affects_beds",
            )
        }
        if fields["kind"] != old.kind and Event.Kind.CONTACT in (fields["kind"], old.kind):
            raise _field(
                "kind", "A contact session stays a contact session, and nothing else becomes one."
            )
        new = create_event(
            constellation=old.constellation,
            by=by,
            start=start,
            end=end,
            all_day=changes.get("all_day", old.all_day),
            rule=new_rule,
            repeat_until=repeat_until,
            invitation=invitation,
            **fields,
        )
        last_day = wall(original_start).date() - timedelta(days=1)
        old.rule = ";".join(p for p in old.rule.split(";") if not p.upper().startswith("COUNT="))
        old.repeat_until = last_day
        old.sequence += 1
        old.updated_at = timezone.now()
        old.save(update_fields=["rule", "repeat_until", "sequence", "updated_at"])
        new.follows = old
        new.save(update_fields=["follows"])
        for row in Occurrence.objects.filter(event=old, original_start__gte=original_start):
            if is_date_of(new, row.original_start):
                row.event = new
                row.save(update_fields=["event"])
        _record(
            old,
            by=by,
            verb="event.changed_from",
            summary=f"Changed from a date on: {old.title}",
            date=key_of(original_start),
            new_event=new.pk,
        )
        signals.send_changed(new, change="retimed", by=by)
    return new


# --- answers and the waiting list -------------------------------------------------


def closes_at(event: Event, start: datetime) -> datetime:
    """When answers for the date starting at ``start`` close (the organiser's minutes
    before the start; at the start by default)."""
    return start - timedelta(minutes=event.rsvp_closes_minutes)


def _coming(row: Occurrence, *, excluding: Rsvp | None = None) -> int:
    rsvps = row.rsvps.filter(answer=Answer.YES, waiting_since__isnull=True)
    if excluding is not None and excluding.pk:
        rsvps = rsvps.exclude(pk=excluding.pk)
    return rsvps.aggregate(total=Sum("people"))["total"] or 0


def answer(
    event: Event,
    original_start: datetime,
    *,
    by: User | None,
    answer: str,
    adults: int = 0,
    children: list[Child] | tuple[Child, ...] = (),
    household: Household | None = None,
    contact: KeptConnected | None = None,
    now: datetime | None = None,
) -> Rsvp:
    """Record ``household``'s (or ``contact``'s) answer for one date: ``answer`` yes, no
    or maybe, ``adults`` (0-20) and ``children`` (the household's own placed children;
    a contact gives people as ``adults``).

    A yes takes places while there are enough left and nobody is waiting; otherwise it
    waits (``waiting_since``), strictly first come, first served: the first in line
    moves up as soon as it fits (others cancel, come with fewer, or the capacity is
    raised) and nobody behind passes it. A household waiting keeps its place in the
    queue when it answers yes again; one coming may bring fewer, or more only while
    nobody waits and places are left. Capacity counts people, under the date's row
    lock (the event is read afresh under it), so two households never both take the
    last place. Refused: ``ValidationError`` for no one coming on a yes, over 20
    adults, children not of the household, more people than the event holds in all;
    ``ActionRefused`` after answers close (``closes_at`` of where the date is now), for
    a cancelled date or event, for more people while others wait or over the places
    left, and for a household or person not invited (``is_invited``)."""
    now = now or timezone.now()
    if (household is None) == (contact is None):
        raise ValueError("answer for a household or for a person kept connected")
    if answer not in Answer.values:
        raise _field("answer", "Answer yes, no or maybe.")
    if not 0 <= adults <= MAX_ADULTS:
        raise _field("adults", f"Give from 0 to {MAX_ADULTS} adults.")
    children = list(children)
    if contact is not None and children:
        raise _field("children", "Give how many people are coming.")
    if household is not None:
        placed_here = set(children_of(household).values_list("pk", flat=True))
        if any(child.pk not in placed_here for child in children):
            raise _field("children", "Choose children of your own household.", "not_your_child")
    people = adults + len(children)
    if answer == Answer.YES and people < 1:
        raise _field("adults", "Say who is coming: at least one adult or child.")
    if answer == Answer.NO:
        people, adults, children = 0, 0, []
    with transaction.atomic():
        row = occurrence_for(event, original_start, lock=True)
        # The event as it is now, read under the date's lock: a capacity raised or an
        # event cancelled a moment ago counts.
        event = Event.objects.get(pk=event.pk)
        row.event = event
        if event.capacity is not None and people > event.capacity:
            raise _field(
                "adults",
                f"This event has room for {event.capacity} people in all.",
                "over_capacity",
            )
        if event.cancelled:
            raise ActionRefused("This event was cancelled.")
        if household is not None and not is_invited(event, household):
            raise ActionRefused("Your household is not invited to this event.")
        if contact is not None and not event.invited_contacts.filter(pk=contact.pk).exists():
            raise ActionRefused("You are not invited to this event.")
        slot = slot_of(event, original_start, row)
        if slot.cancelled:
            raise ActionRefused("This date was cancelled.")
        if now >= closes_at(event, slot.start):
            raise ActionRefused(
                f"Answers closed at "
                f"{closes_at(event, slot.start).astimezone(LONDON):%H:%M on %-d %B}: "
                "call the hub carer if your plans changed."
            )
        who = {"household": household} if household is not None else {"contact": contact}
        rsvp = Rsvp.objects.filter(occurrence=row, **who).first() or Rsvp(occurrence=row, **who)
        was_coming = rsvp.pk is not None and rsvp.coming
        was_waiting = rsvp.pk is not None and rsvp.waiting
        people_before = rsvp.people if was_coming else 0
        rsvp.answer, rsvp.adults, rsvp.people = answer, adults, people
        rsvp.answered_at, rsvp.answered_by = now, by
        if answer == Answer.YES and event.capacity is not None:
            room = event.capacity - _coming(row, excluding=rsvp)
            # Strictly first come, first served: those waiting before this household
            # (all of them, for a new yes) have the places first.
            queue = row.rsvps.exclude(pk=rsvp.pk).filter(
                answer=Answer.YES, waiting_since__isnull=False
            )
            if was_waiting:
                queue = queue.filter(
                    Q(waiting_since__lt=rsvp.waiting_since)
                    | Q(waiting_since=rsvp.waiting_since, pk__lt=rsvp.pk)
                )
            ahead = queue.exists()
            if was_coming:
                if people > people_before and ahead:
                    raise ActionRefused(
                        f"Others are waiting for places: you keep the {people_before} you had."
                    )
                if people > room:
                    raise ActionRefused(
                        f"Only {max(room, 0)} places are left for your household: you keep "
                        f"the {people_before} you had."
                    )
                rsvp.waiting_since = None
            elif people > room or ahead:
                rsvp.waiting_since = rsvp.waiting_since or now
            else:
                rsvp.waiting_since = None
        else:
            rsvp.waiting_since = None
        rsvp.save()
        rsvp.children.set(children)
        _record(
            event,
            by=by,
            verb="event.answered",
            summary=f"Answered {answer}: {event.title}",
            household=household,
            children=children,
            date=key_of(original_start),
        )
        signals.send_answered(rsvp, by=by)
        if was_coming or was_waiting:
            # Places freed, or a place in the queue given up: the next in line may fit.
            _move_up(row, by=by)
    return rsvp


def _move_up(row: Occurrence, *, by: User | None) -> list[Rsvp]:
    """Give freed places to those waiting, in the order they asked, stopping at the
    first who does not fit (first come, first served). Call under the date's lock."""
    event = row.event
    waiting = list(
        row.rsvps.filter(answer=Answer.YES, waiting_since__isnull=False).order_by(
            "waiting_since", "pk"
        )
    )
    moved: list[Rsvp] = []
    if not waiting:
        return moved
    room = None if event.capacity is None else event.capacity - _coming(row)
    for rsvp in waiting:
        if room is not None and rsvp.people > room:
            break
        rsvp.waiting_since = None
        rsvp.save(update_fields=["waiting_since"])
        if room is not None:
            room -= rsvp.people
        moved.append(rsvp)
        signals.send_place_freed(rsvp, by=by)
    return moved


def is_invited(event: Event, household: Household) -> bool:
    """Whether ``household`` is invited to ``event``: a contact session's one household;
    otherwise a member of the constellation now (the hub or an active member, as
    ``Event.objects.visible_to`` reads it), chosen by name or invited with the whole
    constellation. A household that left is invited to nothing more, even by name."""
    named = event.invited_households.filter(pk=household.pk).exists()
    if event.kind == Event.Kind.CONTACT:
        return named
    return (named or event.invite_everyone) and _is_member(event.constellation, household)


# --- who came ---------------------------------------------------------------------


@dataclass
class Came:
    """One line of the attendance form: a household (or a person kept connected),
    how many adults, and which children."""

    household: Household | None = None
    contact: KeptConnected | None = None
    adults: int = 0
    children: tuple[Child, ...] = ()


def _only_household(came: list[Came]) -> Household | None:
    """The household of the attendance when only one household is recorded."""
    households = {line.household.pk: line.household for line in came if line.household}
    return next(iter(households.values())) if len(households) == 1 else None


def record_attendance(
    event: Event,
    original_start: datetime,
    *,
    by: User,
    came: list[Came],
    now: datetime | None = None,
) -> Occurrence:
    """Record who came to one date, once it has started: replaces what was recorded
    before. Refused: a date not started yet or cancelled, a household not of the
    constellation, children not of their household, over 20 adults."""
    now = now or timezone.now()
    with transaction.atomic():
        row = occurrence_for(event, original_start, lock=True)
        slot = slot_of(event, original_start, row)
        if slot.cancelled:
            raise ActionRefused("This date was cancelled: nobody came.")
        if slot.start > now:
            raise ActionRefused("Record who came once the event has started.")
        seen: set[tuple[str, int]] = set()
        for line in came:
            if (line.household is None) == (line.contact is None):
                raise _field("households", "Each line is one household or one person.")
            if line.contact is not None and line.children:
                raise _field("children", "Give how many people came with them as adults.")
            key = ("h", line.household.pk) if line.household else ("c", line.contact.pk)
            if key in seen:
                raise _field("households", "Each household once.")
            seen.add(key)
            if not 0 <= line.adults <= MAX_ADULTS:
                raise _field("adults", f"Give from 0 to {MAX_ADULTS} adults.")
            if line.household is not None:
                if line.household.pk != event.constellation.hub_id and not _is_member(
                    event.constellation, line.household
                ):
                    raise _field("households", "Record households of this constellation only.")
                placed_here = set(children_of(line.household).values_list("pk", flat=True))
                if any(child.pk not in placed_here for child in line.children):
                    raise _field(
                        "children", "Each child with their own household.", "not_their_child"
                    )
            elif line.contact.constellation_id != event.constellation_id:
                raise _field("contacts", "Record people kept connected by this constellation only.")
        row.attendance.all().delete()
        for line in came:
            if line.adults + len(line.children) == 0:
                continue
            attended = Attendance.objects.create(
                occurrence=row,
                household=line.household,
                contact=line.contact,
                adults=line.adults,
                people=line.adults + len(line.children),
            )
            attended.children.set(line.children)
        row.attendance_recorded_at, row.attendance_recorded_by = now, by
        row.save(update_fields=["attendance_recorded_at", "attendance_recorded_by"])
        _record(
            event,
            by=by,
            verb="event.attendance",
            summary=f"Recorded who came: {event.title}",
            household=_only_household(came),
            children=[child for line in came for child in line.children],
            date=key_of(original_start),
            people=sum(c.adults + len(c.children) for c in came),
        )
    return row


# --- people kept connected -------------------------------------------------------


def keep_connected(
    *,
    constellation: Constellation,
    by: User,
    name: str,
    email: str,
    relationship: str,
    consent: str,
    ends_on: date,
    child: Child | None = None,
    today: date | None = None,
) -> KeptConnected:
    """Add someone to the constellation's list of people kept connected, with how they
    consented and until when (DOMAIN.md, workflow 7). Refused: no consent recorded,
    an end date in the past or over five years on, a child of another service."""
    today = today or timezone.localdate()
    if not (name or "").strip():
        raise _field("name", "Give the name the constellation knows them by.")
    try:
        validate_email(email or "")
    except ValidationError:
        raise _field("email", "Give an email address their invitations can reach.") from None
    if relationship not in KeptConnected.Relationship.values:
        raise _field("relationship", "Choose who they are to the constellation.")
    if not (consent or "").strip():
        raise _field("consent", "Record who agreed, how and when.")
    if ends_on < today:
        raise _field("ends_on", "The end date cannot be in the past.")
    if ends_on > today + timedelta(days=5 * 366):
        raise _field("ends_on", "Keep someone connected for at most five years, then ask again.")
    if child is not None and child.service_id != constellation.service_id:
        raise _field("child", "Choose a young person of this service.")
    with transaction.atomic():
        person = KeptConnected.objects.create(
            constellation=constellation,
            name=name,
            email=email,
            relationship=relationship,
            consent=consent,
            ends_on=ends_on,
            child=child,
            added_by=by,
        )
        record_activity(
            service=constellation.service,
            constellation=constellation,
            actor=by,
            verb="kept_connected.added",
            target=person,
            summary="Someone kept connected was added",
        )
    return person


def stop_keeping_connected(person: KeptConnected, *, by: User) -> KeptConnected:
    """Withdraw consent: no invitation reaches them again and their links stop working."""
    with transaction.atomic():
        person = KeptConnected.objects.select_for_update().get(pk=person.pk)
        if person.withdrawn_at is not None:
            raise ActionRefused("They are no longer kept connected already.")
        person.withdrawn_at, person.withdrawn_by = timezone.now(), by
        person.save(update_fields=["withdrawn_at", "withdrawn_by"])
        record_activity(
            service=person.constellation.service,
            constellation=person.constellation,
            actor=by,
            verb="kept_connected.withdrawn",
            target=person,
            summary="Someone kept connected was withdrawn",
        )
    return person


# --- calendar feeds ---------------------------------------------------------------


def feed_of(user: User) -> CalendarFeed:
    """The user's live subscription address, made on first asking."""
    with transaction.atomic():
        feed = CalendarFeed.objects.live().filter(user=user).first()
        return feed or CalendarFeed.objects.create(user=user)


def renew_feed(user: User) -> CalendarFeed:
    """Revoke the user's address (it answers 404 from now on) and make a new one."""
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        return CalendarFeed.objects.create(user=user)


def revoke_feeds(user: User) -> int:
    """Revoke every address of the user; returns how many were live."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


__all__ = [
    "Came",
    "Invitation",
    "answer",
    "cancel_event",
    "cancel_occurrence",
    "change_from",
    "closes_at",
    "create_event",
    "feed_of",
    "is_invited",
    "keep_connected",
    "london_start",
    "move_occurrence",
    "occurrence_for",
    "record_attendance",
    "renew_feed",
    "revoke_feeds",
    "stop_keeping_connected",
    "update_event",
]


def london_start(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware moment for a London wall-clock time (a helper for seeds and tests)."""
    return placed(datetime(day.year, day.month, day.day, hour, minute))  # noqa: DTZ001
