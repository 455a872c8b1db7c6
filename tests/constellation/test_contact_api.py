"""Regular contact over the API: check-ins, concerns, the activity feed and coverage.
Who reads and who acts, what each answer holds (never a child's surname or health),
and that no input reaches a 500 or leaves a row behind when it is refused."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from constellation import services
from constellation.contact_api import BAD_CURSOR, CLOSE_NOTE_MISSING, encode_cursor
from constellation.models import (
    Activity,
    ActivityKind,
    CheckIn,
    Concern,
    FollowUp,
    kind_of_verb,
)
from notifications.models import Channel, Kind, Notification
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# A Wednesday in February: London is on GMT.
NOON = datetime(2027, 2, 10, 12, tzinfo=LONDON)
TODAY = date(2027, 2, 10)
SECRETS = ("Quill", "Amara", "Penicillin", "Melatonin", "quiet room", "0300 555 0199")
HUGE = 2**63 + 5


@pytest.fixture
def clock():
    """Listed before ``world``: the world is built at noon on a pinned day."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def as_user():
    def _as(user):
        client = APIClient(raise_request_exception=False)
        client.force_login(user)
        return client

    return _as


def url(name, pk=None):
    return reverse(f"api:{name}", args=[pk] if pk is not None else [])


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def check_in(w, *, by=None, household=None, **fields):
    fields.setdefault("occurred_at", NOON - timedelta(hours=2))
    fields.setdefault("method", CheckIn.Method.PHONE)
    return services.record_check_in(household or w.satellite, by=by or w.hub_carer, **fields)


def concern(w, **fields):
    fields.setdefault("reasons", [Concern.Reason.CANNOT_COPE])
    return services.open_concern_by_hand(w.satellite, by=w.hub_carer, **fields)


def body(w, **fields):
    data = {
        "household": w.satellite.pk,
        "occurred_at": "2027-02-10T11:15",
        "method": "visit",
        "note": "Settled week, school going well",
    }
    data.update(fields)
    return data


def assert_no_secrets(response):
    text = response.content.decode()
    for secret in SECRETS:
        assert secret not in text, secret


# --- check-ins: recording ------------------------------------------------------------------


