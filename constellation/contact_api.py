"""Regular contact over the API (issue 11): check-ins with satellite households,
concerns ("this placement may be at risk"), the liaison worker's activity feed and
each household's contact coverage.

Who sees what is ``CheckIn.objects.visible_to`` / ``Concern.objects.visible_to``
(the hub carers and liaison workers of the constellation, the service's managers;
never a satellite carer) and the ``access`` helpers; every change goes through
``services``, the same functions the pages call.

How a refusal answers, the same on every endpoint here:

- **400**, naming the field: input wrong in itself, checked before anything is
  written (a wrong type, an unknown field, a time in the future or one that does not
  exist in London, an unknown method or reason, a follow-up due yesterday or given to
  someone who cannot act on it, a concern closed without a note). The serializers
  check it with the services' own limits (``contact.NOTE_MAX``, ...).
- **403**: a record the user sees but may not act on (a hub carer closing a concern,
  a satellite carer reading the feed or the coverage).
- **404**: a record the user may not see, named in the path or the body (another
  constellation's household, another service's concern, an id past the database's
  range).
- **409**: the service refuses in the record's present state (``ActionRefused``: a
  concern closed already, a household that left its constellation meanwhile).

Times go out as ISO 8601 with London's offset of that moment; a time that comes in
without an offset is London time (``constellation.clock``'s one parser, which
refuses a time that does not exist or happens twice at a clock change)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
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
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from calendar_events.api import LondonMomentField, StrictBooleanField
from config.api_schema import accepted_day
from people.api import ApiDefaults, ErrorSerializer, RejectUnknownFields, StrictCharField
from sleepovers.api import (
    PK_MAX,
    BoundedDateField,
    NamedChoiceField,
    QueryIdField,
    StrictIntegerField,
)

from . import access, selectors, services
from .clock import LocalDateTimeSerializerField
from .models import ActivityKind, CheckIn, Child, Concern, FollowUp
from .services import concerns as concern_rules
from .services import contact as contact_rules

MAX_FOLLOW_UPS = 10
MAX_CONCERN_CHILDREN = 20
PARTICIPANTS_MAX = CheckIn._meta.get_field("participants").max_length
FEED_PAGE = 25
FEED_PAGE_MAX = 100

ERRORS = {
    400: OpenApiResponse(description="Invalid input: the body names each field in error."),
    403: OpenApiResponse(ErrorSerializer, description="Visible, but not yours to act on."),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not visible to you."),
}
ACTION_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(
        ErrorSerializer, description="Refused in the record's present state (closed already)."
    ),
}
READ_ERRORS = {400: ERRORS[400], 403: ERRORS[403], 404: ERRORS[404]}


def _is_schema_generation(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


def _pk(pk: int) -> int:
    # The path converter takes any digits; the database would overflow on more.
    if pk > PK_MAX:
        raise Http404("No such record.")
    return pk


def _field_error(field: str, message) -> serializers.ValidationError:
    return serializers.ValidationError({field: message if isinstance(message, dict) else [message]})


def _input(request, serializer_class, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _query(request, serializer_class) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _ids(**kwargs):
    return serializers.ListField(child=StrictIntegerField(min_value=1, max_value=PK_MAX), **kwargs)


@extend_schema_field(OpenApiTypes.DATETIME)
class ContactMomentField(LocalDateTimeSerializerField):
    """An ISO 8601 date and time: with an offset (or Z) as given, without one London
    time (refused when it does not exist or happens twice at a clock change)."""


# --- representation ---------------------------------------------------------------------


class NamedRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ActorSerializer(serializers.Serializer):
    """Someone who acted: their id and name (never their email or phone)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="get_full_name", read_only=True)


class ChildNameSerializer(serializers.Serializer):
    """A child as a concern or the feed names them: id and preferred name only."""

    id = serializers.IntegerField(read_only=True)
    preferred_name = serializers.CharField(source="known_as", read_only=True)


def method_field(**kwargs):
    return NamedChoiceField(CheckIn.Method.choices, component="CheckInMethodEnum", **kwargs)


def level_field(**kwargs):
    return NamedChoiceField(CheckIn.Level.choices, component="ConcernLevelEnum", **kwargs)


def reason_field(**kwargs):
    return NamedChoiceField(Concern.Reason.choices, component="ConcernReasonEnum", **kwargs)


