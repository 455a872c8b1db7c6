"""The read side of the dashboards and the evaluation return (issue 12): the tables,
headline figures and chart series built from ``measures``. A page and its exports
render the same ``tables.Table`` objects, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from calendar_events.models import Event
from sleepovers.models import Kind

from . import kept_figures, measures
from .measures import MEASURES, Figures
from .periods import Period
from .tables import Column, Table

# The tables of a dashboard, by theme: (name, title, measure keys).
THEMES = [
    (
        "support-care",
        "Support care",
        [
            "requests",
            *[f"requests_{k.value}" for k in Kind],
            "stays",
            *[f"stays_{k.value}" for k in Kind],
            "nights",
            "acceptance_rate",
            "declined",
            "expired",
            "cancelled",
            "nights_per_household",
            "nights_per_child",
            "nights_spread",
        ],
    ),
    (
        "crisis",
        "Crisis requests",
        [
            "crisis_requests",
            "crisis_answered",
            "crisis_median_minutes",
            "crisis_p90_minutes",
            "crisis_escalated",
        ],
    ),
    (
        "community",
        "Community",
        [
            "events_held",
            *[f"events_{k.value}" for k in Event.Kind],
            "attending_households",
            "attending_adults",
            "attending_children",
            "attendance_share",
            "meeting_months",
            "months",
            "siblings_apart",
            "siblings_met",
        ],
    ),
    (
        "contact",
        "Contact",
        [
            "coverage",
            "check_ins",
            "check_ins_per_household",
            "concerns_opened",
            "concerns_closed",
            "concerns_open",
        ],
    ),
    (
        "stability",
        "Stability and retention",
        [
            "children",
            "child_years",
            "placement_moves",
            "unplanned_endings",
            "unplanned_rate",
            "households_joined",
            "households_left",
            "household_years",
            "carers_deregistered",
            "deregistration_rate",
            "retention_12m",
        ],
    ),
    (
        "fidelity",
        "Fidelity to the model",
        [
            "active_satellites",
            "satellites_in_model",
            "agreements_in_force",
            "agreements_due",
            "agreements_overdue",
            "children_without_agreement",
        ],
    ),
]
TABLE_NAMES = [name for name, _, _ in THEMES] + ["fairness", "months"]

# The headline figures, with the change from the previous period.
HEADLINE = [
    "requests",
    "stays",
    "nights",
    "acceptance_rate",
    "crisis_median_minutes",
    "coverage",
    "unplanned_rate",
    "retention_12m",
]

CONSTELLATION = Column("constellation", "Constellation", "text", "The constellation's name.")


def _column(key: str) -> Column:
    m = MEASURES[key]
    return Column(m.key, m.label, m.kind, m.definition)


def theme_tables(figures: Figures, names: dict[int, str]) -> list[Table]:
    """One table per theme: a row per constellation (by name) and a total row."""
    tables = []
    for slug, title, keys in THEMES:
        table = Table(slug, title, [CONSTELLATION, *[_column(k) for k in keys]])
        for cid, name in names.items():
            table.rows.append({"constellation": name, "constellation_id": cid, **figures.rows[cid]})
        if len(names) > 1:
            table.rows.append({"constellation": "All constellations", **figures.total})
        tables.append(table)
    return tables


@dataclass(frozen=True)
class Headline:
    measure: measures.Measure
    value: object
    previous: object

    @property
    def change(self):
        """The change from the previous period (None when either is not recorded)."""
        if not isinstance(self.value, int | float) or not isinstance(self.previous, int | float):
            return None
        return self.value - self.previous


def headline(current: Figures, previous: Figures) -> list[Headline]:
    return [Headline(MEASURES[k], current.total.get(k), previous.total.get(k)) for k in HEADLINE]


def fairness_table(ids, names: dict[int, str], period: Period, *, version=None) -> Table:
    """Nights per household in the period (``measures.household_nights``, kept by
    ``kept_figures``), a row per household named by its carers' first names, busiest
    first within a constellation. ``version``: the data version the page read."""
    found = kept_figures.household_nights(ids, period, version=version)
    who = measures.carers_first_names({r["household_id"] for r in found})
    nights = MEASURES["nights"].definition
    table = Table(
        "fairness",
        "Nights per household (fairness)",
        [
            CONSTELLATION,
            Column(
                "household",
                "Household",
                "text",
                "Named by its carers' first names; a satellite in the constellation at the "
                "end of the period with no nights shows 0.",
            ),
            Column("total", "Nights", "int", nights),
            Column("planned", "Planned", "int", "Nights of planned overnight stays."),
            Column("crisis", "Crisis", "int", "Nights of crisis stays."),
            Column("other", "Other", "int", "Nights of temporary placements."),
        ],
    )
    found.sort(key=lambda r: (names[r["constellation_id"]], -r["total"], who[r["household_id"]]))
    for r in found:
        table.rows.append(
            {
                "constellation": names[r["constellation_id"]],
                "household": who[r["household_id"]],
                **r,
            }
        )
    return table


def _label(month: date) -> str:
    return f"{month:%b %Y}"


def charts(series: dict, period: Period) -> list[dict]:
    """The dashboard's charts, as the chart partial reads them (``_chart.html``)."""
    months = period.months()
    labels = [_label(m) for m in months]

    def by_kind(name, choices):
        return [
            {"label": c.label, "values": [series[name][m].get(c.value, 0) for m in months]}
            for c in choices
        ]

    def share(value):
        return None if value is None else round(value * 100, 1)

    return [
        _with_table(chart)
        for chart in [
            {
                "id": "requests-by-month",
                "title": "Requests by month, by kind",
                "type": "stacked-bar",
                "unit": "requests",
                "labels": labels,
                "series": by_kind("requests", Kind),
                "definition": MEASURES["requests"].definition,
            },
            {
                "id": "nights-by-month",
                "title": "Nights provided by month, by kind of stay",
                "type": "stacked-bar",
                "unit": "nights",
                "labels": labels,
                "series": by_kind("nights", [Kind.PLANNED, Kind.CRISIS, Kind.TEMPORARY]),
                "definition": MEASURES["nights"].definition,
            },
            {
                "id": "crisis-response",
                "title": "Crisis requests: minutes to answer",
                "type": "line",
                "unit": "minutes",
                "labels": labels,
                "series": [
                    {
                        "label": "Median",
                        "values": [_round(series["crisis"][m].get("median")) for m in months],
                    },
                    {
                        "label": "90th percentile",
                        "values": [_round(series["crisis"][m].get("p90")) for m in months],
                    },
                ],
                "definition": MEASURES["crisis_median_minutes"].definition
                + " "
                + MEASURES["crisis_p90_minutes"].definition,
            },
            {
                "id": "attendance-by-kind",
                "title": "Households attending events, by kind of event",
                "type": "stacked-bar",
                "unit": "households",
                "labels": labels,
                "series": by_kind("events", Event.Kind),
                "definition": MEASURES["attending_households"].definition,
            },
            {
                "id": "contact-coverage",
                "title": "Satellite households contacted in the month",
                "type": "line",
                "unit": "%",
                "labels": labels,
                "series": [
                    {
                        "label": "Households contacted",
                        "values": [share(series["contact"][m].get("share")) for m in months],
                    }
                ],
                "definition": "The share of the month's active satellite households with at least "
                "one check-in made in that month.",
            },
        ]
    ]


