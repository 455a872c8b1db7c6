"""Login throttling that slows an attacker without locking out the owner.

Three limits guard the password form (``settings.LOGIN_THROTTLE``, rates in allauth's
"amount/period" notation, e.g. ``5/5m``):

* **per address** (``ip``): every client address gets a few attempts a minute
  (allauth's ``login_failed`` rate, kept per IP only);
* **per account from untrusted browsers** (``account``): failed passwords typed for
  one account from browsers it has never signed in from share one small budget.
  When it runs out the account is *locked for untrusted browsers* for the period,
  and the lockout is written to the audit trail once per period;
* **per trusted browser** (``device``): a browser the owner has signed in from
  before carries a signed *trusted-device cookie* (OWASP's "device cookies"). Its
  attempts are counted on a budget of its own, so no amount of guessing from
  elsewhere keeps the owner out of their own phone.

A successful sign-in never counts against a budget. The owner on a new browser
during an attack signs in with a code sent by email ("Email me a sign-in code",
allauth's login by code), which the account lockout does not touch.

The cookie names no one: it holds a random device id and, per account, an HMAC of
the account's id and its password hash, so a password change ends the trust.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from allauth.core.internal import ratelimit
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac

COOKIE_NAME = "mb_device"
_SALT = "people.trusted-device"
_APP = "people.login"
_MAX_ACCOUNTS = 5  # accounts remembered on one shared device


def _limits() -> dict[str, str]:
    return settings.LOGIN_THROTTLE


def _tag(user) -> str:
    return salted_hmac(_SALT, f"{user.pk}:{user.password}").hexdigest()[:32]


def read_device(request) -> dict:
    """The trusted-device cookie of ``request`` as ``{"d": device id, "t": [tags]}``,
    or an empty dict when absent, expired or tampered with."""
    raw = request.COOKIES.get(COOKIE_NAME)
    if not raw:
        return {}
    try:
        value = signing.loads(raw, salt=_SALT, max_age=settings.LOGIN_TRUSTED_DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return {}
    if not isinstance(value, dict) or not isinstance(value.get("d"), str):
        return {}
    tags = value.get("t")
    return {
        "d": value["d"],
        "t": [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
    }


def is_trusted(request, user) -> bool:
    """True when ``request`` comes from a browser ``user`` has signed in from with
    their current password."""
    if user is None:
        return False
    tag = _tag(user)
    return any(constant_time_compare(tag, t) for t in read_device(request).get("t", []))


def trust_device(request, response, user) -> None:
    """Remember on ``response`` that ``user`` signed in from this browser (called on
    every successful sign-in). Keeps the newest few accounts of a shared device."""
    device = read_device(request)
    device_id = device.get("d") or secrets.token_urlsafe(16)
    tag = _tag(user)
    tags = [tag] + [t for t in device.get("t", []) if t != tag]
    response.set_cookie(
        COOKIE_NAME,
        signing.dumps({"d": device_id, "t": tags[:_MAX_ACCOUNTS]}, salt=_SALT),
        max_age=settings.LOGIN_TRUSTED_DEVICE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@dataclass
class Attempt:
    """One password attempt's use of the budgets; rolled back when it succeeds."""

    usages: list = field(default_factory=list)

    def rollback(self) -> None:
        for usage in self.usages:
            usage.rollback()


class LockedOut(Exception):
    """The account is locked for untrusted browsers (or this browser's own budget is
    spent). ``user`` is the account, or None when no account has that email."""

    def __init__(self, user, *, trusted: bool):
        super().__init__("too many failed sign-in attempts")
        self.user = user
        self.trusted = trusted


def consume(request, *, email: str, user) -> Attempt:
    """Count one password attempt for ``email`` (``user`` is its account or None)
    from ``request``. Returns the usage to roll back on success; raises
    ``LockedOut`` when the account's budget for this browser is spent. The address
    limit is allauth's and is checked before this."""
    key = (email or "").strip().lower()
    device = read_device(request)
    if user is not None and is_trusted(request, user):
        usage = ratelimit.consume(
            request,
            app=_APP,
            action="device",
            key=f"{device['d']}:{user.pk}",
            config=_limits(),
        )
        if not usage:
            raise LockedOut(user, trusted=True)
        return Attempt([usage])
    if user is not None:
        key = f"user:{user.pk}"  # every address of one account shares its budget
    usage = ratelimit.consume(request, app=_APP, action="account", key=key, config=_limits())
    if not usage:
        raise LockedOut(user, trusted=False)
    return Attempt([usage])


def lockout_minutes() -> int:
    """How long an account stays locked for untrusted browsers, in minutes."""
    return max(1, int(ratelimit.parse_rate(_limits()["account"]).duration) // 60)


def first_lockout_of_period(email: str, user=None) -> bool:
    """True once per lockout period of an account (``user``, or the address typed when
    no account has it), so that a lockout is written to the audit trail once rather
    than at every refused attempt."""
    rate = ratelimit.parse_rate(_limits()["account"])
    name = f"user:{user.pk}" if user is not None else (email or "").strip().lower()
    key = "people:lockout:" + salted_hmac(_SALT, name).hexdigest()
    return cache.add(key, True, timeout=int(rate.duration))
