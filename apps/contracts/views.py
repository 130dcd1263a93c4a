"""Contract pages: the list (search, filters, pages), the editor (lines like the quote
editor, payment terms with a live check that they add up), the contract page (customer credit,
lines, terms, installments, approval panel, amendments, history), sign / start / complete /
terminate, amendments and the printable contract.

Thin: reads through `selectors` (out of scope is a 404), writes through `services`, whose field
errors are shown on the form, the line or the term they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.selectors import seller_name
from apps.core.errors import Conflict
from apps.customers.credit import customer_credit
from apps.customers.models import Customer
from apps.customers.selectors import customer_editable_q
from apps.opportunities.forms_quotes import lines_from_post
from apps.opportunities.selectors import owner_choices
from apps.opportunities.views_quotes import (
    LineRow,
    _rows_from_post,
    amount_in_words,
    paginate,
)
from apps.receivables.choices import OPEN_STATUSES

from . import selectors, services
from .choices import ContractStatus, InstallmentKind
from .forms import (
    AmendmentForm,
    ContractFilterForm,
    ContractHeaderForm,
    SignForm,
    TerminateForm,
    terms_from_post,
)
from .models import Contract, ContractAmendment
from .permissions import can_work_contract

TERM_KEY = re.compile(r"^terms\[(\d+)\]\.(\w+)$")
LINE_KEY = re.compile(r"^lines\[(\d+)\]\.(\w+)$")

STATUS_BADGES = {
    ContractStatus.DRAFT: "bg-secondary-subtle text-secondary-emphasis",
    ContractStatus.PENDING: "bg-primary-subtle text-primary-emphasis",
    ContractStatus.APPROVED: "bg-info-subtle text-info-emphasis",
    ContractStatus.SIGNED: "bg-success-subtle text-success-emphasis",
    ContractStatus.EXECUTING: "bg-success-subtle text-success-emphasis",
    ContractStatus.COMPLETED: "text-bg-success",
    ContractStatus.TERMINATED: "text-bg-secondary",
}


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


# --- list -------------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> tuple[ContractFilterForm, selectors.ContractFilters, str]:
    form = ContractFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    month_text = (data.get("month") or "").strip()
    month = None
    if re.fullmatch(r"\d{4}-\d{2}", month_text):
        try:
            month = date.fromisoformat(f"{month_text}-01")
        except ValueError:
            month = None
    filters = selectors.ContractFilters(
        search=(data.get("q") or "").strip(),
        status=data.get("status") or "",
        owner=data.get("owner"),
        signed_month=month,
    )
    return form, filters, month_text if month else ""


@login_required
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    """Contracts in the user's scope: search by number, title or customer; filter by status,
    owner and signing month; 50 a page. An htmx request gets the results only."""
    _form, filters, month = _filters(request)
    page = paginate(selectors.contract_list(user=request.user, filters=filters),
                    request.GET.get("page"))  # fmt: skip
    context = {
        "page": page,
        "filters": filters,
        "month": month,
        "statuses": ContractStatus.choices,
        "owners": owner_choices(user=request.user),
        "status_badges": STATUS_BADGES,
        "results_id": "contract-results",
        "currency": settings.CURRENCY,
    }
    template = "contracts/_results.html" if _partial(request) else "contracts/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- editor -----------------------------------------------------------------------------------


@dataclass
class TermRow:
    kind: str = InstallmentKind.PREPAYMENT
    due_date: str = ""
    amount: str = ""
    percentage: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def error_messages(self) -> list[str]:
        return [m for ms in self.errors.values() for m in ms]


def _term_rows(raw: list[dict[str, Any]], exc: ValidationError | None) -> list[TermRow]:
    rows = [TermRow(**{k: str(r.get(k) or "") for k in ("kind", "due_date", "amount",
                                                         "percentage")}) for r in raw]  # fmt: skip
    if exc is not None and hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            match = TERM_KEY.match(key)
            if match and int(match.group(1)) < len(rows):
                rows[int(match.group(1))].errors[match.group(2)] = [
                    m for e in errors for m in e.messages
                ]
    return rows


def _terms_of(contract: Contract) -> list[TermRow]:
    return [
        TermRow(kind=t.kind, due_date=t.due_date.isoformat(),
                amount="" if t.percentage is not None else str(t.amount),
                percentage="" if t.percentage is None else str(t.percentage))
        for t in contract.terms.all()
    ]  # fmt: skip


def _lines_of(contract: Contract) -> list[LineRow]:
    return [
        LineRow(product=str(line.product_id or ""),
                product_label=f"{line.product.code} {line.product.name}" if line.product else "",
                unit=line.product.unit if line.product else "",
                list_price=str(line.product.list_price) if line.product else "",
                quantity=str(line.quantity), unit_price=str(line.unit_price),
                discount_pct=str(line.discount_pct), description=line.description)
        for line in contract.lines.all()
    ]  # fmt: skip


def _other_errors(exc: ValidationError) -> list[str]:
    """The errors that are not on one line or one term (e.g. terms not adding up)."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    out: list[str] = []
    for key, errors in exc.error_dict.items():
        if LINE_KEY.match(key) or TERM_KEY.match(key):
            continue
        out += [m for e in errors for m in e.messages]
    return out


