"""REST API of the receivables figures (应收分析), registered by apps/api/urls.py:
`GET /api/v1/reports/receivables-aging/` and `GET /api/v1/reports/collection/` (read-only).
The same numbers as the figures page, from the same selectors (`apps.receivables.figures`,
whose docstring defines them).

Scope: the caller's data scope; a team, owner or customer outside it is a 404. Bad parameters
are a 400 problem naming the field (API.md "Errors")."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.views import ApiGenericViewSet
from apps.leads.forms import check_period

from . import figures
from .figures import Period
from .views_figures import Filters, resolve_filters

MAX_PAGE_SIZE = 500

# --- parameters ----------------------------------------------------------------------------


class FigureParamsSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(
        choices=list(figures.GROUP_BY), required=False, default="company",
        help_text=_("One row per: company (one row), team (the owner's org unit), rep (the "
                    "installment's owner) or customer (paged, largest open amount first)."),
    )  # fmt: skip
    team = serializers.IntegerField(
        required=False, min_value=1,
        help_text=_("Only the owners in this org unit and the units below it (one you may see)."),
    )  # fmt: skip
    owner = serializers.IntegerField(
        required=False, min_value=1,
        help_text=_("Only this rep's installments (one you may see)."),
    )  # fmt: skip
    customer = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only this customer's installments.")
    )
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text=_("group_by=customer: part of the customer's name."),
    )  # fmt: skip
    page = serializers.IntegerField(
        required=False, min_value=1, default=1, help_text=_("group_by=customer: the page.")
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=figures.CUSTOMER_PAGE,
        help_text=_("group_by=customer: customers per page (default 50, at most 500)."),
    )  # fmt: skip


class AgingParamsSerializer(FigureParamsSerializer):
    as_of = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("The day (YYYY-MM-DD) the days past due are counted to; default today."),
    )  # fmt: skip


class CollectionParamsSerializer(FigureParamsSerializer):
    start = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("First day (YYYY-MM-DD), inclusive; default the first of this month."),
    )  # fmt: skip
    end = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("Last day (YYYY-MM-DD), inclusive; default the last of this month."),
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = figures.period_dates(Period.THIS_MONTH)
        start, end = attrs.get("start", first), attrs.get("end", last)

        def error(message: str, code: str) -> None:
            raise serializers.ValidationError({"end": [ErrorDetail(message, code=code)]})

        check_period(start, end, error=error)
        return {**attrs, "start": start, "end": end}


# --- responses -----------------------------------------------------------------------------


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


def _ratio(help_text: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=20, decimal_places=1, allow_null=True, help_text=help_text
    )


class RowKeyMixin(serializers.Serializer):
    key = serializers.IntegerField(
        allow_null=True,
        help_text=_("The org unit, user or customer id of the row; null for the company row "
                    "and the total."),
    )  # fmt: skip
    label = serializers.CharField()


class AgingRowSerializer(RowKeyMixin):
    current = _money(help_text=_("Not yet due, or due on the day."))
    d1_30 = _money(help_text=_("1–30 days past due."))
    d31_60 = _money(help_text=_("31–60 days past due."))
    d61_90 = _money(help_text=_("61–90 days past due."))
    d90_plus = _money(help_text=_("Over 90 days past due."))
    open = _money(help_text=_("All buckets: amount − paid − written off."))
    overdue = _money(help_text=_("All buckets but current."))
    overdue_ratio = _ratio(_("Overdue ÷ open, in %, one decimal; null when nothing is open."))
    count = serializers.IntegerField(help_text=_("Open installments."))


class AgingReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    group_by = serializers.CharField()
    rows = AgingRowSerializer(many=True)
    total = AgingRowSerializer()
    next = serializers.URLField(
        allow_null=True, help_text=_("group_by=customer: the next page, if any.")
    )


class CollectionRowSerializer(RowKeyMixin):
    overdue_at_start = _money(help_text=_("Overdue open amount at the start of the period."))
    due = _money(help_text=_("Amounts of the installments falling due in the period."))
    to_collect = _money(
        help_text=_("Open at the start of the period, of the installments due by its end.")
    )
    collected = _money(
        help_text=_("Live allocations dated in the period, to installments due by its end.")
    )
    collection_rate = _ratio(_("Collected ÷ to collect, in %; null when nothing to collect."))
    receivable_at_end = _money(
        help_text=_("Open at the end of the period, of the installments due by its end.")
    )
    dso = serializers.DecimalField(
        max_digits=20, decimal_places=1, allow_null=True,
        help_text=_("Receivable at end ÷ due × the days of the period; null when nothing "
                    "was due."),
    )  # fmt: skip
    overdue_at_end = _money(help_text=_("Overdue open amount at the end of the period."))
    open_at_end = _money(help_text=_("Open amount at the end of the period."))
    overdue_ratio = _ratio(_("Overdue at end ÷ open at end, in %."))
    written_off = _money(help_text=_("Write-offs approved in the period."))
    bad_debt_ratio = _ratio(_("Written off ÷ due, in %; null when nothing was due."))


class CollectionReportSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField(help_text=_("Days of the period (the N of the DSO)."))
    group_by = serializers.CharField()
    rows = CollectionRowSerializer(many=True)
    total = CollectionRowSerializer()
    next = serializers.URLField(
        allow_null=True, help_text=_("group_by=customer: the next page, if any.")
    )


def _errors() -> dict:
    return {
        (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_("An invalid parameter (see errors).")
        ),
        (status.HTTP_404_NOT_FOUND, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer,
            description=_("The team, the owner or the customer is not one you may see."),
        ),
    }


def _aging_row(row: figures.AgingRow) -> dict:
    return {
        "key": row.key, "label": row.label,
        **{name: getattr(row, name) for name, _label in figures.BUCKETS},
        "open": row.open, "overdue": row.overdue, "overdue_ratio": row.overdue_ratio,
        "count": row.count,
    }  # fmt: skip


def _collection_row(row: figures.CollectionRow) -> dict:
    return {
        "key": row.key, "label": row.label,
        **{name: getattr(row, name) for name in figures.SUMS},
        "collection_rate": row.collection_rate, "dso": row.dso,
        "overdue_ratio": row.overdue_ratio, "bad_debt_ratio": row.bad_debt_ratio,
    }  # fmt: skip


def represent(serializer_class: type[serializers.Serializer], body: dict) -> dict:
    """`serializer_class(body).data`, field by field with the serializer's own fields (the
    same output), without the serializer machinery around each of the hundreds of rows of
    a grouping (it cost more than the report's query does: 448 reps)."""

    def rows(serializer: serializers.Serializer, values: list[dict]) -> list[dict]:
        fields = list(serializer.fields.items())
        return [
            {name: None if row[name] is None else field.to_representation(row[name])
             for name, field in fields}
            for row in values
        ]  # fmt: skip

    data = {}
    for name, field in serializer_class().fields.items():
        value = body[name]
        if isinstance(field, serializers.ListSerializer):
            data[name] = rows(field.child, value)
        elif isinstance(field, serializers.Serializer):
            data[name] = rows(field, [value])[0]
        else:
            data[name] = None if value is None else field.to_representation(value)
    return data


class _FiguresViewSet(ApiGenericViewSet):
    pagination_class = None
    filter_backends: list = []

    def _filters(self, params_class: type[serializers.Serializer]) -> tuple[Filters, int]:
        params = params_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        first, last = figures.period_dates(Period.THIS_MONTH)
        f = resolve_filters(  # a team, owner or customer outside the scope: Http404 → 404
            self.request.user,
            {
                "as_of": data.get("as_of") or figures.today(),
                "period": Period.CUSTOM,
                "start": data.get("start", first),
                "end": data.get("end", last),
                "group_by": data["group_by"],
                "team": data.get("team"),
                "owner": data.get("owner"),
                "customer": data.get("customer"),
                "q": data.get("q", ""),
                "page": data["page"],
            },
        )
        return f, data["page_size"]

    def _common(self, f: Filters, page_size: int) -> dict:
        return {
            "user": self.request.user, "group_by": f.group_by, "search": f.q,
            "limit": page_size, "offset": (f.page - 1) * page_size, **f.narrowing(),
        }  # fmt: skip

    def _next(self, has_next: bool, f: Filters) -> str | None:
        if not has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), "page", f.page + 1)


