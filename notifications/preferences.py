"""Which channels a user's notifications of each kind take, and their quiet hours.

One home for these choices: the outbox (``services.outbox.notify``), the
preferences page and form, the API and the home page's warning all read them here.
The in-app notification is always written: the notification centre is the record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Channel, Kind, Preferences

APP, PUSH, SMS, EMAIL = Channel.IN_APP, Channel.PUSH, Channel.SMS, Channel.EMAIL
# Channels a user may switch on or off (in the app is always on).
CHOOSABLE = (PUSH, SMS, EMAIL)

# Defaults, as a user would expect: what wakes someone is on for crises; what is
# only good to know goes to the app and email; digests by email.
DEFAULTS: dict[str, tuple[str, ...]] = {
    Kind.CRISIS: (PUSH, SMS, EMAIL),
    Kind.ESCALATION: (PUSH, SMS, EMAIL),
    Kind.CRISIS_SEEN: (PUSH, SMS),
    Kind.REQUEST: (PUSH, EMAIL),
    Kind.ANSWER: (PUSH, EMAIL),
    Kind.REQUEST_CHANGED: (PUSH, EMAIL),
    Kind.STAY_TOMORROW: (PUSH,),
    Kind.UNANSWERED: (PUSH, EMAIL),
    Kind.APPROVAL: (EMAIL,),
    Kind.CRISIS_APPROVAL: (PUSH, SMS, EMAIL),
    Kind.APPROVAL_DECIDED: (EMAIL,),
    Kind.APPROVALS_WAITING: (EMAIL,),
    Kind.REVIEW: (EMAIL,),
    Kind.COVER: (EMAIL,),
    Kind.LIMITS: (),
    Kind.DIGEST: (EMAIL,),
    # The calendar: a change today or tomorrow is worth a push (phone calendars
    # refresh subscribed feeds only every 8-24 hours).
    Kind.EVENT_CHANGED: (PUSH, EMAIL),
    Kind.EVENT_REMINDER: (PUSH, EMAIL),
    Kind.EVENT_PLACE: (PUSH, EMAIL),
    Kind.CALENDAR_MONTH: (EMAIL,),
    # Regular contact (issue 11): a placement at risk reaches the liaison worker at once.
    Kind.CONCERN: (PUSH, EMAIL),
    Kind.CONTACT_DUE: (PUSH,),
}

# Kinds that ignore quiet hours: a crisis cannot wait for the morning.
URGENT_KINDS = frozenset({Kind.CRISIS, Kind.ESCALATION, Kind.CRISIS_SEEN, Kind.CRISIS_APPROVAL})


def push_configured() -> bool:
    """Web push needs the service's VAPID keys (from the environment)."""
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


@dataclass(frozen=True)
class Choices:
    """A user's choices, read once: ``channels[kind]`` is a tuple of channel values
    (not counting the app); quiet hours are Europe/London wall-clock times or None."""

    channels: dict[str, tuple[str, ...]]
    quiet_from: time | None
    quiet_until: time | None

    def wants(self, kind: str, channel: str) -> bool:
        return channel == APP or channel in self.channels.get(kind, ())

    def quiet_end(self, now: datetime) -> datetime | None:
        """If ``now`` is within the quiet hours, the aware moment they end; else None.
        Quiet hours may run over midnight (22:00 to 07:00). Equal ends mean none."""
        start, end = self.quiet_from, self.quiet_until
        if start is None or end is None or start == end:
            return None
        local = timezone.localtime(now)
        at = local.time().replace(tzinfo=None)
        inside = (start <= at < end) if start < end else (at >= start or at < end)
        if not inside:
            return None
        day = local.date() if at < end else local.date() + timedelta(days=1)
        # Wall-clock end, localised: on a clock-change day the hour is still right.
        # An end in the hour the clocks go back happens twice: the one still to come.
        zone = timezone.get_current_timezone()
        wall = datetime.combine(day, end)
        first = wall.replace(tzinfo=zone)
        return first if first > now else wall.replace(tzinfo=zone, fold=1)


def choices_for(user) -> Choices:
    """The user's choices with the defaults filled in. One query (none when the
    user's preferences were prefetched as ``notification_preferences``)."""
    try:
        prefs = user.notification_preferences
    except Preferences.DoesNotExist:
        prefs = None
    chosen = dict(DEFAULTS)
    if prefs is not None:
        for kind, channels in (prefs.channels or {}).items():
            if kind in DEFAULTS and isinstance(channels, list):
                chosen[kind] = tuple(c for c in channels if c in CHOOSABLE)
    return Choices(
        channels=chosen,
        quiet_from=prefs.quiet_from if prefs else None,
        quiet_until=prefs.quiet_until if prefs else None,
    )


def crisis_channels_working(user) -> list[str]:
    """The channels that would wake this user for a crisis now: push to a subscribed
    browser (when the service has VAPID keys) and SMS to their phone, as chosen for
    crisis alerts. Email does not wake anyone at 2 a.m. Empty means the home page
    warns them (issue 9)."""
    chosen = choices_for(user)
    working = []
    if chosen.wants(Kind.CRISIS, PUSH) and push_configured() and user.push_subscriptions.exists():
        working.append(PUSH)
    if chosen.wants(Kind.CRISIS, SMS) and user.phone.strip():
        working.append(SMS)
    return working


PHONE_DIGITS = (10, 15)


def clean_phone(value: str) -> str:
    """A phone number for text messages: digits with an optional leading +, spaces
    allowed; 10 to 15 digits. Returns it tidied, or raises ``ValidationError``."""
    from django.core.exceptions import ValidationError

    text = " ".join((value or "").split())
    if not text:
        return ""
    digits = text[1:] if text.startswith("+") else text
    digits = digits.replace(" ", "")
    ascii_digits = digits.isascii() and digits.isdigit()  # no "²", no full-width digits
    if not ascii_digits or not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]:
        raise ValidationError(
            {"phone": "Enter a phone number of 10 to 15 digits, such as 07700 900123."}
        )
    return text


def save_choices(
    user,
    *,
    channels: dict[str, list[str]],
    quiet_from: time | None,
    quiet_until: time | None,
    phone: str | None = None,
) -> Preferences:
    """Store the user's channels per kind (kinds not given keep their current
    choice), quiet hours (both or neither; Europe/London), and, when given, the
    phone number text messages go to. Raises ``ValidationError`` naming the field
    for an unknown kind or channel, one quiet-hours end without the other, or a bad
    phone number. The web form and the API both call this."""
    from django.core.exceptions import ValidationError

    errors = {}
    for kind, chosen in channels.items():
        if kind not in DEFAULTS:
            errors[kind] = f"Unknown kind of notification: {str(kind)[:40]}."
        elif not isinstance(chosen, list | tuple) or any(c not in CHOOSABLE for c in chosen):
            errors[kind] = "Choose from push, sms and email."
    if (quiet_from is None) != (quiet_until is None):
        errors["quiet_until" if quiet_until is None else "quiet_from"] = (
            "Give both ends of the quiet hours, or neither."
        )
    if errors:
        raise ValidationError(errors)
    tidy_phone = clean_phone(phone) if phone is not None else None
    prefs, _ = Preferences.objects.get_or_create(user=user)
    merged = dict(prefs.channels or {})
    for kind, chosen in channels.items():
        merged[kind] = [c for c in CHOOSABLE if c in chosen]
    prefs.channels = merged
    prefs.quiet_from, prefs.quiet_until = quiet_from, quiet_until
    prefs.save()
    if tidy_phone is not None and tidy_phone != user.phone:
        user.phone = tidy_phone
        user.save(update_fields=["phone"])
    return prefs
