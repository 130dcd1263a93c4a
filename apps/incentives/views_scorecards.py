"""Pages of the KPI scorecards (绩效考核, seed 004 steps 10–12) and of the scoring schemes.

- the scorecard list (period, team, grade, status filters and a name search; 50 a page without a
  COUNT; by rank), the ranking of a period with its grade distribution (a server-side SVG) and
  its Excel file, the scorecard page (each line's value, numerator / denominator, points,
  weight and weighted points, every number linking to the documents behind it; "How this is
  computed"; the head's assessment form; the approval panel; publication);
- the schemes (an administrator's; 404 for anyone else): list, create, edit, deactivate, the
  page with its history and an on-demand recomputation of a period.

Thin: the selectors (`selectors_scorecards`) read in the caller's scope (404 outside it), the
services (`scorecards`) write; a refused action is a message or a form error (400), never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import OrgUnit
from apps.core.errors import Conflict
from apps.leads.permissions import can_view_team_sla

from . import exports_scorecards as exports
from . import kpi, scorecards
from . import selectors_scorecards as selectors
from .choices import Curve, Grade, KpiMetric, ScorecardStatus
from .forms_scorecards import (
    AssessmentForm,
    MetricLineFormSet,
    PublishAllForm,
    RankingFilterForm,
    RecomputeForm,
    SchemeForm,
    ScorecardFilterForm,
    metric_initial,
    period_key,
    scheme_data,
)
from .models import Scorecard, ScorecardLine, ScoringScheme

PER_PAGE = 50
RANKING_PER_PAGE = 100


def _partial(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.history_restore_request


def _query(**values: Any) -> str:
    params = QueryDict(mutable=True)
    for key, value in values.items():
        if value not in (None, ""):
            params[key] = str(value)
    return params.urlencode()


def _url(name: str, **query: Any) -> str | None:
    """A page's address with its filters, or None while the page does not exist."""
    try:
        base = reverse(name)
    except NoReverseMatch:
        return None
    return f"{base}?{_query(**query)}"


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, str(exc))


def _page_number(form: Any) -> int:
    return (form.cleaned_data.get("page") if form.is_valid() else None) or 1


# --- the list -----------------------------------------------------------------------------------


def _decorate(card: Scorecard) -> Scorecard:
    card.period_label = scorecards.scorecard_period(card).label()
    return card


@login_required
@require_GET
def scorecard_list(request: HttpRequest) -> HttpResponse:
    """The scorecards the user may see, by period and rank; filters by htmx."""
    form = ScorecardFilterForm(request.GET)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    period = data.get("period")
    filters = selectors.ScorecardFilters(
        period_kind=period.kind if period else "",
        period_start=period.start if period else None,
        unit=data.get("unit"), grade=data.get("grade") or "", status=data.get("status") or "",
        q=data.get("q") or "",
    )  # fmt: skip
    number = _page_number(form)
    qs = selectors.scorecard_list(user=request.user, filters=filters)
    rows = list(qs[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "cards": [_decorate(card) for card in rows[:PER_PAGE]],
        "page_number": number,
        "has_next": len(rows) > PER_PAGE,
        "query": query.urlencode(),
        "periods": [
            (period_key(p), p.label()) for p in selectors.scorecard_periods(user=request.user)
        ],
        "period_selected": period_key(period) if period else "",
        "units": selectors.scorecard_units(user=request.user),
        "grades": Grade.choices,
        "statuses": ScorecardStatus.choices,
        "can_publish_all": bool(period) and scorecards.may_publish_any(request.user),
        "ranking_query": _query(
            period=period_key(period) if period else None, unit=data.get("unit")
        ),
    }
    template = (
        "incentives/scorecards/_results.html" if _partial(request)
        else "incentives/scorecards/list.html"
    )  # fmt: skip
    response = render(request, template, context, status=200 if valid else 400)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- the ranking ---------------------------------------------------------------------------------


CHART_WIDTH, CHART_HEIGHT, CHART_BOTTOM, CHART_TOP = 400, 180, 24, 18


def grade_chart(distribution: list[tuple[str, int]]) -> dict[str, Any]:
    """A column per grade (S … D), its height the number of scorecards of that grade."""
    top = max([count for _grade, count in distribution] + [1])
    slot = CHART_WIDTH / max(1, len(distribution))
    inner = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    bars = []
    for index, (grade, count) in enumerate(distribution):
        height = inner * count / top
        x = slot * index + slot * 0.2
        bars.append(
            {
                "grade": grade, "count": count, "x": f"{x:.1f}", "width": f"{slot * 0.6:.1f}",
                "y": f"{CHART_TOP + inner - height:.1f}", "height": f"{height:.1f}",
                "center": f"{x + slot * 0.3:.1f}",
                "count_y": f"{CHART_TOP + inner - height - 4:.1f}",
            }
        )  # fmt: skip
    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars,
        "baseline": f"{CHART_HEIGHT - CHART_BOTTOM:.1f}", "label_y": f"{CHART_HEIGHT - 6:.1f}",
    }  # fmt: skip


