"""Thin tasks of the calendar: each calls a service and may run twice safely (the
reminders find what is due by querying and write each message once, by its key)."""

from celery import shared_task


@shared_task(acks_late=True)
def send_reminders() -> int:
    """Beat, every 15 minutes: the calendar's reminders and invitations that are due
    and not yet written. Returns how many notifications were written."""
    from . import reminders

    return reminders.send_due()
