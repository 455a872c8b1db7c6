"""Requests for stays and breaks at the hub, their lifecycle, the hub's beds and
when it is not available. A night never holds more children than beds: the
occupancy rows (``Night``) are written under a lock on the hub's row."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from constellation.models import Child, Constellation, Household


class Kind(models.TextChoices):
    PLANNED = "planned", "Planned overnight stay"
    SHORT_BREAK = "short_break", "Short break"
    TRANSPORT = "transport", "Transport"
    CRISIS = "crisis", "Crisis: help now"
    TEMPORARY = "temporary", "Temporary placement"


# Kinds whose nights take beds at the hub.
OVERNIGHT_KINDS = {Kind.PLANNED, Kind.CRISIS, Kind.TEMPORARY}
# The delegated authority decision each kind needs from the hub carer.
DECISION_FOR_KIND = {
    Kind.PLANNED: "overnight_hub_planned",
    Kind.CRISIS: "stay_hub_short_notice",
    Kind.TEMPORARY: "stay_hub_extended",
    Kind.TRANSPORT: "transport_hub_carer",
}


class CrisisReason(models.TextChoices):
    DROP_OFF = "drop_off", "Drop a child off (another child needs the doctor)"
    CARER_HEALTH = "carer_health", "My own health emergency"
    PICK_UP = "pick_up", "Pick up a child and look after them for a few hours"
    COMPOSURE = "composure", "A few hours to recover composure"
    OVERNIGHT = "overnight", "An unplanned overnight stay"
    OTHER = "other", "Something else"


class Status(models.TextChoices):
    REQUESTED = "requested", "Requested"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"
    OFFERED = "offered", "Another time offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"
    ARRIVED = "arrived", "Arrived"
    COLLECTED = "collected", "Collected"
    DID_NOT_ARRIVE = "did_not_arrive", "Did not arrive"
    EXPIRED = "expired", "Expired: its time passed without an answer"


ALLOWED = {
    Status.REQUESTED: {
        Status.ACCEPTED,
        Status.DECLINED,
        Status.OFFERED,
        Status.AWAITING_APPROVAL,
        Status.CANCELLED,
        Status.EXPIRED,
    },
    # Approved while the hub filled up meanwhile: back to the hub to answer again.
    Status.AWAITING_APPROVAL: {
        Status.ACCEPTED,
        Status.DECLINED,
        Status.CANCELLED,
        Status.REQUESTED,
        Status.EXPIRED,
    },
    # The requester takes the offer (accepted) or refuses it (cancelled).
    Status.OFFERED: {
        Status.ACCEPTED,
        Status.AWAITING_APPROVAL,
        Status.CANCELLED,
        Status.EXPIRED,
    },
    Status.ACCEPTED: {Status.ARRIVED, Status.DID_NOT_ARRIVE, Status.CANCELLED},
    Status.ARRIVED: {Status.COLLECTED},
    Status.DECLINED: set(),
    Status.CANCELLED: set(),
    Status.COLLECTED: set(),
    Status.DID_NOT_ARRIVE: set(),
    Status.EXPIRED: set(),
}
OPEN = {Status.REQUESTED, Status.AWAITING_APPROVAL, Status.OFFERED}
HOLDING_BEDS = {Status.ACCEPTED, Status.ARRIVED, Status.COLLECTED}
HOSTING = {Status.ACCEPTED, Status.ARRIVED}


# "A night" at the hub, defined once: the night of a date D runs from NIGHT_STARTS on D
# to NIGHT_ENDS on the next day, London wall-clock time (both hours exist on the
# clock-change days). A stay holds a bed for every night it covers any part of: a
# crisis from 00:30 to 10:00 on 15 January holds the night of 14 January.
NIGHT_STARTS = time(21)
NIGHT_ENDS = time(7)


def _local_moment(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def night_span(night: date) -> tuple[datetime, datetime]:
    """The aware moments (Europe/London) the night of ``night`` starts and ends."""
    return _local_moment(night, NIGHT_STARTS), _local_moment(night + timedelta(days=1), NIGHT_ENDS)


def tonight(now: datetime | None = None) -> date:
    """The night in progress or the next to come at ``now`` (aware; now by default):
    at 00:30 on 15 January, still the night of 14 January; from 07:00, the 15th's."""
    local = timezone.localtime(now or timezone.now())
    return local.date() - timedelta(days=1 if local.time() < NIGHT_ENDS else 0)


