"""The sleepover pages: what each person notices (the hub's inbox, a family's
requests, the crisis button, the live status, the nights and beds), who may do
what, every form's bad input (400, a clear message, nothing saved), and query
counts that do not grow with the number of requests."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from constellation import services as people
from constellation.models import Activity
from people.models import ChildRecordAccess
from sleepovers import selectors, services
from sleepovers.models import (
    BedChange,
    Kind,
    Night,
    Request,
    SleepoverSettings,
    Status,
    Transition,
    Unavailability,
)
from tests import factories as f

from .helpers import allow_hub, evening, stay

pytestmark = pytest.mark.django_db

LONG = "x" * 10_000


def url(name, *args):
    return reverse(f"sleepovers:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def local(moment) -> str:
    """A datetime as a datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def assert_login_redirect(response):
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def assert_statuses(client, target, expected: dict, world, method="get", data=None):
    """``expected`` maps a world attribute (a user) to the status the page gives them."""
    for who, status in expected.items():
        client.force_login(getattr(world, who))
        response = getattr(client, method)(target, data or {})
        assert response.status_code == status, (who, response.status_code)
        client.logout()


def ask(world, *, kind="planned", days=5, nights=1, children=None, carer=None, **kwargs):
    start, end = stay(days, nights)
    return services.create_request(
        by=carer or world.satellite_carer,
        kind=kind,
        children=children or [world.child],
        start=kwargs.pop("start", start),
        end=kwargs.pop("end", end),
        **kwargs,
    )


def crisis_now(world, **kwargs):
    now = timezone.now()
    return ask(
        world,
        kind=Kind.CRISIS,
        start=now,
        end=now + timedelta(hours=4),
        crisis_reason="drop_off",
        **kwargs,
    )


@pytest.fixture
def allowed(world):
    """The children's agreements let the hub carers accept stays at once."""
    for child in (world.child, world.neighbour_child):
        allow_hub(child, by=world.liaison)
    return world


OUTSIDERS_404 = {
    "neighbour_carer": 404,
    "other_hub_carer": 404,
    "other_liaison": 404,
    "other_service_manager": 404,
    "other_service_hub_carer": 404,
}


# --- the page shell ----------------------------------------------------------------------


def test_pages_carry_no_inline_script_or_style(login, allowed):
    planned = ask(allowed)
    crisis = crisis_now(allowed)
    pages = {
        "hub_carer": [
            reverse("home"),
            url("index"),
            url("request", planned.pk),
            url("request", crisis.pk),
            url("nights"),
            url("beds"),
        ],
        "satellite_carer": [
            reverse("home"),
            url("index"),
            url("request", planned.pk),
            url("new"),
            url("crisis"),
            url("availability"),
            url("nights"),
        ],
        "liaison": [url("index"), url("request", crisis.pk)],
    }
    for who, targets in pages.items():
        client = login(getattr(allowed, who))
        for target in targets:
            response = client.get(target)
            assert response.status_code == 200, (who, target)
            html = body(response)
            assert "style=" not in html, target
            for tag in re.findall(r"<script[^>]*>", html):
                assert "src=" in tag, (target, tag)
            assert not re.search(r"<[^>]+\son(click|submit|load|change|input)=", html), target


# --- the landing page, by role ---------------------------------------------------------------


def test_the_landing_page_needs_a_login(client, world):
    assert_login_redirect(client.get(url("index")))


def test_the_hub_inbox_puts_a_crisis_first_then_what_waits_for_the_hub(login, allowed):
    later = ask(allowed, days=9)
    sooner = ask(allowed, days=4, children=[allowed.neighbour_child], carer=allowed.neighbour_carer)
    offered = ask(allowed, days=2)
    services.offer(offered, by=allowed.hub_carer, start=evening(3), end=evening(4, 10))
    crisis = crisis_now(allowed)
    closed = ask(allowed, days=1)
    services.decline(closed, by=allowed.hub_carer, reason="Full that night")

    response = login(allowed.hub_carer).get(url("index"))
    assert response.status_code == 200
    html = body(response)
    order = [html.index(url("request", r.pk) + '"') for r in (crisis, sooner, later, offered)]
    assert order == sorted(order)
    assert url("request", closed.pk) + '"' not in html
    # Household, children's preferred names and ages, dates and nights, one-tap answers.
    assert "The Brookes" in html
    assert f"Bob, {allowed.neighbour_child.age}" in html
    assert "1 night" in html
    assert f'action="{url("accept", later.pk)}"' in html
    assert f'action="{url("decline", later.pk)}"' in html
    assert f'action="{url("offer", later.pk)}"' in html
    # The offer waits for the family: the hub cannot accept it again.
    assert f'action="{url("accept", offered.pk)}"' not in html


def test_a_crisis_in_the_inbox_has_the_childrens_needs_at_hand_and_it_is_logged(login, world):
    crisis = crisis_now(world)
    html = body(login(world.hub_carer).get(url("index")))
    assert "Crisis" in html
    assert "Drop a child off" in html
    assert world.child.allergies in html
    assert world.child.needs in html
    assert f"{world.child.get_absolute_url()}#what-may-i-decide" in html
    # The emergency arrangement is offered for a crisis only.
    assert f'id="emergency-{crisis.pk}"' in html
    assert ChildRecordAccess.objects.filter(user=world.hub_carer, child=world.child).exists()