def test_the_hub_carer_records_a_check_in_with_a_follow_up(clock, world, as_user):
    w = world
    response = as_user(w.hub_carer).post(
        url("check-in-list"),
        body(
            w,
            participants="Sam and Mara",
            concern_level="low",
            follow_ups=[
                {
                    "action": "Send the respite dates",
                    "due_on": "2027-02-12",
                    "assigned_to": w.liaison.pk,
                }
            ],
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["household"] == {"id": w.satellite.pk, "name": "The Ashfords"}
    assert data["occurred_at"] == "2027-02-10T11:15:00+00:00"
    assert data["method"] == "visit"
    assert data["method_label"] == "Visit"
    assert data["made"] is True
    assert data["concern_level"] == "low"
    assert data["recorded_by"]["id"] == w.hub_carer.pk
    [follow_up] = data["follow_ups"]
    assert follow_up["action"] == "Send the respite dates"
    assert follow_up["due_on"] == "2027-02-12"
    assert follow_up["assigned_to"]["id"] == w.liaison.pk
    assert follow_up["overdue"] is False
    saved = CheckIn.objects.get(pk=data["id"])
    assert saved.recorded_by == w.hub_carer
    assert saved.follow_ups.get().assigned_to == w.liaison
    assert Activity.objects.filter(verb="check_in.recorded", household=w.satellite).exists()
    assert_no_secrets(response)


def test_the_liaison_worker_records_an_attempt_that_does_not_count_as_contact(
    clock, world, as_user
):
    w = world
    response = as_user(w.liaison).post(
        url("check-in-list"), body(w, made=False, method="phone"), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["made"] is False
    [row] = [
        r
        for r in rows_of(as_user(w.liaison).get(url("coverage")))
        if r["household"]["id"] == w.satellite.pk
    ]
    assert row["last_contact"] is None


def test_a_time_without_an_offset_is_london_time_in_summer(world, as_user):
    with time_machine.travel(datetime(2027, 7, 1, 12, tzinfo=LONDON), tick=False):
        response = as_user(world.hub_carer).post(
            url("check-in-list"), body(world, occurred_at="2027-07-01T09:30"), format="json"
        )
    assert response.status_code == 201, response.content
    assert response.json()["occurred_at"] == "2027-07-01T09:30:00+01:00"
    assert CheckIn.objects.get().occurred_at == datetime(2027, 7, 1, 8, 30, tzinfo=ZoneInfo("UTC"))


def test_a_time_with_an_offset_is_taken_as_given(clock, world, as_user):
    response = as_user(world.hub_carer).post(
        url("check-in-list"), body(world, occurred_at="2027-02-10T10:00:00-05:00"), format="json"
    )
    assert response.status_code == 400  # 15:00 in London: in the future
    response = as_user(world.hub_carer).post(
        url("check-in-list"), body(world, occurred_at="2027-02-10T09:00:00Z"), format="json"
    )
    assert response.json()["occurred_at"] == "2027-02-10T09:00:00+00:00"


def test_without_a_time_the_check_in_is_now(clock, world, as_user):
    data = body(world)
    del data["occurred_at"]
    response = as_user(world.hub_carer).post(url("check-in-list"), data, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["occurred_at"] == "2027-02-10T12:00:00+00:00"


@pytest.mark.parametrize(
    ("now", "sent", "words"),
    [
        (datetime(2027, 3, 28, 12, tzinfo=LONDON), "2027-03-28T01:30", "does not exist"),
        (datetime(2027, 10, 31, 12, tzinfo=LONDON), "2027-10-31T01:30", "happens twice"),
    ],
)
def test_a_time_the_clock_change_skips_or_repeats_is_refused(world, as_user, now, sent, words):
    with time_machine.travel(now, tick=False):
        response = as_user(world.hub_carer).post(
            url("check-in-list"), body(world, occurred_at=sent), format="json"
        )
    assert response.status_code == 400
    [message] = response.json()["occurred_at"]
    assert words in message
    assert not CheckIn.objects.exists()


def test_a_check_in_in_the_future_is_refused(clock, world, as_user):
    response = as_user(world.hub_carer).post(
        url("check-in-list"), body(world, occurred_at="2027-02-10T12:01"), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"occurred_at": ["A check-in cannot be in the future."]}
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"method": "carrier pigeon"}, "method"),
        ({"method": None}, "method"),
        ({"concern_level": "extreme"}, "concern_level"),
        ({"made": "yes"}, "made"),
        ({"made": 1}, "made"),
        ({"note": 5}, "note"),
        ({"note": "x" * 1001}, "note"),
        ({"participants": ["Sam"]}, "participants"),
        ({"household": str(0)}, "household"),
        ({"household": "12"}, "household"),
        ({"household": 1.5}, "household"),
        ({"household": True}, "household"),
        ({"household": HUGE}, "household"),
        ({"household": -3}, "household"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "1999-12-31T10:00"}, "occurred_at"),
        ({"occurred_at": 1700000000}, "occurred_at"),
        ({"occurred_at": "２０２７-02-10T10:00"}, "occurred_at"),
        ({"follow_ups": "call back"}, "follow_ups"),
        ({"follow_ups": [{"action": "Call", "due_on": "2027-02-12"}]}, "follow_ups"),
        ({"mood": "fine"}, "mood"),
    ],
)
def test_wrong_input_is_a_400_naming_the_field(clock, world, as_user, fields, named):
    response = as_user(world.hub_carer).post(
        url("check-in-list"), body(world, **fields), format="json"
    )
    assert response.status_code == 400, response.content
    assert named in response.json()
    assert not CheckIn.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(clock, world, as_user):
    client = as_user(world.hub_carer)
    for sent in ([1, 2], "visit", 7, None):
        response = client.post(url("check-in-list"), sent, format="json")
        assert response.status_code == 400, sent
    response = client.post(url("check-in-list"), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert not CheckIn.objects.exists()


def test_follow_ups_are_due_from_today_and_given_to_who_can_act(clock, world, as_user):
    w = world
    client = as_user(w.hub_carer)

    def follow_up(**fields):
        line = {"action": "Ring the school", "due_on": "2027-02-10", "assigned_to": w.hub_carer.pk}
        line.update(fields)
        return client.post(url("check-in-list"), body(w, follow_ups=[line]), format="json")

    response = follow_up(due_on="2027-02-09")
    assert response.status_code == 400
    assert response.json() == {
        "follow_ups": {"0": {"due_on": ["A follow-up cannot be due before today."]}}
    }
    for someone in (w.satellite_carer, w.other_liaison, w.other_service_manager):
        response = follow_up(assigned_to=someone.pk)
        assert response.status_code == 400
        assert "hub carer or liaison worker" in response.json()["follow_ups"]["0"]["assigned_to"][0]
    for wrong in (
        {"action": "   "},
        {"action": "x" * 301},
        {"assigned_to": HUGE},
        {"due_on": "10/02/2027"},
        {"colour": "red"},
    ):
        assert follow_up(**wrong).status_code == 400, wrong
    response = client.post(
        url("check-in-list"),
        body(w, follow_ups=[{"action": "x", "due_on": "2027-02-11", "assigned_to": 1}] * 11),
        format="json",
    )
    assert response.status_code == 400
    assert not CheckIn.objects.exists()
    assert follow_up(assigned_to=w.second_hub_carer.pk).status_code == 201


def test_a_check_in_at_high_concern_opens_a_concern_and_alerts_the_liaison_worker(
    clock, world, as_user
):
    w = world
    response = as_user(w.hub_carer).post(
        url("check-in-list"), body(w, concern_level="high"), format="json"
    )
    assert response.status_code == 201
    opened = Concern.objects.get(household=w.satellite)
    assert opened.source == Concern.Source.HIGH_CHECK_IN
    alert = Notification.objects.get(recipient=w.liaison, kind=Kind.CONCERN, channel=Channel.IN_APP)
    # Named by its carers' first names, never the household's name (a surname a placed
    # child may share).
    assert f"{w.satellite_carer.first_name}'s household" in alert.body
    assert "Ashford" not in alert.body


def test_who_may_record_a_check_in(clock, world, as_user):
    w = world
    send = lambda user, household=w.satellite.pk: as_user(user).post(  # noqa: E731
        url("check-in-list"), body(w, household=household), format="json"
    )
    assert APIClient().post(url("check-in-list"), body(w), format="json").status_code == 401
    # Members of the constellation see the household, and may not record (403).
    assert send(w.satellite_carer).status_code == 403
    assert send(w.neighbour_carer).status_code == 403
    assert send(w.social_worker).status_code == 403  # sees the household of their case
    # Outside it, the household is not there at all (404).
    assert send(w.other_liaison).status_code == 404
    assert send(w.other_hub_carer).status_code == 404
    assert send(w.other_service_manager).status_code == 404
    assert send(w.other_service_liaison).status_code == 404
    # A household that is no satellite (the hub itself), or of another service.
    assert send(w.hub_carer, w.hub.pk).status_code == 403
    other_service_household = w.other_service_child.household_id
    assert send(w.hub_carer, other_service_household).status_code == 404
    assert send(w.hub_carer, 2**62).status_code == 404
    assert not CheckIn.objects.exists()
    assert send(w.hub_carer).status_code == 201
    assert send(w.liaison).status_code == 201
    assert send(w.manager).status_code == 403  # managers read; they do not record


# --- check-ins: reading ----------------------------------------------------------------------


def test_the_list_shows_check_ins_to_the_hub_the_liaison_and_managers_only(clock, world, as_user):
    w = world
    ours = check_in(w, note="Talked about the half-term plans")
    check_in(w, household=w.neighbour, note="The Brookes are fine")
    theirs = check_in(
        w,
        by=w.other_hub_carer,
        household=w.other_constellation_child.household,
        note="Hillside note",
    )
    for reader in (w.hub_carer, w.liaison, w.manager):
        found = {row["id"]: row for row in rows_of(as_user(reader).get(url("check-in-list")))}
        assert ours.pk in found, reader
        assert theirs.pk not in found or reader == w.manager
    for outsider in (
        w.satellite_carer,
        w.neighbour_carer,
        w.social_worker,
        w.other_service_manager,
        w.other_service_hub_carer,
    ):
        response = as_user(outsider).get(url("check-in-list"))
        assert rows_of(response) == [], outsider
        assert "half-term" not in response.content.decode()
    hillside = rows_of(as_user(w.other_liaison).get(url("check-in-list")))
    assert [row["id"] for row in hillside] == [theirs.pk]


def test_the_list_filters_by_household_and_constellation(clock, world, as_user):
    w = world
    ours = check_in(w)
    neighbours = check_in(w, household=w.neighbour)
    theirs = check_in(w, by=w.other_hub_carer, household=w.other_constellation_child.household)
    client = as_user(w.manager)
    ids = lambda **q: [r["id"] for r in rows_of(client.get(url("check-in-list"), q))]  # noqa: E731
    assert ids(household=w.satellite.pk) == [ours.pk]
    assert set(ids(constellation=w.constellation.pk)) == {ours.pk, neighbours.pk}
    assert ids(constellation=w.other_constellation.pk) == [theirs.pk]
    assert ids(household=w.other_service_child.household_id) == []
    for wrong in (
        {"household": "abc"},
        {"household": str(HUGE)},
        {"constellation": "-1"},
        {"household": "٣"},
    ):
        assert client.get(url("check-in-list"), wrong).status_code == 400, wrong


def test_a_check_in_is_read_by_who_may_read_it(clock, world, as_user):
    w = world
    found = check_in(
        w,
        note="All well",
        follow_ups=[services.FollowUpInput("Book the review", TODAY, w.hub_carer)],
    )
    response = as_user(w.liaison).get(url("check-in-detail", found.pk))
    assert response.status_code == 200
    assert response.json()["note"] == "All well"
    assert response.json()["follow_ups"][0]["assigned_to"]["id"] == w.hub_carer.pk
    for outsider in (w.satellite_carer, w.other_liaison, w.other_service_manager):
        assert as_user(outsider).get(url("check-in-detail", found.pk)).status_code == 404
    assert as_user(w.hub_carer).get(url("check-in-detail", HUGE)).status_code == 404
    assert as_user(w.hub_carer).get(f"{url('check-in-list')}abc/").status_code == 404


def test_an_overdue_follow_up_says_so(clock, world, as_user):
    w = world
    found = check_in(w, follow_ups=[services.FollowUpInput("Call back", TODAY, w.hub_carer)])
    clock.move_to(NOON + timedelta(days=2))
    [follow_up] = as_user(w.hub_carer).get(url("check-in-detail", found.pk)).json()["follow_ups"]
    assert follow_up["overdue"] is True


def test_the_list_costs_the_same_queries_for_many_check_ins(
    clock, world, as_user, django_assert_max_num_queries
):
    w = world
    for i in range(12):
        check_in(
            w,
            household=w.satellite if i % 2 else w.neighbour,
            follow_ups=[services.FollowUpInput(f"Step {i}", TODAY, w.liaison)],
        )
    client = as_user(w.liaison)
    with django_assert_max_num_queries(6):
        assert len(rows_of(client.get(url("check-in-list")))) == 12


# --- concerns ------------------------------------------------------------------------------


def test_the_hub_carer_opens_a_concern_by_hand_naming_a_child(clock, world, as_user):
    w = world
    response = as_user(w.hub_carer).post(
        url("concern-list"),
        {
            "household": w.satellite.pk,
            "reasons": ["cannot_cope", "missing_episodes"],
            "description": "Sam says they are exhausted",
            "children": [w.child.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "open"
    assert data["source"] == "by_hand"
    assert data["reasons"] == ["cannot_cope", "missing_episodes"]
    assert data["reason_labels"][0] == "The carer says they cannot cope"
    assert data["children"] == [{"id": w.child.pk, "preferred_name": "Mara"}]
    assert data["opened_by"]["id"] == w.hub_carer.pk
    assert_no_secrets(response)
    alert = Notification.objects.get(recipient=w.liaison, kind=Kind.CONCERN, channel=Channel.IN_APP)
    assert alert.link == f"/concerns/{data['id']}/" or str(data["id"]) in alert.link


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"reasons": []}, "reasons"),
        ({"reasons": "cannot_cope"}, "reasons"),
        ({"reasons": ["fed_up"]}, "reasons"),
        ({"reasons": ["other"]}, "description"),
        ({"reasons": ["other"], "description": "   "}, "description"),
        ({"description": "x" * 1001}, "description"),
        ({"children": ["Mara"]}, "children"),
        ({"children": [HUGE]}, "children"),
        ({"household": "The Ashfords"}, "household"),
        ({"status": "closed"}, "status"),
    ],
)
def test_a_concern_with_wrong_input_is_a_400(clock, world, as_user, fields, named):
    data = {"household": world.satellite.pk, "reasons": ["allegation"]}
    data.update(fields)
    response = as_user(world.liaison).post(url("concern-list"), data, format="json")
    assert response.status_code == 400, response.content
    assert named in response.json()
    assert not Concern.objects.exists()


