"""The dashboards (issue 12): the service's (a fostering manager's, or a liaison
worker's constellations), one constellation's with its months, a month's, the
exports of every table and the evaluation return. Who may: ``access``; the figures:
``measures`` through ``dashboards``. Bad filters answer 400 with the message."""

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from people.audit import record as audit
from people.models import AuditEntry

from . import access, dashboards, exports, kept_figures
from .dashboard_forms import ExportForm, PeriodForm
from .models import ExportRecord
from .periods import Period, PeriodError

# A record id in a query string: ASCII digits that fit the database's bigint.
ASCII_ID = re.compile(r"[0-9]{1,18}")


def _period_form(request):
    form = PeriodForm(request.GET or None, today=timezone.localdate())
    if not form.is_bound:
        form = PeriodForm({}, today=timezone.localdate())
    return form


def _bad_filters(request, form, template="constellation/dashboards/bad_filters.html"):
    return render(request, template, {"form": form}, status=400)


def _page(request, constellations, period: Period, *, form, scope=None, month=None):
    names = {c.pk: c.name for c in constellations}
    version = kept_figures.data_version(names)
    current = kept_figures.figures(names, period, version=version)
    previous = kept_figures.figures(names, period.previous(), version=version)
    query = f"start={period.first:%Y-%m}&end={period.last:%Y-%m}"

    def tables():
        found = dashboards.theme_tables(current, names)
        found.append(dashboards.fairness_table(list(names), names, period, version=version))
        if scope is None:
            for table in found:
                for row in table.rows:
                    if row.get("constellation_id"):
                        pk = row["constellation_id"]
                        row["link"] = reverse("dashboards:constellation", args=[pk]) + "?" + query
        return found

    def series():
        return kept_figures.monthly(names, period, version=version)

    # The charts and tables are built only when the page's kept fragment is missing.
    return {
        "form": form,
        "period": period,
        "previous": period.previous(),
        "headline": dashboards.headline(current, previous),
        "tables": SimpleLazyObject(tables),
        "charts": SimpleLazyObject(lambda: dashboards.charts(series(), period)),
        "months": SimpleLazyObject(lambda: dashboards.month_table(series(), period)),
        "constellations": constellations,
        "scope": scope,
        "month": month,
        "query": query,
        "keep_seconds": kept_figures.KEEP_SECONDS,
        "page_key": kept_figures.page_key(
            version, names, period, scope.pk if scope else None, bool(month), query
        ),
    }


@login_required
@require_safe
def service(request):
    """A fostering manager's dashboard of the service, or a liaison worker's of
    their constellations: headline, charts, a row per constellation."""
    constellations = list(access.dashboard_constellations(request.user))
    form = _period_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    context = _page(request, constellations, form.cleaned_data["period"], form=form)
    return render(request, "constellation/dashboards/dashboard.html", context)


@login_required
@require_safe
def constellation(request, pk: int, year: int | None = None, month: int | None = None):
    """One constellation's dashboard for the filtered period, or for one month."""
    found = access.get_dashboard_constellation(request.user, pk)
    form = _period_form(request)
    if year is not None:
        try:
            period = Period.month(year, month)
        except PeriodError as error:
            raise Http404(str(error)) from error
    else:
        if not form.is_valid():
            return _bad_filters(request, form)
        period = form.cleaned_data["period"]
    context = _page(request, [found], period, form=form, scope=found, month=year is not None)
    return render(request, "constellation/dashboards/dashboard.html", context)


def _export(request, tables, *, name: str, title: str, filters: dict, service):
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render(
            request, "constellation/dashboards/bad_filters.html", {"form": form}, status=400
        )
    fmt = form.cleaned_data["format"]
    export_record = ExportRecord.objects.create(
        user=request.user,
        service=service,
        table=name,
        format=fmt,
        filters=filters,
        rows=sum(len(t.rows) for t in tables),
    )
    audit(
        AuditEntry.Action.EXPORT,
        actor=request.user,
        service=service,
        target=export_record,
        request=request,
        detail=f"{name} ({fmt}), {filters['start']} to {filters['end']}, {export_record.rows} rows",
    )
    stem = f"{name}-{filters['start']}-to-{filters['end']}"
    if fmt == "csv":
        return exports.csv_response(tables[0], filename=f"{stem}.csv")
    return exports.xlsx_response(tables, filename=f"{stem}.xlsx", title=title)


@login_required
@require_safe
def export(request, table: str):
    """A table of the dashboard (``?format=csv|xlsx``, same filters as the page, and
    ``constellation=<id>`` for one constellation's); ``all`` is every table in one
    workbook. Written to the export audit trail."""
    constellations = list(access.dashboard_constellations(request.user))
    if table not in [*dashboards.TABLE_NAMES, "all"]:
        raise Http404("No such table.")
    if request.GET.get("constellation"):
        text = request.GET["constellation"]
        if not ASCII_ID.fullmatch(text):
            raise Http404("No such constellation.")
        pk = int(text)
        constellations = [access.get_dashboard_constellation(request.user, pk)]
    form = _period_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    if table == "all" and request.GET.get("format") == "csv":
        form.add_error(None, "All the tables come as one Excel workbook: choose XLSX.")
        return _bad_filters(request, form)
    period = form.cleaned_data["period"]
    names = {c.pk: c.name for c in constellations}
    if table == "months":
        chosen = [dashboards.month_table(kept_figures.monthly(names, period), period)]
    elif table == "fairness":
        chosen = [dashboards.fairness_table(list(names), names, period)]
    else:
        tables = dashboards.theme_tables(kept_figures.figures(names, period), names)
        tables.append(dashboards.fairness_table(list(names), names, period))
        chosen = tables if table == "all" else [t for t in tables if t.name == table]
    filters = {
        "start": f"{period.first:%Y-%m}",
        "end": f"{period.last:%Y-%m}",
        "constellations": sorted(names),
    }
    return _export(
        request,
        chosen,
        name=table,
        title=f"Dashboard {period.label()}",
        filters=filters,
        service=access.dashboard_service(request.user, constellations),
    )


@login_required
@require_safe
def evaluation_return(request):
    """The evaluation return: one row per constellation per quarter, as a printable
    page, or ``?format=csv|xlsx`` (written to the export audit trail)."""
    constellations = list(access.dashboard_constellations(request.user))
    form = _period_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    period = form.cleaned_data["period"]
    table = dashboards.evaluation_return(constellations, period)
    if request.GET.get("format"):
        filters = {
            "start": f"{period.first:%Y-%m}",
            "end": f"{period.last:%Y-%m}",
            "constellations": sorted(c.pk for c in constellations),
        }
        return _export(
            request,
            [table],
            name="evaluation-return",
            title=f"Evaluation return {period.label()}",
            filters=filters,
            service=access.dashboard_service(request.user, constellations),
        )
    return render(
        request,
        "constellation/dashboards/evaluation_return.html",
        {
            "form": form,
            "period": period,
            "table": table,
            "summary": dashboards.return_summary(table),
            "query": f"start={period.first:%Y-%m}&end={period.last:%Y-%m}",
        },
    )
