"""Fetch-and-check helpers, and the only place that grants or reads the
constellation's django-guardian permissions.

Anything outside what a user may see is a 404 (never a 403), so that the
existence of another service's records does not leak. A visible object the
user may not change is a 403."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from guardian.shortcuts import assign_perm, remove_perm

from people.audit import record_child_record_views
from people.models import ChildRecordAccess

from .models import (
    Carer,
    Child,
    Constellation,
    ConstellationMembership,
    ConstellationUserObjectPermission,
    Household,
    LiaisonAssignment,
)

VIEW = "view_constellation_members"
FULL_RECORDS = "view_child_records"
MANAGE = "manage_constellation"


def sync_constellation_permissions(constellation: Constellation) -> None:
    """Make the constellation's object permissions match its relationships now.

    Called by every service that changes a membership, a carer, the hub or a
    liaison assignment, inside the same transaction."""
    # Read the hub from the database: the caller's instance may predate a change.
    hub_carers = set(
        Carer.objects.current()
        .filter(household__hub_of__pk=constellation.pk)
        .values_list("user_id", flat=True)
    )
    satellite_carers = set(
        Carer.objects.current()
        .filter(
            household__memberships__constellation=constellation,
            household__memberships__status=ConstellationMembership.Status.ACTIVE,
        )
        .values_list("user_id", flat=True)
    )
    liaison = set(
        LiaisonAssignment.objects.current()
        .filter(constellation=constellation)
        .values_list("user_id", flat=True)
    )
    wanted = {
        VIEW: hub_carers | satellite_carers | liaison,
        FULL_RECORDS: hub_carers | liaison,
        MANAGE: liaison,
    }
    held: dict[str, set[int]] = {code: set() for code in wanted}
    for user_id, code in ConstellationUserObjectPermission.objects.filter(
        content_object=constellation, permission__codename__in=list(wanted)
    ).values_list("user_id", "permission__codename"):
        held[code].add(user_id)

    from people.models import User

    for code, users in wanted.items():
        for user in User.objects.filter(pk__in=users - held[code]):
            assign_perm(f"constellation.{code}", user, constellation)
        for user in User.objects.filter(pk__in=held[code] - users):
            remove_perm(f"constellation.{code}", user, constellation)


# --- fetch and check -------------------------------------------------------------


def get_constellation_for(user, pk) -> Constellation:
    constellation = (
        Constellation.objects.visible_to(user)
        .select_related("service", "hub")
        .filter(pk=pk)
        .first()
    )
    if constellation is None:
        raise Http404("No such constellation.")
    return constellation


def get_managed_constellation_for(user, pk) -> Constellation:
    constellation = get_constellation_for(user, pk)
    if not can_manage_constellation(user, constellation):
        raise PermissionDenied("Only the constellation's liaison workers can change this.")
    return constellation


def can_manage_constellation(user, constellation: Constellation) -> bool:
    return Constellation.objects.managed_by(user).filter(pk=constellation.pk).exists()


def get_household_for(user, pk) -> Household:
    household = Household.objects.visible_to(user).select_related("service").filter(pk=pk).first()
    if household is None:
        raise Http404("No such household.")
    return household


def get_managed_household_for(user, pk) -> Household:
    household = get_household_for(user, pk)
    if not Household.objects.managed_by(user).filter(pk=household.pk).exists():
        raise PermissionDenied("Only the household's liaison worker can change this.")
    return household


def get_membership_for_manager(user, pk) -> ConstellationMembership:
    membership = (
        ConstellationMembership.objects.visible_to(user)
        .select_related("constellation", "household")
        .filter(pk=pk)
        .first()
    )
    if membership is None:
        raise Http404("No such membership.")
    if not can_manage_constellation(user, membership.constellation):
        raise PermissionDenied("Only the constellation's liaison workers can change memberships.")
    return membership


def get_carer_for_manager(user, pk) -> Carer:
    carer = (
        Carer.objects.filter(household__in=Household.objects.visible_to(user))
        .select_related("household", "user")
        .filter(pk=pk)
        .first()
    )
    if carer is None:
        raise Http404("No such carer.")
    if not Household.objects.managed_by(user).filter(pk=carer.household_id).exists():
        raise PermissionDenied("Only the household's liaison worker can change its carers.")
    return carer


@dataclass(frozen=True)
class ChildView:
    """A child as one user may see them: in full, or by preferred name and age."""

    child: Child
    full: bool


def get_child_for(user, pk, *, channel: str = ChildRecordAccess.Channel.WEB) -> ChildView:
    """Fetch a child for this user, or 404. A view of the full record is logged."""
    child = (
        Child.objects.visible_to(user)
        .select_related("household", "service", "social_worker")
        .filter(pk=pk)
        .first()
    )
    if child is None:
        raise Http404("No such child.")
    full = Child.objects.full_records_for(user).filter(pk=child.pk).exists()
    if full:
        log_full_record_view(user, child, channel=channel)
    return ChildView(child=child, full=full)


def log_full_record_view(user, child: Child, *, channel: str, request=None) -> None:
    """Write the access log and the audit trail for one view of ``child``'s full
    record (the child's page, its edit form, the API's record)."""
    ChildRecordAccess.objects.create(user=user, child=child, channel=channel)
    record_child_record_views(user, [child], channel=channel, request=request)


def get_managed_child_for(user, pk) -> Child:
    child = Child.objects.visible_to(user).select_related("household").filter(pk=pk).first()
    if child is None:
        raise Http404("No such child.")
    if not Child.objects.managed_by(user).filter(pk=child.pk).exists():
        raise PermissionDenied("Only the child's liaison worker can change this record.")
    return child


# --- read-only checks used by the pages ----------------------------------------------


def can_manage_household(user, household: Household) -> bool:
    return Household.objects.managed_by(user).filter(pk=household.pk).exists()


def can_manage_child(user, child: Child) -> bool:
    return Child.objects.managed_by(user).filter(pk=child.pk).exists()


def can_audit_child(user, child: Child) -> bool:
    return Child.objects.auditable_by(user).filter(pk=child.pk).exists()


def can_see_household_details(user, household: Household) -> bool:
    return Household.objects.with_details_for(user).filter(pk=household.pk).exists()


def log_full_record_views(user, children, *, channel: str) -> None:
    """Write the access log and the audit trail for a list that shows several full
    records. ``children`` are ``Child`` objects (nothing more is read) or ids (one
    query names them); one insert each for the log and the trail."""
    children = list(children)
    given = {c.pk: c for c in children if isinstance(c, Child)}
    ids = sorted({c for c in children if not isinstance(c, Child)} - set(given))
    if ids:
        given.update(
            (c.pk, c)
            for c in Child.objects.filter(pk__in=ids).only(
                "pk", "service_id", "first_name", "preferred_name"
            )
        )
    if not given:
        return
    shown = [given[pk] for pk in sorted(given)]
    ChildRecordAccess.objects.bulk_create(
        ChildRecordAccess(user=user, child_id=child.pk, channel=channel) for child in shown
    )
    record_child_record_views(user, shown, channel=channel)


def get_child_history_for(user, pk) -> Child:
    """A child whose change history the user may read (liaison workers and managers):
    404 when the child is not visible at all, 403 when visible but not auditable."""
    child = Child.objects.visible_to(user).filter(pk=pk).first()
    if child is None:
        raise Http404("No such child.")
    if not can_audit_child(user, child):
        raise PermissionDenied("Only liaison workers and managers can read a record's history.")
    return child


# --- regular contact, concerns, supervision (issue 11) ---------------------------------


def can_record_contact(user, constellation: Constellation) -> bool:
    """Who records check-ins and opens concerns by hand in a constellation: its
    current hub carers and its liaison workers (not a manager reading, not a
    satellite carer, not a stand-in covering for the hub)."""
    if not user.is_authenticated:
        return False
    hub_carer = Carer.objects.current().filter(user=user, household__hub_of=constellation).exists()
    return hub_carer or (
        LiaisonAssignment.objects.current().filter(user=user, constellation=constellation).exists()
    )


def can_read_contact(user, constellation: Constellation) -> bool:
    """Who reads a constellation's check-ins, coverage and concerns: its hub carers,
    liaison workers and the service's managers (``CheckIn.objects.visible_to``)."""
    return (
        can_record_contact(user, constellation)
        or Constellation.objects.filter(pk=constellation.pk)
        .filter(service__in=_managed_services(user))
        .exists()
        or user.is_superuser
    )


