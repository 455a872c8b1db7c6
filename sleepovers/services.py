"""Every change of a sleepover request, the hub's beds and its availability.

The bed rule lives in one place, ``_hold_nights``: it runs under a lock on the
hub's row, which every accept and every bed change takes first, so two hub
carers pressing "accept" for the last bed at once leave exactly one accepted."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from constellation.models import (
    Carer,
    Child,
    Constellation,
    ConstellationMembership,
    Household,
    HubCover,
)
from constellation.services import ActionRefused, record_activity
from delegated_authority import rules
from delegated_authority import services as authority
from delegated_authority.models import Approval, Decision
from people.models import User

from . import signals
from .models import (
    ALLOWED,
    DECISION_FOR_KIND,
    MAX_NIGHTS_LIMIT,
    OVERNIGHT_KINDS,
    BedChange,
    CrisisReason,
    Kind,
    LimitOverride,
    Night,
    Request,
    SleepoverSettings,
    Status,
    Transition,
    Unavailability,
    Withdrawable,
    nights_between,
)

# A request "now" may start a little in the past (the form took a minute to fill).
PAST_SLACK = timedelta(minutes=30)
# An overnight crisis asked before this hour ends the same morning.
EARLY_MORNING = 6


class NightFull(ActionRefused):
    """No bed is free on a night of the stay."""


def settings_for(constellation: Constellation) -> SleepoverSettings:
    found, _ = SleepoverSettings.objects.get_or_create(constellation=constellation)
    return found


# --- beds and nights -------------------------------------------------------------------


def beds_by_night(hub: Household, first: date, last: date) -> dict[date, int]:
    """The beds of each night from ``first`` to ``last`` (inclusive), in one query:
    the newest bed change covering a night wins over the hub's usual number."""
    changes = list(
        BedChange.objects.filter(hub=hub).covering(first, last).order_by("created_at", "pk")
    )
    beds = {}
    day = first
    while day <= last:
        beds[day] = hub.beds
        for change in changes:  # oldest first, so the newest is applied last
            if change.start <= day <= change.end:
                beds[day] = change.beds
        day += timedelta(days=1)
    return beds


def booked_by_night(hub: Household, first: date, last: date) -> dict[date, int]:
    rows = (
        Night.objects.filter(hub=hub, date__gte=first, date__lte=last)
        .values("date")
        .annotate(n=Count("pk"))
    )
    return {row["date"]: row["n"] for row in rows}


@dataclass(frozen=True)
class NightInfo:
    date: date
    beds: int
    booked: int
    unavailable: str  # the hub's note, or ""
    covered_by: str = ""  # the stand-in household answering for the hub that night

    @property
    def free(self) -> int:
        return max(self.beds - self.booked, 0)


def nights(hub: Household, first: date, last: date) -> list[NightInfo]:
    """Each night's beds, booked children, free beds and unavailability: three queries
    whatever the range."""
    beds = beds_by_night(hub, first, last)
    booked = booked_by_night(hub, first, last)
    periods = list(Unavailability.objects.filter(hub=hub).covering(first, last))
    result = []
    for day, count in beds.items():
        note = next((p.note for p in periods if p.start <= day <= p.end), "")
        result.append(NightInfo(day, count, booked.get(day, 0), note))
    return result


def cover_on(constellation: Constellation, day: date) -> HubCover | None:
    """The stand-in covering the constellation's hub on the day, if any."""
    return (
        HubCover.objects.on(day)
        .filter(constellation=constellation)
        .select_related("stand_in")
        .order_by("-arranged_at", "-pk")
        .first()
    )


