"""The read side of notifications: the notification centre, the unread count,
where a crisis request's alerting stands (shown live on the request page), and the
numbers to call that the offline page keeps on the phone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.utils import timezone

from constellation.models import Carer, Constellation, FosteringService, Household, HubCover
from people.roles import roles_for
from sleepovers.models import Request

from .models import Channel, CrisisAlert, EscalationStep, Notification

CENTRE_PAGE = 20
# The navigation shows "9+" beyond this.
BADGE_MAX = 9


def centre(user, *, page: int | str | None = 1, unread_only: bool = False) -> Page:
    """The user's own in-app notifications, newest first, ``CENTRE_PAGE`` a page.
    A page number out of range gives the last page (never an error)."""
    rows = Notification.objects.in_app_for(user).only(
        "pk", "kind", "subject", "body", "link", "created_at", "read_at"
    )
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return Paginator(rows, CENTRE_PAGE).get_page(page)


def unread_count(user) -> int:
    """How many of the user's in-app notifications are unread (one query)."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.unread_for(user).count()


class UnreadCount:
    """The unread count for the navigation, read only if a template shows it (a
    fragment polled by htmx renders without the navigation: no query)."""

    def __init__(self, user):
        self._user = user

    @cached_property
    def count(self) -> int:
        return unread_count(self._user)


@dataclass
class Reached:
    """One person (or the duty contact) alerted about a crisis, and how."""

    name: str
    channels: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    # (channel label, status value, when sent or None)


@dataclass
class AlertStatus:
    """Where the alerting of a crisis request stands, in words a carer reads at
    2 a.m.: who was alerted on which channel and when, what happens next and when
    (Europe/London), who has seen it, and a ``version`` that changes with any of it."""

    alert: CrisisAlert
    reached: list[Reached]
    next_step: str
    next_at: datetime | None
    version: str


NEXT_WORDS = {
    EscalationStep.Step.LIAISON: "the liaison worker is alerted",
    EscalationStep.Step.DUTY: "the fostering service's out-of-hours duty contact is alerted",
}


def crisis_alert_status(request: Request) -> AlertStatus | None:
    """The alert of a crisis request, or None for a request with none. Three queries."""
    alert = (
        CrisisAlert.objects.filter(request=request).select_related("seen_by").first()
        if request.kind == "crisis"
        else None
    )
    if alert is None:
        return None
    rows = (
        Notification.objects.filter(
            target_type=ContentType.objects.get_for_model(Request),
            target_id=request.pk,
            key__regex=rf"^crisis:{request.pk}:[0-9]$",
        )
        .order_by("created_at", "pk")
        .values_list("to_name", "destination", "channel", "status", "sent_at")
    )
    people: dict[str, Reached] = {}
    sent = 0
    labels = dict(Channel.choices)
    labels[Channel.IN_APP] = "the app"
    for name, destination, channel, status, sent_at in rows:
        person = people.setdefault(destination.split(":")[0] + ":" + name, Reached(name=name))
        person.channels.append((labels.get(channel, channel), status, sent_at))
        sent += status == Notification.Status.SENT
    waiting = [s for s in alert.steps.all() if s.status == EscalationStep.Status.WAITING]
    following = waiting[0] if waiting and not alert.stopped else None
    next_step = NEXT_WORDS.get(following.step, "") if following else ""
    version = "-".join(
        str(x)
        for x in (
            len(rows),
            sent,
            alert.seen_by_id or 0,
            int(alert.stopped),
            following.step if following else "x",
        )
    )
    return AlertStatus(
        alert=alert,
        reached=list(people.values()),
        next_step=next_step,
        next_at=following.due_at if following else None,
        version=version,
    )


