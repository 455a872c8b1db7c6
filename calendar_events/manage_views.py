"""The pages where the calendar is kept: an event put on it, changed or cancelled; one
date of a series moved, cancelled, or the series changed from it on; and the liaison
worker's list of people kept connected.

Each view fetches through ``access.py`` (404 for what the user may not see, 403 for
what they see but may not change), validates a form, calls one service and answers.
A ``ValidationError`` from a service goes on the form's field and the page comes
back with status 400, nothing saved; a refusal (``ActionRefused``) is the page's
message."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from constellation.clock import LONDON, parse_day
from constellation.models import Constellation
from constellation.services import ActionRefused

from . import access, services
from .manage_forms import (
    CUSTOM,
    NO_REPEAT,
    EventForm,
    KeptConnectedForm,
    MoveForm,
    ReasonForm,
    attach_errors,
    event_initial,
    preset_rule,
    same_rule,
    split_rule,
)
from .models import Event, KeptConnected
from .recurrence import Slot, count_before, key_of, placed, series, slot_of, wall

GET_POST = require_http_methods(["GET", "POST"])
FORM = "calendar_events/manage_form.html"
CONFIRM = "calendar_events/manage_confirm.html"


def _posted(request):
    """Bind a form on POST, even an empty one, so that missing fields show as errors."""
    return request.POST if request.method == "POST" else None


def _status(request) -> int:
    return 400 if request.method == "POST" else 200


def event_page(event: Event) -> str:
    """The event's own page (``calendar_events:event``)."""
    try:
        return reverse("calendar_events:event", kwargs={"pk": event.pk})
    except NoReverseMatch:
        return f"/calendar/events/{event.pk}/"


def _when(slot: Slot) -> str:
    start = slot.start.astimezone(LONDON)
    if slot.all_day:
        last = slot.last_day
        if last == start.date():
            return f"{start:%A %-d %B %Y} (all day)"
        return f"{start:%A %-d %B} to {last:%A %-d %B %Y}"
    return f"{start:%A %-d %B %Y, %H:%M}"


def _invitation(data) -> services.Invitation:
    return services.Invitation(
        everyone=data["everyone"], households=data["chosen"], contacts=data["people"]
    )


def _date_of(event: Event, key: str) -> tuple:
    """The date of ``event`` named by ``key`` in the URL, as a ``Slot``, or 404."""
    original = access.original_start_of(key)
    row = event.occurrences.filter(original_start=original).first()
    slot = slot_of(event, original, row)
    if slot is None:
        raise Http404("This event has no date then.")
    return original, slot


def next_date(event: Event, now: datetime | None = None) -> datetime | None:
    """The next date of a series after ``now`` that is not its first: where "change
    from a date on" can start (None when the series has no date left)."""
    if not event.rule:
        return None
    now = now or timezone.now()
    rule = series(event.rule, wall(event.start), event.repeat_until)
    found = rule.after(max(wall(now), wall(event.start)), inc=False)
    return placed(found) if found is not None else None


# --- an event ---------------------------------------------------------------------


def _day_initial(request) -> dict:
    """A day tapped on the month (``?day=2027-01-05``): the new event starts that
    evening at 19:00, London time (or, all day, on that day). Anything else is ignored."""
    try:
        day = parse_day(request.GET.get("day", ""), field="day")
    except ValidationError:
        return {}
    start = services.london_start(day, 19)
    return {
        "start": start,
        "end": start + timedelta(hours=2),
        "first_day": day,
        "last_day": day,
    }


@login_required
@GET_POST
def event_new(request):
    """Put an event (or a series) on a calendar the user keeps (403 for who keeps none)."""
    user = request.user
    if not access.constellations_to_keep(user).exists():
        raise PermissionDenied("The hub carers and the liaison worker keep the calendar.")
    form = EventForm(_posted(request), user=user, mode="new", initial=_day_initial(request))
    if request.method == "POST" and form.is_valid() and form.check_bounds():
        data = form.cleaned_data
        try:
            event = services.create_event(
                constellation=data["constellation"],
                by=user,
                kind=data["kind"],
                title=data["title"],
                place=data["place"],
                description=data["description"],
                capacity=data["capacity"],
                rsvp_closes_minutes=data["rsvp_closes_minutes"],
                invitation=_invitation(data),
                affects_beds=data["affects_beds"],
                **data["when"],
            )
        except ValidationError as error:
            attach_errors(form, error, rename=form.rename())
        else:
            messages.success(request, f"“{event.title}” is on the calendar.")
            return redirect(event_page(event))
    return render(
        request,
        FORM,
        {"form": form, "title": "New event", "back": reverse("calendar_events:index")},
        status=_status(request),
    )


