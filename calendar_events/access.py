"""Who may see and change the calendar (issue 10), and the choice sets a user picks
from. Rules of visibility live in ``EventQuerySet.visible_to`` and ``kept``; these
helpers fetch through them: an event the user may not see is a 404 (another
service's, another constellation's, a contact session of another household); one
the user sees but may not change is a 403."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from constellation.clock import EARLIEST_YEAR, LATEST_YEAR
from constellation.models import Carer, Child, Constellation, ConstellationMembership, Household

from .models import Event, KeptConnected
from .recurrence import parse_key


def get_event_for(user, pk) -> Event:
    """An event ``user`` may see (``Event.objects.visible_to``), or 404."""
    try:
        return Event.objects.visible_to(user).select_related("constellation__service").get(pk=pk)
    except (Event.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such event.") from None


def get_event_to_keep(user, pk) -> Event:
    """An event whose calendar ``user`` keeps (the hub carers, the liaison workers,
    the service's managers): 404 when not visible, 403 when visible but not theirs
    to change (a satellite carer)."""
    event = get_event_for(user, pk)
    if not may_keep(user, event):
        raise PermissionDenied("Only the hub carers and the liaison worker change the calendar.")
    return event


def may_keep(user, event: Event) -> bool:
    return Event.objects.kept(user).filter(pk=event.pk).exists()


def original_start_of(key: str) -> datetime:
    """A date's key from a URL (``20270105T190000Z``) as an aware moment, or 404 (also
    for a year outside 2000–2100, whose dates could not be worked out)."""
    moment = parse_key(key)
    if moment is None or not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise Http404("No such date.")
    return moment


def constellations_to_keep(user) -> QuerySet[Constellation]:
    """Constellations on whose calendar ``user`` may put events: the one whose hub
    they care for, the ones they are liaison worker of, and, for a manager, all of
    their service's."""
    if not user.is_authenticated:
        return Constellation.objects.none()
    own = Carer.objects.current().filter(user=user).values("household_id")
    return Constellation.objects.filter(
        Q(hub__in=own) | Q(pk__in=Constellation.objects.managed_by(user).values("pk"))
    ).order_by("name")


def households_to_invite(constellation: Constellation) -> QuerySet[Household]:
    """The households an event of ``constellation`` may invite by name: its active
    member households (the hub organises)."""
    return Household.objects.filter(
        memberships__constellation=constellation,
        memberships__status=ConstellationMembership.Status.ACTIVE,
    ).order_by("name")


def households_to_record(constellation: Constellation) -> QuerySet[Household]:
    """Households that may be recorded as having come: the members and the hub."""
    return Household.objects.filter(
        Q(pk__in=households_to_invite(constellation).values("pk")) | Q(hub_of=constellation)
    ).order_by("name")


def contacts_to_invite(constellation: Constellation) -> QuerySet[KeptConnected]:
    """People kept connected by ``constellation`` whose consent is in force today."""
    return KeptConnected.objects.filter(constellation=constellation).current()


def children_of(household: Household) -> QuerySet[Child]:
    """The children a household may say are coming, or be recorded as having come:
    those placed with it now."""
    return Child.objects.filter(household=household, status=Child.Status.PLACED).order_by(
        "preferred_name", "first_name"
    )


def household_answering(user, event: Event) -> Household | None:
    """The household ``user`` answers for on ``event``: their own, when it is invited
    (None otherwise: a liaison worker or a manager does not answer)."""
    from .services import is_invited

    carer = Carer.objects.current().filter(user=user).select_related("household").first()
    if carer is None or not is_invited(event, carer.household):
        return None
    return carer.household


def get_kept_connected_to_manage(user, pk) -> KeptConnected:
    """A person kept connected whose entry ``user`` manages (liaison workers and
    managers): 404 when not visible to them, 403 when visible only (a hub carer)."""
    try:
        person = KeptConnected.objects.visible_to(user).select_related("constellation").get(pk=pk)
    except (KeptConnected.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such person.") from None
    if not KeptConnected.objects.managed_by(user).filter(pk=person.pk).exists():
        raise PermissionDenied("Only the liaison worker keeps this list.")
    return person
