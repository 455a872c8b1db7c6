"""Who sees which event: ``Event.objects.visible_to`` and ``kept`` for every role of
the world, read through the calendar's window as the pages read it. A birth-family
contact session shows only to the household concerned, the hub carers and the
liaison worker: never to the neighbour household, the manager, another
constellation or another service."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from calendar_events import access, selectors, services
from calendar_events.models import Event
from constellation import services as people
from constellation.models import ConstellationMembership

LONDON = ZoneInfo("Europe/London")
START = services.london_start(date(2027, 1, 12), 10)

ROLES = [
    "hub_carer",
    "second_hub_carer",
    "satellite_carer",
    "neighbour_carer",
    "liaison",
    "manager",
    "social_worker",
    "other_hub_carer",
    "other_satellite_carer",
    "other_liaison",
    "other_service_manager",
    "other_service_liaison",
    "other_service_hub_carer",
    "other_service_carer",
]

# role: (sees the meeting, the Ashfords' contact session, the Brookes-only social)
SEES = {
    "hub_carer": (True, True, True),
    "second_hub_carer": (True, True, True),
    "satellite_carer": (True, True, False),
    "neighbour_carer": (True, False, True),
    "liaison": (True, True, True),
    "manager": (True, False, True),
}
KEEPS = {
    "hub_carer": (True, True, True),
    "second_hub_carer": (True, True, True),
    "liaison": (True, True, True),
    "manager": (True, False, True),
}
NOTHING = (False, False, False)


@pytest.fixture(autouse=True)
def _december_2026():
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def events(world):
    def make(kind, title, invitation=None):
        return services.create_event(
            constellation=world.constellation,
            by=world.hub_carer,
            kind=kind,
            title=title,
            start=START,
            end=START + timedelta(hours=2),
            invitation=invitation,
        )

    meeting = make(Event.Kind.MEETING, "Constellation meeting")
    contact = make(
        Event.Kind.CONTACT,
        "Family time",
        services.Invitation(everyone=False, households=(world.satellite,)),
    )
    social = make(
        Event.Kind.SOCIAL,
        "Brookes' picnic",
        services.Invitation(everyone=False, households=(world.neighbour,)),
    )
    return meeting, contact, social


def flags(queryset, events):
    ids = set(queryset.values_list("pk", flat=True))
    return tuple(event.pk in ids for event in events)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_events_of_the_table(world, events, role):
    user = getattr(world, role)
    assert flags(Event.objects.visible_to(user), events) == SEES.get(role, NOTHING)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_keeps_the_calendar_of_the_table(world, events, role):
    user = getattr(world, role)
    assert flags(Event.objects.kept(user), events) == KEEPS.get(role, NOTHING)


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_month_shows_only_what_it_may_see(world, events, role):
    user = getattr(world, role)
    month = selectors.window(user, date(2027, 1, 1), date(2027, 1, 31))
    shown = {slot.event.pk for slot in month.slots}
    assert tuple(event.pk in shown for event in events) == SEES.get(role, NOTHING)


@pytest.mark.parametrize("role", ROLES)
def test_an_event_not_visible_is_a_404_and_one_not_kept_a_403(world, events, role):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    user = getattr(world, role)
    for event, sees, keeps in zip(
        events, SEES.get(role, NOTHING), KEEPS.get(role, NOTHING), strict=True
    ):
        if not sees:
            with pytest.raises(Http404):
                access.get_event_for(user, event.pk)
            with pytest.raises(Http404):
                access.get_event_to_keep(user, event.pk)
        elif not keeps:
            assert access.get_event_for(user, event.pk) == event
            with pytest.raises(PermissionDenied):
                access.get_event_to_keep(user, event.pk)
        else:
            assert access.get_event_to_keep(user, event.pk) == event


def test_nobody_signed_out_sees_anything(world, events):
    assert not Event.objects.visible_to(AnonymousUser()).exists()
    assert not Event.objects.kept(AnonymousUser()).exists()


@pytest.mark.parametrize("pk", ["abc", "", None, 10**30, -1])
def test_an_odd_event_id_is_a_404(world, pk):
    from django.http import Http404

    with pytest.raises(Http404):
        access.get_event_for(world.hub_carer, pk)


def test_invited_households_only_events_show_to_those_households(world, events):
    _, _, social = events
    assert access.household_answering(world.neighbour_carer, social) == world.neighbour
    assert access.household_answering(world.satellite_carer, social) is None
    assert not services.is_invited(social, world.satellite)
    assert services.is_invited(social, world.neighbour)


def test_a_contact_session_is_answered_only_by_its_household(world, events):
    _, contact, _ = events
    assert services.is_invited(contact, world.satellite)
    assert not services.is_invited(contact, world.neighbour)
    assert not services.is_invited(contact, world.hub)
    assert access.household_answering(world.hub_carer, contact) is None


def _leave(world, household):
    membership = ConstellationMembership.objects.get(
        household=household, constellation=world.constellation, status="active"
    )
    people.end_membership(membership, by=world.liaison, reason="Moved away")


def test_a_household_that_left_no_longer_sees_the_constellations_events(world, events):
    meeting, contact, social = events
    _leave(world, world.neighbour)
    assert flags(Event.objects.visible_to(world.neighbour_carer), events) == NOTHING
    assert selectors.window(world.neighbour_carer, date(2027, 1, 1), date(2027, 1, 31)).slots == []
    # Invited to nothing more, even where it was chosen by name.
    assert not services.is_invited(meeting, world.neighbour)
    assert not services.is_invited(social, world.neighbour)
    from constellation.services import ActionRefused

    with pytest.raises(ActionRefused, match="not invited"):
        services.answer(social, START, by=None, answer="yes", adults=1, household=world.neighbour)
    # The others see on as before.
    assert flags(Event.objects.visible_to(world.satellite_carer), events) == SEES["satellite_carer"]


def test_a_household_only_proposed_sees_nothing_yet(world, events):
    from tests import factories as f

    proposed = f.satellite_in(world.constellation, active=False, name="The Newtons")
    carer = f.carer_of(proposed, email="newtons@test.example")
    assert flags(Event.objects.visible_to(carer), events) == NOTHING
    assert not services.is_invited(events[0], proposed)


def test_a_liaison_worker_whose_assignment_ended_sees_nothing_more(world, events):
    from constellation.models import LiaisonAssignment

    assignment = LiaisonAssignment.objects.get(
        user=world.liaison, constellation=world.constellation
    )
    people.end_liaison(assignment, by=world.manager)
    assert flags(Event.objects.visible_to(world.liaison), events) == NOTHING