def test_a_planned_request_in_the_inbox_shows_allergies_and_medication_and_no_emergency_box(
    login, world
):
    planned = ask(world)
    html = body(login(world.hub_carer).get(url("index")))
    assert world.child.allergies in html
    assert world.child.medication_notes in html
    assert world.child.needs not in html
    assert world.child.emergency_contacts not in html
    assert f'id="emergency-{planned.pk}"' not in html
    assert ChildRecordAccess.objects.filter(user=world.hub_carer, child=world.child).exists()


def test_the_inbox_shows_only_the_hubs_own_requests(login, world):
    mine = ask(world)
    other_child = world.other_constellation_child
    theirs = services.create_request(
        by=world.other_satellite_carer,
        kind="planned",
        children=[other_child],
        start=stay(5)[0],
        end=stay(5)[1],
    )
    html = body(login(world.hub_carer).get(url("index")))
    assert url("request", mine.pk) in html
    assert url("request", theirs.pk) not in html
    assert other_child.known_as not in html


def test_a_satellite_carer_sees_their_own_requests_and_the_links_to_ask(login, world):
    mine = ask(world)
    neighbours = ask(world, children=[world.neighbour_child], carer=world.neighbour_carer)
    html = body(login(world.satellite_carer).get(url("index")))
    assert "My requests" in html
    assert url("request", mine.pk) in html
    assert url("request", neighbours.pk) not in html
    assert "Requested" in html
    assert url("new") in html
    assert url("crisis") in html
    assert url("availability") in html


def test_the_liaison_sees_every_request_of_their_constellations_with_filters(login, world):
    planned = ask(world)
    crisis = crisis_now(world, children=[world.neighbour_child], carer=world.neighbour_carer)
    elsewhere = services.create_request(
        by=world.other_satellite_carer,
        kind="planned",
        children=[world.other_constellation_child],
        start=stay(5)[0],
        end=stay(5)[1],
    )
    client = login(world.liaison)
    html = body(client.get(url("index")))
    assert url("request", planned.pk) in html
    assert url("request", crisis.pk) in html
    assert url("request", elsewhere.pk) not in html

    html = body(client.get(url("index"), {"kind": "crisis"}))
    assert url("request", crisis.pk) in html
    assert url("request", planned.pk) not in html
    html = body(client.get(url("index"), {"household": world.satellite.pk, "status": "requested"}))
    assert url("request", planned.pk) in html
    assert url("request", crisis.pk) not in html

    # The manager sees both constellations of the service, never another service's.
    html = body(login(world.manager).get(url("index")))
    assert url("request", elsewhere.pk) in html


@pytest.mark.parametrize(
    "query",
    [
        {"status": "lost"},
        {"kind": "rocket"},
        {"household": "not-a-number"},
        {"household": "other_service"},
    ],
)
def test_bad_filters_are_a_400_with_the_reason(login, world, query):
    ask(world)
    if query.get("household") == "other_service":
        query = {"household": world.other_service_child.household_id}
    response = login(world.liaison).get(url("index"), query)
    assert response.status_code == 400
    assert "invalid-feedback" in body(response)


def test_the_fairness_table_counts_nights_per_household_over_twelve_months(login, world):
    today = timezone.localdate()
    request = ask(world)
    neighbours = ask(world, children=[world.neighbour_child], carer=world.neighbour_carer)
    Night.objects.bulk_create(
        [
            Night(hub=world.hub, date=today - timedelta(days=d), request=request, child=world.child)
            for d in (1, 2, 3, 400)  # the last one is more than a year ago
        ]
        + [
            Night(hub=world.hub, date=today - timedelta(days=5), request=neighbours, child=c)
            for c in (world.neighbour_child,)
        ]
    )
    html = body(login(world.liaison).get(url("index")))
    table = html[html.index("Nights per household") :]
    ashfords = table[
        table.index("The Ashfords") : table.index("</tr>", table.index("The Ashfords"))
    ]
    brookes = table[table.index("The Brookes") : table.index("</tr>", table.index("The Brookes"))]
    assert re.findall(r">(\d+)<", ashfords) == ["3", "0", "0", "3"]
    assert re.findall(r">(\d+)<", brookes) == ["1", "0", "0", "1"]


def test_people_without_a_part_in_sleepovers_are_told_where_to_go(login, world):
    response = login(world.social_worker).get(url("index"))
    assert response.status_code == 200
    assert reverse("delegated_authority:approvals") in body(response)


# --- booking ------------------------------------------------------------------------------


def booking(world, **changes):
    start, end = stay(5, 2)
    data = {
        "kind": "planned",
        "children": [world.child.pk],
        "start": local(start),
        "end": local(end),
        "notes": "Mara sleeps with the landing light on.",
    }
    data.update(changes)
    return data


def test_booking_needs_a_login_and_a_satellite_household(client, world):
    assert_login_redirect(client.get(url("new")))
    assert_statuses(
        client,
        url("new"),
        {
            "satellite_carer": 200,
            "neighbour_carer": 200,
            "hub_carer": 403,
            "liaison": 403,
            "manager": 403,
            "social_worker": 403,
        },
        world,
    )
    assert_statuses(client, url("new"), {"hub_carer": 403, "liaison": 403}, world, "post", {})


