"""HTML pages of customers: the list, the customer 360 page, forms for customers and contacts.

Thin: reads go through `selectors` (data scope: out of sight is a 404), writes through
`services`, whose field errors are shown inline on the form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.core.errors import Conflict
from apps.core.pagination import paginate

from . import credit, development, pool, selectors, services
from .choices import ApplicationStatus
from .forms import (
    ContactForm,
    CreditInvestigationForm,
    CreditLimitRequestForm,
    CustomerFilterForm,
    CustomerForm,
    DevelopmentApplicationForm,
    ReasonForm,
)
from .models import Customer


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


def _filters(request: HttpRequest) -> tuple[CustomerFilterForm, selectors.CustomerFilters]:
    form = CustomerFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    pool = data.get("pool", "")
    return form, selectors.CustomerFilters(
        search=(data.get("q") or "").strip(),
        status=data.get("status", ""),
        tier=data.get("tier", ""),
        region=(data.get("region") or "").strip(),
        owner=data.get("owner"),
        in_pool={"yes": True, "no": False}.get(pool),
    )


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    """Customers in scope (and the pool), searchable and filterable, 50 a page; an htmx request
    gets the results only."""
    form, filters = _filters(request)
    page = paginate(
        selectors.customer_list(user=request.user, filters=filters), request.GET.get("page")
    )
    context = {
        "page": page,
        "form": form,
        "filters": filters,
        "results_id": "customer-results",
        "pool_url": reverse("customers:pool"),
    }
    template = (
        "customers/_customer_results.html" if _partial(request) else "customers/customer_list.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, field by field."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer 360 page (客户全景): profile, contacts, credit, approvals, history, and
    the places where visits, opportunities, contracts and receivables will appear."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    context = {
        "customer": customer,
        "contacts": list(selectors.contact_list(user=request.user, customer=customer)),
        "can_edit": services.can_edit_customer(request.user, customer),
        "can_claim": customer.owner_id is None and pool.can_claim(request.user),
        "can_release": pool.can_release(request.user, customer),
        "pool_due_at": pool.customer_pool_due_at(customer),
    }
    context.update(_detail_extras(request, customer))
    # The satisfaction panel (客户满意度): the customer's surveys in the viewer's scope.
    from apps.incentives.selectors_surveys import customer_satisfaction

    context["satisfaction"] = customer_satisfaction(user=request.user, customer=customer)
    return render(request, "customers/customer_detail.html", context)


def _detail_extras(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The applications of the customer (development, credit limit) for its approvals panel,
    and the credit buttons the user's role allows."""
    applications = list(
        selectors.development_application_list(user=request.user, customer=customer)[:10]
    )
    limit_requests = list(
        selectors.credit_limit_request_list(user=request.user, customer=customer)[:10]
    )
    return {
        "credit": credit.customer_credit(customer),
        "credit_actions": _credit_actions(request, customer),
        "development_applications": applications,
        "credit_limit_requests": limit_requests,
        "can_apply_development": customer.status == "prospect"
        and not any(a.status != ApplicationStatus.APPROVED for a in applications),
    }


