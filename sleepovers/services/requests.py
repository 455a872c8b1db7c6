"""Requests for stays and breaks: asking, answering and the lifecycle table."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from constellation.clock import CRISIS, PLANNED, at_hour, parse_local
from constellation.models import (
    Carer,
    Child,
    Constellation,
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
    NIGHT_ENDS,
    NOT_APPROVED,
    OPEN,
    CrisisReason,
    Kind,
    Request,
    Status,
    Transition,
)
from .beds import NightFull, _already_booked, _hold_nights, _release_nights, lock_for_action
from .cover import _route
from .limits import beds_problem, check_planned, check_shape

# A request "now" may start a little in the past (the form took a minute to fill).
PAST_SLACK = timedelta(minutes=30)
# An overnight crisis asked while a night is still running (before the night's end,
# ``models.NIGHT_ENDS``, 07:00) ends the same morning: it holds that night only.
EARLY_MORNING = NIGHT_ENDS.hour


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
        household=request.household_id,
        children=[child.pk for child in request.children.all()],
    )
    signals.request_changed.send(sender=Request, request=request, before=before, by=by)
    return request


# --- asking ---------------------------------------------------------------------------


def _as_aware(value: datetime | date, *, end: bool = False) -> datetime:
    """In UTC, through the one parser: a London time that does not exist or happens
    twice at a clock change is refused, naming the field."""
    if isinstance(value, datetime):
        return parse_local(value, field="end" if end else "start")
    hour = 10 if end else 17  # a planned stay starts after school and ends next morning
    return at_hour(value, hour, field="end" if end else "start")


def crisis_end(start: datetime, reason: str, until: datetime | None = None) -> datetime:
    """Until when crisis help is asked: the time given, or a few hours (the next
    morning for an overnight stay) when the carer does not know yet."""
    if until:
        return until
    if reason == CrisisReason.OVERNIGHT:
        # The next morning: the same day's when asked in the small hours.
        local = timezone.localtime(start)
        morning = local.date() + timedelta(days=0 if local.time() < NIGHT_ENDS else 1)
        return _as_aware(morning, end=True)
    return start + timedelta(hours=4)


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
    constellation = (
        Constellation.objects.of_household_now(household)
        .exclude(hub=household)  # the hub's own carers do not ask their own hub
        .select_related("hub", "service")
        .first()
    )
    if constellation is None:
        raise ValidationError(
            {"household": "Your household is not an active member of a constellation."}
        )
    if constellation.hub is None:
        raise ValidationError({"hub": "The constellation has no hub home yet."})
    asked_hub = hub
    if kind not in Kind.values:
        raise ValidationError({"kind": "Unknown kind of request."})
    if kind == Kind.TEMPORARY:
        raise ValidationError(
            {"kind": "A temporary placement is arranged by the liaison worker, not requested here."}
        )
    if kind == Kind.CRISIS and not crisis_reason:
        raise ValidationError({"crisis_reason": "Say what help you need."})
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
    (CRISIS if kind == Kind.CRISIS else PLANNED).check(start, end)
    if end <= now:
        raise ValidationError({"end": "The end has passed: ask for a time still to come."})
    stay = check_shape(kind, start, end)
    hub, cover = _route(constellation, kind, start, stay)
    own_note = ""
    if hub.pk == household.pk:
        # Nobody answers their own request: a stand-in's own go to the hub's carers,
        # and the liaison worker and the out-of-hours duty contact hear of it.
        hub, cover = constellation.hub, None
        own_note = (
            f"{household} stands in for the hub, so this request goes to the hub's own "
            f"carers and the liaison worker"
            + (
                f"; the out-of-hours duty number is {constellation.service.out_of_hours_phone}"
                if constellation.service.out_of_hours_phone
                else ""
            )
        )
    twice = _already_booked(children, stay) if stay else None
    if twice is not None:
        raise ValidationError({"children": twice})
    if asked_hub is not None and asked_hub.pk not in {constellation.hub_id, hub.pk}:
        raise ValidationError({"hub": "You can only ask your own constellation's hub."})
    waived = ""
    if kind == Kind.PLANNED:
        waived = check_planned(constellation, hub, children, stay, asked=True)
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
        note="; ".join(n for n in (routed, own_note, waived) if n)[:500],
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="sleepover.crisis_raised" if kind == Kind.CRISIS else "sleepover.requested",
        target=request,
        summary=f"{request.get_kind_display()} asked by {household}",
        payload={"kind": kind, "children": len(children), "nights": len(stay)},
        household=household,
        children=children,
    )
    signals.request_changed.send(sender=Request, request=request, before="", by=by)
    if kind == Kind.CRISIS:
        transaction.on_commit(lambda: signals.crisis_raised.send(sender=Request, request=request))
    return request


# --- answering ---------------------------------------------------------------------------


def _refused(problem: ValidationError) -> ActionRefused:
    """A rule's refusal (a ValidationError naming a field) as the refusal of an action."""
    return ActionRefused(" ".join(m for ms in problem.message_dict.values() for m in ms))


