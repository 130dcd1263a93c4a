"""Contract use cases (合同): draft, revise, submit with the credit check, sign (which creates
the receivable installments), execute, complete, terminate; amendments (补充协议); the approval
callbacks; and the nightly customer tier recompute.

Rules (issue 6, DESIGN.md "contracts", seed 000):

- **Lines** are validated like a quote's (`apps.opportunities.quotes.clean_lines`: every error
  names `lines[<index>].<field>`); the amount is the sum of the line amounts.
- **Payment terms** (付款条款) are replaced as a set. Each has a kind, a due date and either an
  amount or a percentage of the total. A percentage becomes an amount half-up to the cent and
  the last term given by a percentage takes the rounding difference, so the terms add up to
  the amount to the cent; a set that does not add up (100 % / the amount) is a field error
  on `terms`. The credit portion (赊销部分) is the amount less the prepayment terms.
- **Credit check** at submission: a customer on credit hold cannot submit at all; otherwise,
  with the customer's row locked (two submissions for one customer are serialised), a credit
  portion above the available credit less the contracts already pending raises the flag
  "credit_override", which adds the manager and finance steps to the approval chain. Signing
  checks again, unless the approval included the credit override.
- **Signing** creates the installments, activates the customer and wins the opportunity, in
  one transaction.

Locks are always taken in the order contract → customer → opportunity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from apps.accounts.models import User
from apps.approvals.choices import RequestStatus
from apps.approvals.models import ApprovalRequest
from apps.approvals.services import (
    approval_assert_editable,
    approval_request_for,
    approval_submit,
)
from apps.core.errors import Conflict
from apps.core.fsm import unmet_messages
from apps.core.history import history_context
from apps.core.versions import check_version
from apps.customers.choices import CustomerStatus
from apps.customers.credit import customer_credit
from apps.customers.models import Customer
from apps.customers.selectors import customer_editable_q
from apps.notifications.services import notify
from apps.opportunities.choices import QuoteStatus, Stage
from apps.opportunities.models import Opportunity, Quote
from apps.opportunities.quotes import LineInput, clean_lines, parse_decimal, quote_totals
from apps.receivables.choices import InstallmentStatus
from apps.receivables.exposure import pending_contracts
from apps.receivables.models import Installment
from apps.webhooks.choices import EventType
from apps.webhooks.events import contract_event

from .choices import AmendmentStatus, ContractStatus, InstallmentKind
from .models import Contract, ContractAmendment, ContractLine, PaymentTerm
from .numbering import next_contract_number
from .permissions import can_work_contract
from .selectors import contract_list

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
MAX_TERMS = 60
MAX_AMOUNT = Decimal("1e12")
CREDIT_OVERRIDE = "credit_override"
SIGNED_STATUSES = (ContractStatus.SIGNED, ContractStatus.EXECUTING, ContractStatus.COMPLETED)
TERM_FIELDS = ("kind", "due_date", "amount", "percentage")
HEADER_FIELDS = (
    "title",
    "penalty_rate_per_day",
    "grace_days",
    "starts_on",
    "ends_on",
    "notes",
    "external_id",
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- payment terms ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TermInput:
    """One payment term before its amount is settled: an `amount` or a `percentage`."""

    kind: str
    due_date: date
    amount: Decimal | None = None
    percentage: Decimal | None = None


def term_amounts(total: Decimal, terms: Sequence[TermInput]) -> list[Decimal] | None:
    """The amount of each term, or None when the terms do not add up to `total`.

    A term given by amount keeps it; a term given by percentage gets total × % / 100, half-up
    to the cent; the last term given by a percentage then takes the rounding difference, so
    that the amounts add up to `total` exactly. "Adds up" is checked on the exact values: Σ
    amounts + total × Σ % / 100 == total (100 % when every term is a percentage)."""
    if not terms:
        return []
    fixed = sum((t.amount for t in terms if t.percentage is None), ZERO)
    percent = sum((t.percentage for t in terms if t.percentage is not None), ZERO)
    if fixed + total * percent / HUNDRED != total:
        return None
    amounts = [
        t.amount if t.percentage is None else _money(total * t.percentage / HUNDRED) for t in terms
    ]
    last_pct = max((i for i, t in enumerate(terms) if t.percentage is not None), default=None)
    if last_pct is not None:
        amounts[last_pct] += total - sum(amounts, ZERO)
        if amounts[last_pct] < 0:  # rounding can never take more than a few cents
            return None
    return amounts


def credit_portion_of(amounts: Sequence[Decimal], kinds: Sequence[str]) -> Decimal:
    """The contract amount less its prepayment terms: the part sold on credit (赊销)."""
    total = sum(amounts, ZERO)
    prepaid = sum(
        (a for a, k in zip(amounts, kinds, strict=True) if k == InstallmentKind.PREPAYMENT), ZERO
    )
    return max(total - prepaid, ZERO)


def _date(raw: Any) -> date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, date):
        return raw
    return date.fromisoformat(str(raw).strip())


def clean_terms(
    raw_terms: Sequence[Mapping[str, Any]], total: Decimal
) -> list[tuple[TermInput, Decimal]]:
    """Validate a set of payment terms against the contract `total`; each error names the
    term and the field as `terms[<index>].<field>` (the message says "Term <n>: …"), and a set
    that does not add up is an error on `terms`. Returns each term with its settled amount."""
    if not isinstance(raw_terms, Sequence) or isinstance(raw_terms, str | bytes):
        raise ValidationError({"terms": [_("Send the payment terms as a list.")]})
    if len(raw_terms) > MAX_TERMS:
        raise ValidationError(
            {"terms": [_("A contract has at most %(n)d payment terms.") % {"n": MAX_TERMS}]}
        )
    errors: dict[str, list[str]] = {}

    def error(index: int, field: str, message: str) -> None:
        errors.setdefault(f"terms[{index}].{field}", []).append(
            _("Term %(number)d: %(message)s") % {"number": index + 1, "message": message}
        )

    cleaned: list[TermInput] = []
    for index, raw in enumerate(raw_terms):
        if not isinstance(raw, Mapping):
            errors.setdefault(f"terms[{index}]", []).append(
                _("Term %(number)d: send the term as an object.") % {"number": index + 1}
            )
            continue
        kind = str(raw.get("kind") or "").strip()
        if kind not in InstallmentKind.values:
            error(index, "kind", _("choose the kind of payment."))
            kind = ""
        due = None
        try:
            due = _date(raw.get("due_date"))
        except (TypeError, ValueError):
            error(index, "due_date", _("enter a date, e.g. 2026-12-31."))
        else:
            if due is None:
                error(index, "due_date", _("enter the due date."))
        amount = percentage = None
        bad = False
        try:
            amount = parse_decimal(raw.get("amount"))
        except (InvalidOperation, ValueError):
            error(index, "amount", _("enter a number for the amount."))
            bad = True
        try:
            percentage = parse_decimal(raw.get("percentage"))
        except (InvalidOperation, ValueError):
            error(index, "percentage", _("enter a number for the percentage."))
            bad = True
        if not bad:
            if amount is None and percentage is None:
                error(index, "amount", _("enter an amount or a percentage of the total."))
                bad = True
            elif amount is not None and percentage is not None:
                error(index, "percentage", _("enter an amount or a percentage, not both."))
                bad = True
            elif amount is not None:
                if amount <= 0:
                    error(index, "amount", _("the amount must be greater than 0."))
                    bad = True
                elif amount >= MAX_AMOUNT:
                    error(index, "amount", _("the amount is too large."))
                    bad = True
                elif amount != amount.quantize(CENT):
                    error(index, "amount", _("the amount has at most 2 decimal places."))
                    bad = True
            elif percentage <= 0 or percentage > HUNDRED:
                error(index, "percentage", _("the percentage must be above 0 and at most 100."))
                bad = True
            elif percentage != percentage.quantize(CENT):
                error(index, "percentage", _("the percentage has at most 2 decimal places."))
                bad = True
        if kind and due is not None and not bad:
            cleaned.append(TermInput(kind=kind, due_date=due, amount=amount, percentage=percentage))
    if errors:
        raise ValidationError(errors)
    amounts = term_amounts(total, cleaned)
    if amounts is None:
        fixed = sum((t.amount for t in cleaned if t.percentage is None), ZERO)
        percent = sum((t.percentage for t in cleaned if t.percentage is not None), ZERO)
        given = _money(fixed + total * percent / HUNDRED)
        raise ValidationError(
            {
                "terms": [
                    _(
                        "The payment terms add up to %(given)s (%(percent)s %% of the total and "
                        "%(fixed)s in amounts), not to the contract amount %(total)s."
                    )
                    % {"given": given, "percent": percent, "fixed": fixed, "total": total}
                ]
            }
        )
    return list(zip(cleaned, amounts, strict=True))


# --- headers and lines ------------------------------------------------------------------------


def _clean_header(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "title" in data or creating:
        title = str(data.get("title") or "").strip()
        if not title:
            errors["title"] = [_("Give the contract a title.")]
        elif len(title) > 200:
            errors["title"] = [_("The title has at most 200 characters.")]
        clean["title"] = title
    if data.get("penalty_rate_per_day") not in (None, ""):
        try:
            rate = parse_decimal(data["penalty_rate_per_day"])
        except (InvalidOperation, ValueError):
            errors["penalty_rate_per_day"] = [_("Enter a number, e.g. 0.05.")]
        else:
            if rate < 0 or rate >= 100 or rate != rate.quantize(Decimal("0.0001")):
                errors["penalty_rate_per_day"] = [
                    _("Enter a rate from 0 to 100 % per day, at most 4 decimal places.")
                ]
            else:
                clean["penalty_rate_per_day"] = rate
    if data.get("grace_days") not in (None, ""):
        try:
            days = int(str(data["grace_days"]).strip())
        except (TypeError, ValueError):
            days = -1
        if not 0 <= days <= 365:
            errors["grace_days"] = [_("Enter a number of days from 0 to 365.")]
        else:
            clean["grace_days"] = days
    for name in ("starts_on", "ends_on"):
        if name in data:
            try:
                clean[name] = _date(data[name])
            except (TypeError, ValueError):
                errors[name] = [_("Enter a date, e.g. 2026-12-31.")]
    if clean.get("starts_on") and clean.get("ends_on") and clean["ends_on"] < clean["starts_on"]:
        errors["ends_on"] = [_("The end date is before the start date.")]
    if "notes" in data:
        clean["notes"] = str(data["notes"] or "").strip()
    if "external_id" in data:
        external_id = str(data["external_id"] or "").strip()
        if len(external_id) > 100:
            errors["external_id"] = [_("The external id has at most 100 characters.")]
        clean["external_id"] = external_id
    if errors:
        raise ValidationError(errors)
    return clean


def _lines_total(lines: Sequence[LineInput]) -> Decimal:
    return quote_totals(lines).total


def _replace_lines(contract: Contract, lines: Sequence[LineInput]) -> None:
    contract.lines.all().delete()
    ContractLine.objects.bulk_create(
        ContractLine(
            contract=contract,
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
    contract.amount = _lines_total(lines)


def _replace_terms(contract: Contract, terms: Sequence[tuple[TermInput, Decimal]]) -> None:
    contract.terms.all().delete()
    PaymentTerm.objects.bulk_create(
        PaymentTerm(
            contract=contract,
            sequence=sequence,
            kind=term.kind,
            due_date=term.due_date,
            percentage=term.percentage,
            amount=amount,
        )
        for sequence, (term, amount) in enumerate(terms, start=1)
    )
    contract.credit_portion = credit_portion_of(
        [amount for _t, amount in terms], [term.kind for term, _a in terms]
    )


def _resettle_terms(contract: Contract) -> None:
    """The lines changed but not the terms: percentages follow the new amount. A set that no
    longer adds up is kept as it is (its amounts are fixed sums): the submission names it."""
    existing = list(contract.terms.all())
    inputs = [
        TermInput(kind=t.kind, due_date=t.due_date,
                  amount=None if t.percentage is not None else t.amount, percentage=t.percentage)
        for t in existing
    ]  # fmt: skip
    amounts = term_amounts(contract.amount, inputs)
    if amounts is None:
        amounts = [
            _money(contract.amount * i.percentage / HUNDRED)
            if i.percentage is not None
            else i.amount
            for i in inputs
        ]
    for term, amount in zip(existing, amounts, strict=True):
        if term.amount != amount:
            term.amount = amount
            term.save(update_fields=["amount"])
    contract.credit_portion = min(
        credit_portion_of(amounts, [t.kind for t in existing]), contract.amount
    )


def _quote_lines(opportunity: Opportunity) -> list[dict[str, Any]]:
    """The lines of the opportunity's latest approved quote, as editor input."""
    quote = (
        Quote.objects.filter(opportunity=opportunity, status=QuoteStatus.APPROVED)
        .order_by("-version")
        .first()
    )
    if quote is None:
        return []
    return [
        {
            "product": line.product_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_pct": line.discount_pct,
            "description": line.description,
        }
        for line in quote.lines.all()
    ]


