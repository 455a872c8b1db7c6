"""The outbox and what it needs: a notification is a row written in the same
transaction as the change that causes it, delivered by a task and swept every
minute, so that no alert is lost when Redis or the worker is down (DOMAIN.md,
"What must never happen"). Timed escalation steps are rows too, never Celery
countdowns (ARCHITECTURE.md, "Background work")."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Heartbeat(models.Model):
    """The last time a background process showed it was alive (the worker, via beat)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class Channel(models.TextChoices):
    IN_APP = "app", "In the app"
    PUSH = "push", "Push to this phone or browser"
    SMS = "sms", "Text message (SMS)"
    EMAIL = "email", "Email"


class Kind(models.TextChoices):
    """What a notification is about. The defaults per kind live in
    ``notifications.preferences.DEFAULTS``."""

    CRISIS = "crisis", "Crisis requests"
    ESCALATION = "escalation", "Crisis requests nobody has answered (escalation)"
    CRISIS_SEEN = "crisis_seen", "The hub has seen my crisis request"
    REQUEST = "request", "New planned requests"
    ANSWER = "answer", "Answers to my requests"
    REQUEST_CHANGED = "request_changed", "Requests cancelled or changed"
    STAY_TOMORROW = "stay_tomorrow", "Stays tomorrow"
    UNANSWERED = "unanswered", "Requests or offers waiting 48 hours"
    APPROVAL = "approval", "Approvals asked of me"
    CRISIS_APPROVAL = "crisis_approval", "Approvals a crisis stay waits for"
    APPROVAL_DECIDED = "approval_decided", "Approvals decided"
    APPROVALS_WAITING = "approvals_waiting", "Approvals still waiting (daily)"
    REVIEW = "review", "Delegated authority reviews due"
    COVER = "cover", "Hub cover arranged or ended"
    LIMITS = "limits", "Exceptions to the nights limits"
    DIGEST = "digest", "Weekly digest of my constellations"
    EVENT_CHANGED = "event_changed", "Calendar changes and cancellations"
    EVENT_REMINDER = "event_reminder", "Event reminders"
    EVENT_PLACE = "event_place", "A place for me on a waiting list"
    CALENDAR_MONTH = "calendar_month", "Next month's calendar"
    CONCERN = "concern", "Placement concerns opened"
    CONTACT_DUE = "contact_due", "Check-ins and follow-ups due"


class NotificationQuerySet(models.QuerySet):
    def in_app_for(self, user):
        """The user's own notification centre: nobody ever reads another's."""
        return self.filter(recipient=user, channel=Channel.IN_APP)

    def unread_for(self, user):
        return self.in_app_for(user).filter(read_at__isnull=True)

    def due(self, now, *, claim_timeout):
        """Rows to deliver now: waiting and due, or claimed by a worker that never
        finished (its claim is older than ``claim_timeout``)."""
        return self.filter(
            Q(status=Notification.Status.PENDING, due_at__lte=now)
            | Q(status=Notification.Status.SENDING, claimed_at__lt=now - claim_timeout)
        )


class Notification(models.Model):
    """One message to one person (or one address) on one channel.

    ``destination`` names who receives it ("user:12", "sms:+447700900123",
    "email:duty@example.org"); with ``key`` and ``channel`` it is unique, so the same
    message is written, and sent, at most once per recipient, channel and key.
    Bodies are short and hold no child's surname and no health, care or family
    detail: they travel through third parties and land on shared phones."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    service = models.ForeignKey(
        "constellation.FosteringService", on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    to_name = models.CharField(max_length=120, blank=True)
    to_address = models.CharField(max_length=254, blank=True)
    destination = models.CharField(max_length=270)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    urgent = models.BooleanField(default=False)
    target_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = models.CharField(max_length=120)
    body = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    key = models.CharField(max_length=150)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=120, blank=True, help_text="The provider's id.")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "channel", "destination"], name="notification_once_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="notification_due"),
            models.Index(fields=["recipient", "channel", "read_at"], name="notification_unread"),
            models.Index(fields=["target_type", "target_id"], name="notification_target"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_name or self.destination} by {self.channel}"


class Preferences(models.Model):
    """A user's choices: which channels each kind uses (``channels``: kind → list of
    channel values; a kind not listed uses the default), and quiet hours in
    Europe/London wall-clock time (crisis alerts and escalations ignore them)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    channels = models.JSONField(default=dict, blank=True)
    quiet_from = models.TimeField(null=True, blank=True)
    quiet_until = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"


class PushSubscription(models.Model):
    """A browser or phone where the user allowed web push. Removed when the push
    service answers 404 or 410 for it (the subscription has gone)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=600, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Push to {self.user} ({self.user_agent[:40] or 'a browser'})"


class CrisisAlert(models.Model):
    """The alerting of one crisis request: raised with it, stopped by any answer
    or by a hub carer's "I've seen it, I'm calling you" (DOMAIN.md, workflow 2)."""

    request = models.OneToOneField(
        "sleepovers.Request", on_delete=models.CASCADE, related_name="crisis_alert"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=120, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Crisis alert of request {self.request_id}"

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None


class EscalationStep(models.Model):
    """One timed step of a crisis alert, run by the sweep when due."""

    class Step(models.IntegerChoices):
        HUB = 0, "The hub carers"
        LIAISON = 1, "The hub carers by text again, and the liaison worker"
        DUTY = 2, "The service's out-of-hours duty contact"

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        DONE = "done", "Done"
        PASSED_ON = "passed_on", "Nobody to alert: passed on"
        STOPPED = "stopped", "Not needed"

    alert = models.ForeignKey(CrisisAlert, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveSmallIntegerField(choices=Step.choices)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    ran_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["step"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "step"], name="one_row_per_escalation_step")
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="escalation_due")]

    def __str__(self) -> str:
        return f"Step {self.step} of {self.alert}"
