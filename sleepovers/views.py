"""Sleepover pages: the hub's inbox, a family's requests and bookings, the crisis
button, the request page with its live status, the hub's nights and beds.

Each view fetches through ``access.py`` (404 outside what the user sees, 403 for a
visible request they may not act on), validates a form, calls one service and
answers with a message. A ``ValidationError`` from a service goes on the form's
field and the page comes back with status 400; a refusal (``ActionRefused``,
``NightFull``) is shown as a message."""

import calendar
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_events import selectors as calendar_pages
from constellation.models import (
    Constellation,
    Household,
    HubCover,
)
from constellation.services import ActionRefused
from notifications.selectors import crisis_alert_status, raised_in_words
from people.roles import roles_for
from people.sessions import background_poll

from . import access, selectors, services
from .forms import (
    AcceptForm,
    BedsForm,
    BookingForm,
    CancelForm,
    CoverForm,
    CrisisForm,
    DeclineForm,
    DidNotArriveForm,
    EndPlacementForm,
    LimitsForm,
    MonthForm,
    OfferForm,
    OverrideForm,
    RequestFilterForm,
    TemporaryPlacementForm,
    UnavailabilityForm,
    attach_errors,
    own_children,
)
from .models import (
    HOLDING_BEDS,
    OPEN,
    BedChange,
    Kind,
    LimitOverride,
    Request,
    Status,
    Unavailability,
    tonight,
)

GET_POST = require_http_methods(["GET", "POST"])
# A status that can still change: the request page keeps polling.
LIVE = OPEN | (HOLDING_BEDS - {Status.COLLECTED})
AVAILABILITY_WEEKS = 8


def _posted(request):
    """Bind a form on POST, even an empty one, so that missing fields show as errors."""
    return request.POST if request.method == "POST" else None


def _back(request, fallback):
    """Back where the action was taken (the inbox, the home page), or the fallback."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


# --- the landing page: one per role ------------------------------------------------------


@login_required
@require_GET
def index(request):
    roles = roles_for(request.user)
    if roles.can_manage:
        return _staff_requests(request)
    if roles.is_hub_carer:
        return _inbox(request)
    if roles.household_id is not None:
        return _my_requests(request, roles)
    context = {}
    if roles.is_social_worker:
        # The stays and breaks asked for the children whose case they hold.
        rows = selectors.with_children(
            Request.objects.visible_to(request.user).filter(
                pk__in=Request.objects.for_children_of(request.user)
            )
        ).order_by("-created_at", "-pk")
        page = Paginator(rows, 25).get_page(request.GET.get("page"))
        access.RequestViewer(request.user).attach(page, records=False)
        context["page"] = page
    return render(request, "sleepovers/index.html", context)


def _page_number(request, key: str = "page") -> int:
    """The page asked for in the query string; anything but a whole number is the
    first page (the selector takes an out-of-range number as the nearest page)."""
    value = request.GET.get(key, "")
    return int(value) if value.isascii() and value.isdigit() else 1


def _inbox(request):
    hub = access.hub_of_user(request.user)
    if hub is None:
        return render(request, "sleepovers/index.html")
    return render(request, "sleepovers/inbox.html", _inbox_context(request, hub))


def _my_requests(request, roles):
    rows = selectors.with_children(
        Request.objects.visible_to(request.user).filter(household_id=roles.household_id)
    ).order_by("-created_at", "-pk")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    access.RequestViewer(request.user).attach(page, records=False)
    return render(
        request,
        "sleepovers/my_requests.html",
        {
            "page": page,
            "can_book": not roles.is_hub_carer,
            **selectors.cover_duty(
                request.user,
                roles.household_id,
                timezone.localdate(),
                page=_page_number(request, "cover_page"),
            ),
        },
    )


def _staff_requests(request):
    user = request.user
    constellations = Constellation.objects.with_full_child_records_for(user)
    households = (
        Household.objects.visible_to(user).filter(kind=Household.Kind.SATELLITE).order_by("name")
    )
    form = RequestFilterForm(request.GET or None, households=households)
    rows = selectors.with_children(
        Request.objects.visible_to(user).filter(constellation__in=constellations)
    ).select_related("constellation")
    status = 200
    if form.is_bound:
        if form.is_valid():
            chosen = {k: v for k, v in form.cleaned_data.items() if v}
            rows = rows.filter(**chosen)
        else:
            status, rows = 400, rows.none()
    page = Paginator(rows.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    access.RequestViewer(user).attach(page, records=False)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sleepovers/requests.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "fairness": selectors.fairness(user, constellations, timezone.localdate()),
            "fairness_year": timezone.localdate().year,
            "managed": Constellation.objects.managed_by(user).order_by("name"),
        },
        status=status,
    )


# --- the hub's live blocks: polled, re-rendered only when they changed ---------------------


def _inbox_context(request, hub: Household, *, version=None, polled: bool = False) -> dict:
    """What the inbox's live block shows: a page of the hub's open requests and the
    version it was read at (read first, so that a change in between shows at the next
    poll). When ``polled``, the cards that came after the page's version are marked new."""
    user = request.user
    version = version or selectors.inbox_version(user, hub)
    inbox = selectors.hub_inbox(
        user, hub, page=_page_number(request), now=version.now, counts=version.counts
    )
    # Where an answer given on a card comes back to: this page of the inbox.
    back = reverse("sleepovers:index") + (f"?page={inbox.number}" if inbox.number > 1 else "")
    context = {"hub": hub, "inbox": inbox, "version": version, "next": back}
    if polled:
        context.update(_news(inbox.rows, request.GET.get("v", "")))
    return context


