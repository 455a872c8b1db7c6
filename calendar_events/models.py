"""The constellation calendar (DOMAIN.md, workflow 4): events, their dates, who is
invited, who says they will come and who came, the people kept connected, and the
private feeds that phone calendars subscribe to.

An ``Event`` is one event or a series (an RFC 5545 rule at London wall-clock time,
see ``recurrence.py``). Its dates are never stored one row each: an ``Occurrence``
row exists only once something is said of one date (moved, cancelled, answered,
attended), keyed by the date's original start, the iCalendar ``RECURRENCE-ID``."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from constellation.models import (
    Child,
    Constellation,
    Household,
    _managed_service_ids,
    _own_household_ids,
    _perm_holders,
)


class KeptConnectedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Liaison workers of the constellation and managers of its service keep the
        list; the hub carers see it to invite people to social events."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(constellation__service__in=_managed_service_ids(user))
            | Q(constellation__in=_perm_holders(user, "manage_constellation"))
            | Q(constellation__hub__in=_own_household_ids(user))
        )

    def managed_by(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(constellation__service__in=_managed_service_ids(user))
            | Q(constellation__in=_perm_holders(user, "manage_constellation"))
        )

    def current(self, today=None):
        """Consent in force: not withdrawn, and the end date not passed."""
        today = today or timezone.localdate()
        return self.filter(withdrawn_at__isnull=True, ends_on__gte=today)


class KeptConnected(models.Model):
    """Someone no longer in the constellation (a young person who moved on, a former
    carer) who has agreed to be invited to its social events, until ``ends_on``.
    They have no account: an invitation reaches them by email with a signed link to
    answer, and they see nothing else (DOMAIN.md, workflow 7)."""

    class Relationship(models.TextChoices):
        YOUNG_PERSON = "young_person", "Young person who moved on"
        FORMER_CARER = "former_carer", "Former carer"
        OTHER = "other", "Someone else the constellation keeps in touch with"

    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="kept_connected"
    )
    name = models.CharField(max_length=80, help_text="How the constellation knows them.")
    email = models.EmailField()
    relationship = models.CharField(max_length=14, choices=Relationship.choices)
    child = models.ForeignKey(
        Child,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The young person's record, when they were a child of the constellation.",
    )
    consent = models.CharField(
        max_length=300, help_text="Who agreed to be kept connected, how and when."
    )
    consent_recorded_at = models.DateTimeField(default=timezone.now)
    ends_on = models.DateField(help_text="The last day invitations may be sent.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = KeptConnectedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "person kept connected"
        verbose_name_plural = "people kept connected"

    def __str__(self) -> str:
        return self.name


class EventQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The events ``user`` may see (issue 10):

        - the liaison workers of the constellation and its hub carers: all of them;
        - the service's managers: all but birth-family contact sessions;
        - a satellite carer of an active member household: the events their household
          is invited to (the whole constellation, or chosen households);
        - a birth-family contact session: only the household concerned (its one
          invited household), the hub carers and the liaison workers.

        Another service's events, and a person kept connected, see none of them here
        (the latter answers through a signed link, ``tokens.py``)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        own = _own_household_ids(user)
        contact = Q(kind=Event.Kind.CONTACT)
        invited = Exists(
            Event.invited_households.through.objects.filter(
                event_id=OuterRef("pk"), household_id__in=own
            )
        )
        return self.filter(
            Q(constellation__in=_perm_holders(user, "manage_constellation"))
            | Q(constellation__hub__in=own)
            | (~contact & Q(constellation__service__in=_managed_service_ids(user)))
            | (
                ~contact
                & Q(constellation__in=_perm_holders(user, "view_constellation_members"))
                & (Q(invite_everyone=True) | invited)
            )
            | (contact & invited)
        )

    def dated_between(self, first, last):
        """Events that may have a date overlapping ``first``..``last`` (aware): a single
        event overlapping them, a series begun before ``last`` whose repeats do not
        end over a month before ``first`` (a date lasts at most 31 days), or one with
        a date moved into them. The one narrowing every reader uses before expanding
        the rules over the window (``recurrence.slots``)."""
        from datetime import timedelta

        from django.utils import timezone as tz

        return self.filter(
            Q(rule="", start__lt=last, end__gt=first)
            | (
                ~Q(rule="")
                & Q(start__lt=last)
                & (
                    Q(repeat_until__isnull=True)
                    | Q(repeat_until__gte=tz.localdate(first) - timedelta(days=32))
                )
            )
            | Q(occurrences__start__lt=last, occurrences__end__gt=first)
        ).distinct()

    def kept(self, user):
        """Events whose calendar ``user`` keeps: the hub carers of the constellation,
        its liaison workers and the service's managers (contact sessions only for the
        first two)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        own = _own_household_ids(user)
        return self.filter(
            Q(constellation__in=_perm_holders(user, "manage_constellation"))
            | Q(constellation__hub__in=own)
            | (
                ~Q(kind=Event.Kind.CONTACT)
                & Q(constellation__service__in=_managed_service_ids(user))
            )
        )


