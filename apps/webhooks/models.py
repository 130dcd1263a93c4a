"""Webhooks (API.md "Webhooks"): an ERP subscribes a URL to events; each event is stored once
with an id a receiver can dedupe on, and delivered to every active subscription by Celery after
the commit that raised it, signed with the subscription's secret, retried with exponential
backoff up to a limit, and logged (status, response) for manual redelivery."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core.history import track

from .choices import DeliveryStatus, EventType


@track(exclude=["updated_at", "secret"])
class WebhookSubscription(models.Model):
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=500)
    event_types = ArrayField(
        models.CharField(max_length=50, choices=EventType.choices), verbose_name=_("events")
    )
    # Kept as is: the HMAC needs it. Shown to the admin, never in the history.
    secret = models.CharField(_("signing secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["updated_at", "id"], name="webhook_sub_sync")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("webhooks:subscription_detail", args=[self.pk])


class WebhookEvent(models.Model):
    """One event, once: its id is the `X-Salesctl-Event-Id` every delivery carries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("event"), max_length=50, choices=EventType.choices)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """An event on its way to one subscription: each attempt updates it."""

    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.CASCADE,
        related_name="deliveries",
    )  # fmt: skip
    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE,
        related_name="deliveries",
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )  # fmt: skip
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_sub"),
            models.Index(
                fields=["next_attempt_at"], name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id}"