def _news(rows: list[Request], seen_version: str) -> dict:
    """For a polled block: its cards that are new since the page's version."""
    selectors.mark_new(rows, selectors.seen_request(seen_version))
    return {"polled": True, "new_rows": [r for r in rows if r.is_new]}


@background_poll
@login_required
@require_GET
def inbox_live(request, pk):
    """The hub's inbox's live block, polled by the inbox page every 10 s: nothing to
    swap (204) while the page's version (``v``) is the current one, so the server does
    not re-render it and nothing the hub carer is typing is touched; else the block
    again (the page asked for, as ``page`` gives it), its new cards marked."""
    hub = access.get_hub_to_answer(request.user, pk)
    version = selectors.inbox_version(request.user, hub)
    if request.GET.get("v") == version.value:
        return HttpResponse(status=204)
    context = _inbox_context(request, hub, version=version, polled=True)
    return render(request, "sleepovers/_inbox_live.html", context)


@background_poll
@login_required
@require_GET
def home_live(request, pk):
    """The hub carer's home page's live block (the requests to answer, tonight and the
    week, the covers), polled every 10 s: 204 while the page's version (``v``) is the
    current one, else the block again, its new cards marked."""
    user = request.user
    hub = access.get_hub_to_answer(user, pk)
    today = tonight()
    version = selectors.hub_home_version(user, hub, today)
    if request.GET.get("v") == version.value:
        return HttpResponse(status=204)
    context = {"hub": hub, **selectors.hub_home(user, hub, today, version=version)}
    context.update(_news(context["inbox"].rows, request.GET.get("v", "")))
    return render(request, "home/_hub_live.html", context)


# --- asking -----------------------------------------------------------------------------


def _asking_household(user):
    """The household a carer asks for; the hub's own carers and staff do not ask."""
    roles = roles_for(user)
    if roles.household_id is None or roles.is_hub_carer:
        raise PermissionDenied("Sleepovers are asked for by the satellite households' carers.")
    constellation = (
        Constellation.objects.visible_to(user)
        .filter(pk__in=roles.satellite_constellation_ids)
        .select_related("hub", "service")
        .first()
    )
    return roles.household_id, constellation