def _time_passed(request: Request, now: datetime) -> bool:
    """Whether the time a request asks for has passed (the offered time's, while
    another time is offered): nothing is accepted or taken after it, and the sweep
    expires it. A planned stay, a short break or transport cannot be given once it
    should have begun (its nights would be provided after the fact); a crisis or a
    temporary placement, which begins as it is asked, once its end has passed."""
    offered = request.status == Status.OFFERED and request.offered_start is not None
    start = request.offered_start if offered else request.start
    end = request.offered_end if offered else request.end
    if request.kind in (Kind.CRISIS, Kind.TEMPORARY):
        return end <= now
    return start + PAST_SLACK <= now


def _check_answer(request: Request, *, nights: list[date], emergency: bool) -> None:
    """Every rule of the stay checked again at the moment of answering, under the
    hub's lock: its time has not passed, and for a planned stay the hub's
    availability and the limits over every night (nights held, not merely asked);
    then the beds, so that nobody is asked to approve a stay the hub has no bed
    for. Raises ActionRefused (NightFull for the beds)."""
    if _time_passed(request, timezone.now()):
        raise ActionRefused(
            "The time asked for has passed: this request can no longer be accepted."
        )
    children = list(request.children.all())
    if request.kind == Kind.PLANNED:
        try:
            check_planned(
                request.constellation,
                request.hub,
                children,
                nights,
                asked=False,
                exclude=request.pk,
            )
        except ValidationError as problem:
            raise _refused(problem) from None
    if nights:
        full = beds_problem(request.hub, nights, len(children))
        if full and not (emergency and request.kind == Kind.CRISIS):
            raise NightFull(full)


@transaction.atomic
def accept(request: Request, *, by: User, emergency: bool = False) -> Request:
    """Accept for the hub. Every rule is checked again now (see ``_check_answer``);
    then the delegated authority over every night: a stay it does not cover waits
    for the approval of the person named. Refused when a night is full, unless a
    crisis is explicitly confirmed as an emergency arrangement (recorded)."""
    request = lock_for_action(request)
    if request.status == Status.AWAITING_APPROVAL:
        raise ActionRefused("This request waits for approval; it is accepted when it is given.")
    if request.status == Status.OFFERED:
        raise ActionRefused("Another time was offered: the family takes or refuses it.")
    if request.status != Status.REQUESTED:
        _move(request, Status.ACCEPTED, by=by)  # refused, with the reason
    _check_answer(request, nights=request.nights, emergency=emergency)
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


def asked_in_words(approval: Approval) -> str:
    """The person an approval was actually sent to, named with their part: "Lee Park,
    the child's social worker" (never the holder's title when someone else is asked)."""
    person = approval.assigned_to
    if person is None:
        return "nobody named yet: the liaison worker must be told"
    part = (
        "the child's social worker"
        if person.pk == approval.child.social_worker_id
        else "the liaison worker"
    )
    return f"{person}, {part}"


