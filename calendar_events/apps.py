from django.apps import AppConfig


class CalendarEventsConfig(AppConfig):
    name = "calendar_events"
    verbose_name = "Calendar"

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from . import notify, signals
        from .models import Event, Occurrence

        # Messages through the outbox, written inside the transaction of the change.
        signals.calendar_changed.connect(
            notify.on_calendar_changed, dispatch_uid="calendar-changed"
        )
        signals.place_freed.connect(notify.on_place_freed, dispatch_uid="calendar-place-freed")
        # What a date was before it moved, to tell a date moved away from today too.
        pre_save.connect(notify.remember_before, sender=Event, dispatch_uid="calendar-event-before")
        pre_save.connect(
            notify.remember_before, sender=Occurrence, dispatch_uid="calendar-date-before"
        )