def raised_in_words(request: Request) -> str:
    """What the carer who raised a crisis is told at once: who was alerted, and
    never that the hub was when none of its carers could be (issue 9)."""
    steps = {s.step: s.status for s in EscalationStep.objects.filter(alert__request=request)}
    done = EscalationStep.Status.DONE
    if steps.get(EscalationStep.Step.HUB) == done:
        return "Sent: the hub is alerted now. If you can, call them as well."
    if steps.get(EscalationStep.Step.LIAISON) == done:
        return (
            "Sent. Nobody at the hub could be alerted, so the liaison worker has been. "
            "Call the hub or the out-of-hours duty team now."
        )
    if steps.get(EscalationStep.Step.DUTY) == done:
        return (
            "Sent. Nobody at the hub could be alerted, so the out-of-hours duty team has "
            "been. Call them now."
        )
    return (
        "Sent, but nobody could be alerted: call the hub or the out-of-hours duty team "
        "now. In an emergency, call 999."
    )


# --- who to call when the phone has no signal ---------------------------------------


@dataclass
class HubToCall:
    """One constellation's hub (and its stand-in while one covers today), to call."""

    constellation: Constellation
    hub: Household
    hub_carers: list[Carer]
    cover: HubCover | None = None
    stand_in_carers: list[Carer] = field(default_factory=list)


@dataclass
class NumbersToCall:
    """What the offline page shows: the hubs of the user's constellations and the
    out-of-hours duty numbers of their fostering services. Phone numbers and the
    carers' first names only: never a child's record."""

    hubs: list[HubToCall]
    services: list[FosteringService]


def numbers_to_call(user, *, today: date | None = None) -> NumbersToCall:
    """The numbers the offline page of ``user`` shows (empty for anonymous).

    The hubs are of the constellations the user is in today as a satellite or hub
    carer or as their liaison worker, and every constellation of a service they
    manage; always within ``Constellation.objects.visible_to(user)``, so nothing of
    another constellation or service. A stand-in covering a hub ``today`` comes with
    it (as on the crisis page). The services are the user's own (``roles_for``) and
    those of the hubs' constellations: their out-of-hours duty numbers (DOMAIN.md,
    crisis support: "the requesting carer always sees ... the phone number to call").
    Four queries besides ``roles_for``'s (kept for the request), whatever the number
    of constellations."""
    if not user.is_authenticated:
        return NumbersToCall(hubs=[], services=[])
    today = today or timezone.localdate()
    roles = roles_for(user)
    mine = (
        roles.satellite_constellation_ids
        | roles.hub_constellation_ids
        | roles.liaison_constellation_ids
    )
    constellations = list(
        Constellation.objects.visible_to(user)
        .filter(Q(pk__in=mine) | Q(service__in=roles.managed_service_ids), hub__isnull=False)
        .select_related("hub", "service")
        .order_by("name", "pk")
    )
    covers = {
        c.constellation_id: c
        for c in HubCover.objects.on(today)
        .filter(constellation__in=[c.pk for c in constellations])
        .select_related("stand_in")
        .order_by("arranged_at", "pk")  # the latest arranged wins, as ``cover_on``
    }
    households = {c.hub_id for c in constellations} | {c.stand_in_id for c in covers.values()}
    carers: dict[int, list[Carer]] = {}
    for carer in (
        Carer.objects.current()
        .filter(household__in=households)
        .select_related("user")
        .order_by("role", "started_on", "pk")
    ):
        carers.setdefault(carer.household_id, []).append(carer)
    hubs = []
    for constellation in constellations:
        cover = covers.get(constellation.pk)
        hubs.append(
            HubToCall(
                constellation=constellation,
                hub=constellation.hub,
                hub_carers=carers.get(constellation.hub_id, []),
                cover=cover,
                stand_in_carers=carers.get(cover.stand_in_id, []) if cover else [],
            )
        )
    service_ids = set(roles.service_ids) | {c.service_id for c in constellations}
    services = list(FosteringService.objects.filter(pk__in=service_ids).order_by("name"))
    return NumbersToCall(hubs=hubs, services=services)
