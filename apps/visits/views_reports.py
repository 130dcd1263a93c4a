"""Pages of the weekly sales reports (销售报告) and the visit figures (拜访统计). Thin: the
selectors (`figures`, `reports`) read, the services (`reports`) write; a refused action is a
message on the page, never a 500."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.models import PATH_STEP
from apps.accounts.scope import Scope, scope_of, visible_users
from apps.core.errors import Conflict
from apps.leads import exports as xlsx
from apps.leads.periods import Period

from . import exports, reports
from . import figures as fig
from .choices import ReportStatus
from .forms_reports import CommentForm, FiguresPeriodForm, ReportFilterForm, ReportForm

PER_PAGE = 50
NOT_VISITED_PER_PAGE = 25
MAX_TEAMS = 200  # the team select of the figures: a company has dozens of units
MAX_PEOPLE = 200


def optional_url(name: str, query: dict | None = None, *args: object) -> str:
    """The URL of a page another part of the app provides, or "" while it does not exist."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(query)}" if query else url


def _htmx_partial(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.history_restore_request


# --- weekly reports ------------------------------------------------------------------------


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    """My reports; my team's for heads. Filters: week, status, late, team. No COUNT(*): one
    row more than a page tells whether there is a next one."""
    form = ReportFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    teams = fig.figure_teams(user=request.user)
    team = teams.filter(pk=data["team"]).first() if data.get("team") else None
    filters = reports.ReportFilters(
        week=data.get("week"), status=data.get("status") or "", late=bool(data.get("late")),
        team=team,
    )  # fmt: skip
    qs = reports.weekly_report_list(user=request.user, filters=filters)
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    rows = list(qs[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "reports": rows[:PER_PAGE],
        "form": form,
        "filters": filters,
        "teams": list(teams),
        "statuses": ReportStatus.choices,
        "page_number": number,
        "has_next": len(rows) > PER_PAGE,
        "query": query.urlencode(),
        "may_see_late": reports.may_see_late(request.user),
    }
    partial = _htmx_partial(request)
    response = render(
        request, "visits/report_results.html" if partial else "visits/report_list.html", context
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


def _detail_context(request: HttpRequest, report, form: ReportForm | None = None) -> dict:
    user = request.user
    editable = reports.can_edit(user, report)
    if editable and form is None:
        form = ReportForm(initial={name: getattr(report, name) for name in reports.TEXT_FIELDS})
    next_week = report.week_start + timedelta(days=14)
    return {
        "report": report,
        "f": report.figures or {},
        "form": form if editable else None,
        "transitions": reports.report_transitions(user, report),
        "comment_form": CommentForm(),
        "calendar_url": optional_url("visits:calendar", {"week": next_week.isoformat()}),
        "week_end": report.week_start + timedelta(days=6),
        "sections": [
            (_("Summary of the week"), report.summary),
            (_("Competition"), report.competitor_notes),
            (_("Abnormal customers"), report.abnormal_customers),
            (_("Next week's targets and plan"), report.next_week_plan),
        ],
    }


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = reports.weekly_report_get(user=request.user, pk=pk)
    return render(request, "visits/report_detail.html", _detail_context(request, report))


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, str(exc))


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The rep writes their draft; "save and submit" submits it in the same step."""
    report = reports.weekly_report_get(user=request.user, pk=pk)
    if request.method == "GET":
        return redirect(report)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return render(request, "visits/report_detail.html", _detail_context(request, report, form))
    try:
        report = reports.weekly_report_update(
            report=report, by=request.user, data=form.cleaned_data
        )
        if "submit" in request.POST:
            report = reports.weekly_report_submit(report=report, by=request.user)
            messages.success(request, _("Report submitted."))
        else:
            messages.success(request, _("Report saved."))
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        report = reports.weekly_report_get(user=request.user, pk=pk)
        context = _detail_context(request, report, form)
        return render(request, "visits/report_detail.html", context, status=400)
    except (Conflict, PermissionDenied) as exc:
        _refused(request, exc)
    return redirect(report)


@login_required
@require_POST
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    report = reports.weekly_report_get(user=request.user, pk=pk)
    try:
        reports.weekly_report_submit(report=report, by=request.user)
        messages.success(request, _("Report submitted."))
    except (Conflict, PermissionDenied, ValidationError) as exc:
        _refused(request, exc)
    return redirect(report)


@login_required
@require_POST
def report_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The supervisor's box: "reviewed" with an optional comment, or "return" with one."""
    report = reports.weekly_report_get(user=request.user, pk=pk)
    comment = request.POST.get("comment", "")[:4000]
    decision = request.POST.get("decision", "review")
    if decision not in ("review", "return"):
        raise Http404
    try:
        if decision == "review":
            reports.weekly_report_review(report=report, by=request.user, comment=comment)
            messages.success(request, _("Report marked reviewed."))
        else:
            reports.weekly_report_return(report=report, by=request.user, comment=comment)
            messages.success(request, _("Report returned to the rep."))
    except (Conflict, PermissionDenied, ValidationError) as exc:
        _refused(request, exc)
    return redirect(report)


# --- figures -------------------------------------------------------------------------------


@login_required
def figures_page(request: HttpRequest) -> HttpResponse:
    """Visit figures for a period with the drill-down company → unit → rep → the rep's
    records, bars, and the customers not visited in N days (paged); ``?format=xlsx`` for the
    figures as an Excel file. A team or a rep outside the caller's scope is a 404."""
    form = FiguresPeriodForm(request.GET or {"period": Period.THIS_WEEK})
    context: dict = {"form": form, "periods": Period.choices}
    if form.is_valid():
        data = form.cleaned_data
        start, end = form.bounds()
        team = None
        if data.get("team"):
            team = fig.figure_teams(user=request.user).filter(pk=data["team"]).first()
            if team is None:
                raise Http404
        owner = None
        if data.get("owner"):
            owner = visible_users(request.user).filter(pk=data["owner"]).first()
            if owner is None:
                raise Http404
        days = data.get("days") or fig.not_visited_days()
        result = fig.visit_figures(
            user=request.user, start=start, end=end, team=team, owner=owner, days=days
        )
        if request.GET.get("format") == "xlsx":
            return _figures_xlsx(result, team=team, owner=owner)
        # Counted per owner with the figures (one grouped query): no second COUNT(*).
        customers = fig.NotVisitedPages(
            user=request.user, count=result.not_visited, days=days,
            owner_ids=result.owner_ids, order=data.get("order") or "days",
        )  # fmt: skip
        page = Paginator(customers, NOT_VISITED_PER_PAGE).get_page(request.GET.get("page"))
        for customer in page.object_list:
            customer.days_since = fig.days_since(customer.last_visit)
        base = {"period": data["period"], "start": start.isoformat(),
                "end": result.last_day.isoformat(), "days": days}  # fmt: skip
        if data["period"] != Period.CUSTOM:
            base = {"period": data["period"], "days": days}
        record_query = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "date_from": start.isoformat(),
            "date_to": result.last_day.isoformat(),
        }
        rows = []
        for row in result.rows:
            if row.kind == "unit":
                link = "?" + urlencode({**base, "team": row.id})
            else:
                link = "?" + urlencode({**base, "owner": row.id})
            records = optional_url("visits:record_list", {**record_query, "owner": row.id,
                                                          "rep": row.id})  # fmt: skip
            rows.append((row, link, records if row.kind == "rep" else ""))
        export = {**base, "format": "xlsx"}
        if team is not None:
            export["team"] = team.pk
        if owner is not None:
            export["owner"] = owner.pk
        oversees = scope_of(request.user) in (Scope.ALL, Scope.SUBTREE)
        people = []
        if oversees:
            people = list(
                visible_users(request.user)
                .filter(is_active=True)
                .filter(**({"org_unit__path__startswith": team.path} if team else {}))
                .order_by("username")[:MAX_PEOPLE]
            )
        context.update(
            result=result,
            rows=rows,
            page=page,
            owner=owner,
            selected_team=team,
            teams=list(fig.figure_teams(user=request.user)[:MAX_TEAMS]) if oversees else [],
            people=people,
            export_query=urlencode(export),
            base_query=urlencode(base),
            crumbs=_crumbs(request.user, result.team or team, base),
            owner_records=optional_url(
                "visits:record_list", {**record_query, "owner": owner.pk, "rep": owner.pk}
            )
            if owner
            else "",
        )
    response = render(request, "visits/figures.html", context)
    return response


def _figures_xlsx(result: fig.VisitFigures, *, team, owner) -> HttpResponse:
    """The figures of the page as an Excel file (`exports.figures_workbook`)."""
    narrowing = [team.name if team else "", owner.display_name if owner else ""]
    filters = xlsx.period_text(result.start, result.last_day, *narrowing)
    parts = [f"team{team.pk}" if team else "", f"rep{owner.pk}" if owner else ""]
    name = xlsx.filename("visit-figures", result.start, result.last_day, *parts)
    return xlsx.xlsx_response(exports.figures_workbook(result, filters=filters), name)


def _crumbs(user, team, base: dict) -> list[tuple[str, str]]:
    """The units `user` may open from the top of their view down to `team`, each linking to
    its figures."""
    if team is None:
        return []
    step = PATH_STEP + 1
    paths = [team.path[:i] for i in range(step, len(team.path) + 1, step)]
    units = fig.figure_teams(user=user).filter(path__in=paths)
    return [(u.name, "?" + urlencode({**base, "team": u.pk})) for u in units]
