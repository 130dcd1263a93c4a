"""Response shapes of the process-diagnostics and competitor-analysis API, and the competitor
registry's serializer (apps/incentives/api_diagnostics.py)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import Competitor
from .report_pagination import PageLinksSerializer

# --- process diagnostics -------------------------------------------------------------------------


def _duration(help_text: Any) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class DiagnosticsNodeSerializer(serializers.Serializer):
    """A stage (durations in days) or an approval step (durations in hours)."""

    key = serializers.CharField(help_text=_('The stage, or "document type/step name".'))
    label = serializers.CharField()
    document_type = serializers.CharField(allow_blank=True)
    document_label = serializers.CharField(allow_blank=True)
    unit = serializers.CharField(help_text=_("days (stages) or hours (approval steps)"))
    passed = serializers.IntegerField(help_text=_("Waits that ended in the period."))
    median = _duration(_("Median of those waits."))
    p90 = _duration(_("90th percentile of those waits."))
    expected = _duration(
        _("The stage's expected days, or the policy's reminder hours; null when none.")
    )
    p90_to_expected = serializers.FloatField(allow_null=True, help_text=_("p90 ÷ expected."))
    passed_over_expected = serializers.IntegerField(help_text=_("Waits longer than expected."))
    pending = serializers.IntegerField(
        help_text=_("Deals in the stage now / requests waiting at the step now.")
    )
    pending_median = _duration(_("Median wait so far of those waiting now."))
    pending_longest = _duration(_("The longest wait so far."))
    pending_over_expected = serializers.IntegerField()
    slowest_rank = serializers.IntegerField(
        allow_null=True, help_text=_("1–3 for the three slowest nodes, else null.")
    )


class WaitingStaySerializer(serializers.Serializer):
    opportunity = serializers.IntegerField()
    name = serializers.CharField()
    stage = serializers.CharField()
    owner = serializers.IntegerField()
    owner_name = serializers.CharField()
    entered_at = serializers.DateTimeField()
    days = serializers.FloatField()
    expected_days = serializers.IntegerField(allow_null=True)


class WaitingRequestSerializer(serializers.Serializer):
    request = serializers.IntegerField(help_text=_("The approval request (approvals/<id>/)."))
    title = serializers.CharField()
    document_type = serializers.CharField()
    step = serializers.CharField()
    approvers = serializers.ListField(child=serializers.CharField())
    submitter = serializers.IntegerField()
    submitter_name = serializers.CharField()
    since = serializers.DateTimeField()
    hours = serializers.FloatField()


class DiagnosticsTrendPointSerializer(serializers.Serializer):
    month = serializers.DateField()
    passed = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)


class DiagnosticsTrendSerializer(serializers.Serializer):
    key = serializers.CharField()
    points = DiagnosticsTrendPointSerializer(many=True)


class DiagnosticsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    team = serializers.IntegerField(allow_null=True)
    highlight = serializers.CharField()
    now = serializers.DateTimeField()
    stages = DiagnosticsNodeSerializer(many=True)
    approval_steps = DiagnosticsNodeSerializer(many=True)
    oldest_stays = WaitingStaySerializer(many=True)
    oldest_requests = WaitingRequestSerializer(many=True)
    stage_trend = DiagnosticsTrendSerializer(many=True)
    approval_trend = DiagnosticsTrendSerializer(many=True)


# --- competitor analysis -------------------------------------------------------------------------


class CompetitorMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    lost = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    mentions = serializers.IntegerField()


class CompetitorRowSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text=_("competitor (in the registry) or unmatched (a name written on lost deals)")
    )
    id = serializers.IntegerField(
        allow_null=True, help_text=_("The competitor, if in the registry.")
    )
    name = serializers.CharField()
    key = serializers.CharField(
        help_text=_("unmatched: the name as grouped (the `name` of lost-deals/).")
    )
    lost = serializers.IntegerField()
    lost_share = serializers.FloatField(
        allow_null=True, help_text=_("Share of the deals lost, in percent.")
    )
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    amount_share = serializers.FloatField(allow_null=True)
    mentions = serializers.IntegerField(allow_null=True)
    months = CompetitorMonthSerializer(many=True)


class CompetitorAnalysisPageSerializer(PageLinksSerializer):
    """The period's totals, and a page of the rows (`results`) with the standard links."""

    start = serializers.DateField()
    end = serializers.DateField()
    team = serializers.IntegerField(allow_null=True)
    lost = serializers.IntegerField(help_text=_("Every deal lost in the period."))
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    mentioning_records = serializers.IntegerField(
        help_text=_("Visit records naming at least one competitor.")
    )
    results = CompetitorRowSerializer(many=True)


class LostDealSerializer(serializers.Serializer):
    opportunity = serializers.IntegerField(source="opportunity_id")
    name = serializers.CharField(source="opportunity.name")
    customer = serializers.IntegerField(source="opportunity.customer_id")
    customer_name = serializers.CharField(source="opportunity.customer.name")
    owner = serializers.IntegerField(source="opportunity.owner_id")
    lost_at = serializers.DateTimeField(source="entered_at")
    competitor = serializers.CharField(source="opportunity.lost_competitor")
    reason = serializers.CharField(source="opportunity.lost_reason")
    amount = serializers.DecimalField(source="opportunity.amount", max_digits=16, decimal_places=2)


class MentionSerializer(serializers.Serializer):
    visit_record = serializers.IntegerField(source="pk")
    started_at = serializers.DateTimeField()
    owner = serializers.IntegerField(source="owner_id")
    customer = serializers.IntegerField(source="customer_id", allow_null=True)
    lead = serializers.IntegerField(source="lead_id", allow_null=True)
    competitor_info = serializers.CharField()


# --- the registry --------------------------------------------------------------------------------


class CompetitorSerializer(serializers.ModelSerializer):
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True), required=False,
        help_text=_("Other names the reps write for it; matched whatever the case."),
    )  # fmt: skip

    class Meta:
        model = Competitor
        fields = ["id", "name", "aliases", "is_active", "notes", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}  # the service checks names and aliases