# --- locks and checks -------------------------------------------------------------------------


def _lock(contract: Contract) -> Contract:
    return (
        Contract.objects.select_for_update(of=("self",))
        .select_related("customer", "owner", "opportunity")
        .get(pk=contract.pk)
    )


def _lock_customer(customer_id: int) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer_id)


def _check_can_work(by: User, contract: Contract) -> None:
    if not can_work_contract(by, contract):
        raise PermissionDenied(_("You cannot work on this contract."))


def _wrong_state(contract: Contract, action: str) -> Conflict:
    return Conflict(
        _("A contract that is %(status)s cannot be %(action)s.")
        % {"status": contract.get_status_display(), "action": action},
        code="invalid_state",
    )


def _check_draft(contract: Contract) -> None:
    if contract.status != ContractStatus.DRAFT:
        raise Conflict(
            _("This contract is %(status)s and can no longer be changed.")
            % {"status": contract.get_status_display()},
            code="not_draft",
        )
    approval_assert_editable(contract)


def _hold_conflict(customer: Customer) -> Conflict:
    return Conflict(
        _("%(customer)s is on credit hold: no contract can be submitted or signed for it. "
          "Reason: %(reason)s") % {"customer": customer.name,
                                   "reason": customer.credit_hold_reason or "—"},
        code="credit_hold",
    )  # fmt: skip


