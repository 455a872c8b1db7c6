"""The liaison worker's part: the constellation's limits, exceptions to them, and
cover for the hub by a stand-in."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from constellation.models import (
    Carer,
    Child,
    Constellation,
    Household,
    HubCover,
)
from constellation.services import ActionRefused, record_activity
from delegated_authority import rules
from people.models import User

from .. import access, signals
from ..models import (
    MAX_NIGHTS_LIMIT,
    Kind,
    LimitOverride,
    SleepoverSettings,
)
from ..selectors import cover_on
from .common import _withdraw


def settings_for(constellation: Constellation) -> SleepoverSettings:
    found, _ = SleepoverSettings.objects.get_or_create(constellation=constellation)
    return found


def _route(constellation: Constellation, kind: str, start: datetime, stay: list[date]):
    """The household a request goes to: the hub, or the stand-in covering it on the
    first day. A planned stay may not run across the start or end of a cover."""
    first = timezone.localdate(start)
    if kind == Kind.PLANNED and stay:
        covers = list(
            HubCover.objects.overlapping(stay[0], stay[-1])
            .filter(constellation=constellation)
            .select_related("stand_in")
        )
        for cover in covers:
            if not (cover.start <= stay[0] and stay[-1] <= cover.end):
                raise ValidationError(
                    {
                        "end": f"{cover.stand_in} covers for the hub from {cover.start:%d %B} "
                        f"to {cover.end:%d %B}: book the nights inside and outside the "
                        f"cover separately."
                    }
                )
        if covers:
            return covers[0].stand_in, covers[0]
    cover = cover_on(constellation, first)
    return (cover.stand_in, cover) if cover else (constellation.hub, None)


# --- the liaison worker's part: limits, exceptions, cover -----------------------------


# A crisis escalates to the liaison worker after this many minutes unanswered.
MIN_ESCALATION_MINUTES = 2
MAX_ESCALATION_MINUTES = 60


def _require_manager_of(user: User, constellation: Constellation) -> None:
    if not Constellation.objects.managed_by(user).filter(pk=constellation.pk).exists():
        raise ActionRefused("Only the constellation's liaison worker or a manager can do this.")


@transaction.atomic
def update_limits(
    constellation: Constellation,
    *,
    by: User,
    max_consecutive_nights: int,
    yearly_allowance_nights: int | None,
    crisis_escalation_minutes: int | None = None,
) -> SleepoverSettings:
    """Set a constellation's limits for planned stays, and (when given) the minutes a
    crisis request waits unanswered before it escalates to the liaison worker
    (issue 9; 2 to 60 minutes). Raises ``ValidationError`` naming the field."""
    _require_manager_of(by, constellation)
    if crisis_escalation_minutes is not None and not (
        MIN_ESCALATION_MINUTES <= crisis_escalation_minutes <= MAX_ESCALATION_MINUTES
    ):
        raise ValidationError(
            {
                "crisis_escalation_minutes": f"Between {MIN_ESCALATION_MINUTES} and "
                f"{MAX_ESCALATION_MINUTES} minutes."
            }
        )
    if not 1 <= max_consecutive_nights <= MAX_NIGHTS_LIMIT:
        raise ValidationError(
            {"max_consecutive_nights": f"Between 1 and {MAX_NIGHTS_LIMIT} nights."}
        )
    if yearly_allowance_nights is not None and not 1 <= yearly_allowance_nights <= 365:
        raise ValidationError(
            {"yearly_allowance_nights": "Between 1 and 365 nights, or empty for no allowance."}
        )
    limits = settings_for(constellation)
    limits = SleepoverSettings.objects.select_for_update().get(pk=limits.pk)
    limits.max_consecutive_nights = max_consecutive_nights
    limits.yearly_allowance_nights = yearly_allowance_nights
    if crisis_escalation_minutes is not None:
        limits.crisis_escalation_minutes = crisis_escalation_minutes
    limits.save(
        update_fields=[
            "max_consecutive_nights",
            "yearly_allowance_nights",
            "crisis_escalation_minutes",
        ]
    )
    allowance = (
        f"{yearly_allowance_nights} nights a year" if yearly_allowance_nights else "no allowance"
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="sleepover.limits_changed",
        target=limits,
        summary=f"Planned stays: at most {max_consecutive_nights} nights, {allowance}",
    )
    return limits


def _check_period(start: date, end: date, *, what: str) -> None:
    if end < start:
        raise ValidationError({"end": "The last day must not be before the first."})
    if start < timezone.localdate():
        raise ValidationError({"start": f"{what} cannot start in the past."})
    if (end - start).days > 366:
        raise ValidationError({"end": f"{what} lasts at most a year."})


@transaction.atomic
def grant_override(
    constellation: Constellation, *, by: User, child: Child, start: date, end: date, reason: str
) -> LimitOverride:
    """The liaison worker's exception to the constellation's limits for a child's
    planned stays from ``start`` to ``end`` (nights), recorded with the reason."""
    _require_manager_of(by, constellation)
    if rules.constellation_of(child) != constellation:
        raise ValidationError({"child": "Choose a child placed in this constellation."})
    access.check_choice(
        access.children_for_exception(by, constellation),
        child,
        field="child",
        message=access.EXCEPTION_CHILD_MESSAGE,
    )
    _check_period(start, end, what="An exception")
    if not reason.strip():
        raise ValidationError({"reason": "Say why: it is kept with the exception."})
    override = LimitOverride.objects.create(
        constellation=constellation,
        child=child,
        start=start,
        end=end,
        reason=reason.strip(),
        granted_by=by,
    )
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="sleepover.limits_waived",
        target=override,
        summary=f"Limits waived for {child.known_as} from {start:%d %b} to {end:%d %b}",
        household=child.household_id,
        children=[child],
    )
    signals.override_changed.send(sender=LimitOverride, override=override, by=by, withdrawn=False)
    return override


@transaction.atomic
def withdraw_override(override: LimitOverride, *, by: User) -> LimitOverride:
    """Requests made under the exception stay as they are; new ones keep to the limits."""
    _require_manager_of(by, override.constellation)
    override = LimitOverride.objects.select_for_update().get(pk=override.pk)
    _withdraw(override, by=by)
    record_activity(
        service=override.constellation.service,
        constellation=override.constellation,
        actor=by,
        verb="sleepover.limits_waiver_withdrawn",
        target=override,
        summary=f"Exception to the limits withdrawn ({override.start:%d %b} to "
        f"{override.end:%d %b})",
        children=[override.child_id],
    )
    signals.override_changed.send(sender=LimitOverride, override=override, by=by, withdrawn=True)
    return override


def stand_in_problem(constellation: Constellation, household: Household) -> str:
    """Why a household cannot stand in for the hub, or "" when it can: another
    approved household of the service, with carers and its own beds."""
    if household.service_id != constellation.service_id:
        return "Choose a household of the same fostering service."
    if household.pk == constellation.hub_id:
        return "The hub cannot cover for itself."
    if not Household.objects.approved().filter(pk=household.pk).exists():
        return f"{household} is not an active household of a constellation."
    if not Carer.objects.current().filter(household=household).exists():
        return f"{household} has no carers to answer requests."
    if household.beds < 1:
        return f"{household} has no beds for sleepovers: set its beds first."
    return ""


@transaction.atomic
def arrange_cover(
    constellation: Constellation,
    *,
    by: User,
    stand_in: Household,
    start: date,
    end: date,
    note: str = "",
) -> HubCover:
    """While the hub carers are away, requests from ``start`` to ``end`` go to the
    stand-in, whose carers act as the hub for the constellation's children."""
    _require_manager_of(by, constellation)
    problem = stand_in_problem(constellation, stand_in)
    if problem:
        raise ValidationError({"stand_in": problem})
    access.check_choice(
        access.stand_in_choices(by, constellation),
        stand_in,
        field="stand_in",
        message=access.STAND_IN_MESSAGE,
    )
    _check_period(start, end, what="Cover")
    # One at a time; no_key, so the activity rows that refer to the constellation are
    # not queued behind it (the lock order of services/beds.py).
    Constellation.objects.select_for_update(no_key=True).get(pk=constellation.pk)
    clash = (
        HubCover.objects.overlapping(start, end)
        .filter(constellation=constellation)
        .select_related("stand_in")
        .first()
    )
    if clash:
        raise ValidationError(
            {
                "start": f"{clash.stand_in} already covers from {clash.start:%d %B} "
                f"to {clash.end:%d %B}."
            }
        )
    cover = HubCover(
        constellation=constellation,
        stand_in=stand_in,
        start=start,
        end=end,
        note=note.strip(),
        arranged_by=by,
    )
    cover._history_user = by
    cover.save()
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="hub.cover_arranged",
        target=cover,
        summary=f"{stand_in} covers for the hub from {start:%d %b} to {end:%d %b}",
        household=stand_in,
    )
    signals.cover_changed.send(sender=HubCover, cover=cover, by=by, ended=False)
    return cover


