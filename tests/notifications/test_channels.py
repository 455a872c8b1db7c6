"""The channels a notification leaves by: what arrives by email, text message and
web push, and what the outbox does when a provider refuses (fail now or try later)."""

import base64
import json
import os
from unittest import mock

import pytest
import requests
from notifications_python_client.errors import HTTPError
from pywebpush import WebPushException

from notifications import channels
from notifications.models import Notification, PushSubscription
from notifications.services import outbox
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.SITE_URL = "https://mockingbird.example.org"
    settings.VAPID_PUBLIC_KEY = "BPublicKeyForTests"
    settings.VAPID_PRIVATE_KEY = "private-key-for-tests"
    settings.VAPID_SUBJECT = "mailto:alerts@example.org"
    settings.SMS_BACKEND = "console"
    settings.SMS_LOG_FILE = tmp_path / "var" / "sms.log"
    settings.NOTIFY_API_KEY = "test-key"
    settings.NOTIFY_SMS_TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"


def row(channel, *, recipient=None, to_address="", urgent=False, **fields) -> Notification:
    service = f.ServiceFactory()
    destination = f"user:{recipient.pk}" if recipient else f"{channel}:{to_address}"
    defaults = {
        "kind": "crisis" if urgent else "request",
        "subject": "A sleepover is asked for tonight",
        "body": "The Ashfords ask for a sleepover for Mara tonight. Can you answer?",
        "link": "/sleepovers/12/",
        "key": "request:12:asked",
    }
    return Notification.objects.create(
        service=service,
        recipient=recipient,
        to_address=to_address,
        destination=destination,
        channel=channel,
        urgent=urgent,
        **{**defaults, **fields},
    )


def browser(user, name="phone") -> PushSubscription:
    return PushSubscription.objects.create(
        user=user,
        endpoint=f"https://push.example.net/send/{name}",
        p256dh=base64.urlsafe_b64encode(b"\x04" + os.urandom(64)).decode().rstrip("="),
        auth=base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="),
    )


def http_response(status: int, body: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body or {}).encode()
    return response


# --- email -------------------------------------------------------------------


def test_an_email_has_a_text_and_an_html_part_with_the_absolute_link(mailoutbox, settings):
    user = f.UserFactory(email="carer@example.org")
    notification = row("email", recipient=user)

    reference = channels.send(notification)

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["carer@example.org"]
    assert email.from_email == settings.DEFAULT_FROM_EMAIL
    assert email.subject == "A sleepover is asked for tonight"
    link = "https://mockingbird.example.org/sleepovers/12/"
    assert "The Ashfords ask for a sleepover for Mara tonight." in email.body
    assert link in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert "<img" not in html
    assert reference == email.extra_headers["Message-ID"]


def test_an_email_to_a_contact_without_an_account_goes_to_their_address(mailoutbox):
    notification = row("email", to_address="duty@council.example.org", urgent=True)

    channels.send(notification)

    assert mailoutbox[0].to == ["duty@council.example.org"]
    assert mailoutbox[0].extra_headers["Importance"] == "high"


def test_an_email_reads_as_written_in_both_parts(mailoutbox):
    notification = row(
        "email",
        to_address="duty@example.org",
        subject="Tom & Jo's stay\nis confirmed",
        body="Tom & Jo's stay <tonight> is confirmed.",
    )

    channels.send(notification)

    email = mailoutbox[0]
    assert email.subject == "Tom & Jo's stay is confirmed"
    assert "Tom & Jo's stay <tonight> is confirmed." in email.body
    html = email.alternatives[0][0]
    assert "Tom &amp; Jo&#x27;s stay &lt;tonight&gt; is confirmed." in html


def test_an_email_without_an_address_fails_for_good(mailoutbox):
    notification = row("email", to_address="")

    with pytest.raises(channels.PermanentFailure):
        channels.send(notification)
    assert mailoutbox == []


def test_the_outbox_records_an_email_with_no_address_as_failed_not_retried(mailoutbox):
    notification = row("email", to_address="")

    assert outbox.deliver(notification.pk) is False

    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert "no email address" in notification.last_error


