"""What /healthz reports of the background work: the worker's last heartbeat and
the age of the oldest notification that is due and not sent."""

from datetime import datetime

from django.utils import timezone

from ..models import Heartbeat, Notification
from .outbox import CLAIM_TIMEOUT


def record_heartbeat(name: str = "worker") -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


def last_heartbeat(name: str = "worker") -> datetime | None:
    beat = Heartbeat.objects.filter(name=name).first()
    return beat.at if beat else None


def oldest_due_seconds(now: datetime | None = None) -> int | None:
    """Seconds the longest-waiting unsent notification has been kept back: for a
    row never tried, since it fell due; for a row already tried and waiting for its
    next attempt (a provider failing), since it was written, so that a provider
    that keeps failing shows. None when nothing waits. Rows given up as failed are
    counted by ``failed_since``."""
    now = now or timezone.now()
    waiting = (Notification.Status.PENDING, Notification.Status.SENDING)
    never_tried = (
        Notification.objects.due(now, claim_timeout=CLAIM_TIMEOUT)
        .filter(attempts=0)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    retrying = (
        Notification.objects.filter(status__in=waiting, attempts__gt=0)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    moments = [m for m in (never_tried, retrying) if m is not None]
    if not moments:
        return None
    return max(0, int((now - min(moments)).total_seconds()))


def failed_since(since: datetime) -> int:
    """How many notifications were given up as failed among those written since
    ``since`` (listed in the admin, to be sent again)."""
    return Notification.objects.filter(
        status=Notification.Status.FAILED, created_at__gte=since
    ).count()
