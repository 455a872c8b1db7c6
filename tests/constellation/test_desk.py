"""The liaison worker's desk: who may open it, what waits on them (each item a link to
where they act), and that an item leaves the queue once it is dealt with."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from constellation import services as people
from constellation.desk_forms import CONSTELLATION_MESSAGE
from constellation.models import CheckIn, Concern
from constellation.services import concerns, contact
from delegated_authority import services as authority
from delegated_authority.models import Decision
from sleepovers import services as sleepovers
from tests.sleepovers.helpers import allow_hub, stay

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2027, 3, 8, 10, tzinfo=LONDON)
DESK = reverse("constellation:desk")
FEED = reverse("constellation:activity")


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def w(clock, world):
    return world


def section(html: str, anchor: str) -> str:
    """The HTML of the desk's section ``anchor`` (its id), up to its end."""
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def desk_of(client, user, **params):
    client.force_login(user)
    response = client.get(DESK, params)
    assert response.status_code == 200
    return response.content.decode()


def open_concern(w):
    return concerns.open_concern_by_hand(
        w.satellite, by=w.hub_carer, reasons=[Concern.Reason.CANNOT_COPE], children=[w.child]
    )


# --- who may open it ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [DESK, FEED])
def test_anonymous_is_sent_to_log_in(client, w, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["hub_carer", "satellite_carer", "social_worker"])
@pytest.mark.parametrize("url", [DESK, FEED])
def test_carers_and_social_workers_are_refused(client, w, who, url):
    open_concern(w)
    client.force_login(getattr(w, who))
    response = client.get(url)
    assert response.status_code == 403
    assert "The Ashfords" not in response.content.decode()


@pytest.mark.parametrize("who", ["liaison", "manager"])
def test_liaison_workers_and_managers_open_their_desk(client, w, who):
    html = desk_of(client, getattr(w, who))
    assert "Your desk" in html
    assert f'href="{FEED}' in html


def test_another_constellations_liaison_worker_sees_nothing_of_riverside(client, w):
    open_concern(w)
    html = desk_of(client, w.other_liaison)
    assert "The Ashfords" not in html
    assert "Riverside" not in html
    assert "Nothing waits on you." in html
    assert "Open concerns (0)" in html


def test_another_service_sees_its_own_desk_and_nothing_of_this_one(client, w):
    open_concern(w)
    for who in ("other_service_manager", "other_service_liaison"):
        html = desk_of(client, getattr(w, who))
        for name in ("Riverside", "Hillside", "The Ashfords", "Mara"):
            assert name not in html, (who, name)


def test_a_constellation_one_does_not_oversee_is_refused_with_a_message(client, w):
    client.force_login(w.liaison)
    for value in (w.other_constellation.pk, w.other_service_constellation.pk, "x", "9" * 30):
        response = client.get(DESK, {"constellation": value})
        assert response.status_code == 400, value
        assert CONSTELLATION_MESSAGE in response.content.decode()


def test_a_manager_narrows_the_desk_to_one_constellation(client, w):
    open_concern(w)
    everything = desk_of(client, w.manager)
    assert "The Ashfords: Opened by hand" in everything
    hillside = desk_of(client, w.manager, constellation=w.other_constellation.pk)
    assert "The Ashfords" not in hillside
    assert f"?constellation={w.other_constellation.pk}" in hillside  # the feed link follows
    riverside = desk_of(client, w.manager, constellation=w.constellation.pk)
    assert "The Ashfords: Opened by hand" in riverside


# --- the queue: each item appears, links to where one acts, and leaves when dealt with ---


def test_an_approval_waits_until_it_is_answered(client, w):
    allow_hub(w.child, by=w.liaison)
    approval = authority.request_approval(
        w.child, Decision.objects.get(code="haircuts"), by=w.satellite_carer, details="A trim"
    )
    part = section(desk_of(client, w.liaison), "approvals")
    assert f"{approval.decision.label} for Mara" in part
    assert "Quill" not in part
    assert f'href="{reverse("delegated_authority:approvals")}"' in part
    authority.decide_approval(approval, by=w.liaison, approve=True)
    assert "for Mara" not in section(desk_of(client, w.liaison), "approvals")


def test_a_temporary_placement_near_its_end_waits_until_it_is_resolved(client, w):
    today = timezone.localdate()
    request = sleepovers.arrange_temporary_placement(
        w.child,
        by=w.liaison,
        start=today + timedelta(days=1),
        expected_end=today + timedelta(days=5),
        notes="Placement ended suddenly",
    )
    part = section(desk_of(client, w.liaison), "temporary")
    assert f'href="{request.get_absolute_url()}"' in part
    assert "Mara at the hub" in part
    sleepovers.decline(request, by=w.hub_carer, reason="No bed that week")
    assert request.get_absolute_url() not in section(desk_of(client, w.liaison), "temporary")


def test_an_open_concern_waits_until_it_is_closed(client, w):
    concern = open_concern(w)
    part = section(desk_of(client, w.liaison), "concerns")
    assert f'href="{reverse("constellation:concern", args=[concern.pk])}"' in part
    assert "The carer says they cannot cope" in part
    concerns.close_concern(concern, by=w.liaison, note="Extra respite agreed")
    part = section(desk_of(client, w.liaison), "concerns")
    assert "Open concerns (0)" in part
    assert "The Ashfords" not in part


