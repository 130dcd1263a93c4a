"""Two contracts submitted at once for one customer cannot both use the same available
credit: the customer row lock serialises them, the second sees the first as reserved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.contracts.models import Contract
from apps.customers.models import Customer
from tests.approvals.test_concurrency import run_at_once

from .conftest import draft

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_submissions_cannot_share_the_same_credit(org, policies, product):
    from apps.contracts.services import contract_submit

    # given 100,000 available and two drafts each needing 70,000 of credit
    customer = Customer.objects.create(name="并发客户", owner=org.rep1a,
                                       credit_limit=Decimal("100000.00"))  # fmt: skip
    first, second = draft(customer, product), draft(customer, product)
    # when both are submitted at the same moment
    results = run_at_once(
        lambda: contract_submit(contract=first, by=org.rep1a),
        lambda: contract_submit(contract=second, by=org.rep1a),
    )
    # then both are pending, exactly one without the credit override
    assert not any(isinstance(r, Exception) for r in results), results
    rows = Contract.objects.filter(pk__in=[first.pk, second.pk])
    assert {c.status for c in rows} == {"pending"}
    assert sorted(c.needs_credit_override for c in rows) == [False, True]