def _route(constellation: Constellation, kind: str, start: datetime, stay: list[date]):
    """The household a request goes to: the hub, or the stand-in covering it on the
    first day. A planned stay may not run across the start or end of a cover."""
    first = timezone.localdate(start)
    if kind == Kind.PLANNED and stay:
        covers = list(
            HubCover.objects.overlapping(stay[0], stay[-1])
            .filter(constellation=constellation)
            .select_related("stand_in")
        )
        for cover in covers:
            if not (cover.start <= stay[0] and stay[-1] <= cover.end):
                raise ValidationError(
                    {
                        "end": f"{cover.stand_in} covers for the hub from {cover.start:%d %B} "
                        f"to {cover.end:%d %B}: book the nights inside and outside the "
                        f"cover separately."
                    }
                )
        if covers:
            return covers[0].stand_in, covers[0]
    cover = cover_on(constellation, first)
    return (cover.stand_in, cover) if cover else (constellation.hub, None)


def nights_for_families(
    constellation: Constellation, first: date, last: date
) -> tuple[list[NightInfo], list[HubCover]]:
    """What the families see before they book: each night's free beds at the hub, or
    at the stand-in covering it that night (named), and the covers in the range."""
    days = {n.date: n for n in nights(constellation.hub, first, last)}
    covers = list(
        HubCover.objects.overlapping(first, last)
        .filter(constellation=constellation)
        .select_related("stand_in")
    )
    for cover in covers:
        for n in nights(cover.stand_in, max(first, cover.start), min(last, cover.end)):
            days[n.date] = replace(n, covered_by=cover.stand_in.name)
    return list(days.values()), covers


def _lock_hub(hub_id: int) -> Household:
    # Every accept and every bed change of a hub queues here, one at a time.
    return Household.objects.select_for_update().get(pk=hub_id)


def _hold_nights(request: Request, *, emergency: bool) -> bool:
    """Write the stay's nights, or refuse when a night would hold more children than
    beds. Returns whether the stay goes beyond the beds (a confirmed emergency).
    Must run under ``_lock_hub``."""
    stay = request.nights
    if not stay:
        return False
    children = list(request.children.all())
    twice = _already_booked(children, stay)
    if twice is not None:
        raise ActionRefused(twice)
    beds = beds_by_night(request.hub, stay[0], stay[-1])
    booked = booked_by_night(request.hub, stay[0], stay[-1])
    over = [day for day in stay if booked.get(day, 0) + len(children) > beds[day]]
    if over and not (emergency and request.kind == Kind.CRISIS):
        day = over[0]
        free = max(beds[day] - booked.get(day, 0), 0)
        raise NightFull(
            f"The hub is full on the night of {day:%A %d %B}: {free} bed"
            f"{'s' if free != 1 else ''} free for {len(children)} "
            f"child{'ren' if len(children) != 1 else ''}."
        )
    Night.objects.bulk_create(
        Night(hub=request.hub, date=day, request=request, child=child)
        for day in stay
        for child in children
    )
    return bool(over)


def _already_booked(children, stay: list[date]) -> str | None:
    """Why a child cannot be booked for these nights: already booked (at a hub) on one
    of them by another stay. None when every night is free for every child."""
    clash = (
        Night.objects.filter(child__in=children, date__in=stay)
        .select_related("child")
        .order_by("date")
        .first()
    )
    if clash is None:
        return None
    return (
        f"{clash.child.known_as} already has a bed on the night of {clash.date:%A %d %B} "
        f"(another stay): cancel or change that stay first."
    )


def _release_nights(request: Request) -> None:
    Night.objects.filter(request=request).delete()


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


def _locked(request: Request) -> Request:
    return (
        Request.objects.select_for_update()
        .select_related("constellation__service", "hub", "household")
        .get(pk=request.pk)
    )


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
    _lock_hub(request.hub_id)
    request = _locked(request)
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
        _lock_hub(request.hub_id)
        request = _locked(request)
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
    _lock_hub(request.hub_id)
    request = _locked(request)
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
    request = _locked(request)
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
    request = _locked(request)
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
    _lock_hub(request.hub_id)
    request = _locked(request)
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
    _lock_hub(request.hub_id)
    request = _locked(request)
    request.cancel_reason = reason
    _release_nights(request)
    _withdraw_approvals(request, by=None)
    return _move(request, Status.CANCELLED, by=by, note=reason, fields=["cancel_reason"])


