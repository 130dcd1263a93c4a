"""Visit pages: the week calendar (a rep's week, a supervisor's view of a rep or the team),
plan forms and the drag-and-drop move, the phone-first visit summary form, the record list.
Thin: selectors read, services write; a refused action is a message, never a 500."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.scope import Scope, scope_of
from apps.core.errors import Conflict
from apps.core.pagination import paginate
from apps.opportunities.figures import figure_teams

from . import selectors, services
from .choices import PlanStatus
from .forms import CancelForm, MoveForm, PlanForm, RecordFilterForm, RecordForm
from .models import VisitPlan
from .permissions import (
    can_change_plan,
    can_edit_record,
    can_log_visit,
    can_plan_for,
    record_editable_until,
)

PER_PAGE = 30


def _date(raw: str | None) -> date | None:
    try:
        return parse_date(raw or "")
    except ValueError:
        return None


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _calendar_url(day: date, owner_id: int | None = None, user_id: int | None = None) -> str:
    url = f"{reverse('visits:calendar')}?week={selectors.week_start(day):%Y-%m-%d}"
    if owner_id and owner_id != user_id:
        url += f"&rep={owner_id}"
    return url


def _put_errors(form: Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


# --- calendar ------------------------------------------------------------------------------


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """The week (Monday–Sunday) of one person, or of a team (a row per rep)."""
    user = request.user
    today = timezone.localdate()
    start = selectors.week_start(_date(request.GET.get("week")) or today)
    team = owner = None
    if (team_id := _int(request.GET.get("team"))) is not None:
        team = get_object_or_404(figure_teams(user=user), pk=team_id)
        owners = selectors.team_members(user=user, team=team)
    elif (rep_id := _int(request.GET.get("rep"))) is not None:
        owner = get_object_or_404(selectors.calendar_people(user=user), pk=rep_id)
        owners = [owner]
    else:
        owner = user
        owners = [user]
    week = selectors.calendar_week(user=user, start=start, owners=owners)
    oversees = scope_of(user) in (Scope.SUBTREE, Scope.ALL)
    people: list = []
    if oversees:
        people = (
            selectors.team_members(user=user, team=team)
            if team is not None
            else list(selectors.calendar_people(user=user)[:200])
            if scope_of(user) is Scope.SUBTREE
            else []
        )
    focus = today if start <= today <= week.end else start
    context = {
        "week": week,
        "team": team,
        "owner": owner,
        "oversees": oversees,
        "people": people,
        "teams": list(figure_teams(user=user)[:100]) if oversees else [],
        "can_plan": owner is not None and can_plan_for(user, owner),
        "today": today,
        "focus": focus,
        "statuses": PlanStatus,
        "this_url": request.get_full_path(),
    }
    return render(request, "visits/calendar.html", context)


@login_required
def target_search(request: HttpRequest) -> HttpResponse:
    """The picker's options: customers and open leads the user may see (search as you type)."""
    term = (request.GET.get("q") or "").strip()[:100]
    customers, leads = selectors.plan_targets(user=request.user, search=term)
    context = {"customers": customers, "leads": leads, "term": term}
    return render(request, "visits/_target_options.html", context)


# --- plans ---------------------------------------------------------------------------------


def _target_label(request: HttpRequest, customer_id: int | None, lead_id: int | None) -> str:
    if customer_id is not None:
        found = selectors.visible_customer(user=request.user, pk=customer_id)
        return found.name if found else ""
    if lead_id is not None:
        found_lead = selectors.visible_lead(user=request.user, pk=lead_id)
        return found_lead.company_name if found_lead else ""
    return ""


def _plan_form_page(
    request: HttpRequest, form: PlanForm, *, owner, plan: VisitPlan | None, status: int = 200
) -> HttpResponse:
    customer_id = _int(str(form["customer"].value() or ""))
    lead_id = _int(str(form["lead"].value() or ""))
    context = {
        "form": form,
        "plan": plan,
        "owner": owner,
        "target_label": _target_label(request, customer_id, lead_id),
        "target_kind": "customer" if customer_id else ("lead" if lead_id else ""),
        "back_url": _next_url(
            request, _calendar_url(timezone.localdate(), owner.pk, request.user.pk)
        ),
    }
    return render(request, "visits/plan_form.html", context, status=status)


