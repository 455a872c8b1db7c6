"""The constellation's pages: who sees what, every form's happy path and bad input,
and query counts that do not grow with the size of a constellation."""

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from constellation import services
from constellation.models import (
    Activity,
    Carer,
    Child,
    ConstellationMembership,
    Household,
    Placement,
)
from people.models import ChildRecordAccess, Invitation
from tests import factories as f

pytestmark = pytest.mark.django_db

LONG = "x" * 10_000
BAD_DATES = ["1800-01-01", "9999-12-31", "not-a-date"]


def url(name, *args):
    return reverse(f"constellation:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def membership_of(household) -> ConstellationMembership:
    return household.memberships.get()


def carer_row(user) -> Carer:
    return Carer.objects.get(user=user)


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


OUTSIDERS_404 = {
    "other_liaison": 404,
    "other_hub_carer": 404,
    "other_service_manager": 404,
    "other_service_liaison": 404,
    "other_service_hub_carer": 404,
}
CARERS_403 = {"hub_carer": 403, "satellite_carer": 403, "neighbour_carer": 403}
MANAGERS_200 = {"liaison": 200, "manager": 200}


# --- the page shell -------------------------------------------------------------------------


def test_pages_carry_no_inline_script_or_style_and_the_navigation_fits_the_role(login, world):
    client = login(world.liaison)
    for target in (
        reverse("home"),
        url("detail", world.constellation.pk),
        url("household", world.satellite.pk),
        url("child", world.child.pk),
        url("household_create", world.constellation.pk),
    ):
        html = body(client.get(target))
        assert "style=" not in html, target
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag or "application/json" in tag, (target, tag)
        assert 'name="htmx-config"' in html
        assert "vendor/bootstrap/css/bootstrap.min.css" in html
        assert "vendor/htmx/htmx.min.js" in html
        assert "cdn" not in html.lower()
    assert 'href="#main"' in html
    assert reverse("mfa_index") in html
    assert f'action="{reverse("account_logout")}"' in html
    assert reverse("people:access_log") in html
    assert reverse("constellation:list") in html

    satellite = body(login(world.satellite_carer).get(reverse("home")))
    assert reverse("people:access_log") not in satellite
    assert reverse("constellation:list") not in satellite
    assert reverse("sleepovers:index") in satellite


def test_the_login_page_uses_the_product_layout_and_offers_no_sign_up(client):
    html = body(client.get(reverse("account_login")))
    assert "Mockingbird" in html
    assert "vendor/bootstrap/css/bootstrap.min.css" in html
    assert "sign up" not in html.lower()
    assert "style=" not in html


# --- home -----------------------------------------------------------------------------------


def test_home_needs_a_login(client, world):
    assert_login_redirect(client.get(reverse("home")))


def test_manager_home_lists_every_constellation_of_the_service_only(login, world):
    html = body(login(world.manager).get(reverse("home")))
    assert "Service overview" in html
    assert "Northshire Fostering" in html
    assert "Southshire" not in html
    assert "Riverside" in html
    assert "Hillside" in html
    assert "Seaside" not in html
    # Two active satellites: below the six the model needs.
    assert "2 active satellite households" in html


def test_liaison_home_shows_assigned_constellations_and_proposals_waiting(login, world):
    waiting = f.satellite_in(world.constellation, active=False, name="The Newcomers")
    html = body(login(world.liaison).get(reverse("home")))
    assert "Riverside" in html
    assert "Hillside" not in html
    assert waiting.name in html
    assert "Proposed households waiting" in html


def test_hub_home_shows_households_children_and_keeping_in_touch(login, world):
    html = body(login(world.hub_carer).get(reverse("home")))
    for text in ("Riverside", "The Ashfords", "The Brookes", "Mara", "Bob", "Cee"):
        assert text in html
    for section in ("Requests to answer", "Tonight and this week", "Keeping in touch"):
        assert section in html
    assert "later release" not in html
    assert reverse("sleepovers:index") in html
    assert "Hillside" not in html


def test_satellite_home_shows_my_children_and_the_hubs_numbers(login, world):
    world.hub.phone = "07700 900111"
    world.hub.second_phone = "07700 900222"
    world.hub.save()
    html = body(login(world.satellite_carer).get(reverse("home")))
    assert "The Ashfords" in html
    assert "Amara Quill" in html
    assert 'href="tel:07700900111"' in html
    assert "07700 900222" in html
    assert "0300 555 0100" in html  # the service's out-of-hours number
    assert "Hub availability" in html
    assert "Coming up" in html
    assert reverse("calendar_events:index") in html
    # Another household's child is not on my home page.
    assert "Stone" not in html


def test_social_worker_home_lists_their_cases(login, world):
    html = body(login(world.social_worker).get(reverse("home")))
    assert "Amara Quill" in html
    assert "Stone" not in html


def test_admin_and_roleless_homes(login, world):
    admin = f.UserFactory(is_superuser=True, is_staff=True)
    assert reverse("admin:index") in body(login(admin).get(reverse("home")))
    nobody = f.UserFactory()
    assert "no role is set up" in body(login(nobody).get(reverse("home")))


# --- constellations ---------------------------------------------------------------------------


def test_constellation_list(client, login, world):
    assert_login_redirect(client.get(url("list")))
    html = body(login(world.liaison).get(url("list")))
    assert "Riverside" in html
    assert "Hillside" not in html
    html = body(login(world.other_service_manager).get(url("list")))
    assert "Seaside" in html
    assert "Riverside" not in html


def test_constellation_detail_access(client, world):
    target = url("detail", world.constellation.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(
        client,
        target,
        {
            "hub_carer": 200,
            "satellite_carer": 200,
            **MANAGERS_200,
            "social_worker": 404,
            **OUTSIDERS_404,
        },
        world,
    )
    client.force_login(world.manager)
    assert client.get(url("detail", 999_999)).status_code == 404


def test_constellation_detail_for_the_liaison_shows_memberships_and_activity(login, world):
    membership = membership_of(world.neighbour)
    services.end_membership(membership, by=world.liaison, reason="Moved to the coast")
    html = body(login(world.liaison).get(url("detail", world.constellation.pk)))
    assert "The Hub Home" in html
    assert "The Ashfords" in html
    assert "Moved to the coast" in html
    assert "Left" in html
    assert "Recent activity" in html
    assert "The Brookes: Active to Left" in html
    assert url("membership_withdraw", membership_of(world.satellite).pk) in html
    assert "1 active satellite households" in html
    assert world.liaison.get_full_name() in html


def test_constellation_detail_for_a_carer_hides_management(login, world):
    html = body(login(world.satellite_carer).get(url("detail", world.constellation.pk)))
    assert "The Brookes" in html
    assert "Recent activity" not in html
    assert url("household_create", world.constellation.pk) not in html


# --- households -------------------------------------------------------------------------------


def test_household_detail_access(client, world):
    target = url("household", world.satellite.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(
        client,
        target,
        {
            "hub_carer": 200,
            "satellite_carer": 200,
            "neighbour_carer": 200,
            **MANAGERS_200,
            "other_satellite_carer": 404,
            **OUTSIDERS_404,
        },
        world,
    )


def test_a_neighbour_sees_names_and_ages_but_no_address_or_last_names(login, world):
    world.neighbour_carer.phone = "07700 900999"
    world.neighbour_carer.save()
    html = body(login(world.satellite_carer).get(url("household", world.neighbour.pk)))
    assert "07700 900999" not in html  # a carer's own mobile stays with those who need it
    assert "The Brookes" in html
    assert "Bob" in html
    assert "Stone" not in html
    assert "EX1 1AA" not in html
    assert "Example Street" not in html
    assert "Penicillin" not in html


def test_own_carers_and_the_hub_see_the_address(login, world):
    for user in (world.satellite_carer, world.hub_carer, world.liaison):
        html = body(login(user).get(url("household", world.satellite.pk)))
        assert "EX1 1AA" in html, user
        assert "Amara Quill" in html, user


def test_household_detail_for_the_liaison_shows_history_and_actions(login, world):
    html = body(login(world.liaison).get(url("household", world.satellite.pk)))
    assert "Membership history" in html
    assert url("carer_add", world.satellite.pk) in html
    assert url("carer_end", carer_row(world.satellite_carer).pk) in html


def test_household_create_access(client, world):
    target = url("household_create", world.constellation.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(client, target, {**MANAGERS_200, **CARERS_403, **OUTSIDERS_404}, world)


def test_household_create_proposes_a_satellite(login, world):
    response = login(world.liaison).post(
        url("household_create", world.constellation.pk),
        {
            "kind": "satellite",
            "name": "The Carters",
            "address": "3 Mill Lane",
            "postcode": "EX3 3CC",
            "phone": "07700 900333",
            "second_phone": "",
            "beds": "0",
            "reason": "Lives two streets away",
        },
    )
    household = Household.objects.get(name="The Carters")
    assert response.status_code == 302
    assert response["Location"] == household.get_absolute_url()
    assert household.service == world.service
    membership = membership_of(household)
    assert membership.status == "proposed"
    assert membership.reason == "Lives two streets away"
    assert Activity.objects.filter(verb="household.created", target_id=household.pk).exists()


def test_household_create_refuses_a_second_hub_with_the_reason(login, world):
    response = login(world.liaison).post(
        url("household_create", world.constellation.pk),
        {"kind": "hub", "name": "Another Hub", "beds": "2"},
    )
    assert response.status_code == 200
    assert "already has a hub home" in body(response)
    assert not Household.objects.filter(name="Another Hub").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "satellite", "beds": "0"}, "name"),
        ({"kind": "satellite", "name": LONG, "beds": "0"}, "name"),
        ({"kind": "satellite", "name": "X", "postcode": LONG, "beds": "0"}, "postcode"),
        ({"kind": "satellite", "name": "X", "address": LONG, "beds": "0"}, "address"),
        ({"kind": "satellite", "name": "X", "beds": "21"}, "beds"),
        ({"kind": "satellite", "name": "X", "beds": "-1"}, "beds"),
        ({"kind": "satellite", "name": "X", "beds": "many"}, "beds"),
        ({"kind": "castle", "name": "X", "beds": "0"}, "kind"),
        ({"name": "X", "beds": "0"}, "kind"),
        ({"kind": "satellite", "name": "X", "beds": "0", "reason": LONG}, "reason"),
    ],
)
def test_household_create_bad_input(login, world, data, field):
    before = (Household.objects.count(), Activity.objects.count())
    response = login(world.liaison).post(url("household_create", world.constellation.pk), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "invalid-feedback" in body(response)
    assert (Household.objects.count(), Activity.objects.count()) == before


def test_household_edit(client, login, world):
    target = url("household_edit", world.satellite.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(client, target, {**MANAGERS_200, **CARERS_403, **OUTSIDERS_404}, world)

    client = login(world.liaison)
    assert 'value="The Ashfords"' in body(client.get(target))
    response = client.post(
        target,
        {"name": "The Ashford-Lees", "phone": "07700 900444", "beds": "0", "postcode": "EX1 1AA"},
    )
    assert response.status_code == 302
    world.satellite.refresh_from_db()
    assert world.satellite.name == "The Ashford-Lees"
    assert world.satellite.phone == "07700 900444"
    activity = Activity.objects.get(verb="household.updated", target_id=world.satellite.pk)
    assert "name" in activity.payload["fields"]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "beds": "0"},
        {"name": LONG, "beds": "0"},
        {"name": "X", "phone": LONG, "beds": "0"},
        {"name": "X", "beds": "99999999999999999999"},
    ],
)
def test_household_edit_bad_input(login, world, data):
    response = login(world.liaison).post(url("household_edit", world.satellite.pk), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    world.satellite.refresh_from_db()
    assert world.satellite.name == "The Ashfords"
    assert not Activity.objects.filter(verb="household.updated").exists()


# --- carers -----------------------------------------------------------------------------------


def test_carer_add_access(client, world):
    target = url("carer_add", world.satellite.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(client, target, {**MANAGERS_200, **CARERS_403, **OUTSIDERS_404}, world)


def test_carer_add_creates_the_account_and_emails_an_invitation(
    login, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.liaison).post(
            url("carer_add", world.satellite.pk),
            {
                "email": "New.Carer@Example.org",
                "first_name": "Nia",
                "last_name": "Ashford",
                "phone": "07700 900555",
                "role": "second",
            },
        )
    assert response.status_code == 302
    carer = Carer.objects.get(user__email="new.carer@example.org")
    assert carer.household == world.satellite
    assert carer.role == "second"
    assert Activity.objects.filter(verb="carer.added", target_id=carer.pk).exists()
    assert len(mail.outbox) == 1
    assert "/invitations/" in mail.outbox[0].body
    assert mail.outbox[0].to == ["new.carer@example.org"]


def test_carer_add_refuses_a_second_primary_carer(login, world):
    response = login(world.liaison).post(
        url("carer_add", world.satellite.pk),
        {"email": "x@example.org", "first_name": "X", "last_name": "Y", "role": "primary"},
    )
    assert response.status_code == 200
    assert "already has a primary carer" in body(response)
    assert not Carer.objects.filter(user__email="x@example.org").exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": "not-an-email", "first_name": "A", "last_name": "B", "role": "second"},
        {"email": LONG + "@example.org", "first_name": "A", "last_name": "B", "role": "second"},
        {"email": "a@example.org", "first_name": LONG, "last_name": "B", "role": "second"},
        {"email": "a@example.org", "first_name": "A", "last_name": "B", "role": "boss"},
        {"email": "a@example.org", "first_name": "A", "last_name": "B", "phone": LONG},
    ],
)
def test_carer_add_bad_input(login, world, data):
    before = Carer.objects.count()
    response = login(world.liaison).post(url("carer_add", world.satellite.pk), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Carer.objects.count() == before
    assert not mail.outbox


def test_carer_end(client, login, world):
    carer = carer_row(world.neighbour_carer)
    target = url("carer_end", carer.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(client, target, {**MANAGERS_200, **CARERS_403, **OUTSIDERS_404}, world)

    client = login(world.liaison)
    today = timezone.localdate().isoformat()
    response = client.post(target, {"ending": "left", "on": today, "reason": ""})
    assert response.status_code == 400
    assert "reason" in response.context["form"].errors
    response = client.post(target, {"ending": "left", "on": today, "reason": LONG})
    assert response.status_code == 400
    carer.refresh_from_db()
    assert carer.ended_on is None

    response = client.post(
        target, {"ending": "left", "on": today, "reason": "Retired from fostering"}
    )
    assert response.status_code == 302
    carer.refresh_from_db()
    assert carer.ended_on == timezone.localdate()
    assert carer.end_reason == "Retired from fostering"
    assert Activity.objects.filter(verb="carer.ended", target_id=carer.pk).exists()

    # Ending it twice goes back to the household with a message, not an error page.
    response = client.post(target, {"ending": "left", "on": today, "reason": "Again"}, follow=True)
    assert response.status_code == 200
    assert "already left" in body(response)


def test_carer_invite_sends_a_new_link(client, login, world, django_capture_on_commit_callbacks):
    carer = carer_row(world.satellite_carer)
    target = url("carer_invite", carer.pk)
    assert_login_redirect(client.post(target))
    assert_statuses(client, target, {**CARERS_403, **OUTSIDERS_404}, world, method="post")
    assert not Invitation.objects.exists()

    # An invited carer who has not yet set a password.
    world.satellite_carer.set_unusable_password()
    world.satellite_carer.save(update_fields=["password"])
    client = login(world.liaison)
    assert client.get(target).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(target)
    assert response.status_code == 302
    assert Invitation.objects.open().filter(user=world.satellite_carer).count() == 1
    assert len(mail.outbox) == 1


def test_no_invitation_for_a_carer_who_left(login, world):
    carer = carer_row(world.neighbour_carer)
    services.end_carer(carer, by=world.liaison, reason="Moved away")
    response = login(world.liaison).post(url("carer_invite", carer.pk), follow=True)
    assert response.status_code == 200
    assert "no invitation sent" in body(response)
    assert not Invitation.objects.exists()


# --- memberships ------------------------------------------------------------------------------


def test_membership_propose_access(client, world):
    target = url("membership_propose", world.constellation.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(client, target, {**MANAGERS_200, **CARERS_403, **OUTSIDERS_404}, world)


def test_membership_propose_offers_only_free_satellites_of_the_service(login, world):
    membership = membership_of(world.neighbour)
    services.end_membership(membership, by=world.liaison, reason="A break")
    client = login(world.liaison)
    form = client.get(url("membership_propose", world.constellation.pk)).context["form"]
    offered = set(form.fields["household"].queryset)
    assert offered == {world.neighbour}

    response = client.post(
        url("membership_propose", world.constellation.pk),
        {"household": world.neighbour.pk, "reason": "Back after a break"},
    )
    assert response.status_code == 302
    proposed = world.neighbour.memberships.get(status="proposed")
    assert proposed.reason == "Back after a break"
    assert Activity.objects.filter(verb="membership.proposed", target_id=proposed.pk).exists()


@pytest.mark.parametrize(
    "household",
    [
        "not-a-number",
        "",
        "99999999",
        "99999999999999999999999",
        "other_service",
        "satellite",  # already active in the constellation
        "hub",
    ],
)
def test_membership_propose_rejects_bad_choices(login, world, household):
    other_service_household = Household.objects.get(name="The Dunes")
    value = {
        "other_service": other_service_household.pk,
        "satellite": world.satellite.pk,
        "hub": world.hub.pk,
    }.get(household, household)
    before = ConstellationMembership.objects.count()
    response = login(world.manager).post(
        url("membership_propose", world.constellation.pk), {"household": value}
    )
    assert response.status_code == 400
    assert "household" in response.context["form"].errors
    assert ConstellationMembership.objects.count() == before


def test_membership_activate(client, login, world):
    newcomer = f.satellite_in(world.constellation, active=False, name="The Newcomers")
    membership = membership_of(newcomer)
    target = url("membership_activate", membership.pk)
    assert_login_redirect(client.post(target))
    assert_statuses(
        client,
        target,
        {"hub_carer": 404, "satellite_carer": 404, **OUTSIDERS_404},
        world,
        method="post",
    )
    client = login(world.liaison)
    # GET asks for the join date (today by default).
    response = client.get(target)
    assert response.status_code == 200
    assert f'value="{timezone.localdate().isoformat()}"' in body(response)
    response = client.post(target, {"joined_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == "active"
    assert membership.joined_on == timezone.localdate()
    assert Activity.objects.filter(verb="membership.active", target_id=membership.pk).exists()

    # Activating it again is refused with the reason.
    response = client.post(target, {"joined_on": timezone.localdate().isoformat()})
    assert response.status_code == 400
    assert "cannot become active" in body(response)


def test_an_active_membership_cannot_be_activated_by_a_carer_who_sees_it(client, world):
    target = url("membership_activate", membership_of(world.satellite).pk)
    assert_statuses(client, target, {"hub_carer": 403, "satellite_carer": 403}, world, "post")


@pytest.mark.parametrize(
    ("name", "status", "verb"),
    [
        ("membership_withdraw", "withdrawn", "membership.withdrawn"),
        ("membership_leave", "left", "membership.left"),
    ],
)
def test_membership_withdraw_and_leave(client, login, world, name, status, verb):
    membership = membership_of(world.neighbour)
    target = url(name, membership.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(client, target, {**MANAGERS_200, **CARERS_403, **OUTSIDERS_404}, world)

    client = login(world.liaison)
    today = timezone.localdate().isoformat()
    for bad in ({"on": today}, {"on": today, "reason": ""}, {"on": today, "reason": LONG}):
        response = client.post(target, bad)
        assert response.status_code == 400
        assert "reason" in response.context["form"].errors
    membership.refresh_from_db()
    assert membership.status == "active"

    response = client.post(target, {"on": today, "reason": "The family moved to Leeds"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == status
    assert membership.reason == "The family moved to Leeds"
    assert membership.ended_on == timezone.localdate()
    assert Activity.objects.filter(verb=verb, target_id=membership.pk).exists()

    response = client.post(target, {"on": today, "reason": "Twice"})
    assert response.status_code == 400
    assert "cannot become" in body(response)


# --- children ----------------------------------------------------------------------------------


def test_child_detail_access(client, world):
    target = url("child", world.child.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(
        client,
        target,
        {
            "hub_carer": 200,
            "satellite_carer": 200,
            "neighbour_carer": 200,
            "social_worker": 200,
            **MANAGERS_200,
            "other_satellite_carer": 404,
            **OUTSIDERS_404,
        },
        world,
    )


def test_the_hub_sees_a_satellite_childs_full_record_and_it_is_logged(login, world):
    response = login(world.hub_carer).get(url("child", world.child.pk))
    html = body(response)
    assert "Amara Quill" in html
    assert "Penicillin" in html
    assert "Melatonin" in html
    assert "Duty social worker" in html
    assert "The Ashfords" in html
    assert ChildRecordAccess.objects.filter(user=world.hub_carer, child=world.child).count() == 1
    # A carer does not get the liaison worker's links.
    assert url("child_history", world.child.pk) not in html
    assert url("child_edit", world.child.pk) not in html


def test_a_neighbour_sees_preferred_name_and_age_only_and_nothing_is_logged(login, world):
    html = body(login(world.neighbour_carer).get(url("child", world.child.pk)))
    assert "Mara" in html
    assert str(world.child.age) in html
    for secret in ("Quill", "Amara", "Penicillin", "Melatonin", "quiet room", "0300 555 0199"):
        assert secret not in html, secret
    assert not ChildRecordAccess.objects.exists()


def test_the_liaison_sees_placements_and_the_links_to_change_the_record(login, world):
    services.move_child(world.child, to=world.neighbour, by=world.liaison, reason="Respite ended")
    html = body(login(world.liaison).get(url("child", world.child.pk)))
    assert "Respite ended" in html
    assert "The Ashfords" in html
    assert "The Brookes" in html
    assert url("child_history", world.child.pk) in html
    assert url("child_edit", world.child.pk) in html
    assert url("child_move", world.child.pk) in html


def test_child_history(client, login, world):
    target = url("child_history", world.child.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(
        client,
        target,
        {
            **MANAGERS_200,
            **CARERS_403,
            "social_worker": 403,
            "other_satellite_carer": 404,
            **OUTSIDERS_404,
        },
        world,
    )
    client = login(world.liaison)
    client.post(url("child_edit", world.child.pk), {**child_data(world.child), "allergies": "Nuts"})
    html = body(client.get(target))
    assert world.liaison.get_full_name() in html
    assert "Changed: allergies" in html
    assert "Record created" in html


def child_data(child: Child) -> dict:
    return {
        "first_name": child.first_name,
        "last_name": child.last_name,
        "preferred_name": child.preferred_name,
        "date_of_birth": child.date_of_birth.isoformat(),
        "needs": child.needs,
        "allergies": child.allergies,
        "medication_notes": child.medication_notes,
        "emergency_contacts": child.emergency_contacts,
        "social_worker": child.social_worker_id or "",
    }


NEW_CHILD = {
    "first_name": "Freya",
    "last_name": "Lark",
    "preferred_name": "Fi",
    "date_of_birth": "2016-09-01",
    "placed_on": "",
    "needs": "Reading before bed",
    "allergies": "None known",
    "medication_notes": "",
    "emergency_contacts": "Duty 0300 555 0199",
    "social_worker": "",
}


def test_child_create_access(client, world):
    target = url("child_create", world.satellite.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(client, target, {**MANAGERS_200, **CARERS_403, **OUTSIDERS_404}, world)


def test_child_create(login, world):
    response = login(world.liaison).post(
        url("child_create", world.satellite.pk),
        {**NEW_CHILD, "social_worker": world.social_worker.pk, "placed_on": "2025-01-10"},
    )
    child = Child.objects.get(first_name="Freya")
    assert response.status_code == 302
    assert response["Location"] == child.get_absolute_url()
    assert child.household == world.satellite
    assert child.social_worker == world.social_worker
    assert Placement.objects.get(child=child).started_on == date(2025, 1, 10)
    assert Activity.objects.filter(verb="child.placed", target_id=child.pk).exists()


def _other_service_social_worker(world):
    return f.staff(world.other_service, "social_worker", email="sw-south@test.example").pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"last_name": LONG}, "last_name"),
        ({"preferred_name": LONG}, "preferred_name"),
        ({"needs": LONG}, "needs"),
        ({"allergies": LONG}, "allergies"),
        ({"date_of_birth": ""}, "date_of_birth"),
        *[({"date_of_birth": bad}, "date_of_birth") for bad in BAD_DATES],
        ({"date_of_birth": "1990-01-01"}, "date_of_birth"),
        *[({"placed_on": bad}, "placed_on") for bad in BAD_DATES if bad != "1800-01-01"],
        ({"placed_on": "2010-01-01"}, "placed_on"),  # before the child was born
        ({"social_worker": "not-a-number"}, "social_worker"),
        ({"social_worker": "other-service"}, "social_worker"),
        ({"social_worker": "hub-carer"}, "social_worker"),
    ],
)
def test_child_create_bad_input(login, world, change, field):
    if change.get("social_worker") == "other-service":
        change = {"social_worker": _other_service_social_worker(world)}
    if change.get("social_worker") == "hub-carer":
        change = {"social_worker": world.hub_carer.pk}
    before = (Child.objects.count(), Activity.objects.count())
    response = login(world.liaison).post(
        url("child_create", world.satellite.pk), {**NEW_CHILD, **change}
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert (Child.objects.count(), Activity.objects.count()) == before


def test_child_edit(client, login, world):
    target = url("child_edit", world.child.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(
        client,
        target,
        {**MANAGERS_200, **CARERS_403, "social_worker": 403, **OUTSIDERS_404},
        world,
    )
    client = login(world.liaison)
    assert "Penicillin" in body(client.get(target))
    response = client.post(target, {**child_data(world.child), "allergies": "Penicillin and latex"})
    assert response.status_code == 302
    world.child.refresh_from_db()
    assert world.child.allergies == "Penicillin and latex"
    activity = Activity.objects.get(verb="child.updated", target_id=world.child.pk)
    assert activity.payload["fields"] == ["allergies"]


@pytest.mark.parametrize(
    "change",
    [
        {"first_name": LONG},
        {"emergency_contacts": LONG},
        *[{"date_of_birth": bad} for bad in BAD_DATES],
        {"social_worker": "12abc"},
    ],
)
def test_child_edit_bad_input(login, world, change):
    response = login(world.manager).post(
        url("child_edit", world.child.pk), {**child_data(world.child), **change}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    world.child.refresh_from_db()
    assert world.child.first_name == "Amara"
    assert not Activity.objects.filter(verb="child.updated").exists()


def test_child_move_access(client, world):
    target = url("child_move", world.child.pk)
    assert_login_redirect(client.get(target))
    assert_statuses(
        client,
        target,
        {**MANAGERS_200, **CARERS_403, "social_worker": 403, **OUTSIDERS_404},
        world,
    )


def test_child_move_to_another_household(login, world):
    today = timezone.localdate().isoformat()
    response = login(world.liaison).post(
        url("child_move", world.child.pk),
        {"kind": "planned", "to": world.neighbour.pk, "reason": "Closer to school", "on": today},
    )
    assert response.status_code == 302
    world.child.refresh_from_db()
    assert world.child.household == world.neighbour
    ended = Placement.objects.get(child=world.child, household=world.satellite)
    assert ended.reason_for_move == "Closer to school"
    assert Activity.objects.filter(verb="child.moved", target_id=world.child.pk).exists()


def test_child_moves_on(login, world):
    response = login(world.manager).post(
        url("child_move", world.child.pk),
        {"kind": "adoption", "to": "", "reason": "Adopted", "on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    world.child.refresh_from_db()
    assert world.child.status == "moved_on"
    assert world.child.household is None


def test_child_move_refused_by_the_service_shows_the_reason(login, world):
    placement = Placement.objects.get(child=world.child)
    Placement.objects.filter(pk=placement.pk).update(started_on=timezone.localdate())
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = login(world.liaison).post(
        url("child_move", world.child.pk),
        {"kind": "planned", "to": world.neighbour.pk, "reason": "Test", "on": yesterday},
    )
    assert response.status_code == 400
    assert "before the current placement started" in body(response)
    world.child.refresh_from_db()
    assert world.child.household == world.satellite


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to": ""}, "to"),
        ({"to": "nowhere"}, "to"),
        ({"to": "999999999"}, "to"),
        ({"to": "other-service"}, "to"),
        ({"to": "other-constellation"}, "to"),  # the liaison does not manage it
        ({"to": "current"}, "to"),
        ({"reason": ""}, "reason"),
        ({"reason": LONG}, "reason"),
        *[({"on": bad}, "on") for bad in BAD_DATES],
        ({"on": ""}, "on"),
    ],
)
def test_child_move_bad_input(login, world, change, field):
    targets = {
        "other-service": Household.objects.get(name="The Dunes").pk,
        "other-constellation": Household.objects.get(name="The Cedars").pk,
        "current": world.satellite.pk,
    }
    data = {
        "kind": "planned",
        "to": world.neighbour.pk,
        "reason": "Closer to school",
        "on": "2025-06-01",
    }
    data.update({k: targets.get(v, v) for k, v in change.items()})
    before = Activity.objects.count()
    response = login(world.liaison).post(url("child_move", world.child.pk), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    world.child.refresh_from_db()
    assert world.child.household == world.satellite
    assert Activity.objects.count() == before


# --- query counts that do not grow -------------------------------------------------------------


def grow(world, n: int) -> None:
    """Add ``n`` satellite households (each with a carer and a child) to the
    constellation, and ``n`` children to ``world.satellite``."""
    for i in range(n):
        household = f.satellite_in(world.constellation, name=f"Household {i:03}")
        f.carer_of(household)
        f.child_in(household, social_worker=world.social_worker)
        f.child_in(world.satellite, first_name=f"Sib{i}")
        f.satellite_in(world.constellation, active=False, name=f"Proposed {i:03}")
    Child.objects.filter(household=world.satellite).update(social_worker=world.social_worker)


PAGES = [
    ("manager", lambda w: reverse("home")),
    ("liaison", lambda w: reverse("home")),
    ("hub_carer", lambda w: reverse("home")),
    ("satellite_carer", lambda w: reverse("home")),
    ("social_worker", lambda w: reverse("home")),
    ("manager", lambda w: url("list")),
    ("liaison", lambda w: url("detail", w.constellation.pk)),
    ("hub_carer", lambda w: url("detail", w.constellation.pk)),
    ("liaison", lambda w: url("household", w.satellite.pk)),
    ("neighbour_carer", lambda w: url("household", w.satellite.pk)),
]
# The satellite carer's home page reads the coming dates of the calendar (four
# queries, whatever the number of events and answers).
MAX_QUERIES = 22


def _count_queries(client, target) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("size", [5, 50])
@pytest.mark.parametrize(("who", "page"), PAGES)
def test_pages_stay_within_a_fixed_number_of_queries(
    login, world, django_assert_max_num_queries, size, who, page
):
    grow(world, size)
    client = login(getattr(world, who))
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(page(world))
    assert response.status_code == 200


def test_query_counts_do_not_grow_with_the_constellation(login, world):
    grow(world, 5)
    small = {}
    for who, page in PAGES:
        small[(who, page)] = _count_queries(login(getattr(world, who)), page(world))
    grow(world, 45)
    for who, page in PAGES:
        assert _count_queries(login(getattr(world, who)), page(world)) == small[(who, page)], who
