"""When the hub is not available: periods away, added and withdrawn."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from constellation.clock import PERIOD
from constellation.models import (
    Constellation,
    Household,
)
from constellation.services import record_activity
from people.models import User

from ..models import (
    Unavailability,
)
from .beds import _lock_hub, _require_hub_household
from .common import _withdraw


@transaction.atomic
def add_unavailability(
    hub: Household, *, by: User, start: date, end: date, note: str
) -> Unavailability:
    """The hub is not available from ``start`` to ``end`` (London dates, both days
    included): families see the note and planned stays are refused over it. Refused
    (a ``ValidationError`` naming the field) when the end is before the start, the
    note is empty, or the start is more than a year ago or over two years ahead, or
    the period lasts over a year (``constellation.clock.PERIOD``)."""
    _require_hub_household(by, hub)
    if end < start:
        raise ValidationError({"end": "The last day must not be before the first."})
    PERIOD.check(start, end)
    if not note.strip():
        raise ValidationError({"note": "Say why, in a few words: the families will read it."})
    _lock_hub(hub.pk)  # an offer checks the availability under this lock
    period = Unavailability.objects.create(hub=hub, start=start, end=end, note=note, created_by=by)
    constellation = Constellation.objects.filter(hub=hub).first()
    record_activity(
        service=hub.service,
        constellation=constellation,
        actor=by,
        verb="hub.unavailable",
        target=period,
        summary=f"Hub not available {start:%d %b} to {end:%d %b}",
        household=hub,
    )
    return period


@transaction.atomic
def withdraw_unavailability(period: Unavailability, *, by: User) -> Unavailability:
    """The hub is available again for the period: families can book it."""
    _require_hub_household(by, period.hub)
    _lock_hub(period.hub_id)
    period = Unavailability.objects.select_for_update(of=("self",)).get(pk=period.pk)
    _withdraw(period, by=by)
    record_activity(
        service=period.hub.service,
        constellation=Constellation.objects.filter(hub=period.hub).first(),
        actor=by,
        verb="hub.available_again",
        target=period,
        summary=f"Hub available again {period.start:%d %b} to {period.end:%d %b}",
        household=period.hub_id,
    )
    return period
