from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.userkit import filter_users_by_email

from . import throttle


class AccountAdapter(DefaultAccountAdapter):
    """No self-sign-up: accounts are created or invited by a liaison worker or an
    administrator. Password attempts are throttled by address (allauth) and by
    account in a way that never keeps the owner out (``people.throttle``)."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": (
            "Too many failed sign-in attempts for this account from this browser. "
            "Try again in a few minutes, or use “Email me a sign-in code”."
        ),
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_authenticate(self, request, **credentials) -> None:
        """The address limit first (allauth's ``login_failed``, per IP), then the
        account's limit for this browser. A lockout is written to the audit trail
        once per period."""
        self._account_attempt = None
        super().pre_authenticate(request, **credentials)
        email = credentials.get("email", "") or ""
        # The account allauth would sign in (any of its verified addresses), so that
        # each address of one account shares that account's budget.
        users = filter_users_by_email(email.strip(), prefer_verified=True, for_login=True)
        user = users[0] if users else None
        try:
            self._account_attempt = throttle.consume(request, email=email, user=user)
        except throttle.LockedOut as locked:
            # The address's attempt still counts: hammering a locked account is slowed.
            if not locked.trusted and throttle.first_lockout_of_period(email, user):
                from .audit import record
                from .models import AuditEntry

                record(
                    AuditEntry.Action.LOCKOUT,
                    subject=user,
                    request=request,
                    detail=f"Password sign-in locked for {throttle.lockout_minutes()} minutes "
                    "for browsers this account has not used before, after repeated failed "
                    "attempts.",
                )
            raise self.validation_error("too_many_login_attempts") from None

    def _rollback_login_failed_rl_usage(self) -> None:
        super()._rollback_login_failed_rl_usage()
        attempt = getattr(self, "_account_attempt", None)
        if attempt is not None:
            attempt.rollback()
            self._account_attempt = None
