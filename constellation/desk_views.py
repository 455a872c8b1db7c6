"""The liaison worker's desk: what waits on them (the queue) and what happened in the
constellations they oversee (the activity feed). Both read through ``selectors``;
who may open them is ``access.get_desk_for`` (liaison workers and managers; 403 for
anyone else). Bad filters or a damaged page link answer 400 with the message."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import access, selectors
from .desk_forms import DeskForm, FeedFilterForm, cursor_text

FEED_PAGE = 25
LATEST = 10

# Where the user acts on what an activity row is about: (app, model) -> URL name, and
# whether the URL takes the row's target id.
TARGET_PAGES = {
    ("sleepovers", "request"): ("sleepovers:request", True),
    ("constellation", "concern"): ("constellation:concern", True),
    ("constellation", "checkin"): ("constellation:check_in", True),
    ("constellation", "household"): ("constellation:household", True),
    ("constellation", "child"): ("constellation:child", True),
    ("constellation", "constellation"): ("constellation:detail", True),
    ("calendar_events", "event"): ("calendar_events:event", True),
    ("delegated_authority", "agreement"): ("delegated_authority:agreement", True),
    ("delegated_authority", "approval"): ("delegated_authority:approvals", False),
}


def _link(row) -> str:
    page = TARGET_PAGES.get((row.target_type.app_label, row.target_type.model))
    if page is None:
        return ""
    name, with_id = page
    try:
        return reverse(name, args=[row.target_id] if with_id else [])
    except NoReverseMatch:
        return ""


def _with_links(rows) -> list:
    rows = list(rows)
    for row in rows:
        row.link = _link(row)
    return rows


@login_required
@require_GET
def desk(request):
    user = request.user
    access.get_desk_for(user)
    form = DeskForm(request.GET or None, user=user)
    if form.is_bound and not form.is_valid():
        return render(request, "constellation/desk/desk.html", {"form": form}, status=400)
    chosen = form.constellation_id if form.is_bound else None
    queue = selectors.queue(user, constellations=selectors.desk_constellations(user, chosen))
    latest = selectors.activity_feed(user, selectors.FeedFilters(constellation=chosen))
    return render(
        request,
        "constellation/desk/desk.html",
        {
            "form": form,
            "queue": queue,
            "latest": _with_links(latest.select_related("target_type")[:LATEST]),
            "chosen": chosen,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def activity(request):
    user = request.user
    access.get_desk_for(user)
    form = FeedFilterForm(request.GET or None, user=user)
    context = {"form": form, "rows": [], "next_query": "", "chosen": []}
    if form.is_bound and not form.is_valid():
        return render(request, "constellation/desk/activity.html", context, status=400)
    filters = form.filters() if form.is_bound else selectors.FeedFilters()
    after = form.cleaned_data.get("after") if form.is_bound else None
    rows, cursor = selectors.page_after(
        selectors.activity_feed(user, filters).select_related("target_type"),
        after=after,
        size=FEED_PAGE,
    )
    query = request.GET.copy()
    query.pop("after", None)
    first_query = query.urlencode()
    if cursor is not None:
        query["after"] = cursor_text(cursor)
    context.update(
        rows=_with_links(rows),
        next_query=query.urlencode() if cursor is not None else "",
        first_query=first_query,
        paged=after is not None,
        chosen=form.chosen() if form.is_bound else [],
    )
    return render(request, "constellation/desk/activity.html", context)
