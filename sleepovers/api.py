"""Sleepover requests, the hub's nights and its availability over the API.

Who sees what is ``Request.objects.visible_to`` and the ``access`` helpers (404
outside visibility, 403 for a visible request the user may not act on); every
change goes through ``services``, whose ``ValidationError({field: message})`` is a
400 naming the field and whose ``ActionRefused`` (a full night among them) is a
409. The serializers only check the shape of the input."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from config.api_schema import accepted_day, date_in_years
from constellation import clock
from constellation.api import HubContactSerializer
from constellation.clock import LocalDateTimeSerializerField
from constellation.models import (
    CHILD_NOTES_MAX,
    Carer,
    Child,
    Constellation,
    Household,
    HubCover,
)
from people.api import ApiDefaults, ErrorSerializer, RejectUnknownFields, StrictCharField
from people.models import ChildRecordAccess
from people.roles import roles_for

from . import access, selectors, services
from .models import (
    CrisisReason,
    Kind,
    LimitOverride,
    Request,
    Status,
    Transition,
    Unavailability,
)

NOTES_MAX = CHILD_NOTES_MAX  # the same limit as the pages' notes
REASON_MAX = Request._meta.get_field("decline_reason").max_length
PERIOD_NOTE_MAX = Unavailability._meta.get_field("note").max_length
MAX_CHILDREN = 20  # as many as a hub can have beds
NIGHTS_DEFAULT = timedelta(days=30)
NIGHTS_MAX = 366
PK_MAX = 2**63 - 1

ERRORS = {
    400: OpenApiResponse(description="Invalid input: the body names each field in error."),
    403: OpenApiResponse(ErrorSerializer, description="Visible, but not yours to act on."),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not visible to you."),
}
ACTION_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(
        ErrorSerializer, description="Refused in the request's present state, or a night is full."
    ),
}


def _is_schema_generation(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


def _renamed(fields, **names):
    """Fields whose names are Python keywords (``from``) are declared with a trailing
    underscore and renamed here, keeping their order."""
    return {names.get(name, name): field for name, field in fields.items()}


class SleepoverApi(ApiDefaults):
    """A service's ``ValidationError({field: message})`` is a 400 naming the field."""

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = serializers.ValidationError(serializers.as_serializer_error(exc))
        return super().handle_exception(exc)


# --- input fields -------------------------------------------------------------------


