"""The sleepover API: who sees and answers which request, the happy paths a family
and a hub carer would notice, the refusals (409) and the input that never gets
past the serializers and the services (400, nothing saved)."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from constellation import services as people
from delegated_authority import services as authority
from delegated_authority.models import Decision, Holder
from sleepovers import services
from sleepovers.models import Kind, Night, Request, Status, Transition, Unavailability

from .helpers import allow_hub, evening, stay

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user():
    def _as(user):
        client = APIClient()
        client.force_login(user)
        return client

    return _as


@pytest.fixture
def allowed(world):
    """The children's agreements let the hub carers accept stays."""
    for child in (world.child, world.neighbour_child):
        allow_hub(child, by=world.liaison)
    return world


def url(name, pk=None, query=""):
    path = reverse(f"api:{name}", args=[pk] if pk is not None else [])
    return f"{path}?{query}" if query else path


def post(client, path, data=None):
    return client.post(path, data if data is not None else {}, format="json")


def ask(world, *, carer=None, children=None, kind=Kind.PLANNED, days=5, nights=1, **kw):
    start, end = stay(days, nights)
    return services.create_request(
        by=carer or world.satellite_carer,
        kind=kind,
        children=children or [world.child],
        start=kw.pop("start", start),
        end=kw.pop("end", end),
        **kw,
    )


def booking(world, *, days=5, nights=1, **fields):
    start, end = stay(days, nights)
    return {
        "kind": "planned",
        "children": [world.child.pk],
        "start": start.isoformat(),
        "end": end.isoformat(),
        "notes": "Bedtime at eight, please.",
        **fields,
    }


def night_of(client, hub, day):
    response = client.get(url("hub-nights", hub.pk, f"from={day}&to={day}"))
    assert response.status_code == 200, response.content
    [night] = response.json()
    return night


def saved():
    return Request.objects.count(), Transition.objects.count(), Night.objects.count()


# --- anonymous: 401 -------------------------------------------------------------------

ENDPOINTS = [
    ("get", "sleepover-list", False),
    ("post", "sleepover-list", False),
    ("get", "sleepover-detail", True),
    ("post", "sleepover-accept", True),
    ("post", "sleepover-decline", True),
    ("post", "sleepover-offer", True),
    ("post", "sleepover-take-offer", True),
    ("post", "sleepover-cancel", True),
    ("post", "sleepover-arrived", True),
    ("post", "sleepover-collected", True),
    ("get", "hub-nights", "hub"),
    ("get", "hub-unavailability-list", False),
    ("post", "hub-unavailability-list", False),
]