def available_for_submission(customer: Customer, *, excluding: Contract | None = None) -> Decimal:
    """Available credit less the credit portions reserved by contracts pending approval
    (other than `excluding`): what a new submission may still use."""
    reserved = pending_contracts([customer.pk]).get(customer.pk, ZERO)
    if excluding is not None and excluding.status == ContractStatus.PENDING:
        reserved -= excluding.credit_portion
    return customer_credit(customer).available - reserved


# --- create, update ---------------------------------------------------------------------------


@transaction.atomic
def contract_create(
    *,
    by: User,
    customer: Customer | None = None,
    opportunity: Opportunity | None = None,
    data: Mapping[str, Any] | None = None,
    lines: Sequence[Mapping[str, Any]] | None = None,
    terms: Sequence[Mapping[str, Any]] | None = None,
) -> Contract:
    """Draft a contract for a customer `by` may work on, or from an opportunity (its customer;
    the lines of its approved quote unless `lines` are given). The owner is the customer's
    owner; the number is the next of this year's (gapless: taken in this transaction)."""
    data = dict(data or {})
    if opportunity is not None:
        from apps.opportunities.permissions import can_work

        opportunity = Opportunity.objects.select_related("customer").get(pk=opportunity.pk)
        if not can_work(by, opportunity):
            raise PermissionDenied(_("You cannot work on this opportunity."))
        if opportunity.stage == Stage.LOST:
            raise Conflict(_("The opportunity is lost: no contract for it."), code="closed")
        customer = opportunity.customer
        if lines is None:
            lines = _quote_lines(opportunity)
        data.setdefault("title", opportunity.name)
    if customer is None:
        raise ValidationError({"customer": [_("Choose the customer.")]})
    if not Customer.objects.filter(customer_editable_q(by), pk=customer.pk).exists():
        raise PermissionDenied(_("You cannot make a contract for this customer."))
    customer = Customer.objects.select_related("owner").get(pk=customer.pk)
    if customer.owner is None:
        raise Conflict(
            _("This customer is in the public pool: claim it before making a contract."),
            code="in_pool",
        )
    if customer.status == CustomerStatus.LOST:
        raise Conflict(_("This customer is lost: no contract for it."), code="customer_lost")
    header = _clean_header(data, creating=True)
    cleaned_lines = clean_lines(lines or [])
    total = _lines_total(cleaned_lines)
    cleaned_terms = clean_terms(terms, total) if terms else []
    contract = Contract(
        number=next_contract_number(timezone.localdate().year),
        customer=customer,
        opportunity=opportunity,
        owner=customer.owner,
        **header,
    )
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError:
        raise ValidationError(
            {"external_id": [_("Another contract has this external id.")]}
        ) from None
    _replace_lines(contract, cleaned_lines)
    _replace_terms(contract, cleaned_terms)
    contract.save()
    return contract


