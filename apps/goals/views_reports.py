"""Goal report pages: target attainment (目标达成) with its drill-down company → unit → rep →
the documents behind the number, and the performance comparison (业绩对比); each also as an
Excel file (``?format=xlsx``).

Thin: parse the filters (`forms_reports`), call the report (`attainment`, `comparison`, whose
docstrings define every figure), draw the charts' geometry, render. A unit or rep outside the
caller's scope is a 404 (from the report); a bad filter a form error (400)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.accounts.scope import Scope

from . import attainment, comparison, exports
from .choices import Metric
from .comparison import View
from .forms_reports import (
    ALL_METRICS,
    REPORT_PERIODS,
    AttainmentFilterForm,
    ComparisonFilterForm,
    DocumentsFilterForm,
)
from .targets import is_money

DOCUMENTS_PER_PAGE = 50
CHART_BARS = 20  # the bar chart shows the first 20 rows; the table has them all
GAUGE_RADIUS = 40
GAUGE_LENGTH = math.pi * GAUGE_RADIUS


def _query(values: dict[str, Any], **changes: Any) -> str:
    """A query string of `values` with `changes` (None drops a key)."""
    merged = {**values, **changes}
    params = QueryDict(mutable=True)
    for key, value in merged.items():
        if value not in (None, ""):
            params[key] = str(value)
    return params.urlencode()


def _base(form: Any) -> dict[str, Any]:
    data = form.cleaned_data
    return {"period": data["period"], "date": data["date"].isoformat(),
            "metric": data.get("metric")}  # fmt: skip


def _pace(cell: attainment.Cell, elapsed: Decimal) -> str:
    """The colour of a row's progress: on pace (attainment ≥ time elapsed), a little behind
    (≥ 80 % of the pace), behind; none without a target."""
    if cell.attainment is None:
        return "secondary"
    if cell.attainment >= elapsed:
        return "success"
    return "warning" if cell.attainment >= elapsed * Decimal("0.8") else "danger"


def _width(value: Decimal | None, top: Decimal | None = Decimal(100)) -> str:
    if value is None or not top:
        return "0"
    return f"{max(Decimal(0), min(Decimal(100), value * 100 / top)):.1f}"


def _gauge(metric: str, cell: attainment.Cell, elapsed: Decimal) -> dict[str, Any]:
    """A half-circle gauge: the arc filled to the attainment (at most the whole arc), and a
    tick at the time elapsed."""
    share = min(Decimal(1), (cell.attainment or Decimal(0)) / 100)
    angle = math.pi * (1 - float(elapsed) / 100)
    inner, outer = GAUGE_RADIUS - 9, GAUGE_RADIUS + 9
    return {
        "metric": metric,
        "label": Metric(metric).label,
        "money": is_money(metric),
        "cell": cell,
        "dash": f"{float(share) * GAUGE_LENGTH:.2f} {GAUGE_LENGTH:.2f}",
        "pace": _pace(cell, elapsed),
        "tick": {
            "x1": f"{50 + inner * math.cos(angle):.2f}",
            "y1": f"{50 - inner * math.sin(angle):.2f}",
            "x2": f"{50 + outer * math.cos(angle):.2f}",
            "y2": f"{50 - outer * math.sin(angle):.2f}",
        },
    }


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _filters_context(request: HttpRequest, form: Any) -> dict[str, Any]:
    return {
        "form": form,
        "periods": REPORT_PERIODS,
        "metric_choices": Metric.choices,
        "units": attainment.visible_units(request.user),
    }


# --- attainment -------------------------------------------------------------------------------


@login_required
@require_GET
def attainment_page(request: HttpRequest) -> HttpResponse:
    """Target attainment of a node for a period: a gauge per metric, the children as a bar
    chart and a table (each child a drill link), or ``?format=xlsx``."""
    form = AttainmentFilterForm(request.GET)
    context = _filters_context(request, form) | {"all_metrics": ALL_METRICS}
    if not form.is_valid():
        return render(request, "goals/attainment.html", context, status=400)
    data = form.cleaned_data
    period = form.report_period()
    # Every metric (a gauge each, five queries); the table, the chart and the Excel file show
    # the chosen one, or all.
    report = attainment.attainment(
        user=request.user, period=period, unit_id=data.get("unit"), rep_id=data.get("rep")
    )
    metric, shown = data["metric"], form.metrics()
    if request.GET.get("format") == "xlsx":
        name = exports.filename("attainment", period, report.node.kind, str(report.node.key or ""),
                                metric)  # fmt: skip
        return _xlsx(exports.attainment_workbook(report, metrics=shown), name)
    base = _base(form)
    chart_metric = shown[0]
    top = max([report.max_actual(chart_metric)]
              + [r.cells[chart_metric].target or 0 for r in report.rows])  # fmt: skip
    documents_url = reverse("goals:attainment_documents")
    rows = []
    for row in report.rows:
        if report.node.kind == "rep":
            link = f"{documents_url}?" + _query(
                base, rep=report.node.rep.pk, unit=row.unit_id if row.unit_id else None,
                metric=chart_metric,
            )  # fmt: skip
        elif row.kind == "unit":
            link = "?" + _query(base, unit=row.key)
        else:
            link = "?" + _query(base, rep=row.key, unit=row.unit_id)
        cells = [
            {"metric": m, "cell": row.cells[m], "money": is_money(m),
             "pace": _pace(row.cells[m], report.elapsed),
             "bar": _width(row.cells[m].attainment)}
            for m in shown
        ]  # fmt: skip
        rows.append({"row": row, "link": link, "cells": cells})
    chart = [
        {"name": r.name, "actual": r.cells[chart_metric].actual,
         "target": r.cells[chart_metric].target,
         "width": _width(r.cells[chart_metric].actual, top),
         "target_at": _width(r.cells[chart_metric].target, top)
         if r.cells[chart_metric].target is not None else None,
         "pace": _pace(r.cells[chart_metric], report.elapsed)}
        for r in report.rows[:CHART_BARS]
    ]  # fmt: skip
    trail = []
    for crumb in report.trail:
        if crumb.kind == "company":
            trail.append((crumb.name, "?" + _query(base)))
        elif crumb.kind == "unit":
            trail.append((crumb.name, "?" + _query(base, unit=crumb.key)))
        else:
            trail.append((crumb.name, "?" + _query(base, rep=crumb.key, unit=data.get("unit"))))
    documents = []
    if report.node.kind == "rep":
        documents = [
            (Metric(m).label, f"{documents_url}?" + _query(
                base, rep=report.node.rep.pk, unit=data.get("unit"), metric=m))
            for m in Metric.values
        ]  # fmt: skip
    context.update(
        {
            "report": report,
            "metric": metric,
            "single": len(shown) == 1,
            "total_cell": {
                "cell": report.totals[chart_metric],
                "money": is_money(chart_metric),
            },
            "totals": [
                {"metric": m, "cell": report.totals[m], "money": is_money(m)} for m in shown
            ],
            "chart_metric": chart_metric,
            "chart_label": Metric(chart_metric).label,
            "chart_money": is_money(chart_metric),
            "chart": chart,
            "gauges": [_gauge(m, report.totals[m], report.elapsed) for m in report.metrics],
            "rows": rows,
            "trail": trail,
            "documents": documents,
            "elapsed_width": _width(report.elapsed),
            "export_query": _query(base, unit=data.get("unit"), rep=data.get("rep"), format="xlsx"),
            "compare_url": reverse("goals:comparison")
            + "?"
            + _query(
                base,
                unit=data.get("unit"),
                rep=data.get("rep"),
                metric=metric if metric != ALL_METRICS else None,
            ),
            "metric_columns": [(m, Metric(m).label) for m in shown],
            "unit_selected": report.node.unit.id if report.node.unit else None,
            "rep_selected": report.node.rep.pk if report.node.kind == "rep" else None,
        }
    )
    return render(request, "goals/attainment.html", context)


@login_required
@require_GET
def attainment_documents(request: HttpRequest) -> HttpResponse:
    """The documents behind a rep's actual of one metric in the period, a page at a time, each
    linking to its own page; their sum is the rep's actual."""
    form = DocumentsFilterForm(request.GET)
    context = _filters_context(request, form)
    if not form.is_valid():
        return render(request, "goals/attainment_documents.html", context, status=400)
    data = form.cleaned_data
    period = form.report_period()
    found = attainment.rep_documents(
        user=request.user, period=period, metric=data["metric"], rep_id=data["rep"],
        unit_id=data.get("unit"), page=data["page"], per_page=DOCUMENTS_PER_PAGE,
    )  # fmt: skip
    base = _base(form) | {"rep": data["rep"], "unit": data.get("unit")}
    attainment_url = reverse("goals:attainment")
    trail = []
    for crumb in found.trail:
        if crumb.kind == "company":
            query = _query(base, rep=None, unit=None)
        elif crumb.kind == "unit":
            query = _query(base, rep=None, unit=crumb.key)
        else:
            query = _query(base)
        trail.append((crumb.name, f"{attainment_url}?{query}"))
    context.update(
        {
            "found": found,
            "money": is_money(data["metric"]),
            "metric_label": Metric(data["metric"]).label,
            "trail": trail,
            "metric_links": [
                (value, label, "?" + _query(base, metric=value)) for value, label in Metric.choices
            ],
            "previous_query": _query(base, page=found.page - 1) if found.page > 1 else None,
            "next_query": _query(base, page=found.page + 1) if found.has_next else None,
        }
    )
    return render(request, "goals/attainment_documents.html", context)


