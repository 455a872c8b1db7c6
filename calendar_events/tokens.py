"""Signed invitation links for people kept connected (issue 10, part 5).

Someone kept connected has no account: the link in their invitation email is the
only proof of who they are. A token carries the person's id, the event's id and
the date's key (``recurrence.key_of``), signed with the site's secret and a salt
of its own (``django.core.signing``), so that it cannot be made, changed or reused
for another person, event or date. It works until a day after the date starts.

``invitation_of(token)`` is the one fetch-and-check of the public answer page:
a token that does not verify is a 404 (nothing to say to a guesser); a genuine
token whose invitation is over (expired, consent withdrawn or ended, the date
cancelled or gone, the person no longer invited) raises ``InvitationEnded``, which
the page shows as a plain 410."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.http import Http404
from django.utils import timezone

from .models import Event, KeptConnected, Occurrence, Rsvp
from .recurrence import Slot, key_of, parse_key, slot_of

SALT = "calendar_events.tokens.invitation"
# How long after the date's start the link still opens (to see one's answer).
GRACE = timedelta(days=1)


class InvitationEnded(Exception):
    """A genuine link whose invitation is over: the page answers 410."""


@dataclass(frozen=True)
class Ticket:
    """What a verified token says: who, which event, which date, and when it was
    signed (aware, UTC)."""

    contact_id: int
    event_id: int
    original_start: datetime
    signed_at: datetime


def make(*, contact: KeptConnected, event: Event, original_start: datetime) -> str:
    """The token of ``contact``'s invitation to the date of ``event`` whose original
    start is ``original_start`` (aware). URL-safe; about 100 characters."""
    return signing.dumps([contact.pk, event.pk, key_of(original_start)], salt=SALT)


def link(*, contact: KeptConnected, event: Event, original_start: datetime) -> str:
    """The site path of the public answer page for this invitation."""
    token = make(contact=contact, event=event, original_start=original_start)
    return f"/calendar/invitation/{token}/"


def read(token: str) -> Ticket | None:
    """The ticket of a token whose signature verifies, whatever its age; None for
    anything else (tampered, made with another salt or secret, malformed)."""
    try:
        payload = signing.loads(token, salt=SALT)
        stamp = signing.b62_decode(token.rsplit(":", 2)[1])
    except (signing.BadSignature, ValueError, TypeError, IndexError):
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in payload[:2])
        or not isinstance(payload[2], str)
    ):
        return None
    original_start = parse_key(payload[2])
    if original_start is None:
        return None
    return Ticket(payload[0], payload[1], original_start, datetime.fromtimestamp(stamp, tz=UTC))


def still_open(token: str, ticket: Ticket, *, start: datetime) -> bool:
    """Whether the token is younger than its ``max_age``: from its signing until a
    day after ``start`` (the date's start now, aware; a date moved later keeps its
    link working)."""
    max_age = (start + GRACE - ticket.signed_at).total_seconds()
    if max_age <= 0:
        return False
    try:
        signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        return False
    except signing.BadSignature:
        return False
    return True


@dataclass
class Invited:
    """One open invitation, as the public page shows it: the person, the event, the
    date and the person's own answer (or None)."""

    contact: KeptConnected
    event: Event
    slot: Slot
    rsvp: Rsvp | None


def invitation_of(token: str, *, today=None) -> Invited:
    """The invitation a token opens. Raises ``Http404`` for a token that does not
    verify (or names nothing), ``InvitationEnded`` for one that is over: expired, the
    person's consent withdrawn or past its end date, no longer invited, the event not
    a social get-together, the date cancelled or no longer a date of the event."""
    ticket = read(token)
    if ticket is None:
        raise Http404("No such invitation.")
    contact = KeptConnected.objects.filter(pk=ticket.contact_id).first()
    if contact is None:
        raise Http404("No such invitation.")
    event = (
        Event.objects.filter(pk=ticket.event_id, constellation_id=contact.constellation_id)
        .select_related("constellation__service")
        .first()
    )
    if event is None:
        raise Http404("No such invitation.")
    row = Occurrence.objects.filter(event=event, original_start=ticket.original_start).first()
    slot = slot_of(event, ticket.original_start, row)
    if (
        slot is None
        or slot.cancelled
        or not event.open_to_kept_connected
        or not still_open(token, ticket, start=max(slot.start, ticket.original_start))
        or not KeptConnected.objects.current(today or timezone.localdate())
        .filter(pk=contact.pk)
        .exists()
        or not event.invited_contacts.filter(pk=contact.pk).exists()
    ):
        raise InvitationEnded
    rsvp = Rsvp.objects.filter(occurrence=row, contact=contact).first() if row else None
    return Invited(contact=contact, event=event, slot=slot, rsvp=rsvp)
