"""The hub's beds and the nights they hold.

The bed rule lives in one place, ``_hold_nights``: it runs under a lock on the
hub's row, which every accept and every bed change takes first, so two hub
carers pressing "accept" for the last bed at once leave exactly one accepted.

The lock order
--------------
Every action on a hub's sleepovers takes its locks in this order, so that
concurrent actions queue one behind the other instead of deadlocking:

1. the hub's household row (``_lock_hub``): every change of a request's state
   (accept, decline, offer, take the offer, cancel, arrived, collected, did not
   arrive, a temporary placement's end), every bed change and its withdrawal, and
   every change of the hub's usual number of beds, whatever the door (the beds
   page, the household page, the API, the admin, a command);
2. the request's row (``lock_for_action``);
3. then the rows that belong to that request or hub: its approvals (decided or
   withdrawn in delegated authority, which first takes 1 and 2 through
   ``lock_for_approval``), a bed change being withdrawn, a child being moved.

Each lock takes only its own row (``select_for_update(of=("self",))``), never the
households, constellation, service, child or decision that a query joins to:
locking those would queue every action of the service behind one another, and
take them in an order of the database's choosing. The locks are ``no_key``
(PostgreSQL's FOR NO KEY UPDATE): they still queue each other, but not the rows
that only refer to the locked one (a night, a request, an activity row), whose
inserts take a key-share lock on it and would otherwise close a cycle.

A rule that a stay must keep (the beds, a child booked once a night) is checked
under lock 1, where nothing else can change it."""

from copy import copy
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from constellation.models import (
    Carer,
    Constellation,
    Household,
)
from constellation.services import ActionRefused, current_constellation_of, record_activity
from people.models import User

from ..models import (
    BedChange,
    Kind,
    Night,
    Request,
    tonight,
)
from ..selectors import beds_by_night, booked_by_night
from .common import _withdraw


class NightFull(ActionRefused):
    """No bed is free on a night of the stay."""


MAX_BEDS = 20
# A bed change covers at most a year of nights, and starts at most a year ago: a
# mistyped year would otherwise silently override the beds of decades.
BED_CHANGE_SPAN = timedelta(days=366)


def _lock_hub(hub_id: int) -> Household:
    """Lock 1: every accept, every change of a request's state and every bed change
    of a hub queues here, one at a time."""
    return Household.objects.select_for_update(of=("self",), no_key=True).get(pk=hub_id)


def lock_for_action(request: Request) -> Request:
    """Take the hub's lock, then the request's (the lock order above), and return the
    request read afresh under them. Must run inside ``transaction.atomic``."""
    _lock_hub(request.hub_id)
    return (
        Request.objects.select_for_update(of=("self",), no_key=True)
        .select_related("constellation__service", "hub", "household")
        .get(pk=request.pk)
    )


def lock_for_approval(subject_type: str, subject_id: int | None) -> None:
    """Before an approval's row is locked to decide or withdraw it: when it is about a
    sleepover, take that request's locks 1 and 2 first, so that deciding it queues with
    a decline or a cancel (which withdraw its approvals under 1 and 2) instead of
    deadlocking with them. Must run inside ``transaction.atomic``."""
    if subject_type != "sleepover" or subject_id is None:
        return
    request = Request.objects.filter(pk=subject_id).only("pk", "hub_id").first()
    if request is not None:
        lock_for_action(request)


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
    """The hub's own carers, and the liaison workers and managers of its constellation
    (or of a stand-in household's constellation, for the stand-in's beds)."""
    if Carer.objects.current().filter(user=user, household=hub).exists():
        return
    if not Household.objects.managed_by(user).filter(pk=hub.pk).exists():
        raise ActionRefused("Only the hub's carers change its beds and availability.")


