"""Reminders and digests (issue 9), found by querying so that a tick missed while
the worker was down is caught up, and sent once each (a deduplication key).
Beat calls ``send_due`` every 15 minutes. Times are Europe/London wall-clock.

- a stay tomorrow: from 18:00 the day before, to the carer who asked and the hub
  carers (caught up the next morning for a stay that has not begun);
- a planned request unanswered for 48 hours: the hub carers;
- another time offered and unanswered for 48 hours: the family;
- approvals waiting: each holder, once a day from 08:00;
- the liaison worker's weekly digest of their constellations: from Monday 08:00,
  once a week (caught up later in the week)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from constellation.models import Constellation, LiaisonAssignment
from delegated_authority.models import Approval
from people.models import User
from sleepovers.models import Kind as RequestKind
from sleepovers.models import Night, Request, Status, Transition

from ..models import Kind, Notification
from . import escalation
from .events import carers_of, family_words, liaison_workers_of
from .outbox import Message, notify

EVENING = time(18)
MORNING = time(8)
# How many items of each kind the desk's queue lists at most (``selectors.queue``).
QUEUE_CAP = 50
WAITING = timedelta(hours=48)


def _at(day, moment: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, moment), timezone.get_current_timezone())


def _accepted_at():
    return (
        Transition.objects.filter(request=OuterRef("pk"), to_status=Status.ACCEPTED)
        .order_by("-at")
        .values("at")[:1]
    )


def stays_tomorrow(now: datetime) -> int:
    """Accepted stays that begin tomorrow (from 18:00 today), or later today when
    yesterday evening's reminder was missed: the asking carer and the hub carers."""
    local = timezone.localtime(now)
    today = local.date()
    tomorrow = today + timedelta(days=1)
    when = Q(start__gt=now, start__lt=_at(today + timedelta(days=1), time(0)))
    if local.time() >= EVENING:
        when |= Q(
            start__gte=_at(tomorrow, time(0)), start__lt=_at(tomorrow + timedelta(1), time(0))
        )
    rows = (
        Request.objects.filter(when, status=Status.ACCEPTED)
        .annotate(accepted_at=Subquery(_accepted_at()))
        .select_related("household", "constellation__service")
    )
    sent = 0
    for request in rows:
        begins = timezone.localtime(request.start)
        if begins.date() == today and (
            request.accepted_at is None or request.accepted_at >= _at(today - timedelta(1), EVENING)
        ):
            continue  # accepted for today after yesterday's reminder time: nothing to remind
        what = request.get_kind_display().lower()
        day = "today" if begins.date() == today else "tomorrow"
        with transaction.atomic():
            family = User.objects.filter(pk=request.requested_by_id)
            notify(
                family,
                Message(
                    kind=Kind.STAY_TOMORROW,
                    subject=f"Your {what} at the hub is {day}",
                    body=f"Reminder: your {what} at the hub is {day} at {begins:%H:%M}.",
                    link=request.get_absolute_url(),
                    key=f"stay-tomorrow:{request.pk}",
                    target=request,
                ),
                service=request.constellation.service,
                now=now,
            )
            sent += len(
                notify(
                    escalation.hub_carers(request),
                    Message(
                        kind=Kind.STAY_TOMORROW,
                        subject=f"A {what} {day}",
                        body=f"Reminder: {family_words(request.household_id)} come for a {what} "
                        f"{day} at {begins:%H:%M}.",
                        link=request.get_absolute_url(),
                        key=f"stay-tomorrow:{request.pk}",
                        target=request,
                    ),
                    service=request.constellation.service,
                    now=now,
                )
            )
    return sent


def unanswered_requests(now: datetime) -> int:
    """Planned requests still waiting for the hub 48 hours after they were asked,
    whose time has not come: the hub carers, once."""
    rows = (
        Request.objects.filter(
            status=Status.REQUESTED, created_at__lte=now - WAITING, start__gt=now
        )
        .exclude(kind=RequestKind.CRISIS)
        .select_related("household", "constellation__service")
    )
    sent = 0
    for request in rows:
        begins = timezone.localtime(request.start)
        with transaction.atomic():
            sent += len(
                notify(
                    escalation.hub_carers(request),
                    Message(
                        kind=Kind.UNANSWERED,
                        subject="A request waits for your answer",
                        body=f"{family_words(request.household_id)} asked 2 days ago for a "
                        f"{request.get_kind_display().lower()} on {begins:%a} {begins.day} "
                        f"{begins:%b}: it still waits for your answer.",
                        link=request.get_absolute_url(),
                        key=f"unanswered:{request.pk}",
                        target=request,
                    ),
                    service=request.constellation.service,
                    now=now,
                )
            )
    return sent


def unanswered_offers(now: datetime) -> int:
    """Another time offered by the hub and not taken or refused 48 hours later:
    the family, once per offer."""
    offered = Transition.objects.filter(request=OuterRef("pk"), to_status=Status.OFFERED).order_by(
        "-at"
    )
    rows = (
        Request.objects.filter(status=Status.OFFERED)
        .annotate(
            offered_at=Subquery(offered.values("at")[:1]),
            offer_id=Subquery(offered.values("pk")[:1]),
        )
        .filter(offered_at__lte=now - WAITING)
        .select_related("household", "constellation__service")
    )
    sent = 0
    for request in rows:
        with transaction.atomic():
            sent += len(
                notify(
                    carers_of(request.household_id),
                    Message(
                        kind=Kind.UNANSWERED,
                        subject="The hub's offer waits for you",
                        body="The hub offered another time for your request 2 days ago: "
                        "open the app to take it or say no.",
                        link=request.get_absolute_url(),
                        key=f"offer-unanswered:{request.pk}:{request.offer_id}",
                        target=request,
                    ),
                    service=request.constellation.service,
                    now=now,
                )
            )
    return sent


