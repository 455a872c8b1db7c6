"""Small pieces the sleepover services share."""

from django.utils import timezone

from constellation.services import ActionRefused
from people.models import User

from ..models import (
    Withdrawable,
)


def _withdraw(entry: Withdrawable, *, by: User) -> None:
    if entry.withdrawn_at is not None:
        raise ActionRefused("This was withdrawn already.")
    entry.withdrawn_at, entry.withdrawn_by = timezone.now(), by
    entry.save(update_fields=["withdrawn_at", "withdrawn_by"])
