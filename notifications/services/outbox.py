"""The outbox: write a notification with the change that causes it, deliver it once.

- ``notify`` writes one row per recipient and channel inside the caller's
  transaction, and after the commit queues one delivery task for the rows due now.
  If the broker is unreachable the request still succeeds: the sweep delivers.
- ``deliver`` claims a row with a conditional update before sending, so a retry,
  a duplicate task or a second worker sends at most once per recipient, channel
  and key. A claim that never finished (a worker killed mid-send) is released
  after ``CLAIM_TIMEOUT``. A row recorded as sent is never sent again.
- ``sweep`` (beat, every minute) runs the escalation steps that are due and queues
  every due, unsent row: what was written while Redis or the worker was down is
  delivered when they return (ARCHITECTURE.md, "Background work")."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from people.models import User

from .. import channels
from ..models import Channel, Notification
from ..preferences import URGENT_KINDS, choices_for, push_configured

log = logging.getLogger(__name__)

# Longer than a delivery task's hard time limit (90 s): a claim older than this
# belongs to a worker that died, and the row may be sent again.
CLAIM_TIMEOUT = timedelta(minutes=3)
MAX_ATTEMPTS = 8
# 30 s, 1, 2, 4, 8, 16, 30 minutes: then the row fails and waits in the admin.
BACKOFF_START = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=30)
SWEEP_BATCH = 500
TASK_BATCH = 25


@dataclass(frozen=True)
class Message:
    """What a notification says. ``subject`` and ``body`` go to third parties (SMS,
    email, push): a short line with no child's surname and no health, care or family
    detail. ``link`` is a path of this site. ``key`` identifies the event, so that a
    second call for the same event writes nothing new."""

    kind: str
    subject: str
    body: str
    link: str
    key: str
    target: object | None = None


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: doubling from 30 s, capped at 30 min."""
    return min(BACKOFF_START * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


def _target_fields(target) -> dict:
    if target is None:
        return {"target_type": None, "target_id": None}
    return {"target_type": ContentType.objects.get_for_model(target), "target_id": target.pk}


def _write(*, service, destination: str, channel: str, message: Message, fields: dict):
    try:
        with transaction.atomic():
            row, created = Notification.objects.get_or_create(
                key=message.key[:150],
                channel=channel,
                destination=destination,
                defaults={
                    "service": service,
                    "kind": message.kind,
                    "urgent": message.kind in URGENT_KINDS,
                    "subject": message.subject[:120],
                    "body": message.body[:300],
                    "link": message.link[:300],
                    **fields,
                },
            )
    except IntegrityError:  # written at the same moment by another transaction
        return None
    return row if created else None


def notify(
    recipients: Iterable[User],
    message: Message,
    *,
    service,
    only: Iterable[str] | None = None,
    exclude: User | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Write the notifications of one event to each recipient (duplicates and
    ``exclude``, usually the person who acted, left out), on the channels each
    chose for ``message.kind``: always in the app; push when they have a
    subscription; SMS when they have a phone; email when they have an address.
    ``only`` narrows the channels (an escalation's text message). Outside urgent
    kinds, a channel other than the app waits for the end of the recipient's quiet
    hours (Europe/London). Returns the rows written (none for an event already
    notified). Call inside the transaction of the change."""
    now = now or timezone.now()
    only = set(only) if only is not None else None
    written: list[Notification] = []
    target = _target_fields(message.target)
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or (exclude is not None and user.pk == exclude.pk):
            continue
        seen.add(user.pk)
        if not user.is_active:
            continue
        chosen = choices_for(user)
        quiet_end = None if message.kind in URGENT_KINDS else chosen.quiet_end(now)
        for channel in _channels_of(user, message.kind, chosen, only):
            due = now if channel == Channel.IN_APP or quiet_end is None else quiet_end
            row = _write(
                service=service,
                destination=f"user:{user.pk}",
                channel=channel,
                message=message,
                fields={
                    "recipient": user,
                    "to_name": user.get_full_name() or user.email,
                    "due_at": due,
                    "created_at": now,
                    **target,
                    # In the app it is there as soon as the change commits.
                    **(
                        {"status": Notification.Status.SENT, "sent_at": now}
                        if channel == Channel.IN_APP
                        else {}
                    ),
                },
            )
            if row is not None:
                written.append(row)
    _queue_after_commit(written, now)
    return written


def notify_contact(
    *, name: str, phone: str, email: str, message: Message, service, now: datetime | None = None
) -> list[Notification]:
    """Write a notification to someone who has no account (the service's
    out-of-hours duty contact): by SMS to ``phone`` and email to ``email``, each
    when given. Urgent: no quiet hours."""
    now = now or timezone.now()
    written = []
    target = _target_fields(message.target)
    for channel, address in ((Channel.SMS, phone.strip()), (Channel.EMAIL, email.strip())):
        if not address:
            continue
        row = _write(
            service=service,
            destination=f"{channel}:{address}",
            channel=channel,
            message=message,
            fields={
                "to_name": name,
                "to_address": address,
                "due_at": now,
                "created_at": now,
                **target,
            },
        )
        if row is not None:
            written.append(row)
    _queue_after_commit(written, now)
    return written


def _channels_of(user: User, kind: str, chosen, only) -> list[str]:
    result = [Channel.IN_APP]
    if chosen.wants(kind, Channel.PUSH) and push_configured() and user.push_subscriptions.exists():
        result.append(Channel.PUSH)
    if chosen.wants(kind, Channel.SMS) and user.phone.strip():
        result.append(Channel.SMS)
    if chosen.wants(kind, Channel.EMAIL) and user.email:
        result.append(Channel.EMAIL)
    if only is not None:
        result = [c for c in result if c in only]
    return result


def _queue_after_commit(rows: list[Notification], now: datetime) -> None:
    ids = [r.pk for r in rows if r.status == Notification.Status.PENDING and r.due_at <= now]
    if ids:
        transaction.on_commit(partial(queue, ids))


def queue(ids: list[int]) -> bool:
    """Ask a worker to deliver these rows. Never raises: when the broker is
    unreachable the rows stay due and the sweep queues them again. Returns
    whether the broker took the task."""
    from .. import tasks

    try:
        for start in range(0, len(ids), TASK_BATCH):
            tasks.deliver.apply_async((ids[start : start + TASK_BATCH],), retry=False)
    except Exception:  # noqa: BLE001 - a broker outage: the sweep will deliver
        log.warning("broker unreachable: %d notification(s) left for the sweep", len(ids))
        return False
    return True


def deliver(pk: int, *, now: datetime | None = None) -> bool:
    """Send one row if it is still due and this call claims it first. Returns
    whether it was sent now. A temporary failure is tried again after ``backoff``;
    after ``MAX_ATTEMPTS`` (or a permanent failure) the row is failed, with its error,
    for the admin to see and retry."""
    now = now or timezone.now()
    claimed = (
        Notification.objects.due(now, claim_timeout=CLAIM_TIMEOUT)
        .filter(pk=pk)
        .exclude(channel=Channel.IN_APP)
        .update(status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    row = Notification.objects.select_related("recipient").get(pk=pk)
    mine = Notification.objects.filter(pk=pk, status=Notification.Status.SENDING, claimed_at=now)
    if row.recipient is not None and not row.recipient.is_active:
        # Deactivated since it was written (held back by quiet hours, or a retry).
        mine.update(status=Notification.Status.SKIPPED, last_error="The account is deactivated.")
        return False
    try:
        reference = channels.send(row)
    except channels.PermanentFailure as exc:
        mine.update(status=Notification.Status.FAILED, last_error=str(exc)[:500])
        log.warning("notification %s failed for good: %s", pk, exc.__class__.__name__)
        return False
    except Exception as exc:  # noqa: BLE001 - any provider error is tried again later
        error = f"{exc.__class__.__name__}: {exc}"[:500]
        if row.attempts >= MAX_ATTEMPTS:
            mine.update(status=Notification.Status.FAILED, last_error=error)
        else:
            mine.update(
                status=Notification.Status.PENDING,
                last_error=error,
                due_at=now + backoff(row.attempts),
            )
        log.warning("notification %s not sent (attempt %s)", pk, row.attempts)
        return False
    mine.update(
        status=Notification.Status.SENT, sent_at=timezone.now(), reference=(reference or "")[:120]
    )
    return True


def sweep(*, now: datetime | None = None) -> int:
    """Run the escalation steps that are due, then queue every due, unsent row
    (the oldest first, at most ``SWEEP_BATCH`` a minute). Returns how many rows were
    queued."""
    from .escalation import run_due_steps

    now = now or timezone.now()
    run_due_steps(now=now)
    ids = list(
        Notification.objects.due(now, claim_timeout=CLAIM_TIMEOUT)
        .exclude(channel=Channel.IN_APP)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if ids and queue(ids):
        return len(ids)
    return 0


def retry(rows) -> int:
    """Put failed rows back in the queue (the admin's action): attempts start again."""
    now = timezone.now()
    ids = list(rows.filter(status=Notification.Status.FAILED).values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids).update(
        status=Notification.Status.PENDING, attempts=0, due_at=now, last_error=""
    )
    transaction.on_commit(partial(queue, ids))
    return len(ids)


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own in-app notifications read (all when ``ids`` is None).
    Another person's ids are ignored. Returns how many changed."""
    rows = Notification.objects.unread_for(user)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
