"""Fetch-and-check helpers for sleepovers: 404 outside visibility, 403 for a
visible request the user may not act on."""

from dataclasses import dataclass
from functools import cached_property, partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404

from constellation import access as constellation_access
from constellation.models import Carer, Child, Constellation, Household, HubCover
from people.models import ChildRecordAccess
from people.roles import roles_for

from .models import HOSTING, OPEN, BedChange, Kind, LimitOverride, Request, Unavailability


def is_hub_carer(user, request: Request) -> bool:
    """Whether the user answers this request for the hub: a current carer of the
    household it was sent to (the hub, or the stand-in covering it), and never of
    the household that asked (nobody answers their own request)."""
    households = set(
        Carer.objects.current().filter(user=user).values_list("household_id", flat=True)
    )
    return request.hub_id in households and request.household_id not in households


def is_requester(user, request: Request) -> bool:
    """Whether the user is a current carer of the household that asked."""
    return Carer.objects.current().filter(user=user, household_id=request.household_id).exists()


def get_request_for(user, pk) -> Request:
    request = (
        Request.objects.visible_to(user)
        .select_related("constellation", "hub", "household", "requested_by")
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404("No such request.")
    return request


def get_request_for_hub(user, pk) -> Request:
    """A request the user answers as one of the hub's carers."""
    request = get_request_for(user, pk)
    if not is_hub_carer(user, request):
        raise PermissionDenied("Only the hub's carers answer requests.")
    return request


def get_request_for_requester(user, pk) -> Request:
    request = get_request_for(user, pk)
    if not is_requester(user, request):
        raise PermissionDenied("Only the requesting household can do this.")
    return request


def get_hub_for(user, pk) -> Household:
    """A hub home the user may see (its nights, its availability), or a household
    that stands in for one, or 404."""
    hub = (
        Household.objects.visible_to(user)
        .filter(pk=pk)
        .filter(
            Q(kind=Household.Kind.HUB, hub_of__isnull=False)
            | Q(pk__in=HubCover.objects.in_force().values("stand_in_id"))
        )
        .first()
    )
    if hub is None:
        raise Http404("No such hub.")
    return hub


def get_managed_hub_for(user, pk) -> Household:
    """A hub whose beds and availability the user may change: its own carers, and
    the constellation's liaison workers and managers."""
    hub = get_hub_for(user, pk)
    own = Carer.objects.current().filter(user=user, household=hub).exists()
    managed = Constellation.objects.managed_by(user).filter(hub=hub).exists()
    if not (own or managed):
        raise PermissionDenied("Only the hub's carers change its beds and availability.")
    return hub


def get_hub_to_answer(user, pk) -> Household:
    """A hub home whose requests the user answers: one of its current carers (the
    people whose inbox and home page show its requests to answer). 404 for a hub the
    user does not see (another constellation's, another service's), 403 for a visible
    one they do not answer for (a satellite carer, a liaison worker, a manager)."""
    hub = (
        Household.objects.visible_to(user)
        .filter(pk=pk, kind=Household.Kind.HUB, hub_of__isnull=False)
        .first()
    )
    if hub is None:
        raise Http404("No such hub.")
    if not Carer.objects.current().filter(user=user, household=hub).exists():
        raise PermissionDenied("Only the hub's carers answer its requests.")
    return hub


def hub_of_user(user) -> Household | None:
    """The hub of the constellation the user's household belongs to (or is)."""
    carer = Carer.objects.current().filter(user=user).select_related("household").first()
    if carer is None:
        return None
    constellation = (
        Constellation.objects.of_household_now(carer.household_id).select_related("hub").first()
    )
    return constellation.hub if constellation else None


def get_constellation_to_manage(user, pk) -> Constellation:
    """A constellation whose limits, exceptions and cover the user sets: its liaison
    workers and the service's managers. 403 for others who see it, else 404."""
    constellation = (
        Constellation.objects.managed_by(user)
        .select_related("hub", "service")
        .filter(pk=pk)
        .first()
    )
    if constellation is not None:
        return constellation
    if Constellation.objects.visible_to(user).filter(pk=pk).exists():
        raise PermissionDenied("Only the liaison worker and managers set this.")
    raise Http404("No such constellation.")


def get_override_to_manage(user, pk) -> LimitOverride:
    override = LimitOverride.objects.select_related("constellation").filter(pk=pk).first()
    if override is None:
        raise Http404("No such exception.")
    get_constellation_to_manage(user, override.constellation_id)
    return override


def get_cover_to_manage(user, pk) -> HubCover:
    cover = HubCover.objects.select_related("constellation", "stand_in").filter(pk=pk).first()
    if cover is None:
        raise Http404("No such cover.")
    get_constellation_to_manage(user, cover.constellation_id)
    return cover


def get_unavailability_to_manage(user, pk) -> Unavailability:
    period = Unavailability.objects.filter(pk=pk).first()
    if period is None:
        raise Http404("No such period.")
    get_managed_hub_for(user, period.hub_id)
    return period


def get_bed_change_to_manage(user, pk) -> BedChange:
    change = BedChange.objects.filter(pk=pk).first()
    if change is None:
        raise Http404("No such change.")
    get_managed_hub_for(user, change.hub_id)
    return change


def get_temporary_placement_to_end(user, pk) -> Request:
    """A temporary placement whose end (the child's move) the user records: the
    constellation's liaison worker or a manager."""
    request = get_request_for(user, pk)
    if not Constellation.objects.managed_by(user).filter(pk=request.constellation_id).exists():
        raise PermissionDenied("Only the liaison worker records the move.")
    if request.kind != Kind.TEMPORARY:
        raise Http404("Not a temporary placement.")
    return request


# --- the choice sets: one each, used by the form, the API and the service ----------------
#
# A choice outside its set is refused the same way at every door: a 400 naming the
# field on the page and over the API, and a ``ValidationError`` naming the field from
# the service (``check_choice``).

STAND_IN_MESSAGE = (
    "Choose a household from the list. A stand-in is another approved household of "
    "the service, with carers and beds, that you oversee."
)
EXCEPTION_CHILD_MESSAGE = "Choose a child of this constellation, placed in it now."
PLACEMENT_CHILD_MESSAGE = (
    "Choose a child placed in one of your constellations. A child not placed in a "
    "satellite household, or already at the hub, cannot be chosen."
)
DESTINATION_MESSAGE = (
    "Choose a household from the list. It must be a household of the service that you oversee."
)


def stand_in_choices(user, constellation: Constellation):
    """Households ``user`` may name to stand in for ``constellation``'s hub: approved
    now (a hub, or an active member of a constellation), of the same fostering
    service, with a current carer to answer and at least one bed, that the user
    oversees; never the hub itself. Ordered by name. (The service's
    ``stand_in_problem`` says why one household is not among them.)"""
    return (
        Household.objects.managed_by(user)
        .approved()
        .filter(
            service_id=constellation.service_id,
            beds__gte=1,
            pk__in=Carer.objects.current().values("household_id"),
        )
        .exclude(pk=constellation.hub_id)
        .order_by("name")
    )


def children_for_exception(user, constellation: Constellation):
    """Children whose planned stays ``user`` may let go beyond ``constellation``'s
    limits: placed now in its hub or an active member household, and overseen by
    the user. Ordered by the name they are known by."""
    return (
        Child.objects.managed_by(user)
        .placed_in([constellation])
        .order_by("preferred_name", "first_name", "pk")
    )


def children_for_temporary_placement(user, constellation: Constellation | None = None):
    """Children ``user`` may arrange a temporary placement at the hub for: placed now in
    an active satellite household of ``constellation`` (or of any constellation the
    user oversees) that has a hub, and not already in a temporary placement that is
    asked, accepted or under way. The hub's own foster children are at the hub
    already. Ordered by the name they are known by."""
    managed = Constellation.objects.managed_by(user).filter(hub__isnull=False)
    if constellation is not None:
        managed = managed.filter(pk=constellation.pk)
    staying = Request.objects.filter(kind=Kind.TEMPORARY, status__in=OPEN | HOSTING).values(
        "children"
    )
    return (
        Child.objects.managed_by(user)
        .placed_in(managed)
        .exclude(household__hub_of__isnull=False)
        .exclude(pk__in=staying)
        .select_related("household")
        .order_by("preferred_name", "first_name", "pk")
    )


def move_destinations(user, sleepover: Request):
    """Households a child may move to when the temporary placement ``sleepover`` ends:
    any household of the constellation's fostering service that ``user`` oversees,
    the constellation's own households first (the child keeps the adults and
    children they know), then by name. Moving on from care in the service (no
    household) is always a choice."""
    return (
        Household.objects.managed_by(user)
        .filter(service_id=sleepover.constellation.service_id)
        .constellation_first(sleepover.constellation)
    )


def check_choice(choices, chosen, *, field: str, message: str) -> None:
    """Refuse ``chosen`` (a model instance, or None for no choice) when it is not in
    the queryset ``choices``: ``ValidationError({field: message})``."""
    if chosen is not None and not choices.filter(pk=chosen.pk).exists():
        raise ValidationError({field: message})


def chosen(choices, pk: int | None, *, field: str, message: str):
    """The object ``pk`` from the set ``choices`` (None for None), for a door that
    receives an id (the API); ``ValidationError({field: message})`` when it is not
    in the set (whether it does not exist, is another service's or is not offered)."""
    if pk is None:
        return None
    found = choices.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: message})
    return found


