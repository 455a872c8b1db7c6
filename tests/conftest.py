"""Role fixtures: a hub carer, a satellite carer, a liaison worker, a manager, a
social worker, and outsiders of another constellation and another service."""

import os
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from config.celery import app as celery_app
from constellation import services
from constellation.models import Child, Constellation, FosteringService, Household
from people.models import StaffRole, User

from . import factories as f


@pytest.fixture(autouse=True)
def _fast_and_eager(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MFA_REQUIRED_FOR_STAFF = False
    # Each test its own cache, so that allauth's login rate limits don't leak between tests.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Local-memory caches of one LOCATION share their store within a process: empty it,
    # or a test would read what another kept (the dashboards' kept figures are keyed
    # by ids and the activity record, which a rolled-back database gives out again).
    from django.core.cache import caches

    caches["default"].clear()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


# The suite must pass whatever the hour: ``TEST_CLOCK=2027-03-28T00:30`` (London wall
# clock) starts every test at that moment, the clock then ticking. CI sweeps the
# time-sensitive modules over the night, the evening, both clock-change days and
# 31 December (``make test-clock``). Tests that depend on "now" pin their own clock.
TEST_CLOCK = os.environ.get("TEST_CLOCK", "")


def _test_clock_start() -> datetime:
    return datetime.fromisoformat(TEST_CLOCK).replace(tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def _clock_from_environment():
    if not TEST_CLOCK:
        yield
        return
    with time_machine.travel(_test_clock_start(), tick=True):
        yield


@pytest.fixture
def nine_am():
    """The clock at 09:00 London today, ticking: for tests of "today" and "tonight"
    that would otherwise depend on the hour they run at. List it before ``world``."""
    from django.utils import timezone

    today = timezone.localdate()
    with time_machine.travel(
        datetime(today.year, today.month, today.day, 9, tzinfo=ZoneInfo("Europe/London")),
        tick=True,
    ):
        yield


def pytest_report_header(config):
    import shutil

    lines = []
    if TEST_CLOCK:
        lines.append(f"clock: every test starts at {TEST_CLOCK} Europe/London (TEST_CLOCK)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    lines.append(
        f"browser journeys (tests/e2e): run in {chromium}"
        if chromium
        else "browser journeys (tests/e2e): SKIPPED, Chromium is not installed "
        "(make browser, or apt-get install chromium)"
    )
    return lines


@pytest.fixture(autouse=True)
def _decision_catalogue(request):
    """The decision catalogue comes from a migration; a transactional test's flush
    empties it, so put it back for the tests that follow on the same worker."""
    names = set(request.fixturenames)
    if not (request.node.get_closest_marker("django_db") or names & {"db", "transactional_db"}):
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    from delegated_authority.catalogue import CATALOGUE, ensure_catalogue
    from delegated_authority.models import Decision

    if Decision.objects.count() < len(CATALOGUE):
        ensure_catalogue(Decision)


@pytest.fixture
def requires_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL to a PostgreSQL database")


@pytest.fixture
def requires_redis():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL")


@dataclass
class World:
    """One fostering service with two constellations, and another service."""

    service: FosteringService
    constellation: Constellation
    hub: Household
    satellite: Household
    neighbour: Household
    hub_carer: User
    second_hub_carer: User
    satellite_carer: User
    neighbour_carer: User
    liaison: User
    manager: User
    social_worker: User
    child: Child  # placed with ``satellite``
    neighbour_child: Child  # placed with ``neighbour``
    hub_child: Child  # the hub family's own foster child
    # the same service, another constellation
    other_constellation: Constellation
    other_hub_carer: User
    other_satellite_carer: User
    other_liaison: User
    other_constellation_child: Child
    # another fostering service
    other_service: FosteringService
    other_service_constellation: Constellation
    other_service_manager: User
    other_service_liaison: User
    other_service_hub_carer: User
    other_service_carer: User
    other_service_child: Child


def build_world() -> World:
    service = f.ServiceFactory(name="Northshire Fostering")
    constellation = f.ConstellationFactory(service=service, name="Riverside")
    hub = f.hub_for(constellation, name="The Hub Home", beds=3)
    hub_carer = f.carer_of(hub, email="hub@test.example")
    second_hub_carer = f.carer_of(hub, role="second", email="hub-second@test.example")
    satellite = f.satellite_in(constellation, name="The Ashfords")
    satellite_carer = f.carer_of(satellite, email="satellite@test.example")
    neighbour = f.satellite_in(constellation, name="The Brookes")
    neighbour_carer = f.carer_of(neighbour, email="neighbour@test.example")
    liaison = f.staff(service, StaffRole.Role.LIAISON, email="liaison@test.example")
    services.assign_liaison(constellation, liaison, by=None)
    manager = f.staff(service, StaffRole.Role.MANAGER, email="manager@test.example")
    social_worker = f.staff(service, StaffRole.Role.SOCIAL_WORKER, email="sw@test.example")
    child = f.child_in(
        satellite,
        first_name="Amara",
        last_name="Quill",
        preferred_name="Mara",
        social_worker=social_worker,
    )
    neighbour_child = f.child_in(
        neighbour, first_name="Bobby", last_name="Stone", preferred_name="Bob"
    )
    hub_child = f.child_in(hub, first_name="Cara", last_name="Hubb", preferred_name="Cee")

    other_constellation = f.ConstellationFactory(service=service, name="Hillside")
    other_hub = f.hub_for(other_constellation, name="Hillside Hub")
    other_hub_carer = f.carer_of(other_hub, email="hub2@test.example")
    other_satellite = f.satellite_in(other_constellation, name="The Cedars")
    other_satellite_carer = f.carer_of(other_satellite, email="satellite2@test.example")
    other_liaison = f.staff(service, StaffRole.Role.LIAISON, email="liaison2@test.example")
    services.assign_liaison(other_constellation, other_liaison, by=None)
    other_constellation_child = f.child_in(
        other_satellite, first_name="Dana", last_name="Hill", preferred_name="Danika"
    )

    other_service = f.ServiceFactory(name="Southshire Fostering")
    other_service_constellation = f.ConstellationFactory(service=other_service, name="Seaside")
    os_hub = f.hub_for(other_service_constellation, name="Seaside Hub")
    other_service_hub_carer = f.carer_of(os_hub, email="hub-south@test.example")
    os_sat = f.satellite_in(other_service_constellation, name="The Dunes")
    other_service_carer = f.carer_of(os_sat, email="satellite-south@test.example")
    other_service_manager = f.staff(
        other_service, StaffRole.Role.MANAGER, email="manager-south@test.example"
    )
    other_service_liaison = f.staff(
        other_service, StaffRole.Role.LIAISON, email="liaison-south@test.example"
    )
    services.assign_liaison(other_service_constellation, other_service_liaison, by=None)
    other_service_child = f.child_in(
        os_sat, first_name="Eli", last_name="South", preferred_name="Elias"
    )

    return World(**{k: v for k, v in locals().items() if k in World.__dataclass_fields__})


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def login(client):
    """Log a user in on the test client and return the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