class QueryIdField(serializers.IntegerField):
    """A record's id in a query string: ASCII digits only (Python reads "٣" as 3, the
    people who type ids do not), within the database's range."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=PK_MAX, **kwargs)

    def to_internal_value(self, data):
        if not (isinstance(data, str) and data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer, and only an integer: not "5", 5.5 or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def _parsed(parse, data, **kwargs):
    """The one parser's answer, or its message as this field's 400."""
    try:
        return parse(data, field="value", **kwargs)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.message_dict["value"]) from None


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "string",
                "format": "date-time",
                "description": f"A moment between the years {clock.EARLIEST_YEAR} "
                f"and {clock.LATEST_YEAR}.",
            },
            date_in_years(clock.EARLIEST_YEAR, clock.LATEST_YEAR),
        ]
    }
)
class MomentField(LocalDateTimeSerializerField):
    """An ISO 8601 date-time, or a date alone (a stay then starts at 17:00 and ends
    at 10:00, as the service sets it). A time without an offset is London time; one
    that does not exist or happens twice at a clock change is refused."""

    def to_internal_value(self, data):
        if isinstance(data, str) and clock.DAY.fullmatch(data.strip()):
            return _parsed(clock.parse_day, data)
        return _parsed(clock.parse_local, data, offset_hint=True)


@extend_schema_field(date_in_years(clock.EARLIEST_YEAR, clock.LATEST_YEAR))
class BoundedDateField(serializers.Field):
    """A date ``YYYY-MM-DD`` between the years 2000 and 2100, through the one parser."""

    def to_internal_value(self, data):
        return _parsed(clock.parse_day, data)

    def to_representation(self, value):
        return value.isoformat()


def _moment(value: date | datetime, *, end: bool = False) -> datetime:
    # A date alone: a stay starts after school and ends the next morning.
    if isinstance(value, datetime):
        return value
    return clock.at_hour(value, 10 if end else 17, field="end" if end else "start")


class NamedChoiceField(serializers.ChoiceField):
    """A choice whose schema is its own named enum component: spectacular would name
    it after the field ("KindEnum"), colliding with the household's kind and the
    child's status."""

    def __init__(self, choices, *, component: str, **kwargs):
        self.component = component
        super().__init__(choices=choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name=self.target.component,
            type=ResolvedComponent.SCHEMA,
            object=self.target.component,
            schema={"type": "string", "enum": list(self.target.choices)},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


def kind_field(**kwargs):
    return NamedChoiceField(Kind.choices, component="SleepoverKindEnum", **kwargs)


def status_field(**kwargs):
    return NamedChoiceField(Status.choices, component="SleepoverStatusEnum", **kwargs)


# --- requests: representation ---------------------------------------------------------


class HouseholdRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class SleepoverChildRecordSerializer(serializers.Serializer):
    """What the hub needs to care for a child for a night."""

    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    needs = serializers.CharField(read_only=True)
    allergies = serializers.CharField(read_only=True)
    medication_notes = serializers.CharField(read_only=True)
    emergency_contacts = serializers.CharField(read_only=True)


class SleepoverChildSerializer(serializers.Serializer):
    """A child of a request (an ``access.ShownChild``): preferred name and age to
    everyone who sees the request; the record only to those who may see the child's
    full record now, else null."""

    id = serializers.IntegerField(source="pk", read_only=True)
    preferred_name = serializers.CharField(source="known_as", read_only=True)
    age = serializers.IntegerField(read_only=True)
    record = SleepoverChildRecordSerializer(read_only=True, allow_null=True)


class SleepoverTransitionSerializer(serializers.Serializer):
    from_ = serializers.CharField(
        source="from_status", read_only=True, help_text="Empty when the request was made."
    )
    to = serializers.CharField(source="to_status", read_only=True)
    by = serializers.SerializerMethodField(help_text="Who moved it; empty for the system.")
    at = serializers.DateTimeField(read_only=True)
    note = serializers.CharField(read_only=True)

    def get_fields(self):
        return _renamed(super().get_fields(), from_="from")

    def get_by(self, obj: Transition) -> str:
        return obj.by.get_full_name() if obj.by else ""


SUMMARY_FIELDS = [
    "id",
    "kind",
    "kind_label",
    "status",
    "status_label",
    "household",
    "hub",
    "children",
    "start",
    "end",
    "nights",
    "crisis_reason",
    "emergency_over_beds",
    "created_at",
]


class SleepoverRequestSummarySerializer(serializers.ModelSerializer):
    kind = kind_field(read_only=True)
    status = status_field(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    # Blank for a request that is not a crisis: the schema's enum says so.
    crisis_reason = serializers.ChoiceField(
        choices=CrisisReason.choices, allow_blank=True, read_only=True
    )
    household = HouseholdRefSerializer(read_only=True)
    hub = HubContactSerializer(read_only=True)
    children = SleepoverChildSerializer(
        source="shown_children",
        many=True,
        read_only=True,
        help_text="The children, as you may see them now: the record only where you may "
        "see the child's full record.",
    )
    nights = serializers.SerializerMethodField(help_text="How many nights at the hub.")

    class Meta:
        model = Request
        fields = SUMMARY_FIELDS
        read_only_fields = fields

    def get_nights(self, obj: Request) -> int:
        return len(obj.nights)

    def to_representation(self, instance: Request) -> dict:
        viewer: access.RequestViewer = self.context["viewer"]
        instance.shown_children = viewer.children(instance)
        self.context.setdefault("shown", []).extend(instance.shown_children)
        data = super().to_representation(instance)
        shown = [name for name in FREE_TEXT_FIELDS if name in data]
        if (shown or "timeline" in data) and not viewer.sees_whole(instance):
            # Free text goes only to those who may see every child of the request
            # (access.may_read_request_notes): blank for anyone else, who is told.
            for name in shown:
                data[name] = ""
            for step in data.get("timeline", []):
                step["note"] = ""
        return data


# The request's own free text; each is blank unless access.may_read_request_notes.
FREE_TEXT_FIELDS = ("notes", "decline_reason", "cancel_reason")


class SleepoverRequestSerializer(SleepoverRequestSummarySerializer):
    timeline = SleepoverTransitionSerializer(many=True, read_only=True)
    text_withheld = serializers.SerializerMethodField(
        help_text="True when notes, reasons or timeline notes were written that you may "
        "not read (they concern a child you do not have access to): those fields are "
        "blank.",
    )

    def get_text_withheld(self, obj: Request) -> bool:
        return self.context["viewer"].withheld(obj)

    class Meta:
        model = Request
        fields = [
            *SUMMARY_FIELDS,
            "notes",
            "decline_reason",
            "cancel_reason",
            "offered_start",
            "offered_end",
            "timeline",
            "text_withheld",
        ]
        read_only_fields = fields


REPRESENTATION_PREFETCH = (
    Prefetch("children", queryset=Child.objects.order_by("preferred_name", "first_name")),
)
DETAIL_PREFETCH = (
    *REPRESENTATION_PREFETCH,
    Prefetch("timeline", queryset=Transition.objects.select_related("by")),
)


def _represent(serializer_class, instance, user, *, many: bool = False):
    """A request (or a page of them) as ``user`` may see it now, with the full records
    shown written to the access log."""
    viewer = access.RequestViewer(user)
    if many:
        viewer.prepare(instance)
    context = {"viewer": viewer}
    data = serializer_class(instance, many=many, context=context).data
    viewer.log(context.get("shown", []), channel=ChildRecordAccess.Channel.API)
    return data


def _detail(request: Request, user) -> dict:
    prefetch_related_objects([request], *DETAIL_PREFETCH)
    return _represent(SleepoverRequestSerializer, request, user)


# --- requests: input ------------------------------------------------------------------


class RequestFilter(serializers.Serializer):
    status = status_field(required=False)
    kind = kind_field(required=False)


class SleepoverRequestCreateSerializer(RejectUnknownFields, serializers.Serializer):
    """A request to the hub of your constellation. A field the service refuses is
    named in the 400 answer, with the reason."""

    kind = kind_field(
        help_text="A temporary placement is arranged by the liaison worker, not asked here.",
    )
    children = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=PK_MAX),
        max_length=MAX_CHILDREN,
        help_text="Ids of the children of your household the request is for.",
    )
    start = MomentField()
    end = MomentField()
    notes = StrictCharField(max_length=NOTES_MAX, allow_blank=True, required=False, default="")
    crisis_reason = serializers.ChoiceField(
        choices=CrisisReason.choices, allow_blank=True, required=False, default=""
    )
    hub = StrictIntegerField(
        min_value=1,
        max_value=PK_MAX,
        allow_null=True,
        required=False,
        default=None,
        help_text="Your constellation's hub (the default).",
    )

    def validate_children(self, ids: list[int]) -> list[Child]:
        # Among the children the user can see: an unknown and an invisible id read
        # the same, so that the answer tells nothing of other households.
        wanted = list(dict.fromkeys(ids))
        found = Child.objects.visible_to(self.context["user"]).in_bulk(wanted)
        missing = [pk for pk in wanted if pk not in found]
        if missing:
            raise serializers.ValidationError(
                f"No child you can see has the id {', '.join(map(str, missing))}."
            )
        return [found[pk] for pk in wanted]

    def validate_hub(self, pk: int | None) -> Household | None:
        if pk is None:
            return None
        hub = Household.objects.visible_to(self.context["user"]).filter(pk=pk).first()
        if hub is None:
            raise serializers.ValidationError(f"No hub you can see has the id {pk}.")
        return hub

    def validate(self, attrs):
        attrs["start"], attrs["end"] = _moment(attrs["start"]), _moment(attrs["end"], end=True)
        bounds = clock.CRISIS if attrs["kind"] == Kind.CRISIS else clock.PLANNED
        bounds.check(attrs["start"], attrs["end"])
        return attrs


