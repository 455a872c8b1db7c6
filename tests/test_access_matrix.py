"""The access matrix: every URL pattern of the project, enumerated from the URL
resolver, is tried anonymously, with a user of the wrong role, with a user of
another constellation and with a user of another fostering service.

A new URL without an entry in SPEC (or in the third-party groups below) fails
``test_every_url_has_an_entry``: nobody can add a page and forget its rules."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from constellation.models import Carer
from people.models import Invitation
from tests.factories import UserFactory

# --- enumerate ------------------------------------------------------------------


def _walk(resolver, prefix="", namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(n for n in (namespace, pattern.namespace) if n)
            yield from _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            yield prefix + str(pattern.pattern), name


ALL_URLS = sorted(set(_walk(get_resolver())))

# Django's admin: every page is behind the product's login and the staff flag.
ADMIN_PREFIX = "admin/"

# allauth: pages a person must reach before logging in (or that answer a bad key).
ACCOUNT_PUBLIC = {
    "account_login",
    "account_logout",
    "account_inactive",
    "account_signup",
    "account_email_verification_sent",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_confirm_email",
    "account_request_login_code",
    "account_confirm_login_code",
    "mfa_authenticate",
}
ACCOUNT_KWARGS = {
    "account_confirm_email": {"key": "not-a-real-key"},
    "account_reset_password_from_key": {"uidb36": "zz", "key": "not-a-real-key"},
}

# --- the product's own URLs ---------------------------------------------------------

ANON_LOGIN = "login"  # anonymous is sent to the login page
ANON_401 = "401"  # the API answers 401
PUBLIC = "public"  # reachable without logging in


@dataclass(frozen=True)
class Spec:
    """How to call a URL and who may."""

    kwargs: Callable = lambda w: {}  # noqa: E731
    method: str = "get"
    anonymous: str = ANON_LOGIN
    allowed: tuple[str, ...] = ()
    # (user attribute of the world, expected statuses)
    wrong_role: tuple[str, frozenset[int]] | None = None
    other_constellation: str | None = None
    other_service: str | None = "other_service_manager"
    # For pages without an object (lists): what must not show to outsiders.
    list_of: Callable | None = None
    data: dict | Callable = field(default_factory=dict)
    # Whether the URL names an object of the world (in its path or its query).
    targets_object: bool | None = None
    # Send ``data`` as a JSON body (the API parses JSON only).
    json: bool = False

    def aims_at_object(self, world) -> bool:
        if self.targets_object is not None:
            return self.targets_object
        return bool(self.kwargs(world))


def _membership(w):
    return {"pk": w.satellite.memberships.get().pk}


def _carer(w):
    return {"pk": Carer.objects.get(user=w.satellite_carer).pk}


def _agreement(w):
    return {"pk": _signed(w).pk}


def _signed(w):
    from delegated_authority.models import Agreement

    existing = Agreement.objects.filter(child=w.child).first()
    if existing:
        return existing
    from datetime import timedelta

    from delegated_authority import services as da
    from delegated_authority.models import Decision

    today = timezone.localdate()
    return da.create_agreement(
        w.child,
        by=w.liaison,
        effective_from=today,
        review_on=today + timedelta(days=90),
        signed_off_role="liaison_worker",
        clauses=[da.ClauseInput(Decision.objects.get(code="haircuts"), "social_worker")],
    )


def _approval(w):
    from delegated_authority import services as da
    from delegated_authority.models import Approval, Decision

    _signed(w)
    approval = Approval.objects.filter(child=w.child, status="pending").first()
    if approval is None:
        approval = da.request_approval(
            w.child,
            Decision.objects.get(code="haircuts"),
            by=w.hub_carer,
            details="A trim please",
        )
    return {"pk": approval.pk}


def _sleepover(w):
    from sleepovers import services as sleepovers
    from sleepovers.models import Request
    from tests.sleepovers.helpers import allow_hub, stay

    existing = Request.objects.filter(household=w.satellite).first()
    if existing:
        return existing
    if not w.child.agreements.exists():
        allow_hub(w.child, by=w.liaison)
    start, end = stay(5)
    return sleepovers.create_request(
        by=w.satellite_carer, kind="planned", children=[w.child], start=start, end=end
    )


def _sleepover_pk(w):
    return {"pk": _sleepover(w).pk}


def _hub_pk(w):
    return {"pk": w.hub.pk}


def _later_days(days):
    from datetime import timedelta

    day = timezone.localdate() + timedelta(days=days)
    return {"start": day.isoformat(), "end": day.isoformat()}


def _later(days):
    from tests.sleepovers.helpers import stay

    start, end = stay(days)
    return {"start": start.strftime("%Y-%m-%dT%H:%M"), "end": end.strftime("%Y-%m-%dT%H:%M")}


def _away(w):
    from datetime import timedelta

    from sleepovers import services as sleepovers
    from sleepovers.models import Unavailability

    if not Unavailability.objects.filter(hub=w.hub).exists():
        day = timezone.localdate() + timedelta(days=20)
        sleepovers.add_unavailability(
            w.hub, by=w.hub_carer, start=day, end=day, note="Our summer holiday"
        )
    return {}


def _day(days):
    from datetime import timedelta

    return timezone.localdate() + timedelta(days=days)


def _away_pk(w):
    """A period away of the hub, in force (a new one when the last was withdrawn)."""
    from sleepovers import services as sleepovers
    from sleepovers.models import Unavailability

    period = Unavailability.objects.in_force().filter(hub=w.hub).first()
    if period is None:
        period = sleepovers.add_unavailability(
            w.hub, by=w.hub_carer, start=_day(25), end=_day(26), note="A family wedding"
        )
    return {"pk": period.pk}


def _bed_change_pk(w):
    """A bed change of the hub, in force (a new one when the last was withdrawn)."""
    from sleepovers import services as sleepovers
    from sleepovers.models import BedChange

    change = BedChange.objects.in_force().filter(hub=w.hub).first()
    if change is None:
        change = sleepovers.change_beds(
            w.hub, by=w.hub_carer, start=_day(25), end=_day(26), beds=4, note="Camp bed"
        )
    return {"pk": change.pk}


def _override(w):
    """An exception to the limits for the satellite's child, in force."""
    from sleepovers import services as sleepovers
    from sleepovers.models import LimitOverride

    existing = LimitOverride.objects.in_force().filter(constellation=w.constellation).first()
    if existing:
        return existing
    return sleepovers.grant_override(
        w.constellation,
        by=w.liaison,
        child=w.child,
        start=_day(10),
        end=_day(16),
        reason="Birthday week with the hub family",
    )


