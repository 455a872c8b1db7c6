"""Access-matrix entries of the audit trail (read by tests/test_access_matrix.py).

The audit trail is the fostering managers' and administrators': a liaison worker or
a carer is refused (403); another service's manager reads their own service's
entries and none of this one's (the world's liaison assignments are entries naming
its constellations and liaison workers). Tried at length in tests/people/test_audit.py."""


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    Spec = m.Spec  # noqa: N806

    def this_service(w):
        return ["Liaison worker for Riverside", "liaison@test.example"]

    return {
        "people:audit": Spec(
            allowed=("manager",), wrong_role=("liaison", m.D403), list_of=this_service
        ),
        "people:audit_csv": Spec(
            allowed=("manager",), wrong_role=("hub_carer", m.D403), list_of=this_service
        ),
    }
