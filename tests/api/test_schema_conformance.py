"""The API keeps to its published schema (/api/schema/) for every role.

schemathesis generates requests for every operation of the schema, valid and
invalid ones, and sends them through the WSGI application with the token of a hub
carer, a satellite carer, a liaison worker, a fostering manager and an
administrator, while another fostering service has data of its own. Each answer
must not be a server error, must have a documented status code, content type and
body, and must never name anything of the other service (the administrator, who
runs the platform, reads every service).

A bounded number of examples per operation keeps this in the ordinary test run;
``SCHEMA_MAX_EXAMPLES=200 SCHEMA_COVERAGE=1 pytest tests/api/test_schema_conformance.py``
runs longer, with the boundary values of every parameter as well.
Examples are derandomized: a run can be repeated exactly.
"""

import json
import os
import re
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from calendar_events import services as calendar
from config.wsgi import application
from constellation.models import Child, Constellation, FosteringService, Household
from notifications.models import Notification
from people.models import User
from sleepovers import services as sleepovers
from tests import factories as f
from tests.conftest import build_world
from tests.sleepovers.helpers import allow_hub, stay

MAX_EXAMPLES = int(os.environ.get("SCHEMA_MAX_EXAMPLES", "6"))
# The coverage phase (boundary values of every parameter, dozens of requests per
# operation whatever MAX_EXAMPLES says) runs in a longer run: SCHEMA_COVERAGE=1.
COVERAGE = os.environ.get("SCHEMA_COVERAGE", "") == "1"

ROLES = ["hub_carer", "satellite_carer", "liaison", "manager", "administrator"]


def _published_schema() -> dict:
    """The document /api/schema/ serves (the same generator, without a request)."""
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(
    _published_schema(),
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}}),
)


def _other_service_names(service: FosteringService) -> set[str]:
    """Every name of the other service's records that an answer could carry."""
    names = {service.name}
    for constellation in Constellation.objects.filter(service=service):
        names.add(constellation.name)
    households = Household.objects.filter(service=service)
    for household in households:
        names.add(household.name)
    for child in Child.objects.filter(service=service):
        names.update({child.first_name, child.last_name, child.preferred_name})
    for user in User.objects.filter(carer_roles__household__in=households):
        names.add(user.email)
    for user in User.objects.filter(staff_roles__service=service):
        names.add(user.email)
    for note in Notification.objects.filter(service=service, subject__contains=service.name[:5]):
        names.add(note.subject)
    return {name for name in names if name and len(name) >= 3}


def _build(world) -> dict:
    """The world of tests/conftest.py, with a stay, an event and a notification in
    each service, and an administrator."""
    for child, carer, liaison in (
        (world.child, world.satellite_carer, world.liaison),
        (world.other_service_child, world.other_service_carer, world.other_service_liaison),
    ):
        allow_hub(child, by=liaison)
        start, end = stay(5)
        sleepovers.create_request(by=carer, kind="planned", children=[child], start=start, end=end)
    start = calendar.london_start(timezone.localdate() + timedelta(days=3), 18, 0)
    calendar.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind="social",
        title="Riverside picnic",
        start=start,
        end=start + timedelta(hours=2),
    )
    calendar.create_event(
        constellation=world.other_service_constellation,
        by=world.other_service_hub_carer,
        kind="social",
        title="Southshire beach day",
        start=start,
        end=start + timedelta(hours=2),
    )
    for user in (world.satellite_carer, world.hub_carer, world.liaison, world.manager):
        f.notification_for(user, service=world.service, subject="Northshire news")
    f.notification_for(
        world.other_service_carer, service=world.other_service, subject="Southshire news"
    )
    admin = f.UserFactory(email="admin@test.example", is_superuser=True, is_staff=True)
    users = {
        "hub_carer": world.hub_carer,
        "satellite_carer": world.satellite_carer,
        "liaison": world.liaison,
        "manager": world.manager,
        "administrator": admin,
    }
    return {role: Token.objects.get_or_create(user=user)[0].key for role, user in users.items()}


@pytest.fixture
def api_world(db, nine_am):
    """Tokens for each role, and the names of the other service's records."""
    # The WSGI handler closes the database connection before and after each answer;
    # the test's transaction must outlive it, as the Django test client arranges.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        world = build_world()
        tokens = _build(world)
        forbidden = _other_service_names(world.other_service)
        own = _other_service_names(world.service)
        assert not forbidden & own, "the two services must not share names"
        yield tokens, forbidden
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _no_other_service(forbidden: set[str]):
    pattern = re.compile(r"\b(" + "|".join(re.escape(name) for name in forbidden) + r")\b")

    def no_other_service(ctx, response, case):
        found = forbidden and pattern.search(response.text or "")
        if found:
            raise AssertionError(f"the answer names another service's record: {found.group()!r}")
        return True

    return no_other_service


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_keeps_to_its_schema(case, api_world):
    """Each generated request is sent once per role (one world per operation keeps the
    run short); a failure names the role."""
    tokens, forbidden = api_world
    for role in ROLES:
        # The administrator runs the platform and reads every service's records.
        others = set() if role == "administrator" else forbidden
        try:
            case.call_and_validate(
                app=application,
                headers={"Authorization": f"Token {tokens[role]}"},
                checks=CHECKS,
                additional_checks=[_no_other_service(others)],
            )
        except Exception as error:
            error.add_note(f"(sent with the token of the {role})")
            raise
