"""Pipeline jobs (Celery): thin wrappers over the services."""

from celery import shared_task

from . import services


@shared_task(name="apps.opportunities.tasks.flag_stuck")
def flag_stuck() -> dict[str, int]:
    result = services.opportunity_flag_stuck()
    return {"notified": result.notified, "escalated": result.escalated}
