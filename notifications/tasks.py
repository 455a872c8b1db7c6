"""Thin tasks: each takes ids or nothing, calls a service, and may run twice safely
(the outbox's claim and the reminders' deduplication keys make them idempotent)."""

from celery import shared_task

from . import services


@shared_task
def record_heartbeat() -> None:
    """Run by beat every minute, so /healthz can say when the worker last ran a task."""
    services.record_heartbeat("worker")


@shared_task(acks_late=True)
def deliver(ids: list[int]) -> int:
    """Deliver these outbox rows (each only if still due and claimed here)."""
    return sum(1 for pk in ids if services.deliver(int(pk)))


@shared_task(acks_late=True)
def sweep() -> int:
    """Beat, every minute: run due escalation steps, queue every due row."""
    return services.sweep()


@shared_task(acks_late=True)
def send_reminders() -> int:
    """Beat, every 15 minutes: reminders and digests that are due and not yet sent."""
    from .services import reminders

    return reminders.send_due()
