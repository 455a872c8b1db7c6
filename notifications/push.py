"""Web push subscriptions: the browsers and phones where a user allowed push.

One home for recording and removing them; the views in ``push_views`` and the
``push`` channel (``channels.send_push``, which deletes the ones a push service no
longer knows) are the only other code that touches ``PushSubscription``."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from people.models import User

from .models import PushSubscription

log = logging.getLogger(__name__)

MAX_ENDPOINT = 600
# RFC 8291: the browser's key is an uncompressed P-256 point (65 bytes, starting
# 0x04) and the authentication secret is 16 bytes, both base64url.
P256DH_BYTES = 65
AUTH_BYTES = 16
# Each notification is pushed to every subscription of its recipient: keep the
# newest few (a phone, a laptop, a work computer...), so one user's many browsers
# cannot slow every delivery.
MAX_PER_USER = 10

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_https = URLValidator(schemes=["https"])


def _validate_endpoint(endpoint) -> str:
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ValidationError("The subscription has no endpoint.", code="endpoint")
    endpoint = endpoint.strip()
    if len(endpoint) > MAX_ENDPOINT:
        raise ValidationError(
            f"The endpoint is longer than {MAX_ENDPOINT} characters.", code="endpoint"
        )
    try:
        _https(endpoint)
    except ValidationError:
        raise ValidationError(
            "The endpoint must be an https:// address of a push service.", code="endpoint"
        ) from None
    # The server posts to this address: never to an address on our own network.
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").rstrip(".")
    try:
        ipaddress.ip_address(host)
        is_ip = True
    except ValueError:
        is_ip = False
    if is_ip or "." not in host or host.endswith((".local", ".internal", ".localhost")):
        raise ValidationError("The endpoint is not the address of a push service.", code="endpoint")
    if parts.port not in (None, 443) or parts.username or parts.password:
        raise ValidationError("The endpoint is not the address of a push service.", code="endpoint")
    return endpoint


def _validate_key(value, *, name: str, size: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"The subscription has no {name} key.", code=name)
    value = value.strip()
    # A base64url string of ``size`` bytes has at most 4 * ceil(size / 3) characters.
    if len(value) > 4 * -(-size // 3) or not _BASE64URL.match(value):
        raise ValidationError(f"The {name} key is not a base64url string.", code=name)
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError(f"The {name} key is not a base64url string.", code=name) from None
    if len(raw) != size or (name == "p256dh" and raw[0] != 0x04):
        raise ValidationError(f"The {name} key is not the key a browser sends.", code=name)
    return value.rstrip("=")


def subscribe(
    user: User, *, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Record that ``user`` allowed push in a browser (the fields of the browser's
    ``PushSubscription.toJSON()``), and return the subscription.

    Refused with a ``ValidationError`` (its message says why, for the person): an
    endpoint that is not an https URL of a push service (an IP address, a local
    name or another port is refused: the server posts to it) or longer than 600
    characters; a ``p256dh`` key that is not a base64url P-256 public key (65
    bytes) or an ``auth`` secret that is not base64url of 16 bytes.

    Subscribing the same endpoint again updates its keys (idempotent). An endpoint
    stored for another user now belongs to ``user``: the browser is theirs now, and
    the previous user stops receiving pushes there. A user keeps at most
    ``MAX_PER_USER`` subscriptions; the oldest go first."""
    endpoint = _validate_endpoint(endpoint)
    p256dh = _validate_key(p256dh, name="p256dh", size=P256DH_BYTES)
    auth = _validate_key(auth, name="auth", size=AUTH_BYTES)
    user_agent = " ".join(str(user_agent or "").split())[:200]
    now = timezone.now()
    with transaction.atomic():
        subscription, created = PushSubscription.objects.select_for_update().get_or_create(
            endpoint=endpoint,
            defaults={
                "user": user,
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": user_agent,
                "created_at": now,
            },
        )
        if not created:
            if subscription.user_id != user.pk:
                log.info(
                    "push subscription %s moved from user %s to user %s",
                    subscription.pk,
                    subscription.user_id,
                    user.pk,
                )
                subscription.user = user
                subscription.created_at = now
                subscription.last_sent_at = None
            subscription.p256dh = p256dh
            subscription.auth = auth
            subscription.user_agent = user_agent or subscription.user_agent
            subscription.save()
        keep = PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk")
        surplus = list(keep.values_list("pk", flat=True)[MAX_PER_USER:])
        if surplus:
            PushSubscription.objects.filter(pk__in=surplus).delete()
    return subscription


def unsubscribe(user: User, endpoint: str) -> bool:
    """Forget ``user``'s own subscription at ``endpoint`` (the browser turned push
    off). Another user's subscription is never touched. Returns whether one was
    removed."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        return False
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint.strip()).delete()
    return deleted > 0
