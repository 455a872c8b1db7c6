"""The constellation calendar over the API: the dates a user sees over a window, the
events themselves, their dates moved or cancelled one by one, answers and who came.

Who sees what is ``Event.objects.visible_to`` through the ``access`` helpers: an event
the user may not see is a 404 (another service's, another constellation's, a contact
session of another household), one they see but may not change a 403. Every change
goes through ``services``, whose ``ValidationError({field: message})`` is a 400 naming
the field and whose ``ActionRefused`` is a 409. Times go out as ISO 8601 with London's
offset of that moment (``2027-04-06T19:00:00+01:00``), so a series at 19:00 reads
19:00 across the clock changes; times come in through ``constellation.clock``'s one
parser (London time without an offset; a time that does not exist or happens twice
at a clock change is refused)."""

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api_schema import accepted_day
from constellation.clock import LONDON
from constellation.models import Carer, Constellation
from people.api import ApiDefaults, ErrorSerializer, RejectUnknownFields, StrictCharField
from sleepovers.api import (
    PK_MAX,
    BoundedDateField,
    MomentField,
    NamedChoiceField,
    StrictIntegerField,
)

from . import access, selectors, services
from .models import Answer, Event, KeptConnected, Occurrence, Rsvp
from .recurrence import Slot, is_date_of, key_of, london_midnight, parse_key, slot_of, years_shown

WINDOW_DEFAULT = timedelta(days=31)
WINDOW_MAX_DAYS = 366
DETAIL_DATES = 12  # the next dates shown with an event
MAX_INVITED = 50
MAX_LINES = 50
MAX_CHILDREN = 20
TITLE_MAX = Event._meta.get_field("title").max_length
PLACE_MAX = Event._meta.get_field("place").max_length
RULE_MAX = Event._meta.get_field("rule").max_length
DESCRIPTION_MAX = 5000
REASON_MAX = 300
CAPACITY_MAX = 10_000
CLOSES_MAX = 60 * 24 * 31  # answers close at most a month before a date

ERRORS = {
    400: OpenApiResponse(description="Invalid input: the body names each field in error."),
    403: OpenApiResponse(ErrorSerializer, description="Visible, but not yours to act on."),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not visible to you."),
}
ACTION_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(
        ErrorSerializer,
        description="Refused in the event's present state (cancelled, answers closed, ...).",
    ),
}


def _is_schema_generation(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


def _pk(pk: int) -> int:
    # The path converter takes any digits; the database would overflow on more.
    if pk > PK_MAX:
        raise Http404("No such event.")
    return pk


def _field_error(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})


class CalendarApi(ApiDefaults):
    """A service's ``ValidationError({field: message})`` is a 400 naming the field."""

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = serializers.ValidationError(serializers.as_serializer_error(exc))
        return super().handle_exception(exc)

    def _input(self, serializer_class, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --- fields -----------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.DATETIME)
class LondonMomentField(serializers.Field):
    """An aware moment out as ISO 8601 with London's offset at that moment."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: datetime) -> str:
        return value.astimezone(LONDON).isoformat()


class StrictBooleanField(serializers.BooleanField):
    """true or false, and only those: not "yes", 1 or "false"."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class EventMomentField(MomentField):
    """An ISO 8601 date-time (London time without an offset; one that does not exist
    or happens twice at a clock change is refused), or for an all-day event a date
    alone."""


def kind_field(**kwargs):
    return NamedChoiceField(Event.Kind.choices, component="EventKindEnum", **kwargs)


def answer_field(**kwargs):
    return NamedChoiceField(Answer.choices, component="RsvpAnswerEnum", **kwargs)


def _ids(**kwargs):
    return serializers.ListField(child=StrictIntegerField(min_value=1, max_value=PK_MAX), **kwargs)


# --- the dates of a window ------------------------------------------------------------


class MyAnswerSerializer(serializers.Serializer):
    """Your household's answer for a date."""

    answer = answer_field(read_only=True)
    adults = serializers.IntegerField(read_only=True)
    children = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="Ids of your children coming."
    )
    people = serializers.IntegerField(read_only=True)
    waiting = serializers.BooleanField(read_only=True, help_text="On the waiting list.")


class EventDateSerializer(serializers.Serializer):
    """One date of an event, as the calendar shows it (a ``recurrence.Slot`` counted by
    ``selectors.count_answers``)."""

    event = serializers.IntegerField(source="event.pk", read_only=True)
    date = serializers.CharField(
        source="key",
        read_only=True,
        help_text="The date's key (its original start in UTC, 20270105T190000Z), for "
        "answers and changes of this date.",
    )
    constellation = serializers.IntegerField(source="event.constellation_id", read_only=True)
    kind = kind_field(source="event.kind", read_only=True)
    kind_label = serializers.CharField(source="event.get_kind_display", read_only=True)
    title = serializers.CharField(read_only=True)
    place = serializers.CharField(read_only=True)
    start = LondonMomentField()
    end = LondonMomentField(help_text="Exclusive: an all-day date ends at midnight after it.")
    first_day = serializers.SerializerMethodField(help_text="The London day it starts.")
    last_day = serializers.SerializerMethodField(help_text="The last London day it is on.")
    all_day = serializers.BooleanField(read_only=True)
    cancelled = serializers.BooleanField(read_only=True)
    moved = serializers.BooleanField(read_only=True)
    capacity = serializers.IntegerField(source="event.capacity", read_only=True, allow_null=True)
    places_left = serializers.SerializerMethodField(help_text="Null when there is no limit.")
    coming = serializers.IntegerField(read_only=True, help_text="People with a place.")
    waiting = serializers.SerializerMethodField(help_text="People on the waiting list.")
    answers_close = serializers.SerializerMethodField()
    mine = serializers.SerializerMethodField(help_text="Your household's answer, if any.")

    def get_first_day(self, slot: Slot) -> date:
        return slot.local_start.date()

    def get_last_day(self, slot: Slot) -> date:
        return slot.last_day

    def get_places_left(self, slot: Slot) -> int | None:
        return slot.extra.get("places_left")

    def get_waiting(self, slot: Slot) -> int:
        return slot.extra.get("waiting", 0)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_answers_close(self, slot: Slot) -> str:
        return services.closes_at(slot.event, slot.start).astimezone(LONDON).isoformat()

    @extend_schema_field(MyAnswerSerializer(allow_null=True))
    def get_mine(self, slot: Slot) -> dict | None:
        rsvp: Rsvp | None = slot.extra.get("mine")
        if rsvp is None:
            return None
        children = self.context.get("children", {}).get(rsvp.pk, [])
        return MyAnswerSerializer(
            {
                "answer": rsvp.answer,
                "adults": rsvp.adults,
                "children": children,
                "people": rsvp.people,
                "waiting": rsvp.waiting,
            }
        ).data


def _dates_data(found: list[Slot]) -> list[dict]:
    """The dates, with the children of the user's own answers: one query."""
    mine = [slot.extra["mine"].pk for slot in found if slot.extra.get("mine") is not None]
    children: dict[int, list[int]] = {}
    if mine:
        pairs = Rsvp.children.through.objects.filter(rsvp_id__in=mine).order_by("child_id")
        for rsvp_id, child_id in pairs.values_list("rsvp_id", "child_id"):
            children.setdefault(rsvp_id, []).append(child_id)
    return EventDateSerializer(found, many=True, context={"children": children}).data


def _own_household(user):
    carer = Carer.objects.current().filter(user=user).select_related("household").first()
    return carer.household if carer else None


def _date_data(event: Event, original_start: datetime, user) -> dict:
    """One date of ``event`` as it stands now, counted, with the user's answer."""
    event = Event.objects.select_related("constellation").get(pk=event.pk)
    row = Occurrence.objects.filter(event=event, original_start=original_start).first()
    slot = slot_of(event, original_start, row)
    if slot is None:  # the date went to a series continuing this one
        raise Http404("No such date.")
    selectors.count_answers([slot], household=_own_household(user))
    return _dates_data([slot])[0]


class WindowQuery(serializers.Serializer):
    from_ = BoundedDateField(required=False)
    to = BoundedDateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        return {("from" if name == "from_" else name): field for name, field in fields.items()}

    def validate(self, attrs):
        first = attrs.get("from") or timezone.localdate()
        last = attrs.get("to") or first + WINDOW_DEFAULT
        if last < first:
            raise _field_error("to", "The last day must not be before the first.")
        if (last - first).days > WINDOW_MAX_DAYS:
            raise _field_error("to", f"Ask for at most {WINDOW_MAX_DAYS} days at once.")
        earliest, latest = years_shown(timezone.localdate())
        if first.year < earliest or last.year > latest:
            raise _field_error("from", f"The calendar shows the years {earliest} to {latest}.")
        return {"first": first, "last": last}


