"""Query budgets of the webhook lists (issue 10): the subscriptions page and the
subscriptions and deliveries of the API cost the same number of queries with 2 rows as with
10 created by other people, of other events and subscriptions, in other states."""

from __future__ import annotations

from itertools import count

import pytest

from apps.webhooks.choices import DeliveryStatus, EventType
from apps.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.budgets import ListCase, Marker

_numbers = count(1)


def _subscriptions(org, n: int) -> list[WebhookSubscription]:
    """n subscriptions, created by the admin, the ERP user and no one (deleted) in turn, each
    with a failed and a pending delivery (the page counts them)."""
    creators = (org.admin, org.erp, None)
    rows = []
    for i in range(n):
        k = next(_numbers)
        subscription = WebhookSubscription.objects.create(
            name=f"Budget hook {k:03d}",
            url=f"https://erp.example.com/hooks/{k}",
            event_types=[EventType.values[k % len(EventType.values)]],
            secret=f"s{k}",
            created_by=creators[i % 3],
        )
        _deliveries([subscription], (DeliveryStatus.FAILED, DeliveryStatus.PENDING))
        rows.append(subscription)
    return rows


def _deliveries(subscriptions, statuses) -> list[WebhookDelivery]:
    """A delivery of a new event of its own to each subscription in turn, in `statuses`."""
    rows = []
    for i, status in enumerate(statuses):
        event = WebhookEvent.objects.create(
            type=EventType.values[i % len(EventType.values)], payload={"n": next(_numbers)}
        )
        rows.append(
            WebhookDelivery.objects.create(
                event=event,
                subscription=subscriptions[i % len(subscriptions)],
                status=status,
            )
        )
    return rows


def add_subscription_page(org, n: int) -> list[Marker]:
    return [s.name for s in _subscriptions(org, n)]


def add_subscriptions(org, n: int) -> list[Marker]:
    return [s.pk for s in _subscriptions(org, n)]


def add_deliveries(org, n: int) -> list[Marker]:
    subscriptions = [
        WebhookSubscription.objects.create(
            name=f"Budget target {next(_numbers)}",
            url="https://erp.example.com/in",
            event_types=[],
            secret="s",
        )
        for _ in range(3)
    ]
    statuses = [DeliveryStatus.values[i % len(DeliveryStatus.values)] for i in range(n)]
    return [d.pk for d in _deliveries(subscriptions, statuses)]


LISTS = {
    "webhooks:subscription_list": ListCase("/webhooks/", "admin", add_subscription_page, budget=2),
    "api:webhook-list": ListCase("/api/v1/webhooks/", "erp", add_subscriptions, budget=2),
    "api:webhook-delivery-list": ListCase(
        "/api/v1/webhook-deliveries/", "erp", add_deliveries, budget=2
    ),
}


@pytest.mark.parametrize("name", LISTS)
def test_webhook_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
