"""Periodic jobs of the API app (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import idempotency_keys_purge


@shared_task(name="apps.api.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Hourly: forget idempotency keys older than IDEMPOTENCY_KEY_TTL_HOURS."""
    return idempotency_keys_purge()
