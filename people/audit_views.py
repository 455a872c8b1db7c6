"""The audit trail page (``/audit/``) and its CSV download: thin views over
``people.selectors.audit_entries_for``; who may open them is ``people.access``."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from constellation import exports
from constellation.tables import Column, Table

from .access import may_read_audit
from .audit import record
from .audit_forms import AuditFilterForm
from .models import AuditEntry
from .selectors import audit_entries_for

PAGE_SIZE = 50
# A download holds at most this many entries, newest first; narrow the filters for more.
CSV_MAX_ROWS = 10_000

CSV_COLUMNS = [
    Column("at", "When (London)", "text"),
    Column("action", "Action", "text"),
    Column("actor", "Who", "text"),
    Column("subject", "Account concerned", "text"),
    Column("target", "Record", "text"),
    Column("service", "Fostering service", "text"),
    Column("ip", "IP address", "text"),
    Column("detail", "Detail", "text"),
]


def _form(request) -> AuditFilterForm:
    if not may_read_audit(request.user):
        raise PermissionDenied(
            "Only administrators and fostering managers can read the audit trail."
        )
    return AuditFilterForm(request.GET)


def _bad_filters(request, form):
    return render(request, "people/audit.html", {"form": form, "page": None}, status=400)


@login_required
@require_safe
def audit_trail(request):
    """The entries the reader may see, filtered, 50 a page, newest first."""
    form = _form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    entries = audit_entries_for(request.user, form.filters)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "people/audit.html",
        {"form": form, "page": page, "query": query.urlencode(), "csv_max": CSV_MAX_ROWS},
    )


def _row(entry: AuditEntry) -> dict:
    return {
        "at": f"{timezone.localtime(entry.at):%Y-%m-%d %H:%M:%S}",
        "action": entry.get_action_display(),
        "actor": entry.actor.email if entry.actor else "",
        "subject": entry.subject.email if entry.subject else "",
        "target": entry.target_label,
        "service": str(entry.service) if entry.service else "",
        "ip": entry.ip_address or "",
        "detail": entry.detail,
    }


def _described(filters) -> str:
    """The filters of a download, for its own audit entry. Free text typed in the
    search boxes is named, never copied: it could hold a child's name."""
    parts = []
    if filters.action:
        parts.append(f"action {filters.action}")
    if filters.since:
        parts.append(f"from {filters.since:%Y-%m-%d}")
    if filters.until:
        parts.append(f"to {filters.until:%Y-%m-%d}")
    if filters.actor:
        parts.append("by who")
    if filters.text:
        parts.append("by record text")
    return f"; filtered {', '.join(parts)}" if parts else ""


@login_required
@require_safe
def audit_trail_csv(request):
    """The filtered entries as CSV (at most ``CSV_MAX_ROWS``), itself an audit entry."""
    form = _form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    entries = list(audit_entries_for(request.user, form.filters)[:CSV_MAX_ROWS])
    table = Table(
        name="audit-trail",
        title="Audit trail",
        columns=CSV_COLUMNS,
        rows=[_row(entry) for entry in entries],
    )
    record(
        AuditEntry.Action.EXPORT,
        actor=request.user,
        request=request,
        detail=f"Audit trail (csv), {len(entries)} entries{_described(form.filters)}",
    )
    return exports.csv_response(table, filename=f"audit-trail-{timezone.localdate():%Y-%m-%d}.csv")
