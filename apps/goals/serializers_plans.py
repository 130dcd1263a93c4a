"""Serializers of `/api/v1/sales-plans/` and `/api/v1/target-adjustments/`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.serializers import OrgUnitRefSerializer, UserRefSerializer

from .choices import DocumentStatus, Metric, PeriodKind
from .models import SalesPlan, Target, TargetAdjustment, TargetVersion
from .plans import PLAN_MONEY_FIELDS, PLAN_TEXT_FIELDS, PlanLine

SUBMIT, WITHDRAW = "submit", "withdraw"


def _transitions(document, request) -> list[str]:
    """What the caller may do now: the author submits a draft and withdraws a pending one."""
    if request is None or document.owner_id != request.user.pk:
        return []
    if document.status == DocumentStatus.DRAFT:
        return [SUBMIT]
    if document.status == DocumentStatus.PENDING:
        return [WITHDRAW]
    return []


class PlanTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Target
        fields = ["id", "metric", "scope_kind", "user", "amount", "status", "version", "parent"]
        read_only_fields = fields


class SalesPlanSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)
    org_unit = OrgUnitRefSerializer(read_only=True)
    targets = PlanTargetSerializer(many=True, read_only=True)
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now: submit your draft, withdraw your pending plan.")
    )

    class Meta:
        model = SalesPlan
        fields = [
            "id",
            "title",
            "org_unit",
            "owner",
            "period_kind",
            "period_start",
            "period_end",
            *PLAN_TEXT_FIELDS,
            *PLAN_MONEY_FIELDS,
            "targets",
            "status",
            "return_comment",
            "approved_at",
            "available_transitions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_transitions(self, plan: SalesPlan) -> list[str]:
        return _transitions(plan, self.context.get("request"))


class PlanLineSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    user = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("A rep of the plan's unit; null for the unit's own line."),
    )
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)

    def validate(self, attrs: dict) -> dict:
        # A PATCH is partial down to the lines (DRF), but a line is whole: `targets` replaces
        # the grid (a line without its amount was a 500).
        missing = {
            name: [_("This field is required.")]
            for name in ("metric", "amount")
            if name not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class SalesPlanWriteSerializer(serializers.Serializer):
    org_unit = serializers.IntegerField(help_text=_("The unit's id (on create)."))
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices)
    day = serializers.DateField(help_text=_("A day of the period: the plan covers its period."))
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    problems = serializers.CharField(required=False, allow_blank=True)
    profit_target = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True
    )
    expense_budget = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True
    )
    expense_control_plan = serializers.CharField(required=False, allow_blank=True)
    collection_plan = serializers.CharField(required=False, allow_blank=True)
    price_plan = serializers.CharField(required=False, allow_blank=True)
    channel_plan = serializers.CharField(required=False, allow_blank=True)
    promotion_plan = serializers.CharField(required=False, allow_blank=True)
    training_plan = serializers.CharField(required=False, allow_blank=True)
    targets = PlanLineSerializer(
        many=True,
        required=False,
        help_text=_("The target grid: one line per metric for the unit and per rep."),
    )

    def lines(self) -> list[PlanLine] | None:
        raw = self.validated_data.get("targets")
        if raw is None:
            return None
        return [PlanLine(d["metric"], d["amount"], d.get("user")) for d in raw]

    def sections(self) -> dict:
        names = ("title", *PLAN_TEXT_FIELDS, *PLAN_MONEY_FIELDS)
        return {k: v for k, v in self.validated_data.items() if k in names}


class AdjustedTargetVersionSerializer(serializers.ModelSerializer):
    changed_by = UserRefSerializer(read_only=True)

    class Meta:
        model = TargetVersion
        fields = ["version", "amount", "reason", "adjustment", "changed_by", "created_at"]
        read_only_fields = fields


class AdjustedTargetSerializer(serializers.ModelSerializer):
    versions = AdjustedTargetVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "metric",
            "period_kind",
            "period_start",
            "period_end",
            "scope_kind",
            "org_unit",
            "user",
            "amount",
            "status",
            "version",
            "parent",
            "versions",
        ]
        read_only_fields = fields


class TargetAdjustmentSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)
    target = AdjustedTargetSerializer(read_only=True)
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now: submit your draft, withdraw your pending adjustment.")
    )

    class Meta:
        model = TargetAdjustment
        fields = [
            "id",
            "target",
            "owner",
            "difficulty_report",
            "current_amount",
            "proposed_amount",
            "status",
            "return_comment",
            "approved_at",
            "available_transitions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_transitions(self, adjustment: TargetAdjustment) -> list[str]:
        return _transitions(adjustment, self.context.get("request"))


class TargetAdjustmentWriteSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text=_("The target's id (on create)."))
    proposed_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    difficulty_report = serializers.CharField(allow_blank=True)


class PlanCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class PlanListParamsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DocumentStatus.choices, required=False)
    org_unit = serializers.IntegerField(required=False, min_value=1)
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices, required=False)
    day = serializers.DateField(required=False, help_text=_("Plans whose period has this day."))


class AdjustmentListParamsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DocumentStatus.choices, required=False)
    target = serializers.IntegerField(required=False, min_value=1)
