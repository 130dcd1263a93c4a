"""Customer jobs (Celery): thin wrappers over the services."""

from celery import shared_task

from . import pool


@shared_task(name="apps.customers.tasks.release_pool_due")
def release_pool_due() -> dict[str, int]:
    """Nightly: release neglected customers to the public pool and warn their owners."""
    run = pool.customer_pool_release_due()
    return {"released": run.released, "warned": run.warned}
