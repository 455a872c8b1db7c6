"""'Which constellation is this household in now' has one answer: the one it is the
hub of, or the one it is an active member of. A proposed membership does not count."""

import pytest

from constellation import services
from constellation.models import Activity, Constellation
from constellation.services import current_constellation_of
from delegated_authority.rules import constellation_of
from people.roles import forget_roles, roles_for
from sleepovers.access import hub_of_user
from tests import factories as f

pytestmark = pytest.mark.django_db


def _moving_household(world):
    """The Ashfords left Riverside and are proposed to Hillside, not yet active there."""
    membership = world.satellite.memberships.get(status="active")
    services.end_membership(membership, by=world.liaison, reason="Moved across town")
    services.propose_membership(world.other_constellation, world.satellite, by=world.manager)
    forget_roles(world.satellite_carer)
    return world.satellite


def _answers(household, carer, child):
    """Every place that asks the question, side by side."""
    roles = roles_for(carer)
    hub = hub_of_user(carer)
    return {
        "queryset": list(Constellation.objects.of_household_now(household)),
        "activity record": current_constellation_of(household),
        "delegated authority": constellation_of(child) if child else None,
        "roles": roles.hub_constellation_ids | roles.satellite_constellation_ids,
        "sleepover pages' hub": hub,
    }


@pytest.mark.parametrize("who", ["hub", "satellite", "proposed", "none"])
def test_every_place_gives_the_same_answer(world, who):
    if who == "hub":
        household, carer, child = world.hub, world.hub_carer, world.hub_child
        expected = world.constellation
    elif who == "satellite":
        household, carer, child = world.satellite, world.satellite_carer, world.child
        expected = world.constellation
    elif who == "proposed":
        household = _moving_household(world)
        carer, child = world.satellite_carer, world.child
        expected = None
    else:
        household = f.HouseholdFactory(service=world.service, name="Not yet proposed")
        carer = f.carer_of(household, email="nowhere@test.example")
        child = f.child_in(household)
        expected = None
    answers = _answers(household, carer, child)
    assert answers["queryset"] == ([expected] if expected else [])
    assert answers["activity record"] == expected
    assert answers["delegated authority"] == expected
    assert answers["roles"] == ({expected.pk} if expected else set())
    assert answers["sleepover pages' hub"] == (expected.hub if expected else None)


def test_a_proposed_household_is_not_yet_in_the_constellation(world):
    """Before, the activity record and the household page counted a proposed membership
    (Hillside) while the roles, delegated authority and requests did not (none)."""
    household = _moving_household(world)
    assert not Constellation.objects.of_household_now(household).exists()
    # A carer joins the household: the event is not filed under Hillside, whose hub
    # carers and families do not know the household yet.
    carer = services.add_carer(
        household,
        by=world.manager,
        email="new-carer@test.example",
        first_name="Sam",
        last_name="Ashford",
        role="second",
    )
    row = Activity.objects.get(verb="carer.added", target_id=carer.pk)
    assert row.constellation is None
    assert not Activity.objects.filter(
        constellation=world.other_constellation, verb="carer.added", target_id=carer.pk
    ).exists()
    # Once active, it is.
    membership = household.memberships.get(status="proposed")
    services.activate_membership(membership, by=world.other_liaison)
    assert list(Constellation.objects.of_household_now(household)) == [world.other_constellation]
    assert current_constellation_of(household) == world.other_constellation


def test_the_household_page_names_only_the_constellation_it_is_in(world, client):
    household = _moving_household(world)
    client.force_login(world.manager)
    page = client.get(household.get_absolute_url())
    assert page.status_code == 200
    back = page.content.decode().split("</nav>")[0]
    assert "Hillside" not in back
    assert page.context["constellation"] is None
    client.force_login(world.manager)
    page = client.get(world.neighbour.get_absolute_url())
    assert page.context["constellation"] == world.constellation
