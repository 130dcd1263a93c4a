"""REST API of the goal reports, registered by apps/api/urls.py (ROUTE_MODULES):
`GET /api/v1/reports/attainment/` and `GET /api/v1/reports/comparison/` (read-only). The same
numbers as the pages, from the same reports (`apps.goals.attainment`, `apps.goals.comparison`,
whose docstrings define them); the same filters (`forms_reports`).

Scope: the caller's; a unit or rep outside it is a 404. Bad parameters are a 400 problem naming
the field (API.md "Errors")."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.views import ApiGenericViewSet

from . import attainment, comparison
from .choices import Metric
from .comparison import View
from .forms_reports import (
    ALL_METRICS,
    REPORT_PERIODS,
    AttainmentFilterForm,
    ComparisonFilterForm,
    ReportFilterForm,
)
from .periods import Period
from .views_reports import default_view


def _valid(form: ReportFilterForm) -> ReportFilterForm:
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())  # → 400 problem, errors per field
    return form


def _decimal(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


def _ratio(help_text: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=20, decimal_places=1, allow_null=True, help_text=help_text
    )


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    label = serializers.CharField()


class NodeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("company, unit or rep"))
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class FigureSerializer(serializers.Serializer):
    metric = serializers.CharField()
    target = _decimal(allow_null=True, help_text=_("The live target; null when none is set."))
    actual = _decimal(help_text=_("Computed from the documents."))
    attainment = _ratio(_("Actual ÷ target, in %, one decimal; null without a target."))
    gap = _decimal(allow_null=True, help_text=_("Target − actual; null without a target."))


class AttainmentRowSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("unit or rep"))
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    unit = serializers.IntegerField(
        allow_null=True, help_text=_("A rep row: the unit it is listed under.")
    )
    figures = FigureSerializer(many=True)


class AttainmentReportSerializer(serializers.Serializer):
    period = PeriodSerializer()
    node = NodeSerializer()
    elapsed = _ratio(_("The share of the period's days gone by today, in %."))
    totals = FigureSerializer(many=True)
    rows = AttainmentRowSerializer(many=True)


class LineSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    kind = serializers.CharField()
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    target = _decimal(allow_null=True)
    actual = _decimal()
    attainment = _ratio(_("Actual ÷ target, in %."))
    previous = _decimal(allow_null=True, help_text=_("years: the same period last year."))
    growth = _ratio(_("years: (actual − previous) ÷ previous, in %."))


class PointSerializer(serializers.Serializer):
    month = serializers.DateField(source="start")
    target = _decimal(allow_null=True)
    actual = _decimal()
    attainment = _ratio(_("Actual ÷ target, in %."))
    previous = _decimal(allow_null=True, help_text=_("years: the same month last year."))


class ComparisonReportSerializer(serializers.Serializer):
    view = serializers.CharField()
    metric = serializers.CharField()
    period = PeriodSerializer()
    node = NodeSerializer()
    lines = LineSerializer(many=True)
    points = PointSerializer(many=True)
    total = LineSerializer()


def _period(period: Period) -> dict:
    return {"kind": period.kind, "start": period.start, "end": period.end,
            "label": period.label()}  # fmt: skip


def _node(node: attainment.Node) -> dict:
    return {"kind": node.kind, "id": node.key, "name": node.name}


def _figures(cells: dict[str, attainment.Cell]) -> list[dict]:
    return [
        {"metric": metric, "target": cell.target, "actual": cell.actual,
         "attainment": cell.attainment, "gap": cell.gap}
        for metric, cell in cells.items()
    ]  # fmt: skip


_COMMON_PARAMETERS = [
    OpenApiParameter("period", str, enum=[value for value, _label in REPORT_PERIODS],
                     description=_("month (default), quarter or year")),
    OpenApiParameter("date", str, description=_("A day in the period (YYYY-MM-DD); today.")),
    OpenApiParameter("unit", int, description=_("An org unit you may see (default: your top).")),
    OpenApiParameter("rep", int, description=_("A rep you may see.")),
]  # fmt: skip


def _errors() -> dict:
    return {
        (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_("An invalid parameter (see errors).")
        ),
        (status.HTTP_404_NOT_FOUND, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_("The unit or the rep is not one you may see.")
        ),
    }


class _ReportViewSet(ApiGenericViewSet):
    pagination_class = None
    filter_backends: list = []


class AttainmentReportViewSet(_ReportViewSet):
    """Target attainment (目标达成) of a node of the org tree."""

    @extend_schema(
        summary=_("Target attainment (目标达成)"),
        description=_(
            "For a period (a month, a quarter or a year) and a node — the company, an org unit "
            "or a rep, by default the highest you may see — the node's target, actual, "
            "attainment and gap per metric, and the same for each of its children (child units "
            "and the reps who were in the unit during the period; for a rep, the units the rep "
            "was in). Actuals are computed from the documents."
        ),
        parameters=[
            *_COMMON_PARAMETERS,
            OpenApiParameter(
                "metric",
                str,
                enum=[ALL_METRICS, *Metric.values],
                description=_("One metric, or all (default)."),
            ),
        ],
        responses={status.HTTP_200_OK: AttainmentReportSerializer, **_errors()},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = _valid(AttainmentFilterForm(request.query_params))
        data = form.cleaned_data
        report = attainment.attainment(
            user=request.user, period=form.report_period(), metrics=form.metrics(),
            unit_id=data.get("unit"), rep_id=data.get("rep"),
        )  # fmt: skip
        body = {
            "period": _period(report.period),
            "node": _node(report.node),
            "elapsed": report.elapsed,
            "totals": _figures(report.totals),
            "rows": [
                {
                    "kind": row.kind,
                    "id": row.key,
                    "name": row.name,
                    "unit": row.unit_id,
                    "figures": _figures(row.cells),
                }
                for row in report.rows
            ],
        }
        return Response(AttainmentReportSerializer(body).data)


class ComparisonReportViewSet(_ReportViewSet):
    """Performance comparison (业绩对比) of one metric."""

    @extend_schema(
        summary=_("Performance comparison (业绩对比)"),
        description=_(
            "view=reps ranks the reps of the node by their actual, view=teams its child units; "
            "view=months gives the node's 12 months up to the period with the month targets; "
            "view=years this period against the same period last year per child, with the "
            "growth."
        ),
        parameters=[
            *_COMMON_PARAMETERS,
            OpenApiParameter(
                "view", str, enum=View.values, description=_("Default teams (months for a rep).")
            ),
            OpenApiParameter(
                "metric",
                str,
                enum=Metric.values,
                description=_("Default the signed contract amount."),
            ),
        ],
        responses={status.HTTP_200_OK: ComparisonReportSerializer, **_errors()},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = _valid(ComparisonFilterForm(request.query_params))
        data = form.cleaned_data
        view = data.get("view") or default_view(request.user)
        result = comparison.comparison(
            user=request.user, view=view, period=form.report_period(), metric=data["metric"],
            unit_id=data.get("unit"), rep_id=data.get("rep"),
        )  # fmt: skip
        body = {
            "view": view,
            "metric": result.metric,
            "period": _period(result.period),
            "node": _node(result.node),
            "lines": [_line(line) for line in result.lines],
            "points": result.points,
            "total": _line(result.total),
        }
        return Response(ComparisonReportSerializer(body).data)


def _line(line: comparison.Line) -> dict:
    return {"rank": line.rank, "kind": line.kind, "id": line.key, "name": line.name,
            "target": line.target, "actual": line.actual, "attainment": line.attainment,
            "previous": line.previous, "growth": line.growth}  # fmt: skip


ROUTES = [
    ("reports/attainment", AttainmentReportViewSet, "report-attainment"),
    ("reports/comparison", ComparisonReportViewSet, "report-comparison"),
]
