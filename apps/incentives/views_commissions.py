"""Pages of the commissions part (回款提成): the statements list (month, team, status filters,
search, 50 a page without a COUNT, the totals of the filtered list), a statement (its figures,
the tier computation step by step with a chart, its lines linking to the payment and the
contract, the adjustments, the approval panel, the history), "submit all drafts of my team",
the payroll Excel; the plans (list, detail, new, edit, deactivate).

Thin: the selectors read (out of scope: 404), `commissions` writes; a refused action is a
message or a form error on the page (400), never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.scope import headed_paths
from apps.core.errors import Conflict
from apps.customers.views import paginate
from apps.leads.exports import xlsx_response

from . import commissions
from . import selectors_commissions as selectors
from .choices import StatementStatus
from .commissions import Earnings
from .forms_commissions import (
    FactorFormSet,
    PayrollExportForm,
    PlanForm,
    StatementFilterForm,
    TeamSubmitForm,
    TierFormSet,
    plan_data,
    plan_initial,
    row_formset,
)
from .models import CommissionPlan

TEMPLATES = "incentives/commissions/"


def _partial(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False) and not request.htmx.history_restore_request)


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, str(exc))


# --- statements ------------------------------------------------------------------------------


@login_required
def statement_list(request: HttpRequest) -> HttpResponse:
    """The statements in the caller's scope, newest month first, with the totals of the
    filtered list; htmx gets the results only."""
    user = request.user
    form = StatementFilterForm(request.GET or None, user=user)
    filters = form.filters()
    qs = selectors.statement_list(user=user, filters=filters)
    page = paginate(qs, request.GET.get("page"))
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "totals": selectors.statement_totals(qs),
        "results_id": "statement-results",
        "month_value": f"{filters.month:%Y-%m}" if filters.month else "",
        "can_export": commissions.can_export_payroll(user),
        "can_submit_team": bool(headed_paths(user)),
        "team_form": TeamSubmitForm(initial={"month": filters.month}, user=user)
        if headed_paths(user)
        else None,
    }
    template = "_statement_results.html" if _partial(request) else "statement_list.html"
    response = render(request, TEMPLATES + template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@dataclass
class TierChart:
    """The tiers as a horizontal bar (SVG units): each tier's span, the base and the target."""

    width: int
    segments: list[dict]
    base_x: float
    target_x: float | None
    scale_max: Decimal


CHART_WIDTH = 600


def _tier_chart(earnings: Earnings) -> TierChart | None:
    if not earnings.steps:
        return None
    tops = [earnings.base, earnings.steps[-1].from_amount]
    if earnings.target is not None:
        tops.append(earnings.target)
    scale_max = max(max(tops) * Decimal("1.1"), Decimal("1"))

    def x(value: Decimal) -> float:
        return round(float(min(value, scale_max) / scale_max) * CHART_WIDTH, 1)

    segments = []
    for index, step in enumerate(earnings.steps):
        start = x(step.from_amount)
        end = x(step.to_amount) if step.to_amount is not None else CHART_WIDTH
        filled_end = x(step.from_amount + step.portion)
        segments.append(
            {
                "x": start,
                "width": max(end - start, 0),
                "filled": max(filled_end - start, 0),
                "label": f"{step.rate_pct}%",
                "label_x": start + 4,
                "css": f"tier-{index % 4}",
            }
        )
    return TierChart(
        width=CHART_WIDTH,
        segments=segments,
        base_x=x(earnings.base),
        target_x=x(earnings.target) if earnings.target is not None else None,
        scale_max=scale_max,
    )


