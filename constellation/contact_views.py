"""The pages of regular contact and concerns (DOMAIN.md workflow 5): a check-in recorded
on a phone in three taps and a sentence, its follow-ups and their resolution, each
constellation's coverage and thresholds, concerns opened by hand, listed, read and
closed by the liaison worker.

Each view fetches through ``access.py`` (404 for what the user cannot see, 403 for
what they see but may not act on), validates a form, calls one service and answers
with a message. Bad input comes back as the form with its errors and status 400; a
refusal of the service (``ActionRefused``) is shown on the form, or as a message
after a redirect. A satellite carer reads no check-in and no concern, not even of
their own household."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from people.roles import roles_for

from . import access, selectors, services
from .contact_forms import (
    CheckInForm,
    CloseConcernForm,
    ConcernForm,
    ResolveForm,
    ThresholdsForm,
)
from .models import CheckIn, Child, Concern, FollowUp
from .services import ActionRefused
from .services.contact import follow_up_assignees

GET_POST = require_http_methods(["GET", "POST"])
CONCERNS_PAGE = 25


def _posted(request):
    """Bind a form on POST, even an empty one, so that missing fields show as errors."""
    return request.POST if request.method == "POST" else None


def _status(request) -> int:
    """A form shown again after a POST came back with errors: 400."""
    return 400 if request.method == "POST" else 200


# --- check-ins ------------------------------------------------------------------------------


@login_required
@GET_POST
def check_in_create(request, pk):
    user = request.user
    household, constellation = access.get_household_for_contact(user, pk)
    form = CheckInForm(_posted(request), assignees=follow_up_assignees(constellation), user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            check_in = services.record_check_in(
                household,
                by=user,
                occurred_at=data["occurred_at"],
                method=data["method"],
                made=data["made"],
                participants=data["participants"],
                note=data["note"],
                concern_level=data["concern_level"],
                follow_ups=data["follow_ups"],
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            said = "Check-in" if check_in.made else "Attempted contact"
            text = f"{said} with {household} recorded."
            if check_in.concern_level == CheckIn.Level.HIGH:
                text += " High concern: the liaison worker is alerted through a concern."
            messages.success(request, text)
            return redirect(household)
    return render(
        request,
        "constellation/contact/check_in_form.html",
        {"form": form, "household": household, "constellation": constellation},
        status=_status(request),
    )


def _may_resolve(user, follow_up: FollowUp, *, records_contact: bool) -> bool:
    """As ``access.get_follow_up_to_resolve`` decides: the person it was given to, or
    a hub carer or liaison worker of the constellation (``records_contact``)."""
    return follow_up.resolved_at is None and (
        records_contact or follow_up.assigned_to_id == user.pk
    )


def _render_check_in(request, check_in: CheckIn, *, forms=None, status=200):
    user = request.user
    records_contact = access.can_record_contact(user, check_in.constellation)
    forms = forms or {}
    follow_ups = list(check_in.follow_ups.select_related("assigned_to", "resolved_by"))
    for follow_up in follow_ups:
        if _may_resolve(user, follow_up, records_contact=records_contact):
            follow_up.form = forms.get(follow_up.pk) or ResolveForm(
                auto_id=f"id_resolve_{follow_up.pk}_%s"
            )
    context = {
        "check_in": check_in,
        "follow_ups": follow_ups,
        "records_contact": records_contact,
    }
    return render(request, "constellation/contact/check_in.html", context, status=status)


@login_required
@require_GET
def check_in_detail(request, pk):
    return _render_check_in(request, access.get_check_in_for(request.user, pk))


@login_required
@require_POST
def follow_up_resolve(request, pk):
    follow_up = access.get_follow_up_to_resolve(request.user, pk)
    check_in = access.get_check_in_for(request.user, follow_up.check_in_id)
    form = ResolveForm(request.POST, auto_id=f"id_resolve_{follow_up.pk}_%s")
    if not form.is_valid():
        return _render_check_in(request, check_in, forms={follow_up.pk: form}, status=400)
    try:
        services.resolve_follow_up(
            follow_up, by=request.user, resolution=form.cleaned_data["resolution"]
        )
    except ActionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Follow-up resolved: {follow_up.action}")
    return redirect("constellation:check_in", pk=check_in.pk)


# --- coverage and thresholds ---------------------------------------------------------------


@login_required
@require_GET
def coverage_page(request, pk):
    user = request.user
    constellation = access.get_constellation_for_contact(user, pk)
    today = timezone.localdate()
    rows = selectors.coverage([constellation], today=today)
    follow_ups = (
        FollowUp.objects.visible_to(user)
        .open()
        .filter(check_in__constellation=constellation)
        .select_related("check_in__household", "assigned_to")
    )
    context = {
        "constellation": constellation,
        "rows": rows,
        "follow_ups": follow_ups,
        "today": today,
        "can_record": access.can_record_contact(user, constellation),
        "can_manage": access.can_manage_constellation(user, constellation),
    }
    return render(request, "constellation/contact/coverage.html", context)


@login_required
@GET_POST
def contact_settings(request, pk):
    constellation = access.get_managed_constellation_for(request.user, pk)
    form = ThresholdsForm(
        _posted(request),
        initial={
            "amber_days": constellation.contact_amber_days,
            "red_days": constellation.contact_red_days,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.set_contact_thresholds(
                constellation,
                by=request.user,
                amber_days=data["amber_days"],
                red_days=data["red_days"],
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"{constellation}: amber after {data['amber_days']} days without contact, "
                f"red after {data['red_days']}.",
            )
            return redirect("constellation:coverage", pk=constellation.pk)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Contact thresholds of {constellation}",
            "intro": "How many days may pass since the last contact made with a household "
            "before it shows as due a check-in (amber) and overdue (red).",
            "back": reverse("constellation:coverage", args=[constellation.pk]),
        },
        status=_status(request),
    )


# --- concerns -------------------------------------------------------------------------------


@login_required
@GET_POST
def concern_create(request, pk):
    user = request.user
    household, constellation = access.get_household_for_contact(user, pk)
    children = Child.objects.visible_to(user).filter(
        household=household, status=Child.Status.PLACED
    )
    form = ConcernForm(_posted(request), children=children)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            concern = services.open_concern_by_hand(
                household,
                by=user,
                reasons=data["reasons"],
                description=data["description"],
                children=list(data["children"]),
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request, f"Concern about {household} opened. The liaison worker is alerted."
            )
            return redirect(concern)
    return render(
        request,
        "constellation/contact/concern_form.html",
        {"form": form, "household": household, "constellation": constellation},
        status=_status(request),
    )


def _reads_contact_somewhere(user) -> bool:
    """The hub carers, liaison workers and managers read concerns
    (``Concern.objects.visible_to``); anyone else is refused the list."""
    roles = roles_for(user)
    return user.is_superuser or roles.is_hub_carer or roles.is_liaison or roles.is_manager


@login_required
@require_GET
def concern_list(request):
    user = request.user
    if not _reads_contact_somewhere(user):
        raise PermissionDenied("Concerns are read by the hub carers and liaison workers.")
    status = request.GET.get("status", Concern.Status.OPEN)
    if status not in Concern.Status.values:
        status = Concern.Status.OPEN
    concerns = (
        Concern.objects.visible_to(user)
        .filter(status=status)
        .select_related("household", "constellation", "opened_by", "closed_by")
        .order_by("-opened_at", "-pk")
    )
    page = Paginator(concerns, CONCERNS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "constellation/contact/concerns.html",
        {
            "page": page,
            "status": status,
            "statuses": Concern.Status.choices,
        },
    )


def _trigger_of(user, concern: Concern):
    """What opened the concern, as (words, link or ""), the link only when the user
    may see it; None for a concern opened by hand."""
    if concern.trigger_type_id is None or concern.trigger_id is None:
        return None
    model = ContentType.objects.get_for_id(concern.trigger_type_id).model_class()
    manager = getattr(model, "objects", None) if model else None
    found = None
    if manager is not None and hasattr(manager, "visible_to"):
        found = manager.visible_to(user).filter(pk=concern.trigger_id).first()
    if found is None:
        return ("A record you cannot open", "")
    if isinstance(found, CheckIn):
        when = timezone.localtime(found.occurred_at)
        words = (
            f"{found.get_method_display()} with {found.household} on "
            f"{when.day} {when:%b %Y} at {when:%H:%M}"
        )
        return (words, reverse("constellation:check_in", args=[found.pk]))
    words = str(found)
    when = getattr(found, "created_at", None)
    if when is not None:  # a sleepover request: when it was raised, and its kind
        when = timezone.localtime(when)
        words = f"The request raised on {when.day} {when:%b %Y} at {when:%H:%M}"
        if hasattr(found, "get_kind_display"):
            words += f" ({found.get_kind_display()})"
    link = found.get_absolute_url() if hasattr(found, "get_absolute_url") else ""
    return (words, link)


def _render_concern(request, concern: Concern, *, form=None, status=200):
    user = request.user
    children = list(concern.children.all())
    visible = set(
        Child.objects.visible_to(user)
        .filter(pk__in=[c.pk for c in children])
        .values_list("pk", flat=True)
    )
    for child in children:
        child.linked = child.pk in visible
    can_close = concern.status == Concern.Status.OPEN and access.can_manage_constellation(
        user, concern.constellation
    )
    if can_close and form is None:
        form = CloseConcernForm(action=reverse("constellation:concern_close", args=[concern.pk]))
    context = {
        "concern": concern,
        "children": children,
        "trigger": _trigger_of(user, concern),
        "can_close": can_close,
        "form": form if can_close else None,
    }
    return render(request, "constellation/contact/concern.html", context, status=status)


@login_required
@require_GET
def concern_detail(request, pk):
    return _render_concern(request, access.get_concern_for(request.user, pk))


@login_required
@GET_POST
def concern_close(request, pk):
    concern = access.get_concern_to_close(request.user, pk)
    if concern.status != Concern.Status.OPEN:
        messages.info(request, "This concern is already closed.")
        return redirect(concern)
    form = CloseConcernForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.close_concern(
                concern,
                by=request.user,
                note=data["note"],
                stability_meeting_on=data["stability_meeting_on"],
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"The concern about {concern.household} is closed.")
            return redirect(concern)
    return _render_concern(request, concern, form=form, status=_status(request))
