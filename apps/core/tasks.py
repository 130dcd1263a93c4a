"""Celery jobs of the platform itself."""

from __future__ import annotations

import socket

from celery import Task, shared_task

from .services import worker_heartbeat_record


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self: Task) -> None:
    """Stamp the heartbeat of the worker running this job (beat schedules it every minute)."""
    worker_heartbeat_record(hostname=self.request.hostname or socket.gethostname())
