"""Access-matrix entries of the calendar's API (read by tests/test_access_matrix.py).

The events are made relative to now (the matrix does not pin the clock), each once
per world; a date's key is chosen at each call, so that every allowed caller acts on
a date still open to that action (a date cancelled once cannot be cancelled again)."""

from datetime import timedelta

from django.utils import timezone

from calendar_events import services
from calendar_events.models import Event, Occurrence
from calendar_events.recurrence import key_of, original_starts

SERIES = "Riverside weekly catch-up"
CONTINUED = "Riverside training evenings"
SOCIAL = "Riverside picnic in the park"
PAST = "Riverside bowling afternoon"


def _at(days: int, hour: int, minute: int = 0):
    return services.london_start(timezone.localdate() + timedelta(days=days), hour, minute)


def _event(w, title: str, **fields) -> Event:
    found = Event.objects.filter(constellation=w.constellation, title=title).first()
    if found is not None:
        return found
    start = fields.pop("start")
    return services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        title=title,
        start=start,
        end=start + fields.pop("length", timedelta(hours=2)),
        **fields,
    )


def _series(w) -> Event:
    return _event(w, SERIES, kind=Event.Kind.MEETING, start=_at(7, 19), rule="FREQ=WEEKLY")


def _social(w) -> Event:
    return _event(w, SOCIAL, kind=Event.Kind.SOCIAL, start=_at(10, 14), capacity=40)


def _past(w) -> Event:
    return _event(w, PAST, kind=Event.Kind.ACTIVITY, start=_at(-3, 14))


def _dates(event: Event, days: int = 200) -> list:
    now = timezone.now()
    return original_starts(event, now, now + timedelta(days=days))


def _open_date(w) -> dict:
    """The series' first coming date not cancelled yet."""
    event = _series(w)
    cancelled = set(
        Occurrence.objects.filter(event=event, cancelled=True).values_list(
            "original_start", flat=True
        )
    )
    first = next(start for start in _dates(event) if start not in cancelled)
    return {"pk": event.pk, "key": key_of(first)}


def _moved_date(w) -> dict:
    event = _series(w)
    return {"pk": event.pk, "key": key_of(_dates(event)[1])}


def _tip(w) -> Event:
    """The newest series of the chain changed from a date on (each allowed caller
    changes the series from its second date)."""
    event = _event(w, CONTINUED, kind=Event.Kind.TRAINING, start=_at(5, 18), rule="FREQ=WEEKLY")
    while (following := Event.objects.filter(follows=event).first()) is not None:
        event = following
    return event


def _from_here(w) -> dict:
    event = _tip(w)
    return {"pk": event.pk, "key": key_of(_dates(event)[1])}


def _from_here_body(w) -> dict:
    second = _dates(_tip(w))[1]
    day = second.astimezone(timezone.get_default_timezone()).date()
    return {"start": f"{day.isoformat()}T18:30", "end": f"{day.isoformat()}T20:00"}


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    on_series = {
        "method": "post",
        "json": True,
        "anonymous": m.ANON_401,
        "allowed": ("hub_carer", *m.MANAGERS),
        "wrong_role": ("satellite_carer", m.D403),
        "other_constellation": "other_hub_carer",
    }
    return {
        "api:event-list": m.Spec(
            anonymous=m.ANON_401,
            allowed=(*m.VIEWERS, "social_worker", "nobody"),
            data=lambda w: (_social(w), _series(w), {})[-1],
            list_of=lambda w: [SOCIAL, SERIES],
        ),
        "api:event-detail": m.Spec(
            kwargs=lambda w: {"pk": _social(w).pk},
            anonymous=m.ANON_401,
            allowed=(*m.VIEWERS, "neighbour_carer"),
            wrong_role=("social_worker", m.D404),
            other_constellation="other_hub_carer",
        ),
        "api:event-rsvp": m.Spec(
            kwargs=lambda w: {"pk": _social(w).pk},
            method="post",
            json=True,
            data={"answer": "yes", "adults": 1},
            anonymous=m.ANON_401,
            allowed=("hub_carer", "satellite_carer", "neighbour_carer"),
            wrong_role=("liaison", m.D403),
            other_constellation="other_satellite_carer",
        ),
        "api:event-attendance": m.Spec(
            kwargs=lambda w: {"pk": _past(w).pk},
            method="post",
            json=True,
            data=lambda w: {
                "lines": [{"household": w.satellite.pk, "adults": 1, "children": [w.child.pk]}]
            },
            anonymous=m.ANON_401,
            allowed=("hub_carer", *m.MANAGERS),
            wrong_role=("satellite_carer", m.D403),
            other_constellation="other_hub_carer",
        ),
        "api:event-date-move": m.Spec(
            kwargs=_moved_date,
            data=lambda w: {
                "start": _dates(_series(w))[1].isoformat(),
                "end": (_dates(_series(w))[1] + timedelta(hours=3)).isoformat(),
            },
            **on_series,
        ),
        "api:event-date-cancel": m.Spec(
            kwargs=_open_date, data={"reason": "The hall is closed"}, **on_series
        ),
        "api:event-date-from-here": m.Spec(kwargs=_from_here, data=_from_here_body, **on_series),
    }
