"""Writes of the platform's own records (not of any business document)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .models import WorkerHeartbeat

# A worker not seen for this long is gone for good (a replaced container, a renamed host).
HEARTBEAT_KEEP = timedelta(days=7)


@transaction.atomic
def worker_heartbeat_record(*, hostname: str, at: datetime | None = None) -> None:
    """Stamp `hostname` as seen at `at` (now by default) and forget workers gone for a week.

    One `INSERT … ON CONFLICT (hostname) DO UPDATE`, so that two workers, or the same job run
    twice, never collide on the unique hostname; the purge is one set-based DELETE.
    """
    at = at or timezone.now()
    WorkerHeartbeat.objects.bulk_create(
        [WorkerHeartbeat(hostname=hostname, seen_at=at)],
        update_conflicts=True,
        unique_fields=["hostname"],
        update_fields=["seen_at"],
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=at - HEARTBEAT_KEEP).delete()
