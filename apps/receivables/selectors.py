"""Reads of receivables, scoped (DESIGN.md "Data scope"): a rep sees the installments and
payments of their customers, a supervisor or manager those of the units they head, finance,
admins and the ERP everything (money documents).

Overdue is computed here from the due date and today (in the business time zone), in SQL, so
the pages are right even on a day the daily job has not run yet: days overdue =
today − due date for an open installment past its due date; the aging bucket (账龄) is 1–30,
31–60, 61–90 or over 90 of those days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.models import User
from apps.customers.models import Customer

from .choices import OPEN_STATUSES, AgingBucket, PaymentStatus
from .models import Allocation, CollectionRecord, Installment, Payment, WriteOff

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def today() -> date:
    return timezone.localdate()


class DaysSince(Func):
    """`day − column` in days (Postgres: date − date is an integer)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()

    def __init__(self, day: date, column: str) -> None:
        super().__init__(Value(day, output_field=DateField()), F(column))


def open_amount_expr() -> ExpressionWrapper:
    return ExpressionWrapper(
        F("amount") - F("paid_amount") - F("written_off_amount"), output_field=_MONEY
    )


def overdue_q(on: date) -> Q:
    """Open installments past their due date on `on`."""
    return Q(status__in=OPEN_STATUSES, due_date__lt=on)


def bucket_expr(on: date) -> Case:
    """The aging bucket of an installment on `on` (0 when not overdue), from the due date."""
    return Case(
        When(~Q(status__in=OPEN_STATUSES), then=Value(AgingBucket.CURRENT)),
        When(due_date__gte=on, then=Value(AgingBucket.CURRENT)),
        When(due_date__gte=on - timedelta(days=30), then=Value(AgingBucket.D1_30)),
        When(due_date__gte=on - timedelta(days=60), then=Value(AgingBucket.D31_60)),
        When(due_date__gte=on - timedelta(days=90), then=Value(AgingBucket.D61_90)),
        default=Value(AgingBucket.D90_PLUS),
        output_field=IntegerField(),
    )


def _annotated(qs: QuerySet[Installment], on: date) -> QuerySet[Installment]:
    return qs.annotate(
        open_value=open_amount_expr(),
        days_overdue=Case(
            When(overdue_q(on), then=DaysSince(on, "due_date")),
            default=Value(0),
            output_field=IntegerField(),
        ),
        bucket=bucket_expr(on),
    )


# --- installments ------------------------------------------------------------------------


def installment_list(
    *,
    user: User,
    customer: int | None = None,
    status: str = "",
    overdue: bool | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    search: str = "",
    bucket: int | None = None,
) -> QuerySet[Installment]:
    """Installments `user` may see, with the contract, customer and owner joined and
    `open_value`, `days_overdue` and `bucket` annotated; oldest due first."""
    on = today()
    qs = Installment.objects.visible_to(user).select_related("contract", "customer", "owner")
    if customer is not None:
        qs = qs.filter(customer_id=customer)
    if status:
        qs = qs.filter(status=status)
    if overdue is True:
        qs = qs.filter(overdue_q(on))
    elif overdue is False:
        qs = qs.exclude(overdue_q(on))
    if due_from is not None:
        qs = qs.filter(due_date__gte=due_from)
    if due_to is not None:
        qs = qs.filter(due_date__lte=due_to)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(customer__name__ilike_contains=search) | Q(contract__number__iexact=search)
        )
    qs = _annotated(qs, on)
    if bucket is not None:
        qs = qs.filter(overdue_q(on), bucket=bucket)
    return qs.order_by("due_date", "sequence", "id")


def installment_get(*, user: User, pk: int) -> Installment:
    """One installment in `user`'s scope (else 404), with its allocations (and their
    payments), write-offs, penalty accruals and collection records."""
    qs = _annotated(
        Installment.objects.visible_to(user).select_related("contract", "customer", "owner"),
        today(),
    ).prefetch_related(
        Prefetch(
            "allocations",
            queryset=Allocation.objects.select_related(
                "payment", "created_by", "reversed_by"
            ).order_by("id"),
        ),
        Prefetch("write_offs", queryset=WriteOff.objects.select_related("owner").order_by("id")),
        "penalty_accruals",
        Prefetch(
            "collection_records",
            queryset=CollectionRecord.objects.select_related("owner", "contact"),
        ),
    )
    return get_object_or_404(qs, pk=pk)


