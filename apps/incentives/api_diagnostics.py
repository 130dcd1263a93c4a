"""REST API of the process diagnostics and the competitor analysis (API.md "reports/<name>/"),
registered by apps/api/urls.py:

- `GET reports/process-diagnostics/` — the figures of the diagnostics page;
- `GET reports/competitors/` — the figures of the competitor analysis: the period's totals
  and a row per competitor (and per name written on lost deals), in cursor pages as every
  list (`report_pagination`); the documents behind them at `reports/competitors/lost-deals/`
  and `reports/competitors/mentions/` (cursor pages);
- `competitors/` — the registry of competitors (list, detail; create and update for admins
  and sales managers).

The same numbers as the pages, from the same selectors (`diagnostics`, `competitors`, whose
docstrings define them) and the same filter forms. Someone the reports are not for (a rep,
finance) and a team outside the caller's scope get a 404; a bad parameter a 400 problem naming
the field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.pagination import CursorPagination
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.views import ApiGenericViewSet

from . import competitors, diagnostics
from .forms_diagnostics import CompetitorFilterForm, DiagnosticsFilterForm, DrillDownForm
from .models import Competitor
from .report_pagination import PAGE_PARAMETERS, RowCursorPagination
from .serializers_diagnostics import (
    CompetitorAnalysisPageSerializer,
    CompetitorSerializer,
    DiagnosticsSerializer,
    LostDealSerializer,
    MentionSerializer,
)
from .views_diagnostics import _team


def _valid(form: Any) -> Any:
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())  # → 400 problem, errors per field
    return form


def _gate(user: Any) -> None:
    if not diagnostics.can_view_diagnostics(user):
        raise Http404


def _errors() -> dict:
    return {
        (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_("An invalid parameter (see errors).")
        ),
        (status.HTTP_404_NOT_FOUND, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer,
            description=_("Not a report of yours (a rep, finance), or a team you may not see."),
        ),
    }


_PERIOD = [
    OpenApiParameter("start", str, description=_("First day (YYYY-MM-DD), included.")),
    OpenApiParameter("end", str, description=_("Last day (YYYY-MM-DD), included; at most a year.")),
    OpenApiParameter("team", int, description=_("An org unit you may see, with those below it.")),
]


def _node(node: diagnostics.Node) -> dict:
    w = node.waits
    return {
        "key": node.key, "label": node.label, "document_type": node.document_type,
        "document_label": node.document_label, "unit": node.unit, "passed": w.passed,
        "median": node.p50, "p90": node.p90, "expected": node.expected_value,
        "p90_to_expected": node.ratio, "passed_over_expected": w.passed_over,
        "pending": w.pending, "pending_median": node.pending_p50,
        "pending_longest": node.oldest, "pending_over_expected": w.pending_over,
        "slowest_rank": node.slow_rank,
    }  # fmt: skip


def _trend(trend: diagnostics.Trend) -> list[dict]:
    return [
        {"key": key, "points": [{"month": p.month, "passed": p.passed, "median": p.p50,
                                 "p90": p.p90} for p in points]}
        for key, points in trend.series.items()
    ]  # fmt: skip


class _ReportViewSet(ApiGenericViewSet):
    pagination_class = None
    filter_backends: list = []


class ProcessDiagnosticsViewSet(_ReportViewSet):
    """Process diagnostics (流程诊断)."""

    @extend_schema(
        summary=_("Process diagnostics (流程诊断)"),
        description=_(
            "Per open pipeline stage (days) and per approval step of each document type "
            "(hours): the waits that ended in the period (default the last 90 days) with their "
            "median and 90th percentile, those longer than expected, the deals / requests "
            "waiting now with the median and longest wait so far; the 20 deals and the 20 "
            "requests waiting longest now; the median and 90th percentile per month for the "
            "six months up to `end`; the three slowest stages and steps (`slowest_rank`), "
            "relative to their expected time or absolute (`highlight`)."
        ),
        parameters=[
            *_PERIOD,
            OpenApiParameter(
                "highlight",
                str,
                enum=list(diagnostics.Highlight.VALUES),
                description=_("How the slowest are chosen (default relative)."),
            ),
        ],
        responses={status.HTTP_200_OK: DiagnosticsSerializer, **_errors()},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _gate(request.user)
        data = _valid(DiagnosticsFilterForm(request.query_params)).cleaned_data
        team = _team(request.user, data.get("team"))
        result = diagnostics.process_diagnostics(
            user=request.user, start=data["start"], end=data["end"], team=team,
            highlight=data["highlight"],
        )  # fmt: skip
        body = {
            "start": result.start, "end": result.end, "team": team.pk if team else None,
            "highlight": result.highlight, "now": result.now,
            "stages": [_node(n) for n in result.stages],
            "approval_steps": [_node(n) for n in result.steps],
            "oldest_stays": [
                {"opportunity": s.opportunity_id, "name": s.name, "stage": s.stage,
                 "owner": s.owner_id, "owner_name": s.owner_name, "entered_at": s.entered_at,
                 "days": s.waited_days, "expected_days": s.expected_days}
                for s in result.oldest_stays
            ],
            "oldest_requests": [
                {"request": r.request_id, "title": r.title, "document_type": r.document_type,
                 "step": r.step_name, "approvers": r.approvers, "submitter": r.submitter_id,
                 "submitter_name": r.submitter_name, "since": r.since, "hours": r.waited_hours}
                for r in result.oldest_requests
            ],
            "stage_trend": _trend(result.stage_trend),
            "approval_trend": _trend(result.step_trend),
        }  # fmt: skip
        return Response(DiagnosticsSerializer(body).data)


class CompetitorReportViewSet(_ReportViewSet):
    """Competitor analysis (竞争分析)."""

    @extend_schema(
        summary=_("Competitor analysis (竞争分析)"),
        description=format_lazy(
            "{} {}",
            _(
                "Per competitor of the registry, and per name written on lost deals that no "
                "competitor has: the deals lost in the period (default the last six months), "
                "their amount and share, per month; per competitor the visit records whose "
                "competitor information names it (name or alias, whatever the case), per month."
            ),
            _(
                "The period's totals come with every page; the rows (`results`) are paged as "
                "every list, the competitors and the names with lost deals first, then by "
                "deals lost, amount and mentions (most first) and name."
            ),
        ),
        parameters=[*_PERIOD, *PAGE_PARAMETERS],
        responses={status.HTTP_200_OK: CompetitorAnalysisPageSerializer, **_errors()},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _gate(request.user)
        data = _valid(CompetitorFilterForm(request.query_params)).cleaned_data
        team = _team(request.user, data.get("team"))
        result = competitors.competitor_analysis(
            user=request.user, start=data["start"], end=data["end"], team=team
        )
        paginator = RowCursorPagination()
        rows = paginator.paginate_rows(
            result.rows, competitors.row_order, competitors.ROW_ORDER_SIZE, request
        )
        body = {
            "start": result.start, "end": result.end, "team": team.pk if team else None,
            "lost": result.lost, "amount": result.amount,
            "mentioning_records": result.mentioning_records,
            **paginator.links(),
            "results": [
                {"kind": r.kind, "id": r.id, "name": r.name, "key": r.key, "lost": r.lost,
                 "lost_share": r.lost_share, "amount": r.amount, "amount_share": r.amount_share,
                 "mentions": r.mentions if r.kind == "competitor" else None,
                 "months": [{"month": m, **vars(r.month(m))} for m in result.months]}
                for r in rows
            ],
        }  # fmt: skip
        return Response(CompetitorAnalysisPageSerializer(body).data)

    def _drill(self, need_competitor: bool) -> tuple[dict, Any, Competitor | None]:
        _gate(self.request.user)
        form = _valid(DrillDownForm(self.request.query_params, need_competitor=need_competitor))
        data = form.cleaned_data
        team = _team(self.request.user, data.get("team"))
        competitor = None
        if data.get("competitor"):
            competitor = competitors.competitor_get(user=self.request.user, pk=data["competitor"])
        return data, team, competitor

    @property
    def cursor_ordering(self) -> tuple[str, ...]:
        if self.action == "mentions":
            return ("-started_at", "-id")
        return ("-entered_at", "-id")

    def _page(self, queryset: Any, serializer: Any) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer(page, many=True).data)

    @extend_schema(
        summary=_("Deals lost to a competitor"),
        description=_(
            "The deals behind a competitor's figure: lost in the period to `competitor` (an "
            "id of the registry) or under `name` (a name no competitor has, as the analysis "
            "groups it), newest first."
        ),
        parameters=[
            *_PERIOD,
            OpenApiParameter("competitor", int, description=_("A competitor of the registry.")),
            OpenApiParameter("name", str, description=_("Or a name written on lost deals.")),
            *PAGE_PARAMETERS,
        ],
        responses={status.HTTP_200_OK: LostDealSerializer(many=True), **_errors()},
    )
    @action(detail=False, methods=["get"], url_path="lost-deals", pagination_class=CursorPagination)
    def lost_deals(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data, team, competitor = self._drill(need_competitor=False)
        stays = competitors.lost_deals(
            user=request.user, start=data["start"], end=data["end"], team=team,
            competitor=competitor, name=data.get("name") or "",
        )  # fmt: skip
        return self._page(stays, LostDealSerializer)

    @extend_schema(
        summary=_("Visit records mentioning a competitor"),
        description=_("The visit records of the period naming `competitor`, newest first."),
        parameters=[
            *_PERIOD,
            OpenApiParameter(
                "competitor", int, required=True, description=_("A competitor of the registry.")
            ),
            *PAGE_PARAMETERS,
        ],
        responses={status.HTTP_200_OK: MentionSerializer(many=True), **_errors()},
    )
    @action(detail=False, methods=["get"], pagination_class=CursorPagination)
    def mentions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data, team, competitor = self._drill(need_competitor=True)
        records = competitors.mentions(
            user=request.user, start=data["start"], end=data["end"], team=team,
            competitor=competitor,
        )  # fmt: skip
        return self._page(records, MentionSerializer)


class CompetitorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ApiGenericViewSet,
):
    """The competitors (竞争对手) the analysis looks for: read by those who may open it, kept
    by admins and sales managers."""

    serializer_class = CompetitorSerializer
    search_fields = ["name"]

    def get_queryset(self) -> Any:
        return competitors.competitor_list(user=self.request.user)

    def perform_create(self, serializer: CompetitorSerializer) -> None:
        serializer.instance = competitors.competitor_create(
            by=self.request.user, **self._fields(serializer)
        )

    def perform_update(self, serializer: CompetitorSerializer) -> None:
        instance = serializer.instance
        fields = {
            "name": instance.name, "aliases": instance.aliases, "notes": instance.notes,
            "is_active": instance.is_active, **self._fields(serializer),
        }  # fmt: skip
        serializer.instance = competitors.competitor_update(
            competitor=instance, by=self.request.user, **fields
        )

    @staticmethod
    def _fields(serializer: CompetitorSerializer) -> dict[str, Any]:
        data = serializer.validated_data
        return {k: data[k] for k in ("name", "aliases", "notes", "is_active") if k in data}


ROUTES = [
    ("reports/process-diagnostics", ProcessDiagnosticsViewSet, "report-process-diagnostics"),
    ("reports/competitors", CompetitorReportViewSet, "report-competitors"),
    ("competitors", CompetitorViewSet, "competitor"),
]
