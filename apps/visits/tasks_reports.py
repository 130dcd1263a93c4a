"""Weekly sales report jobs (Celery): thin wrappers over `apps.visits.reports`.

Celery autodiscovers `tasks.py` only: this module is imported by the app's task loading, and
each task is named explicitly so that beat and the worker agree on the name."""

from celery import shared_task

from . import reports


@shared_task(name="apps.visits.tasks_reports.draft_weekly_reports")
def draft_weekly_reports() -> int:
    """Monday: draft last week's report of every active rep (idempotent)."""
    return reports.weekly_reports_draft()