class Event(models.Model):
    """One event of a constellation's calendar, or a series of them.

    Times are aware; ``start`` is the first date's start and ``end`` its end. An
    all-day event starts at London midnight of its first day and ends at London
    midnight after its last (exclusive, as iCalendar's ``DTEND``). ``rule`` is an RFC
    5545 RRULE without ``UNTIL`` (``repeat_until`` holds that, as a London day), read
    at London wall-clock time: 19:00 stays 19:00 across the clock changes."""

    class Kind(models.TextChoices):
        MEETING = "meeting", "Constellation meeting"
        TRAINING = "training", "Training and support session"
        SOCIAL = "social", "Social get-together"
        ACTIVITY = "activity", "Children and young people's activity"
        COMMUNITY = "community", "Local community or school event"
        CONTACT = "contact", "Birth-family contact session at the hub"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    constellation = models.ForeignKey(
        Constellation, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=120)
    place = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    all_day = models.BooleanField(default=False)
    start = models.DateTimeField()
    end = models.DateTimeField()
    rule = models.CharField(max_length=200, blank=True, help_text="RFC 5545 RRULE, without UNTIL.")
    repeat_until = models.DateField(null=True, blank=True)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many people may come, adults and children."
    )
    rsvp_closes_minutes = models.PositiveIntegerField(
        default=0, help_text="Answers close this many minutes before each date starts."
    )
    invite_everyone = models.BooleanField(default=True)
    invited_households = models.ManyToManyField(Household, blank=True, related_name="+")
    invited_contacts = models.ManyToManyField(KeptConnected, blank=True, related_name="events")
    affects_beds = models.BooleanField(
        default=False, help_text="The hub's beds are not free for sleepovers during it."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    sequence = models.PositiveIntegerField(default=0)
    follows = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="continued_by",
        help_text="The series this one continues, changed from one date on.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="event_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["constellation", "start"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("calendar_events:event", args=[self.pk])

    @property
    def recurring(self) -> bool:
        return bool(self.rule)

    @property
    def cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def private(self) -> bool:
        return self.kind == self.Kind.CONTACT

    @property
    def open_to_kept_connected(self) -> bool:
        return self.kind == self.Kind.SOCIAL


class Occurrence(models.Model):
    """One date of an event, written once something is said of it. ``original_start``
    is where the rule put it (the iCalendar ``RECURRENCE-ID``); ``start`` and ``end``
    are where it was moved to, if it was."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="occurrences")
    original_start = models.DateTimeField()
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    cancelled = models.BooleanField(default=False)
    sequence = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attendance_recorded_at = models.DateTimeField(null=True, blank=True)
    attendance_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "original_start"], name="one_row_per_date"),
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__isnull=False, end__isnull=False, end__gt=models.F("start")),
                name="occurrence_moved_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["start"]), models.Index(fields=["original_start"])]

    def __str__(self) -> str:
        return f"{self.event} on {self.original_start:%Y-%m-%d}"

    @property
    def moved(self) -> bool:
        return self.start is not None


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    MAYBE = "maybe", "Maybe"


class Rsvp(models.Model):
    """A household's (or a person kept connected's) answer for one date: yes, no or
    maybe, with how many adults and which of its children. A yes over the capacity
    waits (``waiting_since``) and moves up, in order, when places free."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.PROTECT, related_name="rsvps")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        KeptConnected, on_delete=models.PROTECT, null=True, blank=True, related_name="rsvps"
    )
    answer = models.CharField(max_length=5, choices=Answer.choices)
    adults = models.PositiveSmallIntegerField(default=0)
    children = models.ManyToManyField(Child, blank=True, related_name="+")
    people = models.PositiveSmallIntegerField(default=0, help_text="Adults and children.")
    waiting_since = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(default=timezone.now)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(household__isnull=False, contact__isnull=True)
                | Q(household__isnull=True, contact__isnull=False),
                name="rsvp_of_a_household_or_a_contact",
            ),
            models.UniqueConstraint(
                fields=["occurrence", "household"],
                condition=Q(household__isnull=False),
                name="one_rsvp_per_household",
            ),
            models.UniqueConstraint(
                fields=["occurrence", "contact"],
                condition=Q(contact__isnull=False),
                name="one_rsvp_per_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.answer} for {self.occurrence}"

    @property
    def waiting(self) -> bool:
        return self.waiting_since is not None

    @property
    def coming(self) -> bool:
        return self.answer == Answer.YES and self.waiting_since is None


class Attendance(models.Model):
    """Who came to one date, recorded by the hub carer after it."""

    occurrence = models.ForeignKey(Occurrence, on_delete=models.PROTECT, related_name="attendance")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        KeptConnected, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    adults = models.PositiveSmallIntegerField(default=0)
    children = models.ManyToManyField(Child, blank=True, related_name="+")
    people = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(household__isnull=False, contact__isnull=True)
                | Q(household__isnull=True, contact__isnull=False),
                name="attendance_of_a_household_or_a_contact",
            ),
            models.UniqueConstraint(
                fields=["occurrence", "household"],
                condition=Q(household__isnull=False),
                name="one_attendance_per_household",
            ),
            models.UniqueConstraint(
                fields=["occurrence", "contact"],
                condition=Q(contact__isnull=False),
                name="one_attendance_per_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.people} at {self.occurrence}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeedQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class CalendarFeed(models.Model):
    """A user's private subscription address: a secret in the URL that a phone's
    calendar fetches. Revoking it makes the address answer 404 for good; a new one
    can be made at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Calendar feed of user {self.user_id}"
