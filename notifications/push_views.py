"""Web push from the browser's side: recording and removing a subscription (called
by ``static/notifications/push.js`` with the CSRF token in ``X-CSRFToken``), and the
service worker itself, served at the root so that its scope is the whole site."""

from __future__ import annotations

import json
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from . import push

SERVICE_WORKER = "notifications/sw.js"


class BadRequest(Exception):
    """The request cannot be read: answered 400 with the message."""


def _wants_json(request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _signed_in_post(view):
    """Signed in and POST only. A script (asking for JSON) gets a JSON 403 rather
    than the login page; a form is sent to the login page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if _wants_json(request):
                return _json_error("Sign in again, then try once more.", status=403)
            return redirect_to_login(request.get_full_path())
        if request.method != "POST":
            response = _json_error("Use POST.", status=405)
            response["Allow"] = "POST"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def _subscription_fields(request) -> dict:
    """The endpoint and keys, from the JSON of ``PushSubscription.toJSON()``
    ({"endpoint", "keys": {"p256dh", "auth"}}) or from form fields (endpoint,
    p256dh, auth)."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The request is not valid JSON.") from None
        if not isinstance(data, dict):
            raise BadRequest("Send the browser's push subscription as a JSON object.")
        keys = data.get("keys") or {}
        if not isinstance(keys, dict):
            raise BadRequest("The subscription's keys must be an object with p256dh and auth.")
        return {
            "endpoint": data.get("endpoint"),
            "p256dh": keys.get("p256dh"),
            "auth": keys.get("auth"),
        }
    return {
        "endpoint": request.POST.get("endpoint"),
        "p256dh": request.POST.get("p256dh") or request.POST.get("keys[p256dh]"),
        "auth": request.POST.get("auth") or request.POST.get("keys[auth]"),
    }


@_signed_in_post
def subscribe(request):
    """Turn push on for this browser: 200 with {"subscribed": true}, or 400 with
    {"error": ...} saying what is wrong with the subscription."""
    try:
        fields = _subscription_fields(request)
        push.subscribe(request.user, user_agent=request.headers.get("User-Agent", ""), **fields)
    except BadRequest as exc:
        return _json_error(str(exc))
    except ValidationError as exc:
        return _json_error(" ".join(exc.messages))
    return JsonResponse(
        {"subscribed": True, "message": "Push notifications are on for this browser."}
    )


@_signed_in_post
def unsubscribe(request):
    """Turn push off for this browser (only the user's own subscription): 200 with
    {"subscribed": false, "removed": bool}, or 400 without an endpoint."""
    try:
        endpoint = _subscription_fields(request)["endpoint"]
    except BadRequest as exc:
        return _json_error(str(exc))
    if not isinstance(endpoint, str) or not endpoint.strip():
        return _json_error("The subscription has no endpoint.")
    removed = push.unsubscribe(request.user, endpoint)
    return JsonResponse(
        {
            "subscribed": False,
            "removed": removed,
            "message": "Push notifications are off for this browser.",
        }
    )


def _service_worker_source() -> bytes:
    found = finders.find(SERVICE_WORKER)
    if found:
        return Path(found).read_bytes()
    fallback = Path(settings.BASE_DIR) / "static" / SERVICE_WORKER
    if fallback.is_file():
        return fallback.read_bytes()
    if staticfiles_storage.exists(SERVICE_WORKER):  # a deployment with collected files only
        with staticfiles_storage.open(SERVICE_WORKER) as file:
            return file.read()
    raise Http404("no service worker")


@require_safe
def service_worker(request):
    """The service worker at /sw.js, so that it may control the whole site. Never
    cached without a check: a fixed worker reaches every browser at once."""
    response = HttpResponse(
        _service_worker_source(), content_type="application/javascript; charset=utf-8"
    )
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "public, no-cache"  # the same script for everyone
    return response
