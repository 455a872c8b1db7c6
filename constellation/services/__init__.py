"""Every change of important state in the constellation app: one function per
business action, inside a transaction, writing the activity record and keeping
the constellation's object permissions in step with its relationships."""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from people.audit import record as audit
from people.models import AuditEntry, StaffRole, User
from people.roles import forget_roles
from people.services import revoke_invitations

from ..access import sync_constellation_permissions
from ..models import (
    MOVES_ON,
    Activity,
    Carer,
    Child,
    Constellation,
    ConstellationMembership,
    FormerHouseholdAccess,
    FosteringService,
    Household,
    LiaisonAssignment,
    MoveKind,
    Placement,
    PlanningMeeting,
    kind_of_verb,
)


class ActionRefused(Exception):
    """A business rule refuses the action; the message says why, in plain words.
    Views show it as a message, the API as 409."""


# --- the activity record ------------------------------------------------------


def record_activity(
    *,
    service: FosteringService,
    constellation: Constellation | None,
    actor: User | None,
    verb: str,
    target: Any,
    summary: str,
    payload: dict | None = None,
    household: Household | int | None = None,
    children: Iterable[Child | int] = (),
) -> Activity:
    """Write one row of the activity record (call inside the change's transaction).
    ``household`` and ``children`` name whom it concerns, for the liaison worker's
    feed filters; the kind is read from the verb's first word (``kind_of_verb``).
    The summary is cut to 200 characters and must hold no child's surname."""
    row = Activity.objects.create(
        service=service,
        constellation=constellation,
        household_id=getattr(household, "pk", household),
        actor=actor,
        verb=verb,
        kind=kind_of_verb(verb),
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        summary=summary[:200],
        payload=payload or {},
    )
    child_ids = sorted({getattr(c, "pk", c) for c in children})
    if child_ids:
        row.children.add(*child_ids)
    return row


def _save(obj: Any, *, by: User | None, **kwargs: Any) -> None:
    """Save a model whose change history is kept, naming who made the change
    (whether it came from a page, the API, a task or a command)."""
    obj._history_user = by
    obj.save(**kwargs)


def current_constellation_of(household: Household) -> Constellation | None:
    """The constellation a household is in now, as its hub or an active member
    (``Constellation.objects.of_household_now``); None for a household only proposed.
    The activity record files a household's events under it."""
    return Constellation.objects.of_household_now(household).first()


def _sync(*constellations: Constellation | None) -> None:
    for constellation in {c for c in constellations if c is not None}:
        sync_constellation_permissions(constellation)


# --- constellations and liaison workers -----------------------------------------


@transaction.atomic
def create_constellation(
    *, service: FosteringService, name: str, area: str = "", by: User | None
) -> Constellation:
    constellation = Constellation.objects.create(service=service, name=name, area=area)
    record_activity(
        service=service,
        constellation=constellation,
        actor=by,
        verb="constellation.created",
        target=constellation,
        summary=f"Constellation {name} created",
    )
    return constellation


@transaction.atomic
def assign_liaison(
    constellation: Constellation, user: User, *, by: User | None
) -> LiaisonAssignment:
    if (
        not StaffRole.objects.active()
        .filter(user=user, service=constellation.service, role=StaffRole.Role.LIAISON)
        .exists()
    ):
        raise ActionRefused("Only a liaison worker of this fostering service can be assigned.")
    assignment, created = LiaisonAssignment.objects.get_or_create(
        constellation=constellation, user=user, ended_on=None
    )
    if created:
        record_activity(
            service=constellation.service,
            constellation=constellation,
            actor=by,
            verb="liaison.assigned",
            target=assignment,
            summary=f"{user} assigned as liaison worker",
        )
        audit(
            AuditEntry.Action.ROLE_GRANTED,
            actor=by,
            service=constellation.service_id,
            subject=user,
            target=assignment,
            detail=f"Liaison worker for {constellation}",
        )
        _sync(constellation)
        forget_roles(user)
    return assignment


