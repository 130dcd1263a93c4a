"""Quotes (报价单): their use cases, scoped reads, and the quote-discount approval callbacks
(折扣审批).

A quote belongs to an opportunity; whoever may work on the opportunity (its owner, a head above
the owner, a company-wide account — `permissions.can_work`) drafts and revises its quotes. The
quote's owner is the opportunity's owner, so the quote follows the deal's data scope and the
owner is the one who submits it (the approval engine lets only a document's owner submit).

- `quote_create` drafts the next version of the opportunity's quote; `quote_update` replaces
  the lines as a set and recomputes the totals (Decimal, half-up to the cent); only the latest
  version, while it is a draft, can change.
- `quote_submit` sends it to the policy "opportunities.quote" (supervisor above 5 %, manager
  above 15 % by default, on the largest line discount); a quote whose discount is over no
  step's threshold is approved at once.
- `quote_new_version` copies a quote's lines into a new draft version; earlier versions stay
  readable and read-only.

The callbacks run inside the approval service's transaction with the quote locked (see
apps.approvals.registry): submitted → pending; approved → approved; returned or withdrawn →
draft with the comment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from apps.accounts.models import User
from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_assert_editable, approval_submit
from apps.core.errors import Conflict
from apps.core.fsm import unmet_messages

from .choices import QuoteStatus
from .models import Opportunity, Product, Quote, QuoteLine
from .permissions import can_work

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
MAX_LINES = 200
MAX_QUANTITY = Decimal("1e10")
MAX_PRICE = Decimal("1e12")
LINE_FIELDS = ("product", "quantity", "unit_price", "discount_pct", "description")


def can_work_opportunity(user: User, opportunity: Opportunity) -> bool:
    """Whether `user` may draft and revise the quotes of `opportunity`."""
    return can_work(user, opportunity)


# --- lines and totals -----------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    """One validated line, before it is saved."""

    product: Product
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    description: str = ""

    def amount(self) -> Decimal:
        return QuoteLine(
            quantity=self.quantity, unit_price=self.unit_price, discount_pct=self.discount_pct
        ).compute_amount()


@dataclass(frozen=True)
class Totals:
    list_amount: Decimal
    total: Decimal
    max_discount_pct: Decimal

    @property
    def discount_amount(self) -> Decimal:
        return self.list_amount - self.total


def quote_totals(lines: Sequence[QuoteLine | LineInput]) -> Totals:
    """list amount = Σ quantity × unit price (before discount, each line half-up to the cent);
    total = Σ line amounts; the largest line discount is what the approval policy reads."""
    list_amount = ZERO
    total = ZERO
    max_discount = ZERO
    for line in lines:
        list_amount += (line.quantity * line.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        total += line.amount() if isinstance(line, LineInput) else line.compute_amount()
        max_discount = max(max_discount, line.discount_pct)
    return Totals(list_amount=list_amount, total=total, max_discount_pct=max_discount)


def parse_decimal(raw: Any) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise InvalidOperation
    value = Decimal(str(raw).strip().replace(",", ""))
    if not value.is_finite():
        raise InvalidOperation
    return value


def clean_lines(raw_lines: Sequence[Mapping[str, Any]]) -> list[LineInput]:
    """Validate the lines of a quote as one set.

    Each line is a mapping with `product` (an id), `quantity`, `unit_price` (blank: the
    product's list price), `discount_pct` (blank: 0) and `description`. Every error names the
    line and the field: the key is `lines[<index>].<field>` (index from 0, as in the JSON
    array) and the message starts with the line number people read (from 1).
    """
    if not isinstance(raw_lines, Sequence) or isinstance(raw_lines, str | bytes):
        raise ValidationError({"lines": [_("Send the lines as a list.")]})
    if len(raw_lines) > MAX_LINES:
        raise ValidationError({"lines": [_("A quote has at most %(n)d lines.") % {"n": MAX_LINES}]})
    errors: dict[str, list[str]] = {}

    def error(index: int, field: str, message: str) -> None:
        errors.setdefault(f"lines[{index}].{field}", []).append(
            _("Line %(number)d: %(message)s") % {"number": index + 1, "message": message}
        )

    product_ids: set[int] = set()
    for raw in raw_lines:
        if isinstance(raw, Mapping):
            with contextlib.suppress(TypeError, ValueError):
                product_ids.add(int(raw.get("product")))
    products = Product.objects.in_bulk(product_ids)

    cleaned: list[LineInput] = []
    for index, raw in enumerate(raw_lines):
        if not isinstance(raw, Mapping):
            errors.setdefault(f"lines[{index}]", []).append(
                _("Line %(number)d: send the line as an object.") % {"number": index + 1}
            )
            continue
        product = None
        try:
            product = products.get(int(raw.get("product")))
        except (TypeError, ValueError):
            product = None
        if product is None:
            error(index, "product", _("choose a product."))
        elif not product.is_active:
            error(
                index,
                "product",
                _("the product %(product)s is no longer sold.") % {"product": product},
            )
            product = None

        quantity = unit_price = discount = None
        try:
            quantity = parse_decimal(raw.get("quantity"))
        except (InvalidOperation, ValueError):
            error(index, "quantity", _("enter a number for the quantity."))
        else:
            if quantity is None:
                error(index, "quantity", _("enter the quantity."))
            elif quantity <= 0:
                error(index, "quantity", _("the quantity must be greater than 0."))
            elif quantity >= MAX_QUANTITY:
                error(index, "quantity", _("the quantity is too large."))
            elif quantity != quantity.quantize(CENT):
                error(index, "quantity", _("the quantity has at most 2 decimal places."))
                quantity = None
            if quantity is not None and quantity <= 0:
                quantity = None

        try:
            unit_price = parse_decimal(raw.get("unit_price"))
        except (InvalidOperation, ValueError):
            error(index, "unit_price", _("enter a number for the unit price."))
        else:
            if unit_price is None and product is not None:
                unit_price = product.list_price
            elif unit_price is not None and unit_price < 0:
                error(index, "unit_price", _("the unit price cannot be negative."))
                unit_price = None
            elif unit_price is not None and unit_price >= MAX_PRICE:
                error(index, "unit_price", _("the unit price is too large."))
                unit_price = None
            elif unit_price is not None and unit_price != unit_price.quantize(CENT):
                error(index, "unit_price", _("the unit price has at most 2 decimal places."))
                unit_price = None

        try:
            discount = parse_decimal(raw.get("discount_pct"))
        except (InvalidOperation, ValueError):
            error(index, "discount_pct", _("enter a number for the discount."))
        else:
            discount = ZERO if discount is None else discount
            if discount < 0 or discount > HUNDRED:
                error(index, "discount_pct", _("the discount must be between 0 and 100 %."))
                discount = None
            elif discount != discount.quantize(CENT):
                error(index, "discount_pct", _("the discount has at most 2 decimal places."))
                discount = None

        description = str(raw.get("description") or "").strip()
        if len(description) > 300:
            error(index, "description", _("the description has at most 300 characters."))

        if None not in (product, quantity, unit_price, discount):
            cleaned.append(
                LineInput(
                    product=product,
                    quantity=quantity.quantize(CENT),
                    unit_price=unit_price.quantize(CENT),
                    discount_pct=discount.quantize(CENT),
                    description=description[:300],
                )
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _replace_lines(quote: Quote, lines: Sequence[LineInput]) -> None:
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            position=position,
            product=line.product,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_pct=line.discount_pct,
            amount=line.amount(),
        )
        for position, line in enumerate(lines, start=1)
    )
    totals = quote_totals(lines)
    quote.list_amount = totals.list_amount
    quote.total = totals.total
    quote.max_discount_pct = totals.max_discount_pct


def _clean_header(data: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "valid_until" in data:
        value = data["valid_until"]
        if isinstance(value, str):
            value = value.strip() or None
            if value is not None:
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    raise ValidationError(
                        {"valid_until": [_("Enter a date, e.g. 2026-12-31.")]}
                    ) from None
        if value is not None and not isinstance(value, date):
            raise ValidationError({"valid_until": [_("Enter a date, e.g. 2026-12-31.")]})
        clean["valid_until"] = value
    if "notes" in data:
        clean["notes"] = str(data["notes"] or "").strip()
    return clean


# --- writes -----------------------------------------------------------------------------------


def _check_can_work(by: User, opportunity: Opportunity) -> None:
    if not can_work_opportunity(by, opportunity):
        raise PermissionDenied(_("You cannot work on this opportunity's quotes."))


def _next_version(opportunity: Opportunity) -> int:
    latest = Quote.objects.filter(opportunity=opportunity).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


def _lock_opportunity(opportunity: Opportunity) -> Opportunity:
    # Locking the deal serialises version numbering: two drafts at once get 1 and 2.
    return (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("owner")
        .get(pk=opportunity.pk)
    )


def _check_open(opportunity: Opportunity) -> None:
    if not opportunity.is_open:
        raise Conflict(
            _("The deal is %(stage)s: its quotes can no longer change.")
            % {"stage": opportunity.get_stage_display()},
            code="closed",
        )


@transaction.atomic
def quote_create(
    *,
    opportunity: Opportunity,
    by: User,
    lines: Sequence[Mapping[str, Any]] = (),
    valid_until: date | str | None = None,
    notes: str = "",
) -> Quote:
    """Draft the next version of `opportunity`'s quote with `lines` (see `clean_lines`)."""
    opportunity = _lock_opportunity(opportunity)
    _check_can_work(by, opportunity)
    _check_open(opportunity)
    header = _clean_header({"valid_until": valid_until, "notes": notes})
    cleaned = clean_lines(lines)
    quote = Quote.objects.create(
        opportunity=opportunity,
        owner=opportunity.owner,
        version=_next_version(opportunity),
        **header,
    )
    _replace_lines(quote, cleaned)
    quote.save()
    return quote


def _lock_quote(quote: Quote) -> Quote:
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("opportunity", "opportunity__owner")
        .get(pk=quote.pk)
    )