def test_the_booking_form_shows_own_children_tallies_limits_and_when_the_hub_is_away(login, world):
    SleepoverSettings.objects.create(
        constellation=world.constellation, max_consecutive_nights=2, yearly_allowance_nights=12
    )
    today = timezone.localdate()
    Unavailability.objects.create(
        hub=world.hub,
        start=today + timedelta(days=20),
        end=today + timedelta(days=27),
        note="Family holiday in Wales",
        created_by=world.hub_carer,
    )
    request = ask(world)
    Night.objects.create(hub=world.hub, date=today, request=request, child=world.child)
    html = body(login(world.satellite_carer).get(url("new")))
    assert f'value="{world.child.pk}"' in html
    assert f'value="{world.neighbour_child.pk}"' not in html
    assert "1 planned night at the hub this year" in html
    assert "at most 2 nights in a row" in html
    assert "12 planned nights at the hub a year" in html
    assert "Family holiday in Wales" in html
    assert 'type="datetime-local"' in html
    # Crisis has its own page, not a kind of booking.
    assert 'value="crisis"' not in html


def test_booking_sends_the_request_and_shows_its_page(login, world):
    client = login(world.satellite_carer)
    response = client.post(url("new"), booking(world))
    request = Request.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("request", request.pk)
    assert request.kind == Kind.PLANNED
    assert list(request.children.all()) == [world.child]
    assert len(request.nights) == 2
    assert request.notes == "Mara sleeps with the landing light on."
    assert Transition.objects.filter(request=request, to_status=Status.REQUESTED).exists()
    html = body(client.get(response["Location"]))
    assert "Sent to the hub" in html
    assert "The hub has not answered yet." in html


def _unavailable_next_week(world):
    today = timezone.localdate()
    Unavailability.objects.create(
        hub=world.hub,
        start=today + timedelta(days=4),
        end=today + timedelta(days=10),
        note="Our own family wedding",
        created_by=world.hub_carer,
    )


def _leave_the_constellation(world):
    people.end_membership(world.satellite.memberships.get(), by=world.liaison, reason="Moved away")


BAD_BOOKINGS = [
    ("end before start", lambda w: {"end": local(evening(4))}, "after the start"),
    (
        "past start",
        lambda w: {"start": local(evening(-3)), "end": local(evening(-2, 10))},
        "30 minutes ago",
    ),
    ("another household's child", lambda w: {"children": [w.neighbour_child.pk]}, "your household"),
    (
        "another service's child",
        lambda w: {"children": [w.other_service_child.pk]},
        "your household",
    ),
    ("a child id that is not one", lambda w: {"children": ["abc"]}, "your household"),
    ("no child", lambda w: {"children": []}, "at least one child"),
    ("not a date", lambda w: {"start": "not-a-date"}, "Enter a date and time"),
    ("year 9999", lambda w: {"end": "9999-12-31T10:00"}, "between the years 2000 and 2100"),
    ("notes too long", lambda w: {"notes": LONG}, "at most 5000 characters"),
    ("more nights than the limit", lambda w: {"end": local(evening(9, 10))}, "at most 3"),
    ("a crisis is not booked", lambda w: {"kind": "crisis"}, "Need help now"),
    ("a temporary placement", lambda w: {"kind": "temporary"}, "Need help now"),
    ("the hub is away", _unavailable_next_week, "Our own family wedding"),
    ("household not in the constellation", _leave_the_constellation, "not an active member"),
]


@pytest.mark.parametrize(("case", "change", "message"), BAD_BOOKINGS)
def test_a_bad_booking_is_a_400_with_a_clear_message_and_nothing_saved(
    login, world, case, change, message
):
    changes = change(world)
    data = booking(world, **(changes or {}))
    before = (Request.objects.count(), Activity.objects.count(), Transition.objects.count())
    response = login(world.satellite_carer).post(url("new"), data)
    assert response.status_code == 400, case
    assert message in body(response), case
    after = (Request.objects.count(), Activity.objects.count(), Transition.objects.count())
    assert after == before


# --- the crisis button ----------------------------------------------------------------------


def test_the_crisis_page_has_the_hubs_numbers_and_ticks_the_only_child(login, world):
    world.hub.phone = "07700 900111"
    world.hub.save()
    html = body(login(world.satellite_carer).get(url("crisis")))
    assert 'href="tel:07700900111"' in html
    assert "0300 555 0100" in html
    assert "An unplanned overnight stay" in html
    assert re.search(rf'value="{world.child.pk}"[^>]*checked', html)


def test_crisis_access(client, world):
    assert_login_redirect(client.get(url("crisis")))
    assert_statuses(
        client, url("crisis"), {"satellite_carer": 200, "hub_carer": 403, "manager": 403}, world
    )


def test_a_crisis_starts_now_alerts_the_hub_and_shows_the_request(
    login, world, django_capture_on_commit_callbacks
):
    client = login(world.satellite_carer)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("crisis"),
            {"crisis_reason": "composure", "children": [world.child.pk], "notes": "Please"},
        )
    request = Request.objects.get()
    assert response["Location"] == url("request", request.pk)
    assert request.kind == Kind.CRISIS
    assert request.crisis_reason == "composure"
    assert before - timedelta(seconds=5) <= request.start <= timezone.now()
    assert request.end - request.start == timedelta(hours=4)
    assert Activity.objects.filter(verb="sleepover.crisis_raised").exists()
    html = body(client.get(response["Location"]))
    assert "the hub is alerted now" in html
    assert "Call the hub" in html
    # The hub sees it at the top of its home page.
    hub_home = body(login(world.hub_carer).get(reverse("home")))
    assert url("request", request.pk) in hub_home
    assert "A few hours to recover composure" in hub_home