class FollowUpSerializer(serializers.ModelSerializer):
    assigned_to = ActorSerializer(read_only=True)
    resolved_at = LondonMomentField(allow_null=True)
    resolved_by = ActorSerializer(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField(help_text="Open and due before today (London).")

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "action",
            "due_on",
            "assigned_to",
            "resolved_at",
            "resolved_by",
            "resolution",
            "overdue",
        ]
        read_only_fields = fields

    def get_overdue(self, obj: FollowUp) -> bool:
        return obj.resolved_at is None and obj.due_on < self.context["today"]


class CheckInSerializer(serializers.ModelSerializer):
    """A contact (or an attempt) with a household, with its follow-ups."""

    household = NamedRecordSerializer(read_only=True)
    constellation = serializers.IntegerField(source="constellation_id", read_only=True)
    occurred_at = LondonMomentField()
    method = method_field(read_only=True)
    method_label = serializers.CharField(source="get_method_display", read_only=True)
    concern_level = level_field(read_only=True)
    recorded_by = ActorSerializer(read_only=True)
    recorded_at = LondonMomentField()
    follow_ups = serializers.SerializerMethodField()

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "household",
            "constellation",
            "occurred_at",
            "method",
            "method_label",
            "made",
            "participants",
            "note",
            "concern_level",
            "recorded_by",
            "recorded_at",
            "follow_ups",
        ]
        read_only_fields = fields

    @extend_schema_field(FollowUpSerializer(many=True))
    def get_follow_ups(self, obj: CheckIn) -> list[dict]:
        return FollowUpSerializer(obj.follow_ups.all(), many=True, context=self.context).data


CHECK_IN_PREFETCH = (
    Prefetch(
        "follow_ups",
        queryset=FollowUp.objects.select_related("assigned_to", "resolved_by").order_by(
            "due_on", "pk"
        ),
    ),
)


def _check_ins_data(rows, *, many: bool = False):
    return CheckInSerializer(rows, many=many, context={"today": timezone.localdate()}).data


class ConcernSerializer(serializers.ModelSerializer):
    """A concern about a household, open or closed, and what was done."""

    household = NamedRecordSerializer(read_only=True)
    constellation = serializers.IntegerField(source="constellation_id", read_only=True)
    source = NamedChoiceField(Concern.Source.choices, component="ConcernSourceEnum", read_only=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)
    reasons = serializers.ListField(child=reason_field(), read_only=True)
    reason_labels = serializers.ListField(child=serializers.CharField(), read_only=True)
    children = ChildNameSerializer(many=True, read_only=True)
    status = NamedChoiceField(Concern.Status.choices, component="ConcernStatusEnum", read_only=True)
    opened_at = LondonMomentField()
    opened_by = ActorSerializer(read_only=True, allow_null=True)
    closed_at = LondonMomentField(allow_null=True)
    closed_by = ActorSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Concern
        fields = [
            "id",
            "household",
            "constellation",
            "source",
            "source_label",
            "reasons",
            "reason_labels",
            "description",
            "children",
            "status",
            "opened_at",
            "opened_by",
            "closed_at",
            "closed_by",
            "action_note",
            "stability_meeting_on",
        ]
        read_only_fields = fields


CONCERN_PREFETCH = (Prefetch("children", queryset=Child.objects.order_by("pk")),)


def _concern_data(concern: Concern) -> dict:
    concern = (
        Concern.objects.select_related("household", "opened_by", "closed_by")
        .prefetch_related(*CONCERN_PREFETCH)
        .get(pk=concern.pk)
    )
    return ConcernSerializer(concern).data


# --- input ------------------------------------------------------------------------------


class FollowUpInputSerializer(RejectUnknownFields, serializers.Serializer):
    """A follow-up asked for with the check-in."""

    action = StrictCharField(max_length=contact_rules.ACTION_MAX, help_text="What to do.")
    due_on = BoundedDateField(help_text="By when (a London date, today or later).")
    assigned_to = StrictIntegerField(
        min_value=1,
        max_value=PK_MAX,
        help_text="The user who does it: a hub carer or liaison worker of the constellation.",
    )

    def validate_due_on(self, value: date) -> date:
        if value < timezone.localdate():
            raise serializers.ValidationError("A follow-up cannot be due before today.")
        return value