def is_latest_version(quote: Quote) -> bool:
    return not Quote.objects.filter(
        opportunity_id=quote.opportunity_id, version__gt=quote.version
    ).exists()


def _check_editable(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(
            _("This quote is %(status)s and can no longer be changed. Make a new version.")
            % {"status": quote.get_status_display()},
            code="not_draft",
        )
    approval_assert_editable(quote)
    if not is_latest_version(quote):
        raise Conflict(
            _("A newer version of this quote exists: earlier versions are read-only."),
            code="not_latest",
        )


@transaction.atomic
def quote_update(
    *,
    quote: Quote,
    by: User,
    lines: Sequence[Mapping[str, Any]] | None = None,
    data: Mapping[str, Any] | None = None,
) -> Quote:
    """Change a draft quote: `lines` (when given) replace all its lines as a set; `data` may
    carry `valid_until` and `notes`. Totals are computed again here, whatever a page showed."""
    quote = _lock_quote(quote)
    _check_can_work(by, quote.opportunity)
    _check_editable(quote)
    _check_open(quote.opportunity)
    header = _clean_header(data or {})
    cleaned = clean_lines(lines) if lines is not None else None
    for name, value in header.items():
        setattr(quote, name, value)
    if cleaned is not None:
        _replace_lines(quote, cleaned)
    quote.save()
    return quote


@transaction.atomic
def quote_submit(*, quote: Quote, by: User, comment: str = "") -> Quote:
    """Send a draft quote to the quote-discount approval (折扣审批); a quote whose largest
    discount is over no step's threshold comes back approved."""
    quote = _lock_quote(quote)
    _check_can_work(by, quote.opportunity)
    _check_editable(quote)
    _check_open(quote.opportunity)
    approval_submit(document=quote, by=by, comment=comment)
    return Quote.objects.get(pk=quote.pk)


@transaction.atomic
def quote_new_version(*, quote: Quote, by: User) -> Quote:
    """Copy `quote`'s lines, validity and notes into a new draft version (the next number
    for the opportunity). A quote under approval is withdrawn first; an inactive product's
    line is copied too (the draft then says to replace it before saving)."""
    quote = _lock_quote(quote)
    opportunity = _lock_opportunity(quote.opportunity)
    _check_can_work(by, opportunity)
    _check_open(opportunity)
    if quote.status == QuoteStatus.PENDING:
        raise Conflict(
            _("This quote is under approval. Withdraw it before making a new version."),
            code="under_approval",
        )
    new = Quote.objects.create(
        opportunity=opportunity,
        owner=opportunity.owner,
        version=_next_version(opportunity),
        valid_until=quote.valid_until,
        notes=quote.notes,
        list_amount=quote.list_amount,
        total=quote.total,
        max_discount_pct=quote.max_discount_pct,
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=new,
            position=line.position,
            product_id=line.product_id,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_pct=line.discount_pct,
            amount=line.amount,
        )
        for line in quote.lines.all()
    )
    return new


