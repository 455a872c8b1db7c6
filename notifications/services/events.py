"""Every event of the product notifies the people it concerns (issue 9).

The receivers are connected in ``NotificationsConfig.ready`` to domain events sent
inside the transaction of the change, so each notification is written with the
change and rolls back with it. Bodies name a household and a date, never a child's
surname or any health, care or family detail."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from constellation.models import Carer, ConstellationMembership, LiaisonAssignment
from people.models import User
from sleepovers.models import Kind as RequestKind
from sleepovers.models import Request, Status, Transition

from ..models import Kind
from . import escalation
from .outbox import Message, notify


def carers_of(household_id: int | None) -> list[User]:
    """The current carers of a household (its primary carer first)."""
    if household_id is None:
        return []
    return [
        c.user
        for c in Carer.objects.current()
        .filter(household_id=household_id)
        .select_related("user", "user__notification_preferences")
        .order_by("role", "pk")
    ]


def liaison_workers_of(constellation_id: int | None) -> list[User]:
    if constellation_id is None:
        return []
    return [
        a.user
        for a in LiaisonAssignment.objects.current()
        .filter(constellation_id=constellation_id)
        .select_related("user", "user__notification_preferences")
    ]


def member_carers_of(constellation) -> list[User]:
    """The carers of the constellation's active satellite households."""
    households = ConstellationMembership.objects.filter(
        constellation=constellation, status=ConstellationMembership.Status.ACTIVE
    ).values("household_id")
    return [
        c.user
        for c in Carer.objects.current()
        .filter(household_id__in=households)
        .select_related("user", "user__notification_preferences")
    ]


def family_words(household_id: int | None) -> str:
    """How a message names a household: its carers' first names ("Anna and Ben").
    Never the household's name, which is usually a surname a placed child may
    share: messages travel through third parties and land on shared phones."""
    names = [
        c.user.first_name.strip()
        for c in Carer.objects.current()
        .filter(household_id=household_id)
        .select_related("user")
        .order_by("role", "pk")
        if c.user.first_name.strip()
    ]
    if not names:
        return "a family"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _when(request: Request) -> str:
    start = timezone.localtime(request.start)
    return f"{start:%a} {start.day} {start:%b}"


def _what(request: Request) -> str:
    return request.get_kind_display().lower()


ANSWERS = {
    Status.ACCEPTED: ("Request accepted", "The hub accepted your {what} request for {when}."),
    Status.AWAITING_APPROVAL: (
        "Request waits for approval",
        "The hub would take your {what} request for {when}; it now waits for an approval.",
    ),
    Status.DECLINED: ("Request declined", "The hub declined your {what} request for {when}."),
    Status.OFFERED: (
        "Another time offered",
        "The hub offered another time for your {what} request for {when}: open the app.",
    ),
    Status.CANCELLED: ("Request cancelled", "Your {what} request for {when} was cancelled."),
    Status.EXPIRED: (
        "Request expired",
        "Your {what} request for {when} had no answer before its time passed.",
    ),
    Status.REQUESTED: (
        "Request back with the hub",
        "Your {what} request for {when} is back with the hub to answer.",
    ),
}
AFTER_APPROVAL = {
    Status.ACCEPTED: (
        "Approved and booked",
        "The {what} for {who} on {when} was approved: it is booked.",
    ),
    Status.DECLINED: (
        "Not approved",
        "The {what} for {who} on {when} was not approved: it is declined.",
    ),
}
TO_HUB = {
    Status.CANCELLED: ("Request cancelled", "{who} cancelled the {what} request for {when}."),
    Status.ACCEPTED: ("Offer taken", "{who} took the time you offered for the {what} request."),
    Status.REQUESTED: (
        "Request to answer again",
        "The {what} request from {who} for {when} is back with you to answer.",
    ),
}


def on_request_changed(sender, request: Request, before: str, by: User | None, **kwargs) -> None:
    """A request was asked or moved along its lifecycle: alert, stop an alert, or
    tell the other side."""
    if before == "":
        if request.kind == RequestKind.CRISIS:
            escalation.raise_alert(request)
            return
        _tell(
            escalation.hub_carers(request),
            request,
            Kind.REQUEST,
            "New request",
            "New {what} request from {who} for {when}: open the app to answer.",
            key=f"request:{request.pk}:asked",
            exclude=by,
        )
        return
    if before == Status.REQUESTED and request.kind == RequestKind.CRISIS:
        escalation.stop(request, reason=request.status)
    to = request.status
    if to in (Status.ARRIVED, Status.COLLECTED, Status.DID_NOT_ARRIVE):
        return
    step = Transition.objects.filter(request=request).order_by("-pk").values_list("pk", flat=True)
    key = f"request:{request.pk}:{to}:{step.first()}"
    by_family = (
        by is not None
        and Carer.objects.current().filter(user=by, household_id=request.household_id).exists()
    )
    if by_family and to in TO_HUB:
        subject, body = TO_HUB[to]
        _tell(escalation.hub_carers(request), request, Kind.REQUEST_CHANGED, subject, body, key, by)
    elif before == Status.AWAITING_APPROVAL and to in (Status.ACCEPTED, Status.DECLINED):
        # The approval was answered: both sides hear how it ended.
        subject, body = ANSWERS[to]
        _tell(carers_of(request.household_id), request, Kind.ANSWER, subject, body, key, by)
        _tell(
            escalation.hub_carers(request),
            request,
            Kind.REQUEST_CHANGED,
            *AFTER_APPROVAL[to],
            key=key,
            exclude=by,
        )
    elif not by_family and to in ANSWERS:
        subject, body = ANSWERS[to]
        if to == Status.REQUESTED:  # an approval withdrawn: the hub answers again
            _tell(
                escalation.hub_carers(request),
                request,
                Kind.REQUEST_CHANGED,
                *TO_HUB[Status.REQUESTED],
                key=key,
                exclude=by,
            )
            return
        _tell(carers_of(request.household_id), request, Kind.ANSWER, subject, body, key, by)