class CheckInCreateSerializer(RejectUnknownFields, serializers.Serializer):
    """A contact with a satellite household: three taps and a sentence."""

    household = StrictIntegerField(min_value=1, max_value=PK_MAX)
    occurred_at = ContactMomentField(
        required=False,
        help_text="When the contact happened (now by default; not in the future).",
    )
    method = method_field(help_text="How the contact happened.")
    made = StrictBooleanField(
        required=False, default=True, help_text="false when contact was only attempted."
    )
    participants = StrictCharField(
        max_length=PARTICIPANTS_MAX, allow_blank=True, required=False, default=""
    )
    note = StrictCharField(
        max_length=contact_rules.NOTE_MAX, allow_blank=True, required=False, default=""
    )
    concern_level = level_field(required=False, default=CheckIn.Level.NONE)
    follow_ups = serializers.ListField(
        child=FollowUpInputSerializer(), max_length=MAX_FOLLOW_UPS, required=False, default=list
    )

    def validate_occurred_at(self, value: datetime) -> datetime:
        if value > timezone.now():
            raise serializers.ValidationError("A check-in cannot be in the future.")
        return value


class ConcernCreateSerializer(RejectUnknownFields, serializers.Serializer):
    """A concern opened by hand, with the reasons a placement stability meeting would
    name."""

    household = StrictIntegerField(min_value=1, max_value=PK_MAX)
    reasons = serializers.ListField(
        child=reason_field(), min_length=1, max_length=len(Concern.Reason.values)
    )
    description = StrictCharField(
        max_length=concern_rules.DESCRIPTION_MAX, allow_blank=True, required=False, default=""
    )
    children = _ids(
        max_length=MAX_CONCERN_CHILDREN,
        required=False,
        default=list,
        help_text="Ids of children placed in the household whom the concern is about.",
    )

    def validate(self, attrs):
        if Concern.Reason.OTHER in attrs["reasons"] and not attrs["description"].strip():
            raise _field_error(
                "description", "Describe the concern when the reason is something else."
            )
        return attrs


CLOSE_NOTE_MISSING = "Record what was done before closing the concern."


class ConcernCloseSerializer(RejectUnknownFields, serializers.Serializer):
    """What the liaison worker did; optionally the placement stability meeting."""

    note = StrictCharField(
        max_length=concern_rules.NOTE_MAX,
        error_messages={
            "required": CLOSE_NOTE_MISSING,
            "blank": CLOSE_NOTE_MISSING,
            "null": CLOSE_NOTE_MISSING,
        },
    )
    stability_meeting_on = BoundedDateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The date of the placement stability meeting, if one was held or is set.",
    )

    def validate_stability_meeting_on(self, value: date | None) -> date | None:
        if value is not None and abs(value - timezone.localdate()) > concern_rules.MEETING_RANGE:
            raise serializers.ValidationError(
                "The placement stability meeting must be within a year of today."
            )
        return value


# --- check-ins --------------------------------------------------------------------------


class CheckInFilter(serializers.Serializer):
    household = QueryIdField(required=False)
    constellation = QueryIdField(required=False)


def _follow_ups(constellation, rows: list[dict]) -> list[services.FollowUpInput]:
    """The follow-ups of a body, each given to one of ``follow_up_assignees`` (the one
    choice set the form and the service use); anyone else is a 400 naming the line."""
    assignees = {user.pk: user for user in contact_rules.follow_up_assignees(constellation)}
    wrong = {
        str(i): {
            "assigned_to": [
                "Give the follow-up to a hub carer or liaison worker of the constellation."
            ]
        }
        for i, row in enumerate(rows)
        if row["assigned_to"] not in assignees
    }
    if wrong:
        raise _field_error("follow_ups", wrong)
    return [
        services.FollowUpInput(
            action=row["action"], due_on=row["due_on"], assigned_to=assignees[row["assigned_to"]]
        )
        for row in rows
    ]


