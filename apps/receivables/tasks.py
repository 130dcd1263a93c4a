"""Receivables jobs (Celery): thin wrappers over the job functions."""

from celery import shared_task
from django.db import OperationalError

from . import jobs


# A deadlock with a payment allocation (rare: the allocation locks a few installments while
# the job updates many) aborts one of them; the job is idempotent, so it simply runs again.
@shared_task(
    name="apps.receivables.tasks.daily_run",
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    max_retries=5,
)
def daily_run() -> dict:
    run = jobs.receivables_daily_run()
    return {"skipped": run.skipped, "changes": run.changes, "notified": run.notified}