def test_an_agreement_due_for_review_waits_until_a_new_version_is_signed(client, w):
    today = timezone.localdate()
    clauses = [authority.ClauseInput(Decision.objects.get(code="haircuts"), "satellite_carer")]
    authority.create_agreement(
        w.child,
        by=w.liaison,
        effective_from=today - timedelta(days=300),
        review_on=today + timedelta(days=10),
        signed_off_role="liaison_worker",
        clauses=clauses,
    )
    part = section(desk_of(client, w.liaison), "reviews")
    assert "Delegated authority of Mara" in part
    assert f'href="{reverse("delegated_authority:agreements", args=[w.child.pk])}"' in part
    authority.create_agreement(
        w.child,
        by=w.liaison,
        effective_from=today,
        review_on=today + timedelta(days=180),
        signed_off_role="liaison_worker",
        clauses=clauses,
    )
    assert "Mara" not in section(desk_of(client, w.liaison), "reviews")


def test_a_household_past_red_waits_until_a_contact_is_made(client, w, clock):
    assert "The Ashfords" not in section(desk_of(client, w.liaison), "red-households")
    clock.move_to(MONDAY + timedelta(days=15))
    part = section(desk_of(client, w.liaison), "red-households")
    assert "The Ashfords" in part
    assert "The Brookes" in part
    assert f'href="{reverse("constellation:check_in_create", args=[w.satellite.pk])}"' in part
    # An attempt does not count; a contact made does.
    contact.record_check_in(
        w.satellite,
        by=w.hub_carer,
        occurred_at=timezone.now() - timedelta(hours=1),
        method=CheckIn.Method.PHONE,
        made=False,
    )
    assert "The Ashfords" in section(desk_of(client, w.liaison), "red-households")
    contact.record_check_in(
        w.satellite,
        by=w.hub_carer,
        occurred_at=timezone.now() - timedelta(minutes=10),
        method=CheckIn.Method.VISIT,
    )
    part = section(desk_of(client, w.liaison), "red-households")
    assert "The Ashfords" not in part
    assert "The Brookes" in part


def test_an_overdue_follow_up_waits_until_it_is_resolved(client, w, clock):
    check_in = contact.record_check_in(
        w.neighbour,
        by=w.hub_carer,
        occurred_at=timezone.now() - timedelta(hours=1),
        method=CheckIn.Method.PHONE,
        follow_ups=[
            contact.FollowUpInput(
                action="Ring the school about transport",
                due_on=timezone.localdate() + timedelta(days=1),
                assigned_to=w.hub_carer,
            )
        ],
    )
    assert "Ring the school" not in section(desk_of(client, w.liaison), "follow-ups")
    clock.move_to(MONDAY + timedelta(days=2))
    part = section(desk_of(client, w.liaison), "follow-ups")
    assert "Ring the school about transport" in part
    assert f'href="{reverse("constellation:check_in", args=[check_in.pk])}"' in part
    contact.resolve_follow_up(
        check_in.follow_ups.get(), by=w.hub_carer, resolution="Bus pass arranged"
    )
    assert "Ring the school" not in section(desk_of(client, w.liaison), "follow-ups")


def test_a_stay_booked_for_a_child_who_moved_away_waits_until_it_is_resolved(client, w):
    allow_hub(w.child, by=w.liaison)
    start, end = stay(6)
    request = sleepovers.create_request(
        by=w.satellite_carer, kind="planned", children=[w.child], start=start, end=end
    )
    sleepovers.accept(request, by=w.hub_carer)
    assert request.get_absolute_url() not in section(desk_of(client, w.liaison), "stays-to-resolve")
    people.move_child(w.child, to=w.neighbour, by=w.liaison, reason="Closer to school")
    part = section(desk_of(client, w.liaison), "stays-to-resolve")
    assert f'href="{request.get_absolute_url()}"' in part
    assert "booked by The Ashfords" in part
    sleepovers.cancel(request, by=w.satellite_carer, reason="Mara lives with the Brookes now")
    assert request.get_absolute_url() not in section(desk_of(client, w.liaison), "stays-to-resolve")


def test_the_count_of_what_waits_is_said_first(client, w):
    assert "Nothing waits on you." in desk_of(client, w.liaison)
    open_concern(w)
    assert "1 thing waits on you." in desk_of(client, w.liaison)


# --- the latest activity -------------------------------------------------------------


def test_the_desk_shows_the_ten_latest_rows_with_a_link_to_the_feed(client, w, clock):
    for n in range(12):
        clock.move_to(MONDAY + timedelta(minutes=n))
        contact.record_check_in(
            w.neighbour,
            by=w.hub_carer,
            occurred_at=timezone.now(),
            method=CheckIn.Method.MESSAGE,
            note=f"Note {n}",
        )
    html = section(desk_of(client, w.liaison), "latest-heading")
    assert len(re.findall(r"data-activity=", html)) == 10
    assert f'href="{FEED}"' in html
    other = section(desk_of(client, w.other_liaison), "latest-heading")
    assert "The Brookes" not in other


def test_the_desk_costs_the_same_queries_with_one_or_many_things_waiting(
    client, w, clock, django_assert_max_num_queries
):
    client.force_login(w.liaison)
    open_concern(w)
    with django_assert_max_num_queries(40) as one:
        client.get(DESK)
    for _ in range(5):
        concerns.open_concern_by_hand(
            w.neighbour, by=w.hub_carer, reasons=[Concern.Reason.MISSING_EPISODES]
        )
    clock.move_to(MONDAY + timedelta(days=20))  # and both households past red
    client.force_login(w.liaison)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(DESK)
    html = response.content.decode()
    assert "Open concerns (6)" in html
    assert "Households past the red threshold (2)" in html


def test_the_menu_leads_liaison_workers_and_managers_to_the_desk(client, w):
    for who, sees in (("liaison", True), ("manager", True), ("hub_carer", False)):
        client.force_login(getattr(w, who))
        html = client.get(reverse("home")).content.decode()
        assert (f'href="{DESK}">Desk</a>' in html) is sees, who
