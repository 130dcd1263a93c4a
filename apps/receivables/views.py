"""Receivables pages: the finance workbench (财务工作台), payments (list, record, detail with the
allocation form, reversal), installments (list, detail with a write-off form), the rep's
"my overdue" list and the write-off detail with its approval panel. Thin: selectors read,
services write; an object outside the caller's scope is a 404."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import Conflict
from apps.customers.selectors import customer_list

from . import selectors, services
from .choices import OPEN_STATUSES, InstallmentStatus, PaymentStatus, WriteOffStatus
from .forms import (
    InstallmentFilterForm,
    PaymentFilterForm,
    PaymentForm,
    ReasonForm,
    WriteOffForm,
)
from .permissions import (
    can_allocate,
    can_record_payment,
    can_reverse_payment,
    can_view_workbench,
    can_write_off,
)

PER_PAGE = 50


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _errors_to_form(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


# --- workbench and my overdue ------------------------------------------------------------


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    """Finance's morning page: due this week, overdue by aging bucket, unallocated payments."""
    if not can_view_workbench(request.user):
        raise Http404
    context = {
        "bench": selectors.workbench(user=request.user),
        "can_record": can_record_payment(request.user),
    }
    return render(request, "receivables/workbench.html", context)


@login_required
def my_overdue(request: HttpRequest) -> HttpResponse:
    """The rep's overdue list: own (or the team's) installments past due, oldest first."""
    qs = selectors.my_overdue(user=request.user)
    number = _page_number(request)
    rows, has_next = selectors.page_of(qs, number=number, per_page=PER_PAGE)
    context = {"installments": rows, "page_number": number, "has_next": has_next}
    return render(request, "receivables/my_overdue.html", context)


# --- payments ----------------------------------------------------------------------------