def _withdraw_approvals(request: Request, *, by: User | None) -> None:
    Approval.objects.filter(
        subject_type="sleepover", subject_id=request.pk, status=Approval.Status.PENDING
    ).update(status=Approval.Status.WITHDRAWN, decided_at=timezone.now())


@transaction.atomic
def arrived(request: Request, *, by: User) -> Request:
    _require_hub(by, request)
    return _move(_locked(request), Status.ARRIVED, by=by)


@transaction.atomic
def collected(request: Request, *, by: User) -> Request:
    _require_hub(by, request)
    return _move(_locked(request), Status.COLLECTED, by=by)


@transaction.atomic
def did_not_arrive(request: Request, *, by: User, note: str = "") -> Request:
    _require_hub(by, request)
    _lock_hub(request.hub_id)
    request = _locked(request)
    _release_nights(request)
    return _move(request, Status.DID_NOT_ARRIVE, by=by, note=note)


# --- beds and availability ------------------------------------------------------------


def _require_hub_household(user: User, hub: Household) -> None:
    """The hub's own carers, and the liaison workers and managers of its constellation."""
    if Carer.objects.current().filter(user=user, household=hub).exists():
        return
    if not Constellation.objects.managed_by(user).filter(hub=hub).exists():
        raise ActionRefused("Only the hub's carers change its beds and availability.")


@transaction.atomic
def change_beds(
    hub: Household, *, by: User, start: date, end: date, beds: int, note: str = ""
) -> BedChange:
    """Change the beds for a date range. Refused when a night already holds more
    children than the new number (the same lock as accept, so they cannot race)."""
    _require_hub_household(by, hub)
    if end < start:
        raise ValidationError({"end": "The last night must not be before the first."})
    if not 0 <= beds <= 20:
        raise ValidationError({"beds": "Between 0 and 20 beds."})
    hub = _lock_hub(hub.pk)
    booked = booked_by_night(hub, start, end)
    over = sorted(day for day, n in booked.items() if n > beds)
    if over:
        raise ActionRefused(
            f"{booked[over[0]]} children are already booked on the night of "
            f"{over[0]:%A %d %B}: decline or move a stay first."
        )
    change = BedChange.objects.create(
        hub=hub, start=start, end=end, beds=beds, note=note, created_by=by
    )
    constellation = Constellation.objects.filter(hub=hub).first()
    record_activity(
        service=hub.service,
        constellation=constellation,
        actor=by,
        verb="hub.beds_changed",
        target=change,
        summary=f"{beds} beds from {start:%d %b} to {end:%d %b}",
    )
    return change


@transaction.atomic
def add_unavailability(
    hub: Household, *, by: User, start: date, end: date, note: str
) -> Unavailability:
    _require_hub_household(by, hub)
    if end < start:
        raise ValidationError({"end": "The last day must not be before the first."})
    if not note.strip():
        raise ValidationError({"note": "Say why, in a few words: the families will read it."})
    period = Unavailability.objects.create(hub=hub, start=start, end=end, note=note, created_by=by)
    constellation = Constellation.objects.filter(hub=hub).first()
    record_activity(
        service=hub.service,
        constellation=constellation,
        actor=by,
        verb="hub.unavailable",
        target=period,
        summary=f"Hub not available {start:%d %b} to {end:%d %b}",
    )
    return period


# --- temporary placement ---------------------------------------------------------------


