"""Delegated authority pages: a child's agreements, the editor of a new version,
reviews due, and the approvals queue. Every answer comes from ``rules``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from constellation import access as constellation_access
from constellation.models import Child
from constellation.services import ActionRefused
from people.roles import roles_for
from sleepovers.access import approval_notes_for

from . import access, rules, services
from .forms import AgreementForm, AnswerForm, AskApprovalForm, RefuseForm
from .models import Agreement, Approval, Decision


def _full_child(user, pk) -> Child:
    view = constellation_access.get_child_for(user, pk)
    if not view.full:
        raise PermissionDenied("Only those who care for the child see the agreement.")
    return view.child


def _render_agreements(request, child: Child, *, status: int = 200):
    versions = child.agreements.select_related("signed_off_by").order_by("-version")
    return render(
        request,
        "delegated_authority/agreements.html",
        {
            "child": child,
            "versions": versions,
            "panel": rules.panel_for(request.user, child),
            "can_edit": access.can_edit_agreements(request.user, child),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_GET
def agreements(request, pk):
    return _render_agreements(request, _full_child(request.user, pk))


@login_required
@require_GET
def agreement_detail(request, pk):
    agreement = access.get_agreement_for(request.user, pk)
    clauses = agreement.clauses.select_related("decision")
    return render(
        request,
        "delegated_authority/agreement_detail.html",
        {"agreement": agreement, "child": agreement.child, "clauses": clauses},
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_create(request, pk):
    child = constellation_access.get_managed_child_for(request.user, pk)
    previous = child.agreements.prefetch_related("clauses__decision").order_by("-version").first()
    decisions = Decision.objects.filter(active=True)
    form = AgreementForm(
        request.POST if request.method == "POST" else None,
        decisions=decisions,
        previous=previous,
    )
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.create_agreement(
                child,
                by=request.user,
                effective_from=form.cleaned_data["effective_from"],
                review_on=form.cleaned_data["review_on"],
                signed_off_role=form.cleaned_data["signed_off_role"],
                notes=form.cleaned_data["notes"],
                clauses=form.clause_inputs(),
            )
        except ActionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, f"Version {agreement.version} signed off.")
            return redirect("delegated_authority:agreements", pk=child.pk)
    # What the carers may decide today under the version in force, side by side.
    decisions = list(decisions)
    foster = rules.context_for_relation(child, rules.FOSTER_CARER)
    hub = rules.context_for_relation(child, rules.HUB_CARER)
    preview = {d.code: (rules.answer(foster, d), rules.answer(hub, d)) for d in decisions}
    rows = [{**row, "now": preview[row["decision"].code]} for row in form.rows()]
    return render(
        request,
        "delegated_authority/agreement_form.html",
        {"child": child, "form": form, "rows": rows, "previous": previous},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def reviews(request):
    roles = roles_for(request.user)
    if not roles.can_manage:
        raise PermissionDenied("Reviews are for liaison workers and fostering managers.")
    managed = Child.objects.managed_by(request.user)
    today = timezone.localdate()
    due = list(services.due_for_review(Agreement.objects.filter(child__in=managed), today=today))
    without = (
        managed.filter(status=Child.Status.PLACED, agreements__isnull=True)
        .select_related("household")
        .order_by("first_name")
    )
    return render(
        request,
        "delegated_authority/reviews.html",
        {
            "overdue": [a for a in due if a.review_on < today],
            "soon": [a for a in due if a.review_on >= today],
            "without": without,
            "today": today,
        },
    )


def _render_approvals(request, *, status: int = 200):
    user = request.user
    waiting = list(
        Approval.objects.for_holder(user)
        .pending()
        .select_related("child", "decision", "requested_by", "assigned_to")
        .order_by("requested_at")
    )
    # The same rules engine says whether the request is still needed today.
    for approval in waiting:
        approval.now = rules.may_decide(
            approval.requested_by, approval.child, approval.decision, nights=approval.nights
        )
    mine = Approval.objects.filter(requested_by=user).select_related(
        "child", "decision", "decided_by"
    )
    page = Paginator(mine, 25).get_page(request.GET.get("page"))
    # A note about a sleepover shows only to those who may read the request's words.
    page.object_list = approval_notes_for(user, page.object_list)
    return render(
        request,
        "delegated_authority/approvals.html",
        {"waiting": waiting, "mine": page},
        status=status,
    )


@login_required
@require_GET
def approvals(request):
    return _render_approvals(request)


@login_required
@require_POST
def approval_request(request, pk):
    child = _full_child(request.user, pk)
    form = AskApprovalForm(request.POST)
    if not form.is_valid():
        # Bad input: the page again, with what was wrong (400), nothing asked.
        for field, errors in form.errors.items():
            messages.error(
                request,
                f"{form.fields[field].label if field in form.fields else ''} {errors[0]}".strip(),
            )
        return _render_agreements(request, child, status=400)
    try:
        approval = services.request_approval(
            child,
            form.cleaned_data["decision"],
            by=request.user,
            details=form.cleaned_data["details"],
            nights=form.cleaned_data["nights"],
        )
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        who = approval.assigned_to or "the liaison worker"
        messages.success(request, f"Asked. {who} will answer; you will see it under Approvals.")
    return redirect("delegated_authority:agreements", pk=child.pk)


def _answer(request, pk, *, approve: bool):
    """Approve or refuse. Bad input (a refusal without a reason, a note too long):
    the queue again with the message (400), nothing decided."""
    approval = access.get_approval_to_answer(request.user, pk)
    form = (AnswerForm if approve else RefuseForm)(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "The note is too long (2,000 characters at most)."
            if approve
            else "Say why the request is refused (2,000 characters at most).",
        )
        return _render_approvals(request, status=400)
    try:
        services.decide_approval(
            approval, by=request.user, approve=approve, note=form.cleaned_data["note"]
        )
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        verb = "Approved" if approve else "Refused"
        messages.success(
            request, f"{verb}: {approval.decision.label} for {approval.child.known_as}."
        )
    return redirect("delegated_authority:approvals")


@login_required
@require_POST
def approval_approve(request, pk):
    return _answer(request, pk, approve=True)


@login_required
@require_POST
def approval_refuse(request, pk):
    return _answer(request, pk, approve=False)


@login_required
@require_POST
def approval_withdraw(request, pk):
    approval = access.get_approval_for(request.user, pk)
    if approval.requested_by_id != request.user.pk:
        raise PermissionDenied("Only the person who asked can withdraw the request.")
    try:
        services.withdraw_approval(approval, by=request.user)
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "Request withdrawn.")
    return redirect("delegated_authority:approvals")
