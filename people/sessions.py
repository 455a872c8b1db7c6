"""How long a sign-in lasts, and what ends it.

* **Idle limit**: liaison workers, fostering managers and administrators, who read
  children's records across a constellation or a service, are signed out after
  ``SESSION_IDLE_MINUTES_STAFF`` minutes (30) without a request.
* **Absolute limit**: everyone is signed out ``SESSION_ABSOLUTE_HOURS_STAFF`` hours
  (10, a working day) after signing in if staff, ``SESSION_ABSOLUTE_DAYS`` days (14)
  if a carer, however active. A carer's phone stays signed in for the night's
  crisis; a lost phone stops being a key within a fortnight.
* **Deactivation** ends every session and API token of the account at once,
  revokes its open invitations, and is written to the audit trail, whichever way
  the account was deactivated (administration site, a service, the shell).

Times are compared as POSIX seconds (no time zone involved).
"""

from __future__ import annotations

import functools
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import signals as auth_signals
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.http import JsonResponse
from django.urls import reverse

from . import throttle

log = logging.getLogger(__name__)

AUTH_AT = "people.auth_at"
SEEN_AT = "people.seen_at"
# Whether the idle limit applies, decided once when the session starts (no query on
# every request; a role gained later applies from the next sign-in).
IS_STAFF = "people.staff"
# The idle clock is written at most this often (seconds), not on every request.
_SEEN_RESOLUTION = 60


def _is_staff(user) -> bool:
    """Liaison workers, fostering managers and administrators (``needs_second_factor``),
    read without leaving the roles cached on ``user``."""
    from .roles import forget_roles, roles_for

    cached_before = hasattr(user, "_mockingbird_roles")
    staff = roles_for(user).needs_second_factor
    if not cached_before:
        forget_roles(user)
    return staff


def limits_for(user, *, is_staff: bool | None = None) -> tuple[int | None, int]:
    """``(idle seconds or None, absolute seconds)`` for ``user``'s sessions
    (``is_staff`` as recorded when the session started, or read now)."""
    if _is_staff(user) if is_staff is None else is_staff:
        return (
            settings.SESSION_IDLE_MINUTES_STAFF * 60,
            settings.SESSION_ABSOLUTE_HOURS_STAFF * 3600,
        )
    return None, settings.SESSION_ABSOLUTE_DAYS * 86400


def expired(request, *, now: float | None = None) -> str | None:
    """Why the signed-in session of ``request`` has ended ("idle" or "absolute"),
    or None while it holds. Starts the clocks of a session that has none yet; the
    idle clock restarts in ``touch``, after the response, unless the request was a
    ``background_poll``."""
    now = time.time() if now is None else now
    session = request.session
    auth_at = session.get(AUTH_AT)
    if not isinstance(auth_at, (int, float)) or not isinstance(session.get(IS_STAFF), bool):
        session[AUTH_AT] = auth_at if isinstance(auth_at, (int, float)) else now
        session[SEEN_AT] = now
        session[IS_STAFF] = _is_staff(request.user)
        return None
    idle, absolute = limits_for(request.user, is_staff=session[IS_STAFF])
    if now - auth_at > absolute:
        return "absolute"
    seen_at = session.get(SEEN_AT, auth_at)
    if idle is not None and isinstance(seen_at, (int, float)) and now - seen_at > idle:
        return "idle"
    return None


def touch(request, *, now: float | None = None) -> None:
    """Restart the idle clock of ``request``'s session: the person did something.
    Not for a ``background_poll`` (a page refreshing itself in an open tab)."""
    if getattr(request, BACKGROUND_POLL, False):
        return
    now = time.time() if now is None else now
    seen_at = request.session.get(SEEN_AT)
    if now - (seen_at if isinstance(seen_at, (int, float)) else 0) >= _SEEN_RESOLUTION:
        request.session[SEEN_AT] = now


BACKGROUND_POLL = "people_background_poll"