def nights_between(start: datetime, end: datetime) -> list[date]:
    """The nights (dates, each naming the evening the night begins) that the span from
    ``start`` to ``end`` (aware datetimes) covers any part of, in order. Empty for a
    span inside one day, 07:00 to 21:00.

    Read on London wall-clock times: the boundaries (21:00, 07:00) never fall in the
    hour a clock change skips or repeats, so comparing wall-clock times with them
    orders the moments as comparing instants would (``night_span`` gives the
    instants)."""
    first_local, last_local = timezone.localtime(start), timezone.localtime(end)
    first = first_local.date() - timedelta(days=1 if first_local.time() < NIGHT_ENDS else 0)
    last = last_local.date() - timedelta(days=0 if last_local.time() > NIGHT_STARTS else 1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# How a decline that came from a refused approval begins (the hub declined nothing).
NOT_APPROVED = "Not approved"

# The longest a constellation may set for a planned stay, in nights.
MAX_NIGHTS_LIMIT = 14


class SleepoverSettings(models.Model):
    """A constellation's limits for planned stays."""

    constellation = models.OneToOneField(
        Constellation, on_delete=models.CASCADE, related_name="sleepover_settings"
    )
    max_consecutive_nights = models.PositiveSmallIntegerField(
        default=3, help_text="The longest planned stay, in nights."
    )
    yearly_allowance_nights = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Planned nights per child per calendar year (optional)."
    )
    crisis_escalation_minutes = models.PositiveSmallIntegerField(
        default=10,
        help_text="Minutes a crisis request may wait unanswered before the liaison worker "
        "is alerted (between 2 and 60).",
    )

    def __str__(self) -> str:
        return f"Sleepover limits of {self.constellation}"


class RequestQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The hub's carers (and a stand-in's, for the requests sent to it) and the
        constellation's staff see every request; a satellite carer sees their own
        household's; a child's social worker sees the requests for their children."""
        from constellation.models import Carer

        if not user.is_authenticated:
            return self.none()
        own = Carer.objects.current().filter(user=user).values("household_id")
        return self.filter(
            Q(constellation__in=Constellation.objects.with_full_child_records_for(user))
            | Q(hub__in=own)
            | Q(household__in=own)
            | Q(pk__in=self.for_children_of(user))
        )

    def for_children_of(self, social_worker):
        """Ids of the requests for children whose case the social worker holds."""
        return Request.children.through.objects.filter(child__social_worker=social_worker).values(
            "request_id"
        )

    def open(self):
        return self.filter(status__in=OPEN)

    def inbox_of(self, hub):
        """A hub's open requests with their household and children, for the inbox
        (sorted by urgency in Python: crisis first, then what waits for the hub)."""
        return self._for_hub(self.open().filter(hub=hub))

    def to_answer_or_host(self, hub, now):
        """A household's open requests, and its accepted stays not over yet (the
        children coming, or there now): what a stand-in answers and hosts."""
        return self._for_hub(
            self.filter(hub=hub).filter(Q(status__in=OPEN) | Q(status__in=HOSTING, end__gte=now))
        )

    def _for_hub(self, requests):
        return requests.select_related("household", "hub", "requested_by").prefetch_related(
            models.Prefetch(
                "children", queryset=Child.objects.order_by("preferred_name", "first_name")
            )
        )


class Request(models.Model):
    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="sleepover_requests"
    )
    hub = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="hub_requests",
        help_text="The hub home (or the stand-in covering it) that is asked.",
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="sleepover_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    children = models.ManyToManyField(Child, related_name="sleepover_requests")
    start = models.DateTimeField()
    end = models.DateTimeField()
    notes = models.TextField(blank=True)
    crisis_reason = models.CharField(max_length=14, choices=CrisisReason.choices, blank=True)
    status = models.CharField(max_length=18, choices=Status.choices, default=Status.REQUESTED)
    decline_reason = models.CharField(max_length=500, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    offered_start = models.DateTimeField(null=True, blank=True)
    offered_end = models.DateTimeField(null=True, blank=True)
    emergency_over_beds = models.BooleanField(
        default=False, help_text="Accepted beyond the beds as a confirmed emergency arrangement."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="request_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["hub", "status", "start"]),
            # The dashboards' measures: requests made, and stays started, by month.
            models.Index(fields=["constellation", "created_at"], name="request_made"),
            models.Index(fields=["constellation", "start"], name="request_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("sleepovers:request", args=[self.pk])

    @property
    def nights(self) -> list[date]:
        """Every night the request covers any part of, whatever its kind: the rules
        apply by what a request is, not by its label. Kept while start and end stay."""
        key = (self.start, self.end)
        if getattr(self, "_nights_for", None) != key:
            self._nights, self._nights_for = nights_between(*key), key
        return self._nights

    @property
    def not_approved(self) -> bool:
        """Declined because the delegated authority's holder refused (not by the hub)."""
        return self.status == Status.DECLINED and self.decline_reason.startswith(NOT_APPROVED)

    @property
    def is_crisis(self) -> bool:
        return self.kind == Kind.CRISIS


