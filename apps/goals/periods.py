"""Periods of targets and reports: a year, a quarter, a month or a week (Monday to Sunday).

A week target inside a month is clipped to the month (a month decomposes into the parts of its
weeks that fall in it, so the weeks add up to the month exactly); `Period` therefore carries
its own start and end.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from .choices import PeriodKind


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # included
    kind: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def label(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return _("%(year)s (year)") % {"year": self.start.year}
        if self.kind == PeriodKind.QUARTER:
            return _("%(year)s Q%(quarter)s") % {
                "year": self.start.year,
                "quarter": (self.start.month - 1) // 3 + 1,
            }
        if self.kind == PeriodKind.MONTH:
            return _("%(year)s-%(month)s") % {
                "year": self.start.year,
                "month": f"{self.start.month:02d}",
            }
        return _("Week of %(start)s – %(end)s") % {
            "start": f"{self.start:%m-%d}",
            "end": f"{self.end:%m-%d}",
        }

    def previous(self) -> Period:
        """The period of the same kind just before (a week: the whole week before)."""
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        """The period of the same kind just after (a week: the whole week after)."""
        return period_of(self.kind, self.end + timedelta(days=1))

    def same_last_year(self) -> Period:
        """The same period a year earlier (year on year)."""
        if self.kind == PeriodKind.WEEK:
            return period_of(self.kind, self.start - timedelta(weeks=52))
        return period_of(self.kind, _year_earlier(self.start))

    def children(self) -> list[Period]:
        """The next level down the calendar: a year's quarters, a quarter's months, a month's
        weeks (clipped to the month). A week has none."""
        if self.kind == PeriodKind.YEAR:
            return [
                period_of(PeriodKind.QUARTER, date(self.start.year, m, 1)) for m in (1, 4, 7, 10)
            ]
        if self.kind == PeriodKind.QUARTER:
            return [
                period_of(PeriodKind.MONTH, date(self.start.year, self.start.month + i, 1))
                for i in range(3)
            ]
        if self.kind == PeriodKind.MONTH:
            weeks, day = [], self.start
            while day <= self.end:
                week = period_of(PeriodKind.WEEK, day)
                weeks.append(Period(max(week.start, self.start), min(week.end, self.end), "week"))
                day = week.end + timedelta(days=1)
            return weeks
        return []


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def period_of(kind: str, day: date) -> Period:
    """The period of `kind` that contains `day`."""
    if kind == PeriodKind.YEAR:
        return Period(date(day.year, 1, 1), date(day.year, 12, 31), kind)
    if kind == PeriodKind.QUARTER:
        first = (day.month - 1) // 3 * 3 + 1
        last = first + 2
        return Period(
            date(day.year, first, 1),
            date(day.year, last, calendar.monthrange(day.year, last)[1]),
            kind,
        )
    if kind == PeriodKind.MONTH:
        return Period(
            date(day.year, day.month, 1),
            date(day.year, day.month, calendar.monthrange(day.year, day.month)[1]),
            kind,
        )
    if kind == PeriodKind.WEEK:
        monday = day - timedelta(days=day.weekday())
        return Period(monday, monday + timedelta(days=6), kind)
    raise ValueError(f"unknown period kind {kind!r}")


def period_between(kind: str, start: date, end: date) -> Period:
    """A period given by its bounds (e.g. a clipped week read back from a target)."""
    return Period(start, end, kind)
