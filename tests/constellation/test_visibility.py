"""The who-sees-what table of DOMAIN.md, asserted through the querysets that every
view, API endpoint and export uses."""

import pytest

from constellation import services
from constellation.models import Child, Constellation, Household

pytestmark = pytest.mark.django_db


def names(qs):
    return sorted(str(o) for o in qs)


def test_hub_carer_sees_every_child_of_the_constellation_in_full(world):
    full = Child.objects.full_records_for(world.hub_carer)
    assert set(full) == {world.child, world.neighbour_child, world.hub_child}


def test_satellite_carer_sees_own_children_in_full_and_others_limited(world):
    user = world.satellite_carer
    assert set(Child.objects.full_records_for(user)) == {world.child}
    visible = set(Child.objects.visible_to(user))
    assert visible == {world.child, world.neighbour_child, world.hub_child}


def test_nobody_sees_another_constellations_or_services_children(world):
    for user in (world.hub_carer, world.satellite_carer, world.liaison):
        visible = set(Child.objects.visible_to(user))
        assert world.other_constellation_child not in visible
        assert world.other_service_child not in visible


def test_liaison_sees_only_assigned_constellations(world):
    assert list(Constellation.objects.visible_to(world.liaison)) == [world.constellation]
    assert set(Child.objects.full_records_for(world.liaison)) == {
        world.child,
        world.neighbour_child,
        world.hub_child,
    }


def test_manager_sees_whole_service_and_nothing_else(world):
    assert set(Constellation.objects.visible_to(world.manager)) == {
        world.constellation,
        world.other_constellation,
    }
    children = set(Child.objects.full_records_for(world.manager))
    assert world.other_constellation_child in children
    assert world.other_service_child not in children


def test_social_worker_sees_only_their_cases(world):
    assert list(Child.objects.visible_to(world.social_worker)) == [world.child]
    assert list(Child.objects.full_records_for(world.social_worker)) == [world.child]


def test_withdrawn_household_loses_sight_of_the_constellation(world):
    membership = world.satellite.memberships.get()
    services.withdraw_membership(membership, by=world.liaison, reason="Moved away")
    user = type(world.satellite_carer).objects.get(pk=world.satellite_carer.pk)
    assert not Constellation.objects.visible_to(user).exists()
    # Their own household and child stay theirs.
    assert set(Child.objects.visible_to(user)) == {world.child}
    assert set(Household.objects.visible_to(user)) == {world.satellite}
    # The hub no longer sees the child, the liaison worker keeps the history.
    assert world.child not in set(Child.objects.visible_to(world.hub_carer))
    assert world.child in set(Child.objects.full_records_for(world.liaison))


def test_proposed_household_is_seen_by_liaison_not_by_satellites(world):
    proposed = services.create_household(
        constellation=world.constellation,
        kind=Household.Kind.SATELLITE,
        by=world.liaison,
        name="The Newcomers",
    )
    assert proposed in set(Household.objects.visible_to(world.liaison))
    assert proposed not in set(Household.objects.visible_to(world.satellite_carer))
    assert proposed not in set(Household.objects.visible_to(world.hub_carer))