@transaction.atomic
def set_usual_beds(hub: Household, *, by: User | None, beds: int) -> Household:
    """Set the hub's usual number of beds for sleepovers (those of every night no bed
    change covers): the one way to change ``Household.beds``, whatever the door (the
    household page, the API, the admin, a command). Returns the hub read afresh.

    Who may: the hub's own carers, its constellation's liaison workers and managers
    (``by=None`` only for the system itself, as a command). Refused
    (ValidationError) outside 0 to 20 beds; refused (ActionRefused, naming the night
    and the counts) when a night from today (Europe/London) on would then hold more
    children than beds. A night a bed change covers keeps that change's number. The
    check runs under the hub's lock, so an accept cannot slip in between."""
    if by is not None:
        _require_hub_household(by, hub)
    if isinstance(beds, bool) or not isinstance(beds, int) or not 0 <= beds <= MAX_BEDS:
        raise ValidationError({"beds": f"Between 0 and {MAX_BEDS} beds."})
    locked = _lock_hub(hub.pk)
    before = locked.beds
    if beds == before:
        return locked
    if beds < before:
        _refuse_fewer_beds_than_booked(locked, beds)
    locked.beds = beds
    locked._history_user = by
    locked.save(update_fields=["beds"])
    record_activity(
        service=locked.service,
        constellation=current_constellation_of(locked),
        actor=by,
        verb="hub.usual_beds_changed",
        target=locked,
        summary=f"Usual beds of {locked}: {before} to {beds}",
        payload={"from": before, "to": beds},
        household=locked,
    )
    return locked


def _refuse_fewer_beds_than_booked(hub: Household, beds: int) -> None:
    """Refuse when a night from the one in progress on (``tonight``: after midnight,
    the children are still asleep there) would hold more children than ``beds`` as
    the hub's usual number. Must run under ``_lock_hub``."""
    today = tonight()
    last = Night.objects.filter(hub=hub, date__gte=today).aggregate(last=Max("date"))["last"]
    if last is None:
        return
    trial = copy(hub)
    trial.beds = beds
    by_night = beds_by_night(trial, today, last)
    booked = booked_by_night(hub, today, last)
    over = sorted(day for day, n in booked.items() if n > by_night[day])
    if over:
        day = over[0]
        n, free = booked[day], by_night[day]
        raise ActionRefused(
            f"{n} child{'ren are' if n != 1 else ' is'} booked on the night of "
            f"{day:%A %d %B %Y}, more than {free} bed{'s' if free != 1 else ''}: "
            "decline or move a stay first."
        )


@transaction.atomic
def change_beds(
    hub: Household, *, by: User, start: date, end: date, beds: int, note: str = ""
) -> BedChange:
    """Change the beds for the nights ``start`` to ``end`` (local dates, inclusive).
    Refused (ValidationError) when the range runs backwards, starts more than a year
    ago or covers more than a year (366 nights); refused (ActionRefused) when a night
    already holds more children than the new number, under the hub's lock, like
    accept, so they cannot race."""
    _require_hub_household(by, hub)
    if end < start:
        raise ValidationError({"end": "The last night must not be before the first."})
    if start < timezone.localdate() - BED_CHANGE_SPAN:
        raise ValidationError({"start": "A bed change starts at most a year ago."})
    if end - start >= BED_CHANGE_SPAN:
        raise ValidationError({"end": "A bed change covers at most a year of nights."})
    if not 0 <= beds <= MAX_BEDS:
        raise ValidationError({"beds": f"Between 0 and {MAX_BEDS} beds."})
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
        household=hub,
    )
    return change


@transaction.atomic
def withdraw_bed_change(change: BedChange, *, by: User) -> BedChange:
    """The hub's usual beds apply again for the range (or an older change still in
    force). Refused when a night already holds more children than that, under the
    same lock as accept."""
    _require_hub_household(by, change.hub)
    hub = _lock_hub(change.hub_id)
    change = BedChange.objects.select_for_update(of=("self",)).get(pk=change.pk)
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
        household=hub,
    )
    return change
