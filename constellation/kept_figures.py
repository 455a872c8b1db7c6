"""The dashboards' figures, kept between pages (issue 12).

A fostering manager's dashboard reads about sixty aggregates over a year of a whole
service: seconds at the size of a large service, the same every time nothing has
happened. So the three computations of ``measures`` the pages and exports read
(``figures``, ``monthly`` and ``household_nights``) are kept in the cache under a
key made of:

- the constellations (their ids) and the period (its first and last day);
- London's today, which the default period and "at the end of the period" (a
  month under way is read on today) depend on;
- the **data version**: the newest row of the activity record of their fostering
  service(s), and the count of its latest rows (``data_version``). Every service
  that changes what the measures count (requests and answers, stays, crises passed
  beyond the hub, events held, check-ins, concerns, approvals and agreements,
  memberships, carers, placements) writes that record in the transaction of the
  change, so after a change the key is new and the next page reads the live
  measures again. What is kept is what ``measures`` gives, never a figure of its own,
  so a kept page and a live one cannot disagree.

A change that writes no activity (an administrator editing a row in the admin) shows
within ``KEEP_SECONDS``. Nothing personal is in a key; the kept values are the
figures the page shows (counts by constellation and household id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.utils import timezone

from . import measures
from .models import Activity, Constellation
from .periods import Period

# The longest a kept figure is read: the bound on a change the activity record does
# not see (the admin). Pages read after any recorded change are live.
KEEP_SECONDS = 15 * 60


# How far back, in ids of the activity record, a row committed late is still seen.
LATE_ROWS = 1000


def data_version(ids: Iterable[int]) -> str:
    """The version of the figures of the constellations ``ids``: the newest row (by
    id) of the activity record of their fostering service(s), and how many of their
    rows have an id above the ``LATE_ROWS`` ids before it. The count catches a change
    whose transaction took its id first but committed after a newer one had been
    read (the newest id does not move then, but the count does). ``"0"`` when they
    have none. Three queries, the last two served by the ``activity_service_id``
    index and reading at most about ``LATE_ROWS`` of its entries."""
    services = sorted(
        set(Constellation.objects.filter(pk__in=list(ids)).values_list("service", flat=True))
    )
    rows = Activity.objects.filter(service__in=services)
    newest = rows.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        return "0"
    recent = rows.filter(id__gt=newest - LATE_ROWS).count()
    return f"{newest}+{recent}"


def _key(name: str, ids: list[int], period: Period, version: str) -> str:
    raw = f"{name}|{','.join(map(str, ids))}|{period.first}|{period.last}"
    raw += f"|{timezone.localdate()}|{version}"
    return "dashboard-figures:" + hashlib.sha256(raw.encode()).hexdigest()


def _kept(name: str, ids, period: Period, compute: Callable, version: str | None):
    ids = sorted(measures._ids(ids))
    version = version if version is not None else data_version(ids)
    key = _key(name, ids, period, version)
    found = cache.get(key)
    if found is None:
        found = compute(ids, period)
        cache.set(key, found, KEEP_SECONDS)
    return found


def page_key(version: str, ids, period: Period, *parts) -> str:
    """The key of a dashboard page's rendered charts and tables (the template's
    ``{% cache %}`` fragment): the figures' key and whatever else the fragment shows
    (``parts``: the scope, the month, the filters' query string)."""
    return _key("page", sorted(measures._ids(ids)), period, version + repr(parts))[-40:]


def figures(constellations, period: Period, *, version: str | None = None) -> measures.Figures:
    """``measures.figures`` of the constellations (objects or ids) over the period, kept
    until the data version changes. ``version``: a ``data_version`` already read for
    the same constellations (a page reading several periods asks it once)."""
    return _kept("figures", constellations, period, measures.figures, version)


def monthly(constellations, period: Period, *, version: str | None = None) -> dict:
    """``measures.monthly`` (the charts' series by London month), kept as ``figures``."""
    return _kept("monthly", constellations, period, measures.monthly, version)


def household_nights(ids, period: Period, *, version: str | None = None) -> list[dict]:
    """``measures.household_nights`` (the fairness table's rows), kept as ``figures``."""
    return _kept("household_nights", ids, period, measures.household_nights, version)


def dashboard_scopes() -> list[list[int]]:
    """The sets of constellations whose dashboards are read: each fostering service's
    (its managers') and each active liaison worker's own, without repeats. Sorted
    ids; one query per liaison worker."""
    from people.models import StaffRole

    scopes: set[tuple[int, ...]] = set()
    by_service: dict[int, list[int]] = {}
    for pk, service in Constellation.objects.values_list("pk", "service"):
        by_service.setdefault(service, []).append(pk)
    scopes.update(tuple(sorted(ids)) for ids in by_service.values())
    for role in (
        StaffRole.objects.active().filter(role=StaffRole.Role.LIAISON).select_related("user")
    ):
        ids = sorted(Constellation.objects.managed_by(role.user).values_list("pk", flat=True))
        if ids:
            scopes.add(tuple(ids))
    return [list(s) for s in sorted(scopes)]


def make_ready(today=None) -> int:
    """Compute and keep what the dashboards' default page reads (the twelve months to
    this month and the twelve before them, the charts' series and the fairness rows)
    for every scope of ``dashboard_scopes`` whose figures are not kept for their
    current data version, so that the first page read after a change finds them.
    Run by the beat every 5 minutes. Returns how many scopes were computed."""
    today = today or timezone.localdate()
    period = Period.default(today)
    computed = 0
    for ids in dashboard_scopes():
        version = data_version(ids)
        if cache.get(_key("figures", ids, period, version)) is not None:
            continue
        figures(ids, period, version=version)
        figures(ids, period.previous(), version=version)
        monthly(ids, period, version=version)
        household_nights(ids, period, version=version)
        computed += 1
    return computed
