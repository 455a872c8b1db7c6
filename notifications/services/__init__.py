"""The notifications capability's verbs: the outbox, crisis escalation, reminders."""

from .health import last_heartbeat, oldest_due_seconds, record_heartbeat
from .outbox import Message, deliver, mark_read, notify, notify_contact, queue, retry, sweep

__all__ = [
    "Message",
    "deliver",
    "last_heartbeat",
    "mark_read",
    "notify",
    "notify_contact",
    "oldest_due_seconds",
    "queue",
    "record_heartbeat",
    "retry",
    "sweep",
]