def test_an_overnight_crisis_lasts_until_the_next_morning_unless_told(login, world):
    client = login(world.satellite_carer)
    client.post(url("crisis"), {"crisis_reason": "overnight", "children": [world.child.pk]})
    request = Request.objects.get()
    assert timezone.localtime(request.end).hour == 10
    assert len(request.nights) == 1
    until = timezone.now() + timedelta(hours=2)
    client.post(
        url("crisis"),
        {"crisis_reason": "pick_up", "children": [world.child.pk], "until": local(until)},
    )
    assert local(Request.objects.order_by("-pk").first().end) == local(until)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"children": "own"}, "Say what help you need."),
        ({"crisis_reason": "alien", "children": "own"}, "valid choice"),
        ({"crisis_reason": "drop_off"}, "at least one child"),
        ({"crisis_reason": "drop_off", "children": "neighbour"}, "your household"),
        ({"crisis_reason": "drop_off", "children": "other_service"}, "your household"),
        ({"crisis_reason": "drop_off", "children": "own", "until": "not-a-date"}, "Enter a date"),
        ({"crisis_reason": "drop_off", "children": "own", "until": "past"}, "after the start"),
        ({"crisis_reason": "drop_off", "children": "own", "notes": LONG}, "at most 5000"),
    ],
)
def test_a_bad_crisis_request_is_a_400_and_nothing_is_saved(login, world, data, message):
    children = {
        "own": [world.child.pk],
        "neighbour": [world.neighbour_child.pk],
        "other_service": [world.other_service_child.pk],
    }
    data = dict(data)
    if "children" in data:
        data["children"] = children[data["children"]]
    if data.get("until") == "past":
        data["until"] = local(timezone.now() - timedelta(hours=3))
    response = login(world.satellite_carer).post(url("crisis"), data)
    assert response.status_code == 400
    assert message in body(response)
    assert not Request.objects.exists()


# --- the request page and its live status ----------------------------------------------------


