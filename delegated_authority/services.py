"""Every change of delegated authority: agreement versions, approvals and the
review reminders. Each writes the activity record and emits its domain event."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from constellation.models import Child, LiaisonAssignment
from constellation.services import ActionRefused, record_activity
from people.audit import record as audit
from people.models import AuditEntry, User

from . import signals
from .models import Agreement, Approval, Clause, Decision, Holder, ReviewReminder
from .rules import constellation_of, may_decide

REVIEW_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ClauseInput:
    decision: Decision
    holder: str
    conditions: str = ""
    max_consecutive_nights: int | None = None


@transaction.atomic
def create_agreement(
    child: Child,
    *,
    by: User,
    effective_from: date,
    review_on: date,
    signed_off_role: str,
    clauses: list[ClauseInput],
    notes: str = "",
) -> Agreement:
    """Sign off a new version of the child's agreement. It supersedes the previous
    version from ``effective_from``; earlier versions stay readable."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    if review_on < effective_from:
        raise ActionRefused("The review date cannot be before the agreement takes effect.")
    latest = Agreement.objects.filter(child=child).order_by("-version").first()
    if latest is not None and effective_from < latest.effective_from:
        raise ActionRefused(
            f"A new version cannot take effect before version {latest.version} "
            f"({latest.effective_from:%d %B %Y})."
        )
    seen: set[int] = set()
    for item in clauses:
        if item.decision.pk in seen:
            raise ActionRefused(f"“{item.decision.label}” appears twice.")
        seen.add(item.decision.pk)
        if item.holder not in Holder.values:
            raise ActionRefused(f"Unknown holder for “{item.decision.label}”.")
        if not item.decision.allows_holder(item.holder):
            raise ActionRefused(f"{Holder(item.holder).label} cannot hold “{item.decision.label}”.")
        if item.max_consecutive_nights is not None and not item.decision.counts_nights:
            raise ActionRefused(f"“{item.decision.label}” has no nights to limit.")
    version = (Agreement.objects.filter(child=child).aggregate(v=Max("version"))["v"] or 0) + 1
    agreement = Agreement.objects.create(
        child=child,
        version=version,
        effective_from=effective_from,
        review_on=review_on,
        signed_off_by=by,
        signed_off_role=signed_off_role,
        notes=notes,
    )
    Clause.objects.bulk_create(
        Clause(
            agreement=agreement,
            decision=item.decision,
            holder=item.holder,
            conditions=item.conditions,
            max_consecutive_nights=item.max_consecutive_nights,
        )
        for item in clauses
    )
    record_activity(
        service=child.service,
        constellation=constellation_of(child),
        actor=by,
        verb="agreement.signed",
        target=agreement,
        summary=f"Delegated authority v{version} signed off for {child.known_as}",
        payload={
            "version": version,
            "effective_from": effective_from.isoformat(),
            "review_on": review_on.isoformat(),
            "clauses": len(clauses),
        },
        household=child.household_id,
        children=[child],
    )
    audit(
        AuditEntry.Action.AGREEMENT_CHANGED,
        actor=by,
        service=child.service_id,
        target=agreement,
        detail=f"Version {version} signed off for {child.known_as}, in force from "
        f"{effective_from:%-d %B %Y}, {len(clauses)} decisions",
    )
    return agreement


@transaction.atomic
def request_approval(
    child: Child,
    decision: Decision,
    *,
    by: User,
    details: str = "",
    nights: int | None = None,
    subject_type: str = "",
    subject_id: int | None = None,
    at: datetime | date | None = None,
) -> Approval:
    """Ask the holder to approve what the carer may not decide (on the day ``at``,
    today by default: a stay asks about its own day). Refused when the carer may
    decide it (nothing to ask) and when the same thing already waits."""
    verdict = may_decide(by, child, decision, nights=nights, at=at)
    if verdict.allowed:
        raise ActionRefused("You may decide this yourself under the agreement.")
    if verdict.relation is None:
        raise ActionRefused("Only the child's carers in the constellation ask for approval.")
    if (
        Approval.objects.pending()
        .filter(
            child=child,
            decision=decision,
            subject_type=subject_type,
            subject_id=subject_id,
            requested_by=by,
        )
        .exists()
    ):
        raise ActionRefused("The same request is already waiting for an answer.")
    approval = Approval.objects.create(
        child=child,
        decision=decision,
        constellation=constellation_of(child),
        requested_by=by,
        holder=verdict.holder or Holder.SOCIAL_WORKER,
        assigned_to_id=verdict.ask_user_id,
        details=details[:500],
        nights=nights,
        reason_refused_by_rules=verdict.reason[:300],
        subject_type=subject_type,
        subject_id=subject_id,
    )
    record_activity(
        service=child.service,
        constellation=approval.constellation,
        actor=by,
        verb="approval.requested",
        target=approval,
        summary=f"Approval asked for {child.known_as}: {decision.label}",
        payload={"decision": decision.code, "assigned_to": approval.assigned_to_id},
        household=child.household_id,
        children=[child],
    )
    signals.approval_requested.send(sender=Approval, approval=approval)
    return approval


def can_answer(user: User, approval: Approval) -> bool:
    return approval.assigned_to_id == user.pk or (
        Child.objects.managed_by(user).filter(pk=approval.child_id).exists()
    )


def _lock_subject(approval: Approval) -> None:
    # What the approval is about (a sleepover) takes its own locks before the
    # approval's row: the lock order of sleepovers/services/beds.py.
    signals.approval_deciding.send(
        sender=Approval, subject_type=approval.subject_type, subject_id=approval.subject_id
    )


