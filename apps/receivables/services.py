"""Receivables use cases: record a payment (回款), allocate it (核销), reverse it (冲销), apply a
customer's credit balance (预收款), and bad-debt write-offs (坏账核销) through approval.

Locking (DESIGN.md "Concurrency"): every service that moves money locks the payment(s) first,
then the installments, each set in id order, with `select_for_update`. Two finance users
allocating two payments to one installment are therefore serialised on the installment, and the
second one reads the installment's paid amount *after* the first committed; two allocations of
the same payment are serialised on the payment. The database's check constraints
(`installment_paid_within_amount`, `payment_allocated_within_amount`) refuse an over-payment
even if a future code path forgot a lock.

Nothing is deleted: a reversal marks allocations `reversed_at`, a reversed payment keeps its
row and its reason, and every row is tracked in history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_assert_editable, approval_submit
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.core.versions import check_version
from apps.customers.models import Customer
from apps.notifications.services import notify
from apps.webhooks.choices import EventType
from apps.webhooks.events import payment_event

from .choices import OPEN_STATUSES, InstallmentStatus, PaymentMethod, PaymentStatus, WriteOffStatus
from .models import Allocation, Installment, Payment, WriteOff
from .permissions import can_allocate, can_record_payment, can_reverse_payment, can_write_off

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")  # NUMERIC(14,2)


def _today() -> date:
    return timezone.localdate()


def to_money(value: Any, *, field: str) -> Decimal:
    """A positive amount to the cent; more than two decimals is refused, not rounded away."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            {field: [_("Enter an amount, e.g. 1234.56.")]}, code="invalid"
        ) from None
    if not amount.is_finite():
        raise ValidationError({field: [_("Enter an amount, e.g. 1234.56.")]}, code="invalid")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValidationError({field: [_("Amounts are to the cent (two decimals at most).")]})
    if amount <= 0:
        raise ValidationError({field: [_("The amount must be greater than zero.")]})
    if amount > MAX_AMOUNT:
        raise ValidationError({field: [_("The amount is too large.")]})
    return amount.quantize(CENT)


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


# --- recording ---------------------------------------------------------------------------