@extend_schema(tags=["contact"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("household", int, required=False),
            OpenApiParameter("constellation", int, required=False),
        ],
        responses={200: CheckInSerializer(many=True), 400: ERRORS[400]},
        description="Check-ins you may read (hub carers and liaison workers of the "
        "constellation, the service's managers), newest first, with their follow-ups.",
    ),
    create=extend_schema(
        request=CheckInCreateSerializer,
        responses={201: CheckInSerializer, **ACTION_ERRORS},
        description="Record a contact, or an attempt (made: false), with a satellite "
        "household (its constellation's hub carers and liaison workers). A high level of "
        "concern opens a concern and alerts the liaison worker.",
    ),
    retrieve=extend_schema(
        responses={200: CheckInSerializer, 404: ERRORS[404]},
        description="A check-in you may read.",
    ),
)
class CheckInViewSet(ApiDefaults, viewsets.GenericViewSet):
    """Check-ins with satellite households."""

    queryset = CheckIn.objects.none()
    serializer_class = CheckInSerializer
    lookup_value_converter = "int"

    def get_serializer_class(self):
        if self.action == "create":
            return CheckInCreateSerializer
        return CheckInSerializer

    def get_queryset(self):
        if _is_schema_generation(self):
            return CheckIn.objects.none()
        return (
            CheckIn.objects.visible_to(self.request.user)
            .select_related("household", "recorded_by")
            .prefetch_related(*CHECK_IN_PREFETCH)
            .order_by("-occurred_at", "-pk")
        )

    def list(self, request):
        query = _query(request, CheckInFilter)
        rows = self.get_queryset()
        if "household" in query:
            rows = rows.filter(household_id=query["household"])
        if "constellation" in query:
            rows = rows.filter(constellation_id=query["constellation"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(_check_ins_data(page, many=True))

    def create(self, request):
        body = _input(request, CheckInCreateSerializer)
        household, constellation = access.get_household_for_contact(
            request.user, body.pop("household")
        )
        follow_ups = _follow_ups(constellation, body.pop("follow_ups"))
        check_in = services.record_check_in(
            household,
            by=request.user,
            occurred_at=body.pop("occurred_at", None) or timezone.now(),
            follow_ups=follow_ups,
            **body,
        )
        return Response(
            _check_ins_data(self.get_queryset().get(pk=check_in.pk)),
            status=status.HTTP_201_CREATED,
        )

    def retrieve(self, request, pk):
        check_in = access.get_check_in_for(request.user, _pk(pk))
        return Response(_check_ins_data(self.get_queryset().get(pk=check_in.pk)))


# --- concerns ---------------------------------------------------------------------------


class ConcernFilter(serializers.Serializer):
    status = NamedChoiceField(Concern.Status.choices, component="ConcernStatusEnum", required=False)
    household = QueryIdField(required=False)
    constellation = QueryIdField(required=False)


def _children_of_household(household, ids: list[int]) -> list[Child]:
    """The children named, each placed in ``household`` now (a 400 otherwise)."""
    ids = list(dict.fromkeys(ids))
    found = list(Child.objects.filter(household=household, status=Child.Status.PLACED, pk__in=ids))
    if len(found) != len(ids):
        raise _field_error("children", "Choose children placed in this household.")
    return found


@extend_schema(tags=["contact"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=Concern.Status.values, required=False),
            OpenApiParameter("household", int, required=False),
            OpenApiParameter("constellation", int, required=False),
        ],
        responses={200: ConcernSerializer(many=True), 400: ERRORS[400]},
        description="Concerns you may read (hub carers and liaison workers of the "
        "constellation, the service's managers): open ones first, newest first.",
    ),
    create=extend_schema(
        request=ConcernCreateSerializer,
        responses={201: ConcernSerializer, **ACTION_ERRORS},
        description="Open a concern by hand about a satellite household (its "
        "constellation's hub carers and liaison workers); the liaison workers are alerted.",
    ),
    retrieve=extend_schema(
        responses={200: ConcernSerializer, 404: ERRORS[404]},
        description="A concern you may read.",
    ),
)
class ConcernViewSet(ApiDefaults, viewsets.GenericViewSet):
    """Concerns: "this placement may be at risk", and what was done."""

    queryset = Concern.objects.none()
    serializer_class = ConcernSerializer
    lookup_value_converter = "int"

    def get_serializer_class(self):
        return {"create": ConcernCreateSerializer, "close": ConcernCloseSerializer}.get(
            self.action, ConcernSerializer
        )

    def get_queryset(self):
        if _is_schema_generation(self):
            return Concern.objects.none()
        return (
            Concern.objects.visible_to(self.request.user)
            .select_related("household", "opened_by", "closed_by")
            .prefetch_related(*CONCERN_PREFETCH)
            .order_by("-status", "-opened_at", "-pk")  # "open" before "closed"
        )

    def list(self, request):
        query = _query(request, ConcernFilter)
        rows = self.get_queryset()
        for name in ("status", "household", "constellation"):
            if name in query:
                rows = rows.filter(**{name if name == "status" else f"{name}_id": query[name]})
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ConcernSerializer(page, many=True).data)

    def create(self, request):
        body = _input(request, ConcernCreateSerializer)
        household, _constellation = access.get_household_for_contact(
            request.user, body.pop("household")
        )
        children = _children_of_household(household, body.pop("children"))
        concern = services.open_concern_by_hand(
            household, by=request.user, children=children, **body
        )
        return Response(_concern_data(concern), status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        concern = access.get_concern_for(request.user, _pk(pk))
        return Response(_concern_data(concern))

    @extend_schema(
        request=ConcernCloseSerializer,
        responses={200: ConcernSerializer, **ACTION_ERRORS},
        description="Record what was done and close the concern (the constellation's "
        "liaison workers, the service's managers). A note is required; closing a concern "
        "closed already is a 409.",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk):
        concern = access.get_concern_to_close(request.user, _pk(pk))
        body = _input(request, ConcernCloseSerializer)
        concern = services.close_concern(concern, by=request.user, **body)
        return Response(_concern_data(concern))


# --- the activity feed ------------------------------------------------------------------


def encode_cursor(moment: datetime, pk: int) -> str:
    """The feed's cursor: the last row's moment (UTC) and id, opaque to clients."""
    raw = f"{moment.astimezone(UTC).isoformat()}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


BAD_CURSOR = "This cursor is not one the feed gave: start again from the first page."


def decode_cursor(value: str) -> tuple[datetime, int]:
    """A cursor from ``encode_cursor``; anything else is a ``ValidationError``."""
    try:
        if not value.isascii() or len(value) > 100:
            raise ValueError
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        moment_text, pk_text = raw.split("|")
        moment = datetime.fromisoformat(moment_text)
        if moment.tzinfo is None or not pk_text.isdigit():
            raise ValueError
        pk = int(pk_text)
        if not 1 <= pk <= PK_MAX:
            raise ValueError
    except (ValueError, UnicodeError, binascii.Error):
        raise serializers.ValidationError(BAD_CURSOR) from None
    return moment, pk


@extend_schema_field(OpenApiTypes.STR)
class CursorField(serializers.Field):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(BAD_CURSOR)
        return decode_cursor(data)


class ActivityQuery(serializers.Serializer):
    constellation = QueryIdField(required=False)
    household = QueryIdField(required=False)
    child = QueryIdField(required=False)
    kind = NamedChoiceField(ActivityKind.choices, component="ActivityKindEnum", required=False)
    since = BoundedDateField(required=False)
    until = BoundedDateField(required=False)
    cursor = CursorField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=FEED_PAGE_MAX, required=False)

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until < since:
            raise _field_error("until", "The last day must not be before the first.")
        return attrs


