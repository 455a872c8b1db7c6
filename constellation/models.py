"""The fostering service (tenant), its constellations, households, children and
the relationships between them, which start and end but are never deleted."""

from datetime import date

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from guardian.models import UserObjectPermissionBase
from simple_history.models import HistoricalRecords

MIN_SATELLITES = 6
# The longest a constellation may set between contacts before a household is red.
MAX_CONTACT_DAYS = 90
MAX_SATELLITES = 10

# A child's record: the bounds every form and API endpoint applies.
CHILD_NOTES_MAX = 5000
MAX_CHILD_AGE_YEARS = 25


def date_of_birth_problem(born: date, *, today: date | None = None) -> str:
    """Why a date of birth cannot be right, or "" when it can."""
    today = today or timezone.localdate()
    if born > today:
        return "The date of birth cannot be in the future."
    try:
        earliest = today.replace(year=today.year - MAX_CHILD_AGE_YEARS)
    except ValueError:  # 29 February
        earliest = today.replace(year=today.year - MAX_CHILD_AGE_YEARS, day=28)
    if born < earliest:
        return f"The date of birth cannot be more than {MAX_CHILD_AGE_YEARS} years ago."
    return ""


class FosteringService(models.Model):
    """A council's (or agency's) fostering service: the tenant. Nothing crosses services."""

    name = models.CharField(max_length=120, unique=True)
    out_of_hours_phone = models.CharField(
        max_length=30, blank=True, help_text="The service's out-of-hours duty number."
    )
    out_of_hours_name = models.CharField(
        max_length=120,
        blank=True,
        help_text="Who answers the out-of-hours duty number (a team or a role).",
    )
    out_of_hours_email = models.EmailField(
        blank=True, help_text="Where crisis escalations are emailed out of hours."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- who may see what: one set of rules, used by every view, API, feed and task ---


def _perm_holders(user, codename: str):
    return ConstellationUserObjectPermission.objects.filter(
        user=user, permission__codename=codename
    ).values("content_object_id")


def _managed_service_ids(user):
    from people.models import StaffRole

    return (
        StaffRole.objects.active()
        .filter(user=user, role=StaffRole.Role.MANAGER)
        .values("service_id")
    )


def _own_household_ids(user):
    return Carer.objects.current().filter(user=user).values("household_id")


def _covered_by(user):
    """Constellations whose hub a household of the user covers today (a stand-in):
    while it covers, it is the hub for those constellations' children."""
    return (
        HubCover.objects.on(timezone.localdate())
        .filter(stand_in__in=_own_household_ids(user))
        .values("constellation_id")
    )


def _households_of(constellations, *, include_past: bool = False, field: str = "pk"):
    """A filter on ``field`` (a household's ``pk``, or a ``household`` foreign key of
    another model): the hub and member households of the given constellations.

    Filtering another model's ``household`` this way, rather than through
    ``Household.objects.filter(...)``, keeps the visibility queries one subquery
    shallower: SQLite refuses a query nested too deep ("parser stack overflow")."""
    statuses = (
        list(ConstellationMembership.Status)
        if include_past
        else [ConstellationMembership.Status.ACTIVE]
    )
    members = ConstellationMembership.objects.filter(
        constellation__in=constellations, status__in=statuses
    ).values("household_id")
    hubs = Constellation.objects.filter(pk__in=constellations, hub__isnull=False).values("hub_id")
    return Q(**{f"{field}__in": members}) | Q(**{f"{field}__in": hubs})


def _kept_connected_children(constellations):
    """Ids of the children who moved on and are kept connected (consent in force) by
    the given constellations: their hub carers and liaison workers keep the record."""
    from django.apps import apps

    kept = apps.get_model("calendar_events", "KeptConnected")
    return (
        kept.objects.current()
        .filter(constellation__in=constellations, child__isnull=False)
        .values("child_id")
    )


class ConstellationQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(service__in=_managed_service_ids(user))
            | Q(pk__in=_perm_holders(user, "view_constellation_members"))
            | Q(pk__in=_covered_by(user))
        )

    def managed_by(self, user):
        """Constellations whose households, memberships and children the user may change."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(service__in=_managed_service_ids(user))
            | Q(pk__in=_perm_holders(user, "manage_constellation"))
        )

    def of_household_now(self, household):
        """The constellation ``household`` (a Household or its id) is in today: the one
        it is the hub of, or the one it is an *active* member of. A proposed membership
        does not count (the household is not in it yet, and nothing of it is shared),
        nor a withdrawn or ended one. At most one row: a hub home is never a satellite
        and a household has one open membership."""
        household_id = getattr(household, "pk", household)
        return self.filter(
            Q(hub_id=household_id)
            | Q(
                pk__in=ConstellationMembership.objects.filter(
                    household_id=household_id, status=ConstellationMembership.Status.ACTIVE
                ).values("constellation_id")
            )
        )

    def with_full_child_records_for(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(service__in=_managed_service_ids(user))
            | Q(pk__in=_perm_holders(user, "view_child_records"))
            | Q(pk__in=_covered_by(user))
        )


class Constellation(models.Model):
    service = models.ForeignKey(
        FosteringService, on_delete=models.PROTECT, related_name="constellations"
    )
    name = models.CharField(max_length=120)
    area = models.CharField(max_length=120, blank=True, help_text="The neighbourhood it covers.")
    hub = models.OneToOneField(
        "Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hub_of",
        limit_choices_to={"kind": "hub"},
    )
    contact_amber_days = models.PositiveSmallIntegerField(
        default=10,
        help_text="A household is amber when more days than this have passed since the "
        "last contact made with it.",
    )
    contact_red_days = models.PositiveSmallIntegerField(
        default=14,
        help_text="A household is red when more days than this have passed since the "
        "last contact made with it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ConstellationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "name"], name="constellation_name_per_service"
            ),
            models.CheckConstraint(
                condition=Q(contact_amber_days__gte=1)
                & Q(contact_red_days__gt=models.F("contact_amber_days"))
                & Q(contact_red_days__lte=MAX_CONTACT_DAYS),
                name="contact_thresholds_in_order",
            ),
        ]
        permissions = [
            ("view_constellation_members", "See the constellation, its households and events"),
            ("view_child_records", "See the full record of every child in the constellation"),
            ("manage_constellation", "Manage households, memberships and children"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("constellation:detail", args=[self.pk])

    def size_warning(self, active_satellites: int) -> str:
        if active_satellites < MIN_SATELLITES:
            return (
                f"{active_satellites} active satellite households: the model works with "
                f"{MIN_SATELLITES} to {MAX_SATELLITES}."
            )
        if active_satellites > MAX_SATELLITES:
            return (
                f"{active_satellites} active satellite households: more than the "
                f"{MAX_SATELLITES} a hub can support."
            )
        return ""


class ConstellationUserObjectPermission(UserObjectPermissionBase):
    """Object permissions on a constellation, granted and withdrawn by the services
    that change memberships, carers and liaison assignments (a direct foreign key
    keeps the visibility subqueries on an index)."""

    content_object = models.ForeignKey(Constellation, on_delete=models.CASCADE)


class LiaisonAssignmentQuerySet(models.QuerySet):
    def current(self):
        return self.filter(ended_on__isnull=True)


class LiaisonAssignment(models.Model):
    """A liaison worker assigned to a constellation, from a date until a date."""

    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="liaison_assignments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="liaison_assignments"
    )
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)

    objects = LiaisonAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["constellation", "user"],
                condition=Q(ended_on__isnull=True),
                name="one_open_liaison_assignment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} for {self.constellation}"


class HubCoverQuerySet(models.QuerySet):
    def in_force(self):
        """Not withdrawn."""
        return self.filter(withdrawn_at__isnull=True)

    def overlapping(self, first: date, last: date):
        return self.in_force().filter(start__lte=last, end__gte=first)

    def on(self, day: date):
        return self.overlapping(day, day)

    def now_or_coming(self, today: date):
        """In force and not over yet."""
        return self.in_force().filter(end__gte=today)


class HubCover(models.Model):
    """While the hub carers are away, another approved household with its own beds
    stands in for the hub: requests in the period go to it, under the same rules,
    and its carers act as the hub for the constellation's children."""

    constellation = models.ForeignKey(
        "Constellation", on_delete=models.PROTECT, related_name="covers"
    )
    stand_in = models.ForeignKey("Household", on_delete=models.PROTECT, related_name="covering")
    start = models.DateField()
    end = models.DateField(help_text="The last day the stand-in covers.")
    note = models.CharField(max_length=200, blank=True)
    arranged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    arranged_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()
    objects = HubCoverQuerySet.as_manager()

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="cover_dates")
        ]
        indexes = [models.Index(fields=["constellation", "start"])]

    def __str__(self) -> str:
        return f"{self.stand_in} covers for the hub of {self.constellation} {self.start}–{self.end}"


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        viewable = Constellation.objects.visible_to(user).values("pk")
        managed = Constellation.objects.managed_by(user).values("pk")
        children_cases = Child.objects.filter(social_worker=user).values("household_id")
        return self.filter(
            Q(service__in=_managed_service_ids(user))
            | Q(pk__in=_own_household_ids(user))
            | _households_of(viewable)
            | _households_of(managed, include_past=True)
            | Q(pk__in=children_cases)
        )

    def managed_by(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        managed = Constellation.objects.managed_by(user).values("pk")
        return self.filter(
            Q(service__in=_managed_service_ids(user)) | _households_of(managed, include_past=True)
        )

    def constellation_first(self, constellation):
        """Ordered with the constellation's own households first, then by name."""
        return self.annotate(
            in_constellation=models.Count(
                "memberships",
                filter=Q(
                    memberships__constellation=constellation,
                    memberships__status=ConstellationMembership.Status.ACTIVE,
                ),
            )
        ).order_by("-in_constellation", "name")

    def approved(self):
        """Households approved in a constellation now: hubs and active members."""
        return self.filter(
            Q(hub_of__isnull=False)
            | Q(
                pk__in=ConstellationMembership.objects.filter(
                    status=ConstellationMembership.Status.ACTIVE
                ).values("household_id")
            )
        )

    def with_details_for(self, user):
        """Households whose address and postcode the user may read: their own carers,
        and those who see every child record of the constellation (hub carers,
        liaison workers, managers); not the other satellite households."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        full = Constellation.objects.with_full_child_records_for(user).values("pk")
        return self.filter(
            Q(pk__in=_own_household_ids(user))
            | Q(pk__in=self.model.objects.managed_by(user).values("pk"))
            | _households_of(full)
        )


class Household(models.Model):
    class Kind(models.TextChoices):
        HUB = "hub", "Hub home"
        SATELLITE = "satellite", "Satellite household"

    service = models.ForeignKey(
        FosteringService, on_delete=models.PROTECT, related_name="households"
    )
    name = models.CharField(max_length=120, help_text="How the constellation knows the household.")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SATELLITE)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    second_phone = models.CharField(max_length=30, blank=True)
    beds = models.PositiveSmallIntegerField(
        default=0, help_text="For a hub: the number of beds for sleepovers."
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()
    objects = HouseholdQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(beds__lte=20), name="household_beds_at_most_20")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("constellation:household", args=[self.pk])

    @property
    def is_hub(self) -> bool:
        return self.kind == self.Kind.HUB


class CarerQuerySet(models.QuerySet):
    def current(self):
        return self.filter(ended_on__isnull=True)


class Carer(models.Model):
    """A foster carer of a household (primary or second carer), from a date until a date."""

    class Role(models.TextChoices):
        PRIMARY = "primary", "Primary carer"
        SECOND = "second", "Second carer"

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="carers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="carer_roles"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.PRIMARY)
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    deregistered = models.BooleanField(
        default=False, help_text="The carer's approval as a foster carer ended (de-registration)."
    )

    objects = CarerQuerySet.as_manager()

    class Meta:
        ordering = ["role", "started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_on__isnull=True), name="carer_of_one_household"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.household})"


class MembershipQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=ConstellationMembership.OPEN)

    def visible_to(self, user):
        return self.filter(constellation__in=Constellation.objects.visible_to(user)).filter(
            Q(status=ConstellationMembership.Status.ACTIVE)
            | Q(constellation__in=Constellation.objects.managed_by(user))
        )


class ConstellationMembership(models.Model):
    """A satellite household's place in a constellation: proposed, active, then
    withdrawn or left. Rows are kept: the history is evidence."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        WITHDRAWN = "withdrawn", "Withdrawn"
        LEFT = "left", "Left"

    OPEN = (Status.PROPOSED, Status.ACTIVE)
    ALLOWED = {
        Status.PROPOSED: {Status.ACTIVE, Status.WITHDRAWN},
        Status.ACTIVE: {Status.WITHDRAWN, Status.LEFT},
        Status.WITHDRAWN: set(),
        Status.LEFT: set(),
    }

    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="memberships"
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="memberships")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_on = models.DateField(default=timezone.localdate)
    joined_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was proposed, withdrawn or ended.")
    planning_meeting = models.ForeignKey(
        "PlanningMeeting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        help_text="The shared planning meeting that proposed the household.",
    )

    history = HistoricalRecords()
    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["constellation", "household__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status__in=["proposed", "active"]),
                name="household_in_one_constellation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household} in {self.constellation} ({self.get_status_display()})"


class ChildQuerySet(models.QuerySet):
    @staticmethod
    def _full_record_filter(user) -> Q:
        """The one rule of who sees a child's full record (for an authenticated user
        who is not a superuser), as a filter on children:

        - the service's managers: every child of the service;
        - the child's social worker;
        - the carers of the household the child lives in;
        - those who see a constellation's children in full (its hub carers, a
          stand-in while it covers, its liaison workers): the children living in its
          hub and active member households; liaison workers also those living in
          households that were ever members (they keep managing them);
        - access follows placements (issue 11): after a move, the former household's
          carers, and those who saw that household's children in full, keep the
          record while the grant (``FormerHouseholdAccess``) is in force: until the
          end of its last London day (``FORMER_CARER_ACCESS_DAYS`` after the move),
          read here, so it ends on time whether or not the daily task has run;
        - a child kept connected by a constellation (``calendar_events.KeptConnected``,
          consent in force: not withdrawn, last day not passed) stays with the hub
          carers and liaison workers of that constellation.

        Nothing else: a liaison worker does not keep every child ever placed in the
        constellation (the access log, ``auditable_by``, still reads past placements)."""
        full = Constellation.objects.with_full_child_records_for(user).values("pk")
        managed = Constellation.objects.managed_by(user).values("pk")
        own = _own_household_ids(user)
        former = FormerHouseholdAccess.objects.in_force().filter(
            Q(household__in=own)
            | _households_of(full, field="household")
            | _households_of(managed, include_past=True, field="household")
        )
        return (
            Q(service__in=_managed_service_ids(user))
            | Q(social_worker=user)
            | Q(household__in=own)
            | _households_of(full, field="household")
            | _households_of(managed, include_past=True, field="household")
            | Q(pk__in=former.values("child_id"))
            | Q(pk__in=_kept_connected_children(full))
        )

    def full_records_for(self, user):
        """Children whose full record (needs, allergies, medication, contacts) the user
        may see now (``_full_record_filter``). "Now" is London's today for the dated
        grants. One query."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(self._full_record_filter(user))

    def visible_to(self, user):
        """Children the user may see at all: in full, or (a child placed in a hub or
        active member household of a constellation the user sees) as preferred name
        and age only. Another service's children never."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        viewable = Constellation.objects.visible_to(user).values("pk")
        shared = _households_of(viewable, field="household") & Q(status=Child.Status.PLACED)
        return self.filter(shared | self._full_record_filter(user))

    def placed_in(self, constellations):
        """Children placed now in a hub or active member household of the constellations."""
        households = Household.objects.filter(
            Q(hub_of__in=constellations)
            | Q(
                pk__in=ConstellationMembership.objects.filter(
                    constellation__in=constellations,
                    status=ConstellationMembership.Status.ACTIVE,
                ).values("household_id")
            )
        )
        return self.filter(status=Child.Status.PLACED, household__in=households)

    def auditable_by(self, user):
        """Children whose access log the user may read: liaison workers and managers."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        managed = Constellation.objects.managed_by(user).values("pk")
        households = Household.objects.filter(_households_of(managed, include_past=True))
        return self.filter(
            Q(service__in=_managed_service_ids(user))
            | Q(household__in=households)
            | Q(pk__in=Placement.objects.filter(household__in=households).values("child_id"))
        )

    def managed_by(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(service__in=_managed_service_ids(user))
            | Q(household__in=Household.objects.managed_by(user).values("pk"))
        )


class Child(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        MOVED_ON = "moved_on", "Moved on"

    service = models.ForeignKey(FosteringService, on_delete=models.PROTECT, related_name="children")
    first_name = models.CharField(max_length=60)
    last_name = models.CharField(max_length=60)
    preferred_name = models.CharField(
        max_length=60, blank=True, help_text="What the child likes to be called."
    )
    date_of_birth = models.DateField()
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="Where the child lives now.",
    )
    siblings = models.ManyToManyField("self", blank=True, symmetrical=True)
    needs = models.TextField(blank=True, help_text="Care needs, routines, what helps.")
    allergies = models.TextField(blank=True)
    medication_notes = models.TextField(blank=True)
    emergency_contacts = models.TextField(blank=True)
    social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        help_text="The child's social worker, if they have an account.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLACED)
    kept_connected = models.BooleanField(
        default=False, help_text="After moving on, keep receiving invitations to social events."
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords(excluded_fields=["created_at"])
    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["preferred_name", "first_name"]
        verbose_name_plural = "children"

    def __str__(self) -> str:
        # The short form is what lists, logs and other households see.
        return self.known_as

    def get_absolute_url(self) -> str:
        return reverse("constellation:child", args=[self.pk])

    @property
    def known_as(self) -> str:
        return self.preferred_name or self.first_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


class MoveKind(models.TextChoices):
    """Why a placement ended: the words of the service's placement-moves return."""

    PLANNED = "planned", "Planned move"
    DISRUPTION = "disruption", "Disruption (the placement ended unplanned)"
    PERMANENCE = "permanence", "Permanence (special guardianship, long-term match)"
    RETURN_HOME = "return_home", "Return home to the birth family"
    ADOPTION = "adoption", "Adoption"
    LEAVING_CARE = "leaving_care", "Leaving care"


# Moves that take a child on from care in the service (no new household).
MOVES_ON = (MoveKind.PERMANENCE, MoveKind.RETURN_HOME, MoveKind.ADOPTION, MoveKind.LEAVING_CARE)


class Placement(models.Model):
    """Where a child lived, from a date until a date, and why the move happened."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="placements")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="placements")
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    reason_for_move = models.CharField(max_length=200, blank=True)
    move_kind = models.CharField(max_length=14, choices=MoveKind.choices, blank=True)

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(ended_on__isnull=True), name="one_open_placement"
            )
        ]

    def __str__(self) -> str:
        return f"Child {self.child_id} at {self.household} from {self.started_on}"


class ActivityKind(models.TextChoices):
    """What an activity row is about: the first word of its verb, and the filter of
    the liaison worker's activity feed (issue 11)."""

    REQUEST = "request", "Requests and answers"
    STAY = "stay", "Stays"
    EVENT = "event", "Events"
    CHECK_IN = "check_in", "Check-ins"
    CONCERN = "concern", "Concerns"
    APPROVAL = "approval", "Approvals and delegated authority"
    MEMBERSHIP = "membership", "Memberships and carers"
    PLACEMENT = "placement", "Children and placements"
    OTHER = "other", "Other"


# The verb (or its first word) → the kind it is filed under.
VERB_KINDS = {
    "sleepover": ActivityKind.REQUEST,
    "sleepover.arrived": ActivityKind.STAY,
    "sleepover.collected": ActivityKind.STAY,
    "sleepover.did_not_arrive": ActivityKind.STAY,
    "sleepover.temporary_arranged": ActivityKind.STAY,
    "sleepover.temporary_ended": ActivityKind.STAY,
    "hub": ActivityKind.REQUEST,
    "hub.set": ActivityKind.MEMBERSHIP,
    "event": ActivityKind.EVENT,
    "check_in": ActivityKind.CHECK_IN,
    "follow_up": ActivityKind.CHECK_IN,
    "concern": ActivityKind.CONCERN,
    "approval": ActivityKind.APPROVAL,
    "agreement": ActivityKind.APPROVAL,
    "membership": ActivityKind.MEMBERSHIP,
    "carer": ActivityKind.MEMBERSHIP,
    "household": ActivityKind.MEMBERSHIP,
    "liaison": ActivityKind.MEMBERSHIP,
    "planning_meeting": ActivityKind.MEMBERSHIP,
    "constellation": ActivityKind.MEMBERSHIP,
    "child": ActivityKind.PLACEMENT,
    "access": ActivityKind.PLACEMENT,
    "kept_connected": ActivityKind.PLACEMENT,
}


def kind_of_verb(verb: str) -> str:
    """The ActivityKind of a verb such as "sleepover.accepted": the verb's own entry,
    else its first word's, else OTHER."""
    return VERB_KINDS.get(verb, VERB_KINDS.get(verb.split(".", 1)[0], ActivityKind.OTHER))


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The liaison workers of the constellation and the service's managers: the
        activity record is the service's view of a constellation, never a carer's."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(constellation__in=Constellation.objects.managed_by(user))
            | Q(service__in=_managed_service_ids(user))
        )


