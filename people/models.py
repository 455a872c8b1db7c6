import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in, with email as the login."""

    username = None
    email = models.EmailField("email address", unique=True)
    phone = models.CharField(max_length=30, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """A one-time link that lets an invited person set a password and log in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.user.email}"

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, _hash_token(token)

    @classmethod
    def find_open(cls, token: str) -> "Invitation | None":
        return (
            cls.objects.open()
            .select_related("user")
            .filter(token_hash=_hash_token(token), user__is_active=True)
            .first()
        )

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class ChildRecordAccessQuerySet(models.QuerySet):
    def visible_to(self, user):
        from constellation.models import Child

        return self.filter(child__in=Child.objects.auditable_by(user))


class ChildRecordAccess(models.Model):
    """Every view of a child's full record: who, which child, when, and how."""

    class Channel(models.TextChoices):
        WEB = "web", "Web page"
        API = "api", "API"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    child = models.ForeignKey("constellation.Child", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ChildRecordAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name = "child record access"
        verbose_name_plural = "child record access log"

    def __str__(self) -> str:
        return f"{self.user_id} viewed child {self.child_id} at {self.at:%Y-%m-%d %H:%M}"


class StaffRoleQuerySet(models.QuerySet):
    def active(self):
        return self.filter(ended_on__isnull=True)


class StaffRole(models.Model):
    """A fostering service's worker: a fostering manager (all of the service), a
    liaison worker (the constellations they are assigned to) or a child's social
    worker (the children they hold the case for)."""

    class Role(models.TextChoices):
        MANAGER = "manager", "Fostering manager"
        LIAISON = "liaison", "Liaison worker"
        SOCIAL_WORKER = "social_worker", "Social worker"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_roles"
    )
    service = models.ForeignKey(
        "constellation.FosteringService", on_delete=models.PROTECT, related_name="staff"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)

    objects = StaffRoleQuerySet.as_manager()

    class Meta:
        ordering = ["service", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(ended_on__isnull=True),
                name="one_open_staff_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()}, {self.service}"


class AuditEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Superusers read every entry; a fostering manager reads the entries of the
        services they manage; another administrator (the administration site opens to
        them) reads those of the services they work in; nobody else reads any. Another
        service's entries, and entries of no service, are never shown but to a
        superuser."""
        from .roles import roles_for

        roles = roles_for(user)
        if roles.is_admin:
            return self.all()
        service_ids = set(roles.managed_service_ids)
        if roles.has_admin_site:
            service_ids |= roles.service_ids
        if not service_ids:
            return self.none()
        return self.filter(service_id__in=sorted(service_ids))


class AuditEntry(models.Model):
    """One thing that happened to an account, a permission or a record: who did it,
    when, to whom or what, and from where. Written only by ``people.audit.record``;
    never changed, never deleted. The label and detail never hold a child's surname
    or health notes."""

    class Action(models.TextChoices):
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        LOCKOUT = "lockout", "Locked out"
        LOGOUT = "logout", "Signed out"
        MFA_ADDED = "mfa_added", "Second factor added"
        MFA_REMOVED = "mfa_removed", "Second factor removed"
        RECOVERY_CODES_GENERATED = "recovery_codes_generated", "Recovery codes generated"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET = "password_reset", "Password reset"
        EMAIL_CHANGED = "email_changed", "Email address changed"
        ROLE_GRANTED = "role_granted", "Role granted"
        ROLE_ENDED = "role_ended", "Role ended"
        MEMBERSHIP_STARTED = "membership_started", "Membership started"
        MEMBERSHIP_ENDED = "membership_ended", "Membership ended"
        USER_DEACTIVATED = "user_deactivated", "Account deactivated"
        INVITATION_SENT = "invitation_sent", "Invitation sent"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        CHILD_RECORD_VIEWED = "child_record_viewed", "Child's record viewed"
        EXPORT = "export", "Export downloaded"
        AGREEMENT_CHANGED = "agreement_changed", "Delegated authority agreement changed"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    service = models.ForeignKey(
        "constellation.FosteringService",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    target_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [
            models.Index(fields=["service", "-at"], name="audit_service_at"),
            models.Index(fields=["service", "action", "-at"], name="audit_service_action_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["-at"], name="audit_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"
