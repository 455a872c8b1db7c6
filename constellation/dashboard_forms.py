"""The dashboards' filters: the period (start and end month) and, for an export,
the format. Bad filters answer 400 with the message (issue 12)."""

import re
from datetime import date

from django import forms

from .periods import FIRST_YEAR, LAST_YEAR, Period, PeriodError

MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)


def _month(text: str, field: str) -> date:
    found = MONTH.match(text.strip())
    if not found:
        raise forms.ValidationError(f"Give the {field} month as YYYY-MM, e.g. 2026-04.")
    year, month = int(found[1]), int(found[2])
    if not 1 <= month <= 12 or not FIRST_YEAR <= year <= LAST_YEAR:
        raise forms.ValidationError(f"There is no month {text.strip()}.")
    return date(year, month, 1)


class PeriodForm(forms.Form):
    """``start`` and ``end`` months (YYYY-MM, both optional: the twelve months to this
    month by default). ``cleaned_data["period"]`` is the ``Period``; a range ending
    before it starts or longer than ten years is refused."""

    start = forms.CharField(
        required=False,
        max_length=7,
        label="From (month)",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )
    end = forms.CharField(
        required=False,
        max_length=7,
        label="To (month)",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_start(self):
        text = self.cleaned_data.get("start") or ""
        return _month(text, "start") if text.strip() else None

    def clean_end(self):
        text = self.cleaned_data.get("end") or ""
        return _month(text, "end") if text.strip() else None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        default = Period.default(self.today)
        start = data.get("start") or (
            default.first if not data.get("end") else Period.default(data["end"]).first
        )
        end = data.get("end") or (
            default.last if not data.get("start") else max(start, default.last)
        )
        if start.year < FIRST_YEAR or end.year > LAST_YEAR:
            raise forms.ValidationError(
                f"The period must lie within {FIRST_YEAR} to {LAST_YEAR}: "
                "give a start month from January 1900 on."
            )
        try:
            data["period"] = Period.of_months(start, end)
        except PeriodError as error:
            raise forms.ValidationError(str(error)) from error
        return data

    def query(self) -> str:
        """The filters as a query string, for the export links."""
        period = self.cleaned_data["period"]
        return f"start={period.first:%Y-%m}&end={period.last:%Y-%m}"


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")],
        error_messages={"required": "Choose the export's format: format=csv or format=xlsx."},
    )
