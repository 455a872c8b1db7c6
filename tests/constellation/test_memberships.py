"""Who belongs (DOMAIN.md workflow 7): shared planning meetings, proposing from one,
joining with a date, withdrawing and leaving with a date and a reason, carers leaving
or de-registered, children's moves by kind, and the constellation's history.

Every test that reads "today" runs on a pinned clock (``pinned`` is listed before
``world``, so that the world is built on that day too)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from constellation import services
from constellation.models import (
    Activity,
    Carer,
    Child,
    ConstellationMembership,
    FormerHouseholdAccess,
    Household,
    MoveKind,
    Placement,
    PlanningMeeting,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 10)
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)
LONG = "x" * 6_000


@pytest.fixture
def pinned():
    """11:00 London on 10 March 2027, the clock standing still."""
    moment = datetime(2027, 3, 10, 11, 0, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(moment, tick=False):
        yield TODAY


def url(name, *args):
    return reverse(f"constellation:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def errors(response) -> str:
    """Every message of the form shown again, field and non-field, as one string."""
    form = response.context["form"]
    return " ".join(str(m) for ms in form.errors.values() for m in ms)


def statuses(client, target, world, expected: dict, method="get", data=None) -> None:
    for who, status in expected.items():
        client.force_login(getattr(world, who))
        response = getattr(client, method)(target, data or {})
        assert response.status_code == status, (who, response.status_code)
    client.logout()


CARERS_403 = {
    "hub_carer": 403,
    "second_hub_carer": 403,
    "satellite_carer": 403,
    "neighbour_carer": 403,
}
OUTSIDERS_404 = {
    "other_liaison": 404,
    "other_hub_carer": 404,
    "other_satellite_carer": 404,
    "social_worker": 404,
    "other_service_manager": 404,
    "other_service_liaison": 404,
    "other_service_hub_carer": 404,
}
STAFF_200 = {"liaison": 200, "manager": 200}


def back_date(household, *, proposed: date, joined: date | None = None) -> ConstellationMembership:
    """Set a membership's dates as if it had been recorded earlier (test set-up)."""
    membership = household.memberships.get(status__in=ConstellationMembership.OPEN)
    ConstellationMembership.objects.filter(pk=membership.pk).update(
        proposed_on=proposed, joined_on=joined
    )
    membership.refresh_from_db()
    return membership


def meeting_of(constellation, by, *, held_on=YESTERDAY, attendees="Liaison, hub carers"):
    return services.record_planning_meeting(
        constellation,
        by=by,
        held_on=held_on,
        attendees=attendees,
        decisions="Propose the Newcomers to join.",
    )


# --- shared planning meetings ---------------------------------------------------------------------


def test_planning_meetings_are_the_liaison_workers_and_managers_record(pinned, client, world):
    meeting_of(world.constellation, world.liaison, attendees="Sam from the hub, the Ashfords")
    target = url("planning_meetings", world.constellation.pk)
    response = client.get(target)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    statuses(client, target, world, {**STAFF_200, **CARERS_403, **OUTSIDERS_404})
    for who in CARERS_403:
        client.force_login(getattr(world, who))
        assert "Sam from the hub" not in body(client.get(target))


def test_a_planning_meeting_is_recorded_and_listed_with_the_households_it_proposed(
    pinned, login, world
):
    client = login(world.liaison)
    response = client.post(
        url("planning_meeting_create", world.constellation.pk),
        {
            "held_on": "2027-03-03",
            "attendees": "  Sam Hill (liaison), the hub carers, the Ashfords  ",
            "decisions": "Propose the Newcomers; review in June.",
        },
    )
    meeting = PlanningMeeting.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#meeting-{meeting.pk}")
    assert meeting.held_on == date(2027, 3, 3)
    assert meeting.attendees == "Sam Hill (liaison), the hub carers, the Ashfords"
    assert meeting.recorded_by == world.liaison
    assert Activity.objects.filter(verb="planning_meeting.recorded", target_id=meeting.pk).exists()

    newcomer = f.HouseholdFactory(service=world.service, name="The Newcomers")
    services.propose_membership(
        world.constellation, newcomer, by=world.liaison, planning_meeting=meeting
    )
    html = body(client.get(url("planning_meetings", world.constellation.pk)))
    assert "3 March 2027" in html
    assert "Propose the Newcomers; review in June." in html
    assert "The Newcomers" in html
    propose = url("membership_propose", world.constellation.pk) + f"?meeting={meeting.pk}"
    assert propose in html


