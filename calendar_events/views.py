"""The calendar's pages for families and the hub, phone first: the month (a grid on
wide screens, an agenda list on narrow ones), a week, a day, one date of an event
with its answers and the household's own, the form of who came, and the printable
month (a page and a PDF).

Each view fetches through ``access.py`` (an event the user may not see is a 404, a
date the event does not have too; a visible event the user may not keep is a 403),
reads through ``selectors.py`` (``window`` for every calendar page, a fixed number
of queries) and calls one service. A service's ``ValidationError`` comes back on the
form with status 400, nothing saved; a refusal (``ActionRefused``: answers closed, a
cancelled date) is a message on the date's page, as sleepover pages show them."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from constellation.clock import EARLIEST_YEAR, LATEST_YEAR
from constellation.models import Constellation
from constellation.services import ActionRefused

from . import access, selectors, services
from .forms import AnswerForm, AttendanceForm, attach_errors
from .models import Event
from .recurrence import key_of, years_shown

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _years() -> tuple[int, int]:
    first, last = years_shown(timezone.localdate())
    return max(first, EARLIEST_YEAR), min(last, LATEST_YEAR)


def _month_or_404(year: int, month: int) -> date:
    first, last = _years()
    if not (first <= year <= last and 1 <= month <= 12):
        raise Http404("The calendar shows ten years either side of today.")
    return date(year, month, 1)


def _day_or_404(day: date) -> date:
    first, last = _years()
    if not first <= day.year <= last:
        raise Http404("The calendar shows ten years either side of today.")
    return day


def _shift_month(first: date, months: int) -> date | None:
    n = first.year * 12 + first.month - 1 + months
    year, month = divmod(n, 12)
    earliest, latest = _years()
    if not earliest <= year <= latest:
        return None
    return date(year, month + 1, 1)


def _chosen_constellation(request) -> Constellation | None:
    """The constellation asked for in ``?constellation=``: only ever narrows the
    user's own calendar (``selectors.window`` keeps the user's constellations only)."""
    raw = request.GET.get("constellation", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return Constellation(pk=int(raw))


def _calendar_context(request, **extra) -> dict:
    chosen = _chosen_constellation(request)
    found = extra["window"]
    return {
        "today": timezone.localdate(),
        "weekdays": WEEKDAYS,
        "constellations": found.constellations,
        "chosen": chosen.pk if chosen else None,
        "query": f"?constellation={chosen.pk}" if chosen else "",
        "many": len(found.constellations) > 1,
        # One query: whether the "New event" link and the list of people kept
        # connected are the user's (the hub carers, liaison workers, managers).
        "keeps_a_calendar": access.constellations_to_keep(request.user).exists(),
        **extra,
    }


# --- the month, a week, a day -------------------------------------------------------


@login_required
@require_GET
def index(request):
    """This month's calendar (London today)."""
    today = timezone.localdate()
    return _month_page(request, date(today.year, today.month, 1))


@login_required
@require_GET
def month(request, year: int, month: int):
    """The calendar of ``year``/``month``: a grid of whole weeks on wide screens, an
    agenda of the days with something on narrow ones. 404 outside 2000–2100."""
    return _month_page(request, _month_or_404(year, month))


def _month_page(request, first: date):
    found = selectors.month(
        request.user, first.year, first.month, constellation=_chosen_constellation(request)
    )
    context = _calendar_context(
        request,
        **found,
        previous=_shift_month(first, -1),
        following=_shift_month(first, 1),
    )
    return render(request, "calendar_events/month.html", context)


@login_required
@require_GET
def week(request, day: date):
    """The week (Monday to Sunday) holding ``day``, as an agenda."""
    monday = _day_or_404(day) - timedelta(days=day.weekday())
    found = selectors.days_between(
        request.user,
        monday,
        monday + timedelta(days=6),
        constellation=_chosen_constellation(request),
    )
    context = _calendar_context(
        request,
        **found,
        monday=monday,
        previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
    )
    return render(request, "calendar_events/week.html", context)