def test_a_concern_names_children_of_its_household_only(clock, world, as_user):
    w = world
    for child in (w.neighbour_child, w.other_constellation_child, w.other_service_child):
        response = as_user(w.hub_carer).post(
            url("concern-list"),
            {"household": w.satellite.pk, "reasons": ["allegation"], "children": [child.pk]},
            format="json",
        )
        assert response.status_code == 400
        assert response.json() == {"children": ["Choose children placed in this household."]}
    assert not Concern.objects.exists()


def test_who_may_open_a_concern(clock, world, as_user):
    w = world
    send = lambda user: as_user(user).post(  # noqa: E731
        url("concern-list"),
        {"household": w.satellite.pk, "reasons": ["allegation"]},
        format="json",
    )
    assert send(w.satellite_carer).status_code == 403
    assert send(w.other_liaison).status_code == 404
    assert send(w.other_service_manager).status_code == 404
    assert not Concern.objects.exists()
    assert send(w.liaison).status_code == 201


def test_concerns_are_listed_to_their_readers_filtered_by_status(clock, world, as_user):
    w = world
    open_one = concern(w, description="Open one")
    closed = concern(w, description="Closed one")
    services.close_concern(closed, by=w.liaison, note="Met the family")
    client = as_user(w.hub_carer)
    ids = lambda **q: [r["id"] for r in rows_of(client.get(url("concern-list"), q))]  # noqa: E731
    assert ids() == [open_one.pk, closed.pk]  # open first
    assert ids(status="open") == [open_one.pk]
    assert ids(status="closed") == [closed.pk]
    assert ids(household=w.neighbour.pk) == []
    assert client.get(url("concern-list"), {"status": "pending"}).status_code == 400
    for outsider in (
        w.satellite_carer,
        w.neighbour_carer,
        w.other_liaison,
        w.other_service_manager,
    ):
        response = as_user(outsider).get(url("concern-list"))
        assert rows_of(response) == [], outsider
        assert "Open one" not in response.content.decode()


