"""Crisis escalation as data (DOMAIN.md, workflow 2; issue 9).

A crisis request raises an alert with three timed steps, each a row run by the
sweep when due (never a Celery countdown, which runs twice past Redis's visibility
timeout and dies with a restarted worker):

0. at once: every carer of the hub the request went to (the stand-in's during a
   cover), on every channel they have;
1. after the constellation's ``crisis_escalation_minutes`` (10 by default): the hub
   carers again by text message, and the constellation's liaison worker(s);
2. 20 minutes later (30 by default): the fostering service's out-of-hours duty
   contact, by SMS and email.

A step whose people resolve to nobody (no liaison worker assigned, no duty contact
set) passes on to the next step at once. The alert stops the moment the request
is answered (accepted, declined, offered another time), cancelled or expired, or
when a hub carer taps "I've seen it, I'm calling you"."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from constellation.models import Carer, LiaisonAssignment
from constellation.services import ActionRefused, concerns, record_activity
from people.models import User
from sleepovers.models import Request, SleepoverSettings, Status
from sleepovers.services.beds import lock_for_action

from ..models import Channel, CrisisAlert, EscalationStep, Kind
from .outbox import Message, notify, notify_contact

DUTY_AFTER_LIAISON = timedelta(minutes=20)
DEFAULT_MINUTES = 10


def hub_carers(request: Request) -> list[User]:
    """The current carers of the hub the request was sent to (a stand-in during a
    cover), in a stable order."""
    return [
        c.user
        for c in Carer.objects.current()
        .filter(household_id=request.hub_id, user__is_active=True)
        .select_related("user", "user__notification_preferences")
        .order_by("role", "pk")
    ]


def liaison_workers(request: Request) -> list[User]:
    """The liaison workers assigned now to the request's constellation."""
    return [
        a.user
        for a in LiaisonAssignment.objects.current()
        .filter(constellation_id=request.constellation_id, user__is_active=True)
        .select_related("user", "user__notification_preferences")
        .order_by("pk")
    ]


def escalation_minutes(request: Request) -> int:
    limits = SleepoverSettings.objects.filter(constellation_id=request.constellation_id).first()
    return limits.crisis_escalation_minutes if limits else DEFAULT_MINUTES


def _message(request: Request, step: int, now: datetime) -> Message:
    # Named by the asking carer's first name, never the household's name (usually a
    # surname a placed child may share); the constellation for those beyond the hub.
    asker = (request.requested_by.first_name or "").strip() or "a carer"
    who = asker if step == 0 else f"{asker} in {request.constellation.name}"
    link = request.get_absolute_url()
    if step == 0:
        return Message(
            kind=Kind.CRISIS,
            subject=f"Crisis request from {who}",
            body=f"Crisis request from {who}: open the app to answer.",
            link=link,
            key=f"crisis:{request.pk}:0",
            target=request,
        )
    minutes = int((now - request.created_at).total_seconds() // 60)
    return Message(
        kind=Kind.ESCALATION,
        subject=f"Unanswered crisis request from {who}",
        body=f"A crisis request from {who} has had no answer from the hub for "
        f"{max(minutes, 1)} minutes: open the app or call them.",
        link=link,
        key=f"crisis:{request.pk}:{step}",
        target=request,
    )


def raise_alert(request: Request, *, now: datetime | None = None) -> CrisisAlert:
    """Open the alert of a crisis request and run its first step at once; the later
    steps wait as rows. Call inside the transaction that creates the request."""
    now = now or timezone.now()
    alert = CrisisAlert.objects.create(request=request, raised_at=now)
    liaison_at = now + timedelta(minutes=escalation_minutes(request))
    steps = [
        EscalationStep(alert=alert, step=EscalationStep.Step.HUB, due_at=now),
        EscalationStep(alert=alert, step=EscalationStep.Step.LIAISON, due_at=liaison_at),
        EscalationStep(
            alert=alert, step=EscalationStep.Step.DUTY, due_at=liaison_at + DUTY_AFTER_LIAISON
        ),
    ]
    EscalationStep.objects.bulk_create(steps)
    _run(EscalationStep.objects.get(alert=alert, step=EscalationStep.Step.HUB), now)
    return alert


def _run(step: EscalationStep, now: datetime) -> None:
    """Run one waiting step (its row locked by the caller or just created)."""
    request = step.alert.request
    service = request.constellation.service
    message = _message(request, step.step, now)
    if step.step == EscalationStep.Step.HUB:
        reached = hub_carers(request)
        notify(reached, message, service=service, now=now)
    elif step.step == EscalationStep.Step.LIAISON:
        # Nobody at the hub answered in time: a crisis not met opens a concern.
        concerns.crisis_not_met(
            request,
            why="A crisis request was not answered by the hub carers in time; "
            "the alert passed to the liaison worker.",
            now=now,
        )
        carers = hub_carers(request)
        notify(carers, message, service=service, only={Channel.SMS}, now=now)
        reached = liaison_workers(request)
        notify(reached, message, service=service, now=now)
    else:
        reached = [service] if (service.out_of_hours_phone or service.out_of_hours_email) else []
        if reached:
            notify_contact(
                name=service.out_of_hours_name or "Out-of-hours duty",
                phone=service.out_of_hours_phone,
                email=service.out_of_hours_email,
                message=message,
                service=service,
                now=now,
            )
    step.ran_at = now
    step.status = EscalationStep.Status.DONE if reached else EscalationStep.Status.PASSED_ON
    step.save(update_fields=["ran_at", "status"])
    if step.step != EscalationStep.Step.HUB:
        # The crisis passed beyond the hub: in the activity record (the liaison worker's
        # feed, and the dashboards' "escalated", which are kept until it moves).
        to = (
            "the liaison worker"
            if step.step == EscalationStep.Step.LIAISON
            else "the out-of-hours duty contact"
        )
        record_activity(
            service=service,
            constellation=request.constellation,
            actor=None,
            verb="sleepover.crisis_escalated",
            target=request,
            summary=f"Crisis request {request.pk}: not answered in time, passed to {to}",
            household=request.household_id,
        )
    if not reached:
        following = (
            EscalationStep.objects.select_for_update()
            .filter(alert=step.alert, step=step.step + 1, status=EscalationStep.Status.WAITING)
            .select_related("alert__request__constellation__service", "alert__request__household")
            .first()
        )
        if following is not None:
            following.due_at = now
            following.save(update_fields=["due_at"])
            _run(following, now)


def run_due_steps(*, now: datetime | None = None) -> int:
    """Run every waiting step that is due (the sweep, every minute). Each in its own
    transaction with its row locked (``skip_locked``: two sweeps never run one step
    twice). A step of an alert that has stopped, or of a request no longer waiting,
    is marked not needed. Returns how many steps ran."""
    now = now or timezone.now()
    ran = 0
    due = list(
        EscalationStep.objects.filter(status=EscalationStep.Status.WAITING, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:200]
    )
    for pk in due:
        with transaction.atomic():
            step = (
                EscalationStep.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, status=EscalationStep.Status.WAITING)
                .select_related(
                    "alert", "alert__request__constellation__service", "alert__request__household"
                )
                .first()
            )
            if step is None:
                continue
            if step.alert.stopped or step.alert.request.status != Status.REQUESTED:
                if not step.alert.stopped:
                    stop(step.alert.request, reason="answered", now=now)
                else:
                    step.status = EscalationStep.Status.STOPPED
                    step.save(update_fields=["status"])
                continue
            _run(step, now)
            ran += 1
    return ran