@login_required
@require_GET
def day(request, day: date):
    """One day: its dates and whether the hub is away or covered."""
    day = _day_or_404(day)
    found = selectors.days_between(
        request.user, day, day, constellation=_chosen_constellation(request)
    )
    context = _calendar_context(
        request,
        **found,
        day=found["days"][0],
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
    )
    return render(request, "calendar_events/day.html", context)


# --- the printable month ---------------------------------------------------------------

# The dates one day's box shows, by the weeks the month spans (the box is smaller in a
# month of six weeks); more are counted ("and 2 more"), so the page stays one.
PRINT_LINES = {4: 5, 5: 4, 6: 3}


def _print_context(request, first: date) -> dict:
    found = selectors.month(request.user, first.year, first.month)
    lines = PRINT_LINES[len(found["weeks"])]
    for week_days in found["weeks"]:
        for one in week_days:
            room = max(lines - len(one.periods), 1)
            one.shown = one.slots[:room] if len(one.slots) <= room else one.slots[: room - 1]
            one.more = len(one.slots) - len(one.shown)
    names = ", ".join(c.name for c in found["window"].constellations)
    return {**found, "weekdays": WEEKDAYS, "names": names, "printed": timezone.localdate()}


@login_required
@require_GET
def month_print(request, year: int, month: int):
    """The month on one A4 page, for the fridge: a simple grid, no navigation, what
    the user may see only."""
    first = _month_or_404(year, month)
    return render(request, "calendar_events/print.html", _print_context(request, first))


@login_required
@require_GET
def month_pdf(request, year: int, month: int):
    """The printable month as a PDF (WeasyPrint), one A4 page, downloaded."""
    from weasyprint import HTML  # heavy: loaded only when a PDF is asked for

    first = _month_or_404(year, month)
    html = render_to_string(
        "calendar_events/print.html",
        {**_print_context(request, first), "pdf": True},
        request=request,
    )
    pdf = HTML(string=html, url_fetcher=_fetch_nothing).write_pdf(stylesheets=[print_css()])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="calendar-{first:%Y-%m}.pdf"'
    return response


def print_css():
    """The printable month's stylesheet (``@page`` A4), read from the static files on
    disk, so that drawing the PDF fetches nothing over the network."""
    from django.contrib.staticfiles import finders
    from weasyprint import CSS

    return CSS(filename=finders.find("calendar_events/print.css"))


def _fetch_nothing(url, *args, **kwargs):
    raise ValueError(f"The printable month fetches nothing ({url[:40]}).")


# --- one date of an event ------------------------------------------------------------


@login_required
@require_GET
def event(request, pk: int):
    """An event's page: its date in progress or next to come, else its last one."""
    found = access.get_event_for(request.user, pk)
    original = selectors.next_date(found, timezone.now())
    if original is None:
        raise Http404("This event has no date.")
    return redirect("calendar_events:date", pk=found.pk, key=key_of(original))


def _date_context(request, event: Event, original, *, form=None) -> dict:
    user = request.user
    household = access.household_answering(user, event)
    page = selectors.date_page(user, event, original, household=household)
    if page is None:
        raise Http404("This event has no date then.")
    slot = page.slot
    now = timezone.now()
    open_ = not slot.cancelled and now < slot.extra["closes_at"]
    if household is not None and open_ and form is None:
        mine = slot.extra["mine"]
        initial = {"answer": "yes", "adults": 1}
        if mine is not None:
            initial = {
                "answer": mine.answer,
                "adults": mine.adults,
                "children": list(mine.children.all()),
            }
        form = AnswerForm(household=household, initial=initial)
    keeps = access.may_keep(user, event)
    return {
        "event": event,
        "slot": slot,
        "page": page,
        "when": selectors.when(slot),
        "household": household,
        "form": form if household is not None and open_ else None,
        "open": open_,
        "started": slot.start <= now,
        "keeps": keeps,
        "sees_contacts": keeps,
        "answer_url": reverse("calendar_events:answer", args=[event.pk, slot.key]),
        "attendance_url": reverse("calendar_events:attendance", args=[event.pk, slot.key]),
    }


