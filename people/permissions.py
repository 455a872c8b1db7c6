from allauth.mfa.models import Authenticator
from django.conf import settings
from rest_framework.permissions import BasePermission

from .roles import roles_for


class StaffMFAEnrolled(BasePermission):
    """The API's side of RequireStaffMFAMiddleware: a liaison worker or manager who
    authenticates with a token must still have enrolled a second factor."""

    message = "Set up two-factor authentication before using the API."

    def has_permission(self, request, view) -> bool:
        if not settings.MFA_REQUIRED_FOR_STAFF:
            return True
        user = request.user
        if not user or not user.is_authenticated or not roles_for(user).is_staff_worker:
            return True
        return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