def _credit_actions(request: HttpRequest, customer: Customer) -> dict[str, bool]:
    """Which credit buttons to show: finance holds and releases; the owner and the heads
    above investigate and request a limit (one open request at a time)."""
    user = request.user
    works_on = customer.owner_id is not None and credit.can_request_credit_limit(user, customer)
    has_open = (
        works_on and customer.credit_limit_requests.filter(status__in=credit.OPEN_STATUSES).exists()
    )
    finance = credit.can_manage_credit_hold(user)
    return {
        "investigate": works_on,
        "request_limit": works_on and not has_open,
        "hold": finance and not customer.on_credit_hold,
        "release": finance and customer.on_credit_hold,
    }


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Customer created."))
            return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form, "customer": None})


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not services.can_edit_customer(request.user, customer):
        raise PermissionDenied(_("You cannot change this customer."))
    form = CustomerForm(
        request.POST or None, instance=selectors.customer_get(user=request.user, pk=pk)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(customer=customer, by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Customer saved."))
            return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@login_required
@require_http_methods(["GET", "POST"])
def contact_form(request: HttpRequest, pk: int, contact_pk: int | None = None) -> HttpResponse:
    """Add a contact to a customer, or change one of its contacts."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not services.can_edit_customer(request.user, customer):
        raise PermissionDenied(_("You cannot change this customer."))
    contact = None
    if contact_pk is not None:
        contact = get_object_or_404(
            selectors.contact_list(user=request.user, customer=customer), pk=contact_pk
        )
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            if contact is None:
                services.contact_create(customer=customer, by=request.user, data=form.cleaned_data)
            else:
                services.contact_update(contact=contact, by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Contact saved."))
            return redirect(customer)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "contact": contact},
    )


# --- development applications (新客户开发申请) ------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def development_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a development application for a prospect: the credit survey and the plan."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = DevelopmentApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = development.development_application_create(
                customer=customer, by=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Draft saved. Submit it for approval when it is ready."))
            return redirect(application)
    return render(
        request,
        "customers/development_form.html",
        {"form": form, "customer": customer, "application": None},
    )


@login_required
def development_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A development application in scope (else 404) with its approval panel."""
    application = selectors.development_application_get(user=request.user, pk=pk)
    return render(
        request,
        "customers/development_detail.html",
        {
            "application": application,
            "customer": application.customer,
            "can_edit": application.owner_id == request.user.pk
            and application.status == ApplicationStatus.DRAFT,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def development_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Revise a draft application (refused while it is under approval: a 409 message)."""
    application = selectors.development_application_get(user=request.user, pk=pk)
    form = DevelopmentApplicationForm(request.POST or None, instance=application)
    if request.method == "POST" and form.is_valid():
        try:
            development.development_application_update(
                application=application, by=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Application saved."))
            return redirect(application)
    application = selectors.development_application_get(user=request.user, pk=pk)
    return render(
        request,
        "customers/development_form.html",
        {"form": form, "customer": application.customer, "application": application},
    )


# --- credit (信用) -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def credit_limit_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a credit limit request (a draft) for a customer."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = CreditLimitRequestForm(
        request.POST or None, initial={"payment_term_days": customer.payment_term_days}
    )
    if request.method == "POST" and form.is_valid():
        try:
            limit_request = credit.credit_limit_request_create(
                customer=customer, by=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Draft saved. Submit it for approval when it is ready."))
            return redirect(limit_request)
    return render(
        request,
        "customers/credit_limit_form.html",
        {"form": form, "customer": customer, "limit_request": None},
    )


@login_required
def credit_limit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A credit limit request in scope (else 404) with its approval panel."""
    limit_request = selectors.credit_limit_request_get(user=request.user, pk=pk)
    return render(
        request,
        "customers/credit_limit_detail.html",
        {
            "limit_request": limit_request,
            "customer": limit_request.customer,
            "can_edit": limit_request.owner_id == request.user.pk
            and limit_request.status == ApplicationStatus.DRAFT,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def credit_limit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Revise a draft request (refused while it is under approval: a 409 message)."""
    limit_request = selectors.credit_limit_request_get(user=request.user, pk=pk)
    form = CreditLimitRequestForm(request.POST or None, instance=limit_request)
    if request.method == "POST" and form.is_valid():
        try:
            credit.credit_limit_request_update(
                limit_request=limit_request, by=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except (Conflict, PermissionDenied) as exc:
            form.add_error(None, getattr(exc, "message", None) or str(exc))
        else:
            messages.success(request, _("Request saved."))
            return redirect(limit_request)
    limit_request = selectors.credit_limit_request_get(user=request.user, pk=pk)
    return render(
        request,
        "customers/credit_limit_form.html",
        {"form": form, "customer": limit_request.customer, "limit_request": limit_request},
    )


@login_required
@require_http_methods(["GET", "POST"])
def credit_investigation_form(request: HttpRequest, pk: int) -> HttpResponse:
    """Score a customer's credit (信用调查): save a draft, or complete it to rate the customer
    (the button named "complete")."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    draft = (
        selectors.credit_investigation_list(user=request.user, customer=customer)
        .filter(owner=request.user, status="draft")
        .first()
    )
    form = CreditInvestigationForm(request.POST or None, instance=draft)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                if draft is None:
                    draft = credit.credit_investigation_create(
                        customer=customer, by=request.user, data=form.cleaned_data
                    )
                else:
                    credit.credit_investigation_update(
                        investigation=draft, by=request.user, data=form.cleaned_data
                    )
                if "complete" in request.POST:
                    done = credit.credit_investigation_complete(
                        investigation=draft, by=request.user
                    )
        except ValidationError as exc:
            draft = None if draft is None or draft.pk is None else draft
            _apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            if "complete" in request.POST:
                messages.success(
                    request,
                    _("Credit rating %(rating)s (weighted score %(score)s).")
                    % {"rating": done.rating, "score": done.total_score},
                )
            else:
                messages.success(request, _("Investigation saved as a draft."))
            return redirect(customer.get_absolute_url() + "#credit")
    return render(
        request,
        "customers/credit_investigation_form.html",
        {"form": form, "customer": customer, "investigation": draft},
    )


def _credit_hold_action(request: HttpRequest, pk: int, *, release: bool) -> HttpResponse:
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    service = credit.credit_release if release else credit.credit_hold
    try:
        service(customer=customer, by=request.user, reason=form.cleaned_data.get("reason", ""))
    except ValidationError as exc:
        _apply_errors(form, exc)
    except Conflict as exc:
        form.add_error(None, exc.message)
    else:
        if not _partial(request):
            done = _("Credit hold released.") if release else _("Customer put on credit hold.")
            messages.success(request, done)
    if _partial(request):
        customer = selectors.customer_get(user=request.user, pk=pk)
        context = {
            "customer": customer,
            "credit": credit.customer_credit(customer),
            "credit_actions": _credit_actions(request, customer),
            "hold_form": form if form.errors else ReasonForm(),
            # The hold badge in the page header is outside the panel: swapped out of band.
            "hold_oob": True,
        }
        return render(request, "customers/_credit_panel.html", context)
    if form.errors:
        for error in form.errors.get("reason", []) + form.non_field_errors():
            messages.error(request, error)
    return redirect(customer.get_absolute_url() + "#credit")


@login_required
@require_http_methods(["POST"])
def credit_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Finance puts the customer on credit hold, with a reason (403 for anyone else)."""
    return _credit_hold_action(request, pk, release=False)


@login_required
@require_http_methods(["POST"])
def credit_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Finance lifts the credit hold, with a reason (403 for anyone else)."""
    return _credit_hold_action(request, pk, release=True)


# --- public pool (公海) ------------------------------------------------------------------------


@login_required
def customer_pool(request: HttpRequest) -> HttpResponse:
    """The public pool: customers without an owner, searchable, 50 a page, each with a claim
    button (htmx); an htmx request gets the results only."""
    search = (request.GET.get("q") or "").strip()[:100]
    page = paginate(
        selectors.customer_pool_list(user=request.user, search=search), request.GET.get("page")
    )
    context = {
        "page": page,
        "search": search,
        "results_id": "pool-results",
        "can_claim": pool.can_claim(request.user),
    }
    template = "customers/_pool_results.html" if _partial(request) else "customers/pool.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_http_methods(["POST"])
def customer_claim(request: HttpRequest, pk: int) -> HttpResponse:
    """Claim a pool customer. htmx: the pool row again, claimed or with the reason it was
    refused; else a redirect with a message."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    error = ""
    try:
        customer = pool.customer_claim(customer=customer, by=request.user)
    except Conflict as exc:
        error = exc.message
    if _partial(request):
        customer = selectors.customer_get(user=request.user, pk=pk)
        return render(
            request,
            "customers/_pool_row.html",
            {"customer": customer, "error": error, "can_claim": True, "claimed": not error},
        )
    if error:
        messages.error(request, error)
        return redirect("customers:pool")
    messages.success(request, _("Customer claimed: it is yours now."))
    return redirect(customer)


@login_required
@require_http_methods(["POST"])
def customer_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Release a customer to the pool with a reason (the owner or a head above)."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        pool.customer_release(
            customer=customer, by=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Customer released to the public pool."))
    return redirect(customer)