@login_required
@GET_POST
def new(request):
    user = request.user
    household_id, constellation = _asking_household(user)
    children = own_children(user, household_id)
    year = timezone.localdate().year
    tallies = services.planned_tally(list(children), year)
    form = BookingForm(_posted(request), children=children, tallies=tallies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sleepover = services.create_request(
                by=user,
                kind=data["kind"],
                children=list(data["children"]),
                start=data["start"],
                end=data["end"],
                notes=data["notes"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, "Sent to the hub. Their answer shows on this page.")
            return redirect(sleepover)
    context = {"form": form, "constellation": constellation}
    hub = constellation.hub if constellation else None
    if hub is not None:
        today = timezone.localdate()
        context.update(
            limits=services.settings_for(constellation),
            away=Unavailability.objects.filter(hub=hub).covering(today, today + timedelta(days=90)),
            covers=HubCover.objects.overlapping(today, today + timedelta(days=90))
            .filter(constellation=constellation)
            .select_related("stand_in"),
        )
    return render(
        request,
        "sleepovers/new.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@login_required
@GET_POST
def crisis(request):
    user = request.user
    household_id, constellation = _asking_household(user)
    children = own_children(user, household_id)
    form = CrisisForm(_posted(request), children=children, tallies={c.pk: None for c in children})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start = timezone.now()
        try:
            sleepover = services.create_request(
                by=user,
                kind=Kind.CRISIS,
                children=list(data["children"]),
                start=start,
                end=services.crisis_end(start, data["crisis_reason"], data["until"]),
                notes=data["notes"],
                crisis_reason=data["crisis_reason"],
            )
        except ValidationError as error:
            attach_errors(form, error, rename={"end": "until", "start": "until"})
        else:
            messages.warning(request, raised_in_words(sleepover))
            return redirect(sleepover)
    hub = constellation.hub if constellation else None
    context = {"form": form, "constellation": constellation}
    if hub is not None:
        # Whoever answers now: the stand-in while it covers for the hub.
        cover = selectors.cover_on(constellation, timezone.localdate())
        context.update(
            selectors.hub_phones(cover.stand_in if cover else hub),
            service=constellation.service,
            cover=cover,
        )
    return render(
        request,
        "sleepovers/crisis.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


# --- the request page and its live status ---------------------------------------------------


def _live_version(sleepover: Request):
    """What the status block shows that can change by itself: the status and where
    the crisis alerting stands. Returns (the alert's status or None, a version)."""
    crisis = crisis_alert_status(sleepover)
    return crisis, f"{sleepover.status}.{crisis.version if crisis else ''}"


def _status_context(user, sleepover: Request, viewer: access.RequestViewer | None = None) -> dict:
    """What the request page and its status fragment show: its children as
    ``access.RequestViewer`` decides for this user now."""
    is_hub = access.is_hub_carer(user, sleepover)
    is_requester = access.is_requester(user, sleepover)
    viewer = viewer or access.RequestViewer(user)
    crisis, version = _live_version(sleepover)
    return {
        "crisis": crisis,
        "version": version,
        "sleepover": sleepover,
        "is_hub": is_hub,
        "is_requester": is_requester,
        "actions": selectors.actions_for(sleepover, is_hub=is_hub, is_requester=is_requester),
        "live": sleepover.status in LIVE,
        "children": viewer.children(sleepover),
        "whole": viewer.sees_whole(sleepover),
    }


def _render_request(request, sleepover: Request, *, forms=None, status=200):
    user = request.user
    viewer = access.RequestViewer(user)
    context = _status_context(user, sleepover, viewer)
    context.update(
        selectors.hub_phones(sleepover.hub),
        forms=forms or {},
        service=sleepover.constellation.service,
        timeline=sleepover.timeline.select_related("by"),
    )
    # Each child's record, for those who see it in full now: the view is logged.
    context["at_hand"] = any(c.full for c in context["children"])
    viewer.log(context["children"])
    context["can_end_placement"] = (
        sleepover.kind == Kind.TEMPORARY
        and sleepover.status == Status.ARRIVED
        and Constellation.objects.managed_by(user).filter(pk=sleepover.constellation_id).exists()
    )
    if context["can_end_placement"] and "end_placement" not in context["forms"]:
        context["forms"]["end_placement"] = EndPlacementForm(user=user, sleepover=sleepover)
    context["show_beds"] = sleepover.status in OPEN and bool(sleepover.nights)
    if context["show_beds"]:
        selectors.attach_beds(sleepover.hub, [sleepover])
    return render(request, "sleepovers/request.html", context, status=status)


@login_required
@require_GET
def request_detail(request, pk):
    return _render_request(request, access.get_request_for(request.user, pk))


@background_poll
@login_required
@require_GET
def request_status(request, pk):
    """The status block, polled by the request page. Nothing to swap (204) while the
    status and the crisis alerting are as the page shows them, so a half-typed reason
    is never lost; the page polls every 10 s (issue 9: changes show within 15 s)."""
    sleepover = access.get_request_for(request.user, pk)
    if request.GET.get("seen") == _live_version(sleepover)[1]:
        return HttpResponse(status=204)
    return render(request, "sleepovers/_status.html", _status_context(request.user, sleepover))


# --- actions: one small POST view per verb, each calling one service ---------------------


def _act(request, sleepover, call, *, done, form=None, key=""):
    """Validate the form, call the service, answer. Bad input: the request page again
    with the form's errors, status 400, nothing saved. A refusal: its message."""
    if form is not None and not form.is_valid():
        return _render_request(request, sleepover, forms={key: form}, status=400)
    try:
        result = call(form.cleaned_data if form is not None else {})
    except ValidationError as error:
        if form is None:
            messages.error(request, " ".join(error.messages))
            return _back(request, sleepover)
        attach_errors(form, error)
        return _render_request(request, sleepover, forms={key: form}, status=400)
    except ActionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done(result))
    return _back(request, sleepover)


def _accepted(result: Request) -> str:
    if result.status == Status.AWAITING_APPROVAL:
        return (
            "Accepted for the hub. It now waits for the approval the delegated authority "
            "needs; the family sees that it is waiting."
        )
    if result.emergency_over_beds:
        return "Accepted as an emergency arrangement beyond the beds."
    return f"Accepted. {result.household} can see it now."


@login_required
@require_POST
def accept(request, pk):
    sleepover = access.get_request_for_hub(request.user, pk)
    return _act(
        request,
        sleepover,
        lambda data: services.accept(
            sleepover, by=request.user, emergency=data["emergency"] and sleepover.is_crisis
        ),
        form=AcceptForm(request.POST),
        key="accept",
        done=_accepted,
    )


@login_required
@require_POST
def decline(request, pk):
    sleepover = access.get_request_for_hub(request.user, pk)
    return _act(
        request,
        sleepover,
        lambda data: services.decline(sleepover, by=request.user, reason=data["reason"]),
        form=DeclineForm(request.POST),
        key="decline",
        done=lambda r: f"Declined. {r.household} sees your reason.",
    )


@login_required
@require_POST
def offer(request, pk):
    sleepover = access.get_request_for_hub(request.user, pk)
    return _act(
        request,
        sleepover,
        lambda data: services.offer(
            sleepover, by=request.user, start=data["start"], end=data["end"]
        ),
        form=OfferForm(request.POST, auto_id=f"offer-{pk}-%s"),
        key="offer",
        done=lambda r: f"Another time offered to {r.household}.",
    )


@login_required
@require_POST
def take_offer(request, pk):
    sleepover = access.get_request_for_requester(request.user, pk)

    def done(result):
        if result.status == Status.AWAITING_APPROVAL:
            return "You took the offered time. It waits for an approval; this page shows it."
        return "You took the offered time: the stay is booked."

    return _act(
        request,
        sleepover,
        lambda data: services.take_offer(sleepover, by=request.user),
        done=done,
    )


@login_required
@require_POST
def cancel(request, pk):
    sleepover = access.get_request_for_requester(request.user, pk)
    was_offer = sleepover.status == Status.OFFERED
    return _act(
        request,
        sleepover,
        lambda data: services.cancel(sleepover, by=request.user, reason=data["reason"]),
        form=CancelForm(request.POST, auto_id=f"cancel-{pk}-%s"),
        key="cancel",
        done=lambda r: (
            "Offer refused: the request is closed."
            if was_offer
            else "Cancelled. The hub sees your reason."
        ),
    )


@login_required
@require_POST
def arrived(request, pk):
    sleepover = access.get_request_for_hub(request.user, pk)
    return _act(
        request,
        sleepover,
        lambda data: services.arrived(sleepover, by=request.user),
        done=lambda r: "Recorded: arrived at the hub.",
    )


@login_required
@require_POST
def collected(request, pk):
    sleepover = access.get_request_for_hub(request.user, pk)
    return _act(
        request,
        sleepover,
        lambda data: services.collected(sleepover, by=request.user),
        done=lambda r: "Recorded: collected.",
    )


@login_required
@require_POST
def did_not_arrive(request, pk):
    sleepover = access.get_request_for_hub(request.user, pk)
    return _act(
        request,
        sleepover,
        lambda data: services.did_not_arrive(sleepover, by=request.user, note=data["note"]),
        form=DidNotArriveForm(request.POST, auto_id=f"dna-{pk}-%s"),
        key="did_not_arrive",
        done=lambda r: "Recorded: did not arrive. The beds are free again.",
    )


# --- the hub's nights, availability and beds ---------------------------------------------


def _hubs(user):
    return list(
        Constellation.objects.visible_to(user)
        .filter(hub__isnull=False)
        .select_related("hub")
        .order_by("name")
    )


# The largest id the database holds: a longer number in a query is no record of ours.
ID_MAX = 2**63 - 1


def _id_param(value: str, missing: str) -> int:
    """A record's id from a query parameter: ASCII digits only ("²" and "٣" are digits
    to Python, not to the database), within the database's range, else 404."""
    if not (value.isascii() and value.isdigit()) or int(value) > ID_MAX:
        raise Http404(missing)
    return int(value)


def _hub_for(request) -> Household:
    """The hub a page is about: ``?hub=`` when given (404 outside what the user sees),
    else the user's own constellation's hub, else the first they oversee."""
    user = request.user
    asked = request.GET.get("hub", "")
    if asked:
        return access.get_hub_for(user, _id_param(asked, "No such hub."))
    hub = access.hub_of_user(user)
    if hub is None and roles_for(user).can_manage:
        first = next(iter(_hubs(user)), None)
        hub = first.hub if first else None
    if hub is None:
        raise PermissionDenied("There is no hub home to show you.")
    return hub


def _month_after(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


@login_required
@require_GET
def nights(request):
    user = request.user
    hub = _hub_for(request)
    form = MonthForm(request.GET)
    context = {"hub": hub, "form": form, "hubs": _hubs(user) if roles_for(user).can_manage else []}
    if not form.is_valid():
        return render(request, "sleepovers/nights.html", context, status=400)
    first = form.cleaned_data["month"]
    following = _month_after(first)
    last = following - timedelta(days=1)
    full = access.sees_guests(user, hub)
    context.update(
        full=full,
        month=first,
        previous=(first - timedelta(days=1)).replace(day=1),
        following=following,
        rows=selectors.nights_with_guests(hub, first, last, guests=full),
        today=timezone.localdate(),
    )
    return render(request, "sleepovers/nights.html", context)


@login_required
@require_GET
def availability(request):
    hub = _hub_for(request)
    today = timezone.localdate()
    first = today - timedelta(days=today.weekday())
    last = first + timedelta(days=7 * AVAILABILITY_WEEKS - 1)
    constellation = getattr(hub, "hub_of", None)
    if constellation is None:
        # A household standing in for a hub has beds, not the hub's availability.
        raise Http404("This household is not a hub home: it has no availability to show.")
    found = selectors.hub_availability(constellation, first, last)
    days = found["days"]
    return render(
        request,
        "sleepovers/availability.html",
        {
            "hub": hub,
            "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
            "away": found["away"],
            "covers": found["covers"],
            "hub_events": calendar_pages.bed_events(request.user, constellation, first, last),
            "today": today,
            "weekdays": calendar.day_abbr,
        },
    )


def _render_beds(request, hub: Household, *, beds_form=None, away_form=None, status=200):
    today = timezone.localdate()
    return render(
        request,
        "sleepovers/beds.html",
        {
            "hub": hub,
            "beds_form": beds_form
            or BedsForm(action=reverse("sleepovers:change_beds", args=[hub.pk])),
            "away_form": away_form
            or UnavailabilityForm(action=reverse("sleepovers:add_unavailability", args=[hub.pk])),
            "changes": BedChange.objects.now_or_coming(today)
            .filter(hub=hub)
            .select_related("created_by")
            .order_by("start", "-created_at"),
            "away": Unavailability.objects.now_or_coming(today)
            .filter(hub=hub)
            .select_related("created_by"),
            "coming": selectors.nights(hub, today, today + timedelta(days=13)),
        },
        status=status,
    )


def _beds_page(hub: Household) -> str:
    return f"{reverse('sleepovers:beds')}?hub={hub.pk}"


@login_required
@require_GET
def beds(request):
    hub = access.get_managed_hub_for(request.user, _hub_for(request).pk)
    return _render_beds(request, hub)


@login_required
@require_POST
def change_beds(request, pk):
    hub = access.get_managed_hub_for(request.user, pk)
    form = BedsForm(request.POST, action=reverse("sleepovers:change_beds", args=[hub.pk]))
    if form.is_valid():
        try:
            change = services.change_beds(hub, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"{change.beds} bed{'s' if change.beds != 1 else ''} from "
                f"{change.start:%d %B} to {change.end:%d %B}.",
            )
            return redirect(_beds_page(hub))
    return _render_beds(request, hub, beds_form=form, status=400)


@login_required
@require_POST
def add_unavailability(request, pk):
    hub = access.get_managed_hub_for(request.user, pk)
    form = UnavailabilityForm(
        request.POST, action=reverse("sleepovers:add_unavailability", args=[hub.pk])
    )
    if form.is_valid():
        try:
            period = services.add_unavailability(hub, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"The families see that the hub is not available from {period.start:%d %B} "
                f"to {period.end:%d %B}.",
            )
            return redirect(_beds_page(hub))
    return _render_beds(request, hub, away_form=form, status=400)


def _attempt(request, call, *, done, back: str):
    """Call a service that needs no input: its refusal, or ``done(result)``, is the
    message on the page the user came back to."""
    try:
        result = call()
    except ActionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done(result))
    return redirect(back)


@login_required
@require_POST
def withdraw_unavailability(request, pk):
    period = access.get_unavailability_to_manage(request.user, pk)
    return _attempt(
        request,
        lambda: services.withdraw_unavailability(period, by=request.user),
        done=lambda p: f"The hub is available again from {p.start:%d %B} to {p.end:%d %B}.",
        back=_beds_page(period.hub),
    )


@login_required
@require_POST
def withdraw_bed_change(request, pk):
    change = access.get_bed_change_to_manage(request.user, pk)
    return _attempt(
        request,
        lambda: services.withdraw_bed_change(change, by=request.user),
        done=lambda c: f"The change of {c.start:%d %B} to {c.end:%d %B} is withdrawn.",
        back=_beds_page(change.hub),
    )


# --- the liaison worker's part: limits, exceptions and cover for the hub -------------------


def _settings_url(constellation: Constellation) -> str:
    return reverse("sleepovers:constellation", args=[constellation.pk])


def _render_settings(request, constellation, *, forms=None, status=200):
    user = request.user
    today = timezone.localdate()
    forms = forms or {}
    limits = services.settings_for(constellation)
    context = {
        "constellation": constellation,
        "limits": limits,
        "limits_form": forms.get("limits")
        or LimitsForm(
            initial={
                "max_consecutive_nights": limits.max_consecutive_nights,
                "yearly_allowance_nights": limits.yearly_allowance_nights,
                "crisis_escalation_minutes": limits.crisis_escalation_minutes,
            },
            action=reverse("sleepovers:update_limits", args=[constellation.pk]),
        ),
        "override_form": forms.get("override")
        or OverrideForm(
            user=user,
            constellation=constellation,
            action=reverse("sleepovers:grant_override", args=[constellation.pk]),
        ),
        "cover_form": forms.get("cover")
        or CoverForm(
            user=user,
            constellation=constellation,
            action=reverse("sleepovers:arrange_cover", args=[constellation.pk]),
        ),
        "overrides": LimitOverride.objects.now_or_coming(today)
        .filter(constellation=constellation)
        .select_related("child", "granted_by"),
        "covers": HubCover.objects.now_or_coming(today)
        .filter(constellation=constellation)
        .select_related("stand_in", "arranged_by"),
        "today": today,
    }
    return render(request, "sleepovers/constellation.html", context, status=status)


@login_required
@require_GET
def constellation_settings(request, pk):
    return _render_settings(request, access.get_constellation_to_manage(request.user, pk))


def _settings_action(request, constellation, form, key, call, done):
    """Validate, call the service, answer: the settings page again with the form's
    errors (400, nothing saved), or back to it with a message."""
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, done(result))
            return redirect(_settings_url(constellation))
    return _render_settings(request, constellation, forms={key: form}, status=400)


@login_required
@require_POST
def update_limits(request, pk):
    constellation = access.get_constellation_to_manage(request.user, pk)
    return _settings_action(
        request,
        constellation,
        LimitsForm(request.POST),
        "limits",
        lambda data: services.update_limits(constellation, by=request.user, **data),
        lambda limits: (
            f"Planned stays are at most {limits.max_consecutive_nights} "
            f"night{'s' if limits.max_consecutive_nights != 1 else ''} in a row."
        ),
    )


@login_required
@require_POST
def grant_override(request, pk):
    constellation = access.get_constellation_to_manage(request.user, pk)
    return _settings_action(
        request,
        constellation,
        OverrideForm(request.POST, user=request.user, constellation=constellation),
        "override",
        lambda data: services.grant_override(constellation, by=request.user, **data),
        lambda o: (
            f"{o.child.known_as} may be booked beyond the limits from "
            f"{o.start:%d %B} to {o.end:%d %B}."
        ),
    )


@login_required
@require_POST
def withdraw_override(request, pk):
    override = access.get_override_to_manage(request.user, pk)
    return _attempt(
        request,
        lambda: services.withdraw_override(override, by=request.user),
        done=lambda o: "Exception withdrawn: new requests keep to the limits.",
        back=_settings_url(override.constellation),
    )


@login_required
@require_POST
def arrange_cover(request, pk):
    constellation = access.get_constellation_to_manage(request.user, pk)
    return _settings_action(
        request,
        constellation,
        CoverForm(request.POST, user=request.user, constellation=constellation),
        "cover",
        lambda data: services.arrange_cover(constellation, by=request.user, **data),
        lambda c: (
            f"{c.stand_in} covers for the hub from {c.start:%d %B} to {c.end:%d %B}; "
            f"the families see it."
        ),
    )


@login_required
@require_POST
def end_cover(request, pk):
    cover = access.get_cover_to_manage(request.user, pk)
    return _attempt(
        request,
        lambda: services.end_cover(cover, by=request.user),
        done=lambda c: (
            "Cover withdrawn." if c.withdrawn_at else "Cover ended: the hub answers again from now."
        ),
        back=_settings_url(cover.constellation),
    )


# --- temporary placements -------------------------------------------------------------------


@login_required
@GET_POST
def temporary(request):
    user = request.user
    if not roles_for(user).can_manage:
        raise PermissionDenied("Temporary placements are arranged by the liaison worker.")
    form = TemporaryPlacementForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sleepover = services.arrange_temporary_placement(
                data["child"],
                by=user,
                start=data["start"],
                expected_end=data["expected_end"],
                notes=data["notes"],
            )
        except ValidationError as error:
            attach_errors(form, error)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request, "Arranged and agreed. The hub carer accepts it against the beds."
            )
            return redirect(sleepover)
    return render(
        request,
        "sleepovers/temporary.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def end_placement(request, pk):
    sleepover = access.get_temporary_placement_to_end(request.user, pk)
    return _act(
        request,
        sleepover,
        lambda data: services.end_temporary_placement(
            sleepover, by=request.user, to=data["to"], reason=data["reason"]
        ),
        form=EndPlacementForm(request.POST, user=request.user, sleepover=sleepover),
        key="end_placement",
        done=lambda r: "The move is recorded in the placement history.",
    )