def _move(approval: Approval, to: str, *, by: User | None, note: str = "") -> Approval:
    """Move a locked approval along ``Approval.ALLOWED``, recording who decided, when
    and the note, and writing the activity record. Refused (``ActionRefused``) when
    the table does not allow the move: an answered or withdrawn approval stays so.
    Sends no event: each public verb says what follows."""
    if to not in Approval.ALLOWED[approval.status]:
        raise ActionRefused(
            f"This request was already answered ({approval.get_status_display().lower()})."
        )
    before = approval.status
    approval.status = to
    approval.decided_by = by
    approval.decided_at = timezone.now()
    approval.note = note
    approval.save(update_fields=["status", "decided_by", "decided_at", "note"])
    record_activity(
        service=approval.child.service,
        constellation=approval.constellation,
        actor=by,
        verb=f"approval.{to}",
        target=approval,
        summary=f"{approval.decision.label} for {approval.child.known_as}: "
        f"{approval.get_status_display().lower()}",
        payload={"from": before, "to": to, "note": note[:500]},
        household=approval.child.household_id,
        children=[approval.child_id],
    )
    return approval


def _locked(approval: Approval) -> Approval:
    return (
        Approval.objects.select_for_update(of=("self",))
        .select_related("child__service", "decision")
        .get(pk=approval.pk)
    )


@transaction.atomic
def decide_approval(approval: Approval, *, by: User, approve: bool, note: str = "") -> Approval:
    """The holder approves or refuses (a refusal says why: the carer reads it).
    Refused when the approval is no longer waiting or ``by`` does not hold it."""
    _lock_subject(approval)
    approval = _locked(approval)
    if approval.status == Approval.Status.PENDING and not can_answer(by, approval):
        raise ActionRefused("Only the holder of this decision can answer it.")
    if approval.status == Approval.Status.PENDING and not approve and not note.strip():
        raise ActionRefused("Say why the request is refused: the carer will read it.")
    to = Approval.Status.APPROVED if approve else Approval.Status.REFUSED
    _move(approval, to, by=by, note=note)
    signals.approval_decided.send(sender=Approval, approval=approval)
    return approval


@transaction.atomic
def withdraw_approval(approval: Approval, *, by: User) -> Approval:
    """The person who asked no longer asks. The action that waited for the answer is
    told (``approval_decided``) and stops. Refused for anyone else, and once answered."""
    _lock_subject(approval)
    approval = _locked(approval)
    if approval.requested_by_id != by.pk:
        raise ActionRefused("Only the person who asked can withdraw the request.")
    _move(approval, Approval.Status.WITHDRAWN, by=by)
    signals.approval_decided.send(sender=Approval, approval=approval)
    return approval


@transaction.atomic
def withdraw_approvals(
    *, subject_type: str, subject_id: int, by: User | None, reason: str
) -> list[Approval]:
    """Withdraw every approval still waiting for the action ``subject_type`` /
    ``subject_id`` (a sleepover declined or cancelled), each with ``reason`` and an
    activity record; answered ones stay as they are. Returns those withdrawn. Sends
    no ``approval_decided``: the action itself is what ended, and its caller moves it."""
    waiting = (
        Approval.objects.pending()
        .filter(subject_type=subject_type, subject_id=subject_id)
        .select_for_update(of=("self",))
        .select_related("child__service", "decision")
        .order_by("pk")
    )
    return [_move(approval, Approval.Status.WITHDRAWN, by=by, note=reason) for approval in waiting]


# --- reviews -----------------------------------------------------------------------


def due_for_review(agreements, *, today: date | None = None):
    """The newest version of each agreement whose review is due within 30 days or overdue."""
    today = today or timezone.localdate()
    return (
        agreements.latest_versions()
        .filter(review_on__lte=today + timedelta(days=REVIEW_WINDOW_DAYS))
        .filter(child__status=Child.Status.PLACED)
        .select_related("child", "child__household")
        .order_by("review_on")
    )


def send_review_reminders(*, today: date | None = None) -> int:
    """Remind liaison workers once when a review comes within 30 days and once when it
    is overdue. Found by querying, so a day missed while the worker was down is caught up."""
    today = today or timezone.localdate()
    sent = 0
    for agreement in due_for_review(Agreement.objects.all(), today=today):
        kind = (
            ReviewReminder.Kind.OVERDUE if agreement.review_on < today else ReviewReminder.Kind.SOON
        )
        try:
            with transaction.atomic():
                ReviewReminder.objects.create(agreement=agreement, kind=kind)
                constellation = constellation_of(agreement.child)
                liaison_ids = (
                    list(
                        LiaisonAssignment.objects.current()
                        .filter(constellation=constellation)
                        .values_list("user_id", flat=True)
                    )
                    if constellation
                    else []
                )
                record_activity(
                    service=agreement.child.service,
                    constellation=constellation,
                    actor=None,
                    verb=f"agreement.review_{kind}",
                    target=agreement,
                    summary=f"Delegated authority for {agreement.child.known_as} "
                    + (
                        "is overdue for review"
                        if kind == "overdue"
                        else f"is due for review on {agreement.review_on:%d %B}"
                    ),
                    payload={
                        "review_on": agreement.review_on.isoformat(),
                        "liaison_ids": liaison_ids,
                    },
                    household=agreement.child.household_id,
                    children=[agreement.child_id],
                )
                signals.review_due.send(
                    sender=Agreement, agreement=agreement, kind=kind, liaison_ids=liaison_ids
                )
        except IntegrityError:
            continue  # already reminded
        sent += 1
    return sent