def _ask_approvals(request: Request, *, by: User) -> list[str]:
    """Ask for approval of each child whose agreement does not let the hub carer
    accept on every night of the stay (each night against the version in force that
    night); returns what waits, naming the person asked."""
    code = DECISION_FOR_KIND.get(request.kind)
    if code is None or request.kind == Kind.TEMPORARY:
        # A temporary placement is arranged and agreed by the liaison worker.
        return []
    decision = Decision.objects.get(code=code)
    nights = request.nights
    # Approvals already given for these times (not for a time offered before).
    offered_at = (
        request.timeline.filter(to_status=Status.OFFERED)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    approved = set(
        Approval.objects.filter(
            subject_type="sleepover",
            subject_id=request.pk,
            status=Approval.Status.APPROVED,
            requested_at__gte=offered_at or request.created_at,
        ).values_list("child_id", flat=True)
    )
    waiting = []
    for child in request.children.all():
        if child.pk in approved:
            continue
        if nights:
            verdict, night = rules.may_decide_for_nights(by, child, decision, nights)
        else:
            verdict, night = rules.may_decide(by, child, decision, at=request.start), None
        if verdict.allowed:
            continue
        on = f" (the night of {night:%d %B}: {verdict.reason})" if night else ""
        approval = authority.request_approval(
            child,
            decision,
            by=by,
            nights=len(nights) or None,
            details=(
                f"{request.get_kind_display()} at the hub, "
                f"{timezone.localtime(request.start):%d %b %H:%M} to "
                f"{timezone.localtime(request.end):%d %b %H:%M}{on}"
            ),
            subject_type="sleepover",
            subject_id=request.pk,
            at=night or request.start,
        )
        waiting.append(f"{child.known_as} (asked of {asked_in_words(approval)})")
    return waiting


def on_approval_decided(approval: Approval) -> None:
    """The waiting acceptance proceeds when every child's approval is given, and
    stops (declined, with the holder's note, in the holder's name) when one is
    refused. If the hub has meanwhile no bed, or the stay's time has passed, the
    request goes back to the hub to answer again, or expires: nobody is made to
    say what they did not say."""
    if approval.subject_type != "sleepover" or approval.subject_id is None:
        return
    request = Request.objects.filter(pk=approval.subject_id).first()
    if request is None or request.status != Status.AWAITING_APPROVAL:
        return
    request = lock_for_action(request)
    if request.status != Status.AWAITING_APPROVAL:
        return
    if approval.status == Approval.Status.WITHDRAWN:
        # The hub carer who asked no longer asks: the request is the hub's to answer
        # again; nobody refused anything.
        _move(
            request,
            Status.REQUESTED,
            by=approval.decided_by,
            note=f"{approval.decided_by or 'The hub'} withdrew the request for approval: "
            f"the hub answers again.",
        )
        return
    if approval.status == Approval.Status.REFUSED:
        who = approval.decided_by
        request.decline_reason = (
            f"{NOT_APPROVED} by {who}: {approval.note}"
            if who and approval.note
            else f"{NOT_APPROVED}: the approval was not given."
        )
        _move(
            request,
            Status.DECLINED,
            by=who,
            note=request.decline_reason,
            fields=["decline_reason"],
        )
        return
    pending = Approval.objects.filter(subject_type="sleepover", subject_id=request.pk).exclude(
        status=Approval.Status.APPROVED
    )
    if pending.exists():
        return
    if _time_passed(request, timezone.now()):
        _move(
            request, Status.EXPIRED, by=None, note="Approved after the time asked for had passed."
        )
        return
    try:
        with transaction.atomic():
            _check_answer(request, nights=request.nights, emergency=False)
            _hold_nights(request, emergency=False)
    except ActionRefused as problem:
        _move(
            request,
            Status.REQUESTED,
            by=None,
            note=f"Approved by {approval.decided_by}; but now {problem} The hub answers again.",
        )
        return
    _move(
        request, Status.ACCEPTED, by=approval.decided_by, note=f"Approved by {approval.decided_by}"
    )


@transaction.atomic
def decline(request: Request, *, by: User, reason: str) -> Request:
    if not reason.strip():
        raise ActionRefused("Say why: the family will read it.")
    request = lock_for_action(request)
    request.decline_reason = reason
    _withdraw_approvals(request, by=by)
    return _move(request, Status.DECLINED, by=by, note=reason, fields=["decline_reason"])


@transaction.atomic
def offer(request: Request, *, by: User, start: datetime, end: datetime) -> Request:
    """The hub offers another time. The offer keeps to the same rules as a request:
    its kind's shape, who answers on those days, availability and the limits over
    every night."""
    start, end = _as_aware(start), _as_aware(end, end=True)
    if end <= start:
        raise ValidationError({"end": "The end must be after the start."})
    if start < timezone.now() - PAST_SLACK:
        raise ValidationError({"start": "The offered time is in the past."})
    PLANNED.check(start, end)
    request = lock_for_action(request)
    if request.status == Status.REQUESTED and _time_passed(request, timezone.now()):
        raise ActionRefused("The time asked for has passed: this request has expired.")
    offered = check_shape(request.kind, start, end)
    routed, _ = _route(request.constellation, request.kind, start, offered)
    if routed.pk != request.hub_id:
        # A cover decides who answers for those days: offer only days you answer.
        raise ValidationError(
            {"start": f"{routed} answers for the hub on those days: offer days you answer."}
        )
    if request.kind == Kind.PLANNED:
        children = list(request.children.all())
        check_planned(
            request.constellation, request.hub, children, offered, asked=True, exclude=request.pk
        )
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
    """The requester takes the hub's offer before the offered time has passed: the
    stay moves to the offered times and is accepted if every rule still holds (the
    beds, the limits, the delegated authority over every night)."""
    request = lock_for_action(request)
    if request.status != Status.OFFERED:
        raise ActionRefused("There is no offer to take.")
    if _time_passed(request, timezone.now()):
        raise ActionRefused("The offered time has passed: the offer can no longer be taken.")
    request.start, request.end = request.offered_start, request.offered_end
    request.save(update_fields=["start", "end"])
    _check_answer(request, nights=request.nights, emergency=False)
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
    """The requester cancels (or refuses an offer); the beds are freed. An accepted
    stay is cancelled only before it begins: once begun, the hub records whether
    the child came."""
    if not reason.strip():
        raise ActionRefused("Say why you cancel: the hub will read it.")
    request = lock_for_action(request)
    if request.status == Status.ACCEPTED and request.start <= timezone.now():
        raise ActionRefused(
            "The stay has begun: call the hub; the hub records whether the child came."
        )
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


# A child may arrive a little before the time asked (the family is early).
EARLY_ARRIVAL = timedelta(hours=3)


@transaction.atomic
def arrived(request: Request, *, by: User) -> Request:
    """The child is at the hub: from a little before the stay's start until its end."""
    request = lock_for_action(request)
    now = timezone.now()
    if request.status == Status.ACCEPTED and now < request.start - EARLY_ARRIVAL:
        raise ActionRefused(
            f"The stay begins {timezone.localtime(request.start):%d %B at %H:%M}: record the "
            f"arrival when the child comes."
        )
    if request.status == Status.ACCEPTED and request.end <= now:
        raise ActionRefused(
            "The stay's time is over: record that the child did not arrive, or ask the "
            "liaison worker to correct the record."
        )
    return _move(request, Status.ARRIVED, by=by)


@transaction.atomic
def collected(request: Request, *, by: User) -> Request:
    """The child has gone home (at any time after arriving)."""
    return _move(lock_for_action(request), Status.COLLECTED, by=by)


@transaction.atomic
def did_not_arrive(request: Request, *, by: User, note: str = "") -> Request:
    """The child did not come: recorded once the stay's start has passed; the nights
    are freed."""
    request = lock_for_action(request)
    if request.status == Status.ACCEPTED and timezone.now() < request.start:
        raise ActionRefused(
            "The stay has not begun yet: the family cancels a stay that will not happen."
        )
    _release_nights(request)
    return _move(request, Status.DID_NOT_ARRIVE, by=by, note=note)


def expire_overdue(*, now: datetime | None = None) -> int:
    """Move every open request whose time has passed unanswered (``_time_passed``: a
    planned stay, short break or transport once it should have begun, a crisis or a
    temporary placement once it is over; the offered time's while one is offered) to
    expired, with a
    timeline row the family sees, and withdraw what waited for approval. Run by the
    periodic sweep (a tick missed while the worker was down is caught up: it finds
    what is due by querying). Returns how many expired."""
    now = now or timezone.now()
    # Those that have begun, at least; ``_time_passed`` decides for each.
    due = (
        Request.objects.filter(
            status__in=(Status.REQUESTED, Status.AWAITING_APPROVAL), start__lte=now
        )
        | Request.objects.filter(status=Status.OFFERED, offered_start__lte=now)
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due):
        with transaction.atomic():
            request = lock_for_action(Request.objects.only("pk", "hub_id").get(pk=pk))
            if request.status not in OPEN or not _time_passed(request, now):
                continue
            _withdraw_approvals(request, by=None)
            _move(request, Status.EXPIRED, by=None, note="Its time passed without an answer.")
            count += 1
    return count
