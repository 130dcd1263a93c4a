"""Pages of the process diagnostics (流程诊断) and of the competitor analysis (竞争分析): the
figures with their charts and Excel files (``?format=xlsx``), the drill-downs to the lost deals
and visit records behind a competitor's figures, and the competitor registry.

Thin: parse the filters (`forms_diagnostics`), call `diagnostics` / `competitors` (whose
docstrings define every figure), draw the charts' geometry, render. Someone who does not
oversee others (a rep, finance) and a team outside the caller's scope get a 404; a bad filter
a form error (400)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.models import OrgUnit, User
from apps.customers.views import paginate
from apps.goals.views_reports import _line_chart
from apps.leads.exports import filename, xlsx_response

from . import competitors, diagnostics, exports_diagnostics
from .forms_diagnostics import (
    CompetitorFilterForm,
    CompetitorForm,
    DiagnosticsFilterForm,
    DrillDownForm,
)
from .models import Competitor

MAX_TEAMS = 200
CHART_LINES = 6  # lines of a trend chart (the palette has six colours)
CHART_BARS = 12  # competitors in the bar chart (the table has them all)


def _gate(user: User) -> None:
    """A 404 for those the analysis is not for (a rep, finance): as a page that is not
    theirs."""
    if not diagnostics.can_view_diagnostics(user):
        raise Http404


def _team(user: User, team_id: int | None) -> OrgUnit | None:
    """The team of the filters, one the caller may see (else a 404)."""
    if not team_id:
        return None
    team = diagnostics.diagnostic_teams(user=user).filter(pk=team_id).first()
    if team is None:
        raise Http404
    return team


def _query(values: dict[str, Any], **changes: Any) -> str:
    """A query string of `values` with `changes` (None drops a key)."""
    params = QueryDict(mutable=True)
    for key, value in {**values, **changes}.items():
        if value not in (None, ""):
            params[key] = value.isoformat() if isinstance(value, date) else str(value)
    return params.urlencode()


def _base(data: dict[str, Any], team: OrgUnit | None) -> dict[str, Any]:
    return {"start": data["start"], "end": data["end"], "team": team.pk if team else None}


def _wants_xlsx(request: HttpRequest) -> bool:
    return request.GET.get("format") == "xlsx"


def _trend_chart(months: list[date], series: list[tuple[str, list[float | None]]]) -> dict | None:
    """A line chart (the goals reports' SVG geometry) of up to CHART_LINES series over the
    months, coloured s0…s5."""
    series = series[:CHART_LINES]
    values = [v for _label, points in series for v in points if v is not None]
    if not values:
        return None
    points = [
        SimpleNamespace(start=month, **{f"s{i}": s[1][m] for i, s in enumerate(series)})
        for m, month in enumerate(months)
    ]
    top = max(values) * 1.1 or 1.0
    return _line_chart(points, top, [(f"s{i}", label, f"s{i}") for i, (label, _v) in
                                     enumerate(series)])  # fmt: skip


def _width(value: float | None, top: float) -> str:
    if value is None or not top:
        return "0"
    return f"{max(0.0, min(100.0, value * 100 / top)):.1f}"


def _bars(nodes: list[diagnostics.Node]) -> list[dict]:
    """Each node's median and 90th percentile as bar widths, and where the expectation falls,
    on one scale."""
    values = [v for n in nodes for v in (n.p50, n.p90, n.expected_value) if v is not None]
    top = max([*values, 1.0])
    return [
        {"node": n, "p50": _width(n.p50, top), "p90": _width(n.p90, top),
         "expected": _width(n.expected_value, top) if n.expected_value else None}
        for n in nodes
    ]  # fmt: skip


def _filters_context(request: HttpRequest, form: Any) -> dict[str, Any]:
    return {
        "form": form,
        "teams": list(diagnostics.diagnostic_teams(user=request.user)[:MAX_TEAMS]),
    }


# --- process diagnostics -----------------------------------------------------------------------


@login_required
@require_GET
def diagnostics_page(request: HttpRequest) -> HttpResponse:
    """Waiting times per pipeline stage and approval step, the longest waits now, the trend
    and the slowest nodes highlighted; or ``?format=xlsx``."""
    _gate(request.user)
    form = DiagnosticsFilterForm(request.GET)
    context = _filters_context(request, form) | {"highlights": diagnostics.Highlight.CHOICES}
    if not form.is_valid():
        return render(request, "incentives/diagnostics/diagnostics.html", context, status=400)
    data = form.cleaned_data
    team = _team(request.user, data.get("team"))
    result = diagnostics.process_diagnostics(
        user=request.user, start=data["start"], end=data["end"], team=team,
        highlight=data["highlight"],
    )  # fmt: skip
    if _wants_xlsx(request):
        name = filename("process-diagnostics", result.start, result.end,
                        f"team{team.pk}" if team else "")  # fmt: skip
        return xlsx_response(exports_diagnostics.diagnostics_workbook(result), name)
    base = _base(data, team) | {"highlight": data["highlight"]}
    slow_steps = result.slow_steps or result.steps[:CHART_LINES]
    context.update(
        {
            "result": result,
            "stage_bars": _bars(result.stages),
            "step_bars": _bars(result.steps),
            "stage_chart": _trend_chart(
                result.stage_trend.months,
                [
                    (n.label, [p.p90 for p in result.stage_trend.points(n.key)])
                    for n in result.stages
                ],
            ),
            "step_chart": _trend_chart(
                result.step_trend.months,
                [
                    (
                        f"{n.document_label} · {n.label}",
                        [p.p90 for p in result.step_trend.points(n.key)],
                    )
                    for n in slow_steps
                ],
            ),
            "stage_trend_rows": [(n, result.stage_trend.points(n.key)) for n in result.stages],
            "step_trend_rows": [(n, result.step_trend.points(n.key)) for n in result.steps],
            "export_query": _query(base, format="xlsx"),
            "team_selected": team.pk if team else None,
        }
    )
    return render(request, "incentives/diagnostics/diagnostics.html", context)


# --- competitor analysis -----------------------------------------------------------------------


def _competitor_bars(result: competitors.CompetitorAnalysis) -> list[dict]:
    rows = [r for r in result.rows if r.lost][:CHART_BARS]
    top = max([r.lost for r in rows] + [1])
    return [{"row": r, "width": _width(r.lost, top)} for r in rows]


@login_required
@require_GET
def competitors_page(request: HttpRequest) -> HttpResponse:
    """Deals lost per competitor (count, amount, share, per month) and the competitors'
    mentions in visit records per month; or ``?format=xlsx``."""
    _gate(request.user)
    form = CompetitorFilterForm(request.GET)
    context = _filters_context(request, form) | {
        "can_manage": competitors.can_manage_competitors(request.user)
    }
    if not form.is_valid():
        return render(request, "incentives/diagnostics/competitors.html", context, status=400)
    data = form.cleaned_data
    team = _team(request.user, data.get("team"))
    result = competitors.competitor_analysis(
        user=request.user, start=data["start"], end=data["end"], team=team
    )
    if _wants_xlsx(request):
        name = filename("competitors", result.start, result.end, f"team{team.pk}" if team else "")
        return xlsx_response(exports_diagnostics.competitors_workbook(result), name)
    base = _base(data, team)
    lost_url = reverse("incentives:competitor_lost_deals")
    mentions_url = reverse("incentives:competitor_mentions")
    rows = []
    for row in result.rows:
        if row.kind == "competitor":
            lost_link = f"{lost_url}?" + _query(base, competitor=row.id)
            mention_link = f"{mentions_url}?" + _query(base, competitor=row.id)
        else:
            lost_link, mention_link = f"{lost_url}?" + _query(base, name=row.key), None
        rows.append({"row": row, "lost_link": lost_link, "mention_link": mention_link,
                     "months": [row.month(m) for m in result.months]})  # fmt: skip
    by_lost = [r for r in result.rows if r.lost]
    by_mentions = sorted(
        (r for r in result.competitors if r.mentions), key=lambda r: (-r.mentions, r.name)
    )
    context.update(
        {
            "result": result,
            "rows": rows,
            "bars": _competitor_bars(result),
            "month_totals": result.month_totals(),
            "lost_chart": _trend_chart(
                result.months,
                [(r.name, [float(r.month(m).lost) for m in result.months]) for r in by_lost],
            ),
            "mention_chart": _trend_chart(
                result.months,
                [
                    (r.name, [float(r.month(m).mentions) for m in result.months])
                    for r in by_mentions
                ],
            ),
            "export_query": _query(base, format="xlsx"),
            "team_selected": team.pk if team else None,
        }
    )
    return render(request, "incentives/diagnostics/competitors.html", context)


def _drill_down(request: HttpRequest, *, need_competitor: bool) -> tuple[dict, Any]:
    _gate(request.user)
    form = DrillDownForm(request.GET, need_competitor=need_competitor)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return context, None
    data = form.cleaned_data
    team = _team(request.user, data.get("team"))
    competitor = None
    if data.get("competitor"):
        competitor = competitors.competitor_get(user=request.user, pk=data["competitor"])
    base = _base(data, team)
    context.update(
        {
            "data": data,
            "team": team,
            "competitor": competitor,
            "name": competitors.normalize(data.get("name") or ""),
            "back_url": reverse("incentives:competitors") + "?" + _query(base),
            "results_id": "drill-results",
        }
    )
    return context, (data, team, competitor)


def _render_drill(request: HttpRequest, template: str, results: str, context: dict,
                  status: int = 200) -> HttpResponse:  # fmt: skip
    partial = bool(request.htmx and not request.htmx.history_restore_request)
    response = render(request, results if partial and status == 200 else template, context,
                      status=status)  # fmt: skip
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def lost_deals_page(request: HttpRequest) -> HttpResponse:
    """The deals lost to one competitor (or under one unmatched name) in the period, newest
    first, each linking to the deal: the documents behind the figure."""
    context, found = _drill_down(request, need_competitor=False)
    template = "incentives/diagnostics/lost_deals.html"
    results = "incentives/diagnostics/_lost_deal_results.html"
    if found is None:
        return _render_drill(request, template, results, context, status=400)
    data, team, competitor = found
    stays = competitors.lost_deals(
        user=request.user, start=data["start"], end=data["end"], team=team,
        competitor=competitor, name=data.get("name") or "",
    )  # fmt: skip
    context["page"] = paginate(stays, str(data["page"]))
    return _render_drill(request, template, results, context)


@login_required
@require_GET
def mentions_page(request: HttpRequest) -> HttpResponse:
    """The visit records naming one competitor in the period, newest first."""
    context, found = _drill_down(request, need_competitor=True)
    template = "incentives/diagnostics/mentions.html"
    results = "incentives/diagnostics/_mention_results.html"
    if found is None:
        return _render_drill(request, template, results, context, status=400)
    data, team, competitor = found
    records = competitors.mentions(
        user=request.user, start=data["start"], end=data["end"], team=team,
        competitor=competitor,
    )  # fmt: skip
    context["page"] = paginate(records, str(data["page"]))
    return _render_drill(request, template, results, context)


# --- the registry ------------------------------------------------------------------------------


@login_required
@require_GET
def competitor_list(request: HttpRequest) -> HttpResponse:
    """The competitors the analysis looks for (search by name or alias), 50 a page."""
    _gate(request.user)
    search = (request.GET.get("q") or "").strip()[:100]
    page = paginate(competitors.competitor_list(user=request.user, search=search),
                    request.GET.get("page"))  # fmt: skip
    context = {
        "page": page,
        "search": search,
        "can_manage": competitors.can_manage_competitors(request.user),
        "results_id": "competitor-results",
    }
    return _render_drill(request, "incentives/diagnostics/competitor_list.html",
                         "incentives/diagnostics/_competitor_results.html", context)  # fmt: skip


def _apply_errors(form: CompetitorForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _competitor_form(request: HttpRequest, competitor: Competitor | None) -> HttpResponse:
    _gate(request.user)
    if not competitors.can_manage_competitors(request.user):
        raise PermissionDenied(_("Only administrators and sales managers keep the competitors."))
    status = 200
    if request.method == "POST":
        form = CompetitorForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            fields = {"name": data["name"], "aliases": data["aliases"], "notes": data["notes"],
                      "is_active": data["is_active"]}  # fmt: skip
            try:
                if competitor is None:
                    competitor = competitors.competitor_create(by=request.user, **fields)
                    messages.success(request, _("The competitor was added."))
                else:
                    competitor = competitors.competitor_update(
                        competitor=competitor, by=request.user, **fields
                    )
                    messages.success(request, _("The competitor was saved."))
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect(reverse("incentives:competitor_list") + "?" + _query(
                    {"q": competitor.name}))  # fmt: skip
        status = 400
    elif competitor is None:
        form = CompetitorForm(initial={"is_active": True})
    else:
        form = CompetitorForm(
            initial={"name": competitor.name, "aliases": "\n".join(competitor.aliases),
                     "notes": competitor.notes, "is_active": competitor.is_active}
        )  # fmt: skip
    return render(request, "incentives/diagnostics/competitor_form.html",
                  {"form": form, "competitor": competitor}, status=status)  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def competitor_create(request: HttpRequest) -> HttpResponse:
    return _competitor_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def competitor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _gate(request.user)
    return _competitor_form(request, competitors.competitor_get(user=request.user, pk=pk))
