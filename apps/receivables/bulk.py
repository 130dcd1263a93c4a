"""Bulk posting of payments by the ERP (回款批量导入; API.md "ERP integration", issue 9).

`payment_bulk_record` takes up to 1,000 payments, validates them all together and records all
or none in one transaction; each new payment is then allocated (核销) oldest due first over its
customer's open installments, what is left staying as the customer's credit balance (预收款).
The outcome is the one `services.payment_record` followed by `services.payment_allocate` (no
lines) would give for the records one by one, in the order sent; a record whose bank
reference or external id was already recorded with the same customer, amount and date is
`unchanged` (nothing doubles when the ERP sends a batch again).

It is set-based, so that a batch of 1,000 costs the same number of queries as a batch of 5:
one read of the customers, one of the payments already holding the keys, one locked read of
the batch customers' open installments (id order), the FIFO plan in Python, then one INSERT
of the payments (their allocated amount already planned), one of the allocations, one UPDATE
of the installments (paid amount, state and paid date as `services._apply` moves them), one
set-based emit per webhook event kind, and one notification per customer to its owner. The
writes are INSERT/UPDATE … FROM unnest(arrays) statements, as in `jobs.py`: preparing model
instances for thousands of rows cost more than the database's work. History stays complete:
the pghistory triggers record every inserted and updated row, with the request's context and
`action: payment_bulk_record`.

Locking (see `services`): no existing payment is locked (only new ones are written), and the
installments are locked in id order like every other service, so two batches racing for one
customer are serialised on its installments: the second plans from what the first left. A
batch that loses a race for a key (its INSERT fails on the unique index once the other one
committed) reads the keys again: the payment the other one recorded is now `unchanged`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.api.bulk import BulkResult, BulkStatus, bulk_errors, check_record_count
from apps.core.history import history_context
from apps.customers.models import Customer
from apps.customers.selectors import customer_list
from apps.notifications.services import Notice, notify_each
from apps.webhooks.choices import EventType
from apps.webhooks.events import payment_data
from apps.webhooks.services import webhook_emit_many

from .choices import OPEN_STATUSES, InstallmentStatus, PaymentMethod, PaymentStatus
from .models import Installment, Payment
from .permissions import can_allocate, can_record_payment
from .services import (
    ZERO,
    PaymentReferenceConflict,
    _money,
    _same_payment_or_conflict,
    _today,
    to_money,
)

KEYS = ("bank_reference", "external_id")
# A batch that lost races for its keys reads them again; more than this many lost races in a
# row would take concurrent writers that keep recording the same keys.
ATTEMPTS = 3


@dataclass
class _Record:
    """One valid record of the batch, its customer resolved."""

    index: int
    customer: Customer
    amount: Decimal
    received_on: date
    method: str
    bank_reference: str
    external_id: str
    payer_name: str
    notes: str


@dataclass
class _Open:
    """An open installment as locked: what the FIFO plan reads and moves."""

    id: int
    customer_id: int
    due_date: date
    sequence: int
    amount: Decimal
    paid_amount: Decimal
    written_off_amount: Decimal
    status: str
    paid_at: date | None

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid_amount - self.written_off_amount


@dataclass
class _Plan:
    """What allocating the new payments oldest due first does: the lines of each record and
    the installments' new paid amount, state and paid date."""

    lines: dict[int, list[tuple[int, Decimal]]] = field(default_factory=dict)
    installments: dict[int, _Open] = field(default_factory=dict)

    def allocated(self, index: int) -> Decimal:
        return sum((amount for _id, amount in self.lines.get(index, ())), ZERO)


# --- validation --------------------------------------------------------------------------