def constellations_for_contact(user):
    """``can_read_contact`` as a queryset: the constellations whose check-ins,
    coverage and concerns the user reads (where they are a current hub carer or
    liaison worker, and every constellation of a service they manage). Empty for a
    satellite carer, a social worker or an anonymous user."""
    if not user.is_authenticated:
        return Constellation.objects.none()
    if user.is_superuser:
        return Constellation.objects.all()
    hub = Carer.objects.current().filter(user=user, household__hub_of__isnull=False)
    liaison = LiaisonAssignment.objects.current().filter(user=user)
    return Constellation.objects.filter(
        Q(pk__in=hub.values("household__hub_of"))
        | Q(pk__in=liaison.values("constellation_id"))
        | Q(service__in=_managed_services(user))
    )


def _managed_services(user):
    from .models import _managed_service_ids

    return _managed_service_ids(user)


def get_constellation_for_contact(user, pk) -> Constellation:
    """A constellation whose coverage the user reads: 404 when not visible, 403 for a
    member who does not read check-ins (a satellite carer)."""
    constellation = get_constellation_for(user, pk)
    if not can_read_contact(user, constellation):
        raise PermissionDenied("Only the hub carers and liaison workers see check-ins.")
    return constellation


def get_household_for_contact(user, pk) -> tuple[Household, Constellation]:
    """A satellite household the user may record a check-in with (or open a concern
    about), and the constellation it is an active member of now. 404 when the
    household is not visible; 403 when visible but the user is not a hub carer or
    liaison worker of its constellation, or it is not an active satellite now."""
    household = get_household_for(user, pk)
    membership = (
        ConstellationMembership.objects.filter(
            household=household, status=ConstellationMembership.Status.ACTIVE
        )
        .select_related("constellation__service", "constellation__hub")
        .first()
    )
    if membership is None:
        raise PermissionDenied(f"{household} is not an active satellite household now.")
    if not can_record_contact(user, membership.constellation):
        raise PermissionDenied("Only the hub carers and liaison workers record check-ins.")
    return household, membership.constellation


