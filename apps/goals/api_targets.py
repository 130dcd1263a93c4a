"""`/api/v1/targets/` (API.md "Resources"): targets per metric, period and scope.

- list: filters metric, period_kind, year, scope_kind, org_unit, user, status, plus
  `updated_since` and the cursor;
- detail: with its children's ids, what is left to allocate and every version;
- create (POST): set a target (admins; supervisors and managers for what they head);
- `POST targets/{id}/decompose/`: split it down the org tree or the calendar, evenly, by last
  year's seasonality or by hand (`manual`, adding up exactly);
- `POST targets/{id}/set_amount/`: change its amount (a new version, with the reason).

Scope: a target outside the caller's scope is a 404; a write the caller may not make a 403;
bad input a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import OrgUnit, User
from apps.api.filters import IdFilter, UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.views import ApiReadOnlyModelViewSet

from . import selectors, targets
from .choices import Metric, PeriodKind, ScopeKind, TargetStatus
from .models import Target
from .serializers_targets import (
    TargetCreateRequest,
    TargetDecomposeRequest,
    TargetDetailSerializer,
    TargetSerializer,
    TargetSetAmountRequest,
)


@extend_schema_field(
    {
        "type": "integer",
        "minimum": 1,
        "maximum": 9999,
        "description": _("Targets whose period starts in this year."),
    }
)
class TargetYearFilter(django_filters.NumberFilter):
    """The year of a target's period: an integer a date can have (2025.5 or 10^16 is a 400,
    not a 500)."""

    field_class = forms.IntegerField


class TargetFilter(django_filters.FilterSet):
    metric = django_filters.ChoiceFilter(choices=Metric.choices)
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices)
    year = TargetYearFilter(
        field_name="period_start", lookup_expr="year", min_value=1, max_value=9999
    )
    scope_kind = django_filters.ChoiceFilter(choices=ScopeKind.choices)
    org_unit = IdFilter(field_name="org_unit_id", help_text=_("Targets of this org unit."))
    user = IdFilter(field_name="user_id", help_text=_("Targets of this rep."))
    status = django_filters.ChoiceFilter(choices=TargetStatus.choices)

    class Meta:
        model = Target
        fields = ["metric", "period_kind", "year", "scope_kind", "org_unit", "user", "status"]


@extend_schema_view(
    list=extend_schema(summary=_("Targets you may see")),
    retrieve=extend_schema(
        summary=_("One target, with its children, what is left to allocate and its versions")
    ),
)
class TargetViewSet(HistoryMixin, ApiReadOnlyModelViewSet):
    """Targets (目标) in your data scope."""

    serializer_class = TargetSerializer
    filterset_class = TargetFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"
    queryset = Target.objects.none()  # the model, for the schema; get_queryset scopes

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return TargetSerializer if self.action == "list" else TargetDetailSerializer

    def get_queryset(self) -> QuerySet[Target]:
        if getattr(self, "swagger_fake_view", False):
            return Target.objects.none()
        return selectors.target_list(user=self.request.user)

    def get_object(self) -> Target:
        target = selectors.target_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, target)
        return target

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        target = selectors.target_get(user=self.request.user, pk=pk)
        target.allocation = targets.left_to_allocate(target)
        target.version_list = list(selectors.target_versions(target))
        body = TargetDetailSerializer(target, context=self.get_serializer_context()).data
        return Response(body, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.get_object().pk)

    @extend_schema(
        summary=_("Set a target"),
        description=_(
            "The period is the one of `period_kind` containing `day`. One live target per "
            "metric, period and scope: a second one is a 400 naming scope_kind. 403 when you "
            "may not set targets of that scope."
        ),
        request=TargetCreateRequest,
        responses={status.HTTP_201_CREATED: TargetDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = TargetCreateRequest(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        org_unit = user = None
        if data["org_unit"] is not None:
            org_unit = OrgUnit.objects.filter(pk=data["org_unit"]).first()
            if org_unit is None:
                raise serializers.ValidationError({"org_unit": [_("No such org unit.")]})
        if data["user"] is not None:
            user = User.objects.select_related("org_unit").filter(pk=data["user"]).first()
            if user is None:
                raise serializers.ValidationError({"user": [_("No such rep.")]})
        target = targets.target_create(
            by=request.user, metric=data["metric"], period_kind=data["period_kind"],
            day_in_period_or_start=data["day"], scope_kind=data["scope_kind"],
            org_unit=org_unit, user=user, amount=data["amount"], reason=data["reason"],
        )  # fmt: skip
        return self._detail(target.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Split the target into its children"),
        description=_(
            "direction org: the unit's direct child units (the company's: the top unit's), or "
            "a team's reps; calendar: a year's quarters, a quarter's months, a month's weeks "
            "clipped to the month. method even, seasonal (last year's actuals) or manual (the "
            "`manual` amounts, adding up to the target exactly, else a 400 naming what is left "
            "or over). Splitting again updates the children in place."
        ),
        request=TargetDecomposeRequest,
        responses=TargetDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decompose(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self.get_object()
        params = TargetDecomposeRequest(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        targets.target_decompose(
            target=target, by=request.user, direction=data["direction"], method=data["method"],
            manual=data["manual"],
        )  # fmt: skip
        return self._detail(target.pk)

    @extend_schema(
        summary=_("Change the target's amount (a new version)"),
        description=_(
            "A part may not take more than its parent leaves; a split target may not go below "
            "what its parts add up to. The reason is required."
        ),
        request=TargetSetAmountRequest,
        responses=TargetDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def set_amount(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self.get_object()
        params = TargetSetAmountRequest(data=request.data)
        params.is_valid(raise_exception=True)
        targets.target_set_amount(
            target=target, by=request.user, amount=params.validated_data["amount"],
            reason=params.validated_data["reason"],
        )  # fmt: skip
        return self._detail(target.pk)


ROUTES = [("targets", TargetViewSet, "target")]
