"""Access-matrix entries of the dashboards and their exports (read by
tests/test_access_matrix.py).

Dashboards are the fostering managers' and liaison workers' (issue 12): a carer is
refused (403) before anything they asked for is read, whatever service it is of;
another service's manager and liaison worker read their own service's dashboard with
nothing of this one, and are not found (404) on this one's constellations. Every
URL and export is tried at length in tests/constellation/test_dashboard_access.py."""


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    Spec = m.Spec  # noqa: N806

    def riverside(w):
        return [w.constellation.name, w.other_constellation.name, w.service.name]

    def constellation(w):
        return {"pk": w.constellation.pk}

    def month(w):
        return {"pk": w.constellation.pk, "year": 2026, "month": 5}

    return {
        "dashboards:service": Spec(
            allowed=m.MANAGERS, wrong_role=("hub_carer", m.D403), list_of=riverside
        ),
        "dashboards:evaluation_return": Spec(
            allowed=m.MANAGERS, wrong_role=("satellite_carer", m.D403), list_of=riverside
        ),
        "dashboards:export": Spec(
            kwargs=lambda w: {"table": "support-care"},
            data={"format": "csv"},
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            list_of=riverside,
            targets_object=False,
        ),
        # Another service's carers are refused (403) before the constellation is looked
        # up, as this service's are; its manager and liaison worker get 404 (tried in
        # test_dashboard_access.py), so the matrix's other-service round is left out.
        "dashboards:constellation": Spec(
            kwargs=constellation,
            allowed=m.MANAGERS,
            wrong_role=("satellite_carer", m.D403),
            other_constellation="other_liaison",
            other_service=None,
        ),
        "dashboards:constellation_month": Spec(
            kwargs=month,
            allowed=m.MANAGERS,
            wrong_role=("hub_carer", m.D403),
            other_constellation="other_liaison",
            other_service=None,
        ),
    }
