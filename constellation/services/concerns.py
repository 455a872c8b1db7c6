"""Concerns: "this placement may be at risk" (DOMAIN.md workflow 5; issue 11).

A concern is opened by one of the rules below, inside the transaction of its
cause, or by hand; it alerts the constellation's liaison workers at once through
the outbox, and stays open until a liaison worker records what was done.

The rules, one function each:

- a check-in at high concern (``contact.record_check_in``);
- three or more crisis requests from one household within 30 days (720 hours
  before the newest request's moment), not counting those raised before the last
  such concern was closed: ``crisis_requested``;
- a crisis request declined, expired unanswered, or passed beyond the hub by the
  escalation (one concern per request): ``crisis_not_met``;
- a temporary placement at the hub arranged after a disruption:
  ``temporary_placement_arranged``.

While a rule's concern is open for a household, the same rule adds nothing new
(a database constraint, ``one_open_concern_per_rule``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from people.models import User

from ..models import Child, Concern, Constellation, Household
from . import ActionRefused, current_constellation_of, record_activity

CRISES_WINDOW = timedelta(days=30)
CRISES_THRESHOLD = 3
DESCRIPTION_MAX = 1000
NOTE_MAX = 2000
# A placement stability meeting recorded on closing: within a year either side.
MEETING_RANGE = timedelta(days=366)


def _household_in_words(household: Household) -> str:
    """How an alert names a household: by its carers' first names, never by the
    household's name, which is usually a surname a placed child may share (kinship
    care), and alerts travel by SMS and email (DOMAIN.md "What must never happen")."""
    from ..models import Carer

    names = [
        c.user.first_name.strip()
        for c in Carer.objects.current()
        .filter(household=household)
        .select_related("user")
        .order_by("role", "pk")
        if c.user.first_name.strip()
    ]
    if not names:
        return "a household"
    return f"{' and '.join(names)}'s household"


def _alert_liaison(concern: Concern, *, now: datetime) -> None:
    """Write the liaison workers' alert in the outbox (same transaction), once per
    concern (keyed by it), never to the person who opened it. The words name the
    household by its carers' first names, the constellation and the rule: never a
    child's name, the household's name or a note."""
    from notifications.models import Kind
    from notifications.services.events import liaison_workers_of
    from notifications.services.outbox import Message, notify

    notify(
        liaison_workers_of(concern.constellation_id),
        Message(
            kind=Kind.CONCERN,
            subject="A placement may be at risk",
            body=f"A concern was opened about {_household_in_words(concern.household)} in "
            f"{concern.constellation}: {concern.get_source_display().lower()}. Open the app "
            "to see it and record what was done.",
            link=concern.get_absolute_url(),
            key=f"concern:{concern.pk}",
            target=concern,
        ),
        service=concern.constellation.service,
        exclude=concern.opened_by,
        now=now,
    )


@transaction.atomic
def open_concern(
    household: Household,
    *,
    source: str,
    by: User | None = None,
    trigger=None,
    reasons: Iterable[str] = (),
    description: str = "",
    children: Iterable[Child] = (),
    constellation: Constellation | None = None,
    now: datetime | None = None,
) -> Concern | None:
    """Open a concern about ``household`` (in ``constellation``, by default the one it
    is in now) and alert the liaison workers. Returns the concern, or None when the
    household is in no constellation, or when ``source`` is a rule whose concern is
    already open for the household (the rule fired again)."""
    now = now or timezone.now()
    constellation = constellation or current_constellation_of(household)
    if constellation is None:
        return None
    if (
        source != Concern.Source.BY_HAND
        and Concern.objects.open().filter(household=household, source=source).exists()
    ):
        return None
    try:
        with transaction.atomic():
            concern = Concern.objects.create(
                constellation=constellation,
                household=household,
                source=source,
                reasons=sorted(set(reasons)),
                description=description.strip()[:DESCRIPTION_MAX],
                trigger_type=ContentType.objects.get_for_model(trigger) if trigger else None,
                trigger_id=trigger.pk if trigger else None,
                opened_at=now,
                opened_by=by,
            )
    except IntegrityError:  # the same rule, at the same moment, in another transaction
        return None
    children = list(children)
    if children:
        concern.children.set(children)
    record_activity(
        service=constellation.service,
        constellation=constellation,
        actor=by,
        verb="concern.opened",
        target=concern,
        household=household,
        children=children,
        summary=f"Concern opened about {household}: {concern.get_source_display().lower()}",
        payload={"source": source, "reasons": concern.reasons},
    )
    _alert_liaison(concern, now=now)
    return concern


@transaction.atomic
def open_concern_by_hand(
    household: Household,
    *,
    by: User,
    reasons: Iterable[str],
    description: str = "",
    children: Iterable[Child] = (),
    now: datetime | None = None,
) -> Concern:
    """A hub carer or liaison worker opens a concern with the reasons a placement
    stability meeting would name (``Concern.Reason``); at least one, and a
    description when "something else" is among them. The children must be placed
    in the household. Raises ActionRefused otherwise, or when the household is in
    no constellation."""
    reasons = list(dict.fromkeys(reasons))
    if not reasons:
        raise ActionRefused("Choose at least one reason.")
    if any(r not in Concern.Reason.values for r in reasons):
        raise ActionRefused("Choose reasons from the list.")
    if Concern.Reason.OTHER in reasons and not description.strip():
        raise ActionRefused("Describe the concern when the reason is something else.")
    if len(description) > DESCRIPTION_MAX:
        raise ActionRefused(f"The description is at most {DESCRIPTION_MAX} characters.")
    children = list(children)
    if any(c.household_id != household.pk for c in children):
        raise ActionRefused("Choose children placed in this household.")
    concern = open_concern(
        household,
        source=Concern.Source.BY_HAND,
        by=by,
        reasons=reasons,
        description=description,
        children=children,
        now=now,
    )
    if concern is None:
        raise ActionRefused(f"{household} is not in a constellation now.")
    return concern


@transaction.atomic
def close_concern(
    concern: Concern,
    *,
    by: User,
    note: str,
    stability_meeting_on: date | None = None,
    now: datetime | None = None,
) -> Concern:
    """The liaison worker records what was done, and the concern closes. A note is
    required; a placement stability meeting may be recorded with its date (within a
    year either side of today). Raises ActionRefused when closed already, without a
    note, or with a note too long or a date out of range."""
    now = now or timezone.now()
    note = note.strip()
    if not note:
        raise ActionRefused("Record what was done before closing the concern.")
    if len(note) > NOTE_MAX:
        raise ActionRefused(f"The note is at most {NOTE_MAX} characters.")
    today = timezone.localdate(now)
    if stability_meeting_on is not None and abs(stability_meeting_on - today) > MEETING_RANGE:
        raise ActionRefused("The placement stability meeting must be within a year of today.")
    concern = (
        Concern.objects.select_for_update(of=("self",))
        .select_related("constellation__service", "household")
        .get(pk=concern.pk)
    )
    if concern.status != Concern.Status.OPEN:
        raise ActionRefused("This concern is already closed.")
    concern.status = Concern.Status.CLOSED
    concern.closed_at = now
    concern.closed_by = by
    concern.action_note = note
    concern.stability_meeting_on = stability_meeting_on
    concern._history_user = by
    concern.save(
        update_fields=["status", "closed_at", "closed_by", "action_note", "stability_meeting_on"]
    )
    record_activity(
        service=concern.constellation.service,
        constellation=concern.constellation,
        actor=by,
        verb="concern.closed",
        target=concern,
        household=concern.household,
        children=concern.children.all(),
        summary=f"Concern about {concern.household} closed"
        + (" after a placement stability meeting" if stability_meeting_on else ""),
    )
    return concern


# --- the rules fed by sleepovers -------------------------------------------------------


def crisis_requested(request, *, now: datetime | None = None) -> Concern | None:
    """A crisis request was raised: when it makes three or more from its household
    within the 30 days (720 hours, whatever the clocks do) up to its own moment
    (``created_at``; the window excludes its start: requests exactly 720 hours apart
    are not within it), open a concern. Requests raised before the household's last
    concern of this rule was closed are not counted again: the liaison worker has
    acted on them, and a new concern needs three new requests."""
    from sleepovers.models import Kind, Request

    moment = request.created_at
    since = moment - CRISES_WINDOW
    closed = (
        Concern.objects.filter(
            household_id=request.household_id,
            source=Concern.Source.REPEATED_CRISES,
            status=Concern.Status.CLOSED,
            closed_at__lte=moment,
        )
        .order_by("-closed_at")
        .values_list("closed_at", flat=True)
        .first()
    )
    crises = Request.objects.filter(
        household_id=request.household_id,
        kind=Kind.CRISIS,
        created_at__gt=since,
        created_at__lte=moment,
    )
    if closed is not None and closed >= since:
        crises = crises.filter(created_at__gt=closed)
    count = crises.count()
    if count < CRISES_THRESHOLD:
        return None
    return open_concern(
        request.household,
        source=Concern.Source.REPEATED_CRISES,
        trigger=request,
        description=f"{count} crisis requests in 30 days.",
        children=request.children.all(),
        constellation=request.constellation,
        now=now,
    )


def crisis_not_met(request, *, why: str, now: datetime | None = None) -> Concern | None:
    """A crisis request the hub did not meet (declined, expired, or escalated past the
    hub carers for want of an answer): open a concern saying ``why``. One crisis
    request opens at most one such concern: once the escalation opened one, its later
    expiry adds nothing, even when the first was closed meanwhile."""
    already = Concern.objects.filter(
        source=Concern.Source.CRISIS_NOT_MET,
        trigger_type=ContentType.objects.get_for_model(request),
        trigger_id=request.pk,
    )
    if already.exists():
        return None
    return open_concern(
        request.household,
        source=Concern.Source.CRISIS_NOT_MET,
        trigger=request,
        description=why,
        children=request.children.all(),
        constellation=request.constellation,
        now=now,
    )


def temporary_placement_arranged(request, *, by: User | None) -> Concern | None:
    """A child comes to the hub for a temporary placement after a disruption."""
    return open_concern(
        request.household,
        source=Concern.Source.DISRUPTION,
        by=by,
        trigger=request,
        description="A temporary placement at the hub was arranged after a disruption.",
        children=request.children.all(),
        constellation=request.constellation,
    )


def on_request_changed(sender, request, before: str, by=None, **kwargs) -> None:
    """Receiver of ``sleepovers.signals.request_changed`` (inside the transaction)."""
    from sleepovers.models import Kind, Status

    if request.kind != Kind.CRISIS:
        return
    if before == "":
        crisis_requested(request)
    elif request.status == Status.DECLINED:
        crisis_not_met(request, why="The hub declined a crisis request.")
    elif request.status == Status.EXPIRED:
        crisis_not_met(request, why="A crisis request expired without an answer.")
