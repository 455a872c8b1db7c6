"""Logging in: email as the login, no self-sign-up, rate limits, and the second
factor that liaison workers and managers must enrol."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_with_email_reaches_the_home_page(client, world):
    response = client.post(
        reverse("account_login"), {"login": "HUB@test.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_wrong_password_gives_a_clear_message(client, world):
    response = client.post(reverse("account_login"), {"login": "hub@test.example", "password": "x"})
    assert response.status_code == 200
    assert b"not correct" in response.content


def test_there_is_no_self_sign_up(client, world):
    before = type(world.hub_carer).objects.count()
    response = client.post(
        reverse("account_signup"),
        {
            "email": "stranger@example.org",
            "password1": "a-long-pass-1234",
            "password2": "a-long-pass-1234",
        },
    )
    assert response.status_code == 200
    assert b"closed" in response.content.lower()
    assert type(world.hub_carer).objects.count() == before


def test_repeated_failed_logins_are_rate_limited(client, world):
    blocked_at = None
    for attempt in range(1, 8):
        response = client.post(
            reverse("account_login"), {"login": "hub@test.example", "password": f"wrong{attempt}"}
        )
        if b"Too many failed sign-in attempts" in response.content:
            blocked_at = attempt
            break
    assert blocked_at is not None
    assert 4 <= blocked_at <= 6
    # Then even the right password is refused for a while.
    response = client.post(
        reverse("account_login"), {"login": "hub@test.example", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("who", ["liaison", "manager"])
def test_staff_must_enrol_a_second_factor_when_required(client, world, settings, who):
    settings.MFA_REQUIRED_FOR_STAFF = True
    client.force_login(getattr(world, who))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert "two-factor" in api.json()["detail"]
    # The set-up page itself is reachable (after confirming the password).
    assert client.get(reverse("mfa_activate_totp"), follow=True).status_code == 200


def test_carers_are_not_forced_to_enrol(client, world, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    client.force_login(world.hub_carer)
    assert client.get(reverse("home")).status_code == 200


def test_staff_with_an_authenticator_pass(client, world, settings):
    from allauth.mfa.models import Authenticator

    settings.MFA_REQUIRED_FOR_STAFF = True
    Authenticator.objects.create(
        user=world.manager, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    client.force_login(world.manager)
    assert client.get(reverse("home")).status_code == 200


def test_password_reset_sends_a_link_only_to_known_addresses(client, world, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": "hub@test.example"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/key/" in mailoutbox[0].body
    # An unknown address gets the same answer, so accounts cannot be discovered.
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert response.status_code == 302


def test_a_token_does_not_bypass_the_second_factor(client, world, settings):
    from rest_framework.authtoken.models import Token

    settings.MFA_REQUIRED_FOR_STAFF = True
    token = Token.objects.create(user=world.liaison)
    response = client.get("/api/v1/children/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]
    carer_token = Token.objects.create(user=world.hub_carer)
    response = client.get("/api/v1/children/", HTTP_AUTHORIZATION=f"Token {carer_token.key}")
    assert response.status_code == 200
