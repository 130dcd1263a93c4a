"""Pages of the product catalogue and of quotes: the catalogue list and its forms, the product
search the quote editor calls as you type, the quote editor, the quote page (status, versions,
lines, totals, the approval panel) and the printable quote.

Thin: reads through `products` / `quotes` selectors (out of scope is a 404), writes through
their services, whose field errors are shown on the form or on the quote line they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.selectors import seller_name
from apps.core.errors import Conflict
from apps.core.pagination import paginate

from . import products as catalogue
from . import quotes
from .choices import QuoteStatus
from .forms_quotes import ProductFilterForm, ProductForm, QuoteHeaderForm, lines_from_post
from .models import Product, Quote

LINE_KEY = re.compile(r"^lines\[(\d+)\]\.(\w+)$")


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- products ---------------------------------------------------------------------------------


def _product_filters(request: HttpRequest) -> tuple[ProductFilterForm, catalogue.ProductFilters]:
    form = ProductFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    active = {"yes": True, "no": False, "all": None}.get(data.get("active") or "yes", True)
    return form, catalogue.ProductFilters(
        search=(data.get("q") or "").strip(),
        product_line=(data.get("product_line") or "").strip(),
        active=active,
    )


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue (产品目录 / 价目表): search by name or code, filter by product line (and,
    for product managers, by active), 50 a page; an htmx request gets the results only."""
    form, filters = _product_filters(request)
    page = paginate(
        catalogue.product_list(user=request.user, filters=filters), request.GET.get("page")
    )
    can_manage = catalogue.can_manage_products(request.user)
    context = {
        "page": page,
        "form": form,
        "filters": filters,
        "active_choice": form.data.get("active", "yes") if form.is_bound else "yes",
        "product_lines": catalogue.product_lines(),
        "can_manage": can_manage,
        "results_id": "product-results",
        "currency": settings.CURRENCY,
    }
    template = (
        "opportunities/product_results.html"
        if _partial(request)
        else "opportunities/product_list.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _product_form_page(request: HttpRequest, product: Product | None) -> HttpResponse:
    if not catalogue.can_manage_products(request.user):
        raise PermissionDenied(_("Only product managers can change the catalogue."))
    if request.method == "POST":
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                if product is None:
                    product = catalogue.product_create(by=request.user, data=form.cleaned_data)
                    messages.success(request, _("The product was added."))
                else:
                    product = catalogue.product_update(
                        product=product, by=request.user, data=form.cleaned_data
                    )
                    messages.success(request, _("The product was saved."))
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect(f"{reverse('opportunities:product_list')}?q={product.code}")
    elif product is None:
        form = ProductForm(initial={"is_active": True, "unit": "件"})
    else:
        form = ProductForm(
            initial={name: getattr(product, name) for name in catalogue.PRODUCT_FIELDS}
        )
    return render(
        request,
        "opportunities/product_form.html",
        {"form": form, "product": product, "product_lines": catalogue.product_lines()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    return _product_form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _product_form_page(request, catalogue.product_get(user=request.user, pk=pk))


def _product_json(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "code": product.code,
        "name": product.name,
        "unit": product.unit,
        "list_price": str(product.list_price),
        "label": f"{product.code} {product.name}",
    }


@login_required
@require_GET
def product_search(request: HttpRequest) -> JsonResponse:
    """Active products matching `q` (name or code), at most 10: the quote editor's picker."""
    found = catalogue.product_search(user=request.user, term=request.GET.get("q", "")[:100])
    return JsonResponse({"results": [_product_json(p) for p in found]})


# --- quotes -----------------------------------------------------------------------------------


@dataclass
class LineRow:
    """One row of the quote editor as shown: what was entered, the product's label, and the
    errors the service named for this line."""

    product: str = ""
    product_label: str = ""
    unit: str = ""
    list_price: str = ""
    quantity: str = ""
    unit_price: str = ""
    discount_pct: str = ""
    description: str = ""
    amount: Decimal | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def error_messages(self) -> list[str]:
        return [message for messages_ in self.errors.values() for message in messages_]


def _rows_from_quote(quote: Quote) -> list[LineRow]:
    return [
        LineRow(
            product=str(line.product_id),
            product_label=f"{line.product.code} {line.product.name}",
            unit=line.product.unit,
            list_price=str(line.product.list_price),
            quantity=str(line.quantity),
            unit_price=str(line.unit_price),
            discount_pct=str(line.discount_pct),
            description=line.description,
            amount=line.amount,
        )
        for line in quote.lines.all()
    ]


def _rows_from_post(raw: list[dict[str, Any]], exc: ValidationError | None) -> list[LineRow]:
    ids = {int(r["product"]) for r in raw if str(r.get("product", "")).isdigit()}
    products = Product.objects.in_bulk(ids)
    rows = []
    for r in raw:
        product = products.get(int(r["product"])) if str(r.get("product", "")).isdigit() else None
        rows.append(
            LineRow(
                product=r.get("product", ""),
                product_label=f"{product.code} {product.name}" if product else "",
                unit=product.unit if product else "",
                list_price=str(product.list_price) if product else "",
                quantity=r.get("quantity", ""),
                unit_price=r.get("unit_price", ""),
                discount_pct=r.get("discount_pct", ""),
                description=r.get("description", ""),
            )
        )
    if exc is not None and hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            match = LINE_KEY.match(key)
            if match and int(match.group(1)) < len(rows):
                rows[int(match.group(1))].errors[match.group(2)] = [
                    m for e in errors for m in e.messages
                ]
    return rows


def _header_errors(form: QuoteHeaderForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            if LINE_KEY.match(key):
                continue
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _opportunity_url(opportunity: Any) -> str:
    """The deal's page (the deals pages may not be wired yet: then no link)."""
    try:
        return opportunity.get_absolute_url()
    except NoReverseMatch:
        return ""


def _editor(
    request: HttpRequest, *, opportunity: Any, quote: Quote | None, header: QuoteHeaderForm,
    rows: list[LineRow], status: int = 200,
) -> HttpResponse:  # fmt: skip
    return render(
        request,
        "opportunities/quote_form.html",
        {
            "opportunity": opportunity,
            "quote": quote,
            "form": header,
            "rows": rows,
            "line_errors": any(row.errors for row in rows),
            "opportunity_url": _opportunity_url(opportunity),
            "currency": settings.CURRENCY,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def quote_create(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    """Draft a new quote (the next version) for an opportunity with the line editor."""
    opportunity = quotes.quote_opportunity_get(user=request.user, pk=opportunity_id)
    if not quotes.can_work_opportunity(request.user, opportunity):
        raise PermissionDenied(_("You cannot work on this opportunity's quotes."))
    if request.method == "POST":
        header = QuoteHeaderForm(request.POST)
        raw = lines_from_post(request.POST)
        if header.is_valid():
            try:
                quote = quotes.quote_create(
                    opportunity=opportunity, by=request.user, lines=raw, **header.cleaned_data
                )
            except ValidationError as exc:
                _header_errors(header, exc)
                return _editor(request, opportunity=opportunity, quote=None, header=header,
                               rows=_rows_from_post(raw, exc), status=400)  # fmt: skip
            except Conflict as exc:
                header.add_error(None, str(exc))
            else:
                messages.success(request, _("The quote was saved as a draft."))
                return redirect("opportunities:quote_detail", pk=quote.pk)
        return _editor(request, opportunity=opportunity, quote=None, header=header,
                       rows=_rows_from_post(raw, None), status=400)  # fmt: skip
    header = QuoteHeaderForm(initial={"valid_until": timezone.localdate() + timedelta(days=30)})
    return _editor(request, opportunity=opportunity, quote=None, header=header, rows=[LineRow()])


@login_required
@require_http_methods(["GET", "POST"])
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft quote: its lines (replaced as a set), validity and notes."""
    quote = quotes.quote_get(user=request.user, pk=pk)
    if "update" not in quotes.quote_actions(request.user, quote):
        if not quotes.can_work_opportunity(request.user, quote.opportunity):
            raise PermissionDenied(_("You cannot work on this opportunity's quotes."))
        messages.error(
            request,
            _("This quote can no longer be changed. Make a new version to revise it."),
        )
        return redirect("opportunities:quote_detail", pk=quote.pk)
    if request.method == "POST":
        header = QuoteHeaderForm(request.POST)
        raw = lines_from_post(request.POST)
        if header.is_valid():
            try:
                quotes.quote_update(
                    quote=quote, by=request.user, lines=raw, data=header.cleaned_data
                )
            except ValidationError as exc:
                _header_errors(header, exc)
                rows = _rows_from_post(raw, exc)
                return _editor(request, opportunity=quote.opportunity, quote=quote,
                               header=header, rows=rows, status=400)  # fmt: skip
            except Conflict as exc:
                messages.error(request, str(exc))
                return redirect("opportunities:quote_detail", pk=quote.pk)
            else:
                messages.success(request, _("The quote was saved."))
                return redirect("opportunities:quote_detail", pk=quote.pk)
        return _editor(request, opportunity=quote.opportunity, quote=quote, header=header,
                       rows=_rows_from_post(raw, None), status=400)  # fmt: skip
    header = QuoteHeaderForm(initial={"valid_until": quote.valid_until, "notes": quote.notes})
    rows = _rows_from_quote(quote) or [LineRow()]
    return _editor(request, opportunity=quote.opportunity, quote=quote, header=header, rows=rows)


STATUS_BADGES = {
    QuoteStatus.DRAFT: "bg-secondary-subtle text-secondary-emphasis",
    QuoteStatus.PENDING: "bg-primary-subtle text-primary-emphasis",
    QuoteStatus.APPROVED: "bg-success-subtle text-success-emphasis",
}


@login_required
@require_GET
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote page: status, versions, lines, totals, the approval panel and history."""
    quote = quotes.quote_get(user=request.user, pk=pk)
    actions = quotes.quote_actions(request.user, quote)
    return render(
        request,
        "opportunities/quote_detail.html",
        {
            "quote": quote,
            "opportunity": quote.opportunity,
            "opportunity_url": _opportunity_url(quote.opportunity),
            "lines": list(quote.lines.all()),
            "versions": quotes.quote_versions(user=request.user, quote=quote),
            "is_latest": quotes.is_latest_version(quote),
            "can_edit": "update" in actions,
            "can_new_version": "new_version" in actions,
            "status_class": STATUS_BADGES.get(quote.status, ""),
            "currency": settings.CURRENCY,
        },
    )


@login_required
@require_POST
def quote_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy the quote into a new draft version and open it in the editor."""
    quote = quotes.quote_get(user=request.user, pk=pk)
    try:
        new = quotes.quote_new_version(quote=quote, by=request.user)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("opportunities:quote_detail", pk=quote.pk)
    messages.success(
        request, _("Version %(version)s was drafted from this quote.") % {"version": new.version}
    )
    return redirect("opportunities:quote_edit", pk=new.pk)


@login_required
@require_GET
def quote_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable quote (A4, print CSS). Any version prints; one that is not approved is
    marked as a draft across the page."""
    quote = quotes.quote_get(user=request.user, pk=pk)
    lines = list(quote.lines.all())
    return render(
        request,
        "opportunities/quote_print.html",
        {
            "quote": quote,
            "opportunity": quote.opportunity,
            "customer": quote.opportunity.customer,
            "contact": quote.opportunity.contact,
            "lines": lines,
            "is_approved": quote.status == QuoteStatus.APPROVED,
            "company_name": seller_name(),
            "currency": settings.CURRENCY,
            "amount_in_words": amount_in_words(quote.total),
            "printed_on": timezone.localdate(),
        },
    )


# --- amount in words (大写金额) -------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


def _section(number: int) -> str:
    out = ""
    zero = False
    for position in range(3, -1, -1):
        digit = number // (10**position) % 10
        if digit == 0:
            zero = bool(out)
        else:
            if zero:
                out += "零"
                zero = False
            out += _DIGITS[digit] + _UNITS[position]
    return out


def amount_in_words(amount: Decimal) -> str:
    """The amount in Chinese capital numerals as on a Chinese invoice (人民币大写), e.g.
    1234.50 → 壹仟贰佰叁拾肆元伍角整; 0 → 零元整."""
    amount = amount.quantize(Decimal("0.01"))
    if amount < 0:
        return "负" + amount_in_words(-amount)
    yuan = int(amount)
    cents = int((amount - yuan) * 100)
    jiao, fen = divmod(cents, 10)
    if yuan == 0:
        integer = "零" if not cents else ""
    else:
        integer = ""
        sections = []
        n = yuan
        while n:
            sections.append(n % 10000)
            n //= 10000
        need_zero = False
        for index in range(len(sections) - 1, -1, -1):
            value = sections[index]
            if value == 0:
                need_zero = bool(integer)
                continue
            if integer and (need_zero or value < 1000):
                integer += "零"
            integer += _section(value) + _SECTIONS[index]
            need_zero = False
    text = (integer + "元") if integer else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text
