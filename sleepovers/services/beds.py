"""The hub's beds and the nights they hold.

The bed rule lives in one place, ``_hold_nights``: it runs under a lock on the
hub's row, which every accept and every bed change takes first, so two hub
carers pressing "accept" for the last bed at once leave exactly one accepted."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from constellation.models import (
    Carer,
    Constellation,
    Household,
)
from constellation.services import ActionRefused, record_activity
from people.models import User

from ..models import (
    BedChange,
    Kind,
    Night,
    Request,
)
from ..selectors import beds_by_night, booked_by_night
from .common import _withdraw


class NightFull(ActionRefused):
    """No bed is free on a night of the stay."""


# The lock order, the same for every action, so that concurrent actions queue instead
# of deadlocking: (1) the hub's household row, (2) the request's row. Only the rows
# that compete are locked (``of=("self",)``), never the households, constellation or
# service a query joins to.


def _lock_hub(hub_id: int) -> Household:
    """Lock 1: every accept, every change of a request's state and every bed change
    of a hub queues here, one at a time."""
    return Household.objects.select_for_update(of=("self",)).get(pk=hub_id)


def lock_for_action(request: Request) -> Request:
    """Take the hub's lock, then the request's (the lock order above), and return the
    request read afresh under them. Must run inside ``transaction.atomic``."""
    _lock_hub(request.hub_id)
    return (
        Request.objects.select_for_update(of=("self",))
        .select_related("constellation__service", "hub", "household")
        .get(pk=request.pk)
    )


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
