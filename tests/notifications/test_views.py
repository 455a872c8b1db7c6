"""The notification pages: the centre shows each person their own notifications,
opening one marks it read and goes only to a page of this site, preferences save
or refuse (400, nothing saved), and a hub carer's "I've seen it" on a crisis stops
the alert and tells the family; everyone else is refused."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from constellation.services import ActionRefused
from notifications.models import (
    Channel,
    CrisisAlert,
    EscalationStep,
    Kind,
    Notification,
    Preferences,
)
from notifications.preferences import DEFAULTS, choices_for
from notifications.selectors import CENTRE_PAGE
from sleepovers import services as sleepovers
from sleepovers.models import Kind as RequestKind
from tests import factories as f
from tests.sleepovers.helpers import allow_hub, stay

pytestmark = pytest.mark.django_db

CENTRE = reverse("notifications:centre")
READ_ALL = reverse("notifications:read_all")
UNREAD = reverse("notifications:unread")
PREFERENCES = reverse("notifications:preferences")


def open_url(pk) -> str:
    return reverse("notifications:open", args=[pk])


def seen_url(pk) -> str:
    return reverse("notifications:crisis_seen", args=[pk])


def body(response) -> str:
    return response.content.decode()


def said(response) -> str:
    """The message of this response (earlier ones wait in the session unread)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the centre -----------------------------------------------------------------------


def test_every_page_needs_a_login(client, world):
    mine = f.notification_for(world.satellite_carer)
    for method, path in (
        ("get", CENTRE),
        ("post", open_url(mine.pk)),
        ("post", READ_ALL),
        ("get", UNREAD),
        ("get", PREFERENCES),
        ("post", PREFERENCES),
    ):
        assert _is_login_redirect(getattr(client, method)(path)), (method, path)
    mine.refresh_from_db()
    assert mine.read_at is None


def test_the_centre_lists_only_my_own(login, world):
    mine = f.notification_for(world.satellite_carer, subject="Your request was accepted")
    email = f.notification_for(
        world.satellite_carer, channel=Channel.EMAIL, subject="By email only"
    )
    others = {
        who: f.notification_for(getattr(world, who), subject=f"For {who} only")
        for who in ("hub_carer", "neighbour_carer", "other_satellite_carer", "other_service_carer")
    }
    html = body(login(world.satellite_carer).get(CENTRE))
    assert mine.subject in html
    assert open_url(mine.pk) in html
    assert email.subject not in html
    for other in others.values():
        assert other.subject not in html
        assert open_url(other.pk) not in html
    # Another fostering service's carer sees theirs and nothing of ours.
    html = body(login(world.other_service_carer).get(CENTRE))
    assert others["other_service_carer"].subject in html
    assert mine.subject not in html


def test_an_empty_centre_says_so(login, world):
    response = login(world.manager).get(CENTRE)
    assert response.status_code == 200
    assert "No notifications yet." in body(response)


def test_the_unread_filter(login, world):
    unread = f.notification_for(world.hub_carer, subject="Still to read")
    read = f.notification_for(world.hub_carer, subject="Already read", read_at=timezone.now())
    client = login(world.hub_carer)
    html = body(client.get(CENTRE, {"unread": "1"}))
    assert unread.subject in html
    assert read.subject not in html
    assert "Unread (1)" in html
    html = body(client.get(CENTRE))
    assert unread.subject in html
    assert read.subject in html
    mark_all = client.post(READ_ALL)
    assert mark_all.status_code == 302
    assert "Nothing unread." in body(client.get(CENTRE, {"unread": "1"}))


def test_paging_beyond_the_end_shows_the_last_page(login, world):
    start = timezone.now() - timedelta(days=1)
    made = [
        f.notification_for(
            world.hub_carer, subject=f"Number {i:02d}", created_at=start + timedelta(minutes=i)
        )
        for i in range(CENTRE_PAGE + 5)
    ]
    client = login(world.hub_carer)
    first = body(client.get(CENTRE))
    assert made[-1].subject in first  # newest first
    assert made[0].subject not in first
    assert "Page 1 of 2" in first
    for page in ("2", "99", "-1"):
        response = client.get(CENTRE, {"page": page})
        assert response.status_code == 200, page
        html = body(response)
        assert "Page 2 of 2" in html, page
        assert made[0].subject in html
        assert made[-1].subject not in html
    for page in ("abc", "", "1e9"):
        response = client.get(CENTRE, {"page": page})
        assert response.status_code == 200, page
        assert "Page 1 of 2" in body(response), page


