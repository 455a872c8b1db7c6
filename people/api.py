from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from constellation.models import Constellation

from .roles import roles_for


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    constellations = serializers.ListField(child=serializers.DictField())


class MeView(APIView):
    """The signed-in user, their roles and the constellations they can see."""

    serializer_class = MeSerializer

    def get(self, request):
        user = request.user
        roles = roles_for(user)
        constellations = [
            {"id": c.pk, "name": c.name}
            for c in Constellation.objects.visible_to(user).only("pk", "name")
        ]
        data = {
            "id": user.pk,
            "email": user.email,
            "name": user.get_full_name(),
            "roles": [
                r
                for r in ("manager", "liaison", "hub", "satellite", "social_worker", "admin")
                if r in _held(roles)
            ],
            "constellations": constellations,
        }
        return Response(MeSerializer(data).data)


def _held(roles) -> set[str]:
    return {
        name
        for name, held in (
            ("manager", roles.is_manager),
            ("liaison", roles.is_liaison),
            ("hub", roles.is_hub_carer),
            ("satellite", roles.is_satellite_carer),
            ("social_worker", roles.is_social_worker),
            ("admin", roles.is_admin),
        )
        if held
    }
