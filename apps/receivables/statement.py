"""Statement of account (对账单): what one customer owed at the start of a period, every
movement in the period with a running balance, and what it owes at the end; then its open
installments with their aging and its unallocated credit balance. Sent to the customer for
confirmation, printed or as an Excel file; the page, the Excel file and the API read it from
`statement_of`, so they show the same numbers.

**The ledger.** The balance is what the customer owes us: a debit raises it, a credit lowers it.
Each movement is dated, and the same rule decides whether it falls before the period (into the
opening balance), in it (a line) or after it (not on this statement):

- an installment (应收款) is a debit of its full amount on its due date;
- penalty interest (逾期罚息) is a debit of each day's accrual on its accrual date; the lines
  sum it per installment and calendar month, dated the last accrual day of that month in the
  period;
- a payment (回款) is a credit of its full amount on the day it was received, allocated or not:
  an unallocated part (预收款) is money the customer paid, so it lowers what the customer owes
  (a balance below zero means we owe the customer);
- a reversed payment (冲销) keeps its credit on the day received and adds a reversing debit of
  the same amount on the day it was reversed (in the business time zone), so a statement of a
  past period does not change when a payment is reversed later, and a payment received and
  reversed before the period nets to nothing in the opening balance;
- an approved bad-debt write-off (坏账核销) is a credit of its amount on the day it was approved
  (drafts and pending write-offs are not on the statement);
- allocations (核销) are not movements: they apply money already credited to installments
  already debited.

Opening balance = debits − credits dated before `start`; closing balance = opening balance +
the period's debits − its credits. Within a day the lines go: installments, penalty interest,
payments, reversals, write-offs.

**The summary** is as of today (the day printed), not as of `end`: the customer's open
installments with their open amount and days overdue (`selectors.open_installments_of`), and
its unallocated credit balance (`selectors.customer_credit_balance`).

**Who may read it**: the customers in the caller's data scope for money documents — finance and
admins every customer, a rep their own customers, a supervisor or manager the customers owned
in the units they head. A customer in the public pool is not in a sales user's scope here
(they may see its profile to claim it, not its money); a customer outside the scope is a 404.
A statement covers all the customer's installments and payments, whoever owns them.

A fixed number of queries whatever the number of lines: the customer with the five opening
sums, one query per kind of movement, the open installments and the credit balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    F,
    Func,
    Max,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.accounts.models import User
from apps.contracts.choices import InstallmentKind
from apps.customers.models import Customer
from apps.customers.selectors import customer_editable_q, customer_list

from .choices import AgingBucket, PaymentMethod, PaymentStatus, WriteOffStatus
from .models import Installment, Payment, PenaltyAccrual, WriteOff
from .selectors import customer_credit_balance, open_installments_of, today

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)

# A longer statement is a book, not a letter: ask for it in parts.
MAX_STATEMENT_DAYS = 1096  # three years


class LineKind(TextChoices):
    """The kinds of statement lines: debits (installment, penalty, reversal) and credits
    (payment, write-off)."""

    INSTALLMENT = "installment", gettext_lazy("Installment due")
    PENALTY = "penalty", gettext_lazy("Penalty interest")
    PAYMENT = "payment", gettext_lazy("Payment received")
    REVERSAL = "reversal", gettext_lazy("Payment reversed")
    WRITE_OFF = "write_off", gettext_lazy("Bad-debt write-off")


# The order of the lines of one day (see the module docstring).
_DAY_ORDER = {kind: n for n, kind in enumerate(LineKind.values)}


@dataclass(frozen=True)
class StatementLine:
    """One movement: a debit or a credit (the other is zero) and the balance after it."""

    date: date
    kind: str
    reference: str
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = ZERO
    contract_number: str = ""
    installment_id: int | None = None
    installment_sequence: int | None = None
    installment_kind: str = ""
    payment_id: int | None = None
    bank_reference: str = ""
    sort_key: tuple = field(default=(), compare=False, repr=False)

    @property
    def kind_display(self) -> str:
        return str(LineKind(self.kind).label)


@dataclass(frozen=True)
class AgingFigure:
    bucket: int
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    """A customer's statement of account for [start, end]; see the module docstring."""

    customer: Customer
    start: date
    end: date
    printed_on: date
    opening_balance: Decimal
    lines: list[StatementLine]
    total_debit: Decimal
    total_credit: Decimal
    closing_balance: Decimal
    # The summary, as of `printed_on`.
    open_installments: list[Installment]
    open_total: Decimal
    overdue_total: Decimal
    aging: list[AgingFigure]
    credit_balance: Decimal


# --- the period ----------------------------------------------------------------------------


def default_period(on: date | None = None) -> tuple[date, date]:
    """1 January of this year to today."""
    on = on or today()
    return date(on.year, 1, 1), on


