"""Fetch-and-check helpers, and the only place that grants or reads the
constellation's django-guardian permissions.

Anything outside what a user may see is a 404 (never a 403), so that the
existence of another service's records does not leak. A visible object the
user may not change is a 403."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from guardian.shortcuts import assign_perm, remove_perm

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
        ChildRecordAccess.objects.create(user=user, child=child, channel=channel)
    return ChildView(child=child, full=full)


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


def log_full_record_views(user, child_ids, *, channel: str) -> None:
    """Write the access log for a list that shows several full records, in one query."""
    ChildRecordAccess.objects.bulk_create(
        ChildRecordAccess(user=user, child_id=pk, channel=channel) for pk in sorted(child_ids)
    )


def get_child_history_for(user, pk) -> Child:
    """A child whose change history the user may read (liaison workers and managers):
    404 when the child is not visible at all, 403 when visible but not auditable."""
    child = Child.objects.visible_to(user).filter(pk=pk).first()
    if child is None:
        raise Http404("No such child.")
    if not can_audit_child(user, child):
        raise PermissionDenied("Only liaison workers and managers can read a record's history.")
    return child