@transaction.atomic
def contract_update(
    *,
    contract: Contract,
    by: User,
    data: Mapping[str, Any] | None = None,
    lines: Sequence[Mapping[str, Any]] | None = None,
    terms: Sequence[Mapping[str, Any]] | None = None,
    expected_version: int | None = None,
) -> Contract:
    """Change a draft contract: header fields in `data`; `lines` and `terms` (when given)
    replace the whole set. Amount, term amounts and credit portion are computed here. With
    `expected_version` (the version the writer read, `apps.core.versions`), StaleVersion if
    the contract changed since."""
    contract = _lock(contract)
    _check_can_work(by, contract)
    check_version(contract, expected_version)
    _check_draft(contract)
    header = _clean_header(data or {}, creating=False)
    cleaned_lines = clean_lines(lines) if lines is not None else None
    total = _lines_total(cleaned_lines) if cleaned_lines is not None else contract.amount
    cleaned_terms = clean_terms(terms, total) if terms is not None else None
    for name, value in header.items():
        setattr(contract, name, value)
    if cleaned_lines is not None:
        _replace_lines(contract, cleaned_lines)
    if cleaned_terms is not None:
        _replace_terms(contract, cleaned_terms)
    elif cleaned_lines is not None:
        _resettle_terms(contract)
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError:
        raise ValidationError(
            {"external_id": [_("Another contract has this external id.")]}
        ) from None
    return contract


def _external_key(external_id: Any) -> str:
    key = str(external_id or "").strip()
    if not key or len(key) > 100 or "\x00" in key:
        raise ValidationError({"external_id": [_("Give an external id of 1 to 100 characters.")]})
    return key


@transaction.atomic
def contract_upsert_external(
    *,
    by: User,
    external_id: str,
    customer: Customer | None = None,
    opportunity: Opportunity | None = None,
    data: Mapping[str, Any] | None = None,
    lines: Sequence[Mapping[str, Any]] | None = None,
    terms: Sequence[Mapping[str, Any]] | None = None,
    expected_version: int | None = None,
) -> tuple[Contract, bool]:
    """Create or update the contract the ERP knows as `external_id` (API.md "ERP
    integration"): (contract, created).

    None yet: a draft, exactly as `contract_create` makes it (for `customer` or from
    `opportunity`, the same checks). One exists: `contract_update` with its rules (a draft
    only: 409 otherwise; 403 if `by` may not work on it; `customer` and `opportunity` are not
    changed); outside `by`'s scope it is a 404, and changed since `expected_version` a
    StaleVersion. Two concurrent first upserts of one id: the numbering serialises them, and
    the loser updates what the winner created (its number rolls back with its savepoint, so
    no gap is left)."""
    key = _external_key(external_id)
    data = {**(data or {}), "external_id": key}
    for _attempt in range(2):
        existing = Contract.objects.select_for_update(of=("self",)).filter(external_id=key).first()
        if existing is not None:
            break
        try:
            with transaction.atomic():
                contract = contract_create(
                    by=by, customer=customer, opportunity=opportunity, data=data, lines=lines,
                    terms=terms,
                )  # fmt: skip
            return contract, True
        except ValidationError as exc:
            if "external_id" not in getattr(exc, "error_dict", {}):
                raise
            # created meanwhile by a concurrent upsert: update it
    else:
        raise ValidationError({"external_id": [_("Another contract has this external id.")]})
    if not contract_list(user=by).filter(pk=existing.pk).exists():
        raise Http404
    contract = contract_update(
        contract=existing, by=by, data=data, lines=lines, terms=terms,
        expected_version=expected_version,
    )  # fmt: skip
    return contract, False


# --- submission and approval ------------------------------------------------------------------


