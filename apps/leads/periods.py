"""Report periods of the lead reports (the SLA compliance page and its API): named periods
(this week, last month …) as local dates, and a date range as the [start, end) instants the
selectors filter on. Weeks start on Monday; days are those of settings.TIME_ZONE."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A longer range would scan a year and more of leads for one page view.
MAX_PERIOD_DAYS = 366


class Period(models.TextChoices):
    THIS_WEEK = "this_week", _("This week")
    LAST_WEEK = "last_week", _("Last week")
    THIS_MONTH = "this_month", _("This month")
    LAST_MONTH = "last_month", _("Last month")
    CUSTOM = "custom", _("Custom dates")


def today() -> date:
    return timezone.localdate()


def period_dates(period: str, *, on: date | None = None) -> tuple[date, date]:
    """The first and last day (inclusive) of a named period around `on` (default: today)."""
    on = on or today()
    if period == Period.THIS_WEEK:
        start = on - timedelta(days=on.weekday())
        return start, start + timedelta(days=6)
    if period == Period.LAST_WEEK:
        start = on - timedelta(days=on.weekday() + 7)
        return start, start + timedelta(days=6)
    first_of_month = on.replace(day=1)
    if period == Period.LAST_MONTH:
        last = first_of_month - timedelta(days=1)
        return last.replace(day=1), last
    next_month = (first_of_month + timedelta(days=32)).replace(day=1)
    return first_of_month, next_month - timedelta(days=1)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants [start 00:00, the day after end 00:00) in the local time zone."""
    zone = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), zone),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone),
    )
