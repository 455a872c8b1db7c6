"""Thin tasks of the constellation app: each calls one service."""

from celery import shared_task

from . import services


@shared_task
def end_former_access() -> int:
    return services.end_former_access()


@shared_task
def send_contact_reminders() -> int:
    from .reminders import send_due

    return send_due()


@shared_task
def make_dashboards_ready() -> int:
    from .kept_figures import make_ready

    return make_ready()
