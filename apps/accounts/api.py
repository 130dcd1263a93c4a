"""`/api/v1/users/` and `/api/v1/org-units/`: read-only, scoped by `apps.accounts.selectors`.

Scope (DESIGN.md "Data scope"): a rep sees their own user; a supervisor or manager also the
members of the units they head, recursively; admins, integration users and finance everyone
and the whole org tree (finance reads every money document, so it must know every owner).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import IdFilter
from apps.api.history import HistoryMixin
from apps.api.serializers import OrgUnitRefSerializer, UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet

from .choices import OrgUnitKind, Role
from .models import OrgUnit, User
from .selectors import org_unit_list, user_get, user_list

# --- users -------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    org_unit = OrgUnitRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "display_name",
            "email",
            "phone",
            "role",
            "role_display",
            "org_unit",
            "is_active",
            "updated_at",
        ]
        read_only_fields = fields


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    org_unit = IdFilter(field_name="org_unit_id", help_text=_("Members of this org unit."))
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["role", "org_unit", "is_active"]


@extend_schema_view(
    list=extend_schema(
        summary=_("Users you may see"),
        parameters=[
            OpenApiParameter("search", str, description=_("Part of the username, name or e-mail."))
        ],
    ),
    retrieve=extend_schema(summary=_("One user")),
)
class UserViewSet(HistoryMixin, ApiReadOnlyModelViewSet):
    """Users (用户) within the caller's data scope, with their role and org unit."""

    serializer_class = UserSerializer
    filterset_class = UserFilter
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[User]:
        search = ""
        if self.action == "list":
            search = self.request.query_params.get("search", "").strip()
        return user_list(user=self.request.user, search=search)

    @extend_schema(summary=_("The calling user"))
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def me(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = user_get(user=request.user, pk=request.user.pk)
        return Response(self.get_serializer(user).data)


# --- org units ---------------------------------------------------------------------------


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True)
    head = UserRefSerializer(read_only=True, allow_null=True)
    depth = serializers.IntegerField(read_only=True, help_text=_("0 for the company."))

    class Meta:
        model = OrgUnit
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "parent",
            "head",
            "path",
            "depth",
            "is_active",
            "updated_at",
        ]
        read_only_fields = fields


class OrgUnitFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrgUnitKind.choices)
    parent = IdFilter(field_name="parent_id", help_text=_("Direct children of this unit."))

    class Meta:
        model = OrgUnit
        fields = ["kind", "parent"]


@extend_schema_view(
    list=extend_schema(summary=_("Org units you may see")),
    retrieve=extend_schema(summary=_("One org unit")),
)
class OrgUnitViewSet(HistoryMixin, ApiReadOnlyModelViewSet):
    """Org units (组织): the chain above the caller's own unit and the units they head, with
    everything below; the whole tree for administrators, integrations and finance."""

    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilter
    search_fields = ["code", "name"]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[OrgUnit]:
        return org_unit_list(user=self.request.user)
