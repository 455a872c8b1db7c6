"""The delegated authority pages: the panel, the editor, reviews and approvals,
and proof that all of them (and the API) answer through the same rules engine."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delegated_authority import services
from delegated_authority.models import Agreement, Approval, Decision, Holder
from delegated_authority.services import ClauseInput

pytestmark = pytest.mark.django_db


def sign(world, child, holder, code="overnight_hub_planned", review_in=90, nights=None):
    today = timezone.localdate()
    return services.create_agreement(
        child,
        by=world.liaison,
        effective_from=today - timedelta(days=1),
        review_on=today + timedelta(days=review_in),
        signed_off_role="liaison_worker",
        clauses=[
            ClauseInput(Decision.objects.get(code=code), holder, max_consecutive_nights=nights)
        ],
    )


def editor_post(**overrides):
    today = timezone.localdate()
    data = {
        "effective_from": today.isoformat(),
        "review_on": (today + timedelta(days=180)).isoformat(),
        "signed_off_role": "liaison_worker",
        "holder_overnight_hub_planned": "hub_carer",
        "nights_overnight_hub_planned": "2",
        "holder_haircuts": "satellite_carer",
    }
    data.update(overrides)
    return data


def test_the_panel_shows_what_the_hub_carer_may_decide(client, world):
    sign(world, world.child, Holder.HUB_CARER, nights=2)
    client.force_login(world.hub_carer)
    response = client.get(reverse("delegated_authority:agreements", args=[world.child.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "What may I decide?" in body
    assert "Overnight stay at the hub home (planned)" in body
    assert "At most 2 consecutive nights" in body


def test_an_overdue_agreement_shows_in_red(client, world):
    today = timezone.localdate()
    services.create_agreement(
        world.child,
        by=world.liaison,
        effective_from=today - timedelta(days=200),
        review_on=today - timedelta(days=3),
        signed_off_role="liaison_worker",
        clauses=[ClauseInput(Decision.objects.get(code="haircuts"), Holder.BOTH)],
    )
    client.force_login(world.satellite_carer)
    body = client.get(
        reverse("delegated_authority:agreements", args=[world.child.pk])
    ).content.decode()
    assert "Overdue for review" in body
    assert "border-danger" in body


def test_a_satellite_carer_cannot_read_another_households_agreement(client, world):
    sign(world, world.neighbour_child, Holder.BOTH)
    client.force_login(world.satellite_carer)
    response = client.get(
        reverse("delegated_authority:agreements", args=[world.neighbour_child.pk])
    )
    assert response.status_code == 403


def test_the_editor_copies_the_previous_version_and_signs_a_new_one(client, world):
    sign(world, world.child, Holder.SOCIAL_WORKER)
    client.force_login(world.liaison)
    url = reverse("delegated_authority:agreement_create", args=[world.child.pk])
    page = client.get(url).content.decode()
    assert 'value="social_worker" selected' in page  # copied from version 1
    response = client.post(url, editor_post())
    assert response.status_code == 302
    latest = Agreement.objects.filter(child=world.child).latest("version")
    assert latest.version == 2
    assert latest.signed_off_by == world.liaison
    clause = latest.clauses.get(decision__code="overnight_hub_planned")
    assert (clause.holder, clause.max_consecutive_nights) == ("hub_carer", 2)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"review_on": "2020-01-01"}, "cannot be before the agreement takes effect"),
        ({"effective_from": "not-a-date"}, "Enter a valid date"),
        ({"effective_from": "1800-01-01"}, "between 2000 and 2100"),
        ({"review_on": "9999-12-31"}, "between 2000 and 2100"),
        ({"holder_bungee_jumping": "both"}, "Unknown decision code: bungee_jumping"),
        ({"holder_piercings_tattoos": "hub_carer"}, "cannot hold this decision"),
        ({"holder_haircuts": "the-neighbour"}, "Select a valid choice"),
        ({"nights_overnight_hub_planned": "-3"}, "greater than or equal to 1"),
        ({"nights_overnight_hub_planned": "lots"}, "Enter a whole number"),
        ({"notes": "x" * 10_000}, "at most 2000 characters"),
        ({"signed_off_role": "birth_parents"}, "Select a valid choice"),
    ],
)
def test_the_editor_refuses_bad_input_with_a_clear_message(client, world, overrides, message):
    first = sign(world, world.child, Holder.SOCIAL_WORKER)
    client.force_login(world.liaison)
    response = client.post(
        reverse("delegated_authority:agreement_create", args=[world.child.pk]),
        editor_post(**overrides),
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(Agreement.objects.filter(child=world.child)) == [first]


def test_only_managers_of_the_child_open_the_editor(client, world):
    url = reverse("delegated_authority:agreement_create", args=[world.child.pk])
    client.force_login(world.hub_carer)
    assert client.get(url).status_code == 403
    client.force_login(world.other_liaison)
    assert client.get(url).status_code == 404
    client.force_login(world.other_service_manager)
    assert client.post(url, editor_post()).status_code == 404
    assert not Agreement.objects.exists()


def test_reviews_list_overdue_soon_and_missing(client, world):
    sign(world, world.child, Holder.BOTH, review_in=10)
    client.force_login(world.liaison)
    body = client.get(reverse("delegated_authority:reviews")).content.decode()
    assert "Due in the next 30 days (1)" in body
    assert world.child.known_as in body
    assert world.neighbour_child.known_as in body  # no agreement yet
    assert world.other_constellation_child.known_as not in body
    client.force_login(world.hub_carer)
    assert client.get(reverse("delegated_authority:reviews")).status_code == 403


def test_a_carer_asks_and_the_social_worker_answers(client, world):
    sign(world, world.child, Holder.SOCIAL_WORKER)
    client.force_login(world.hub_carer)
    response = client.post(
        reverse("delegated_authority:approval_request", args=[world.child.pk]),
        {"decision": "overnight_hub_planned", "details": "Friday night", "nights": "1"},
    )
    assert response.status_code == 302
    approval = Approval.objects.get()
    assert approval.assigned_to == world.social_worker

    client.force_login(world.social_worker)
    queue = client.get(reverse("delegated_authority:approvals")).content.decode()
    assert "Friday night" in queue
    # The hub carer cannot answer their own request.
    client.force_login(world.hub_carer)
    url = reverse("delegated_authority:approval_approve", args=[approval.pk])
    assert client.post(url, {"note": ""}).status_code == 403
    client.force_login(world.other_service_manager)
    assert client.post(url, {"note": ""}).status_code == 404
    client.force_login(world.social_worker)
    refuse = reverse("delegated_authority:approval_refuse", args=[approval.pk])
    response = client.post(refuse, {"note": ""})
    assert response.status_code == 400
    assert "Say why the request is refused" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == "pending"  # a refusal needs a reason
    response = client.post(url, {"note": "x" * 2001})
    assert response.status_code == 400
    assert "The note is too long" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == "pending"
    client.post(url, {"note": "Enjoy"})
    approval.refresh_from_db()
    assert approval.status == "approved"


@pytest.mark.parametrize(
    "data",
    [
        {"decision": "bungee", "details": "x"},
        {"decision": "haircuts", "details": ""},
        {"decision": "haircuts", "details": "x" * 10_000},
        {"decision": "overnight_hub_planned", "details": "x", "nights": "-1"},
        {"decision": ["a", "b"], "details": "x"},
    ],
)
def test_asking_with_bad_input_saves_nothing(client, world, data):
    sign(world, world.child, Holder.SOCIAL_WORKER)
    client.force_login(world.hub_carer)
    response = client.post(
        reverse("delegated_authority:approval_request", args=[world.child.pk]), data
    )
    assert response.status_code == 400
    assert 'class="alert' in response.content.decode()
    assert not Approval.objects.exists()


def test_one_change_of_agreement_changes_the_panel_the_editor_the_queue_and_the_api(client, world):
    """All four ask the same rules engine."""
    sign(world, world.child, Holder.SOCIAL_WORKER)
    decision = Decision.objects.get(code="overnight_hub_planned")
    approval = services.request_approval(world.child, decision, by=world.hub_carer, nights=1)
    panel_url = reverse("delegated_authority:agreements", args=[world.child.pk])
    editor_url = reverse("delegated_authority:agreement_create", args=[world.child.pk])
    queue_url = reverse("delegated_authority:approvals")
    api_url = (
        f"/api/v1/delegated-authority/check/?child={world.child.pk}&decision=overnight_hub_planned"
    )

    def observe():
        client.force_login(world.hub_carer)
        panel = client.get(panel_url).content.decode()
        api = client.get(api_url).json()
        client.force_login(world.liaison)
        editor = client.get(editor_url).content.decode()
        client.force_login(world.social_worker)
        queue = client.get(queue_url).content.decode()
        return panel, editor, queue, api

    panel, editor, queue, api = observe()
    assert "held by the child&#x27;s social worker" in panel
    assert "hub carers — no" in editor
    assert "The agreement now allows this" not in queue
    assert api["allowed"] is False

    today = timezone.localdate()
    services.create_agreement(
        world.child,
        by=world.liaison,
        effective_from=today,
        review_on=today + timedelta(days=30),
        signed_off_role="liaison_worker",
        clauses=[ClauseInput(decision, Holder.HUB_CARER)],
    )
    panel, editor, queue, api = observe()
    assert "lets the hub carers decide" in panel
    assert "hub carers — yes" in editor
    assert "The agreement now allows this" in queue
    assert api["allowed"] is True
    assert approval.pk
