"""Pages of sales plans (销售计划书) and target adjustments (执行困难报告单及修正单).

Thin: reads through `selectors_plans` (out of scope is a 404), writes through `plans`, whose
field errors are shown on the form; submit, withdraw, approve and return are the approval
panel's buttons (`{% approval_panel %}`), which call the approval services and so the
callbacks in `plans`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.approvals.services import approval_is_pending
from apps.core.errors import Conflict

from . import actuals, plans
from .choices import MONEY_METRICS, DocumentStatus, PeriodKind, TargetStatus
from .forms_plans import (
    AdjustmentFilterForm,
    AdjustmentForm,
    PlanFilterForm,
    PlanForm,
    TargetGridForm,
)
from .models import Target
from .periods import period_between
from .selectors_plans import (
    AdjustmentFilters,
    PlanFilters,
    adjustment_get,
    adjustment_list,
    plan_filter_units,
    plan_get,
    plan_list,
    plan_unit_choices,
    target_for_adjustment_get,
)

PER_PAGE = 25
STATUS_BADGES = {
    DocumentStatus.DRAFT: "bg-secondary-subtle text-secondary-emphasis",
    DocumentStatus.PENDING: "bg-primary-subtle text-primary-emphasis",
    DocumentStatus.APPROVED: "bg-success-subtle text-success-emphasis",
}


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


def _apply_errors(form, exc: ValidationError, *, also=None) -> None:
    """Put a service's ValidationError on the form (or `also`, a second form), by field."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        elif also is not None and name in also.fields:
            also.add_error(name, errors)
        elif also is not None and name == "targets":
            also.add_error(None, errors)
        else:
            form.add_error(None, errors)


def _page(request: HttpRequest, queryset) -> Any:
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


def _target_url(target: Target) -> str:
    """The target's page, once the targets pages exist."""
    try:
        return target.get_absolute_url()
    except NoReverseMatch:
        return ""


# --- plans: list ----------------------------------------------------------------------------


@login_required
@require_GET
def plan_list_view(request: HttpRequest) -> HttpResponse:
    """The sales plans the user may see: filter by status, period and unit; 25 a page."""
    form = PlanFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = PlanFilters(
        status=data.get("status") or "",
        org_unit=data.get("org_unit"),
        period_kind=data.get("period_kind") or "",
        day=data.get("day"),
    )
    page = _page(request, plan_list(user=request.user, filters=filters))
    context = {
        "page": page,
        "filters": filters,
        "statuses": DocumentStatus.choices,
        "period_kinds": PeriodKind.choices,
        "units": plan_filter_units(user=request.user),
        "status_badges": STATUS_BADGES,
        "results_id": "plan-results",
        "can_create": plans.can_author_any_plan(request.user),
    }
    template = "goals/_plan_results.html" if _partial(request) else "goals/plan_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- plans: editor --------------------------------------------------------------------------


def _grid_form(request: HttpRequest, unit, *, initial=None) -> TargetGridForm:
    data = request.POST if request.method == "POST" else None
    return TargetGridForm(data, reps=plans.plan_reps(unit), unit_label=unit.name, initial=initial)


