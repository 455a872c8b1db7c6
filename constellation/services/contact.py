"""Regular contact (DOMAIN.md workflow 5; issue 11): check-ins with satellite
households, their follow-ups, and each constellation's coverage thresholds.

Who may record is decided in ``constellation.access`` (the hub carers and liaison
workers of the household's constellation); these services check what the state of
things allows: a contact not in the future, a follow-up due on a real date and
given to someone who may act on it, a resolution that says how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from people.models import User

from ..models import (
    MAX_CONTACT_DAYS,
    CheckIn,
    Concern,
    Constellation,
    FollowUp,
    Household,
)
from . import ActionRefused, current_constellation_of, record_activity

NOTE_MAX = 1000
ACTION_MAX = 300
RESOLUTION_MAX = 500
# A follow-up is something to do soon: due within a year.
FOLLOW_UP_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class FollowUpInput:
    """One follow-up asked for with a check-in: what, by when (a London date), by whom."""

    action: str
    due_on: date
    assigned_to: User


def _constellation_of(household: Household) -> Constellation:
    constellation = current_constellation_of(household)
    if constellation is None or constellation.hub_id == household.pk:
        raise ActionRefused(f"{household} is not a satellite household of a constellation now.")
    return constellation


def follow_up_assignees(constellation: Constellation) -> list[User]:
    """Who a follow-up may be given to: the constellation's current hub carers and
    liaison workers (the people who record check-ins), by name."""
    from ..models import Carer, LiaisonAssignment

    hub = Carer.objects.current().filter(household__hub_of=constellation).values("user_id")
    liaison = LiaisonAssignment.objects.current().filter(constellation=constellation)
    return list(
        User.objects.filter(Q(pk__in=hub) | Q(pk__in=liaison.values("user_id")))
        .filter(is_active=True)
        .order_by("first_name", "last_name", "email")
    )


def _check_follow_up(constellation: Constellation, follow_up: FollowUpInput, today: date) -> None:
    if not follow_up.action.strip():
        raise ActionRefused("Say what the follow-up is.")
    if len(follow_up.action) > ACTION_MAX:
        raise ActionRefused(f"A follow-up is at most {ACTION_MAX} characters.")
    if follow_up.due_on < today:
        raise ActionRefused("A follow-up cannot be due before today.")
    if follow_up.due_on > today + FOLLOW_UP_AHEAD:
        raise ActionRefused("A follow-up is due within a year of the check-in.")
    if follow_up.assigned_to.pk not in {u.pk for u in follow_up_assignees(constellation)}:
        raise ActionRefused(
            "A follow-up can be given to the constellation's hub carers or liaison workers only."
        )


@transaction.atomic
def record_check_in(
    household: Household,
    *,
    by: User,
    occurred_at: datetime,
    method: str,
    made: bool = True,
    participants: str = "",
    note: str = "",
    concern_level: str = CheckIn.Level.NONE,
    follow_ups: list[FollowUpInput] = (),
    now: datetime | None = None,
) -> CheckIn:
    """Record a contact (or an attempt, ``made=False``) with a satellite household at
    ``occurred_at`` (aware; not in the future). A check-in at high concern opens a
    concern (``concerns.open_concern``, one per household while open) and alerts the
    liaison worker. Follow-ups are written with it. Returns the check-in.

    Raises ActionRefused for a moment in the future, a household that is not a
    satellite of a constellation now, an unknown method or level, or a follow-up
    that is empty, due in the past, or given to someone who cannot act on it."""
    from .concerns import open_concern

    now = now or timezone.now()
    if timezone.is_naive(occurred_at):
        raise ActionRefused("The time of the contact needs a time zone.")
    if occurred_at > now:
        raise ActionRefused("A check-in cannot be in the future.")
    if method not in CheckIn.Method.values:
        raise ActionRefused("Choose how the contact happened.")
    if concern_level not in CheckIn.Level.values:
        raise ActionRefused("Choose a level of concern.")
    if len(note) > NOTE_MAX:
        raise ActionRefused(f"The note is at most {NOTE_MAX} characters.")
    constellation = _constellation_of(household)
    today = timezone.localdate(now)
    for follow_up in follow_ups:
        _check_follow_up(constellation, follow_up, today)
    check_in = CheckIn.objects.create(
        constellation=constellation,
        household=household,
        occurred_at=occurred_at,
        method=method,
        made=made,
        participants=participants.strip()[:200],
        note=note.strip(),
        concern_level=concern_level,
        recorded_by=by,
        recorded_at=now,
    )
    FollowUp.objects.bulk_create(
        FollowUp(
            check_in=check_in,
            action=f.action.strip(),
            due_on=f.due_on,
            assigned_to=f.assigned_to,
        )
        for f in follow_ups
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="check_in.recorded" if made else "check_in.attempted",
        target=check_in,
        household=household,
        summary=(
            f"{check_in.get_method_display()} with {household}"
            + ("" if made else " (attempted, no contact)")
            + (
                f": {check_in.get_concern_level_display().lower()} concern"
                if concern_level != CheckIn.Level.NONE
                else ""
            )
        ),
        payload={"concern_level": concern_level, "follow_ups": len(follow_ups)},
    )
    if concern_level == CheckIn.Level.HIGH:
        open_concern(
            household,
            source=Concern.Source.HIGH_CHECK_IN,
            by=by,
            trigger=check_in,
            description="A check-in recorded a high level of concern.",
            now=now,
        )
    return check_in


@transaction.atomic
def resolve_follow_up(
    follow_up: FollowUp, *, by: User, resolution: str, now: datetime | None = None
) -> FollowUp:
    """Record how a follow-up ended. Raises ActionRefused when it is already resolved
    or the resolution is empty or too long."""
    now = now or timezone.now()
    resolution = resolution.strip()
    if not resolution:
        raise ActionRefused("Say how the follow-up was resolved.")
    if len(resolution) > RESOLUTION_MAX:
        raise ActionRefused(f"The resolution is at most {RESOLUTION_MAX} characters.")
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("check_in__constellation__service", "check_in__household")
        .get(pk=follow_up.pk)
    )
    if follow_up.resolved_at is not None:
        raise ActionRefused("This follow-up is already resolved.")
    follow_up.resolved_at = now
    follow_up.resolved_by = by
    follow_up.resolution = resolution
    follow_up.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    check_in = follow_up.check_in
    record_activity(
        service=check_in.constellation.service,
        constellation=check_in.constellation,
        actor=by,
        verb="follow_up.resolved",
        target=follow_up,
        household=check_in.household,
        summary=f"Follow-up with {check_in.household} resolved",
    )
    return follow_up


@transaction.atomic
def set_contact_thresholds(
    constellation: Constellation, *, by: User, amber_days: int, red_days: int
) -> Constellation:
    """Set the days after the last contact made past which a household is amber and
    red (defaults 10 and 14). Raises ActionRefused unless 1 ≤ amber < red ≤ 90."""
    if not 1 <= amber_days < red_days <= MAX_CONTACT_DAYS:
        raise ActionRefused(
            f"Amber must be at least 1 day and less than red, and red at most "
            f"{MAX_CONTACT_DAYS} days."
        )
    Constellation.objects.filter(pk=constellation.pk).update(
        contact_amber_days=amber_days, contact_red_days=red_days
    )
    constellation.contact_amber_days, constellation.contact_red_days = amber_days, red_days
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="constellation.contact_thresholds",
        target=constellation,
        summary=f"Contact thresholds set: amber after {amber_days} days, red after {red_days}",
    )
    return constellation
