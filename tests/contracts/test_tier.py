"""The nightly customer tier job: tier from the last 12 months' signed contracts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.contracts.models import Contract
from apps.contracts.services import customer_tier_recompute
from apps.contracts.tasks import customer_tier_recompute as task
from apps.customers.models import Customer

TODAY = date(2026, 11, 20)


def _contract(customer, n, amount, status, signed_on):
    c = Contract.objects.create(number=f"HT-T-{n}", title="t", customer=customer,
                                owner=customer.owner, amount=Decimal(amount))  # fmt: skip
    Contract.objects.filter(pk=c.pk).update(
        status=status, signed_on=signed_on, termination_reason="x"
    )


@pytest.fixture
def customers(org, settings):
    settings.CUSTOMER_TIER_THRESHOLDS = {"A": 1000000, "B": 300000, "C": 50000}
    make = lambda name: Customer.objects.create(name=name, owner=org.rep1a, tier="C")  # noqa: E731
    a, b, c, d, old = make("甲"), make("乙"), make("丙"), make("丁"), make("戊")
    _contract(a, 1, "600000.00", "signed", date(2026, 1, 5))
    _contract(a, 2, "400000.00", "completed", date(2025, 11, 21))  # exactly within 12 months
    _contract(b, 3, "300000.00", "executing", date(2026, 6, 1))
    _contract(c, 4, "50000.00", "signed", date(2026, 11, 20))
    _contract(c, 5, "900000.00", "approved", None)  # not signed: does not count
    _contract(old, 6, "2000000.00", "signed", date(2025, 11, 20))  # 12 months ago: too old
    _contract(d, 7, "49999.99", "terminated", date(2026, 3, 1))
    return {"A": a, "B": b, "C": c, "D": d, "old": old}


def test_tiers_follow_the_thresholds(customers):
    changed = customer_tier_recompute(today=TODAY)
    tiers = {k: Customer.objects.get(pk=c.pk).tier for k, c in customers.items()}
    assert tiers == {"A": "A", "B": "B", "C": "C", "D": "D", "old": "D"}
    assert changed == 4  # C was already C


def test_second_run_changes_nothing(customers):
    customer_tier_recompute(today=TODAY)
    assert customer_tier_recompute(today=TODAY) == 0


def test_task_runs_the_job(customers):
    assert isinstance(task(), int)
