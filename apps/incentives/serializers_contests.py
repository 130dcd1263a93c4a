"""Serializers of `/api/v1/contests/` (API.md): the contest, its leaderboard, and the bodies
of a create or a change."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.serializers import OrgUnitRefSerializer
from apps.goals.choices import Metric

from . import selectors_contests as selectors
from .models import Contest

STATE_CHOICES = [selectors.RUNNING, selectors.UPCOMING, selectors.ENDED]


class ContestSerializer(serializers.ModelSerializer):
    units = OrgUnitRefSerializer(many=True, read_only=True)
    metric_display = serializers.CharField(source="get_metric_display", read_only=True)
    state = serializers.SerializerMethodField(
        help_text=_("upcoming, running or ended (today in the business time zone).")
    )
    final = serializers.SerializerMethodField(
        help_text=_("Whether the final ranking was kept (the leaderboard is then that ranking).")
    )
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now: update (PATCH, until the contest starts).")
    )

    class Meta:
        model = Contest
        fields = [
            "id", "name", "description", "metric", "metric_display", "starts_on", "ends_on",
            "units", "state", "final", "finalized_at", "available_transitions", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=STATE_CHOICES))
    def get_state(self, contest: Contest) -> str:
        return selectors.contest_state(contest, timezone.localdate())

    def get_final(self, contest: Contest) -> bool:
        return contest.finalized_at is not None

    def get_available_transitions(self, contest: Contest) -> list[str]:
        request = self.context.get("request")
        if request is None or self.get_state(contest) != selectors.UPCOMING:
            return []
        return ["update"] if selectors.can_change_contest(request.user, contest) else []


class ContestWriteSerializer(serializers.Serializer):
    """A new contest, or the whole of a changed one."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    metric = serializers.ChoiceField(choices=Metric.choices)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    units = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False,
        help_text=_("The ids of the org units whose reps (and the units below) take part."),
        error_messages={"empty": _("Choose at least one team.")},
    )  # fmt: skip


class ContestPatchSerializer(ContestWriteSerializer):
    """Only the fields given change."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, partial=True, **kwargs)


class StandingUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user = serializers.SerializerMethodField()
    org_unit = serializers.SerializerMethodField()
    value = serializers.DecimalField(
        max_digits=16, decimal_places=2,
        help_text=_("The metric: an amount, or a count for customers and visits."),
    )  # fmt: skip

    @extend_schema_field(StandingUserSerializer)
    def get_user(self, row: selectors.Standing) -> dict:
        return {"id": row.user_id, "display_name": row.name}

    @extend_schema_field(OrgUnitRefSerializer(allow_null=True))
    def get_org_unit(self, row: selectors.Standing) -> dict | None:
        if row.unit_id is None:
            return None
        return {"id": row.unit_id, "name": row.unit_name}


class LeaderboardSerializer(serializers.Serializer):
    contest = serializers.IntegerField(source="contest.pk")
    metric = serializers.CharField(source="contest.metric")
    state = serializers.ChoiceField(choices=STATE_CHOICES)
    final = serializers.BooleanField(
        help_text=_("true: the ranking kept when the contest ended; false: computed now.")
    )
    start = serializers.DateField()
    end = serializers.DateField(
        allow_null=True, help_text=_("The last day counted; null before the contest starts.")
    )
    finalized_at = serializers.DateTimeField(allow_null=True)
    rows = StandingSerializer(many=True)