@transaction.atomic
def contract_submit(*, contract: Contract, by: User, comment: str = "") -> Contract:
    """Submit a draft to the contract policy (by amount). Refused (409) when the customer is
    on credit hold. The credit check itself runs in `on_contract_submitted`, with the customer
    locked, so it holds whichever way the contract is submitted."""
    contract = _lock(contract)
    _check_can_work(by, contract)
    if contract.status != ContractStatus.DRAFT:
        raise _wrong_state(contract, _("submitted"))
    approval_assert_editable(contract)
    customer = _lock_customer(contract.customer_id)
    if customer.on_credit_hold:
        raise _hold_conflict(customer)
    unmet = unmet_messages(contract, contract.submit)
    if unmet:
        raise ValidationError(unmet)
    approval_submit(document=contract, by=by, comment=comment)
    return Contract.objects.get(pk=contract.pk)


def contract_flags(contract: Contract) -> list[str]:
    """The approval flags of a contract (DocumentType.get_flags)."""
    return [CREDIT_OVERRIDE] if contract.needs_credit_override else []


def on_contract_submitted(contract: Contract, request: ApprovalRequest) -> None:
    """Pending, after the credit check: with the customer row locked (this serialises two
    submissions for one customer), a credit portion above the available credit less what
    other pending contracts reserve raises "credit_override" and adds its steps."""
    customer = _lock_customer(contract.customer_id)
    if customer.on_credit_hold:
        raise _hold_conflict(customer)
    if not can_proceed(contract.submit):
        errors = unmet_messages(contract, contract.submit)
        if errors:
            raise ValidationError(errors)
        raise _wrong_state(contract, _("submitted"))
    available = available_for_submission(customer, excluding=contract)
    contract.needs_credit_override = contract.credit_portion > available
    contract.submit()
    contract.return_comment = ""
    contract.save()
    flags = set(request.flags or []) - {CREDIT_OVERRIDE}
    if contract.needs_credit_override:
        flags.add(CREDIT_OVERRIDE)
    if sorted(flags) != list(request.flags or []):
        request.flags = sorted(flags)
        request.save(update_fields=["flags", "updated_at"])


def on_contract_approved(contract: Contract, request: ApprovalRequest) -> None:
    contract.approve()
    contract.approved_at = timezone.now()
    contract.save()
    contract_event(EventType.CONTRACT_APPROVED, contract)


def _override_approved(contract: Contract) -> bool:
    request = approval_request_for(contract)
    return (
        request is not None
        and request.status == RequestStatus.APPROVED
        and CREDIT_OVERRIDE in (request.flags or [])
    )


# --- signing and after ------------------------------------------------------------------------


def _installment_status(due: date, today: date) -> str:
    return InstallmentStatus.DUE if due <= today else InstallmentStatus.SCHEDULED


def _create_installments(contract: Contract, terms: Sequence[PaymentTerm], today: date) -> None:
    Installment.objects.bulk_create(
        Installment(
            contract=contract,
            customer_id=contract.customer_id,
            owner_id=contract.owner_id,
            sequence=term.sequence,
            kind=term.kind,
            due_date=term.due_date,
            amount=term.amount,
            status=_installment_status(term.due_date, today),
        )
        for term in terms
    )


def _activate_customer(customer: Customer) -> None:
    """prospect → developing → active; dormant → active; active stays; a lost customer is
    left as it is (no transition brings it back)."""
    if customer.status == CustomerStatus.PROSPECT:
        customer.start_development()
    if can_proceed(customer.activate):
        customer.activate()
        customer.save(update_fields=["status", "updated_at"])


@transaction.atomic
def contract_sign(*, contract: Contract, by: User, signed_on: date | str | None) -> Contract:
    """Record the signing (签订) of an approved contract, by its owner or a head above.

    The credit is checked again: the contract's own credit portion is already in the exposure
    (approved, unsigned), so it passes when available + own credit portion ≥ credit portion,
    unless the approval included the credit override; a customer on credit hold is refused.
    In the same transaction: one receivable installment per payment term (due at once when
    its date has come), the customer becomes active, and the opportunity, when it is in
    negotiation, is won (won needs this signed contract)."""
    contract = _lock(contract)
    _check_can_work(by, contract)
    if contract.status != ContractStatus.APPROVED:
        raise _wrong_state(contract, _("signed"))
    try:
        contract.signed_on = _date(signed_on)
    except (TypeError, ValueError):
        raise ValidationError({"signed_on": [_("Enter a date, e.g. 2026-12-31.")]}) from None
    today = timezone.localdate()
    if contract.signed_on is not None and contract.signed_on > today:
        raise ValidationError({"signed_on": [_("The signing date cannot be in the future.")]})
    unmet = unmet_messages(contract, contract.sign)
    if unmet:
        raise ValidationError(unmet)
    customer = _lock_customer(contract.customer_id)
    if customer.on_credit_hold:
        raise _hold_conflict(customer)
    if not _override_approved(contract):
        available = customer_credit(customer).available
        if available + contract.credit_portion < contract.credit_portion:
            raise Conflict(
                _("The credit portion %(portion)s exceeds the customer's available credit "
                  "%(available)s: ask for a higher credit limit or resubmit with a credit "
                  "override.") % {"portion": contract.credit_portion,
                                  "available": available + contract.credit_portion},
                code="over_credit",
            )  # fmt: skip
    contract.sign()
    contract.signed_at = timezone.now()
    contract.save()
    _create_installments(contract, list(contract.terms.all()), today)
    contract_event(EventType.CONTRACT_SIGNED, contract)
    # Money the customer paid ahead (its credit balance, 预收款) pays the new installments.
    from apps.receivables.services import credit_balance_apply

    credit_balance_apply(customer=customer, by=by)
    _activate_customer(customer)
    if contract.opportunity_id is not None:
        from apps.opportunities.services import opportunity_win

        opportunity = Opportunity.objects.get(pk=contract.opportunity_id)
        if opportunity.stage == Stage.NEGOTIATION:
            opportunity_win(opportunity=opportunity, by=by)
    if contract.owner_id != by.pk:
        notify(
            recipients=[contract.owner],
            title=_("Contract signed: %(contract)s") % {"contract": contract},
            url=contract.get_absolute_url(),
            actor=by,
        )
    return contract