@login_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A statement: figures, the computation step by step, its lines (50 a page; htmx pages
    them), its adjustments and the adjustments of its month booked later, approval, history."""
    statement = selectors.statement_get(user=request.user, pk=pk)
    lines = paginate(selectors.statement_lines(statement), request.GET.get("page"))
    if _partial(request) and request.GET.get("page"):
        return render(
            request,
            TEMPLATES + "_statement_lines.html",
            {"statement": statement, "lines": lines, "results_id": "statement-lines"},
        )
    earnings = commissions.statement_earnings(statement)
    context = {
        "statement": statement,
        "earnings": earnings,
        "chart": _tier_chart(earnings),
        "lines": lines,
        "results_id": "statement-lines",
        "adjustments": selectors.statement_adjustments(statement),
        "later_adjustments": selectors.adjustments_of_month(statement),
        "month_label": commissions.month_label(statement.month),
        "month_open": not commissions.month_ended(statement.month),
        "returned": statement.status == StatementStatus.DRAFT and bool(statement.return_comment),
    }
    return render(request, TEMPLATES + "statement_detail.html", context)


def _list_url(month: Any) -> str:
    url = reverse("incentives:statement_list")
    return f"{url}?{urlencode({'month': f'{month:%Y-%m}'})}" if month else url


@login_required
@require_POST
def statement_submit_team(request: HttpRequest) -> HttpResponse:
    """A supervisor (or manager) submits every draft of a month they may submit, at once."""
    form = TeamSubmitForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(_list_url(None))
    month, unit = form.cleaned_data["month"], form.cleaned_data.get("unit")
    try:
        result = commissions.statements_submit_team(by=request.user, month=month, unit=unit)
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
        return redirect(_list_url(month))
    if result.submitted:
        messages.success(
            request,
            ngettext(
                "%(count)d statement submitted to the manager.",
                "%(count)d statements submitted to the manager.",
                len(result.submitted),
            )
            % {"count": len(result.submitted)},
        )
    elif not result.refused:
        messages.info(request, _("No draft statement of that month for you to submit."))
    for statement, reason in result.refused:
        messages.error(
            request,
            _("%(rep)s: %(reason)s") % {"rep": statement.rep.display_name, "reason": reason},
        )
    return redirect(_list_url(month))


@login_required
@require_POST
def statement_export(request: HttpRequest) -> HttpResponse:
    """Finance (and admins): the approved statements of a month as Excel for payroll."""
    if not commissions.can_export_payroll(request.user):
        raise PermissionDenied(_("Only finance can export commissions for payroll."))
    form = PayrollExportForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(_list_url(None))
    month = form.cleaned_data["month"]
    try:
        export = commissions.statements_export_payroll(by=request.user, month=month)
    except Conflict as exc:
        _refused(request, exc)
        return redirect(_list_url(month))
    return xlsx_response(export.content, export.filename)


# --- plans -----------------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The plans the caller may see, active first; 50 a page."""
    raw = request.GET.get("active", "")
    active = {"yes": True, "no": False}.get(raw)
    page = paginate(selectors.plan_list(user=request.user, active=active), request.GET.get("page"))
    context = {
        "page": page,
        "active": raw if active is not None else "",
        "can_manage": commissions.can_manage_plans(request.user),
        "results_id": "plan-results",
    }
    template = "_plan_results.html" if _partial(request) else "plan_list.html"
    response = render(request, TEMPLATES + template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(user=request.user, pk=pk)
    context = {
        "plan": plan,
        "can_manage": commissions.can_manage_plans(request.user),
        "accelerator_pct": commissions.percent(plan.accelerator_rate),
    }
    return render(request, TEMPLATES + "plan_detail.html", context)


def _apply_errors(exc: ValidationError, form: PlanForm, errors: dict[str, list[str]]) -> None:
    """Put the service's errors where they belong: the plan's fields, or the tiers / factors
    tables."""
    names = {"accelerator_rate": "accelerator_pct"}
    for name, messages_ in exc.message_dict.items():
        if name in ("tiers", "factors"):
            errors[name] += messages_
            continue
        target = names.get(name, name)
        form.add_error(target if target in form.fields else None, messages_)


def _plan_form_page(
    request: HttpRequest, plan: CommissionPlan | None, *, save: Any, success: str
) -> HttpResponse:
    if not commissions.can_manage_plans(request.user):
        raise PermissionDenied(_("Only an administrator or finance can set commission plans."))
    errors: dict[str, list[str]] = {"tiers": [], "factors": []}
    if request.method == "POST":
        form = PlanForm(request.POST)
        tiers = row_formset(TierFormSet, prefix="tiers", data=request.POST)
        factors = row_formset(FactorFormSet, prefix="factors", data=request.POST)
        if form.is_valid() and tiers.is_valid() and factors.is_valid():
            try:
                saved = save(plan_data(form, tiers, factors))
            except ValidationError as exc:
                _apply_errors(exc, form, errors)
            else:
                messages.success(request, success)
                return redirect(saved)
        status = 400
    else:
        initial, tier_rows, factor_rows = (
            plan_initial(plan) if plan is not None else ({}, [{"from_amount": Decimal("0")}], [])
        )
        form = PlanForm(initial=initial)
        tiers = row_formset(TierFormSet, prefix="tiers", initial=tier_rows)
        factors = row_formset(FactorFormSet, prefix="factors", initial=factor_rows)
        status = 200
    context = {
        "plan": plan,
        "form": form,
        "tiers": tiers,
        "factors": factors,
        "tier_errors": errors["tiers"],
        "factor_errors": errors["factors"],
        "has_statements": plan is not None and plan.statements.exists(),
    }
    return render(request, TEMPLATES + "plan_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    return _plan_form_page(
        request,
        None,
        save=lambda data: commissions.plan_create(by=request.user, data=data),
        success=_("Commission plan created."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(user=request.user, pk=pk)
    return _plan_form_page(
        request,
        plan,
        save=lambda data: commissions.plan_update(plan=plan, by=request.user, data=data),
        success=_("Commission plan saved."),
    )


@login_required
@require_POST
def plan_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(user=request.user, pk=pk)
    try:
        commissions.plan_deactivate(plan=plan, by=request.user)
    except Conflict as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Commission plan deactivated: no new statement uses it."))
    return redirect(plan)