def quote_actions(user: Any, quote: Quote) -> list[str]:
    """What `user` may do with `quote` now ("update", "submit", "new_version"), for the
    buttons of a page and `available_transitions` of the API; the services stay the
    authority."""
    if not can_work_opportunity(user, quote.opportunity) or not quote.opportunity.is_open:
        return []
    actions: list[str] = []
    if quote.status == QuoteStatus.DRAFT and is_latest_version(quote):
        actions.append("update")
        if quote.owner_id == user.pk:
            actions.append("submit")
    if quote.status != QuoteStatus.PENDING:
        actions.append("new_version")
    return actions


# --- approval callbacks (registered in apps.py) -----------------------------------------------


def on_quote_submitted(quote: Quote, request: ApprovalRequest) -> None:
    """Pending. Refuses (nothing changes) a quote without lines or an earlier version, also
    when the submission comes from the approval panel rather than `quote_submit`."""
    if not is_latest_version(quote):
        raise Conflict(
            _("A newer version of this quote exists: earlier versions are read-only."),
            code="not_latest",
        )
    if not can_proceed(quote.submit):
        errors = unmet_messages(quote, quote.submit)
        if errors:
            raise ValidationError(errors)
        raise Conflict(
            _("This quote is %(status)s and cannot be submitted.")
            % {"status": quote.get_status_display()},
            code="not_draft",
        )
    quote.submit()
    quote.return_comment = ""
    quote.save()


