"""Turning web push on and off for a browser, and the service worker at /sw.js."""

import base64
import json
import os

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from notifications import push
from notifications.models import PushSubscription
from tests import factories as f

pytestmark = [pytest.mark.django_db]

SUBSCRIBE = "notifications:push_subscribe"
UNSUBSCRIBE = "notifications:push_unsubscribe"
ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def keys() -> dict:
    """Keys as a browser sends them: a P-256 public key and a 16-byte secret, base64url."""
    return {
        "p256dh": base64.urlsafe_b64encode(b"\x04" + os.urandom(64)).decode().rstrip("="),
        "auth": base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="),
    }


def subscription_json(endpoint=ENDPOINT, **extra) -> dict:
    """The shape of the browser's ``PushSubscription.toJSON()``."""
    return {"endpoint": endpoint, "expirationTime": None, "keys": keys(), **extra}


def post_json(client, name, payload, **headers):
    return client.post(
        reverse(name),
        data=payload if isinstance(payload, str) else json.dumps(payload),
        content_type="application/json",
        **headers,
    )


@pytest.fixture
def carer():
    return f.UserFactory(email="carer@example.org")


# --- the services ------------------------------------------------------------


def test_subscribing_the_same_browser_twice_keeps_one_subscription(carer):
    first = push.subscribe(carer, endpoint=ENDPOINT, **keys())
    new_keys = keys()
    second = push.subscribe(carer, endpoint=ENDPOINT, **new_keys, user_agent="Firefox")

    assert first.pk == second.pk
    assert PushSubscription.objects.count() == 1
    stored = PushSubscription.objects.get()
    assert stored.p256dh == new_keys["p256dh"]
    assert stored.user_agent == "Firefox"


@pytest.mark.parametrize(
    ("endpoint", "p256dh", "auth", "message"),
    [
        ("http://push.example.net/x", None, None, "https://"),
        ("https://push.example.net/" + "x" * 600, None, None, "600 characters"),
        ("", None, None, "no endpoint"),
        ("https://10.0.0.5/x", None, None, "not the address of a push service"),
        ("https://localhost/x", None, None, "not the address of a push service"),
        ("https://push.example.net:8443/x", None, None, "not the address of a push service"),
        (ENDPOINT, "", None, "no p256dh key"),
        (ENDPOINT, "not base64!", None, "not a base64url string"),
        (ENDPOINT, base64.urlsafe_b64encode(b"\x04" * 20).decode(), None, "not the key"),
        (ENDPOINT, None, "x" * 300, "not a base64url string"),
    ],
)
def test_a_subscription_that_is_not_a_browsers_is_refused_with_a_reason(
    carer, endpoint, p256dh, auth, message
):
    fields = keys()
    if p256dh is not None:
        fields["p256dh"] = p256dh
    if auth is not None:
        fields["auth"] = auth

    with pytest.raises(ValidationError) as refused:
        push.subscribe(carer, endpoint=endpoint, **fields)

    assert message in " ".join(refused.value.messages)
    assert not PushSubscription.objects.exists()


def test_a_user_keeps_only_their_newest_browsers(carer):
    for n in range(push.MAX_PER_USER + 2):
        push.subscribe(carer, endpoint=f"https://push.example.net/{n}", **keys())

    kept = set(PushSubscription.objects.filter(user=carer).values_list("endpoint", flat=True))
    assert len(kept) == push.MAX_PER_USER
    assert "https://push.example.net/0" not in kept
    assert f"https://push.example.net/{push.MAX_PER_USER + 1}" in kept


# --- the views ---------------------------------------------------------------


def test_turning_push_on_records_the_browser(client, carer):
    client.force_login(carer)

    response = post_json(
        client, SUBSCRIBE, subscription_json(), HTTP_USER_AGENT="Mozilla/5.0 (Android 14)"
    )

    assert response.status_code == 200
    assert response.json()["subscribed"] is True
    stored = PushSubscription.objects.get()
    assert stored.user == carer
    assert stored.endpoint == ENDPOINT
    assert stored.user_agent == "Mozilla/5.0 (Android 14)"


def test_push_can_be_turned_on_with_form_fields(client, carer):
    client.force_login(carer)

    response = client.post(reverse(SUBSCRIBE), {"endpoint": ENDPOINT, **keys()})

    assert response.status_code == 200
    assert PushSubscription.objects.filter(user=carer, endpoint=ENDPOINT).exists()