def test_the_planning_meeting_form_shows_today_by_default(pinned, login, world):
    response = login(world.manager).get(url("planning_meeting_create", world.constellation.pk))
    assert response.status_code == 200
    assert 'value="2027-03-10"' in body(response)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"held_on": "2027-03-11"}, "cannot be in the future"),
        ({"held_on": "9999-12-31"}, "cannot be in the future"),
        ({"held_on": "2020-01-01"}, "more than five years ago"),
        ({"held_on": "1800-01-01"}, "more than five years ago"),
        ({"held_on": "yesterday"}, "Give a date"),
        ({"held_on": ""}, "Give the date of the meeting"),
        ({"attendees": ""}, "Say who attended"),
        ({"attendees": "   "}, "Say who attended"),
        ({"decisions": " \n "}, "Say what the meeting decided"),
        ({"attendees": "x" * 501}, "at most 500 characters"),
        ({"decisions": LONG}, "at most 5000 characters"),
    ],
)
def test_a_planning_meeting_with_bad_input_is_refused_and_nothing_saved(
    pinned, login, world, change, message
):
    data = {"held_on": "2027-03-03", "attendees": "The hub carers", "decisions": "Propose two"}
    data.update(change)
    response = login(world.liaison).post(
        url("planning_meeting_create", world.constellation.pk), data
    )
    assert response.status_code == 400
    assert message in errors(response)
    assert message in body(response)
    assert not PlanningMeeting.objects.exists()
    assert not Activity.objects.filter(verb="planning_meeting.recorded").exists()


