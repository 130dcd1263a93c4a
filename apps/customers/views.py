"""HTML pages of customers: the list, the customer 360 page, forms for customers and contacts.

Thin: reads go through `selectors` (data scope: out of sight is a 404), writes through
`services`, whose field errors are shown inline on the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.core.errors import Conflict

from . import credit, development, selectors, services
from .choices import ApplicationStatus
from .forms import ContactForm, CustomerFilterForm, CustomerForm, DevelopmentApplicationForm
from .models import Customer

PER_PAGE = 50


@dataclass
class Page:
    """A page of a list without an exact COUNT(*) of the table (DESIGN.md "Scale"): one row
    more than shown is read to know whether a next page exists."""

    number: int
    object_list: list[Any] = field(default_factory=list)
    has_next: bool = False

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * PER_PAGE + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * PER_PAGE + len(self.object_list)


def paginate(queryset: QuerySet, raw_page: str | None) -> Page:
    number = int(raw_page) if raw_page and raw_page.isdigit() and int(raw_page) > 0 else 1
    start = (number - 1) * PER_PAGE
    rows = list(queryset[start : start + PER_PAGE + 1])
    return Page(number=number, object_list=rows[:PER_PAGE], has_next=len(rows) > PER_PAGE)


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
    context = {"page": page, "form": form, "filters": filters, "results_id": "customer-results"}
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
    }
    context.update(_detail_extras(request, customer))
    return render(request, "customers/customer_detail.html", context)


def _detail_extras(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The applications of the customer (development, credit limit) for its approvals panel."""
    applications = list(
        selectors.development_application_list(user=request.user, customer=customer)[:10]
    )
    return {
        "credit": credit.customer_credit(customer),
        "development_applications": applications,
        "can_apply_development": customer.status == "prospect"
        and not any(a.status != ApplicationStatus.APPROVED for a in applications),
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
