"""Access-matrix entries of the installable app (read by tests/test_access_matrix.py).

The manifest is the same for everyone. The offline page opens to anyone (a generic
page with 999, as it must be kept before anyone signs in); signed in, it shows the
numbers of the person's own hub and service: another service's people read none of
this service's. Who sees which numbers is tried at length in
tests/notifications/test_app.py."""


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    Spec = m.Spec  # noqa: N806

    def this_service(w):
        return [w.service.name, w.constellation.name, w.hub.name, w.other_constellation.name]

    return {
        "manifest": Spec(anonymous=m.PUBLIC, allowed=(*m.VIEWERS, "nobody"), other_service=None),
        "offline": Spec(
            anonymous=m.PUBLIC,
            allowed=(*m.VIEWERS, "social_worker", "nobody"),
            list_of=this_service,
        ),
    }