@login_required
@require_GET
def scorecard_ranking(request: HttpRequest) -> HttpResponse:
    """The ranking of a period under one scheme (the latest period and its first scheme by
    default): the grade distribution chart, the cards in rank order (100 a page), or the Excel
    file (``?format=xlsx``)."""
    form = RankingFilterForm(request.GET)
    periods = selectors.scorecard_periods(user=request.user)
    context: dict[str, Any] = {
        "form": form,
        "periods": [(period_key(p), p.label()) for p in periods],
        "units": selectors.scorecard_units(user=request.user),
    }
    if not form.is_valid():
        return render(request, "incentives/scorecards/ranking.html", context, status=400)
    data = form.cleaned_data
    period = data.get("period") or (periods[0] if periods else None)
    schemes = selectors.scorecard_schemes(user=request.user, period=period) if period else []
    scheme = next((s for s in schemes if s.pk == data.get("scheme")), None)
    if data.get("scheme") and scheme is None:
        raise Http404
    scheme = scheme or (schemes[0] if schemes else None)
    context.update({"period": period, "schemes": schemes, "scheme": scheme,
                    "period_selected": period_key(period) if period else ""})  # fmt: skip
    if period is None or scheme is None:
        return render(request, "incentives/scorecards/ranking.html", context)
    result = selectors.ranking(
        user=request.user, period=period, scheme=scheme, unit=data.get("unit")
    )
    if request.GET.get("format") == "xlsx":
        unit = (
            selectors.scorecard_unit_get(user=request.user, pk=data["unit"])
            if data.get("unit")
            else None
        )
        return exports.ranking_response(result, unit_name=unit.name if unit else "")
    number = data.get("page") or 1
    rows = list(result.cards[(number - 1) * RANKING_PER_PAGE : number * RANKING_PER_PAGE + 1])
    base = {"period": period_key(period), "scheme": scheme.pk, "unit": data.get("unit")}
    context.update(
        {
            "ranking": result,
            "cards": [_decorate(card) for card in rows[:RANKING_PER_PAGE]],
            "chart": grade_chart(result.distribution),
            "page_number": number,
            "has_next": len(rows) > RANKING_PER_PAGE,
            "query": _query(**base),
            "export_query": _query(**base, format="xlsx"),
            "can_publish_all": scorecards.may_publish_any(request.user),
        }
    )
    return render(request, "incentives/scorecards/ranking.html", context)


# --- the scorecard page --------------------------------------------------------------------------


@dataclass
class LineRow:
    """One metric line as the page shows it, with the documents behind each number."""

    line: ScorecardLine
    label: str
    definition: str
    curve: str
    effective_weight: Decimal
    measured: bool
    percent: bool
    money: bool
    value_url: str | None = None
    numerator_url: str | None = None
    denominator_url: str | None = None


