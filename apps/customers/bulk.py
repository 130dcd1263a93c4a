"""Bulk upsert of customers by external id: `POST /api/v1/customers/bulk/` (API.md "ERP
integration", issue 9; the shared shape is `apps.api.bulk`).

Each record is what `PUT customers/external/<external_id>/` takes, with its `external_id`
(required) and optionally the `version` the ERP read. The batch is one use case with the rules
of the single upsert (`services.customer_upsert_external`), applied set-based so that 1,000
records cost a fixed number of queries:

- the records are checked without the database first (`services.customer_fields_clean`), then
  against it in one read each: the existing customers by external id (locked), which of them
  the caller may see and change, the owners named, the credit codes taken;
- an existing customer the caller cannot see is an error of that record ("no such customer",
  as the single upsert's 404), one in the public pool or out of reach a "cannot change" error
  (its 403); a stale `version` an error of `records.<i>.version` (its 409);
- a unified social credit code already held by another customer, or sent twice in the batch,
  is an error of the later record, as an external id sent twice;
- any error: nothing is written (400 naming `records.<i>.<field>`). Otherwise new customers are
  inserted in one statement and changed ones updated in one, with `updated_at` moved; a record
  that changes nothing is `unchanged` and not written at all (its version stays).

What `customer_create` does besides the insert is done here too: the caller needs a data scope
(403 otherwise), the owner is the caller or someone in the caller's team (on create only: the
owner of an existing customer changes by claim, release or reassignment), and the identity
keys (`name_key`, `phone_key`, `email_key`) are computed as `Customer.save` does. History stays
complete: the pghistory triggers record each inserted and updated row, with the request's
user and the action in the context. No webhook event exists for a customer's profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.scope import Scope, scope_of, visible_users
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

from .models import Customer
from .normalization import normalize_company_name, normalize_email, normalize_phone
from .selectors import customer_editable_q, customer_visible_q
from .services import CUSTOMER_FIELDS, _duplicate_credit_code, customer_fields_clean

# The dedupe keys `Customer.save` keeps, from their fields; bulk writes do not call `save`.
IDENTITY_KEYS = {
    "name": ("name_key", normalize_company_name),
    "phone": ("phone_key", normalize_phone),
    "email": ("email_key", normalize_email),
}


def _set_identity_keys(customer: Customer, changed: Iterable[str] = IDENTITY_KEYS) -> list[str]:
    """Set the keys of the `changed` fields; returns the names of the keys set."""
    keys = []
    for name in changed:
        if name in IDENTITY_KEYS:
            key, normalize = IDENTITY_KEYS[name]
            setattr(customer, key, normalize(getattr(customer, name)))
            keys.append(key)
    return keys


@transaction.atomic
def customer_bulk_upsert(
    *,
    by: User,
    records: Sequence[Mapping[str, Any] | None],
    invalid: Mapping[int, Mapping[str, Sequence[Any]]] | None = None,
) -> list[BulkResult]:
    """Create or update the customers of `records` by external id, all or none (see the module
    docstring). Each record: the profile fields of `CUSTOMER_FIELDS` with `external_id`, and
    optionally `owner` (a user id, on create) and `version`. Returns one result per record.
    `invalid`: the errors the caller already found parsing some records (those records are
    None), reported together with the others in one ValidationError.

    Raises PermissionDenied when `by` may not write customers at all, ValidationError naming
    `records.<index>.<field>` when any record is invalid. Two batches creating the same
    external id at once: the loser's batch is checked again against what the winner wrote
    (its records then update those customers), as the single upsert does."""
    if scope_of(by) is Scope.NONE:
        raise PermissionDenied(_("You cannot create customers."))
    check_record_count(records)
    with history_context(user=by.pk, action="customer_bulk_upsert"):
        for _attempt in range(2):
            try:
                with transaction.atomic():  # a savepoint: a lost race rolls back this attempt
                    return _apply(by, records, invalid or {})
            except (IntegrityError, OperationalError) as exc:
                if isinstance(exc, OperationalError) and not lost_race(exc):
                    raise
                continue
    raise Conflict(
        _("Other requests changed these customers at the same time. Send the batch again."),
        code="concurrent_change",
    )


def _apply(
    by: User,
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
        fields, field_errors = customer_fields_clean(dict(record))
        for field, messages in field_errors.items():
            errors.setdefault(index, {})[field] = list(messages)
        key = fields.get("external_id", "")
        note_batch_key(errors, index, key, first_of_key,
                       missing=_("Give an external id of 1 to 100 characters."))  # fmt: skip
        cleaned.append(fields)

    # One read of the existing customers, locked in id order (two batches touching the same
    # customers wait for each other instead of deadlocking).
    existing = {
        c.external_id: c
        for c in Customer.objects.select_for_update()
        .filter(external_id__in=list(first_of_key))
        .order_by("pk")
    }
    visible, editable = _reach(by, [c.pk for c in existing.values()])

    owners = _owners(by, [r for r in records if r is not None])
    holders = _credit_code_holders(cleaned)
    first_of_code: dict[str, int] = {}
    now = timezone.now()
    new: list[tuple[int, Customer]] = []
    changed: list[tuple[int, Customer]] = []
    changed_fields: set[str] = set()
    results: dict[int, tuple[str, Customer]] = {}
    for index, (record, fields) in enumerate(zip(records, cleaned, strict=True)):
        if record is None:
            continue
        key = fields.get("external_id", "")
        current = existing.get(key) if first_of_key.get(key) == index else None
        if current is not None:
            if current.pk not in visible:
                # As the single upsert's 404: the ERP learns nothing about that customer.
                add_error(errors, index, "external_id", _("No such customer in your data scope."),
                     "not_found")  # fmt: skip
                continue
            if current.pk not in editable:
                add_error(errors, index, "external_id", _("You cannot change this customer."),
                     "permission_denied")  # fmt: skip
                continue
            expected = record.get("version")
            if expected is not None and expected != version_of(current):
                add_error(
                    errors, index, "version",
                    _("This customer was changed since you read it: the current version is "
                      "%(version)d. Read it again and send your change based on it.")
                    % {"version": version_of(current)},
                    "stale_version",
                )  # fmt: skip
        code = fields.get("credit_code")
        if code:
            own = current.pk if current is not None else None
            if code in first_of_code or holders.get(code, own) != own:
                add_error(errors, index, "credit_code", _duplicate_credit_code())
            first_of_code.setdefault(code, index)
        owner_id = record.get("owner")
        # The single upsert refuses an unknown owner whether it creates or updates; the team
        # rule is `customer_create`'s (the owner of an existing one is not changed here).
        if owner_id is not None and (
            owner_id not in owners or (current is None and not owners[owner_id])
        ):
            add_error(errors, index, "owner", _("Choose an owner in your team."))
        if current is None and "name" not in fields:
            add_error(errors, index, "name", _("Enter the company name."), "required")
        if index in errors:
            continue
        if current is None:
            customer = Customer(
                **{k: v for k, v in fields.items() if k in CUSTOMER_FIELDS},
                owner_id=owner_id if owner_id is not None else by.pk,
            )
            _set_identity_keys(customer)
            new.append((index, customer))
            results[index] = (BulkStatus.CREATED, customer)
            continue
        diff = {k for k, v in fields.items() if getattr(current, k) != v}
        if diff:
            for name in diff:
                setattr(current, name, fields[name])
            current.updated_at = now
            changed.append((index, current))
            changed_fields |= {*diff, *_set_identity_keys(current, diff)}
            results[index] = (BulkStatus.UPDATED, current)
        else:
            results[index] = (BulkStatus.UNCHANGED, current)
    if errors:
        raise bulk_errors(errors)

    if new:
        # Inserted in key order: two batches inserting the same new keys wait for each other
        # in the same order (then the loser retries) instead of deadlocking.
        Customer.objects.bulk_create(sorted((c for _i, c in new), key=lambda c: c.external_id))
    if changed:
        update_rows(Customer, [c for _i, c in changed], [*changed_fields, "updated_at"])
    return [
        BulkResult(index=index, status=status, id=customer.pk, external_id=customer.external_id)
        for index, (status, customer) in sorted(results.items())
    ]


def _reach(by: User, pks: list[int]) -> tuple[set[int], set[int]]:
    """Which of the customers `pks` `by` may see, and which of them change (two reads)."""
    if not pks:
        return set(), set()
    if scope_of(by, money=True) is Scope.ALL:
        return set(pks), set(pks)
    visible = set(
        Customer.objects.filter(customer_visible_q(by), pk__in=pks).values_list("pk", flat=True)
    )
    editable = set(
        Customer.objects.filter(customer_editable_q(by), pk__in=pks).values_list("pk", flat=True)
    )
    return visible, editable


def _owners(by: User, records: Sequence[Mapping[str, Any]]) -> dict[int, bool]:
    """The active users named as owners: whether each may own `by`'s new customer (`by`, or
    someone in `by`'s team: `services._check_owner`)."""
    ids = {r["owner"] for r in records if r.get("owner") is not None}
    if not ids:
        return {}
    active = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    in_team = set(visible_users(by).filter(pk__in=active).values_list("pk", flat=True))
    return {pk: pk == by.pk or pk in in_team for pk in active}


def _credit_code_holders(cleaned: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Credit code → the customer holding it now, for the codes of the batch (one read)."""
    codes = {f["credit_code"] for f in cleaned if f.get("credit_code")}
    if not codes:
        return {}
    return dict(Customer.objects.filter(credit_code__in=codes).values_list("credit_code", "pk"))
