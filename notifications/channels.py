"""The channels a notification leaves by: email, SMS and web push (the app's own
notification centre needs no sending).

``send(notification)`` sends one outbox row on its channel and returns the
provider's reference (or ""). It raises ``PermanentFailure`` when trying again
cannot help (no address, no push subscription left), and any other exception for
a failure worth trying again later (the outbox backs off)."""


class PermanentFailure(Exception):
    """Sending cannot succeed: the outbox fails the row at once."""


def send(notification) -> str:
    raise PermanentFailure(f"no channel {notification.channel!r}")
