"""The benchmark's data set (``manage.py dashboard_dataset``): the shape
``bench/dashboards.py`` relies on, at the smallest scale (one constellation, a year)."""

import pytest
from django.core.management import CommandError, call_command

from calendar_events.models import Attendance, Event, Occurrence
from constellation.models import Carer, Constellation, FosteringService, MoveKind, Placement
from delegated_authority.models import Agreement
from notifications.models import CrisisAlert, EscalationStep
from people.models import StaffRole, User
from sleepovers.models import (
    ALLOWED,
    HOLDING_BEDS,
    OVERNIGHT_KINDS,
    Kind,
    Night,
    Request,
    Transition,
)

pytestmark = pytest.mark.django_db

NAME = "Dataset Test Service"


def build():
    call_command("dashboard_dataset", scale=0.01, years=1, service_name=NAME, force=True)
    return FosteringService.objects.get(name=NAME)


def test_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("dashboard_dataset", scale=0.01, years=1, service_name=NAME)
    assert not FosteringService.objects.exists()


def test_the_shape_the_benchmark_relies_on():
    service = build()
    manager = User.objects.get(email="manager@bench.example")
    assert manager.check_password("bench-dashboards")
    assert StaffRole.objects.active().filter(user=manager, service=service, role="manager")
    assert Constellation.objects.filter(service=service).count() == 1

    requests = Request.objects.filter(constellation__service=service)
    assert set(requests.values_list("kind", flat=True)) == set(Kind.values)
    statuses = set(requests.values_list("status", flat=True))
    assert {"collected", "declined", "cancelled", "expired"} <= statuses

    # Nights only for accepted overnight stays, each within its request's nights.
    nights = Night.objects.filter(request__constellation__service=service)
    assert nights.exists()
    assert not nights.exclude(request__kind__in=OVERNIGHT_KINDS).exists()
    assert not nights.exclude(request__status__in=HOLDING_BEDS).exists()
    by_request = {r.pk: r for r in requests}
    for night in nights:
        assert night.date in by_request[night.request_id].nights

    # Every timeline starts with the asking and follows the lifecycle's table to the
    # request's status.
    timeline = {}
    for row in Transition.objects.filter(request__in=requests).order_by("at", "pk"):
        timeline.setdefault(row.request_id, []).append(row)
    for pk, rows in timeline.items():
        assert (rows[0].from_status, rows[0].to_status) == ("", "requested")
        for before, after in zip(rows, rows[1:], strict=False):
            assert after.from_status == before.to_status
            assert after.to_status in ALLOWED[before.to_status]
        assert rows[-1].to_status == by_request[pk].status
    assert len(timeline) == len(by_request)

    # Every crisis has its alert and three steps; some went on to the liaison worker.
    crises = requests.filter(kind=Kind.CRISIS)
    assert CrisisAlert.objects.filter(request__in=crises).count() == crises.count()
    assert EscalationStep.objects.filter(alert__request__in=crises).count() == 3 * crises.count()
    assert EscalationStep.objects.filter(
        alert__request__in=crises, step=EscalationStep.Step.LIAISON, status="done"
    ).exists()

    assert Placement.objects.filter(child__service=service, move_kind=MoveKind.DISRUPTION).exists()
    assert Carer.objects.filter(household__service=service, deregistered=True).exists()
    events = Event.objects.filter(constellation__service=service)
    assert events.exclude(rule="").exists()
    assert Occurrence.objects.filter(
        event__in=events, attendance_recorded_at__isnull=False
    ).exists()
    assert Attendance.objects.filter(occurrence__event__in=events).exists()
    assert Agreement.objects.filter(child__service=service).exists()

    with pytest.raises(CommandError, match="already exists"):
        call_command("dashboard_dataset", scale=0.01, years=1, service_name=NAME, force=True)
    assert FosteringService.objects.filter(name=NAME).count() == 1