@pytest.mark.parametrize(("method", "name", "target"), ENDPOINTS)
def test_anonymous_requests_get_401(world, method, name, target):
    request = ask(world)
    pk = {True: request.pk, "hub": world.hub.pk, False: None}[target]
    response = getattr(APIClient(), method)(url(name, pk), data={}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert "Mara" not in response.content.decode()
    assert Request.objects.get().status == Status.REQUESTED


# --- the happy paths ------------------------------------------------------------------


def test_a_family_books_a_night_and_the_hub_accepts_it(allowed, as_user):
    family = as_user(allowed.satellite_carer)
    response = post(family, url("sleepover-list"), booking(allowed))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "requested"
    assert body["status_label"] == "Requested"
    assert body["kind"] == "planned"
    assert body["nights"] == 1
    assert [
        (c["id"], c["preferred_name"], c["age"], c["record"]["last_name"]) for c in body["children"]
    ] == [(allowed.child.pk, "Mara", allowed.child.age, "Quill")]
    assert body["household"] == {"id": allowed.satellite.pk, "name": "The Ashfords"}
    assert body["hub"] == {
        "id": allowed.hub.pk,
        "name": "The Hub Home",
        "phone": allowed.hub.phone,
        "second_phone": allowed.hub.second_phone,
    }
    assert body["notes"] == "Bedtime at eight, please."
    assert [(t["from"], t["to"]) for t in body["timeline"]] == [("", "requested")]
    assert body["timeline"][0]["by"] == allowed.satellite_carer.get_full_name()

    hub = as_user(allowed.hub_carer)
    response = post(hub, url("sleepover-accept", body["id"]))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["status_label"] == "Accepted"

    day = timezone.localdate() + timedelta(days=5)
    for client in (hub, family):
        night = night_of(client, allowed.hub, day)
        assert night == {
            "date": day.isoformat(),
            "beds": 3,
            "booked": 1,
            "free": 2,
            "unavailable": False,
            "why": "",
        }
    # The family sees where its request stands.
    detail = family.get(url("sleepover-detail", body["id"])).json()
    assert detail["status"] == "accepted"
    assert [t["to"] for t in detail["timeline"]] == ["requested", "accepted"]


def test_a_stay_the_agreement_does_not_cover_waits_for_approval(world, as_user):
    request = ask(world)  # no delegated authority agreement for Mara
    response = post(as_user(world.second_hub_carer), url("sleepover-accept", request.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "awaiting_approval"
    assert body["status_label"] == "Waiting for approval"
    assert "Mara" in body["timeline"][-1]["note"]
    assert Night.objects.count() == 0


def test_a_stay_given_as_dates_starts_after_school_and_ends_next_morning(allowed, as_user):
    day = timezone.localdate() + timedelta(days=4)
    response = post(
        as_user(allowed.satellite_carer),
        url("sleepover-list"),
        booking(allowed, start=day.isoformat(), end=(day + timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 201, response.content
    request = Request.objects.get()
    assert (request.start, request.end) == (evening(4), evening(5, 10))
    assert response.json()["nights"] == 1


def test_a_decline_shows_its_reason_to_the_family(allowed, as_user):
    request = ask(allowed)
    response = post(
        as_user(allowed.hub_carer),
        url("sleepover-decline", request.pk),
        {"reason": "We are away that weekend."},
    )
    assert response.status_code == 200, response.content
    body = as_user(allowed.satellite_carer).get(url("sleepover-detail", request.pk)).json()
    assert body["status"] == "declined"
    assert body["decline_reason"] == "We are away that weekend."
    last = body["timeline"][-1]
    assert (last["from"], last["to"], last["note"]) == (
        "requested",
        "declined",
        "We are away that weekend.",
    )
    assert last["by"] == allowed.hub_carer.get_full_name()


def test_the_hub_offers_another_time_and_the_family_takes_it(allowed, as_user):
    request = ask(allowed, days=5)
    start, end = stay(8)
    response = post(
        as_user(allowed.hub_carer),
        url("sleepover-offer", request.pk),
        {"start": start.isoformat(), "end": end.isoformat()},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "offered"
    assert datetime.fromisoformat(response.json()["offered_start"]) == start

    family = as_user(allowed.satellite_carer)
    response = post(family, url("sleepover-take-offer", request.pk))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "accepted"
    assert datetime.fromisoformat(body["start"]) == start
    assert night_of(family, allowed.hub, timezone.localdate() + timedelta(days=8))["booked"] == 1
    assert night_of(family, allowed.hub, timezone.localdate() + timedelta(days=5))["booked"] == 0


def test_cancelling_frees_the_bed(allowed, as_user):
    request = ask(allowed)
    hub = as_user(allowed.hub_carer)
    assert post(hub, url("sleepover-accept", request.pk)).status_code == 200
    day = timezone.localdate() + timedelta(days=5)
    assert night_of(hub, allowed.hub, day)["free"] == 2

    response = post(
        as_user(allowed.satellite_carer),
        url("sleepover-cancel", request.pk),
        {"reason": "Mara is poorly."},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Mara is poorly."
    assert night_of(hub, allowed.hub, day) | {"date": None} == {
        "date": None,
        "beds": 3,
        "booked": 0,
        "free": 3,
        "unavailable": False,
        "why": "",
    }


def test_the_children_arrive_and_are_collected(allowed, as_user):
    request = ask(allowed)
    hub = as_user(allowed.hub_carer)
    assert post(hub, url("sleepover-accept", request.pk)).status_code == 200
    # Not before the stay is due: the hub records the arrival when the child comes.
    assert post(hub, url("sleepover-arrived", request.pk)).status_code == 409
    with time_machine.travel(request.start):
        assert post(hub, url("sleepover-arrived", request.pk)).json()["status"] == "arrived"
        assert post(hub, url("sleepover-collected", request.pk)).json()["status"] == "collected"


def test_a_crisis_at_three_in_the_morning_is_accepted(world, as_user):
    small_hours = evening(10, hour=3) + timedelta(minutes=12)
    with time_machine.travel(small_hours, tick=False):
        allow_hub(world.child, by=world.liaison)
        now = timezone.now()
        response = post(
            as_user(world.satellite_carer),
            url("sleepover-list"),
            {
                "kind": "crisis",
                "crisis_reason": "drop_off",
                "children": [world.child.pk],
                "start": now.isoformat(),
                "end": (now + timedelta(hours=4)).isoformat(),
                "notes": "Her brother needs A&E.",
            },
        )
        assert response.status_code == 201, response.content
        assert response.json()["kind"] == "crisis"
        assert response.json()["crisis_reason"] == "drop_off"
        response = post(as_user(world.hub_carer), url("sleepover-accept", response.json()["id"]))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"


def test_a_crisis_beyond_the_beds_is_accepted_only_as_a_confirmed_emergency(allowed, as_user):
    today = timezone.localdate()
    services.change_beds(allowed.hub, by=allowed.hub_carer, start=today, end=today, beds=0)
    now = timezone.now()
    request = ask(
        allowed,
        kind=Kind.CRISIS,
        crisis_reason="overnight",
        start=now,
        end=evening(1, 10),  # 24 hours after 00:30 on 31 October is 23:30 the same day
    )
    hub = as_user(allowed.hub_carer)
    response = post(hub, url("sleepover-accept", request.pk))
    assert response.status_code == 409
    assert "full" in response.json()["detail"]
    response = post(hub, url("sleepover-accept", request.pk), {"emergency": True})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["emergency_over_beds"] is True


# --- who sees and who answers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("hub_carer", 200),
        ("second_hub_carer", 200),
        ("satellite_carer", 200),
        ("liaison", 200),
        ("manager", 200),
        ("neighbour_carer", 404),
        ("other_hub_carer", 404),
        ("other_satellite_carer", 404),
        ("other_liaison", 404),
        ("other_service_manager", 404),
        ("other_service_liaison", 404),
        ("other_service_hub_carer", 404),
        ("other_service_carer", 404),
    ],
)
def test_request_detail_matrix(world, as_user, user, expected):
    request = ask(world)
    response = as_user(getattr(world, user)).get(url("sleepover-detail", request.pk))
    assert response.status_code == expected
    if expected == 404:
        assert "Mara" not in response.content.decode()


def test_unknown_and_overlong_ids_are_404(world, as_user):
    client = as_user(world.manager)
    assert client.get(url("sleepover-detail", 999999)).status_code == 404
    assert client.get(url("sleepover-detail", 10**30)).status_code == 404
    assert post(client, url("sleepover-accept", 10**30)).status_code == 404
    assert client.get(url("hub-nights", 10**30)).status_code == 404
    assert client.get("/api/v1/sleepovers/abc/").status_code == 404


HUB_ACTIONS = [
    ("sleepover-accept", {}),
    ("sleepover-decline", {"reason": "No"}),
    ("sleepover-offer", "offer"),
    ("sleepover-arrived", {}),
    ("sleepover-collected", {}),
]
REQUESTER_ACTIONS = [
    ("sleepover-cancel", {"reason": "No longer needed"}),
    ("sleepover-take-offer", {}),
]
OUTSIDERS = [
    "neighbour_carer",
    "other_hub_carer",
    "other_liaison",
    "other_service_manager",
    "other_service_hub_carer",
    "other_service_carer",
]


def _body(data):
    if data == "offer":
        start, end = stay(9)
        return {"start": start.isoformat(), "end": end.isoformat()}
    return data


@pytest.mark.parametrize(
    ("name", "data", "user", "expected"),
    [
        *[(n, d, u, 403) for n, d in HUB_ACTIONS for u in ("satellite_carer", "liaison")],
        *[(n, d, "manager", 403) for n, d in HUB_ACTIONS[:2]],
        *[(n, d, u, 403) for n, d in REQUESTER_ACTIONS for u in ("hub_carer", "liaison")],
        *[(n, d, u, 404) for n, d in HUB_ACTIONS + REQUESTER_ACTIONS for u in OUTSIDERS],
    ],
)
def test_only_the_hub_answers_and_only_the_family_cancels(
    allowed, as_user, name, data, user, expected
):
    request = ask(allowed)
    before = saved()
    response = post(as_user(getattr(allowed, user)), url(name, request.pk), _body(data))
    assert response.status_code == expected, response.content
    request.refresh_from_db()
    assert request.status == Status.REQUESTED
    assert saved() == before


def test_the_list_shows_each_user_the_requests_they_may_see(world, as_user):
    own = ask(world)
    neighbours = ask(world, carer=world.neighbour_carer, children=[world.neighbour_child])

    def ids(user):
        response = as_user(getattr(world, user)).get(url("sleepover-list"))
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    # Newest first.
    for user in ("hub_carer", "liaison", "manager"):
        assert ids(user) == [neighbours.pk, own.pk]
    assert ids("satellite_carer") == [own.pk]
    assert ids("neighbour_carer") == [neighbours.pk]
    # The social worker holds the case of the child asked for, not of the neighbour's.
    assert ids("social_worker") == [own.pk]
    for outsider in (
        "other_hub_carer",
        "other_satellite_carer",
        "other_liaison",
        "other_service_manager",
        "other_service_hub_carer",
    ):
        assert ids(outsider) == []


def test_the_list_filters_by_status_and_kind(allowed, as_user):
    planned = ask(allowed)
    now = timezone.now()
    crisis = ask(
        allowed,
        kind=Kind.CRISIS,
        crisis_reason="composure",
        start=now,
        end=now + timedelta(hours=3),
    )
    services.accept(planned, by=allowed.hub_carer)
    client = as_user(allowed.hub_carer)

    def ids(query):
        response = client.get(url("sleepover-list", query=query))
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=accepted") == [planned.pk]
    assert ids("kind=crisis") == [crisis.pk]
    assert ids("kind=crisis&status=accepted") == []
    for query, field in (("status=nope", "status"), ("kind=picnic", "kind")):
        response = client.get(url("sleepover-list", query=query))
        assert response.status_code == 400
        assert field in response.json()


def test_nights_are_seen_by_the_constellation_only(world, as_user):
    for user in ("hub_carer", "satellite_carer", "neighbour_carer", "liaison", "manager"):
        assert as_user(getattr(world, user)).get(url("hub-nights", world.hub.pk)).status_code == 200
    for outsider in (
        "other_hub_carer",
        "other_satellite_carer",
        "other_liaison",
        "other_service_manager",
        "other_service_hub_carer",
        "other_service_carer",
    ):
        response = as_user(getattr(world, outsider)).get(url("hub-nights", world.hub.pk))
        assert response.status_code == 404, outsider
    # A household that is not a hub has no nights.
    response = as_user(world.manager).get(url("hub-nights", world.satellite.pk))
    assert response.status_code == 404


def test_nights_default_to_the_month_ahead_and_show_unavailability(world, as_user):
    today = timezone.localdate()
    services.add_unavailability(
        world.hub,
        by=world.hub_carer,
        start=today + timedelta(days=2),
        end=today + timedelta(days=3),
        note="Family wedding",
    )
    response = as_user(world.satellite_carer).get(url("hub-nights", world.hub.pk))
    assert response.status_code == 200
    nights = response.json()
    assert len(nights) == 31
    assert nights[0]["date"] == today.isoformat()
    assert [(n["unavailable"], n["why"]) for n in nights[1:5]] == [
        (False, ""),
        (True, "Family wedding"),
        (True, "Family wedding"),
        (False, ""),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-03-10&to=2026-03-09", "to"),
        ("from=2026-01-01&to=2027-01-02", "to"),
        ("from=2026-13-01", "from"),
        ("from=2026-02-30", "from"),
        ("from=yesterday", "from"),
        ("from=9999-12-31&to=9999-12-31", "from"),
        ("to=0001-01-01", "to"),
    ],
)
def test_bad_night_ranges_are_400(world, as_user, query, field):
    response = as_user(world.hub_carer).get(url("hub-nights", world.hub.pk, query))
    assert response.status_code == 400
    assert field in response.json()


def test_a_year_of_nights_is_allowed(world, as_user):
    response = as_user(world.hub_carer).get(
        url("hub-nights", world.hub.pk, "from=2028-01-01&to=2028-12-31")
    )
    assert response.status_code == 200
    assert len(response.json()) == 366


# --- refused in the present state: 409 ------------------------------------------------


def test_accepting_twice_is_409(allowed, as_user):
    request = ask(allowed)
    hub = as_user(allowed.hub_carer)
    assert post(hub, url("sleepover-accept", request.pk)).status_code == 200
    before = saved()
    response = post(as_user(allowed.second_hub_carer), url("sleepover-accept", request.pk))
    assert response.status_code == 409
    assert "accepted" in response.json()["detail"]
    assert saved() == before


def test_a_full_night_is_409_and_holds_nothing(allowed, as_user):
    day = timezone.localdate() + timedelta(days=5)
    services.change_beds(allowed.hub, by=allowed.hub_carer, start=day, end=day, beds=1)
    first = ask(allowed, carer=allowed.neighbour_carer, children=[allowed.neighbour_child])
    second = ask(allowed)
    hub = as_user(allowed.hub_carer)
    assert post(hub, url("sleepover-accept", first.pk)).status_code == 200
    before = saved()
    response = post(hub, url("sleepover-accept", second.pk))
    assert response.status_code == 409
    assert "full" in response.json()["detail"]
    assert saved() == before
    second.refresh_from_db()
    assert second.status == Status.REQUESTED
    assert night_of(hub, allowed.hub, day) | {"date": None} == {
        "date": None,
        "beds": 1,
        "booked": 1,
        "free": 0,
        "unavailable": False,
        "why": "",
    }


def test_moves_the_state_does_not_allow_are_409(allowed, as_user):
    request = ask(allowed)
    hub = as_user(allowed.hub_carer)
    family = as_user(allowed.satellite_carer)
    assert post(family, url("sleepover-take-offer", request.pk)).status_code == 409
    assert post(hub, url("sleepover-arrived", request.pk)).status_code == 409
    assert post(hub, url("sleepover-decline", request.pk), {"reason": "Full"}).status_code == 200
    assert post(hub, url("sleepover-accept", request.pk)).status_code == 409
    response = post(family, url("sleepover-cancel", request.pk), {"reason": "Too late"})
    assert response.status_code == 409
    request.refresh_from_db()
    assert request.status == Status.DECLINED


# --- input: 400 naming the field, nothing saved ---------------------------------------


def _case(world, **changes):
    body = booking(world)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value(world) if callable(value) else value
    return body


def _past(world):
    return (timezone.now() - timedelta(days=2)).isoformat()


CREATE_ERRORS = [
    ("end before start", {"end": lambda w: (stay(5)[0] - timedelta(hours=1)).isoformat()}, "end"),
    ("past", {"start": _past, "end": lambda w: timezone.now().isoformat()}, "start"),
    ("neighbour's child", {"children": lambda w: [w.neighbour_child.pk]}, "children"),
    ("other service child", {"children": lambda w: [w.other_service_child.pk]}, "children"),
    ("unknown child", {"children": [987654]}, "children"),
    ("other constellation hub", {"hub": lambda w: w.other_constellation.hub_id}, "hub"),
    ("other service hub", {"hub": lambda w: w.other_service_constellation.hub_id}, "hub"),
    ("long notes", {"notes": "x" * 10_000}, "notes"),
    ("kind a number", {"kind": 5}, "kind"),
    ("unknown kind", {"kind": "picnic"}, "kind"),
    ("temporary", {"kind": "temporary"}, "kind"),
    (
        "crisis without reason",
        {
            "kind": "crisis",
            # With their offset: never the hour a clock change repeats, whenever it runs.
            "start": lambda w: timezone.now().replace(microsecond=0).isoformat(),
            "end": lambda w: (
                (timezone.now() + timedelta(hours=3)).replace(microsecond=0).isoformat()
            ),
        },
        "crisis_reason",
    ),
    ("unknown crisis reason", {"crisis_reason": "boredom"}, "crisis_reason"),
    ("children a string", {"children": "1"}, "children"),
    ("children of strings", {"children": lambda w: [str(w.child.pk)]}, "children"),
    ("children of booleans", {"children": [True]}, "children"),
    ("children ids too big", {"children": [2**70]}, "children"),
    ("empty children", {"children": []}, "children"),
    ("start a number", {"start": 1767225600}, "start"),
    ("start a word", {"start": "tomorrow"}, "start"),
    ("no such day", {"start": "2030-02-30T17:00"}, "start"),
    ("far year", {"start": "9999-12-31T23:00:00-05:00"}, "start"),
    ("year one", {"end": "0001-01-01"}, "end"),
    ("notes a number", {"notes": 5}, "notes"),
    ("hub a string", {"hub": "x"}, "hub"),
    ("missing start", {"start": ...}, "start"),
    ("missing children", {"children": ...}, "children"),
    ("unknown field", {"status": "accepted"}, "status"),
]


@pytest.mark.parametrize(
    ("changes", "field"),
    [pytest.param(c, f, id=name) for name, c, f in CREATE_ERRORS],
)
def test_bad_requests_are_400_naming_the_field(world, as_user, changes, field):
    before = saved()
    response = post(as_user(world.satellite_carer), url("sleepover-list"), _case(world, **changes))
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert saved() == before


def test_an_invisible_child_reads_as_an_unknown_one(world, as_user):
    client = as_user(world.satellite_carer)
    answers = set()
    for pk in (world.other_service_child.pk, world.other_constellation_child.pk, 987654):
        response = post(client, url("sleepover-list"), booking(world, children=[pk]))
        assert response.status_code == 400
        answers.add(response.content.decode().replace(str(pk), "ID"))
    assert len(answers) == 1


def test_a_body_that_is_not_an_object_is_400(world, as_user):
    client = as_user(world.satellite_carer)
    assert client.post(url("sleepover-list"), [], format="json").status_code == 400
    response = client.post(url("sleepover-list"), "{", content_type="application/json")
    assert response.status_code == 400
    assert Request.objects.count() == 0


@pytest.mark.parametrize("user", ["hub_carer", "liaison", "manager"])
def test_only_a_satellite_carer_asks(world, as_user, user):
    response = post(as_user(getattr(world, user)), url("sleepover-list"), booking(world))
    assert response.status_code == 400
    assert "household" in response.json()
    assert Request.objects.count() == 0


def test_a_household_that_left_the_constellation_cannot_ask(world, as_user):
    people.end_membership(world.satellite.memberships.get(), by=world.liaison, reason="Moved away")
    response = post(as_user(world.satellite_carer), url("sleepover-list"), booking(world))
    assert response.status_code == 400
    assert "household" in response.json()
    assert Request.objects.count() == 0


def test_a_stay_when_the_hub_is_away_names_the_hubs_note(world, as_user):
    day = timezone.localdate() + timedelta(days=5)
    services.add_unavailability(
        world.hub, by=world.hub_carer, start=day, end=day, note="Our own family holiday"
    )
    response = post(as_user(world.satellite_carer), url("sleepover-list"), booking(world))
    assert response.status_code == 400
    assert "Our own family holiday" in response.json()["start"][0]
    assert Request.objects.count() == 0


def test_more_nights_than_the_delegated_authority_allows(world, as_user):
    today = timezone.localdate()
    authority.create_agreement(
        world.child,
        by=world.liaison,
        effective_from=today - timedelta(days=1),
        review_on=today + timedelta(days=180),
        signed_off_role="liaison_worker",
        clauses=[
            authority.ClauseInput(
                Decision.objects.get(code="overnight_hub_planned"),
                Holder.BOTH,
                max_consecutive_nights=1,
            )
        ],
    )
    client = as_user(world.satellite_carer)
    response = post(client, url("sleepover-list"), booking(world, nights=2))
    assert response.status_code == 400
    assert "at most 1 consecutive night" in response.json()["end"][0]
    assert Request.objects.count() == 0
    assert post(client, url("sleepover-list"), booking(world, nights=1)).status_code == 201


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("sleepover-decline", {}, "reason"),
        ("sleepover-decline", {"reason": "   "}, "reason"),
        ("sleepover-decline", {"reason": 5}, "reason"),
        ("sleepover-decline", {"reason": "x" * 501}, "reason"),
        ("sleepover-offer", {"start": "soon"}, "start"),
        ("sleepover-offer", "end before start", "end"),
        ("sleepover-offer", "in the past", "start"),
        ("sleepover-accept", {"emergency": "maybe"}, "emergency"),
        ("sleepover-accept", {"emergncy": True}, "emergncy"),
        ("sleepover-arrived", {"when": "now"}, "when"),
    ],
)
def test_bad_answers_are_400_and_change_nothing(world, as_user, name, data, field):
    request = ask(world)
    if data == "end before start":
        start, _ = stay(9)
        data = {"start": start.isoformat(), "end": (start - timedelta(hours=2)).isoformat()}
    elif data == "in the past":
        data = {"start": _past(world), "end": timezone.now().isoformat()}
    before = saved()
    response = post(as_user(world.hub_carer), url(name, request.pk), data)
    assert response.status_code == 400, response.content
    assert field in response.json()
    request.refresh_from_db()
    assert request.status == Status.REQUESTED
    assert saved() == before


def test_bad_cancel_is_400(world, as_user):
    request = ask(world)
    client = as_user(world.satellite_carer)
    for data in ({}, {"reason": ""}, {"reason": ["a"]}):
        response = post(client, url("sleepover-cancel", request.pk), data)
        assert response.status_code == 400
        assert "reason" in response.json()
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


# --- the hub's availability ------------------------------------------------------------


def period(world, **fields):
    day = timezone.localdate() + timedelta(days=20)
    return {
        "hub": world.hub.pk,
        "start": day.isoformat(),
        "end": (day + timedelta(days=6)).isoformat(),
        "note": "Our summer holiday",
        **fields,
    }


def test_the_hub_publishes_when_it_is_away_and_the_families_see_it(world, as_user):
    response = post(as_user(world.hub_carer), url("hub-unavailability-list"), period(world))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["hub"] == {"id": world.hub.pk, "name": "The Hub Home"}
    assert body["note"] == "Our summer holiday"

    rows = as_user(world.satellite_carer).get(url("hub-unavailability-list")).json()["results"]
    assert [row["id"] for row in rows] == [body["id"]]
    hub_rows = as_user(world.manager).get(
        url("hub-unavailability-list", query=f"hub={world.hub.pk}")
    )
    assert [row["id"] for row in hub_rows.json()["results"]] == [body["id"]]
    for outsider in ("other_hub_carer", "other_satellite_carer", "other_service_manager"):
        response = as_user(getattr(world, outsider)).get(url("hub-unavailability-list"))
        assert response.status_code == 200
        assert response.json()["results"] == []


def test_the_liaison_worker_may_publish_it_too(world, as_user):
    response = post(as_user(world.liaison), url("hub-unavailability-list"), period(world))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("user", "hub", "expected"),
    [
        ("satellite_carer", "hub", 403),
        ("neighbour_carer", "hub", 403),
        ("other_hub_carer", "hub", 404),
        ("other_liaison", "hub", 404),
        ("other_service_manager", "hub", 404),
        ("other_service_hub_carer", "hub", 404),
        ("hub_carer", "other_service_hub", 404),
        ("hub_carer", "other_constellation_hub", 404),
        ("hub_carer", "satellite", 404),
    ],
)
def test_only_the_hub_and_its_staff_publish_unavailability(world, as_user, user, hub, expected):
    hub_id = {
        "hub": world.hub.pk,
        "other_service_hub": world.other_service_constellation.hub_id,
        "other_constellation_hub": world.other_constellation.hub_id,
        "satellite": world.satellite.pk,
    }[hub]
    response = post(
        as_user(getattr(world, user)), url("hub-unavailability-list"), period(world, hub=hub_id)
    )
    assert response.status_code == expected
    assert Unavailability.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end": "2030-01-01", "start": "2030-01-05"}, "end"),
        ({"note": "   "}, "note"),
        ({"note": "x" * 201}, "note"),
        ({"start": "2030-02-30"}, "start"),
        ({"start": 20300101}, "start"),
        ({"hub": "1"}, "hub"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_unavailability_is_400(world, as_user, changes, field):
    response = post(
        as_user(world.hub_carer), url("hub-unavailability-list"), period(world, **changes)
    )
    assert response.status_code == 400
    assert field in response.json()
    assert Unavailability.objects.count() == 0


def test_a_bad_hub_filter_is_400(world, as_user):
    response = as_user(world.hub_carer).get(url("hub-unavailability-list", query="hub=x"))
    assert response.status_code == 400


# --- query counts and the schema -------------------------------------------------------


def _many_requests(world, n):
    start, end = evening(3), evening(4, 10)
    for _ in range(n):
        request = Request.objects.create(
            constellation=world.constellation,
            hub=world.hub,
            household=world.satellite,
            requested_by=world.satellite_carer,
            kind=Kind.PLANNED,
            start=start,
            end=end,
        )
        request.children.set([world.child])


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("sleepover-list", query="limit=100"))
    assert response.status_code == 200
    return len(queries), response.json()


@pytest.mark.parametrize("user", ["hub_carer", "satellite_carer", "manager"])
def test_the_list_costs_the_same_queries_for_10_and_200_requests(
    world, as_user, django_assert_max_num_queries, user
):
    client = as_user(getattr(world, user))
    _many_requests(world, 10)
    # session, user, count, page, children, the caseload (what a social worker sees),
    # the user's household and constellations, which children's records they see now,
    # the access log of those shown, and the audit trail of them (names, one insert)
    with django_assert_max_num_queries(12):
        few, body = _list_queries(client)
    assert body["count"] == 10
    _many_requests(world, 190)
    with django_assert_max_num_queries(12):
        many, body = _list_queries(client)
    assert body["count"] == 200
    assert len(body["results"]) == 100
    assert [
        (c["id"], c["preferred_name"], c["age"], c["record"]["last_name"])
        for c in body["results"][0]["children"]
    ] == [(world.child.pk, "Mara", world.child.age, "Quill")]
    assert few == many


def test_the_schema_lists_the_sleepover_endpoints(world, as_user):
    response = as_user(world.satellite_carer).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    paths = response.json()["paths"]
    for path in (
        "/api/v1/sleepovers/",
        "/api/v1/sleepovers/{id}/",
        "/api/v1/sleepovers/{id}/accept/",
        "/api/v1/sleepovers/{id}/decline/",
        "/api/v1/sleepovers/{id}/offer/",
        "/api/v1/sleepovers/{id}/take-offer/",
        "/api/v1/sleepovers/{id}/cancel/",
        "/api/v1/sleepovers/{id}/arrived/",
        "/api/v1/sleepovers/{id}/collected/",
        "/api/v1/hubs/{id}/nights/",
        "/api/v1/hub-unavailability/",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/sleepovers/"]) == {"get", "post"}


# --- the schema says what the answers hold and which dates are accepted -------------


def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_a_planned_stay_has_a_blank_crisis_reason_and_the_schema_allows_it(allowed, as_user):
    import jsonschema

    ask(allowed)
    [row] = as_user(allowed.hub_carer).get(url("sleepover-list")).json()["results"]
    assert row["crisis_reason"] == ""
    schema = _schema()
    document = {**schema, **schema["components"]["schemas"]["SleepoverRequestSummary"]}
    jsonschema.Draft202012Validator(document).validate(row)


@pytest.mark.parametrize(
    ("day", "accepted"),
    [
        ("1999-12-31", False),
        ("2000-01-01", True),
        ("2100-12-31", True),
        ("2101-01-01", False),
        ("9999-12-31", False),
    ],
)
def test_the_schema_accepts_the_years_the_server_accepts(world, as_user, day, accepted):
    """The hub's nights read a day from 2000 to 2100: the schema's pattern says so,
    and the server refuses any other year with a 400 naming the field."""
    import re

    parameters = _schema()["paths"]["/api/v1/hubs/{id}/nights/"]["get"]["parameters"]
    [from_] = [p for p in parameters if p["name"] == "from"]
    assert bool(re.search(from_["schema"]["pattern"], day)) is accepted
    response = as_user(world.hub_carer).get(url("hub-nights", world.hub.pk, f"from={day}"))
    if accepted:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert "from" in response.json()
