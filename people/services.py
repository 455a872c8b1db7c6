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
    email the link once the transaction commits. Returns the raw token."""
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
    """Set the invited person's password, and mark the link used and the email verified."""
    with transaction.atomic():
        claimed = (
            Invitation.objects.open().filter(pk=invitation.pk).update(accepted_at=timezone.now())
        )
        if claimed != 1:
            raise InvitationUsed
        user = invitation.user
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
    return user


class InvitationUsed(Exception):
    """The link was used already, revoked, or has expired."""
