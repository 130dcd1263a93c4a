"""`/api/v1/visit-plans/` and `/api/v1/visit-records/`: the same services as the pages.

Plans: list (filters rep, date range, status; cursor), detail, create, update while planned,
`visit-plans/{id}/cancel/` {reason}, `visit-plans/{id}/move/` {planned_date, route_order},
history. Records: list (filters rep, customer, date range, effective), detail, create (with an
optional plan, which it completes), update by its rep within 7 days, history. Records are
never deleted. Outside the caller's scope: 404; a wrong state: 409; no right: 403.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.api.filters import IdFilter, UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.serializers import UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet

from . import services
from .choices import PlanStatus, VisitPurpose
from .models import VisitPlan, VisitRecord
from .selectors import visit_plan_get, visit_plan_list, visit_record_get, visit_record_list

# --- plans ---------------------------------------------------------------------------------


class VisitPlanSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None)
    lead = serializers.IntegerField(source="lead_id", read_only=True, allow_null=True)
    lead_name = serializers.CharField(source="lead.company_name", read_only=True, default=None)
    opportunity = serializers.IntegerField(source="opportunity_id", read_only=True, allow_null=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    record = serializers.SerializerMethodField(
        help_text=_("The visit record that completed this plan.")
    )

    class Meta:
        model = VisitPlan
        fields = [
            "id", "owner", "customer", "customer_name", "lead", "lead_name", "opportunity",
            "planned_date", "planned_time", "route_order", "purpose", "objectives", "status",
            "status_display", "cancel_reason", "record", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_record(self, plan: VisitPlan) -> int | None:
        record = getattr(plan, "record", None) if plan.status == PlanStatus.DONE else None
        return record.pk if record is not None else None


class VisitPlanWriteSerializer(serializers.Serializer):
    owner = serializers.IntegerField(
        required=False, help_text=_("The rep the visit is for (default: you).")
    )
    customer = serializers.IntegerField(required=False, allow_null=True)
    lead = serializers.IntegerField(required=False, allow_null=True)
    opportunity = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("An opportunity of the customer.")
    )
    planned_date = serializers.DateField()
    planned_time = serializers.TimeField(required=False, allow_null=True)
    purpose = serializers.ChoiceField(choices=VisitPurpose.choices)
    objectives = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class VisitPlanUpdateSerializer(VisitPlanWriteSerializer):
    owner = None  # a plan stays with its rep


class VisitPlanCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=True)


class VisitPlanMoveSerializer(serializers.Serializer):
    planned_date = serializers.DateField(help_text=_("The new day (today or later)."))
    route_order = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text=_("The place in that day's route, from 1 (default: last)."),
    )  # fmt: skip


class VisitPlanFilter(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id", help_text=_("Plans of this rep."))
    date_from = django_filters.DateFilter(field_name="planned_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="planned_date", lookup_expr="lte")
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices)

    class Meta:
        model = VisitPlan
        fields = ["owner", "date_from", "date_to", "status"]


_PLAN_ERRORS = _(
    "404 outside your scope; 403 if you may not plan for its rep; 409 if it is no longer "
    "planned; 400 naming the field (e.g. a date in the past, a missing reason)."
)


@extend_schema_view(
    list=extend_schema(summary=_("Visit plans you may see")),
    retrieve=extend_schema(summary=_("One visit plan")),
)
class VisitPlanViewSet(
    HistoryMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ApiReadOnlyModelViewSet,
):
    """Visit plans (拜访计划表) in your data scope."""

    serializer_class = VisitPlanSerializer
    filterset_class = VisitPlanFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[VisitPlan]:
        if getattr(self, "swagger_fake_view", False):
            return VisitPlan.objects.none()
        return visit_plan_list(user=self.request.user)

    def get_object(self) -> VisitPlan:
        plan = visit_plan_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, plan)
        return plan

    def _detail(self, plan: VisitPlan, code: int = status.HTTP_200_OK) -> Response:
        plan = visit_plan_get(user=self.request.user, pk=plan.pk)
        return Response(VisitPlanSerializer(plan).data, status=code)

    @extend_schema(
        summary=_("Plan a visit"),
        description=_(
            "A customer or a lead (exactly one) you may see, a date today or later; the plan "
            "goes last in that day's route. 403 if you may not plan for `owner`."
        ),
        request=VisitPlanWriteSerializer,
        responses={status.HTTP_201_CREATED: VisitPlanSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = VisitPlanWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        owner = request.user
        if (owner_id := data.pop("owner", None)) is not None:
            owner = User.objects.filter(pk=owner_id, is_active=True).first()
            if owner is None:
                raise serializers.ValidationError({"owner": [_("No active user with this id.")]})
        plan = services.visit_plan_create(by=request.user, owner=owner, **data)
        return self._detail(plan, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Change a planned visit"),
        description=_PLAN_ERRORS,
        request=VisitPlanUpdateSerializer,
        responses=VisitPlanSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        params = VisitPlanUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        params.is_valid(raise_exception=True)
        plan = services.visit_plan_update(plan=plan, by=request.user, data=params.validated_data)
        return self._detail(plan)

    @extend_schema(
        summary=_("Change some fields of a planned visit"),
        description=_PLAN_ERRORS,
        request=VisitPlanUpdateSerializer,
        responses=VisitPlanSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Cancel a planned visit, with a reason"),
        description=_PLAN_ERRORS,
        request=VisitPlanCancelSerializer,
        responses=VisitPlanSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        params = VisitPlanCancelSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        plan = services.visit_plan_cancel(
            plan=plan, by=request.user, reason=params.validated_data["reason"]
        )
        return self._detail(plan)

    @extend_schema(
        summary=_("Move a planned visit to a day and place in the route"),
        description=_PLAN_ERRORS,
        request=VisitPlanMoveSerializer,
        responses=VisitPlanSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        params = VisitPlanMoveSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        plan = services.visit_plan_move(plan=plan, by=request.user, **params.validated_data)
        return self._detail(plan)


# --- records -------------------------------------------------------------------------------


class VisitRecordSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)
    plan = serializers.IntegerField(source="plan_id", read_only=True, allow_null=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True, allow_null=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None)
    lead = serializers.IntegerField(source="lead_id", read_only=True, allow_null=True)
    lead_name = serializers.CharField(source="lead.company_name", read_only=True, default=None)
    opportunity = serializers.IntegerField(source="opportunity_id", read_only=True, allow_null=True)

    class Meta:
        model = VisitRecord
        fields = [
            "id", "owner", "plan", "customer", "customer_name", "lead", "lead_name",
            "opportunity", "purpose", "started_at", "ended_at", "latitude", "longitude",
            "location_accuracy_m", "checked_in_at", "outcome", "problems_handled",
            "payment_collected", "order_amount", "competitor_info", "customer_feedback",
            "next_step", "next_step_date", "stage_moved", "is_effective", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class VisitRecordDataSerializer(serializers.Serializer):
    """What a visit record says; the service checks times, amounts and the location."""

    purpose = serializers.ChoiceField(choices=VisitPurpose.choices, required=False)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    latitude = serializers.DecimalField(
        max_digits=12, decimal_places=8, required=False, allow_null=True,
        help_text=_("Check-in latitude (-90…90), from the device with the user's consent."),
    )  # fmt: skip
    longitude = serializers.DecimalField(
        max_digits=12, decimal_places=8, required=False, allow_null=True,
        help_text=_("Check-in longitude (-180…180)."),
    )  # fmt: skip
    location_accuracy_m = serializers.IntegerField(required=False, allow_null=True)
    checked_in_at = serializers.DateTimeField(required=False, allow_null=True)
    outcome = serializers.CharField(required=False, allow_blank=True)
    problems_handled = serializers.CharField(required=False, allow_blank=True)
    payment_collected = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    order_amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    competitor_info = serializers.CharField(required=False, allow_blank=True)
    customer_feedback = serializers.CharField(required=False, allow_blank=True)
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=300)
    next_step_date = serializers.DateField(required=False, allow_null=True)
    opportunity = serializers.IntegerField(required=False, allow_null=True)
    stage_moved = serializers.BooleanField(required=False)


class VisitRecordCreateSerializer(VisitRecordDataSerializer):
    plan = serializers.IntegerField(
        required=False, allow_null=True,
        help_text=_("The plan this visit completes (it becomes done)."),
    )  # fmt: skip
    customer = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("For an unplanned visit.")
    )
    lead = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("For an unplanned visit.")
    )


class VisitRecordFilter(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id", help_text=_("Records of this rep."))
    customer = IdFilter(field_name="customer_id", help_text=_("Records of this customer."))
    started_from = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_to = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    is_effective = django_filters.BooleanFilter()

    class Meta:
        model = VisitRecord
        fields = ["owner", "customer", "started_from", "started_to", "is_effective"]


@extend_schema_view(
    list=extend_schema(summary=_("Visit records you may see")),
    retrieve=extend_schema(summary=_("One visit record")),
)
class VisitRecordViewSet(
    HistoryMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ApiReadOnlyModelViewSet,
):
    """Visit records (拜访总结) in your data scope. Never deleted."""

    serializer_class = VisitRecordSerializer
    filterset_class = VisitRecordFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[VisitRecord]:
        if getattr(self, "swagger_fake_view", False):
            return VisitRecord.objects.none()
        return visit_record_list(user=self.request.user)

    def get_object(self) -> VisitRecord:
        record = visit_record_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, record)
        return record

    def _detail(self, record: VisitRecord, code: int = status.HTTP_200_OK) -> Response:
        record = visit_record_get(user=self.request.user, pk=record.pk)
        return Response(VisitRecordSerializer(record).data, status=code)

    @extend_schema(
        summary=_("Log a visit"),
        description=_(
            "From a plan (`plan`: it becomes done; 409 if it was already logged or is no "
            "longer planned) or unplanned (`customer` or `lead`). Moves the customer's "
            "follow-up clock. 400 naming the field for times in the future, an end before "
            "the start, a negative amount or a location out of range."
        ),
        request=VisitRecordCreateSerializer,
        responses={status.HTTP_201_CREATED: VisitRecordSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = VisitRecordCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        plan_id, customer, lead = (
            data.pop("plan", None),
            data.pop("customer", None),
            data.pop("lead", None),
        )
        opportunity = data.pop("opportunity", None)
        plan = visit_plan_get(user=request.user, pk=plan_id) if plan_id is not None else None
        record = services.visit_record_create(
            by=request.user, plan=plan, customer=customer, lead=lead, opportunity=opportunity,
            data=data,
        )  # fmt: skip
        return self._detail(record, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Correct a visit record (its rep, within 7 days)"),
        description=_("403 if you are not its rep; 409 once it is read-only (after 7 days)."),
        request=VisitRecordDataSerializer,
        responses=VisitRecordSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()
        params = VisitRecordDataSerializer(data=request.data, partial=kwargs.get("partial", False))
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        opportunity = data.pop("opportunity") if "opportunity" in data else ""
        record = services.visit_record_update(
            record=record, by=request.user, data=data, opportunity=opportunity
        )
        return self._detail(record)

    @extend_schema(
        summary=_("Correct some fields of a visit record (its rep, within 7 days)"),
        description=_("403 if you are not its rep; 409 once it is read-only (after 7 days)."),
        request=VisitRecordDataSerializer,
        responses=VisitRecordSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


ROUTES: list = [
    ("visit-plans", VisitPlanViewSet, "visit-plan"),
    ("visit-records", VisitRecordViewSet, "visit-record"),
]
