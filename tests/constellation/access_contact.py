"""Access-matrix entries of the pages of regular contact and concerns (read by
tests/test_access_matrix.py).

Who records a check-in or opens a concern: the hub carers and the liaison workers of
the household's constellation (a satellite carer and a manager are refused, 403).
Who reads check-ins, coverage and concerns: those, and the service's managers; a
satellite carer reads none (a check-in or a concern is a 404 to them, a page of a
constellation they see is a 403). Who sets the thresholds and closes a concern: the
liaison workers and the managers. Another constellation's staff and anyone of
another service do not see them (404)."""

from datetime import timedelta

READERS = ("hub_carer", "liaison", "manager")
RECORDERS = ("hub_carer", "liaison")
FOLLOW_UP = "Matrix: ring back about the school run"


def _check_in(w):
    """A phone call with the Ashfords an hour ago, with one follow-up for the hub."""
    from django.utils import timezone

    from constellation import services
    from constellation.models import CheckIn

    existing = CheckIn.objects.filter(household=w.satellite).first()
    if existing is not None:
        return existing
    return services.record_check_in(
        w.satellite,
        by=w.hub_carer,
        occurred_at=timezone.now() - timedelta(hours=1),
        method=CheckIn.Method.PHONE,
        note="All well",
        follow_ups=[
            services.FollowUpInput(
                action=FOLLOW_UP,
                due_on=timezone.localdate() + timedelta(days=3),
                assigned_to=w.hub_carer,
            )
        ],
    )


def _follow_up(w):
    return _check_in(w).follow_ups.get()


def _concern(w):
    """An open concern about the Ashfords, opened by the hub carer (a new one once the
    last is closed)."""
    from constellation import services
    from constellation.models import Concern

    existing = Concern.objects.open().filter(household=w.satellite).first()
    return existing or services.open_concern_by_hand(
        w.satellite,
        by=w.hub_carer,
        reasons=[Concern.Reason.CANNOT_COPE],
        description="Matrix: the carers are exhausted",
        children=[w.child],
    )


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    Spec = m.Spec  # noqa: N806

    return {
        "constellation:check_in_create": Spec(
            kwargs=lambda w: {"pk": w.satellite.pk},
            allowed=RECORDERS,
            wrong_role=("satellite_carer", m.D403),
            other_constellation="other_hub_carer",
        ),
        "constellation:check_in": Spec(
            kwargs=lambda w: {"pk": _check_in(w).pk},
            allowed=READERS,
            wrong_role=("satellite_carer", m.D404),
            other_constellation="other_hub_carer",
        ),
        "constellation:follow_up_resolve": Spec(
            kwargs=lambda w: {"pk": _follow_up(w).pk},
            method="post",
            data={"resolution": "Rang back, all sorted"},
            allowed=RECORDERS,
            wrong_role=("satellite_carer", m.D404),
            other_constellation="other_liaison",
        ),
        "constellation:coverage": Spec(
            kwargs=lambda w: {"pk": w.constellation.pk},
            allowed=READERS,
            wrong_role=("satellite_carer", m.D403),
            other_constellation="other_hub_carer",
        ),
        "constellation:contact_settings": Spec(
            kwargs=lambda w: {"pk": w.constellation.pk},
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            other_constellation="other_liaison",
        ),
        "constellation:concern_create": Spec(
            kwargs=lambda w: {"pk": w.satellite.pk},
            allowed=RECORDERS,
            wrong_role=("satellite_carer", m.D403),
            other_constellation="other_hub_carer",
        ),
        "constellation:concerns": Spec(
            allowed=READERS,
            wrong_role=("satellite_carer", m.D403),
            # The concern exists before each call (``data`` is read first).
            data=lambda w: (_concern(w), {})[1],
            list_of=lambda w: [w.satellite.name, "Matrix: the carers are exhausted"],
        ),
        "constellation:concern": Spec(
            kwargs=lambda w: {"pk": _concern(w).pk},
            allowed=READERS,
            wrong_role=("satellite_carer", m.D404),
            other_constellation="other_liaison",
        ),
        "constellation:concern_close": Spec(
            kwargs=lambda w: {"pk": _concern(w).pk},
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            other_constellation="other_liaison",
        ),
    }