def curve_text(metric: Any) -> str:
    """How a scheme line turns a value into points, in words."""
    if metric is None:
        return ""
    if metric.curve == Curve.LINEAR:
        return _("0 points at %(zero)s, 100 at %(full)s, at most %(cap)s") % {
            "zero": f"{Decimal(metric.zero_at).normalize():f}",
            "full": f"{Decimal(metric.full_at).normalize():f}",
            "cap": f"{Decimal(metric.cap).normalize():f}",
        }
    steps = ", ".join(
        f"{at.normalize():f} → {points.normalize():f}"
        for at, points in scorecards.thresholds_of(metric)
    )
    if metric.lower_is_better:
        return _("At most: %(steps)s (else 0)") % {"steps": steps}
    return _("From: %(steps)s (else 0)") % {"steps": steps}


def _links(card: Scorecard, metric: str, viewer: Any, unit: OrgUnit | None) -> tuple:
    """(value, numerator, denominator) addresses: the report or list behind each number, in
    the same period, narrowed to the person (or to the unit a supervisor heads)."""
    period = {"period": card.period_kind, "date": card.period_start.isoformat()}
    days = {"period": "custom", "start": card.period_start.isoformat(),
            "end": card.period_end.isoformat()}  # fmt: skip
    who = {"unit": unit.pk} if unit else {"rep": card.user_id}
    narrow = {"team": unit.pk} if unit else {"owner": card.user_id}
    goals = {
        KpiMetric.CONTRACT_ATTAINMENT: "contract_amount",
        KpiMetric.COLLECTION_ATTAINMENT: "collected",
        KpiMetric.NEW_CUSTOMERS: "new_customers",
    }
    if metric in goals:
        node = _url("goals:attainment", **period, **who, metric=goals[metric])
        if unit:
            return node, node, node
        documents = _url("goals:attainment_documents", **period, **who, metric=goals[metric])
        return documents, documents, node
    if metric == KpiMetric.EFFECTIVE_VISIT_RATE:
        if unit:
            node = _url("goals:attainment", **period, **who, metric="effective_visits")
            return node, node, _url("goals:attainment", **period, **who, metric="visits")
        effective = _url("goals:attainment_documents", **period, **who, metric="effective_visits")
        visits = _url("goals:attainment_documents", **period, **who, metric="visits")
        return effective, effective, visits
    if metric in (KpiMetric.COLLECTION_RATE, KpiMetric.OVERDUE_RATIO):
        group = "rep" if unit else "customer"
        url = _url("receivables:figures", **days, group_by=group, **narrow)
        return url, url, url
    if metric == KpiMetric.LEAD_SLA_COMPLIANCE:
        url = _url("leads:sla", **days, **narrow) if can_view_team_sla(viewer) else None
        return url, url, url
    if metric == KpiMetric.PLAN_EXECUTION_RATE:
        url = _url("visits:figures", **days, **narrow)
        return url, url, url
    if metric == KpiMetric.SATISFACTION:
        person = {"unit": unit.pk} if unit else {"rep": card.user_id}
        url = _url(
            "incentives:survey_list", start=days["start"], end=days["end"], answered="yes",
            **person,
        )  # fmt: skip
        return url, url, url
    return None, None, None


def line_rows(card: Scorecard, viewer: Any, unit: OrgUnit | None) -> list[LineRow]:
    """The card's lines with their weights as counted (scaled up when a line had nothing to
    measure), the curve in words, the definition and the addresses behind each number."""
    lines = list(card.lines.all())
    weights = scorecards.effective_weights(
        [(line.metric, line.weight, line.value is not None) for line in lines]
    )
    scheme_lines = {m.metric: m for m in card.scheme.metrics.all()}
    rows = []
    for line in lines:
        value_url, numerator_url, denominator_url = _links(card, line.metric, viewer, unit)
        rows.append(
            LineRow(
                line=line, label=str(KpiMetric(line.metric).label),
                definition=str(kpi.DEFINITIONS.get(line.metric, "")),
                curve=curve_text(scheme_lines.get(line.metric)),
                effective_weight=weights[line.metric].quantize(Decimal("0.01")),
                measured=line.value is not None,
                percent=line.metric in kpi.PERCENT_METRICS
                or (line.metric == KpiMetric.NEW_CUSTOMERS and line.denominator is not None),
                money=line.metric in kpi.MONEY_METRICS,
                value_url=value_url, numerator_url=numerator_url,
                denominator_url=denominator_url,
            )
        )  # fmt: skip
    return rows