class Transition(models.Model):
    """The request's timeline: who moved it, from what to what, when, and why."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="timeline")
    from_status = models.CharField(max_length=18, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=18, choices=Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"


class NightQuerySet(models.QuerySet):
    def guests(self, hub, first: date, last: date):
        """The children booked at a hub from ``first`` to ``last``, night by night."""
        return (
            self.filter(hub=hub, date__gte=first, date__lte=last)
            .select_related("child", "request__household")
            .order_by("date", "child__preferred_name", "child__first_name")
        )

    def per_household(self, constellations, first: date, last: date):
        """Nights at the hub per constellation and requesting household, by kind."""
        return (
            self.filter(request__constellation__in=constellations, date__gte=first, date__lte=last)
            .values(
                "request__constellation__name",
                "request__household_id",
                "request__household__name",
            )
            .annotate(
                total=models.Count("pk"),
                planned=models.Count("pk", filter=Q(request__kind=Kind.PLANNED)),
                crisis=models.Count("pk", filter=Q(request__kind=Kind.CRISIS)),
            )
            .order_by()
        )


class Night(models.Model):
    """One child's night at a hub, held by an accepted stay. Counted under a lock on
    the hub's row, so a night never holds more children than beds."""

    hub = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="held_nights")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="+")

    objects = NightQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hub", "date", "child"], name="one_bed_per_child_per_night"
            )
        ]
        indexes = [
            models.Index(fields=["hub", "date"]),
            # The dashboards' nights by month.
            models.Index(fields=["date", "request"], name="night_date"),
        ]

    def __str__(self) -> str:
        return f"Child {self.child_id} at hub {self.hub_id} on {self.date}"


class WithdrawableQuerySet(models.QuerySet):
    def in_force(self):
        return self.filter(withdrawn_at__isnull=True)

    def covering(self, first: date, last: date):
        """In force on at least one day from ``first`` to ``last``."""
        return self.in_force().filter(start__lte=last, end__gte=first)

    def now_or_coming(self, today: date):
        """In force and not over yet."""
        return self.in_force().filter(end__gte=today)


class Withdrawable(models.Model):
    """A dated entry that is withdrawn, not deleted: who withdrew it and when stays."""

    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = WithdrawableQuerySet.as_manager()

    class Meta:
        abstract = True


class BedChange(Withdrawable):
    """A change of the hub's beds for a date range: a bed out of use, a temporary
    extra bed. The newest change covering a date wins."""

    hub = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="bed_changes")
    start = models.DateField()
    end = models.DateField(help_text="The last night the change applies to.")
    beds = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="bed_change_dates"
            ),
            models.CheckConstraint(condition=Q(beds__lte=20), name="bed_change_at_most_20"),
        ]

    def __str__(self) -> str:
        return f"{self.beds} beds at hub {self.hub_id} {self.start}–{self.end}"


class Unavailability(Withdrawable):
    """A period when the hub is not available (holidays, its own family)."""

    hub = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="unavailability")
    start = models.DateField()
    end = models.DateField(help_text="The last day the hub is not available.")
    note = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "unavailability"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="unavailability_dates"
            )
        ]

    def __str__(self) -> str:
        return f"Hub {self.hub_id} not available {self.start}–{self.end}"


class LimitOverride(Withdrawable):
    """The liaison worker's recorded exception to the constellation's limits for one
    child's planned stays within a period (the delegated authority still applies)."""

    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="limit_overrides"
    )
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="limit_overrides")
    start = models.DateField(help_text="The first night the exception covers.")
    end = models.DateField(help_text="The last night the exception covers.")
    reason = models.CharField(max_length=500)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="limit_override_dates"
            )
        ]

    def __str__(self) -> str:
        return f"Limits waived for child {self.child_id} {self.start}–{self.end}"
