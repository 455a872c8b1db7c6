"""Who belongs (DOMAIN.md workflow 7) and supervision (issue 11): shared planning
meetings, the constellation's history of households, carers and children's moves,
and the liaison worker's supervision notes.

Every page here is the service's record of a constellation: its liaison workers and
the service's managers read and write it (``access.get_managed_constellation_for``).
A carer of the constellation sees the constellation, so these pages answer them 403;
anyone who does not see it gets 404. The history is not shown to the hub carers
either: it holds the reasons households withdrew and carers left or were
de-registered, which are the service's business, not what a hub needs to look after
a child for a night. Supervision notes never reach a carer, in any page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from . import access, services
from .forms import PlanningMeetingForm, SupervisionNoteForm
from .models import (
    Carer,
    Child,
    Constellation,
    ConstellationMembership,
    Household,
    MoveKind,
    Placement,
    PlanningMeeting,
    SupervisionNote,
)
from .services import ActionRefused
from .services.planning import supervisees

GET_POST = require_http_methods(["GET", "POST"])
PAGE_SIZE = 20


def _posted(request):
    return request.POST if request.method == "POST" else None


def _status(request) -> int:
    """A form shown again after a refused POST answers 400."""
    return 400 if request.method == "POST" else 200


def _whole_number(value: str) -> int | None:
    """A record id from a query string (``?carer=12``), or None for anything else."""
    if value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


# --- shared planning meetings -------------------------------------------------------------


@login_required
@require_GET
def planning_meetings(request, pk):
    user = request.user
    constellation = access.get_managed_constellation_for(user, pk)
    meetings = (
        PlanningMeeting.objects.visible_to(user)
        .filter(constellation=constellation)
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch(
                "proposals",
                queryset=ConstellationMembership.objects.select_related("household").order_by(
                    "household__name"
                ),
            )
        )
    )
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "constellation/membership/planning_meetings.html",
        {"constellation": constellation, "page": page},
    )


@login_required
@GET_POST
def planning_meeting_create(request, pk):
    user = request.user
    constellation = access.get_managed_constellation_for(user, pk)
    form = PlanningMeetingForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.record_planning_meeting(constellation, by=user, **form.cleaned_data)
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"The planning meeting of {meeting.held_on:%-d %B %Y} is recorded. Propose "
                "the households it chose from its entry below.",
            )
            url = reverse("constellation:planning_meetings", args=[constellation.pk])
            return redirect(f"{url}#meeting-{meeting.pk}")
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Record a shared planning meeting of {constellation}",
            "intro": "The meeting that decides which households are proposed to join.",
            "back": reverse("constellation:planning_meetings", args=[constellation.pk]),
        },
        status=_status(request),
    )


# --- the history of households over time ---------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A child's move into or out of one of the constellation's households."""

    day: date
    child: Child
    household: Household
    into: bool  # True: the child came to ``household``; False: the child left it
    kind: str  # a MoveKind label, or "First placement"
    reason: str
    other: str  # where from / where to, as this user may read it
    link: bool  # the user may open the child's page


def _periods(constellation: Constellation, memberships) -> dict[int, list]:
    """Household id -> the (first, last) days it was in the constellation (last None
    while it still is). The hub home is in it for as long as it is the hub."""
    periods: dict[int, list] = {}
    if constellation.hub_id:
        periods[constellation.hub_id] = [(date.min, None)]
    for m in memberships:
        if m.joined_on:
            periods.setdefault(m.household_id, []).append((m.joined_on, m.ended_on))
    return periods


def _within(periods: dict[int, list], household_id: int, day: date) -> bool:
    return any(
        first <= day and (last is None or day <= last)
        for first, last in periods.get(household_id, ())
    )


