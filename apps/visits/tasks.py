"""Visit jobs (Celery): thin wrappers over the services."""

from celery import shared_task

from . import (
    services,
    tasks_reports,  # noqa: F401  (registers the weekly-report tasks with the worker)
)


@shared_task(name="apps.visits.tasks.mark_missed_plans")
def mark_missed_plans() -> int:
    return services.visit_plan_mark_missed()