def test_request_page_access(client, world):
    request = ask(world)
    target = url("request", request.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(
        client,
        target,
        {
            "satellite_carer": 200,
            "hub_carer": 200,
            "second_hub_carer": 200,
            "liaison": 200,
            "manager": 200,
            **OUTSIDERS_404,
            "other_service_liaison": 404,
            "other_service_carer": 404,
        },
        world,
    )
    client.force_login(world.satellite_carer)
    assert client.get(url("request", 999_999)).status_code == 404


def test_the_requester_sees_the_hubs_phones_the_status_and_the_timeline(login, world):
    world.hub.phone = "07700 900111"
    world.hub.second_phone = "07700 900222"
    world.hub.save()
    request = ask(world)
    services.decline(request, by=world.hub_carer, reason="We are full with a placement")
    html = body(login(world.satellite_carer).get(url("request", request.pk)))
    assert 'href="tel:07700900111"' in html
    assert 'href="tel:07700900222"' in html
    assert "Call the hub" in html
    assert "Declined" in html
    assert "We are full with a placement" in html
    assert "Requested → Declined" in html
    assert escape(str(world.hub_carer)) in html
    # A closed request no longer polls its status.
    assert url("status", request.pk) not in html


def test_an_open_request_polls_its_status_every_10_seconds(login, world):
    request = ask(world)
    client = login(world.satellite_carer)
    html = body(client.get(url("request", request.pk)))
    assert f'hx-get="{url("status", request.pk)}?seen=requested."' in html
    assert 'hx-trigger="every 10s"' in html
    # Nothing to swap while the status is the one shown ...
    unchanged = client.get(url("status", request.pk), {"seen": "requested."})
    assert unchanged.status_code == 204
    # ... and the new block when it changed.
    services.decline(request, by=world.hub_carer, reason="Sorry, we are away")
    changed = client.get(url("status", request.pk), {"seen": "requested."})
    assert changed.status_code == 200
    assert "Sorry, we are away" in body(changed)
    assert "<html" not in body(changed)


def test_status_access(client, world):
    request = ask(world)
    target = url("status", request.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(
        client,
        target,
        {"satellite_carer": 200, "hub_carer": 200, "liaison": 200, **OUTSIDERS_404},
        world,
    )


def test_the_hub_carer_sees_the_actions_and_the_familys_number(login, world):
    world.satellite.phone = "07700 900333"
    world.satellite.save()
    request = ask(world)
    html = body(login(world.hub_carer).get(url("request", request.pk)))
    assert "Waiting for your answer." in html
    assert f'action="{url("accept", request.pk)}"' in html
    assert f'action="{url("decline", request.pk)}"' in html
    assert 'href="tel:07700900333"' in html
    # The liaison worker sees the request, not the hub's buttons.
    html = body(login(world.liaison).get(url("request", request.pk)))
    assert f'action="{url("accept", request.pk)}"' not in html
    assert f'action="{url("cancel", request.pk)}"' not in html


# --- actions ----------------------------------------------------------------------------------

ACTIONS = ["accept", "decline", "offer", "arrived", "collected", "did_not_arrive"]


@pytest.mark.parametrize("action", [*ACTIONS, "take_offer", "cancel"])
def test_actions_are_post_only_and_need_a_login(client, world, action):
    request = ask(world)
    assert_login_redirect(client.post(url(action, request.pk)))
    client.force_login(world.hub_carer)
    assert client.get(url(action, request.pk)).status_code == 405


@pytest.mark.parametrize("action", ACTIONS)
def test_the_hubs_actions_are_refused_to_everyone_else(client, world, action):
    request = ask(world)
    assert_statuses(
        client,
        url(action, request.pk),
        {"satellite_carer": 403, "liaison": 403, "manager": 403, **OUTSIDERS_404},
        world,
        "post",
        {"reason": "x"},
    )
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


@pytest.mark.parametrize("action", ["take_offer", "cancel"])
def test_the_familys_actions_are_refused_to_everyone_else(client, world, action):
    request = ask(world)
    services.offer(request, by=world.hub_carer, start=evening(6), end=evening(7, 10))
    assert_statuses(
        client,
        url(action, request.pk),
        {"hub_carer": 403, "liaison": 403, **OUTSIDERS_404},
        world,
        "post",
        {"reason": "x"},
    )
    request.refresh_from_db()
    assert request.status == Status.OFFERED


def test_accept_books_the_beds_and_comes_back_to_the_inbox(login, allowed):
    request = ask(allowed, nights=2)
    client = login(allowed.hub_carer)
    response = client.post(url("accept", request.pk), {"next": url("index")})
    assert response["Location"] == url("index")
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    assert Night.objects.filter(request=request).count() == 2
    assert "Accepted. The Ashfords can see it now." in body(client.get(url("index")))
    # The family's page says it is booked.
    html = body(login(allowed.satellite_carer).get(url("request", request.pk)))
    assert "Booked." in html


def test_accept_ignores_a_next_that_leaves_the_site(login, allowed):
    request = ask(allowed)
    response = login(allowed.hub_carer).post(
        url("accept", request.pk), {"next": "https://evil.example/"}
    )
    assert response["Location"] == url("request", request.pk)


def test_accept_without_delegated_authority_waits_for_approval(login, world):
    request = ask(world)
    client = login(world.hub_carer)
    client.post(url("accept", request.pk))
    request.refresh_from_db()
    assert request.status == Status.AWAITING_APPROVAL
    html = body(client.get(url("request", request.pk)))
    assert "waits for the approval" in html


def _fill_the_hub(world, request):
    Night.objects.bulk_create(
        Night(hub=world.hub, date=day, request=request, child=f.child_in(world.neighbour))
        for day in request.nights
        for _ in range(world.hub.beds)
    )


def test_accept_on_a_full_night_says_so_and_books_nothing(login, allowed):
    request = ask(allowed)
    _fill_the_hub(
        allowed,
        ask(allowed, days=5, children=[allowed.neighbour_child], carer=allowed.neighbour_carer),
    )
    client = login(allowed.hub_carer)
    response = client.post(url("accept", request.pk), follow=True)
    assert "The hub is full on the night of" in body(response)
    request.refresh_from_db()
    assert request.status == Status.REQUESTED
    assert not Night.objects.filter(request=request).exists()


def test_a_crisis_can_be_accepted_beyond_the_beds_as_an_emergency(login, allowed):
    now = timezone.now()
    crisis = ask(
        allowed,
        kind=Kind.CRISIS,
        start=now,
        end=timezone.localtime(now).replace(hour=10) + timedelta(days=1),
        crisis_reason="overnight",
    )
    blocker = ask(
        allowed, days=5, children=[allowed.neighbour_child], carer=allowed.neighbour_carer
    )
    Night.objects.bulk_create(
        Night(
            hub=allowed.hub,
            date=crisis.nights[0],
            request=blocker,
            child=f.child_in(allowed.neighbour),
        )
        for _ in range(allowed.hub.beds)
    )
    client = login(allowed.hub_carer)
    html = body(client.get(url("request", crisis.pk)))
    assert "Not enough beds" in html
    client.post(url("accept", crisis.pk))
    crisis.refresh_from_db()
    assert crisis.status == Status.REQUESTED
    response = client.post(url("accept", crisis.pk), {"emergency": "on"}, follow=True)
    crisis.refresh_from_db()
    assert crisis.status == Status.ACCEPTED
    assert crisis.emergency_over_beds
    assert "emergency arrangement beyond the beds" in body(response)


def test_the_emergency_box_does_nothing_for_a_planned_stay(login, allowed):
    request = ask(allowed)
    _fill_the_hub(
        allowed, ask(allowed, children=[allowed.neighbour_child], carer=allowed.neighbour_carer)
    )
    login(allowed.hub_carer).post(url("accept", request.pk), {"emergency": "on"})
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


def test_decline_needs_a_reason_the_family_then_reads(login, world):
    request = ask(world)
    client = login(world.hub_carer)
    for bad in ({}, {"reason": "   "}, {"reason": LONG}):
        response = client.post(url("decline", request.pk), bad)
        assert response.status_code == 400
        assert "is-invalid" in body(response)
        request.refresh_from_db()
        assert request.status == Status.REQUESTED
    assert "Say why" in body(client.post(url("decline", request.pk), {}))
    response = client.post(url("decline", request.pk), {"reason": "Our own child is ill"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decline_reason) == (Status.DECLINED, "Our own child is ill")
    html = body(login(world.satellite_carer).get(url("request", request.pk)))
    assert "Our own child is ill" in html


def test_an_answer_to_a_closed_request_is_refused_with_the_reason(login, world):
    request = ask(world)
    services.decline(request, by=world.hub_carer, reason="No")
    response = login(world.hub_carer).post(url("accept", request.pk), follow=True)
    assert "cannot be accepted" in body(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required"),
        ({"start": "not-a-date", "end": "not-a-date"}, "Enter a date and time"),
        ({"start": "past", "end": "future"}, "30 minutes ago"),
        ({"start": "future", "end": "past"}, "after the start"),
    ],
)
def test_a_bad_offer_is_a_400_and_nothing_changes(login, world, data, message):
    request = ask(world)
    times = {"past": local(evening(-2)), "future": local(evening(8))}
    data = {k: times.get(v, v) for k, v in data.items()}
    response = login(world.hub_carer).post(url("offer", request.pk), data)
    assert response.status_code == 400
    assert message in body(response)
    request.refresh_from_db()
    assert request.status == Status.REQUESTED
    assert request.offered_start is None


def test_an_offer_is_taken_by_the_family(login, allowed):
    request = ask(allowed)
    login(allowed.hub_carer).post(
        url("offer", request.pk), {"start": local(evening(8)), "end": local(evening(9, 10))}
    )
    request.refresh_from_db()
    assert request.status == Status.OFFERED
    client = login(allowed.satellite_carer)
    html = body(client.get(url("request", request.pk)))
    assert "offers another" in html
    assert f'action="{url("take_offer", request.pk)}"' in html
    assert "Refuse the offer" in html
    response = client.post(url("take_offer", request.pk), follow=True)
    assert "the stay is booked" in body(response)
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    assert local(request.start) == local(evening(8))


def test_an_offer_is_refused_by_the_family(login, world):
    request = ask(world)
    services.offer(request, by=world.hub_carer, start=evening(8), end=evening(9, 10))
    client = login(world.satellite_carer)
    response = client.post(url("cancel", request.pk), {"reason": "Not that weekend"}, follow=True)
    assert "Offer refused" in body(response)
    request.refresh_from_db()
    assert (request.status, request.cancel_reason) == (Status.CANCELLED, "Not that weekend")


def test_the_family_cancels_with_a_reason_and_the_beds_are_freed(login, allowed):
    request = ask(allowed)
    services.accept(request, by=allowed.hub_carer)
    client = login(allowed.satellite_carer)
    response = client.post(url("cancel", request.pk), {"reason": ""})
    assert response.status_code == 400
    assert Night.objects.filter(request=request).exists()
    client.post(url("cancel", request.pk), {"reason": "Mara is unwell"})
    request.refresh_from_db()
    assert request.status == Status.CANCELLED
    assert not Night.objects.filter(request=request).exists()


def test_arrived_then_collected(login, allowed):
    request = ask(allowed)
    services.accept(request, by=allowed.hub_carer)
    client = login(allowed.hub_carer)
    html = body(client.get(url("request", request.pk)))
    assert f'action="{url("arrived", request.pk)}"' in html
    assert f'action="{url("did_not_arrive", request.pk)}"' in html
    # The arrival is recorded when the stay is due.
    traveller = time_machine.travel(request.start + timedelta(minutes=5))
    traveller.start()
    client.post(url("arrived", request.pk))
    request.refresh_from_db()
    assert request.status == Status.ARRIVED
    assert f'action="{url("collected", request.pk)}"' in body(
        client.get(url("request", request.pk))
    )
    client.post(url("collected", request.pk))
    request.refresh_from_db()
    assert request.status == Status.COLLECTED
    # Collected twice: refused, with the reason.
    response = client.post(url("collected", request.pk), follow=True)
    assert "cannot be collected" in body(response)
    traveller.stop()


def test_did_not_arrive_frees_the_beds(login, allowed):
    request = ask(allowed)
    services.accept(request, by=allowed.hub_carer)
    client = login(allowed.hub_carer)
    traveller = time_machine.travel(request.start + timedelta(hours=1))
    traveller.start()
    response = client.post(url("did_not_arrive", request.pk), {"note": LONG})
    assert response.status_code == 400
    assert Night.objects.filter(request=request).exists()
    client.post(url("did_not_arrive", request.pk), {"note": "No call either"})
    request.refresh_from_db()
    assert request.status == Status.DID_NOT_ARRIVE
    assert not Night.objects.filter(request=request).exists()
    assert request.timeline.last().note == "No call either"
    traveller.stop()


# --- nights and availability ------------------------------------------------------------------


def test_the_month_view_shows_beds_booked_free_and_who(login, allowed):
    request = ask(allowed, days=1)
    services.accept(request, by=allowed.hub_carer)
    night = request.nights[0]
    Unavailability.objects.create(
        hub=allowed.hub,
        start=night,
        end=night,
        note="Hub family birthday",
        created_by=allowed.hub_carer,
    )
    month = night.strftime("%Y-%m")
    for who in ("hub_carer", "liaison"):
        html = body(login(getattr(allowed, who)).get(url("nights"), {"month": month}))
        assert night.strftime("%B %Y") in html
        assert f">{allowed.child.known_as}</a>" in html
        assert "Hub family birthday" in html
        assert "Booked" in html
    # A family sees free beds and the hub's notes, not who is staying.
    html = body(login(allowed.neighbour_carer).get(url("nights"), {"month": month}))
    assert f">{allowed.child.known_as}</a>" not in html
    assert "Booked" not in html
    assert "Hub family birthday" in html


@pytest.mark.parametrize("month", ["not-a-date", "2026-13", "26-01", "1800-01", "2026-1"])
def test_a_bad_month_is_a_400_with_the_reason(login, world, month):
    response = login(world.hub_carer).get(url("nights"), {"month": month})
    assert response.status_code == 400
    assert "for example 2026-03" in body(response) or "between the years" in body(response)


def test_nights_access(client, world):
    assert_login_redirect(client.get(url("nights")))
    assert_statuses(
        client,
        url("nights"),
        {"hub_carer": 200, "satellite_carer": 200, "liaison": 200, "manager": 200},
        world,
    )
    assert_statuses(client, url("nights"), {"social_worker": 403}, world)
    other_hub = world.other_constellation.hub_id
    target = f"{url('nights')}?hub={other_hub}"
    assert_statuses(
        client,
        target,
        {"hub_carer": 404, "satellite_carer": 404, "other_liaison": 200, "manager": 200},
        world,
    )
    assert_statuses(
        client, f"{url('nights')}?hub={world.hub.pk}", {"other_service_manager": 404}, world
    )
    assert_statuses(client, f"{url('nights')}?hub=abc", {"hub_carer": 404}, world)
    # A satellite household is not a hub.
    assert_statuses(client, f"{url('nights')}?hub={world.satellite.pk}", {"liaison": 404}, world)


def test_the_availability_calendar_shows_eight_weeks_and_when_the_hub_is_away(login, allowed):
    today = timezone.localdate()
    Unavailability.objects.create(
        hub=allowed.hub,
        start=today + timedelta(days=10),
        end=today + timedelta(days=12),
        note="Half-term away",
        created_by=allowed.hub_carer,
    )
    request = ask(allowed, days=3)
    services.accept(request, by=allowed.hub_carer)
    html = body(login(allowed.satellite_carer).get(url("availability")))
    assert html.count('class="cal-row"') == 8
    assert "Half-term away" in html
    assert "2 free" in html
    assert "Away" in html


def test_availability_access(client, world):
    assert_login_redirect(client.get(url("availability")))
    assert_statuses(
        client,
        url("availability"),
        {"satellite_carer": 200, "hub_carer": 200, "manager": 200, "social_worker": 403},
        world,
    )
    target = f"{url('availability')}?hub={world.other_constellation.hub_id}"
    assert_statuses(client, target, {"satellite_carer": 404, "other_service_manager": 404}, world)


# --- beds and unavailability --------------------------------------------------------------


def test_beds_access(client, world):
    assert_login_redirect(client.get(url("beds")))
    assert_statuses(
        client,
        url("beds"),
        {"hub_carer": 200, "second_hub_carer": 200, "liaison": 200, "satellite_carer": 403},
        world,
    )
    for name in ("change_beds", "add_unavailability"):
        target = url(name, world.hub.pk)
        assert_login_redirect(client.post(target))
        assert_statuses(
            client,
            target,
            {
                "satellite_carer": 403,
                "neighbour_carer": 403,
                "other_hub_carer": 404,
                "other_liaison": 404,
                "other_service_manager": 404,
                "other_service_liaison": 404,
                "other_service_hub_carer": 404,
            },
            world,
            "post",
        )
        client.force_login(world.hub_carer)
        assert client.get(target).status_code == 405
        client.logout()
    assert not BedChange.objects.exists()
    assert not Unavailability.objects.exists()


def test_the_hub_changes_its_beds_and_adds_a_period_away(login, world):
    today = timezone.localdate()
    client = login(world.hub_carer)
    response = client.post(
        url("change_beds", world.hub.pk),
        {
            "start": (today + timedelta(days=1)).isoformat(),
            "end": (today + timedelta(days=3)).isoformat(),
            "beds": "2",
            "note": "Decorating the back room",
        },
    )
    assert response.status_code == 302
    change = BedChange.objects.get()
    assert (change.beds, change.created_by) == (2, world.hub_carer)
    response = client.post(
        url("add_unavailability", world.hub.pk),
        {
            "start": (today + timedelta(days=30)).isoformat(),
            "end": (today + timedelta(days=37)).isoformat(),
            "note": "Summer holiday",
        },
    )
    html = body(client.get(response["Location"]))
    assert "Decorating the back room" in html
    assert "Summer holiday" in html
    assert "The families see that the hub is not available" in html
    night = selectors.nights(world.hub, today + timedelta(days=2), today + timedelta(days=2))[0]
    assert night.beds == 2
    # The families see it on their home page and before they book.
    assert "Summer holiday" in body(login(world.satellite_carer).get(url("new")))


def _period(days_from, days_to, **extra):
    today = timezone.localdate()
    return {
        "start": (today + timedelta(days=days_from)).isoformat(),
        "end": (today + timedelta(days=days_to)).isoformat(),
        **extra,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_period(3, 1, beds="2"), "must not be before the first"),
        (_period(1, 3, beds="25"), "less than or equal to 20"),
        (_period(1, 3, beds="-1"), "greater than or equal to 0"),
        (_period(1, 3, beds="two"), "Enter a whole number"),
        ({"start": "not-a-date", "end": "2026-01-01", "beds": "2"}, "Enter a valid date"),
        (_period(1, 3, beds="2", note=LONG), "at most 200 characters"),
        (_period(1, 3), "This field is required"),
    ],
)
def test_a_bad_bed_change_is_a_400_and_nothing_saved(login, world, data, message):
    response = login(world.hub_carer).post(url("change_beds", world.hub.pk), data)
    assert response.status_code == 400
    assert message in body(response)
    assert not BedChange.objects.exists()


