"""The channels a notification leaves by: email, SMS and web push (the app's own
notification centre needs no sending).

``send(notification)`` sends one outbox row on its channel and returns the
provider's reference (or ""). It raises ``PermanentFailure`` when trying again
cannot help (no address, no push subscription left), and any other exception for
a failure worth trying again later (the outbox backs off).

Every message carries the row's subject, body and link, and nothing else: those
hold no child's surname and no health, care or family detail by construction, and
they travel through third parties (mail servers, GOV.UK Notify, push services)."""

from __future__ import annotations

import json
import logging
import uuid
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Channel, PushSubscription
from .preferences import push_configured

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """Sending cannot succeed: the outbox fails the row at once."""


def send(notification) -> str:
    """Send one outbox row on its channel; return the provider's reference or ""."""
    sender = _SENDERS.get(notification.channel)
    if sender is None:
        raise PermanentFailure(f"no channel {notification.channel!r}")
    return sender(notification)


def absolute_link(link: str) -> str:
    """The row's site path as an absolute address on ``SITE_URL``. Anything that is
    not a path of this site (an absolute or protocol-relative URL) becomes the home
    page, so that a message never points elsewhere."""
    link = (link or "").strip()
    if not link.startswith("/") or link.startswith("//"):
        link = "/"
    return settings.SITE_URL.rstrip("/") + link


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


# --- email -------------------------------------------------------------------


def _preferences_url() -> str:
    try:
        return absolute_link(reverse("notifications:preferences"))
    except NoReverseMatch:
        return ""


