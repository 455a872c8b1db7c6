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
    """Seconds the oldest due, unsent notification has waited past its due time
    (None when nothing waits). Failed rows are not counted: the admin lists them."""
    now = now or timezone.now()
    oldest = (
        Notification.objects.due(now, claim_timeout=CLAIM_TIMEOUT)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    if oldest is None:
        return None
    return max(0, int((now - oldest).total_seconds()))
