"""Invitations: the only way a new person gets into the product."""

import logging
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Invitation, User

log = logging.getLogger(__name__)


def invite(user: User, *, by: User | None, base_url: str = "") -> str:
    """Open a one-time invitation for ``user`` (revoking any earlier open one) and
    email the link once the transaction commits. Returns the raw token. Raises
    ``InvitationRefused`` for a deactivated account: an invitation never
    re-activates one (only an administrator does)."""
    if not user.is_active:
        raise InvitationRefused(
            f"{user} has been deactivated; an administrator must re-activate the account."
        )
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.open().filter(user=user).update(revoked_at=now)
        token, token_hash = Invitation.new_token()
        invitation = Invitation.objects.create(
            user=user,
            invited_by=by,
            token_hash=token_hash,
            expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        link = base_url.rstrip("/") + reverse("people:accept_invitation", args=[token])
        from .audit import record
        from .models import AuditEntry

        record(
            AuditEntry.Action.INVITATION_SENT,
            actor=by,
            subject=user,
            detail=f"Valid for {settings.INVITATION_VALID_DAYS} days",
        )
        transaction.on_commit(lambda: _send_invitation(invitation.pk, link))
    return token


def _send_invitation(invitation_id: int, link: str) -> None:
    invitation = Invitation.objects.select_related("user", "invited_by").get(pk=invitation_id)
    body = render_to_string(
        "people/email/invitation.txt",
        {"invitation": invitation, "link": link, "days": settings.INVITATION_VALID_DAYS},
    )
    try:
        send_mail(
            "Your Mockingbird constellation account",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [invitation.user.email],
        )
    except OSError:
        # The invitation stays open; the liaison worker can send it again.
        log.exception("invitation %s could not be emailed", invitation_id)


def accept_invitation(invitation: Invitation, *, password: str) -> User:
    """Set the invited person's password, and mark the link used and the email
    verified. Raises ``InvitationUsed`` when the link was used, revoked or has
    expired, or the account has been deactivated since: an invitation never
    re-activates an account."""
    with transaction.atomic():
        claimed = (
            Invitation.objects.open()
            .filter(pk=invitation.pk, user__is_active=True)
            .update(accepted_at=timezone.now())
        )
        if claimed != 1:
            raise InvitationUsed
        user = User.objects.select_for_update().get(pk=invitation.user_id)
        if not user.is_active:
            raise InvitationUsed
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
    return user


def revoke_invitations(user: User, *, by: User | None, reason: str) -> int:
    """Revoke every open invitation of ``user`` (when a role of theirs ends or the
    account is deactivated), writing one ``INVITATION_REVOKED`` audit entry when
    any was open. Returns how many were revoked."""
    from .audit import record
    from .models import AuditEntry

    revoked = Invitation.objects.open().filter(user=user).update(revoked_at=timezone.now())
    if revoked:
        record(
            AuditEntry.Action.INVITATION_REVOKED,
            actor=by,
            subject=user,
            detail=f"{revoked} open invitation(s) revoked: {reason}"[:200],
        )
    return revoked


class InvitationRefused(Exception):
    """No invitation can be sent to this account (it has been deactivated)."""


class InvitationUsed(Exception):
    """The link was used already, revoked, or has expired."""
