"""The hub carer's inbox and home page update by themselves: each polls its block every
10 s with the version of what it shows; the server answers 204 (nothing re-rendered,
nothing swapped, no half-typed reason lost) while the version is current, and the block
again, its new cards marked, once a request came, was answered, cancelled or approved.
Only the hub's own carers get the blocks."""

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from delegated_authority import services as authority
from delegated_authority.models import Approval, Decision
from sleepovers import selectors, services
from sleepovers.models import Kind, Status

from .helpers import allow_hub, stay
from .test_inbox_bounded import open_requests

pytestmark = pytest.mark.django_db

INBOX = reverse("sleepovers:index")
HOME = reverse("home")
BLOCKS = {INBOX: "inbox-live", HOME: "hub-home-live"}


def ask(world, *, days=5, carer=None, children=None):
    start, end = stay(days)
    return services.create_request(
        by=carer or world.satellite_carer,
        kind=Kind.PLANNED,
        children=children or [world.child],
        start=start,
        end=end,
    )


def crisis_now(world, *, reason="drop_off"):
    """A crisis as the crisis button sends it: from now, for the usual few hours."""
    start = timezone.now()
    return services.create_request(
        by=world.satellite_carer,
        kind=Kind.CRISIS,
        children=[world.child],
        start=start,
        end=services.crisis_end(start, reason),
        crisis_reason=reason,
        notes="Please, the doctor's surgery closes at ten.",
    )


@pytest.fixture
def allowed(world):
    """The children's agreements let the hub carers accept stays at once."""
    for child in (world.child, world.neighbour_child):
        allow_hub(child, by=world.liaison)
    return world


def poll_url(body: str, block: str) -> str:
    """The address the page's live block polls (its version in ``v``)."""
    found = re.search(rf'id="{block}"[^>]*\shx-get="([^"]+)"', body)
    assert found, f"no live block {block}"
    return html.unescape(found.group(1))


def opened(client, page: str) -> str:
    response = client.get(page)
    assert response.status_code == 200
    return poll_url(response.content.decode(), BLOCKS[page.split("?")[0]])


def cards(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-request="(\d+)"', body)]


def new_cards(body: str) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(r'class="[^"]*inbox-item-new[^"]*"[^>]*data-request="(\d+)"', body)
    ]


# --- nothing changed: 204, nothing re-rendered --------------------------------------------


@pytest.mark.parametrize("page", [INBOX, HOME])
def test_while_nothing_changes_the_poll_answers_204(nine_am, login, allowed, page):
    waiting = ask(allowed)
    client = login(allowed.hub_carer)
    url = opened(client, page)

    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 204
        assert response.content == b""
    # The page opened again polls with the same version.
    assert opened(client, page) == url
    assert waiting.pk in cards(client.get(page).content.decode())


def test_the_version_does_not_change_with_the_clock_alone(nine_am, allowed):
    ask(allowed)
    first = selectors.inbox_version(allowed.hub_carer, allowed.hub).value
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert selectors.inbox_version(allowed.hub_carer, allowed.hub).value == first


# --- something changed: the block again, the new card marked -------------------------------


@pytest.mark.parametrize("page", [INBOX, HOME])
def test_a_new_crisis_shows_at_the_next_poll_marked_new(nine_am, login, allowed, page):
    waiting = ask(allowed)
    client = login(allowed.hub_carer)
    url = opened(client, page)

    crisis = crisis_now(allowed)
    response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert cards(body)[0] == crisis.pk  # a crisis first
    assert waiting.pk in cards(body)
    assert new_cards(body) == [crisis.pk]  # only the one that came is marked
    assert 'data-testid="new-badge"' in body
    assert "Drop a child off" in body
    # Said in words for the page's live region (out of band, outside the block).
    news = re.search(r'<div id="live-news" hx-swap-oob="innerHTML">([^<]*)</div>', body)
    assert news
    assert "a crisis request from The Ashfords" in news.group(1)
    # The answer carries the new version: the next poll has nothing to swap.
    assert client.get(poll_url(body, BLOCKS[page])).status_code == 204


