from celery import shared_task

from . import services


@shared_task
def send_review_reminders() -> int:
    """Daily: remind liaison workers of agreements due for review or overdue."""
    return services.send_review_reminders()
