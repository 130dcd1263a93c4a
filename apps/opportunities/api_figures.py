"""REST API of the pipeline figures (商机分析), registered by apps/api/urls.py:
`pipeline-figures/funnel/`, `pipeline-figures/stage-durations/`, `pipeline-figures/win-rate/`
and `pipeline-figures/forecast/`. The same numbers as the forecast and funnel pages, from the
same selectors (`apps.opportunities.figures`, whose docstring defines them)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.views import ApiGenericViewSet
from apps.leads.forms import check_period
from apps.leads.periods import Period, period_dates

from . import figures
from .choices import Stage
from .views_figures import Filters, resolve_filters

# --- parameters ----------------------------------------------------------------------------


class ScopeParamsSerializer(serializers.Serializer):
    team = serializers.IntegerField(
        required=False, min_value=1,
        help_text=_("Only this org unit and the units below it (one you may see)."),
    )  # fmt: skip
    owner = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only this person's deals (one you may see).")
    )


class PeriodParamsSerializer(ScopeParamsSerializer):
    start = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("First day (YYYY-MM-DD), inclusive; default the first of this month."),
    )  # fmt: skip
    end = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("Last day (YYYY-MM-DD), inclusive; default the last of this month."),
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = period_dates(Period.THIS_MONTH)
        start, end = attrs.get("start", first), attrs.get("end", last)

        def error(message: str, code: str) -> None:
            raise serializers.ValidationError({"end": [ErrorDetail(message, code=code)]})

        check_period(start, end, error=error)
        return {**attrs, "start": start, "end": end}


class DurationParamsSerializer(PeriodParamsSerializer):
    include_current = serializers.BooleanField(
        required=False, default=False,
        help_text=_("Also count the current stays in open stages, up to now."),
    )  # fmt: skip


class ForecastParamsSerializer(ScopeParamsSerializer):
    months = serializers.IntegerField(
        required=False, min_value=1, max_value=figures.MAX_FORECAST_MONTHS,
        default=figures.DEFAULT_FORECAST_MONTHS,
        help_text=_("How many months from this one (default 6)."),
    )  # fmt: skip


# --- responses -----------------------------------------------------------------------------


class FunnelStepSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    reached = serializers.IntegerField(help_text=_("Deals that reached this stage or a later one."))
    next_rate = serializers.FloatField(
        allow_null=True, help_text=_("reached(next stage) / reached(this stage), 0–1.")
    )


class FunnelSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    created = serializers.IntegerField(help_text=_("Deals created in the period."))
    won = serializers.IntegerField(help_text=_("Of those, now won."))
    lost = serializers.IntegerField(help_text=_("Of those, now lost."))
    open = serializers.IntegerField(help_text=_("Of those, still open."))
    steps = FunnelStepSerializer(many=True)


class StageDurationSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    stays = serializers.IntegerField(help_text=_("Stays counted."))
    avg_days = serializers.FloatField(allow_null=True)
    median_days = serializers.FloatField(allow_null=True)
    expected_days = serializers.IntegerField(allow_null=True)


class StageDurationsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    include_current = serializers.BooleanField()
    stages = StageDurationSerializer(many=True)


class ClosedFiguresSerializer(serializers.Serializer):
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text=_("won / (won + lost), 0–1."))
    cycle_days = serializers.FloatField(
        allow_null=True, help_text=_("Average days from creation to win.")
    )


class ClosedRowSerializer(ClosedFiguresSerializer):
    id = serializers.IntegerField(allow_null=True, help_text=_("The user or org unit id."))
    name = serializers.CharField()


class WinRateSerializer(ClosedFiguresSerializer):
    start = serializers.DateField()
    end = serializers.DateField()
    by_rep = ClosedRowSerializer(many=True)
    by_team = ClosedRowSerializer(many=True)


class ForecastCellSerializer(serializers.Serializer):
    bucket = serializers.CharField(help_text=_('"overdue" or the month, YYYY-MM.'))
    deals = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    weighted = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=_("Σ amount × stage probability / 100.")
    )


class ForecastRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text=_("The user or org unit id."))
    name = serializers.CharField()
    cells = ForecastCellSerializer(many=True)
    total = ForecastCellSerializer()
    target = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True,
        help_text=_("The target to compare with (null until goals exist)."),
    )  # fmt: skip


class ForecastSerializer(serializers.Serializer):
    buckets = serializers.ListField(child=serializers.CharField())
    by_rep = ForecastRowSerializer(many=True)
    by_team = ForecastRowSerializer(many=True)
    totals = ForecastRowSerializer()


def _errors(not_found: str) -> dict:
    return {
        (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_("An invalid parameter (see errors).")
        ),
        (status.HTTP_404_NOT_FOUND, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=not_found
        ),
    }


OUT_OF_SCOPE = _("The team or the owner is not one you may see.")


# The forecast's body is written here as the serializers above would write it (their fields,
# in their order; tests/opportunities/test_figures_fast_paths.py holds the two equal): a
# company's forecast is hundreds of rows of a dozen cells, and the serializers'
# field-by-field walk over them took longer than the query.
_AMOUNT = serializers.DecimalField(max_digits=16, decimal_places=2)
_WHOLE_DIGITS = 16 - 2


def _decimal(value: Decimal) -> str:
    """DecimalField(max_digits=16, decimal_places=2)'s text of `value`; an amount already in
    cents (every forecast amount is) needs no quantizing."""
    if value.as_tuple().exponent == -2 and value.adjusted() < _WHOLE_DIGITS:
        return f"{value:f}"
    return _AMOUNT.to_representation(value)


def _cell(key: str, cell: figures.ForecastCell) -> dict:
    return {
        "bucket": key,
        "deals": cell.deals,
        "amount": _decimal(cell.amount),
        "weighted": _decimal(cell.weighted),
    }


def _forecast_row(row: figures.ForecastRow, buckets: list[figures.ForecastBucket]) -> dict:
    return {
        "id": row.id,
        "name": str(row.name),
        "cells": [_cell(b.key, row.cell(b.key)) for b in buckets],
        "total": _cell("total", row.total),
        "target": None if row.target is None else _decimal(row.target),
    }


def forecast_body(result: figures.Forecast) -> dict:
    """The forecast as `ForecastSerializer` writes it."""
    return {
        "buckets": [b.key for b in result.buckets],
        "by_rep": [_forecast_row(r, result.buckets) for r in result.by_rep],
        "by_team": [_forecast_row(r, result.buckets) for r in result.by_team],
        "totals": _forecast_row(result.totals, result.buckets),
    }


def _closed(x: figures.ClosedFigures) -> dict:
    return {"won": x.won, "lost": x.lost, "win_rate": x.win_rate, "cycle_days": x.cycle_days}


class PipelineFiguresViewSet(ApiGenericViewSet):
    """Pipeline figures over your data scope (商机分析)."""

    pagination_class = None
    filter_backends: list = []

    def _filters(self, serializer_class: type[serializers.Serializer]) -> Filters:
        params = serializer_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            return resolve_filters(
                self.request.user,
                {
                    "period": Period.CUSTOM,
                    "start": data.get("start"),
                    "end": data.get("end"),
                    "team": data.get("team"),
                    "owner": data.get("owner"),
                    "months": data.get("months", figures.DEFAULT_FORECAST_MONTHS),
                    "current": data.get("include_current", False),
                },
            )
        except Http404 as exc:  # a team or owner outside the scope
            raise NotFound from exc

    @extend_schema(
        summary=_("Funnel conversion of the deals created in a period (漏斗转化)"),
        description=_(
            "The deals in your scope created between `start` and `end` (inclusive, local days; "
            "this month by default): how many reached each stage or a later one (each deal "
            "once, by the furthest stage it reached), the conversion to the next stage, and "
            "how many are now won, lost or open."
        ),
        parameters=[PeriodParamsSerializer],
        responses={status.HTTP_200_OK: FunnelSerializer, **_errors(OUT_OF_SCOPE)},
    )
    @action(detail=False, methods=["get"])
    def funnel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        f = self._filters(PeriodParamsSerializer)
        result = figures.funnel(user=request.user, period=f.bounds, team=f.team, owner=f.owner)
        body = {
            "start": f.start, "end": f.end, "created": result.created, "won": result.won,
            "lost": result.lost, "open": result.open,
            "steps": [{"stage": s.stage, "reached": s.reached, "next_rate": s.next_rate}
                      for s in result.steps],
        }  # fmt: skip
        return Response(FunnelSerializer(body).data)

    @extend_schema(
        summary=_("Days deals stay in each stage (阶段停留时长)"),
        description=_(
            "Per open stage: the number of stays that ended between `start` and `end`, and "
            "their average and median length in days (with `include_current`, the current "
            "stays count too, up to now), next to the stage's expected days."
        ),
        parameters=[DurationParamsSerializer],
        responses={status.HTTP_200_OK: StageDurationsSerializer, **_errors(OUT_OF_SCOPE)},
    )
    @action(detail=False, methods=["get"], url_path="stage-durations")
    def stage_durations(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        f = self._filters(DurationParamsSerializer)
        rows = figures.stage_durations(
            user=request.user, period=f.bounds, team=f.team, owner=f.owner,
            include_current=f.current,
        )  # fmt: skip
        body = {
            "start": f.start, "end": f.end, "include_current": f.current,
            "stages": [vars(r) for r in rows],
        }  # fmt: skip
        return Response(StageDurationsSerializer(body).data)

    @extend_schema(
        summary=_("Win rate and cycle time of the deals closed in a period (赢单率)"),
        description=_(
            "Won / (won + lost) among the deals in your scope closed between `start` and "
            "`end`, and the average days from creation to win, in total, per rep and per team "
            "(the owner's org unit)."
        ),
        parameters=[PeriodParamsSerializer],
        responses={status.HTTP_200_OK: WinRateSerializer, **_errors(OUT_OF_SCOPE)},
    )
    @action(detail=False, methods=["get"], url_path="win-rate")
    def win_rate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        f = self._filters(PeriodParamsSerializer)
        result = figures.win_rates(user=request.user, period=f.bounds, team=f.team, owner=f.owner)
        body = {
            "start": f.start, "end": f.end, **_closed(result.total),
            "by_rep": [{"id": r.id, "name": r.name, **_closed(r.figures)} for r in result.by_rep],
            "by_team": [{"id": r.id, "name": r.name, **_closed(r.figures)}
                        for r in result.by_team],
        }  # fmt: skip
        return Response(WinRateSerializer(body).data)

    @extend_schema(
        summary=_("Weighted forecast by expected close month (加权预测)"),
        description=_(
            "The open deals in your scope by expected close month, from this month for "
            '`months` months, with the earlier months as "overdue": the number of deals, '
            "Σ amount and Σ amount × the probability of the deal's stage, per rep, per team "
            "and in total. Deals expected later or without a date are not counted."
        ),
        parameters=[ForecastParamsSerializer],
        responses={status.HTTP_200_OK: ForecastSerializer, **_errors(OUT_OF_SCOPE)},
    )
    @action(detail=False, methods=["get"])
    def forecast(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        f = self._filters(ForecastParamsSerializer)
        result = figures.forecast(user=request.user, team=f.team, owner=f.owner, months=f.months)
        return Response(forecast_body(result))


ROUTES = [("pipeline-figures", PipelineFiguresViewSet, "pipeline-figures")]