class Activity(models.Model):
    """The activity record: every service writes one row when something happens,
    in the same transaction as the change. Summaries carry no child's full name.
    ``household`` and ``children`` say whom it concerns, for the feed's filters."""

    service = models.ForeignKey(FosteringService, on_delete=models.PROTECT, related_name="+")
    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, null=True, blank=True, related_name="activity"
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    children = models.ManyToManyField(Child, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verb = models.CharField(max_length=60, db_index=True)
    kind = models.CharField(max_length=12, choices=ActivityKind.choices, default=ActivityKind.OTHER)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.PositiveBigIntegerField()
    summary = models.CharField(max_length=200)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "activity"
        indexes = [
            models.Index(fields=["constellation", "-created_at", "-id"], name="activity_feed"),
            models.Index(
                fields=["constellation", "kind", "-created_at", "-id"], name="activity_feed_kind"
            ),
            models.Index(fields=["household", "-created_at", "-id"], name="activity_household"),
            models.Index(fields=["service", "-created_at", "-id"], name="activity_service"),
            # The dashboards' data version: a service's newest row by id, and its rows
            # since (kept_figures.data_version).
            models.Index(fields=["service", "id"], name="activity_service_id"),
        ]

    def __str__(self) -> str:
        return f"{self.verb}: {self.summary}"


# --- regular contact: check-ins, follow-ups, concerns (DOMAIN.md workflow 5) ----------


def _sees_contact_records(user) -> Q:
    """Constellations whose check-ins and concerns the user reads: the hub carers and
    liaison workers (who hold the full child records by permission) and the service's
    managers. Not satellite carers, not a stand-in covering for the hub."""
    return Q(constellation__in=_perm_holders(user, "view_child_records")) | Q(
        constellation__service__in=_managed_service_ids(user)
    )


class CheckInQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(_sees_contact_records(user))

    def made(self):
        """Contacts made (an attempt that reached nobody does not count)."""
        return self.filter(made=True)


class CheckIn(models.Model):
    """A contact of the hub carer (or the liaison worker) with a satellite household:
    how it went, and how worried they are. An attempt is recorded too, but only a
    contact made resets the household's clock."""

    class Method(models.TextChoices):
        VISIT = "visit", "Visit"
        PHONE = "phone", "Phone call"
        VIDEO = "video", "Video call"
        MESSAGE = "message", "Message"
        EVENT = "event", "At an event"
        HUB = "hub", "At the hub"

    class Level(models.TextChoices):
        NONE = "none", "No concern"
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="check_ins"
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="check_ins")
    occurred_at = models.DateTimeField(help_text="When the contact happened (not in the future).")
    method = models.CharField(max_length=8, choices=Method.choices)
    made = models.BooleanField(
        default=True, help_text="Contact was made (unticked: only attempted)."
    )
    participants = models.CharField(max_length=200, blank=True, help_text="Who took part.")
    note = models.CharField(max_length=1000, blank=True)
    concern_level = models.CharField(max_length=6, choices=Level.choices, default=Level.NONE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = CheckInQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["household", "made", "-occurred_at"]),
            # The dashboards' check-ins by constellation and month.
            models.Index(fields=["constellation", "occurred_at"], name="check_in_when"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} with {self.household} on {self.occurred_at:%Y-%m-%d}"


class FollowUpQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(check_in__in=CheckIn.objects.visible_to(user))

    def open(self):
        return self.filter(resolved_at__isnull=True)

    def overdue(self, today: date):
        return self.open().filter(due_on__lt=today)


class FollowUp(models.Model):
    """Something to do after a check-in, by a date, by someone; then how it ended."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="follow_ups")
    action = models.CharField(max_length=300)
    due_on = models.DateField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["resolved_at", "due_on"])]

    def __str__(self) -> str:
        return f"{self.action} by {self.due_on}"


class ConcernQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(_sees_contact_records(user))

    def open(self):
        return self.filter(status=Concern.Status.OPEN)


class Concern(models.Model):
    """ "This placement may be at risk": opened by a rule (a check-in at high concern,
    repeated crisis requests, a crisis request the hub could not meet, a temporary
    placement after a disruption) or by hand, and open until the liaison worker
    records what was done (DOMAIN.md workflow 5; issue 11)."""

    class Source(models.TextChoices):
        HIGH_CHECK_IN = "high_check_in", "A check-in at high concern"
        REPEATED_CRISES = "repeated_crises", "Three or more crisis requests in 30 days"
        CRISIS_NOT_MET = "crisis_not_met", "A crisis request declined or not answered"
        DISRUPTION = "disruption", "A temporary placement after a disruption"
        BY_HAND = "by_hand", "Opened by hand"

    class Reason(models.TextChoices):
        CANNOT_COPE = "cannot_cope", "The carer says they cannot cope"
        CHILD_WANTS_TO_LEAVE = "child_wants_to_leave", "The child wants to leave"
        MISSING_EPISODES = "missing_episodes", "Repeated missing episodes"
        ALLEGATION = "allegation", "An allegation or complaint"
        NEEDS_NOT_MET = "needs_not_met", "The child's needs are not being met"
        OTHER = "other", "Something else (in the description)"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="concerns"
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="concerns")
    children = models.ManyToManyField(Child, blank=True, related_name="concerns")
    source = models.CharField(max_length=16, choices=Source.choices)
    reasons = models.JSONField(default=list, blank=True, help_text="Reason codes (Reason).")
    description = models.CharField(max_length=1000, blank=True)
    trigger_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    trigger_id = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action_note = models.CharField(max_length=2000, blank=True)
    stability_meeting_on = models.DateField(
        null=True, blank=True, help_text="The date of the placement stability meeting, if held."
    )

    history = HistoricalRecords()
    objects = ConcernQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            # One open concern per household and rule: a rule that fires again while
            # its concern is open adds nothing new.
            models.UniqueConstraint(
                fields=["household", "source"],
                condition=Q(status="open") & ~Q(source="by_hand"),
                name="one_open_concern_per_rule",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(action_note=""), name="concern_closed_with_note"
            ),
        ]
        indexes = [models.Index(fields=["constellation", "status", "-opened_at"])]

    def __str__(self) -> str:
        return f"Concern about {self.household} ({self.get_source_display()})"

    def get_absolute_url(self) -> str:
        return reverse("constellation:concern", args=[self.pk])

    @property
    def reason_labels(self) -> list[str]:
        return [Concern.Reason(r).label for r in self.reasons if r in Concern.Reason.values]


# --- supervision and planning -------------------------------------------------------


class SupervisionNoteQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Liaison workers of the constellation and the service's managers; never a
        carer (issue 11)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(constellation__in=_perm_holders(user, "manage_constellation"))
            | Q(constellation__service__in=_managed_service_ids(user))
        )


class SupervisionNote(models.Model):
    """A liaison worker's note of supervising a hub carer or a satellite carer."""

    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="supervision_notes"
    )
    carer = models.ForeignKey(Carer, on_delete=models.PROTECT, related_name="supervision_notes")
    supervised_on = models.DateField()
    note = models.TextField(max_length=5000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()
    objects = SupervisionNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-supervised_on", "-pk"]

    def __str__(self) -> str:
        return f"Supervision of {self.carer.user} on {self.supervised_on}"


class PlanningMeetingQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Liaison workers of the constellation and managers keep the record."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(constellation__in=Constellation.objects.managed_by(user))
            | Q(constellation__service__in=_managed_service_ids(user))
        )


