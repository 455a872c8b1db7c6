"""Constellations, households and children over the API.

Who sees what is the models' ``visible_to`` querysets and the ``access`` helpers;
every change goes through ``services``. The views only choose a representation."""

from django.db.models import Count, Q
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from people.api import (
    ApiDefaults,
    ErrorSerializer,
    RecordKindField,
    RejectUnknownFields,
    StrictCharField,
)
from people.models import ChildRecordAccess

from . import access, services
from .models import (
    CHILD_NOTES_MAX,
    Child,
    Constellation,
    ConstellationMembership,
    Household,
    date_of_birth_problem,
)

API = ChildRecordAccess.Channel.API

PATCH_ERRORS = {
    400: OpenApiResponse(description="Invalid input: the body names each field in error."),
    403: OpenApiResponse(ErrorSerializer, description="Visible, but not yours to change."),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not visible to you."),
    409: OpenApiResponse(ErrorSerializer, description="Refused by a rule of the service."),
}


def _is_schema_generation(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


# --- constellations ------------------------------------------------------------------


class HubContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = ["id", "name", "phone", "second_phone"]


class ConstellationSerializer(serializers.ModelSerializer):
    service_name = serializers.CharField(source="service.name", read_only=True)
    hub = HubContactSerializer(read_only=True, allow_null=True)
    active_satellites = serializers.IntegerField(read_only=True)
    size_warning = serializers.SerializerMethodField()

    class Meta:
        model = Constellation
        fields = ["id", "name", "area", "service_name", "hub", "active_satellites", "size_warning"]
        read_only_fields = fields

    def get_size_warning(self, obj: Constellation) -> str:
        return obj.size_warning(obj.active_satellites)


@extend_schema(tags=["constellations"])
class ConstellationViewSet(ApiDefaults, viewsets.ReadOnlyModelViewSet):
    """The constellations you can see, with the hub's phone numbers."""

    queryset = Constellation.objects.none()
    serializer_class = ConstellationSerializer
    lookup_value_converter = "int"

    def get_queryset(self):
        if _is_schema_generation(self):
            return Constellation.objects.none()
        return (
            Constellation.objects.visible_to(self.request.user)
            .select_related("service", "hub")
            .annotate(
                active_satellites=Count(
                    "memberships",
                    filter=Q(memberships__status=ConstellationMembership.Status.ACTIVE),
                )
            )
            .order_by("name", "pk")
        )


# --- households ----------------------------------------------------------------------


class HouseholdSerializer(serializers.ModelSerializer):
    """A household with its address: for its own carers, and those who see every
    child record of its constellation (hub carers, liaison workers, managers)."""

    record = RecordKindField("full")

    class Meta:
        model = Household
        fields = [
            "record",
            "id",
            "name",
            "kind",
            "address",
            "postcode",
            "phone",
            "second_phone",
            "beds",
        ]
        read_only_fields = fields


class HouseholdSummarySerializer(serializers.ModelSerializer):
    """A household as the rest of the constellation knows it: no address."""

    record = RecordKindField("summary")

    class Meta:
        model = Household
        fields = ["record", "id", "name", "kind", "phone", "second_phone", "beds"]
        read_only_fields = fields


HOUSEHOLD_RESPONSE = PolymorphicProxySerializer(
    component_name="HouseholdRecord",
    serializers={"full": HouseholdSerializer, "summary": HouseholdSummarySerializer},
    resource_type_field_name="record",
)


class HouseholdUpdateSerializer(RejectUnknownFields, serializers.Serializer):
    name = StrictCharField(max_length=120)
    address = StrictCharField(max_length=500, allow_blank=True)
    postcode = StrictCharField(max_length=10, allow_blank=True)
    phone = StrictCharField(max_length=30, allow_blank=True)
    second_phone = StrictCharField(max_length=30, allow_blank=True)
    beds = serializers.IntegerField(
        min_value=0, max_value=20, help_text="For a hub: the number of beds for sleepovers."
    )


def _household_data(household: Household, *, details: bool) -> dict:
    serializer = HouseholdSerializer if details else HouseholdSummarySerializer
    return serializer(household).data


@extend_schema(tags=["households"])
@extend_schema_view(
    list=extend_schema(responses=HOUSEHOLD_RESPONSE),
    retrieve=extend_schema(responses=HOUSEHOLD_RESPONSE),
    partial_update=extend_schema(
        request=HouseholdUpdateSerializer, responses={200: HouseholdSerializer, **PATCH_ERRORS}
    ),
)
class HouseholdViewSet(ApiDefaults, viewsets.GenericViewSet):
    """Households you can see; their liaison worker or manager may change them."""

    queryset = Household.objects.none()
    serializer_class = HouseholdSerializer
    lookup_value_converter = "int"

    def get_queryset(self):
        if _is_schema_generation(self):
            return Household.objects.none()
        return Household.objects.visible_to(self.request.user).order_by("name", "pk")

    def get_serializer_class(self):
        if self.action == "partial_update":
            return HouseholdUpdateSerializer
        return HouseholdSerializer

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        with_details = set(
            Household.objects.with_details_for(request.user)
            .filter(pk__in=[h.pk for h in page])
            .values_list("pk", flat=True)
        )
        return self.get_paginated_response(
            [_household_data(h, details=h.pk in with_details) for h in page]
        )

    def retrieve(self, request, pk):
        household = access.get_household_for(request.user, pk)
        details = access.can_see_household_details(request.user, household)
        return Response(_household_data(household, details=details))

    def partial_update(self, request, pk):
        household = access.get_managed_household_for(request.user, pk)
        serializer = HouseholdUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        household = services.update_household(
            household, by=request.user, **serializer.validated_data
        )
        return Response(HouseholdSerializer(household).data)


# --- children ------------------------------------------------------------------------


class ChildSerializer(serializers.ModelSerializer):
    """A child's full record: for their carers, the hub, the liaison worker, the
    manager and their social worker."""

    record = RecordKindField("full")
    age = serializers.IntegerField(read_only=True)
    household = serializers.IntegerField(source="household_id", read_only=True, allow_null=True)
    siblings = serializers.SerializerMethodField(
        help_text="The child's brothers and sisters that you can see."
    )

    class Meta:
        model = Child
        fields = [
            "record",
            "id",
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "age",
            "household",
            "needs",
            "allergies",
            "medication_notes",
            "emergency_contacts",
            "status",
            "siblings",
        ]
        read_only_fields = fields

    def get_siblings(self, obj: Child) -> list[int]:
        return self.context.get("siblings", {}).get(obj.pk, [])


class ChildSummarySerializer(serializers.Serializer):
    """Another household's child, as an extended family knows them."""

    record = RecordKindField("summary")
    id = serializers.IntegerField(read_only=True)
    preferred_name = serializers.CharField(source="known_as", read_only=True)
    age = serializers.IntegerField(read_only=True)
    household = serializers.IntegerField(source="household_id", read_only=True, allow_null=True)


CHILD_RESPONSE = PolymorphicProxySerializer(
    component_name="ChildRecord",
    serializers={"full": ChildSerializer, "summary": ChildSummarySerializer},
    resource_type_field_name="record",
)


class ChildUpdateSerializer(RejectUnknownFields, serializers.Serializer):
    first_name = StrictCharField(max_length=60)
    last_name = StrictCharField(max_length=60)
    preferred_name = StrictCharField(max_length=60, allow_blank=True)
    date_of_birth = serializers.DateField()
    needs = StrictCharField(max_length=CHILD_NOTES_MAX, allow_blank=True)
    allergies = StrictCharField(max_length=CHILD_NOTES_MAX, allow_blank=True)
    medication_notes = StrictCharField(max_length=CHILD_NOTES_MAX, allow_blank=True)
    emergency_contacts = StrictCharField(max_length=CHILD_NOTES_MAX, allow_blank=True)

    def validate_date_of_birth(self, value):
        problem = date_of_birth_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


def _visible_siblings(user, child_ids: list[int]) -> dict[int, list[int]]:
    """Sibling ids of the given children, among the children the user can see (one query)."""
    pairs = Child.siblings.through.objects.filter(
        from_child_id__in=child_ids, to_child__in=Child.objects.visible_to(user).values("pk")
    ).values_list("from_child_id", "to_child_id")
    siblings: dict[int, list[int]] = {}
    for child_id, sibling_id in pairs.order_by("to_child_id"):
        siblings.setdefault(child_id, []).append(sibling_id)
    return siblings


@extend_schema(tags=["children"])
@extend_schema_view(
    list=extend_schema(responses=CHILD_RESPONSE),
    retrieve=extend_schema(responses=CHILD_RESPONSE),
    partial_update=extend_schema(
        request=ChildUpdateSerializer, responses={200: ChildSerializer, **PATCH_ERRORS}
    ),
)
class ChildViewSet(ApiDefaults, viewsets.GenericViewSet):
    """Children you can see: in full where you may, otherwise preferred name and age.
    Every full record returned is written to the access log."""

    queryset = Child.objects.none()
    serializer_class = ChildSerializer
    lookup_value_converter = "int"

    def get_queryset(self):
        if _is_schema_generation(self):
            return Child.objects.none()
        return Child.objects.visible_to(self.request.user).order_by(
            "preferred_name", "first_name", "pk"
        )

    def get_serializer_class(self):
        if self.action == "partial_update":
            return ChildUpdateSerializer
        return ChildSerializer

    def list(self, request):
        user = request.user
        page = self.paginate_queryset(self.get_queryset())
        ids = [child.pk for child in page]
        full = set(
            Child.objects.full_records_for(user).filter(pk__in=ids).values_list("pk", flat=True)
        )
        # The list shows these full records as much as the detail view does.
        access.log_full_record_views(user, [c for c in page if c.pk in full], channel=API)
        context = {"siblings": _visible_siblings(user, sorted(full))}
        data = [
            ChildSerializer(child, context=context).data
            if child.pk in full
            else ChildSummarySerializer(child).data
            for child in page
        ]
        return self.get_paginated_response(data)

    def retrieve(self, request, pk):
        return Response(self._represent(access.get_child_for(request.user, pk, channel=API)))

    def partial_update(self, request, pk):
        child = access.get_managed_child_for(request.user, pk)
        serializer = ChildUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_child(child, by=request.user, **serializer.validated_data)
        # Read back through the access helper: the answer is a view of the full record.
        return Response(self._represent(access.get_child_for(request.user, child.pk, channel=API)))

    def _represent(self, view: access.ChildView) -> dict:
        if not view.full:
            return ChildSummarySerializer(view.child).data
        context = {"siblings": _visible_siblings(self.request.user, [view.child.pk])}
        return ChildSerializer(view.child, context=context).data
