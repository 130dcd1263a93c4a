"""Bulk upsert of products by external id: `POST /api/v1/products/bulk/` (API.md "ERP
integration", issue 9; the shared shape is `apps.api.bulk`). The ERP is master for products.

Each record is what `PUT products/external/<external_id>/` takes, with its `external_id`
(required) and optionally the `version` the ERP read. The rules are the single upsert's
(`products.product_upsert_external`), applied set-based so that 1,000 records cost a fixed
number of queries:

- only product managers and the ERP may write the catalogue (403 for the whole request);
- each record's fields are checked as the single upsert checks them (`products._clean`);
- a code is unique whatever its case: a code held by another product, or sent twice in the
  batch, is an error of the later record, as an external id sent twice; a stale `version`
  is an error of `records.<i>.version` (the single upsert's 409);
- any error: nothing is written (400 naming `records.<i>.<field>`). Otherwise new products
  are inserted in one statement and changed ones updated in one, with `updated_at` moved; a
  record that changes nothing is `unchanged` and not written (its version stays).

History stays complete: the pghistory triggers record every inserted and updated row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.api.bulk import (
    BulkResult,
    BulkStatus,
    add_error,
    bulk_errors,
    check_record_count,
    note_batch_key,
    start_errors,
)
from apps.core.bulk_sql import lost_race, update_rows
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.core.versions import version_of

from .models import Product
from .products import _clean, can_manage_products


@transaction.atomic
def product_bulk_upsert(
    *,
    by: User,
    records: Sequence[Mapping[str, Any] | None],
    invalid: Mapping[int, Mapping[str, Sequence[Any]]] | None = None,
) -> list[BulkResult]:
    """Create or update the products of `records` by external id, all or none (see the module
    docstring). Each record: the catalogue fields (code, name, unit and list price required)
    with `external_id`, and optionally `version`. Returns one result per record. `invalid`:
    the errors the caller already found parsing some records (those records are None),
    reported together with the others in one ValidationError.

    Raises PermissionDenied unless `by` manages the catalogue, ValidationError naming
    `records.<index>.<field>` when any record is invalid. Two batches creating the same
    external id or code at once: the loser's batch is checked again against what the winner
    wrote."""
    if not can_manage_products(by):
        raise PermissionDenied(_("Only product managers can change the catalogue."))
    check_record_count(records)
    with history_context(user=by.pk, action="product_bulk_upsert"):
        for _attempt in range(2):
            try:
                with transaction.atomic():  # a savepoint: a lost race rolls back this attempt
                    return _apply(records, invalid or {})
            except (IntegrityError, OperationalError) as exc:
                if isinstance(exc, OperationalError) and not lost_race(exc):
                    raise
                continue
    raise Conflict(
        _("Other requests changed these products at the same time. Send the batch again."),
        code="concurrent_change",
    )


def _apply(
    records: Sequence[Mapping[str, Any] | None],
    invalid: Mapping[int, Mapping[str, Sequence[Any]]],
) -> list[BulkResult]:
    errors = start_errors(invalid)
    cleaned: list[dict[str, Any]] = []
    first_of_key: dict[str, int] = {}
    for index, record in enumerate(records):
        if record is None:  # invalid as parsed: its errors are in `invalid`
            if index not in errors:
                add_error(errors, index, "", _("Send the record as an object."))
            cleaned.append({})
            continue
        data = {k: v for k, v in record.items() if k != "version"}
        key = str(data.get("external_id") or "").strip()
        data["external_id"] = key
        try:
            fields = _clean(data, partial=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(index, {}).setdefault(field, []).extend(messages)
            fields = {}
        note_batch_key(errors, index, key, first_of_key, missing=_("This field is required."))
        cleaned.append(fields)

    # One read of the existing products, locked in id order (two batches touching the same
    # products wait for each other instead of deadlocking).
    existing = {
        p.external_id: p
        for p in Product.objects.select_for_update()
        .filter(external_id__in=list(first_of_key))
        .order_by("pk")
    }
    holders = _code_holders(cleaned)
    first_of_code: dict[str, int] = {}
    now = timezone.now()
    new: list[Product] = []
    changed: list[Product] = []
    changed_fields: set[str] = set()
    results: dict[int, tuple[str, Product]] = {}
    for index, (record, fields) in enumerate(zip(records, cleaned, strict=True)):
        if record is None:
            continue
        key = fields.get("external_id", "")
        current = existing.get(key) if first_of_key.get(key) == index else None
        expected = record.get("version")
        if current is not None and expected is not None and expected != version_of(current):
            add_error(
                errors, index, "version",
                _("This product was changed since you read it: the current version is "
                  "%(version)d. Read it again and send your change based on it.")
                % {"version": version_of(current)},
                "stale_version",
            )  # fmt: skip
        code = fields.get("code", "").upper()
        if code:
            own = current.pk if current is not None else None
            if code in first_of_code:
                add_error(
                    errors, index, "code",
                    _("Record %(index)d of this batch has the same code.")
                    % {"index": first_of_code[code]},
                    "duplicate_code",
                )  # fmt: skip
            elif holders.get(code, own) != own:
                add_error(
                    errors, index, "code", _("Another product has this code."), "duplicate_code"
                )
            first_of_code.setdefault(code, index)
        if index in errors:
            continue
        if current is None:
            product = Product(**fields)
            new.append(product)
            results[index] = (BulkStatus.CREATED, product)
            continue
        diff = {k for k, v in fields.items() if getattr(current, k) != v}
        if diff:
            for name in diff:
                setattr(current, name, fields[name])
            current.updated_at = now
            changed.append(current)
            changed_fields |= diff
            results[index] = (BulkStatus.UPDATED, current)
        else:
            results[index] = (BulkStatus.UNCHANGED, current)
    if errors:
        raise bulk_errors(errors)

    if new:
        # In key order, as `customers.bulk` does: concurrent batches wait instead of deadlocking.
        Product.objects.bulk_create(sorted(new, key=lambda p: p.external_id))
    if changed:
        update_rows(Product, changed, [*changed_fields, "updated_at"])
    return [
        BulkResult(index=index, status=status, id=product.pk, external_id=product.external_id)
        for index, (status, product) in sorted(results.items())
    ]


def _code_holders(cleaned: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Upper-cased code → the product holding it now, for the codes of the batch (one read;
    codes are unique whatever their case, as `products._check_unique` says)."""
    codes = {f["code"].upper() for f in cleaned if f.get("code")}
    if not codes:
        return {}
    return dict(
        Product.objects.annotate(code_upper=Upper("code"))
        .filter(code_upper__in=codes)
        .values_list("code_upper", "pk")
    )