@transaction.atomic
def end_liaison(assignment: LiaisonAssignment, *, by: User | None) -> None:
    if assignment.ended_on is not None:
        raise ActionRefused("This assignment has already ended.")
    assignment.ended_on = timezone.localdate()
    assignment.save(update_fields=["ended_on"])
    record_activity(
        service=assignment.constellation.service,
        constellation=assignment.constellation,
        actor=by,
        verb="liaison.ended",
        target=assignment,
        summary=f"{assignment.user} no longer liaison worker",
    )
    audit(
        AuditEntry.Action.ROLE_ENDED,
        actor=by,
        service=assignment.constellation.service_id,
        subject=assignment.user,
        target=assignment,
        detail=f"Liaison worker for {assignment.constellation}",
    )
    revoke_invitations(assignment.user, by=by, reason="their role as liaison worker ended")
    _sync(assignment.constellation)


@transaction.atomic
def set_hub(constellation: Constellation, household: Household, *, by: User | None) -> None:
    if household.service_id != constellation.service_id:
        raise ActionRefused("The hub must belong to the same fostering service.")
    if household.kind != Household.Kind.HUB:
        raise ActionRefused("Only a hub home can be a constellation's hub.")
    if ConstellationMembership.objects.open().filter(household=household).exists():
        raise ActionRefused("This household is a satellite of a constellation.")
    locked = Constellation.objects.select_for_update().get(pk=constellation.pk)
    previous = locked.hub
    locked.hub = household
    locked.save(update_fields=["hub"])
    constellation.hub = household
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="hub.set",
        target=household,
        summary=f"{household} is now the hub home",
        payload={"previous_hub_id": previous.pk if previous else None},
    )
    audit(
        AuditEntry.Action.MEMBERSHIP_STARTED,
        actor=by,
        service=constellation.service_id,
        target=constellation,
        detail=f"{household} is now the hub home"
        + (f", in place of {previous}" if previous and previous != household else ""),
    )
    _sync(constellation)


# --- households and carers --------------------------------------------------------


HOUSEHOLD_FIELDS = ("name", "address", "postcode", "phone", "second_phone", "beds")


@transaction.atomic
def create_household(
    *,
    constellation: Constellation,
    kind: str,
    by: User | None,
    reason: str = "",
    **fields: Any,
) -> Household:
    """Add a household to the service. A satellite is proposed to the constellation;
    a hub home becomes its hub when it has none."""
    has_hub = Constellation.objects.filter(pk=constellation.pk, hub__isnull=False).exists()
    if kind == Household.Kind.HUB and has_hub:
        raise ActionRefused(f"{constellation} already has a hub home.")
    household = Household(
        service=constellation.service,
        kind=kind,
        **{k: v for k, v in fields.items() if k in HOUSEHOLD_FIELDS},
    )
    _save(household, by=by)
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="household.created",
        target=household,
        household=household,
        summary=f"Household {household} added",
    )
    if kind == Household.Kind.HUB:
        set_hub(constellation, household, by=by)
    else:
        propose_membership(constellation, household, by=by, reason=reason)
    return household


@transaction.atomic
def update_household(household: Household, *, by: User | None, **changes: Any) -> Household:
    """Change a household's name, address, phones and beds (``HOUSEHOLD_FIELDS``);
    other keys are ignored. The beds change through the sleepovers' one door for them
    (``set_usual_beds``: under the hub's lock, refused with ActionRefused when a night
    from today on would hold more children than beds), before anything else, so that a
    refusal saves nothing."""
    from sleepovers.services import set_usual_beds  # sleepovers builds on this app

    changed = [f for f in HOUSEHOLD_FIELDS if f in changes and getattr(household, f) != changes[f]]
    if not changed:
        return household
    if "beds" in changed:
        household.beds = set_usual_beds(household, by=by, beds=changes["beds"]).beds
    others = [f for f in changed if f != "beds"]
    for f in others:
        setattr(household, f, changes[f])
    if others:
        _save(household, by=by, update_fields=others)
    record_activity(
        service=household.service,
        constellation=current_constellation_of(household),
        actor=by,
        verb="household.updated",
        target=household,
        household=household,
        summary=f"Household {household} updated",
        payload={"fields": changed},
    )
    return household