NOTE_WITHHELD = "Note withheld: it concerns a child you do not have access to."


def seen_child_ids(user, ids) -> set[int]:
    """Which of the children ``ids`` the user may see now, in the sense that counts
    for words written about them: their whole record, ``Child.objects.full_records_for``
    (a preferred name and age shown across a constellation is not enough). One query."""
    if not ids:
        return set()
    return set(Child.objects.full_records_for(user).filter(pk__in=ids).values_list("pk", flat=True))


def may_read_request_notes(user, request: Request, *, visible: set[int] | None = None) -> bool:
    """Whether ``user`` may read the free text written about ``request`` (a request
    they see: ``Request.objects.visible_to``).

    The rule, in this one place: free text about a request (its notes, its decline
    and cancel reasons, a crisis's words, its timeline's notes, the notes of the
    approvals it waits for) may speak of any of its children, of their health or
    family, so it is shown only to those who may see *every* child the request
    concerns, as the children's visibility says now (``seen_child_ids``: the child's
    record, ``Child.objects.full_records_for``: the hub's carers, a stand-in while
    its cover is in force, the child's own carers and social worker, the
    constellation's liaison workers and the service's managers). Anyone else (a
    child's social worker who holds the case of one child of two, a stand-in once its
    cover is over, a household whose child has moved on) reads the facts they may see
    (status, dates, their own child) and ``NOTE_WITHHELD`` where a note was written,
    never the note.

    ``visible``: the ids of the children the user may see, when the caller has read
    them for a batch (``RequestViewer``); else one query. The request's children are
    read through ``request.children.all()`` (prefetched by lists). Returns False for
    an anonymous user; never raises."""
    if not getattr(user, "is_authenticated", False):
        return False
    ids = {c.pk for c in request.children.all()}
    if visible is None:
        visible = seen_child_ids(user, ids)
    return ids <= visible


