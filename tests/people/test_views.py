"""The people pages: the access log of children's records, the invitation link end
to end, and the placeholder pages of capabilities that arrive later."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from people.models import ChildRecordAccess, Invitation, User
from people.services import invite
from tests import factories as f

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-lantern-by-the-river-42"


def body(response) -> str:
    return response.content.decode()


# --- the access log -------------------------------------------------------------------------


def test_access_log_needs_a_login(client, world):
    response = client.get(reverse("people:access_log"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "who", ["hub_carer", "satellite_carer", "social_worker", "other_service_hub_carer"]
)
def test_carers_and_social_workers_may_not_read_the_access_log(login, world, who):
    assert login(getattr(world, who)).get(reverse("people:access_log")).status_code == 403


def test_access_log_shows_who_opened_which_record_when(client, login, world):
    login(world.hub_carer).get(reverse("constellation:child", args=[world.child.pk]))
    login(world.other_service_liaison).get(
        reverse("constellation:child", args=[world.other_service_child.pk])
    )
    assert ChildRecordAccess.objects.count() == 2

    html = body(login(world.liaison).get(reverse("people:access_log")))
    assert world.hub_carer.get_full_name() in html
    assert "Mara" in html
    assert f"#{world.child.pk}" in html
    assert "Web page" in html
    assert "Quill" not in html  # the log names a child by preferred name and id
    assert world.other_service_liaison.get_full_name() not in html

    html = body(login(world.other_service_manager).get(reverse("people:access_log")))
    assert world.hub_carer.get_full_name() not in html
    assert world.other_service_liaison.get_full_name() in html

    # Another constellation's liaison worker of the same service sees none of it.
    html = body(login(world.other_liaison).get(reverse("people:access_log")))
    assert world.hub_carer.get_full_name() not in html


def test_access_log_is_paginated_and_survives_a_bad_page_number(login, world):
    ChildRecordAccess.objects.bulk_create(
        ChildRecordAccess(user=world.hub_carer, child=world.child) for _ in range(120)
    )
    client = login(world.manager)
    first = client.get(reverse("people:access_log"))
    assert first.context["page"].paginator.num_pages == 3
    assert len(first.context["page"].object_list) == 50
    for page in ("2", "999", "abc", "-1", "9" * 40):
        assert client.get(reverse("people:access_log"), {"page": page}).status_code == 200


def test_access_log_queries_do_not_grow(login, world, django_assert_max_num_queries):
    ChildRecordAccess.objects.bulk_create(
        ChildRecordAccess(user=world.hub_carer, child=world.child) for _ in range(60)
    )
    client = login(world.liaison)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("people:access_log")).status_code == 200


# --- the invitation, end to end -------------------------------------------------------------


def test_invitation_flow_end_to_end(client, login, world, django_capture_on_commit_callbacks):
    liaison = login(world.liaison)
    with django_capture_on_commit_callbacks(execute=True):
        response = liaison.post(
            reverse("constellation:carer_add", args=[world.satellite.pk]),
            {
                "email": "robin@example.org",
                "first_name": "Robin",
                "last_name": "Ashford",
                "phone": "",
                "role": "second",
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["robin@example.org"]
    link = re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)
    assert "Robin" in message.body
    path = link.split("testserver", 1)[1]
    client.logout()

    page = client.get(path)
    assert page.status_code == 200
    assert "robin@example.org" in body(page)
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]

    # A weak or mismatched password is refused and leaves the link open.
    weak = client.post(path, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200
    assert weak.context["form"].errors
    mismatch = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": "other"})
    assert mismatch.status_code == 200
    assert "new_password2" in mismatch.context["form"].errors

    done = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("account_login")

    assert client.login(email="robin@example.org", password=NEW_PASSWORD)
    # The real login page lets them in too (the email counts as verified).
    client.logout()
    signed_in = client.post(
        reverse("account_login"), {"login": "robin@example.org", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("home")
    client.logout()

    again = client.get(path)
    assert again.status_code == 410
    assert "expired or was used" in body(again)
    assert (
        client.post(
            path, {"new_password1": "x-new-pass-9876", "new_password2": "x-new-pass-9876"}
        ).status_code
        == 410
    )
    assert client.login(email="robin@example.org", password=NEW_PASSWORD)


def test_unknown_revoked_and_expired_links_say_so(client, world):
    assert client.get(reverse("people:accept_invitation", args=["nope"])).status_code == 410
    assert client.get(reverse("people:accept_invitation", args=["x" * 5000])).status_code == 410

    user = f.UserFactory()
    token = invite(user, by=world.liaison)
    url = reverse("people:accept_invitation", args=[token])
    assert client.get(url).status_code == 200
    Invitation.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(url).status_code == 410

    token = invite(user, by=world.liaison)
    first = reverse("people:accept_invitation", args=[token])
    invite(user, by=world.liaison)  # a newer invitation revokes the earlier one
    assert client.get(first).status_code == 410


def test_a_used_link_posted_twice_at_once_sets_the_password_once(client, world):
    user = f.UserFactory(email="twice@example.org")
    token = invite(user, by=world.liaison)
    url = reverse("people:accept_invitation", args=[token])
    invitation = Invitation.find_open(token)
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    response = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert not User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