def _save_plan(request: HttpRequest, form: PlanForm, grid: TargetGridForm, *, plan=None):
    """Run the service with both forms' data; None (errors put on the forms) when refused."""
    if not (form.is_valid() and grid.is_valid()):
        return None
    try:
        if plan is None:
            return plans.plan_create(
                by=request.user,
                org_unit=form.cleaned_data["org_unit"],
                period_kind=form.cleaned_data["period_kind"],
                day=form.cleaned_data["day"],
                data=form.data_for_service(),
                lines=grid.lines(),
            )
        return plans.plan_update(
            plan=plan,
            by=request.user,
            data=form.data_for_service(),
            period_kind=form.cleaned_data["period_kind"],
            day=form.cleaned_data["day"],
            lines=grid.lines(),
        )
    except ValidationError as exc:
        _apply_errors(form, exc, also=grid)
    except Conflict as exc:
        form.add_error(None, exc.message)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    """Write a sales plan: the unit and period, the sections, the target grid. Only heads of
    units (and administrators) write plans. Changing the unit reloads the grid (htmx)."""
    units = plan_unit_choices(user=request.user)
    if not plans.can_author_any_plan(request.user) or not units.exists():
        raise PermissionDenied(_("Only the head of a unit can write its sales plan."))
    raw_unit = request.POST.get("org_unit") or request.GET.get("org_unit")
    unit = units.filter(pk=raw_unit).first() if str(raw_unit or "").isdigit() else None
    unit = unit or units.first()
    form = PlanForm(
        request.POST or None, units=units, initial={"org_unit": unit}, grid_url=request.path
    )
    grid = _grid_form(request, unit)
    if request.htmx and request.method == "GET" and request.GET.get("org_unit"):
        return render(request, "goals/_plan_grid.html", {"grid": grid})
    if request.method == "POST":
        plan = _save_plan(request, form, grid)
        if plan is not None:
            messages.success(request, _("Plan saved. Submit it for approval when it is ready."))
            return redirect(plan)
    return render(request, "goals/plan_form.html", {"form": form, "grid": grid, "plan": None})


@login_required
@require_http_methods(["GET", "POST"])
def plan_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Revise a draft plan (also after a return); refused while under approval."""
    plan = plan_get(user=request.user, pk=pk)
    if plan.owner_id != request.user.pk:
        raise PermissionDenied(_("Only the author can change this document."))
    if plan.status != DocumentStatus.DRAFT or approval_is_pending(plan):
        messages.error(request, _("This plan is under approval or approved: it cannot change."))
        return redirect(plan)
    form = PlanForm(
        request.POST or None,
        units=type(plan.org_unit).objects.filter(pk=plan.org_unit_id),
        fixed_unit=True,
        initial={
            "org_unit": plan.org_unit,
            "period_kind": plan.period_kind,
            "day": plan.period_start,
            "title": plan.title,
            **{name: getattr(plan, name) for name in PlanForm.SECTIONS},
        },
    )
    grid = _grid_form(
        request, plan.org_unit, initial=TargetGridForm.initial_from(plans.plan_lines(plan))
    )
    if request.method == "POST":
        saved = _save_plan(request, form, grid, plan=plan)
        if saved is not None:
            messages.success(request, _("Plan saved."))
            return redirect(saved)
    return render(request, "goals/plan_form.html", {"form": form, "grid": grid, "plan": plan})


# --- plans: the document --------------------------------------------------------------------


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan as a readable document (销售计划书): sections, target grid, approval panel."""
    plan = plan_get(user=request.user, pk=pk)
    targets = list(plan.targets.all())
    grid = plans.plan_grid(plan, targets)
    heads = plans.can_author_plan(request.user, plan.org_unit)
    split = {t.parent_id for t in targets if t.parent_id}
    adjustable_ids = {
        t.pk
        for t in targets
        if t.status == TargetStatus.ACTIVE
        and t.pk not in split
        and (heads or t.user_id == request.user.pk)
    }
    return render(
        request,
        "goals/plan_detail.html",
        {
            "plan": plan,
            "grid": grid,
            "period": period_between(plan.period_kind, plan.period_start, plan.period_end),
            "status_badge": STATUS_BADGES.get(plan.status, ""),
            "can_edit": plan.owner_id == request.user.pk and plan.status == DocumentStatus.DRAFT,
            "money_metrics": MONEY_METRICS,
            "adjustable_ids": adjustable_ids,
        },
    )


# --- adjustments ----------------------------------------------------------------------------


