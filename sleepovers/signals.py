"""Domain events of sleepovers. ``request_changed`` and the cover and limits events
are sent inside the transaction of the change, so that the notifications written
for them (the outbox) commit or roll back with it; ``crisis_raised`` is sent after
the commit, for listeners that act outside the database."""

from django.dispatch import Signal

# sender=Request, request=Request (sent after the request is committed)
crisis_raised = Signal()
# sender=Request, request=Request, before=str ("" when just asked), by=User|None:
# inside the transaction, after the new status is saved and the timeline written
request_changed = Signal()
# sender=HubCover, cover=HubCover, by=User, ended=bool: inside the transaction
cover_changed = Signal()
# sender=LimitOverride, override=LimitOverride, by=User, withdrawn=bool: inside the transaction
override_changed = Signal()
