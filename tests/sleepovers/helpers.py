"""Shared set-up for sleepover tests."""

from datetime import timedelta

from django.utils import timezone

from delegated_authority import services as authority
from delegated_authority.models import Decision, Holder


def allow_hub(child, *, by, nights=None):
    """Give the child an agreement that lets the hub carers accept stays."""
    today = timezone.localdate()
    clauses = [
        authority.ClauseInput(
            Decision.objects.get(code=code), Holder.BOTH, max_consecutive_nights=nights
        )
        for code in ("overnight_hub_planned", "stay_hub_short_notice")
    ]
    clauses.append(
        authority.ClauseInput(Decision.objects.get(code="transport_hub_carer"), Holder.BOTH)
    )
    return authority.create_agreement(
        child,
        by=by,
        effective_from=today - timedelta(days=1),
        review_on=today + timedelta(days=180),
        signed_off_role="liaison_worker",
        clauses=clauses,
    )


def evening(days_ahead: int, hour: int = 17):
    day = timezone.localdate() + timedelta(days=days_ahead)
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, hour, 0))


def stay(days_ahead: int, nights: int = 1):
    """Start and end of a planned stay: from 17:00 to 10:00 after ``nights`` nights."""
    return evening(days_ahead), evening(days_ahead + nights, 10)
