"""Lead pages: the list (server-side search, filters, paging without a COUNT), the detail with
its transition buttons (htmx), and manual entry. Thin: selectors read, services write."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import Conflict
from apps.core.pagination import IdsFirst

from . import exports, importing, selectors, services, sla_figures, webform
from .choices import LeadGrade, LeadSource, LeadStatus
from .forms import (
    LeadDataForm,
    LeadImportUploadForm,
    LeadReassignForm,
    LeadWebForm,
    ReasonForm,
)
from .models import Lead
from .periods import Period, period_bounds
from .permissions import available_transitions, can_view_team_sla, may_reassign
from .selectors import lead_get, lead_reassignments, lead_touches
from .views_sources import LeadReportFilterForm, filter_choices, resolve_filters

PER_PAGE = 50
_SERVICES = {
    "contact": services.lead_contact,
    "qualify": services.lead_qualify,
    "disqualify": services.lead_disqualify,
    "nurture": services.lead_nurture,
    "convert": services.lead_convert,
}


def _filters(request: HttpRequest) -> dict:
    get = request.GET
    status, grade, source = get.get("status", ""), get.get("grade", ""), get.get("source", "")
    return {
        "q": get.get("q", "").strip()[:100],
        "status": status if status in LeadStatus.values else "",
        "grade": grade if grade in LeadGrade.values else "",
        "source": source if source in LeadSource.values else "",
        "sla": "breached" if get.get("sla") == "breached" else "",
    }


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    """Leads in the caller's scope, newest change first, 50 a page (no COUNT(*) of the table:
    one row more than a page tells whether there is a next one)."""
    f = _filters(request)
    qs = selectors.lead_list(
        user=request.user,
        search=f["q"],
        status=f["status"],
        grade=f["grade"],
        source=f["source"],
        sla_breached=True if f["sla"] else None,
    )
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    rows, has_next = selectors.lead_page(qs, number=number, per_page=PER_PAGE)
    context = {
        "leads": rows,
        "filters": f,
        "page_number": number,
        "has_next": has_next,
        "statuses": LeadStatus.choices,
        "grades": LeadGrade.choices,
        "sources": LeadSource.choices,
        "can_import": importing.can_import(request.user),
        "can_reassign": may_reassign(request.user),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, "leads/_results.html" if partial else "leads/list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _detail_context(request: HttpRequest, lead) -> dict:
    return {
        "lead": lead,
        "transitions": available_transitions(request.user, lead),
        "touches": lead_touches(lead=lead),
        "reason_form": ReasonForm(),
        "reassignments": lead_reassignments(lead=lead),
        "can_reassign": may_reassign(request.user)
        and lead.status not in (LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED),
    }


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = lead_get(user=request.user, pk=pk)
    return render(request, "leads/detail.html", _detail_context(request, lead))


@login_required
@require_POST
def lead_transition(request: HttpRequest, pk: int, transition: str) -> HttpResponse:
    """One transition button; a refused move is a message on the page, never a 500."""
    service = _SERVICES.get(transition)
    if service is None:
        raise Http404
    lead = lead_get(user=request.user, pk=pk)  # 404 outside the scope
    extra = {"reason": request.POST.get("reason", "")} if transition == "disqualify" else {}
    try:
        lead = service(lead=lead, by=request.user, **extra)
        done = {"name": lead.company_name, "status": lead.get_status_display()}
        messages.success(request, _("Done: %(name)s is now %(status)s.") % done)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    response = redirect("leads:detail", pk=pk)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = lead.get_absolute_url()
    return response


@login_required
@require_http_methods(["GET", "POST"])
def lead_new(request: HttpRequest) -> HttpResponse:
    """Manual entry (手工录入): deduped like every capture; errors shown by their fields."""
    form = LeadDataForm(request.POST or None)
    if request.method == "POST":
        try:
            result = services.lead_capture(
                data=request.POST.dict(), source=LeadSource.MANUAL, by=request.user
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            if result.created:
                messages.success(request, _("Lead saved."))
                target = result.lead
            else:
                messages.info(request, _("This company is already known: a touch was added to it."))
                target = result.duplicate_of
            if (
                isinstance(target, Lead)
                and selectors.lead_list(user=request.user).filter(pk=target.pk).exists()
            ):
                return redirect(target.get_absolute_url())
            return redirect("leads:list")
    return render(request, "leads/new.html", {"form": form})


# --- public web form (no login) -----------------------------------------------------------


@csrf_protect
@require_http_methods(["GET", "POST"])
def lead_webform(request: HttpRequest) -> HttpResponse:
    """The public web form (官网留资): no account. A bot filling the honeypot, a duplicate and a
    new lead all get the same thanks page; over the per-IP rate a 429 page, nothing captured."""
    form = LeadWebForm(request.POST or None)
    if request.method == "POST":
        if webform.rate_limit_exceeded(webform.client_ip(request)):
            return render(request, "leads/webform_limited.html", status=429)
        if request.POST.get(LeadWebForm.HONEYPOT):
            return redirect("leads:webform_thanks")
        if form.is_valid():
            try:
                webform.webform_capture(data=form.lead_data(), channel=webform.channel_of(request))
            except ValidationError as exc:
                to_web = {lead: web for web, lead in LeadWebForm.LEAD_FIELDS.items()}
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(to_web.get(field), error)
            else:
                return redirect("leads:webform_thanks")
    context = {"form": form, "regions": webform.territory_regions()}
    return render(request, "leads/webform.html", context, status=400 if form.errors else 200)


def lead_webform_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "leads/webform_thanks.html")


# --- import wizard ------------------------------------------------------------------------

MAX_ERRORS_SHOWN = 500


def _importer(request: HttpRequest) -> None:
    if not importing.can_import(request.user):
        raise PermissionDenied(_("Only supervisors, managers and administrators import leads."))


@login_required
@require_http_methods(["GET", "POST"])
def lead_import(request: HttpRequest) -> HttpResponse:
    """Step 1 of the import (线索导入): upload a CSV or .xlsx file; it is kept in the database
    for the preview and the confirmation (any web machine may serve the next step)."""
    _importer(request)
    form = LeadImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            stored = importing.import_store(
                upload=form.cleaned_data["file"],
                by=request.user,
                channel=form.cleaned_data["channel"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("leads:import_preview", token=stored.token)
    context = {"form": form, "max_rows": settings.LEAD_IMPORT_MAX_ROWS}
    return render(request, "leads/import.html", context, status=400 if form.errors else 200)


@login_required
def lead_import_template(request: HttpRequest) -> HttpResponse:
    _importer(request)
    response = HttpResponse(
        importing.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="leads-import-template.xlsx"'
    return response


def _field_label(name: str) -> str:
    field = LeadDataForm.base_fields.get(name)
    return str(field.label) if field is not None else ""


@login_required
@require_http_methods(["GET", "POST"])
def lead_import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2: counts of new, duplicate and invalid rows and every row error (row number as in
    the spreadsheet, field); POST imports the file, all or nothing."""
    _importer(request)
    stored = importing.import_get(token=token, by=request.user)
    if request.method == "POST":
        try:
            result = importing.lead_import(stored=stored, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Imported %(created)d new leads (%(assigned)d assigned); "
                  "%(duplicates)d duplicates were added to known records.")
                % {"created": result.created, "assigned": result.assigned,
                   "duplicates": result.duplicates},
            )  # fmt: skip
            return redirect(f"{reverse('leads:list')}?source={LeadSource.IMPORT}")
    plan = importing.import_preview(stored=stored)
    columns = plan.file.columns
    errors = [
        {"row": e.row, "field": e.field, "label": _field_label(e.field),
         "column": columns.get(e.field, ""), "message": e.message}
        for e in plan.errors[:MAX_ERRORS_SHOWN]
    ]  # fmt: skip
    context = {
        "stored": stored,
        "plan": plan,
        "errors": errors,
        "more_errors": max(0, len(plan.errors) - MAX_ERRORS_SHOWN),
        "columns": [(_field_label(f), header) for f, header in columns.items()],
    }
    status = 200 if plan.can_import or request.method == "GET" else 400
    return render(request, "leads/import_preview.html", context, status=status)