def has_free_text(request: Request) -> bool:
    """Whether anything was written about the request in words: its notes, a decline
    or cancel reason, or a note on its timeline (read from a prefetched timeline when
    there is one, else one query)."""
    if request.notes or request.decline_reason or request.cancel_reason:
        return True
    cached = getattr(request, "_prefetched_objects_cache", {})
    if "timeline" in cached:
        return any(step.note for step in request.timeline.all())
    return request.timeline.exclude(note="").exists()


@dataclass(frozen=True)
class ShownChild:
    """A child of a request as one viewer may see them now: preferred name and age to
    everyone who sees the request; the full record (``record``: full name, needs,
    allergies, medication notes, emergency contacts) only when ``full``. Pages read
    the record through ``record``, which is ``None`` otherwise, so a template cannot
    show what the viewer may not see."""

    pk: int
    known_as: str
    age: int
    full: bool
    record: Child | None

    @classmethod
    def of(cls, child: Child, *, full: bool) -> "ShownChild":
        return cls(child.pk, child.known_as, child.age, full, child if full else None)


class RequestViewer:
    """What of a visible request, and of its children, one user may see now.

    The one home of this decision for every sleepover page, fragment, card and API
    field. It follows the constellation's visibility as it is today, not the request's
    history:

    - a child's full record is shown only to those who may see it now:
      ``Child.objects.full_records_for(user)`` (the hub's carers, a stand-in while its
      cover is in force, the child's own carers and social worker, the constellation's
      liaison workers and the service's managers);
    - the free text written about the request (its notes, the reasons it was
      declined or cancelled, its timeline's notes) goes only to those who may see
      every child it concerns (``may_read_request_notes``, decided here for a batch);
    - the household asked (a stand-in, after its cover ends) keeps its history: the
      request, who and when, its children by preferred name and age;
    - a social worker who sees the request only through the children whose case they
      hold sees those children, not the others.

    At most two queries for the viewer (the user's constellations, a social worker's
    cases; the household comes with the user's roles), one per batch of requests
    given to ``prepare`` (or ``attach``) for the children's records (a list without
    the records reads them the first time a batch's free text is asked about): none
    per card."""

    def __init__(self, user):
        self.user = user
        self._full: set[int] = set()
        self._decided: set[int] = set()
        self._pending: set[int] = set()

    @cached_property
    def constellations(self) -> set[int]:
        """Constellations whose children the user sees in full today."""
        return set(
            Constellation.objects.with_full_child_records_for(self.user).values_list(
                "pk", flat=True
            )
        )

    @cached_property
    def own(self) -> set[int]:
        """The household the user is a carer of now: from the user's roles when a page
        has read them already, else one query."""
        if hasattr(self.user, "_mockingbird_roles"):
            household_id = roles_for(self.user).household_id
            return set() if household_id is None else {household_id}
        return set(
            Carer.objects.current().filter(user=self.user).values_list("household_id", flat=True)
        )

    @cached_property
    def cases(self) -> set[int]:
        return set(Child.objects.filter(social_worker=self.user).values_list("pk", flat=True))

    def _lists_every_child(self, request: Request) -> bool:
        """Whether the request's children are all listed (by preferred name and age):
        the requesting household and those who see the constellation's children in
        full now. Others who see the request (a social worker) see their cases only."""
        return request.household_id in self.own or request.constellation_id in self.constellations

    def sees_whole(self, request: Request) -> bool:
        """Whether the user may read the free text written about ``request``: the rule
        of ``may_read_request_notes``, with the children the user may see read once
        for every request this viewer was given."""
        self._decide({c.pk for c in request.children.all()} | self._pending)
        self._pending.clear()
        return may_read_request_notes(self.user, request, visible=self._full)

    def withheld(self, request: Request) -> bool:
        """Whether the request has free text that this user may not read (pages say a
        note was withheld, the API ``text_withheld``)."""
        return not self.sees_whole(request) and has_free_text(request)

    def prepare(self, requests) -> None:
        """Decide in one query which children of these requests (children prefetched)
        the user sees in full now."""
        self._decide({c.pk for r in requests for c in r.children.all()})

    def _decide(self, ids: set[int]) -> None:
        ids = ids - self._decided
        if not ids:
            return
        self._full |= seen_child_ids(self.user, ids)
        self._decided |= ids

    def children(self, request: Request) -> list[ShownChild]:
        """The request's children as the user may see them now, in the prefetched order."""
        return self._children(request, records=True)

    def _children(self, request: Request, *, records: bool) -> list[ShownChild]:
        listed = list(request.children.all())
        if records:
            self._decide({c.pk for c in listed})
        if not (request.hub_id in self.own or self._lists_every_child(request)):
            listed = [c for c in listed if c.pk in self.cases]
        return [ShownChild.of(c, full=records and c.pk in self._full) for c in listed]

    def attach(
        self,
        requests,
        *,
        records: bool = True,
        log: bool = False,
        channel: str = ChildRecordAccess.Channel.WEB,
    ):
        """Set ``shown_children`` and ``whole`` (whether the notes show; read only when
        a page asks) on each request, and return the requests. ``records=False`` for a
        list that names the children only (no query for the records); ``log`` to write
        the access log for the full records the cards show."""
        requests = list(requests)
        if records:
            self.prepare(requests)
        else:
            self._pending |= {c.pk for r in requests for c in r.children.all()}
        for r in requests:
            r.shown_children = self._children(r, records=records)
            r.whole = partial(self.sees_whole, r)
            r.withheld = partial(self.withheld, r)
        if log:
            self.log([c for r in requests for c in r.shown_children], channel=channel)
        return requests

    def log(self, shown: list[ShownChild], *, channel: str = ChildRecordAccess.Channel.WEB):
        """Write the access log for the full records among ``shown``, in one query."""
        constellation_access.log_full_record_views(
            self.user, {c.pk for c in shown if c.full}, channel=channel
        )