def _tell(people, request: Request, kind: str, subject: str, body: str, key: str, exclude):
    words = {
        "what": _what(request),
        "when": _when(request),
        "who": family_words(request.household_id),
    }
    notify(
        people,
        Message(
            kind=kind,
            subject=subject,
            body=body.format(**words),
            link=request.get_absolute_url(),
            key=key,
            target=request,
        ),
        service=request.constellation.service,
        exclude=exclude,
    )


def _approval_link(approval) -> str:
    return reverse("delegated_authority:approvals")


def _for_a_crisis(approval) -> bool:
    return (
        approval.subject_type == "sleepover"
        and Request.objects.filter(pk=approval.subject_id, kind=RequestKind.CRISIS).exists()
    )


def on_approval_requested(sender, approval, **kwargs) -> None:
    """An approval is asked: the person it is assigned to, or else the liaison
    workers of the child's constellation. For a crisis stay it is urgent: on the
    channels that wake people, whatever their quiet hours."""
    people = (
        [approval.assigned_to]
        if approval.assigned_to_id
        else liaison_workers_of(approval.constellation_id)
    )
    crisis = _for_a_crisis(approval)
    notify(
        people,
        Message(
            kind=Kind.CRISIS_APPROVAL if crisis else Kind.APPROVAL,
            subject="A crisis stay waits for your approval"
            if crisis
            else "An approval waits for you",
            body=(
                "A crisis stay at the hub waits for your approval now: open the app to answer."
                if crisis
                else f"An approval waits for you: {approval.decision.label}. "
                "Open the app to answer."
            ),
            link=_approval_link(approval),
            key=f"approval:{approval.pk}:asked",
            target=approval,
        ),
        service=approval.child.service,
        exclude=approval.requested_by,
    )


def on_approval_decided(sender, approval, **kwargs) -> None:
    """An approval is answered: the person who asked for it."""
    notify(
        [approval.requested_by],
        Message(
            kind=Kind.APPROVAL_DECIDED,
            subject=f"Approval {approval.get_status_display().lower()}",
            body=f"Your request for approval ({approval.decision.label}) was "
            f"{approval.get_status_display().lower()}.",
            link=_approval_link(approval),
            key=f"approval:{approval.pk}:{approval.status}",
            target=approval,
        ),
        service=approval.child.service,
        exclude=approval.decided_by,
    )


def on_review_due(sender, agreement, kind: str, liaison_ids: list[int], **kwargs) -> None:
    """A delegated authority review is due within 30 days, or overdue: the liaison
    workers of the child's constellation (written with the reminder's own row)."""
    when = (
        "is overdue for review"
        if kind == "overdue"
        else f"is due for review on {agreement.review_on.day} {agreement.review_on:%B}"
    )
    notify(
        User.objects.filter(pk__in=liaison_ids),
        Message(
            kind=Kind.REVIEW,
            subject="Delegated authority review " + ("overdue" if kind == "overdue" else "due"),
            body=f"A delegated authority agreement {when}: open the app.",
            link=reverse("delegated_authority:agreement", args=[agreement.pk]),
            key=f"review:{agreement.pk}:{kind}",
            target=agreement,
        ),
        service=agreement.child.service,
    )


def on_cover_changed(sender, cover, by: User, ended: bool, **kwargs) -> None:
    """Hub cover arranged or ended: the stand-in's carers, the hub carers and the
    constellation's satellite carers (where their requests now go)."""
    constellation = cover.constellation
    people = (
        carers_of(cover.stand_in_id)
        + carers_of(constellation.hub_id)
        + member_carers_of(constellation)
    )
    if ended:
        subject, body = "Hub cover ended", "The hub answers requests again."
    else:
        subject = "Hub cover arranged"
        body = (
            f"From {cover.start.day} {cover.start:%b} to {cover.end.day} {cover.end:%b}, "
            f"requests go to {family_words(cover.stand_in_id)}, standing in for the hub."
        )
    notify(
        people,
        Message(
            kind=Kind.COVER,
            subject=subject,
            body=body,
            link="/",
            key=f"cover:{cover.pk}:{'ended' if ended else 'arranged'}",
            target=cover,
        ),
        service=constellation.service,
        exclude=by,
    )


def on_override_changed(sender, override, by: User, withdrawn: bool, **kwargs) -> None:
    """An exception to the nights limits: the child's household and the hub carers."""
    constellation = override.constellation
    child = override.child
    people = carers_of(child.household_id) + carers_of(constellation.hub_id)
    what = "withdrawn" if withdrawn else "granted"
    notify(
        people,
        Message(
            kind=Kind.LIMITS,
            subject=f"Exception to the nights limits {what}",
            body=f"An exception to the planned nights limits was {what}, "
            f"{override.start.day} {override.start:%b} to {override.end.day} {override.end:%b}: "
            "open the app.",
            link="/",
            key=f"override:{override.pk}:{what}",
            target=override,
        ),
        service=constellation.service,
        exclude=by,
    )