def test_the_planning_meetings_page_reads_in_a_fixed_number_of_queries(
    pinned, login, world, django_assert_max_num_queries
):
    meeting_of(world.constellation, world.liaison)
    client = login(world.liaison)
    target = url("planning_meetings", world.constellation.pk)
    with django_assert_max_num_queries(20) as few:
        client.get(target)
    for i in range(25):
        meeting = meeting_of(world.constellation, world.liaison, held_on=TODAY - timedelta(days=i))
        household = f.HouseholdFactory(service=world.service, name=f"Household {i:02}")
        services.propose_membership(
            world.constellation, household, by=world.liaison, planning_meeting=meeting
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(target)
    assert len(response.context["page"]) == 20  # newest first, twenty a page
    assert response.context["page"][0].held_on == TODAY
    older = client.get(f"{target}?page=2")
    assert len(older.context["page"]) == 6


# --- proposing from a planning meeting ------------------------------------------------------------


def test_a_household_is_proposed_from_a_planning_meeting(pinned, login, world):
    meeting = meeting_of(world.constellation, world.liaison)
    newcomer = f.HouseholdFactory(service=world.service, name="The Newcomers")
    client = login(world.manager)  # a household new to every constellation
    target = url("membership_propose", world.constellation.pk)

    form = client.get(f"{target}?meeting={meeting.pk}").context["form"]
    assert form["planning_meeting"].value() == meeting.pk
    assert list(form.fields["planning_meeting"].queryset) == [meeting]
    # A meeting of another constellation, or nonsense, preselects nothing.
    other = meeting_of(world.other_constellation, world.other_liaison)
    for value in (other.pk, "x", "9" * 30):
        assert (
            client.get(f"{target}?meeting={value}").context["form"]["planning_meeting"].value()
            is None
        )

    response = client.post(
        target,
        {
            "household": newcomer.pk,
            "planning_meeting": meeting.pk,
            "reason": "Agreed at the meeting",
        },
    )
    assert response.status_code == 302
    membership = newcomer.memberships.get()
    assert membership.planning_meeting == meeting
    assert membership.status == "proposed"
    assert membership.proposed_on == TODAY


def test_a_household_may_be_proposed_without_a_meeting(pinned, login, world):
    newcomer = f.HouseholdFactory(service=world.service, name="The Newcomers")
    response = login(world.manager).post(
        url("membership_propose", world.constellation.pk), {"household": newcomer.pk}
    )
    assert response.status_code == 302
    assert newcomer.memberships.get().planning_meeting is None


@pytest.mark.parametrize(
    ("choice", "field", "message"),
    [
        (
            "other_constellation_meeting",
            "planning_meeting",
            "planning meeting of this constellation",
        ),
        ("other_service_meeting", "planning_meeting", "planning meeting of this constellation"),
        ("nonsense_meeting", "planning_meeting", "planning meeting of this constellation"),
        ("huge_meeting", "planning_meeting", "planning meeting of this constellation"),
        ("other_service_household", "household", "satellite household of this fostering service"),
        ("active_household", "household", "not in or proposed to a constellation"),
        ("no_household", "household", "Choose the household to propose"),
    ],
)
def test_proposing_with_a_meeting_or_household_that_does_not_fit_is_refused(
    pinned, login, world, choice, field, message
):
    meeting = meeting_of(world.constellation, world.liaison)
    newcomer = f.HouseholdFactory(service=world.service, name="The Newcomers")
    data = {"household": newcomer.pk, "planning_meeting": meeting.pk}
    if choice == "other_constellation_meeting":
        data["planning_meeting"] = meeting_of(world.other_constellation, world.other_liaison).pk
    elif choice == "other_service_meeting":
        data["planning_meeting"] = meeting_of(
            world.other_service_constellation, world.other_service_liaison
        ).pk
    elif choice == "nonsense_meeting":
        data["planning_meeting"] = "the last one"
    elif choice == "huge_meeting":
        data["planning_meeting"] = "9" * 30
    elif choice == "other_service_household":
        data["household"] = Household.objects.get(name="The Dunes").pk
    elif choice == "active_household":
        data["household"] = world.satellite.pk
    elif choice == "no_household":
        data["household"] = ""
    before = ConstellationMembership.objects.count()
    response = login(world.manager).post(url("membership_propose", world.constellation.pk), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in errors(response)
    assert ConstellationMembership.objects.count() == before


# --- joining on a date ----------------------------------------------------------------------------


def test_activation_asks_for_the_join_date_and_records_it(pinned, client, login, world):
    newcomer = f.satellite_in(world.constellation, active=False, name="The Newcomers")
    membership = back_date(newcomer, proposed=date(2027, 2, 1))
    target = url("membership_activate", membership.pk)
    # Carers do not see a proposed membership at all; outsiders neither.
    statuses(
        client,
        target,
        world,
        {**dict.fromkeys(CARERS_403, 404), **OUTSIDERS_404, **STAFF_200},
    )

    client = login(world.liaison)
    response = client.get(target)
    assert 'value="2027-03-10"' in body(response)
    assert "Proposed on 1 February 2027" in body(response)

    response = client.post(target, {"joined_on": "2027-02-15"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == "active"
    assert membership.joined_on == date(2027, 2, 15)
    activity = Activity.objects.get(verb="membership.active", target_id=membership.pk)
    assert activity.payload["on"] == "2027-02-15"
    # Its carers now see the constellation.
    carer = f.carer_of(newcomer, email="newcomer@test.example")
    assert client.get(url("detail", world.constellation.pk)).status_code == 200
    client.force_login(carer)
    assert client.get(url("detail", world.constellation.pk)).status_code == 200


def test_activating_an_active_membership_goes_back_with_a_message(pinned, login, world):
    membership = world.satellite.memberships.get()
    client = login(world.liaison)
    response = client.get(url("membership_activate", membership.pk), follow=True)
    assert "The Ashfords is active: there is nothing to activate." in body(response)
    response = client.post(url("membership_activate", membership.pk), {"joined_on": "2027-03-10"})
    assert response.status_code == 400
    assert "cannot become active" in errors(response)


@pytest.mark.parametrize(
    ("joined_on", "message"),
    [
        ("2027-03-11", "cannot be in the future"),
        ("2027-01-31", "cannot be before 1 February 2027, when the household was proposed"),
        ("1800-01-01", "cannot be before 1 February 2027"),
        ("", "Give the date it joined"),
        ("31/02/2027", "Give a date"),
    ],
)
def test_activation_with_a_bad_date_is_refused(pinned, login, world, joined_on, message):
    newcomer = f.satellite_in(world.constellation, active=False, name="The Newcomers")
    membership = back_date(newcomer, proposed=date(2027, 2, 1))
    response = login(world.liaison).post(
        url("membership_activate", membership.pk), {"joined_on": joined_on}
    )
    assert response.status_code == 400
    assert message in errors(response)
    membership.refresh_from_db()
    assert membership.status == "proposed"
    assert membership.joined_on is None
    assert not Activity.objects.filter(verb="membership.active", target_id=membership.pk).exists()


# --- withdrawing and leaving on a date, for a reason ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "verb"),
    [
        ("membership_withdraw", "withdrawn", "membership.withdrawn"),
        ("membership_leave", "left", "membership.left"),
    ],
)
def test_a_household_withdraws_or_leaves_on_a_date(
    pinned, client, login, world, name, status, verb
):
    membership = back_date(world.neighbour, proposed=date(2026, 1, 5), joined=date(2026, 2, 1))
    target = url(name, membership.pk)
    statuses(client, target, world, {**STAFF_200, **CARERS_403, **OUTSIDERS_404})

    client = login(world.liaison)
    assert "Active since 1 February 2026" in body(client.get(target))
    response = client.post(target, {"on": "2027-03-01", "reason": "  The family moved to Leeds "})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == status
    assert membership.ended_on == date(2027, 3, 1)
    assert membership.reason == "The family moved to Leeds"
    assert Activity.objects.get(verb=verb, target_id=membership.pk).payload["on"] == "2027-03-01"
    # Its carers no longer see the constellation.
    client.force_login(world.neighbour_carer)
    assert client.get(url("detail", world.constellation.pk)).status_code == 404

    # Ended already: the page goes back with a message, a POST is refused.
    client.force_login(world.liaison)
    response = client.get(target, follow=True)
    assert "there is nothing to end" in body(response)
    response = client.post(target, {"on": "2027-03-01", "reason": "Twice"})
    assert response.status_code == 400
    assert "cannot become" in errors(response)


@pytest.mark.parametrize("name", ["membership_withdraw", "membership_leave"])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"on": "2027-03-11"}, "cannot be in the future"),
        ({"on": "2026-01-31"}, "cannot be before 1 February 2026, when the household joined"),
        ({"on": "1900-01-01"}, "cannot be before 1 February 2026"),
        ({"on": ""}, "Give the date"),
        ({"on": "soon"}, "Give a date"),
        ({"reason": ""}, "Give the reason"),
        ({"reason": "   "}, "Give the reason"),
        ({"reason": LONG}, "at most 1000 characters"),
    ],
)
def test_withdrawing_or_leaving_with_bad_input_is_refused(
    pinned, login, world, name, change, message
):
    membership = back_date(world.neighbour, proposed=date(2026, 1, 5), joined=date(2026, 2, 1))
    data = {"on": "2027-03-01", "reason": "The family moved to Leeds"}
    data.update(change)
    response = login(world.liaison).post(url(name, membership.pk), data)
    assert response.status_code == 400
    assert message in errors(response)
    membership.refresh_from_db()
    assert membership.status == "active"
    assert membership.ended_on is None


