"""Access-matrix entries of the regular-contact API (read by tests/test_access_matrix.py).

Check-ins, concerns and coverage are read by the constellation's hub carers and
liaison workers and the service's managers; a satellite carer sees the household
but none of them (an empty list, a 404 on a record, a 403 on coverage). The activity
feed is the desk's: liaison workers and managers, everyone else 403. A concern is
closed by the liaison worker or a manager (the hub carer reads it: 403). The
liaison worker of another constellation and anyone of another service see nothing
of ours (404 on a record, nothing of it in a list).

Writes (POST of check-ins and concerns) are tried in
tests/constellation/test_contact_api.py, each caller in turn."""

from datetime import timedelta

from django.utils import timezone

NOTE = "Matrix check-in: the family sounded tired"
CONCERN = "Matrix concern: the carer says they cannot cope"


def _check_in(w):
    from constellation import services
    from constellation.models import CheckIn

    found = CheckIn.objects.filter(household=w.satellite, note=NOTE).first()
    return found or services.record_check_in(
        w.satellite,
        by=w.hub_carer,
        occurred_at=timezone.now() - timedelta(hours=1),
        method=CheckIn.Method.PHONE,
        note=NOTE,
    )


def _open_concern(w):
    """An open concern about the satellite (a new one once the last was closed)."""
    from constellation import services
    from constellation.models import Concern

    found = Concern.objects.open().filter(household=w.satellite, description=CONCERN).first()
    return found or services.open_concern_by_hand(
        w.satellite, by=w.hub_carer, reasons=[Concern.Reason.CANNOT_COPE], description=CONCERN
    )


def _both(w) -> dict:
    _check_in(w)
    _open_concern(w)
    return {}


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    readers = ("hub_carer", *m.MANAGERS)
    return {
        "api:check-in-list": m.Spec(
            anonymous=m.ANON_401,
            allowed=(*readers, "satellite_carer", "nobody"),  # theirs: an empty list
            data=lambda w: (_check_in(w), {})[1],
            list_of=lambda w: [NOTE],
        ),
        "api:check-in-detail": m.Spec(
            kwargs=lambda w: {"pk": _check_in(w).pk},
            anonymous=m.ANON_401,
            allowed=readers,
            wrong_role=("satellite_carer", m.D404),
            other_constellation="other_liaison",
        ),
        "api:concern-list": m.Spec(
            anonymous=m.ANON_401,
            allowed=(*readers, "satellite_carer", "nobody"),
            data=lambda w: (_open_concern(w), {})[1],
            list_of=lambda w: [CONCERN],
        ),
        "api:concern-detail": m.Spec(
            kwargs=lambda w: {"pk": _open_concern(w).pk},
            anonymous=m.ANON_401,
            allowed=readers,
            wrong_role=("satellite_carer", m.D404),
            other_constellation="other_liaison",
        ),
        "api:concern-close": m.Spec(
            kwargs=lambda w: {"pk": _open_concern(w).pk},
            method="post",
            json=True,
            data={"note": "Visited; a support plan is agreed"},
            anonymous=m.ANON_401,
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            other_constellation="other_liaison",
        ),
        "api:activity": m.Spec(
            anonymous=m.ANON_401,
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            data=_both,
            list_of=lambda w: [w.satellite.name, NOTE, CONCERN],
        ),
        "api:coverage": m.Spec(
            anonymous=m.ANON_401,
            allowed=readers,
            wrong_role=("satellite_carer", m.D403),
            list_of=lambda w: [w.satellite.name],
        ),
    }