def _received_on(value: Any) -> date | None:
    if isinstance(value, date) or value is None:
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _parse(record: Mapping[str, Any], errors: dict[str, list[str]], today: date) -> dict[str, Any]:
    """The record's fields normalised as `payment_record` does, its errors into `errors`."""
    parsed: dict[str, Any] = {}
    try:
        parsed["amount"] = to_money(record.get("amount"), field="amount")
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    received_on = _received_on(record.get("received_on"))
    if received_on is None:
        errors["received_on"] = [_("Give the date the money was received.")]
    elif received_on > today:
        errors["received_on"] = [_("The received date cannot be in the future.")]
    parsed["received_on"] = received_on
    method = record.get("method") or PaymentMethod.BANK_TRANSFER
    if method not in PaymentMethod.values:
        errors["method"] = [_("Choose a payment method.")]
    parsed["method"] = method
    for key in KEYS:
        parsed[key] = str(record.get(key) or "").strip()
    if not parsed["bank_reference"] and not parsed["external_id"]:
        errors["bank_reference"] = [
            _(
                "Give the bank reference (or the external id), so that the payment cannot be "
                "recorded twice."
            )
        ]
    parsed["payer_name"] = str(record.get("payer_name") or "").strip()[:200]
    parsed["notes"] = str(record.get("notes") or "")
    parsed["customer"] = record.get("customer")
    parsed["customer_external_id"] = str(record.get("customer_external_id") or "").strip()
    if parsed["customer"] in (None, "") and not parsed["customer_external_id"]:
        errors["customer"] = [_("Choose the customer.")]
    return parsed


def _check_batch_keys(parsed: Sequence[dict[str, Any]], errors: dict[int, dict]) -> None:
    """A key given twice in the batch: one payment, one key."""
    for key in KEYS:
        label = _("bank reference") if key == "bank_reference" else _("external id")
        first: dict[str, int] = {}
        for index, record in enumerate(parsed):
            value = record.get(key)
            if not value:
                continue
            if value in first:
                errors[index].setdefault(key, []).append(
                    _("Record %(index)s of this request has the same %(field)s.")
                    % {"index": first[value], "field": label}
                )
            else:
                first[value] = index


def _customers(
    by: User, parsed: Sequence[dict[str, Any]], errors: dict[int, dict]
) -> dict[int, Customer]:
    """Each record's customer, by id or external id, in `by`'s scope (one query); an unknown
    one or one outside the scope is an error naming the field that was sent."""
    ids = {p["customer"] for p in parsed if isinstance(p["customer"], int)}
    keys = {p["customer_external_id"] for p in parsed if p["customer_external_id"]}
    found = list(
        customer_list(user=by)
        .filter(Q(pk__in=ids) | (Q(external_id__in=keys) & ~Q(external_id="")))
        .order_by()
        if ids or keys
        else []
    )
    by_id = {c.pk: c for c in found}
    by_key = {c.external_id: c for c in found if c.external_id}
    resolved: dict[int, Customer] = {}
    for index, p in enumerate(parsed):
        customer = None
        if p["customer"] not in (None, ""):
            customer = by_id.get(p["customer"]) if isinstance(p["customer"], int) else None
            if customer is None:
                errors[index]["customer"] = [_("No such customer.")]
                continue
            if p["customer_external_id"] and p["customer_external_id"] != customer.external_id:
                errors[index]["customer_external_id"] = [
                    _("The customer id and the customer's external id name two customers.")
                ]
                continue
        elif p["customer_external_id"]:
            customer = by_key.get(p["customer_external_id"])
            if customer is None:
                errors[index]["customer_external_id"] = [_("No such customer.")]
                continue
        if customer is not None:
            resolved[index] = customer
    return resolved


def _classify(
    records: Sequence[_Record], errors: dict[int, dict]
) -> tuple[list[_Record], list[BulkResult]]:
    """(new records, results of those already recorded), reading the payments that hold the
    batch's keys in one query. The same key with another customer, amount or date is an
    error naming the key, as `payment_record` answers it; a bank reference and an external
    id held by two different payments is an error on the external id."""
    references = [r.bank_reference for r in records if r.bank_reference]
    external_ids = [r.external_id for r in records if r.external_id]
    # "<> ''" spelled out: the planner matches it to the partial unique indexes, which it
    # cannot prove from an IN list of more than 100 values (else a scan of every payment).
    found = Payment.objects.filter(
        (Q(bank_reference__in=references) & ~Q(bank_reference=""))
        | (Q(external_id__in=external_ids) & ~Q(external_id=""))
    ).only("pk", "customer_id", "amount", "received_on", "bank_reference", "external_id")
    by_reference: dict[str, Payment] = {}
    by_external_id: dict[str, Payment] = {}
    for payment in found:
        if payment.bank_reference:
            by_reference[payment.bank_reference] = payment
        if payment.external_id:
            by_external_id[payment.external_id] = payment
    new: list[_Record] = []
    results: list[BulkResult] = []
    for record in records:
        first = by_reference.get(record.bank_reference) if record.bank_reference else None
        second = by_external_id.get(record.external_id) if record.external_id else None
        if first is None and second is None:
            new.append(record)
            continue
        if first is not None and second is not None and first.pk != second.pk:
            errors[record.index]["external_id"] = [
                _("The bank reference and the external id belong to two different payments.")
            ]
            continue
        existing, key = (first, "bank_reference") if first is not None else (second, "external_id")
        try:
            _same_payment_or_conflict(
                existing, key, customer=record.customer, amount=record.amount,
                received_on=record.received_on,
            )  # fmt: skip
        except PaymentReferenceConflict as exc:
            errors[record.index][exc.field] = [exc.message]
            continue
        results.append(
            BulkResult(record.index, BulkStatus.UNCHANGED, existing.pk, existing.external_id)
        )
    return new, results


