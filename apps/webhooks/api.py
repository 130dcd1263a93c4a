"""`/api/v1/webhooks/` (subscriptions) and `/api/v1/webhook-deliveries/` (the delivery log).

Administrators and integration users only: anyone else finds no subscription (404) and may
create none (403). The signing secret is in the answer to the POST and to `rotate-secret`."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import UpdatedSinceFilter
from apps.api.views import ApiGenericViewSet, ApiReadOnlyModelViewSet

from . import selectors, services
from .choices import DeliveryStatus, EventType
from .models import WebhookDelivery, WebhookSubscription


class SubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=False,
        help_text=_("The events sent to this URL."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "event_types", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=_(
            "Verify `X-Salesctl-Signature` with it: HMAC-SHA256 over `<timestamp>.<body>`."
        ),
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = [*SubscriptionSerializer.Meta.read_only_fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    payload = serializers.JSONField(source="event.payload", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "subscription", "event_id", "event_type", "payload", "status", "attempts",
            "next_attempt_at", "last_attempt_at", "response_status", "response_body", "error",
            "duration_ms", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary=_("Webhook subscriptions")),
    retrieve=extend_schema(summary=_("A webhook subscription")),
    create=extend_schema(
        summary=_("Subscribe a URL to events"), responses={201: SubscriptionWithSecretSerializer}
    ),
    partial_update=extend_schema(summary=_("Change a subscription")),
    destroy=extend_schema(summary=_("Delete a subscription and its delivery log")),
)
class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiGenericViewSet,
):
    serializer_class = SubscriptionSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return selectors.subscription_list(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not services.can_manage(request.user):
            raise PermissionDenied(
                _("Only an administrator or an integration user manages webhooks.")
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_create(by=request.user, data=serializer.validated_data)
        return Response(
            SubscriptionWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription = self.get_object()
        serializer = self.get_serializer(subscription, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_update(
            subscription=subscription, by=request.user, data=serializer.validated_data
        )
        return Response(SubscriptionSerializer(subscription).data)

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        services.subscription_delete(subscription=instance, by=self.request.user)

    @extend_schema(
        summary=_("A new signing secret (the old one stops working at once)"),
        request=None,
        responses={200: SubscriptionWithSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        subscription = services.subscription_rotate_secret(
            subscription=self.get_object(), by=request.user
        )
        return Response(SubscriptionWithSecretSerializer(subscription).data)

    @extend_schema(
        summary=_("Send a test event (ping) to this subscription"),
        request=None,
        responses={202: DeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def ping(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.subscription_ping(subscription=self.get_object(), by=request.user)
        delivery = selectors.delivery_list(user=request.user).get(pk=delivery.pk)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event_type = django_filters.ChoiceFilter(field_name="event__type", choices=EventType.choices)
    event_id = django_filters.UUIDFilter(field_name="event_id")

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "status", "event_type", "event_id"]


@extend_schema_view(
    list=extend_schema(summary=_("Webhook deliveries, newest first")),
    retrieve=extend_schema(summary=_("A webhook delivery")),
)
class WebhookDeliveryViewSet(ApiReadOnlyModelViewSet):
    serializer_class = DeliverySerializer
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    filterset_class = DeliveryFilter

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return selectors.delivery_list(user=self.request.user)

    @extend_schema(
        summary=_("Send the same event again (a new delivery with the same event id)"),
        request=None,
        responses={202: DeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        again = services.delivery_redeliver(delivery=self.get_object(), by=request.user)
        again = selectors.delivery_list(user=request.user).get(pk=again.pk)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)


ROUTES = [
    ("webhooks", WebhookSubscriptionViewSet, "webhook"),
    ("webhook-deliveries", WebhookDeliveryViewSet, "webhook-delivery"),
]
