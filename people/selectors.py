"""The read side of people: the audit trail as the ``/audit/`` page and its CSV read it."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from constellation.clock import LONDON

from .models import AuditEntry


@dataclass(frozen=True)
class AuditFilters:
    """What the reader asked for; every field optional. ``since`` and ``until`` are
    London dates, both included."""

    action: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None
    text: str = ""


def london_midnight(day: date) -> datetime:
    """The first moment of ``day`` in London, aware (midnight exists every day there:
    the clocks change at 01:00 and 02:00)."""
    return datetime.combine(day, time.min, tzinfo=LONDON)


def audit_entries_for(user, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    """The audit entries ``user`` may read (``AuditEntry.objects.visible_to``: a
    superuser all, a manager or administrator only their own fostering service's),
    narrowed by ``filters`` and newest first, with the people and service fetched in
    the same query.

    ``action`` must be one of ``AuditEntry.Action`` (the form checks it);
    ``actor`` matches part of the actor's email address, first or last name;
    ``since``/``until`` are London calendar days, both included; ``text`` matches part
    of the target's label or the detail. Who may open the page at all is
    ``people.access.may_read_audit``."""
    filters = filters or AuditFilters()
    entries = AuditEntry.objects.visible_to(user)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.actor:
        words = filters.actor.split()
        for word in words:
            entries = entries.filter(
                Q(actor__email__icontains=word)
                | Q(actor__first_name__icontains=word)
                | Q(actor__last_name__icontains=word)
            )
    if filters.since:
        entries = entries.filter(at__gte=london_midnight(filters.since))
    if filters.until:
        entries = entries.filter(at__lt=london_midnight(filters.until + timedelta(days=1)))
    if filters.text:
        entries = entries.filter(
            Q(target_label__icontains=filters.text) | Q(detail__icontains=filters.text)
        )
    return entries.select_related("actor", "subject", "service").order_by("-at", "-id")