class SleepoverAcceptSerializer(RejectUnknownFields, serializers.Serializer):
    """Accepting a request for the hub."""

    emergency = serializers.BooleanField(
        required=False,
        default=False,
        help_text="For a crisis when every bed is taken: accept it as an emergency "
        "arrangement beyond the beds.",
    )


class SleepoverReasonSerializer(RejectUnknownFields, serializers.Serializer):
    """Declining or cancelling: why, in a few words."""

    reason = StrictCharField(max_length=REASON_MAX, help_text="The other side reads it.")


class SleepoverOfferSerializer(RejectUnknownFields, serializers.Serializer):
    """Another time the hub can do."""

    start = MomentField()
    end = MomentField()

    def validate(self, attrs):
        attrs["start"], attrs["end"] = _moment(attrs["start"]), _moment(attrs["end"], end=True)
        clock.PLANNED.check(attrs["start"], attrs["end"])
        return attrs


class NoBodySerializer(RejectUnknownFields, serializers.Serializer):
    """An action without input: any field sent is a 400."""


class TemporaryPlacementSerializer(RejectUnknownFields, serializers.Serializer):
    child = StrictIntegerField(min_value=1, max_value=PK_MAX)
    start = MomentField()
    expected_end = MomentField(help_text="When a new placement is expected.")
    notes = StrictCharField(max_length=NOTES_MAX, allow_blank=True, required=False, default="")

    def validate(self, attrs):
        attrs["start"] = _moment(attrs["start"])
        clock.TEMPORARY.check(attrs["start"])
        return attrs


