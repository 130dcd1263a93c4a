"""The dashboards' short lists can be read from their indexes (issue 10, verified on the large
preset with EXPLAIN ANALYZE): with plain scans switched off on the empty test tables, the
planner shows whether the query matches the index at all — a change of the query's order or
filter that no index serves any more fails here, not only in `make bench`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.contracts.choices import ContractStatus
from apps.contracts.selectors import ContractFilters, contract_list
from apps.core.dashboards import LARGE_CONTRACT, ROWS_SHOWN
from apps.customers.selectors import customer_list
from apps.goals import actuals
from apps.goals.choices import Metric
from apps.receivables.selectors import my_overdue

pytestmark = pytest.mark.django_db


def plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_largest_overdue_amounts_come_in_the_order_of_their_index(org):
    qs = my_overdue(user=org.finance).order_by("-open_value", "due_date", "id")[:ROWS_SHOWN]
    found = plan(qs)
    assert "installment_open_amount" in found
    assert "Sort" not in found.split("installment_open_amount")[0]


def test_large_pending_contracts_come_in_the_order_of_their_index(org):
    qs = (
        contract_list(user=org.admin, filters=ContractFilters(status=ContractStatus.PENDING))
        .filter(amount__gt=LARGE_CONTRACT)
        .order_by("-amount", "id")[:ROWS_SHOWN]
    )
    assert "contract_pending_amount" in plan(qs)


def test_customers_on_credit_hold_come_from_their_index(org):
    qs = customer_list(user=org.finance).filter(on_credit_hold=True)[:ROWS_SHOWN]
    assert "customer_credit_hold" in plan(qs)


def test_collected_of_the_last_days_reads_the_live_allocations_from_their_index(org):
    # a rep's collected amount of a few days (the open month's live days on the home page)
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as queries:
        actuals.compute(Metric.COLLECTED, today - timedelta(days=2), today,
                        owner_ids=[org.rep1a.pk])  # fmt: skip
    (sql,) = [q["sql"] for q in queries if "receivables_allocation" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        found = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using allocation_payment_live" in found
