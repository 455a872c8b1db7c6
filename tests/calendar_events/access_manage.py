"""Access-matrix entries of the calendar's manage (read by tests/test_access_matrix.py)."""


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    return {}
