"""The audit trail: what leaves an entry (sign-ins, failed sign-ins, second factors,
roles, memberships, children's records opened, exports, delegated authority
agreements), who reads it (a service's managers their own service's entries,
superusers all, nobody else), its filters, its CSV, and bad filters.

The clock is pinned (10 March 2027, 14:30 in London, GMT) so dates and pages do not
depend on when the suite runs."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.mfa import signals as mfa_signals
from allauth.mfa.base.internal.flows import delete_and_cleanup
from allauth.mfa.models import Authenticator
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory
from django.urls import reverse

from constellation import services
from constellation.models import Carer
from delegated_authority import services as da
from delegated_authority.models import Decision
from delegated_authority.services import ClauseInput
from people import audit
from people.models import AuditEntry, ChildRecordAccess, StaffRole
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 3, 10, 14, 30, tzinfo=LONDON)
Action = AuditEntry.Action


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def newest(action, **filters):
    return AuditEntry.objects.filter(action=action, **filters).order_by("-id").first()


# --- what leaves an entry -------------------------------------------------------------


def test_a_login_is_recorded_with_who_when_and_from_where(pinned, client, world):
    response = client.post(
        reverse("account_login"),
        {"login": world.manager.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    entry = newest(Action.LOGIN)
    assert entry.actor == world.manager
    assert entry.subject == world.manager
    assert entry.service == world.service
    assert entry.at == NOW
    assert entry.ip_address == "198.51.100.7"


def test_a_failed_login_names_the_account_and_never_keeps_the_password(pinned, client, world):
    client.post(
        reverse("account_login"),
        {"login": world.hub_carer.email, "password": "not-my-password-9"},
        REMOTE_ADDR="203.0.113.9",
    )
    entry = newest(Action.LOGIN_FAILED)
    assert entry.subject == world.hub_carer
    assert entry.actor is None
    assert entry.service == world.service
    assert entry.ip_address == "203.0.113.9"
    assert entry.at == NOW
    for field in ("detail", "target_label"):
        assert "not-my-password-9" not in getattr(entry, field)


def test_a_failed_login_with_an_unknown_address_keeps_no_address(pinned, client, world):
    client.post(
        reverse("account_login"), {"login": "nobody@nowhere.example", "password": "guess-1234"}
    )
    entry = newest(Action.LOGIN_FAILED)
    assert entry.subject is None
    assert entry.service is None
    assert "nobody@nowhere.example" not in entry.detail
    assert "No account" in entry.detail


def test_adding_and_removing_a_second_factor_are_recorded(pinned, world):
    request = RequestFactory().post("/accounts/2fa/", REMOTE_ADDR="192.0.2.44")
    request.user = world.manager
    totp = Authenticator.objects.create(
        user=world.manager, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    mfa_signals.authenticator_added.send(
        sender=Authenticator, request=request, user=world.manager, authenticator=totp
    )
    added = newest(Action.MFA_ADDED)
    assert (added.actor, added.service, added.ip_address) == (
        world.manager,
        world.service,
        "192.0.2.44",
    )
    assert added.detail == "TOTP Authenticator"

    delete_and_cleanup(request, totp)  # allauth's own removal
    removed = newest(Action.MFA_REMOVED)
    assert removed.subject == world.manager
    assert removed.at == NOW


def test_a_staff_role_granted_and_ended_in_the_administration_site(pinned, world):
    admin = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().post("/admin/", REMOTE_ADDR="192.0.2.10")
    request.user = admin
    model_admin = admin_site._registry[StaffRole]
    newcomer = UserFactory()
    role = StaffRole(user=newcomer, service=world.service, role=StaffRole.Role.LIAISON)
    model_admin.save_model(request, role, form=None, change=False)
    granted = newest(Action.ROLE_GRANTED, subject=newcomer)
    assert (granted.actor, granted.service, granted.detail) == (
        admin,
        world.service,
        "Liaison worker",
    )

    role.ended_on = date(2027, 3, 10)
    model_admin.save_model(request, role, form=None, change=True)
    ended = newest(Action.ROLE_ENDED, subject=newcomer)
    assert ended.actor == admin
    assert ended.at == NOW
    # Saving an ended role again is no second ending.
    model_admin.save_model(request, role, form=None, change=True)
    assert AuditEntry.objects.filter(action=Action.ROLE_ENDED, subject=newcomer).count() == 1


def test_a_liaison_assignment_and_its_end_are_role_changes(pinned, world):
    assignment = world.liaison.liaison_assignments.get(ended_on=None)
    services.end_liaison(assignment, by=world.manager)
    entry = newest(Action.ROLE_ENDED, subject=world.liaison)
    assert entry.actor == world.manager
    assert entry.detail == "Liaison worker for Riverside"


def test_a_household_leaving_its_constellation_is_recorded(pinned, world):
    membership = world.satellite.memberships.get()
    services.end_membership(membership, by=world.liaison, reason="Moving away")
    entry = newest(Action.MEMBERSHIP_ENDED)
    assert (entry.actor, entry.service, entry.at) == (world.liaison, world.service, NOW)
    assert "The Ashfords" in entry.detail
    assert "Left" in entry.detail


def test_a_carer_leaving_their_household_is_recorded(pinned, world):
    carer = Carer.objects.get(user=world.neighbour_carer)
    services.end_carer(carer, by=world.liaison, reason="Retired")
    entry = newest(Action.MEMBERSHIP_ENDED, subject=world.neighbour_carer)
    assert entry.actor == world.liaison
    assert "Left The Brookes" in entry.detail


def test_opening_a_childs_page_and_edit_form_are_both_recorded(pinned, login, world):
    client = login(world.liaison)
    assert client.get(reverse("constellation:child", args=[world.child.pk])).status_code == 200
    assert client.get(reverse("constellation:child_edit", args=[world.child.pk])).status_code == 200
    entries = AuditEntry.objects.filter(action=Action.CHILD_RECORD_VIEWED, actor=world.liaison)
    assert entries.count() == 2
    for entry in entries:
        assert entry.service == world.service
        assert entry.target_id == str(world.child.pk)
        assert entry.target_label == f"Mara (child #{world.child.pk})"
        assert "Quill" not in entry.target_label + entry.detail  # never the surname
        assert entry.at == NOW
    # The edit form now also writes the access log of the child's record.
    assert ChildRecordAccess.objects.filter(user=world.liaison, child=world.child).count() == 2


def test_the_apis_full_record_is_recorded(pinned, login, world):
    client = login(world.liaison)
    response = client.get(reverse("api:child-detail", args=[world.child.pk]))
    assert response.status_code == 200
    entry = newest(Action.CHILD_RECORD_VIEWED, actor=world.liaison)
    assert entry.detail == "api"


def test_a_dashboard_export_is_recorded(pinned, login, world):
    client = login(world.manager)
    response = client.get(reverse("dashboards:export", args=["support-care"]), {"format": "csv"})
    assert response.status_code == 200
    entry = newest(Action.EXPORT)
    assert (entry.actor, entry.service, entry.at) == (world.manager, world.service, NOW)
    assert entry.detail.startswith("support-care (csv)")


def test_signing_off_an_agreement_is_recorded(pinned, world):
    da.create_agreement(
        world.child,
        by=world.liaison,
        effective_from=date(2027, 3, 9),
        review_on=date(2027, 6, 9),
        signed_off_role="liaison_worker",
        clauses=[ClauseInput(Decision.objects.get(code="overnight_hub_planned"), "hub_carer")],
    )
    entry = newest(Action.AGREEMENT_CHANGED)
    assert (entry.actor, entry.service, entry.at) == (world.liaison, world.service, NOW)
    assert entry.detail.startswith("Version 1 signed off for Mara")
    assert "Quill" not in entry.detail + entry.target_label


def test_record_refuses_an_unknown_action():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit.record("made_up")


def test_entries_cannot_be_changed_or_deleted_in_the_administration_site(rf):
    model_admin = admin_site._registry[AuditEntry]
    request = rf.get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


# --- who reads it ---------------------------------------------------------------------


def test_a_manager_reads_their_services_entries_and_never_anothers(pinned, login, world):
    audit.record(Action.EXPORT, actor=world.manager, detail="North export")
    audit.record(Action.EXPORT, actor=world.other_service_manager, detail="South export")
    body = login(world.manager).get(reverse("people:audit")).content.decode()
    assert "North export" in body
    assert "South export" not in body
    assert "Liaison worker for Riverside" in body

    body = login(world.other_service_manager).get(reverse("people:audit")).content.decode()
    assert "South export" in body
    assert "North export" not in body
    assert "Riverside" not in body
    assert "manager@test.example" not in body


def test_a_superuser_reads_every_services_entries(pinned, login, world):
    audit.record(Action.EXPORT, actor=world.manager, detail="North export")
    audit.record(Action.EXPORT, actor=world.other_service_manager, detail="South export")
    body = login(UserFactory(is_staff=True, is_superuser=True)).get(reverse("people:audit"))
    assert "North export" in body.content.decode()
    assert "South export" in body.content.decode()


@pytest.mark.parametrize("who", ["liaison", "hub_carer", "satellite_carer", "social_worker"])
def test_carers_liaison_and_social_workers_are_refused(pinned, login, world, who):
    response = login(getattr(world, who)).get(reverse("people:audit"))
    assert response.status_code == 403
    csv_response = login(getattr(world, who)).get(reverse("people:audit_csv"))
    assert csv_response.status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("people:audit"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_manager_navigation_links_to_the_audit_trail(pinned, login, world):
    assert 'data-testid="nav-audit"' in login(world.manager).get(reverse("home")).content.decode()
    assert (
        'data-testid="nav-audit"' not in login(world.liaison).get(reverse("home")).content.decode()
    )


# --- filters, pages and the CSV ---------------------------------------------------------


@pytest.fixture
def history(pinned, world):
    """Entries on three London days, two actors, two actions."""
    made = []
    for day, actor, action, detail in [
        (date(2027, 3, 1), world.liaison, Action.EXPORT, "Early export"),
        (date(2027, 3, 5), world.manager, Action.PASSWORD_CHANGED, "Changed"),
        (date(2027, 3, 9), world.liaison, Action.CHILD_RECORD_VIEWED, "web"),
    ]:
        pinned.move_to(datetime.combine(day, datetime.min.time(), tzinfo=LONDON))
        made.append(audit.record(action, actor=actor, target=world.child, detail=detail))
    pinned.move_to(NOW)
    return made


def _shown(client, **params):
    response = client.get(reverse("people:audit"), params)
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def test_filters_by_action_actor_dates_and_text(login, world, history):
    client = login(world.manager)
    early, changed, viewed = history
    assert _shown(client, action="export", q="Early") == [early]
    assert changed in _shown(client, actor="manager@test")
    assert early not in _shown(client, actor="manager@test")
    # Dates are London days, both ends included: midnight belongs to its day.
    assert _shown(client, since="2027-03-05", until="2027-03-05") == [changed]
    shown = _shown(client, since="2027-03-02", until="2027-03-09")
    assert changed in shown
    assert viewed in shown
    assert early not in shown
    assert _shown(client, q="Mara", action="child_record_viewed") == [viewed]
    assert _shown(client, q="no such thing") == []


def test_newest_first_and_paginated(pinned, login, world):
    for n in range(55):
        pinned.shift(timedelta(seconds=1))
        audit.record(Action.EXPORT, actor=world.manager, detail=f"Export number {n}")
    client = login(world.manager)
    first = client.get(reverse("people:audit"), {"action": "export"})
    assert first.context["page"].object_list[0].detail == "Export number 54"
    assert len(first.context["page"].object_list) == 50
    second = client.get(reverse("people:audit"), {"action": "export", "page": 2})
    assert [e.detail for e in second.context["page"].object_list][-1] == "Export number 0"
    assert "action=export&amp;page=2" in first.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "Give a date, for example 2026-03-14."),
        ({"until": "2027-02-30"}, "Give a date, for example 2026-03-14."),
        ({"since": "1066-10-14"}, "Give a date between the years 2000 and 2100."),
        ({"action": "drop_tables"}, "There is no action"),
        (
            {"since": "2027-03-09", "until": "2027-03-01"},
            "The end date cannot be before the start date.",
        ),
    ],
)
def test_bad_filters_are_a_400_with_the_message(pinned, login, world, params, message):
    client = login(world.manager)
    for name in ("people:audit", "people:audit_csv"):
        response = client.get(reverse(name), params)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not AuditEntry.objects.filter(action=Action.EXPORT, actor=world.manager).exists()


def test_the_csv_holds_the_filtered_entries_and_is_itself_recorded(login, world, history):
    client = login(world.manager)
    response = client.get(reverse("people:audit_csv"), {"actor": "liaison@test", "q": "Mara"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["Action"] for r in rows] == ["Child's record viewed", "Export downloaded"]
    assert rows[1]["When (London)"] == "2027-03-01 00:00:00"
    assert all(r["Who"] == "liaison@test.example" for r in rows)
    assert all("Quill" not in r["Record"] for r in rows)
    entry = newest(Action.EXPORT, actor=world.manager)
    assert entry.detail == "Audit trail (csv), 2 entries; filtered by who, by record text"
    assert "Mara" not in entry.detail  # what was typed in the search is never copied


def test_the_page_reads_in_a_fixed_number_of_queries(
    pinned, login, world, django_assert_max_num_queries
):
    for n in range(60):
        audit.record(Action.EXPORT, actor=world.manager, subject=world.liaison, detail=str(n))
    client = login(world.manager)
    client.get(reverse("people:audit"))  # warm the session and content types
    with django_assert_max_num_queries(14):
        response = client.get(reverse("people:audit"), {"actor": "manager", "since": "2027-01-01"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50


def test_the_page_is_a_list_on_small_screens(pinned, login, world):
    audit.record(Action.EXPORT, actor=world.manager, detail="North export")
    body = login(world.manager).get(reverse("people:audit")).content.decode()
    assert 'class="list-unstyled d-md-none" data-testid="audit-list"' in body
    assert 'class="table-responsive d-none d-md-block"' in body


def test_a_carer_added_and_invited_is_a_membership_and_an_invitation(pinned, world):
    services.add_carer(
        world.satellite,
        by=world.liaison,
        email="second@test.example",
        first_name="Sam",
        last_name="Ashford",
        role=Carer.Role.SECOND,
    )
    joined = newest(Action.MEMBERSHIP_STARTED, subject__email="second@test.example")
    assert (joined.actor, joined.service, joined.at) == (world.liaison, world.service, NOW)
    assert joined.detail == "Joined The Ashfords as second carer"
    invited = newest(Action.INVITATION_SENT, subject__email="second@test.example")
    assert invited.actor == world.liaison
    assert invited.service == world.service
