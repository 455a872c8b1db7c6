"""The signed-in person's notification centre, their choices of how they are told,
and the browsers where they allowed web push, over the API.

Everything here is the user's own: the rows are read through
``Notification.objects.in_app_for`` (another person's notification is a 404, never
a 403 that would confirm it exists). Changes go through the same functions as the
pages: ``services.mark_read``, ``preferences.save_choices`` (the one home of the
rules on kinds, channels, quiet hours and the phone number: its
``ValidationError`` is a 400 naming the field) and ``push.subscribe`` /
``push.unsubscribe``. The serializers only check the shape of the input."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from people.api import ApiDefaults, ErrorSerializer, RejectUnknownFields, StrictCharField
from sleepovers.api import NamedChoiceField

from . import push, selectors, services
from .models import Kind, Notification, PushSubscription
from .preferences import CHOOSABLE, choices_for, save_choices

PK_MAX = 2**63 - 1
TAGS = ["notifications"]

ERRORS = {
    400: OpenApiResponse(description="Invalid input: the body names each field in error."),
}
NOT_YOURS = {
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not yours."),
}


def _is_schema_generation(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


# --- the notification centre ---------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(Kind.choices, component="NotificationKindEnum", read_only=True)
    link = serializers.CharField(read_only=True, help_text="A path of this site, or empty.")
    read_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null while unread."
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "body", "link", "created_at", "read_at"]
        read_only_fields = fields


class NotificationFilter(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False)


class ReadCountSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were marked read now.")
    unread = serializers.IntegerField(help_text="How many are still unread.")


class NoBodySerializer(RejectUnknownFields, serializers.Serializer):
    """An action without input: any field sent is a 400."""


def _counts(user, marked: int) -> dict:
    return ReadCountSerializer({"marked": marked, "unread": selectors.unread_count(user)}).data


@extend_schema(tags=TAGS)
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "unread", OpenApiTypes.BOOL, required=False, description="Only the unread ones."
            )
        ],
        responses={200: NotificationSerializer, 400: ERRORS[400]},
        description="Your own notifications in the app, newest first.",
    ),
)
class NotificationViewSet(ApiDefaults, viewsets.GenericViewSet):
    """The signed-in user's notification centre."""

    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer
    lookup_value_converter = "int"

    def get_queryset(self):
        if _is_schema_generation(self):
            return Notification.objects.none()
        return (
            Notification.objects.in_app_for(self.request.user)
            .only(*NotificationSerializer.Meta.fields)
            .order_by("-created_at", "-pk")
        )

    def list(self, request):
        query = NotificationFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = self.get_queryset()
        if query.validated_data["unread"]:
            rows = rows.filter(read_at__isnull=True)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={200: ReadCountSerializer, **ERRORS, **NOT_YOURS},
        description="Mark one of your notifications read (one already read: marked 0).",
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk):
        if pk > PK_MAX or not self.get_queryset().filter(pk=pk).exists():
            raise Http404("No such notification.")
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        return Response(_counts(request.user, services.mark_read(request.user, [pk])))

    @extend_schema(
        request=None,
        responses={200: ReadCountSerializer, **ERRORS},
        description="Mark all your notifications read.",
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        return Response(_counts(request.user, services.mark_read(request.user)))


# --- how I am told ----------------------------------------------------------------


class StrictTimeField(serializers.TimeField):
    """A wall-clock time "HH:MM" (Europe/London) as a string, or null."""

    def __init__(self, **kwargs):
        super().__init__(
            format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], allow_null=True, **kwargs
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", format="hh:mm")
        return super().to_internal_value(data)


class PreferencesSerializer(RejectUnknownFields, serializers.Serializer):
    """Which channels each kind of notification takes, quiet hours, and the phone
    number text messages go to. Kinds left out keep their present choice. Whether a
    kind or channel exists, and the rules of quiet hours and phone numbers, are
    checked by ``preferences.save_choices``."""

    channels = serializers.DictField(
        child=serializers.ListField(child=StrictCharField()),
        help_text="Kind of notification → the channels it takes besides the app, from "
        f"{', '.join(CHOOSABLE)}. Kinds: {', '.join(Kind.values)}.",
    )
    quiet_from = StrictTimeField(
        help_text="Start of the quiet hours, HH:MM in Europe/London, or null for none."
    )
    quiet_until = StrictTimeField(
        help_text="End of the quiet hours (both ends or neither). Crisis alerts still come."
    )
    phone = StrictCharField(
        allow_blank=True,
        max_length=30,
        trim_whitespace=False,
        help_text="For text messages; empty for none.",
    )


def _preferences(user) -> dict:
    chosen = choices_for(user)
    return PreferencesSerializer(
        {
            "channels": {kind: list(chosen.channels.get(kind, ())) for kind in Kind.values},
            "quiet_from": chosen.quiet_from,
            "quiet_until": chosen.quiet_until,
            "phone": user.phone,
        }
    ).data


def _refused_choices(error: DjangoValidationError, channels: dict) -> serializers.ValidationError:
    """``save_choices`` names a kind in error by the kind itself: here it is named
    under ``channels``, as it was sent."""
    if not hasattr(error, "error_dict"):
        return serializers.ValidationError({"non_field_errors": error.messages})
    detail, kinds = {}, {}
    for name, problems in error.message_dict.items():
        (kinds if name in channels else detail)[name] = problems
    if kinds:
        detail["channels"] = kinds
    return serializers.ValidationError(detail)


@extend_schema(tags=TAGS)
class PreferencesView(ApiDefaults, APIView):
    """The signed-in user's choices of how they are told."""

    @extend_schema(responses=PreferencesSerializer, description="Your choices, defaults filled in.")
    def get(self, request):
        return Response(_preferences(request.user))

    @extend_schema(
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer, **ERRORS},
        description="Replace your choices: every field is required (kinds left out of "
        "channels keep their present choice).",
    )
    def put(self, request):
        return self._save(request, partial=False)

    @extend_schema(
        request=PreferencesSerializer(partial=True),
        responses={200: PreferencesSerializer, **ERRORS},
        description="Change some of your choices; what is left out stays as it is.",
    )
    def patch(self, request):
        return self._save(request, partial=True)

    def _save(self, request, *, partial: bool):
        user = request.user
        serializer = PreferencesSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        present = choices_for(user)
        channels = body.get("channels", {})
        try:
            user.notification_preferences = save_choices(
                user,
                channels=channels,
                quiet_from=body.get("quiet_from", present.quiet_from),
                quiet_until=body.get("quiet_until", present.quiet_until),
                phone=body.get("phone"),
            )
        except DjangoValidationError as error:
            raise _refused_choices(error, channels) from None
        return Response(_preferences(user))