def _detail_context(
    request: HttpRequest, card: Scorecard, form: AssessmentForm | None = None
) -> dict[str, Any]:
    user = request.user
    may_assess = scorecards.can_submit_scorecard(user, card)
    if may_assess and form is None:
        form = AssessmentForm(initial={"assessment": card.assessment})
    unit = selectors.measured_unit(card)
    rows = line_rows(card, user, unit)
    left_out = [row for row in rows if not row.measured]
    return {
        "card": card,
        "period": scorecards.scorecard_period(card),
        "rows": rows,
        "left_out": left_out,
        "form": form if may_assess else None,
        "can_publish": card.status == ScorecardStatus.APPROVED
        and scorecards.can_publish_scorecard(user, card),
        "returned": card.status == ScorecardStatus.COMPUTED and bool(card.return_comment),
        "grades": [
            ("S", card.scheme.grade_s_min),
            ("A", card.scheme.grade_a_min),
            ("B", card.scheme.grade_b_min),
            ("C", card.scheme.grade_c_min),
        ],
        "measured_on": unit,
    }


@login_required
@require_GET
def scorecard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.scorecard_get(user=request.user, pk=pk)
    return render(request, "incentives/scorecards/detail.html", _detail_context(request, card))


@login_required
@require_http_methods(["GET", "POST"])
def scorecard_assess(request: HttpRequest, pk: int) -> HttpResponse:
    """The head saves the assessment; "save and submit" also submits it to the manager."""
    card = selectors.scorecard_get(user=request.user, pk=pk)
    if request.method == "GET":
        return redirect(card)
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        return render(
            request, "incentives/scorecards/detail.html", _detail_context(request, card, form),
            status=400,
        )  # fmt: skip
    text = form.cleaned_data["assessment"]
    try:
        if "submit" in request.POST:
            scorecards.scorecard_submit(scorecard=card, by=request.user, assessment=text)
            messages.success(request, _("Assessment submitted to the manager."))
        else:
            scorecards.scorecard_assess(scorecard=card, by=request.user, assessment=text)
            messages.success(request, _("Assessment saved."))
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        card = selectors.scorecard_get(user=request.user, pk=pk)
        return render(
            request, "incentives/scorecards/detail.html", _detail_context(request, card, form),
            status=400,
        )  # fmt: skip
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
    return redirect(card)


