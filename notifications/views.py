"""The notification centre, preferences, and the hub carer's "I've seen it" on a
crisis. Thin: fetch through access helpers, call one service, answer."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from constellation.services import ActionRefused
from people.sessions import background_poll
from sleepovers import access as sleepover_access

from . import selectors, services
from .forms import PreferencesForm
from .models import Notification
from .preferences import choices_for, crisis_channels_working, push_configured, save_choices
from .services import escalation


@login_required
@require_GET
def centre(request):
    unread_only = request.GET.get("unread") == "1"
    page = selectors.centre(request.user, page=request.GET.get("page"), unread_only=unread_only)
    return render(
        request,
        "notifications/centre.html",
        {"page": page, "unread_only": unread_only, "unread": selectors.unread_count(request.user)},
    )


def _safe_link(request, link: str) -> str:
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return link
    return "/"


@login_required
@require_POST
def open_notification(request, pk):
    """Mark one of the user's own notifications read and go to what it is about
    (another person's notification: 404)."""
    row = Notification.objects.in_app_for(request.user).filter(pk=pk).first()
    if row is None:
        raise Http404("No such notification.")
    services.mark_read(request.user, [row.pk])
    return redirect(_safe_link(request, row.link))


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_read(request.user)
    messages.success(
        request,
        f"{count} notification{'s' if count != 1 else ''} marked read."
        if count
        else "Nothing was unread.",
    )
    return redirect("notifications:centre")


@background_poll
@login_required
@require_GET
def unread_badge(request):
    """The navigation's unread count, polled every 15 s."""
    return render(
        request,
        "notifications/_badge.html",
        {"nav_unread": selectors.UnreadCount(request.user), "badge_max": selectors.BADGE_MAX},
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    user = request.user
    chosen = choices_for(user)
    if request.method == "POST":
        form = PreferencesForm(request.POST, choices=chosen)
        if form.is_valid():
            try:
                save_choices(
                    user,
                    channels=form.channels(),
                    quiet_from=form.cleaned_data["quiet_from"],
                    quiet_until=form.cleaned_data["quiet_until"],
                    phone=form.cleaned_data["phone"],
                )
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, problems)
            else:
                messages.success(request, "Your notification choices are saved.")
                return redirect("notifications:preferences")
        status = 400
    else:
        form = PreferencesForm(
            choices=chosen,
            initial={
                "phone": user.phone,
                "quiet_from": chosen.quiet_from,
                "quiet_until": chosen.quiet_until,
            },
        )
        status = 200
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "push_configured": push_configured(),
            "vapid_public_key": settings.VAPID_PUBLIC_KEY,
            "subscriptions": user.push_subscriptions.all(),
            "crisis_channels": crisis_channels_working(user),
        },
        status=status,
    )


@login_required
@require_POST
def crisis_seen(request, pk):
    """A hub carer's "I've seen it, I'm calling you" (only the hub's carers: 403 for
    others who see the request, 404 for those who do not)."""
    sleepover = sleepover_access.get_request_for_hub(request.user, pk)
    try:
        escalation.seen(sleepover, by=request.user)
    except ActionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "The family is told you have seen it and are calling them.")
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return redirect(sleepover.get_absolute_url())