# --- opening and marking read ---------------------------------------------------------


def test_opening_marks_it_read_and_goes_to_its_page(login, world):
    mine = f.notification_for(world.satellite_carer, link="/sleepovers/")
    other = f.notification_for(world.satellite_carer)
    response = login(world.satellite_carer).post(open_url(mine.pk))
    assert response.status_code == 302
    assert response["Location"] == "/sleepovers/"
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.read_at is not None
    assert other.read_at is None


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "http://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_a_link_to_another_site_is_never_followed(login, world, link):
    mine = f.notification_for(world.satellite_carer, link=link)
    response = login(world.satellite_carer).post(open_url(mine.pk))
    assert response.status_code == 302
    assert response["Location"] == "/"
    mine.refresh_from_db()
    assert mine.read_at is not None


@pytest.mark.parametrize(
    "who", ["second_hub_carer", "satellite_carer", "liaison", "other_service_hub_carer"]
)
def test_opening_anothers_notification_is_not_found(login, world, who):
    theirs = f.notification_for(world.hub_carer)
    assert login(getattr(world, who)).post(open_url(theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_needs_a_post_and_a_notification_of_the_centre(login, world):
    mine = f.notification_for(world.hub_carer)
    sms = f.notification_for(world.hub_carer, channel=Channel.SMS)
    client = login(world.hub_carer)
    assert client.get(open_url(mine.pk)).status_code == 405
    assert client.post(open_url(sms.pk)).status_code == 404
    assert client.post(open_url(2**63)).status_code == 404
    mine.refresh_from_db()
    assert mine.read_at is None


def test_marking_all_read_marks_only_mine(login, world):
    for _ in range(2):
        f.notification_for(world.hub_carer)
    theirs = f.notification_for(world.second_hub_carer)
    client = login(world.hub_carer)
    response = client.post(READ_ALL)
    assert response.status_code == 302
    assert response["Location"] == CENTRE
    assert said(response) == "2 notifications marked read."
    assert not Notification.objects.unread_for(world.hub_carer).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert said(client.post(READ_ALL)) == "Nothing was unread."
    assert client.get(READ_ALL).status_code == 405


# --- the unread badge -------------------------------------------------------------------


def _badge(response) -> str | None:
    assert response.status_code == 200
    found = re.search(r'data-testid="unread-count">([^<]*)<', body(response))
    return found.group(1) if found else None


def test_the_badge_counts_my_unread(login, world):
    client = login(world.hub_carer)
    assert _badge(client.get(UNREAD)) is None
    for _ in range(3):
        f.notification_for(world.hub_carer)
    f.notification_for(world.hub_carer, read_at=timezone.now())
    for _ in range(12):
        f.notification_for(world.second_hub_carer)
    assert _badge(client.get(UNREAD)) == "3"
    for _ in range(6):
        f.notification_for(world.hub_carer)
    assert _badge(client.get(UNREAD)) == "9"
    f.notification_for(world.hub_carer)
    assert _badge(client.get(UNREAD)) == "9+"
    assert _badge(login(world.second_hub_carer).get(UNREAD)) == "9+"
    assert _badge(login(world.other_service_hub_carer).get(UNREAD)) is None


# --- preferences --------------------------------------------------------------------


def _ticked(html: str) -> dict[str, set[str]]:
    ticked: dict[str, set[str]] = {kind: set() for kind in DEFAULTS}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="kind_([a-z_]+)"', tag)
        if name and re.search(r"\schecked", tag):
            ticked[name.group(1)].add(re.search(r'value="([a-z]+)"', tag).group(1))
    return ticked


def test_preferences_show_the_defaults(login, world):
    response = login(world.satellite_carer).get(PREFERENCES)
    assert response.status_code == 200
    assert _ticked(body(response)) == {kind: set(c) for kind, c in DEFAULTS.items()}


def _form(**changes) -> dict:
    data = {"phone": "", "quiet_from": "", "quiet_until": ""}
    data.update({f"kind_{kind}": list(channels) for kind, channels in DEFAULTS.items()})
    data.update(changes)
    return data


def test_preferences_save_channels_quiet_hours_and_phone(login, world):
    client = login(world.satellite_carer)
    response = client.post(
        PREFERENCES,
        _form(
            phone="07700 900123",
            quiet_from="22:00",
            quiet_until="07:00",
            kind_crisis=["push", "sms"],
            kind_request=[],
            kind_limits=["email"],
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == PREFERENCES
    user = type(world.satellite_carer).objects.get(pk=world.satellite_carer.pk)
    chosen = choices_for(user)
    assert chosen.channels[Kind.CRISIS] == ("push", "sms")
    assert chosen.channels[Kind.REQUEST] == ()
    assert chosen.channels[Kind.LIMITS] == ("email",)
    assert (chosen.quiet_from.isoformat(), chosen.quiet_until.isoformat()) == (
        "22:00:00",
        "07:00:00",
    )
    assert user.phone == "07700 900123"
    html = body(client.get(PREFERENCES))
    assert _ticked(html)["crisis"] == {"push", "sms"}
    assert 'value="22:00"' in html
    assert 'value="07700 900123"' in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quiet_from": "22:00"}, "Give both ends of the quiet hours, or neither."),
        ({"quiet_until": "07:00"}, "Give both ends of the quiet hours, or neither."),
        ({"phone": "abc"}, "Enter a phone number of 10 to 15 digits"),
        ({"phone": "123"}, "Enter a phone number of 10 to 15 digits"),
        ({"kind_crisis": ["push", "pigeon"]}, "Select a valid choice"),
        ({"kind_crisis": ["app"]}, "Select a valid choice"),
        ({"quiet_from": "25:00", "quiet_until": "07:00"}, "Enter a valid time."),
        ({"phone": "0" * 31}, "Ensure this value has at most 30 characters"),
    ],
)
def test_bad_preferences_are_refused_with_the_message_and_nothing_saved(
    login, world, changes, message
):
    user = world.satellite_carer
    user.phone = "07700 900999"
    user.save(update_fields=["phone"])
    response = login(user).post(
        PREFERENCES, _form(**{"phone": user.phone, "kind_crisis": [], **changes})
    )
    assert response.status_code == 400
    assert message in body(response)
    assert not Preferences.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.phone == "07700 900999"


def test_preferences_are_each_persons_own(login, world):
    login(world.hub_carer).post(PREFERENCES, _form(kind_crisis=["sms"]))
    assert _ticked(body(login(world.second_hub_carer).get(PREFERENCES)))["crisis"] == {
        "push",
        "sms",
        "email",
    }


# --- "I've seen it" on a crisis ---------------------------------------------------------


def crisis(world, *, carer=None, children=None):
    now = timezone.now()
    return sleepovers.create_request(
        by=carer or world.satellite_carer,
        kind=RequestKind.CRISIS,
        children=children or [world.child],
        start=now,
        end=now + timedelta(hours=4),
        crisis_reason="composure",
    )


def _seen_by_the_family(request) -> list[Notification]:
    return list(
        Notification.objects.filter(
            kind=Kind.CRISIS_SEEN, channel=Channel.IN_APP, key=f"crisis:{request.pk}:seen"
        )
    )


def test_the_hub_carer_seeing_a_crisis_stops_the_alert_and_tells_the_family(nine_am, login, world):
    request = crisis(world)
    alert = CrisisAlert.objects.get(request=request)
    assert not alert.stopped
    response = login(world.hub_carer).post(seen_url(request.pk))
    assert response.status_code == 302
    assert response["Location"] == request.get_absolute_url()
    assert said(response) == "The family is told you have seen it and are calling them."
    alert.refresh_from_db()
    assert alert.stopped
    assert alert.seen_by == world.hub_carer
    assert not alert.steps.filter(status=EscalationStep.Status.WAITING).exists()
    told = _seen_by_the_family(request)
    assert [n.recipient for n in told] == [world.satellite_carer]
    assert "calling you" in told[0].body
    # It is in the family's centre.
    html = body(login(world.satellite_carer).get(CENTRE))
    assert "The hub has seen your crisis request" in html


def test_a_second_tap_is_refused_with_a_message(nine_am, login, world):
    request = crisis(world)
    login(world.hub_carer).post(seen_url(request.pk))
    response = login(world.second_hub_carer).post(seen_url(request.pk))
    assert response.status_code == 302
    assert response["Location"] == request.get_absolute_url()
    assert said(response) == f"{world.hub_carer.first_name} has already said so."
    alert = CrisisAlert.objects.get(request=request)
    assert alert.seen_by == world.hub_carer
    assert len(_seen_by_the_family(request)) == 1


def test_a_tap_from_the_page_refreshes_it(nine_am, login, world):
    request = crisis(world)
    response = login(world.hub_carer).post(seen_url(request.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    assert CrisisAlert.objects.get(request=request).stopped


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("satellite_carer", 403),  # the requester sees the request
        ("liaison", 403),
        ("manager", 403),
        ("neighbour_carer", 404),
        ("other_hub_carer", 404),
        ("other_liaison", 404),
        ("other_service_hub_carer", 404),
        ("other_service_manager", 404),
    ],
)
def test_only_the_hub_carers_say_they_have_seen_it(nine_am, login, world, who, status):
    request = crisis(world)
    response = login(getattr(world, who)).post(seen_url(request.pk))
    assert response.status_code == status, who
    alert = CrisisAlert.objects.get(request=request)
    assert not alert.stopped
    assert alert.seen_by is None
    assert _seen_by_the_family(request) == []


def test_seen_needs_a_post_and_a_request(nine_am, login, world):
    request = crisis(world)
    client = login(world.hub_carer)
    assert client.get(seen_url(request.pk)).status_code == 405
    assert client.post(seen_url(request.pk + 1000)).status_code == 404
    assert not CrisisAlert.objects.get(request=request).stopped


def test_a_planned_request_is_refused_with_a_message(nine_am, login, world):
    allow_hub(world.child, by=world.liaison)
    start, end = stay(5)
    planned = sleepovers.create_request(
        by=world.satellite_carer,
        kind=RequestKind.PLANNED,
        children=[world.child],
        start=start,
        end=end,
    )
    response = login(world.hub_carer).post(seen_url(planned.pk))
    assert response.status_code == 302
    assert said(response) == "This request is not a crisis waiting for the hub's answer."
    assert _seen_by_the_family(planned) == []


def test_an_answered_crisis_is_refused_with_a_message(nine_am, login, world):
    allow_hub(world.child, by=world.liaison)
    request = crisis(world)
    sleepovers.accept(request, by=world.hub_carer)
    response = login(world.second_hub_carer).post(seen_url(request.pk))
    assert response.status_code == 302
    assert said(response) == "This request is not a crisis waiting for the hub's answer."
    alert = CrisisAlert.objects.get(request=request)
    assert alert.seen_by is None
    assert _seen_by_the_family(request) == []


def test_a_phone_number_with_a_superscript_digit_is_refused(login, world):
    response = login(world.satellite_carer).post(PREFERENCES, _form(phone="07700 90012²"))
    assert response.status_code == 400
    world.satellite_carer.refresh_from_db()
    assert world.satellite_carer.phone == ""


def test_a_tap_racing_an_acceptance_is_refused(nine_am, world):
    from notifications.services import escalation
    from sleepovers.models import Request

    allow_hub(world.child, by=world.liaison)
    request = crisis(world)
    as_read_by_the_tap = Request.objects.get(pk=request.pk)  # the view's read, before the lock
    sleepovers.accept(Request.objects.get(pk=request.pk), by=world.hub_carer)
    assert CrisisAlert.objects.get(request=request).stopped
    with pytest.raises(ActionRefused):
        escalation.seen(as_read_by_the_tap, by=world.second_hub_carer)
    assert _seen_by_the_family(request) == []