@transaction.atomic
def contract_start_execution(*, contract: Contract, by: User) -> Contract:
    """Signed → executing: delivery started."""
    contract = _lock(contract)
    _check_can_work(by, contract)
    if not can_proceed(contract.start_execution):
        raise _wrong_state(contract, _("started"))
    contract.start_execution()
    contract.save()
    return contract


@transaction.atomic
def contract_complete(*, contract: Contract, by: User) -> Contract:
    """Executing → completed, once every installment is paid or written off."""
    contract = _lock(contract)
    _check_can_work(by, contract)
    if not can_proceed(contract.complete):
        raise _wrong_state(contract, _("completed"))
    open_count = contract.installments.exclude(
        status__in=[InstallmentStatus.PAID, InstallmentStatus.WRITTEN_OFF]
    ).count()
    if open_count:
        raise Conflict(
            _("%(n)d installment(s) are not paid yet: a contract is completed when every "
              "installment is paid or written off.") % {"n": open_count},
            code="installments_open",
        )  # fmt: skip
    contract.complete()
    contract.completed_at = timezone.now()
    contract.save()
    # The customer satisfaction survey (客户满意度): written in this transaction, e-mailed
    # once it commits (none without an e-mail to send it to).
    from apps.incentives.surveys import survey_open_for_contract  # incentives builds on this

    survey_open_for_contract(contract=contract)
    return contract


@transaction.atomic
def contract_terminate(*, contract: Contract, by: User, reason: str) -> Contract:
    """End a draft, approved, signed or executing contract early, with a reason.

    A signed (or executing) contract's open installments stay as they are: the customer still
    owes what was delivered; they are collected or written off through the receivables
    process, never dropped here. A contract under approval is withdrawn first."""
    contract = _lock(contract)
    _check_can_work(by, contract)
    if contract.status == ContractStatus.PENDING:
        raise Conflict(
            _("This contract is under approval: withdraw it before terminating it."),
            code="under_approval",
        )
    if not can_proceed(contract.terminate, check_conditions=False):
        raise _wrong_state(contract, _("terminated"))
    contract.termination_reason = (reason or "").strip()[:300]
    unmet = unmet_messages(contract, contract.terminate)
    if unmet:
        raise ValidationError({"reason": unmet.get("termination_reason", [])})
    contract.terminate()
    contract.terminated_at = timezone.now()
    contract.save()
    contract_event(EventType.CONTRACT_TERMINATED, contract)
    return contract


def contract_actions(user: Any, contract: Contract) -> list[str]:
    """What `user` may do with `contract` now, for the buttons and `available_transitions`
    (the services stay the authority)."""
    if not can_work_contract(user, contract):
        return []
    status = contract.status
    actions: list[str] = []
    if status == ContractStatus.DRAFT:
        actions.append("update")
        if contract.owner_id == user.pk:
            actions.append("submit")
    if status == ContractStatus.APPROVED:
        actions.append("sign")
    if status == ContractStatus.SIGNED:
        actions.append("start_execution")
    if status == ContractStatus.EXECUTING:
        actions.append("complete")
    if status in (ContractStatus.SIGNED, ContractStatus.EXECUTING):
        actions.append("amend")
    if status in (ContractStatus.DRAFT, ContractStatus.APPROVED, ContractStatus.SIGNED,
                  ContractStatus.EXECUTING):  # fmt: skip
        actions.append("terminate")
    return actions


# --- amendments (补充协议) ----------------------------------------------------------------------


def _line_snapshot(line: ContractLine | LineInput) -> dict[str, Any]:
    product_id = line.product_id if isinstance(line, ContractLine) else line.product.pk
    amount = line.amount if isinstance(line, ContractLine) else line.amount()
    return {
        "product": product_id,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit_price": str(line.unit_price),
        "discount_pct": str(line.discount_pct),
        "amount": str(amount),
    }


def _term_snapshot(sequence: int, kind: str, due: date, percentage, amount) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "kind": kind,
        "due_date": due.isoformat(),
        "percentage": None if percentage is None else str(percentage),
        "amount": str(amount),
    }


def _contract_snapshot(contract: Contract) -> dict[str, Any]:
    return {
        "version": contract.version,
        "amount": str(contract.amount),
        "credit_portion": str(contract.credit_portion),
        "lines": [_line_snapshot(line) for line in contract.lines.all()],
        "terms": [
            _term_snapshot(t.sequence, t.kind, t.due_date, t.percentage, t.amount)
            for t in contract.terms.all()
        ],
    }