class EndPlacementSerializer(RejectUnknownFields, serializers.Serializer):
    to = StrictIntegerField(
        min_value=1,
        max_value=PK_MAX,
        allow_null=True,
        help_text="The household the child moves to; null when the child moves on.",
    )
    reason = StrictCharField(max_length=200)


# --- requests: the views --------------------------------------------------------------

STATUS_PARAMETER = OpenApiParameter("status", str, enum=Status.values, required=False)
KIND_PARAMETER = OpenApiParameter("kind", str, enum=Kind.values, required=False)


def _action_schema(body, description: str):
    return extend_schema(
        request=body,
        responses={200: SleepoverRequestSerializer, **ACTION_ERRORS},
        description=description,
    )


@extend_schema(tags=["sleepovers"])
@extend_schema_view(
    list=extend_schema(
        parameters=[STATUS_PARAMETER, KIND_PARAMETER],
        responses=SleepoverRequestSummarySerializer,
        description="Requests you can see, newest first.",
    ),
    create=extend_schema(
        request=SleepoverRequestCreateSerializer,
        responses={201: SleepoverRequestSerializer, 400: ERRORS[400]},
        description="Ask your constellation's hub: a planned stay, a short break, "
        "transport, or help now in a crisis.",
    ),
    retrieve=extend_schema(
        responses={200: SleepoverRequestSerializer, 404: ERRORS[404]},
        description="A request, with the hub's phone numbers and its timeline.",
    ),
)
class SleepoverRequestViewSet(SleepoverApi, viewsets.GenericViewSet):
    """Requests for stays and breaks at the hub, and the moves of their lifecycle."""

    queryset = Request.objects.none()
    serializer_class = SleepoverRequestSerializer
    lookup_value_converter = "int"

    def get_serializer_class(self):
        return {
            "list": SleepoverRequestSummarySerializer,
            "create": SleepoverRequestCreateSerializer,
            "accept": SleepoverAcceptSerializer,
            "decline": SleepoverReasonSerializer,
            "cancel": SleepoverReasonSerializer,
            "offer": SleepoverOfferSerializer,
        }.get(self.action, SleepoverRequestSerializer)

    def get_queryset(self):
        if _is_schema_generation(self):
            return Request.objects.none()
        return (
            Request.objects.visible_to(self.request.user)
            .select_related("household", "hub")
            .prefetch_related(*REPRESENTATION_PREFETCH)
            .order_by("-created_at", "-pk")
        )

    def list(self, request):
        query = RequestFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        requests = self.get_queryset().filter(**query.validated_data)
        page = self.paginate_queryset(requests)
        return self.get_paginated_response(
            _represent(SleepoverRequestSummarySerializer, page, request.user, many=True)
        )

    def create(self, request):
        body = self._input(SleepoverRequestCreateSerializer)
        created = services.create_request(by=request.user, **body)
        return Response(_detail(created, request.user), status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        found = access.get_request_for(request.user, _pk(pk))
        return Response(_detail(found, request.user))

    @_action_schema(SleepoverAcceptSerializer, "Accept for the hub (the hub's carers).")
    @action(detail=True, methods=["post"])
    def accept(self, request, pk):
        sleepover = access.get_request_for_hub(request.user, _pk(pk))
        body = self._input(SleepoverAcceptSerializer)
        return Response(_detail(services.accept(sleepover, by=request.user, **body), request.user))

    @_action_schema(SleepoverReasonSerializer, "Decline, saying why (the hub's carers).")
    @action(detail=True, methods=["post"])
    def decline(self, request, pk):
        sleepover = access.get_request_for_hub(request.user, _pk(pk))
        body = self._input(SleepoverReasonSerializer)
        return Response(_detail(services.decline(sleepover, by=request.user, **body), request.user))

    @_action_schema(SleepoverOfferSerializer, "Offer another time (the hub's carers).")
    @action(detail=True, methods=["post"])
    def offer(self, request, pk):
        sleepover = access.get_request_for_hub(request.user, _pk(pk))
        body = self._input(SleepoverOfferSerializer)
        return Response(_detail(services.offer(sleepover, by=request.user, **body), request.user))

    @_action_schema(None, "Take the time the hub offered (the requesting household).")
    @action(detail=True, methods=["post"], url_path="take-offer")
    def take_offer(self, request, pk):
        sleepover = access.get_request_for_requester(request.user, _pk(pk))
        self._input(NoBodySerializer)
        return Response(_detail(services.take_offer(sleepover, by=request.user), request.user))

    @_action_schema(
        SleepoverReasonSerializer,
        "Cancel, or refuse an offer, saying why (the requesting household).",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk):
        sleepover = access.get_request_for_requester(request.user, _pk(pk))
        body = self._input(SleepoverReasonSerializer)
        return Response(_detail(services.cancel(sleepover, by=request.user, **body), request.user))

    @_action_schema(None, "The children have arrived at the hub (the hub's carers).")
    @action(detail=True, methods=["post"])
    def arrived(self, request, pk):
        sleepover = access.get_request_for_hub(request.user, _pk(pk))
        self._input(NoBodySerializer)
        return Response(_detail(services.arrived(sleepover, by=request.user), request.user))

    @_action_schema(None, "The children have been collected (the hub's carers).")
    @action(detail=True, methods=["post"])
    def collected(self, request, pk):
        sleepover = access.get_request_for_hub(request.user, _pk(pk))
        self._input(NoBodySerializer)
        return Response(_detail(services.collected(sleepover, by=request.user), request.user))

    @extend_schema(
        request=TemporaryPlacementSerializer,
        responses={201: SleepoverRequestSerializer, **ERRORS},
        description="Arrange and agree a temporary placement at the hub for a child whose "
        "placement ended suddenly (the liaison worker, a manager). The hub's carers "
        "then accept it against the beds.",
    )
    @action(detail=False, methods=["post"])
    def temporary(self, request):
        if not roles_for(request.user).can_manage:
            raise PermissionDenied("Temporary placements are arranged by the liaison worker.")
        body = self._input(TemporaryPlacementSerializer)
        child = access.chosen(
            access.children_for_temporary_placement(request.user),
            body.pop("child"),
            field="child",
            message=access.PLACEMENT_CHILD_MESSAGE,
        )
        created = services.arrange_temporary_placement(child, by=request.user, **body)
        return Response(_detail(created, request.user), status=status.HTTP_201_CREATED)

    @_action_schema(
        EndPlacementSerializer,
        "End a temporary placement with the child's move: `to` a household (ideally of "
        "the constellation), or null when the child moves on from care in the service "
        "(the liaison worker, a manager).",
    )
    @action(detail=True, methods=["post"], url_path="end-placement")
    def end_placement(self, request, pk):
        sleepover = access.get_temporary_placement_to_end(request.user, _pk(pk))
        body = self._input(EndPlacementSerializer)
        to = access.chosen(
            access.move_destinations(request.user, sleepover),
            body["to"],
            field="to",
            message=access.DESTINATION_MESSAGE,
        )
        ended = services.end_temporary_placement(
            sleepover, by=request.user, to=to, reason=body["reason"]
        )
        return Response(_detail(ended, request.user))

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context={"user": self.request.user})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _pk(pk: int) -> int:
    # The path converter takes any digits; the database would overflow on more.
    if pk > PK_MAX:
        raise Http404("No such record.")
    return pk


