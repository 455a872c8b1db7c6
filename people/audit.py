"""The audit trail: one function, ``record``, writes every entry.

Accounts (sign-ins, second factors, passwords, email addresses), permissions
(staff roles, memberships, invitations), reads of a child's full record, exports and
changes of delegated authority agreements all leave an ``AuditEntry`` here, so that
an administrator or a fostering manager can tell who did what, and when
(DOMAIN.md: "A record changes and nobody can tell who changed it, or when")."""

import ipaddress
import logging

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from .models import AuditEntry

log = logging.getLogger(__name__)

LABEL_LENGTH = AuditEntry._meta.get_field("target_label").max_length
DETAIL_LENGTH = AuditEntry._meta.get_field("detail").max_length


def client_ip(request) -> str | None:
    """The address the request came from, as the account adapter reads it (so the
    same trusted-proxy rule as sign-in throttling applies), or None when there is no
    request or no valid address."""
    if request is None:
        return None
    from allauth.account.adapter import get_adapter

    try:
        ip = get_adapter(request).get_client_ip(request)
    except (PermissionDenied, AttributeError, KeyError):
        ip = request.META.get("REMOTE_ADDR") if hasattr(request, "META") else None
    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None


def target_label(target) -> str:
    """A short, safe name for ``target``: a child by the name they are known by and
    their record number (never the surname), anything else by its ``str``."""
    if target is None:
        return ""
    from constellation.models import Child

    label = f"{target.known_as} (child #{target.pk})" if isinstance(target, Child) else str(target)
    return label[:LABEL_LENGTH]


def _service_id_of(obj) -> int | None:
    """The fostering service an object belongs to, following the usual paths
    (its own ``service``, its constellation's, its household's, its child's)."""
    if obj is None:
        return None
    from constellation.models import FosteringService

    if isinstance(obj, FosteringService):
        return obj.pk
    if getattr(obj, "service_id", None):
        return obj.service_id
    for path in ("constellation", "household", "child"):
        related = getattr(obj, path, None) if _has_field(obj, path) else None
        if related is not None and getattr(related, "service_id", None):
            return related.service_id
    return None


def _has_field(obj, name: str) -> bool:
    try:
        obj._meta.get_field(name)
    except Exception:  # noqa: BLE001 - not a model, or no such field
        return False
    return True


def _service_id_of_user(user) -> int | None:
    """The one fostering service a person works or cares in; None when they belong to
    none or to several (an entry must never be shown to the wrong service)."""
    if user is None or not getattr(user, "pk", None):
        return None
    from .roles import roles_for

    ids = roles_for(user).service_ids
    if len(ids) == 1:
        return next(iter(ids))
    return None


def record(
    action: str,
    *,
    actor=None,
    service=None,
    subject=None,
    target=None,
    request=None,
    detail: str = "",
) -> AuditEntry:
    """Write one audit entry and return it.

    ``action`` is an ``AuditEntry.Action`` (an unknown value raises ``ValueError``).
    ``actor`` is who did it (None for the system or an unknown person; an anonymous
    user counts as None), ``subject`` the person it was done to (the account signed
    in, the carer given a role), ``target`` the object it concerns (a child, an
    agreement, an export), ``request`` gives the client's IP address.

    The entry belongs to ``service`` (a ``FosteringService`` or its id) when given;
    otherwise to the target's service, then the subject's, then the actor's, when that
    person belongs to exactly one. ``detail`` is a short note, cut to 300 characters:
    callers must never pass health notes or a child's surname; the target's label
    uses a child's first or preferred name only.

    Never changed or deleted afterwards (the admin is read-only, the foreign keys
    PROTECT). The rule it serves: DOMAIN.md, "a record changes and nobody can tell who
    changed it, or when"."""
    if action not in AuditEntry.Action.values:
        raise ValueError(f"Unknown audit action: {action!r}")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if subject is not None and not getattr(subject, "pk", None):
        subject = None
    service_id = service.pk if service is not None and not isinstance(service, int) else service
    if service_id is None:
        service_id = (
            _service_id_of(target) or _service_id_of_user(subject) or _service_id_of_user(actor)
        )
    target_type = None
    target_id = ""
    if target is not None and getattr(target, "pk", None) is not None:
        target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        target_id = str(target.pk)
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor,
        service_id=service_id,
        action=action,
        subject=subject,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label(target),
        ip_address=client_ip(request),
        detail=(detail or "")[:DETAIL_LENGTH],
    )


def record_child_record_views(user, children, *, channel: str, request=None) -> None:
    """Write one ``CHILD_RECORD_VIEWED`` entry per child in ``children`` (``Child``
    objects), each in the child's own fostering service, in one query. For pages and
    API lists that show several full records at once; ``channel`` (web or API) goes in
    the detail. Labels name each child by first or preferred name only."""
    children = list(children)
    if not children:
        return
    from constellation.models import Child

    actor = user if getattr(user, "is_authenticated", False) else None
    child_type = ContentType.objects.get_for_model(Child)
    ip = client_ip(request)
    now = timezone.now()
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now,
            actor=actor,
            service_id=child.service_id,
            action=AuditEntry.Action.CHILD_RECORD_VIEWED,
            target_type=child_type,
            target_id=str(child.pk),
            target_label=target_label(child),
            ip_address=ip,
            detail=str(channel)[:DETAIL_LENGTH],
        )
        for child in children
    )