def _editor(request: HttpRequest, template: str = "contracts/form.html", status: int = 200,
            **context: Any) -> HttpResponse:  # fmt: skip
    rows = context.get("rows") or [LineRow()]
    terms = context.get("terms") or [TermRow()]
    context.update(
        rows=rows,
        terms=terms,
        line_errors=any(r.errors for r in rows) or any(t.errors for t in terms),
        kinds=InstallmentKind.choices,
        currency=settings.CURRENCY,
    )
    return render(request, template, context, status=status)


def _header_form(request: HttpRequest, exc: ValidationError | None = None) -> ContractHeaderForm:
    form = ContractHeaderForm(request.POST)
    form.is_valid()
    if exc is not None and hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            if key in form.fields:
                form.add_error(key, errors)
    return form


def _header_data(form: ContractHeaderForm) -> dict[str, Any]:
    return {name: form.data.get(name, "") for name in form.fields}


@login_required
@require_GET
def customer_search(request: HttpRequest) -> HttpResponse:
    """Customers the user may make a contract for, matching `q` (at most 10): the picker of
    the new-contract page."""
    term = request.GET.get("q", "").strip()[:100]
    customers = []
    if term:
        customers = list(
            Customer.objects.filter(customer_editable_q(request.user), owner__isnull=False,
                                    name__ilike_contains=term)
            .only("id", "name", "region").order_by("name")[:10]
        )  # fmt: skip
    return render(request, "contracts/_customer_options.html",
                  {"customers": customers, "term": term})  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request: HttpRequest) -> HttpResponse:
    """Draft a contract for a customer (?customer=) or an opportunity (?opportunity=); with
    neither, the page first asks for the customer (search as you type)."""
    customer = opportunity = None
    if request.GET.get("opportunity", "").isdigit():
        from apps.opportunities.selectors import opportunity_get

        opportunity = opportunity_get(user=request.user, pk=int(request.GET["opportunity"]))
        customer = opportunity.customer
    elif request.GET.get("customer", "").isdigit():
        from apps.customers.selectors import customer_get

        customer = customer_get(user=request.user, pk=int(request.GET["customer"]))
    if customer is None:
        return render(request, "contracts/pick_customer.html", {})
    base = {"customer": customer, "opportunity": opportunity, "contract": None}
    if request.method == "POST":
        raw_lines, raw_terms = lines_from_post(request.POST), terms_from_post(request.POST)
        form = _header_form(request)
        try:
            contract = services.contract_create(
                by=request.user, customer=None if opportunity else customer,
                opportunity=opportunity, data=_header_data(form), lines=raw_lines,
                terms=raw_terms,
            )  # fmt: skip
        except ValidationError as exc:
            return _editor(request, status=400, form=_header_form(request, exc),
                           rows=_rows_from_post(raw_lines, exc), terms=_term_rows(raw_terms, exc),
                           other_errors=_other_errors(exc), **base)  # fmt: skip
        except (Conflict, PermissionDenied) as exc:
            return _editor(request, status=409 if isinstance(exc, Conflict) else 403, form=form,
                           rows=_rows_from_post(raw_lines, None),
                           terms=_term_rows(raw_terms, None), other_errors=[str(exc)],
                           **base)  # fmt: skip
        messages.success(request, _("The contract %(number)s was saved as a draft.")
                         % {"number": contract.number})  # fmt: skip
        return redirect("contracts:detail", pk=contract.pk)
    rows: list[LineRow] = []
    if opportunity is not None:
        rows = _rows_from_post(services._quote_lines(opportunity), None)
    initial = {"title": opportunity.name if opportunity else "", "grace_days": 0,
               "penalty_rate_per_day": "0.0500"}  # fmt: skip
    form = ContractHeaderForm(initial=initial)
    return _editor(request, form=form, rows=rows, terms=[], **base)


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft contract: header, lines and payment terms (each replaced as a set)."""
    contract = selectors.contract_get(user=request.user, pk=pk)
    if not can_work_contract(request.user, contract):
        raise PermissionDenied(_("You cannot work on this contract."))
    if "update" not in services.contract_actions(request.user, contract):
        messages.error(request, _("Only a draft contract can be changed."))
        return redirect("contracts:detail", pk=contract.pk)
    base = {"customer": contract.customer, "opportunity": contract.opportunity,
            "contract": contract}  # fmt: skip
    if request.method == "POST":
        raw_lines, raw_terms = lines_from_post(request.POST), terms_from_post(request.POST)
        form = _header_form(request)
        try:
            services.contract_update(contract=contract, by=request.user, data=_header_data(form),
                                     lines=raw_lines, terms=raw_terms)  # fmt: skip
        except ValidationError as exc:
            return _editor(request, status=400, form=_header_form(request, exc),
                           rows=_rows_from_post(raw_lines, exc), terms=_term_rows(raw_terms, exc),
                           other_errors=_other_errors(exc), **base)  # fmt: skip
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("contracts:detail", pk=contract.pk)
        messages.success(request, _("The contract was saved."))
        return redirect("contracts:detail", pk=contract.pk)
    form = ContractHeaderForm(initial={name: getattr(contract, name)
                                       for name in ContractHeaderForm.base_fields})  # fmt: skip
    return _editor(request, form=form, rows=_lines_of(contract), terms=_terms_of(contract), **base)


# --- contract page and transitions -------------------------------------------------------------


@login_required
@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The contract page: status and actions, customer and credit, lines, payment terms,
    installments (paid / open), the approval panel, amendments and history."""
    contract = selectors.contract_get(user=request.user, pk=pk)
    installments = list(contract.installments.all())
    actions = services.contract_actions(request.user, contract)
    return render(
        request,
        "contracts/detail.html",
        {
            "contract": contract,
            "customer": contract.customer,
            "credit": customer_credit(contract.customer),
            "lines": list(contract.lines.all()),
            "terms": list(contract.terms.all()),
            "installments": installments,
            "installments_paid": sum((i.paid_amount for i in installments), start=0),
            "installments_open": sum(
                (i.open_amount for i in installments if i.status in OPEN_STATUSES),
                start=0,
            ),
            "amendments": list(contract.amendments.all()),
            "actions": actions,
            "sign_form": SignForm(initial={"signed_on": timezone.localdate()}),
            "status_class": STATUS_BADGES.get(contract.status, ""),
            "currency": settings.CURRENCY,
        },
    )