# --- the hub's nights -----------------------------------------------------------------


class HubNightSerializer(serializers.Serializer):
    date = serializers.DateField(read_only=True)
    beds = serializers.IntegerField(read_only=True)
    booked = serializers.IntegerField(read_only=True, help_text="Children booked that night.")
    free = serializers.IntegerField(read_only=True)
    unavailable = serializers.SerializerMethodField()
    why = serializers.CharField(
        source="unavailable", read_only=True, help_text="The hub's note when it is not available."
    )

    def get_unavailable(self, night: selectors.NightInfo) -> bool:
        return bool(night.unavailable)


class NightsQuery(serializers.Serializer):
    from_ = BoundedDateField(required=False)
    to = BoundedDateField(required=False)

    def get_fields(self):
        return _renamed(super().get_fields(), from_="from")

    def validate(self, attrs):
        first = attrs.get("from") or timezone.localdate()
        last = attrs.get("to") or first + NIGHTS_DEFAULT
        if last < first:
            raise serializers.ValidationError(
                {"to": "The last night must not be before the first."}
            )
        if (last - first).days >= NIGHTS_MAX:
            raise serializers.ValidationError(
                {"to": f"Ask for at most {NIGHTS_MAX} nights at once."}
            )
        return {"first": first, "last": last}