class PlanningMeeting(models.Model):
    """A shared planning meeting: who attended and what it decided, from which
    households are proposed to join (DOMAIN.md workflow 7)."""

    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="planning_meetings"
    )
    held_on = models.DateField()
    attendees = models.CharField(max_length=500)
    decisions = models.TextField(max_length=5000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = PlanningMeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"Planning meeting of {self.constellation} on {self.held_on}"


# --- access that follows placements ------------------------------------------------------


class FormerHouseholdAccessQuerySet(models.QuerySet):
    def in_force(self, today: date | None = None):
        """Grants whose last day has not passed (read by the visibility rules, so that
        access ends on time even when the daily task is late)."""
        today = today or timezone.localdate()
        return self.filter(ends_on__gte=today, ended_at__isnull=True)


class FormerHouseholdAccess(models.Model):
    """After a child moves on, the former household's carers keep the full record
    until ``ends_on`` (the move's date plus ``FORMER_CARER_ACCESS_DAYS``), then see
    only what any member sees. ``ended_at`` is set by the daily task that records
    the end in the activity record."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="former_access")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    moved_on = models.DateField()
    ends_on = models.DateField()
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = FormerHouseholdAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-moved_on", "-pk"]
        indexes = [models.Index(fields=["household", "ends_on"])]

    def __str__(self) -> str:
        return f"{self.household} keeps child {self.child_id}'s record until {self.ends_on}"


class ExportRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A fostering manager reads their service's exports; anyone reads their own."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(Q(service__in=_managed_service_ids(user)) | Q(user=user))


class ExportRecord(models.Model):
    """The audit trail of exports (issue 12): who exported which table of the
    dashboards or the evaluation return, in which format, with which filters, when."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(
        FosteringService, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    table = models.CharField(max_length=40, help_text="Which table, e.g. evaluation-return.")
    format = models.CharField(max_length=4, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True, help_text="The period and scope.")
    rows = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ExportRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user} exported {self.table} ({self.format}) at {self.at:%Y-%m-%d %H:%M}"