def sees_guests(user, hub: Household) -> bool:
    """Whether the nights of a hub show the children booked (by preferred name): those
    who see its constellation's children in full now, and the carers of the home itself
    (a stand-in keeps the history of the stays it hosted)."""
    return (
        Constellation.objects.with_full_child_records_for(user).filter(hub=hub).exists()
        or Carer.objects.current().filter(user=user, household=hub).exists()
    )


def approval_notes_for(user, approvals) -> list:
    """Set ``note_shown`` (the note, or "") and ``note_withheld`` on each delegated
    authority approval, and return them as a list.

    An approval that waits for a sleepover request (``subject_type == "sleepover"``)
    carries words about that request (the holder's reasons, the family's cancel reason
    when it was withdrawn): its note follows ``may_read_request_notes`` for the
    request, except that whoever wrote the note (``decided_by``) reads it. Any other
    approval's note is shown as it is. Two queries at most, whatever the number."""
    approvals = list(approvals)
    ids = {a.subject_id for a in approvals if a.subject_type == "sleepover" and a.subject_id}
    requests = {}
    if ids:
        requests = {
            r.pk: r for r in Request.objects.filter(pk__in=ids).prefetch_related("children")
        }
    visible = seen_child_ids(user, {c.pk for r in requests.values() for c in r.children.all()})
    for a in approvals:
        request = requests.get(a.subject_id) if a.subject_type == "sleepover" else None
        hidden = (
            bool(a.note)
            and request is not None
            and a.decided_by_id != user.pk
            and not may_read_request_notes(user, request, visible=visible)
        )
        a.note_withheld, a.note_shown = hidden, "" if hidden else a.note
    return approvals