# --- comparison -------------------------------------------------------------------------------


def _line_chart(
    points: list[comparison.Point], top: Decimal, series: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """SVG geometry of a line chart over `points` (800 × 240, margins for the month labels):
    one polyline per (attribute, label, css class) of `series`."""
    width, height, left, bottom, top_margin = 800, 240, 28, 24, 12
    inner_w, inner_h = width - 2 * left, height - bottom - top_margin
    count = max(1, len(points) - 1)
    scale = float(top) or 1.0

    def xy(index: int, value: Decimal) -> tuple[float, float]:
        return (left + inner_w * index / count,
                top_margin + inner_h * (1 - float(value) / scale))  # fmt: skip

    lines = []
    for attribute, label, css in series:
        coords = [
            xy(i, getattr(p, attribute))
            for i, p in enumerate(points)
            if getattr(p, attribute) is not None
        ]
        if coords:
            lines.append({
                "label": label, "css": css,
                "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
                "dots": [{"x": f"{x:.1f}", "y": f"{y:.1f}"} for x, y in coords],
            })  # fmt: skip
    labels = [
        {"x": f"{xy(i, Decimal(0))[0]:.1f}", "text": f"{p.start:%y-%m}"}
        for i, p in enumerate(points)
    ]
    return {"width": width, "height": height, "lines": lines, "labels": labels,
            "baseline": f"{height - bottom:.1f}", "label_y": f"{height - 6:.1f}"}  # fmt: skip


def default_view(user: Any) -> str:
    viewer = attainment.Viewer.of(user)
    return View.TEAMS if viewer.scope in (Scope.ALL, Scope.SUBTREE) else View.MONTHS


@login_required
@require_GET
def comparison_page(request: HttpRequest) -> HttpResponse:
    """Performance comparison: rep vs rep and team vs team (bar charts), month on month and
    year on year (line charts), or ``?format=xlsx``."""
    form = ComparisonFilterForm(request.GET)
    context = _filters_context(request, form) | {"views": View.choices}
    if not form.is_valid():
        return render(request, "goals/comparison.html", context, status=400)
    data = form.cleaned_data
    view = data.get("view") or default_view(request.user)
    period = form.report_period()
    result = comparison.comparison(
        user=request.user, view=view, period=period, metric=data["metric"],
        unit_id=data.get("unit"), rep_id=data.get("rep"),
    )  # fmt: skip
    if request.GET.get("format") == "xlsx":
        name = exports.filename("comparison", period, view, result.node.kind,
                                str(result.node.key or ""), data["metric"])  # fmt: skip
        return _xlsx(exports.comparison_workbook(result), name)
    base = _base(form) | {"view": view}
    top = result.max_value
    bars, chart = [], None
    if view in (View.REPS, View.TEAMS):
        for line in result.lines[:CHART_BARS]:
            bars.append({
                "line": line, "width": _width(line.actual, top),
                "target_at": _width(line.target, top) if line.target is not None else None,
            })  # fmt: skip
    elif view == View.MONTHS:
        chart = _line_chart(result.points, top, [("target", _("Target"), "target"),
                                                 ("actual", _("Actual"), "actual")])  # fmt: skip
    else:
        chart = _line_chart(result.points, top, [("previous", _("Last year"), "previous"),
                                                 ("actual", _("This year"), "actual")])  # fmt: skip
    attainment_url = reverse("goals:attainment")
    lines = []
    for line in result.lines:
        if line.kind == "unit" and result.node.kind != "rep":
            link = "?" + _query(base, unit=line.key, rep=None)
        elif line.kind == "rep":
            link = f"{attainment_url}?" + _query(
                base, view=None, rep=line.key, unit=line.unit_id or data.get("unit")
            )
        else:
            link = None
        lines.append({"line": line, "link": link})
    trail = []
    for crumb in result.trail:
        if crumb.kind == "company":
            trail.append((crumb.name, "?" + _query(base)))
        elif crumb.kind == "unit":
            trail.append((crumb.name, "?" + _query(base, unit=crumb.key)))
        else:
            trail.append((crumb.name, "?" + _query(base, rep=crumb.key)))
    context.update(
        {
            "result": result,
            "view": view,
            "view_label": View(view).label,
            "metric_label": Metric(data["metric"]).label,
            "money": is_money(data["metric"]),
            "bars": bars,
            "chart": chart,
            "lines": lines,
            "total": result.total,
            "trail": trail,
            "view_links": [
                (value, label, "?" + _query(base, view=value)) for value, label in View.choices
            ],
            "export_query": _query(base, unit=data.get("unit"), rep=data.get("rep"), format="xlsx"),
            "unit_selected": result.node.unit.id if result.node.unit else None,
            "rep_selected": result.node.rep.pk if result.node.kind == "rep" else None,
        }
    )
    return render(request, "goals/comparison.html", context)
