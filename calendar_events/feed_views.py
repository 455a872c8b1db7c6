"""The calendar as iCalendar: one event's ``.ics`` download, each user's private
subscription feed (public by its secret address: a phone's calendar app has no
login), and the page where a user finds, renews or revokes their address.

Thin views: fetch through ``access.py`` (an event) or ``feeds.open_feed`` (a feed's
token, 404 when unknown or revoked), build with ``feeds.py``, change the address
with the services ``feed_of``, ``renew_feed`` and ``revoke_feeds``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST, require_safe

from . import feeds, services
from .access import get_event_for
from .models import CalendarFeed

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _calendar_response(calendar, *, filename: str, attachment: bool) -> HttpResponse:
    response = HttpResponse(calendar.to_ical(), content_type=CONTENT_TYPE)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Private to the person (or the phone) that asked; never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_required
@require_safe
def event_ics(request, pk):
    """One event as an ``.ics`` download: its series with the dates moved or
    cancelled. 404 for an event the user may not see."""
    event = get_event_for(request.user, pk)
    name = slugify(event.title)[:60] or "event"
    return _calendar_response(feeds.event_calendar(event), filename=f"{name}.ics", attachment=True)


@require_safe
def feed(request, token):
    """A user's subscription feed, by its secret address (no login). 404 for an
    unknown or revoked address, or a user no longer active."""
    subscription = feeds.open_feed(token)
    return _calendar_response(
        feeds.feed_calendar(subscription.user), filename="calendar.ics", attachment=False
    )


@login_required
@require_GET
def subscribe(request):
    """The user's feed address (https and webcal), how to add it to a phone, and the
    buttons to renew or revoke it. The first visit makes the address; after it was
    revoked, the page offers a new one instead of making it unasked."""
    live = CalendarFeed.objects.live().filter(user=request.user).first()
    if live is None and not CalendarFeed.objects.filter(user=request.user).exists():
        live = services.feed_of(request.user)
    return render(
        request,
        "calendar_events/feed_subscribe.html",
        {
            "feed": live,
            "addresses": feeds.feed_addresses(live) if live else None,
        },
    )


@login_required
@require_POST
def subscribe_renew(request):
    """Revoke the user's address and make a new one."""
    services.renew_feed(request.user)
    messages.success(
        request,
        "You have a new address. The old one no longer works: add the new one to your "
        "phone's calendar and remove the old subscription.",
    )
    return redirect("calendar_events:subscribe")


@login_required
@require_POST
def subscribe_revoke(request):
    """Revoke every address of the user: subscribed calendars stop updating."""
    count = services.revoke_feeds(request.user)
    if count:
        messages.success(
            request,
            "Your calendar address is turned off. Calendars subscribed to it no longer "
            "get updates; remove the subscription from your phone.",
        )
    else:
        messages.info(request, "You had no calendar address in use.")
    return redirect("calendar_events:subscribe")
