"""The people pages: the access log of children's records, and accepting an invitation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import services
from .forms import AcceptInvitationForm
from .models import ChildRecordAccess, Invitation
from .roles import roles_for

ACCESS_LOG_PAGE_SIZE = 50


def _posted(request):
    """Bind a form on POST, even an empty one, so that missing fields show as errors."""
    return request.POST if request.method == "POST" else None


@login_required
@require_GET
def access_log(request):
    if not roles_for(request.user).can_manage:
        raise PermissionDenied("Only liaison workers and managers can read the access log.")
    entries = ChildRecordAccess.objects.visible_to(request.user).select_related("user", "child")
    page = Paginator(entries, ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/access_log.html", {"page": page})


def _closed(request):
    return render(request, "people/invitation_closed.html", status=410)


@never_cache
@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    """Not behind a login: the one-time link is the proof. A used, revoked or
    expired link says so plainly (410 Gone)."""
    invitation = Invitation.find_open(token)
    if invitation is None:
        return _closed(request)
    form = AcceptInvitationForm(invitation.user, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(invitation, password=form.cleaned_data["new_password1"])
        except services.InvitationUsed:
            return _closed(request)
        messages.success(
            request, "Your password is set. Sign in with your email address and your new password."
        )
        return redirect("account_login")
    return render(
        request, "people/accept_invitation.html", {"form": form, "invitation": invitation}
    )
