"""Access-matrix entries of the calendar's feeds (read by tests/test_access_matrix.py)."""

EVERYONE = ("hub_carer", "satellite_carer", "liaison", "manager", "social_worker", "nobody")


def _event(w) -> dict:
    """A constellation meeting of the world's constellation in ten days' time."""
    from datetime import timedelta

    from django.utils import timezone

    from calendar_events import services
    from calendar_events.models import Event

    event = Event.objects.filter(constellation=w.constellation, title="Matrix meeting").first()
    if event is None:
        start = services.london_start(timezone.localdate() + timedelta(days=10), 19)
        event = services.create_event(
            constellation=w.constellation,
            by=w.hub_carer,
            kind="meeting",
            title="Matrix meeting",
            start=start,
            end=start + timedelta(hours=2),
        )
    return {"pk": event.pk}


def _satellite_feed_token(w) -> list[str]:
    from calendar_events import services

    return [services.feed_of(w.satellite_carer).token]


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    return {
        "calendar_events:event_ics": m.Spec(
            kwargs=_event,
            allowed=m.VIEWERS,
            wrong_role=("social_worker", m.D404),
            other_constellation="other_hub_carer",
        ),
        # Public by its secret address (a phone's calendar has no login): an unknown
        # token is a 404, whoever asks. tests/calendar_events/test_feeds.py checks the
        # revoked, deactivated and live ones.
        "calendar_events:feed": m.Spec(
            kwargs=lambda w: {"token": "not-a-real-token"},
            anonymous=m.PUBLIC,
            other_service=None,
        ),
        "calendar_events:subscribe": m.Spec(allowed=EVERYONE, list_of=_satellite_feed_token),
        "calendar_events:subscribe_renew": m.Spec(
            method="post", allowed=EVERYONE, list_of=_satellite_feed_token
        ),
        "calendar_events:subscribe_revoke": m.Spec(
            method="post", allowed=EVERYONE, list_of=_satellite_feed_token
        ),
    }
