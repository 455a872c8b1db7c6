from django.http import JsonResponse
from django.shortcuts import redirect

from .access import must_enrol_second_factor

# Paths a person without a second factor may still reach: to set one up, or leave.
# The administration site is not among them: an administrator enrols first.
_OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz", "/invitations/", "/sw.js", "/offline/")


class RequireStaffMFAMiddleware:
    """With MFA_REQUIRED_FOR_STAFF on, liaison workers, fostering managers and
    administrators must enrol an authenticator app before they reach any page, the
    administration site or an API endpoint."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(_OPEN_PREFIXES) and must_enrol_second_factor(
            getattr(request, "user", None)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Set up two-factor authentication before using the API."},
                    status=403,
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
