"""Planning meetings and supervision notes (DOMAIN.md workflow 7; issue 11): the
liaison worker's records. Who may write them is decided in ``constellation.access``."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from people.models import User

from ..models import Carer, Constellation, PlanningMeeting, SupervisionNote
from . import ActionRefused, current_constellation_of, record_activity

ATTENDEES_MAX = 500
TEXT_MAX = 5000
# A record of the past: how far back a meeting or a supervision may be dated.
OLDEST = timedelta(days=5 * 366)


def _past_date(day: date, what: str) -> None:
    today = timezone.localdate()
    if day > today:
        raise ActionRefused(f"The {what} cannot be in the future.")
    if day < today - OLDEST:
        raise ActionRefused(f"The {what} cannot be more than five years ago.")


@transaction.atomic
def record_planning_meeting(
    constellation: Constellation, *, by: User, held_on: date, attendees: str, decisions: str
) -> PlanningMeeting:
    """Record a shared planning meeting held on ``held_on`` (not in the future, at
    most five years ago): who attended and what it decided. Households are then
    proposed from it (``propose_membership(..., planning_meeting=...)``). Raises
    ActionRefused for an empty or too long record, or a date out of range."""
    attendees, decisions = attendees.strip(), decisions.strip()
    if not attendees or not decisions:
        raise ActionRefused("Say who attended and what the meeting decided.")
    if len(attendees) > ATTENDEES_MAX or len(decisions) > TEXT_MAX:
        raise ActionRefused(
            f"Attendees are at most {ATTENDEES_MAX} characters, decisions {TEXT_MAX}."
        )
    _past_date(held_on, "meeting's date")
    meeting = PlanningMeeting.objects.create(
        constellation=constellation,
        held_on=held_on,
        attendees=attendees,
        decisions=decisions,
        recorded_by=by,
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="planning_meeting.recorded",
        target=meeting,
        summary=f"Shared planning meeting of {held_on:%-d %B %Y} recorded",
    )
    return meeting


def supervisees(constellation: Constellation):
    """The carers a liaison worker supervises in a constellation: the current carers
    of its hub and of its active satellite households."""
    from ..models import ConstellationMembership

    members = ConstellationMembership.objects.filter(
        constellation=constellation, status=ConstellationMembership.Status.ACTIVE
    ).values("household_id")
    return (
        Carer.objects.current()
        .filter(Q(household__in=members) | Q(household__hub_of=constellation))
        .select_related("user", "household")
        .order_by("household__name", "role")
    )


@transaction.atomic
def write_supervision_note(
    carer: Carer, *, by: User, supervised_on: date, note: str
) -> SupervisionNote:
    """A liaison worker's note of supervising ``carer`` (a current carer of the hub or
    of an active satellite household) on ``supervised_on``. Read only by the
    constellation's liaison workers and the service's managers
    (``SupervisionNote.objects.visible_to``); never by carers. The activity record
    says a note was written, never what it says. Raises ActionRefused for an empty
    or too long note, a date out of range, or a carer in no constellation."""
    note = note.strip()
    if not note:
        raise ActionRefused("Write the supervision note.")
    if len(note) > TEXT_MAX:
        raise ActionRefused(f"The note is at most {TEXT_MAX} characters.")
    _past_date(supervised_on, "supervision's date")
    constellation = current_constellation_of(carer.household)
    if constellation is None or carer.ended_on is not None:
        raise ActionRefused("Supervision notes are kept for current carers of a constellation.")
    record = SupervisionNote.objects.create(
        constellation=constellation,
        carer=carer,
        supervised_on=supervised_on,
        note=note,
        written_by=by,
    )
    record._history_user = by
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="supervision.written",
        target=record,
        household=carer.household_id,
        summary=f"Supervision note written for {carer.user}",
    )
    return record
