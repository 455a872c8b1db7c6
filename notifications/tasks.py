from celery import shared_task

from . import services


@shared_task
def record_heartbeat() -> None:
    """Run by beat every minute, so /healthz can say when the worker last ran a task."""
    services.record_heartbeat("worker")
