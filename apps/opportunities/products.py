"""The product catalogue (产品 / 价目表): who may change it, its writes and its scoped reads.

Product managers (the admin role) and sales managers create and edit products; every signed-in
user reads the active ones (a rep picks them on a quote). The ERP is master for products: it
upserts by `external_id` over the API. Search is server-side: part of the name through the
trigram index on UPPER(name) (`product_name_trgm`), or the start of the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.core.versions import check_version

from .models import Product

PRODUCT_MANAGER_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
PRODUCT_FIELDS = (
    "code",
    "name",
    "unit",
    "list_price",
    "product_line",
    "description",
    "is_active",
    "external_id",
)
MAX_PRICE = Decimal("1e12")


def can_manage_products(user: Any) -> bool:
    """Admins (product managers), sales managers and the ERP integration user."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.role in PRODUCT_MANAGER_ROLES | {Role.INTEGRATION}


# --- writes -------------------------------------------------------------------------------


def _clean(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate the product fields given in `data`; a field error names its field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def text(name: str, max_length: int, *, required: bool = False) -> None:
        if name not in data:
            if required and not partial:
                errors.setdefault(name, []).append(_("This field is required."))
            return
        value = str(data[name] if data[name] is not None else "").strip()
        if required and not value:
            errors.setdefault(name, []).append(_("This field is required."))
        elif len(value) > max_length:
            errors.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": max_length})
        clean[name] = value

    text("code", 50, required=True)
    text("name", 200, required=True)
    text("unit", 20, required=True)
    text("product_line", 100)
    text("description", 5000)
    text("external_id", 100)
    if "list_price" in data:
        raw = data["list_price"]
        try:
            price = Decimal(str(raw).strip()) if raw not in (None, "") else None
        except (InvalidOperation, ValueError):
            price = None
        if price is None or not price.is_finite():
            errors.setdefault("list_price", []).append(_("Enter a price."))
        elif price < 0:
            errors.setdefault("list_price", []).append(_("The price cannot be negative."))
        elif price >= MAX_PRICE:
            errors.setdefault("list_price", []).append(_("The price is too large."))
        elif price != price.quantize(Decimal("0.01")):
            errors.setdefault("list_price", []).append(_("At most 2 decimal places."))
        else:
            clean["list_price"] = price.quantize(Decimal("0.01"))
    elif not partial:
        errors.setdefault("list_price", []).append(_("This field is required."))
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationError(errors)
    return clean


def _check_unique(product: Product) -> None:
    errors: dict[str, list[str]] = {}
    others = Product.objects.exclude(pk=product.pk)
    if others.filter(code__iexact=product.code).exists():
        errors["code"] = [_("Another product has this code.")]
    if product.external_id and others.filter(external_id=product.external_id).exists():
        errors["external_id"] = [_("Another product has this external id.")]
    if errors:
        raise ValidationError(errors)


def _save(product: Product) -> Product:
    _check_unique(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:  # a concurrent insert of the same code or external id
        if "product_unique_external_id" in str(exc):
            raise ValidationError(
                {"external_id": [_("Another product has this external id.")]}
            ) from exc
        raise ValidationError({"code": [_("Another product has this code.")]}) from exc
    return product


@transaction.atomic
def product_create(*, by: User, data: Mapping[str, Any]) -> Product:
    """Add a product to the catalogue (admin, manager or the ERP)."""
    if not can_manage_products(by):
        raise PermissionDenied(_("Only product managers can change the catalogue."))
    return _save(Product(**_clean(data, partial=False)))


@transaction.atomic
def product_update(
    *, product: Product, by: User, data: Mapping[str, Any], expected_version: int | None = None
) -> Product:
    """Change a product's fields given in `data` (a price change applies to new quote lines
    only: a line keeps the unit price it was quoted at). With `expected_version` (the version
    the writer read, `apps.core.versions`), StaleVersion if it changed since."""
    if not can_manage_products(by):
        raise PermissionDenied(_("Only product managers can change the catalogue."))
    product = Product.objects.select_for_update().get(pk=product.pk)
    check_version(product, expected_version)
    for name, value in _clean(data, partial=True).items():
        setattr(product, name, value)
    return _save(product)


def external_key(external_id: Any) -> str:
    """The ERP's key as sent (trimmed), or a field error: 1 to 100 printable characters."""
    key = str(external_id or "").strip()
    if not key:
        raise ValidationError({"external_id": [_("This field is required.")]})
    if len(key) > 100 or "\x00" in key:
        raise ValidationError({"external_id": [_("Give an external id of 1 to 100 characters.")]})
    return key


@transaction.atomic
def product_upsert_external(
    *,
    external_id: str,
    by: User,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> tuple[Product, bool]:
    """The ERP's upsert by its key (API.md "ERP integration"): update the product with this
    `external_id`, or create it. Returns (product, created). With `expected_version`, an
    existing product changed since that version raises StaleVersion (409). Two concurrent
    first upserts of one key: the loser updates what the winner created."""
    if not can_manage_products(by):
        raise PermissionDenied(_("Only product managers can change the catalogue."))
    external_id = external_key(external_id)
    data = {**data, "external_id": external_id}
    for _attempt in range(2):
        existing = Product.objects.select_for_update().filter(external_id=external_id).first()
        if existing is not None:
            break
        try:
            with transaction.atomic():
                return _save(Product(**_clean(data, partial=False))), True
        except ValidationError:
            # Created meanwhile by a concurrent upsert (its insert may fail on the code's
            # unique index before the external id's): update it.
            if not Product.objects.filter(external_id=external_id).exists():
                raise
    else:
        raise ValidationError({"external_id": [_("Another product has this external id.")]})
    check_version(existing, expected_version)
    for name, value in _clean(data, partial=True).items():
        setattr(existing, name, value)
    return _save(existing), False


# --- reads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductFilters:
    """The filters of the catalogue page and the API list. `active` None means "both" (only
    product managers see inactive products)."""

    search: str = ""
    product_line: str = ""
    active: bool | None = True


def product_list(*, user: User, filters: ProductFilters | None = None) -> QuerySet[Product]:
    """Products `user` may read, by code: the active ones, and for product managers the
    inactive ones too when `filters.active` asks for them."""
    filters = filters or ProductFilters()
    qs = Product.objects.all()
    active = filters.active if can_manage_products(user) else True
    if active is not None:
        qs = qs.filter(is_active=active)
    term = filters.search.strip()
    if term:
        # UPPER(name) LIKE UPPER('%term%') is the expression of the trigram index; the code
        # prefix uses the code's varchar_pattern_ops index (codes are usually upper case, so
        # the term is tried as typed and upper-cased rather than with an unindexed UPPER()).
        code = Q(code__startswith=term) | Q(code__startswith=term.upper())
        qs = qs.filter(Q(name__icontains=term) | code)
    if filters.product_line:
        qs = qs.filter(product_line=filters.product_line)
    return qs.order_by("code", "id")


def product_get(*, user: User, pk: int) -> Product:
    """One product `user` may read, else 404."""
    return get_object_or_404(product_list(user=user, filters=ProductFilters(active=None)), pk=pk)


def product_search(*, user: User, term: str, limit: int = 10) -> list[Product]:
    """Active products matching `term` for the quote line picker (search-as-you-type)."""
    term = (term or "").strip()
    if not term:
        return []
    return list(product_list(user=user, filters=ProductFilters(search=term))[:limit])


def product_lines() -> list[str]:
    """The product lines in use (the catalogue filter)."""
    return list(
        Product.objects.exclude(product_line="")
        .order_by("product_line")
        .values_list("product_line", flat=True)
        .distinct()
    )
