"""The constellation's pages. Each view fetches through ``access.py`` (404 for what
the user cannot see, 403 for what they may see but not change), validates a form,
calls one service function and answers with a message."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import (
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    prefetch_related_objects,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_events import selectors as calendar_pages
from delegated_authority import rules as delegated_authority_rules
from notifications.preferences import crisis_channels_working
from people.models import ChildRecordAccess
from people.roles import roles_for
from sleepovers import selectors as sleepover_pages
from sleepovers.models import tonight

from . import access, services
from . import selectors as contact_pages
from .forms import (
    ActivateMembershipForm,
    CarerForm,
    ChildCreateForm,
    ChildForm,
    EndCarerForm,
    HouseholdCreateForm,
    HouseholdForm,
    MembershipReasonForm,
    MoveChildForm,
    ProposeMembershipForm,
    proposable_households,
)
from .models import (
    Activity,
    Carer,
    Child,
    Constellation,
    ConstellationMembership,
    FosteringService,
    Household,
    LiaisonAssignment,
    PlanningMeeting,
)
from .services import ActionRefused

Status = ConstellationMembership.Status
GET_POST = require_http_methods(["GET", "POST"])
HOUSEHOLD_CHECK_INS = 5


def _posted(request):
    """Bind a form on POST, even an empty one, so that missing fields show as errors."""
    return request.POST if request.method == "POST" else None


def _status(request) -> int:
    """A form shown again after a POST was refused (bad input, or a rule of the
    service): 400, so that a script or a test sees the refusal."""
    return 400 if request.method == "POST" else 200


# --- read helpers: constant numbers of queries, whatever the size ----------------------


def _count(queryset) -> Subquery:
    """A correlated COUNT(DISTINCT pk) of a queryset filtered with ``OuterRef``."""
    counted = (
        queryset.order_by()
        .annotate(
            _n=Func(F("pk"), function="COUNT", template="%(function)s(DISTINCT %(expressions)s)")
        )
        .values("_n")
    )
    return Subquery(counted, output_field=IntegerField())


def _with_counts(constellations):
    """Annotate active satellites, proposed memberships and placed children, and
    attach the size warning."""
    members = ConstellationMembership.objects.filter(constellation=OuterRef("pk"))
    children = Child.objects.filter(status=Child.Status.PLACED).filter(
        Q(household__hub_of=OuterRef("pk"))
        | Q(
            household__memberships__constellation=OuterRef("pk"),
            household__memberships__status=Status.ACTIVE,
        )
    )
    rows = list(
        constellations.select_related("service", "hub").annotate(
            active_satellites=_count(members.filter(status=Status.ACTIVE)),
            proposed_count=_count(members.filter(status=Status.PROPOSED)),
            children_count=_count(children),
        )
    )
    for constellation in rows:
        constellation.warning = constellation.size_warning(constellation.active_satellites)
    return rows


def _placed_children(user):
    return Child.objects.visible_to(user).filter(status=Child.Status.PLACED)


def _attach_children_and_carers(user, households) -> None:
    prefetch_related_objects(
        [h for h in households if h is not None],
        Prefetch("children", queryset=_placed_children(user), to_attr="placed_children"),
        Prefetch(
            "carers",
            queryset=Carer.objects.current().select_related("user"),
            to_attr="current_carers",
        ),
    )


# --- home: one page per role -----------------------------------------------------------


def _manager_home(request, roles):
    rows = _with_counts(
        Constellation.objects.visible_to(request.user).filter(
            service_id__in=roles.managed_service_ids
        )
    )
    fostering_services = list(FosteringService.objects.filter(pk__in=roles.managed_service_ids))
    for service in fostering_services:
        service.constellation_rows = [c for c in rows if c.service_id == service.pk]
    return {"fostering_services": fostering_services}


def _liaison_home(request, roles):
    user = request.user
    ids = roles.liaison_constellation_ids
    proposed = (
        ConstellationMembership.objects.visible_to(user)
        .filter(constellation_id__in=ids, status=Status.PROPOSED)
        .select_related("household", "constellation")
        .order_by("proposed_on", "household__name")
    )
    return {
        "constellations": _with_counts(Constellation.objects.visible_to(user).filter(pk__in=ids)),
        "proposed": proposed,
    }


def _hub_home(request, roles):
    user = request.user
    constellation = (
        Constellation.objects.visible_to(user)
        .filter(pk__in=roles.hub_constellation_ids)
        .select_related("hub", "service")
        .first()
    )
    households, coverage = [], []
    if constellation is not None:
        # The coverage panel's rows hold the active satellites: one read for both panels.
        coverage = contact_pages.coverage([constellation])
        satellites = sorted((row.household for row in coverage), key=lambda h: h.name)
        households = [h for h in (constellation.hub, *satellites) if h is not None]
        _attach_children_and_carers(user, households)
    context = {
        "constellation": constellation,
        "households": households,
        "coverage": coverage,
        "contact_due": sum(1 for row in coverage if row.level != contact_pages.OK),
        "contact_overdue": sum(1 for row in coverage if row.level == contact_pages.RED),
    }
    if constellation is not None and constellation.hub is not None:
        context["hub"] = constellation.hub
        context.update(sleepover_pages.hub_home(user, constellation.hub, tonight()))
        context["attendance_due"] = calendar_pages.attendance_due(user, timezone.localdate())
    return context


def _satellite_home(request, roles):
    user = request.user
    household = Household.objects.visible_to(user).filter(pk=roles.household_id).first()
    constellation = (
        Constellation.objects.visible_to(user)
        .filter(pk__in=roles.satellite_constellation_ids)
        .select_related("hub", "service")
        .first()
    )
    hub = constellation.hub if constellation else None
    _attach_children_and_carers(user, [household, hub])
    context = {"household": household, "constellation": constellation, "hub": hub}
    if hub is not None:
        today = timezone.localdate()
        context["availability"] = sleepover_pages.hub_availability(
            constellation, today, today + timedelta(days=sleepover_pages.HOME_AVAILABILITY_DAYS - 1)
        )
        context["cover_now"] = next(
            (c for c in context["availability"]["covers"] if c.start <= today <= c.end), None
        )
    if household is not None:
        context["my_requests"] = sleepover_pages.household_requests_now(user, household.pk)
        context.update(sleepover_pages.cover_duty(user, household.pk, timezone.localdate()))
    context["upcoming"] = calendar_pages.upcoming(user, timezone.localdate(), household=household)
    return context


def _social_worker_home(request, roles):
    cases = (
        Child.objects.visible_to(request.user)
        .filter(social_worker=request.user)
        .select_related("household")
    )
    return {"cases": cases}


_HOME = {
    "manager": _manager_home,
    "liaison": _liaison_home,
    "hub": _hub_home,
    "satellite": _satellite_home,
    "social_worker": _social_worker_home,
}


@login_required
@require_GET
def home(request):
    roles = roles_for(request.user)
    role = roles.primary
    build = _HOME.get(role)
    context = build(request, roles) if build else {}
    # Whoever crisis alerts reach is warned when nothing would wake them (issue 9).
    if role in ("hub", "liaison"):
        context["no_crisis_channel"] = not crisis_channels_working(request.user)
    return render(request, f"home/{role}.html", context)


# --- constellations ---------------------------------------------------------------------


@login_required
@require_GET
def constellation_list(request):
    constellations = _with_counts(Constellation.objects.visible_to(request.user))
    return render(request, "constellation/list.html", {"constellations": constellations})


@login_required
@require_GET
def constellation_detail(request, pk):
    user = request.user
    constellation = access.get_constellation_for(user, pk)
    can_manage = access.can_manage_constellation(user, constellation)
    memberships = list(
        ConstellationMembership.objects.visible_to(user)
        .filter(constellation=constellation)
        .select_related("household")
        .order_by("household__name", "-proposed_on")
    )
    for membership in memberships:
        allowed = ConstellationMembership.ALLOWED[membership.status]
        membership.can_activate = Status.ACTIVE in allowed
        membership.can_withdraw = Status.WITHDRAWN in allowed
        membership.can_leave = Status.LEFT in allowed
    active = [m for m in memberships if m.status == Status.ACTIVE]
    households = [h for h in [constellation.hub, *(m.household for m in active)] if h]
    context = {
        "constellation": constellation,
        "can_manage": can_manage,
        "reads_contact": can_manage or access.can_read_contact(user, constellation),
        "active": active,
        "others": [m for m in memberships if m.status != Status.ACTIVE],
        "warning": constellation.size_warning(len(active)),
        "children_count": _placed_children(user).filter(household__in=households).count(),
        "liaison_workers": LiaisonAssignment.objects.current()
        .filter(constellation=constellation)
        .select_related("user"),
        "activity": (
            Activity.objects.visible_to(user)
            .filter(constellation=constellation)
            .select_related("actor")[:20]
            if can_manage
            else []
        ),
    }
    return render(request, "constellation/detail.html", context)


# --- households -----------------------------------------------------------------------------


def _contact_of_household(user, household: Household, constellation) -> dict:
    """The household page's regular contact: its coverage, latest check-ins with their
    follow-ups and its concerns, for those who read them (hub carers, liaison workers,
    managers: ``CheckIn.objects.visible_to``); a satellite carer reads none, not even
    of their own household."""
    if household.is_hub:
        return {}
    reads = constellation is not None and access.can_read_contact(user, constellation)
    check_ins = list(contact_pages.check_ins_of(household, user, limit=HOUSEHOLD_CHECK_INS))
    concerns = list(contact_pages.concerns_of_household(household, user))
    if not (reads or check_ins or concerns):
        return {}
    coverage = None
    if reads:
        coverage = next(
            (r for r in contact_pages.coverage([constellation]) if r.household.pk == household.pk),
            None,
        )
    return {
        "contact": {
            "coverage": coverage,
            "check_ins": check_ins,
            "concerns": concerns,
            "can_record": reads and access.can_record_contact(user, constellation),
        }
    }


@login_required
@require_GET
def household_detail(request, pk):
    user = request.user
    household = access.get_household_for(user, pk)
    can_manage = access.can_manage_household(user, household)
    carers = Carer.objects.filter(household=household).select_related("user")
    if not can_manage:
        carers = carers.current()
    children = list(_placed_children(user).filter(household=household))
    full_ids = set(
        Child.objects.full_records_for(user)
        .filter(household=household)
        .values_list("pk", flat=True)
    )
    for child in children:
        child.full = child.pk in full_ids
    constellation = Constellation.objects.visible_to(user).of_household_now(household).first()
    context = {
        "household": household,
        "constellation": constellation,
        "can_manage": can_manage,
        **_contact_of_household(user, household, constellation),
        "show_private": access.can_see_household_details(user, household),
        "carers": carers,
        "children": children,
        "memberships": (
            ConstellationMembership.objects.visible_to(user)
            .filter(household=household)
            .select_related("constellation")
            .order_by("-proposed_on", "-pk")
            if can_manage
            else []
        ),
    }
    return render(request, "constellation/household_detail.html", context)


@login_required
@GET_POST
def household_create(request, pk):
    constellation = access.get_managed_constellation_for(request.user, pk)
    form = HouseholdCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            household = services.create_household(
                constellation=constellation,
                kind=data.pop("kind"),
                by=request.user,
                reason=data.pop("reason"),
                **data,
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{household} was added to {constellation}.")
            return redirect(household)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Add a household to {constellation}",
            "back": constellation.get_absolute_url(),
        },
    )


@login_required
@GET_POST
def household_edit(request, pk):
    household = access.get_managed_household_for(request.user, pk)
    initial = {f: getattr(household, f) for f in services.HOUSEHOLD_FIELDS}
    form = HouseholdForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_household(household, by=request.user, **form.cleaned_data)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{household} was updated.")
            return redirect(household)
    return render(
        request,
        "constellation/form.html",
        {"form": form, "title": f"Edit {household}", "back": household.get_absolute_url()},
    )


# --- carers -------------------------------------------------------------------------------------


@login_required
@GET_POST
def carer_add(request, pk):
    household = access.get_managed_household_for(request.user, pk)
    form = CarerForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            carer = services.add_carer(
                household,
                by=request.user,
                base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"{carer.user} was added to {household}. If they have no password yet, "
                f"an invitation went to {carer.user.email}.",
            )
            return redirect(household)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Add a carer to {household}",
            "back": household.get_absolute_url(),
        },
    )


@login_required
@GET_POST
def carer_end(request, pk):
    carer = access.get_carer_for_manager(request.user, pk)
    if carer.ended_on is not None:
        messages.error(request, f"{carer.user} has already left {carer.household}.")
        return redirect(carer.household)
    form = EndCarerForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.end_carer(
                carer,
                by=request.user,
                reason=data["reason"],
                on=data["on"],
                deregistered=form.deregistered,
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            done = (
                "was de-registered as a foster carer"
                if form.deregistered
                else f"is no longer a carer of {carer.household}"
            )
            messages.success(request, f"{carer.user} {done}.")
            return redirect(carer.household)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"End {carer.user}'s role in {carer.household}",
            "intro": "Their access to the constellation ends at once.",
            "back": carer.household.get_absolute_url(),
        },
        status=_status(request),
    )


@login_required
@require_POST
def carer_invite(request, pk):
    carer = access.get_carer_for_manager(request.user, pk)
    try:
        services.resend_invitation(carer, by=request.user, base_url=request.build_absolute_uri("/"))
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"A new invitation went to {carer.user.email}.")
    return redirect(carer.household)


# --- memberships -----------------------------------------------------------------------------


@login_required
@GET_POST
def membership_propose(request, pk):
    user = request.user
    constellation = access.get_managed_constellation_for(user, pk)
    households = proposable_households(
        Household.objects.managed_by(user).filter(service_id=constellation.service_id)
    )
    meetings = PlanningMeeting.objects.visible_to(user).filter(constellation=constellation)
    form = ProposeMembershipForm(
        _posted(request),
        households=households,
        meetings=meetings,
        initial={"planning_meeting": _meeting_asked_for(request, meetings)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        household = data["household"]
        try:
            services.propose_membership(
                constellation,
                household,
                by=user,
                reason=data["reason"],
                planning_meeting=data["planning_meeting"],
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{household} is proposed to join {constellation}.")
            return redirect(constellation)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Propose a household to {constellation}",
            "intro": "To add a household that is new to the service, use “Add household”.",
            "back": constellation.get_absolute_url(),
        },
        status=_status(request),
    )


def _meeting_asked_for(request, meetings) -> int | None:
    """The meeting named by ``?meeting=`` (the link "propose a household" of a meeting),
    when it is one of ``meetings``; anything else is ignored."""
    value = request.GET.get("meeting", "")
    if not (value.isascii() and value.isdigit() and len(value) < 19):
        return None
    return meetings.filter(pk=int(value)).values_list("pk", flat=True).first()


def _can_move(membership: ConstellationMembership, to: str) -> bool:
    return to in ConstellationMembership.ALLOWED[membership.status]


@login_required
@GET_POST
def membership_activate(request, pk):
    membership = access.get_membership_for_manager(request.user, pk)
    if request.method == "GET" and not _can_move(membership, Status.ACTIVE):
        messages.error(
            request,
            f"{membership.household} is {membership.get_status_display().lower()}: "
            "there is nothing to activate.",
        )
        return redirect(membership.constellation)
    form = ActivateMembershipForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.activate_membership(
                membership, by=request.user, joined_on=form.cleaned_data["joined_on"]
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{membership.household} joined {membership.constellation}.")
            return redirect(membership.constellation)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"{membership.household} joins {membership.constellation}",
            "intro": f"Proposed on {membership.proposed_on:%-d %B %Y}. Its carers see the "
            "constellation from the moment the membership is active.",
            "back": membership.constellation.get_absolute_url(),
        },
        status=_status(request),
    )


def _end_membership(request, pk, *, to, action, submit_label, date_label, title, done):
    membership = access.get_membership_for_manager(request.user, pk)
    if request.method == "GET" and not _can_move(membership, to):
        messages.error(
            request,
            f"{membership.household} is {membership.get_status_display().lower()}: "
            "there is nothing to end.",
        )
        return redirect(membership.constellation)
    form = MembershipReasonForm(_posted(request), submit_label=submit_label, date_label=date_label)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            action(membership, by=request.user, reason=data["reason"], on=data["on"])
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{membership.household} {done} {membership.constellation}.")
            return redirect(membership.constellation)
    since = membership.joined_on or membership.proposed_on
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": title.format(household=membership.household),
            "intro": f"{membership.get_status_display()} since {since:%-d %B %Y}.",
            "back": membership.constellation.get_absolute_url(),
        },
        status=_status(request),
    )


@login_required
@GET_POST
def membership_withdraw(request, pk):
    return _end_membership(
        request,
        pk,
        to=Status.WITHDRAWN,
        action=services.withdraw_membership,
        submit_label="Withdraw",
        date_label="Date of the withdrawal",
        title="Withdraw {household}",
        done="was withdrawn from",
    )


@login_required
@GET_POST
def membership_leave(request, pk):
    return _end_membership(
        request,
        pk,
        to=Status.LEFT,
        action=services.end_membership,
        submit_label="Record that the household left",
        date_label="Date it left",
        title="{household} leaves the constellation",
        done="left",
    )


# --- children ------------------------------------------------------------------------------------


@login_required
@require_GET
def child_detail(request, pk):
    user = request.user
    view = access.get_child_for(user, pk)
    child = view.child
    context = {"child": child, "full": view.full}
    if view.full:
        context.update(
            placements=child.placements.select_related("household"),
            siblings=Child.objects.visible_to(user).filter(pk__in=child.siblings.values("pk")),
            can_manage=access.can_manage_child(user, child),
            can_audit=access.can_audit_child(user, child),
            panel=delegated_authority_rules.panel_for(user, child),
            # Open concerns about the child or their household, for those who read them.
            concerns=list(contact_pages.open_concerns_of_child(child, user)),
        )
    return render(request, "constellation/child_detail.html", context)


@login_required
@require_GET
def child_history(request, pk):
    child = access.get_child_history_for(request.user, pk)
    records = list(
        child.history.select_related("history_user").order_by("-history_date", "-history_id")[:101]
    )
    labels = {
        f.name: f.verbose_name for f in Child._meta.get_fields() if hasattr(f, "verbose_name")
    }
    rows = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changed = []
        if older is not None and newer.history_type == "~":
            changed = [labels.get(name, name) for name in newer.diff_against(older).changed_fields]
        rows.append({"record": newer, "changed": changed})
    return render(
        request,
        "constellation/child_history.html",
        {"child": child, "rows": rows[:100], "truncated": len(records) > 100},
    )


def _child_initial(child: Child) -> dict:
    initial = {f: getattr(child, f) for f in services.CHILD_FIELDS}
    initial["social_worker"] = child.social_worker_id
    initial["siblings"] = list(child.siblings.values_list("pk", flat=True))
    return initial


@login_required
@GET_POST
def child_create(request, pk):
    household = access.get_managed_household_for(request.user, pk)
    form = ChildCreateForm(
        _posted(request),
        service=household.service,
        siblings=Child.objects.managed_by(request.user).filter(status=Child.Status.PLACED),
    )
    if request.method == "POST" and form.is_valid():
        try:
            child = services.create_child(household=household, by=request.user, **form.cleaned_data)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{child.known_as} was placed with {household}.")
            return redirect(child)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Add a child placed with {household}",
            "back": household.get_absolute_url(),
        },
    )


@login_required
@GET_POST
def child_edit(request, pk):
    child = access.get_managed_child_for(request.user, pk)
    form = ChildForm(
        _posted(request),
        service=child.service,
        siblings=Child.objects.managed_by(request.user).exclude(pk=child.pk),
        initial=_child_initial(child),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_child(child, by=request.user, **form.cleaned_data)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{child.known_as}'s record was updated.")
            return redirect(child)
    # The form shows the full record, as the child's page does.
    access.log_full_record_view(
        request.user, child, channel=ChildRecordAccess.Channel.WEB, request=request
    )
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Edit {child.known_as}'s record",
            "back": child.get_absolute_url(),
        },
    )


@login_required
@GET_POST
def child_move(request, pk):
    user = request.user
    child = access.get_managed_child_for(user, pk)
    destinations = (
        Household.objects.managed_by(user)
        .filter(service_id=child.service_id)
        .exclude(pk=child.household_id)
        .order_by("kind", "name")
    )
    form = MoveChildForm(_posted(request), child=child, destinations=destinations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.move_child(
                child,
                to=data["to"],
                by=user,
                reason=data["reason"],
                on=data["on"],
                kind=data["kind"],
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            if data["to"] is not None:
                messages.success(request, f"{child.known_as} moved to {data['to']}.")
            else:
                messages.success(
                    request,
                    format_html(
                        "{} moved on from the service's care. If everyone wishes it, "
                        '<a class="alert-link" href="{}">add them to the kept-connected '
                        "list</a> so that they are invited to the constellation's social "
                        "get-togethers.",
                        child.known_as,
                        reverse("calendar_events:kept_connected_new"),
                    ),
                )
            return redirect(child)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Record a move for {child.known_as}",
            "intro": "A planned move or a disruption takes the child to another household; "
            "permanence, a return home, adoption and leaving care take them on from care.",
            "back": child.get_absolute_url(),
        },
        status=_status(request),
    )