# --- web push subscriptions ----------------------------------------------------------


class PushSubscriptionSerializer(serializers.ModelSerializer):
    """Where push goes, shown without its keys: the push service's host only."""

    host = serializers.SerializerMethodField()

    class Meta:
        model = PushSubscription
        fields = ["host", "created_at"]
        read_only_fields = fields

    def get_host(self, subscription: PushSubscription) -> str:
        return urlsplit(subscription.endpoint).hostname or ""


class PushKeysSerializer(serializers.Serializer):
    p256dh = StrictCharField(max_length=200)
    auth = StrictCharField(max_length=100)


class PushSubscribeSerializer(serializers.Serializer):
    """The browser's ``PushSubscription.toJSON()`` as it is (``expirationTime`` and
    any field a browser adds are ignored). Whether the endpoint and keys are usable is decided by
    ``push.subscribe``."""

    endpoint = StrictCharField(max_length=push.MAX_ENDPOINT)
    keys = PushKeysSerializer()


class PushEndpointSerializer(serializers.Serializer):
    endpoint = StrictCharField(max_length=push.MAX_ENDPOINT)


class PushRemovedSerializer(serializers.Serializer):
    removed = serializers.BooleanField(help_text="False when it was not one of yours.")


def _refused_subscription(error: DjangoValidationError) -> serializers.ValidationError:
    # ``push`` names the part in error by the error's code.
    if error.code in ("p256dh", "auth"):
        return serializers.ValidationError({"keys": {error.code: error.messages}})
    return serializers.ValidationError({"endpoint": error.messages})


@extend_schema(tags=TAGS)
class PushSubscriptionsView(ApiDefaults, generics.GenericAPIView):
    """The browsers and phones where the signed-in user allowed web push."""

    serializer_class = PushSubscriptionSerializer

    def get_queryset(self):
        if _is_schema_generation(self):
            return PushSubscription.objects.none()
        return PushSubscription.objects.filter(user=self.request.user).order_by(
            "-created_at", "-pk"
        )

    @extend_schema(
        responses=PushSubscriptionSerializer(many=True),
        description="Where you allowed push, newest first.",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset().only("endpoint", "created_at"))
        return self.get_paginated_response(PushSubscriptionSerializer(page, many=True).data)

    @extend_schema(
        request=PushSubscribeSerializer,
        responses={201: PushSubscriptionSerializer, **ERRORS},
        description="Allow push in this browser: send its push subscription.",
    )
    def post(self, request):
        serializer = PushSubscribeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        try:
            subscription = push.subscribe(
                request.user,
                endpoint=body["endpoint"],
                p256dh=body["keys"]["p256dh"],
                auth=body["keys"]["auth"],
                user_agent=request.headers.get("User-Agent", ""),
            )
        except DjangoValidationError as error:
            raise _refused_subscription(error) from None
        return Response(
            PushSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "endpoint",
                str,
                required=False,
                description="The subscription's endpoint, here or as the body's endpoint.",
            )
        ],
        responses={200: PushRemovedSerializer, **ERRORS},
        description="Stop push in a browser of yours: its endpoint in the body "
        '({"endpoint": ...}, or the whole subscription) or in the query.',
    )
    def delete(self, request):
        source = request.data if request.data else request.query_params
        serializer = PushEndpointSerializer(data=source)
        serializer.is_valid(raise_exception=True)
        removed = push.unsubscribe(request.user, serializer.validated_data["endpoint"])
        return Response(PushRemovedSerializer({"removed": removed}).data)
