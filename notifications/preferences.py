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
    Kind.APPROVAL_DECIDED: (EMAIL,),
    Kind.APPROVALS_WAITING: (EMAIL,),
    Kind.REVIEW: (EMAIL,),
    Kind.COVER: (EMAIL,),
    Kind.LIMITS: (),
    Kind.DIGEST: (EMAIL,),
}

# Kinds that ignore quiet hours: a crisis cannot wait for the morning.
URGENT_KINDS = frozenset({Kind.CRISIS, Kind.ESCALATION, Kind.CRISIS_SEEN})


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
        return timezone.make_aware(datetime.combine(day, end), timezone.get_current_timezone())


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