def send_email(notification) -> str:
    """An email with a text and an HTML part; returns its Message-ID."""
    recipient = notification.recipient
    own = recipient.email if recipient is not None else ""
    address = (own or notification.to_address).strip()
    if not address:
        raise PermanentFailure("no email address")
    context = {
        "subject": notification.subject,
        "body": notification.body,
        "url": absolute_link(notification.link),
        "preferences_url": _preferences_url() if recipient is not None else "",
    }
    message_id = make_msgid(domain=DNS_NAME)
    headers = {
        "Message-ID": message_id,
        # Out-of-office replies and other robots must not answer (RFC 3834).
        "Auto-Submitted": "auto-generated",
    }
    if notification.urgent:
        headers["Importance"] = "high"
        headers["X-Priority"] = "1"
    email = EmailMultiAlternatives(
        # A header with a line break is refused by Django: keep the subject one line.
        subject=_one_line(notification.subject),
        body=render_to_string("notifications/email/message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers=headers,
    )
    email.attach_alternative(
        render_to_string("notifications/email/message.html", context), "text/html"
    )
    email.send(fail_silently=False)
    return message_id


# --- SMS ---------------------------------------------------------------------

# Two concatenated fragments of the GSM 7-bit alphabet hold 306 characters; with a
# character outside it (an emoji, a curly quote) the whole text is sent as UCS-2 and
# two fragments hold only 134.
SMS_LIMIT_GSM = 306
SMS_LIMIT_UCS2 = 134
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")  # each takes two places (an escape and the character)


def _sms_length(text: str) -> tuple[int, int]:
    """The text's length in GSM places and the limit of two fragments for it."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        return sum(2 if c in _GSM_EXTENDED else 1 for c in text), SMS_LIMIT_GSM
    return len(text), SMS_LIMIT_UCS2


def sms_text(body: str, url: str) -> str:
    """The body and the absolute link, the body shortened (with "...") so that the
    whole fits two SMS fragments. The link is never cut: a cut link does not open.
    A link too long to fit with any body is left out."""
    body = _one_line(body)
    suffix = f" {url}" if url else ""
    text = body + suffix
    length, limit = _sms_length(text)
    if length <= limit:
        return text
    if _sms_length(suffix)[0] > limit - 20:
        suffix = ""
    while body and _sms_length(body + "..." + suffix)[0] > limit:
        body = body[:-1]
    return (body.rstrip() + "..." + suffix).strip()


class SMSBackend:
    """Sends one text message. ``send`` returns the provider's reference; it raises
    ``PermanentFailure`` when the provider refuses the message for good, and any
    other exception when it may take it later."""

    def send(self, phone: str, text: str, reference: str) -> str:
        raise NotImplementedError


class ConsoleSMSBackend(SMSBackend):
    """For development and demonstrations: the text goes to the log and one line is
    appended to ``settings.SMS_LOG_FILE`` (tab-separated: time, phone, reference,
    text). Nothing leaves the machine."""

    def send(self, phone: str, text: str, reference: str) -> str:
        local = f"console-{uuid.uuid4().hex[:12]}"
        log.info("SMS %s (%s) to %s: %s", local, reference, phone, text)
        line = "\t".join(
            [timezone.now().isoformat(timespec="seconds"), phone, reference, _one_line(text)]
        )
        path = settings.SMS_LOG_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as file:
            file.write(line + "\n")
        return local


class NotifySMSBackend(SMSBackend):
    """GOV.UK Notify. The template (``NOTIFY_SMS_TEMPLATE_ID``) must be the single
    placeholder ``((body))``. A 400 (an invalid number, a bad template) or 403 (a
    bad key) fails the row for good; 429 (rate limit), 5xx or a network error is
    tried again. Notify's ``reference`` only labels the message: it does not stop a
    second send (the outbox's claim does)."""

    def send(self, phone: str, text: str, reference: str) -> str:
        if not (settings.NOTIFY_API_KEY and settings.NOTIFY_SMS_TEMPLATE_ID):
            raise PermanentFailure("GOV.UK Notify is not configured (NOTIFY_API_KEY, template id)")
        # Imported here: the app runs (with the console backend) without the package.
        import notifications_python_client
        from notifications_python_client.errors import HTTPError

        client = notifications_python_client.NotificationsAPIClient(settings.NOTIFY_API_KEY)
        try:
            response = client.send_sms_notification(
                phone_number=phone,
                template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
                personalisation={"body": text},
                reference=reference,
            )
        except HTTPError as exc:
            if exc.status_code in (400, 403):
                raise PermanentFailure(f"GOV.UK Notify refused the text: {exc}") from exc
            raise
        return str(response["id"])


SMS_BACKENDS = {"console": ConsoleSMSBackend, "notify": NotifySMSBackend}


def sms_backend() -> SMSBackend:
    """The backend named by ``settings.SMS_BACKEND``: "console", "notify", or the
    dotted path of an ``SMSBackend`` class."""
    name = settings.SMS_BACKEND
    if name in SMS_BACKENDS:
        return SMS_BACKENDS[name]()
    if "." in name:
        return import_string(name)()
    raise ImproperlyConfigured(f"SMS_BACKEND {name!r}: use 'console' or 'notify'")


def send_sms(notification) -> str:
    recipient = notification.recipient
    own = recipient.phone if recipient is not None else ""
    phone = (own or notification.to_address).strip()
    if not phone:
        raise PermanentFailure("no phone number")
    text = sms_text(notification.body, absolute_link(notification.link))
    return sms_backend().send(phone, text, f"notification-{notification.pk}")


# --- web push ----------------------------------------------------------------

# How long a push service keeps a message for a phone that is off. A crisis alert
# an hour old is overtaken by the escalation (by text); other news keeps a day.
PUSH_TTL_URGENT = 60 * 60
PUSH_TTL = 24 * 60 * 60
PUSH_TIMEOUT = 10  # seconds per push service: a delivery task has 90 in all
_GONE = (404, 410)


def send_push(notification) -> str:
    """Push to each of the recipient's browsers and phones. A subscription the push
    service no longer knows (404, 410) is deleted. Sent when at least one push
    service took the message; a permanent failure when none is left (or push is
    not configured); otherwise the last error is raised, to try again later."""
    from pywebpush import WebPushException, webpush

    if not push_configured():
        raise PermanentFailure("web push is not configured (no VAPID keys)")
    if notification.recipient_id is None:
        raise PermanentFailure("web push needs an account")
    subscriptions = list(PushSubscription.objects.filter(user_id=notification.recipient_id))
    if not subscriptions:
        raise PermanentFailure("no push subscription")
    data = json.dumps(
        {
            "title": notification.subject,
            "body": notification.body,
            "url": notification.link,
            "tag": notification.key,
            "urgent": notification.urgent,
        },
        # Non-ASCII text as UTF-8, not \u escapes: a push message holds at most 4 KB.
        ensure_ascii=False,
    )
    headers = {"Urgency": "high" if notification.urgent else "normal"}
    ttl = PUSH_TTL_URGENT if notification.urgent else PUSH_TTL
    sent, gone = [], []
    error: Exception | None = None
    for subscription in subscriptions:
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=data,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                # A new dict each time: webpush writes the endpoint's audience into it.
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                ttl=ttl,
                headers=headers,
                timeout=PUSH_TIMEOUT,
            )
        except WebPushException as exc:
            if getattr(exc.response, "status_code", None) in _GONE:
                gone.append(subscription.pk)
            else:
                error = exc
                log.warning(
                    "push to subscription %s failed: %s",
                    subscription.pk,
                    getattr(exc.response, "status_code", None) or exc.message,
                )
        except Exception as exc:  # noqa: BLE001 - a network error: the others may still work
            error = exc
            log.warning("push to subscription %s failed: %s", subscription.pk, type(exc).__name__)
        else:
            sent.append(subscription.pk)
    if gone:
        PushSubscription.objects.filter(pk__in=gone).delete()
        log.info("removed %d push subscription(s) the push service no longer knows", len(gone))
    if sent:
        PushSubscription.objects.filter(pk__in=sent).update(last_sent_at=timezone.now())
        return ""
    if error is not None:
        raise error
    raise PermanentFailure("every push subscription has gone")


_SENDERS = {Channel.EMAIL: send_email, Channel.SMS: send_sms, Channel.PUSH: send_push}