@login_required
@require_GET
def adjustment_list_view(request: HttpRequest) -> HttpResponse:
    """The target adjustments the user may see, latest first; 25 a page."""
    form = AdjustmentFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = AdjustmentFilters(status=data.get("status") or "")
    page = _page(request, adjustment_list(user=request.user, filters=filters))
    context = {
        "page": page,
        "filters": filters,
        "statuses": DocumentStatus.choices,
        "status_badges": STATUS_BADGES,
        "results_id": "adjustment-results",
    }
    template = (
        "goals/_adjustment_results.html" if _partial(request) else "goals/adjustment_list.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def actual_to_date(target: Target, today: date | None = None) -> Any:
    """What the target's scope reached from the period's start to today (or the end)."""
    today = today or timezone.localdate()
    if today < target.period_start:
        return actuals.ZERO
    end = min(today, target.period_end)
    owners = [target.user_id] if target.user_id else None
    figures = actuals.compute(target.metric, target.period_start, end, owner_ids=owners)
    return figures.scope(target.scope_kind, unit_id=target.org_unit_id, user_id=target.user_id)


def _target_context(target: Target) -> dict[str, Any]:
    actual = actual_to_date(target)
    return {
        "target": target,
        "target_url": _target_url(target),
        "scope_name": plans.scope_name(target),
        "period": period_between(target.period_kind, target.period_start, target.period_end),
        "actual": actual,
        "attainment": (actual / target.amount * 100) if target.amount else None,
        "is_money": target.metric in MONEY_METRICS,
    }


def _form_template(request, form, target, adjustment=None) -> HttpResponse:
    context = {"form": form, "adjustment": adjustment, **_target_context(target)}
    return render(request, "goals/adjustment_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def adjustment_create(request: HttpRequest, target_pk: int) -> HttpResponse:
    """Report a difficulty and propose a revised target (a draft, or submitted at once)."""
    target = target_for_adjustment_get(user=request.user, pk=target_pk)
    if not plans.can_adjust_target(request.user, target):
        raise PermissionDenied(_("You cannot adjust this target."))
    form = AdjustmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                adjustment = plans.adjustment_create(by=request.user, target=target,
                                                     **form.cleaned_data)  # fmt: skip
                if request.POST.get("action") == "submit":
                    plans.adjustment_submit(adjustment=adjustment, by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Submitted for approval.")
                if request.POST.get("action") == "submit"
                else _("Draft saved. Submit it for approval when it is ready."),
            )
            return redirect(adjustment)
    return _form_template(request, form, target)


@login_required
@require_http_methods(["GET", "POST"])
def adjustment_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Revise a draft adjustment (also after a return)."""
    adjustment = adjustment_get(user=request.user, pk=pk)
    if adjustment.owner_id != request.user.pk:
        raise PermissionDenied(_("Only the applicant can change this document."))
    if adjustment.status != DocumentStatus.DRAFT or approval_is_pending(adjustment):
        messages.error(request, _("This adjustment is under approval or approved."))
        return redirect(adjustment)
    form = AdjustmentForm(
        request.POST or None,
        initial={
            "proposed_amount": adjustment.proposed_amount,
            "difficulty_report": adjustment.difficulty_report,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                plans.adjustment_update(adjustment=adjustment, by=request.user,
                                        **form.cleaned_data)  # fmt: skip
                if request.POST.get("action") == "submit":
                    plans.adjustment_submit(adjustment=adjustment, by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Adjustment saved."))
            return redirect(adjustment)
    return _form_template(request, form, adjustment.target, adjustment)


@login_required
@require_GET
def adjustment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The adjustment, its target's versions (who, when, why) and the approval panel."""
    adjustment = adjustment_get(user=request.user, pk=pk)
    target = adjustment.target
    return render(
        request,
        "goals/adjustment_detail.html",
        {
            "adjustment": adjustment,
            "versions": list(target.versions.all()),
            "status_badge": STATUS_BADGES.get(adjustment.status, ""),
            "can_edit": adjustment.owner_id == request.user.pk
            and adjustment.status == DocumentStatus.DRAFT,
            "difference": adjustment.proposed_amount - adjustment.current_amount,
            "target_active": target.status == TargetStatus.ACTIVE,
            **_target_context(target),
        },
    )
