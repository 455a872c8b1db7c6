"""The administration site's door: it signs people in through the product's own
login, with its rate limits and second factor, and an administrator must enrol a
second factor before reading anything when MFA_REQUIRED_FOR_STAFF is on."""

import re
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_CHILDREN = "/admin/constellation/child/"


@pytest.fixture
def superuser():
    return UserFactory(email="admin@test.example", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_staff():
    """A member of staff with the administration site but not a superuser."""
    return UserFactory(email="office@test.example", is_staff=True)


def _door(client, next_url="/admin/"):
    """Where the administration site's login sends a person to type a password:
    the path (with its query) of the form they end up on."""
    response = client.get(f"{reverse('admin:login')}?next={next_url}", follow=True)
    assert response.status_code == 200
    return response.wsgi_request.get_full_path()


def _credentials(email, password):
    # Both field names, so the same guess reaches whichever form the door shows.
    return {"login": email, "username": email, "password": password}


def _current_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())  # the periods either side, if tolerated
    counter = counters[len(counters) // 2]
    return format_hotp_value(hotp_value(secret, counter))


def test_the_admin_login_is_the_products_login(client, superuser):
    response = client.get(f"{reverse('admin:login')}?next=/admin/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_login")
    assert "next=%2Fadmin%2F" in location.query or "next=/admin/" in location.query
    # A password posted straight at the old form signs nobody in.
    client.post(reverse("admin:login"), _credentials(superuser.email, PASSWORD))
    assert "_auth_user_id" not in client.session
    assert client.get(ADMIN_CHILDREN).status_code == 302


def test_repeated_wrong_passwords_at_the_admin_door_are_rate_limited(client, superuser):
    form_url = _door(client)
    blocked_at = None
    for attempt in range(1, 9):
        response = client.post(form_url, _credentials(superuser.email, f"wrong{attempt}"))
        if b"Too many failed sign-in attempts" in response.content:
            blocked_at = attempt
            break
    assert blocked_at is not None
    assert blocked_at <= 6
    # Then even the right password is refused for a while.
    response = client.post(form_url, _credentials(superuser.email, PASSWORD))
    assert "_auth_user_id" not in client.session
    assert client.get(ADMIN_CHILDREN).status_code == 302


def test_a_superuser_with_an_authenticator_must_give_the_code_before_the_admin(
    client, superuser, time_machine
):
    # Mid-period, so the code typed is still the current one when it is checked.
    time_machine.move_to("2031-05-06 10:00:05+00:00", tick=False)
    secret = "JBSWY3DPEHPK3PXP"
    TOTP.activate(superuser, secret)
    assert _current_code(secret) != "000000"

    response = client.post(_door(client), _credentials(superuser.email, PASSWORD))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # The password alone opens nothing.
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    assert client.get(ADMIN_CHILDREN).status_code == 302

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": _current_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get(ADMIN_CHILDREN).status_code == 200


@pytest.mark.parametrize("who", ["superuser", "admin_staff"])
def test_an_administrator_without_a_second_factor_is_sent_to_enrol(client, settings, request, who):
    settings.MFA_REQUIRED_FOR_STAFF = True
    administrator = request.getfixturevalue(who)
    client.force_login(administrator)
    for url in ("/admin/", ADMIN_CHILDREN, reverse("admin:login"), reverse("home")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp"), url
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert "two-factor" in api.json()["detail"]
    # The set-up page itself is reachable (after confirming the password).
    assert client.get(reverse("mfa_activate_totp"), follow=True).status_code == 200


def test_an_administrator_token_does_not_bypass_the_second_factor(client, settings, superuser):
    from rest_framework.authtoken.models import Token

    settings.MFA_REQUIRED_FOR_STAFF = True
    token = Token.objects.create(user=superuser)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


def test_an_administrator_with_an_authenticator_reaches_the_admin(client, settings, superuser):
    settings.MFA_REQUIRED_FOR_STAFF = True
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser)
    assert client.get(ADMIN_CHILDREN).status_code == 200


def test_without_the_requirement_a_superuser_logs_in_through_the_products_login(
    client, settings, superuser
):
    settings.MFA_REQUIRED_FOR_STAFF = False
    assert not Authenticator.objects.filter(user=superuser).exists()
    form_url = _door(client)
    assert urlsplit(form_url).path == reverse("account_login")
    response = client.post(form_url, _credentials(superuser.email, PASSWORD))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(ADMIN_CHILDREN).status_code == 200


def test_a_signed_in_person_without_the_administration_site_is_refused(client, world):
    client.force_login(world.hub_carer)
    assert client.get(reverse("admin:login")).status_code == 403
    response = client.get(ADMIN_CHILDREN)
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 403


def test_a_new_superuser_confirms_their_address_once_before_the_admin(client, mailoutbox):
    from people.models import User

    User.objects.create_superuser("root@test.example", PASSWORD)
    form_url = _door(client)
    response = client.post(form_url, _credentials("root@test.example", PASSWORD))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert len(mailoutbox) == 1
    link = re.search(r"https?://testserver(/\S+)", mailoutbox[0].body).group(1)
    client.post(link)

    response = client.post(form_url, _credentials("root@test.example", PASSWORD))
    assert response["Location"] == "/admin/"
    assert client.get(ADMIN_CHILDREN).status_code == 200