def test_fewer_beds_than_children_booked_is_refused_with_the_reason(login, allowed):
    request = ask(allowed, days=2)
    services.accept(request, by=allowed.hub_carer)
    night = request.nights[0]
    response = login(allowed.hub_carer).post(
        url("change_beds", allowed.hub.pk),
        {"start": night.isoformat(), "end": night.isoformat(), "beds": "0"},
    )
    assert response.status_code == 400
    assert "already booked" in body(response)
    assert not BedChange.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_period(3, 1, note="Away"), "must not be before the first"),
        (_period(1, 3, note="   "), "Say why"),
        (_period(1, 3), "Say why"),
        (_period(1, 3, note=LONG), "at most 200 characters"),
        ({"start": "not-a-date", "end": "x", "note": "Away"}, "Enter a valid date"),
    ],
)
def test_a_bad_period_away_is_a_400_and_nothing_saved(login, world, data, message):
    response = login(world.hub_carer).post(url("add_unavailability", world.hub.pk), data)
    assert response.status_code == 400
    assert message in body(response)
    assert not Unavailability.objects.exists()


# --- the home pages ---------------------------------------------------------------------------


def test_the_hub_home_has_the_inbox_crisis_first_and_tonights_guests(nine_am, login, allowed):
    tonight = ask(allowed, start=timezone.now() + timedelta(minutes=1), end=evening(1, 10))
    services.accept(tonight, by=allowed.hub_carer)
    planned = ask(
        allowed, days=3, children=[allowed.neighbour_child], carer=allowed.neighbour_carer
    )
    crisis = crisis_now(allowed)
    html = body(login(allowed.hub_carer).get(reverse("home")))
    assert "Requests to answer" in html
    assert html.index(url("request", crisis.pk)) < html.index(url("request", planned.pk))
    week = html[html.index("Tonight and this week") :]
    assert "Tonight, " in week
    assert f">{allowed.child.known_as}</a> (The Ashfords)" in week
    assert "1 of 3 beds taken" in week
    # Beside them, how long since each household was contacted (regular contact).
    assert 'data-testid="contact-panel"' in html