@transaction.atomic
def arrange_temporary_placement(
    child: Child,
    *,
    by: User,
    start: datetime | date,
    expected_end: datetime | date,
    notes: str = "",
) -> Request:
    """When a placement ends suddenly, the liaison worker arranges for the child to stay
    at the hub while a new placement is found. The arrangement is the liaison worker's
    recorded agreement; the hub carer then accepts it against the beds."""
    from people.roles import roles_for

    if (
        not Child.objects.managed_by(by).filter(pk=child.pk).exists()
        or not roles_for(by).can_manage
    ):
        raise ActionRefused("Only the child's liaison worker arranges a temporary placement.")
    if child.status != Child.Status.PLACED or child.household_id is None:
        raise ValidationError({"child": f"{child.known_as} is not placed in a household."})
    membership = (
        ConstellationMembership.objects.filter(
            household_id=child.household_id, status=ConstellationMembership.Status.ACTIVE
        )
        .select_related("constellation__hub", "constellation__service")
        .first()
    )
    if membership is None or membership.constellation.hub is None:
        raise ValidationError(
            {"child": f"{child.known_as}'s household is not in a constellation with a hub."}
        )
    start, end = _as_aware(start), _as_aware(expected_end, end=True)
    if end <= start:
        raise ValidationError({"expected_end": "The expected end must be after the start."})
    if end - start > timedelta(days=366):
        raise ValidationError(
            {"expected_end": "A temporary placement is arranged for at most a year."}
        )
    constellation = membership.constellation
    # While a stand-in covers for the hub, the placement starts with it.
    hub, cover = _route(constellation, Kind.TEMPORARY, start, nights_between(start, end))
    request = Request.objects.create(
        constellation=constellation,
        hub=hub,
        household_id=child.household_id,
        requested_by=by,
        kind=Kind.TEMPORARY,
        start=start,
        end=end,
        notes=notes,
    )
    request.children.set([child])
    Transition.objects.create(
        request=request,
        to_status=Status.REQUESTED,
        by=by,
        note="Arranged and agreed by the liaison worker"
        + (f"; sent to {hub}, covering for the hub" if cover else ""),
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="sleepover.temporary_arranged",
        target=request,
        summary=f"Temporary placement at the hub arranged for {child.known_as}",
        payload={"nights": len(request.nights)},
    )
    return request


@transaction.atomic
def end_temporary_placement(
    request: Request, *, by: User, to: Household | None, reason: str
) -> Request:
    """The child leaves the hub for a new placement (ideally a household of the same
    constellation): the move is recorded in the placement history."""
    from constellation import services as people

    if request.kind != Kind.TEMPORARY:
        raise ActionRefused("Only a temporary placement ends with a move.")
    if not Constellation.objects.managed_by(by).filter(pk=request.constellation_id).exists():
        raise ActionRefused("Only the constellation's liaison worker records the move.")
    if not reason.strip():
        raise ActionRefused("Say where the child moves and why.")
    _lock_hub(request.hub_id)
    request = _locked(request)
    if request.status != Status.ARRIVED:
        raise ActionRefused("The child has not arrived at the hub.")
    child = request.children.get()
    if to is not None and to.pk != child.household_id:
        people.move_child(child, to=to, by=by, reason=reason)
    elif to is None:
        people.move_child(child, to=None, by=by, reason=reason)
    # Nights after today are given back to the hub.
    Night.objects.filter(request=request, date__gt=timezone.localdate()).delete()
    return _move(request, Status.COLLECTED, by=by, note=f"Moved: {reason}")


def _withdraw(entry: Withdrawable, *, by: User) -> None:
    if entry.withdrawn_at is not None:
        raise ActionRefused("This was withdrawn already.")
    entry.withdrawn_at, entry.withdrawn_by = timezone.now(), by
    entry.save(update_fields=["withdrawn_at", "withdrawn_by"])


@transaction.atomic
def withdraw_unavailability(period: Unavailability, *, by: User) -> Unavailability:
    """The hub is available again for the period: families can book it."""
    _require_hub_household(by, period.hub)
    period = Unavailability.objects.select_for_update().get(pk=period.pk)
    _withdraw(period, by=by)
    record_activity(
        service=period.hub.service,
        constellation=Constellation.objects.filter(hub=period.hub).first(),
        actor=by,
        verb="hub.available_again",
        target=period,
        summary=f"Hub available again {period.start:%d %b} to {period.end:%d %b}",
    )
    return period


