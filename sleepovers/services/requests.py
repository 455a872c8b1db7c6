"""Requests for stays and breaks: asking, answering and the lifecycle table."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from constellation.models import (
    Carer,
    Child,
    ConstellationMembership,
    Household,
)
from constellation.services import ActionRefused, record_activity
from delegated_authority import rules
from delegated_authority import services as authority
from delegated_authority.models import Approval, Decision
from people.models import User

from .. import signals
from ..models import (
    ALLOWED,
    DECISION_FOR_KIND,
    OVERNIGHT_KINDS,
    CrisisReason,
    Kind,
    LimitOverride,
    Night,
    Request,
    Status,
    Transition,
    Unavailability,
    nights_between,
)
from .beds import NightFull, _already_booked, _hold_nights, _release_nights, lock_for_action
from .cover import _route, settings_for

# A request "now" may start a little in the past (the form took a minute to fill).
PAST_SLACK = timedelta(minutes=30)
# An overnight crisis asked before this hour ends the same morning.
EARLY_MORNING = 6


# --- the lifecycle: a table, and one function that moves along it --------------------


def _move(request: Request, to: str, *, by: User | None, note: str = "", fields=()) -> Request:
    if to not in ALLOWED[request.status]:
        raise ActionRefused(
            f"A request that is {request.get_status_display().lower()} cannot be "
            f"{Status(to).label.lower()}."
        )
    before = request.status
    request.status = to
    request.save(update_fields=["status", *fields])
    Transition.objects.create(
        request=request, from_status=before, to_status=to, by=by, note=note[:500]
    )
    record_activity(
        service=request.constellation.service,
        constellation=request.constellation,
        actor=by,
        verb=f"sleepover.{to}",
        target=request,
        summary=f"{request.get_kind_display()} {request.pk}: "
        f"{Status(before).label} to {Status(to).label}",
        payload={"from": before, "to": to, "kind": request.kind},
    )
    return request


def is_hub_carer(user: User, request: Request) -> bool:
    return Carer.objects.current().filter(user=user, household_id=request.hub_id).exists()


def is_requester(user: User, request: Request) -> bool:
    return Carer.objects.current().filter(user=user, household_id=request.household_id).exists()


def _require_hub(user: User, request: Request) -> None:
    if not is_hub_carer(user, request):
        raise ActionRefused("Only the hub's carers answer requests.")


def _require_requester(user: User, request: Request) -> None:
    if not is_requester(user, request):
        raise ActionRefused("Only the requesting household can do this.")


# --- asking ---------------------------------------------------------------------------


def _as_aware(value: datetime | date, *, end: bool = False) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    hour = 10 if end else 17  # a planned stay starts after school and ends next morning
    return timezone.make_aware(datetime.combine(value, datetime.min.time()).replace(hour=hour))


def crisis_end(start: datetime, reason: str, until: datetime | None = None) -> datetime:
    """Until when crisis help is asked: the time given, or a few hours (the next
    morning for an overnight stay) when the carer does not know yet."""
    if until:
        return until
    if reason == CrisisReason.OVERNIGHT:
        # The next morning: the same day's when asked in the small hours.
        local = timezone.localtime(start)
        morning = local.date() + timedelta(days=0 if local.hour < EARLY_MORNING else 1)
        return _as_aware(morning, end=True)
    return start + timedelta(hours=4)


def planned_nights_this_year(child: Child, year: int) -> int:
    return Night.objects.filter(child=child, date__year=year, request__kind=Kind.PLANNED).count()


@transaction.atomic
def create_request(
    *,
    by: User,
    kind: str,
    children: list[Child],
    start: datetime | date,
    end: datetime | date,
    notes: str = "",
    crisis_reason: str = "",
    hub: Household | None = None,
) -> Request:
    """A satellite household asks its constellation's hub. Every rule that refuses a
    request is here, with its reason (a ValidationError naming the field)."""
    carer = Carer.objects.current().filter(user=by).select_related("household").first()
    if carer is None:
        raise ValidationError({"household": "Only a foster carer of a household can ask."})
    household = carer.household
    membership = (
        ConstellationMembership.objects.filter(
            household=household, status=ConstellationMembership.Status.ACTIVE
        )
        .select_related("constellation__hub", "constellation__service")
        .first()
    )
    if membership is None:
        raise ValidationError(
            {"household": "Your household is not an active member of a constellation."}
        )
    constellation = membership.constellation
    if constellation.hub is None:
        raise ValidationError({"hub": "The constellation has no hub home yet."})
    asked_hub = hub
    if kind not in Kind.values:
        raise ValidationError({"kind": "Unknown kind of request."})
    if kind == Kind.TEMPORARY:
        raise ValidationError(
            {"kind": "A temporary placement is arranged by the liaison worker, not requested here."}
        )
    children = list(children)
    if not children:
        raise ValidationError({"children": "Choose at least one child."})
    if any(c.household_id != household.pk or c.status != Child.Status.PLACED for c in children):
        raise ValidationError({"children": "Choose children who live in your household."})
    start, end = _as_aware(start), _as_aware(end, end=True)
    if end <= start:
        raise ValidationError({"end": "The end must be after the start."})
    now = timezone.now()
    if kind != Kind.CRISIS and start < now - PAST_SLACK:
        raise ValidationError({"start": "The start is in the past."})
    if end - start > timedelta(days=366):
        raise ValidationError({"end": "A request covers at most a year."})
    if kind == Kind.CRISIS and not crisis_reason:
        raise ValidationError({"crisis_reason": "Say what help you need."})
    stay = nights_between(start, end) if kind in OVERNIGHT_KINDS else []
    hub, cover = _route(constellation, kind, start, stay)
    twice = _already_booked(children, stay) if stay else None
    if twice is not None:
        raise ValidationError({"children": twice})
    if asked_hub is not None and asked_hub.pk not in {constellation.hub_id, hub.pk}:
        raise ValidationError({"hub": "You can only ask your own constellation's hub."})
    waived = ""
    if kind == Kind.PLANNED:
        waived = _check_planned(constellation, hub, children, stay)
    for child in children:
        decision_code = DECISION_FOR_KIND.get(kind)
        if decision_code and stay:
            decision = Decision.objects.get(code=decision_code)
            answer = rules.answer(
                rules.context_for_relation(child, rules.HUB_CARER), decision, nights=len(stay)
            )
            limit = answer.clause.max_consecutive_nights if answer.clause else None
            if limit is not None and len(stay) > limit:
                raise ValidationError(
                    {
                        "end": f"{child.known_as}'s delegated authority allows at most {limit} "
                        f"consecutive night{'s' if limit != 1 else ''} at the hub."
                    }
                )
    request = Request.objects.create(
        constellation=constellation,
        hub=hub,
        household=household,
        requested_by=by,
        kind=kind,
        start=start,
        end=end,
        notes=notes,
        crisis_reason=crisis_reason,
    )
    request.children.set(children)
    routed = f"Sent to {hub}, covering for the hub" if cover else ""
    Transition.objects.create(
        request=request,
        to_status=Status.REQUESTED,
        by=by,
        note="; ".join(n for n in (routed, waived) if n)[:500],
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="sleepover.crisis_raised" if kind == Kind.CRISIS else "sleepover.requested",
        target=request,
        summary=f"{request.get_kind_display()} asked by {household}",
        payload={"kind": kind, "children": len(children), "nights": len(stay)},
    )
    if kind == Kind.CRISIS:
        transaction.on_commit(lambda: signals.crisis_raised.send(sender=Request, request=request))
    return request


def overrides_for(children, first: date, last: date) -> dict[int, LimitOverride]:
    """For each child, an exception in force covering every night from first to last."""
    found = (
        LimitOverride.objects.in_force()
        .filter(child__in=children, start__lte=first, end__gte=last)
        .select_related("granted_by")
        .order_by("granted_at")
    )
    return {o.child_id: o for o in found}


def _check_planned(constellation, hub, children, stay) -> str:
    """Refuse a planned stay the hub's availability or the constellation's limits do
    not allow, naming the limit. Returns the note of the liaison worker's exception
    when one waives the limits for every child."""
    if not stay:
        raise ValidationError({"end": "A planned overnight stay covers at least one night."})
    periods = list(Unavailability.objects.filter(hub=hub).covering(stay[0], stay[-1]))
    if periods:
        p = periods[0]
        raise ValidationError(
            {"start": f"The hub is not available from {p.start:%d %B} to {p.end:%d %B}: {p.note}"}
        )
    overrides = overrides_for(children, stay[0], stay[-1])
    if all(child.pk in overrides for child in children):
        return "Beyond the limits by the liaison worker's exception: " + "; ".join(
            f"{overrides[c.pk].reason} ({overrides[c.pk].granted_by})" for c in children
        )
    limits = settings_for(constellation)
    if len(stay) > limits.max_consecutive_nights:
        raise ValidationError(
            {
                "end": f"A planned stay is at most {limits.max_consecutive_nights} consecutive "
                f"nights in this constellation (the liaison worker may make an exception)."
            }
        )
    if limits.yearly_allowance_nights is not None:
        for child in children:
            used = planned_nights_this_year(child, stay[0].year)
            if used + len(stay) > limits.yearly_allowance_nights:
                raise ValidationError(
                    {
                        "children": f"{child.known_as} has had {used} of "
                        f"{limits.yearly_allowance_nights} planned nights this year (the "
                        f"liaison worker may make an exception)."
                    }
                )
    return ""


# --- answering ---------------------------------------------------------------------------


@transaction.atomic
def accept(request: Request, *, by: User, emergency: bool = False) -> Request:
    """Accept for the hub. Asks the delegated authority first; a stay it does not
    cover waits for the holder's approval. Refused when a night is full, unless a
    crisis is explicitly confirmed as an emergency arrangement."""
    _require_hub(by, request)
    request = lock_for_action(request)
    if request.status == Status.AWAITING_APPROVAL:
        raise ActionRefused("This request waits for approval; it is accepted when it is given.")
    if request.status == Status.OFFERED:
        raise ActionRefused("Another time was offered: the family takes or refuses it.")
    if request.status != Status.REQUESTED:
        _move(request, Status.ACCEPTED, by=by)  # refused, with the reason
    waiting = _ask_approvals(request, by=by)
    if waiting:
        return _move(
            request,
            Status.AWAITING_APPROVAL,
            by=by,
            note="Waiting for approval: " + "; ".join(waiting),
        )
    over = _hold_nights(request, emergency=emergency)
    request.emergency_over_beds = over
    note = "Emergency arrangement beyond the beds, confirmed by the hub carer" if over else ""
    return _move(request, Status.ACCEPTED, by=by, note=note, fields=["emergency_over_beds"])


def _ask_approvals(request: Request, *, by: User) -> list[str]:
    """Ask for approval of each child whose agreement does not let the hub carer
    accept; returns what waits."""
    code = DECISION_FOR_KIND.get(request.kind)
    if code is None or request.kind == Kind.TEMPORARY:
        # A temporary placement is arranged and agreed by the liaison worker.
        return []
    decision = Decision.objects.get(code=code)
    waiting = []
    for child in request.children.all():
        answer = rules.may_decide(
            by, child, decision, at=request.start, nights=len(request.nights) or None
        )
        if answer.allowed:
            continue
        authority.request_approval(
            child,
            decision,
            by=by,
            nights=len(request.nights) or None,
            details=f"{request.get_kind_display()} at the hub, "
            f"{timezone.localtime(request.start):%d %b %H:%M} to "
            f"{timezone.localtime(request.end):%d %b %H:%M}",
            subject_type="sleepover",
            subject_id=request.pk,
            at=request.start,
        )
        waiting.append(f"{child.known_as} ({answer.ask})")
    return waiting


def on_approval_decided(approval: Approval) -> None:
    """The waiting acceptance proceeds when every child's approval is given, and
    stops (declined, with the holder's note) when one is refused."""
    if approval.subject_type != "sleepover" or approval.subject_id is None:
        return
    request = Request.objects.filter(pk=approval.subject_id).first()
    if request is None or request.status != Status.AWAITING_APPROVAL:
        return
    if approval.status in (Approval.Status.REFUSED, Approval.Status.WITHDRAWN):
        request = lock_for_action(request)
        request.decline_reason = approval.note or "The approval was not given."
        _move(
            request,
            Status.DECLINED,
            by=approval.decided_by,
            note=request.decline_reason,
            fields=["decline_reason"],
        )
        return
    pending = Approval.objects.filter(subject_type="sleepover", subject_id=request.pk).exclude(
        status=Approval.Status.APPROVED
    )
    if pending.exists():
        return
    request = lock_for_action(request)
    try:
        with transaction.atomic():
            _hold_nights(request, emergency=False)
    except NightFull as full:
        request.decline_reason = f"Approved, but meanwhile {full}"
        _move(
            request,
            Status.DECLINED,
            by=None,
            note=request.decline_reason,
            fields=["decline_reason"],
        )
        return
    _move(
        request, Status.ACCEPTED, by=approval.decided_by, note=f"Approved by {approval.decided_by}"
    )


@transaction.atomic
def decline(request: Request, *, by: User, reason: str) -> Request:
    _require_hub(by, request)
    if not reason.strip():
        raise ActionRefused("Say why: the family will read it.")
    request = lock_for_action(request)
    request.decline_reason = reason
    _withdraw_approvals(request, by=by)
    return _move(request, Status.DECLINED, by=by, note=reason, fields=["decline_reason"])


@transaction.atomic
def offer(request: Request, *, by: User, start: datetime, end: datetime) -> Request:
    _require_hub(by, request)
    start, end = _as_aware(start), _as_aware(end, end=True)
    if end <= start:
        raise ValidationError({"end": "The end must be after the start."})
    if start < timezone.now() - PAST_SLACK:
        raise ValidationError({"start": "The offered time is in the past."})
    request = lock_for_action(request)
    offered = nights_between(start, end) if request.kind in OVERNIGHT_KINDS else []
    routed, _ = _route(request.constellation, request.kind, start, offered)
    if routed.pk != request.hub_id:
        # A cover decides who answers for those days: offer only days you answer.
        raise ValidationError(
            {"start": f"{routed} answers for the hub on those days: offer days you answer."}
        )
    if request.kind == Kind.PLANNED:
        # An offer keeps to the same rules as a request: availability and limits.
        children = list(request.children.all())
        _check_planned(request.constellation, request.hub, children, nights_between(start, end))
    request.offered_start, request.offered_end = start, end
    return _move(
        request,
        Status.OFFERED,
        by=by,
        note=f"Offered {timezone.localtime(start):%d %b %H:%M} "
        f"to {timezone.localtime(end):%d %b %H:%M}",
        fields=["offered_start", "offered_end"],
    )


@transaction.atomic
def take_offer(request: Request, *, by: User) -> Request:
    """The requester takes the hub's offer: the stay moves to the offered times and
    is accepted if the beds are still free."""
    _require_requester(by, request)
    request = lock_for_action(request)
    if request.status != Status.OFFERED:
        raise ActionRefused("There is no offer to take.")
    request.start, request.end = request.offered_start, request.offered_end
    request.save(update_fields=["start", "end"])
    offered_by = request.timeline.filter(to_status=Status.OFFERED).order_by("-at", "-pk").first().by
    # The hub carer's offer is their acceptance, within the delegated authority.
    waiting = _ask_approvals(request, by=offered_by) if offered_by else []
    if waiting:
        return _move(
            request,
            Status.AWAITING_APPROVAL,
            by=by,
            note="Offer taken; waiting for approval: " + "; ".join(waiting),
        )
    _hold_nights(request, emergency=False)
    return _move(request, Status.ACCEPTED, by=by, note="Offer taken")


@transaction.atomic
def cancel(request: Request, *, by: User, reason: str) -> Request:
    """The requester cancels (or refuses an offer); the beds are freed."""
    _require_requester(by, request)
    if not reason.strip():
        raise ActionRefused("Say why you cancel: the hub will read it.")
    request = lock_for_action(request)
    request.cancel_reason = reason
    _release_nights(request)
    _withdraw_approvals(request, by=None)
    return _move(request, Status.CANCELLED, by=by, note=reason, fields=["cancel_reason"])


def _withdraw_approvals(request: Request, *, by: User | None) -> None:
    authority.withdraw_approvals(
        subject_type="sleepover",
        subject_id=request.pk,
        by=by,
        reason=request.decline_reason or request.cancel_reason,
    )


@transaction.atomic
def arrived(request: Request, *, by: User) -> Request:
    _require_hub(by, request)
    return _move(lock_for_action(request), Status.ARRIVED, by=by)


@transaction.atomic
def collected(request: Request, *, by: User) -> Request:
    _require_hub(by, request)
    return _move(lock_for_action(request), Status.COLLECTED, by=by)


@transaction.atomic
def did_not_arrive(request: Request, *, by: User, note: str = "") -> Request:
    _require_hub(by, request)
    request = lock_for_action(request)
    _release_nights(request)
    return _move(request, Status.DID_NOT_ARRIVE, by=by, note=note)