def stop(request: Request, *, reason: str, now: datetime | None = None) -> bool:
    """Stop a crisis request's alert: no further step runs. Returns whether it was
    running. Called by the answer, cancellation or expiry of the request, and by
    ``seen``."""
    now = now or timezone.now()
    stopped = CrisisAlert.objects.filter(request=request, stopped_at__isnull=True).update(
        stopped_at=now, stop_reason=reason[:120]
    )
    EscalationStep.objects.filter(
        alert__request=request, status=EscalationStep.Status.WAITING
    ).update(status=EscalationStep.Status.STOPPED)
    return bool(stopped)


@transaction.atomic
def seen(request: Request, *, by: User, now: datetime | None = None) -> CrisisAlert:
    """A hub carer's "I've seen it, I'm calling you": the escalation stops and the
    requesting household is told at once on every channel. Who may do it is decided
    by ``sleepovers.access.is_hub_carer`` (the caller checks); refused with
    ``ActionRefused`` when the request is not a crisis waiting for an answer or
    someone has already said so."""
    now = now or timezone.now()
    # The sleepovers' lock order (the hub, then the request): an answer given at the
    # same moment queues with this, and the status read is the one now.
    request = lock_for_action(request)
    alert = (
        CrisisAlert.objects.select_for_update(of=("self",))
        .select_related("request__household", "request__constellation__service")
        .filter(request=request)
        .first()
    )
    if alert is not None and alert.seen_by_id is not None:
        raise ActionRefused(f"{alert.seen_by.first_name or alert.seen_by} has already said so.")
    if alert is None or alert.stopped or request.status != Status.REQUESTED:
        raise ActionRefused("This request is not a crisis waiting for the hub's answer.")
    alert.seen_by, alert.seen_at = by, now
    alert.save(update_fields=["seen_by", "seen_at"])
    stop(request, reason="seen", now=now)
    name = by.first_name or "The hub carer"
    family = [
        c.user
        for c in Carer.objects.current()
        .filter(household_id=request.household_id)
        .select_related("user", "user__notification_preferences")
    ]
    if request.requested_by_id:
        family.sort(key=lambda u: u.pk != request.requested_by_id)
    notify(
        family,
        Message(
            kind=Kind.CRISIS_SEEN,
            subject="The hub has seen your crisis request",
            body=f"{name} at the hub has seen your crisis request and is calling you now.",
            link=request.get_absolute_url(),
            key=f"crisis:{request.pk}:seen",
            target=request,
        ),
        service=request.constellation.service,
        now=now,
    )
    record_activity(
        service=request.constellation.service,
        constellation=request.constellation,
        actor=by,
        verb="sleepover.crisis_seen",
        target=request,
        summary=f"Crisis request {request.pk}: seen by {name}, who is calling",
    )
    return alert