def approvals_waiting(now: datetime) -> int:
    """From 08:00, once a day: each holder with approvals waiting for their answer
    (the person assigned, else the constellation's liaison workers)."""
    local = timezone.localtime(now)
    if local.time() < MORNING:
        return 0
    waiting: dict[int, list[Approval]] = defaultdict(list)
    holders: dict[int, User] = {}
    rows = Approval.objects.filter(status=Approval.Status.PENDING).select_related(
        "assigned_to", "child__service"
    )
    for approval in rows:
        people = (
            [approval.assigned_to]
            if approval.assigned_to_id
            else liaison_workers_of(approval.constellation_id)
        )
        for person in people:
            holders[person.pk] = person
            waiting[person.pk].append(approval)
    sent = 0
    for pk, approvals in waiting.items():
        count = len(approvals)
        with transaction.atomic():
            sent += len(
                notify(
                    [holders[pk]],
                    Message(
                        kind=Kind.APPROVALS_WAITING,
                        subject=f"{count} approval{'s' if count != 1 else ''} waiting",
                        body=f"{count} approval{'s' if count != 1 else ''} wait"
                        f"{'' if count != 1 else 's'} for your answer: open the app.",
                        link=reverse("delegated_authority:approvals"),
                        key=f"approvals-waiting:{pk}:{local.date().isoformat()}",
                    ),
                    service=approvals[0].child.service,
                    now=now,
                )
            )
    return sent


def _waiting(items: list, one: str, many: str, after: str = "") -> str:
    # The queue's lists stop at QUEUE_CAP items: more is "50 or more", not 50.
    n = len(items)
    count = f"{n} or more" if n >= QUEUE_CAP else str(n)
    return f"{count} {one if n == 1 else many}{after}"


def _queue_counts(user: User, constellations: list[Constellation], now: datetime) -> str:
    """What waits on the liaison worker now, as counts (``constellation.selectors.queue``,
    the desk's own read): never a child's or a household's name."""
    from constellation import selectors

    q = selectors.queue(user, constellations=constellations, now=now)
    counts = (
        _waiting(q.concerns, "open concern", "open concerns"),
        _waiting(q.red_households, "household", "households", " past red"),
        _waiting(q.overdue_follow_ups, "follow-up", "follow-ups", " overdue"),
        _waiting(q.approvals, "approval", "approvals", " to answer"),
    )
    return "Waiting on you: " + ", ".join(counts) + "."


def weekly_digests(now: datetime) -> int:
    """From Monday 08:00, once a week (caught up later in the week): each liaison
    worker's counts of the last 7 days in their constellations, and what waits on them
    now (open concerns, households past the red threshold, follow-ups overdue,
    approvals waiting: the desk's queue). Counts only, never a child's name."""
    local = timezone.localtime(now)
    if local.weekday() == 0 and local.time() < MORNING:
        return 0
    year, week, _ = local.isocalendar()
    monday = local.date() - timedelta(days=local.weekday())
    since, until = _at(monday - timedelta(days=7), time(0)), _at(monday, time(0))
    by_user: dict[int, list[Constellation]] = defaultdict(list)
    users: dict[int, User] = {}
    for a in LiaisonAssignment.objects.current().select_related(
        "user", "constellation__service", "user__notification_preferences"
    ):
        by_user[a.user_id].append(a.constellation)
        users[a.user_id] = a.user
    keys = {pk: f"digest:{pk}:{year}-W{week:02d}" for pk in by_user}
    # Counting the queue is the costly part: skip whoever has this week's digest.
    done = set(
        Notification.objects.filter(key__in=keys.values()).values_list("recipient_id", flat=True)
    )
    sent = 0
    for pk, constellations in by_user.items():
        if pk in done:
            continue
        asked = Request.objects.filter(
            constellation__in=constellations, created_at__gte=since, created_at__lt=until
        ).aggregate(total=Count("pk"), crisis=Count("pk", filter=Q(kind=RequestKind.CRISIS)))
        nights = Night.objects.filter(
            request__constellation__in=constellations,
            date__gte=monday - timedelta(days=7),
            date__lt=monday,
        ).count()
        names = ", ".join(c.name for c in constellations[:3])
        with transaction.atomic():
            sent += len(
                notify(
                    [users[pk]],
                    Message(
                        kind=Kind.DIGEST,
                        subject="Your constellations last week",
                        body=f"Last week in {names}: {asked['total']} request"
                        f"{'s' if asked['total'] != 1 else ''} ({asked['crisis']} crisis), "
                        f"{nights} child-night{'s' if nights != 1 else ''} at the hub. "
                        + _queue_counts(users[pk], constellations, now),
                        link=reverse("constellation:desk"),
                        key=keys[pk],
                    ),
                    service=constellations[0].service,
                    now=now,
                )
            )
    return sent


def send_due(*, now: datetime | None = None) -> int:
    """Every reminder and digest that is due and not yet written. Returns how many
    notifications were written."""
    now = now or timezone.now()
    return (
        stays_tomorrow(now)
        + unanswered_requests(now)
        + unanswered_offers(now)
        + approvals_waiting(now)
        + weekly_digests(now)
    )
