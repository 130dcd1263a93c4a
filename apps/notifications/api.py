"""`/api/v1/notifications/`: the caller's own notifications (通知), read-only, plus marking them
read. Someone else's notification is a 404, for administrators too."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import UpdatedSinceFilter
from apps.api.serializers import UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet

from .models import Notification
from .selectors import notification_get, notification_list
from .selectors import unread_count as count_unread
from .services import notification_mark_read


class NotificationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor = UserRefSerializer(
        read_only=True, allow_null=True, help_text=_("Who caused it; null for the system.")
    )
    url = serializers.CharField(read_only=True, help_text=_("Where to look, a path on the site."))
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_display",
            "title",
            "body",
            "url",
            "actor",
            "created_at",
            "read_at",
            "is_read",
        ]
        read_only_fields = fields


class NotificationListParamsSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("How many notifications were marked read."))


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text=_("How many of your notifications are unread."))


@extend_schema_view(
    list=extend_schema(
        summary=_("Your notifications, newest first"),
        parameters=[
            OpenApiParameter(
                "unread",
                bool,
                description=_("true: only unread notifications; false: only read ones."),
            )
        ],
    ),
    retrieve=extend_schema(summary=_("One of your notifications")),
)
class NotificationViewSet(ApiReadOnlyModelViewSet):
    """Notifications (通知): approvals waiting for you, decisions on your submissions,
    reminders. Only your own."""

    serializer_class = NotificationSerializer
    # No search or field filters: `updated_since` only (a search would be documented and ignored).
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    # Newest first, as a notification list is read; created_at never changes, so the cursor
    # is stable while notifications are marked read during a pull.
    cursor_ordering = ("-created_at", "-id")

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        unread = None
        if self.action == "list":
            params = NotificationListParamsSerializer(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            unread = params.validated_data["unread"]
        return notification_list(self.request.user, unread=unread)

    def get_object(self) -> Notification:
        notification = notification_get(self.request.user, self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, notification)
        return notification

    @extend_schema(
        summary=_("Mark one of your notifications read"),
        request=None,
        responses=NotificationSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="mark-read",
        url_name="mark-read",
        filter_backends=[],
        pagination_class=None,
    )
    def mark_read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        notification = self.get_object()
        notification_mark_read(user=request.user, ids=[notification.pk])
        notification = notification_get(request.user, notification.pk)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        summary=_("Mark all your notifications read"),
        request=None,
        responses=MarkedSerializer,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="mark-all-read",
        url_name="mark-all-read",
        filter_backends=[],
        pagination_class=None,
    )
    def mark_all_read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        marked = notification_mark_read(user=request.user)
        return Response(MarkedSerializer({"marked": marked}).data)

    @extend_schema(
        summary=_("How many of your notifications are unread"), responses=UnreadCountSerializer
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="unread-count",
        url_name="unread-count",
        filter_backends=[],
        pagination_class=None,
    )
    def unread_count(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(UnreadCountSerializer({"unread": count_unread(request.user)}).data)
