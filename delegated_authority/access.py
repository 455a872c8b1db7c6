"""Fetch-and-check helpers for delegated authority: 404 outside visibility, 403 for
what the user may see but not do."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from constellation.models import Child

from .models import Agreement, Approval
from .services import can_answer


def get_agreement_for(user, pk) -> Agreement:
    agreement = (
        Agreement.objects.visible_to(user)
        .select_related("child", "signed_off_by")
        .filter(pk=pk)
        .first()
    )
    if agreement is None:
        raise Http404("No such agreement.")
    return agreement


def get_approval_for(user, pk) -> Approval:
    approval = (
        Approval.objects.visible_to(user)
        .select_related("child", "decision", "requested_by", "assigned_to")
        .filter(pk=pk)
        .first()
    )
    if approval is None:
        raise Http404("No such request.")
    return approval


def get_approval_to_answer(user, pk) -> Approval:
    approval = get_approval_for(user, pk)
    if not can_answer(user, approval):
        raise PermissionDenied("Only the holder of this decision can answer it.")
    return approval


def can_edit_agreements(user, child: Child) -> bool:
    return Child.objects.managed_by(user).filter(pk=child.pk).exists()
