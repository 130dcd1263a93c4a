"""Reads of the platform's own records (not scoped: they hold no business data)."""

from __future__ import annotations

from .models import WorkerHeartbeat


def worker_heartbeat_last() -> WorkerHeartbeat | None:
    """The most recent worker heartbeat, or None when no worker has ever run a job."""
    return WorkerHeartbeat.objects.order_by("-seen_at").first()
