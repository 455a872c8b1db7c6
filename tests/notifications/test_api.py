"""The notification API: each person reads and marks only their own notifications,
changes only their own choices (through the one home of their rules, with every
refusal a 400 naming the field and nothing saved) and sees their own push
subscriptions without their keys."""

import base64
import json
import os
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from notifications.models import Channel, Kind, Preferences, PushSubscription
from notifications.preferences import DEFAULTS, choices_for
from tests import factories as f

pytestmark = pytest.mark.django_db

LIST = reverse("api:notification-list")
READ_ALL = reverse("api:notification-read-all")
PREFERENCES = reverse("api:notification-preferences")
PUSH = reverse("api:push-subscriptions")
ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def read_url(pk) -> str:
    return reverse("api:notification-read", args=[pk])


@pytest.fixture
def as_user():
    def _as(user):
        client = APIClient()
        client.force_login(user)
        return client

    return _as


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def keys() -> dict:
    return {
        "p256dh": base64.urlsafe_b64encode(b"\x04" + os.urandom(64)).decode().rstrip("="),
        "auth": base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="),
    }


def subscription(endpoint=ENDPOINT) -> dict:
    """The shape of the browser's ``PushSubscription.toJSON()``."""
    return {"endpoint": endpoint, "expirationTime": None, "keys": keys()}


# --- anonymous and staff without a second factor ---------------------------------------


def test_every_endpoint_needs_a_login(world):
    mine = f.notification_for(world.satellite_carer)
    client = APIClient()
    calls = [
        ("get", LIST),
        ("post", read_url(mine.pk)),
        ("post", READ_ALL),
        ("get", PREFERENCES),
        ("put", PREFERENCES),
        ("patch", PREFERENCES),
        ("get", PUSH),
        ("post", PUSH),
        ("delete", PUSH),
    ]
    for method, path in calls:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 401, (method, path, response.status_code)
        assert "WWW-Authenticate" in response
    mine.refresh_from_db()
    assert mine.read_at is None