def statement_period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for, with the defaults filled in: `end` today, `start` 1 January of
    `end`'s year. Raises ValidationError naming the field: a period ending after today (the
    statement says what is owed, not what will be), ending before it starts, or longer than
    MAX_STATEMENT_DAYS."""
    on = today()
    end = end or on
    start = start or date(end.year, 1, 1)
    if end > on:
        raise ValidationError(
            {"end": [ValidationError(_("The statement cannot end after today."), code="future")]}
        )
    if end < start:
        raise ValidationError(
            {
                "end": [
                    ValidationError(
                        _("The last day is before the first day."), code="invalid_range"
                    )
                ]
            }
        )
    if (end - start).days + 1 > MAX_STATEMENT_DAYS:
        raise ValidationError(
            {
                "start": [
                    ValidationError(
                        _("Choose at most %(days)d days.") % {"days": MAX_STATEMENT_DAYS},
                        code="range_too_long",
                    )
                ]
            }
        )
    return start, end


def _day_start(day: date) -> datetime:
    """Midnight starting `day` in the business time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


# --- queries -------------------------------------------------------------------------------


def statement_customers(*, user: User) -> QuerySet[Customer]:
    """The customers whose statement `user` may read: those the customer pages show them,
    less the public pool for a sales user (see the module docstring)."""
    return customer_list(user=user).filter(customer_editable_q(user))


def _reversed_at() -> Coalesce:
    # The service always sets reversed_at; a row without it (an import) counts from its last change.
    return Coalesce(F("reversed_at"), F("updated_at"), output_field=DateTimeField())


def _approved_at() -> Coalesce:
    return Coalesce(F("approved_at"), F("updated_at"), output_field=DateTimeField())


