"""Goals jobs (Celery): thin wrappers over the services, with today's business date (the
project's TIME_ZONE, Asia/Shanghai). Each task is named explicitly so that beat and the worker
agree on the name."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import closing, mailing, rollup, snapshots
from .choices import PeriodKind


@shared_task(name="apps.goals.tasks.close_periods")
def close_periods() -> dict[str, int]:
    """00:30: close the periods that ended, roll the gaps over, open the reviews."""
    return closing.period_close(today=timezone.localdate()).as_dict()


@shared_task(name="apps.goals.tasks.snapshot_attainment")
def snapshot_attainment() -> int:
    """01:00: the day's attainment snapshot (after the close, so closed targets are final)."""
    return snapshots.snapshot_attainment(as_of=timezone.localdate())


@shared_task(name="apps.goals.tasks.send_weekly_reports")
def send_weekly_reports() -> int:
    """Monday 07:00: last week's attainment report to every rep, supervisor and manager."""
    return mailing.send_attainment_reports(kind=PeriodKind.WEEK, today=timezone.localdate())


@shared_task(name="apps.goals.tasks.send_monthly_reports")
def send_monthly_reports() -> int:
    """The 1st, 07:00: last month's attainment report."""
    return mailing.send_attainment_reports(kind=PeriodKind.MONTH, today=timezone.localdate())


@shared_task(name="apps.goals.tasks.refresh_actuals")
def refresh_actuals() -> dict[str, int]:
    """00:45: the monthly rollup of the actuals — every stale or missing sealed month of the
    last 36, per metric (after the close, before the snapshot that reads them)."""
    return rollup.refresh_recent(today=timezone.localdate())