@transaction.atomic
def add_carer(
    household: Household,
    *,
    by: User | None,
    email: str,
    first_name: str,
    last_name: str,
    role: str = Carer.Role.PRIMARY,
    phone: str = "",
    send_invitation: bool = True,
    base_url: str = "",
) -> Carer:
    """Add a foster carer to a household, creating their account and inviting them."""
    from people.services import invite

    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, first_name=first_name, last_name=last_name, phone=phone
        )
    elif not _belongs_only_to(user, household.service):
        # Neutral on purpose: it must not reveal an account of another service.
        raise ActionRefused(
            "This email address cannot be used for a carer here; ask an administrator."
        )
    elif not user.is_active:
        raise ActionRefused(
            "This account has been deactivated; an administrator must re-activate it."
        )
    elif Carer.objects.current().filter(user=user).exists():
        raise ActionRefused("This person is already a carer of a household.")
    if (
        Carer.objects.current().filter(household=household, role=role).exists()
        and role == Carer.Role.PRIMARY
    ):
        raise ActionRefused("The household already has a primary carer; add a second carer.")
    try:
        with transaction.atomic():
            carer = Carer.objects.create(household=household, user=user, role=role)
    except IntegrityError as exc:
        raise ActionRefused("This person is already a carer of a household.") from exc
    constellation = current_constellation_of(household)
    record_activity(
        service=household.service,
        constellation=constellation,
        actor=by,
        verb="carer.added",
        target=carer,
        household=household,
        summary=f"{user} joined {household} as {carer.get_role_display().lower()}",
    )
    audit(
        AuditEntry.Action.MEMBERSHIP_STARTED,
        actor=by,
        service=household.service_id,
        subject=user,
        target=carer,
        detail=f"Joined {household} as {carer.get_role_display().lower()}",
    )
    _sync(constellation)
    forget_roles(user)
    if send_invitation and not user.has_usable_password():
        invite(user, by=by, base_url=base_url)
    return carer


def _belongs_only_to(user: User, service: FosteringService) -> bool:
    """An existing account may become a carer here only if nothing ties it to another
    fostering service (and it is not an administrator's)."""
    if user.is_superuser:
        return False
    other_staff = StaffRole.objects.filter(user=user).exclude(service=service).exists()
    other_carer = Carer.objects.filter(user=user).exclude(household__service=service).exists()
    return not (other_staff or other_carer)


@transaction.atomic
def resend_invitation(carer: Carer, *, by: User | None, base_url: str = "") -> None:
    """Send a new one-time link (the earlier one stops working)."""
    from people.services import invite

    if carer.ended_on is not None:
        raise ActionRefused(f"{carer.user} has left {carer.household}: no invitation sent.")
    if not carer.user.is_active:
        raise ActionRefused(
            f"{carer.user}'s account has been deactivated; an administrator must "
            "re-activate it before an invitation can be sent."
        )
    if carer.user.has_usable_password():
        raise ActionRefused(
            f"{carer.user} has already set a password; they can reset it from the login page."
        )
    invite(carer.user, by=by, base_url=base_url)
    record_activity(
        service=carer.household.service,
        constellation=current_constellation_of(carer.household),
        actor=by,
        verb="carer.invited",
        target=carer,
        household=carer.household_id,
        summary=f"A new invitation was sent to {carer.user}",
    )


def _past_or_today(day: date | None, what: str) -> date:
    """The date of a change recorded now: today when not given; never in the future."""
    today = timezone.localdate()
    day = day or today
    if day > today:
        raise ActionRefused(f"The {what} cannot be in the future.")
    return day