@transaction.atomic
def end_cover(cover: HubCover, *, by: User) -> HubCover:
    """The hub answers again from now: a cover begun before today ends yesterday, one
    that begins today or later is withdrawn. Requests already sent to the stand-in
    stay with it."""
    _require_manager_of(by, cover.constellation)
    cover = (
        HubCover.objects.select_for_update(of=("self",)).select_related("stand_in").get(pk=cover.pk)
    )
    today = timezone.localdate()
    if cover.withdrawn_at is not None or cover.end < today:
        raise ActionRefused("This cover is over already.")
    cover._history_user = by
    if cover.start >= today:
        cover.withdrawn_at, cover.withdrawn_by = timezone.now(), by
        cover.save(update_fields=["withdrawn_at", "withdrawn_by"])
        summary = f"Cover by {cover.stand_in} from {cover.start:%d %b} withdrawn"
    else:
        cover.end = today - timedelta(days=1)
        cover.save(update_fields=["end"])
        summary = f"Cover by {cover.stand_in} ended: the hub answers again"
    record_activity(
        service=cover.constellation.service,
        constellation=cover.constellation,
        actor=by,
        verb="hub.cover_ended",
        target=cover,
        summary=summary,
        household=cover.stand_in_id,
    )
    signals.cover_changed.send(sender=HubCover, cover=cover, by=by, ended=True)
    return cover
