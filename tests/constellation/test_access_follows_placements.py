"""Access follows placements (issue 11, item 6; DOMAIN.md workflow 7).

When a child moves on, the former household's carers keep the child's full record
for ``FORMER_CARER_ACCESS_DAYS`` (7) days after the move, counted in London days,
then see only what any member of the constellation sees (preferred name and age),
or nothing when the child left the constellation. The hub carers and the liaison
worker keep the record while the child is in the constellation or kept connected
(consent in force). The rule is read at every request, so it ends on time even
when the daily task that records the end has not run; the task records it once.

Every test pins the clock (time-machine, tick=False)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from calendar_events import services as calendar
from constellation import selectors
from constellation import services as people
from constellation.models import (
    Activity,
    Child,
    FormerHouseholdAccess,
    Household,
    MoveKind,
)
from constellation.services import end_former_access
from delegated_authority.models import Agreement
from people.models import ChildRecordAccess
from sleepovers import services as sleepovers
from sleepovers.models import Request
from tests.conftest import build_world
from tests.sleepovers.helpers import allow_hub

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")

# Monday 22 March 2027, 10:00 London: the grant's last day is Monday 29 March, and
# the clocks go forward (01:00 GMT -> 02:00 BST) on Sunday 28 March, inside the week.
SPRING_MOVE = datetime(2027, 3, 22, 10, 0, tzinfo=LONDON)
# Sunday 24 October 2027: the last day is Sunday 31 October, the day the clocks go
# back (02:00 BST -> 01:00 GMT).
AUTUMN_MOVE = datetime(2027, 10, 24, 10, 0, tzinfo=LONDON)

SECRETS = ("Quill", "Amara", "Penicillin", "Melatonin", "quiet room", "0300 555 0199")
CHILD_LIMITED_KEYS = {"record", "id", "preferred_name", "age", "household"}


def london(y, m, d, hh=12, mm=0, ss=0, *, fold=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=LONDON, fold=fold)


@pytest.fixture
def spring():
    with time_machine.travel(SPRING_MOVE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def autumn():
    with time_machine.travel(AUTUMN_MOVE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def w(db, spring):
    return build_world()


@pytest.fixture
def w_autumn(db, autumn):
    return build_world()


def cedars() -> Household:
    """The satellite household of the other constellation of the same service."""
    return Household.objects.get(name="The Cedars")


def move(world, to, *, kind=""):
    people.move_child(world.child, to=to, by=world.liaison, reason="Placement ended", kind=kind)
    world.child.refresh_from_db()


def full(user, child) -> bool:
    return Child.objects.full_records_for(user).filter(pk=child.pk).exists()


def visible(user, child) -> bool:
    return Child.objects.visible_to(user).filter(pk=child.pk).exists()


def page(user, child):
    client = APIClient()
    client.force_login(user)
    return client.get(reverse("constellation:child", args=[child.pk]))


def api(user, child):
    client = APIClient()
    client.force_login(user)
    return client.get(reverse("api:child-detail", args=[child.pk]))


def assert_full(user, child):
    """The user reads the whole record, on the page and through the API."""
    assert full(user, child)
    html = page(user, child).content.decode()
    for secret in ("Quill", "Penicillin", "quiet room"):
        assert secret in html, secret
    response = api(user, child)
    assert response.status_code == 200
    assert response.json()["allergies"] == "Penicillin"
    assert response.json()["needs"] == "Needs a quiet room to settle"


def assert_limited(user, child):
    """Only what any member of the constellation sees: preferred name and age."""
    assert not full(user, child)
    assert visible(user, child)
    response = page(user, child)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mara" in html
    assert str(child.age) in html
    for secret in SECRETS:
        assert secret not in html, secret
    response = api(user, child)
    assert response.status_code == 200
    assert set(response.json()) == CHILD_LIMITED_KEYS
    assert response.json()["preferred_name"] == "Mara"


def assert_hidden(user, child):
    assert not visible(user, child)
    assert page(user, child).status_code == 404
    assert api(user, child).status_code == 404


# --- the former household's carers: 7 London days, then what any member sees -----------


@pytest.mark.parametrize(
    ("moment", "keeps"),
    [
        pytest.param(SPRING_MOVE, True, id="day 0, the moment of the move"),
        pytest.param(london(2027, 3, 28, 0, 59), True, id="day 6, just before the clocks go"),
        pytest.param(london(2027, 3, 28, 3, 0), True, id="day 6, just after the clocks go"),
        pytest.param(london(2027, 3, 29, 0, 0), True, id="day 7, London midnight"),
        pytest.param(london(2027, 3, 29, 23, 59, 59), True, id="day 7, the last second"),
        pytest.param(london(2027, 3, 30, 0, 0), False, id="day 8, London midnight"),
        # 23:30 UTC on 29 March is already 30 March in London (BST).
        pytest.param(datetime(2027, 3, 29, 23, 30, tzinfo=UTC), False, id="day 8, UTC still day 7"),
        pytest.param(london(2027, 3, 30, 12, 0), False, id="day 8, noon"),
        pytest.param(london(2027, 5, 1, 12, 0), False, id="weeks later"),
    ],
)
def test_the_former_carer_keeps_the_record_for_seven_london_days(w, spring, moment, keeps):
    move(w, w.neighbour)
    grant = FormerHouseholdAccess.objects.get(child=w.child)
    assert (grant.household, grant.moved_on, grant.ends_on) == (
        w.satellite,
        date(2027, 3, 22),
        date(2027, 3, 29),
    )
    spring.move_to(moment)
    if keeps:
        assert_full(w.satellite_carer, w.child)
    else:
        # The child lives with the Brookes, in the same constellation: the Ashfords
        # still see Mara as any member does.
        assert_limited(w.satellite_carer, w.child)


@pytest.mark.parametrize(
    ("moment", "keeps"),
    [
        pytest.param(london(2027, 10, 31, 1, 30, fold=0), True, id="day 7, 01:30 BST"),
        pytest.param(london(2027, 10, 31, 1, 30, fold=1), True, id="day 7, 01:30 GMT"),
        pytest.param(london(2027, 10, 31, 23, 59, 59), True, id="day 7, the last second"),
        pytest.param(london(2027, 11, 1, 0, 0), False, id="day 8, London midnight"),
    ],
)
def test_the_seven_days_end_at_london_midnight_when_the_clocks_go_back(
    w_autumn, autumn, moment, keeps
):
    w = w_autumn
    move(w, w.neighbour)
    assert FormerHouseholdAccess.objects.get(child=w.child).ends_on == date(2027, 10, 31)
    autumn.move_to(moment)
    assert full(w.satellite_carer, w.child) is keeps


def test_after_the_week_a_child_who_left_the_constellation_is_a_404(w, spring):
    move(w, cedars())
    spring.move_to(london(2027, 3, 29, 23, 59))
    assert_full(w.satellite_carer, w.child)
    spring.move_to(london(2027, 3, 30, 0, 0))
    assert_hidden(w.satellite_carer, w.child)
    # The neighbours never saw more than the preferred name, and now see nothing.
    assert_hidden(w.neighbour_carer, w.child)


def test_a_child_who_moves_on_from_care_is_the_former_carers_for_the_week_only(w, spring):
    move(w, None, kind=MoveKind.ADOPTION)
    assert_full(w.satellite_carer, w.child)
    spring.move_to(london(2027, 3, 30, 0, 0))
    assert_hidden(w.satellite_carer, w.child)


def test_only_the_week_s_full_views_are_logged(w, spring):
    move(w, w.neighbour)
    page(w.satellite_carer, w.child)
    spring.move_to(london(2027, 3, 30, 9, 0))
    page(w.satellite_carer, w.child)
    api(w.satellite_carer, w.child)
    logged = ChildRecordAccess.objects.filter(user=w.satellite_carer, child=w.child)
    assert [timezone.localdate(a.at) for a in logged] == [date(2027, 3, 22)]


def test_the_former_carers_agreement_pages_end_with_the_week(w, spring):
    allow_hub(w.child, by=w.liaison)
    move(w, w.neighbour)
    agreement = Agreement.objects.get(child=w.child)
    client = APIClient()
    client.force_login(w.satellite_carer)
    target = reverse("delegated_authority:agreement", args=[agreement.pk])
    assert client.get(target).status_code == 200
    spring.move_to(london(2027, 3, 30, 0, 0))
    assert not Agreement.objects.visible_to(w.satellite_carer).exists()
    assert client.get(target).status_code == 404
    assert (
        client.get(reverse("delegated_authority:agreements", args=[w.child.pk])).status_code == 403
    )


# --- the daily task: records the end, once; access ends without it ------------------------


def test_the_daily_task_ends_the_grant_once_and_records_it(w, spring):
    move(w, w.neighbour)
    spring.move_to(london(2027, 3, 29, 23, 59))
    assert end_former_access() == 0
    # London has passed midnight, UTC has not.
    spring.move_to(datetime(2027, 3, 29, 23, 5, tzinfo=UTC))
    assert end_former_access() == 1
    assert end_former_access() == 0
    grant = FormerHouseholdAccess.objects.get(child=w.child)
    assert grant.ended_at == timezone.now()
    rows = Activity.objects.filter(verb="access.ended")
    assert rows.count() == 1
    row = rows.get()
    assert row.household == w.satellite
    assert list(row.children.all()) == [w.child]
    assert "Quill" not in row.summary
    assert "Amara" not in row.summary
    assert "Mara" in row.summary
    # The liaison worker reads it in the constellation's activity record.
    assert Activity.objects.visible_to(w.liaison).filter(pk=row.pk).exists()
    assert not Activity.objects.visible_to(w.satellite_carer).filter(pk=row.pk).exists()
    assert_limited(w.satellite_carer, w.child)


def test_a_late_task_changes_nothing_that_was_not_already_so(w, spring):
    move(w, w.neighbour)
    spring.move_to(london(2027, 4, 12, 6, 10))  # the worker was down for two weeks
    assert not full(w.satellite_carer, w.child)
    assert end_former_access() == 1
    assert not full(w.satellite_carer, w.child)
    # A grant still in force (another child moved since) is left alone.
    people.move_child(w.neighbour_child, to=w.satellite, by=w.liaison, reason="Respite")
    assert end_former_access() == 0
    assert full(w.neighbour_carer, w.neighbour_child)


def test_the_task_runs_every_grant_in_few_queries(w, spring, django_assert_max_num_queries):
    move(w, w.neighbour)
    people.move_child(w.neighbour_child, to=w.satellite, by=w.liaison, reason="Swap")
    spring.move_to(london(2027, 3, 30, 6, 10))
    with django_assert_max_num_queries(30):
        assert end_former_access() == 2


# --- the hub and the liaison worker: while in the constellation, or kept connected --------


def test_hub_and_liaison_keep_the_record_while_the_child_stays_in_the_constellation(w, spring):
    move(w, w.neighbour)
    for moment in (SPRING_MOVE, london(2027, 3, 30, 0, 0), london(2027, 9, 1)):
        spring.move_to(moment)
        for user in (w.hub_carer, w.second_hub_carer, w.liaison, w.manager):
            assert_full(user, w.child)


def test_the_new_household_sees_the_child_at_once(w, spring):
    move(w, cedars())
    new_carer = w.other_satellite_carer
    assert_full(new_carer, w.child)
    # And so do the new constellation's hub and liaison worker.
    assert full(w.other_hub_carer, w.child)
    assert full(w.other_liaison, w.child)


@pytest.mark.parametrize("kind", ["household", "moves on"])
def test_hub_and_liaison_lose_the_record_a_week_after_the_child_leaves(w, spring, kind):
    if kind == "household":
        move(w, cedars())
    else:
        move(w, None, kind=MoveKind.RETURN_HOME)
    spring.move_to(london(2027, 3, 29, 23, 59, 59))
    for user in (w.hub_carer, w.liaison):
        assert_full(user, w.child)
    spring.move_to(london(2027, 3, 30, 0, 0))
    for user in (w.hub_carer, w.second_hub_carer, w.liaison):
        assert_hidden(user, w.child)
    # The service's managers oversee every child of the service.
    assert full(w.manager, w.child)
    # The access log keeps the history for the liaison worker.
    assert Child.objects.auditable_by(w.liaison).filter(pk=w.child.pk).exists()


def keep_connected(world, *, ends_on, constellation=None, by=None):
    return calendar.keep_connected(
        constellation=constellation or world.constellation,
        by=by or world.liaison,
        name="Mara",
        email="mara@young.example",
        relationship="young_person",
        consent="Mara and her social worker agreed on the phone",
        ends_on=ends_on,
        child=world.child,
    )


def test_kept_connected_restores_the_hub_and_the_liaison_worker_and_nobody_else(w, spring):
    move(w, None, kind=MoveKind.PERMANENCE)
    spring.move_to(london(2027, 4, 10, 10, 0))
    assert not full(w.hub_carer, w.child)
    keep_connected(w, ends_on=date(2027, 12, 31))
    for user in (w.hub_carer, w.second_hub_carer, w.liaison):
        assert_full(user, w.child)
    # Not the former carers, not the other households, not the other constellation.
    assert_hidden(w.satellite_carer, w.child)
    assert_hidden(w.neighbour_carer, w.child)
    for user in (w.other_hub_carer, w.other_liaison):
        assert not visible(user, w.child)
    for user in (w.other_service_hub_carer, w.other_service_liaison, w.other_service_manager):
        assert not visible(user, w.child)


def test_kept_connected_keeps_the_record_through_the_week_s_end(w, spring):
    move(w, None, kind=MoveKind.LEAVING_CARE)
    keep_connected(w, ends_on=date(2027, 6, 30))
    spring.move_to(london(2027, 3, 30, 0, 0))
    assert_full(w.hub_carer, w.child)
    assert_full(w.liaison, w.child)
    assert_hidden(w.satellite_carer, w.child)


def test_access_ends_when_consent_is_withdrawn(w, spring):
    move(w, None, kind=MoveKind.ADOPTION)
    spring.move_to(london(2027, 4, 10, 10, 0))
    person = keep_connected(w, ends_on=date(2027, 12, 31))
    assert full(w.liaison, w.child)
    calendar.stop_keeping_connected(person, by=w.liaison)
    for user in (w.hub_carer, w.liaison):
        assert_hidden(user, w.child)


def test_access_ends_with_the_consent_s_last_day_in_london(w, spring):
    move(w, None, kind=MoveKind.ADOPTION)
    spring.move_to(london(2027, 4, 10, 10, 0))
    keep_connected(w, ends_on=date(2027, 4, 20))
    spring.move_to(london(2027, 4, 20, 23, 59, 59))
    assert full(w.hub_carer, w.child)
    spring.move_to(datetime(2027, 4, 20, 23, 0, tzinfo=UTC))  # 00:00 BST on the 21st
    assert not full(w.hub_carer, w.child)
    assert not full(w.liaison, w.child)


def test_kept_connected_by_another_constellation_gives_this_one_nothing(w, spring):
    move(w, None, kind=MoveKind.ADOPTION)
    spring.move_to(london(2027, 4, 10, 10, 0))
    keep_connected(
        w, ends_on=date(2027, 12, 31), constellation=w.other_constellation, by=w.other_liaison
    )
    assert full(w.other_hub_carer, w.child)
    assert not full(w.hub_carer, w.child)
    assert not full(w.liaison, w.child)


def test_another_service_never_sees_the_child(w, spring):
    move(w, cedars())
    outsiders = (
        w.other_service_hub_carer,
        w.other_service_carer,
        w.other_service_liaison,
        w.other_service_manager,
    )
    for moment in (SPRING_MOVE, london(2027, 3, 26), london(2027, 3, 30)):
        spring.move_to(moment)
        for user in outsiders:
            assert_hidden(user, w.child)


def test_the_visibility_rule_is_one_query(w, spring, django_assert_max_num_queries):
    move(w, cedars())
    with django_assert_max_num_queries(1):
        assert set(Child.objects.full_records_for(w.hub_carer)) == {
            w.child,
            w.neighbour_child,
            w.hub_child,
        }


# --- the former household's request pages -----------------------------------------------


def _stay(days_ahead: int, nights: int = 1):
    day = timezone.localdate() + timedelta(days=days_ahead)
    start = datetime(day.year, day.month, day.day, 17, tzinfo=LONDON)
    end = datetime(day.year, day.month, day.day, 10, tzinfo=LONDON) + timedelta(days=nights)
    return start, end


def book(world, days_ahead: int, *, child=None, carer=None):
    start, end = _stay(days_ahead)
    return sleepovers.create_request(
        by=carer or world.satellite_carer,
        kind="planned",
        children=[child or world.child],
        start=start,
        end=end,
    )


def test_the_former_household_s_request_page_hides_the_record_after_the_week(w, spring):
    request = book(w, 3)
    move(w, w.neighbour)
    client = APIClient()
    client.force_login(w.satellite_carer)
    target = reverse("sleepovers:request", args=[request.pk])
    html = client.get(target).content.decode()
    assert "Penicillin" in html
    assert "quiet room" in html
    record = client.get(reverse("api:sleepover-detail", args=[request.pk])).json()["children"]
    assert record[0]["record"]["allergies"] == "Penicillin"
    spring.move_to(london(2027, 3, 30, 0, 0))
    response = client.get(target)
    assert response.status_code == 200  # their own request, and its history
    html = response.content.decode()
    assert "Mara" in html
    for secret in SECRETS:
        assert secret not in html, secret
    record = client.get(reverse("api:sleepover-detail", args=[request.pk])).json()["children"]
    assert record[0]["preferred_name"] == "Mara"
    assert record[0]["record"] is None


# --- stays booked by the former household, for the liaison worker to resolve --------------


def test_a_future_stay_of_the_moved_child_waits_on_the_liaison_worker(w, spring):
    allow_hub(w.child, by=w.liaison)
    asked = book(w, 3)
    accepted = sleepovers.accept(book(w, 10), by=w.hub_carer)
    cancelled = book(w, 20)
    sleepovers.cancel(cancelled, by=w.satellite_carer, reason="Not needed")
    past = book(w, 0)  # tonight, and over by the time we look
    other_child = book(w, 4, child=w.neighbour_child, carer=w.neighbour_carer)
    spring.move_to(SPRING_MOVE + timedelta(days=2))
    move(w, w.neighbour)
    rows = list(selectors.stays_to_resolve([w.constellation]))
    assert rows == [asked, accepted]
    for left_out in (past, cancelled, other_child):
        assert left_out not in rows
    assert selectors.queue(w.liaison).stays_to_resolve == [asked, accepted]
    visible_requests = Request.objects.visible_to(w.liaison)
    assert all(visible_requests.filter(pk=r.pk).exists() for r in rows)
    # Not another constellation's liaison worker's to resolve.
    assert selectors.queue(w.other_liaison).stays_to_resolve == []
    # Still waiting after the former household lost the record, until resolved.
    spring.move_to(london(2027, 3, 30, 9, 0))
    assert list(selectors.stays_to_resolve([w.constellation])) == [accepted]  # asked is over
    sleepovers.cancel(accepted, by=w.satellite_carer, reason="Mara moved")
    assert list(selectors.stays_to_resolve([w.constellation])) == []


def test_a_stay_booked_after_the_child_came_back_is_not_to_resolve(w, spring):
    move(w, w.neighbour)
    spring.move_to(SPRING_MOVE + timedelta(days=3))
    move(w, w.satellite)  # back with the Ashfords
    request = book(w, 5)
    assert request not in selectors.stays_to_resolve([w.constellation])


def test_a_stay_of_a_child_who_moved_on_from_care_waits_on_the_liaison_worker(w, spring):
    request = book(w, 5)
    move(w, None, kind=MoveKind.RETURN_HOME)
    assert list(selectors.stays_to_resolve([w.constellation])) == [request]
    assert selectors.queue(w.liaison).stays_to_resolve == [request]
