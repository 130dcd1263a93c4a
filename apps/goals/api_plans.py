"""`/api/v1/sales-plans/` and `/api/v1/target-adjustments/` (registered by apps/api/urls.py
through `ROUTES`): thin views over `selectors_plans` (out of scope: 404) and `plans`.

Transitions: `POST {id}/submit/` and `POST {id}/withdraw/` (the author); approve and return go
through `/api/v1/approvals/{id}/approve|reject/` like every approval."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import OrgUnit
from apps.api.filters import UpdatedSinceFilter
from apps.api.views import ApiReadOnlyModelViewSet

from . import plans
from .models import SalesPlan, Target, TargetAdjustment, TargetVersion
from .selectors_plans import (
    AdjustmentFilters,
    PlanFilters,
    adjustment_get,
    adjustment_list,
    plan_get,
    plan_list,
    target_for_adjustment_get,
)
from .serializers_plans import (
    AdjustmentListParamsSerializer,
    PlanCommentSerializer,
    PlanListParamsSerializer,
    SalesPlanSerializer,
    SalesPlanWriteSerializer,
    TargetAdjustmentSerializer,
    TargetAdjustmentWriteSerializer,
)


class _DocumentViewMixin:
    """The detail answer of a write, through the scoped getter."""

    get_selector: Any

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        document = type(self).get_selector(user=self.request.user, pk=pk)
        data = self.serializer_class(document, context=self.get_serializer_context()).data
        return Response(data, status=code)

    def get_object(self) -> Any:
        document = type(self).get_selector(
            user=self.request.user, pk=self.kwargs[self.lookup_field]
        )
        self.check_object_permissions(self.request, document)
        return document


# --- sales plans ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Sales plans you may see"),
        parameters=[
            OpenApiParameter("status", str, description=_("Only this status.")),
            OpenApiParameter("org_unit", int, description=_("Only this unit's plans.")),
            OpenApiParameter("period_kind", str, description=_("Only this kind of period.")),
            OpenApiParameter("day", str, description=_("Only plans whose period has this day.")),
        ],
    ),
    retrieve=extend_schema(summary=_("One sales plan with its targets")),
)
class SalesPlanViewSet(_DocumentViewMixin, ApiReadOnlyModelViewSet):
    """Sales plans (销售计划书): a unit's plan for a period, with its target lines, approved by
    the manager (its targets become the active targets)."""

    serializer_class = SalesPlanSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    get_selector = staticmethod(plan_get)

    def get_queryset(self) -> QuerySet[SalesPlan]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return SalesPlan.objects.none()
        params = PlanListParamsSerializer(data=self.request.query_params.dict())
        params.is_valid(raise_exception=True)
        return plan_list(
            user=self.request.user, filters=PlanFilters(**params.validated_data)
        ).prefetch_related(Prefetch("targets", queryset=Target.objects.order_by("metric", "id")))

    @extend_schema(
        summary=_("Write a sales plan (a draft) for a unit you head"),
        description=_(
            "403 unless you head the unit; 400 naming the field, or `targets` naming the metric "
            "whose reps' lines do not add up to the unit's line."
        ),
        request=SalesPlanWriteSerializer,
        responses={status.HTTP_201_CREATED: SalesPlanSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = SalesPlanWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        # Any existing unit: the service answers 403 for a unit the caller does not head.
        unit = OrgUnit.objects.filter(pk=params.validated_data["org_unit"]).first()
        if unit is None:
            raise serializers.ValidationError({"org_unit": [_("Choose a unit you head.")]})
        plan = plans.plan_create(
            by=request.user,
            org_unit=unit,
            period_kind=params.validated_data["period_kind"],
            day=params.validated_data["day"],
            data=params.sections(),
            lines=params.lines() or (),
        )
        return self._detail(plan.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Revise a draft plan (409 while under approval or once approved)"),
        description=_("`targets`, when given, replaces the whole grid."),
        request=SalesPlanWriteSerializer,
        responses=SalesPlanSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        params = SalesPlanWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        params.is_valid(raise_exception=True)
        plans.plan_update(
            plan=plan,
            by=request.user,
            data=params.sections(),
            period_kind=params.validated_data.get("period_kind"),
            day=params.validated_data.get("day"),
            lines=params.lines(),
        )
        return self._detail(plan.pk)

    @extend_schema(
        summary=_("Revise some fields of a draft plan"),
        request=SalesPlanWriteSerializer,
        responses=SalesPlanSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Submit (or resubmit) the plan to the manager"),
        description=_("403 unless you wrote it; 409 if it is not a draft or has no target."),
        request=PlanCommentSerializer,
        responses=SalesPlanSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        params = PlanCommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        plans.plan_submit(plan=plan, by=request.user, comment=params.validated_data["comment"])
        return self._detail(plan.pk)

    @extend_schema(
        summary=_("Withdraw the pending plan"),
        description=_("403 unless you submitted it; 409 unless it is pending."),
        request=PlanCommentSerializer,
        responses=SalesPlanSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        params = PlanCommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        plans.plan_withdraw(plan=plan, by=request.user, comment=params.validated_data["comment"])
        return self._detail(plan.pk)


# --- target adjustments -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Target adjustments you may see"),
        parameters=[
            OpenApiParameter("status", str, description=_("Only this status.")),
            OpenApiParameter("target", int, description=_("Only this target's adjustments.")),
        ],
    ),
    retrieve=extend_schema(summary=_("One target adjustment with the target's versions")),
)
class TargetAdjustmentViewSet(_DocumentViewMixin, ApiReadOnlyModelViewSet):
    """Target adjustments (执行困难报告单及修正单): a difficulty report and a proposed target,
    approved by the manager (the target gets a new version)."""

    serializer_class = TargetAdjustmentSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    get_selector = staticmethod(adjustment_get)

    def get_queryset(self) -> QuerySet[TargetAdjustment]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return TargetAdjustment.objects.none()
        params = AdjustmentListParamsSerializer(data=self.request.query_params.dict())
        params.is_valid(raise_exception=True)
        qs = adjustment_list(
            user=self.request.user,
            filters=AdjustmentFilters(status=params.validated_data.get("status", "")),
        )
        if params.validated_data.get("target"):
            qs = qs.filter(target_id=params.validated_data["target"])
        return qs.prefetch_related(
            Prefetch(
                "target__versions",
                queryset=TargetVersion.objects.select_related("changed_by").order_by("version"),
            )
        )

    @extend_schema(
        summary=_("Propose an adjustment (a draft) of an active target"),
        description=_(
            "404 if the target is out of your sight; 403 unless it is your target or you head "
            "its unit; 409 if the target is not active, is split into parts, or already has an "
            "open adjustment; 400 naming the field."
        ),
        request=TargetAdjustmentWriteSerializer,
        responses={status.HTTP_201_CREATED: TargetAdjustmentSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = TargetAdjustmentWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        target = target_for_adjustment_get(user=request.user, pk=data.pop("target"))
        adjustment = plans.adjustment_create(by=request.user, target=target, **data)
        return self._detail(adjustment.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Revise a draft adjustment (409 while under approval)"),
        request=TargetAdjustmentWriteSerializer,
        responses=TargetAdjustmentSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        adjustment = self.get_object()
        params = TargetAdjustmentWriteSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        plans.adjustment_update(
            adjustment=adjustment,
            by=request.user,
            proposed_amount=data.get("proposed_amount", adjustment.proposed_amount),
            difficulty_report=data.get("difficulty_report", adjustment.difficulty_report),
        )
        return self._detail(adjustment.pk)

    @extend_schema(
        summary=_("Revise some fields of a draft adjustment"),
        request=TargetAdjustmentWriteSerializer,
        responses=TargetAdjustmentSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @extend_schema(
        summary=_("Submit (or resubmit) the adjustment to the manager"),
        description=_("403 unless you proposed it; 409 if it is not a draft."),
        request=PlanCommentSerializer,
        responses=TargetAdjustmentSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        adjustment = self.get_object()
        params = PlanCommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        plans.adjustment_submit(
            adjustment=adjustment, by=request.user, comment=params.validated_data["comment"]
        )
        return self._detail(adjustment.pk)

    @extend_schema(
        summary=_("Withdraw the pending adjustment"),
        request=PlanCommentSerializer,
        responses=TargetAdjustmentSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        adjustment = self.get_object()
        params = PlanCommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        plans.adjustment_withdraw(
            adjustment=adjustment, by=request.user, comment=params.validated_data["comment"]
        )
        return self._detail(adjustment.pk)


ROUTES = [
    ("sales-plans", SalesPlanViewSet, "sales-plan"),
    ("target-adjustments", TargetAdjustmentViewSet, "target-adjustment"),
]
