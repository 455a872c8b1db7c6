"""Business actions: memberships, carers, children and their placements, each
writing the activity record and keeping object permissions in step."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from constellation import services
from constellation.models import (
    Activity,
    Carer,
    Child,
    Constellation,
    ConstellationMembership,
    Household,
    Placement,
)
from constellation.services import ActionRefused
from people.models import Invitation, StaffRole
from tests import factories as f

pytestmark = pytest.mark.django_db

Status = ConstellationMembership.Status
ALL_PAIRS = [(a, b) for a in Status for b in Status if a != b]


def _london_noon(*, days: int) -> datetime:
    """Noon in London ``days`` London days from today."""
    day = timezone.localdate() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Europe/London"))


def _membership_in(status, world):
    household = f.HouseholdFactory(service=world.service)
    membership = services.propose_membership(world.constellation, household, by=world.liaison)
    path = {
        Status.PROPOSED: [],
        Status.ACTIVE: [Status.ACTIVE],
        Status.WITHDRAWN: [Status.WITHDRAWN],
        Status.LEFT: [Status.ACTIVE, Status.LEFT],
    }[status]
    for step in path:
        membership = services._move(membership, step, by=world.liaison, note="set-up")
    return membership


@pytest.mark.parametrize(("start", "to"), ALL_PAIRS)
def test_every_membership_move_follows_the_table(world, start, to):
    membership = _membership_in(start, world)
    before = Activity.objects.count()
    if to in ConstellationMembership.ALLOWED[start]:
        moved = services._move(membership, to, by=world.liaison, note="because")
        assert moved.status == to
        activity = Activity.objects.latest("pk")
        assert activity.verb == f"membership.{to}"
        assert activity.actor == world.liaison
        assert activity.payload["from"] == start
    else:
        with pytest.raises(ActionRefused):
            services._move(membership, to, by=world.liaison)
        membership.refresh_from_db()
        assert membership.status == start
        assert Activity.objects.count() == before


def test_activation_grants_and_withdrawal_removes_sight_of_the_constellation(world):
    household = f.HouseholdFactory(service=world.service)
    carer = f.carer_of(household)
    membership = services.propose_membership(world.constellation, household, by=world.liaison)
    assert not Constellation.objects.visible_to(carer).exists()
    services.activate_membership(membership, by=world.liaison)
    assert list(Constellation.objects.visible_to(carer)) == [world.constellation]
    assert carer.has_perm("constellation.view_constellation_members", world.constellation)
    services.end_membership(membership, by=world.liaison, reason="Moved to another county")
    carer = type(carer).objects.get(pk=carer.pk)
    assert not Constellation.objects.visible_to(carer).exists()
    membership.refresh_from_db()
    assert membership.ended_on == timezone.localdate()
    assert membership.reason == "Moved to another county"


def test_a_household_is_in_one_constellation_at_a_time(world):
    with pytest.raises(ActionRefused, match="already proposed to or in a constellation"):
        services.propose_membership(world.other_constellation, world.satellite, by=world.manager)


def test_a_household_of_another_service_cannot_be_proposed(world):
    stranger = f.HouseholdFactory(service=world.other_service)
    with pytest.raises(ActionRefused, match="another fostering service"):
        services.propose_membership(world.constellation, stranger, by=world.liaison)


def test_membership_history_records_who_changed_it(world):
    membership = world.satellite.memberships.get()
    services.withdraw_membership(membership, by=world.liaison, reason="Family reasons")
    record = membership.history.latest()
    assert record.status == Status.WITHDRAWN
    assert record.history_date is not None


def test_adding_a_carer_creates_the_account_and_emails_a_one_time_link(world):
    household = world.satellite
    with_commit = services.add_carer
    carer = with_commit(
        household,
        by=world.liaison,
        email="New.Carer@Example.org",
        first_name="Nia",
        last_name="Carer",
        role=Carer.Role.SECOND,
        base_url="https://app.example.org",
    )
    assert carer.user.email == "new.carer@example.org"
    assert not carer.user.has_usable_password()
    invitation = Invitation.objects.get(user=carer.user)
    assert invitation.is_open
    assert Activity.objects.filter(verb="carer.added", target_id=carer.pk).exists()


def test_invitation_email_is_sent_after_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.add_carer(
            world.neighbour,
            by=world.liaison,
            email="second@example.org",
            first_name="Sam",
            last_name="Second",
            role=Carer.Role.SECOND,
            base_url="https://app.example.org",
        )
    assert len(mail.outbox) == 1
    assert "https://app.example.org/invitations/" in mail.outbox[0].body


def test_a_person_cannot_be_carer_of_two_households(world):
    with pytest.raises(ActionRefused, match="already a carer"):
        services.add_carer(
            world.neighbour,
            by=world.liaison,
            email=world.satellite_carer.email,
            first_name="x",
            last_name="y",
            role=Carer.Role.SECOND,
        )


def test_a_household_has_one_primary_carer(world):
    with pytest.raises(ActionRefused, match="primary carer"):
        services.add_carer(
            world.satellite,
            by=world.liaison,
            email="p2@example.org",
            first_name="x",
            last_name="y",
            role=Carer.Role.PRIMARY,
        )


def test_a_carer_who_leaves_loses_sight_of_the_constellation(world):
    carer = Carer.objects.get(user=world.second_hub_carer)
    services.end_carer(carer, by=world.liaison, reason="Retired")
    user = type(world.second_hub_carer).objects.get(pk=world.second_hub_carer.pk)
    assert not Child.objects.full_records_for(user).exists()
    with pytest.raises(ActionRefused):
        services.end_carer(carer, by=world.liaison, reason="again")


def test_moving_a_child_keeps_the_placement_history(world):
    child = world.child
    services.move_child(child, to=world.neighbour, by=world.liaison, reason="Placement ended")
    child.refresh_from_db()
    assert child.household == world.neighbour
    placements = list(Placement.objects.filter(child=child).order_by("pk"))
    assert [p.household for p in placements] == [world.satellite, world.neighbour]
    assert placements[0].ended_on == timezone.localdate()
    assert placements[0].reason_for_move == "Placement ended"
    assert placements[1].ended_on is None
    # The new carers see the child in full at once; the former carers keep the record
    # for the week after the move (access follows placements), then no longer.
    assert child in Child.objects.full_records_for(world.neighbour_carer)
    assert child in Child.objects.full_records_for(world.satellite_carer)
    with time_machine.travel(_london_noon(days=8), tick=False):
        assert child not in Child.objects.full_records_for(world.satellite_carer)
        assert child in Child.objects.full_records_for(world.neighbour_carer)


def test_a_child_who_moves_on_is_kept_by_the_service_not_the_constellation(world):
    child = world.child
    services.move_child(child, to=None, by=world.liaison, reason="Adoption")
    child.refresh_from_db()
    assert child.status == Child.Status.MOVED_ON
    assert child.household is None
    # The week after the move, those who cared for the child keep the record...
    assert child in Child.objects.full_records_for(world.liaison)
    assert child in Child.objects.full_records_for(world.hub_carer)
    assert child not in Child.objects.visible_to(world.neighbour_carer)
    # ...then only the service's managers (or the constellation's hub and liaison
    # worker while the child is kept connected).
    with time_machine.travel(_london_noon(days=8), tick=False):
        assert child in Child.objects.full_records_for(world.manager)
        assert child not in Child.objects.visible_to(world.liaison)
        assert child not in Child.objects.visible_to(world.hub_carer)
    with pytest.raises(ActionRefused, match="already moved on"):
        services.move_child(child, to=None, by=world.liaison, reason="again")


def test_a_move_to_another_service_is_refused(world):
    stranger = f.HouseholdFactory(service=world.other_service)
    with pytest.raises(ActionRefused, match="another fostering service"):
        services.move_child(world.child, to=stranger, by=world.liaison, reason="x")


def test_a_move_before_the_placement_started_is_refused(world):
    with pytest.raises(ActionRefused, match="before the current placement"):
        services.move_child(
            world.child,
            to=world.neighbour,
            by=world.liaison,
            reason="x",
            on=timezone.localdate() - timedelta(days=30),
        )


def test_child_changes_are_kept_with_who_and_when(world):
    services.update_child(world.child, by=world.liaison, allergies="Peanuts, sesame")
    latest = world.child.history.latest()
    assert latest.allergies == "Peanuts, sesame"
    assert latest.history_type == "~"
    activity = Activity.objects.filter(verb="child.updated").latest("pk")
    assert activity.payload == {"fields": ["allergies"]}
    # The activity record names the child by preferred name only.
    assert world.child.last_name not in activity.summary


def test_updating_nothing_writes_nothing(world):
    before = Activity.objects.count()
    services.update_household(world.satellite, by=world.liaison, name=world.satellite.name)
    assert Activity.objects.count() == before


def test_only_a_liaison_worker_of_the_service_can_be_assigned(world):
    with pytest.raises(ActionRefused, match="liaison worker of this fostering service"):
        services.assign_liaison(world.constellation, world.other_service_liaison, by=None)
    with pytest.raises(ActionRefused):
        services.assign_liaison(world.constellation, world.hub_carer, by=None)


def test_ending_a_liaison_assignment_removes_management(world):
    assignment = world.constellation.liaison_assignments.get(user=world.liaison)
    services.end_liaison(assignment, by=world.manager)
    user = type(world.liaison).objects.get(pk=world.liaison.pk)
    assert not Constellation.objects.managed_by(user).exists()


def test_a_constellation_has_one_hub(world):
    with pytest.raises(ActionRefused, match="already has a hub"):
        services.create_household(
            constellation=world.constellation,
            kind=Household.Kind.HUB,
            by=world.liaison,
            name="Second hub",
        )


def test_size_warning_outside_six_to_ten(world):
    assert "6 to 10" in world.constellation.size_warning(2)
    assert world.constellation.size_warning(8) == ""
    assert "more than" in world.constellation.size_warning(11)


def test_the_manager_role_is_read_live(world):
    role = StaffRole.objects.get(user=world.manager)
    role.ended_on = date.today()  # noqa: DTZ011
    role.save()
    assert not Constellation.objects.visible_to(world.manager).exists()


def test_history_names_who_made_each_change(world):
    services.update_household(world.satellite, by=world.liaison, phone="07700 900999")
    assert world.satellite.history.latest().history_user == world.liaison
    membership = world.neighbour.memberships.get()
    services.withdraw_membership(membership, by=world.manager, reason="Concerns")
    assert membership.history.latest().history_user == world.manager
    services.move_child(world.child, to=world.neighbour, by=world.liaison, reason="Move")
    assert world.child.history.latest().history_user == world.liaison


def test_siblings_are_kept_both_ways_and_only_within_the_service(world):
    services.update_child(world.child, by=world.liaison, siblings=[world.neighbour_child])
    assert list(world.neighbour_child.siblings.all()) == [world.child]
    activity = Activity.objects.filter(verb="child.updated").latest("pk")
    assert activity.payload == {"fields": ["siblings"]}
    with pytest.raises(ActionRefused, match="same fostering service"):
        services.update_child(world.child, by=world.liaison, siblings=[world.other_service_child])
    assert list(world.child.siblings.all()) == [world.neighbour_child]


def test_an_invitation_is_sent_again_only_to_a_carer_without_a_password(world):
    carer = services.add_carer(
        world.neighbour,
        by=world.liaison,
        email="again@example.org",
        first_name="A",
        last_name="Gain",
        role=Carer.Role.SECOND,
    )
    first = Invitation.objects.get(user=carer.user)
    services.resend_invitation(carer, by=world.liaison)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert Invitation.objects.open().filter(user=carer.user).count() == 1
    assert Activity.objects.filter(verb="carer.invited", target_id=carer.pk).exists()
    existing = Carer.objects.get(user=world.satellite_carer)
    with pytest.raises(ActionRefused, match="already set a password"):
        services.resend_invitation(existing, by=world.liaison)
    services.end_carer(carer, by=world.liaison, reason="Left")
    carer.refresh_from_db()
    with pytest.raises(ActionRefused, match="has left"):
        services.resend_invitation(carer, by=world.liaison)


@pytest.mark.parametrize("who", ["other_service_manager", "other_service_carer"])
def test_an_account_of_another_service_cannot_be_made_a_carer_here(world, who):
    stranger = getattr(world, who)
    with pytest.raises(ActionRefused) as refusal:
        services.add_carer(
            world.neighbour,
            by=world.liaison,
            email=stranger.email,
            first_name="x",
            last_name="y",
            role=Carer.Role.SECOND,
        )
    # The message does not say that the account exists elsewhere.
    assert "cannot be used for a carer here" in str(refusal.value)
    assert not Carer.objects.filter(user=stranger, household=world.neighbour).exists()
