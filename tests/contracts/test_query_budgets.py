"""Query budgets of the contract lists (issue 10): the contract page and the contracts and
amendments of the API cost the same number of queries with 2 rows as with 10 of other owners,
customers and deals."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from apps.contracts.models import Contract, ContractAmendment
from apps.customers.models import Customer
from apps.opportunities.models import Opportunity
from tests.budgets import ListCase, Marker

_numbers = count(1)


def _contracts(org, n: int) -> list[Contract]:
    """n contracts of manager1's reps in turn, each with its own customer, every other one
    from a deal."""
    reps = (org.rep1a, org.rep1b, org.rep2a)
    contracts = []
    for i in range(n):
        k, owner = next(_numbers), reps[i % 3]
        customer = Customer.objects.create(name=f"Budget Contract Customer {k}", owner=owner)
        deal = (
            Opportunity.objects.create(
                customer=customer, owner=owner, name=f"Deal {k}", stage_entered_at=timezone.now()
            )
            if i % 2
            else None
        )
        contract = Contract.objects.create(
            number=f"HT-BUDGET-{k:06d}",
            title=f"Contract {k}",
            customer=customer,
            opportunity=deal,
            owner=owner,
            amount=Decimal("100000.00"),
        )
        contracts.append(contract)
    return contracts


def add_contract_page(org, n: int) -> list[Marker]:
    return [contract.number for contract in _contracts(org, n)]


def add_contracts(org, n: int) -> list[Marker]:
    return [contract.pk for contract in _contracts(org, n)]


def add_amendments(org, n: int) -> list[Marker]:
    """n amendments, each of another signed contract, by its owner."""
    amendments = []
    for contract in _contracts(org, n):
        Contract.objects.filter(pk=contract.pk).update(status="signed")  # state for the test
        amendments.append(
            ContractAmendment.objects.create(
                contract=contract,
                owner=contract.owner,
                number=1,
                reason="More machines",
                amount=Decimal("120000.00"),
            ).pk
        )
    return amendments


LISTS = {
    "contracts:list": ListCase("/contracts/", "manager1", add_contract_page, budget=4),
    "api:contract-list": ListCase("/api/v1/contracts/", "manager1", add_contracts, budget=3),
    "api:contract-amendment-list": ListCase(
        "/api/v1/contract-amendments/", "manager1", add_amendments, budget=3
    ),
}


@pytest.mark.parametrize("name", LISTS)
def test_contract_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
