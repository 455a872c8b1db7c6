"""The lifecycle of an approval: it waits, then is approved, refused or withdrawn,
once; every move is recorded in the activity record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from constellation.models import Activity
from constellation.services import ActionRefused
from delegated_authority import services
from delegated_authority.models import Approval, Decision, Holder
from sleepovers import services as sleepovers
from sleepovers.models import Status as RequestStatus
from tests.sleepovers.helpers import stay

pytestmark = pytest.mark.django_db

S = Approval.Status
PAIRS = [(a, b) for a in S.values for b in S.values]


def _agreement(world):
    today = timezone.localdate()
    services.create_agreement(
        world.child,
        by=world.liaison,
        effective_from=today - timedelta(days=1),
        review_on=today + timedelta(days=90),
        signed_off_role="liaison_worker",
        clauses=[
            services.ClauseInput(
                Decision.objects.get(code="overnight_hub_planned"), Holder.SOCIAL_WORKER
            )
        ],
    )


def _asked(world) -> Approval:
    _agreement(world)
    return services.request_approval(
        world.child, Decision.objects.get(code="overnight_hub_planned"), by=world.hub_carer
    )


def _in_state(world, status: str) -> Approval:
    approval = _asked(world)
    if status == S.APPROVED:
        services.decide_approval(approval, by=world.social_worker, approve=True)
    elif status == S.REFUSED:
        services.decide_approval(approval, by=world.social_worker, approve=False, note="No")
    elif status == S.WITHDRAWN:
        services.withdraw_approval(approval, by=world.hub_carer)
    approval.refresh_from_db()
    assert approval.status == status
    return approval


def _try(world, approval: Approval, to: str) -> None:
    if to == S.APPROVED:
        services.decide_approval(approval, by=world.social_worker, approve=True)
    elif to == S.REFUSED:
        services.decide_approval(approval, by=world.social_worker, approve=False, note="No")
    elif to == S.WITHDRAWN:
        services.withdraw_approval(approval, by=world.hub_carer)
    else:
        # Nothing moves an approval back to waiting: the table says so, and _move refuses.
        services._move(approval, to, by=world.liaison)


def test_the_table_covers_every_status_and_nothing_leaves_a_final_one():
    assert set(Approval.ALLOWED) == set(S.values)
    assert Approval.ALLOWED[S.PENDING] == {S.APPROVED, S.REFUSED, S.WITHDRAWN}
    for final in (S.APPROVED, S.REFUSED, S.WITHDRAWN):
        assert Approval.ALLOWED[final] == set()


@pytest.mark.parametrize(("before", "to"), PAIRS)
def test_every_move_follows_the_table(world, before, to):
    approval = _in_state(world, before)
    moves_before = Activity.objects.filter(target_id=approval.pk, verb__startswith="approval.")
    count = moves_before.count()
    if to in Approval.ALLOWED[before]:
        _try(world, approval, to)
        approval.refresh_from_db()
        assert approval.status == to
        assert approval.decided_at is not None
        row = Activity.objects.filter(verb=f"approval.{to}", target_id=approval.pk).get()
        assert row.payload["from"] == before
        assert row.payload["to"] == to
    else:
        with pytest.raises(ActionRefused, match="already answered"):
            _try(world, approval, to)
        approval.refresh_from_db()
        assert approval.status == before
        assert moves_before.count() == count


def test_an_answer_records_who_decided_when_and_the_note(world):
    approval = _asked(world)
    services.decide_approval(
        approval, by=world.social_worker, approve=False, note="Contact with mum that night"
    )
    approval.refresh_from_db()
    assert approval.decided_by == world.social_worker
    assert approval.note == "Contact with mum that night"
    row = Activity.objects.get(verb="approval.refused", target_id=approval.pk)
    assert row.actor == world.social_worker
    assert row.payload["note"] == "Contact with mum that night"


def test_withdrawing_by_the_requester_is_in_the_activity_record(world):
    approval = _asked(world)
    services.withdraw_approval(approval, by=world.hub_carer)
    row = Activity.objects.get(verb="approval.withdrawn", target_id=approval.pk)
    assert row.actor == world.hub_carer
    assert row.constellation == world.constellation


def test_withdraw_approvals_withdraws_only_what_waits_for_the_subject(world):
    _agreement(world)
    decision = Decision.objects.get(code="overnight_hub_planned")
    waiting = services.request_approval(
        world.child, decision, by=world.hub_carer, subject_type="sleepover", subject_id=7
    )
    other = services.request_approval(
        world.child, decision, by=world.hub_carer, subject_type="sleepover", subject_id=8
    )
    withdrawn = services.withdraw_approvals(
        subject_type="sleepover", subject_id=7, by=world.hub_carer, reason="Hub full that week"
    )
    assert [a.pk for a in withdrawn] == [waiting.pk]
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert (waiting.status, waiting.note, waiting.decided_by) == (
        S.WITHDRAWN,
        "Hub full that week",
        world.hub_carer,
    )
    assert other.status == S.PENDING
    row = Activity.objects.get(verb="approval.withdrawn", target_id=waiting.pk)
    assert row.payload["note"] == "Hub full that week"
    # Run again: nothing waits any more, nothing is recorded twice.
    assert (
        services.withdraw_approvals(
            subject_type="sleepover", subject_id=7, by=world.hub_carer, reason="again"
        )
        == []
    )
    assert Activity.objects.filter(verb="approval.withdrawn", target_id=waiting.pk).count() == 1


@pytest.mark.parametrize("how", ["decline", "cancel"])
def test_a_sleepover_that_ends_while_waiting_withdraws_its_approvals_on_the_record(world, how):
    start, end = stay(5)
    request = sleepovers.create_request(
        by=world.satellite_carer, kind="planned", children=[world.child], start=start, end=end
    )
    sleepovers.accept(request, by=world.hub_carer)  # no agreement: waits for approval
    approval = Approval.objects.get(subject_type="sleepover", subject_id=request.pk)
    if how == "decline":
        sleepovers.decline(request, by=world.hub_carer, reason="Our own family visits")
        actor, reason = world.hub_carer, "Our own family visits"
    else:
        sleepovers.cancel(request, by=world.satellite_carer, reason="Grandma can have her")
        actor, reason = None, "Grandma can have her"
    request.refresh_from_db()
    assert request.status == (
        RequestStatus.DECLINED if how == "decline" else RequestStatus.CANCELLED
    )
    assert request.timeline.filter(to_status=request.status).count() == 1
    approval.refresh_from_db()
    assert approval.status == S.WITHDRAWN
    assert approval.note == reason
    row = Activity.objects.get(verb="approval.withdrawn", target_id=approval.pk)
    assert row.actor == actor
    assert row.constellation == world.constellation
