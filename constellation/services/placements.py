"""Access that follows placements (issue 11): when a child moves on, the former
household's grant (written by ``move_child``) ends after
``settings.FORMER_CARER_ACCESS_DAYS`` days. The visibility rules read the grant's
last day themselves, so access ends on time even when this task runs late; the
task records the end in the activity record (the constellation's access log)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..models import FormerHouseholdAccess
from . import current_constellation_of, record_activity


def end_former_access(*, now: datetime | None = None) -> int:
    """End every grant whose last day has passed (London date), each once (a
    conditional update), writing "access.ended" to the activity record. Returns
    how many ended."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ended = 0
    due = FormerHouseholdAccess.objects.filter(ends_on__lt=today, ended_at__isnull=True)
    for grant in due.select_related("household__service", "child"):
        with transaction.atomic():
            claimed = FormerHouseholdAccess.objects.filter(pk=grant.pk, ended_at=None).update(
                ended_at=now
            )
            if not claimed:
                continue
            record_activity(
                service=grant.household.service,
                constellation=current_constellation_of(grant.household),
                actor=None,
                verb="access.ended",
                target=grant,
                household=grant.household,
                children=[grant.child_id],
                summary=f"{grant.household} no longer sees {grant.child.known_as}'s full record "
                f"(moved on {grant.moved_on:%-d %B})",
            )
            ended += 1
    return ended
