"""Reminders of regular contact (issue 11), through the notifications outbox. Found
by querying and sent once each (a deduplication key), so a tick missed while the
worker was down is caught up. Beat calls ``send_due`` every 15 minutes; from 08:00
London time, so nobody is woken for a check-in.

- a check-in due: the hub carers, once per household and last contact (or, never
  contacted, the day it joined), when the household turns amber (and again when it
  turns red);
- a follow-up due today: the person it was given to, once;
- a follow-up overdue: the person it was given to, once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import Carer, Constellation, FollowUp
from .selectors import AMBER, RED, coverage

MORNING = time(8)


def _hub_carers(constellation: Constellation):
    from people.models import User

    return list(
        User.objects.filter(
            pk__in=Carer.objects.current().filter(household__hub_of=constellation).values("user_id")
        )
    )


def check_ins_due(now: datetime) -> int:
    """Each household amber or red: its constellation's hub carers, once per level
    and last contact. Returns the notifications written."""
    from notifications.models import Kind
    from notifications.services.outbox import Message, notify

    today = timezone.localdate(now)
    constellations = Constellation.objects.filter(hub__isnull=False).select_related("service")
    sent = 0
    hub_carers: dict[int, list] = {}
    for row in coverage(constellations, today=today):
        if row.level not in (AMBER, RED):
            continue
        c = row.constellation
        if c.pk not in hub_carers:
            hub_carers[c.pk] = _hub_carers(c)
        # The day the count runs from: the last contact made, or for a household never
        # contacted the day it joined (so a household that joins again is reminded
        # again, rather than never).
        since = (row.last_contact or today - timedelta(days=row.days)).isoformat()
        when = (
            f"last contact {row.days} days ago"
            if row.last_contact
            else f"no contact recorded in {row.days} days"
        )
        with transaction.atomic():
            sent += len(
                notify(
                    hub_carers[c.pk],
                    Message(
                        kind=Kind.CONTACT_DUE,
                        subject=f"A check-in with {row.household} is due"
                        if row.level == AMBER
                        else f"A check-in with {row.household} is overdue",
                        body=f"{row.household}: {when}. Record a check-in when you have been "
                        "in touch.",
                        link=reverse("constellation:check_in_create", args=[row.household.pk]),
                        key=f"check-in-due:{row.household.pk}:{since}:{row.level}",
                        target=row.household,
                    ),
                    service=c.service,
                    now=now,
                )
            )
    return sent


def follow_ups_due(now: datetime) -> int:
    """Follow-ups due today or overdue, open: the person each was given to, once for
    "due today" and once for "overdue"."""
    from notifications.models import Kind
    from notifications.services.outbox import Message, notify

    today = timezone.localdate(now)
    rows = (
        FollowUp.objects.open()
        .filter(due_on__lte=today)
        .select_related("assigned_to", "check_in__household", "check_in__constellation__service")
    )
    sent = 0
    for follow_up in rows:
        overdue = follow_up.due_on < today
        household = follow_up.check_in.household
        with transaction.atomic():
            sent += len(
                notify(
                    [follow_up.assigned_to],
                    Message(
                        kind=Kind.CONTACT_DUE,
                        subject=(
                            "A follow-up is overdue" if overdue else "A follow-up is due today"
                        )
                        + f" ({household})",
                        body=f"A follow-up with {household} was due "
                        + (f"on {follow_up.due_on:%-d %B}." if overdue else "today.")
                        + " Open the app to record how it was resolved.",
                        link=reverse("constellation:household", args=[household.pk])
                        + "#follow-ups",
                        key=f"follow-up-{'overdue' if overdue else 'due'}:{follow_up.pk}",
                        target=follow_up,
                    ),
                    service=follow_up.check_in.constellation.service,
                    now=now,
                )
            )
    return sent


def send_due(*, now: datetime | None = None) -> int:
    """Every contact reminder due and not yet written (from 08:00 London time).
    Returns how many notifications were written."""
    now = now or timezone.now()
    if timezone.localtime(now).time() < MORNING:
        return 0
    return check_ins_due(now) + follow_ups_due(now)
