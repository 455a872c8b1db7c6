"""Fetch-and-check helpers for sleepovers: 404 outside visibility, 403 for a
visible request the user may not act on."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from constellation.models import Carer, Child, Constellation, Household, HubCover

from .models import BedChange, Kind, LimitOverride, Request, Unavailability


def is_hub_carer(user, request: Request) -> bool:
    """Whether the user answers this request for the hub: a current carer of the
    household it was sent to (the hub, or the stand-in covering it), and never of
    the household that asked (nobody answers their own request)."""
    households = set(
        Carer.objects.current().filter(user=user).values_list("household_id", flat=True)
    )
    return request.hub_id in households and request.household_id not in households


def is_requester(user, request: Request) -> bool:
    """Whether the user is a current carer of the household that asked."""
    return Carer.objects.current().filter(user=user, household_id=request.household_id).exists()


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
    if not is_hub_carer(user, request):
        raise PermissionDenied("Only the hub's carers answer requests.")
    return request


def get_request_for_requester(user, pk) -> Request:
    request = get_request_for(user, pk)
    if not is_requester(user, request):
        raise PermissionDenied("Only the requesting household can do this.")
    return request


def get_hub_for(user, pk) -> Household:
    """A hub home the user may see (its nights, its availability), or a household
    that stands in for one, or 404."""
    hub = (
        Household.objects.visible_to(user)
        .filter(pk=pk)
        .filter(
            Q(kind=Household.Kind.HUB, hub_of__isnull=False)
            | Q(pk__in=HubCover.objects.in_force().values("stand_in_id"))
        )
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


def get_constellation_to_manage(user, pk) -> Constellation:
    """A constellation whose limits, exceptions and cover the user sets: its liaison
    workers and the service's managers. 403 for others who see it, else 404."""
    constellation = (
        Constellation.objects.managed_by(user)
        .select_related("hub", "service")
        .filter(pk=pk)
        .first()
    )
    if constellation is not None:
        return constellation
    if Constellation.objects.visible_to(user).filter(pk=pk).exists():
        raise PermissionDenied("Only the liaison worker and managers set this.")
    raise Http404("No such constellation.")


def get_override_to_manage(user, pk) -> LimitOverride:
    override = LimitOverride.objects.select_related("constellation").filter(pk=pk).first()
    if override is None:
        raise Http404("No such exception.")
    get_constellation_to_manage(user, override.constellation_id)
    return override


def get_cover_to_manage(user, pk) -> HubCover:
    cover = HubCover.objects.select_related("constellation", "stand_in").filter(pk=pk).first()
    if cover is None:
        raise Http404("No such cover.")
    get_constellation_to_manage(user, cover.constellation_id)
    return cover


def get_unavailability_to_manage(user, pk) -> Unavailability:
    period = Unavailability.objects.filter(pk=pk).first()
    if period is None:
        raise Http404("No such period.")
    get_managed_hub_for(user, period.hub_id)
    return period


def get_bed_change_to_manage(user, pk) -> BedChange:
    change = BedChange.objects.filter(pk=pk).first()
    if change is None:
        raise Http404("No such change.")
    get_managed_hub_for(user, change.hub_id)
    return change


def get_temporary_placement_to_end(user, pk) -> Request:
    """A temporary placement whose end (the child's move) the user records: the
    constellation's liaison worker or a manager."""
    request = get_request_for(user, pk)
    if not Constellation.objects.managed_by(user).filter(pk=request.constellation_id).exists():
        raise PermissionDenied("Only the liaison worker records the move.")
    if request.kind != Kind.TEMPORARY:
        raise Http404("Not a temporary placement.")
    return request


class RequestViewer:
    """What of a visible request the user sees. The hub's carers (a stand-in's for
    the requests sent to it), the requesting household and the constellation's staff
    see it whole; a social worker who sees it only through the children whose case
    they hold sees those children, and not the family's notes, which may speak of
    the others. One query for most users, three for a social worker."""

    def __init__(self, user):
        self.cases = set(Child.objects.filter(social_worker=user).values_list("pk", flat=True))
        self.full: set[int] = set()
        self.own: set[int] = set()
        if self.cases:
            self.full = set(
                Constellation.objects.with_full_child_records_for(user).values_list("pk", flat=True)
            )
            self.own = set(
                Carer.objects.current().filter(user=user).values_list("household_id", flat=True)
            )

    def sees_whole(self, request: Request) -> bool:
        return (
            not self.cases
            or request.constellation_id in self.full
            or request.hub_id in self.own
            or request.household_id in self.own
        )

    def children(self, request: Request) -> list:
        children = list(request.children.all())
        if self.sees_whole(request):
            return children
        return [c for c in children if c.pk in self.cases]