def _override_pk(w):
    return {"pk": _override(w).pk}


def _cover(w):
    """A coming cover of the hub by the other constellation's hub, in force."""
    from constellation.models import HubCover
    from sleepovers import services as sleepovers

    existing = (
        HubCover.objects.in_force().filter(constellation=w.constellation, end__gte=_day(0)).first()
    )
    if existing:
        return existing
    return sleepovers.arrange_cover(
        w.constellation,
        by=w.manager,  # the manager oversees the other constellation's hub too
        stand_in=w.other_constellation.hub,
        start=_day(40),
        end=_day(42),
        note="Hub carers at a wedding",
    )


def _cover_pk(w):
    return {"pk": _cover(w).pk}


def _cover_data(w):
    """A new cover by a household of the constellation given a bed (the liaison worker
    chooses among the households they oversee): each call a later period, so that the
    allowed people's covers do not overlap."""
    from constellation import services as people
    from constellation.models import HubCover

    if w.neighbour.beds < 1:
        people.update_household(w.neighbour, by=None, beds=1)
    n = HubCover.objects.filter(constellation=w.constellation).count()
    start = _day(60 + 10 * n)
    return {
        "stand_in": w.neighbour.pk,
        "start": start.isoformat(),
        "end": start.isoformat(),
        "note": "Hub carers away",
    }


def _placement_pk(w):
    """A temporary placement of the satellite's child at the hub, arrived (a new one
    when the last has ended)."""
    from sleepovers import services as sleepovers
    from sleepovers.models import Kind, Request, Status

    existing = Request.objects.filter(kind=Kind.TEMPORARY, status=Status.ARRIVED).first()
    if existing is None:
        existing = sleepovers.arrange_temporary_placement(
            w.child, by=w.liaison, start=_day(1), expected_end=_day(7), notes="Placement ended"
        )
        # The child is recorded as arrived when the placement begins.
        with time_machine.travel(existing.start + timedelta(minutes=1)):
            sleepovers.accept(existing, by=w.hub_carer)
            sleepovers.arrived(existing, by=w.hub_carer)
    return {"pk": existing.pk}


def _temporary_body(w):
    """A child of the constellation not yet in a temporary placement (each allowed
    person arranges one for a child of their own choosing)."""
    from sleepovers import access as sleepover_access
    from tests import factories as f

    child = (
        sleepover_access.children_for_temporary_placement(w.manager, w.constellation)
        .exclude(pk=w.child.pk)
        .first()
    ) or f.child_in(w.neighbour, first_name="Tomas", preferred_name="Tom")
    start = _later(2)["start"]
    return {"child": child.pk, "start": start, "expected_end": _day(9).isoformat()}


def _notification(w):
    """An unread notification in the satellite carer's centre (everyone else's
    notification centre is their own: another's id is a 404)."""
    from notifications.models import Notification
    from tests.factories import notification_for

    existing = Notification.objects.in_app_for(w.satellite_carer).filter(
        subject=NOTIFICATION_SUBJECT
    )
    return existing.first() or notification_for(
        w.satellite_carer, service=w.service, subject=NOTIFICATION_SUBJECT, link="/notifications/"
    )