def _opportunities_for(request: HttpRequest, raw_customer: Any) -> list:
    return selectors.customer_opportunities(
        user=request.user, customer_id=_int(str(raw_customer or ""))
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    """Plan a visit on a day (?date=), for oneself or (a head) for a rep (?rep=)."""
    user = request.user
    owner = user
    if (rep_id := _int(request.GET.get("rep") or request.POST.get("rep"))) is not None:
        owner = get_object_or_404(selectors.calendar_people(user=user), pk=rep_id)
    if not can_plan_for(user, owner):
        raise PermissionDenied(_("You cannot plan visits for this person."))
    source = request.POST if request.method == "POST" else None
    initial = {
        "planned_date": _date(request.GET.get("date")) or timezone.localdate(),
        "customer": _int(request.GET.get("customer")),
        "lead": _int(request.GET.get("lead")),
    }
    raw_customer = (source or {}).get("customer") or initial["customer"]
    form = PlanForm(
        source, initial=initial, opportunities=_opportunities_for(request, raw_customer)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.visit_plan_create(
                by=user, owner=owner, customer=data["customer"], lead=data["lead"],
                opportunity=data["opportunity"], planned_date=data["planned_date"],
                planned_time=data["planned_time"], purpose=data["purpose"],
                objectives=data["objectives"],
            )  # fmt: skip
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Visit planned: %(plan)s.") % {"plan": plan})
            return redirect(_calendar_url(plan.planned_date, owner.pk, user.pk))
    status = 400 if form.errors else 200
    return _plan_form_page(request, form, owner=owner, plan=None, status=status)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.visit_plan_get(user=request.user, pk=pk)
    record = getattr(plan, "record", None) if plan.status == PlanStatus.DONE else None
    is_open = plan.status == PlanStatus.PLANNED
    context = {
        "plan": plan,
        "record": record,
        "can_change": is_open and can_change_plan(request.user, plan),
        "can_log": is_open and can_log_visit(request.user, plan),
        "cancel_form": CancelForm(),
        "calendar_url": _calendar_url(plan.planned_date, plan.owner_id, request.user.pk),
    }
    return render(request, "visits/plan_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.visit_plan_get(user=request.user, pk=pk)  # 404 outside the scope
    if not can_change_plan(request.user, plan):
        raise PermissionDenied(_("You cannot change this visit plan."))
    if plan.status != PlanStatus.PLANNED:
        messages.error(request, _("Only a planned visit can be changed."))
        return redirect(plan.get_absolute_url())
    initial = {name: getattr(plan, f"{name}_id" if name in ("customer", "lead", "opportunity")
                              else name) for name in services.PLAN_FIELDS}  # fmt: skip
    source = request.POST if request.method == "POST" else None
    raw_customer = (source or {}).get("customer") or plan.customer_id
    form = PlanForm(
        source, initial=initial, opportunities=_opportunities_for(request, raw_customer)
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.visit_plan_update(plan=plan, by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _put_errors(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect(plan.get_absolute_url())
        else:
            messages.success(request, _("Visit plan saved."))
            return redirect(plan.get_absolute_url())
    return _plan_form_page(
        request, form, owner=plan.owner, plan=plan, status=400 if form.errors else 200
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def plan_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a plan to a day and place in the route (drag and drop, up/down). Answers JSON to
    the calendar's script (a refused move: the status and the message to show), else
    redirects back with a message."""
    plan = selectors.visit_plan_get(user=request.user, pk=pk)  # 404 outside the scope
    form = MoveForm(request.POST)
    status, message = 200, ""
    if not form.is_valid():
        status = 400
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        try:
            plan = services.visit_plan_move(
                plan=plan, by=request.user, planned_date=form.cleaned_data["planned_date"],
                route_order=form.cleaned_data["route_order"],
            )  # fmt: skip
        except PermissionDenied as exc:
            status, message = 403, str(exc)
        except Conflict as exc:
            status, message = 409, str(exc)
        except ValidationError as exc:
            status, message = 400, " ".join(exc.messages)
    if _wants_json(request):
        body = {
            "ok": status == 200,
            "message": message,
            "id": plan.pk,
            "planned_date": plan.planned_date.isoformat(),
            "route_order": plan.route_order,
        }
        return JsonResponse(body, status=status)
    if status == 200:
        messages.success(request, _("Visit plan moved."))
    else:
        messages.error(request, message)
    return redirect(
        _next_url(request, _calendar_url(plan.planned_date, plan.owner_id, request.user.pk))
    )


@login_required
@require_POST
def plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.visit_plan_get(user=request.user, pk=pk)  # 404 outside the scope
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        services.visit_plan_cancel(
            plan=plan, by=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Visit cancelled."))
    return redirect(_next_url(request, plan.get_absolute_url()))


# --- records -------------------------------------------------------------------------------


def _now_local():
    return timezone.localtime().replace(second=0, microsecond=0)


def _record_page(request: HttpRequest, form: RecordForm, **context: Any) -> HttpResponse:
    status = context.pop("status", 400 if form.errors else 200)
    return render(request, "visits/record_form.html", {"form": form, **context}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def record_create(request: HttpRequest) -> HttpResponse:
    """Log a visit: from a plan (?plan=), or unplanned (?customer= or ?lead=)."""
    user = request.user
    plan = customer = lead = None
    if (plan_id := _int(request.GET.get("plan"))) is not None:
        plan = selectors.visit_plan_get(user=user, pk=plan_id)  # 404 outside the scope
        customer, lead = plan.customer, plan.lead
        if plan.status != PlanStatus.PLANNED or not can_log_visit(user, plan):
            messages.error(request, _("This visit plan cannot be logged now."))
            return redirect(plan.get_absolute_url())
    elif (customer_id := _int(request.GET.get("customer"))) is not None:
        customer = selectors.visible_customer(user=user, pk=customer_id)
        if customer is None:
            raise Http404
    elif (lead_id := _int(request.GET.get("lead"))) is not None:
        lead = selectors.visible_lead(user=user, pk=lead_id)
        if lead is None:
            raise Http404
    if not can_log_visit(user):
        raise PermissionDenied(_("You cannot log visits."))
    initial = {
        "purpose": plan.purpose if plan else "",
        "started_at": _now_local(),
        "opportunity": plan.opportunity_id if plan else None,
    }
    source = request.POST if request.method == "POST" else None
    opportunities = selectors.customer_opportunities(
        user=user, customer_id=customer.pk if customer else None
    )
    form = RecordForm(source, initial=initial, opportunities=opportunities)
    context = {"plan": plan, "customer": customer, "lead": lead, "record": None}
    if customer is None and lead is None:
        context["needs_target"] = True
        return _record_page(request, form, **context)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.visit_record_create(
                by=user, plan=plan, customer=None if plan else customer,
                lead=None if plan else lead, opportunity=form.cleaned_data["opportunity"],
                data=form.record_data(),
            )  # fmt: skip
        except ValidationError as exc:
            _put_errors(form, exc)
        except (Conflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect(plan.get_absolute_url() if plan else reverse("visits:record_list"))
        else:
            messages.success(request, _("Visit logged."))
            return redirect(record.get_absolute_url())
    return _record_page(request, form, **context)


@login_required
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.visit_record_get(user=request.user, pk=pk)
    context = {
        "record": record,
        "can_edit": can_edit_record(request.user, record),
        "editable_until": record_editable_until(record),
    }
    return render(request, "visits/record_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.visit_record_get(user=request.user, pk=pk)  # 404 outside the scope
    if not can_edit_record(request.user, record):
        messages.error(request, _("This visit record is read-only."))
        return redirect(record.get_absolute_url())
    initial = {name: getattr(record, name) for name in services.RECORD_FIELDS}
    for name in ("started_at", "ended_at"):
        if initial[name] is not None:
            initial[name] = timezone.localtime(initial[name])
    initial["opportunity"] = record.opportunity_id
    source = request.POST if request.method == "POST" else None
    opportunities = selectors.customer_opportunities(
        user=request.user, customer_id=record.customer_id
    )
    form = RecordForm(source, initial=initial, opportunities=opportunities)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.visit_record_update(
                record=record, by=request.user, data=form.record_data(),
                opportunity=form.cleaned_data["opportunity"],
            )  # fmt: skip
        except ValidationError as exc:
            _put_errors(form, exc)
        except (Conflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect(record.get_absolute_url())
        else:
            messages.success(request, _("Visit record saved."))
            return redirect(record.get_absolute_url())
    context = {"plan": record.plan, "customer": record.customer, "lead": record.lead,
               "record": record}  # fmt: skip
    return _record_page(request, form, **context)


@login_required
def record_list(request: HttpRequest) -> HttpResponse:
    """Visit records in scope: rep, customer search, date range, effective only; 30 a page."""
    filters = RecordFilterForm(request.GET or None)
    f = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.visit_record_list(
        user=request.user,
        owner=f.get("rep"),
        search=f.get("q") or "",
        date_from=f.get("date_from"),
        date_to=f.get("date_to"),
        effective=True if f.get("effective") else None,
    )
    page = paginate(qs, request.GET.get("page"), PER_PAGE)
    oversees = scope_of(request.user) in (Scope.SUBTREE, Scope.ALL)
    context = {
        "page": page,
        "filters": f,
        "filter_form": filters,
        "people": list(selectors.calendar_people(user=request.user)[:200])
        if scope_of(request.user) is Scope.SUBTREE
        else [],
        "oversees": oversees,
        "results_id": "record-results",
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "visits/_record_results.html" if partial else "visits/record_list.html"
    return render(request, template, context)
