"""Contract jobs (Celery): thin wrappers over the services."""

from celery import shared_task

from . import services


@shared_task(name="apps.contracts.tasks.customer_tier_recompute")
def customer_tier_recompute() -> int:
    """Nightly: customer tiers from the last 12 months' signed contracts."""
    return services.customer_tier_recompute()
