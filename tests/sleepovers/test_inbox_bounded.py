"""The hub's inbox stays fast and complete whatever the number of open requests: every
crisis first, then the most urgent of what waits a page at a time, with how many
more wait and the way to them; the hub's home page a shorter list and a link to all.
The number of queries does not grow with the open requests."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sleepovers.models import Kind, Request, Status
from sleepovers.selectors import HOME_INBOX, INBOX_CRISES, INBOX_PAGE

from .helpers import evening

pytestmark = pytest.mark.django_db

INBOX = reverse("sleepovers:index")
HOME = reverse("home")


def open_requests(world, n, *, kind=Kind.PLANNED, first_day=1, status=Status.REQUESTED):
    """``n`` open requests to the hub, one evening apart from ``first_day`` days ahead
    (negative: in the past), written directly; returned soonest first."""
    made = []
    for i in range(n):
        start = evening(first_day + i)
        if kind == Kind.CRISIS and first_day + i == 0:
            start = timezone.now() - timedelta(minutes=5)
        request = Request.objects.create(
            constellation=world.constellation,
            hub=world.hub,
            household=world.satellite,
            requested_by=world.satellite_carer,
            kind=kind,
            crisis_reason="drop_off" if kind == Kind.CRISIS else "",
            status=status,
            start=start,
            end=start + timedelta(hours=17),
        )
        request.children.set([world.child])
        made.append(request)
    return made


def crises(world, n):
    """``n`` crises not over yet: the first started a few minutes ago."""
    return open_requests(world, n, kind=Kind.CRISIS, first_day=0)


def shown(html: str) -> list[int]:
    """The requests the page lists, in order."""
    return [int(pk) for pk in re.findall(r'href="/sleepovers/(\d+)/"', html)]


def test_the_inbox_shows_every_crisis_first_then_a_page_of_what_waits(nine_am, login, world):
    waiting = open_requests(world, INBOX_PAGE + 7)
    crisis = crises(world, 3)

    html = login(world.hub_carer).get(INBOX).content.decode()

    assert shown(html) == [r.pk for r in crisis + waiting[:INBOX_PAGE]]
    # How many there are, how many wait after these, and the way to them.
    assert re.search(rf'data-testid="inbox-total">{len(waiting) + 3}<', html)
    assert "7 more waiting after these." in html
    assert 'href="?page=2"' in html
    assert "Show more" in html


def test_the_next_page_shows_the_next_ones_and_every_request_can_be_reached(nine_am, login, world):
    waiting = open_requests(world, 2 * INBOX_PAGE + 3)
    crisis = crises(world, 2)
    client = login(world.hub_carer)

    second = client.get(INBOX, {"page": 2}).content.decode()
    assert shown(second) == [r.pk for r in waiting[INBOX_PAGE : 2 * INBOX_PAGE]]
    assert 'href="?page=1"' in second
    assert 'href="?page=3"' in second

    seen, page = [], 1
    while True:
        html = client.get(INBOX, {"page": page}).content.decode()
        seen += shown(html)
        if f'href="?page={page + 1}"' not in html:
            break
        page += 1
    assert seen == [r.pk for r in crisis + waiting]
    assert f"The last of {len(crisis + waiting)} waiting." in html


def test_a_flood_of_crises_is_bounded_and_the_rest_follow_on_the_next_page(nine_am, login, world):
    crisis = crises(world, INBOX_CRISES + INBOX_PAGE + 2)
    waiting = open_requests(world, 3, first_day=INBOX_CRISES + INBOX_PAGE + 10)
    client = login(world.hub_carer)

    first = shown(client.get(INBOX).content.decode())
    assert first == [r.pk for r in crisis + waiting][: INBOX_CRISES + INBOX_PAGE]
    second = shown(client.get(INBOX, {"page": 2}).content.decode())
    assert second == [r.pk for r in crisis + waiting][INBOX_CRISES + INBOX_PAGE :]


def test_what_waits_for_the_hub_comes_before_what_is_over_or_waits_for_the_family(
    nine_am, login, world
):
    passed = open_requests(world, 2, first_day=-30)
    offered = open_requests(world, 1, first_day=2, status=Status.OFFERED)
    waiting = open_requests(world, 2, first_day=5)

    html = login(world.hub_carer).get(INBOX).content.decode()

    assert shown(html) == [r.pk for r in waiting + offered + passed]


def test_a_page_that_is_not_a_number_or_too_far_gives_the_nearest_page(nine_am, login, world):
    waiting = open_requests(world, INBOX_PAGE + 2)
    client = login(world.hub_carer)

    for asked, expected in (("x", 1), ("-1", 1), ("²", 1), ("0", 1), ("99", 2)):
        response = client.get(INBOX, {"page": asked})
        assert response.status_code == 200, asked
        html = response.content.decode()
        start = 0 if expected == 1 else INBOX_PAGE
        assert shown(html) == [r.pk for r in waiting[start : start + INBOX_PAGE]], asked


def test_the_hub_home_shows_the_crises_and_a_few_with_a_link_to_all(nine_am, login, world):
    waiting = open_requests(world, HOME_INBOX + 9)
    crisis = crises(world, 2)

    html = login(world.hub_carer).get(HOME).content.decode()

    assert shown(html) == [r.pk for r in crisis + waiting[:HOME_INBOX]]
    total = len(waiting) + 2
    assert re.search(rf'data-testid="inbox-total">{total}<', html)
    link = f'href="{INBOX}" data-testid="inbox-rest">All {total} requests to answer (9 more)'
    assert link in html


def test_with_few_requests_nothing_says_there_are_more(nine_am, login, world):
    open_requests(world, 3)
    client = login(world.hub_carer)
    assert "Show more" not in client.get(INBOX).content.decode()
    assert 'data-testid="inbox-rest"' not in client.get(HOME).content.decode()


# The same bound at 10 and at 200 open requests: the queries do not grow with them.
# The page itself, plus the navigation's unread count (both) and, on the home page,
# the check that something would wake the hub carer for a crisis, and the calendar's
# dates whose attendance is still to record (two).
# ... and the audit trail of the full records shown: their names, one insert.
MAX_QUERIES = {INBOX: 20, HOME: 26}


@pytest.mark.parametrize("size", [10, 200])
@pytest.mark.parametrize("page", [INBOX, HOME])
def test_the_inbox_and_the_hub_home_take_the_same_queries_at_any_size(
    nine_am, login, world, django_assert_max_num_queries, size, page
):
    crises(world, size // 10)
    open_requests(world, size - size // 10, first_day=-size // 2)
    client = login(world.hub_carer)
    with django_assert_max_num_queries(MAX_QUERIES[page]):
        response = client.get(page)
    assert response.status_code == 200
    assert len(shown(response.content.decode())) <= INBOX_CRISES + INBOX_PAGE
