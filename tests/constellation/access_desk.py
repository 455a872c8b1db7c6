"""Access-matrix entries of the liaison worker's desk and its activity feed (read by
tests/test_access_matrix.py).

The desk is the liaison workers' and managers' page: a carer is refused (403), and
anyone of another fostering service sees their own desk with nothing of this one.
The liaison worker of another constellation of the same service is tried in
tests/constellation/test_desk.py (their desk is theirs, without Riverside)."""


def _something_waits(w):
    """An open concern about the Ashfords, so that the desk and the feed have Riverside's
    names to leak."""
    from constellation.models import Concern
    from constellation.services import concerns

    if not Concern.objects.open().filter(household=w.satellite).exists():
        concerns.open_concern_by_hand(
            w.satellite, by=w.hub_carer, reasons=[Concern.Reason.CANNOT_COPE]
        )
    return {}


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    Spec = m.Spec  # noqa: N806

    def riverside(w):
        return [w.constellation.name, w.satellite.name, w.neighbour.name, w.child.known_as]

    return {
        "constellation:desk": Spec(
            allowed=m.MANAGERS,
            wrong_role=("satellite_carer", m.D403),
            data=_something_waits,
            list_of=riverside,
        ),
        "constellation:activity": Spec(
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            data=_something_waits,
            list_of=riverside,
        ),
    }