def test_a_link_to_another_site_is_never_put_in_a_message(mailoutbox):
    notification = row("email", to_address="duty@example.org", link="//evil.example.com/x")

    channels.send(notification)

    assert "evil.example.com" not in mailoutbox[0].body
    assert "https://mockingbird.example.org/" in mailoutbox[0].body


# --- SMS ---------------------------------------------------------------------


def test_the_console_backend_writes_one_line_to_the_sms_log(settings):
    user = f.UserFactory(phone="07700 900123")
    notification = row("sms", recipient=user)

    reference = channels.send(notification)

    lines = settings.SMS_LOG_FILE.read_text().splitlines()
    assert len(lines) == 1
    assert "07700 900123" in lines[0]
    assert (
        "The Ashfords ask for a sleepover for Mara tonight. Can you answer? "
        "https://mockingbird.example.org/sleepovers/12/"
    ) in lines[0]
    assert reference.startswith("console-")


def test_a_long_text_is_shortened_to_two_fragments_and_keeps_the_whole_link(settings):
    notification = row("sms", to_address="+447700900123", body="Please call the hub. " * 14)

    channels.send(notification)

    text = settings.SMS_LOG_FILE.read_text().rstrip("\n").split("\t")[-1]
    assert len(text) <= 306
    assert text.endswith("... https://mockingbird.example.org/sleepovers/12/")


def test_a_text_without_a_phone_number_fails_for_good(settings):
    user = f.UserFactory(phone="")
    notification = row("sms", recipient=user)

    with pytest.raises(channels.PermanentFailure):
        channels.send(notification)
    assert not settings.SMS_LOG_FILE.exists()


def test_notify_is_asked_with_the_template_and_the_text_as_personalisation(settings):
    settings.SMS_BACKEND = "notify"
    notification = row("sms", to_address="+447700900123")

    with mock.patch("notifications_python_client.NotificationsAPIClient") as client_class:
        client_class.return_value.send_sms_notification.return_value = {"id": "notify-id-1"}
        reference = channels.send(notification)

    client_class.assert_called_once_with("test-key")
    client_class.return_value.send_sms_notification.assert_called_once_with(
        phone_number="+447700900123",
        template_id="f33517ff-2a88-4f6e-b855-c550268ce08a",
        personalisation={
            "body": "The Ashfords ask for a sleepover for Mara tonight. Can you answer? "
            "https://mockingbird.example.org/sleepovers/12/"
        },
        reference=f"notification-{notification.pk}",
    )
    assert reference == "notify-id-1"


def test_a_number_notify_refuses_fails_the_text_for_good(settings):
    settings.SMS_BACKEND = "notify"
    notification = row("sms", to_address="+447700900123")
    refused = HTTPError(
        http_response(
            400,
            {"errors": [{"error": "ValidationError", "message": "Not a UK mobile number"}]},
        )
    )

    with mock.patch("notifications_python_client.NotificationsAPIClient") as client_class:
        client_class.return_value.send_sms_notification.side_effect = refused
        assert outbox.deliver(notification.pk) is False

    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert "Not a UK mobile number" in notification.last_error


def test_a_notify_outage_is_tried_again_later(settings):
    settings.SMS_BACKEND = "notify"
    notification = row("sms", to_address="+447700900123")
    outage = HTTPError(http_response(500, {"errors": [{"message": "Internal server error"}]}))

    with mock.patch("notifications_python_client.NotificationsAPIClient") as client_class:
        client_class.return_value.send_sms_notification.side_effect = outage
        with pytest.raises(HTTPError):
            channels.send(notification)
        assert outbox.deliver(notification.pk) is False

    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 1
    assert notification.due_at > notification.created_at


# --- web push ----------------------------------------------------------------