class ActivityTargetSerializer(serializers.Serializer):
    type = serializers.SerializerMethodField(
        help_text='What changed, e.g. "constellation.concern".'
    )
    id = serializers.IntegerField(source="target_id", read_only=True)

    def get_type(self, row) -> str:
        return f"{row.target_type.app_label}.{row.target_type.model}"


class ActivitySerializer(serializers.Serializer):
    """One row of the activity record: what happened, when, by whom, about whom. The
    summary carries no child's full name."""

    id = serializers.IntegerField(read_only=True)
    created_at = LondonMomentField()
    kind = NamedChoiceField(ActivityKind.choices, component="ActivityKindEnum", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    verb = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    constellation = NamedRecordSerializer(read_only=True, allow_null=True)
    household = NamedRecordSerializer(read_only=True, allow_null=True)
    children = ChildNameSerializer(source="children.all", many=True, read_only=True)
    actor = ActorSerializer(read_only=True, allow_null=True)
    target = ActivityTargetSerializer(source="*", read_only=True)


class ActivityPageSerializer(serializers.Serializer):
    next = serializers.URLField(
        allow_null=True, read_only=True, help_text="The next page, or null on the last."
    )
    results = ActivitySerializer(many=True, read_only=True)


class ActivityView(ApiDefaults, APIView):
    """The activity record of the constellations on your desk (liaison workers,
    managers), newest first, filtered like the desk's feed, paged by a cursor: each
    page costs the same few queries however deep."""

    pagination_class = None

    @extend_schema(
        tags=["contact"],
        parameters=[
            OpenApiParameter("constellation", int, required=False),
            OpenApiParameter("household", int, required=False),
            OpenApiParameter("child", int, required=False),
            OpenApiParameter("kind", str, enum=ActivityKind.values, required=False),
            OpenApiParameter(
                "since", accepted_day(), required=False, description="First London day."
            ),
            OpenApiParameter(
                "until", accepted_day(), required=False, description="Last London day."
            ),
            OpenApiParameter(
                "cursor", str, required=False, description="From the previous page's next."
            ),
            OpenApiParameter(
                "limit", int, required=False, description=f"Rows a page (up to {FEED_PAGE_MAX})."
            ),
        ],
        responses={200: ActivityPageSerializer, **READ_ERRORS},
    )
    def get(self, request):
        access.get_desk_for(request.user)
        query = _query(request, ActivityQuery)
        filters = selectors.FeedFilters(
            constellation=query.get("constellation"),
            household=query.get("household"),
            child=query.get("child"),
            kind=query.get("kind"),
            since=query.get("since"),
            until=query.get("until"),
        )
        rows = (
            selectors.activity_feed(request.user, filters)
            .select_related("target_type")
            .prefetch_related(Prefetch("children", queryset=Child.objects.order_by("pk")))
        )
        page, after = selectors.page_after(
            rows, after=query.get("cursor"), size=query.get("limit", FEED_PAGE)
        )
        url = request.build_absolute_uri()
        data = {
            "next": replace_query_param(url, "cursor", encode_cursor(*after)) if after else None,
            "results": ActivitySerializer(page, many=True).data,
        }
        return Response(data)


# --- coverage ---------------------------------------------------------------------------


class CoverageQuery(serializers.Serializer):
    constellation = QueryIdField(required=False)


class CoverageRowSerializer(serializers.Serializer):
    """A satellite household's contact coverage today (``selectors.coverage``)."""

    household = NamedRecordSerializer(read_only=True)
    constellation = NamedRecordSerializer(read_only=True)
    last_contact = serializers.DateField(
        read_only=True, allow_null=True, help_text="London date of the last contact made."
    )
    days = serializers.IntegerField(
        read_only=True, help_text="London days since it (or since joining, if never)."
    )
    level = NamedChoiceField(
        [(key, label) for key, label in selectors.LEVEL_LABELS.items()],
        component="CoverageLevelEnum",
        read_only=True,
    )
    level_label = serializers.CharField(read_only=True)
    amber_days = serializers.IntegerField(source="constellation.contact_amber_days", read_only=True)
    red_days = serializers.IntegerField(source="constellation.contact_red_days", read_only=True)
    open_follow_ups = serializers.IntegerField(read_only=True)
    overdue_follow_ups = serializers.IntegerField(read_only=True)


NOT_FOR_CONTACT = "Only the hub carers, liaison workers and managers see contact coverage."


class CoverageView(ApiDefaults, APIView):
    """Each active satellite household of the constellations whose check-ins you read
    (hub carers, liaison workers, managers): days since the last contact made, amber or
    red past the constellation's thresholds, open and overdue follow-ups. Reddest
    first; not paged (a constellation has at most ten satellites)."""

    pagination_class = None

    @extend_schema(
        tags=["contact"],
        parameters=[OpenApiParameter("constellation", int, required=False)],
        responses={200: CoverageRowSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        query = _query(request, CoverageQuery)
        if "constellation" in query:
            constellations = [
                access.get_constellation_for_contact(request.user, query["constellation"])
            ]
        else:
            constellations = access.constellations_for_contact(request.user)
            if not constellations.exists():
                raise PermissionDenied(NOT_FOR_CONTACT)
        return Response(CoverageRowSerializer(selectors.coverage(constellations), many=True).data)
