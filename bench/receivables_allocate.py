"""Benchmark of allocating one payment (issue 6 "Figures": allocating one payment under 50 ms
with 1,000,000 installments and 600,000 payments).

Over the scale database (``manage.py seed_scale --database-name salesctl_scale --add
contracts,receivables``): ``--payments`` payments that have money left to allocate (the
recent ones not allocated yet, the over-paid ones), of customers with open installments, are
each allocated by the real service `apps.receivables.services.payment_allocate` (oldest due
first, by a finance user) inside a savepoint that is rolled back — the data stays as it is,
and every payment is allocated against the same state. When fewer such payments exist, the
rest are recorded first for customers with open installments (by `payment_record`, in the
savepoint, not timed).

Prints p50/p95/max of the allocation, the queries it issues and the installments it pays,
then EXPLAIN (ANALYZE, BUFFERS) of its queries for the last payment.

    .venv/bin/python bench/receivables_allocate.py [--database salesctl_scale]
        [--payments 50] [--no-explain]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DATABASE,
    explain,
    figures,
    percentile,
    setup_django,
    timed,
)

TARGET_MS = 50.0


def _candidates(count: int) -> list[int]:
    """Payments with money left to allocate whose customer has open installments, spread
    over the table (every n-th of them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.id FROM receivables_payment p
             WHERE p.status = 'recorded' AND p.allocated_amount < p.amount
               AND EXISTS (SELECT 1 FROM receivables_installment i
                            WHERE i.customer_id = p.customer_id
                              AND i.status IN ('scheduled', 'due', 'partially_paid'))
             ORDER BY p.id
            """
        )
        ids = [row[0] for row in cursor.fetchall()]
    step = max(1, len(ids) // count) if ids else 1
    return ids[::step][:count]


def _recorded(count: int, finance) -> list[int]:
    """`count` new payments (half of a customer's open amount), for customers with open
    installments, recorded by the service."""
    from decimal import Decimal

    from django.db.models import F, Sum

    from apps.customers.models import Customer
    from apps.receivables.choices import OPEN_STATUSES
    from apps.receivables.models import Installment
    from apps.receivables.selectors import today
    from apps.receivables.services import payment_record

    rows = (
        Installment.objects.filter(status__in=OPEN_STATUSES)
        .values("customer_id")
        .annotate(open=Sum(F("amount") - F("paid_amount") - F("written_off_amount")))
        .order_by("customer_id")[:count]
    )
    ids = []
    for n, row in enumerate(rows):
        customer = Customer.objects.get(pk=row["customer_id"])
        amount = max((row["open"] / 2).quantize(Decimal("0.01")), Decimal("0.01"))
        result = payment_record(by=finance, customer=customer, amount=amount,
                                received_on=today(), bank_reference=f"BENCH-ALLOC-{n}")  # fmt: skip
        ids.append(result.payment.pk)
    return ids


def _warm(pk: int, finance) -> None:
    """One allocation, rolled back, not timed: the URL configuration (the notification links
    to the payment's page) and the model and query caches load, as in a running server."""
    from django.db import transaction
    from django.urls import get_resolver

    from apps.receivables.models import Payment
    from apps.receivables.services import payment_allocate

    get_resolver().url_patterns  # noqa: B018 (evaluated for its side effect)
    sid = transaction.savepoint()
    payment_allocate(payment=Payment.objects.get(pk=pk), by=finance)
    transaction.savepoint_rollback(sid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--payments", type=int, default=50)
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    setup_django(args.database)

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.choices import Role
    from apps.accounts.models import User
    from apps.receivables.models import Installment, Payment
    from apps.receivables.services import payment_allocate

    finance = User.objects.filter(role=Role.FINANCE, is_active=True).order_by("id").first()
    if finance is None:
        sys.exit("no finance user: load the scale company first")
    print(f"installments: {Installment.objects.count():,}, payments: {Payment.objects.count():,}")
    ms: list[float] = []
    queries: list[int] = []
    paid: list[int] = []
    last_queries: list[dict] = []
    with transaction.atomic():
        ids = _candidates(args.payments)
        if len(ids) < args.payments:
            ids += _recorded(args.payments - len(ids), finance)
        print(f"{len(ids)} payments with money to allocate")
        _warm(ids[0], finance)
        for pk in ids:
            sid = transaction.savepoint()
            payment = Payment.objects.get(pk=pk)
            with CaptureQueriesContext(connection) as captured:
                elapsed, allocations = timed(
                    lambda p=payment: payment_allocate(payment=p, by=finance)
                )
            transaction.savepoint_rollback(sid)
            ms.append(elapsed)
            queries.append(len(captured.captured_queries))
            paid.append(len(allocations))
            last_queries = captured.captured_queries
        transaction.set_rollback(True)
    print(f"allocate one payment (oldest due first): {figures(ms)}")
    print(
        f"  queries per allocation: median {statistics.median(queries):.0f}, max {max(queries)};"
        f" installments paid per payment: median {statistics.median(paid):.0f}, max {max(paid)}"
    )
    verdict = "meets" if percentile(ms, 0.95) < TARGET_MS else "MISSES"
    print(f"  p95 {verdict} the target of {TARGET_MS:.0f} ms")
    if args.no_explain:
        return
    with transaction.atomic():
        for query in last_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            print(f"\n--- {query['time']} s: {sql[:160]}…")
            print(explain(sql))
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
