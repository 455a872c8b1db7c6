"""What a sleepover page, card, fragment and API answer shows of a child follows who
may see that child now: the hub carer has everything needed for a night at hand
(needs, allergies, medication notes, emergency contacts); a stand-in has it only
while its cover is in force, and afterwards keeps its history (who, when, the
children by preferred name and age); another service finds nothing."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from constellation import services as people
from people.models import ChildRecordAccess
from sleepovers import services
from sleepovers.models import Kind, Request, Status
from tests import factories as f

from .helpers import allow_hub, stay

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")

# world.child: Amara Quill, known as Mara. The rest of her record, as the factories write it.
RECORD = (
    "Amara",
    "Quill",
    "Needs a quiet room to settle",
    "Penicillin",
    "Melatonin 2mg at bedtime",
    "Duty social worker 0300 555 0199",
)


def url(name, *args):
    return reverse(f"sleepovers:{name}", args=args)


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def shows_record(html: str) -> bool:
    return all(part in html for part in RECORD)


def shows_nothing_of_the_record(html: str) -> bool:
    return not any(part in html for part in RECORD)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def morning(days_ahead: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days_ahead)
    return datetime(day.year, day.month, day.day, 9, tzinfo=LONDON)


@pytest.fixture
def cover(nine_am, world):
    """The Fairweathers, a satellite household of the constellation with one bed, stand
    in for the hub today and tomorrow. During the cover the Ashfords raise a crisis for
    Mara, which the Fairweathers accept, and book a night for her, not answered yet."""
    allow_hub(world.child, by=world.liaison)
    household = f.satellite_in(world.constellation, name="The Fairweathers")
    people.update_household(household, by=None, beds=1)
    household.refresh_from_db()
    carer = f.carer_of(household, email="fairweather@test.example")
    today = timezone.localdate()
    services.arrange_cover(
        world.constellation,
        by=world.liaison,
        stand_in=household,
        start=today,
        end=today + timedelta(days=1),
    )
    now = timezone.now()
    crisis = services.create_request(
        by=world.satellite_carer,
        kind=Kind.CRISIS,
        children=[world.child],
        start=now,
        end=now + timedelta(hours=4),
        crisis_reason="drop_off",
        notes="Mara's brother needs the doctor",
    )
    assert crisis.hub == household
    crisis = services.accept(crisis, by=carer)
    assert crisis.status == Status.ACCEPTED
    start, end = stay(1)
    planned = services.create_request(
        by=world.satellite_carer, kind="planned", children=[world.child], start=start, end=end
    )
    assert planned.hub == household
    return SimpleNamespace(
        world=world, household=household, carer=carer, crisis=crisis, planned=planned
    )


def pages_of_the_stand_in(cover, client) -> dict[str, str]:
    return {
        "crisis page": body(client.get(url("request", cover.crisis.pk))),
        "crisis status": body(client.get(url("status", cover.crisis.pk))),
        "planned page": body(client.get(url("request", cover.planned.pk))),
        "home": body(client.get(reverse("home"))),
        "requests": body(client.get(url("index"))),
    }


def api_children(user, request: Request) -> list[dict]:
    response = api(user).get(f"/api/v1/sleepovers/{request.pk}/")
    assert response.status_code == 200
    return response.json()["children"]


def test_while_the_cover_is_in_force_the_stand_in_has_everything_at_hand(login, cover):
    client = login(cover.carer)
    pages = pages_of_the_stand_in(cover, client)
    for page in ("crisis page", "planned page", "home", "requests"):
        assert shows_record(pages[page]), page
    # The request that waits for them is a card on their home page, with the link.
    assert url("request", cover.planned.pk) in pages["home"]
    assert "Mara&#x27;s brother needs the doctor" in pages["crisis page"]
    (child,) = api_children(cover.carer, cover.crisis)
    assert child["preferred_name"] == "Mara"
    assert child["record"] == {
        "first_name": "Amara",
        "last_name": "Quill",
        "needs": "Needs a quiet room to settle",
        "allergies": "Penicillin",
        "medication_notes": "Melatonin 2mg at bedtime",
        "emergency_contacts": "Duty social worker 0300 555 0199",
    }
    # Every view of the record is in the access log, the API's as such.
    logged = ChildRecordAccess.objects.filter(user=cover.carer, child=cover.world.child)
    assert logged.filter(channel=ChildRecordAccess.Channel.WEB).exists()
    assert logged.filter(channel=ChildRecordAccess.Channel.API).exists()


def test_after_the_cover_the_stand_in_keeps_its_history_but_only_the_childs_first_name(
    login, cover
):
    world = cover.world
    with time_machine.travel(morning(3), tick=True):
        logged_before = ChildRecordAccess.objects.filter(user=cover.carer).count()
        client = login(cover.carer)
        pages = pages_of_the_stand_in(cover, client)
        for page, html in pages.items():
            assert shows_nothing_of_the_record(html), page
        age = world.child.age
        for page in ("crisis page", "planned page", "home", "requests"):
            assert f"Mara, {age}" in pages[page], page
        # Their own history: what happened, who and when.
        assert "Accepted" in pages["crisis page"]
        assert "Drop a child off" in pages["crisis page"]
        assert "brother needs the doctor" not in pages["crisis page"]
        assert url("request", cover.planned.pk) in pages["home"]
        # The API as much as the pages.
        for request in (cover.crisis, cover.planned):
            assert api_children(cover.carer, request) == [
                {"id": world.child.pk, "preferred_name": "Mara", "age": age, "record": None}
            ]
        listed = api(cover.carer).get("/api/v1/sleepovers/").json()["results"]
        assert {r["id"] for r in listed} == {cover.crisis.pk, cover.planned.pk}
        assert all(c["record"] is None for r in listed for c in r["children"])
        assert "brother" not in str(
            api(cover.carer).get(f"/api/v1/sleepovers/{cover.crisis.pk}/").json()
        )
        # Nothing shown in full, so nothing logged.
        assert ChildRecordAccess.objects.filter(user=cover.carer).count() == logged_before

        # The hub carer, the family and the liaison worker still see her record in full.
        for who in (world.hub_carer, world.satellite_carer, world.liaison):
            assert shows_record(body(login(who).get(url("request", cover.crisis.pk)))), who


def test_a_crisis_card_has_needs_allergies_medication_and_emergency_contacts(nine_am, login, world):
    allow_hub(world.child, by=world.liaison)
    now = timezone.now()
    crisis = services.create_request(
        by=world.satellite_carer,
        kind=Kind.CRISIS,
        children=[world.child],
        start=now,
        end=now + timedelta(hours=4),
        crisis_reason="drop_off",
    )
    client = login(world.hub_carer)
    for page in (url("index"), reverse("home")):
        html = body(client.get(page))
        assert url("request", crisis.pk) in html, page
        assert shows_record(html), page
        assert "Medication:" in html, page
        assert "Emergency contacts:" in html, page
    assert ChildRecordAccess.objects.filter(user=world.hub_carer, child=world.child).exists()


def test_a_planned_request_shows_allergies_and_medication_to_those_who_may_see_them(login, world):
    start, end = stay(5)
    planned = services.create_request(
        by=world.satellite_carer, kind="planned", children=[world.child], start=start, end=end
    )
    for who in ("hub_carer", "satellite_carer", "liaison", "manager", "social_worker"):
        html = body(login(getattr(world, who)).get(url("request", planned.pk)))
        assert "Penicillin" in html, who
        assert "Melatonin 2mg at bedtime" in html, who
    # The card in the hub's inbox: allergies and medication, the crisis's extras left out.
    card = body(login(world.hub_carer).get(url("index")))
    assert "Penicillin" in card
    assert "Melatonin 2mg at bedtime" in card
    assert "Duty social worker 0300 555 0199" not in card


def test_other_households_and_another_service_find_nothing(login, world):
    start, end = stay(5)
    planned = services.create_request(
        by=world.satellite_carer, kind="planned", children=[world.child], start=start, end=end
    )
    for who in (
        "neighbour_carer",
        "other_hub_carer",
        "other_service_carer",
        "other_service_manager",
    ):
        user = getattr(world, who)
        client = login(user)
        assert client.get(url("request", planned.pk)).status_code == 404, who
        assert client.get(url("status", planned.pk)).status_code == 404, who
        assert api(user).get(f"/api/v1/sleepovers/{planned.pk}/").status_code == 404, who
        assert shows_nothing_of_the_record(body(client.get(reverse("home")))), who


def test_a_satellite_carer_of_another_household_sees_only_first_names_on_the_nights(
    nine_am, login, world
):
    """A household that stood in once keeps the nights it hosted: the children by
    preferred name, nothing more, on its nights page and its home."""
    allow_hub(world.child, by=world.liaison)
    household = f.satellite_in(world.constellation, name="The Fairweathers")
    people.update_household(household, by=None, beds=1)
    carer = f.carer_of(household, email="fairweather@test.example")
    today = timezone.localdate()
    services.arrange_cover(
        world.constellation,
        by=world.liaison,
        stand_in=household,
        start=today,
        end=today + timedelta(days=3),
    )
    start, end = stay(1, nights=2)
    planned = services.create_request(
        by=world.satellite_carer, kind="planned", children=[world.child], start=start, end=end
    )
    services.accept(planned, by=carer)
    with time_machine.travel(morning(2), tick=True):
        services.arrived(Request.objects.get(pk=planned.pk), by=carer)
    with time_machine.travel(morning(5), tick=True):
        client = login(carer)
        nights = f"{url('nights')}?hub={household.pk}&month={morning(1):%Y-%m}"
        html = body(client.get(nights))
        assert "Mara" in html
        assert shows_nothing_of_the_record(html)
        assert shows_nothing_of_the_record(body(client.get(url("request", planned.pk))))


def _open_requests(world, n: int, batch: str) -> list[str]:
    """``n`` open requests to the hub, every third a crisis, each for Mara and a child
    of her household with its own medication, written directly; the medications."""
    doses = []
    for i in range(n):
        start = timezone.now() + timedelta(days=1 + i % 20)
        request = Request.objects.create(
            constellation=world.constellation,
            hub=world.hub,
            household=world.satellite,
            requested_by=world.satellite_carer,
            kind=Kind.CRISIS if i % 3 == 0 else Kind.PLANNED,
            crisis_reason="drop_off" if i % 3 == 0 else "",
            start=start,
            end=start + timedelta(hours=17),
        )
        doses.append(f"Dose {batch}-{i}.")
        request.children.set([world.child, f.child_in(world.satellite, medication_notes=doses[-1])])
    return doses


@pytest.mark.parametrize("page", ["index", "home"])
def test_the_inbox_cards_cost_no_query_each(
    nine_am, login, world, django_assert_max_num_queries, page
):
    target = url("index") if page == "index" else reverse("home")
    client = login(world.hub_carer)
    counts = []
    doses = []
    for batch, n in (("a", 5), ("b", 25)):  # 5 cards, then 30
        doses += _open_requests(world, n, batch)
        with CaptureQueriesContext(connection) as captured:
            html = body(client.get(target))
        counts.append(len(captured))
        # Every card shown has its children's medication at hand.
        shown = html.count('data-testid="inbox-item"')
        assert shown >= 5
        assert sum(dose in html for dose in doses) == shown
    assert counts[1] == counts[0]
    with django_assert_max_num_queries(counts[0]):
        client.get(target)
