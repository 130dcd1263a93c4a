"""Periodic approval jobs (Celery beat): thin wrappers over the services."""

from celery import shared_task

from . import services


@shared_task(name="apps.approvals.tasks.send_reminders")
def send_reminders() -> int:
    return services.approval_send_reminders()


@shared_task(name="apps.approvals.tasks.escalate_overdue")
def escalate_overdue() -> int:
    return services.approval_escalate_overdue()
