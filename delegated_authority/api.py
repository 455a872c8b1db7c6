"""``GET /api/v1/delegated-authority/check/?child=ID&decision=CODE``: the rules
engine's answer for the requesting user."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from constellation.access import get_child_for
from people.api import ApiDefaults
from people.models import ChildRecordAccess

from .models import Decision
from .rules import may_decide


class CheckQuery(serializers.Serializer):
    child = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    decision = serializers.SlugField(max_length=50)
    nights = serializers.IntegerField(min_value=1, max_value=365, required=False)

    def validate_decision(self, value):
        decision = Decision.objects.filter(code=value, active=True).first()
        if decision is None:
            raise serializers.ValidationError(f"Unknown decision code “{value}”.")
        return decision


class CheckAnswer(serializers.Serializer):
    allowed = serializers.BooleanField()
    reason = serializers.CharField()
    decision = serializers.CharField()
    holder = serializers.CharField(allow_blank=True)
    holder_label = serializers.CharField(allow_blank=True)
    ask = serializers.CharField(allow_blank=True)
    overdue = serializers.BooleanField()
    agreement_version = serializers.IntegerField(allow_null=True)
    conditions = serializers.CharField(allow_blank=True)
    max_consecutive_nights = serializers.IntegerField(allow_null=True)


class CheckView(ApiDefaults, APIView):
    """May I decide this for this child, now?"""

    @extend_schema(
        parameters=[
            OpenApiParameter("child", int, required=True),
            OpenApiParameter("decision", str, required=True, description="A decision code"),
            OpenApiParameter("nights", int, required=False),
        ],
        responses=CheckAnswer,
    )
    def get(self, request):
        query = CheckQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        # 404 outside visibility; only those who see the child in full get an answer.
        view = get_child_for(
            request.user, query.validated_data["child"], channel=ChildRecordAccess.Channel.API
        )
        if not view.full:
            raise PermissionDenied("Only those who care for the child can ask about it.")
        answer = may_decide(
            request.user,
            view.child,
            query.validated_data["decision"],
            nights=query.validated_data.get("nights"),
        )
        clause = answer.clause
        return Response(
            CheckAnswer(
                {
                    "allowed": answer.allowed,
                    "reason": answer.reason,
                    "decision": query.validated_data["decision"].code,
                    "holder": answer.holder,
                    "holder_label": answer.holder_label,
                    "ask": answer.ask,
                    "overdue": answer.overdue,
                    "agreement_version": answer.agreement.version if answer.agreement else None,
                    "conditions": clause.conditions if clause else "",
                    "max_consecutive_nights": clause.max_consecutive_nights if clause else None,
                }
            ).data
        )
