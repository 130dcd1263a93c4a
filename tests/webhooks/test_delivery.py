"""Webhook deliveries against a local receiver: the signed body, retries with backoff, the
failure limit, redelivery with the same event id, nothing for a rolled-back transaction."""

from __future__ import annotations

import json
import time

import pytest
from django.db import transaction

from apps.webhooks import services
from apps.webhooks.choices import DeliveryStatus, EventType
from apps.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.core.test_celery_worker import queue, wait_for, worker  # noqa: F401 (fixtures)


def _subscribe(org, url: str, events=(EventType.PAYMENT_ALLOCATED,)) -> WebhookSubscription:
    return services.subscription_create(
        by=org.admin, data={"name": "ERP", "url": url, "event_types": list(events)}
    )


def test_an_event_nobody_subscribed_to_stores_nothing(org, receiver):
    _subscribe(org, receiver.url, events=[EventType.CONTRACT_SIGNED])

    assert services.webhook_emit(EventType.PAYMENT_ALLOCATED, data={"id": 1}) is None

    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_rolled_back_transaction_raises_no_event(
    org, receiver, django_capture_on_commit_callbacks
):
    _subscribe(org, receiver.url)

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.webhook_emit(EventType.PAYMENT_ALLOCATED, data={"id": 1})
        raise RuntimeError("the domain change failed")

    assert callbacks == []
    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_an_attempt_posts_the_signed_envelope(org, receiver):
    subscription = _subscribe(org, receiver.url)
    event = services.webhook_emit(
        EventType.PAYMENT_ALLOCATED, data={"payment": 7, "amount": "1200.50"}
    )
    delivery = WebhookDelivery.objects.get(event=event)

    assert services.delivery_attempt(delivery.pk) is None

    (got,) = receiver.received
    body = json.loads(got.body)
    assert body == {
        "id": str(event.id),
        "type": "payment.allocated",
        "created_at": event.created_at.isoformat(),
        "data": {"payment": 7, "amount": "1200.50"},
    }
    assert got.headers["X-Salesctl-Event"] == "payment.allocated"
    assert got.headers["X-Salesctl-Event-Id"] == str(event.id)
    assert got.headers["X-Salesctl-Delivery"] == str(delivery.pk)
    assert services.verify(
        subscription.secret, got.headers["X-Salesctl-Timestamp"], got.body,
        got.headers["X-Salesctl-Signature"],
    )  # fmt: skip
    # a tampered body or another secret does not verify
    assert not services.verify(
        subscription.secret, got.headers["X-Salesctl-Timestamp"], got.body + b" ",
        got.headers["X-Salesctl-Signature"],
    )  # fmt: skip
    assert not services.verify(
        "whsec_other", got.headers["X-Salesctl-Timestamp"], got.body,
        got.headers["X-Salesctl-Signature"],
    )  # fmt: skip
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)


def test_an_old_timestamp_does_not_verify(org):
    body = b'{"id":"x"}'
    old = int(time.time()) - 3600
    assert not services.verify("s", str(old), body, services.sign("s", old, body))
    assert services.verify("s", str(old), body, services.sign("s", old, body), tolerance=7200)


def test_a_failed_attempt_is_retried_later_with_a_growing_delay(org, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.statuses = [500, 503]
    _subscribe(org, receiver.url)
    event = services.webhook_emit(EventType.PAYMENT_ALLOCATED, data={"id": 1})
    delivery = WebhookDelivery.objects.get(event=event)

    assert services.delivery_attempt(delivery.pk) == 30
    # not due yet: a second attempt now (a duplicate message) does nothing
    assert services.delivery_attempt(delivery.pk) is None
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert delivery.response_body == "receiver says no"

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    assert services.delivery_attempt(delivery.pk) == 60
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    assert services.delivery_attempt(delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)


def test_a_delivery_fails_for_good_after_the_limit(org, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [500, 500, 500]
    _subscribe(org, receiver.url)
    event = services.webhook_emit(EventType.PAYMENT_ALLOCATED, data={"id": 1})
    delivery = WebhookDelivery.objects.get(event=event)

    assert services.delivery_attempt(delivery.pk) is not None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    assert services.delivery_attempt(delivery.pk) is None

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert services.delivery_attempt(delivery.pk) is None  # failed: never attempted again
    assert len(receiver.received) == 2


def test_an_unreachable_receiver_is_an_error_not_a_crash(org, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    _subscribe(org, "http://127.0.0.1:9/nothing-listens-here")
    event = services.webhook_emit(EventType.PAYMENT_ALLOCATED, data={"id": 1})
    delivery = WebhookDelivery.objects.get(event=event)

    assert services.delivery_attempt(delivery.pk) is not None

    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.response_status is None
    assert delivery.error


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_in_a_real_worker_a_committed_event_is_delivered_after_retries(
    org,
    receiver,
    worker,  # noqa: F811
    queue,  # noqa: F811
    settings,
):
    # given a receiver that fails twice, and deliveries on this test's queue
    settings.WEBHOOK_QUEUE = queue
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.2
    receiver.statuses = [500, 502]
    subscription = _subscribe(org, receiver.url)

    # when an event is raised in a transaction that commits
    with transaction.atomic():
        event = services.webhook_emit(EventType.PAYMENT_ALLOCATED, data={"id": 42})

    # then the worker delivers it on the third attempt, each carrying the same event id
    assert receiver.wait(3), f"got {len(receiver.received)} attempts"
    assert {r.headers["X-Salesctl-Event-Id"] for r in receiver.received} == {str(event.id)}
    delivery = WebhookDelivery.objects.get(event=event, subscription=subscription)
    assert wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded")
    delivery.refresh_from_db()
    assert delivery.attempts == 3

    # and a manual redelivery sends the same event again as a new delivery in the log
    again = services.delivery_redeliver(delivery=delivery, by=org.admin)
    assert receiver.wait(4)
    assert receiver.received[-1].headers["X-Salesctl-Event-Id"] == str(event.id)
    assert wait_for(lambda: WebhookDelivery.objects.get(pk=again.pk).status == "succeeded")
    assert WebhookDelivery.objects.filter(event=event).count() == 2