def test_a_concern_is_read_by_who_may_read_it(clock, world, as_user):
    w = world
    found = concern(w, children=[w.child])
    response = as_user(w.manager).get(url("concern-detail", found.pk))
    assert response.status_code == 200
    assert response.json()["children"] == [{"id": w.child.pk, "preferred_name": "Mara"}]
    assert_no_secrets(response)
    for outsider in (
        w.satellite_carer,
        w.neighbour_carer,
        w.other_liaison,
        w.other_service_manager,
        w.other_service_liaison,
    ):
        assert as_user(outsider).get(url("concern-detail", found.pk)).status_code == 404
    assert as_user(w.manager).get(url("concern-detail", HUGE)).status_code == 404


def test_a_concern_closes_with_a_note_once(clock, world, as_user):
    w = world
    found = concern(w)
    close = lambda user, data: as_user(user).post(  # noqa: E731
        url("concern-close", found.pk), data, format="json"
    )
    assert close(w.hub_carer, {"note": "Spoke to them"}).status_code == 403
    assert close(w.satellite_carer, {"note": "Spoke to them"}).status_code == 404
    assert close(w.other_liaison, {"note": "Spoke to them"}).status_code == 404
    for missing in ({}, {"note": ""}, {"note": "   "}, {"note": None}):
        response = close(w.liaison, missing)
        assert response.status_code == 400, missing
        assert response.json() == {"note": [CLOSE_NOTE_MISSING]}
    for wrong in (
        {"note": 12},
        {"note": "ok", "stability_meeting_on": "2029-01-01"},
        {"note": "ok", "stability_meeting_on": "soon"},
        {"note": "ok", "x": 1},
    ):
        assert close(w.liaison, wrong).status_code == 400, wrong
    found.refresh_from_db()
    assert found.status == Concern.Status.OPEN
    response = close(
        w.liaison, {"note": "Stability meeting held", "stability_meeting_on": "2027-02-09"}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "closed"
    assert data["action_note"] == "Stability meeting held"
    assert data["stability_meeting_on"] == "2027-02-09"
    assert data["closed_by"]["id"] == w.liaison.pk
    again = close(w.manager, {"note": "Closing again"})
    assert again.status_code == 409
    assert again.json() == {"detail": "This concern is already closed."}
    assert close(w.liaison, {"note": "x"}).status_code == 409


def test_a_manager_closes_a_concern(clock, world, as_user):
    found = concern(world)
    response = as_user(world.manager).post(
        url("concern-close", found.pk), {"note": "Support plan agreed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["stability_meeting_on"] is None


# --- the activity feed -----------------------------------------------------------------------


def _activity(w, n: int, *, start: datetime, household=None, verb="check_in.recorded"):
    """``n`` rows of the record, one a minute back from ``start``, two by two on the
    same moment (so that the cursor must break ties by id)."""
    target = ContentType.objects.get_for_model(w.constellation)
    Activity.objects.bulk_create(
        Activity(
            service=w.service,
            constellation=w.constellation,
            household=household or w.satellite,
            verb=verb,
            kind=kind_of_verb(verb),
            target_type=target,
            target_id=w.constellation.pk,
            summary=f"Row {i}",
            created_at=start - timedelta(minutes=i // 2),
        )
        for i in range(n)
    )


def test_the_feed_is_for_liaison_workers_and_managers(clock, world, as_user):
    w = world
    check_in(w, note="Went well")
    assert APIClient().get(url("activity")).status_code == 401
    for carer in (w.hub_carer, w.satellite_carer, w.social_worker, w.other_service_hub_carer):
        response = as_user(carer).get(url("activity"))
        assert response.status_code == 403, carer
        assert "Ashfords" not in response.content.decode()
    summaries = [r["summary"] for r in rows_of(as_user(w.liaison).get(url("activity")))]
    assert "Phone call with The Ashfords" in summaries
    assert "Phone call with The Ashfords" in [
        r["summary"] for r in rows_of(as_user(w.manager).get(url("activity")))
    ]
    for outsider in (w.other_liaison, w.other_service_manager, w.other_service_liaison):
        response = as_user(outsider).get(url("activity"))
        assert response.status_code == 200
        assert "Ashfords" not in response.content.decode(), outsider
        assert (
            as_user(outsider)
            .get(url("activity"), {"constellation": w.constellation.pk})
            .json()["results"]
            == []
        )


def test_a_feed_row_says_what_when_and_about_whom(clock, world, as_user):
    w = world
    concern(w, children=[w.child])
    [row] = rows_of(as_user(w.liaison).get(url("activity"), {"kind": "concern"}))
    assert row["kind"] == "concern"
    assert row["kind_label"] == "Concerns"
    assert row["verb"] == "concern.opened"
    assert row["created_at"] == "2027-02-10T12:00:00+00:00"
    assert row["household"] == {"id": w.satellite.pk, "name": "The Ashfords"}
    assert row["constellation"] == {"id": w.constellation.pk, "name": "Riverside"}
    assert row["children"] == [{"id": w.child.pk, "preferred_name": "Mara"}]
    assert row["actor"]["id"] == w.hub_carer.pk
    assert row["target"]["type"] == "constellation.concern"


def test_the_feed_filters_like_the_desk(clock, world, as_user):
    w = world
    client = as_user(w.liaison)
    count = lambda **q: len(rows_of(client.get(url("activity"), {"limit": 100, **q})))  # noqa: E731
    # The world's own record (households joining, children placed) is of today.
    before = {"all": count(), "neighbour": count(household=w.neighbour.pk)}
    before["child"] = count(child=w.child.pk)
    _activity(w, 3, start=NOON - timedelta(days=3))
    _activity(w, 2, start=NOON - timedelta(days=1), household=w.neighbour, verb="event.created")
    concern(w, children=[w.child])
    assert count() == before["all"] + 6
    assert count(kind=ActivityKind.EVENT) == 2
    assert count(household=w.neighbour.pk) == before["neighbour"] + 2
    assert count(child=w.child.pk) == before["child"] + 1
    assert count(since="2027-02-09") == before["all"] + 3  # yesterday's events, today's concern
    assert count(since="2027-02-06", until="2027-02-07") == 3
    assert count(since="2027-02-09", until="2027-02-09") == 2
    assert count(kind=ActivityKind.CHECK_IN, household=w.satellite.pk) == 3
    assert count(constellation=w.other_constellation.pk) == 0
    for wrong in (
        {"kind": "gossip"},
        {"since": "10/02/2027"},
        {"until": "2027-02-31"},
        {"since": "2027-02-10", "until": "2027-02-01"},
        {"household": "x"},
        {"child": str(HUGE)},
        {"limit": "0"},
        {"limit": "1000"},
    ):
        response = client.get(url("activity"), wrong)
        assert response.status_code == 400, wrong


def test_the_feed_pages_by_cursor_without_repeats_or_gaps(clock, world, as_user):
    w = world
    _activity(w, 60, start=NOON - timedelta(hours=1))
    client = as_user(w.liaison)
    seen, pages = [], 0
    response = client.get(url("activity"), {"kind": "check_in", "limit": 25})
    while True:
        body = response.json()
        seen += [(row["created_at"], row["id"]) for row in body["results"]]
        pages += 1
        if body["next"] is None:
            break
        assert "kind=check_in" in body["next"]
        response = client.get(body["next"])
    assert pages == 3
    assert len(seen) == 60 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_a_later_page_costs_the_queries_of_the_first(
    clock, world, as_user, django_assert_num_queries
):
    w = world
    _activity(w, 120, start=NOON - timedelta(hours=1))
    for row in Activity.objects.all()[:40]:
        row.children.add(w.child)
    client = as_user(w.liaison)
    client.get(url("activity"))  # the session and the content types are warm
    with CaptureQueriesContext(connection) as first:
        response = client.get(url("activity"))
    first_page = len(first.captured_queries)  # before the next request resets the log
    assert len(response.json()["results"]) == 25
    next_url = response.json()["next"]
    for _ in range(3):
        next_url = client.get(next_url).json()["next"]
    with django_assert_num_queries(first_page):
        response = client.get(next_url)
    assert len(response.json()["results"]) == 25


def test_a_cursor_the_feed_did_not_give_is_a_400(clock, world, as_user):
    client = as_user(world.liaison)
    for cursor in ("abc", "%%%", "é", "x" * 300, encode_cursor(NOON, 1)[:-3] + "!!!"):
        response = client.get(url("activity"), {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json() == {"cursor": [BAD_CURSOR]}
    naive = "MjAyNy0wMi0xMFQxMjowMDowMHw1"  # "2027-02-10T12:00:00|5": no offset
    assert client.get(url("activity"), {"cursor": naive}).status_code == 400
    assert client.get(url("activity"), {"cursor": encode_cursor(NOON, 1)}).status_code == 200


# --- coverage ------------------------------------------------------------------------------


def test_coverage_shows_each_household_with_its_level(clock, world, as_user):
    w = world
    check_in(w, occurred_at=NOON - timedelta(days=11))
    check_in(w, occurred_at=NOON - timedelta(days=2), made=False)
    check_in(
        w,
        household=w.neighbour,
        occurred_at=NOON - timedelta(days=3),
        follow_ups=[services.FollowUpInput("Call", TODAY, w.hub_carer)],
    )
    FollowUp.objects.update(due_on=TODAY - timedelta(days=1))
    rows = {r["household"]["name"]: r for r in rows_of(as_user(w.hub_carer).get(url("coverage")))}
    assert set(rows) == {"The Ashfords", "The Brookes"}
    ashfords = rows["The Ashfords"]
    assert ashfords["last_contact"] == "2027-01-30"
    assert ashfords["days"] == 11
    assert ashfords["level"] == "amber"
    assert ashfords["level_label"] == "Due a check-in"
    assert (ashfords["amber_days"], ashfords["red_days"]) == (10, 14)
    assert ashfords["constellation"] == {"id": w.constellation.pk, "name": "Riverside"}
    brookes = rows["The Brookes"]
    assert (brookes["days"], brookes["level"]) == (3, "ok")
    assert (brookes["open_follow_ups"], brookes["overdue_follow_ups"]) == (1, 1)


def test_coverage_is_for_those_who_read_check_ins(clock, world, as_user):
    w = world
    names = lambda user, **q: {  # noqa: E731
        r["household"]["name"] for r in rows_of(as_user(user).get(url("coverage"), q))
    }
    assert APIClient().get(url("coverage")).status_code == 401
    for refused in (w.satellite_carer, w.neighbour_carer, w.social_worker):
        response = as_user(refused).get(url("coverage"))
        assert response.status_code == 403, refused
        assert "Ashfords" not in response.content.decode()
    assert (
        as_user(w.satellite_carer)
        .get(url("coverage"), {"constellation": w.constellation.pk})
        .status_code
        == 403
    )
    assert names(w.hub_carer) == names(w.liaison) == {"The Ashfords", "The Brookes"}
    assert names(w.manager) == {"The Ashfords", "The Brookes", "The Cedars"}
    assert names(w.manager, constellation=w.other_constellation.pk) == {"The Cedars"}
    assert names(w.other_liaison) == {"The Cedars"}
    assert names(w.other_service_manager) == {"The Dunes"}
    for outsider in (w.other_liaison, w.other_hub_carer, w.other_service_manager):
        response = as_user(outsider).get(url("coverage"), {"constellation": w.constellation.pk})
        assert response.status_code == 404, outsider
    for wrong in ("abc", str(HUGE), "0"):
        assert as_user(w.manager).get(url("coverage"), {"constellation": wrong}).status_code == 400


def test_coverage_costs_a_few_queries_for_a_service(
    clock, world, as_user, django_assert_max_num_queries
):
    for _ in range(8):
        f.satellite_in(world.constellation)
    client = as_user(world.manager)
    with django_assert_max_num_queries(6):
        assert len(rows_of(client.get(url("coverage")))) == 11


# --- the schema ----------------------------------------------------------------------------


def test_the_schema_lists_the_contact_endpoints(world, as_user):
    response = as_user(world.liaison).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    paths = response.json()["paths"]
    assert set(paths["/api/v1/check-ins/"]) == {"get", "post"}
    assert set(paths["/api/v1/concerns/"]) == {"get", "post"}
    assert set(paths["/api/v1/concerns/{id}/close/"]) == {"post"}
    assert set(paths["/api/v1/activity/"]) == {"get"}
    assert set(paths["/api/v1/coverage/"]) == {"get"}


# --- no input gives a 500, and nothing refused is saved -------------------------------------


class _Rollback(Exception):
    pass


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["٣", "１２", "𝟗", "²"]),
    st.sampled_from(
        [
            "2027-02-10T11:00",
            "2027-02-10T13:00",
            "2027-03-28T01:30",
            "2027-10-31T01:30",
            "2027-02-10T11:00+14:00",
            "2027-02-10T11:00-12:00",
            "9999-12-31T23:59",
            "2027-02-10",
            "2027-02-09",
            "2027-02-11",
            "0001-01-01T00:00Z",
            "2027-13-40T25:61",
        ]
    ),
    st.sampled_from([*CheckIn.Method.values, *CheckIn.Level.values, *Concern.Reason.values]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
CHECK_IN_FIELDS = [
    "household",
    "occurred_at",
    "method",
    "made",
    "participants",
    "note",
    "concern_level",
    "follow_ups",
]
FOLLOW_UP_FIELDS = ["action", "due_on", "assigned_to"]


_good_lines = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["Ring the school", "Send the dates"]),
        "due_on": st.sampled_from(["2027-02-10", "2027-02-17"]),
    }
)


@st.composite
def _check_in_bodies(draw, w, ids):
    """A JSON body: half the time a good one with a field or two changed (so that some
    are recorded), otherwise the known fields and others with any values."""
    known = st.sampled_from(ids) | _scalars
    if draw(st.booleans()):
        body = {
            "household": draw(st.sampled_from([w.satellite.pk, w.neighbour.pk])),
            "occurred_at": draw(st.sampled_from(["2027-02-10T11:00", "2027-02-09T23:30Z"])),
            "method": draw(st.sampled_from(CheckIn.Method.values)),
            "concern_level": draw(st.sampled_from(CheckIn.Level.values)),
            "made": draw(st.booleans()),
        }
        lines = draw(st.lists(_good_lines, max_size=2))
        body["follow_ups"] = [{**line, "assigned_to": w.liaison.pk} for line in lines]
        for key in draw(st.lists(st.sampled_from(CHECK_IN_FIELDS), max_size=2, unique=True)):
            if draw(st.booleans()):
                body.pop(key, None)
            else:
                body[key] = draw(known)
        return body
    if draw(st.integers(0, 9)) == 0:
        return draw(_values)
    body = {}
    for key in draw(
        st.lists(st.sampled_from(CHECK_IN_FIELDS) | st.text(max_size=6), max_size=9, unique=True)
    ):
        if key == "follow_ups" and draw(st.booleans()):
            body[key] = draw(
                st.lists(
                    st.dictionaries(
                        st.sampled_from(FOLLOW_UP_FIELDS) | st.text(max_size=4), known, max_size=4
                    ),
                    max_size=3,
                )
            )
        elif key == "household" and draw(st.booleans()):
            body[key] = draw(st.sampled_from(ids))
        else:
            body[key] = draw(_values)
    return body


HYPOTHESIS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPOTHESIS
@given(data=st.data())
def test_no_check_in_body_gives_a_500_or_saves_what_it_refuses(clock, world, data):
    w = world
    ids = [
        w.satellite.pk,
        w.neighbour.pk,
        w.hub.pk,
        w.hub_carer.pk,
        w.liaison.pk,
        w.satellite_carer.pk,
        w.other_service_child.household_id,
        w.child.pk,
        2**62,
    ]
    who = data.draw(
        st.sampled_from(["hub_carer", "liaison", "satellite_carer", "other_service_manager"])
    )
    client = APIClient(raise_request_exception=False)
    client.force_login(getattr(w, who))
    sent = data.draw(_check_in_bodies(w, ids))
    try:
        with transaction.atomic():
            before = (
                CheckIn.objects.count(),
                FollowUp.objects.count(),
                Concern.objects.count(),
                Activity.objects.count(),
            )
            response = client.post(url("check-in-list"), sent, format="json")
            event(f"status {response.status_code}")
            assert response.status_code < 500, (sent, response.content)
            after = (
                CheckIn.objects.count(),
                FollowUp.objects.count(),
                Concern.objects.count(),
                Activity.objects.count(),
            )
            if response.status_code == 201:
                assert after[0] == before[0] + 1
                assert response.json()["household"]["id"] in (w.satellite.pk, w.neighbour.pk)
            else:
                assert response.status_code in (400, 403, 404), (sent, response.content)
                assert after == before, sent
            raise _Rollback
    except _Rollback:
        pass


@HYPOTHESIS
@given(data=st.data())
def test_no_concern_body_gives_a_500(clock, world, data):
    w = world
    opened = concern(w)
    ids = [w.satellite.pk, w.child.pk, w.neighbour_child.pk, w.other_service_child.pk, 2**62]
    client = APIClient(raise_request_exception=False)
    client.force_login(data.draw(st.sampled_from([w.hub_carer, w.liaison, w.satellite_carer])))
    fields = ["household", "reasons", "description", "children", "note", "stability_meeting_on"]
    keys = data.draw(
        st.lists(st.sampled_from(fields) | st.text(max_size=5), max_size=6, unique=True)
    )
    sent = {key: data.draw(st.sampled_from(ids) | _values) for key in keys}
    if data.draw(st.integers(0, 9)) == 0:
        sent = data.draw(_values)
    path = data.draw(
        st.sampled_from(
            [url("concern-list"), url("concern-close", opened.pk), url("concern-close", HUGE)]
        )
    )
    try:
        with transaction.atomic():
            before = Concern.objects.open().count()
            response = client.post(path, sent, format="json")
            assert response.status_code < 500, (path, sent, response.content)
            if response.status_code not in (200, 201):
                assert Concern.objects.open().count() == before
            raise _Rollback
    except _Rollback:
        pass
