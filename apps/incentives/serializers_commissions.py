"""Serializers of `/api/v1/commission-plans/` and `/api/v1/commission-statements/`. Rates and
factors are decimals as the database keeps them: a rate of 0.0150 is 1.5 %."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import OrgUnit
from apps.api.serializers import OrgUnitRefSerializer, UserRefSerializer

from . import commissions
from .choices import FactorKind, StatementStatus
from .commissions import FactorSpec, PlanData, TierSpec
from .forms_commissions import parse_month
from .models import (
    CommissionAdjustment,
    CommissionFactor,
    CommissionLine,
    CommissionPlan,
    CommissionStatement,
    CommissionTier,
)

SUBMIT = "submit"


# --- plans -----------------------------------------------------------------------------------


class CommissionTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommissionTier
        fields = ["from_amount", "rate"]
        read_only_fields = fields


class CommissionFactorSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommissionFactor
        fields = ["kind", "value", "factor"]
        read_only_fields = fields


class CommissionPlanRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommissionPlan
        fields = ["id", "name"]
        read_only_fields = fields


class CommissionPlanSerializer(serializers.ModelSerializer):
    units = OrgUnitRefSerializer(many=True, read_only=True)
    tiers = CommissionTierSerializer(many=True, read_only=True)
    factors = CommissionFactorSerializer(many=True, read_only=True)
    statement_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = CommissionPlan
        fields = [
            "id", "name", "valid_from", "valid_to", "is_active", "units", "accelerator_rate",
            "clawback_on_write_off", "notes", "tiers", "factors", "statement_count",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CommissionTierWriteSerializer(serializers.Serializer):
    from_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    rate = serializers.DecimalField(
        max_digits=6, decimal_places=4, help_text=_("A fraction: 0.015 is 1.5 %.")
    )


class CommissionFactorWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FactorKind.choices)
    value = serializers.CharField(max_length=100)
    factor = serializers.DecimalField(max_digits=6, decimal_places=4)


class CommissionPlanWriteSerializer(serializers.Serializer):
    """A plan to create, or the fields to change (the tiers and factors, when given, replace
    the plan's)."""

    name = serializers.CharField(max_length=200)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True)
    units = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False,
        help_text=_("Org unit ids; none: every rep."),
    )  # fmt: skip
    accelerator_rate = serializers.DecimalField(
        max_digits=6, decimal_places=4, required=False,
        help_text=_("Extra rate on the base above the collection target, a fraction."),
    )  # fmt: skip
    clawback_on_write_off = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    tiers = CommissionTierWriteSerializer(many=True)
    factors = CommissionFactorWriteSerializer(many=True, required=False)

    def validate_units(self, value: list[int]) -> list[OrgUnit]:
        units = OrgUnit.objects.in_bulk(value)
        unknown = [pk for pk in value if pk not in units]
        if unknown:
            raise serializers.ValidationError(
                _("No such org unit: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
            )
        return [units[pk] for pk in dict.fromkeys(value)]

    def plan_data(self, start: PlanData | None = None) -> PlanData:
        """The service's input: `start` (the plan's current data) with what was sent."""
        data = self.validated_data
        base = start or PlanData(name="", valid_from=None)
        if "name" in data:
            base.name = data["name"]
        if "valid_from" in data:
            base.valid_from = data["valid_from"]
        if "valid_to" in data:
            base.valid_to = data["valid_to"]
        if "units" in data:
            base.units = data["units"]
        if "accelerator_rate" in data:
            base.accelerator_rate = data["accelerator_rate"]
        if "clawback_on_write_off" in data:
            base.clawback_on_write_off = data["clawback_on_write_off"]
        if "notes" in data:
            base.notes = data["notes"]
        if "tiers" in data:
            base.tiers = [TierSpec(t["from_amount"], t["rate"]) for t in data["tiers"]]
        if "factors" in data:
            base.factors = [FactorSpec(f["kind"], f["value"], f["factor"]) for f in data["factors"]]
        return base


# --- statements ------------------------------------------------------------------------------


def statement_transitions(statement: CommissionStatement, request: Any) -> list[str]:
    """What the caller may do now: the rep's supervisor submits a draft of an ended month
    (approve / return go through `/api/v1/approvals/`)."""
    if request is None:
        return []
    if commissions.can_submit_statement(request.user, statement) and commissions.submittable_now(
        statement
    ):
        return [SUBMIT]
    return []


class CommissionStatementSerializer(serializers.ModelSerializer):
    rep = UserRefSerializer(read_only=True)
    org_unit = OrgUnitRefSerializer(read_only=True, allow_null=True)
    plan = CommissionPlanRefSerializer(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    available_transitions = serializers.SerializerMethodField(
        help_text=_(
            "What you may do now: submit (the rep's supervisor, a draft of an ended month)."
        )
    )

    class Meta:
        model = CommissionStatement
        fields = [
            "id", "rep", "org_unit", "plan", "month", "status", "status_display", "collected",
            "base", "target", "tier_amount", "accelerator_amount", "earned", "adjustments",
            "payable", "computed_at", "return_comment", "approved_at", "exported_at",
            "available_transitions", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_transitions(self, statement: CommissionStatement) -> list[str]:
        return statement_transitions(statement, self.context.get("request"))


class CommissionLineSerializer(serializers.ModelSerializer):
    payment = serializers.IntegerField(source="allocation.payment_id", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True)

    class Meta:
        model = CommissionLine
        fields = [
            "id", "allocation", "payment", "installment", "contract", "contract_number",
            "received_on", "amount", "factor", "base",
        ]  # fmt: skip
        read_only_fields = fields


class CommissionAdjustmentSerializer(serializers.ModelSerializer):
    detail = serializers.JSONField(
        read_only=True,
        help_text=_(
            "{allocations: [ids reversed], installments: [ids written off], added: [ids "
            "allocated after the approval], statement: the adjusted statement's id}"
        ),
    )

    class Meta:
        model = CommissionAdjustment
        fields = ["id", "source_month", "amount", "reason", "detail", "created_at"]
        read_only_fields = fields


class CommissionTierStepSerializer(serializers.Serializer):
    from_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    to_amount = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    portion = serializers.DecimalField(max_digits=16, decimal_places=2)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class CommissionStatementDetailSerializer(CommissionStatementSerializer):
    lines = CommissionLineSerializer(many=True, read_only=True)
    adjustment_lines = CommissionAdjustmentSerializer(many=True, read_only=True)
    tier_steps = serializers.SerializerMethodField(
        help_text=_("The tier computation step by step: the part of the base in each tier.")
    )

    class Meta(CommissionStatementSerializer.Meta):
        fields = [*CommissionStatementSerializer.Meta.fields, "tier_steps", "lines",
                  "adjustment_lines"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(CommissionTierStepSerializer(many=True))
    def get_tier_steps(self, statement: CommissionStatement) -> list[dict]:
        earnings = commissions.statement_earnings(statement)
        return CommissionTierStepSerializer(earnings.steps, many=True).data


def _month(value: Any) -> date:
    raw = str(value or "").strip()
    try:
        return parse_month(raw[:7]) if len(raw) in (7, 10) else parse_month(raw)
    except ValueError:
        raise serializers.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-06.")) from None


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-06"})
class MonthField(serializers.Field):
    """A month as YYYY-MM (or any day of it, YYYY-MM-DD)."""

    def to_internal_value(self, data: Any) -> date:
        return _month(data)

    def to_representation(self, value: date) -> str:
        return f"{value:%Y-%m}"


ORDERINGS = {
    "updated_at": ("updated_at", "id"),
    "month": ("month", "id"),
    "-month": ("-month", "-id"),
    "payable": ("payable", "id"),
    "-payable": ("-payable", "-id"),
}


class StatementListParamsSerializer(serializers.Serializer):
    month = MonthField(required=False, help_text=_("Only this month (YYYY-MM)."))
    status = serializers.ChoiceField(choices=StatementStatus.choices, required=False)
    org_unit = serializers.IntegerField(
        required=False, min_value=1, help_text=_("The statements of this unit and below.")
    )
    rep = serializers.IntegerField(required=False, min_value=1)
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    ordering = serializers.ChoiceField(
        choices=list(ORDERINGS), required=False,
        help_text=_("updated_at (the default, for incremental sync), month, -month, payable, "
                    "-payable."),
    )  # fmt: skip


class StatementCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class StatementTeamSubmitSerializer(serializers.Serializer):
    month = MonthField(help_text=_("The month (YYYY-MM) whose drafts are submitted."))
    org_unit = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text=_("Only this unit and below.")
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class StatementRefusedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()


class StatementTeamSubmitResultSerializer(serializers.Serializer):
    submitted = serializers.ListField(child=serializers.IntegerField())
    refused = StatementRefusedSerializer(many=True)
