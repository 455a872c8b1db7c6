"""Account events that reach the audit trail through signals: sign-ins (Django's
own, so the administration site's count too), failed sign-ins, second factors,
passwords and email addresses (django-allauth's). Connected in ``PeopleConfig.ready``."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth import signals as auth_signals

from .audit import record
from .models import AuditEntry, User

Action = AuditEntry.Action


def _attempted_user(credentials: dict) -> User | None:
    """The account a failed sign-in named, if it exists. Only the login name is read:
    the password (already masked by Django) is never looked at or kept."""
    for key in ("email", "username", "login"):
        value = credentials.get(key)
        if isinstance(value, str) and value.strip():
            return User.objects.filter(email=value.strip().lower()).first()
    return None


def on_logged_in(sender, request, user, **kwargs) -> None:
    record(Action.LOGIN, actor=user, subject=user, request=request)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    user = _attempted_user(credentials or {})
    record(
        Action.LOGIN_FAILED,
        subject=user,
        request=request,
        detail="" if user else "No account has the email address given.",
    )


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(Action.LOGOUT, actor=user, subject=user, request=request)


def _authenticator_name(authenticator: Authenticator) -> str:
    return Authenticator.Type(authenticator.type).label


def on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        action = Action.RECOVERY_CODES_GENERATED
    else:
        action = Action.MFA_ADDED
    record(
        action,
        actor=user,
        subject=user,
        request=request,
        detail=_authenticator_name(authenticator),
    )


def on_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    record(
        Action.MFA_REMOVED,
        actor=user,
        subject=user,
        request=request,
        detail=_authenticator_name(authenticator),
    )


def on_authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    record(
        Action.RECOVERY_CODES_GENERATED,
        actor=user,
        subject=user,
        request=request,
        detail=_authenticator_name(authenticator),
    )


def on_password_changed(sender, request, user, **kwargs) -> None:
    record(Action.PASSWORD_CHANGED, actor=user, subject=user, request=request)


def on_password_set(sender, request, user, **kwargs) -> None:
    record(Action.PASSWORD_CHANGED, actor=user, subject=user, request=request, detail="Set")


def on_password_reset(sender, request, user, **kwargs) -> None:
    record(Action.PASSWORD_RESET, subject=user, request=request, detail="Reset by email link")


def on_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
    record(
        Action.EMAIL_CHANGED,
        actor=user,
        subject=user,
        request=request,
        detail=f"Primary address changed to {to_email_address.email}",
    )


def connect() -> None:
    uid = "people.audit"
    auth_signals.user_logged_in.connect(on_logged_in, dispatch_uid=f"{uid}.login")
    auth_signals.user_login_failed.connect(on_login_failed, dispatch_uid=f"{uid}.login_failed")
    auth_signals.user_logged_out.connect(on_logged_out, dispatch_uid=f"{uid}.logout")
    mfa_signals.authenticator_added.connect(on_authenticator_added, dispatch_uid=f"{uid}.mfa+")
    mfa_signals.authenticator_removed.connect(on_authenticator_removed, dispatch_uid=f"{uid}.mfa-")
    mfa_signals.authenticator_reset.connect(on_authenticator_reset, dispatch_uid=f"{uid}.rc")
    account_signals.password_changed.connect(on_password_changed, dispatch_uid=f"{uid}.pw")
    account_signals.password_set.connect(on_password_set, dispatch_uid=f"{uid}.pwset")
    account_signals.password_reset.connect(on_password_reset, dispatch_uid=f"{uid}.pwreset")
    account_signals.email_changed.connect(on_email_changed, dispatch_uid=f"{uid}.email")