# --- allocation --------------------------------------------------------------------------


def _lock_open_installments(customer_ids: Iterable[int]) -> list[_Open]:
    """The customers' open installments, locked in id order (the order of every service: no
    deadlock) in one statement. A row another transaction is changing is waited for and read
    again: one it paid meanwhile drops out of the status filter."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    rows = (
        Installment.objects.select_for_update()
        .filter(customer_id__in=ids, status__in=OPEN_STATUSES)
        .order_by("id")
        .values_list(
            "id", "customer_id", "due_date", "sequence", "amount", "paid_amount",
            "written_off_amount", "status", "paid_at",
        )
    )  # fmt: skip
    return [_Open(*row) for row in rows]


def _plan(records: Sequence[_Record], locked: Sequence[_Open], today: date) -> _Plan:
    """Allocate each new payment, in the order sent, oldest due first (due date, then the
    contract's installment order, then id: `services._fifo_order`) over what the payments
    before it left open — what `payment_allocate` does one payment after the other."""
    plan = _Plan()
    by_customer: dict[int, list[_Open]] = defaultdict(list)
    for row in sorted(locked, key=lambda r: (r.due_date, r.sequence, r.id)):
        # A copy: a retry after a lost race plans again from the locked state.
        by_customer[row.customer_id].append(_Open(**vars(row)))
    for record in records:
        left = record.amount
        lines: list[tuple[int, Decimal]] = []
        for installment in by_customer.get(record.customer.pk, ()):
            if left <= 0:
                break
            if installment.open_amount <= 0:
                continue
            take = min(left, installment.open_amount)
            lines.append((installment.id, take))
            left -= take
            # As `services._apply`: paid when nothing is open (paid on today), else partly.
            installment.paid_amount += take
            if installment.open_amount == 0:
                installment.status = InstallmentStatus.PAID
                installment.paid_at = today
            else:
                installment.status = InstallmentStatus.PARTIALLY_PAID
            plan.installments[installment.id] = installment
        if lines:
            plan.lines[record.index] = lines
    return plan


def _insert_payments(records: Sequence[_Record], plan: _Plan, by: User, now: datetime) -> list[int]:
    """INSERT the new payments, their allocated amount planned, in one statement; their ids
    in the order of `records` (matched by their keys, unique in the batch)."""
    if not records:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO receivables_payment
                   (customer_id, owner_id, amount, received_on, method, bank_reference,
                    external_id, payer_name, notes, allocated_amount, status, reversal_reason,
                    recorded_by_id, created_at, updated_at)
            SELECT u.*, %s, '', %s, %s, %s
              FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::date[], %s::varchar[],
                          %s::varchar[], %s::varchar[], %s::varchar[], %s::text[], %s::numeric[])
                   AS u
            RETURNING id, bank_reference, external_id
            """,
            [
                PaymentStatus.RECORDED.value, by.pk, now, now,
                [r.customer.pk for r in records], [r.customer.owner_id for r in records],
                [r.amount for r in records], [r.received_on for r in records],
                [r.method for r in records], [r.bank_reference for r in records],
                [r.external_id for r in records], [r.payer_name for r in records],
                [r.notes for r in records], [plan.allocated(r.index) for r in records],
            ],
        )  # fmt: skip
        ids = {(reference, key): pk for pk, reference, key in cursor.fetchall()}
    return [ids[(r.bank_reference, r.external_id)] for r in records]