# --- reassignment (改派) -------------------------------------------------------------------

PEOPLE_MATCHES = 20


def _reassigner(request: HttpRequest) -> None:
    if not may_reassign(request.user):
        raise PermissionDenied(_("Only supervisors, managers and administrators reassign leads."))


def _lead_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except ValueError:
            raise Http404 from None
    return sorted(set(ids))


@login_required
@require_http_methods(["GET", "POST"])
def lead_reassign(request: HttpRequest) -> HttpResponse:
    """Give the chosen leads (`?lead=1&lead=2`, from the list or a lead's page) to a person of
    the user's scope, with a reason; several leads are reassigned all or nothing. A lead
    outside the user's scope is a 404; a user who does not reassign gets a 403."""
    _reassigner(request)
    data = request.POST if request.method == "POST" else request.GET
    ids = _lead_ids(data.getlist("lead"))
    if not ids:
        messages.info(request, _("Select the leads to reassign first."))
        return redirect("leads:list")
    if len(ids) > services.MAX_BULK_REASSIGN:
        messages.error(
            request,
            _("Choose at most %(max)d leads at a time.") % {"max": services.MAX_BULK_REASSIGN},
        )
        return redirect("leads:list")
    leads = list(
        selectors.lead_list(user=request.user).filter(pk__in=ids).order_by("company_name", "pk")
    )
    if len(leads) != len(ids):
        raise Http404
    form = LeadReassignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        to, reason = form.cleaned_data["to"], form.cleaned_data["reason"]
        try:
            if len(leads) == 1:
                services.lead_reassign(lead=leads[0], to=to, by=request.user, reason=reason)
            else:
                services.lead_reassign_bulk(leads=leads, to=to, by=request.user, reason=reason)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except (Conflict, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d lead was given to %(name)s.",
                    "%(count)d leads were given to %(name)s.",
                    len(leads),
                )
                % {"count": len(leads), "name": to.display_name},
            )
            if len(leads) == 1:
                return redirect(leads[0].get_absolute_url())
            return redirect("leads:list")
    context = {"leads": leads, "form": form, "chosen": form.chosen}
    return render(request, "leads/reassign.html", context, status=400 if form.errors else 200)