def _transition(request: HttpRequest, pk: int, call, done: str) -> HttpResponse:
    contract = selectors.contract_get(user=request.user, pk=pk)
    try:
        call(contract)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("contracts:detail", pk=contract.pk)


@login_required
@require_POST
def contract_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request, pk,
        lambda c: services.contract_submit(contract=c, by=request.user,
                                           comment=request.POST.get("comment", "")),
        _("The contract was submitted for approval."),
    )  # fmt: skip


@login_required
@require_POST
def contract_sign(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request, pk,
        lambda c: services.contract_sign(contract=c, by=request.user,
                                         signed_on=request.POST.get("signed_on") or None),
        _("The contract was signed: its installments are scheduled."),
    )  # fmt: skip


@login_required
@require_POST
def contract_start_execution(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request, pk, lambda c: services.contract_start_execution(contract=c, by=request.user),
        _("The contract is being executed."),
    )  # fmt: skip


@login_required
@require_POST
def contract_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(
        request, pk, lambda c: services.contract_complete(contract=c, by=request.user),
        _("The contract is completed."),
    )  # fmt: skip


@login_required
@require_POST
def contract_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    form = TerminateForm(request.POST)
    reason = request.POST.get("reason", "") if not form.is_valid() else form.cleaned_data["reason"]
    return _transition(
        request, pk,
        lambda c: services.contract_terminate(contract=c, by=request.user, reason=reason),
        _("The contract was terminated."),
    )  # fmt: skip


