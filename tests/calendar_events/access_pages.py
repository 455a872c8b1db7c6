"""Access-matrix entries of the calendar's pages (read by tests/test_access_matrix.py).

One event of Riverside, tomorrow evening, open to the whole constellation: everyone
of the constellation sees it, its satellite carers answer it, those who keep the
calendar record who came; another constellation's and another service's people get
404 for it and never see its title in their own calendar."""

from datetime import timedelta

from django.utils import timezone

MEETING = "Riverside's matrix meeting"


def _meeting(w):
    from calendar_events import services
    from calendar_events.models import Event

    existing = Event.objects.filter(title=MEETING).first()
    if existing is not None:
        return existing
    start = services.london_start(timezone.localdate() + timedelta(days=1), 19)
    return services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.MEETING,
        title=MEETING,
        start=start,
        end=start + timedelta(hours=2),
    )


def _date(w):
    from calendar_events.recurrence import key_of

    event = _meeting(w)
    return {"pk": event.pk, "key": key_of(event.start)}


def _month(w):
    local = timezone.localtime(_meeting(w).start)
    return {"year": local.year, "month": local.month}


def _day(w):
    return {"day": timezone.localtime(_meeting(w).start).date()}


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    calendar = {
        "allowed": m.VIEWERS,
        "targets_object": False,
        "list_of": lambda w: [MEETING],
    }
    return {
        # Everyone with a calendar reads their own; outsiders read an empty one.
        "calendar_events:index": m.Spec(data=lambda w: (_meeting(w), {})[1], **calendar),
        "calendar_events:month": m.Spec(kwargs=_month, **calendar),
        "calendar_events:print": m.Spec(kwargs=_month, **calendar),
        # A PDF is not text: the outsiders' check reads the printable page above, drawn
        # from the same read (tests/calendar_events/test_views.py checks the PDF).
        "calendar_events:print_pdf": m.Spec(
            kwargs=_month, allowed=m.VIEWERS, targets_object=False, other_service=None
        ),
        "calendar_events:week": m.Spec(kwargs=_day, **calendar),
        "calendar_events:day": m.Spec(kwargs=_day, **calendar),
        "calendar_events:event": m.Spec(
            kwargs=lambda w: {"pk": _meeting(w).pk},
            allowed=m.VIEWERS,
            wrong_role=("social_worker", m.D404),
            other_constellation="other_hub_carer",
        ),
        "calendar_events:date": m.Spec(
            kwargs=_date,
            allowed=m.VIEWERS,
            wrong_role=("social_worker", m.D404),
            other_constellation="other_satellite_carer",
        ),
        # Only the carers of an invited household answer; staff see the date (403).
        "calendar_events:answer": m.Spec(
            kwargs=_date,
            method="post",
            data={"answer": "yes", "adults": "1"},
            allowed=("satellite_carer",),
            wrong_role=("liaison", m.D403),
            other_constellation="other_satellite_carer",
        ),
        # Who came is for those who keep the calendar; a family sees the date (403).
        "calendar_events:attendance": m.Spec(
            kwargs=_date,
            allowed=("hub_carer", "liaison", "manager"),
            wrong_role=("satellite_carer", m.D403),
            other_constellation="other_hub_carer",
        ),
    }