@login_required
def payment_list(request: HttpRequest) -> HttpResponse:
    """Payments in scope, newest received first, searchable and filterable, 50 a page."""
    form = PaymentFilterForm(request.GET or None)
    f = form.cleaned_data if form.is_valid() else {}
    qs = selectors.payment_list(
        user=request.user,
        search=f.get("q") or "",
        status=f.get("status") or "",
        unallocated=bool(f.get("unallocated")),
        date_from=f.get("date_from"),
        date_to=f.get("date_to"),
    )
    number = _page_number(request)
    rows, has_next = selectors.page_of(qs, number=number, per_page=PER_PAGE)
    context = {
        "payments": rows,
        "form": form,
        "filters": {k: ("" if v is None else v) for k, v in f.items()},
        "statuses": PaymentStatus.choices,
        "page_number": number,
        "has_next": has_next,
        "can_record": can_record_payment(request.user),
    }
    template = (
        "receivables/_payment_results.html"
        if _partial(request)
        else "receivables/payment_list.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def payment_customer_search(request: HttpRequest) -> HttpResponse:
    """The customer picker of the payment form: up to 20 customers by name."""
    if not can_record_payment(request.user):
        raise PermissionDenied
    term = request.GET.get("q", "").strip()[:100]
    customers = (
        list(customer_list(user=request.user).filter(name__ilike_contains=term)[:20])
        if term
        else []
    )
    return render(
        request, "receivables/_customer_options.html", {"customers": customers, "term": term}
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_create(request: HttpRequest) -> HttpResponse:
    """Record a payment; the same bank reference again opens the existing payment."""
    if not can_record_payment(request.user):
        raise PermissionDenied(_("Only finance can record payments."))
    customer = None
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    if customer_id and str(customer_id).isdigit():
        customer = customer_list(user=request.user).filter(pk=int(customer_id)).first()
    initial = {"customer": customer.pk if customer else None,
               "received_on": selectors.today()}  # fmt: skip
    form = PaymentForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid() and customer is None:
            form.add_error(None, _("Choose the customer who paid."))
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("customer")
            try:
                result = services.payment_record(by=request.user, customer=customer, **data)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            except services.PaymentReferenceConflict as exc:
                form.add_error(exc.field, str(exc))
            else:
                if result.created:
                    messages.success(request, _("Payment recorded. Allocate it below."))
                else:
                    messages.info(request, _("This payment was already recorded: here it is."))
                return redirect(result.payment)
        status = 400
    context = {"form": form, "customer": customer}
    return render(request, "receivables/payment_form.html", context, status=status)


def _payment_context(request: HttpRequest, payment, **extra) -> dict:
    user = request.user
    allocatable = (
        payment.status == PaymentStatus.RECORDED
        and payment.allocated_amount < payment.amount
        and can_allocate(user)
    )
    context = {
        "payment": payment,
        "allocations": list(payment.allocations.all()),
        "can_allocate": allocatable,
        "can_reverse": payment.status == PaymentStatus.RECORDED and can_reverse_payment(user),
        "can_take_back": payment.status == PaymentStatus.RECORDED and can_allocate(user),
        "preview": selectors.allocation_preview(payment=payment) if allocatable else [],
        "open_installments": list(selectors.open_installments_of(customer_id=payment.customer_id))
        if allocatable
        else [],
        "credit_balance": selectors.customer_credit_balance(payment.customer_id),
        "reason_form": ReasonForm(),
        "line_errors": {},
        "allocate_error": "",
    }
    context.update(extra)
    typed, line_errors = context.get("typed", {}), context["line_errors"]
    context["line_rows"] = [
        {"installment": i, "typed": typed.get(str(i.pk), ""), "error": line_errors.get(i.pk, "")}
        for i in context["open_installments"]
    ]
    return context


@login_required
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payment = selectors.payment_get(user=request.user, pk=pk)
    return render(request, "receivables/payment_detail.html", _payment_context(request, payment))


@login_required
@require_POST
def payment_allocate(request: HttpRequest, pk: int) -> HttpResponse:
    """Allocate: oldest due first (mode "fifo"), or the amounts typed per installment."""
    payment = selectors.payment_get(user=request.user, pk=pk)
    lines = None
    if request.POST.get("mode") == "lines":
        installments = {
            i.pk: i for i in selectors.open_installments_of(customer_id=payment.customer_id)
        }
        lines = []
        for key, value in request.POST.items():
            if not key.startswith("amount-") or not value.strip():
                continue
            installment = installments.get(int(key[7:])) if key[7:].isdigit() else None
            if installment is not None:
                lines.append((installment, value.strip()))
        if not lines:
            messages.error(request, _("Type an amount for at least one installment."))
            return redirect(payment)
    try:
        allocations = services.payment_allocate(payment=payment, by=request.user, lines=lines)
    except ValidationError as exc:
        # Put each line's error next to its installment.
        line_errors: dict[int, str] = {}
        other: list[str] = []
        for key, errors in exc.message_dict.items():
            parts = key.split(".")
            if lines and len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
                line_errors[lines[int(parts[1])][0].pk] = " ".join(errors)
            else:
                other += errors
        payment = selectors.payment_get(user=request.user, pk=pk)
        context = _payment_context(
            request, payment, line_errors=line_errors, allocate_error=" ".join(other),
            typed={k[7:]: v for k, v in request.POST.items() if k.startswith("amount-")},
        )  # fmt: skip
        return render(request, "receivables/payment_detail.html", context, status=400)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        total = sum((a.amount for a in allocations), Decimal("0"))
        messages.success(
            request,
            _("Allocated %(amount)s to %(count)d installment(s).")
            % {"amount": f"{total:,.2f}", "count": len(allocations)},
        )
    return redirect(payment)


@login_required
@require_POST
def payment_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    payment = selectors.payment_get(user=request.user, pk=pk)
    try:
        services.payment_reverse(
            payment=payment, by=request.user, reason=request.POST.get("reason", "")
        )
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The payment was reversed; its allocations were taken back."))
    return redirect(payment)


@login_required
@require_POST
def allocation_reverse(request: HttpRequest, pk: int, allocation_pk: int) -> HttpResponse:
    payment = selectors.payment_get(user=request.user, pk=pk)
    allocation = get_object_or_404(payment.allocations, pk=allocation_pk)
    try:
        services.allocation_reverse(
            allocation=allocation, by=request.user, reason=request.POST.get("reason", "")
        )
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The allocation was taken back."))
    return redirect(payment)


# --- installments ------------------------------------------------------------------------


@login_required
def installment_list(request: HttpRequest) -> HttpResponse:
    form = InstallmentFilterForm(request.GET or None)
    f = form.cleaned_data if form.is_valid() else {}
    status = f.get("status") or ""
    qs = selectors.installment_list(
        user=request.user,
        search=f.get("q") or "",
        status=status if status in InstallmentStatus.values else "",
        overdue=True if f.get("overdue") else None,
        due_from=f.get("due_from"),
        due_to=f.get("due_to"),
        bucket=f.get("bucket"),
    )
    number = _page_number(request)
    rows, has_next = selectors.page_of(qs, number=number, per_page=PER_PAGE)
    context = {
        "installments": rows,
        "form": form,
        "filters": {k: ("" if v is None else v) for k, v in f.items()},
        "statuses": InstallmentStatus.choices,
        "page_number": number,
        "has_next": has_next,
    }
    template = (
        "receivables/_installment_results.html"
        if _partial(request)
        else "receivables/installment_list.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _installment_context(request: HttpRequest, installment, **extra) -> dict:
    write_offs = list(installment.write_offs.all())
    open_writeoff = any(
        w.status in (WriteOffStatus.DRAFT, WriteOffStatus.PENDING) for w in write_offs
    )
    context = {
        "installment": installment,
        "contract_url": installment.contract.get_absolute_url(),
        "allocations": list(installment.allocations.all()),
        "write_offs": write_offs,
        "accruals": list(installment.penalty_accruals.all()),
        "collection_records": list(installment.collection_records.all()),
        "can_write_off": can_write_off(request.user)
        and installment.status in OPEN_STATUSES
        and not open_writeoff,
        "writeoff_form": WriteOffForm(initial={"amount": installment.open_amount}),
    }
    context.update(extra)
    return context


@login_required
def installment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    installment = selectors.installment_get(user=request.user, pk=pk)
    return render(
        request, "receivables/installment_detail.html", _installment_context(request, installment)
    )


@login_required
@require_POST
def writeoff_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a write-off of the installment (a draft), then submit it from its page."""
    installment = selectors.installment_get(user=request.user, pk=pk)
    form = WriteOffForm(request.POST)
    if form.is_valid():
        try:
            writeoff = services.writeoff_create(
                installment=installment, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        except (Conflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect(installment)
        else:
            messages.success(request, _("Write-off drafted: submit it for approval."))
            return redirect(writeoff)
    context = _installment_context(request, installment, writeoff_form=form)
    return render(request, "receivables/installment_detail.html", context, status=400)


@login_required
def writeoff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    writeoff = selectors.writeoff_get(user=request.user, pk=pk)
    return render(request, "receivables/writeoff_detail.html", {"writeoff": writeoff})