def test_a_proposal_is_withdrawn_no_earlier_than_it_was_proposed(pinned, login, world):
    newcomer = f.satellite_in(world.constellation, active=False, name="The Newcomers")
    membership = back_date(newcomer, proposed=date(2027, 2, 1))
    client = login(world.liaison)
    target = url("membership_withdraw", membership.pk)
    response = client.post(target, {"on": "2027-01-31", "reason": "Changed their mind"})
    assert response.status_code == 400
    assert "when the household was proposed" in errors(response)
    response = client.post(target, {"on": "2027-02-01", "reason": "Changed their mind"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.status, membership.ended_on) == ("withdrawn", date(2027, 2, 1))


# --- a carer leaves, or is de-registered ----------------------------------------------------------


def carer_row(user) -> Carer:
    return Carer.objects.get(user=user)


def test_a_carer_leaves_on_a_date_with_a_reason(pinned, client, login, world):
    carer = carer_row(world.neighbour_carer)
    Carer.objects.filter(pk=carer.pk).update(started_on=date(2024, 5, 1))
    target = url("carer_end", carer.pk)
    statuses(client, target, world, {**STAFF_200, **CARERS_403, **OUTSIDERS_404})
    client = login(world.liaison)
    response = client.post(
        target, {"ending": "left", "on": "2027-03-01", "reason": "Moved to Scotland"}
    )
    assert response.status_code == 302
    carer.refresh_from_db()
    assert (carer.ended_on, carer.end_reason, carer.deregistered) == (
        date(2027, 3, 1),
        "Moved to Scotland",
        False,
    )
    assert Activity.objects.filter(verb="carer.ended", target_id=carer.pk).exists()
    client.force_login(world.neighbour_carer)
    assert client.get(url("detail", world.constellation.pk)).status_code == 404


def test_a_carer_is_de_registered(pinned, login, world):
    carer = carer_row(world.satellite_carer)
    client = login(world.manager)
    response = client.post(
        url("carer_end", carer.pk),
        {"ending": "deregistered", "on": "2027-03-10", "reason": "Approval ended by panel"},
        follow=True,
    )
    assert "was de-registered as a foster carer" in body(response)
    carer.refresh_from_db()
    assert carer.deregistered is True
    assert carer.ended_on == TODAY
    activity = Activity.objects.get(verb="carer.deregistered", target_id=carer.pk)
    assert "de-registered" in activity.summary
    # Once ended, the page goes back to the household with a message.
    response = client.get(url("carer_end", carer.pk), follow=True)
    assert "has already left" in body(response)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"on": "2027-03-11"}, "cannot be in the future"),
        ({"on": "2024-04-30"}, "cannot leave before they started"),
        ({"on": ""}, "Give the date"),
        ({"on": "2027-13-01"}, "Give a date"),
        ({"reason": ""}, "Give the reason"),
        ({"reason": "  "}, "Give the reason"),
        ({"reason": "x" * 201}, "at most 200 characters"),
        ({"ending": "fired"}, "Choose whether the carer left or was de-registered"),
    ],
)
def test_ending_a_carer_with_bad_input_is_refused(pinned, login, world, change, message):
    carer = carer_row(world.neighbour_carer)
    Carer.objects.filter(pk=carer.pk).update(started_on=date(2024, 5, 1))
    data = {"ending": "deregistered", "on": "2027-03-01", "reason": "Approval ended"}
    data.update(change)
    response = login(world.liaison).post(url("carer_end", carer.pk), data)
    assert response.status_code == 400
    assert message in errors(response)
    carer.refresh_from_db()
    assert carer.ended_on is None
    assert carer.deregistered is False


