"""Delegated authority: for each child, a versioned written agreement of who may
take which day-to-day decision, and the approvals asked for when a carer may not."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from constellation.models import Child, Constellation


class Holder(models.TextChoices):
    """Who holds a decision under an agreement."""

    SATELLITE_CARER = "satellite_carer", "The foster carers"
    HUB_CARER = "hub_carer", "The hub carers"
    BOTH = "both", "The foster carers and the hub carers"
    SOCIAL_WORKER = "social_worker", "The child's social worker"
    BIRTH_PARENTS = "birth_parents", "The birth parent(s)"
    LIAISON_WORKER = "liaison_worker", "The liaison worker"


CARER_HOLDERS = {Holder.SATELLITE_CARER, Holder.HUB_CARER, Holder.BOTH}


class Decision(models.Model):
    """One kind of day-to-day decision, in a catalogue an administrator can extend."""

    code = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    counts_nights = models.BooleanField(
        default=False, help_text="A maximum number of consecutive nights can be set."
    )
    allowed_holders = models.JSONField(
        default=list,
        blank=True,
        help_text="Holders allowed for this decision (empty: any holder).",
    )
    position = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label

    def allows_holder(self, holder: str) -> bool:
        return not self.allowed_holders or holder in self.allowed_holders


class AgreementQuerySet(models.QuerySet):
    def in_force_on(self, day):
        """For each child, the newest version effective on ``day``."""
        return self.filter(effective_from__lte=day).order_by(
            "child_id", "-effective_from", "-version"
        )

    def visible_to(self, user):
        return self.filter(child__in=Child.objects.full_records_for(user))

    def latest_versions(self):
        """The newest version of each child's agreement (what a review date is read from)."""
        newer = self.model.objects.filter(
            child=models.OuterRef("child"), version__gt=models.OuterRef("version")
        )
        return self.filter(~models.Exists(newer))


class Agreement(models.Model):
    """One version of a child's delegated authority agreement. A new version
    supersedes the previous one from its effective date; versions are kept."""

    class SignedOffBy(models.TextChoices):
        SOCIAL_WORKER = "social_worker", "Social worker"
        LIAISON_WORKER = "liaison_worker", "Liaison worker"

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="agreements")
    version = models.PositiveIntegerField()
    effective_from = models.DateField()
    review_on = models.DateField(help_text="The date by which the agreement must be reviewed.")
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_role = models.CharField(max_length=20, choices=SignedOffBy.choices)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["child", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "version"], name="agreement_version_per_child"
            ),
            models.CheckConstraint(
                condition=Q(review_on__gte=models.F("effective_from")),
                name="agreement_review_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement v{self.version} for child {self.child_id}"


class Clause(models.Model):
    """Who holds one decision under one version of an agreement, and on what conditions."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="clauses")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="+")
    holder = models.CharField(max_length=20, choices=Holder.choices)
    conditions = models.TextField(blank=True)
    max_consecutive_nights = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["decision__position", "decision__label"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "decision"], name="one_clause_per_decision"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision}: {self.get_holder_display()}"


class ApprovalQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Approval.Status.PENDING)

    def visible_to(self, user):
        from constellation.models import Child

        return self.filter(
            Q(assigned_to=user) | Q(requested_by=user) | Q(child__in=Child.objects.managed_by(user))
        )

    def for_holder(self, user):
        """What waits for this person's answer."""
        return self.filter(Q(assigned_to=user) | Q(child__in=Child.objects.managed_by(user)))


class Approval(models.Model):
    """A decision the carer may not take, waiting for (or answered by) its holder."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # The lifecycle: an approval waits, then is answered or withdrawn, once. Only
    # ``delegated_authority.services._move`` changes ``status``, along this table.
    ALLOWED = {
        Status.PENDING: {Status.APPROVED, Status.REFUSED, Status.WITHDRAWN},
        Status.APPROVED: set(),
        Status.REFUSED: set(),
        Status.WITHDRAWN: set(),
    }

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="approvals")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="+")
    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    holder = models.CharField(max_length=20, choices=Holder.choices)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    details = models.CharField(max_length=500, blank=True, help_text="What is asked, in a line.")
    nights = models.PositiveSmallIntegerField(null=True, blank=True)
    reason_refused_by_rules = models.CharField(max_length=300, blank=True)
    # The action that waits for the answer (for example a sleepover acceptance).
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Approval {self.pk} ({self.get_status_display()})"


class ReviewReminder(models.Model):
    """A review reminder sent for one agreement version: once when due soon, once
    when overdue (the unique constraint keeps a rerun from sending twice)."""

    class Kind(models.TextChoices):
        SOON = "soon", "Due within 30 days"
        OVERDUE = "overdue", "Overdue"

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agreement", "kind"], name="one_reminder_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reminder for agreement {self.agreement_id}"
