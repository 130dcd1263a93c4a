"""Serializers of `/api/v1/scorecards/` and `/api/v1/scoring-schemes/`: the list row, the detail
(lines, what the caller may do now, the approval request) and the body of `submit`.

Choice fields are documented as strings naming their values (a generated enum called "status"
or "grade" would collide with other resources' enums). Decimals are strings (API.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.serializers import OrgUnitRefSerializer, UserRefSerializer
from apps.approvals.services import approval_request_for

from . import scorecards
from .choices import AssessmentPeriod, Curve, Grade, KpiMetric, SchemeRole, ScorecardStatus
from .models import SchemeMetric, Scorecard, ScorecardLine, ScoringScheme


def _one_of(choices) -> str:
    return "One of: " + ", ".join(choices.values)


class SchemeRefSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, help_text=_one_of(SchemeRole))

    class Meta:
        model = ScoringScheme
        fields = ["id", "name", "role"]
        read_only_fields = fields


_CARD_FIELDS = [
    "id", "user", "org_unit", "scheme", "period_kind", "period_start", "period_end", "score",
    "grade", "rank_in_unit", "unit_size", "rank_in_company", "company_size", "status",
    "status_display", "assessment", "assessed_by", "return_comment", "computed_at",
    "approved_at", "published_at", "created_at", "updated_at",
]  # fmt: skip


class ScorecardSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True, help_text=_("The person assessed."))
    org_unit = OrgUnitRefSerializer(
        read_only=True, allow_null=True,
        help_text=_("The unit the person was in at the period's end (their team for the rank)."),
    )  # fmt: skip
    scheme = SchemeRefSerializer(read_only=True)
    period_kind = serializers.CharField(read_only=True, help_text=_one_of(AssessmentPeriod))
    grade = serializers.CharField(read_only=True, help_text=_one_of(Grade))
    status = serializers.CharField(read_only=True, help_text=_one_of(ScorecardStatus))
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    assessed_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Scorecard
        fields = _CARD_FIELDS
        read_only_fields = fields


class ScorecardLineSerializer(serializers.ModelSerializer):
    metric = serializers.CharField(read_only=True, help_text=_one_of(KpiMetric))
    metric_display = serializers.CharField(source="get_metric_display", read_only=True)
    measured = serializers.SerializerMethodField(
        help_text=_("False when there was nothing to measure: the line is left out.")
    )
    effective_weight = serializers.SerializerMethodField(
        help_text=_("The weight the line counted with: scaled up when lines were left out.")
    )

    class Meta:
        model = ScorecardLine
        fields = [
            "metric", "metric_display", "weight", "effective_weight", "value", "numerator",
            "denominator", "points", "weighted", "measured",
        ]  # fmt: skip
        read_only_fields = fields

    def get_measured(self, line: ScorecardLine) -> bool:
        return line.value is not None

    @extend_schema_field(serializers.DecimalField(max_digits=7, decimal_places=2))
    def get_effective_weight(self, line: ScorecardLine) -> str:
        weights = self.context.get("effective_weights") or {}
        weight = weights.get(line.metric)
        return None if weight is None else str(weight.quantize(scorecards.CENT))


class ScorecardDetailSerializer(ScorecardSerializer):
    lines = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField(
        help_text=_(
            "What you may do now: submit (the head, with the assessment), publish (a manager "
            "above, once approved). Approve and return through approvals/<approval>/."
        )
    )
    approval = serializers.SerializerMethodField(
        help_text=_("The id of the scorecard's approval request, once submitted.")
    )

    class Meta(ScorecardSerializer.Meta):
        fields = [*_CARD_FIELDS, "lines", "available_transitions", "approval"]
        read_only_fields = fields

    @extend_schema_field(ScorecardLineSerializer(many=True))
    def get_lines(self, card: Scorecard) -> list[dict]:
        lines = list(card.lines.all())
        weights = scorecards.effective_weights(
            [(line.metric, line.weight, line.value is not None) for line in lines]
        )
        context = {**self.context, "effective_weights": weights}
        return ScorecardLineSerializer(lines, many=True, context=context).data

    def get_available_transitions(self, card: Scorecard) -> list[str]:
        request = self.context.get("request")
        return scorecards.available_transitions(request.user, card) if request else []

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_approval(self, card: Scorecard) -> int | None:
        request = approval_request_for(card)
        return request.pk if request else None


class ScorecardSubmitSerializer(serializers.Serializer):
    assessment = serializers.CharField(
        required=False, allow_blank=True, max_length=scorecards.ASSESSMENT_MAX,
        help_text=_("The written assessment; left out: the one saved on the scorecard."),
    )  # fmt: skip
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ScorecardPublishSerializer(serializers.Serializer):
    pass


class SchemeMetricSerializer(serializers.ModelSerializer):
    metric = serializers.CharField(read_only=True, help_text=_one_of(KpiMetric))
    curve = serializers.CharField(read_only=True, help_text=_one_of(Curve))

    class Meta:
        model = SchemeMetric
        fields = [
            "metric", "weight", "curve", "zero_at", "full_at", "cap", "lower_is_better",
            "thresholds", "position",
        ]  # fmt: skip
        read_only_fields = fields


class ScoringSchemeSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, help_text=_one_of(SchemeRole))
    period_kind = serializers.CharField(read_only=True, help_text=_one_of(AssessmentPeriod))
    metrics = SchemeMetricSerializer(many=True, read_only=True)

    class Meta:
        model = ScoringScheme
        fields = [
            "id", "name", "role", "period_kind", "is_active", "grade_s_min", "grade_a_min",
            "grade_b_min", "grade_c_min", "notes", "metrics", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields
