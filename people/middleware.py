from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect

from .roles import roles_for

# Paths a person without a second factor may still reach: to set one up, or leave.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz", "/invitations/")


class RequireStaffMFAMiddleware:
    """With MFA_REQUIRED_FOR_STAFF on, liaison workers and fostering managers must
    enrol an authenticator app before they reach any page or API endpoint."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_enrol(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Set up two-factor authentication before using the API."},
                    status=403,
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _must_enrol(self, request) -> bool:
        if not settings.MFA_REQUIRED_FOR_STAFF:
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        if request.path.startswith(_OPEN_PREFIXES):
            return False
        if not roles_for(user).is_staff_worker:
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