def _sum(qs: QuerySet, column: str = "amount") -> Coalesce:
    """SELECT SUM(column) of `qs` as a scalar subquery (zero when empty)."""
    total = (
        qs.order_by()
        .annotate(_total=Func(F(column), function="SUM", output_field=_MONEY))
        .values("_total")
    )
    return Coalesce(Subquery(total, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def _opening_sums(customer_id: int, start: date) -> dict[str, Coalesce]:
    before = _day_start(start)
    return {
        "opening_installments": _sum(
            Installment.objects.filter(customer_id=customer_id, due_date__lt=start)
        ),
        "opening_penalty": _sum(
            PenaltyAccrual.objects.filter(
                installment__customer_id=customer_id, accrual_date__lt=start
            )
        ),
        "opening_payments": _sum(
            Payment.objects.filter(customer_id=customer_id, received_on__lt=start)
        ),
        "opening_reversals": _sum(
            Payment.objects.filter(customer_id=customer_id, status=PaymentStatus.REVERSED)
            .annotate(_at=_reversed_at())
            .filter(_at__lt=before)
        ),
        "opening_write_offs": _sum(
            WriteOff.objects.filter(
                installment__customer_id=customer_id, status=WriteOffStatus.APPROVED
            )
            .annotate(_at=_approved_at())
            .filter(_at__lt=before)
        ),
    }


def _installment_lines(customer_id: int, start: date, end: date) -> list[StatementLine]:
    rows = Installment.objects.filter(
        customer_id=customer_id, due_date__gte=start, due_date__lte=end
    ).values("pk", "due_date", "amount", "kind", "sequence", "contract__number")
    kinds = dict(InstallmentKind.choices)
    return [
        StatementLine(
            date=row["due_date"],
            kind=LineKind.INSTALLMENT,
            reference=f"{row['contract__number']} / {row['sequence']}",
            description=str(kinds.get(row["kind"], row["kind"])),
            debit=row["amount"],
            credit=ZERO,
            contract_number=row["contract__number"],
            installment_id=row["pk"],
            installment_sequence=row["sequence"],
            installment_kind=row["kind"],
            sort_key=(row["contract__number"], row["sequence"], row["pk"]),
        )
        for row in rows
    ]


def _penalty_lines(customer_id: int, start: date, end: date) -> list[StatementLine]:
    rows = (
        PenaltyAccrual.objects.filter(
            installment__customer_id=customer_id, accrual_date__gte=start, accrual_date__lte=end
        )
        .annotate(month=TruncMonth("accrual_date"))
        .values("installment_id", "month", "installment__sequence", "installment__contract__number")
        .annotate(
            total=Sum("amount"),
            last_day=Max("accrual_date"),
            days=Count("pk"),
        )
        .order_by()
    )
    lines = []
    for row in rows:
        number, sequence = row["installment__contract__number"], row["installment__sequence"]
        lines.append(
            StatementLine(
                date=row["last_day"],
                kind=LineKind.PENALTY,
                reference=f"{number} / {sequence}",
                description=ngettext(
                    "Penalty interest %(month)s, %(days)d day",
                    "Penalty interest %(month)s, %(days)d days",
                    row["days"],
                )
                % {"month": f"{row['month']:%Y-%m}", "days": row["days"]},
                debit=row["total"],
                credit=ZERO,
                contract_number=number,
                installment_id=row["installment_id"],
                installment_sequence=sequence,
                sort_key=(number, sequence, row["installment_id"]),
            )
        )
    return lines


def _payment_lines(customer_id: int, start: date, end: date) -> list[StatementLine]:
    after, until = _day_start(start), _day_start(end + timedelta(days=1))
    rows = (
        Payment.objects.filter(customer_id=customer_id)
        .annotate(reversed_on_at=_reversed_at())
        .filter(
            Q(received_on__gte=start, received_on__lte=end)
            | Q(
                status=PaymentStatus.REVERSED,
                reversed_on_at__gte=after,
                reversed_on_at__lt=until,
            )
        )
        .values(
            "pk",
            "received_on",
            "amount",
            "method",
            "bank_reference",
            "external_id",
            "status",
            "reversed_on_at",
        )
    )
    methods = dict(PaymentMethod.choices)
    lines = []
    for row in rows:
        reference = row["bank_reference"] or row["external_id"]
        common = {
            "reference": reference,
            "payment_id": row["pk"],
            "bank_reference": row["bank_reference"],
            "sort_key": (row["received_on"], row["pk"]),
        }
        if start <= row["received_on"] <= end:
            lines.append(
                StatementLine(
                    date=row["received_on"],
                    kind=LineKind.PAYMENT,
                    description=str(methods.get(row["method"], row["method"])),
                    debit=ZERO,
                    credit=row["amount"],
                    **common,
                )
            )
        if row["status"] == PaymentStatus.REVERSED:
            reversed_on = _local_date(row["reversed_on_at"])
            if start <= reversed_on <= end:
                lines.append(
                    StatementLine(
                        date=reversed_on,
                        kind=LineKind.REVERSAL,
                        description=_("Reversal of the payment received on %(date)s")
                        % {"date": f"{row['received_on']:%Y-%m-%d}"},
                        debit=row["amount"],
                        credit=ZERO,
                        **common,
                    )
                )
    return lines


def _write_off_lines(customer_id: int, start: date, end: date) -> list[StatementLine]:
    after, until = _day_start(start), _day_start(end + timedelta(days=1))
    rows = (
        WriteOff.objects.filter(
            installment__customer_id=customer_id, status=WriteOffStatus.APPROVED
        )
        .annotate(approved_on_at=_approved_at())
        .filter(approved_on_at__gte=after, approved_on_at__lt=until)
        .values(
            "pk",
            "amount",
            "approved_on_at",
            "installment_id",
            "installment__sequence",
            "installment__contract__number",
        )
    )
    lines = []
    for row in rows:
        number, sequence = row["installment__contract__number"], row["installment__sequence"]
        lines.append(
            StatementLine(
                date=_local_date(row["approved_on_at"]),
                kind=LineKind.WRITE_OFF,
                reference=f"{number} / {sequence}",
                description="",
                debit=ZERO,
                credit=row["amount"],
                contract_number=number,
                installment_id=row["installment_id"],
                installment_sequence=sequence,
                sort_key=(number, sequence, row["pk"]),
            )
        )
    return lines


def _with_balances(lines: list[StatementLine], opening: Decimal) -> list[StatementLine]:
    lines = sorted(lines, key=lambda line: (line.date, _DAY_ORDER[line.kind], line.sort_key))
    balance = opening
    out = []
    for line in lines:
        balance += line.debit - line.credit
        out.append(replace(line, balance=balance))
    return out


def _aging(open_installments: list[Installment]) -> list[AgingFigure]:
    figures = []
    for value, label in AgingBucket.choices:
        rows = [i for i in open_installments if i.bucket == value]
        figures.append(
            AgingFigure(
                bucket=value,
                label=str(label),
                count=len(rows),
                amount=sum((i.open_value for i in rows), ZERO),
            )
        )
    return figures


def statement_of(
    *, user: User, customer_id: int, start: date | None = None, end: date | None = None
) -> Statement:
    """The statement of account of customer `customer_id` for [start, end] (inclusive; by
    default 1 January of this year to today), if `user` may read it, else Http404. Raises
    ValidationError naming the field for a period that is not valid (`statement_period`)."""
    start, end = statement_period(start, end)
    customer = get_object_or_404(
        statement_customers(user=user).annotate(**_opening_sums(customer_id, start)),
        pk=customer_id,
    )
    opening = (
        customer.opening_installments
        + customer.opening_penalty
        + customer.opening_reversals
        - customer.opening_payments
        - customer.opening_write_offs
    )
    lines = _with_balances(
        _installment_lines(customer_id, start, end)
        + _penalty_lines(customer_id, start, end)
        + _payment_lines(customer_id, start, end)
        + _write_off_lines(customer_id, start, end),
        opening,
    )
    total_debit = sum((line.debit for line in lines), ZERO)
    total_credit = sum((line.credit for line in lines), ZERO)
    open_rows = [i for i in open_installments_of(customer_id=customer_id) if i.open_value > 0]
    return Statement(
        customer=customer,
        start=start,
        end=end,
        printed_on=today(),
        opening_balance=opening,
        lines=lines,
        total_debit=total_debit,
        total_credit=total_credit,
        closing_balance=opening + total_debit - total_credit,
        open_installments=open_rows,
        open_total=sum((i.open_value for i in open_rows), ZERO),
        overdue_total=sum((i.open_value for i in open_rows if i.days_overdue > 0), ZERO),
        aging=_aging(open_rows),
        credit_balance=customer_credit_balance(customer_id),
    )
