"""Temporary placements at the hub, arranged by the liaison worker and ended with the
move recorded."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from constellation.clock import TEMPORARY
from constellation.models import (
    Child,
    Constellation,
    Household,
)
from constellation.services import ActionRefused, concerns, record_activity
from people.models import User

from .. import access
from ..models import (
    Kind,
    Night,
    Request,
    Status,
    Transition,
    nights_between,
)
from .beds import lock_for_action
from .cover import _route
from .requests import _as_aware, _move

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
    recorded agreement; the hub carer then accepts it against the beds. Who may
    arrange it is the choice set ``access.children_for_temporary_placement`` (the
    child's liaison worker or a manager), asserted here."""
    if child.status != Child.Status.PLACED or child.household_id is None:
        raise ValidationError({"child": f"{child.known_as} is not placed in a household."})
    constellation = (
        Constellation.objects.of_household_now(child.household_id)
        .select_related("hub", "service")
        .first()
    )
    if constellation is None or constellation.hub is None:
        raise ValidationError(
            {"child": f"{child.known_as}'s household is not in a constellation with a hub."}
        )
    access.check_choice(
        access.children_for_temporary_placement(by),
        child,
        field="child",
        message=access.PLACEMENT_CHILD_MESSAGE,
    )
    start, end = _as_aware(start), _as_aware(expected_end, end=True)
    if end <= start:
        raise ValidationError({"expected_end": "The expected end must be after the start."})
    if end - start > timedelta(days=366):
        raise ValidationError(
            {"expected_end": "A temporary placement is arranged for at most a year."}
        )
    TEMPORARY.check(start, end, end_field="expected_end")
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
        household=request.household_id,
        children=[child],
    )
    # A temporary placement follows a disruption: the liaison worker hears of it as a
    # concern about the household the child leaves (issue 11).
    concerns.temporary_placement_arranged(request, by=by)
    return request


@transaction.atomic
def end_temporary_placement(
    request: Request, *, by: User, to: Household | None, reason: str
) -> Request:
    """The child leaves the hub for a new placement (ideally a household of the same
    constellation): the move is recorded in the placement history. Who may record it
    is decided by ``access.get_temporary_placement_to_end``."""
    from constellation import services as people

    if request.kind != Kind.TEMPORARY:
        raise ActionRefused("Only a temporary placement ends with a move.")
    if not reason.strip():
        raise ActionRefused("Say where the child moves and why.")
    access.check_choice(
        access.move_destinations(by, request), to, field="to", message=access.DESTINATION_MESSAGE
    )
    request = lock_for_action(request)
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
