"""`GET /api/v1/<resource>/<id>/history/`: the change history (变更记录) of one object.

A viewset of a tracked model (`apps.core.history.track`) adds the sub-resource in one line::

    class CustomerViewSet(HistoryMixin, ApiReadOnlyModelViewSet): ...

The object is looked up through the viewset's own `get_object()`, i.e. its selector, so an
object outside the caller's data scope is a 404 here too.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.history import HistoryEntry, history_for

HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 500


class HistoryActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField(help_text=_("The field's translated name."))
    old = serializers.JSONField(allow_null=True, help_text=_("The stored value before."))
    new = serializers.JSONField(allow_null=True, help_text=_("The stored value after."))
    old_display = serializers.CharField(
        help_text=_("The value before as shown to humans (a choice's label, a related name).")
    )
    new_display = serializers.CharField(help_text=_("The value after as shown to humans."))


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.CharField()
    at = serializers.DateTimeField()
    action = serializers.ChoiceField(choices=["insert", "update", "delete"])
    actor = serializers.SerializerMethodField(
        help_text=_("Who made the change; null for a job or the system.")
    )
    changes = HistoryChangeSerializer(many=True)

    @extend_schema_field(HistoryActorSerializer(allow_null=True))
    def get_actor(self, entry: HistoryEntry) -> dict[str, Any] | None:
        if entry.actor_id is None:
            return None
        return {"id": entry.actor_id, "name": entry.actor_name}


class HistoryLimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=HISTORY_MAX_LIMIT,
        default=HISTORY_DEFAULT_LIMIT,
        help_text=_("How many of the newest entries to return."),
    )


class HistoryMixin:
    """Adds the `history` detail route to a viewset whose model is tracked."""

    @extend_schema(
        summary=_("Change history of the object, newest first"),
        parameters=[
            OpenApiParameter(
                "limit",
                int,
                description=_("How many of the newest entries to return (at most 500)."),
            )
        ],
        responses=HistoryEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        params = HistoryLimitSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        entries = history_for(obj, limit=params.validated_data["limit"])
        return Response(HistoryEntrySerializer(entries, many=True).data)
