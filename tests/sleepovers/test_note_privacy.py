"""Words written about a sleepover request (its notes, the reasons it was declined or
cancelled, its timeline's notes, the notes of the approvals it waited for) may speak
of any of its children. They are shown only to those who may see every child the
request concerns (``sleepovers.access.may_read_request_notes``); anyone else reads
the status and the dates, and that a note was withheld, on every page, API answer,
calendar feed, export and notification."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from calendar_events.feeds import feed_calendar
from delegated_authority.models import Approval
from notifications.models import Notification
from people.models import StaffRole
from sleepovers import access, services
from sleepovers.models import Request

from .. import factories as f
from .helpers import allow_hub, stay

MARK = "Zq7-private-words"


def _walk(resolver, prefix="", namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(n for n in (namespace, pattern.namespace) if n)
            yield from _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            yield prefix + str(pattern.pattern), name


# Pages that sign the person out or start an account flow are not walked.
NOT_WALKED = ("admin/", "accounts/", "healthz", "sw.js", "manifest", "offline/")
ROUTES = sorted(set(_walk(get_resolver())))
# Every page and API endpoint without an argument (lists, inboxes, exports, the
# desk), and every one that takes a request's id: a page added later is walked too.
PLAIN = [name for route, name in ROUTES if "<" not in route and "(?P" not in route]
PLAIN = [
    name
    for route, name in ROUTES
    if name in PLAIN and not route.startswith(NOT_WALKED) and route != "api/v1/^(?P<rest>.*)$"
]
BY_REQUEST = [
    name
    for route, name in ROUTES
    if route.count("<") == 1
    and "<int:pk>" in route
    and (name.startswith("sleepovers:") or name.startswith("api:sleepover-"))
    and route.startswith(("sleepovers/<int:pk>/", "api/v1/sleepovers/<int:pk>/"))
]


@pytest.fixture
def siblings(world):
    """Mara (her case with ``world.social_worker``) and her brother Zed (his case with
    another social worker), both placed with the Ashfords."""
    zed_worker = f.staff(world.service, StaffRole.Role.SOCIAL_WORKER, email="sw-zed@test.example")
    zed = f.child_in(
        world.satellite,
        first_name="Zachary",
        last_name="Quill",
        preferred_name="Zed",
        social_worker=zed_worker,
    )
    return zed, zed_worker


def _ask(world, children, days, **extra):
    start, end = stay(days)
    return services.create_request(
        by=world.satellite_carer,
        kind="planned",
        children=children,
        start=start,
        end=end,
        notes=f"{MARK}: Zed has a cough, Mara is worried about school",
        **extra,
    )


@pytest.fixture
def written(nine_am, world, siblings):
    """Requests for both children with words in every free-text field: declined by
    the hub, cancelled by the family (after waiting for approval: its approvals are
    withdrawn with the family's reason), and one the child did not arrive for."""
    zed, _ = siblings
    both = [world.child, zed]
    declined = _ask(world, both, 3)
    services.decline(declined, by=world.hub_carer, reason=f"{MARK} decline: Zed's allergy")
    # No agreement yet: the hub's yes waits for each child's approval.
    cancelled = _ask(world, both, 5)
    services.accept(cancelled, by=world.hub_carer)
    cancelled.refresh_from_db()
    assert cancelled.status == "awaiting_approval"
    services.cancel(cancelled, by=world.satellite_carer, reason=f"{MARK} cancel: Zed is unwell")
    for child in both:
        allow_hub(child, by=world.liaison)
    missed = _ask(world, both, 1)
    services.accept(missed, by=world.hub_carer)
    with time_machine.travel(missed.start + timedelta(hours=1), tick=False):
        services.did_not_arrive(missed, by=world.hub_carer, note=f"{MARK} missed: Zed at A&E")
    requests = [declined, cancelled, missed]
    for request in requests:
        request.refresh_from_db()
    assert [r.status for r in requests] == ["declined", "cancelled", "did_not_arrive"]
    return requests


def _api(user):
    client = APIClient()
    client.force_login(user)
    return client


def _bodies(client, requests):
    """Every walked page and API answer for the requests, by name."""
    seen = {}
    for name in PLAIN:
        seen[name] = client.get(reverse(name))
    for request in requests:
        for name in BY_REQUEST:
            seen[f"{name}#{request.pk}"] = client.get(reverse(name, args=[request.pk]))
    return seen


def test_the_walk_covers_the_request_pages_the_api_and_the_lists():
    for name in ("sleepovers:request", "sleepovers:status", "api:sleepover-detail"):
        assert name in BY_REQUEST
    for name in (
        "sleepovers:index",
        "api:sleepover-list",
        "home",
        "delegated_authority:approvals",
        "notifications:centre",
        "api:notification-list",
        "constellation:activity",
        "api:activity",
    ):
        assert name in PLAIN


def test_a_social_worker_of_one_child_reads_no_words_anywhere(client, world, written):
    """Mara's social worker follows the three requests, sees their status and dates,
    and never the words about Zed: not on any page, API answer, feed or message."""
    client.force_login(world.social_worker)
    seen = _bodies(client, written)
    leaks = [name for name, response in seen.items() if MARK in response.content.decode()]
    assert leaks == []
    # They still follow each request: its status, and that a note was withheld.
    for request in written:
        page = seen[f"sleepovers:request#{request.pk}"].content.decode()
        assert seen[f"sleepovers:request#{request.pk}"].status_code == 200
        assert request.get_status_display() in page
        assert access.NOTE_WITHHELD in page
    declined_page = seen[f"sleepovers:request#{written[0].pk}"].content.decode()
    assert "The hub declined." in declined_page
    cancelled_page = seen[f"sleepovers:request#{written[1].pk}"].content.decode()
    assert "Cancelled." in cancelled_page
    assert feed_calendar(world.social_worker).to_ical().decode().find(MARK) == -1


def test_the_api_blanks_every_words_field_and_says_so(world, written):
    client = _api(world.social_worker)
    for request in written:
        body = client.get(reverse("api:sleepover-detail", args=[request.pk])).json()
        assert body["status"] == request.status
        assert body["start"]
        assert body["text_withheld"] is True
        assert (body["notes"], body["decline_reason"], body["cancel_reason"]) == ("", "", "")
        assert all(step["note"] == "" for step in body["timeline"])
        assert [step["to"] for step in body["timeline"]][-1] == request.status


@pytest.mark.parametrize("who", ["hub_carer", "satellite_carer", "liaison", "manager"])
def test_those_who_see_both_children_read_every_word(client, world, written, who):
    user = getattr(world, who)
    client.force_login(user)
    declined, cancelled, missed = written
    pages = {
        r.pk: client.get(reverse("sleepovers:request", args=[r.pk])).content.decode()
        for r in written
    }
    assert "Zed has a cough" in pages[declined.pk]
    assert f"{MARK} decline" in pages[declined.pk]
    assert f"{MARK} cancel" in pages[cancelled.pk]
    assert f"{MARK} missed" in pages[missed.pk]
    assert access.NOTE_WITHHELD not in "".join(pages.values())
    body = _api(user).get(reverse("api:sleepover-detail", args=[cancelled.pk])).json()
    assert body["text_withheld"] is False
    assert f"{MARK} cancel" in body["cancel_reason"]
    assert MARK in body["notes"]


def test_a_social_worker_who_holds_both_cases_reads_the_words(client, world, siblings, written):
    zed, _ = siblings
    zed.social_worker = world.social_worker
    zed.save(update_fields=["social_worker"])
    client.force_login(world.social_worker)
    page = client.get(reverse("sleepovers:request", args=[written[1].pk])).content.decode()
    assert f"{MARK} cancel" in page
    assert access.NOTE_WITHHELD not in page


def test_the_hub_inbox_shows_the_notes_and_the_viewer_says_who_may_not_read_them(client, world):
    """The inbox card of an open request shows its notes to the hub carer; a user who
    sees the request but not every child reads that a note was withheld."""
    request = _ask(world, [world.child], 4)
    client.force_login(world.hub_carer)
    inbox = client.get(reverse("sleepovers:index")).content.decode()
    assert "Mara is worried about school" in inbox
    viewer = access.RequestViewer(world.social_worker)
    viewer.attach([request], records=False)
    assert viewer.sees_whole(request) is True  # her only child is Mara
    outsider = access.RequestViewer(world.neighbour_carer)
    assert outsider.sees_whole(request) is False
    assert outsider.withheld(request) is True


def test_approval_notes_of_a_request_follow_the_same_rule(world, siblings, written):
    """The approvals withdrawn when the family cancelled carry the family's reason:
    the hub carer who asked reads it; Mara's social worker does not; whoever wrote a
    note reads their own."""
    cancelled = written[1]
    approvals = list(
        Approval.objects.filter(subject_type="sleepover", subject_id=cancelled.pk).order_by("pk")
    )
    assert len(approvals) == 2
    assert all(MARK in a.note for a in approvals)
    shown = access.approval_notes_for(world.hub_carer, approvals)
    assert all(MARK in a.note_shown and not a.note_withheld for a in shown)
    hidden = access.approval_notes_for(world.social_worker, approvals)
    assert all(a.note_shown == "" and a.note_withheld for a in hidden)
    own = access.approval_notes_for(world.satellite_carer, approvals)  # who cancelled
    assert all(MARK in a.note_shown for a in own)


def test_the_approvals_page_shows_the_hub_carer_the_reason(client, world, written):
    client.force_login(world.hub_carer)
    page = client.get(reverse("delegated_authority:approvals")).content.decode()
    assert f"{MARK} cancel" in page


def test_no_message_carries_the_words(world, written):
    """Emails, SMS and push are built from the product's own words (a household and
    a date), never from what someone wrote about the request."""
    assert Notification.objects.exists()
    for message in Notification.objects.all():
        assert MARK not in f"{message.subject} {message.body}"


# --- the rule, over sets of children and users ------------------------------------

# Who may see which child, written out by hand from DOMAIN.md's roles: the hub's
# carers, the liaison worker and the manager see every child of the constellation;
# a satellite carer their own household's; a social worker their cases; a liaison
# worker of another constellation none of them.
USERS = [
    "hub_carer",
    "liaison",
    "manager",
    "satellite_carer",
    "neighbour_carer",
    "social_worker",
    "zed_worker",
    "other_liaison",
]


@pytest.mark.django_db
def test_words_show_if_and_only_if_the_user_may_see_every_child(client, world, siblings):
    zed, zed_worker = siblings
    pool = {
        "mara": world.child,
        "zed": zed,
        "bob": world.neighbour_child,
        "cee": world.hub_child,
    }
    everyone = set(pool)
    sees = {
        "hub_carer": everyone,
        "liaison": everyone,
        "manager": everyone,
        "satellite_carer": {"mara", "zed"},
        "neighbour_carer": {"bob"},
        "social_worker": {"mara"},
        "zed_worker": {"zed"},
        "other_liaison": set(),
    }
    users = {name: getattr(world, name, None) for name in USERS}
    users["zed_worker"] = zed_worker
    start = timezone.now() + timedelta(days=3)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        children=st.sets(st.sampled_from(sorted(pool)), min_size=1),
        who=st.sampled_from(USERS),
    )
    def check(children, who):
        request = Request.objects.create(
            constellation=world.constellation,
            hub=world.hub,
            household=world.satellite,
            requested_by=world.satellite_carer,
            kind="planned",
            start=start,
            end=start + timedelta(hours=17),
            notes=f"{MARK} about {' and '.join(sorted(children))}",
        )
        request.children.set([pool[c] for c in children])
        user = users[who]
        expected = children <= sees[who]
        assert access.may_read_request_notes(user, request) is expected
        viewer = access.RequestViewer(user)
        viewer.attach([request], records=False)
        assert viewer.sees_whole(request) is expected
        if Request.objects.visible_to(user).filter(pk=request.pk).exists():
            client.force_login(user)
            page = client.get(reverse("sleepovers:request", args=[request.pk]))
            assert page.status_code == 200
            assert (MARK in page.content.decode()) is expected
            assert (access.NOTE_WITHHELD in page.content.decode()) is (not expected)
        request.children.clear()
        request.delete()

    check()


def test_an_anonymous_user_reads_no_words(world):
    from django.contrib.auth.models import AnonymousUser

    request = _ask(world, [world.child], 4)
    assert access.may_read_request_notes(AnonymousUser(), request) is False