@login_required
@require_GET
def date_detail(request, pk: int, key: str):
    """One date of an event: what, when (London time), where, who organises, places
    left and the waiting list, the answers so far, and for an invited household's
    carer the form to answer until answers close."""
    event = access.get_event_for(request.user, pk)
    original = access.original_start_of(key)
    return render(request, "calendar_events/date.html", _date_context(request, event, original))


@login_required
@require_POST
def answer(request, pk: int, key: str):
    """A household's answer to one date (``services.answer``). Bad input: the page
    again with the form's message, status 400, nothing saved. A refusal (answers
    closed, a cancelled date, no place left for more people): its message."""
    event = access.get_event_for(request.user, pk)
    original = access.original_start_of(key)
    household = access.household_answering(request.user, event)
    if household is None:
        raise PermissionDenied("Only the carers of an invited household answer.")
    form = AnswerForm(request.POST, household=household)
    back = reverse("calendar_events:date", args=[event.pk, key_of(original)])
    if not form.is_valid():
        return _date_again(request, event, original, form)
    data = form.cleaned_data
    try:
        rsvp = services.answer(
            event,
            original,
            by=request.user,
            household=household,
            answer=data["answer"],
            adults=data["adults"],
            children=list(data["children"]),
        )
    except ValidationError as error:
        attach_errors(form, error)
        return _date_again(request, event, original, form)
    except ActionRefused as refused:
        # Answers closed, a cancelled date, no room for more: the page again with the
        # reason, status 409, and nothing saved.
        context = _date_context(request, event, original, form=form)
        context["refused"] = str(refused)
        return render(request, "calendar_events/date.html", context, status=409)
    if rsvp.waiting:
        messages.warning(
            request,
            "The event is full: you are on the waiting list. We will tell you if a place frees.",
        )
    else:
        messages.success(request, f"Thank you: your answer ({rsvp.get_answer_display()}) is saved.")
    return redirect(back)


def _date_again(request, event, original, form):
    context = _date_context(request, event, original, form=form)
    if context["form"] is None:
        # Answers closed or the date was cancelled meanwhile: say so on the page.
        context["refused"] = "Answers are closed for this date."
    context["form"] = form
    return render(request, "calendar_events/date.html", context, status=400)


# --- who came ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request, pk: int, key: str):
    """The form of who came to one date, for those who keep the calendar: a line per
    household (and per person kept connected who answered), starting from the answers;
    it calls ``services.record_attendance``. Before the date starts, or for a
    cancelled date, the page says so and shows no form."""
    event = access.get_event_to_keep(request.user, pk)
    original = access.original_start_of(key)
    page = selectors.date_page(request.user, event, original)
    if page is None:
        raise Http404("This event has no date then.")
    slot = page.slot
    back = reverse("calendar_events:date", args=[event.pk, slot.key])
    context = {
        "event": event,
        "slot": slot,
        "when": selectors.when(slot),
        "back": back,
        "started": slot.start <= timezone.now(),
    }
    if slot.cancelled or not context["started"]:
        if request.method == "POST":
            messages.error(
                request,
                "This date was cancelled: nobody came."
                if slot.cancelled
                else "Record who came once the event has started.",
            )
            return redirect(back)
        return render(request, "calendar_events/attendance.html", context)
    lines = selectors.attendance_lines(event, slot)
    form = AttendanceForm(request.POST or None, lines=lines)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.record_attendance(event, original, by=request.user, came=form.came())
            except ValidationError as error:
                attach_errors(form, error)
                status = 400
            except ActionRefused as refused:
                messages.error(request, str(refused))
                return redirect(back)
            else:
                messages.success(request, "Saved: who came is recorded.")
                return redirect(back)
        else:
            status = 400
    context["form"] = form
    return render(request, "calendar_events/attendance.html", context, status=status)