def test_the_page_itself_marks_nothing_new(nine_am, login, allowed):
    crisis_now(allowed)
    body = login(allowed.hub_carer).get(INBOX).content.decode()
    assert new_cards(body) == []
    assert "hx-swap-oob" not in body
    # The live region is on the page, outside the block, and empty until something changes.
    assert re.search(r'<p id="live-news"[^>]*aria-live="polite"[^>]*></p>', body)


ANSWERS = {
    "accepted": lambda w, r: services.accept(r, by=w.hub_carer),
    "declined": lambda w, r: services.decline(r, by=w.hub_carer, reason="We are full"),
    "offered": lambda w, r: services.offer(r, by=w.hub_carer, start=stay(6)[0], end=stay(6)[1]),
    "cancelled": lambda w, r: services.cancel(r, by=w.satellite_carer, reason="Sorted now"),
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("page", [INBOX, HOME])
def test_an_answer_or_a_cancellation_changes_the_block(nine_am, login, allowed, page, answer):
    request = ask(allowed)
    client = login(allowed.hub_carer)
    url = opened(client, page)

    ANSWERS[answer](allowed, request)
    request.refresh_from_db()
    assert request.status == answer

    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    if request.status in {Status.OFFERED}:
        assert request.pk in cards(body)  # it still waits, for the family now
        assert "Another time offered" in body
    else:
        assert request.pk not in cards(body)
    assert new_cards(body) == []
    assert "Updated at" in body
    assert client.get(poll_url(body, BLOCKS[page])).status_code == 204


@pytest.mark.parametrize("page", [INBOX, HOME])
def test_an_approval_given_changes_the_block(nine_am, login, world, page):
    # The agreement leaves planned stays at the hub with the social worker.
    authority.create_agreement(
        world.child,
        by=world.liaison,
        effective_from=timezone.localdate() - timedelta(days=1),
        review_on=timezone.localdate() + timedelta(days=90),
        signed_off_role="liaison_worker",
        clauses=[
            authority.ClauseInput(
                Decision.objects.get(code="overnight_hub_planned"), "social_worker"
            )
        ],
    )
    request = ask(world)
    services.accept(request, by=world.hub_carer)
    client = login(world.hub_carer)
    url = opened(client, page)
    assert "Waiting for approval" in client.get(page).content.decode()

    approval = Approval.objects.get(subject_type="sleepover", subject_id=request.pk)
    authority.decide_approval(approval, by=world.social_worker, approve=True, note="Fine")

    response = client.get(url)
    assert response.status_code == 200
    assert request.pk not in cards(response.content.decode())


def test_the_home_block_shows_tonights_guests_once_a_crisis_is_accepted_at_2am(login, allowed):
    today = timezone.localdate()
    two_am = datetime(today.year, today.month, today.day, 2, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(two_am, tick=True):
        client = login(allowed.hub_carer)
        url = opened(client, HOME)
        crisis = crisis_now(allowed, reason="overnight")
        body = client.get(url).content.decode()
        assert new_cards(body) == [crisis.pk]
        url = poll_url(body, BLOCKS[HOME])

        services.accept(crisis, by=allowed.hub_carer)
        body = client.get(url).content.decode()
        assert crisis.pk not in cards(body)
        # The night in progress (it began yesterday evening) holds the child now.
        tonight = re.search(r'<li class="list-group-item tonight">(.*?)</li>', body, re.S)
        assert tonight
        assert "Mara" in tonight.group(1)


def test_a_change_of_beds_changes_the_inbox(nine_am, login, allowed):
    request = ask(allowed)
    client = login(allowed.hub_carer)
    url = opened(client, INBOX)
    day = request.start.date()
    services.change_beds(allowed.hub, by=allowed.hub_carer, start=day, end=day, beds=5)
    response = client.get(url)
    assert response.status_code == 200
    assert "5 beds free on the fullest night" in response.content.decode()


# --- the page asked for, and whatever comes in the query string ---------------------------


def test_a_later_page_of_the_inbox_stays_that_page(nine_am, login, allowed):
    waiting = open_requests(allowed, 2 * selectors.INBOX_PAGE, first_day=2)
    client = login(allowed.hub_carer)
    url = opened(client, f"{INBOX}?page=2")
    assert "page=2" in url

    crisis = crisis_now(allowed)
    body = client.get(url).content.decode()
    # Still the second page (the crisis goes first, on the first page)...
    assert "Page 2 of 2" in body
    assert cards(body) == [r.pk for r in waiting[selectors.INBOX_PAGE :]]
    # ...and it says that a crisis is open.
    assert "1 crisis request open" in body
    # Answers given on a card come back to this page.
    assert 'name="next" value="/sleepovers/?page=2"' in body
    assert crisis.pk not in cards(body)


@pytest.mark.parametrize(
    "query",
    [
        {"page": "two"},
        {"page": "-1"},
        {"page": "9" * 40},
        {"page": "²"},
        {"v": ""},
        {"v": "x" * 5000},
        {"v": "9" * 40 + ".abc"},
        {"v": "12.<script>"},
        {"v": "٣.1"},
        {"v": "\u0000"},
    ],
)
@pytest.mark.parametrize("page", [INBOX, HOME])
def test_odd_parameters_give_the_block_never_an_error(nine_am, login, allowed, page, query):
    crisis_now(allowed)
    client = login(allowed.hub_carer)
    live = opened(client, page).split("?")[0]
    response = client.get(live, query)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>" not in body
    assert new_cards(body) == []  # an unknown version marks nothing new


# --- who gets the blocks ----------------------------------------------------------------


LIVE = ("sleepovers:inbox_live", "sleepovers:home_live")


@pytest.mark.parametrize("name", LIVE)
def test_anonymous_is_sent_to_the_login(client, world, name):
    response = client.get(reverse(name, args=[world.hub.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


REFUSED = {
    # They see the hub, but do not answer for it.
    "satellite_carer": 403,
    "neighbour_carer": 403,
    "liaison": 403,
    "manager": 403,
    # They do not see it.
    "social_worker": 404,
    "other_hub_carer": 404,
    "other_satellite_carer": 404,
    "other_liaison": 404,
    "other_service_manager": 404,
    "other_service_liaison": 404,
    "other_service_hub_carer": 404,
}


@pytest.mark.parametrize("name", LIVE)
def test_only_the_hubs_own_carers_get_its_blocks(nine_am, login, allowed, name):
    crisis_now(allowed)
    url = reverse(name, args=[allowed.hub.pk])
    for who, status in REFUSED.items():
        response = login(getattr(allowed, who)).get(url)
        assert response.status_code == status, (who, response.status_code)
        assert "Mara" not in response.content.decode(), who
    for who in ("hub_carer", "second_hub_carer"):
        assert login(getattr(allowed, who)).get(url).status_code == 200, who
    # Another hub's carer, asking for their own hub's block, gets theirs only.
    other = allowed.other_constellation.hub
    body = login(allowed.other_hub_carer).get(reverse(name, args=[other.pk])).content.decode()
    assert "Mara" not in body
    # A household that is not a hub, and a hub that does not exist.
    client = login(allowed.satellite_carer)
    assert client.get(reverse(name, args=[allowed.satellite.pk])).status_code == 404
    assert client.get(reverse(name, args=[10**9])).status_code == 404


@pytest.mark.parametrize("name", LIVE)
def test_writes_are_refused(login, world, name):
    client = login(world.hub_carer)
    assert client.post(reverse(name, args=[world.hub.pk])).status_code == 405


# --- the queries ------------------------------------------------------------------------


# With the audit trail of the full records shown: their names, one insert.
RENDERED_QUERIES = {INBOX: 20, HOME: 22}


@pytest.mark.parametrize("size", [2, 30])
@pytest.mark.parametrize("page", [INBOX, HOME])
def test_a_poll_takes_a_few_queries_whatever_the_number_of_requests(
    nine_am, login, allowed, django_assert_max_num_queries, page, size
):
    open_requests(allowed, size)
    client = login(allowed.hub_carer)
    url = opened(client, page)
    # Nothing changed: the session, the user, the hub and its carer, the version.
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 204
    crisis_now(allowed)
    # Changed: the block again, in a number of queries that does not grow (the page's
    # own, less the household cards of the home page).
    with django_assert_max_num_queries(RENDERED_QUERIES[page]):
        assert client.get(url).status_code == 200