def _kept_installments(contract: Contract) -> list[Installment]:
    """Installments with money on them (paid in part or whole, written off, or with penalty
    interest): an amendment keeps them exactly."""
    return list(
        contract.installments.filter(
            Q(paid_amount__gt=0) | Q(written_off_amount__gt=0) | Q(penalty_accrued__gt=0)
            | Q(status__in=[InstallmentStatus.PAID, InstallmentStatus.WRITTEN_OFF])
        ).order_by("sequence")
    )  # fmt: skip


def _check_kept_terms(contract: Contract, terms: Sequence[tuple[TermInput, Decimal]]) -> None:
    """A term already paid (in part or whole) cannot change: the new terms repeat it with the
    same number and amount."""
    by_sequence = {i: amount for i, (_t, amount) in enumerate(terms, start=1)}
    for installment in _kept_installments(contract):
        if by_sequence.get(installment.sequence) != installment.amount:
            raise ValidationError(
                {
                    "terms": [
                        _(
                            "Installment %(n)d (%(amount)s) already has payments: keep it as term "
                            "%(n)d with the same amount."
                        )
                        % {"n": installment.sequence, "amount": installment.amount}
                    ]
                }
            )


def _clean_amendment(contract: Contract, *, reason: str, lines, terms) -> dict[str, Any]:
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Say why the contract is amended.")]
    try:
        cleaned_lines = clean_lines(lines or [])
    except ValidationError as exc:
        errors.update(exc.message_dict)
        cleaned_lines = None
    if not errors and not cleaned_lines:
        errors["lines"] = [_("Add at least one line.")]
    if errors:
        raise ValidationError(errors)
    total = _lines_total(cleaned_lines)
    cleaned_terms = clean_terms(terms or [], total)
    if not cleaned_terms:
        raise ValidationError({"terms": [_("Add the payment terms.")]})
    _check_kept_terms(contract, cleaned_terms)
    credit = credit_portion_of([a for _t, a in cleaned_terms], [t.kind for t, _a in cleaned_terms])
    return {
        "reason": reason,
        "amount": total,
        "proposed": {
            "amount": str(total),
            "credit_portion": str(credit),
            "lines": [_line_snapshot(line) for line in cleaned_lines],
            "terms": [
                _term_snapshot(i, t.kind, t.due_date, t.percentage, a)
                for i, (t, a) in enumerate(cleaned_terms, start=1)
            ],
        },
    }


@transaction.atomic
def amendment_create(
    *,
    contract: Contract,
    by: User,
    reason: str,
    lines: Sequence[Mapping[str, Any]],
    terms: Sequence[Mapping[str, Any]],
) -> ContractAmendment:
    """Draft an amendment (补充协议) to a signed or executing contract: the new lines and
    payment terms (validated like the contract's) and the reason. One open amendment at a
    time per contract."""
    contract = _lock(contract)
    _check_can_work(by, contract)
    if contract.status not in (ContractStatus.SIGNED, ContractStatus.EXECUTING):
        raise _wrong_state(contract, _("amended"))
    cleaned = _clean_amendment(contract, reason=reason, lines=lines, terms=terms)
    if contract.amendments.filter(
        status__in=[AmendmentStatus.DRAFT, AmendmentStatus.PENDING]
    ).exists():
        raise Conflict(_("This contract already has an open amendment."), code="already_open")
    number = (contract.amendments.aggregate(n=Max("number"))["n"] or 0) + 1
    return ContractAmendment.objects.create(
        contract=contract, owner=contract.owner, number=number, **cleaned
    )


def _lock_amendment(amendment: ContractAmendment) -> tuple[ContractAmendment, Contract]:
    contract = _lock(amendment.contract)
    amendment = ContractAmendment.objects.select_for_update().get(pk=amendment.pk)
    return amendment, contract


@transaction.atomic
def amendment_update(
    *,
    amendment: ContractAmendment,
    by: User,
    reason: str,
    lines: Sequence[Mapping[str, Any]],
    terms: Sequence[Mapping[str, Any]],
) -> ContractAmendment:
    """Revise a draft amendment (also after a return)."""
    amendment, contract = _lock_amendment(amendment)
    _check_can_work(by, contract)
    if amendment.status != AmendmentStatus.DRAFT:
        raise Conflict(_("This amendment can no longer be changed."), code="not_draft")
    approval_assert_editable(amendment)
    for name, value in _clean_amendment(contract, reason=reason, lines=lines, terms=terms).items():
        setattr(amendment, name, value)
    amendment.save()
    return amendment


@transaction.atomic
def amendment_submit(
    *, amendment: ContractAmendment, by: User, comment: str = ""
) -> ContractAmendment:
    """Submit a draft amendment to the contract policy (on its new amount)."""
    amendment, contract = _lock_amendment(amendment)
    _check_can_work(by, contract)
    if amendment.status != AmendmentStatus.DRAFT:
        raise Conflict(_("This amendment is not a draft."), code="not_draft")
    approval_submit(document=amendment, by=by, comment=comment)
    return ContractAmendment.objects.get(pk=amendment.pk)