@login_required
@require_POST
def scorecard_publish(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.scorecard_get(user=request.user, pk=pk)
    try:
        scorecards.scorecard_publish(scorecard=card, by=request.user)
        messages.success(request, _("Scorecard published to the person."))
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
    return redirect(card)


@login_required
@require_POST
def scorecards_publish(request: HttpRequest) -> HttpResponse:
    """Publish every approved scorecard of a period (of a team, of a scheme) the user may."""
    form = PublishAllForm(request.POST)
    back = request.POST.get("next") or reverse("incentives:scorecard_list")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("incentives:scorecard_list")
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(back)
    data = form.cleaned_data
    unit = (
        selectors.scorecard_unit_get(user=request.user, pk=data["unit"])
        if data.get("unit")
        else None
    )
    scheme = selectors.scheme_ref(data.get("scheme"))
    period = data["period"]
    try:
        count = scorecards.scorecards_publish_approved(
            by=request.user, period_kind=period.kind, period_start=period.start, unit=unit,
            scheme=scheme,
        )  # fmt: skip
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
        return redirect(back)
    if count:
        messages.success(request, _("%(count)d approved scorecards published.") % {"count": count})
    else:
        messages.info(request, _("No approved scorecard waits to be published here."))
    return redirect(back)


# --- schemes ----------------------------------------------------------------------------------


def _require_admin(request: HttpRequest) -> None:
    if not selectors.may_manage_schemes(request.user):
        raise Http404


@login_required
@require_GET
def scheme_list(request: HttpRequest) -> HttpResponse:
    schemes = list(selectors.scheme_list(user=request.user))
    return render(request, "incentives/scorecards/scheme_list.html", {"schemes": schemes})


@login_required
@require_GET
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.scheme_get(user=request.user, pk=pk)
    lines = [
        {"line": line, "label": KpiMetric(line.metric).label, "curve": curve_text(line),
         "definition": kpi.DEFINITIONS.get(line.metric, "")}
        for line in scheme.metrics.all()
    ]  # fmt: skip
    periods = [
        p for p in selectors.scorecard_periods(user=request.user) if p.kind == scheme.period_kind
    ]
    context = {
        "scheme": scheme,
        "lines": lines,
        "recompute_form": RecomputeForm(
            initial={"day": scorecards.period_for(scheme, timezone.localdate()).previous().start}
        ),
        "periods": periods[:12],
    }
    return render(request, "incentives/scorecards/scheme_detail.html", context)


def _apply_scheme_errors(exc: ValidationError, form: SchemeForm, formset: Any) -> list[str]:
    """Put the service's field errors on the forms; returns the errors of the lines as a whole
    ("metrics") and those without a place."""
    general: list[str] = []
    for key, errors in exc.message_dict.items():
        if key.startswith("metrics."):
            _prefix, metric, name = key.split(".", 2)
            row = formset.form_for(metric)
            if row is not None and name in row.fields:
                row.add_error(name, errors)
                continue
            general += errors
        elif key in form.fields:
            form.add_error(key, errors)
        else:
            general += errors
    return general


def _scheme_form_page(
    request: HttpRequest, scheme: ScoringScheme | None, *, status: int = 200, **context: Any
) -> HttpResponse:
    return render(
        request, "incentives/scorecards/scheme_form.html", {"scheme": scheme, **context},
        status=status,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def scheme_create(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return _scheme_edit(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def scheme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.scheme_get(user=request.user, pk=pk)
    return _scheme_edit(request, scheme)


def _scheme_edit(request: HttpRequest, scheme: ScoringScheme | None) -> HttpResponse:
    if request.method == "GET":
        form = SchemeForm(initial=SchemeForm.initial_of(scheme) if scheme else None)
        formset = MetricLineFormSet(initial=metric_initial(scheme), prefix="metrics")
        return _scheme_form_page(request, scheme, form=form, formset=formset, general=[])
    form = SchemeForm(request.POST)
    formset = MetricLineFormSet(request.POST, initial=metric_initial(scheme), prefix="metrics")
    if not (form.is_valid() and formset.is_valid()):
        general = [str(e) for e in formset.non_form_errors()]
        return _scheme_form_page(
            request, scheme, form=form, formset=formset, general=general, status=400
        )
    data = scheme_data(form, formset)
    try:
        if scheme is None:
            scheme = scorecards.scheme_create(data=data, by=request.user)
            messages.success(request, _("Scoring scheme created."))
        else:
            scheme = scorecards.scheme_update(scheme=scheme, data=data, by=request.user)
            messages.success(request, _("Scoring scheme saved."))
    except ValidationError as exc:
        general = _apply_scheme_errors(exc, form, formset)
        return _scheme_form_page(
            request, scheme, form=form, formset=formset, general=general, status=400
        )
    except PermissionDenied:
        raise Http404 from None
    return redirect(scheme)


@login_required
@require_POST
def scheme_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = selectors.scheme_get(user=request.user, pk=pk)
    try:
        scorecards.scheme_deactivate(scheme=scheme, by=request.user)
        messages.success(request, _("Scoring scheme deactivated."))
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
    return redirect(scheme)


@login_required
@require_POST
def scheme_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator recomputes one ended period of the scheme now."""
    scheme = selectors.scheme_get(user=request.user, pk=pk)
    form = RecomputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(scheme)
    try:
        result = scorecards.scorecards_recompute(
            scheme=scheme, day=form.cleaned_data["day"], by=request.user
        )
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
        return redirect(scheme)
    messages.success(
        request,
        _(
            "Recomputed: %(created)d created, %(recomputed)d changed, %(unchanged)d unchanged, "
            "%(kept)d already submitted left alone."
        )
        % result.as_dict(),
    )
    return redirect(scheme)
