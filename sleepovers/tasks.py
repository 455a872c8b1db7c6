from celery import shared_task

from . import services


@shared_task
def expire_overdue_requests() -> int:
    """Every few minutes: open requests whose time has passed unanswered expire."""
    return services.expire_overdue()
