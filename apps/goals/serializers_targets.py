"""Serializers of `/api/v1/targets/`: the list row, the detail (children, what is left to
allocate, versions) and the request bodies of create, decompose and set_amount.

Choice fields are documented as strings listing their values (like the payment method): a
generated enum named "status" or "method" would collide with other resources' enums."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.serializers import OrgUnitRefSerializer, UserRefSerializer

from . import targets
from .choices import Metric, PeriodKind, ScopeKind, SplitMethod, TargetStatus
from .models import Target, TargetVersion
from .targets import Direction


def _choice_field(choices: type[models.TextChoices], **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField documented as a string naming its values."""

    @extend_schema_field(
        {
            "type": "string",
            "description": "One of: " + ", ".join(choices.values),
            "example": choices.values[0],
        }
    )
    class _Field(serializers.ChoiceField):
        pass

    return _Field(choices=choices.choices, **kwargs)


_TARGET_FIELDS = [
    "id", "metric", "metric_display", "period_kind", "period_start", "period_end",
    "period_label", "scope_kind", "org_unit", "user", "scope_name", "amount", "rolled_in",
    "parent", "split_method", "status", "version", "is_decomposed", "plan", "created_at",
    "updated_at",
]  # fmt: skip


class TargetSerializer(serializers.ModelSerializer):
    metric = _choice_field(Metric, read_only=True)
    metric_display = serializers.CharField(source="get_metric_display", read_only=True)
    period_kind = _choice_field(PeriodKind, read_only=True)
    period_label = serializers.SerializerMethodField()
    scope_kind = _choice_field(ScopeKind, read_only=True)
    org_unit = OrgUnitRefSerializer(
        read_only=True, allow_null=True,
        help_text=_("The unit; for a rep's target, the unit the rep was in when it was set."),
    )  # fmt: skip
    user = UserRefSerializer(read_only=True, allow_null=True, help_text=_("The rep."))
    scope_name = serializers.SerializerMethodField()
    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True)
    plan = serializers.IntegerField(source="plan_id", read_only=True, allow_null=True)
    split_method = serializers.CharField(
        read_only=True,
        help_text=_("How its parent was split into it: even, seasonal, manual, or empty."),
    )
    status = _choice_field(TargetStatus, read_only=True)
    is_decomposed = serializers.SerializerMethodField(help_text=_("Whether it has children."))

    class Meta:
        model = Target
        fields = _TARGET_FIELDS
        read_only_fields = fields

    def get_period_label(self, target: Target) -> str:
        return targets.period_label(target)

    def get_scope_name(self, target: Target) -> str:
        return targets.scope_name(target)

    def get_is_decomposed(self, target: Target) -> bool:
        has_children = getattr(target, "has_children", None)
        if has_children is None:
            has_children = target.children.exists()
        return bool(has_children)


class TargetVersionSerializer(serializers.ModelSerializer):
    changed_by = UserRefSerializer(read_only=True, allow_null=True)
    adjustment = serializers.IntegerField(source="adjustment_id", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True, help_text=_("When it was set."))

    class Meta:
        model = TargetVersion
        fields = ["version", "amount", "reason", "changed_by", "adjustment", "created_at"]
        read_only_fields = fields


class TargetDetailSerializer(TargetSerializer):
    """The detail: the view sets `allocation` (children, left) and `version_list` on the
    target before serializing, so nothing here queries."""

    children = serializers.SerializerMethodField(help_text=_("The ids of its children."))
    split_direction = serializers.SerializerMethodField(
        help_text=_("org or calendar when it is split, else empty.")
    )
    allocated = serializers.SerializerMethodField(help_text=_("What its children add up to."))
    left_to_allocate = serializers.SerializerMethodField(
        help_text=_("The amount minus what its children add up to.")
    )
    versions = serializers.SerializerMethodField(help_text=_("Every amount it has had."))

    class Meta(TargetSerializer.Meta):
        fields = [
            *_TARGET_FIELDS, "children", "split_direction", "allocated", "left_to_allocate",
            "versions",
        ]  # fmt: skip
        read_only_fields = fields

    def get_children(self, target: Target) -> list[int]:
        return [child.pk for child in target.allocation.children]

    def get_is_decomposed(self, target: Target) -> bool:
        return bool(target.allocation.children)

    def get_split_direction(self, target: Target) -> str:
        return target.allocation.direction

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_allocated(self, target: Target) -> str:
        return f"{target.allocation.allocated:.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_left_to_allocate(self, target: Target) -> str:
        return f"{target.allocation.left:.2f}"

    @extend_schema_field(TargetVersionSerializer(many=True))
    def get_versions(self, target: Target) -> list[dict[str, Any]]:
        return TargetVersionSerializer(target.version_list, many=True).data


class TargetCreateRequest(serializers.Serializer):
    metric = _choice_field(Metric)
    period_kind = _choice_field(PeriodKind)
    day = serializers.DateField(
        help_text=_("Any day in the period: the year, quarter, month or week containing it.")
    )
    scope_kind = _choice_field(ScopeKind)
    org_unit = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text=_("The org unit's id, for a unit's target."),
    )  # fmt: skip
    user = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text=_("The rep's id, for a rep's target."),
    )  # fmt: skip
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2,
        help_text=_("Money to the cent; customers and visits in whole numbers."),
    )  # fmt: skip
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class TargetDecomposeRequest(serializers.Serializer):
    direction = _choice_field(Direction)
    method = _choice_field(SplitMethod)
    manual = serializers.DictField(
        child=serializers.DecimalField(max_digits=16, decimal_places=2),
        required=False, allow_null=True, default=None,
        help_text=_(
            'By hand: the amount of each part, keyed "unit-<id>" or "rep-<id>" down the org '
            'tree, the part\'s first day "YYYY-MM-DD" down the calendar; they must add up to '
            "the target exactly."
        ),
    )  # fmt: skip


class TargetSetAmountRequest(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    reason = serializers.CharField(max_length=1000)