@transaction.atomic
def withdraw_bed_change(change: BedChange, *, by: User) -> BedChange:
    """The hub's usual beds apply again for the range (or an older change still in
    force). Refused when a night already holds more children than that, under the
    same lock as accept."""
    _require_hub_household(by, change.hub)
    hub = _lock_hub(change.hub_id)
    change = BedChange.objects.select_for_update().get(pk=change.pk)
    if change.withdrawn_at is not None:
        raise ActionRefused("This change was withdrawn already.")
    _withdraw(change, by=by)
    beds = beds_by_night(hub, change.start, change.end)
    booked = booked_by_night(hub, change.start, change.end)
    over = sorted(day for day, n in booked.items() if n > beds[day])
    if over:
        raise ActionRefused(
            f"{booked[over[0]]} children are booked on the night of {over[0]:%A %d %B}, "
            f"more than the {beds[over[0]]} beds without this change: decline or move a "
            f"stay first."
        )
    record_activity(
        service=hub.service,
        constellation=Constellation.objects.filter(hub=hub).first(),
        actor=by,
        verb="hub.beds_change_withdrawn",
        target=change,
        summary=f"Bed change of {change.start:%d %b} to {change.end:%d %b} withdrawn",
    )
    return change


# --- the liaison worker's part: limits, exceptions, cover -----------------------------


def _require_manager_of(user: User, constellation: Constellation) -> None:
    if not Constellation.objects.managed_by(user).filter(pk=constellation.pk).exists():
        raise ActionRefused("Only the constellation's liaison worker or a manager can do this.")


@transaction.atomic
def update_limits(
    constellation: Constellation,
    *,
    by: User,
    max_consecutive_nights: int,
    yearly_allowance_nights: int | None,
) -> SleepoverSettings:
    _require_manager_of(by, constellation)
    if not 1 <= max_consecutive_nights <= MAX_NIGHTS_LIMIT:
        raise ValidationError(
            {"max_consecutive_nights": f"Between 1 and {MAX_NIGHTS_LIMIT} nights."}
        )
    if yearly_allowance_nights is not None and not 1 <= yearly_allowance_nights <= 365:
        raise ValidationError(
            {"yearly_allowance_nights": "Between 1 and 365 nights, or empty for no allowance."}
        )
    limits = settings_for(constellation)
    limits = SleepoverSettings.objects.select_for_update().get(pk=limits.pk)
    limits.max_consecutive_nights = max_consecutive_nights
    limits.yearly_allowance_nights = yearly_allowance_nights
    limits.save(update_fields=["max_consecutive_nights", "yearly_allowance_nights"])
    allowance = (
        f"{yearly_allowance_nights} nights a year" if yearly_allowance_nights else "no allowance"
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="sleepover.limits_changed",
        target=limits,
        summary=f"Planned stays: at most {max_consecutive_nights} nights, {allowance}",
    )
    return limits


def _check_period(start: date, end: date, *, what: str) -> None:
    if end < start:
        raise ValidationError({"end": "The last day must not be before the first."})
    if start < timezone.localdate():
        raise ValidationError({"start": f"{what} cannot start in the past."})
    if (end - start).days > 366:
        raise ValidationError({"end": f"{what} lasts at most a year."})


@transaction.atomic
def grant_override(
    constellation: Constellation, *, by: User, child: Child, start: date, end: date, reason: str
) -> LimitOverride:
    """The liaison worker's exception to the constellation's limits for a child's
    planned stays from ``start`` to ``end`` (nights), recorded with the reason."""
    _require_manager_of(by, constellation)
    if rules.constellation_of(child) != constellation:
        raise ValidationError({"child": "Choose a child placed in this constellation."})
    _check_period(start, end, what="An exception")
    if not reason.strip():
        raise ValidationError({"reason": "Say why: it is kept with the exception."})
    override = LimitOverride.objects.create(
        constellation=constellation,
        child=child,
        start=start,
        end=end,
        reason=reason.strip(),
        granted_by=by,
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="sleepover.limits_waived",
        target=override,
        summary=f"Limits waived for {child.known_as} from {start:%d %b} to {end:%d %b}",
    )
    return override


