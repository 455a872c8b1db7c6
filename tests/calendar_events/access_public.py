"""Access-matrix entries of the calendar's public (read by tests/test_access_matrix.py)."""


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    return {
        # No login: the signed link is the proof. A link that does not verify is a 404
        # for everyone, signed in or not (tests/calendar_events/test_public.py has the rest).
        "calendar_events:invitation": m.Spec(
            kwargs=lambda w: {"token": "not-a-real-token"},
            anonymous=m.PUBLIC,
            other_service=None,
        ),
    }
