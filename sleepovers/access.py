"""Fetch-and-check helpers for sleepovers: 404 outside visibility, 403 for a
visible request the user may not act on."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from constellation.models import Carer, Constellation, Household

from . import services
from .models import Request


def get_request_for(user, pk) -> Request:
    request = (
        Request.objects.visible_to(user)
        .select_related("constellation", "hub", "household", "requested_by")
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404("No such request.")
    return request


def get_request_for_hub(user, pk) -> Request:
    """A request the user answers as one of the hub's carers."""
    request = get_request_for(user, pk)
    if not services.is_hub_carer(user, request):
        raise PermissionDenied("Only the hub's carers answer requests.")
    return request


def get_request_for_requester(user, pk) -> Request:
    request = get_request_for(user, pk)
    if not services.is_requester(user, request):
        raise PermissionDenied("Only the requesting household can do this.")
    return request


def get_hub_for(user, pk) -> Household:
    """A hub home the user may see (its nights, its availability), or 404."""
    hub = (
        Household.objects.visible_to(user)
        .filter(pk=pk, kind=Household.Kind.HUB, hub_of__isnull=False)
        .first()
    )
    if hub is None:
        raise Http404("No such hub.")
    return hub


def get_managed_hub_for(user, pk) -> Household:
    """A hub whose beds and availability the user may change: its own carers, and
    the constellation's liaison workers and managers."""
    hub = get_hub_for(user, pk)
    own = Carer.objects.current().filter(user=user, household=hub).exists()
    managed = Constellation.objects.managed_by(user).filter(hub=hub).exists()
    if not (own or managed):
        raise PermissionDenied("Only the hub's carers change its beds and availability.")
    return hub


def hub_of_user(user) -> Household | None:
    """The hub of the constellation the user's household belongs to (or is)."""
    carer = Carer.objects.current().filter(user=user).select_related("household").first()
    if carer is None:
        return None
    constellation = Constellation.objects.filter(hub=carer.household).first() or (
        Constellation.objects.filter(
            memberships__household=carer.household, memberships__status="active"
        ).first()
    )
    return constellation.hub if constellation else None