def _with_table(chart: dict) -> dict:
    """Adds what the chart partial renders: the JSON the script reads (``json``, under
    the element id ``data_id``) and the rows of the table behind the chart."""
    chart["data_id"] = f"{chart['id']}-data"
    chart["json"] = {k: chart[k] for k in ("type", "labels", "unit", "series")}
    columns = [s["values"] for s in chart["series"]]
    chart["rows"] = [(label, [c[i] for c in columns]) for i, label in enumerate(chart["labels"])]
    return chart


def _round(value):
    return None if value is None else round(value, 1)


def month_table(series: dict, period: Period) -> Table:
    """A row per month of the chart series (the drill-down's table)."""
    columns = [
        Column("month", "Month", "text", "The London calendar month."),
        Column("requests", "Requests", "int", MEASURES["requests"].definition),
        Column("nights", "Nights provided", "int", MEASURES["nights"].definition),
        Column(
            "crisis_median",
            "Crisis: median minutes",
            "float",
            MEASURES["crisis_median_minutes"].definition,
        ),
        Column(
            "attending", "Households attending", "int", MEASURES["attending_households"].definition
        ),
        Column("check_ins", "Check-ins made", "int", MEASURES["check_ins"].definition),
    ]
    table = Table("months", "Month by month", columns)
    for m in period.months():
        table.rows.append(
            {
                "month": f"{m:%B %Y}",
                "month_date": m,
                "requests": sum(series["requests"][m].values()),
                "nights": sum(series["nights"][m].values()),
                "crisis_median": _round(series["crisis"][m].get("median")),
                "attending": sum(series["events"][m].values()),
                "check_ins": series["contact"][m].get("check_ins", 0),
            }
        )
    return table


# The evaluation return's measures, in its column order.
RETURN_KEYS = [
    "requests",
    *[f"requests_{k.value}" for k in Kind],
    "stays",
    "nights",
    "acceptance_rate",
    "declined",
    "expired",
    "cancelled",
    "crisis_requests",
    "crisis_answered",
    "crisis_median_minutes",
    "crisis_p90_minutes",
    "crisis_escalated",
    "nights_per_household",
    "nights_per_child",
    "nights_spread",
    "events_held",
    "attending_households",
    "attending_adults",
    "attending_children",
    "attendance_share",
    "meeting_months",
    "months",
    "siblings_apart",
    "siblings_met",
    "coverage",
    "check_ins",
    "check_ins_per_household",
    "concerns_opened",
    "concerns_closed",
    "concerns_open",
    "children",
    "child_years",
    "placement_moves",
    "unplanned_endings",
    "unplanned_rate",
    "households_joined",
    "households_left",
    "household_years",
    "carers_deregistered",
    "deregistration_rate",
    "retention_12m",
    "active_satellites",
    "satellites_in_model",
    "agreements_in_force",
    "agreements_due",
    "agreements_overdue",
]


def evaluation_return(constellations, period: Period) -> Table:
    """The evaluation return: one row per constellation per calendar quarter of the
    period (a quarter cut by the period counts only its months inside it), with the
    measures of ``RETURN_KEYS``. About 20 queries per quarter."""
    names = {c.pk: c.name for c in constellations}
    columns = [
        Column("quarter", "Quarter", "text", "The calendar quarter (Q1 is January to March)."),
        Column("from", "From", "date", "The first day counted."),
        Column("to", "To", "date", "The last day counted."),
        CONSTELLATION,
        *[_column(k) for k in RETURN_KEYS],
    ]
    table = Table("evaluation-return", "Evaluation return", columns)
    version = kept_figures.data_version(names)
    for quarter in period.quarters():
        found = kept_figures.figures(names, quarter, version=version)
        for cid, name in names.items():
            table.rows.append(
                {
                    "quarter": quarter.quarter_label(),
                    "from": quarter.first,
                    "to": quarter.last,
                    "constellation": name,
                    **found.rows[cid],
                }
            )
    return table


def return_summary(table: Table) -> list[dict]:
    """The evaluation return turned for print: per quarter, a row per measure with a
    value per constellation."""
    quarters: dict[str, list[dict]] = {}
    for row in table.rows:
        quarters.setdefault(row["quarter"], []).append(row)
    measures_columns = table.columns[4:]
    out = []
    for label, rows in quarters.items():
        out.append(
            {
                "label": label,
                "first": rows[0]["from"],
                "last": rows[0]["to"],
                "names": [r["constellation"] for r in rows],
                "lines": [(c, [r.get(c.key) for r in rows]) for c in measures_columns],
            }
        )
    return out
