"""Access-matrix entries of the membership pages: shared planning meetings, the
constellation's history, supervision notes (read by tests/test_access_matrix.py).

All are the service's records of a constellation: its liaison workers and the
service's managers. The carers of the constellation see it and are refused (403);
the liaison worker of another constellation and anyone of another service do not
see it (404). tests/constellation/test_memberships.py and test_supervision.py try
every carer of the constellation, not only the one named here."""

MEETING_ATTENDEES = "Matrix attendees: the liaison worker and the hub carers"
NOTE_TEXT = "Matrix supervision: talked through the autumn respite plan"


def _meeting(w):
    """A planning meeting of Riverside (a request reads it; made once)."""
    from django.utils import timezone

    from constellation import services
    from constellation.models import PlanningMeeting

    existing = PlanningMeeting.objects.filter(constellation=w.constellation).first()
    return existing or services.record_planning_meeting(
        w.constellation,
        by=w.liaison,
        held_on=timezone.localdate(),
        attendees=MEETING_ATTENDEES,
        decisions="The Ashfords and the Brookes stay; invite two more households.",
    )


def _note(w):
    """A supervision note of the satellite carer (made once)."""
    from django.utils import timezone

    from constellation import services
    from constellation.models import Carer, SupervisionNote

    carer = Carer.objects.get(user=w.satellite_carer)
    existing = SupervisionNote.objects.filter(carer=carer).first()
    return existing or services.write_supervision_note(
        carer, by=w.liaison, supervised_on=timezone.localdate(), note=NOTE_TEXT
    )


def _constellation(w):
    return {"pk": w.constellation.pk}


def _satellite_carer(w):
    from constellation.models import Carer

    return {"pk": Carer.objects.get(user=w.satellite_carer).pk}


def entries(m) -> dict:
    """``m`` is the access-matrix module: its ``Spec``, role tuples and helpers."""
    Spec = m.Spec  # noqa: N806

    def record_page(wrong="hub_carer", **extra):
        return Spec(
            kwargs=_constellation,
            allowed=m.MANAGERS,
            wrong_role=(wrong, m.D403),
            other_constellation="other_liaison",
            **extra,
        )

    return {
        "constellation:planning_meetings": record_page(
            data=lambda w: (_meeting(w), {})[1],
        ),
        "constellation:planning_meeting_create": record_page(wrong="satellite_carer"),
        "constellation:history": record_page(wrong="satellite_carer"),
        "constellation:supervision": record_page(data=lambda w: (_note(w), {})[1]),
        "constellation:supervision_create": Spec(
            kwargs=_satellite_carer,
            allowed=m.MANAGERS,
            wrong_role=("satellite_carer", m.D403),
            other_constellation="other_liaison",
        ),
    }
