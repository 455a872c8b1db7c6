"""Who may go on: the second factor that staff and administrators must enrol."""

from allauth.mfa.models import Authenticator
from django.conf import settings

from .roles import roles_for


def must_enrol_second_factor(user) -> bool:
    """True when ``user`` must set up an authenticator app before reaching any page
    or API endpoint: ``MFA_REQUIRED_FOR_STAFF`` is on, the user is signed in, is a
    liaison worker, a fostering manager or an administrator (``Roles.needs_second_factor``),
    and has no TOTP authenticator. Recovery codes alone do not count: they are the
    fallback for a lost authenticator, not a second factor of their own.

    The one rule behind ``RequireStaffMFAMiddleware`` (pages, the administration
    site) and ``StaffMFAEnrolled`` (the API, whether by session or token)."""
    if not settings.MFA_REQUIRED_FOR_STAFF:
        return False
    if user is None or not user.is_authenticated:
        return False
    if not roles_for(user).needs_second_factor:
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def may_read_audit(user) -> bool:
    """True when ``user`` may open the audit trail (``/audit/``): administrators
    (superusers and anyone the administration site opens to) and fostering managers.
    Which entries they then read is ``AuditEntry.objects.visible_to``: a superuser all,
    anyone else only their own fostering service's. Carers, liaison workers and
    social workers may not (DOMAIN.md: managers see everything in their own service,
    liaison workers the records of their constellations, not accounts' sign-ins)."""
    roles = roles_for(user)
    return roles.is_admin or roles.has_admin_site or roles.is_manager
