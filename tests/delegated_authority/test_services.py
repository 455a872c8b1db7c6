"""Approvals (asked, answered, with their domain events) and review reminders."""

from datetime import date, timedelta

import pytest

from constellation.models import Activity
from constellation.services import ActionRefused
from delegated_authority import services, signals
from delegated_authority.models import Approval, Decision, Holder, ReviewReminder
from delegated_authority.services import ClauseInput

pytestmark = pytest.mark.django_db


def agreement(world, child, holder, *, review_in=90, code="overnight_hub_planned"):
    today = date.today()  # noqa: DTZ011
    return services.create_agreement(
        child,
        by=world.liaison,
        effective_from=today - timedelta(days=1),
        review_on=today + timedelta(days=review_in),
        signed_off_role="liaison_worker",
        clauses=[ClauseInput(Decision.objects.get(code=code), holder)],
    )


@pytest.fixture
def events():
    seen = []

    def on_requested(sender, approval, **kw):
        seen.append(("requested", approval.pk))

    def on_decided(sender, approval, **kw):
        seen.append((approval.status, approval.pk))

    signals.approval_requested.connect(on_requested)
    signals.approval_decided.connect(on_decided)
    yield seen
    signals.approval_requested.disconnect(on_requested)
    signals.approval_decided.disconnect(on_decided)


def test_an_approval_goes_to_the_social_worker_account(world, events):
    agreement(world, world.child, Holder.SOCIAL_WORKER)
    decision = Decision.objects.get(code="overnight_hub_planned")
    approval = services.request_approval(
        world.child, decision, by=world.hub_carer, nights=2, details="Saturday night at the hub"
    )
    assert approval.assigned_to == world.social_worker
    assert approval.status == Approval.Status.PENDING
    assert "held by" in approval.reason_refused_by_rules
    assert events == [("requested", approval.pk)]
    assert Activity.objects.filter(verb="approval.requested", target_id=approval.pk).exists()
    assert approval in Approval.objects.for_holder(world.social_worker)

    services.decide_approval(approval, by=world.social_worker, approve=True, note="Fine")
    approval.refresh_from_db()
    assert approval.status == Approval.Status.APPROVED
    assert approval.decided_by == world.social_worker
    assert events[-1] == ("approved", approval.pk)


def test_without_a_social_worker_account_the_liaison_worker_answers(world):
    agreement(world, world.neighbour_child, Holder.SOCIAL_WORKER)
    decision = Decision.objects.get(code="overnight_hub_planned")
    approval = services.request_approval(world.neighbour_child, decision, by=world.hub_carer)
    assert approval.assigned_to == world.liaison


def test_a_refusal_needs_a_reason(world):
    agreement(world, world.child, Holder.SOCIAL_WORKER)
    decision = Decision.objects.get(code="overnight_hub_planned")
    approval = services.request_approval(world.child, decision, by=world.hub_carer)
    with pytest.raises(ActionRefused, match="Say why"):
        services.decide_approval(approval, by=world.social_worker, approve=False, note=" ")
    services.decide_approval(approval, by=world.social_worker, approve=False, note="Not this week")
    with pytest.raises(ActionRefused, match="already answered"):
        services.decide_approval(approval, by=world.social_worker, approve=True)


def test_only_the_holder_can_answer(world):
    agreement(world, world.child, Holder.SOCIAL_WORKER)
    decision = Decision.objects.get(code="overnight_hub_planned")
    approval = services.request_approval(world.child, decision, by=world.hub_carer)
    for outsider in (
        world.hub_carer,
        world.satellite_carer,
        world.other_liaison,
        world.other_service_manager,
    ):
        with pytest.raises(ActionRefused, match="Only the holder"):
            services.decide_approval(approval, by=outsider, approve=True)
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING


def test_nothing_to_ask_when_the_carer_may_decide(world):
    agreement(world, world.child, Holder.BOTH)
    decision = Decision.objects.get(code="overnight_hub_planned")
    with pytest.raises(ActionRefused, match="may decide this yourself"):
        services.request_approval(world.child, decision, by=world.hub_carer)


def test_the_same_request_is_not_asked_twice(world):
    agreement(world, world.child, Holder.SOCIAL_WORKER)
    decision = Decision.objects.get(code="overnight_hub_planned")
    services.request_approval(
        world.child, decision, by=world.hub_carer, subject_type="x", subject_id=1
    )
    with pytest.raises(ActionRefused, match="already waiting"):
        services.request_approval(
            world.child, decision, by=world.hub_carer, subject_type="x", subject_id=1
        )


def test_the_requester_can_withdraw(world, events):
    agreement(world, world.child, Holder.SOCIAL_WORKER)
    decision = Decision.objects.get(code="overnight_hub_planned")
    approval = services.request_approval(world.child, decision, by=world.hub_carer)
    with pytest.raises(ActionRefused):
        services.withdraw_approval(approval, by=world.satellite_carer)
    services.withdraw_approval(approval, by=world.hub_carer)
    approval.refresh_from_db()
    assert approval.status == Approval.Status.WITHDRAWN


def test_review_reminders_are_sent_once_when_due_and_once_when_overdue(world):
    today = date.today()  # noqa: DTZ011
    soon = agreement(world, world.child, Holder.BOTH, review_in=10)
    agreement(world, world.neighbour_child, Holder.BOTH, review_in=200)
    assert services.send_review_reminders(today=today) == 1
    assert services.send_review_reminders(today=today) == 0  # a rerun sends nothing
    reminder = Activity.objects.get(verb="agreement.review_soon")
    assert reminder.payload["liaison_ids"] == [world.liaison.pk]
    # Eleven days later it is overdue: one more reminder.
    assert services.send_review_reminders(today=today + timedelta(days=11)) == 1
    assert set(ReviewReminder.objects.filter(agreement=soon).values_list("kind", flat=True)) == {
        "soon",
        "overdue",
    }


def test_a_superseded_version_is_not_reminded(world):
    agreement(world, world.child, Holder.BOTH, review_in=5)
    agreement(world, world.child, Holder.BOTH, review_in=300)
    assert services.send_review_reminders() == 0


def test_the_daily_task_runs_the_reminders(world):
    from delegated_authority.tasks import send_review_reminders

    agreement(world, world.child, Holder.BOTH, review_in=3)
    assert send_review_reminders.delay().get() == 1


def test_only_the_childs_carers_ask_for_approval(world):
    agreement(world, world.child, Holder.SOCIAL_WORKER)
    decision = Decision.objects.get(code="overnight_hub_planned")
    for outsider in (world.liaison, world.neighbour_carer, world.other_hub_carer):
        with pytest.raises(ActionRefused, match="Only the child's carers"):
            services.request_approval(world.child, decision, by=outsider)
    assert not Approval.objects.exists()