def test_staff_without_a_second_factor_are_refused(world, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    token = Token.objects.create(user=world.liaison)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for method, path in (("get", LIST), ("post", READ_ALL), ("get", PREFERENCES), ("get", PUSH)):
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 403, (method, path)
        assert "two-factor" in response.json()["detail"]
    # A carer needs no second factor.
    token = Token.objects.create(user=world.satellite_carer)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(LIST).status_code == 200


# --- the list -----------------------------------------------------------------------


def test_the_list_is_my_own_newest_first_with_its_fields(world, as_user):
    now = timezone.now()
    older = f.notification_for(world.satellite_carer, created_at=now - timedelta(hours=2))
    newer = f.notification_for(
        world.satellite_carer,
        kind=Kind.ANSWER,
        subject="Request accepted",
        body="The hub accepted your request.",
        link="/sleepovers/1/",
        created_at=now - timedelta(hours=1),
        read_at=now,
    )
    # Not in my centre: another channel of mine, and everyone else's.
    f.notification_for(world.satellite_carer, channel=Channel.EMAIL)
    others = [
        f.notification_for(getattr(world, who))
        for who in ("hub_carer", "neighbour_carer", "other_satellite_carer", "other_service_carer")
    ]

    response = as_user(world.satellite_carer).get(LIST)
    assert ids(response) == [newer.pk, older.pk]
    body = response.json()
    assert body["count"] == 2
    first = body["results"][0]
    assert first == {
        "id": newer.pk,
        "kind": "answer",
        "subject": "Request accepted",
        "body": "The hub accepted your request.",
        "link": "/sleepovers/1/",
        "created_at": first["created_at"],
        "read_at": first["read_at"],
    }
    assert first["read_at"] is not None
    assert body["results"][1]["read_at"] is None
    for other in others:
        assert other.subject not in response.content.decode()


def test_another_services_user_sees_only_their_own(world, as_user):
    ours = f.notification_for(world.satellite_carer, subject="For the Ashfords")
    theirs = f.notification_for(world.other_service_carer, service=world.other_service)
    response = as_user(world.other_service_carer).get(LIST)
    assert ids(response) == [theirs.pk]
    assert ours.subject not in response.content.decode()
    # Someone with no notifications has an empty centre.
    assert ids(as_user(world.manager).get(LIST)) == []


def test_the_unread_filter(world, as_user):
    unread = f.notification_for(world.hub_carer)
    read = f.notification_for(world.hub_carer, read_at=timezone.now())
    f.notification_for(world.second_hub_carer)
    client = as_user(world.hub_carer)
    assert ids(client.get(LIST, {"unread": "1"})) == [unread.pk]
    assert ids(client.get(LIST, {"unread": "true"})) == [unread.pk]
    assert set(ids(client.get(LIST, {"unread": "0"}))) == {unread.pk, read.pk}
    assert set(ids(client.get(LIST))) == {unread.pk, read.pk}
    for bad in ("maybe", "2"):
        response = client.get(LIST, {"unread": bad})
        assert response.status_code == 400, bad
        assert "unread" in response.json()


def test_the_list_pages_like_the_other_lists(world, as_user):
    start = timezone.now() - timedelta(days=1)
    made = [
        f.notification_for(world.hub_carer, created_at=start + timedelta(minutes=i))
        for i in range(55)
    ]
    newest_first = [n.pk for n in reversed(made)]
    client = as_user(world.hub_carer)

    response = client.get(LIST)
    assert response.json()["count"] == 55
    assert ids(response) == newest_first[:50]
    assert response.json()["next"] is not None
    assert response.json()["previous"] is None
    assert ids(client.get(LIST, {"limit": 10, "offset": 50})) == newest_first[50:]
    # The cap keeps a client from asking for everything at once.
    assert len(ids(client.get(LIST, {"limit": 1000}))) == 55
    assert ids(client.get(LIST, {"offset": 500})) == []


def test_the_list_is_a_bounded_number_of_queries(world, as_user, django_assert_max_num_queries):
    for _ in range(30):
        f.notification_for(world.hub_carer)
    client = as_user(world.hub_carer)
    with django_assert_max_num_queries(8):
        assert len(ids(client.get(LIST))) == 30


# --- marking read ------------------------------------------------------------------


def test_marking_one_of_mine_read(world, as_user):
    mine = f.notification_for(world.hub_carer)
    f.notification_for(world.hub_carer)
    client = as_user(world.hub_carer)

    response = client.post(read_url(mine.pk), format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"marked": 1, "unread": 1}
    mine.refresh_from_db()
    assert mine.read_at is not None
    # Again: nothing more to mark.
    assert client.post(read_url(mine.pk), format="json").json() == {"marked": 0, "unread": 1}


@pytest.mark.parametrize(
    "who", ["second_hub_carer", "satellite_carer", "liaison", "other_service_hub_carer"]
)
def test_anothers_notification_is_not_found_and_stays_unread(world, as_user, who):
    theirs = f.notification_for(world.hub_carer)
    response = as_user(getattr(world, who)).post(read_url(theirs.pk), format="json")
    assert response.status_code == 404
    assert str(theirs.pk) not in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_refuses_what_is_not_a_notification_of_my_centre(world, as_user):
    email = f.notification_for(world.hub_carer, channel=Channel.EMAIL)
    client = as_user(world.hub_carer)
    assert client.post(read_url(email.pk), format="json").status_code == 404
    assert client.post(read_url(2**63), format="json").status_code == 404
    assert client.post(read_url(10**30), format="json").status_code == 404
    assert client.get(read_url(email.pk)).status_code == 405
    mine = f.notification_for(world.hub_carer)
    response = client.post(read_url(mine.pk), {"read": True}, format="json")
    assert response.status_code == 400
    assert "read" in response.json()
    mine.refresh_from_db()
    assert mine.read_at is None


def test_marking_all_read_marks_only_mine(world, as_user):
    for _ in range(3):
        f.notification_for(world.hub_carer)
    f.notification_for(world.hub_carer, read_at=timezone.now())
    theirs = f.notification_for(world.second_hub_carer)
    client = as_user(world.hub_carer)

    response = client.post(READ_ALL, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 3, "unread": 0}
    assert client.post(READ_ALL, format="json").json() == {"marked": 0, "unread": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.get(READ_ALL).status_code == 405


# --- preferences --------------------------------------------------------------------


def test_preferences_show_the_defaults(world, as_user):
    world.satellite_carer.phone = "07700 900123"
    world.satellite_carer.save(update_fields=["phone"])
    response = as_user(world.satellite_carer).get(PREFERENCES)
    assert response.status_code == 200
    body = response.json()
    assert body["channels"] == {kind: list(channels) for kind, channels in DEFAULTS.items()}
    assert body["channels"]["crisis"] == ["push", "sms", "email"]
    assert body["channels"]["limits"] == []
    assert body["quiet_from"] is None
    assert body["quiet_until"] is None
    assert body["phone"] == "07700 900123"


def test_put_replaces_the_choices(world, as_user):
    client = as_user(world.satellite_carer)
    body = client.get(PREFERENCES).json()
    body["channels"]["request"] = ["email"]
    body["channels"]["crisis"] = ["sms", "push"]
    body["quiet_from"] = "22:00"
    body["quiet_until"] = "07:30"
    body["phone"] = "+44 7700 900123"

    response = client.put(PREFERENCES, body, format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["channels"]["request"] == ["email"]
    assert answer["channels"]["crisis"] == ["push", "sms"]
    assert answer["quiet_from"] == "22:00"
    assert answer["quiet_until"] == "07:30"
    assert answer["phone"] == "+44 7700 900123"
    chosen = choices_for(type(world.satellite_carer).objects.get(pk=world.satellite_carer.pk))
    assert chosen.channels["request"] == ("email",)
    assert chosen.quiet_from == time(22, 0)
    assert chosen.quiet_until == time(7, 30)
    world.satellite_carer.refresh_from_db()
    assert world.satellite_carer.phone == "+44 7700 900123"
    # The answer is what a new read shows.
    assert client.get(PREFERENCES).json() == answer


def test_put_needs_every_field(world, as_user):
    response = as_user(world.satellite_carer).put(
        PREFERENCES, {"channels": {"request": ["email"]}}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"quiet_from", "quiet_until", "phone"}
    assert not Preferences.objects.exists()


def test_patch_changes_only_what_is_sent(world, as_user):
    world.hub_carer.phone = "07700 900123"
    world.hub_carer.save(update_fields=["phone"])
    client = as_user(world.hub_carer)
    response = client.patch(
        PREFERENCES, {"quiet_from": "21:00", "quiet_until": "06:00"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["channels"]["crisis"] == ["push", "sms", "email"]
    assert response.json()["phone"] == "07700 900123"

    response = client.patch(PREFERENCES, {"channels": {"digest": []}}, format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["channels"]["digest"] == []
    assert answer["channels"]["request"] == ["push", "email"]
    assert (answer["quiet_from"], answer["quiet_until"]) == ("21:00", "06:00")

    # Quiet hours off: both ends null.
    response = client.patch(PREFERENCES, {"quiet_from": None, "quiet_until": None}, format="json")
    assert response.status_code == 200
    assert response.json()["quiet_from"] is None
    # An empty phone number: no text messages.
    response = client.patch(PREFERENCES, {"phone": ""}, format="json")
    assert response.status_code == 200
    world.hub_carer.refresh_from_db()
    assert world.hub_carer.phone == ""


def test_my_choices_are_mine_only(world, as_user):
    as_user(world.hub_carer).patch(PREFERENCES, {"channels": {"crisis": []}}, format="json")
    assert as_user(world.second_hub_carer).get(PREFERENCES).json()["channels"]["crisis"] == [
        "push",
        "sms",
        "email",
    ]
    assert Preferences.objects.get().user == world.hub_carer


BAD_PREFERENCES = [
    # (body, path to the field named in the answer)
    ({"channels": {"pigeon_post": ["push"]}}, ("channels", "pigeon_post")),
    ({"channels": {"crisis": ["push", "pigeon"]}}, ("channels", "crisis")),
    ({"channels": {"crisis": ["app"]}}, ("channels", "crisis")),
    ({"channels": {"crisis": "push"}}, ("channels", "crisis")),
    ({"channels": {"crisis": {"push": True}}}, ("channels", "crisis")),
    ({"channels": {"crisis": None}}, ("channels", "crisis")),
    ({"channels": {"crisis": [1]}}, ("channels", "crisis")),
    ({"channels": {"crisis": [None]}}, ("channels", "crisis")),
    ({"channels": {"crisis": [["push"]]}}, ("channels", "crisis")),
    ({"channels": ["crisis"]}, ("channels",)),
    ({"channels": "crisis"}, ("channels",)),
    ({"channels": None}, ("channels",)),
    ({"quiet_from": "22:00"}, ("quiet_until",)),
    ({"quiet_until": "07:00"}, ("quiet_from",)),
    ({"quiet_from": "22:00", "quiet_until": None}, ("quiet_until",)),
    ({"quiet_from": "25:00", "quiet_until": "07:00"}, ("quiet_from",)),
    ({"quiet_from": "10pm", "quiet_until": "07:00"}, ("quiet_from",)),
    ({"quiet_from": 2200, "quiet_until": "07:00"}, ("quiet_from",)),
    ({"quiet_from": ["22:00"], "quiet_until": "07:00"}, ("quiet_from",)),
    ({"quiet_from": "22:00", "quiet_until": True}, ("quiet_until",)),
    ({"phone": "abc"}, ("phone",)),
    ({"phone": "123"}, ("phone",)),
    ({"phone": "0770090012345678901"}, ("phone",)),
    ({"phone": 7700900123}, ("phone",)),
    ({"phone": None}, ("phone",)),
    ({"phone": "0" * 31}, ("phone",)),
    ({"email": "new@example.org"}, ("email",)),
]


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(("body", "named"), BAD_PREFERENCES)
def test_bad_preferences_are_a_400_naming_the_field_and_nothing_is_saved(
    world, as_user, method, body, named
):
    user = world.satellite_carer
    user.phone = "07700 900123"
    user.save(update_fields=["phone"])
    client = as_user(user)
    if method == "put":
        full = {"channels": {}, "quiet_from": None, "quiet_until": None, "phone": user.phone}
        body = {**full, **body}
    response = client.generic(
        method.upper(), PREFERENCES, data=_json(body), content_type="application/json"
    )
    assert response.status_code == 400, (body, response.status_code, response.content)
    answer = response.json()
    for step in named:
        assert step in answer, (body, answer)
        answer = answer[step]
    assert not Preferences.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.phone == "07700 900123"


def _json(body) -> str:
    return json.dumps(body)


@pytest.mark.parametrize("raw", ["[]", '"channels"', "null", "42", "{not json"])
def test_a_body_that_is_not_an_object_is_a_400(world, as_user, raw):
    client = as_user(world.satellite_carer)
    for method in ("PUT", "PATCH"):
        response = client.generic(method, PREFERENCES, data=raw, content_type="application/json")
        assert response.status_code == 400, (method, raw, response.status_code)
    assert not Preferences.objects.exists()


def test_preferences_as_a_form_are_refused(world, as_user):
    response = as_user(world.satellite_carer).patch(PREFERENCES, {"phone": "07700 900123"})
    assert response.status_code == 415


# --- push subscriptions ---------------------------------------------------------------


def test_subscribing_shows_the_host_and_never_the_keys(world, as_user):
    client = as_user(world.satellite_carer)
    sent = subscription()
    response = client.post(PUSH, sent, format="json", HTTP_USER_AGENT="Firefox on Android")
    assert response.status_code == 201, response.content
    assert set(response.json()) == {"host", "created_at"}
    assert response.json()["host"] == "fcm.googleapis.com"
    stored = PushSubscription.objects.get()
    assert stored.user == world.satellite_carer
    assert stored.endpoint == ENDPOINT
    assert stored.user_agent == "Firefox on Android"

    listed = client.get(PUSH)
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert listed.json()["results"] == [response.json()]
    text = listed.content.decode()
    for secret in (sent["keys"]["p256dh"], sent["keys"]["auth"], "abc123"):
        assert secret not in text


def test_the_subscriptions_listed_are_mine_only(world, as_user):
    as_user(world.hub_carer).post(
        PUSH, subscription("https://push.hub-browser.example/a"), format="json"
    )
    as_user(world.other_service_carer).post(
        PUSH, subscription("https://push.south-browser.example/b"), format="json"
    )
    mine = as_user(world.satellite_carer)
    mine.post(PUSH, subscription(), format="json")
    response = mine.get(PUSH)
    assert [row["host"] for row in response.json()["results"]] == ["fcm.googleapis.com"]
    assert "hub-browser" not in response.content.decode()
    other = as_user(world.other_service_carer).get(PUSH)
    assert [row["host"] for row in other.json()["results"]] == ["push.south-browser.example"]


BAD_SUBSCRIPTIONS = [
    ({**subscription(), "endpoint": "http://fcm.googleapis.com/x"}, ("endpoint",)),
    ({**subscription(), "endpoint": "https://10.0.0.1/x"}, ("endpoint",)),
    ({**subscription(), "endpoint": "https://push.example:8443/x"}, ("endpoint",)),
    ({**subscription(), "endpoint": "https://push.local/x"}, ("endpoint",)),
    ({**subscription(), "endpoint": "https://push.example/" + "x" * 600}, ("endpoint",)),
    ({**subscription(), "endpoint": ""}, ("endpoint",)),
    ({**subscription(), "endpoint": 42}, ("endpoint",)),
    ({**subscription(), "endpoint": None}, ("endpoint",)),
    ({"keys": keys()}, ("endpoint",)),
    ({"endpoint": ENDPOINT}, ("keys",)),
    ({"endpoint": ENDPOINT, "keys": "p256dh"}, ("keys",)),
    ({"endpoint": ENDPOINT, "keys": [1, 2]}, ("keys",)),
    ({"endpoint": ENDPOINT, "keys": {**keys(), "p256dh": "not base64!"}}, ("keys", "p256dh")),
    ({"endpoint": ENDPOINT, "keys": {**keys(), "p256dh": "AAAA"}}, ("keys", "p256dh")),
    ({"endpoint": ENDPOINT, "keys": {**keys(), "auth": "AAAA"}}, ("keys", "auth")),
    ({"endpoint": ENDPOINT, "keys": {**keys(), "auth": 16}}, ("keys", "auth")),
    ({"endpoint": ENDPOINT, "keys": {"auth": keys()["auth"]}}, ("keys", "p256dh")),
]


@pytest.mark.parametrize(("body", "named"), BAD_SUBSCRIPTIONS)
def test_a_bad_subscription_is_a_400_naming_the_field(world, as_user, body, named):
    response = as_user(world.satellite_carer).post(PUSH, body, format="json")
    assert response.status_code == 400, (body, response.content)
    answer = response.json()
    for step in named:
        assert step in answer, answer
        answer = answer[step]
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("raw", ["[]", "null", '"https://fcm.googleapis.com/x"', "{oops"])
def test_a_subscription_that_is_not_an_object_is_a_400(world, as_user, raw):
    response = as_user(world.satellite_carer).generic(
        "POST", PUSH, data=raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert not PushSubscription.objects.exists()


def test_unsubscribing_by_body_or_query_removes_only_mine(world, as_user):
    mine = as_user(world.satellite_carer)
    theirs = as_user(world.hub_carer)
    mine.post(PUSH, subscription(), format="json")
    theirs.post(PUSH, subscription("https://push.hub-browser.example/a"), format="json")

    # Someone else's endpoint: nothing removed.
    response = mine.delete(PUSH, {"endpoint": "https://push.hub-browser.example/a"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"removed": False}
    assert PushSubscription.objects.filter(user=world.hub_carer).exists()

    # The whole subscription as the body, as the browser has it.
    response = mine.delete(PUSH, subscription(), format="json")
    assert response.json() == {"removed": True}
    assert not PushSubscription.objects.filter(user=world.satellite_carer).exists()
    assert mine.delete(PUSH, {"endpoint": ENDPOINT}, format="json").json() == {"removed": False}

    response = theirs.delete(f"{PUSH}?endpoint=https://push.hub-browser.example/a")
    assert response.status_code == 200
    assert response.json() == {"removed": True}
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("body", [{}, {"endpoint": ""}, {"endpoint": 42}, {"endpoint": None}])
def test_unsubscribing_without_an_endpoint_is_a_400(world, as_user, body):
    as_user(world.satellite_carer).post(PUSH, subscription(), format="json")
    response = as_user(world.satellite_carer).delete(PUSH, body, format="json")
    assert response.status_code == 400
    assert "endpoint" in response.json()
    assert PushSubscription.objects.count() == 1


@pytest.mark.parametrize("phone", ["07700 90012²", "０７７００ ９００１２３", "٠٧٧٠٠٩٠٠١٢٣"])
def test_a_phone_number_of_other_than_ascii_digits_is_refused(world, as_user, phone):
    response = as_user(world.satellite_carer).patch(PREFERENCES, {"phone": phone}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()
    world.satellite_carer.refresh_from_db()
    assert world.satellite_carer.phone == ""
