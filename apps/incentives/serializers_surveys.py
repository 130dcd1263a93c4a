"""Serializers of `/api/v1/satisfaction-surveys/` (API.md): a survey (never its token) and the
figures of a filtered set."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.api.serializers import UserRefSerializer

from .models import SatisfactionSurvey


class SurveyCustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SurveyContactRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SurveyContractRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class SatisfactionSurveySerializer(serializers.ModelSerializer):
    customer = SurveyCustomerRefSerializer(read_only=True)
    contact = SurveyContactRefSerializer(read_only=True, allow_null=True)
    owner = UserRefSerializer(read_only=True)
    contract = SurveyContractRefSerializer(read_only=True, allow_null=True)
    visit_record = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    follow_up_plan = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True,
        help_text=_("The visit plan opened for the owner after a low score."),
    )  # fmt: skip
    trigger_display = serializers.CharField(source="get_trigger_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = SatisfactionSurvey
        fields = [
            "id", "customer", "contact", "email", "owner", "trigger", "trigger_display",
            "contract", "visit_record", "status", "status_display", "sent_at", "expires_at",
            "answered_at", "score", "nps", "comment", "follow_up_plan", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class SurveyStatsSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    answered = serializers.IntegerField()
    response_rate = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text=_("answered / sent, in %.")
    )
    average = serializers.DecimalField(
        max_digits=4, decimal_places=2, allow_null=True,
        help_text=_("The mean satisfaction (1–5) of the answered surveys."),
    )  # fmt: skip
    promoters = serializers.IntegerField(help_text=_("Answers recommending us 9–10."))
    passives = serializers.IntegerField(help_text=_("Answers recommending us 7–8."))
    detractors = serializers.IntegerField(help_text=_("Answers recommending us 0–6."))
    nps = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True,
        help_text=_("% promoters − % detractors of the answers with a likelihood to recommend."),
    )  # fmt: skip
