"""The periods the dashboards and the evaluation return are read over: whole London
months, from the first day of one month to the last day of another (issue 12)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from calendar_events.recurrence import london_midnight

# The longest range a dashboard is read over: ten years (120 months). A longer one
# is refused with a message rather than read (a range of 50 years is a typing slip).
MAX_MONTHS = 120
DEFAULT_MONTHS = 12
# The years a period may fall in: a month outside them is "no such month" (a 400),
# so that the period before it and the moment after it are still dates.
FIRST_YEAR, LAST_YEAR = 1900, 9998


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month (negative: before)."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


class PeriodError(ValueError):
    """A period the dashboards refuse: its message is shown to the user with a 400."""


@dataclass(frozen=True)
class Period:
    """Whole months from ``first`` (a first of the month) to ``last`` (a last day of
    a month), both London dates, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(
                "The period ends before it starts: choose an end month after the start month."
            )
        if self.months_count > MAX_MONTHS:
            raise PeriodError(
                f"The period is {self.months_count} months long; "
                f"choose at most {MAX_MONTHS // 12} years."
            )

    @classmethod
    def of_months(cls, first_month: date, last_month: date) -> Period:
        """From the first day of ``first_month``'s month to the last day of ``last_month``'s."""
        return cls(month_start(first_month), month_end(last_month))

    @classmethod
    def default(cls, today: date) -> Period:
        """The twelve months ending with ``today``'s month (the current month so far
        and the eleven before it)."""
        return cls.of_months(add_months(today, -(DEFAULT_MONTHS - 1)), today)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """The one month ``year``-``month``; PeriodError unless the month exists and the
        year is within FIRST_YEAR..LAST_YEAR."""
        if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
            raise PeriodError("There is no such month.")
        day = date(year, month, 1)
        return cls.of_months(day, day)

    @property
    def months_count(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def months(self) -> list[date]:
        """The first day of each month of the period, in order."""
        return [add_months(self.first, i) for i in range(self.months_count)]

    def previous(self) -> Period:
        """The period of the same number of months just before this one."""
        return Period.of_months(
            add_months(self.first, -self.months_count), add_months(self.first, -1)
        )

    def quarters(self) -> list[Period]:
        """The calendar quarters (January–March, ...) the period touches, each cut to the
        period: the rows of the evaluation return."""
        out = []
        start = self.first
        while start <= self.last:
            quarter_last_month = date(start.year, ((start.month - 1) // 3) * 3 + 3, 1)
            end = min(month_end(quarter_last_month), self.last)
            out.append(Period(start, end))
            start = end + timedelta(days=1)
        return out

    @property
    def start(self) -> datetime:
        """The aware moment the period starts: London midnight of ``first``."""
        return london_midnight(self.first)

    @property
    def end(self) -> datetime:
        """The aware moment just after the period: London midnight after ``last``."""
        return london_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def label(self) -> str:
        if self.first.year == self.last.year and self.first.month == self.last.month:
            return f"{self.first:%B %Y}"
        return f"{self.first:%B %Y} to {self.last:%B %Y}"

    def quarter_label(self) -> str:
        return f"{self.first.year} Q{(self.first.month - 1) // 3 + 1}"