class HubNightsView(SleepoverApi, generics.GenericAPIView):
    """Each night of a hub: beds, children booked, free beds, and whether the hub is
    available (with its note when it is not)."""

    serializer_class = HubNightSerializer
    pagination_class = None

    @extend_schema(
        tags=["sleepovers"],
        parameters=[
            OpenApiParameter(
                "from", accepted_day(), required=False, description="The first night (today)."
            ),
            OpenApiParameter(
                "to",
                accepted_day(),
                required=False,
                description=f"The last night (30 days on); at most {NIGHTS_MAX} nights.",
            ),
        ],
        responses={200: HubNightSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]},
    )
    def get(self, request, pk):
        hub = access.get_hub_for(request.user, _pk(pk))
        query = NightsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        nights = selectors.nights(hub, query.validated_data["first"], query.validated_data["last"])
        return Response(HubNightSerializer(nights, many=True).data)


# --- when the hub is not available ---------------------------------------------------


class HubUnavailabilitySerializer(serializers.ModelSerializer):
    hub = HouseholdRefSerializer(read_only=True)

    class Meta:
        model = Unavailability
        fields = ["id", "hub", "start", "end", "note", "created_at"]
        read_only_fields = fields


class HubUnavailabilityCreateSerializer(RejectUnknownFields, serializers.Serializer):
    """A period when the hub is not available."""

    hub = StrictIntegerField(min_value=1, max_value=PK_MAX)
    start = BoundedDateField(help_text="The first day the hub is not available.")
    end = BoundedDateField(help_text="The last day the hub is not available.")
    note = StrictCharField(
        max_length=PERIOD_NOTE_MAX, allow_blank=True, help_text="Why: the families read it."
    )


class UnavailabilityFilter(serializers.Serializer):
    hub = QueryIdField(required=False)


