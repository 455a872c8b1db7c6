"""No input to the sleepover API gives a 500: whatever JSON is posted to a write
endpoint, and whatever is put in a query string, the answer is a 2xx, or a 4xx
that says what is wrong."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from sleepovers import services
from tests.conftest import World

from .helpers import allow_hub, stay

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
USERS = ["satellite_carer", "hub_carer", "liaison", "manager", "other_service_carer"]
FIELDS = [
    "kind",
    "children",
    "start",
    "end",
    "notes",
    "crisis_reason",
    "hub",
    "emergency",
    "reason",
    "child",
    "expected_end",
    "to",
    "constellation",
    "stand_in",
    "note",
]


class _Rollback(Exception):
    pass


def _rolled_back(fn):
    try:
        with transaction.atomic():
            fn()
            raise _Rollback
    except _Rollback:
        pass


@pytest.fixture
def eve_of_the_clock_change():
    """The evening before the clocks go forward, so that "within a day" reaches into
    the missing hour (the times sent cover both clock changes of the year)."""
    with time_machine.travel(datetime(2027, 3, 27, 22, 30, tzinfo=LONDON), tick=True):
        yield


# --- what is sent -------------------------------------------------------------------------

_unicode_digits = st.sampled_from(["²", "٣", "１２", "߁", "𝟗", "Ⅻ", "٠٠١"])
_years = st.sampled_from([1, 999, 1999, 2000, 2026, 2027, 2028, 2100, 2101, 9999])
_offsets = st.sampled_from(["", "", "Z", "+00:00", "+01:00", "-05:00", "+14:00", "+2500"])


@st.composite
def _moments(draw):
    """A date-time string: near a clock change, near now, or in a far-off year."""
    offset = draw(_offsets)
    choice = draw(st.integers(0, 3))
    if choice == 0:
        base = draw(st.sampled_from([datetime(2027, 3, 28), datetime(2027, 10, 31)]))  # noqa: DTZ001
        moment = base + timedelta(minutes=draw(st.integers(-180, 240)))
        return moment.strftime("%Y-%m-%dT%H:%M") + offset
    if choice == 1:
        year = draw(_years)
        return f"{year:04d}-{draw(st.integers(0, 13)):02d}-{draw(st.integers(0, 32)):02d}T10:00"
    if choice == 2:
        return f"{draw(_years):04d}-06-01"
    moment = datetime.now(LONDON) + timedelta(minutes=draw(st.integers(-3000, 3000)))
    return moment.strftime("%Y-%m-%dT%H:%M") + offset


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    _unicode_digits,
    _moments(),
    st.sampled_from(["planned", "crisis", "short_break", "transport", "temporary", "overnight"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def _bodies(draw, ids):
    """A JSON body: mostly an object of the fields the endpoints know, with values that
    are sometimes the world's ids, sometimes anything."""
    if draw(st.integers(0, 9)) == 0:
        return draw(_values)
    keys = draw(st.lists(st.sampled_from(FIELDS) | st.text(max_size=6), max_size=7, unique=True))
    body = {}
    for key in keys:
        if draw(st.booleans()) and key in ("children",):
            body[key] = draw(st.lists(st.sampled_from(ids) | _scalars, max_size=3))
        elif draw(st.booleans()):
            body[key] = draw(st.sampled_from(ids))
        else:
            body[key] = draw(_values)
    return body


def _world_ids(world) -> list[int]:
    return [
        world.child.pk,
        world.neighbour_child.pk,
        world.hub.pk,
        world.satellite.pk,
        world.constellation.pk,
        world.other_service_child.pk,
        world.other_constellation.pk,
    ]


def _write_endpoints(world, request_pk: int) -> list[str]:
    on = [request_pk, request_pk + 1000, 2**63 + 5]
    actions = ["accept", "decline", "offer", "take-offer", "cancel", "arrived", "collected"]
    return [
        reverse("api:sleepover-list"),
        reverse("api:sleepover-temporary"),
        reverse("api:hub-unavailability-list"),
        reverse("api:hub-cover-list"),
        reverse("api:limit-override-list"),
        *[reverse(f"api:sleepover-{name}", args=[pk]) for name in actions for pk in on],
        reverse("api:sleepover-end-placement", args=[request_pk]),
        reverse("api:hub-unavailability-withdraw", args=[request_pk]),
        reverse("api:hub-cover-end", args=[request_pk]),
        reverse("api:limit-override-withdraw", args=[request_pk]),
    ]


def _clients(world) -> dict[str, APIClient]:
    clients = {}
    for name in USERS:
        client = APIClient(raise_request_exception=False)
        client.force_login(getattr(world, name))
        clients[name] = client
    return clients


def _a_request(world) -> int:
    allow_hub(world.child, by=world.liaison)
    start, end = stay(3)
    asked = services.create_request(
        by=world.satellite_carer, kind="planned", children=[world.child], start=start, end=end
    )
    return asked.pk


@dataclass
class Setup:
    world: World
    request_pk: int
    clients: dict[str, APIClient]
    ids: list[int]


@pytest.fixture
def setup(eve_of_the_clock_change, world) -> Setup:
    """Built once per test (hypothesis runs every example inside the one test call)."""
    request_pk = _a_request(world)
    return Setup(world, request_pk, _clients(world), [*_world_ids(world), request_pk])


HYPOTHESIS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPOTHESIS
@given(data=st.data())
def test_no_body_posted_to_a_write_endpoint_gives_a_500(setup, data):
    endpoints = _write_endpoints(setup.world, setup.request_pk)

    def run():
        path = data.draw(st.sampled_from(endpoints), label="path")
        who = data.draw(st.sampled_from(USERS), label="user")
        body = data.draw(_bodies(setup.ids), label="body")
        response = setup.clients[who].post(path, body, format="json")
        assert response.status_code < 500, (path, who, body, response.content[:500])

    _rolled_back(run)


_query_values = st.one_of(
    _unicode_digits,
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    _moments(),
    st.sampled_from(["", "null", "true", "1.0", " 1", "-1", "9" * 30, "2027-02-30"]),
)
_query_keys = st.sampled_from(["hub", "constellation", "status", "kind", "from", "to", "page"])


@HYPOTHESIS
@given(data=st.data())
def test_no_query_string_gives_a_500(setup, data):
    world = setup.world
    paths = [
        reverse("api:sleepover-list"),
        reverse("api:hub-unavailability-list"),
        reverse("api:hub-cover-list"),
        reverse("api:limit-override-list"),
        reverse("api:sleepover-detail", args=[setup.request_pk]),
        reverse("api:hub-nights", args=[world.hub.pk]),
        reverse("api:hub-nights", args=[world.satellite.pk]),
        reverse("api:hub-nights", args=[2**63 + 5]),
        reverse("sleepovers:nights"),
        reverse("sleepovers:availability"),
        reverse("sleepovers:beds"),
        reverse("sleepovers:index"),
    ]
    path = data.draw(st.sampled_from(paths), label="path")
    who = data.draw(st.sampled_from(USERS), label="user")
    query = data.draw(st.dictionaries(_query_keys, _query_values, max_size=3), label="query")
    response = setup.clients[who].get(path, query)
    assert response.status_code < 500, (path, who, query, response.content[:500])
