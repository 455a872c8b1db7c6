"""The signed-in person, and what every endpoint under /api/v1/ shares: how it
renders, reads input, pages, and answers a refused action."""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.parsers import JSONParser
from constellation.models import Constellation
from constellation.services import ActionRefused

from .pagination import ApiPagination
from .roles import ROLE_LABELS, roles_for


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The action is refused in the record's present state."
    default_code = "conflict"


class ApiDefaults:
    """Mixed into every API view, before the DRF view class."""

    # Authentication and permissions are the REST_FRAMEWORK defaults (token first,
    # so that an anonymous request is a 401 with a WWW-Authenticate header).

    # JSON only: the browsable API would render edit forms filled from the record
    # for people who may only see part of it.
    renderer_classes = (JSONRenderer,)
    parser_classes = (JSONParser,)
    pagination_class = ApiPagination

    def handle_exception(self, exc):
        if isinstance(exc, ActionRefused):
            exc = Conflict(str(exc))
        return super().handle_exception(exc)


class RejectUnknownFields:
    """A PATCH naming a field that cannot be changed is a 400 naming that field,
    rather than a silent no-op the client would take for a change."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {
                str(key): ["This field is unknown or cannot be changed."]
                for key in data
                if key not in writable
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField would store 7700900123 or
    1e+300 sent for a phone number as text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RecordKindField(serializers.ChoiceField):
    """Which of a record's shapes an answer holds (``full`` or ``summary``), so that
    a client, and the schema's ``oneOf``, tell them apart by one field."""

    def __init__(self, kind: str, **kwargs):
        self.kind = kind
        kwargs.setdefault("help_text", "Which shape of the record this is.")
        super().__init__(choices=[kind], read_only=True, **kwargs)

    def get_attribute(self, instance):
        return self.kind

    def to_representation(self, value):
        return self.kind


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- the signed-in person ---------------------------------------------------------


class ConstellationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=list(ROLE_LABELS)))
    constellations = ConstellationRefSerializer(many=True)


class MeView(ApiDefaults, APIView):
    """The signed-in user, their roles and the constellations they can see."""

    @extend_schema(responses=MeSerializer, tags=["me"])
    def get(self, request):
        user = request.user
        roles = roles_for(user)
        data = {
            "id": user.pk,
            "email": user.email,
            "name": user.get_full_name(),
            "roles": roles.keys,
            "constellations": Constellation.objects.visible_to(user).only("pk", "name"),
        }
        return Response(MeSerializer(data).data)


class NotFoundView(ApiDefaults, APIView):
    """Any path under /api/v1/ that names no endpoint (or names a record by
    something other than its id): a JSON 404 like every other answer of the API,
    rather than the site's HTML page. Anonymous callers get the API's 401."""

    schema = None

    def _not_found(self, request, *args, **kwargs):
        raise NotFound()

    get = post = put = patch = delete = head = options = _not_found