def test_the_satellite_home_has_the_crisis_button_booking_and_free_beds(login, world):
    request = ask(world)
    today = timezone.localdate()
    Unavailability.objects.create(
        hub=world.hub,
        start=today + timedelta(days=5),
        end=today + timedelta(days=6),
        note="Hub carers at a wedding",
        created_by=world.hub_carer,
    )
    html = body(login(world.satellite_carer).get(reverse("home")))
    assert f'href="{url("crisis")}"' in html
    assert "Need help now" in html
    assert f'href="{url("new")}"' in html
    assert "Hub availability" in html
    assert "Hub carers at a wedding" in html
    assert "3 free" in html
    assert url("request", request.pk) in html
    assert "Coming up" in html


# --- query counts that do not grow with the number of requests --------------------------------


def grow(world, n: int) -> None:
    """``n`` open requests to the hub (every fifth a crisis) and ``n`` accepted nights
    in this month, written directly."""
    first = timezone.localdate().replace(day=1)
    children = [f.child_in(world.satellite) for _ in range(n // 28 + 1)]
    created = []
    for i in range(n):
        start = evening(1 + i % 20)
        request = Request.objects.create(
            constellation=world.constellation,
            hub=world.hub,
            household=world.satellite,
            requested_by=world.satellite_carer,
            kind=Kind.CRISIS if i % 5 == 0 else Kind.PLANNED,
            crisis_reason="drop_off" if i % 5 == 0 else "",
            start=start,
            end=start + timedelta(hours=17),
        )
        request.children.set([children[i % len(children)], world.child])
        created.append(request)
    Night.objects.bulk_create(
        Night(
            hub=world.hub,
            date=first + timedelta(days=i % 28),
            request=created[i],
            child=children[i // 28 % len(children)],
        )
        for i in range(n)
        if i // 28 < len(children)
    )


COUNTED = [
    ("hub_carer", lambda w: url("index")),
    ("hub_carer", lambda w: reverse("home")),
    ("hub_carer", lambda w: url("nights")),
    ("liaison", lambda w: url("nights")),
    ("satellite_carer", lambda w: url("nights")),
    ("liaison", lambda w: url("index")),
    ("manager", lambda w: url("index")),
    ("satellite_carer", lambda w: url("index")),
    ("satellite_carer", lambda w: reverse("home")),
]
# Twenty for the page, plus the navigation's unread count and the home page's check
# that something would wake the hub carer for a crisis; on the hub carer's home page,
# the calendar's dates whose attendance is still to record (two); the audit trail of
# the full records shown (their names, one insert).
MAX_QUERIES = 26


@pytest.mark.parametrize("size", [10, 200])
@pytest.mark.parametrize(("who", "page"), COUNTED)
def test_pages_stay_within_a_fixed_number_of_queries(
    login, world, django_assert_max_num_queries, size, who, page
):
    grow(world, size)
    client = login(getattr(world, who))
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(page(world))
    assert response.status_code == 200


def test_query_counts_do_not_grow_with_the_requests(login, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(who, page):
        client = login(getattr(world, who))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page(world)).status_code == 200
        return len(queries)

    grow(world, 10)
    small = {(who, page): count(who, page) for who, page in COUNTED}
    grow(world, 190)
    for who, page in COUNTED:
        assert count(who, page) == small[(who, page)], who


@pytest.mark.parametrize("hour", [0, 5, 6, 7, 9, 18, 23])
def test_an_overnight_crisis_holds_one_night_whatever_the_hour_it_is_raised(login, world, hour):
    """Raised while a night is still running (before 07:00), an overnight crisis ends
    that morning; raised after, it ends the next morning: one night either way."""
    from zoneinfo import ZoneInfo

    import time_machine

    today = timezone.localdate()
    moment = timezone.datetime(
        today.year, today.month, today.day, hour, 30, tzinfo=ZoneInfo("Europe/London")
    )
    with time_machine.travel(moment, tick=False):
        login(world.satellite_carer).post(
            url("crisis"), {"crisis_reason": "overnight", "children": [world.child.pk]}
        )
        request = Request.objects.get()
        assert timezone.localtime(request.end).hour == 10
        assert len(request.nights) == 1