def on_amendment_submitted(amendment: ContractAmendment, request: ApprovalRequest) -> None:
    contract = Contract.objects.get(pk=amendment.contract_id)
    if contract.status not in (ContractStatus.SIGNED, ContractStatus.EXECUTING):
        raise _wrong_state(contract, _("amended"))
    amendment.submit()
    amendment.return_comment = ""
    amendment.save()


def on_amendment_approved(amendment: ContractAmendment, request: ApprovalRequest) -> None:
    """Apply the amendment to the contract: `previous` keeps the replaced version (lines,
    terms, amount), the contract takes the new ones and its version goes up by one.

    Installments: those with money on them (paid in part or whole, written off, penalty
    interest) are kept exactly — the new terms repeat them (checked when drafted and again
    here); the installments with nothing paid are replaced by the new terms' installments
    (their rows are removed; the history keeps every one of them, with this amendment's id)."""
    contract = _lock(Contract(pk=amendment.contract_id))
    if contract.status not in (ContractStatus.SIGNED, ContractStatus.EXECUTING):
        raise _wrong_state(contract, _("amended"))
    proposed = amendment.proposed
    new_terms = [
        (TermInput(kind=t["kind"], due_date=date.fromisoformat(t["due_date"]),
                   percentage=None if t["percentage"] is None else Decimal(t["percentage"])),
         Decimal(t["amount"]))
        for t in proposed["terms"]
    ]  # fmt: skip
    kept = _kept_installments(contract)
    try:
        _check_kept_terms(contract, new_terms)
    except ValidationError as exc:
        raise Conflict(" ".join(exc.messages), code="installment_paid") from None
    with history_context(contract_amendment=amendment.pk):
        amendment.previous = _contract_snapshot(contract)
        amendment.approve()
        amendment.approved_at = timezone.now()
        amendment.save()
        contract.lines.all().delete()
        ContractLine.objects.bulk_create(
            ContractLine(
                contract=contract, position=position, product_id=line["product"],
                description=line["description"], quantity=Decimal(line["quantity"]),
                unit_price=Decimal(line["unit_price"]),
                discount_pct=Decimal(line["discount_pct"]), amount=Decimal(line["amount"]),
            )
            for position, line in enumerate(proposed["lines"], start=1)
        )  # fmt: skip
        contract.terms.all().delete()
        terms = PaymentTerm.objects.bulk_create(
            PaymentTerm(contract=contract, sequence=i, kind=t.kind, due_date=t.due_date,
                        percentage=t.percentage, amount=amount)
            for i, (t, amount) in enumerate(new_terms, start=1)
        )  # fmt: skip
        contract.amount = Decimal(proposed["amount"])
        contract.credit_portion = Decimal(proposed["credit_portion"])
        contract.version += 1
        contract.save()
        kept_sequences = {i.sequence for i in kept}
        contract.installments.exclude(pk__in=[i.pk for i in kept]).delete()
        _create_installments(
            contract,
            [t for t in terms if t.sequence not in kept_sequences],
            timezone.localdate(),
        )


# --- customer tier (nightly) ------------------------------------------------------------------


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


_TIER_SQL = f"""
    UPDATE {Customer._meta.db_table} AS c
    SET tier = s.new_tier, updated_at = CASE WHEN %s THEN NOW() ELSE c.updated_at END
    FROM (
        SELECT cu.id,
               CASE WHEN COALESCE(t.total, 0) >= %s THEN 'A'
                    WHEN COALESCE(t.total, 0) >= %s THEN 'B'
                    WHEN COALESCE(t.total, 0) >= %s THEN 'C'
                    ELSE 'D' END AS new_tier
        FROM {Customer._meta.db_table} AS cu
        LEFT JOIN (
            SELECT customer_id, SUM(amount) AS total FROM {Contract._meta.db_table}
            WHERE status = ANY(%s) AND signed_on > %s AND signed_on <= %s
            GROUP BY customer_id
        ) AS t ON t.customer_id = cu.id
    ) AS s
    WHERE c.id = s.id AND c.tier <> s.new_tier
"""  # noqa: S608


@transaction.atomic
def customer_tier_recompute(*, today: date | None = None, touch: bool = True) -> int:
    """Set every customer's tier (A/B/C/D) from its signed contract amount of the last 12
    months (signed, executing or completed contracts signed after the same day a year ago, up
    to today) against `settings.CUSTOMER_TIER_THRESHOLDS` (A ≥ the A amount, then B, then C,
    else D).

    One UPDATE of only the customers whose tier changes (set-based; idempotent: a second run
    changes nothing), recorded in the history as the job "customer_tier_recompute". Returns
    the number of customers whose tier changed. `touch=False` (the scale loader, which sets
    the tiers its contracts give) keeps the customers' `updated_at`."""
    today = today or timezone.localdate()
    thresholds = settings.CUSTOMER_TIER_THRESHOLDS
    # Positional, in the statement's order (pgtrigger.ignore, which the scale loader runs it
    # under, prepends a positional parameter of its own).
    params = [
        touch,
        Decimal(str(thresholds["A"])),
        Decimal(str(thresholds["B"])),
        Decimal(str(thresholds["C"])),
        [str(s) for s in SIGNED_STATUSES],
        _year_before(today),
        today,
    ]
    with history_context(job="customer_tier_recompute"), connection.cursor() as cursor:
        cursor.execute(_TIER_SQL, params)
        return cursor.rowcount
