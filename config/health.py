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


@never_cache
@require_GET
def healthz(request):
    database = _database()
    body = {
        "status": "ok" if database["ok"] else "error",
        "database": database,
        "broker": _broker(),
        "worker": _worker() if database["ok"] else {"last_seen": None},
    }
    return JsonResponse(body, status=200 if database["ok"] else 503)
