"""Webhook reads: only administrators and integration users see subscriptions and their
deliveries (everyone else finds none: a 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from .choices import DeliveryStatus
from .models import WebhookDelivery, WebhookSubscription
from .services import can_manage


def subscription_list(*, user: Any) -> QuerySet[WebhookSubscription]:
    if not can_manage(user):
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.annotate(
        failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        pending_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
    ).order_by("name", "id")


def delivery_list(*, user: Any, subscription: WebhookSubscription | None = None) -> QuerySet:
    if not can_manage(user):
        return WebhookDelivery.objects.none()
    qs = WebhookDelivery.objects.select_related("event", "subscription")
    if subscription is not None:
        qs = qs.filter(subscription=subscription)
    return qs.order_by("-created_at", "-id")
