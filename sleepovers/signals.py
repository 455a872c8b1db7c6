"""Domain events of sleepovers. The notifications capability turns a crisis into
immediate alerts and escalations; until then it is in the activity record and
on the hub's inbox."""

from django.dispatch import Signal

# sender=Request, request=Request (sent after the request is committed)
crisis_raised = Signal()
