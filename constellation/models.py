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


def _households_of(constellations, *, include_past: bool = False):
    """Ids of the hub and member households of the given constellations."""
    statuses = (
        list(ConstellationMembership.Status)
        if include_past
        else [ConstellationMembership.Status.ACTIVE]
    )
    members = ConstellationMembership.objects.filter(
        constellation__in=constellations, status__in=statuses
    ).values("household_id")
    hubs = Constellation.objects.filter(pk__in=constellations, hub__isnull=False).values("hub_id")
    return Q(pk__in=members) | Q(pk__in=hubs)


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
    created_at = models.DateTimeField(default=timezone.now)

    objects = ConstellationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "name"], name="constellation_name_per_service"
            )
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
    def full_records_for(self, user):
        """Children whose full record (needs, allergies, medication, contacts) the user may see."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        full = Constellation.objects.with_full_child_records_for(user).values("pk")
        managed = Constellation.objects.managed_by(user).values("pk")
        households = Household.objects.filter(
            _households_of(full) | _households_of(managed, include_past=True)
        ).values("pk")
        past_in_managed = Placement.objects.filter(
            household__in=Household.objects.filter(_households_of(managed, include_past=True))
        ).values("child_id")
        return self.filter(
            Q(service__in=_managed_service_ids(user))
            | Q(social_worker=user)
            | Q(household__in=_own_household_ids(user))
            | Q(household__in=households)
            | Q(pk__in=past_in_managed)
        )

    def visible_to(self, user):
        """Children the user may see at all: in full, or (another household's child in
        the user's constellation) as preferred name and age only."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        viewable = Constellation.objects.visible_to(user).values("pk")
        shared = Q(
            household__in=Household.objects.filter(_households_of(viewable)).values("pk"),
            status=Child.Status.PLACED,
        )
        return self.filter(
            shared | Q(pk__in=self.model.objects.full_records_for(user).values("pk"))
        )

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


class Placement(models.Model):
    """Where a child lived, from a date until a date, and why the move happened."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="placements")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="placements")
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    reason_for_move = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(ended_on__isnull=True), name="one_open_placement"
            )
        ]

    def __str__(self) -> str:
        return f"Child {self.child_id} at {self.household} from {self.started_on}"


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(
            Q(constellation__in=Constellation.objects.managed_by(user))
            | Q(service__in=_managed_service_ids(user))
        )


class Activity(models.Model):
    """The activity record: every service writes one row when something happens,
    in the same transaction as the change. Summaries carry no child's full name."""

    service = models.ForeignKey(FosteringService, on_delete=models.PROTECT, related_name="+")
    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, null=True, blank=True, related_name="activity"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verb = models.CharField(max_length=60, db_index=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.PositiveBigIntegerField()
    summary = models.CharField(max_length=200)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "activity"
        indexes = [models.Index(fields=["constellation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.verb}: {self.summary}"
