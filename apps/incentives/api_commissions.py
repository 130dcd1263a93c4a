"""`/api/v1/commission-plans/` and `/api/v1/commission-statements/` (API.md), thin views over
`selectors_commissions` (out of scope: 404) and `commissions`.

- commission-plans: list and detail for everyone who may see them; create, update (PUT /
  PATCH) and `deactivate` for admins and finance (403 otherwise; 400 naming the field, e.g.
  tiers that do not start at 0, or a plan overlapping an active one for the same units).
- commission-statements: list (filters month, status, org_unit, rep, search; `ordering`;
  `updated_since`), detail with the lines, the adjustments, the tier computation and
  `available_transitions`; `submit` (the rep's supervisor, a draft of an ended month: 403 /
  409 otherwise) and `submit-team` (every draft of a month the caller may submit). Approve
  and return go through `/api/v1/approvals/` like every approval.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.selectors import org_unit_list
from apps.api.filters import UpdatedSinceFilter
from apps.api.views import ApiReadOnlyModelViewSet

from . import commissions
from . import selectors_commissions as selectors
from .models import CommissionLine, CommissionPlan, CommissionStatement
from .selectors_commissions import StatementFilters
from .serializers_commissions import (
    ORDERINGS,
    CommissionPlanSerializer,
    CommissionPlanWriteSerializer,
    CommissionStatementDetailSerializer,
    CommissionStatementSerializer,
    StatementCommentSerializer,
    StatementListParamsSerializer,
    StatementTeamSubmitResultSerializer,
    StatementTeamSubmitSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Commission plans you may see"),
        parameters=[
            OpenApiParameter("active", bool, description=_("Only active (or inactive) plans."))
        ],
    ),
    retrieve=extend_schema(summary=_("One commission plan with its tiers and factors")),
)
class CommissionPlanViewSet(ApiReadOnlyModelViewSet):
    """Commission plans (提成方案): tiers on the collected amount, factors, accelerator and
    clawback."""

    serializer_class = CommissionPlanSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[CommissionPlan]:
        if getattr(self, "swagger_fake_view", False):
            return CommissionPlan.objects.none()
        raw = self.request.query_params.get("active")
        active = {"true": True, "1": True, "false": False, "0": False}.get((raw or "").lower())
        if raw not in (None, "") and active is None:
            raise serializers.ValidationError({"active": [_("Use true or false.")]})
        return selectors.plan_list(user=self.request.user, active=active)

    def get_object(self) -> CommissionPlan:
        plan = selectors.plan_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, plan)
        return plan

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        plan = selectors.plan_get(user=self.request.user, pk=pk)
        return Response(CommissionPlanSerializer(plan).data, status=code)

    @extend_schema(
        summary=_("Create a commission plan (admins and finance)"),
        request=CommissionPlanWriteSerializer,
        responses={status.HTTP_201_CREATED: CommissionPlanSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = CommissionPlanWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        plan = commissions.plan_create(by=request.user, data=params.plan_data())
        return self._detail(plan.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Change a commission plan (admins and finance)"),
        description=_(
            "Once the plan has statements its tiers, accelerator and clawback rule are fixed "
            "(400 naming them): make a new plan instead. `tiers` and `factors`, when given, "
            "replace the plan's."
        ),
        request=CommissionPlanWriteSerializer,
        responses=CommissionPlanSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        partial = kwargs.get("partial", False)
        params = CommissionPlanWriteSerializer(data=request.data, partial=partial)
        params.is_valid(raise_exception=True)
        start = commissions.plan_data_of(plan) if partial else None
        commissions.plan_update(plan=plan, by=request.user, data=params.plan_data(start))
        return self._detail(plan.pk)

    @extend_schema(
        summary=_("Change some fields of a commission plan"),
        request=CommissionPlanWriteSerializer,
        responses=CommissionPlanSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Deactivate a plan: no new statement uses it"),
        request=None,
        responses=CommissionPlanSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def deactivate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        commissions.plan_deactivate(plan=plan, by=request.user)
        return self._detail(plan.pk)


@extend_schema_view(
    list=extend_schema(
        summary=_("Commission statements you may see"),
        parameters=[StatementListParamsSerializer],
    ),
    retrieve=extend_schema(
        summary=_("One commission statement with its lines, adjustments and what you may do")
    ),
)
class CommissionStatementViewSet(ApiReadOnlyModelViewSet):
    """Monthly commission statements (提成结算单): a rep's own, a head's team's, all for
    finance and admins."""

    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    @property
    def cursor_ordering(self) -> tuple[str, ...] | None:
        raw = self.request.query_params.get("ordering") if hasattr(self, "request") else None
        return ORDERINGS.get(raw or "updated_at")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "retrieve":
            return CommissionStatementDetailSerializer
        return CommissionStatementSerializer

    def get_queryset(self) -> QuerySet[CommissionStatement]:
        if getattr(self, "swagger_fake_view", False):
            return CommissionStatement.objects.none()
        if self.action != "list":
            return selectors.statement_list(user=self.request.user)
        params = StatementListParamsSerializer(data=self.request.query_params.dict())
        params.is_valid(raise_exception=True)
        data = params.validated_data
        unit = None
        if data.get("org_unit"):
            unit = org_unit_list(user=self.request.user).filter(pk=data["org_unit"]).first()
            if unit is None:
                raise serializers.ValidationError({"org_unit": [_("No such org unit in sight.")]})
        filters = StatementFilters(
            month=data.get("month"), status=data.get("status", ""), unit=unit,
            rep=data.get("rep"), search=data.get("search", ""),
        )  # fmt: skip
        return selectors.statement_list(user=self.request.user, filters=filters)

    def _get(self, pk: int) -> CommissionStatement:
        statement = selectors.statement_get(user=self.request.user, pk=pk)
        self.check_object_permissions(self.request, statement)
        return statement

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.kwargs["pk"])

    def _detail(self, pk: int) -> Response:
        # The scoped selector's read (404 outside the caller's scope), with the lines and the
        # adjustments fetched alongside: one read of the statement, not a second one.
        lines = CommissionLine.objects.select_related("allocation", "contract").order_by(
            "received_on", "id"
        )
        statement = get_object_or_404(
            selectors.statement_list(user=self.request.user)
            .select_related("exported_by")
            .prefetch_related(Prefetch("lines", queryset=lines), "adjustment_lines", "plan__tiers"),
            pk=pk,
        )
        data = CommissionStatementDetailSerializer(
            statement, context=self.get_serializer_context()
        ).data
        return Response(data)

    @extend_schema(
        summary=_("Submit the statement to the manager (draft → pending)"),
        description=_(
            "The rep's supervisor (403 otherwise), a draft of a month that has ended (409 "
            "otherwise). Its figures are recomputed from the documents first."
        ),
        request=StatementCommentSerializer,
        responses=CommissionStatementDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        statement = self._get(self.kwargs["pk"])
        params = StatementCommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        commissions.statement_submit(
            statement=statement, by=request.user, comment=params.validated_data["comment"]
        )
        return self._detail(statement.pk)

    @extend_schema(
        summary=_("Submit every draft of a month you may submit (a team at once)"),
        request=StatementTeamSubmitSerializer,
        responses=StatementTeamSubmitResultSerializer,
    )
    @action(
        detail=False, methods=["post"], url_path="submit-team", filter_backends=[],
        pagination_class=None,
    )  # fmt: skip
    def submit_team(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = StatementTeamSubmitSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        unit = None
        if data.get("org_unit"):
            unit = org_unit_list(user=request.user).filter(pk=data["org_unit"]).first()
            if unit is None:
                raise serializers.ValidationError({"org_unit": [_("No such org unit in sight.")]})
        result = commissions.statements_submit_team(
            by=request.user, month=data["month"], unit=unit, comment=data["comment"]
        )
        return Response(
            {
                "submitted": [s.pk for s in result.submitted],
                "refused": [{"id": s.pk, "reason": reason} for s, reason in result.refused],
            }
        )


ROUTES = [
    ("commission-plans", CommissionPlanViewSet, "commission-plan"),
    ("commission-statements", CommissionStatementViewSet, "commission-statement"),
]