# --- events -----------------------------------------------------------------------------


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class EventSerializer(serializers.Serializer):
    """An event (or a series) with its next dates."""

    id = serializers.IntegerField(read_only=True)
    uid = serializers.UUIDField(read_only=True)
    constellation = RefSerializer(read_only=True)
    kind = kind_field(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    title = serializers.CharField(read_only=True)
    place = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    organiser = serializers.CharField(source="organiser.get_full_name", read_only=True)
    all_day = serializers.BooleanField(read_only=True)
    start = LondonMomentField(help_text="The first date's start.")
    end = LondonMomentField(help_text="The first date's end.")
    rule = serializers.CharField(
        read_only=True, help_text="RFC 5545 RRULE at London wall-clock time; empty for once."
    )
    repeat_until = serializers.DateField(read_only=True, allow_null=True)
    capacity = serializers.IntegerField(read_only=True, allow_null=True)
    rsvp_closes_minutes = serializers.IntegerField(read_only=True)
    invite_everyone = serializers.BooleanField(read_only=True)
    households = RefSerializer(
        source="invited_households.all", many=True, read_only=True, help_text="Invited by name."
    )
    contacts = serializers.SerializerMethodField(
        help_text="People kept connected who are invited (shown to those who keep the calendar)."
    )
    affects_beds = serializers.BooleanField(read_only=True)
    cancelled = serializers.BooleanField(read_only=True)
    sequence = serializers.IntegerField(read_only=True)
    follows = serializers.IntegerField(source="follows_id", read_only=True, allow_null=True)
    dates = serializers.SerializerMethodField(
        help_text=f"The next dates from today (at most {DETAIL_DATES}, within a year)."
    )

    @extend_schema_field(RefSerializer(many=True))
    def get_contacts(self, event: Event) -> list[dict]:
        if not self.context.get("keeps"):
            return []
        return RefSerializer(event.invited_contacts.all(), many=True).data

    @extend_schema_field(EventDateSerializer(many=True))
    def get_dates(self, event: Event) -> list[dict]:
        return self.context.get("dates", [])


def _event_data(event: Event, user) -> dict:
    today = timezone.localdate()
    found = selectors.expand(
        [event], london_midnight(today), london_midnight(today + timedelta(days=WINDOW_MAX_DAYS))
    )[:DETAIL_DATES]
    selectors.count_answers(found, household=_own_household(user))
    context = {"keeps": access.may_keep(user, event), "dates": _dates_data(found)}
    return EventSerializer(event, context=context).data


class EventFieldsSerializer(RejectUnknownFields, serializers.Serializer):
    """What an event says: the fields a new event is given, and a change may change."""

    kind = kind_field()
    title = StrictCharField(max_length=TITLE_MAX)
    place = StrictCharField(max_length=PLACE_MAX, allow_blank=True, required=False, default="")
    description = StrictCharField(
        max_length=DESCRIPTION_MAX, allow_blank=True, required=False, default=""
    )
    start = EventMomentField(help_text="The first date's start (a date alone when all-day).")
    end = EventMomentField(
        help_text="The first date's end (for an all-day event, its last day, inclusive)."
    )
    all_day = StrictBooleanField(required=False, default=False)
    rule = StrictCharField(
        max_length=RULE_MAX,
        allow_blank=True,
        required=False,
        default="",
        help_text="An RFC 5545 RRULE at London wall-clock time, e.g. FREQ=MONTHLY;BYDAY=1TU; "
        "empty for an event that happens once. The start must be its first date.",
    )
    repeat_until = BoundedDateField(
        required=False, allow_null=True, default=None, help_text="The last day of the repeats."
    )
    capacity = StrictIntegerField(
        min_value=1,
        max_value=CAPACITY_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="How many people may come, adults and children; null for no limit.",
    )
    rsvp_closes_minutes = StrictIntegerField(
        min_value=0,
        max_value=CLOSES_MAX,
        required=False,
        default=0,
        help_text="Answers close this many minutes before each date starts.",
    )
    invite_everyone = StrictBooleanField(
        required=False,
        help_text="The whole constellation (the default, but for a contact session).",
    )
    households = _ids(
        max_length=MAX_INVITED, required=False, default=list, help_text="Households invited."
    )
    contacts = _ids(
        max_length=MAX_INVITED,
        required=False,
        default=list,
        help_text="People kept connected invited (social get-togethers only).",
    )
    affects_beds = StrictBooleanField(required=False, default=False)

    def validate(self, attrs):
        event: Event | None = self.context.get("event")
        all_day = attrs.get("all_day", event.all_day if event else False)
        for name in ("start", "end"):
            if name in attrs:
                attrs[name] = _moment(attrs[name], all_day=all_day, end=name == "end", field=name)
        return attrs


def _moment(value: date | datetime, *, all_day: bool, end: bool, field: str) -> datetime:
    """A moment sent for an event: a date-time as given; a date alone, for an all-day
    event, London midnight at its start (or after it, for the last day)."""
    if isinstance(value, datetime):
        return value
    if not all_day:
        raise _field_error(field, "Give a time too, or make it an all-day event.")
    return london_midnight(value + timedelta(days=1) if end else value)


class EventCreateSerializer(EventFieldsSerializer):
    constellation = StrictIntegerField(
        min_value=1,
        max_value=PK_MAX,
        required=False,
        default=None,
        allow_null=True,
        help_text="The constellation whose calendar it goes on (yours, when you keep one).",
    )


class EventUpdateSerializer(EventFieldsSerializer):
    """A change to the whole event (every field optional). Times change only for a
    single event or a series none of whose dates was answered, moved or recorded."""


class ChangeFromSerializer(EventFieldsSerializer):
    """The series from this date on: the new first date's start and end, and what
    else changes (the rule too: null keeps it)."""

    kind = kind_field(required=False)
    title = StrictCharField(max_length=TITLE_MAX, required=False)
    rule = StrictCharField(
        max_length=RULE_MAX, allow_blank=True, required=False, allow_null=True, default=None
    )
    place = StrictCharField(max_length=PLACE_MAX, allow_blank=True, required=False)
    description = StrictCharField(max_length=DESCRIPTION_MAX, allow_blank=True, required=False)
    all_day = StrictBooleanField(required=False)
    capacity = StrictIntegerField(
        min_value=1, max_value=CAPACITY_MAX, required=False, allow_null=True
    )
    rsvp_closes_minutes = StrictIntegerField(min_value=0, max_value=CLOSES_MAX, required=False)
    affects_beds = StrictBooleanField(required=False)
    invite_everyone = None
    households = None
    contacts = None


class MoveSerializer(RejectUnknownFields, serializers.Serializer):
    """Where one date goes."""

    start = EventMomentField()
    end = EventMomentField()

    def validate(self, attrs):
        all_day = self.context["event"].all_day
        return {
            name: _moment(attrs[name], all_day=all_day, end=name == "end", field=name)
            for name in ("start", "end")
        }


class ReasonSerializer(RejectUnknownFields, serializers.Serializer):
    reason = StrictCharField(
        max_length=REASON_MAX,
        allow_blank=True,
        required=False,
        default="",
        help_text="The families read it.",
    )


def _invitation(event: Event | None, constellation: Constellation, body: dict):
    """The ``Invitation`` the body asks for (None when it names none of its fields on a
    change), its households and people among those the constellation may invite. A new
    contact session invites its one household, not the whole constellation."""
    named = {"invite_everyone", "households", "contacts"} & body.keys()
    everyone = body.pop("invite_everyone", None)
    household_ids = body.pop("households", None)
    contact_ids = body.pop("contacts", None)
    if event is not None and not named:
        return None
    if everyone is None:
        everyone = event.invite_everyone if event else body.get("kind") != Event.Kind.CONTACT
    if household_ids is None:
        households = list(event.invited_households.all()) if event else []
    else:
        households = _chosen(
            access.households_to_invite(constellation),
            household_ids,
            field="households",
            message="Invite households of this constellation only.",
        )
    if contact_ids is None:
        contacts = list(event.invited_contacts.all()) if event else []
    else:
        contacts = _chosen(
            access.contacts_to_invite(constellation),
            contact_ids,
            field="contacts",
            message="Invite people kept connected by this constellation, with consent in force.",
        )
    return services.Invitation(
        everyone=everyone, households=tuple(households), contacts=tuple(contacts)
    )


def _chosen(choices, ids: list[int], *, field: str, message: str) -> list:
    wanted = list(dict.fromkeys(ids))
    found = choices.in_bulk(wanted)
    if len(found) != len(wanted):
        raise _field_error(field, message)
    return [found[pk] for pk in wanted]


def _constellation_to_keep(user, pk: int | None) -> Constellation:
    """The constellation a new event goes on: among ``access.constellations_to_keep``;
    one the user sees but does not keep is a 403, one they cannot see a 404."""
    keep = access.constellations_to_keep(user)
    if pk is None:
        found = list(keep[:2])
        if not found:
            raise PermissionDenied("Only the hub carers and the liaison worker keep the calendar.")
        if len(found) > 1:
            raise _field_error("constellation", "Choose which constellation's calendar.")
        return found[0]
    constellation = keep.filter(pk=pk).first()
    if constellation is not None:
        return constellation
    if Constellation.objects.visible_to(user).filter(pk=pk).exists():
        raise PermissionDenied("Only the hub carers and the liaison worker keep the calendar.")
    raise Http404("No such constellation.")


# --- answers and who came ----------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class DateKeyField(serializers.Field):
    """A date's key (``20270105T190000Z``), as an aware moment."""

    def to_internal_value(self, data):
        moment = parse_key(data) if isinstance(data, str) and len(data) <= 16 else None
        if moment is None:
            raise serializers.ValidationError(
                "Give the date's key as the calendar lists it, e.g. 20270105T190000Z."
            )
        return moment

    def to_representation(self, value):
        return key_of(value)


class RsvpSerializer(RejectUnknownFields, serializers.Serializer):
    """Your household's answer for one date."""

    date = DateKeyField(
        required=False, help_text="The date's key; for an event that happens once, its date."
    )
    answer = answer_field()
    adults = StrictIntegerField(
        min_value=0, max_value=services.MAX_ADULTS, required=False, default=0
    )
    children = _ids(
        max_length=MAX_CHILDREN,
        required=False,
        default=list,
        help_text="Ids of your household's children coming.",
    )


class AttendanceLineSerializer(RejectUnknownFields, serializers.Serializer):
    """A household (with its adults and children) or a person kept connected (with
    how many people came, as ``adults``)."""

    household = StrictIntegerField(min_value=1, max_value=PK_MAX, required=False)
    contact = StrictIntegerField(min_value=1, max_value=PK_MAX, required=False)
    adults = StrictIntegerField(
        min_value=0, max_value=services.MAX_ADULTS, required=False, default=0
    )
    children = _ids(max_length=MAX_CHILDREN, required=False, default=list)

    def validate(self, attrs):
        if ("household" in attrs) == ("contact" in attrs):
            raise serializers.ValidationError(
                {"household": ["Give a household or a person kept connected on each line."]}
            )
        if "contact" in attrs and attrs["children"]:
            raise serializers.ValidationError(
                {"children": ["Give how many people came with a person kept connected."]}
            )
        return attrs


class AttendanceSerializer(RejectUnknownFields, serializers.Serializer):
    """Who came to one date: a line per household (replaces what was recorded)."""

    date = DateKeyField(
        required=False, help_text="The date's key; for an event that happens once, its date."
    )
    lines = serializers.ListField(
        child=AttendanceLineSerializer(), max_length=MAX_LINES, allow_empty=True
    )


class AttendedSerializer(serializers.Serializer):
    household = serializers.IntegerField(source="household_id", read_only=True)
    contact = serializers.IntegerField(source="contact_id", read_only=True)
    adults = serializers.IntegerField(read_only=True)
    children = serializers.SerializerMethodField()
    people = serializers.IntegerField(read_only=True)

    def get_children(self, line) -> list[int]:
        return sorted(child.pk for child in line.children.all())


class AttendanceRecordSerializer(serializers.Serializer):
    event = serializers.IntegerField(source="event_id", read_only=True)
    date = serializers.SerializerMethodField()
    recorded_at = LondonMomentField(source="attendance_recorded_at")
    people = serializers.SerializerMethodField()
    lines = AttendedSerializer(source="attendance.all", many=True, read_only=True)

    def get_date(self, row: Occurrence) -> str:
        return key_of(row.original_start)

    def get_people(self, row: Occurrence) -> int:
        return sum(line.people for line in row.attendance.all())


def _date_of(event: Event, original_start: datetime | None) -> datetime:
    """The date a body names: a date of the event (a 400 naming ``date`` otherwise);
    when none is named, the one date of an event that happens once."""
    if original_start is None:
        if event.rule:
            raise _field_error("date", "Choose which date of the series.")
        return event.start
    if not is_date_of(event, original_start):
        raise _field_error("date", "This event has no date then.")
    return original_start


def _path_date(event: Event, key: str) -> datetime:
    original = access.original_start_of(key)
    if not is_date_of(event, original):
        raise Http404("No such date.")
    return original


# --- the views ---------------------------------------------------------------------------


def _detail_schema(body, description: str, *, created: bool = False, response=EventSerializer):
    code = 201 if created else 200
    return extend_schema(
        request=body, responses={code: response, **ACTION_ERRORS}, description=description
    )


@extend_schema(tags=["calendar"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "from", accepted_day(), required=False, description="The first day (today)."
            ),
            OpenApiParameter(
                "to",
                accepted_day(),
                required=False,
                description=f"The last day, inclusive (31 days on); at most {WINDOW_MAX_DAYS} "
                "days after the first.",
            ),
        ],
        responses={200: EventDateSerializer(many=True), 400: ERRORS[400]},
        description="The dates of the events you may see over a window of London days, "
        "series expanded, each counted, with your household's answer.",
    ),
    create=extend_schema(
        request=EventCreateSerializer,
        responses={201: EventSerializer, **ERRORS},
        description="Put an event or a series on a constellation's calendar (its hub "
        "carers, its liaison worker, the service's managers).",
    ),
    retrieve=extend_schema(
        responses={200: EventSerializer, 404: ERRORS[404]},
        description="An event you may see, with its next dates.",
    ),
    partial_update=extend_schema(
        request=EventUpdateSerializer,
        responses={200: EventSerializer, **ACTION_ERRORS},
        description="Change the event for all its dates (those who keep the calendar).",
    ),
    destroy=extend_schema(
        request=ReasonSerializer,
        responses={200: EventSerializer, **ACTION_ERRORS},
        description="Cancel the event and all its dates: it stays, marked cancelled, so "
        "that phone calendars drop it.",
    ),
)
class EventViewSet(CalendarApi, viewsets.GenericViewSet):
    """The constellation calendar: events, answers and who came."""

    queryset = Event.objects.none()
    serializer_class = EventSerializer
    lookup_value_converter = "int"

    def get_serializer_class(self):
        return {
            "list": EventDateSerializer,
            "create": EventCreateSerializer,
            "partial_update": EventUpdateSerializer,
            "destroy": ReasonSerializer,
            "rsvp": RsvpSerializer,
            "attendance": AttendanceSerializer,
        }.get(self.action, EventSerializer)

    def list(self, request):
        query = WindowQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.window(request.user, **query.validated_data).slots
        page = self.paginate_queryset(found)
        return self.get_paginated_response(_dates_data(page))

    def create(self, request):
        body = self._input(EventCreateSerializer)
        constellation = _constellation_to_keep(request.user, body.pop("constellation"))
        invitation = _invitation(None, constellation, body)
        event = services.create_event(
            constellation=constellation, by=request.user, invitation=invitation, **body
        )
        return Response(_event_data(event, request.user), status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        event = access.get_event_for(request.user, _pk(pk))
        return Response(_event_data(event, request.user))

    def partial_update(self, request, pk):
        event = access.get_event_to_keep(request.user, _pk(pk))
        body = self._input(EventUpdateSerializer, partial=True, context={"event": event})
        invitation = _invitation(event, event.constellation, body)
        event = services.update_event(event, by=request.user, invitation=invitation, **body)
        return Response(_event_data(event, request.user))

    def destroy(self, request, pk):
        event = access.get_event_to_keep(request.user, _pk(pk))
        body = self._input(ReasonSerializer)
        event = services.cancel_event(event, by=request.user, reason=body["reason"])
        return Response(_event_data(event, request.user))

    @_detail_schema(
        RsvpSerializer,
        "Answer for your household: yes, no or maybe, with how many adults and which of "
        "your children. A yes beyond the places left waits, and moves up when places free.",
        response=EventDateSerializer,
    )
    @action(detail=True, methods=["post"])
    def rsvp(self, request, pk):
        event = access.get_event_for(request.user, _pk(pk))
        household = access.household_answering(request.user, event)
        if household is None:
            raise PermissionDenied("Only an invited household answers, for itself.")
        body = self._input(RsvpSerializer)
        original = _date_of(event, body.get("date"))
        children = _chosen(
            access.children_of(household),
            body["children"],
            field="children",
            message="Choose children of your own household.",
        )
        services.answer(
            event,
            original,
            by=request.user,
            answer=body["answer"],
            adults=body["adults"],
            children=children,
            household=household,
        )
        return Response(_date_data(event, original, request.user))

    @_detail_schema(
        AttendanceSerializer,
        "Record who came to a date, once it has started (those who keep the calendar).",
        response=AttendanceRecordSerializer,
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk):
        event = access.get_event_to_keep(request.user, _pk(pk))
        body = self._input(AttendanceSerializer)
        original = _date_of(event, body.get("date"))
        household_lines = [line for line in body["lines"] if "household" in line]
        contact_lines = [line for line in body["lines"] if "contact" in line]
        ids = [line["household"] for line in household_lines]
        contact_ids = [line["contact"] for line in contact_lines]
        if len(set(ids)) != len(ids) or len(set(contact_ids)) != len(contact_ids):
            raise _field_error("households", "Each household or person once.")
        households = _chosen(
            access.households_to_record(event.constellation),
            ids,
            field="households",
            message="Record households of this constellation only.",
        )
        contacts = _chosen(
            KeptConnected.objects.filter(constellation=event.constellation),
            contact_ids,
            field="contacts",
            message="Record people kept connected by this constellation only.",
        )
        came = []
        for line, household in zip(household_lines, households, strict=True):
            children = _chosen(
                access.children_of(household),
                line["children"],
                field="children",
                message="Each child with their own household.",
            )
            came.append(
                services.Came(household=household, adults=line["adults"], children=tuple(children))
            )
        for line, contact in zip(contact_lines, contacts, strict=True):
            came.append(services.Came(contact=contact, adults=line["adults"]))
        row = services.record_attendance(event, original, by=request.user, came=came)
        row = Occurrence.objects.prefetch_related("attendance__children").get(pk=row.pk)
        return Response(AttendanceRecordSerializer(row).data)


@extend_schema(tags=["calendar"])
class EventDateViewSet(CalendarApi, viewsets.GenericViewSet):
    """One date of a series, changed without touching the others (those who keep the
    calendar). The date is named by its key, as the list gives it."""

    queryset = Event.objects.none()
    serializer_class = EventDateSerializer

    @_detail_schema(
        MoveSerializer,
        "Move this date (a series' date; an event that happens once is changed itself).",
        response=EventDateSerializer,
    )
    def move(self, request, pk, key):
        event = access.get_event_to_keep(request.user, _pk(pk))
        original = _path_date(event, key)
        body = self._input(MoveSerializer, context={"event": event})
        services.move_occurrence(event, original, by=request.user, **body)
        return Response(_date_data(event, original, request.user))

    @_detail_schema(
        ReasonSerializer,
        "Cancel this date (the others stay); for an event that happens once, the event.",
        response=EventDateSerializer,
    )
    def cancel(self, request, pk, key):
        event = access.get_event_to_keep(request.user, _pk(pk))
        original = _path_date(event, key)
        body = self._input(ReasonSerializer)
        services.cancel_occurrence(event, original, by=request.user, reason=body["reason"])
        return Response(_date_data(event, original, request.user))

    @_detail_schema(
        ChangeFromSerializer,
        "Change the series from this date on: the series ends the day before, and a new "
        "one (answered here) continues it with the changes.",
        created=True,
    )
    def from_here(self, request, pk, key):
        event = access.get_event_to_keep(request.user, _pk(pk))
        original = _path_date(event, key)
        body = self._input(ChangeFromSerializer, context={"event": event})
        new = services.change_from(event, original, by=request.user, **body)
        return Response(_event_data(new, request.user), status=status.HTTP_201_CREATED)