@login_required
@GET_POST
def event_edit(request, pk):
    """Change an event for all its dates. A series some of whose dates were answered,
    moved or recorded cannot be retimed as a whole: the page says so and links to
    changing it from the next date on."""
    user = request.user
    event = access.get_event_to_keep(user, pk)
    form = EventForm(
        _posted(request), user=user, mode="edit", event=event, initial=event_initial(event)
    )
    context = {"form": form, "title": f"Change “{event.title}”", "back": event_page(event)}
    if event.cancelled:
        context["refusal"] = "This event was cancelled; it cannot be changed."
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        when = dict(data["when"])
        if same_rule(when["rule"], event.rule):
            when["rule"] = event.rule
        if when["start"] == event.start or form.check_bounds():
            try:
                services.update_event(
                    event,
                    by=user,
                    invitation=_invitation(data),
                    kind=data["kind"],
                    title=data["title"],
                    place=data["place"],
                    description=data["description"],
                    capacity=data["capacity"],
                    rsvp_closes_minutes=data["rsvp_closes_minutes"],
                    affects_beds=data["affects_beds"],
                    **when,
                )
            except ValidationError as error:
                attach_errors(form, error, rename=form.rename())
            except ActionRefused as refused:
                context["refusal"] = str(refused)
                upcoming = next_date(event)
                if upcoming is not None and not event.cancelled:
                    context["refusal_link"] = reverse(
                        "calendar_events:occurrence_from",
                        kwargs={"pk": event.pk, "key": key_of(upcoming)},
                    )
                    context["refusal_date"] = upcoming
            else:
                messages.success(request, f"“{data['title']}” is changed.")
                return redirect(event_page(event))
    return render(request, FORM, context, status=_status(request))


@login_required
@GET_POST
def event_cancel(request, pk):
    """Cancel an event and every date of it (GET asks to confirm)."""
    event = access.get_event_to_keep(request.user, pk)
    form = ReasonForm(_posted(request), submit_label="Cancel the event")
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_event(event, by=request.user, reason=form.cleaned_data["reason"])
        except ActionRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, f"“{event.title}” is cancelled; the families are told.")
        return redirect(event_page(event))
    return render(
        request,
        CONFIRM,
        {
            "form": form,
            "event": event,
            "title": f"Cancel “{event.title}”",
            "intro": "Every date of it is cancelled"
            if event.rule
            else "It stays on the calendar, marked cancelled.",
            "back": event_page(event),
        },
        status=_status(request),
    )


# --- one date ---------------------------------------------------------------------


