"""Domain events of delegated authority. The notifications capability turns them
into alerts; the sleepovers capability completes or stops a waiting acceptance."""

from django.dispatch import Signal

# sender=Approval, approval=Approval
approval_requested = Signal()
# sender=Approval, subject_type=str, subject_id=int|None: inside the transaction that
# decides or withdraws an approval, before its row is locked, so that its subject
# takes its own locks first
approval_deciding = Signal()
# sender=Approval, approval=Approval (status approved or refused)
approval_decided = Signal()
# sender=Agreement, agreement=Agreement, kind="soon"|"overdue", liaison_ids=list[int]
review_due = Signal()