def background_poll(view):
    """Mark ``view`` as one that an open page polls on its own (the unread badge, the
    live blocks): its requests do not count as activity, so a tab left open on an
    unattended computer is still signed out after the idle limit."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        setattr(request, BACKGROUND_POLL, True)
        return view(request, *args, **kwargs)

    return wrapped


class SessionLimitsMiddleware:
    """Signs out a session past its idle or absolute limit (``expired``): a page
    goes to the sign-in page saying why, an API or htmx request gets 401."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            why = expired(request)
            if why is not None:
                logout(request)
                text = (
                    f"You were signed out after {settings.SESSION_IDLE_MINUTES_STAFF} "
                    "minutes without activity. Sign in again to go on."
                    if why == "idle"
                    else "Your sign-in has expired. Sign in again to go on."
                )
                if request.path.startswith("/api/") or request.headers.get("HX-Request"):
                    response = JsonResponse({"detail": text}, status=401)
                    if request.headers.get("HX-Request"):
                        response["HX-Redirect"] = reverse(settings.LOGIN_URL)
                    return response
                messages.info(request, text)
                return redirect_to_login(request.get_full_path())
            response = self.get_response(request)
            if hasattr(request, "session") and request.user.is_authenticated:
                touch(request)
            return response
        return self.get_response(request)


# --- signals -----------------------------------------------------------------


def _start_clocks(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[AUTH_AT] = now
        request.session[SEEN_AT] = now
        request.session[IS_STAFF] = _is_staff(user)


def _trust_device(sender, request, response, user, **kwargs) -> None:
    if response is not None:
        throttle.trust_device(request, response, user)


def _remember_was_active(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and "is_active" not in update_fields):
        instance._was_active = None
        return
    instance._was_active = (
        sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    )


def _on_saved(sender, instance, created, **kwargs) -> None:
    if not created and getattr(instance, "_was_active", None) and not instance.is_active:
        user_id = instance.pk
        transaction.on_commit(lambda: end_access(user_id))


def _on_staff_role_saved(sender, instance, created, **kwargs) -> None:
    if instance.ended_on is not None:
        from .services import revoke_invitations

        revoke_invitations(instance.user, by=None, reason="a staff role of theirs ended")


def end_access(user_id: int) -> dict[str, int]:
    """End everything that lets the (deactivated) account ``user_id`` in: its
    sessions, API tokens, open invitations and push subscriptions. Writes one
    ``USER_DEACTIVATED`` audit entry. Returns the counts ended, by kind."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from notifications.models import PushSubscription

    from .audit import record
    from .models import AuditEntry, Invitation, User

    user = User.objects.get(pk=user_id)
    ended = {"sessions": 0, "tokens": 0, "invitations": 0, "push": 0}
    if settings.SESSION_ENGINE in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        from importlib import import_module

        store_class = import_module(settings.SESSION_ENGINE).SessionStore
        key = str(user_id)
        for session in Session.objects.iterator():
            if session.get_decoded().get("_auth_user_id") == key:
                store_class(session.session_key).delete()
                ended["sessions"] += 1
    ended["tokens"], _ = Token.objects.filter(user_id=user_id).delete()

    ended["invitations"] = (
        Invitation.objects.open().filter(user_id=user_id).update(revoked_at=timezone.now())
    )
    ended["push"], _ = PushSubscription.objects.filter(user_id=user_id).delete()
    record(
        AuditEntry.Action.USER_DEACTIVATED,
        subject=user,
        detail="Account deactivated: {sessions} sessions, {tokens} API tokens, "
        "{invitations} open invitations and {push} push subscriptions ended.".format(**ended),
    )
    log.info("account %s deactivated: %s", user_id, ended)
    return ended


def connect() -> None:
    from allauth.account import signals as account_signals

    from .models import StaffRole, User

    uid = "people.sessions"
    auth_signals.user_logged_in.connect(_start_clocks, dispatch_uid=f"{uid}.clocks")
    account_signals.user_logged_in.connect(_trust_device, dispatch_uid=f"{uid}.device")
    pre_save.connect(_remember_was_active, sender=User, dispatch_uid=f"{uid}.was_active")
    post_save.connect(_on_saved, sender=User, dispatch_uid=f"{uid}.deactivated")
    post_save.connect(_on_staff_role_saved, sender=StaffRole, dispatch_uid=f"{uid}.role_ended")