def _notification_pk(w):
    return {"pk": _notification(w).pk}


NOTIFICATION_SUBJECT = "The Ashfords' stay is accepted"
PUSH_HOST = "push.ashfords-phone.example"


def _push_keys():
    import base64
    import os

    return {
        "p256dh": base64.urlsafe_b64encode(b"\x04" + os.urandom(64)).decode().rstrip("="),
        "auth": base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="),
    }


def _push_subscription(w):
    """The satellite carer allowed push on their phone."""
    from notifications import push

    return push.subscribe(
        w.satellite_carer, endpoint=f"https://{PUSH_HOST}/send/ashford", **_push_keys()
    )


def _push_form(w):
    """A browser's subscription as form fields (the endpoint takes JSON or a form)."""
    return {"endpoint": "https://fcm.googleapis.com/fcm/send/matrix", **_push_keys()}


def _crisis_pk(w):
    """A crisis request of the satellite household, alerting the hub now."""
    from sleepovers import services as sleepovers
    from sleepovers.models import Kind, Request

    existing = Request.objects.filter(household=w.satellite, kind=Kind.CRISIS).first()
    if existing is None:
        now = timezone.now()
        existing = sleepovers.create_request(
            by=w.satellite_carer,
            kind=Kind.CRISIS,
            children=[w.child],
            start=now,
            end=now + timedelta(hours=4),
            crisis_reason="composure",
        )
    return {"pk": existing.pk}


# The API's sleepover actions answer JSON only: the matrix checks who is refused (401,
# 403, 404, all before the body is read); tests/sleepovers/test_api.py checks who may.
SLEEPOVER_HUB_ACTIONS = ("accept", "decline", "offer", "arrived", "collected")
SLEEPOVER_REQUESTER_ACTIONS = ("cancel", "take-offer")


VIEWERS = ("hub_carer", "satellite_carer", "liaison", "manager")
MANAGERS = ("liaison", "manager")
D404 = frozenset({404})
D403 = frozenset({403})
CONSTELLATION = {"pk": None}