def _insert_allocations(
    records: Sequence[_Record], ids: Sequence[int], plan: _Plan, by: User, today: date, now
) -> dict[int, list[dict[str, Any]]]:
    """INSERT the planned allocations in one statement; per payment id, its allocations (id,
    installment, amount) in the order planned."""
    lines = [
        (pk, installment_id, amount)
        for record, pk in zip(records, ids, strict=True)
        for installment_id, amount in plan.lines.get(record.index, ())
    ]
    if not lines:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO receivables_allocation
                   (payment_id, installment_id, amount, allocated_on, created_by_id, created_at)
            SELECT u.*, %s, %s, %s FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[]) AS u
            RETURNING id, payment_id, installment_id, amount
            """,
            [
                today, by.pk, now,
                [line[0] for line in lines], [line[1] for line in lines],
                [line[2] for line in lines],
            ],
        )  # fmt: skip
        rows = sorted(cursor.fetchall())
    by_payment: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for pk, payment_id, installment_id, amount in rows:
        by_payment[payment_id].append({"id": pk, "installment": installment_id, "amount": amount})
    return by_payment


def _update_installments(installments: Iterable[_Open], now: datetime) -> None:
    """Write the planned paid amounts, states and paid dates in one UPDATE (their rows are
    locked: the values are the current ones plus this batch's allocations)."""
    rows = sorted(installments, key=lambda r: r.id)
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE receivables_installment AS i
               SET paid_amount = v.paid_amount, status = v.status, paid_at = v.paid_at,
                   updated_at = %s
              FROM unnest(%s::bigint[], %s::numeric[], %s::varchar[], %s::date[])
                   AS v(id, paid_amount, status, paid_at)
             WHERE i.id = v.id
            """,
            [
                now, [r.id for r in rows], [r.paid_amount for r in rows],
                [str(r.status) for r in rows], [r.paid_at for r in rows],
            ],
        )  # fmt: skip


# --- side effects ------------------------------------------------------------------------


def _payment(record: _Record, pk: int, plan: _Plan, now: datetime) -> Payment:
    """The payment as inserted (for an event's payload), without reading it back."""
    return Payment(
        pk=pk, customer=record.customer, owner_id=record.customer.owner_id,
        amount=record.amount, received_on=record.received_on, method=record.method,
        bank_reference=record.bank_reference, external_id=record.external_id,
        payer_name=record.payer_name, notes=record.notes,
        allocated_amount=plan.allocated(record.index), created_at=now, updated_at=now,
    )  # fmt: skip


def _emit_events(
    records: Sequence[_Record],
    ids: Sequence[int],
    plan: _Plan,
    allocations: Mapping[int, list[dict[str, Any]]],
    now: datetime,
) -> None:
    """`payment.recorded` for every new payment and `payment.allocated` for those allocated,
    one set-based emit per kind (nothing is sent for a rollback). The payloads are built only
    when someone subscribed."""

    def recorded() -> Iterable[dict[str, Any]]:
        for record, pk in zip(records, ids, strict=True):
            yield {"payment": payment_data(_payment(record, pk, plan, now))}

    def allocated() -> Iterable[dict[str, Any]]:
        for record, pk in zip(records, ids, strict=True):
            if allocations.get(pk):
                payment = _payment(record, pk, plan, now)
                yield {"payment": payment_data(payment), "allocations": allocations[pk]}

    webhook_emit_many(EventType.PAYMENT_RECORDED, items=recorded())
    webhook_emit_many(EventType.PAYMENT_ALLOCATED, items=allocated())


def _notify_owners(records: Sequence[_Record], ids: Sequence[int], plan: _Plan, by: User) -> None:
    """Tell each customer's owner once what was allocated of the batch's payments of that
    customer (not once per payment), in one `notify_each`. The link is the payment, or the
    customer when it paid several."""
    per_customer: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    customers: dict[int, Customer] = {}
    for record, pk in zip(records, ids, strict=True):
        allocated = plan.allocated(record.index)
        if allocated > 0:
            per_customer[record.customer.pk].append((pk, allocated))
            customers[record.customer.pk] = record.customer
    if not per_customer:
        return
    # Resolved once for the batch, not once a notification.
    title = _("Payment allocated: %(customer)s, %(amount)s")
    body = _("A payment from your customer was allocated to its installments.")
    payment_url, customer_url = _url_of("receivables:payment_detail"), _url_of("customers:detail")
    notices: list[Notice] = []
    for customer_id, group in per_customer.items():
        customer = customers[customer_id]
        total = sum((amount for _pk, amount in group), ZERO)
        url = payment_url(group[0][0]) if len(group) == 1 else customer_url(customer_id)
        title_of = title % {"customer": customer.name, "amount": _money(total)}
        notices.append(Notice(customer.owner, title_of, url, body))
    notify_each(notices, actor=by)


def _url_of(name: str) -> Callable[[int], str]:
    """The address of the page `name` of an object by its id, reversed once: reversing a
    thousand times costs more than the rest of the notifications."""
    marker = 2**31 - 1
    pattern = reverse(name, args=[marker])
    return lambda pk: pattern.replace(str(marker), str(pk))


# --- the use case ------------------------------------------------------------------------


@transaction.atomic
def payment_bulk_record(
    *, by: User, records: Sequence[Mapping[str, Any]], allocate: bool = True
) -> list[BulkResult]:
    """Record up to 1,000 payments received (回款) all or none, and allocate the new ones.

    Each record: `customer` (id) or `customer_external_id`, `amount`, `received_on`,
    `method`, `bank_reference` and/or `external_id` (at least one), `payer_name`, `notes`.
    Any invalid record — a field, an unknown customer or one outside `by`'s scope, a key
    given twice in the batch, a key already recorded with another customer, amount or date —
    is a ValidationError naming `records.<index>.<field>`, and nothing is written.

    With `allocate` each new payment is allocated oldest due first over its customer's open
    installments, in the order sent; the rest is the customer's credit balance (a customer
    with nothing open keeps the whole payment unallocated). Returns one result per record:
    `created`, or `unchanged` for a payment already recorded with the same customer, amount
    and date (not allocated again).
    """
    if not can_record_payment(by) or (allocate and not can_allocate(by)):
        raise PermissionDenied(_("Only finance can record payments."))
    check_record_count(records)
    errors: dict[int, dict[str, list[str]]] = defaultdict(dict)
    today = _today()
    parsed = [_parse(record, errors[index], today) for index, record in enumerate(records)]
    _check_batch_keys(parsed, errors)
    customers = _customers(by, parsed, errors)
    errors = {index: found for index, found in errors.items() if found}
    if errors:
        raise bulk_errors(errors)
    valid = [
        _Record(
            index=index, customer=customers[index], amount=p["amount"],
            received_on=p["received_on"], method=p["method"],
            bank_reference=p["bank_reference"], external_id=p["external_id"],
            payer_name=p["payer_name"], notes=p["notes"],
        )
        for index, p in enumerate(parsed)
    ]  # fmt: skip

    with history_context(action="payment_bulk_record"):
        return _record_new(by, valid, allocate)


def _record_new(by: User, valid: Sequence[_Record], allocate: bool) -> list[BulkResult]:
    """Record the valid records that are new (reading the keys again after a lost race),
    allocate them as planned, raise the events, tell the owners."""
    today, now = _today(), timezone.now()
    locked: list[_Open] | None = None
    for _attempt in range(ATTEMPTS):
        errors: dict[int, dict[str, list[str]]] = defaultdict(dict)
        new, results = _classify(valid, errors)
        if errors:
            raise bulk_errors(errors)
        if allocate and new and locked is None:
            # Locked once: a retry's new records are a subset of the first attempt's.
            locked = _lock_open_installments(r.customer.pk for r in new)
        plan = _plan(new, locked or [], today) if allocate else _Plan()
        try:
            with transaction.atomic():
                ids = _insert_payments(new, plan, by, now)
        except IntegrityError:
            # Another request recorded one of these keys and committed: read them again.
            continue
        break
    else:
        raise IntegrityError("payment keys kept being recorded concurrently")

    allocations = _insert_allocations(new, ids, plan, by, today, now)
    _update_installments(plan.installments.values(), now)
    _emit_events(new, ids, plan, allocations, now)
    _notify_owners(new, ids, plan, by)
    results += [
        BulkResult(r.index, BulkStatus.CREATED, pk, r.external_id)
        for r, pk in zip(new, ids, strict=True)
    ]
    return sorted(results, key=lambda r: r.index)