@transaction.atomic
def end_carer(
    carer: Carer,
    *,
    by: User | None,
    reason: str,
    on: date | None = None,
    deregistered: bool = False,
) -> None:
    """A carer leaves their household on ``on`` (today by default, never in the future
    nor before they started), or is de-registered as a foster carer
    (``deregistered=True``). Access ends at once: the permissions are synced now.
    Raises ActionRefused when the carer has already left or the date is wrong."""
    carer = Carer.objects.select_for_update().get(pk=carer.pk)
    if carer.ended_on is not None:
        raise ActionRefused("This carer has already left the household.")
    on = _past_or_today(on, "date they left")
    if on < carer.started_on:
        raise ActionRefused("The carer cannot leave before they started.")
    carer.ended_on = on
    carer.end_reason = reason
    carer.deregistered = deregistered
    carer.save(update_fields=["ended_on", "end_reason", "deregistered"])
    constellation = current_constellation_of(carer.household)
    record_activity(
        service=carer.household.service,
        constellation=constellation,
        actor=by,
        verb="carer.deregistered" if deregistered else "carer.ended",
        target=carer,
        household=carer.household_id,
        summary=f"{carer.user} "
        + ("was de-registered as a foster carer" if deregistered else f"left {carer.household}"),
        payload={"reason": reason[:200], "on": on.isoformat()},
    )
    audit(
        AuditEntry.Action.MEMBERSHIP_ENDED,
        actor=by,
        service=carer.household.service_id,
        subject=carer.user,
        target=carer,
        detail=("De-registered as a foster carer" if deregistered else f"Left {carer.household}")
        + f" on {on:%-d %B %Y}",
    )
    revoke_invitations(carer.user, by=by, reason="their role as a carer ended")
    _sync(constellation)


# --- memberships: a table, and one function that moves along it -----------------


@transaction.atomic
def propose_membership(
    constellation: Constellation,
    household: Household,
    *,
    by: User | None,
    reason: str = "",
    planning_meeting: PlanningMeeting | None = None,
) -> ConstellationMembership:
    """Propose a satellite household to the constellation, optionally from a shared
    planning meeting of that constellation. Raises ActionRefused for another service's
    household, a hub home, a household already proposed or in a constellation, or a
    meeting of another constellation."""
    if planning_meeting is not None and planning_meeting.constellation_id != constellation.pk:
        raise ActionRefused("The planning meeting belongs to another constellation.")
    if household.service_id != constellation.service_id:
        raise ActionRefused("The household belongs to another fostering service.")
    if household.kind != Household.Kind.SATELLITE:
        raise ActionRefused("Only a satellite household can be proposed as a member.")
    if ConstellationMembership.objects.open().filter(household=household).exists():
        raise ActionRefused(f"{household} is already proposed to or in a constellation.")
    try:
        with transaction.atomic():
            membership = ConstellationMembership(
                constellation=constellation,
                household=household,
                reason=reason,
                planning_meeting=planning_meeting,
            )
            _save(membership, by=by)
    except IntegrityError as exc:
        raise ActionRefused(f"{household} is already proposed to or in a constellation.") from exc
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="membership.proposed",
        target=membership,
        household=household,
        summary=f"{household} proposed to join {constellation}",
    )
    return membership


def _move(
    membership: ConstellationMembership,
    to: str,
    *,
    by: User | None,
    note: str = "",
    on: date | None = None,
) -> ConstellationMembership:
    membership = ConstellationMembership.objects.select_for_update().get(pk=membership.pk)
    if to not in ConstellationMembership.ALLOWED[membership.status]:
        raise ActionRefused(
            f"A {membership.get_status_display().lower()} membership cannot become "
            f"{ConstellationMembership.Status(to).label.lower()}."
        )
    before = membership.status
    on = _past_or_today(on, "date")
    if on < (membership.joined_on or membership.proposed_on):
        since = membership.joined_on or membership.proposed_on
        raise ActionRefused(
            f"The date cannot be before {since:%-d %B %Y}, when the household "
            + ("joined." if membership.joined_on else "was proposed.")
        )
    membership.status = to
    fields = ["status"]
    if to == ConstellationMembership.Status.ACTIVE:
        membership.joined_on = on
        fields.append("joined_on")
    else:
        membership.ended_on = on
        fields.append("ended_on")
    if note:
        membership.reason = note
        fields.append("reason")
    _save(membership, by=by, update_fields=fields)
    record_activity(
        service=membership.constellation.service,
        constellation=membership.constellation,
        actor=by,
        verb=f"membership.{to}",
        target=membership,
        household=membership.household_id,
        summary=f"{membership.household}: {ConstellationMembership.Status(before).label} to "
        f"{ConstellationMembership.Status(to).label}",
        payload={"from": before, "to": to, "note": note[:500], "on": on.isoformat()},
    )
    audit(
        AuditEntry.Action.MEMBERSHIP_STARTED
        if to == ConstellationMembership.Status.ACTIVE
        else AuditEntry.Action.MEMBERSHIP_ENDED,
        actor=by,
        service=membership.constellation.service_id,
        target=membership,
        detail=f"{membership.household}: {ConstellationMembership.Status(before).label} to "
        f"{ConstellationMembership.Status(to).label} on {on:%-d %B %Y}",
    )
    _sync(membership.constellation)
    return membership