def my_overdue(*, user: User) -> QuerySet[Installment]:
    """The rep's overdue list (逾期): installments in `user`'s scope past due with money open,
    oldest due first (a supervisor sees the team's, a manager the department's)."""
    on = today()
    return (
        _annotated(
            Installment.objects.visible_to(user)
            .filter(overdue_q(on))
            .select_related("contract", "customer", "owner"),
            on,
        )
        .filter(open_value__gt=0)
        .order_by("due_date", "sequence", "id")
    )


# --- payments ----------------------------------------------------------------------------


def payment_list(
    *,
    user: User,
    search: str = "",
    status: str = "",
    unallocated: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
    customer: int | None = None,
) -> QuerySet[Payment]:
    """Payments `user` may see, newest received first, customer and owner joined.

    `search`: a whole bank reference or external id, or part of the payer's or the
    customer's name."""
    qs = Payment.objects.visible_to(user).select_related("customer", "owner", "recorded_by")
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(bank_reference=search)
            | Q(external_id=search)
            | Q(payer_name__icontains=search)
            | Q(customer__name__ilike_contains=search)
        )
    if status:
        qs = qs.filter(status=status)
    if unallocated:
        qs = qs.filter(status=PaymentStatus.RECORDED, allocated_amount__lt=F("amount"))
    if date_from is not None:
        qs = qs.filter(received_on__gte=date_from)
    if date_to is not None:
        qs = qs.filter(received_on__lte=date_to)
    if customer is not None:
        qs = qs.filter(customer_id=customer)
    return qs.order_by("-received_on", "-id")


def payment_get(*, user: User, pk: int) -> Payment:
    """One payment in `user`'s scope (else 404), with its allocations and their
    installments and contracts."""
    qs = (
        Payment.objects.visible_to(user)
        .select_related("customer", "owner", "recorded_by")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=Allocation.objects.select_related(
                    "installment__contract", "created_by", "reversed_by"
                ).order_by("id"),
            )
        )
    )
    return get_object_or_404(qs, pk=pk)