# --- children's moves, by kind --------------------------------------------------------------------


def placed_since(child, day: date) -> None:
    Placement.objects.filter(child=child, ended_on__isnull=True).update(started_on=day)


@pytest.mark.parametrize("kind", [MoveKind.PLANNED, MoveKind.DISRUPTION])
def test_a_child_moves_to_another_household(pinned, login, world, kind):
    placed_since(world.child, date(2026, 9, 1))
    response = login(world.liaison).post(
        url("child_move", world.child.pk),
        {"kind": kind, "to": world.neighbour.pk, "on": "2027-03-08", "reason": "Closer to school"},
        follow=True,
    )
    assert "Mara moved to The Brookes." in body(response)
    assert "kept-connected" not in body(response)
    world.child.refresh_from_db()
    assert world.child.household == world.neighbour
    ended = Placement.objects.get(child=world.child, household=world.satellite)
    assert (ended.ended_on, ended.move_kind, ended.reason_for_move) == (
        date(2027, 3, 8),
        kind,
        "Closer to school",
    )
    assert Placement.objects.get(child=world.child, ended_on=None).household == world.neighbour
    assert Activity.objects.get(verb="child.moved").payload["kind"] == kind
    # The former household keeps the full record for 7 days from the move.
    grant = FormerHouseholdAccess.objects.get(child=world.child)
    assert (grant.household, grant.ends_on) == (world.satellite, date(2027, 3, 15))