def get_check_in_for(user, pk):
    """A check-in the user may read (``CheckIn.objects.visible_to``), else 404."""
    from .models import CheckIn

    check_in = (
        CheckIn.objects.visible_to(user)
        .select_related("household", "constellation", "recorded_by")
        .filter(pk=pk)
        .first()
    )
    if check_in is None:
        raise Http404("No such check-in.")
    return check_in


def get_follow_up_to_resolve(user, pk):
    """A follow-up the user may resolve: 404 when its check-in is not visible; 403
    unless the user is the person it was given to, or a hub carer or liaison worker
    of its constellation."""
    from .models import FollowUp

    follow_up = (
        FollowUp.objects.visible_to(user)
        .select_related("check_in__household", "check_in__constellation", "assigned_to")
        .filter(pk=pk)
        .first()
    )
    if follow_up is None:
        raise Http404("No such follow-up.")
    if follow_up.assigned_to_id != user.pk and not can_record_contact(
        user, follow_up.check_in.constellation
    ):
        raise PermissionDenied("Only the hub carers and liaison workers resolve follow-ups.")
    return follow_up


def get_concern_for(user, pk):
    """A concern the user may read (hub carers, liaison workers, managers), else 404."""
    from .models import Concern

    concern = (
        Concern.objects.visible_to(user)
        .select_related("household", "constellation__service", "opened_by", "closed_by")
        .filter(pk=pk)
        .first()
    )
    if concern is None:
        raise Http404("No such concern.")
    return concern


def get_concern_to_close(user, pk):
    """A concern the user may close: the constellation's liaison workers and the
    service's managers (403 for a hub carer, who reads it)."""
    concern = get_concern_for(user, pk)
    if not can_manage_constellation(user, concern.constellation):
        raise PermissionDenied("Only the liaison worker closes a concern.")
    return concern


def get_carer_to_supervise(user, pk) -> Carer:
    """A current carer the user may write a supervision note about: 404 when not
    visible; 403 unless the user manages the carer's constellation (its liaison
    workers, the service's managers)."""
    carer = get_carer_for_manager(user, pk)
    if carer.ended_on is not None:
        raise PermissionDenied(f"{carer.user} is no longer a carer.")
    return carer


def get_desk_for(user) -> None:
    """The desk (queue and activity feed) is the liaison workers' and managers' page:
    403 for anyone who manages no constellation."""
    if not user.is_authenticated or not Constellation.objects.managed_by(user).exists():
        raise PermissionDenied("The desk is for liaison workers and fostering managers.")


def _dashboard_roles(user):
    from people.models import StaffRole

    return StaffRole.objects.active().filter(
        user=user, role__in=[StaffRole.Role.MANAGER, StaffRole.Role.LIAISON]
    )


def dashboard_constellations(user):
    """The constellations whose dashboards ``user`` reads: a fostering manager's whole
    service, a liaison worker's own constellations (``Constellation.objects.managed_by``),
    ordered by name. A manager of a service with no constellation yet, or a liaison
    worker not yet assigned, reads an empty dashboard. Raises PermissionDenied (403)
    for anyone else: carers never reach dashboards or exports (issue 12)."""
    if not user.is_authenticated:
        raise PermissionDenied("Dashboards are for liaison workers and fostering managers.")
    found = Constellation.objects.managed_by(user)
    if not found.exists() and not _dashboard_roles(user).exists():
        raise PermissionDenied("Dashboards are for liaison workers and fostering managers.")
    return found.select_related("service").order_by("name", "pk")


def dashboard_service(user, constellations):
    """The fostering service an export of ``constellations`` is recorded against (the
    export audit trail): theirs, or the user's own when there are none yet."""
    if constellations:
        return constellations[0].service
    role = _dashboard_roles(user).select_related("service").order_by("pk").first()
    return role.service if role else None


def get_dashboard_constellation(user, pk: int) -> Constellation:
    """One constellation of ``user``'s dashboards, or 404 (another constellation or
    another fostering service). 403 for users with no dashboards at all."""
    return get_object_or_404(dashboard_constellations(user), pk=pk)
