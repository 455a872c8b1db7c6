"""Domain events of delegated authority. The notifications capability turns them
into alerts; the sleepovers capability completes or stops a waiting acceptance."""

from django.dispatch import Signal

# sender=Approval, approval=Approval
approval_requested = Signal()
# sender=Approval, approval=Approval (status approved or refused)
approval_decided = Signal()
# sender=Agreement, agreement=Agreement, kind="soon"|"overdue", liaison_ids=list[int]
review_due = Signal()