class PaymentReferenceConflict(Conflict):
    """The bank reference or external id is already the key of a different payment (409)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, code="reference_conflict")
        self.field = field


@dataclass(frozen=True)
class RecordResult:
    payment: Payment
    created: bool


def _existing_payment(bank_reference: str, external_id: str) -> tuple[Payment | None, str]:
    """The payment already holding this bank reference or external id, and which field."""
    if bank_reference:
        found = Payment.objects.filter(bank_reference=bank_reference).first()
        if found is not None:
            return found, "bank_reference"
    if external_id:
        found = Payment.objects.filter(external_id=external_id).first()
        if found is not None:
            return found, "external_id"
    return None, ""


def _same_payment_or_conflict(
    existing: Payment, field: str, *, customer: Customer, amount: Decimal, received_on: date
) -> RecordResult:
    """The same payment sent again is the existing one; the same key with another customer,
    amount or date is a conflict naming the key."""
    label = _("bank reference") if field == "bank_reference" else _("external id")
    if existing.amount != amount:
        raise PaymentReferenceConflict(
            _(
                "A payment with this %(field)s was already recorded with another amount "
                "(%(amount)s)."
            )
            % {"field": label, "amount": _money(existing.amount)},
            field=field,
        )
    if existing.customer_id != customer.pk or existing.received_on != received_on:
        raise PaymentReferenceConflict(
            _(
                "A payment with this %(field)s was already recorded for another customer or "
                "another date."
            )
            % {"field": label},
            field=field,
        )
    return RecordResult(existing, created=False)


@transaction.atomic
def payment_record(
    *,
    by: User,
    customer: Customer,
    amount: Any,
    received_on: date,
    method: str = PaymentMethod.BANK_TRANSFER,
    bank_reference: str = "",
    external_id: str = "",
    payer_name: str = "",
    notes: str = "",
) -> RecordResult:
    """Record a payment received (回款) from `customer`, unallocated.

    Idempotent: the same bank reference or external id again answers the existing payment
    (`created=False`); the same key with another amount, customer or date is a
    `PaymentReferenceConflict` (409) naming the key. The partial unique indexes back this up
    when two identical postings race: the loser's INSERT fails in its savepoint and it answers
    the winner's row. The owner is the customer's owner now (scope and the rep's figures).
    """
    if not can_record_payment(by):
        raise PermissionDenied(_("Only finance can record payments."))
    amount = to_money(amount, field="amount")
    bank_reference = (bank_reference or "").strip()
    external_id = (external_id or "").strip()
    errors: dict[str, list[str]] = {}
    if received_on is None:
        errors["received_on"] = [_("Give the date the money was received.")]
    elif received_on > _today():
        errors["received_on"] = [_("The received date cannot be in the future.")]
    if method not in PaymentMethod.values:
        errors["method"] = [_("Choose a payment method.")]
    if not bank_reference and not external_id:
        errors["bank_reference"] = [
            _(
                "Give the bank reference (or the external id), so that the payment cannot be "
                "recorded twice."
            )
        ]
    if errors:
        raise ValidationError(errors)

    existing, field = _existing_payment(bank_reference, external_id)
    if existing is not None:
        return _same_payment_or_conflict(
            existing, field, customer=customer, amount=amount, received_on=received_on
        )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                customer=customer,
                owner_id=customer.owner_id,
                amount=amount,
                received_on=received_on,
                method=method,
                bank_reference=bank_reference,
                external_id=external_id,
                payer_name=(payer_name or "").strip()[:200],
                notes=notes or "",
                recorded_by=by,
            )
    except IntegrityError:
        existing, field = _existing_payment(bank_reference, external_id)
        if existing is None:
            raise
        return _same_payment_or_conflict(
            existing, field, customer=customer, amount=amount, received_on=received_on
        )
    payment_event(EventType.PAYMENT_RECORDED, payment)
    return RecordResult(payment, created=True)


def _lock_by_external_id(key: str) -> Payment | None:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(external_id=key)
        .first()
    )


@transaction.atomic
def payment_upsert_external(
    *,
    by: User,
    external_id: str,
    customer: Customer | None,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> tuple[Payment, bool]:
    """Record the payment the ERP knows as `external_id`, or answer it again (PUT
    payments/external/<id>/): (payment, created).

    A new one is recorded by `payment_record` (`customer`, amount and received date needed).
    An existing one must have the customer, amount and received date sent — money received
    does not change: the ERP reverses it and posts another payment — else a
    `PaymentReferenceConflict` (409) names the field; method, payer and notes change when
    sent, a missing bank reference may be filled in. An existing one outside `by`'s scope is
    a 404; one changed since the version the ERP read (`expected_version`) a StaleVersion.
    """
    key = (external_id or "").strip()
    if not key or len(key) > 100:
        raise ValidationError({"external_id": [_("Give an external id of 1 to 100 characters.")]})
    payment = _lock_by_external_id(key)
    if payment is None:
        if customer is None:
            raise ValidationError({"customer": [_("Choose the customer.")]})
        fields = ("amount", "received_on", "method", "bank_reference", "payer_name", "notes")
        result = payment_record(
            by=by, customer=customer, external_id=key, **{f: data[f] for f in fields if f in data}
        )
        if result.created:
            return result.payment, True
        if result.payment.external_id != key:
            raise PaymentReferenceConflict(
                _("The bank reference and the external id belong to two different payments."),
                field="bank_reference",
            )
        payment = _lock_by_external_id(key)  # recorded meanwhile by a concurrent upsert
    if not Payment.objects.visible_to(by).filter(pk=payment.pk).exists():
        raise Http404
    if not can_record_payment(by):
        raise PermissionDenied(_("Only finance can record payments."))
    check_version(payment, expected_version)
    sent = {
        "amount": (
            to_money(data["amount"], field="amount") if data.get("amount") is not None else None,
            payment.amount,
            _money,
        ),
        "customer": (customer.pk if customer else None, payment.customer_id, None),
        "received_on": (data.get("received_on"), payment.received_on, date.isoformat),
    }
    for name, (value, current, show) in sent.items():
        if value is not None and value != current:
            shown = show(current) if show else payment.customer.name
            raise PaymentReferenceConflict(
                _(
                    "The payment with this external id was recorded with another %(field)s "
                    "(%(value)s): reverse it and post the right payment with a new external id."
                )
                % {"field": Payment._meta.get_field(name).verbose_name, "value": shown},
                field=name,
            )
    return _payment_change(payment, data), False


def _payment_change(payment: Payment, data: dict[str, Any]) -> Payment:
    """Apply the descriptive fields an upsert may change (method, payer, notes) and a bank
    reference where there was none; save only when something changed."""
    changed: list[str] = []
    if "method" in data and data["method"] != payment.method:
        if data["method"] not in PaymentMethod.values:
            raise ValidationError({"method": [_("Choose a payment method.")]})
        payment.method = data["method"]
        changed.append("method")
    for name, value in (
        ("payer_name", (data.get("payer_name") or "").strip()[:200]),
        ("notes", data.get("notes") or ""),
    ):
        if name in data and value != getattr(payment, name):
            setattr(payment, name, value)
            changed.append(name)
    reference = (data.get("bank_reference") or "").strip()
    if reference and reference != payment.bank_reference:
        if payment.bank_reference:
            raise PaymentReferenceConflict(
                _("The bank reference of a recorded payment cannot change."),
                field="bank_reference",
            )
        payment.bank_reference = reference
        changed.append("bank_reference")
    if changed:
        try:
            with transaction.atomic():
                payment.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise PaymentReferenceConflict(
                _("The bank reference and the external id belong to two different payments."),
                field="bank_reference",
            ) from None
    return payment


# --- allocation --------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationLine:
    """One chosen line of an allocation: this much of the payment to this installment."""

    installment: Installment
    amount: Decimal


def _lock_payment(payment: Payment) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=payment.pk)
    )


def _lock_installments(ids: Iterable[int]) -> dict[int, Installment]:
    """Lock installments in id order (the one order every service uses: no deadlock)."""
    rows = Installment.objects.select_for_update().filter(pk__in=set(ids)).order_by("id")
    return {row.pk: row for row in rows}


def _fifo_order(installment: Installment) -> tuple:
    # Oldest due first (DESIGN.md "receivables"); the contract's order and the id break ties.
    return (installment.due_date, installment.sequence, installment.pk)


def _apply(installment: Installment, amount: Decimal, today: date) -> None:
    """Raise the installment's paid amount and move its state: paid when nothing is open."""
    installment.paid_amount += amount
    if installment.open_amount == 0:
        installment.pay()
        installment.paid_at = today
    else:
        installment.pay_partly()
    installment.save()


def _unapply(installment: Installment, amount: Decimal) -> None:
    """Take an allocation back: partially paid while something is still paid, else due (the
    daily job puts a not-yet-due installment right)."""
    if installment.status == InstallmentStatus.WRITTEN_OFF:
        raise Conflict(
            _(
                "Installment %(installment)s was written off; its allocations can no longer be "
                "taken back."
            )
            % {"installment": installment},
            code="written_off",
        )
    installment.paid_amount -= amount
    installment.paid_at = None
    if installment.paid_amount == 0:
        installment.unpay()
    else:
        installment.pay_partly()
    installment.save()


def _check_lines(
    payment: Payment, lines: Sequence[AllocationLine | tuple[Installment, Any]]
) -> list[tuple[int, Decimal]]:
    """Validate the chosen lines' shape: (installment id, amount) each, errors by line."""
    if not lines:
        raise ValidationError({"lines": [_("Give at least one installment and amount.")]})
    errors: dict[str, list[str]] = {}
    parsed: list[tuple[int, Decimal]] = []
    seen: set[int] = set()
    for index, line in enumerate(lines):
        installment, raw = (
            (line.installment, line.amount) if isinstance(line, AllocationLine) else line
        )
        try:
            amount = to_money(raw, field=f"lines.{index}.amount")
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
            continue
        if installment.customer_id != payment.customer_id:
            errors.setdefault(f"lines.{index}.installment", []).append(
                _("This installment belongs to another customer.")
            )
            continue
        if installment.pk in seen:
            errors.setdefault(f"lines.{index}.installment", []).append(
                _("This installment is already on another line.")
            )
            continue
        seen.add(installment.pk)
        parsed.append((installment.pk, amount))
    if errors:
        raise ValidationError(errors)
    return parsed


def _allocate_locked(
    payment: Payment, *, by: User | None, lines: Sequence[Any] | None
) -> list[Allocation]:
    """Allocate a locked payment (see `payment_allocate`)."""
    if payment.status != PaymentStatus.RECORDED:
        raise Conflict(_("A reversed payment cannot be allocated."), code="reversed")
    unallocated = payment.amount - payment.allocated_amount
    if unallocated <= 0:
        raise Conflict(_("This payment is fully allocated already."), code="fully_allocated")
    today = _today()

    if lines is None:
        candidate_ids = Installment.objects.filter(
            customer_id=payment.customer_id, status__in=OPEN_STATUSES
        ).values_list("pk", flat=True)
        locked = _lock_installments(candidate_ids)
        # Re-read under the lock: another allocation may have paid some meanwhile.
        plan: list[tuple[Installment, Decimal]] = []
        left = unallocated
        for installment in sorted(locked.values(), key=_fifo_order):
            if left <= 0:
                break
            if installment.status not in OPEN_STATUSES or installment.open_amount <= 0:
                continue
            take = min(left, installment.open_amount)
            plan.append((installment, take))
            left -= take
        if not plan:
            raise Conflict(
                _("This customer has no open installment to allocate the payment to."),
                code="nothing_open",
            )
    else:
        parsed = _check_lines(payment, lines)
        locked = _lock_installments(pk for pk, _amount in parsed)
        errors: dict[str, list[str]] = {}
        plan = []
        running = ZERO
        for index, (pk, amount) in enumerate(parsed):
            installment = locked[pk]
            if installment.status not in OPEN_STATUSES:
                errors[f"lines.{index}.installment"] = [
                    _("This installment is %(status)s: nothing is open on it.")
                    % {"status": installment.get_status_display()}
                ]
                continue
            if amount > installment.open_amount:
                errors[f"lines.{index}.amount"] = [
                    _("At most %(open)s is open on this installment.")
                    % {"open": _money(installment.open_amount)}
                ]
                continue
            running += amount
            if running > unallocated:
                errors[f"lines.{index}.amount"] = [
                    _("The lines exceed the payment's unallocated amount (%(left)s).")
                    % {"left": _money(unallocated)}
                ]
                continue
            plan.append((installment, amount))
        if errors:
            raise ValidationError(errors)

    allocations = Allocation.objects.bulk_create(
        Allocation(payment=payment, installment=installment, amount=amount, allocated_on=today,
                   created_by=by)
        for installment, amount in plan
    )  # fmt: skip
    for installment, amount in plan:
        _apply(installment, amount, today)
    payment.allocated_amount += sum((amount for _i, amount in plan), ZERO)
    payment.save(update_fields=["allocated_amount", "updated_at"])
    _notify_allocated(payment, sum((amount for _i, amount in plan), ZERO), by)
    payment_event(EventType.PAYMENT_ALLOCATED, payment, allocations=allocations)
    return allocations


def _notify_allocated(payment: Payment, total: Decimal, by: User | None) -> None:
    """Tell the customer's owner once the allocation committed (a rollback tells nobody)."""
    customer = payment.customer
    if customer.owner_id is None:
        return
    owner_id, customer_name, url = customer.owner_id, customer.name, payment.get_absolute_url()

    def send() -> None:
        owner = User.objects.filter(pk=owner_id, is_active=True).first()
        if owner is None:
            return
        notify(
            recipients=[owner],
            title=_("Payment allocated: %(customer)s, %(amount)s")
            % {"customer": customer_name, "amount": _money(total)},
            body=_("A payment from your customer was allocated to its installments."),
            url=url,
            actor=by,
        )

    transaction.on_commit(send)


@transaction.atomic
def payment_allocate(
    *, payment: Payment, by: User, lines: Sequence[AllocationLine | tuple] | None = None
) -> list[Allocation]:
    """Allocate (核销) a payment's unallocated amount to the customer's open installments.

    Oldest due first (due date, then the contract's installment order) unless `lines` names
    the installments and amounts. Never more than an installment's open amount (amount − paid
    − written off) nor than the payment's unallocated amount: a chosen line that would is a
    ValidationError naming it (`lines.<i>.amount`). Locks the payment, then the installments
    in id order, so that concurrent allocations cannot over-pay. What stays unallocated is the
    customer's credit balance (预收款). The customer's owner is notified after commit.
    """
    if not can_allocate(by):
        raise PermissionDenied(_("Only finance can allocate payments."))
    payment = _lock_payment(payment)
    return _allocate_locked(payment, by=by, lines=lines)


@transaction.atomic
def credit_balance_apply(*, customer: Customer, by: User | None = None) -> list[Allocation]:
    """Apply the customer's credit balance (预收款: the unallocated part of its payments) to its
    open installments, oldest payment first, each oldest due first.

    Called when new installments appear (a contract is signed) by whoever caused that, or by
    finance from the page: it applies money already received by the fixed rule, so it needs no
    finance right. Locks every such payment (id order) before any installment.
    """
    payments = list(
        Payment.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(customer=customer, status=PaymentStatus.RECORDED, allocated_amount__lt=F("amount"))
        .order_by("id")
    )
    allocations: list[Allocation] = []
    for payment in sorted(payments, key=lambda p: (p.received_on, p.pk)):
        try:
            allocations += _allocate_locked(payment, by=by, lines=None)
        except Conflict as exc:
            if exc.code == "nothing_open":
                break
            raise
    return allocations


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason.")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("The reason is at most 300 characters.")]})
    return reason


def _undo(allocations: list[Allocation], by: User, now) -> Decimal:
    """Reverse live allocations (their installments locked by the caller)."""
    locked = _lock_installments(a.installment_id for a in allocations)
    total = ZERO
    for allocation in allocations:
        _unapply(locked[allocation.installment_id], allocation.amount)
        allocation.reversed_at = now
        allocation.reversed_by = by
        allocation.save(update_fields=["reversed_at", "reversed_by"])
        total += allocation.amount
    return total


@transaction.atomic
def allocation_reverse(*, allocation: Allocation, by: User, reason: str) -> Allocation:
    """Take one allocation back (to allocate the money differently): the installment's paid
    amount goes down and its state back, the payment's unallocated amount up. The allocation
    row stays, marked reversed; the reason is kept in the history context."""
    if not can_allocate(by):
        raise PermissionDenied(_("Only finance can take allocations back."))
    reason = _reason(reason)
    payment = _lock_payment(allocation.payment)
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.reversed_at is not None:
        raise Conflict(_("This allocation was already taken back."), code="already_reversed")
    with history_context(action="allocation_reverse", reason=reason):
        total = _undo([allocation], by, timezone.now())
        payment.allocated_amount -= total
        payment.save(update_fields=["allocated_amount", "updated_at"])
    return allocation


@transaction.atomic
def payment_reverse(*, payment: Payment, by: User, reason: str) -> Payment:
    """Reverse (冲销) a wrong payment, with a reason: every live allocation is taken back (the
    installments' paid amounts go down and their states back), then the payment is reversed
    with nothing allocated. Never deleted; the history keeps every step."""
    if not can_reverse_payment(by):
        raise PermissionDenied(_("Only finance can reverse payments."))
    reason = _reason(reason)
    payment = _lock_payment(payment)
    if payment.status != PaymentStatus.RECORDED:
        raise Conflict(_("This payment is already reversed."), code="already_reversed")
    now = timezone.now()
    with history_context(action="payment_reverse", reason=reason):
        live = list(
            Allocation.objects.select_for_update()
            .filter(payment=payment, reversed_at__isnull=True)
            .order_by("id")
        )
        _undo(live, by, now)
        payment.allocated_amount = ZERO
        payment.reversal_reason = reason
        payment.reversed_at = now
        payment.reverse()
        payment.save()
    payment_event(EventType.PAYMENT_REVERSED, payment, reason=reason)
    return payment


# --- bad-debt write-offs -----------------------------------------------------------------


def _writeoff_amount(installment: Installment, amount: Any) -> Decimal:
    amount = to_money(amount, field="amount")
    if installment.status not in OPEN_STATUSES:
        raise Conflict(
            _("This installment is %(status)s: nothing is open to write off.")
            % {"status": installment.get_status_display()},
            code="not_open",
        )
    if amount > installment.open_amount:
        raise ValidationError(
            {
                "amount": [
                    _("At most the open amount (%(open)s) can be written off.")
                    % {"open": _money(installment.open_amount)}
                ]
            }
        )
    return amount


def _writeoff_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the money cannot be collected.")]})
    return reason


@transaction.atomic
def writeoff_create(*, installment: Installment, by: User, amount: Any, reason: str) -> WriteOff:
    """Start a bad-debt write-off (坏账核销) of an installment's open amount or less (a draft
    for finance to submit). One open write-off per installment."""
    if not can_write_off(by):
        raise PermissionDenied(_("Only finance can apply for a write-off."))
    installment = Installment.objects.select_for_update().get(pk=installment.pk)
    amount = _writeoff_amount(installment, amount)
    reason = _writeoff_reason(reason)
    try:
        with transaction.atomic():
            return WriteOff.objects.create(
                installment=installment, owner=by, amount=amount, reason=reason
            )
    except IntegrityError:
        raise Conflict(
            _("This installment already has an open write-off."), code="already_open"
        ) from None


def _lock_own_draft(writeoff: WriteOff, by: User) -> WriteOff:
    writeoff = WriteOff.objects.select_for_update().get(pk=writeoff.pk)
    if writeoff.owner_id != by.pk:
        raise PermissionDenied(_("Only the applicant can change this write-off."))
    approval_assert_editable(writeoff)
    if writeoff.status != WriteOffStatus.DRAFT:
        raise Conflict(
            _("This write-off is %(status)s and can no longer be changed.")
            % {"status": writeoff.get_status_display()},
            code="not_draft",
        )
    return writeoff


@transaction.atomic
def writeoff_update(*, writeoff: WriteOff, by: User, amount: Any, reason: str) -> WriteOff:
    """Revise a draft write-off (also after a return)."""
    writeoff = _lock_own_draft(writeoff, by)
    installment = Installment.objects.select_for_update().get(pk=writeoff.installment_id)
    writeoff.amount = _writeoff_amount(installment, amount)
    writeoff.reason = _writeoff_reason(reason)
    writeoff.save()
    return writeoff


@transaction.atomic
def writeoff_submit(*, writeoff: WriteOff, by: User, comment: str = "") -> ApprovalRequest:
    """Submit (or resubmit) the write-off to the policy "receivables.writeoff" (finance, then
    the manager). The submitter cannot approve it: another finance user does."""
    writeoff = _lock_own_draft(writeoff, by)
    return approval_submit(document=writeoff, by=by, comment=comment)


def on_writeoff_submitted(writeoff: WriteOff, request: ApprovalRequest) -> None:
    """Refuse a write-off larger than what is open now; else it is pending."""
    installment = Installment.objects.select_for_update().get(pk=writeoff.installment_id)
    _writeoff_amount(installment, writeoff.amount)
    writeoff.submit()
    writeoff.return_comment = ""
    writeoff.save()


def on_writeoff_approved(writeoff: WriteOff, request: ApprovalRequest) -> None:
    """Take the amount off the installment's books; written off when nothing is left open."""
    installment = Installment.objects.select_for_update().get(pk=writeoff.installment_id)
    if installment.status not in OPEN_STATUSES or writeoff.amount > installment.open_amount:
        raise Conflict(
            _(
                "The installment's open amount (%(open)s) is now less than the write-off; "
                "return it so that the applicant can revise it."
            )
            % {"open": _money(installment.open_amount)},
            code="exceeds_open",
        )
    installment.written_off_amount += writeoff.amount
    if installment.open_amount == 0:
        installment.write_off()
    installment.save()
    writeoff.approve()
    writeoff.approved_at = timezone.now()
    writeoff.save()