class ReceivablesAgingReportViewSet(_FiguresViewSet):
    """Receivables aging (账龄) over your data scope."""

    @extend_schema(
        summary=_("Receivables aging (账龄)"),
        description=_(
            "The open amount of the installments in your scope by days past due on `as_of` "
            "(default today): current (not yet due or due that day), 1–30, 31–60, 61–90 and "
            "over 90 days, with the open and overdue totals and the overdue ratio; one row "
            "per `group_by` key and the total. With group_by=customer the rows are a page of "
            "customers, the largest open amount first (`q` searches the name); the total is "
            "over all of them."
        ),
        parameters=[AgingParamsSerializer],
        responses={status.HTTP_200_OK: AgingReportSerializer, **_errors()},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        f, page_size = self._filters(AgingParamsSerializer)
        report = figures.aging(as_of=f.as_of, **self._common(f, page_size))
        body = {
            "as_of": report.as_of,
            "group_by": report.group_by,
            "rows": [_aging_row(r) for r in report.rows],
            "total": _aging_row(report.total),
            "next": self._next(report.has_next, f),
        }
        return Response(represent(AgingReportSerializer, body))


class CollectionReportViewSet(_FiguresViewSet):
    """Collection figures (回款率, DSO, 逾期率, 坏账率) over your data scope."""

    @extend_schema(
        summary=_("Collection rate, DSO, overdue and bad-debt ratios of a period (回款率)"),
        description=_(
            "For the period from `start` to `end` (inclusive; this month by default): "
            "collected (allocations dated in the period to installments due by its end), "
            "to collect (the open amount at its start of the installments due by its end: the "
            "overdue amount at the start plus what falls due), the collection rate "
            "(collected ÷ to collect), the DSO (open at the end of what was due by the end ÷ "
            "due in the period × days), the overdue ratio at the end and the bad-debt ratio "
            "(write-offs approved in the period ÷ due in the period). Ratios are percentages "
            "with one decimal, null when the denominator is 0."
        ),
        parameters=[CollectionParamsSerializer],
        responses={status.HTTP_200_OK: CollectionReportSerializer, **_errors()},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        f, page_size = self._filters(CollectionParamsSerializer)
        report = figures.collection_figures(start=f.start, end=f.end, **self._common(f, page_size))
        body = {
            "start": report.start,
            "end": report.end,
            "days": report.days,
            "group_by": report.group_by,
            "rows": [_collection_row(r) for r in report.rows],
            "total": _collection_row(report.total),
            "next": self._next(report.has_next, f),
        }
        return Response(represent(CollectionReportSerializer, body))


ROUTES = [
    ("reports/receivables-aging", ReceivablesAgingReportViewSet, "report-receivables-aging"),
    ("reports/collection", CollectionReportViewSet, "report-collection"),
]
