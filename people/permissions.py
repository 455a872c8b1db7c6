from rest_framework.permissions import BasePermission

from .access import must_enrol_second_factor


class StaffMFAEnrolled(BasePermission):
    """The API's side of RequireStaffMFAMiddleware: a liaison worker, manager or
    administrator who authenticates with a token must still have enrolled a second
    factor."""

    message = "Set up two-factor authentication before using the API."

    def has_permission(self, request, view) -> bool:
        return not must_enrol_second_factor(request.user)