@pytest.mark.parametrize(
    "kind", [MoveKind.PERMANENCE, MoveKind.RETURN_HOME, MoveKind.ADOPTION, MoveKind.LEAVING_CARE]
)
def test_a_child_moves_on_and_the_kept_connected_list_is_offered(pinned, login, world, kind):
    placed_since(world.child, date(2026, 9, 1))
    client = login(world.liaison)
    response = client.post(
        url("child_move", world.child.pk),
        {"kind": kind, "to": "", "on": "2027-03-10", "reason": "A forever family"},
        follow=True,
    )
    html = body(response)
    assert "Mara moved on from the service's care." in html
    link = reverse("calendar_events:kept_connected_new")
    assert f'href="{link}"' in html
    assert "add them to the kept-connected list" in html
    world.child.refresh_from_db()
    assert world.child.status == Child.Status.MOVED_ON
    assert world.child.household is None
    assert Placement.objects.get(child=world.child).move_kind == kind
    # The link opens, and offers the young person by the name they go by.
    form = client.get(link).context["form"]
    assert world.child in form.fields["child"].queryset


def test_the_move_form_offers_every_kind_and_the_households_the_user_oversees(pinned, login, world):
    form = login(world.liaison).get(url("child_move", world.child.pk)).context["form"]
    assert [value for value, _ in form.fields["kind"].choices] == list(MoveKind.values)
    offered = set(form.fields["to"].queryset)
    assert world.neighbour in offered
    assert world.hub in offered
    assert world.satellite not in offered  # where the child lives now
    assert not {h for h in offered if h.service_id != world.service.pk}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": ""}, "kind", "Choose the kind of move"),
        ({"kind": "runaway"}, "kind", "Choose the kind of move"),
        ({"to": ""}, "to", "Choose the new household for a planned move or a disruption"),
        ({"kind": "adoption"}, "to", "Adoption takes the child on from care"),
        ({"to": "other_service"}, "to", "household of the service that you oversee"),
        ({"to": "other_constellation"}, "to", "household of the service that you oversee"),
        ({"to": "current"}, "to", "other than the one the child lives in"),
        ({"to": "9" * 25}, "to", "household of the service that you oversee"),
        ({"on": "2027-03-11"}, "on", "cannot be in the future"),
        ({"on": "2014-03-01"}, "on", "cannot be before the child was born"),
        ({"on": "2026-08-31"}, None, "before the current placement started"),
        ({"on": ""}, "on", "Give the date of the move"),
        ({"reason": ""}, "reason", "Give the reason"),
        ({"reason": " "}, "reason", "Give the reason"),
        ({"reason": "x" * 201}, "reason", "at most 200 characters"),
    ],
)
def test_a_move_with_bad_input_is_refused_and_nothing_moves(
    pinned, login, world, change, field, message
):
    placed_since(world.child, date(2026, 9, 1))
    targets = {
        "other_service": Household.objects.get(name="The Dunes").pk,
        "other_constellation": Household.objects.get(name="The Cedars").pk,
        "current": world.satellite.pk,
    }
    data = {"kind": "planned", "to": world.neighbour.pk, "on": "2027-03-08", "reason": "School"}
    data.update({k: targets.get(v, v) for k, v in change.items()})
    response = login(world.liaison).post(url("child_move", world.child.pk), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors if field else form.non_field_errors()
    assert message in errors(response)
    world.child.refresh_from_db()
    assert world.child.household == world.satellite
    assert not Activity.objects.filter(verb="child.moved").exists()
    assert not FormerHouseholdAccess.objects.exists()


# --- the history of households over time ----------------------------------------------------------


def test_the_history_is_the_liaison_workers_and_managers_page(pinned, client, world):
    target = url("history", world.constellation.pk)
    response = client.get(target)
    assert response.status_code == 302
    statuses(client, target, world, {**STAFF_200, **CARERS_403, **OUTSIDERS_404})


def build_history(world):
    """A year of Riverside: a household proposed at a meeting that joined; one that
    withdrew; the Brookes left; a carer left and another was de-registered; Mara
    moved from the Ashfords to the Brookes (disruption), then on to adoption; Dana
    came from Hillside's Cedars."""
    with time_machine.travel(datetime(2026, 4, 1, 10, tzinfo=ZoneInfo("Europe/London"))):
        meeting = services.record_planning_meeting(
            world.constellation,
            by=world.liaison,
            held_on=date(2026, 3, 20),
            attendees="Liaison, hub carers",
            decisions="Propose the Newcomers.",
        )
        newcomer = f.HouseholdFactory(service=world.service, name="The Newcomers")
        joined = services.propose_membership(
            world.constellation, newcomer, by=world.liaison, planning_meeting=meeting
        )
        doubtful = f.HouseholdFactory(service=world.service, name="The Doubtfuls")
        withdrawn = services.propose_membership(world.constellation, doubtful, by=world.liaison)
    services.activate_membership(joined, by=world.liaison, joined_on=date(2026, 5, 1))
    services.withdraw_membership(
        withdrawn, by=world.liaison, reason="Chose another agency", on=date(2026, 5, 2)
    )
    for household in (world.satellite, world.neighbour):
        back_date(household, proposed=date(2025, 1, 1), joined=date(2025, 2, 1))
    Carer.objects.filter(household__in=[world.satellite, world.neighbour]).update(
        started_on=date(2025, 2, 1)
    )
    for child in (world.child, world.neighbour_child):
        placed_since(child, date(2025, 3, 1))
    placed_since(world.other_constellation_child, date(2025, 3, 1))
    services.move_child(
        world.child,
        to=world.neighbour,
        by=world.liaison,
        reason="Ashfords could not cope",
        on=date(2026, 6, 1),
        kind=MoveKind.DISRUPTION,
    )
    services.move_child(
        world.other_constellation_child,
        to=world.satellite,
        by=world.manager,
        reason="Nearer her brother",
        on=date(2026, 7, 1),
        kind=MoveKind.PLANNED,
    )
    services.move_child(
        world.child,
        to=None,
        by=world.liaison,
        reason="Adopted by her aunt",
        on=date(2026, 9, 1),
        kind=MoveKind.ADOPTION,
    )
    services.end_carer(
        Carer.objects.get(user=world.satellite_carer),
        by=world.liaison,
        reason="Retired",
        on=date(2026, 10, 1),
    )
    services.end_carer(
        Carer.objects.get(user=world.neighbour_carer),
        by=world.liaison,
        reason="Approval ended by panel",
        on=date(2026, 11, 1),
        deregistered=True,
    )
    services.end_membership(
        world.neighbour.memberships.get(),
        by=world.liaison,
        reason="No carer left",
        on=date(2026, 11, 2),
    )
    return meeting


def test_the_history_shows_households_carers_and_moves_over_time(pinned, login, world):
    meeting = build_history(world)
    response = login(world.liaison).get(url("history", world.constellation.pk))
    assert response.status_code == 200
    html = body(response)
    rows = {m.household.name: m for m in response.context["memberships"]}
    assert rows["The Newcomers"].planning_meeting == meeting
    assert f"#meeting-{meeting.pk}" in html
    assert (rows["The Doubtfuls"].status, rows["The Doubtfuls"].ended_on) == (
        "withdrawn",
        date(2026, 5, 2),
    )
    assert "Chose another agency" in html
    assert (rows["The Brookes"].status, rows["The Brookes"].ended_on) == ("left", date(2026, 11, 2))
    assert "No carer left" in html
    assert "1 May 2026" in html  # the Newcomers joined

    carers = {c.user: c for c in response.context["carers"]}
    assert set(carers) == {world.satellite_carer, world.neighbour_carer}
    assert carers[world.neighbour_carer].deregistered
    for shown in ("De-registered", "Approval ended by panel", "Retired"):
        assert shown in html

    disruption_label = MoveKind.DISRUPTION.label
    moves = [
        (m.day, m.child.known_as, m.household.name, m.into, m.kind)
        for m in response.context["moves"]
    ]
    assert moves == [
        (TODAY, "Cee", "The Hub Home", True, "First placement"),
        (date(2026, 9, 1), "Mara", "The Brookes", False, "Adoption"),
        (date(2026, 7, 1), "Danika", "The Ashfords", True, "Planned move"),
        (date(2026, 6, 1), "Mara", "The Brookes", True, disruption_label),
        (date(2026, 6, 1), "Mara", "The Ashfords", False, disruption_label),
        (date(2025, 3, 1), "Mara", "The Ashfords", True, "First placement"),
        (date(2025, 3, 1), "Bob", "The Brookes", True, "First placement"),
    ]
    by_key = {(m.child.known_as, m.household.name, m.into): m for m in response.context["moves"]}
    out_to_adoption = by_key[("Mara", "The Brookes", False)]
    assert (out_to_adoption.day, out_to_adoption.kind, out_to_adoption.other) == (
        date(2026, 9, 1),
        "Adoption",
        "Moved on from care",
    )
    assert out_to_adoption.reason == "Adopted by her aunt"
    disruption = by_key[("Mara", "The Ashfords", False)]
    assert (disruption.day, disruption.other, disruption.reason) == (
        date(2026, 6, 1),
        "The Brookes",
        "Ashfords could not cope",
    )
    arrived = by_key[("Danika", "The Ashfords", True)]
    assert (arrived.day, arrived.kind) == (date(2026, 7, 1), "Planned move")
    # The liaison worker of Riverside does not see Hillside's households: not named.
    assert arrived.other == "another household"
    assert "The Cedars" not in html
    # Only the children's preferred names, never a full name.
    for full_name in ("Amara Quill", "Dana Hill", "Bobby Stone", "Quill"):
        assert full_name not in html


def test_the_manager_reads_where_a_child_came_from_across_the_service(pinned, login, world):
    build_history(world)
    response = login(world.manager).get(url("history", world.constellation.pk))
    by_key = {(m.child.known_as, m.household.name, m.into): m for m in response.context["moves"]}
    assert by_key[("Danika", "The Ashfords", True)].other == "The Cedars"


def test_the_history_leaves_out_what_happened_before_a_household_joined(pinned, login, world):
    """The Ashfords joined on 1 February 2025: a carer who left them in 2024 and a
    child placed with them in 2024 are not Riverside's history."""
    back_date(world.satellite, proposed=date(2025, 1, 1), joined=date(2025, 2, 1))
    placed_since(world.child, date(2024, 6, 1))
    former = f.UserFactory(email="former@test.example")
    Carer.objects.create(
        household=world.satellite,
        user=former,
        role="second",
        started_on=date(2023, 1, 1),
        ended_on=date(2024, 1, 1),
        end_reason="Before Riverside",
    )
    response = login(world.liaison).get(url("history", world.constellation.pk))
    assert former not in [c.user for c in response.context["carers"]]
    assert "Before Riverside" not in body(response)
    assert not [m for m in response.context["moves"] if m.child == world.child]


def test_the_history_reads_in_a_fixed_number_of_queries(
    pinned, login, world, django_assert_max_num_queries
):
    build_history(world)
    client = login(world.liaison)
    target = url("history", world.constellation.pk)
    with django_assert_max_num_queries(20) as small:
        client.get(target)
    for i in range(15):
        household = f.satellite_in(world.constellation, name=f"Household {i:02}")
        child = f.child_in(household, first_name=f"Kid{i}")
        services.move_child(
            child, to=world.hub, by=world.liaison, reason="Respite turned longer", kind="planned"
        )
        f.carer_of(household)
        services.end_carer(
            Carer.objects.filter(household=household).get(), by=world.liaison, reason="Left"
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(target)
    assert len(response.context["moves"]) > 30


# --- links between the pages ----------------------------------------------------------------------


def test_the_constellation_page_links_its_records_for_the_liaison_worker_only(pinned, login, world):
    links = [
        url("history", world.constellation.pk),
        url("planning_meetings", world.constellation.pk),
        url("supervision", world.constellation.pk),
    ]
    html = body(login(world.liaison).get(url("detail", world.constellation.pk)))
    for link in links:
        assert link in html
    newcomer = f.satellite_in(world.constellation, active=False, name="The Newcomers")
    html = body(login(world.liaison).get(url("detail", world.constellation.pk)))
    assert url("membership_activate", newcomer.memberships.get().pk) in html
    for who in ("hub_carer", "satellite_carer"):
        html = body(login(getattr(world, who)).get(url("detail", world.constellation.pk)))
        for link in links:
            assert link not in html, who