def on_quote_approved(quote: Quote, request: ApprovalRequest) -> None:
    quote.approve()
    quote.approved_at = timezone.now()
    quote.save()


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteFilters:
    opportunity: int | None = None
    status: str = ""


def quote_list(*, user: User, filters: QuoteFilters | None = None) -> QuerySet[Quote]:
    """Quotes in `user`'s scope (by the deal's owner), newest change first, with the deal,
    its customer and the owner joined (no query per row)."""
    filters = filters or QuoteFilters()
    qs = Quote.objects.visible_to(user).select_related(
        "opportunity", "opportunity__customer", "owner"
    )
    if filters.opportunity is not None:
        qs = qs.filter(opportunity_id=filters.opportunity)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.order_by("-updated_at", "-id")


def quote_lines_prefetch() -> Prefetch:
    return Prefetch(
        "lines", queryset=QuoteLine.objects.select_related("product").order_by("position", "id")
    )


def quote_get(*, user: User, pk: int) -> Quote:
    """One quote in `user`'s scope with its lines and products, else 404."""
    qs = (
        quote_list(user=user)
        .select_related("opportunity__contact")
        .prefetch_related(quote_lines_prefetch())
    )
    return get_object_or_404(qs, pk=pk)


def quote_versions(*, user: User, quote: Quote) -> list[Quote]:
    """Every version of `quote`'s opportunity's quote that `user` may see, newest first."""
    return list(
        Quote.objects.visible_to(user)
        .filter(opportunity_id=quote.opportunity_id)
        .only("id", "version", "status", "total", "max_discount_pct", "updated_at", "owner_id")
        .order_by("-version")
    )


def quote_opportunity_get(*, user: User, pk: int) -> Opportunity:
    """The opportunity a new quote is for: in `user`'s scope, else 404."""
    return get_object_or_404(
        Opportunity.objects.visible_to(user).select_related("customer", "owner", "contact"), pk=pk
    )