@extend_schema(tags=["sleepovers"])
@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("hub", int, required=False)],
        responses=HubUnavailabilitySerializer,
        description="Periods when the hubs you can see are not available.",
    ),
    create=extend_schema(
        request=HubUnavailabilityCreateSerializer,
        responses={201: HubUnavailabilitySerializer, **ERRORS},
        description="Publish a period when the hub is not available (its carers, "
        "the liaison worker, the manager).",
    ),
)
class HubUnavailabilityViewSet(SleepoverApi, viewsets.GenericViewSet):
    queryset = Unavailability.objects.none()
    lookup_value_converter = "int"
    serializer_class = HubUnavailabilitySerializer

    def get_serializer_class(self):
        if self.action == "create":
            return HubUnavailabilityCreateSerializer
        return HubUnavailabilitySerializer

    def get_queryset(self):
        if _is_schema_generation(self):
            return Unavailability.objects.none()
        return (
            Unavailability.objects.in_force()
            .filter(hub__in=Household.objects.visible_to(self.request.user))
            .select_related("hub")
            .order_by("start", "pk")
        )

    def list(self, request):
        query = UnavailabilityFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        periods = self.get_queryset()
        if "hub" in query.validated_data:
            periods = periods.filter(hub_id=query.validated_data["hub"])
        page = self.paginate_queryset(periods)
        return self.get_paginated_response(HubUnavailabilitySerializer(page, many=True).data)

    def create(self, request):
        serializer = HubUnavailabilityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = dict(serializer.validated_data)
        hub = access.get_managed_hub_for(request.user, body.pop("hub"))
        period = services.add_unavailability(hub, by=request.user, **body)
        return Response(HubUnavailabilitySerializer(period).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: HubUnavailabilitySerializer, **ACTION_ERRORS},
        description="Withdraw the period: the hub is available again (its carers, the "
        "liaison worker, the manager).",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk):
        period = access.get_unavailability_to_manage(request.user, _pk(pk))
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        period = services.withdraw_unavailability(period, by=request.user)
        return Response(HubUnavailabilitySerializer(period).data)


# --- cover for the hub -------------------------------------------------------------------


class HubCoverSerializer(serializers.ModelSerializer):
    stand_in = HubContactSerializer(read_only=True)
    constellation = serializers.IntegerField(source="constellation_id", read_only=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = HubCover
        fields = ["id", "constellation", "stand_in", "start", "end", "note", "in_force"]
        read_only_fields = fields

    def get_in_force(self, cover: HubCover) -> bool:
        return cover.withdrawn_at is None


class HubCoverCreateSerializer(RejectUnknownFields, serializers.Serializer):
    """Name a stand-in household for the hub while its carers are away."""

    constellation = StrictIntegerField(min_value=1, max_value=PK_MAX)
    stand_in = StrictIntegerField(
        min_value=1, max_value=PK_MAX, help_text="An approved household with its own beds."
    )
    start = BoundedDateField(help_text="The first day the stand-in covers.")
    end = BoundedDateField(help_text="The last day the stand-in covers.")
    note = StrictCharField(max_length=200, allow_blank=True, required=False, default="")


class ConstellationFilter(serializers.Serializer):
    constellation = QueryIdField(required=False)


class ListByConstellation:
    """A list of the view's queryset, paginated, optionally of one constellation."""

    def list(self, request):
        query = ConstellationFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = self.get_queryset()
        if "constellation" in query.validated_data:
            found = found.filter(constellation_id=query.validated_data["constellation"])
        page = self.paginate_queryset(found)
        return self.get_paginated_response(self.serializer_class(page, many=True).data)


@extend_schema(tags=["sleepovers"])
@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("constellation", int, required=False)],
        responses=HubCoverSerializer,
        description="Cover for the hubs you can see, now and coming: who answers for the "
        "hub, from when to when.",
    ),
    create=extend_schema(
        request=HubCoverCreateSerializer,
        responses={201: HubCoverSerializer, **ERRORS},
        description="Name a stand-in for the hub (the liaison worker, a manager).",
    ),
)
class HubCoverViewSet(ListByConstellation, SleepoverApi, viewsets.GenericViewSet):
    queryset = HubCover.objects.none()
    lookup_value_converter = "int"
    serializer_class = HubCoverSerializer

    def get_serializer_class(self):
        return HubCoverCreateSerializer if self.action == "create" else HubCoverSerializer

    def get_queryset(self):
        if _is_schema_generation(self):
            return HubCover.objects.none()
        user = self.request.user
        return (
            HubCover.objects.now_or_coming(timezone.localdate())
            .filter(
                Q(constellation__in=Constellation.objects.visible_to(user))
                | Q(stand_in__in=Carer.objects.current().filter(user=user).values("household_id"))
            )
            .select_related("stand_in")
            .order_by("start", "pk")
        )

    def create(self, request):
        serializer = HubCoverCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = dict(serializer.validated_data)
        constellation = access.get_constellation_to_manage(request.user, body.pop("constellation"))
        body["stand_in"] = access.chosen(
            access.stand_in_choices(request.user, constellation),
            body["stand_in"],
            field="stand_in",
            message=access.STAND_IN_MESSAGE,
        )
        cover = services.arrange_cover(constellation, by=request.user, **body)
        return Response(HubCoverSerializer(cover).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: HubCoverSerializer, **ACTION_ERRORS},
        description="End the cover: withdrawn if not begun, else it ends today.",
    )
    @action(detail=True, methods=["post"])
    def end(self, request, pk):
        cover = access.get_cover_to_manage(request.user, _pk(pk))
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        return Response(HubCoverSerializer(services.end_cover(cover, by=request.user)).data)