@login_required
@GET_POST
def occurrence_move(request, pk, key):
    """Move one date of a series, leaving the others (a single event is changed as a
    whole: the page sends the user there)."""
    event = access.get_event_to_keep(request.user, pk)
    original, slot = _date_of(event, key)
    if not event.rule:
        messages.info(request, "This event happens once: change the event itself.")
        return redirect("calendar_events:event_edit", pk=event.pk)
    initial = (
        {"first_day": slot.start.astimezone(LONDON).date(), "last_day": slot.last_day}
        if event.all_day
        else {"start": slot.start, "end": slot.end}
    )
    form = MoveForm(_posted(request), all_day=event.all_day, initial=initial)
    context = {
        "form": form,
        "title": f"Move one date of “{event.title}”",
        "intro": f"The date of {_when(slot)}. The other dates stay as they are.",
        "back": event_page(event),
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.move_occurrence(
                event, original, by=request.user, start=data["start"], end=data["end"]
            )
        except ValidationError as error:
            attach_errors(form, error, rename=form.rename)
        except ActionRefused as refused:
            context["refusal"] = str(refused)
        else:
            moved = slot_of(event, original, event.occurrences.get(original_start=original))
            messages.success(request, f"Moved to {_when(moved)}; the families are told.")
            return redirect(event_page(event))
    return render(request, FORM, context, status=_status(request))


@login_required
@GET_POST
def occurrence_cancel(request, pk, key):
    """Cancel one date of a series (the others stay); for a single event, the event."""
    event = access.get_event_to_keep(request.user, pk)
    original, slot = _date_of(event, key)
    form = ReasonForm(_posted(request), submit_label="Cancel this date")
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_occurrence(
                event, original, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ActionRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, f"{_when(slot)} is cancelled; the families are told.")
        return redirect(event_page(event))
    return render(
        request,
        CONFIRM,
        {
            "form": form,
            "event": event,
            "title": f"Cancel one date of “{event.title}”",
            "intro": f"The date of {_when(slot)}."
            + (" The other dates stay." if event.rule else ""),
            "back": event_page(event),
        },
        status=_status(request),
    )


def _from_initial(event: Event, original: datetime, slot: Slot) -> dict:
    initial = event_initial(event)
    if event.all_day:
        initial["first_day"] = slot.original_start.astimezone(LONDON).date()
        initial["last_day"] = initial["first_day"] + (
            wall(event.end).date() - wall(event.start).date() - timedelta(days=1)
        )
    else:
        initial["start"] = original
        initial["end"] = placed(wall(original) + (wall(event.end) - wall(event.start)))
    _, _, count = split_rule(event.rule, wall(event.start).date())
    if count is not None:
        initial["repeat_count"] = max(1, count - count_before(event, original))
    return initial


@login_required
@GET_POST
def occurrence_from(request, pk, key):
    """Change a series from one date on: the dates before stay as they were; a new
    series (its own answers and feed entry) carries on from this date."""
    user = request.user
    event = access.get_event_to_keep(user, pk)
    original, slot = _date_of(event, key)
    if not event.rule:
        messages.info(request, "This event happens once: change the event itself.")
        return redirect("calendar_events:event_edit", pk=event.pk)
    if original == event.start:
        messages.info(request, "This is the first date of the series: change the whole event.")
        return redirect("calendar_events:event_edit", pk=event.pk)
    initial = _from_initial(event, original, slot)
    form = EventForm(_posted(request), user=user, mode="from", event=event, initial=initial)
    context = {
        "form": form,
        "title": f"Change “{event.title}” from {_when(slot)} on",
        "intro": "The dates before stay as they were. Answers already given for the "
        "dates that stay in the new series go with them.",
        "back": event_page(event),
    }
    if event.cancelled:
        context["refusal"] = "This event was cancelled; it cannot be changed."
    if request.method == "POST" and form.is_valid() and form.check_bounds():
        data = form.cleaned_data
        when = dict(data["when"])
        rule, until = when.pop("rule"), when.pop("repeat_until")
        if same_rule(rule, _initial_rule(initial)) and until == event.repeat_until:
            # Unchanged: the service carries the old rule on (and what is left of a COUNT).
            rule = until = None
        try:
            new = services.change_from(
                event,
                original,
                by=user,
                rule=rule,
                repeat_until=until,
                title=data["title"],
                place=data["place"],
                description=data["description"],
                capacity=data["capacity"],
                rsvp_closes_minutes=data["rsvp_closes_minutes"],
                affects_beds=data["affects_beds"],
                **when,
            )
        except ValidationError as error:
            attach_errors(form, error, rename=form.rename())
        except ActionRefused as refused:
            context["refusal"] = str(refused)
        else:
            messages.success(request, f"“{new.title}” is changed from {_when(slot)} on.")
            return redirect(event_page(new))
    return render(request, FORM, context, status=_status(request))


def _initial_rule(initial: dict) -> str:
    """The rule the change-from page started with: the old rule as the form shows it."""
    rule = initial["rule"] if initial["repeat"] == CUSTOM else ""
    if initial["repeat"] not in (NO_REPEAT, CUSTOM):
        day = initial["first_day"] if initial["all_day"] else wall(initial["start"]).date()
        rule = preset_rule(initial["repeat"], day)
    if initial.get("repeat_count") and rule:
        rule = f"{rule};COUNT={initial['repeat_count']}"
    return rule


# --- people kept connected ------------------------------------------------------------


@login_required
@require_GET
def kept_connected(request):
    """The people kept connected by the constellations the user keeps the calendar of:
    the liaison workers and managers keep the list, the hub carers read it."""
    user = request.user
    if not access.constellations_to_keep(user).exists():
        raise PermissionDenied("The liaison worker keeps this list.")
    people = list(
        KeptConnected.objects.visible_to(user)
        .select_related("constellation", "child")
        .order_by("constellation__name", "name")
    )
    managed = set(KeptConnected.objects.managed_by(user).values_list("pk", flat=True))
    today = timezone.localdate()
    current = [p for p in people if p.withdrawn_at is None and p.ends_on >= today]
    past = [p for p in people if p not in current]
    return render(
        request,
        "calendar_events/manage_kept_connected.html",
        {
            "current": current,
            "past": past,
            "managed": managed,
            "can_add": Constellation.objects.managed_by(user).exists(),
        },
    )


@login_required
@GET_POST
def kept_connected_new(request):
    """Add someone to a constellation's list, with their consent and an end date
    (liaison workers and managers; 403 for anyone else)."""
    user = request.user
    if not Constellation.objects.managed_by(user).exists():
        raise PermissionDenied("The liaison worker keeps this list.")
    form = KeptConnectedForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.keep_connected(by=user, **data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(
                request, f"{person.name} is kept connected until {person.ends_on:%-d %B %Y}."
            )
            return redirect("calendar_events:kept_connected")
    return render(
        request,
        FORM,
        {
            "form": form,
            "title": "Keep someone connected",
            "intro": "Someone no longer in the constellation who agreed to be invited to "
            "its social get-togethers. They receive invitations by email and see nothing else.",
            "back": reverse("calendar_events:kept_connected"),
        },
        status=_status(request),
    )


@login_required
@require_POST
def kept_connected_withdraw(request, pk):
    """Withdraw someone's consent: no invitation reaches them again."""
    person = access.get_kept_connected_to_manage(request.user, pk)
    try:
        services.stop_keeping_connected(person, by=request.user)
    except ActionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{person.name} is no longer kept connected.")
    return redirect("calendar_events:kept_connected")