@transaction.atomic
def activate_membership(
    membership: ConstellationMembership, *, by: User | None, joined_on: date | None = None
) -> ConstellationMembership:
    """The household joins on ``joined_on`` (today by default; not in the future, not
    before it was proposed). Its carers see the constellation from now."""
    return _move(membership, ConstellationMembership.Status.ACTIVE, by=by, on=joined_on)


@transaction.atomic
def withdraw_membership(
    membership: ConstellationMembership, *, by: User | None, reason: str, on: date | None = None
) -> ConstellationMembership:
    """A proposed or active household withdraws on ``on`` (today by default)."""
    return _move(membership, ConstellationMembership.Status.WITHDRAWN, by=by, note=reason, on=on)


@transaction.atomic
def end_membership(
    membership: ConstellationMembership, *, by: User | None, reason: str, on: date | None = None
) -> ConstellationMembership:
    """An active household leaves on ``on`` (today by default)."""
    return _move(membership, ConstellationMembership.Status.LEFT, by=by, note=reason, on=on)


# --- children and placements --------------------------------------------------------

CHILD_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "needs",
    "allergies",
    "medication_notes",
    "emergency_contacts",
    "social_worker",
    "kept_connected",
)


def _set_siblings(child: Child, siblings) -> list[int]:
    """Replace the child's siblings; each must be another child of the same service."""
    siblings = list(siblings)
    if any(s.service_id != child.service_id or s.pk == child.pk for s in siblings):
        raise ActionRefused("Siblings must be other children of the same fostering service.")
    before = set(child.siblings.values_list("pk", flat=True))
    after = {s.pk for s in siblings}
    if before != after:
        child.siblings.set(siblings)
    return sorted(before ^ after)


@transaction.atomic
def create_child(
    *, household: Household, by: User | None, placed_on: date | None = None, **fields: Any
) -> Child:
    child = Child(
        service=household.service,
        household=household,
        **{k: v for k, v in fields.items() if k in CHILD_FIELDS},
    )
    _save(child, by=by)
    if fields.get("siblings"):
        _set_siblings(child, fields["siblings"])
    Placement.objects.create(
        child=child, household=household, started_on=placed_on or timezone.localdate()
    )
    record_activity(
        service=household.service,
        constellation=current_constellation_of(household),
        actor=by,
        verb="child.placed",
        target=child,
        household=household,
        children=[child],
        summary=f"{child.known_as} placed with {household}",
    )
    return child


@transaction.atomic
def update_child(child: Child, *, by: User | None, **changes: Any) -> Child:
    changed = [f for f in CHILD_FIELDS if f in changes and getattr(child, f) != changes[f]]
    siblings_changed = (
        _set_siblings(child, changes["siblings"]) if changes.get("siblings") is not None else []
    )
    if not changed and not siblings_changed:
        return child
    for f in changed:
        setattr(child, f, changes[f])
    if changed:
        _save(child, by=by, update_fields=changed)
    if siblings_changed:
        changed.append("siblings")
    record_activity(
        service=child.service,
        constellation=current_constellation_of(child.household) if child.household else None,
        actor=by,
        verb="child.updated",
        target=child,
        household=child.household_id,
        children=[child],
        summary=f"{child.known_as}'s record updated",
        payload={"fields": changed},
    )
    return child


