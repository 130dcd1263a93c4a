"""Query budgets of the receivables lists (issue 10): the workbench, "my overdue", payments,
installments, collection records and tasks pages, and the payments, installments, write-offs,
collection records and tasks and the aging and collection reports (by customer) of the API,
cost the same number of queries with 2 rows as with 10 of other owners, customers, contracts
and contacts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest

from apps.customers.models import Contact
from apps.receivables.models import (
    CollectionRecord,
    CollectionTask,
    Installment,
    Payment,
    WriteOff,
)
from apps.receivables.selectors import today
from tests.budgets import ListCase, Marker

from .conftest import make_contract, make_customer, make_installment

_numbers = count(1)


def _installments(org, n: int, *, days: int = -40, reps=None) -> list[Installment]:
    """n installments of 10,000 due `days` from today, each of its own customer and contract,
    of manager1's reps in turn (or of `reps`)."""
    reps = reps or (org.rep1a, org.rep1b, org.rep2a)
    rows = []
    for i in range(n):
        customer = make_customer(reps[i % len(reps)], name=f"Budget AR Customer {next(_numbers)}")
        contract = make_contract(customer)
        rows.append(make_installment(contract, 1, "10000.00", today() + timedelta(days=days)))
    return rows


def _payments(org, n: int) -> list[Payment]:
    """n unallocated payments, each of another customer and owner, recorded by finance."""
    reps = (org.rep1a, org.rep1b, org.rep2a)
    rows = []
    for i in range(n):
        k = next(_numbers)
        customer = make_customer(reps[i % 3], name=f"Budget Payer {k}")
        rows.append(
            Payment.objects.create(
                customer=customer,
                owner=customer.owner,
                amount=Decimal("5000.00"),
                received_on=today() - timedelta(days=i),
                bank_reference=f"BUDGET-REF-{k}",
                recorded_by=org.finance,
            )
        )
    return rows


def add_workbench(org, n: int) -> list[Marker]:
    due = _installments(org, n, days=0)
    paid = _payments(org, n)
    return [i.customer.name for i in due] + [p.customer.name for p in paid]


def add_my_overdue(org, n: int) -> list[Marker]:
    return [i.contract.number for i in _installments(org, n, reps=(org.rep1a, org.rep1b))]


def add_payment_page(org, n: int) -> list[Marker]:
    return [p.get_absolute_url() for p in _payments(org, n)]


def add_installment_page(org, n: int) -> list[Marker]:
    return [i.contract.number for i in _installments(org, n)]


def _collection_records(org, n: int) -> list[CollectionRecord]:
    """n records, each on another installment, with its customer's contact, by its owner."""
    rows = []
    for installment in _installments(org, n):
        contact = Contact.objects.create(customer=installment.customer, name="Finance contact")
        rows.append(
            CollectionRecord.objects.create(
                customer=installment.customer,
                installment=installment,
                contact=contact,
                owner=installment.owner,
                method="phone",
                notes="Promised next week",
            )
        )
    return rows


def _collection_tasks(org, n: int, reps=None) -> list[CollectionTask]:
    return [
        CollectionTask.objects.create(
            installment=i,
            customer=i.customer,
            owner=i.owner,
            bucket=1,
            due_on=today(),
        )
        for i in _installments(org, n, reps=reps)
    ]


def add_collection_page(org, n: int) -> list[Marker]:
    return [r.customer.name for r in _collection_records(org, n)]


def add_task_page(org, n: int) -> list[Marker]:
    return [t.customer.name for t in _collection_tasks(org, n, reps=(org.rep1a, org.rep1b))]


def add_payments(org, n: int) -> list[Marker]:
    return [p.pk for p in _payments(org, n)]


def add_installments(org, n: int) -> list[Marker]:
    return [i.pk for i in _installments(org, n)]


def add_write_offs(org, n: int) -> list[Marker]:
    return [
        WriteOff.objects.create(
            installment=i, owner=i.owner, amount=Decimal("10000.00"), reason="Customer bankrupt"
        ).pk
        for i in _installments(org, n, days=-200)
    ]


def add_collection_records(org, n: int) -> list[Marker]:
    return [r.pk for r in _collection_records(org, n)]


def add_collection_tasks(org, n: int) -> list[Marker]:
    return [t.pk for t in _collection_tasks(org, n)]


def add_report_customers(org, n: int) -> list[Marker]:
    """n customers with an installment due this month: a report row each (by customer)."""
    return [i.customer.name for i in _installments(org, n, days=0)]


BY_CUSTOMER = {"group_by": "customer"}
LISTS = {
    "receivables:workbench": ListCase("/receivables/", "finance", add_workbench, budget=5),
    "receivables:my_overdue": ListCase(
        "/receivables/my-overdue/", "sup1", add_my_overdue, budget=3
    ),
    "receivables:payment_list": ListCase(
        "/receivables/payments/", "finance", add_payment_page, budget=2
    ),
    "receivables:installment_list": ListCase(
        "/receivables/installments/", "manager1", add_installment_page, budget=3
    ),
    "receivables:collection_list": ListCase(
        "/receivables/collection/", "manager1", add_collection_page, budget=3
    ),
    "receivables:collection_task_list": ListCase(
        "/receivables/collection/tasks/",
        "sup1",
        add_task_page,
        budget=4,
        data={"scope": "team"},
    ),
    "api:payment-list": ListCase("/api/v1/payments/", "finance", add_payments, budget=2),
    "api:installment-list": ListCase(
        "/api/v1/installments/", "manager1", add_installments, budget=3
    ),
    "api:write-off-list": ListCase("/api/v1/write-offs/", "manager1", add_write_offs, budget=3),
    "api:collection-record-list": ListCase(
        "/api/v1/collection-records/", "manager1", add_collection_records, budget=3
    ),
    "api:collection-task-list": ListCase(
        "/api/v1/collection-tasks/",
        "manager1",
        add_collection_tasks,
        budget=3,
        data={"mine": "false"},
    ),
    "api:report-receivables-aging-list": ListCase(
        "/api/v1/reports/receivables-aging/",
        "manager1",
        add_report_customers,
        budget=6,
        data=BY_CUSTOMER,
    ),
    "api:report-collection-list": ListCase(
        "/api/v1/reports/collection/",
        "manager1",
        add_report_customers,
        budget=10,
        data=BY_CUSTOMER,
    ),
}


@pytest.mark.parametrize("name", LISTS)
def test_receivables_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
