"""Domain events of the calendar, sent inside the transaction of the change so that
the notifications written for them (the outbox) commit or roll back with it."""

from django.dispatch import Signal

# sender=Event, event=Event, change=str ("created", "changed", "retimed", "cancelled",
# "date_moved", "date_cancelled"), by=User|None, occurrence=Occurrence|None, reason=str
calendar_changed = Signal()
# sender=Rsvp, rsvp=Rsvp, by=User|None: an answer was saved
answered = Signal()
# sender=Rsvp, rsvp=Rsvp, by=User|None: a yes on the waiting list was given a place
place_freed = Signal()


def send_changed(event, *, change: str, by=None, occurrence=None, reason: str = "") -> None:
    calendar_changed.send(
        sender=type(event), event=event, change=change, by=by, occurrence=occurrence, reason=reason
    )


def send_answered(rsvp, *, by=None) -> None:
    answered.send(sender=type(rsvp), rsvp=rsvp, by=by)


def send_place_freed(rsvp, *, by=None) -> None:
    place_freed.send(sender=type(rsvp), rsvp=rsvp, by=by)
