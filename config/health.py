from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def _broker() -> dict:
    url = settings.CELERY_BROKER_URL
    kind = url.split("://", 1)[0]
    try:
        with Connection(
            url,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "kind": kind, "error": exc.__class__.__name__}
    return {"ok": True, "kind": kind}


def _worker() -> dict:
    from notifications.services import last_heartbeat

    try:
        at = last_heartbeat("worker")
    except Exception:  # noqa: BLE001 - the database check reports the cause
        return {"last_seen": None}
    if at is None:
        return {"last_seen": None}
    return {"last_seen": at.isoformat(), "seconds_ago": int((timezone.now() - at).total_seconds())}


def _notifications() -> dict:
    """The age of the oldest notification that is due and not sent: over
    ``NOTIFICATIONS_MAX_DELAY_SECONDS`` (5 minutes) alerts are not going out."""
    from notifications.services.health import failed_since, oldest_due_seconds

    try:
        waited = oldest_due_seconds()
        failed = failed_since(timezone.now() - timedelta(days=1))
    except Exception:  # noqa: BLE001 - the database check reports the cause
        return {"ok": False, "oldest_due_seconds": None}
    limit = settings.NOTIFICATIONS_MAX_DELAY_SECONDS
    return {
        "ok": waited is None or waited <= limit,
        "oldest_due_seconds": waited,
        "limit_seconds": limit,
        "failed_last_day": failed,
    }


@never_cache
@require_GET
def healthz(request):
    """The database, the broker, the worker's last heartbeat and the outbox. 503
    when the database is down or a due notification has waited over 5 minutes.
    ``?scope=web`` judges the web process alone (the database): the container's own
    health check, so that a backlog of alerts never keeps the worker from starting."""
    database = _database()
    notifications = _notifications() if database["ok"] else {"ok": False}
    web_only = request.GET.get("scope") == "web"
    healthy = database["ok"] and (web_only or notifications["ok"])
    body = {
        "status": "ok" if healthy else "error",
        "database": database,
        "broker": _broker(),
        "worker": _worker() if database["ok"] else {"last_seen": None},
        "notifications": notifications,
    }
    return JsonResponse(body, status=200 if healthy else 503)