SPEC: dict[str, Spec] = {
    "home": Spec(allowed=(*VIEWERS, "social_worker", "nobody")),
    "healthz": Spec(anonymous=PUBLIC, other_service=None),
    "people:accept_invitation": Spec(
        kwargs=lambda w: {"token": "not-a-real-token"}, anonymous=PUBLIC, other_service=None
    ),
    "people:access_log": Spec(
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        list_of=lambda w: [w.child.first_name],
    ),
    "calendar_events:index": Spec(allowed=VIEWERS),
    "constellation:list": Spec(
        allowed=VIEWERS,
        list_of=lambda w: [w.constellation.name],
    ),
    "constellation:detail": Spec(
        kwargs=lambda w: {"pk": w.constellation.pk},
        allowed=VIEWERS,
        wrong_role=("social_worker", D404),
        other_constellation="other_hub_carer",
    ),
    "constellation:household_create": Spec(
        kwargs=lambda w: {"pk": w.constellation.pk},
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:membership_propose": Spec(
        kwargs=lambda w: {"pk": w.constellation.pk},
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:household": Spec(
        kwargs=lambda w: {"pk": w.satellite.pk},
        allowed=VIEWERS,
        wrong_role=("nobody", D404),
        other_constellation="other_satellite_carer",
    ),
    "constellation:household_edit": Spec(
        kwargs=lambda w: {"pk": w.satellite.pk},
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:carer_add": Spec(
        kwargs=lambda w: {"pk": w.satellite.pk},
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:child_create": Spec(
        kwargs=lambda w: {"pk": w.satellite.pk},
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:carer_end": Spec(
        kwargs=_carer,
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:carer_invite": Spec(
        kwargs=_carer,
        method="post",
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    # GET shows the join date's form (an active membership: back to the constellation).
    "constellation:membership_activate": Spec(
        kwargs=_membership,
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:membership_withdraw": Spec(
        kwargs=_membership,
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:membership_leave": Spec(
        kwargs=_membership,
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:child": Spec(
        kwargs=lambda w: {"pk": w.child.pk},
        allowed=(*VIEWERS, "neighbour_carer", "social_worker"),
        wrong_role=("nobody", D404),
        other_constellation="other_hub_carer",
    ),
    "constellation:child_edit": Spec(
        kwargs=lambda w: {"pk": w.child.pk},
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:child_move": Spec(
        kwargs=lambda w: {"pk": w.child.pk},
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    "constellation:child_history": Spec(
        kwargs=lambda w: {"pk": w.child.pk},
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "delegated_authority:agreements": Spec(
        kwargs=lambda w: {"pk": w.child.pk},
        allowed=(*VIEWERS, "social_worker"),
        wrong_role=("neighbour_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "delegated_authority:agreement_create": Spec(
        kwargs=lambda w: {"pk": w.child.pk},
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "delegated_authority:approval_request": Spec(
        kwargs=lambda w: {"pk": w.child.pk},
        method="post",
        data={"decision": "haircuts", "details": "A trim"},
        allowed=("hub_carer", "satellite_carer"),
        wrong_role=("neighbour_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "delegated_authority:agreement": Spec(
        kwargs=_agreement,
        allowed=(*VIEWERS, "social_worker"),
        wrong_role=("neighbour_carer", D404),
        other_constellation="other_hub_carer",
    ),
    "delegated_authority:reviews": Spec(
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        list_of=lambda w: [w.child.known_as + "</a>"],
    ),
    "delegated_authority:approvals": Spec(
        allowed=(*VIEWERS, "social_worker", "nobody"),
        list_of=lambda w: ["A trim please"],
        data=lambda w: (_approval(w), {})[1],
    ),
    "delegated_authority:approval_approve": Spec(
        kwargs=_approval,
        method="post",
        allowed=("social_worker", "liaison"),
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "delegated_authority:approval_refuse": Spec(
        kwargs=_approval,
        method="post",
        data={"note": "Not now"},
        allowed=("social_worker", "liaison"),
        wrong_role=("satellite_carer", D404),
        other_constellation="other_liaison",
    ),
    "delegated_authority:approval_withdraw": Spec(
        kwargs=_approval,
        method="post",
        allowed=("hub_carer",),
        wrong_role=("liaison", D403),
        other_constellation="other_hub_carer",
    ),
    "api:delegated-authority-check": Spec(
        anonymous=ANON_401,
        allowed=("hub_carer", "satellite_carer", "liaison", "manager"),
        data=lambda w: {"child": w.child.pk, "decision": "haircuts"},
        targets_object=True,
        wrong_role=("neighbour_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:index": Spec(allowed=VIEWERS, list_of=lambda w: [w.satellite.name + "</"]),
    "sleepovers:new": Spec(allowed=("satellite_carer",), wrong_role=("liaison", D403)),
    "sleepovers:crisis": Spec(allowed=("satellite_carer",), wrong_role=("liaison", D403)),
    "sleepovers:nights": Spec(allowed=VIEWERS, wrong_role=("social_worker", D403)),
    "sleepovers:availability": Spec(allowed=VIEWERS, wrong_role=("social_worker", D403)),
    "sleepovers:beds": Spec(allowed=("hub_carer", *MANAGERS), wrong_role=("satellite_carer", D403)),
    "sleepovers:change_beds": Spec(
        kwargs=_hub_pk,
        method="post",
        allowed=("hub_carer",),
        data=lambda w: {**_later_days(30), "beds": 2, "note": "Decorating"},
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:add_unavailability": Spec(
        kwargs=_hub_pk,
        method="post",
        allowed=("hub_carer",),
        data=lambda w: {**_later_days(60), "note": "Holiday"},
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:request": Spec(
        kwargs=_sleepover_pk,
        allowed=("hub_carer", "satellite_carer", "liaison", "manager"),
        wrong_role=("neighbour_carer", D404),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:status": Spec(
        kwargs=_sleepover_pk,
        allowed=("hub_carer", "satellite_carer", "liaison", "manager"),
        wrong_role=("neighbour_carer", D404),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:accept": Spec(
        kwargs=_sleepover_pk,
        method="post",
        allowed=("hub_carer",),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:decline": Spec(
        kwargs=_sleepover_pk,
        method="post",
        data={"reason": "Full of cold"},
        allowed=("hub_carer",),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:offer": Spec(
        kwargs=_sleepover_pk,
        method="post",
        data=lambda w: _later(9),
        allowed=("hub_carer",),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:take_offer": Spec(
        kwargs=_sleepover_pk,
        method="post",
        allowed=("satellite_carer",),
        wrong_role=("hub_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:cancel": Spec(
        kwargs=_sleepover_pk,
        method="post",
        data={"reason": "Unwell"},
        allowed=("satellite_carer",),
        wrong_role=("hub_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:arrived": Spec(
        kwargs=_sleepover_pk,
        method="post",
        allowed=("hub_carer",),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:collected": Spec(
        kwargs=_sleepover_pk,
        method="post",
        allowed=("hub_carer",),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:did_not_arrive": Spec(
        kwargs=_sleepover_pk,
        method="post",
        allowed=("hub_carer",),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:withdraw_unavailability": Spec(
        kwargs=_away_pk,
        method="post",
        allowed=("hub_carer", *MANAGERS),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:withdraw_bed_change": Spec(
        kwargs=_bed_change_pk,
        method="post",
        allowed=("hub_carer", *MANAGERS),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "sleepovers:constellation": Spec(
        kwargs=lambda w: {"pk": w.constellation.pk},
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "sleepovers:update_limits": Spec(
        kwargs=lambda w: {"pk": w.constellation.pk},
        method="post",
        data={"max_consecutive_nights": 4, "yearly_allowance_nights": 30},
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    "sleepovers:grant_override": Spec(
        kwargs=lambda w: {"pk": w.constellation.pk},
        method="post",
        data=lambda w: {
            "child": w.child.pk,
            **_later_days(12),
            "reason": "A long weekend while the family moves house",
        },
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "sleepovers:arrange_cover": Spec(
        kwargs=lambda w: {"pk": w.constellation.pk},
        method="post",
        data=_cover_data,
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "sleepovers:withdraw_override": Spec(
        kwargs=_override_pk,
        method="post",
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "sleepovers:end_cover": Spec(
        kwargs=_cover_pk,
        method="post",
        allowed=MANAGERS,
        wrong_role=("satellite_carer", D403),
        other_constellation="other_liaison",
    ),
    # The hub's live blocks, polled by its inbox and its home page: only its own carers.
    **{
        f"sleepovers:{name}": Spec(
            kwargs=_hub_pk,
            allowed=("hub_carer", "second_hub_carer"),
            wrong_role=("satellite_carer", D403),
            other_constellation="other_hub_carer",
        )
        for name in ("inbox_live", "home_live")
    },
    "sleepovers:temporary": Spec(
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        list_of=lambda w: [w.child.known_as, w.neighbour_child.known_as],
    ),
    "sleepovers:end_placement": Spec(
        kwargs=_placement_pk,
        method="post",
        data=lambda w: {"to": w.neighbour.pk, "reason": "A new placement with the Brookes"},
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "api:sleepover-list": Spec(
        anonymous=ANON_401,
        allowed=VIEWERS,
        data=lambda w: (_sleepover(w), {})[1],
        list_of=lambda w: ["Mara", "The Ashfords"],
    ),
    "api:sleepover-detail": Spec(
        kwargs=_sleepover_pk,
        anonymous=ANON_401,
        allowed=VIEWERS,
        wrong_role=("neighbour_carer", D404),
        other_constellation="other_hub_carer",
    ),
    **{
        f"api:sleepover-{verb}": Spec(
            kwargs=_sleepover_pk,
            method="post",
            anonymous=ANON_401,
            wrong_role=("satellite_carer", D403),
            other_constellation="other_hub_carer",
        )
        for verb in SLEEPOVER_HUB_ACTIONS
    },
    **{
        f"api:sleepover-{verb}": Spec(
            kwargs=_sleepover_pk,
            method="post",
            anonymous=ANON_401,
            wrong_role=("hub_carer", D403),
            other_constellation="other_satellite_carer",
        )
        for verb in SLEEPOVER_REQUESTER_ACTIONS
    },
    "api:hub-nights": Spec(
        kwargs=_hub_pk,
        anonymous=ANON_401,
        allowed=(*VIEWERS, "neighbour_carer"),
        wrong_role=("nobody", D404),
        other_constellation="other_satellite_carer",
    ),
    "api:hub-unavailability-list": Spec(
        anonymous=ANON_401,
        allowed=VIEWERS,
        data=lambda w: _away(w),
        list_of=lambda w: ["Our summer holiday"],
    ),
    "api:hub-unavailability-withdraw": Spec(
        kwargs=_away_pk,
        method="post",
        json=True,
        anonymous=ANON_401,
        allowed=("hub_carer", *MANAGERS),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    "api:hub-cover-list": Spec(
        anonymous=ANON_401,
        allowed=VIEWERS,
        data=lambda w: (_cover(w), {})[1],
        list_of=lambda w: ["Hub carers at a wedding"],
    ),
    "api:hub-cover-end": Spec(
        kwargs=_cover_pk,
        method="post",
        json=True,
        anonymous=ANON_401,
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "api:limit-override-list": Spec(
        anonymous=ANON_401,
        allowed=MANAGERS,
        data=lambda w: (_override(w), {})[1],
        list_of=lambda w: ["Birthday week with the hub family"],
    ),
    "api:limit-override-withdraw": Spec(
        kwargs=_override_pk,
        method="post",
        json=True,
        anonymous=ANON_401,
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    "api:sleepover-end-placement": Spec(
        kwargs=_placement_pk,
        method="post",
        json=True,
        data=lambda w: {"to": w.neighbour.pk, "reason": "A new placement with the Brookes"},
        anonymous=ANON_401,
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_constellation="other_liaison",
    ),
    # Staff who do not oversee the child are refused with a 400 naming it, as the API's
    # other create endpoints refuse what the caller may not name: see the test below.
    "api:sleepover-temporary": Spec(
        method="post",
        json=True,
        data=lambda w: _temporary_body(w),
        anonymous=ANON_401,
        allowed=MANAGERS,
        wrong_role=("hub_carer", D403),
        other_service=None,
    ),
    "api:me": Spec(anonymous=ANON_401, allowed=(*VIEWERS, "nobody")),
    # A path under /api/v1/ that names no endpoint: a JSON 404 for everyone signed in.
    "api:not-found": Spec(kwargs=lambda w: {"rest": "no-such-thing/"}, anonymous=ANON_401),
    "api-schema": Spec(anonymous=ANON_401, allowed=VIEWERS),
    "api-docs": Spec(anonymous=ANON_401, allowed=VIEWERS),
    "api:constellation-list": Spec(
        anonymous=ANON_401,
        allowed=VIEWERS,
        list_of=lambda w: [w.constellation.name],
    ),
    "api:constellation-detail": Spec(
        kwargs=lambda w: {"pk": w.constellation.pk},
        anonymous=ANON_401,
        allowed=VIEWERS,
        wrong_role=("social_worker", D404),
        other_constellation="other_hub_carer",
    ),
    "api:household-list": Spec(
        anonymous=ANON_401,
        allowed=VIEWERS,
        list_of=lambda w: [w.satellite.name],
    ),
    "api:household-detail": Spec(
        kwargs=lambda w: {"pk": w.satellite.pk},
        anonymous=ANON_401,
        allowed=VIEWERS,
        wrong_role=("nobody", D404),
        other_constellation="other_satellite_carer",
    ),
    "api:child-list": Spec(
        anonymous=ANON_401,
        allowed=VIEWERS,
        list_of=lambda w: [w.child.known_as],
    ),
    "api:child-detail": Spec(
        kwargs=lambda w: {"pk": w.child.pk},
        anonymous=ANON_401,
        allowed=(*VIEWERS, "social_worker"),
        wrong_role=("nobody", D404),
        other_constellation="other_hub_carer",
    ),
    # --- notifications: each person's own (another's notification is a 404) ---------
    "notifications:centre": Spec(
        allowed=(*VIEWERS, "nobody"),
        data=lambda w: (_notification(w), {})[1],
        list_of=lambda w: [NOTIFICATION_SUBJECT],
    ),
    "notifications:open": Spec(
        kwargs=_notification_pk,
        method="post",
        allowed=("satellite_carer",),
        wrong_role=("hub_carer", D404),
        other_constellation="other_satellite_carer",
    ),
    "notifications:read_all": Spec(method="post", allowed=(*VIEWERS, "nobody")),
    "notifications:unread": Spec(allowed=(*VIEWERS, "nobody")),
    "notifications:preferences": Spec(allowed=(*VIEWERS, "nobody")),
    # Only the hub's carers; the requesting family and staff see the request (403).
    "notifications:crisis_seen": Spec(
        kwargs=_crisis_pk,
        method="post",
        allowed=("hub_carer",),
        wrong_role=("satellite_carer", D403),
        other_constellation="other_hub_carer",
    ),
    # A form is sent to the login page; a script asking for JSON gets a JSON 403
    # (tests/notifications/test_push.py).
    "notifications:push_subscribe": Spec(
        method="post", data=_push_form, allowed=(*VIEWERS, "nobody")
    ),
    "notifications:push_unsubscribe": Spec(
        method="post",
        data=lambda w: {"endpoint": f"https://{PUSH_HOST}/send/ashford"},
        allowed=(*VIEWERS, "nobody"),
    ),
    "service_worker": Spec(anonymous=PUBLIC, allowed=VIEWERS, other_service=None),
    "api:notification-list": Spec(
        anonymous=ANON_401,
        allowed=(*VIEWERS, "nobody"),
        data=lambda w: (_notification(w), {})[1],
        list_of=lambda w: [NOTIFICATION_SUBJECT],
    ),
    "api:notification-read": Spec(
        kwargs=_notification_pk,
        method="post",
        json=True,
        anonymous=ANON_401,
        allowed=("satellite_carer",),
        wrong_role=("hub_carer", D404),
        other_constellation="other_satellite_carer",
    ),
    "api:notification-read-all": Spec(
        method="post", json=True, anonymous=ANON_401, allowed=(*VIEWERS, "nobody")
    ),
    "api:notification-preferences": Spec(anonymous=ANON_401, allowed=(*VIEWERS, "nobody")),
    "api:push-subscriptions": Spec(
        anonymous=ANON_401,
        allowed=(*VIEWERS, "nobody"),
        data=lambda w: (_push_subscription(w), {})[1],
        list_of=lambda w: [PUSH_HOST],
    ),
}


# The calendar's entries live beside its tests, one file per part of it.
def _calendar_entries() -> dict:
    import sys

    from tests.calendar_events import (
        access_api,
        access_feeds,
        access_manage,
        access_pages,
        access_public,
    )

    module = sys.modules[__name__]
    found: dict[str, Spec] = {}
    for part in (access_pages, access_manage, access_feeds, access_api, access_public):
        found.update(part.entries(module))
    return found


SPEC.update(_calendar_entries())


# Regular contact, the liaison worker's desk, memberships and their API (issue 11).
def _contact_entries() -> dict:
    import sys

    from tests.constellation import (
        access_contact,
        access_contact_api,
        access_dashboards,
        access_desk,
        access_membership,
    )

    module = sys.modules[__name__]
    found: dict[str, Spec] = {}
    for part in (
        access_contact,
        access_desk,
        access_membership,
        access_contact_api,
        access_dashboards,
    ):
        found.update(part.entries(module))
    return found


SPEC.update(_contact_entries())


# The installable app: its manifest and the offline page.
def _app_entries() -> dict:
    import sys

    from tests.notifications import access_app

    return access_app.entries(sys.modules[__name__])


SPEC.update(_app_entries())


# The audit trail: administrators' and fostering managers'.
def _audit_entries() -> dict:
    import sys

    from tests.people import access_audit

    return access_audit.entries(sys.modules[__name__])


SPEC.update(_audit_entries())

# Write methods of API detail endpoints, tried as well as their reads.
API_WRITES = {
    "api:household-detail": ("patch", {"phone": "07700 900123"}, "satellite_carer"),
    "api:child-detail": ("patch", {"allergies": "None"}, "hub_carer"),
}

PRODUCT_URLS = [
    (route, name)
    for route, name in ALL_URLS
    if not route.startswith(ADMIN_PREFIX) and not route.startswith("accounts/")
]
ACCOUNT_URLS = [(route, name) for route, name in ALL_URLS if route.startswith("accounts/")]
ADMIN_URLS = [(route, name) for route, name in ALL_URLS if route.startswith(ADMIN_PREFIX)]


def test_every_url_has_an_entry():
    missing = [name for _, name in PRODUCT_URLS if name not in SPEC]
    assert not missing, f"URLs without an access entry in tests/test_access_matrix.py: {missing}"
    stale = set(SPEC) - {name for _, name in PRODUCT_URLS}
    assert not stale, f"entries for URLs that no longer exist: {stale}"


@pytest.fixture
def matrix(world):
    world.nobody = UserFactory(email="nobody@test.example")
    world.other_satellite_carer = world.other_satellite_carer
    return world


# Responses that hold no personal data and may be cached by anyone.
PUBLIC_CACHEABLE = {"service_worker", "manifest"}
# The offline page (the hub's and out-of-hours numbers) is kept on the phone by the
# service worker: private, never shared, revalidated each time.
KEPT_OFFLINE = {"offline"}


def _assert_not_stored(response, name: str) -> None:
    """Every page, fragment, API answer, feed and export may hold personal data:
    no browser or cache between may store it (``Cache-Control: no-store, private``)."""
    cache_control = response.get("Cache-Control", "")
    if name.split(":")[-1] in PUBLIC_CACHEABLE and "public" in cache_control:
        return
    if name.split(":")[-1] in KEPT_OFFLINE:
        assert "private" in cache_control, (name, cache_control)
        assert "public" not in cache_control, (name, cache_control)
        return
    assert "no-store" in cache_control, (name, cache_control)
    assert "private" in cache_control, (name, cache_control)


def _call(client, spec: Spec, world, name: str):
    url = reverse(name, kwargs=spec.kwargs(world))
    data = spec.data(world) if callable(spec.data) else spec.data
    if spec.json:
        response = getattr(client, spec.method)(url, data, content_type="application/json")
    else:
        response = getattr(client, spec.method)(url, data)
    _assert_not_stored(response, name)
    return response


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the product --------------------------------------------------------------------
# One test per URL, checking every kind of caller in turn (one world per URL keeps
# the matrix fast enough to run on every change).


def _check_anonymous(client, spec, world, name):
    response = _call(client, spec, world, name)
    if spec.anonymous == ANON_LOGIN:
        assert _is_login_redirect(response), ("anonymous", response.status_code)
    elif spec.anonymous == ANON_401:
        assert response.status_code == 401, ("anonymous", response.status_code)
    else:
        assert response.status_code in {200, 404, 410}, ("anonymous", response.status_code)


def _check_allowed(client, spec, world, name):
    for who in spec.allowed:
        client.force_login(getattr(world, who))
        response = _call(client, spec, world, name)
        assert response.status_code in {200, 201, 302}, (who, response.status_code)
        if response.status_code == 302:
            assert not _is_login_redirect(response), who


def _check_wrong_role(client, spec, world, name):
    who, expected = spec.wrong_role
    client.force_login(getattr(world, who))
    response = _call(client, spec, world, name)
    assert response.status_code in expected, (who, response.status_code)


def _check_other_constellation(client, spec, world, name):
    client.force_login(getattr(world, spec.other_constellation))
    response = _call(client, spec, world, name)
    assert response.status_code == 404, (spec.other_constellation, response.status_code)


def _check_other_service(client, spec, world, name):
    for who in (spec.other_service, "other_service_liaison", "other_service_hub_carer"):
        client.force_login(getattr(world, who))
        response = _call(client, spec, world, name)
        if spec.aims_at_object(world):
            assert response.status_code == 404, (who, response.status_code)
        else:
            assert response.status_code in {200, 302, 403}, (who, response.status_code)
            body = response.content.decode()
            for secret in spec.list_of(world) if spec.list_of else []:
                assert secret not in body, (who, secret)


@pytest.mark.parametrize("name", sorted(SPEC))
def test_access(client, matrix, name):
    spec = SPEC[name]
    _check_anonymous(client, spec, matrix, name)
    if spec.wrong_role:
        _check_wrong_role(client, spec, matrix, name)
    if spec.other_constellation:
        _check_other_constellation(client, spec, matrix, name)
    if spec.other_service:
        _check_other_service(client, spec, matrix, name)
    # Last, as the allowed calls may change state (an activation, a new invitation).
    _check_allowed(client, spec, matrix, name)


@pytest.mark.parametrize("name", sorted(API_WRITES))
def test_api_writes(client, matrix, name):
    spec = SPEC[name]
    method, data, wrong = API_WRITES[name]
    url = reverse(name, kwargs=spec.kwargs(matrix))
    send = lambda: getattr(client, method)(url, data, content_type="application/json")  # noqa: E731
    assert send().status_code == 401
    client.force_login(getattr(matrix, wrong))
    assert send().status_code == 403
    client.force_login(matrix.other_liaison)
    assert send().status_code == 404
    client.force_login(matrix.other_service_manager)
    assert send().status_code == 404
    client.force_login(matrix.liaison)
    assert send().status_code == 200


# --- the temporary placement API names its child in the body ---------------------------


def test_the_temporary_placement_api_arranges_nothing_for_who_does_not_oversee_the_child(
    client, matrix
):
    from sleepovers.access import PLACEMENT_CHILD_MESSAGE
    from sleepovers.models import Kind, Request

    url = reverse("api:sleepover-temporary")
    refused = {
        "hub_carer": 403,
        "satellite_carer": 403,
        "social_worker": 403,
        "other_service_hub_carer": 403,
        "other_liaison": 400,
        "other_service_manager": 400,
        "other_service_liaison": 400,
    }
    for who, status in refused.items():
        client.force_login(getattr(matrix, who))
        response = client.post(url, _temporary_body(matrix), content_type="application/json")
        assert response.status_code == status, (who, response.status_code)
        if status == 400:
            assert response.json() == {"child": [PLACEMENT_CHILD_MESSAGE]}, who
    assert not Request.objects.filter(kind=Kind.TEMPORARY).exists()


# --- the invitation link is public, but only a real token opens it -------------------


def test_an_open_invitation_opens_and_a_used_one_does_not(client, matrix):
    from people.services import invite

    token = invite(matrix.nobody, by=matrix.liaison)
    url = reverse("people:accept_invitation", kwargs={"token": token})
    assert client.get(url).status_code == 200
    Invitation.objects.filter(user=matrix.nobody).update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get(url).status_code in {404, 410}


# --- allauth ----------------------------------------------------------------------


@pytest.mark.parametrize(("route", "name"), ACCOUNT_URLS)
def test_account_pages(client, db, route, name):
    url = reverse(name, kwargs=ACCOUNT_KWARGS.get(name, {}))
    response = client.get(url)
    _assert_not_stored(response, name)
    if name in ACCOUNT_PUBLIC:
        assert response.status_code in {200, 302}
    else:
        assert _is_login_redirect(response), (name, response.status_code)


# --- Django's admin --------------------------------------------------------------


def _admin_url(route: str, name: str) -> str:
    from django.urls.exceptions import NoReverseMatch

    values = {"app_label": "people", "object_id": "1", "content_type_id": "1", "id": "1"}
    regex = dict(ALL_URLS_PATTERNS)[name].pattern.regex
    if regex.groupindex:
        kwargs = {k: values.get(k, "1") for k in regex.groupindex}
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            return reverse(name, args=list(kwargs.values()))
    return reverse(name, args=["1"] * regex.groups)


ALL_URLS_PATTERNS = []


def _collect_patterns(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(n for n in (namespace, pattern.namespace) if n)
            _collect_patterns(pattern, ns)
        elif pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            ALL_URLS_PATTERNS.append((name, pattern))


_collect_patterns(get_resolver())


@pytest.mark.parametrize(("route", "name"), [u for u in ADMIN_URLS if u[1] != "admin:None"])
def test_admin_pages_need_an_administrator(client, db, route, name):
    url = _admin_url(route, name)
    if name == "admin:login":
        # The admin's own password form is never shown: the product's login is.
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        client.force_login(UserFactory(is_staff=False))
        assert client.get(url).status_code == 403
        return
    response = client.get(url)
    assert response.status_code in {302, 404}
    if response.status_code == 302:
        assert "/admin/login/" in response["Location"] or name.endswith(("login", "logout"))
    client.force_login(UserFactory(is_staff=False))
    response = client.get(url)
    assert response.status_code in {302, 404}
    if response.status_code == 302:
        assert "/admin/login/" in response["Location"] or name.endswith(("login", "logout"))