# --- exceptions to the limits ---------------------------------------------------------------


class LimitOverrideSerializer(serializers.ModelSerializer):
    constellation = serializers.IntegerField(source="constellation_id", read_only=True)
    child = serializers.IntegerField(source="child_id", read_only=True)
    granted_by = serializers.CharField(source="granted_by.__str__", read_only=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = LimitOverride
        fields = [
            "id",
            "constellation",
            "child",
            "start",
            "end",
            "reason",
            "granted_by",
            "granted_at",
            "in_force",
        ]
        read_only_fields = fields

    def get_in_force(self, override: LimitOverride) -> bool:
        return override.withdrawn_at is None


class LimitOverrideCreateSerializer(RejectUnknownFields, serializers.Serializer):
    """Let a child's planned stays go beyond the constellation's limits for some nights."""

    constellation = StrictIntegerField(min_value=1, max_value=PK_MAX)
    child = StrictIntegerField(min_value=1, max_value=PK_MAX)
    start = BoundedDateField(help_text="The first night the exception covers.")
    end = BoundedDateField(help_text="The last night the exception covers.")
    reason = StrictCharField(max_length=500)


@extend_schema(tags=["sleepovers"])
@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("constellation", int, required=False)],
        responses=LimitOverrideSerializer,
        description="Exceptions to the limits in the constellations you oversee.",
    ),
    create=extend_schema(
        request=LimitOverrideCreateSerializer,
        responses={201: LimitOverrideSerializer, **ERRORS},
        description="Make an exception to the limits, with the reason (the liaison "
        "worker, a manager).",
    ),
)
class LimitOverrideViewSet(ListByConstellation, SleepoverApi, viewsets.GenericViewSet):
    queryset = LimitOverride.objects.none()
    lookup_value_converter = "int"
    serializer_class = LimitOverrideSerializer

    def get_serializer_class(self):
        return LimitOverrideCreateSerializer if self.action == "create" else LimitOverrideSerializer

    def get_queryset(self):
        if _is_schema_generation(self):
            return LimitOverride.objects.none()
        return (
            LimitOverride.objects.filter(
                constellation__in=Constellation.objects.managed_by(self.request.user)
            )
            .select_related("granted_by")
            .order_by("-granted_at", "-pk")
        )

    def create(self, request):
        serializer = LimitOverrideCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = dict(serializer.validated_data)
        constellation = access.get_constellation_to_manage(request.user, body.pop("constellation"))
        body["child"] = access.chosen(
            access.children_for_exception(request.user, constellation),
            body["child"],
            field="child",
            message=access.EXCEPTION_CHILD_MESSAGE,
        )
        override = services.grant_override(constellation, by=request.user, **body)
        return Response(LimitOverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: LimitOverrideSerializer, **ACTION_ERRORS},
        description="Withdraw the exception: new requests keep to the limits.",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk):
        override = access.get_override_to_manage(request.user, _pk(pk))
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        override = services.withdraw_override(override, by=request.user)
        return Response(LimitOverrideSerializer(override).data)