def test_a_signed_out_browser_is_sent_to_the_login_page(client):
    response = client.post(reverse(SUBSCRIBE), {"endpoint": ENDPOINT, **keys()})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not PushSubscription.objects.exists()


def test_a_signed_out_script_is_told_to_sign_in_again(client):
    response = post_json(client, SUBSCRIBE, subscription_json())

    assert response.status_code == 403
    assert "Sign in" in response.json()["error"]
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (subscription_json("http://push.example.net/x"), "https://"),
        (subscription_json("https://push.example.net/" + "x" * 600), "600 characters"),
        ({"endpoint": ENDPOINT}, "no p256dh key"),
        ({"endpoint": ENDPOINT, "keys": "p256dh"}, "keys must be an object"),
        ({"endpoint": ENDPOINT, "keys": {"p256dh": 12, "auth": []}}, "no p256dh key"),
        ({"keys": keys()}, "no endpoint"),
    ],
)
def test_a_bad_subscription_is_answered_400_with_the_reason(client, carer, payload, message):
    client.force_login(carer)

    response = post_json(client, SUBSCRIBE, payload)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not PushSubscription.objects.exists()


def test_a_browser_another_user_subscribed_now_belongs_to_the_one_signed_in(client, carer):
    previous = f.UserFactory()
    push.subscribe(previous, endpoint=ENDPOINT, **keys())
    client.force_login(carer)

    response = post_json(client, SUBSCRIBE, subscription_json())

    assert response.status_code == 200
    assert PushSubscription.objects.get(endpoint=ENDPOINT).user == carer
    assert not PushSubscription.objects.filter(user=previous).exists()


def test_turning_push_off_forgets_the_browser(client, carer):
    push.subscribe(carer, endpoint=ENDPOINT, **keys())
    client.force_login(carer)

    response = post_json(client, UNSUBSCRIBE, {"endpoint": ENDPOINT})

    assert response.status_code == 200
    assert response.json()["removed"] is True
    assert not PushSubscription.objects.exists()


def test_nobody_can_turn_off_another_users_push(client, carer):
    other = f.UserFactory()
    push.subscribe(other, endpoint=ENDPOINT, **keys())
    client.force_login(carer)

    response = post_json(client, UNSUBSCRIBE, {"endpoint": ENDPOINT})

    assert response.status_code == 200
    assert response.json()["removed"] is False
    assert PushSubscription.objects.get(endpoint=ENDPOINT).user == other
    assert push.unsubscribe(carer, ENDPOINT) is False


def test_turning_push_off_without_an_endpoint_is_answered_400(client, carer):
    client.force_login(carer)

    response = post_json(client, UNSUBSCRIBE, {"keys": keys()})

    assert response.status_code == 400
    assert "no endpoint" in response.json()["error"]


def test_a_signed_out_browser_cannot_turn_push_off(client, carer):
    push.subscribe(carer, endpoint=ENDPOINT, **keys())

    response = post_json(client, UNSUBSCRIBE, {"endpoint": ENDPOINT})

    assert response.status_code == 403
    assert PushSubscription.objects.count() == 1


def test_reading_the_subscribe_address_changes_nothing(client, carer):
    client.force_login(carer)

    response = client.get(reverse(SUBSCRIBE), {"endpoint": ENDPOINT, **keys()})

    assert response.status_code == 405
    assert not PushSubscription.objects.exists()


def test_turning_push_on_needs_the_csrf_token(carer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(carer)
    refused = post_json(browser, SUBSCRIBE, subscription_json())
    assert refused.status_code == 403
    assert not PushSubscription.objects.exists()

    browser.cookies.load({"csrftoken": "a" * 32})
    accepted = post_json(browser, SUBSCRIBE, subscription_json(), HTTP_X_CSRFTOKEN="a" * 32)
    assert accepted.status_code == 200
    assert PushSubscription.objects.filter(user=carer).exists()


# --- the service worker ------------------------------------------------------


def test_the_service_worker_is_served_at_the_root_for_the_whole_site(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "public, no-cache"
    source = response.content.decode()
    assert 'addEventListener("push"' in source
    assert 'addEventListener("notificationclick"' in source


def test_the_service_worker_cannot_be_posted_to(client):
    assert client.post("/sw.js").status_code == 405