@transaction.atomic
def move_child(
    child: Child,
    *,
    to: Household | None,
    by: User | None,
    reason: str,
    on: date | None = None,
    kind: str = "",
) -> Child:
    """Record a move on ``on`` (today by default): to another household (``kind`` a
    planned move or a disruption), or (``to=None``) on from care in the service
    (permanence, return home, adoption, leaving care: ``MOVES_ON``). An empty kind
    is read as a planned move to a household.

    Access follows the placement (issue 11): the former household keeps the full
    record for ``settings.FORMER_CARER_ACCESS_DAYS`` days from the move (a
    ``FormerHouseholdAccess`` grant), then sees what any member sees. Raises
    ActionRefused for a kind that does not fit the move, a household of another
    service, the household the child lives in, or a date before the placement."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    on = on or timezone.localdate()
    if kind and kind not in MoveKind.values:
        raise ActionRefused("Choose why the child moved.")
    if not kind and to is not None:
        kind = MoveKind.PLANNED
    if to is not None and kind in MOVES_ON:
        raise ActionRefused(
            f"{MoveKind(kind).label} takes the child on from care: leave the new household "
            "empty, or choose a planned move or a disruption."
        )
    if to is None and kind and kind not in MOVES_ON:
        raise ActionRefused("A planned move or a disruption needs the new household.")
    if to is not None and to.service_id != child.service_id:
        raise ActionRefused("The new household belongs to another fostering service.")
    if to is not None and to.pk == child.household_id:
        raise ActionRefused(f"{child.known_as} already lives there.")
    if child.status == Child.Status.MOVED_ON and to is None:
        raise ActionRefused(f"{child.known_as} has already moved on.")
    current = Placement.objects.filter(child=child, ended_on__isnull=True).first()
    if current is not None:
        if on < current.started_on:
            raise ActionRefused("The move cannot be before the current placement started.")
        current.ended_on = on
        current.reason_for_move = reason
        current.move_kind = kind
        current.save(update_fields=["ended_on", "reason_for_move", "move_kind"])
    before = child.household
    if before is not None:
        FormerHouseholdAccess.objects.create(
            child=child,
            household=before,
            moved_on=on,
            ends_on=on + timedelta(days=settings.FORMER_CARER_ACCESS_DAYS),
        )
    if to is None:
        child.household = None
        child.status = Child.Status.MOVED_ON
    else:
        Placement.objects.create(child=child, household=to, started_on=on)
        child.household = to
        child.status = Child.Status.PLACED
    _save(child, by=by, update_fields=["household", "status"])
    record_activity(
        service=child.service,
        constellation=current_constellation_of(before) if before else None,
        actor=by,
        verb="child.moved",
        target=child,
        household=before,
        children=[child],
        summary=f"{child.known_as} moved " + (f"to {to}" if to else "on"),
        payload={
            "from_household_id": before.pk if before else None,
            "to_household_id": to.pk if to else None,
            "reason": reason[:200],
            "kind": kind,
            "on": on.isoformat(),
        },
    )
    return child


# The jobs of this package (ARCHITECTURE.md, "Inside an app"), re-exported.
from .concerns import close_concern as close_concern  # noqa: E402
from .concerns import open_concern as open_concern  # noqa: E402
from .concerns import open_concern_by_hand as open_concern_by_hand  # noqa: E402
from .contact import FollowUpInput as FollowUpInput  # noqa: E402
from .contact import record_check_in as record_check_in  # noqa: E402
from .contact import resolve_follow_up as resolve_follow_up  # noqa: E402
from .contact import set_contact_thresholds as set_contact_thresholds  # noqa: E402
from .placements import end_former_access as end_former_access  # noqa: E402
from .planning import record_planning_meeting as record_planning_meeting  # noqa: E402
from .planning import write_supervision_note as write_supervision_note  # noqa: E402