def test_a_push_reaches_the_live_browser_and_forgets_the_one_that_has_gone():
    user = f.UserFactory()
    phone, old_laptop = browser(user, "phone"), browser(user, "laptop")
    notification = row("push", recipient=user, urgent=True)

    def push_service(subscription_info, **kwargs):
        if subscription_info["endpoint"] == old_laptop.endpoint:
            raise WebPushException("Push failed: 410 Gone", response=http_response(410))
        return http_response(201)

    with mock.patch("pywebpush.webpush", side_effect=push_service) as webpush:
        assert outbox.deliver(notification.pk) is True

    assert webpush.call_count == 2
    call = next(
        c
        for c in webpush.call_args_list
        if c.kwargs["subscription_info"]["endpoint"].endswith("phone")
    )
    assert call.kwargs["subscription_info"]["keys"] == {"p256dh": phone.p256dh, "auth": phone.auth}
    assert json.loads(call.kwargs["data"]) == {
        "title": "A sleepover is asked for tonight",
        "body": "The Ashfords ask for a sleepover for Mara tonight. Can you answer?",
        "url": "/sleepovers/12/",
        "tag": "request:12:asked",
        "urgent": True,
    }
    assert call.kwargs["vapid_private_key"] == "private-key-for-tests"
    assert call.kwargs["vapid_claims"]["sub"] == "mailto:alerts@example.org"
    assert call.kwargs["headers"]["Urgency"] == "high"
    assert list(PushSubscription.objects.filter(user=user)) == [phone]
    phone.refresh_from_db()
    assert phone.last_sent_at is not None
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT


def test_each_push_service_gets_its_own_vapid_audience():
    user = f.UserFactory()
    browser(user, "one")
    PushSubscription.objects.create(
        user=user, endpoint="https://fcm.googleapis.com/fcm/send/x", p256dh="k", auth="a"
    )
    notification = row("push", recipient=user)
    claims = []

    def push_service(subscription_info, vapid_claims, **kwargs):
        assert "aud" not in vapid_claims
        vapid_claims["aud"] = subscription_info["endpoint"]  # as pywebpush does
        claims.append(vapid_claims)
        return http_response(201)

    with mock.patch("pywebpush.webpush", side_effect=push_service):
        channels.send(notification)

    assert len(claims) == 2


def test_a_push_whose_browsers_have_all_gone_fails_for_good_and_forgets_them():
    user = f.UserFactory()
    browser(user, "phone")
    browser(user, "laptop")
    notification = row("push", recipient=user)

    gone = WebPushException("Push failed: 404 Not Found", response=http_response(404))
    with mock.patch("pywebpush.webpush", side_effect=gone):
        assert outbox.deliver(notification.pk) is False

    assert not PushSubscription.objects.filter(user=user).exists()
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED


def test_a_push_service_outage_is_tried_again_and_keeps_the_browsers():
    user = f.UserFactory()
    browser(user, "phone")
    notification = row("push", recipient=user)

    outage = WebPushException("Push failed: 503", response=http_response(503))
    with mock.patch("pywebpush.webpush", side_effect=outage):
        with pytest.raises(WebPushException):
            channels.send(notification)
        assert outbox.deliver(notification.pk) is False

    assert PushSubscription.objects.filter(user=user).count() == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING


def test_a_push_without_vapid_keys_fails_for_good(settings):
    settings.VAPID_PRIVATE_KEY = ""
    user = f.UserFactory()
    browser(user)
    notification = row("push", recipient=user)

    with mock.patch("pywebpush.webpush") as webpush, pytest.raises(channels.PermanentFailure):
        channels.send(notification)
    webpush.assert_not_called()


def test_a_push_to_someone_with_no_browser_left_fails_for_good():
    notification = row("push", recipient=f.UserFactory())

    with mock.patch("pywebpush.webpush") as webpush, pytest.raises(channels.PermanentFailure):
        channels.send(notification)
    webpush.assert_not_called()


def test_an_ordinary_push_is_not_marked_urgent():
    user = f.UserFactory()
    browser(user)
    notification = row("push", recipient=user, urgent=False)

    with mock.patch("pywebpush.webpush", return_value=http_response(201)) as webpush:
        channels.send(notification)

    assert webpush.call_args.kwargs["headers"]["Urgency"] == "normal"
    assert json.loads(webpush.call_args.kwargs["data"])["urgent"] is False
