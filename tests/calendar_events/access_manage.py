"""Access-matrix entries of the pages that keep the calendar and the list of people
kept connected (read by tests/test_access_matrix.py).

Who keeps the calendar: the hub carers, the liaison worker and the managers; a
satellite carer sees the event and is refused (403); the liaison worker of another
constellation and anyone of another service do not see it (404). The list of people
kept connected is kept by the liaison worker and managers; the hub carers read it."""

from datetime import timedelta

KEEPERS = ("hub_carer", "liaison", "manager")
TITLE = "Matrix meeting"


def _series(w):
    """A weekly meeting of Riverside from a fortnight on, at 19:00 London time."""
    from django.utils import timezone

    from calendar_events import services
    from calendar_events.models import Event

    existing = Event.objects.filter(title=TITLE, status=Event.Status.SCHEDULED).first()
    if existing is not None:
        return existing
    day = timezone.localdate() + timedelta(days=14)
    return services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.MEETING,
        title=TITLE,
        start=services.london_start(day, 19),
        end=services.london_start(day, 21),
        rule="FREQ=WEEKLY",
    )


def _event_pk(w):
    return {"pk": _series(w).pk}


def _second_date(w):
    """The series and the key of its second date (not its first: the first cannot be
    changed "from here on")."""
    from calendar_events.recurrence import key_of, placed, wall

    event = _series(w)
    return {"pk": event.pk, "key": key_of(placed(wall(event.start) + timedelta(days=7)))}


def _person(w):
    """Someone kept connected by Riverside, consent in force (a new one once withdrawn)."""
    from django.utils import timezone

    from calendar_events import services
    from calendar_events.models import KeptConnected

    existing = KeptConnected.objects.filter(constellation=w.constellation).current().first()
    return existing or services.keep_connected(
        constellation=w.constellation,
        by=w.liaison,
        name="Jordan Matrix",
        email="jordan.matrix@example.org",
        relationship=KeptConnected.Relationship.YOUNG_PERSON,
        consent="Agreed by phone with the liaison worker.",
        ends_on=timezone.localdate() + timedelta(days=200),
    )


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    Spec = m.Spec  # noqa: N806

    def event_page(kwargs):
        return Spec(
            kwargs=kwargs,
            allowed=KEEPERS,
            wrong_role=("satellite_carer", m.D403),
            other_constellation="other_liaison",
        )

    return {
        "calendar_events:event_new": Spec(
            allowed=KEEPERS,
            wrong_role=("satellite_carer", m.D403),
            list_of=lambda w: [w.satellite.name, w.neighbour.name],
        ),
        "calendar_events:event_edit": event_page(_event_pk),
        "calendar_events:event_cancel": event_page(_event_pk),
        "calendar_events:occurrence_move": event_page(_second_date),
        "calendar_events:occurrence_cancel": event_page(_second_date),
        "calendar_events:occurrence_from": event_page(_second_date),
        "calendar_events:kept_connected": Spec(
            allowed=KEEPERS,
            wrong_role=("satellite_carer", m.D403),
            # The person exists before each call (``data`` is read first).
            data=lambda w: (_person(w), {})[1],
            list_of=lambda w: ["Jordan Matrix", "jordan.matrix@example.org"],
        ),
        "calendar_events:kept_connected_new": Spec(
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            list_of=lambda w: [w.constellation.name],
        ),
        "calendar_events:kept_connected_withdraw": Spec(
            kwargs=lambda w: {"pk": _person(w).pk},
            method="post",
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            other_constellation="other_liaison",
        ),
    }