def customer_credit_balance(customer: Customer | int) -> Decimal:
    """The customer's credit balance (预收款 / 余额): the unallocated part of its recorded
    payments."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    return Payment.objects.filter(
        customer_id=customer_id, status=PaymentStatus.RECORDED
    ).aggregate(
        balance=Coalesce(Sum(F("amount") - F("allocated_amount"), output_field=_MONEY), ZERO,
                         output_field=_MONEY)
    )["balance"]  # fmt: skip


@dataclass(frozen=True)
class PreviewLine:
    installment: Installment
    amount: Decimal


def allocation_preview(*, payment: Payment) -> list[PreviewLine]:
    """What the default allocation (oldest due first) would do now; reads, locks nothing."""
    left = payment.unallocated_amount
    lines: list[PreviewLine] = []
    if left <= 0:
        return lines
    rows = _annotated(
        Installment.objects.filter(customer_id=payment.customer_id, status__in=OPEN_STATUSES)
        .select_related("contract"),
        today(),
    ).order_by("due_date", "sequence", "id")  # fmt: skip
    for installment in rows:
        if left <= 0:
            break
        take = min(left, installment.open_amount)
        if take > 0:
            lines.append(PreviewLine(installment, take))
            left -= take
    return lines


def open_installments_of(*, customer_id: int) -> QuerySet[Installment]:
    """The customer's open installments, oldest due first (the allocation form's lines)."""
    return _annotated(
        Installment.objects.filter(customer_id=customer_id, status__in=OPEN_STATUSES)
        .select_related("contract"),
        today(),
    ).order_by("due_date", "sequence", "id")  # fmt: skip


# --- write-offs --------------------------------------------------------------------------


def writeoff_list(*, user: User, installment: int | None = None) -> QuerySet[WriteOff]:
    """Write-offs `user` may see: finance and admins all; others those of installments in
    their scope."""
    visible = Installment.objects.visible_to(user).values("pk")
    qs = WriteOff.objects.filter(Q(installment__in=visible) | Q(owner=user)).select_related(
        "installment__contract", "installment__customer", "owner"
    )
    if installment is not None:
        qs = qs.filter(installment_id=installment)
    return qs.order_by("-updated_at", "-id")


def writeoff_get(*, user: User, pk: int) -> WriteOff:
    return get_object_or_404(writeoff_list(user=user), pk=pk)


# --- the finance workbench ---------------------------------------------------------------


@dataclass(frozen=True)
class BucketFigure:
    bucket: int
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Workbench:
    today: date
    week_end: date
    due_this_week: list[Installment]
    due_this_week_count: int
    due_this_week_amount: Decimal
    buckets: list[BucketFigure]
    overdue_count: int
    overdue_amount: Decimal
    unallocated: list[Payment]
    unallocated_count: int
    unallocated_amount: Decimal


WORKBENCH_ROWS = 20
ORDER = ("due_date", "sequence", "id")  # the installment lists' order: oldest due first


def _overdue_bucket_q(on: date, bucket: int) -> Q:
    """The due dates of an overdue installment in `bucket` on `on` (as `bucket_expr`)."""
    bounds = {
        AgingBucket.D1_30: (on - timedelta(days=30), on),
        AgingBucket.D31_60: (on - timedelta(days=60), on - timedelta(days=30)),
        AgingBucket.D61_90: (on - timedelta(days=90), on - timedelta(days=60)),
        AgingBucket.D90_PLUS: (None, on - timedelta(days=90)),
    }
    first, before = bounds[bucket]
    q = Q(due_date__lt=before)
    return q & Q(due_date__gte=first) if first is not None else q


def workbench(*, user: User) -> Workbench:
    """The finance workbench (财务工作台): installments due this week (today to Sunday), the
    overdue money by aging bucket (counts and open amounts), and the payments with money left
    to allocate; each list its first rows plus its totals. A fixed number of queries.

    The week's and the buckets' totals are one pass over the open installments due by
    Sunday (conditional sums: an index-only scan of ``installment_open_aging``, hence the
    counts of `due_date`, never null: that index has no id), the unallocated totals one over
    the index ``payment_unallocated``."""
    on = today()
    week_end = on + timedelta(days=6 - on.weekday())
    installments = Installment.objects.visible_to(user)
    due_week = installments.filter(
        status__in=OPEN_STATUSES, due_date__gte=on, due_date__lte=week_end
    )
    money = open_amount_expr()
    in_week = Q(due_date__gte=on)
    overdue_buckets = [(value, label) for value, label in AgingBucket.choices
                       if value != AgingBucket.CURRENT]  # fmt: skip
    sums: dict[str, Any] = {
        "week_n": Count("due_date", filter=in_week),
        "week_amount": Sum(money, filter=in_week),
    }
    for value, _label in overdue_buckets:
        q = _overdue_bucket_q(on, value)
        sums[f"n_{value}"] = Count("due_date", filter=q)
        sums[f"amount_{value}"] = Sum(money, filter=q)
    totals = (
        installments.filter(status__in=OPEN_STATUSES, due_date__lte=week_end)
        .order_by()
        .aggregate(**sums)
    )
    buckets = [
        BucketFigure(
            bucket=value,
            label=str(label),
            count=totals[f"n_{value}"],
            amount=totals[f"amount_{value}"] or ZERO,
        )
        for value, label in overdue_buckets
    ]
    unallocated = Payment.objects.visible_to(user).filter(
        status=PaymentStatus.RECORDED, allocated_amount__lt=F("amount")
    )
    unallocated_totals = unallocated.order_by().aggregate(
        n=Count("*"),
        amount=Coalesce(Sum(F("amount") - F("allocated_amount"), output_field=_MONEY), ZERO,
                        output_field=_MONEY),
    )  # fmt: skip
    return Workbench(
        today=on,
        week_end=week_end,
        due_this_week=list(
            # The first rows' ids first (from the installments alone), then only those
            # rows joined: joining all of the week's hundreds of rows to sort them cost more.
            _annotated(
                installments.filter(
                    pk__in=due_week.order_by(*ORDER)[:WORKBENCH_ROWS].values("pk")
                ).select_related("contract", "customer", "owner"),
                on,
            ).order_by(*ORDER)
        ),
        due_this_week_count=totals["week_n"],
        due_this_week_amount=totals["week_amount"] or ZERO,
        buckets=buckets,
        overdue_count=sum(b.count for b in buckets),
        overdue_amount=sum((b.amount for b in buckets), ZERO),
        unallocated=list(
            unallocated.select_related("customer", "owner").order_by("received_on", "id")[
                :WORKBENCH_ROWS
            ]
        ),
        unallocated_count=unallocated_totals["n"],
        unallocated_amount=unallocated_totals["amount"],
    )


def page_of(qs: QuerySet, *, number: int, per_page: int) -> tuple[list, bool]:
    """Page `number` (from 1) of an ordered queryset and whether a next page exists, without
    a COUNT(*) (one row more than a page tells)."""
    start = (max(1, number) - 1) * per_page
    rows = list(qs[start : start + per_page + 1])
    return rows[:per_page], len(rows) > per_page
