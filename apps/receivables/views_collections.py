"""Collection pages (催收): the record form (phone-friendly: a rep logs a call on the spot),
the list of records (per customer / installment, searchable, paginated) and "my collection
tasks" with a button to mark one done. Thin: `collections` reads and writes; an object outside
the caller's scope is a 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import Conflict

from . import collections, selectors
from .choices import OPEN_STATUSES, CollectionMethod, CollectionTaskStatus, PromiseStatus
from .views import _errors_to_form, _page_number, _partial

PER_PAGE = 30


def _int(value: str | None) -> int | None:
    return int(value) if value and str(value).isdigit() else None


class CollectionRecordForm(forms.Form):
    """The record form; the customer is chosen above it (search-as-you-type), the contact and
    the installment among that customer's own (a handful)."""

    method = forms.ChoiceField(label=gettext_lazy("How"), choices=CollectionMethod.choices)
    contact = forms.TypedChoiceField(
        label=gettext_lazy("Contact"), required=False, coerce=int, empty_value=None
    )
    installment = forms.TypedChoiceField(
        label=gettext_lazy("Installment"), required=False, coerce=int, empty_value=None
    )
    notes = forms.CharField(
        label=gettext_lazy("What was said"), widget=forms.Textarea(attrs={"rows": 4})
    )
    promised_on = forms.DateField(
        label=gettext_lazy("Promised payment date"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    promised_amount = forms.DecimalField(
        label=gettext_lazy("Promised amount"), required=False, max_digits=14, decimal_places=2,
        min_value=0, widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip

    def __init__(self, *args, customer=None, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contacts = {}
        self.installments = {}
        if customer is not None:
            self.contacts = {c.pk: c for c in customer.contacts.order_by("name")[:50]}
            self.installments = {
                i.pk: i
                for i in selectors.installment_list(user=user, customer=customer.pk).filter(
                    status__in=OPEN_STATUSES
                )[:50]
            }
        self.fields["contact"].choices = [("", "—")] + [
            (pk, c.name) for pk, c in self.contacts.items()
        ]
        self.fields["installment"].choices = [("", "—")] + [
            (pk, f"{i.contract.number} / {i.sequence} · {i.due_date:%Y-%m-%d} · {i.open_value}")
            for pk, i in self.installments.items()
        ]


@login_required
@require_http_methods(["GET", "POST"])
def collection_create(request: HttpRequest) -> HttpResponse:
    """Log a collection contact: ``?customer=`` (and ``&installment=``) preselect them."""
    user = request.user
    customer_id = _int(request.POST.get("customer") or request.GET.get("customer"))
    customer = (
        collections.collection_customer_get(user=user, pk=customer_id) if customer_id else None
    )
    if customer is not None and not collections.can_record_collection(user, customer):
        raise PermissionDenied(_("You cannot record collection for this customer."))
    initial = {"installment": _int(request.GET.get("installment"))}
    form = CollectionRecordForm(request.POST or None, initial=initial, customer=customer, user=user)
    status = 200
    if request.method == "POST":
        if customer is None:
            form.add_error(None, _("Choose the customer you contacted."))
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                collections.collection_record_create(
                    by=user,
                    customer=customer,
                    method=data["method"],
                    notes=data["notes"],
                    contact=form.contacts.get(data["contact"]),
                    installment=form.installments.get(data["installment"]),
                    promised_on=data["promised_on"],
                    promised_amount=data["promised_amount"],
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("Collection record saved."))
                return redirect(reverse("receivables:collection_list") + f"?customer={customer.pk}")
        status = 400
    context = {"form": form, "customer": customer}
    return render(request, "receivables/collection_form.html", context, status=status)


@login_required
def collection_customer_search(request: HttpRequest) -> HttpResponse:
    """The customer picker of the record form: up to 10 customers with receivables by name."""
    term = request.GET.get("q", "").strip()[:100]
    customers = collections.collection_customer_search(user=request.user, q=term)
    return render(
        request,
        "receivables/collection_customer_options.html",
        {"customers": customers, "term": term},
    )


@login_required
def collection_list(request: HttpRequest) -> HttpResponse:
    """Collection records in scope, newest first; ``?customer=``, ``?installment=``,
    ``?promise=`` and ``?q=`` (customer name or notes) narrow it."""
    customer_id = _int(request.GET.get("customer"))
    customer = (
        collections.collection_customer_get(user=request.user, pk=customer_id)
        if customer_id
        else None
    )
    promise = request.GET.get("promise", "")
    promise = promise if promise in PromiseStatus.values else ""
    term = request.GET.get("q", "").strip()[:100]
    qs = collections.collection_record_list(
        user=request.user,
        customer=customer_id,
        installment=_int(request.GET.get("installment")),
        promise=promise,
        search=term,
    )
    number = _page_number(request)
    rows, has_next = selectors.page_of(qs, number=number, per_page=PER_PAGE)
    context = {
        "records": rows,
        "customer": customer,
        "promise": promise,
        "term": term,
        "promise_choices": [(v, label) for v, label in PromiseStatus.choices if v],
        "page_number": number,
        "has_next": has_next,
        "query": request.GET.copy(),
    }
    if "page" in context["query"]:
        del context["query"]["page"]
    template = (
        "receivables/collection_list_results.html"
        if _partial(request)
        else "receivables/collection_list.html"
    )
    return render(request, template, context)


@login_required
def collection_task_list(request: HttpRequest) -> HttpResponse:
    """My collection tasks (open first, by due date); a head can switch to the team's."""
    mine = request.GET.get("scope", "mine") != "team"
    status = request.GET.get("status", CollectionTaskStatus.OPEN)
    status = status if status in (*CollectionTaskStatus.values, "all") else "open"
    qs = collections.collection_task_list(
        user=request.user, mine=mine, status="" if status == "all" else status
    )
    number = _page_number(request)
    rows, has_next = selectors.page_of(qs, number=number, per_page=PER_PAGE)
    context = {
        "tasks": rows,
        "mine": mine,
        "status": status,
        "counts": collections.collection_task_counts(user=request.user),
        "page_number": number,
        "has_next": has_next,
        "today": selectors.today(),
    }
    return render(request, "receivables/collection_task_list.html", context)


@login_required
@require_POST
def collection_task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = collections.collection_task_get(user=request.user, pk=pk)
    try:
        collections.collection_task_done(task=task, by=request.user)
    except Conflict as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, _("Collection task done."))
    return redirect(request.POST.get("next") or reverse("receivables:collection_task_list"))
