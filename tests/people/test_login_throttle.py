"""Password sign-in is throttled by address and by account, and an attacker who
knows a carer's email cannot keep the carer out (people.throttle)."""

import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from people.models import AuditEntry
from people.throttle import COOKIE_NAME
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
REFUSED = b"Too many failed sign-in attempts"


def _attempt(client, email, password, ip):
    return client.post(LOGIN, {"login": email, "password": password}, REMOTE_ADDR=ip)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _owner_phone(email) -> Client:
    """The owner's own phone: it has signed in before, so it holds the trusted cookie."""
    phone = Client()
    response = _attempt(phone, email, PASSWORD, "10.9.9.9")
    assert response.status_code == 302
    assert COOKIE_NAME in response.cookies
    phone.post(reverse("account_logout"))
    assert not _signed_in(phone)
    return phone


def _attack(email, *, attempts, ips):
    """Wrong passwords for ``email`` from fresh browsers at several addresses."""
    refused = 0
    for n in range(attempts):
        response = _attempt(Client(), email, f"guess-{n}", ips[n % len(ips)])
        refused += REFUSED in response.content
    return refused


def test_one_address_is_slowed_down_whatever_the_accounts_it_tries(client, world):
    emails = [f"nobody{n}@test.example" for n in range(12)]
    outcomes = [REFUSED in _attempt(client, e, "x", "10.0.0.1").content for e in emails]
    assert outcomes[:10] == [False] * 10
    assert all(outcomes[10:])


def test_an_account_is_locked_for_new_browsers_after_five_failures(world):
    assert _attack("hub@test.example", attempts=5, ips=["10.1.0.1", "10.1.0.2"]) == 0
    # The sixth from yet another browser and address is refused, even with the
    # right password: the attacker cannot go on guessing.
    response = _attempt(Client(), "hub@test.example", PASSWORD, "10.1.0.3")
    assert REFUSED in response.content
    assert response.status_code == 200


def test_a_lockout_is_in_the_audit_trail_once_with_who_and_when(world):
    with time_machine.travel("2027-02-10 02:00:00+00:00", tick=False):
        _attack("hub@test.example", attempts=9, ips=["10.1.0.1", "10.1.0.2", "10.1.0.3"])
    lockouts = AuditEntry.objects.filter(action=AuditEntry.Action.LOCKOUT)
    assert lockouts.count() == 1
    entry = lockouts.get()
    assert entry.subject == world.hub_carer
    assert entry.at.isoformat().startswith("2027-02-10T02:00")
    assert entry.service == world.constellation.service
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED).count() >= 5


def test_the_owner_signs_in_from_their_own_phone_during_an_attack(world):
    phone = _owner_phone("hub@test.example")
    _attack("hub@test.example", attempts=30, ips=[f"10.2.0.{n}" for n in range(1, 20)])
    assert REFUSED in _attempt(Client(), "hub@test.example", PASSWORD, "10.3.0.1").content
    response = _attempt(phone, "hub@test.example", PASSWORD, "10.9.9.9")
    assert response.status_code == 302
    assert _signed_in(phone)


def test_the_trusted_phone_has_a_budget_of_its_own(world):
    phone = _owner_phone("hub@test.example")
    refused = [
        REFUSED in _attempt(phone, "hub@test.example", f"typo{n}", f"10.4.0.{n}").content
        for n in range(12)
    ]
    assert refused[:10] == [False] * 10
    assert all(refused[10:])


def test_a_forged_or_other_accounts_cookie_is_not_trusted(world):
    _owner_phone("satellite@test.example")
    stranger = _owner_phone("satellite@test.example")  # trusted for the satellite carer only
    _attack("hub@test.example", attempts=5, ips=["10.5.0.1"])
    assert REFUSED in _attempt(stranger, "hub@test.example", PASSWORD, "10.5.0.2").content
    forged = Client()
    forged.cookies[COOKIE_NAME] = "eyJkIjoieCIsInQiOlsiYWJjIl19:forged:sig"
    assert REFUSED in _attempt(forged, "hub@test.example", PASSWORD, "10.5.0.3").content


def test_a_password_change_ends_the_trust_of_old_phones(world):
    phone = _owner_phone("hub@test.example")
    world.hub_carer.set_password("a-brand-new-pass-991")
    world.hub_carer.save()
    _attack("hub@test.example", attempts=5, ips=["10.6.0.1"])
    assert (
        REFUSED in _attempt(phone, "hub@test.example", "a-brand-new-pass-991", "10.6.0.2").content
    )


def test_the_owner_on_a_new_phone_signs_in_with_an_emailed_code(world):
    _attack("hub@test.example", attempts=6, ips=["10.7.0.1", "10.7.0.2"])
    new_phone = Client()
    page = new_phone.get(LOGIN)
    assert b"Email me a sign-in code" in page.content
    response = new_phone.post(
        reverse("account_request_login_code"), {"email": "hub@test.example"}, REMOTE_ADDR="10.8.0.1"
    )
    assert response.status_code == 302
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[-1].body, re.M).group(1)
    response = new_phone.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert new_phone.session["_auth_user_id"] == str(world.hub_carer.pk)


def test_the_lock_lifts_after_five_minutes(world):
    with time_machine.travel("2027-02-10 02:00:00+00:00", tick=False) as clock:
        _attack("hub@test.example", attempts=6, ips=["10.1.1.1"])
        assert REFUSED in _attempt(Client(), "hub@test.example", PASSWORD, "10.1.1.2").content
        clock.shift(5 * 60 + 1)
        assert _attempt(Client(), "hub@test.example", PASSWORD, "10.1.1.3").status_code == 302


def test_a_right_password_does_not_use_up_the_budget(world):
    for n in range(8):
        browser = Client()
        assert _attempt(browser, "hub@test.example", PASSWORD, f"10.1.2.{n}").status_code == 302
    _attack("hub@test.example", attempts=4, ips=["10.1.3.1"])
    assert _attempt(Client(), "hub@test.example", PASSWORD, "10.1.3.2").status_code == 302


def test_another_address_of_the_same_account_shares_its_budget(world):
    """An account holding a second verified address (allauth signs in with any of
    them) is still one account: guessing at the other address after five failures
    is refused too, and the lockout names the account."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(
        user=world.hub_carer, email="hub.other@test.example", verified=True, primary=False
    )
    assert _attack("hub@test.example", attempts=5, ips=["10.1.0.1", "10.1.0.2"]) == 0
    response = _attempt(Client(), "hub.other@test.example", PASSWORD, "10.1.0.3")
    assert REFUSED in response.content
    lockout = AuditEntry.objects.get(action=AuditEntry.Action.LOCKOUT)
    assert lockout.subject == world.hub_carer


def test_behind_a_proxy_each_person_has_their_own_address_budget(world, settings):
    """Behind one TLS proxy every request comes from the proxy: with
    TRUSTED_PROXY_COUNT=1 the address limit is each client's, so one attacker's
    failures do not stop everyone else signing in; a forged X-Forwarded-For entry
    added by the client itself does not help the attacker."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(12):
        Client().post(
            LOGIN,
            {"login": f"nobody{n}@test.example", "password": "x"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.66",
        )
    attacker = Client().post(
        LOGIN,
        {"login": "nobody@test.example", "password": "x"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.66",
    )
    assert REFUSED in attacker.content
    owner = Client()
    response = owner.post(
        LOGIN,
        {"login": "hub@test.example", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="192.0.2.80",
    )
    assert response.status_code == 302
    assert _signed_in(owner)