@transaction.atomic
def withdraw_override(override: LimitOverride, *, by: User) -> LimitOverride:
    """Requests made under the exception stay as they are; new ones keep to the limits."""
    _require_manager_of(by, override.constellation)
    override = LimitOverride.objects.select_for_update().get(pk=override.pk)
    _withdraw(override, by=by)
    record_activity(
        service=override.constellation.service,
        constellation=override.constellation,
        actor=by,
        verb="sleepover.limits_waiver_withdrawn",
        target=override,
        summary=f"Exception to the limits withdrawn ({override.start:%d %b} to "
        f"{override.end:%d %b})",
    )
    return override


def stand_in_problem(constellation: Constellation, household: Household) -> str:
    """Why a household cannot stand in for the hub, or "" when it can: another
    approved household of the service, with carers and its own beds."""
    if household.service_id != constellation.service_id:
        return "Choose a household of the same fostering service."
    if household.pk == constellation.hub_id:
        return "The hub cannot cover for itself."
    if not Household.objects.approved().filter(pk=household.pk).exists():
        return f"{household} is not an active household of a constellation."
    if not Carer.objects.current().filter(household=household).exists():
        return f"{household} has no carers to answer requests."
    if household.beds < 1:
        return f"{household} has no beds for sleepovers: set its beds first."
    return ""


@transaction.atomic
def arrange_cover(
    constellation: Constellation,
    *,
    by: User,
    stand_in: Household,
    start: date,
    end: date,
    note: str = "",
) -> HubCover:
    """While the hub carers are away, requests from ``start`` to ``end`` go to the
    stand-in, whose carers act as the hub for the constellation's children."""
    _require_manager_of(by, constellation)
    problem = stand_in_problem(constellation, stand_in)
    if problem:
        raise ValidationError({"stand_in": problem})
    _check_period(start, end, what="Cover")
    Constellation.objects.select_for_update().get(pk=constellation.pk)  # one at a time
    clash = (
        HubCover.objects.overlapping(start, end)
        .filter(constellation=constellation)
        .select_related("stand_in")
        .first()
    )
    if clash:
        raise ValidationError(
            {
                "start": f"{clash.stand_in} already covers from {clash.start:%d %B} "
                f"to {clash.end:%d %B}."
            }
        )
    cover = HubCover(
        constellation=constellation,
        stand_in=stand_in,
        start=start,
        end=end,
        note=note.strip(),
        arranged_by=by,
    )
    cover._history_user = by
    cover.save()
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="hub.cover_arranged",
        target=cover,
        summary=f"{stand_in} covers for the hub from {start:%d %b} to {end:%d %b}",
    )
    return cover


@transaction.atomic
def end_cover(cover: HubCover, *, by: User) -> HubCover:
    """The hub answers again from now: a cover begun before today ends yesterday, one
    that begins today or later is withdrawn. Requests already sent to the stand-in
    stay with it."""
    _require_manager_of(by, cover.constellation)
    cover = HubCover.objects.select_for_update().select_related("stand_in").get(pk=cover.pk)
    today = timezone.localdate()
    if cover.withdrawn_at is not None or cover.end < today:
        raise ActionRefused("This cover is over already.")
    cover._history_user = by
    if cover.start >= today:
        cover.withdrawn_at, cover.withdrawn_by = timezone.now(), by
        cover.save(update_fields=["withdrawn_at", "withdrawn_by"])
        summary = f"Cover by {cover.stand_in} from {cover.start:%d %b} withdrawn"
    else:
        cover.end = today - timedelta(days=1)
        cover.save(update_fields=["end"])
        summary = f"Cover by {cover.stand_in} ended: the hub answers again"
    record_activity(
        service=cover.constellation.service,
        constellation=cover.constellation,
        actor=by,
        verb="hub.cover_ended",
        target=cover,
        summary=summary,
    )
    return cover
