"""The pages of concerns: opening one by hand about a household (the hub carer or the
liaison worker), the list of the constellations one supports, a concern with what
triggered it, and closing it (the liaison worker, with a note); who sees them, bad
input as a 400 with a clear message, and a child named by preferred name only."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from constellation import services
from constellation.models import CheckIn, Concern
from notifications.models import Kind, Notification
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)
LIST = reverse("constellation:concerns")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def url(name, *args):
    return reverse(f"constellation:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def concern_about(world, household=None, *, by=None, **kwargs):
    return services.open_concern_by_hand(
        household or world.satellite,
        by=by or world.hub_carer,
        reasons=kwargs.pop("reasons", ["cannot_cope"]),
        description=kwargs.pop("description", "The carers are exhausted"),
        children=kwargs.pop("children", [world.child]),
    )


# --- opening a concern by hand -------------------------------------------------------------------


def test_the_concern_page_offers_the_reasons_and_the_households_children(clock, world, login):
    response = login(world.hub_carer).get(url("concern_create", world.satellite.pk))
    assert response.status_code == 200
    html = body(response)
    for reason in Concern.Reason:
        assert reason.label.replace("'", "&#x27;") in html
    assert list(response.context["form"].fields["children"].queryset) == [world.child]
    assert "Mara, " in html
    assert world.child.last_name not in html
    assert world.neighbour_child.known_as not in html


def test_the_hub_carer_opens_a_concern_and_the_liaison_worker_is_alerted(clock, world, login):
    client = login(world.hub_carer)
    response = client.post(
        url("concern_create", world.satellite.pk),
        {
            "reasons": ["child_wants_to_leave", "missing_episodes"],
            "description": "Out overnight twice this week",
            "children": [str(world.child.pk)],
        },
    )
    concern = Concern.objects.get()
    assert response.status_code == 302
    assert response["Location"] == concern.get_absolute_url()
    assert concern.reasons == ["child_wants_to_leave", "missing_episodes"]
    assert list(concern.children.all()) == [world.child]
    alert = Notification.objects.get(recipient=world.liaison, kind=Kind.CONCERN, channel="app")
    assert world.child.last_name not in alert.body

    html = body(client.get(response["Location"]))
    assert "Concern about The Ashfords opened. The liaison worker is alerted." in html
    assert "The child wants to leave" in html
    assert "Repeated missing episodes" in html
    assert "Out overnight twice this week" in html
    assert "Opened by hand" in html
    assert f'<a href="{url("child", world.child.pk)}">Mara</a>' in html
    assert world.child.last_name not in html
    # The hub carer reads it; the liaison worker closes it.
    assert 'id="close"' not in html
    assert "The liaison worker closes the concern" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "reasons", "Choose at least one reason."),
        ({"reasons": ["bored"]}, "reasons", "Choose reasons from the list."),
        ({"reasons": ["other"]}, "description", "Describe the concern when the reason is"),
        ({"reasons": ["other"], "description": "   "}, "description", "Describe the concern"),
        ({"reasons": ["cannot_cope"], "description": "x" * 1001}, "description", "at most 1000"),
        ({"reasons": ["cannot_cope"], "children": ["neighbour"]}, "children", "placed in this"),
        ({"reasons": ["cannot_cope"], "children": ["9" * 30]}, "children", "placed in this"),
        ({"reasons": ["cannot_cope"], "children": ["x"]}, "children", "placed in this"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(clock, world, login, data, field, message):
    if data.get("children") == ["neighbour"]:
        data = {**data, "children": [str(world.neighbour_child.pk)]}
    response = login(world.liaison).post(url("concern_create", world.satellite.pk), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in body(response)
    assert not Concern.objects.exists()
    assert not Notification.objects.filter(kind=Kind.CONCERN).exists()


def test_who_opens_a_concern(clock, world, login, client):
    target = url("concern_create", world.satellite.pk)
    response = client.get(target)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    for who, status in {
        "hub_carer": 200,
        "liaison": 200,
        "satellite_carer": 403,
        "neighbour_carer": 403,
        "manager": 403,
        "other_hub_carer": 404,
        "other_liaison": 404,
        "other_service_manager": 404,
    }.items():
        client = login(getattr(world, who))
        assert client.get(target).status_code == status, who
        if status != 200:
            assert client.post(target, {"reasons": ["cannot_cope"]}).status_code == status
    assert not Concern.objects.exists()


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_the_open_concerns_of_ones_constellations(clock, world, login):
    ours = concern_about(world)
    theirs = services.open_concern_by_hand(
        world.other_constellation.memberships.get().household,
        by=world.other_hub_carer,
        reasons=["allegation"],
        description="",
    )
    for who, shown, hidden in (
        ("hub_carer", ours, theirs),
        ("liaison", ours, theirs),
        ("other_liaison", theirs, ours),
        ("other_hub_carer", theirs, ours),
    ):
        html = body(login(getattr(world, who)).get(LIST))
        assert shown.get_absolute_url() in html, who
        assert hidden.get_absolute_url() not in html, who
    html = body(login(world.manager).get(LIST))
    assert ours.get_absolute_url() in html
    assert theirs.get_absolute_url() in html
    assert "The carer says they cannot cope" in html
    html = body(login(world.other_service_manager).get(LIST))
    assert "No open concerns." in html
    assert "The Ashfords" not in html


def test_the_list_filters_open_and_closed(clock, world, login):
    open_one = concern_about(world)
    closed = concern_about(world, world.neighbour, children=[], reasons=["allegation"])
    services.close_concern(closed, by=world.liaison, note="Investigated, unfounded")
    client = login(world.liaison)
    html = body(client.get(LIST))
    assert open_one.get_absolute_url() in html
    assert closed.get_absolute_url() not in html
    html = body(client.get(LIST, {"status": "closed"}))
    assert closed.get_absolute_url() in html
    assert open_one.get_absolute_url() not in html
    # An unknown filter or page is the open list, never an error.
    for query in ({"status": "maybe"}, {"page": "x"}, {"page": "-3"}, {"page": "9" * 30}):
        response = client.get(LIST, query)
        assert response.status_code == 200, query
        assert open_one.get_absolute_url() in body(response), query


def test_the_list_pages_in_a_bounded_number_of_queries(
    clock, world, login, django_assert_max_num_queries
):
    for i in range(30):
        household = f.satellite_in(world.constellation, name=f"Household {i:02}")
        concern_about(world, household, children=[])
    client = login(world.liaison)
    with django_assert_max_num_queries(10):
        response = client.get(LIST)
    assert len(response.context["page"].object_list) == 25
    assert "Page 1 of 2" in body(response)
    second = body(client.get(LIST, {"page": "2"}))
    assert second.count('class="list-group-item"') == 5


def test_who_reads_the_list(clock, world, login):
    concern_about(world)
    for who in ("satellite_carer", "neighbour_carer", "social_worker", "other_satellite_carer"):
        assert login(getattr(world, who)).get(LIST).status_code == 403, who


# --- a concern --------------------------------------------------------------------------------


def test_a_concern_opened_by_a_high_check_in_links_to_it(clock, world, login):
    done = services.record_check_in(
        world.satellite,
        by=world.hub_carer,
        occurred_at=START - timedelta(hours=1),
        method=CheckIn.Method.VISIT,
        concern_level=CheckIn.Level.HIGH,
        note="Shouting when I arrived",
    )
    concern = Concern.objects.get()
    html = body(login(world.liaison).get(concern.get_absolute_url()))
    assert "A check-in at high concern" in html
    assert "Opened by hand" not in html
    assert f"by {world.hub_carer}" in html
    assert f'href="{url("check_in", done.pk)}"' in html
    assert "Visit with The Ashfords on 1 Jul 2026 at 08:00" in html
    assert "None named" in html


def test_a_concern_opened_by_a_declined_crisis_links_to_the_request(clock, world, login):
    from sleepovers import services as sleepovers
    from tests.sleepovers.helpers import allow_hub

    allow_hub(world.child, by=world.liaison)
    now = timezone.now()
    crisis = sleepovers.create_request(
        by=world.satellite_carer,
        kind="crisis",
        children=[world.child],
        start=now,
        end=now + timedelta(hours=4),
        crisis_reason="composure",
    )
    sleepovers.decline(crisis, by=world.hub_carer, reason="Both beds taken tonight")
    concern = Concern.objects.get(source=Concern.Source.CRISIS_NOT_MET)
    html = body(login(world.liaison).get(concern.get_absolute_url()))
    assert "A crisis request declined or not answered" in html
    assert f'href="{crisis.get_absolute_url()}"' in html
    assert "The request raised on 1 Jul 2026 at 09:00 (Crisis: help now)" in html
    assert ">Mara</a>" in html


def test_the_liaison_worker_closes_a_concern_from_its_page(clock, world, login):
    concern = concern_about(world)
    client = login(world.liaison)
    html = body(client.get(concern.get_absolute_url()))
    assert 'id="close"' in html
    assert f'action="{url("concern_close", concern.pk)}"' in html
    response = client.post(
        url("concern_close", concern.pk),
        {"note": "Respite agreed with the hub", "stability_meeting_on": ""},
    )
    assert response.status_code == 302
    concern.refresh_from_db()
    assert (concern.status, concern.stability_meeting_on) == ("closed", None)
    html = body(client.get(concern.get_absolute_url()))
    assert "What was done" in html
    assert "Respite agreed with the hub" in html
    assert 'id="close"' not in html
    # The close page of a closed concern sends back to it.
    response = client.get(url("concern_close", concern.pk), follow=True)
    assert "This concern is already closed." in body(response)


def test_the_close_page_shows_the_form_to_the_liaison_worker(clock, world, login):
    concern = concern_about(world)
    response = login(world.manager).get(url("concern_close", concern.pk))
    assert response.status_code == 200
    assert "Record what was done and close" in body(response)


def test_who_reads_and_closes_a_concern(clock, world, login, client):
    concern = concern_about(world)
    close = url("concern_close", concern.pk)
    assert client.get(concern.get_absolute_url()).status_code == 302
    for who, read, closes in (
        ("hub_carer", 200, 403),
        ("second_hub_carer", 200, 403),
        ("manager", 200, 200),
        ("satellite_carer", 404, 404),
        ("neighbour_carer", 404, 404),
        ("social_worker", 404, 404),
        ("other_hub_carer", 404, 404),
        ("other_liaison", 404, 404),
        ("other_service_manager", 404, 404),
    ):
        client = login(getattr(world, who))
        assert client.get(concern.get_absolute_url()).status_code == read, who
        assert client.get(close).status_code == closes, who
        if closes != 200:
            assert client.post(close, {"note": "Closed by me"}).status_code == closes, who
    concern.refresh_from_db()
    assert concern.status == Concern.Status.OPEN
    assert login(world.liaison).get(url("concern", 10**12)).status_code == 404