def _moves(user, periods: dict[int, list]) -> list[Move]:
    """Children's moves into and out of the households while they were in the
    constellation, newest first; four queries whatever the number."""
    here = list(periods)
    placements = list(
        Placement.objects.filter(
            child__in=Placement.objects.filter(household__in=here).values("child_id")
        )
        .select_related("child", "household")
        .order_by("child_id", "started_on", "pk")
    )
    households = {p.household_id for p in placements}
    readable = set(
        Household.objects.visible_to(user).filter(pk__in=households).values_list("pk", flat=True)
    )
    linked = set(
        Child.objects.visible_to(user)
        .filter(pk__in={p.child_id for p in placements})
        .values_list("pk", flat=True)
    )

    def name(p: Placement | None, *, moved_on: str = "") -> str:
        if p is None:
            return moved_on
        return p.household.name if p.household_id in readable else "another household"

    def label(kind: str) -> str:
        return MoveKind(kind).label if kind in MoveKind.values else "Move"

    moves = []
    for i, p in enumerate(placements):
        if p.household_id not in periods:
            continue
        before = placements[i - 1] if i and placements[i - 1].child_id == p.child_id else None
        after = (
            placements[i + 1]
            if i + 1 < len(placements) and placements[i + 1].child_id == p.child_id
            else None
        )
        common = {"child": p.child, "household": p.household, "link": p.child_id in linked}
        if _within(periods, p.household_id, p.started_on):
            moves.append(
                Move(
                    day=p.started_on,
                    into=True,
                    kind=label(before.move_kind) if before else "First placement",
                    reason=before.reason_for_move if before else "",
                    other=name(before),
                    **common,
                )
            )
        if p.ended_on and _within(periods, p.household_id, p.ended_on):
            moves.append(
                Move(
                    day=p.ended_on,
                    into=False,
                    kind=label(p.move_kind),
                    reason=p.reason_for_move,
                    other=name(after, moved_on="Moved on from care"),
                    **common,
                )
            )
    moves.sort(key=lambda m: (m.day, m.into), reverse=True)
    return moves


@login_required
@require_GET
def constellation_history(request, pk):
    user = request.user
    constellation = access.get_managed_constellation_for(user, pk)
    memberships = list(
        ConstellationMembership.objects.visible_to(user)
        .filter(constellation=constellation)
        .select_related("household", "planning_meeting")
        .order_by("-proposed_on", "-pk")
    )
    periods = _periods(constellation, memberships)
    carers = [
        c
        for c in Carer.objects.filter(household__in=list(periods), ended_on__isnull=False)
        .select_related("user", "household")
        .order_by("-ended_on", "-pk")
        if _within(periods, c.household_id, c.ended_on)
    ]
    return render(
        request,
        "constellation/membership/history.html",
        {
            "constellation": constellation,
            "memberships": memberships,
            "carers": carers,
            "moves": _moves(user, periods),
        },
    )


# --- supervision notes ----------------------------------------------------------------------


@login_required
@require_GET
def supervision_notes(request, pk):
    user = request.user
    constellation = access.get_managed_constellation_for(user, pk)
    carers = list(
        supervisees(constellation).annotate(
            notes_count=Count(
                "supervision_notes", filter=Q(supervision_notes__constellation=constellation)
            ),
            last_supervised=Max(
                "supervision_notes__supervised_on",
                filter=Q(supervision_notes__constellation=constellation),
            ),
        )
    )
    notes = (
        SupervisionNote.objects.visible_to(user)
        .filter(constellation=constellation)
        .select_related("carer__user", "carer__household", "written_by")
    )
    chosen = None
    carer_id = _whole_number(request.GET.get("carer", ""))
    if carer_id is not None:
        notes = notes.filter(carer_id=carer_id)
        chosen = next((c for c in carers if c.pk == carer_id), None)
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "constellation/membership/supervision.html",
        {
            "constellation": constellation,
            "carers": carers,
            "page": page,
            "chosen": chosen,
            "filtered": carer_id is not None,
            "query": f"carer={carer_id}" if carer_id is not None else "",
        },
    )


def _constellation_to_supervise_in(user, carer: Carer) -> Constellation:
    """The constellation the carer is in now, which the user must manage: a liaison
    worker of a constellation the household has left does not write its notes."""
    constellation = (
        Constellation.objects.of_household_now(carer.household).select_related("service").first()
    )
    if constellation is None or not access.can_manage_constellation(user, constellation):
        raise PermissionDenied(
            "Supervision notes are written by the liaison workers of the carer's constellation."
        )
    return constellation


@login_required
@GET_POST
def supervision_note_create(request, pk):
    user = request.user
    carer = access.get_carer_to_supervise(user, pk)
    constellation = _constellation_to_supervise_in(user, carer)
    form = SupervisionNoteForm(_posted(request))
    back = reverse("constellation:supervision", args=[constellation.pk])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.write_supervision_note(
                carer, by=user, supervised_on=data["supervised_on"], note=data["note"]
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"The supervision note for {carer.user} is saved.")
            return redirect(back)
    return render(
        request,
        "constellation/form.html",
        {
            "form": form,
            "title": f"Supervision note: {carer.user} ({carer.household})",
            "intro": "Read only by the liaison workers of the constellation and the service's "
            "managers; never by carers.",
            "back": back,
        },
        status=_status(request),
    )
