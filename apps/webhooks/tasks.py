"""Webhook jobs: one attempt of a delivery (re-queued with its backoff when it failed), and a
sweep every minute that queues the due deliveries whose message was lost."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="apps.webhooks.tasks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    retry_in = services.delivery_attempt(delivery_id)
    if retry_in is not None:
        # a little after next_attempt_at, so that the claim finds it due
        services._enqueue([delivery_id], countdown=retry_in + 0.1)


@shared_task(name="apps.webhooks.tasks.sweep")
def sweep() -> int:
    return services.deliveries_sweep()
