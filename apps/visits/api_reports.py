"""`/api/v1/weekly-reports/` (销售报告: list, detail, PATCH of a draft by its rep, and the
transitions submit / review / return) and `/api/v1/visit-figures/` (the visit figures of a
period, the same selector as the figures page).

Scope: a report outside the caller's data scope is a 404; a caller without the right a 403; a
report in the wrong state a 409; bad input a 400 naming the field (API.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.scope import visible_users
from apps.api.filters import IdFilter, UpdatedSinceFilter
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.serializers import UserRefSerializer
from apps.api.views import ApiGenericViewSet, ApiReadOnlyModelViewSet
from apps.leads.forms import check_period
from apps.leads.periods import Period, period_dates

from . import figures as fig
from . import reports
from .choices import ReportStatus
from .models import WeeklyReport
from .selectors import week_start

TRANSITIONS = ["submit", "review", "return"]


class WeeklyReportSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)
    reviewed_by = UserRefSerializer(read_only=True, allow_null=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    is_late = serializers.BooleanField(
        read_only=True,
        help_text=_("Due time passed before the first submission (or not submitted yet)."),
    )
    figures = serializers.JSONField(
        read_only=True,
        help_text=_(
            "The week's figures as drafted by the Monday job: target_attainment ([{metric, "
            "label, target, actual, pct}] of the rep's monthly targets, actual to the week's "
            "end; null without a target), new_customers, collections, sales, visits, "
            "effective_visits, effective_visit_rate, plans, plans_done, plans_missed, "
            "plan_execution_rate, "
            "abnormal_customers [{id, name, credit_hold, last_visit}], "
            "abnormal_customers_total."
        ),
    )
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now (POST weekly-reports/{id}/{transition}/).")
    )

    class Meta:
        model = WeeklyReport
        fields = [
            "id", "owner", "week_start", "status", "status_display", "figures", "summary",
            "competitor_notes", "abnormal_customers", "next_week_plan", "due_at",
            "submitted_at", "is_late", "supervisor_comment", "reviewed_by", "reviewed_at",
            "available_transitions", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITIONS)))
    def get_available_transitions(self, report: WeeklyReport) -> list[str]:
        request = self.context.get("request")
        return reports.report_transitions(request.user, report) if request is not None else []


class WeeklyReportUpdateSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True)
    competitor_notes = serializers.CharField(required=False, allow_blank=True)
    abnormal_customers = serializers.CharField(required=False, allow_blank=True)
    next_week_plan = serializers.CharField(required=False, allow_blank=True)


class ReportCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class EmptySerializer(serializers.Serializer):
    pass


class WeeklyReportFilter(django_filters.FilterSet):
    week = django_filters.DateFilter(
        method="filter_week", help_text=_("Any day of the week (YYYY-MM-DD).")
    )
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    owner = IdFilter(field_name="owner_id", help_text=_("Reports of this rep."))
    team = django_filters.NumberFilter(
        method="filter_team", help_text=_("Reports of the reps of this unit and those below.")
    )
    late = django_filters.BooleanFilter(field_name="is_late", help_text=_("Late reports only."))

    class Meta:
        model = WeeklyReport
        fields = ["week", "status", "owner", "team", "late"]

    def filter_week(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(week_start=week_start(value))

    def filter_team(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        team = fig.figure_teams(user=self.request.user).filter(pk=value).first()
        if team is None:
            return queryset.none()
        return queryset.filter(owner__org_unit__path__startswith=team.path)


def _problem(code: int, description: str) -> tuple:
    return (
        (code, PROBLEM_CONTENT_TYPE),
        OpenApiResponse(ProblemSerializer, description=description),
    )


_TRANSITION_ERRORS = dict(
    [
        _problem(400, _("A required field is missing (see errors, which name the field).")),
        _problem(403, _("You may not take this action on this report.")),
        _problem(404, _("No such report in your scope.")),
        _problem(409, _("The report's state does not allow it.")),
    ]
)


@extend_schema_view(
    list=extend_schema(summary=_("Weekly sales reports you may see")),
    retrieve=extend_schema(summary=_("One weekly sales report, with what you may do now")),
)
class WeeklyReportViewSet(mixins.UpdateModelMixin, ApiReadOnlyModelViewSet):
    """Weekly sales reports (销售报告) in your data scope: your own; your teams' if you head
    units."""

    serializer_class = WeeklyReportSerializer
    filterset_class = WeeklyReportFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[WeeklyReport]:
        if getattr(self, "swagger_fake_view", False):
            return WeeklyReport.objects.none()
        return reports.weekly_report_list(user=self.request.user)

    def get_object(self) -> WeeklyReport:
        report = reports.weekly_report_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, report)
        return report

    def _detail(self, report: WeeklyReport) -> Response:
        report = reports.weekly_report_get(user=self.request.user, pk=report.pk)
        return Response(WeeklyReportSerializer(report, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("Write your draft report"),
        description=_("Only the rep, only while the report is a draft (else 403 / 409)."),
        request=WeeklyReportUpdateSerializer,
        responses={200: WeeklyReportSerializer, **_TRANSITION_ERRORS},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        params = WeeklyReportUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        report = reports.weekly_report_update(
            report=report, by=request.user, data=params.validated_data
        )
        return self._detail(report)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        summary=_("Submit your report (draft → submitted)"),
        description=_("The summary and next week's plan must be written (400 naming them)."),
        request=EmptySerializer,
        responses={200: WeeklyReportSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        return self._detail(reports.weekly_report_submit(report=report, by=request.user))

    @extend_schema(
        summary=_("Mark the report reviewed, with an optional comment"),
        description=_("A head over the rep; the report must be submitted."),
        request=ReportCommentSerializer,
        responses={200: WeeklyReportSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def review(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        params = ReportCommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._detail(
            reports.weekly_report_review(
                report=report, by=request.user, comment=params.validated_data["comment"]
            )
        )

    @extend_schema(
        summary=_("Return the report to the rep with a comment (submitted → draft)"),
        description=_("A head over the rep; the comment is required."),
        request=ReportCommentSerializer,
        responses={200: WeeklyReportSerializer, **_TRANSITION_ERRORS},
    )
    @action(
        detail=True, methods=["post"], url_path="return", url_name="return",
        filter_backends=[], pagination_class=None,
    )  # fmt: skip
    def return_(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        params = ReportCommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._detail(
            reports.weekly_report_return(
                report=report, by=request.user, comment=params.validated_data["comment"]
            )
        )


# --- figures -------------------------------------------------------------------------------


class FiguresQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("First day (YYYY-MM-DD), inclusive; default Monday of this week."),
    )  # fmt: skip
    end = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("The day after the last (YYYY-MM-DD), exclusive: [start, end)."),
    )  # fmt: skip
    team = serializers.IntegerField(required=False, help_text=_("An org unit in your scope."))
    owner = serializers.IntegerField(required=False, help_text=_("A user in your scope."))
    days = serializers.IntegerField(
        required=False, min_value=1, max_value=3650,
        help_text=_("N of 'customers not visited in N days' (default from the settings)."),
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = period_dates(Period.THIS_WEEK)
        start = attrs.get("start", first)
        end = attrs.get("end", last + timedelta(days=1))

        def error(message: str, code: str) -> None:
            raise serializers.ValidationError({"end": [ErrorDetail(message, code=code)]})

        check_period(start, end - timedelta(days=1), error=error)
        return {**attrs, "start": start, "end": end}


class FiguresSerializer(serializers.Serializer):
    plans = serializers.IntegerField(help_text=_("Plans dated in the period, not cancelled."))
    done = serializers.IntegerField()
    missed = serializers.IntegerField()
    execution_rate = serializers.FloatField(
        allow_null=True, help_text=_("done / (done + missed), 0–1; null when none passed.")
    )
    visits = serializers.IntegerField(help_text=_("Records started in the period."))
    effective = serializers.IntegerField()
    effective_rate = serializers.FloatField(allow_null=True, help_text=_("effective / visits."))
    customers = serializers.IntegerField(help_text=_("Distinct customers visited."))
    visits_per_customer = serializers.FloatField(allow_null=True)
    collections = serializers.DecimalField(max_digits=16, decimal_places=2)
    orders = serializers.DecimalField(max_digits=16, decimal_places=2)


class FigureRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["unit", "rep"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    not_visited = serializers.IntegerField(help_text=_("Customers not visited in N days."))
    figures = FiguresSerializer()


class VisitFiguresSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("Exclusive."))
    days = serializers.IntegerField()
    team = serializers.IntegerField(allow_null=True)
    total = FiguresSerializer()
    not_visited = serializers.IntegerField()
    rows = FigureRowSerializer(many=True)


def _figures_body(result: fig.VisitFigures) -> dict:
    return {
        "start": result.start,
        "end": result.end,
        "days": result.days,
        "team": result.team.pk if result.team else None,
        "total": result.total.as_dict(),
        "not_visited": result.not_visited,
        "rows": [
            {"kind": r.kind, "id": r.id, "name": r.name, "not_visited": r.not_visited,
             "figures": r.figures.as_dict()}
            for r in result.rows
        ],
    }  # fmt: skip


class VisitFiguresViewSet(ApiGenericViewSet):
    """Visit figures (拜访统计) over your data scope."""

    pagination_class = None
    filter_backends: list = []
    serializer_class = VisitFiguresSerializer

    @extend_schema(
        summary=_("Visit figures of a period, per team and rep"),
        description=_(
            "Plans, done, missed, plan execution rate (done / (done + missed)), visits, "
            "effective visits and rate, customers visited, visits per customer, collections "
            "and orders on visits, and customers not visited in N days: the total and a row "
            "per unit below `team` (aggregating its reps) and per rep — the same figures as "
            "the visit statistics page. Defaults to this week."
        ),
        parameters=[FiguresQuerySerializer],
        responses={
            200: VisitFiguresSerializer,
            (400, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer, description=_("A bad date or range; errors name the field.")
            ),
            (404, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer, description=_("The team or owner is not in your scope.")
            ),
        },
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = FiguresQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        team = owner = None
        if "team" in data:
            team = fig.figure_teams(user=request.user).filter(pk=data["team"]).first()
            if team is None:
                raise NotFound(_("No such unit in your scope."))
        if "owner" in data:
            owner = visible_users(request.user).filter(pk=data["owner"]).first()
            if owner is None:
                raise NotFound(_("No such user in your scope."))
        result = fig.visit_figures(
            user=request.user, start=data["start"], end=data["end"], team=team, owner=owner,
            days=data.get("days"),
        )  # fmt: skip
        return Response(VisitFiguresSerializer(_figures_body(result)).data)


ROUTES = [
    ("weekly-reports", WeeklyReportViewSet, "weekly-report"),
    ("visit-figures", VisitFiguresViewSet, "visit-figures"),
]