@login_required
def lead_reassign_people(request: HttpRequest) -> HttpResponse:
    """Up to 20 people of the user's scope matching what was typed: the choices of the new
    owner on the reassignment page (an htmx fragment; no list of every user is loaded)."""
    _reassigner(request)
    q = request.GET.get("q", "").strip()[:100]
    people = (
        list(selectors.reassign_candidates(user=request.user, search=q)[:PEOPLE_MATCHES])
        if q
        else []
    )
    context = {"people": people, "q": q, "limit": PEOPLE_MATCHES}
    return render(request, "leads/_reassign_people.html", context)


# --- response SLA compliance (线索响应及时率) ------------------------------------------------

SLA_BREACHED_PER_PAGE = 25


@login_required
def lead_sla(request: HttpRequest) -> HttpResponse:
    """First-response SLA compliance of the leads in the user's scope due in a period,
    narrowed to a team or a rep: the figures, per team, per rep (a stacked bar each) and per
    grade, and the leads that missed it (paged); ``?format=xlsx`` for the Excel file. For
    those who oversee others' leads; anyone else gets a 404, as for a lead outside their
    scope, and so does a team or a rep outside it."""
    if not can_view_team_sla(request.user):
        raise Http404
    form = LeadReportFilterForm(request.GET)  # always bound: no parameters is this month
    context: dict = {"form": form, "periods": Period.choices, "custom": Period.CUSTOM}
    if not form.is_valid():
        context["period"] = request.GET.get("period", "")
        return render(request, "leads/sla.html", context, status=400)
    f = resolve_filters(request.user, form.cleaned_data)
    bounds = period_bounds(f.start, f.end)
    report = sla_figures.sla_report(user=request.user, period=bounds, team=f.team, owner=f.owner)
    if request.GET.get("format") == "xlsx":
        content = exports.sla_workbook(
            report, filters=exports.period_text(f.start, f.end, *f.narrowing())
        )
        name = exports.filename("lead-sla", f.start, f.end, *f.file_parts)
        return exports.xlsx_response(content, name)
    # The breached figure counts the very rows the list pages through: no COUNT(*) again.
    paginator = Paginator(
        IdsFirst(report.breached, count=report.total.breached), SLA_BREACHED_PER_PAGE
    )
    page = paginator.get_page(request.GET.get("page"))
    context.update(
        {
            "f": f,
            "period": f.period,
            "start": f.start,
            "end": f.end,
            "report": report,
            "page": page,
            "owner_bars": _sla_bars(report.by_owner),
            "team_query": f.query(team=None, owner=None),
            "owner_query": f.query(owner=None),
            "export_query": f.query(format="xlsx"),
            **filter_choices(request.user, f.team),
        }
    )
    return render(request, "leads/sla.html", context)


def _sla_bars(rows: list) -> list[dict]:
    """A stacked bar per owner: answered in time, late, and not answered, as % of the most
    leads due of a row."""
    top = max([r.figures.due for r in rows] + [1])

    def pct(n: int) -> str:
        return f"{n / top * 100:.1f}"

    bars = []
    for r in rows:
        x = r.figures
        unanswered = max(x.due - x.responded_in_time - x.responded_late, 0)
        bars.append({"row": r, "in_time": pct(x.responded_in_time),
                     "late": pct(x.responded_late), "unanswered": pct(unanswered)})  # fmt: skip
    return bars
