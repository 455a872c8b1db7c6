"""Every change of a sleepover request, the hub's beds and its availability, by job:
requests (asking, answering, the lifecycle), beds (the nights they hold), availability,
cover (limits, exceptions, a stand-in for the hub) and placements (temporary ones).
The public verbs are re-exported here: ``services.accept(...)``."""

from .availability import (  # noqa: F401
    add_unavailability,
    withdraw_unavailability,
)
from .beds import (  # noqa: F401
    NightFull,
    change_beds,
    lock_for_approval,
    set_usual_beds,
    withdraw_bed_change,
)
from .cover import (  # noqa: F401
    arrange_cover,
    end_cover,
    grant_override,
    settings_for,
    stand_in_problem,
    update_limits,
    withdraw_override,
)
from .limits import (  # noqa: F401
    beds_problem,
    check_limits,
    check_planned,
    check_shape,
    child_nights,
    overrides_for,
    planned_tally,
)
from .placements import (  # noqa: F401
    arrange_temporary_placement,
    end_temporary_placement,
)
from .requests import (  # noqa: F401
    EARLY_MORNING,
    PAST_SLACK,
    _move,
    accept,
    arrived,
    asked_in_words,
    cancel,
    collected,
    create_request,
    crisis_end,
    decline,
    did_not_arrive,
    expire_overdue,
    offer,
    on_approval_decided,
    take_offer,
)
