"""What the platform records about itself, outside any business domain."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker proved it was running jobs (worker heartbeat).

    Beat schedules `apps.core.tasks.record_worker_heartbeat` every minute; whichever worker takes
    it stamps its own node name here. A stale newest row means beat or every worker is down,
    which no web request would otherwise notice: /healthz and the admin home show it as
    information, never as a failure (the web tier is healthy without a worker).
    """

    hostname = models.CharField(_("worker"), max_length=255, unique=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