@login_required
@require_GET
def contract_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable contract (A4): parties, lines, payment terms, penalty interest."""
    contract = selectors.contract_get(user=request.user, pk=pk)
    return render(
        request,
        "contracts/print.html",
        {
            "contract": contract,
            "customer": contract.customer,
            "lines": list(contract.lines.all()),
            "terms": list(contract.terms.all()),
            "is_final": contract.status not in (ContractStatus.DRAFT, ContractStatus.PENDING),
            "company_name": seller_name(),
            "currency": settings.CURRENCY,
            "amount_in_words": amount_in_words(contract.amount),
            "printed_on": timezone.localdate(),
        },
    )


# --- amendments -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def amendment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Draft an amendment (补充协议): the new lines and terms, and the reason."""
    contract = selectors.contract_get(user=request.user, pk=pk)
    if not can_work_contract(request.user, contract):
        raise PermissionDenied(_("You cannot work on this contract."))
    base = {"customer": contract.customer, "contract": contract, "amending": True}
    if request.method == "POST":
        raw_lines, raw_terms = lines_from_post(request.POST), terms_from_post(request.POST)
        form = AmendmentForm(request.POST)
        try:
            amendment = services.amendment_create(
                contract=contract, by=request.user, reason=request.POST.get("reason", ""),
                lines=raw_lines, terms=raw_terms,
            )  # fmt: skip
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "reason" in exc.error_dict:
                form.is_valid()
            return _editor(request, "contracts/amendment_form.html", status=400, form=form,
                           rows=_rows_from_post(raw_lines, exc), terms=_term_rows(raw_terms, exc),
                           other_errors=_other_errors(exc), **base)  # fmt: skip
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("contracts:detail", pk=contract.pk)
        messages.success(request, _("The amendment was saved as a draft: submit it for approval."))
        return redirect("contracts:amendment_detail", pk=amendment.pk)
    return _editor(request, "contracts/amendment_form.html", form=AmendmentForm(),
                   rows=_lines_of(contract), terms=_terms_of(contract), **base)  # fmt: skip


@login_required
@require_GET
def amendment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An amendment: proposed (and, once approved, replaced) lines and terms, approval."""
    amendment: ContractAmendment = selectors.amendment_get(user=request.user, pk=pk)
    can_submit = amendment.status == "draft" and amendment.owner_id == request.user.pk
    return render(request, "contracts/amendment_detail.html",
                  {"amendment": amendment, "contract": amendment.contract,
                   "can_submit": can_submit, "kinds": dict(InstallmentKind.choices),
                   "currency": settings.CURRENCY})  # fmt: skip


@login_required
@require_POST
def amendment_submit(request: HttpRequest, pk: int) -> HttpResponse:
    amendment = selectors.amendment_get(user=request.user, pk=pk)
    try:
        services.amendment_submit(amendment=amendment, by=request.user)
    except (Conflict, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("The amendment was submitted for approval."))
    return redirect("contracts:amendment_detail", pk=amendment.pk)
