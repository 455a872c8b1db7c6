"""The dashboards at their edges (issue 12): 12-month retention in a month under
way, a crisis escalated after the page was read, a manager whose service has no
constellation yet, and the months with a meeting of all constellations together.
Each asserts what a fostering manager or liaison worker would expect to read."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from constellation import kept_figures, measures
from constellation.periods import Period
from notifications.models import EscalationStep
from notifications.services import escalation
from people.models import StaffRole
from sleepovers import services as sleepovers
from sleepovers.models import CrisisReason, Kind
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
START = datetime(2025, 11, 3, 9, 0, tzinfo=LONDON)


def at(year, month, day, hour=9, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _sign(child, *, by):
    from delegated_authority import services as authority
    from delegated_authority.models import Decision, Holder

    codes = ("overnight_hub_planned", "stay_hub_short_notice", "transport_hub_carer")
    return authority.create_agreement(
        child,
        by=by,
        effective_from=date(2025, 11, 1),
        review_on=date(2027, 12, 31),
        signed_off_role="liaison_worker",
        clauses=[authority.ClauseInput(Decision.objects.get(code=c), Holder.BOTH) for c in codes],
    )


def _crisis(carer, child, when):
    reason = CrisisReason.DROP_OFF
    return sleepovers.create_request(
        by=carer,
        kind=Kind.CRISIS,
        children=[child],
        start=when,
        end=sleepovers.crisis_end(when, reason),
        crisis_reason=reason,
    )


# ------------------------------------------------------------------- wrong figures


def test_retention_in_a_month_under_way_looks_back_twelve_months_from_today(clock, world):
    """Riverside's two satellites joined on 3 November 2025 and are still in. On
    20 November 2026 the default dashboard (December 2025 to November 2026, read on
    today) asks "of the satellites in the constellation twelve months before the end
    of the period (20 November 2025), the share still in it": both, 100%.

    The code takes the base day as ``add_months(as_of + 1 day, -12) - 1 day``, and
    ``add_months`` returns the *first* of a month: the base day is 31 October 2025,
    before they joined, so retention reads "not recorded"."""
    w = world
    clock.move_to(at(2026, 11, 20, 10))
    period = Period.default(date(2026, 11, 20))
    row = measures.figures([w.constellation], period).rows[w.constellation.pk]
    assert row["active_satellites"] == 2
    assert row["retention_base"] == 2
    assert row["retention_12m"] == pytest.approx(1.0)


# ---------------------------------------------------------------------- staleness


def test_a_crisis_escalated_after_the_page_was_read_is_on_the_next_page(clock, world):
    """The Ashfords' first crisis of the day was declined (a "crisis not met" concern
    is opened and stays open). Their second crisis goes unanswered; after the
    escalation minutes the sweep passes the alert to the liaison worker. That is an
    escalated crisis (``crisis_escalated``), but the escalation writes no activity
    row (``open_concern`` returns early as the household's crisis-not-met concern is
    already open), so the kept figures still say 0 escalated for up to 15 minutes."""
    w = world
    _sign(w.child, by=w.liaison)
    clock.move_to(at(2026, 11, 20, 10))
    first = _crisis(w.satellite_carer, w.child, at(2026, 11, 20, 10))
    clock.move_to(at(2026, 11, 20, 10, 2))
    sleepovers.decline(first, by=w.hub_carer, reason="We are out today.")

    clock.move_to(at(2026, 11, 20, 11))
    second = _crisis(w.satellite_carer, w.child, at(2026, 11, 20, 11))
    period = Period.default(date(2026, 11, 20))
    kept_before = kept_figures.figures([w.constellation], period)
    assert kept_before.rows[w.constellation.pk]["crisis_escalated"] == 0

    # The sweep a few minutes later (well within the 15 minutes a figure is kept).
    clock.move_to(at(2026, 11, 20, 11, escalation.escalation_minutes(second) + 1))
    escalation.run_due_steps()
    assert EscalationStep.objects.filter(
        alert__request=second,
        step=EscalationStep.Step.LIAISON,
        status__in=[EscalationStep.Status.DONE, EscalationStep.Status.PASSED_ON],
    ).exists()
    live = measures.figures([w.constellation], period).rows[w.constellation.pk]
    assert live["crisis_escalated"] == 1
    kept = kept_figures.figures([w.constellation], period).rows[w.constellation.pk]
    assert kept["crisis_escalated"] == 1, "the dashboard still shows the crisis as not escalated"


# -------------------------------------------------------------------------- access


def test_a_manager_of_a_service_with_no_constellations_sees_an_empty_dashboard(client, world):
    """A fostering manager of a service that has not set up a constellation yet is a
    fostering manager: the dashboard should open (empty), not refuse them with 403
    "Dashboards are for liaison workers and fostering managers"."""
    service = f.ServiceFactory(name="Eastshire Fostering")
    manager = f.staff(service, StaffRole.Role.MANAGER, email="manager-east@test.example")
    client.force_login(manager)
    response = client.get(reverse("dashboards:service"))
    assert response.status_code == 200


def test_the_all_constellations_row_never_has_more_meeting_months_than_months(clock, world):
    """Riverside and Hillside each held a constellation meeting in May 2026. On the
    manager's dashboard for May, the "All constellations" row reads "Months with a
    constellation meeting" beside "Months in the period": 1 month of 1 had a meeting.
    The total adds the constellations' months up and reads 2 months of a 1-month
    period."""
    from calendar_events import services as calendar
    from calendar_events.models import Event

    w = world
    for constellation, hub, came in (
        (w.constellation, w.hub_carer, w.satellite),
        (w.other_constellation, w.other_hub_carer, None),
    ):
        clock.move_to(at(2026, 5, 1, 9))
        start = calendar.london_start(date(2026, 5, 5), 19)
        event = calendar.create_event(
            constellation=constellation,
            by=hub,
            kind=Event.Kind.MEETING,
            title="Constellation meeting",
            start=start,
            end=start + timedelta(hours=2),
        )
        clock.move_to(at(2026, 5, 5, 21, 30))
        household = came or constellation.hub
        calendar.record_attendance(
            event, start, by=hub, came=[calendar.Came(household=household, adults=1)]
        )
    clock.move_to(at(2026, 6, 2, 9))
    may = Period.month(2026, 5)
    figures = measures.figures([w.constellation, w.other_constellation], may)
    assert figures.rows[w.constellation.pk]["meeting_months"] == 1
    assert figures.rows[w.other_constellation.pk]["meeting_months"] == 1
    assert figures.total["months"] == 1
    assert figures.total["meeting_months"] <= figures.total["months"]


def test_a_manager_of_a_service_with_no_constellations_exports_an_empty_table(client, world):
    from constellation.models import ExportRecord

    service = f.ServiceFactory(name="Eastshire Fostering")
    manager = f.staff(service, StaffRole.Role.MANAGER, email="manager-east@test.example")
    client.force_login(manager)
    response = client.get(reverse("dashboards:export", args=["support-care"]), {"format": "csv"})
    assert response.status_code == 200
    record = ExportRecord.objects.get(user=manager)
    assert record.service == service
    assert record.rows == 0
    assert world.constellation.name not in response.content.decode("utf-8-sig")


def test_the_headline_definitions_can_be_read_on_a_phone(client, world):
    """A touch screen never shows a ``title``: the headline's definitions are text on
    the page, under "How these figures are counted"."""
    from django.utils.html import escape

    client.force_login(world.manager)
    page = client.get(reverse("dashboards:service")).content.decode()
    definitions = page.split('data-testid="headline-definitions"', 1)[1].split("</details>")[0]
    for key in ("requests", "nights", "coverage"):
        assert f"<dd>{escape(measures.MEASURES[key].definition)}</dd>" in definitions, key
