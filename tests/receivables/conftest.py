"""Fixtures for the receivables tests: a signed contract's installments are created directly
(the signing service belongs to the contracts app), states set up with queryset updates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from rest_framework.test import APIClient

from apps.accounts.choices import Role
from apps.contracts.models import Contract
from apps.customers.models import Customer
from apps.receivables.models import Installment
from tests.factories import UserFactory

_numbers = count(1)


def make_customer(owner, name: str = "深圳华星科技有限公司", **kwargs) -> Customer:
    return Customer.objects.create(owner=owner, name=name, **kwargs)


def make_contract(customer: Customer, amount: str = "100000.00") -> Contract:
    contract = Contract.objects.create(
        number=f"HT-2026-{next(_numbers):06d}", title="设备采购合同", customer=customer,
        owner=customer.owner, amount=Decimal(amount), credit_portion=Decimal(amount),
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(status="signed")  # state for the test
    return contract


def make_installment(
    contract: Contract, sequence: int, amount: str, due: date, status: str = "due", **kwargs
) -> Installment:
    installment = Installment.objects.create(
        contract=contract, customer=contract.customer, owner=contract.customer.owner,
        sequence=sequence, kind="on_delivery", due_date=due, amount=Decimal(amount), **kwargs,
    )  # fmt: skip
    if status != "scheduled":
        Installment.objects.filter(pk=installment.pk).update(status=status)
        installment = Installment.objects.get(pk=installment.pk)
    return installment


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def customer(org) -> Customer:
    """A customer of rep1a (team 1 under sup1, dept 1 under manager1)."""
    return make_customer(org.rep1a)


@pytest.fixture
def contract(customer) -> Contract:
    return make_contract(customer)


@pytest.fixture
def schedule(contract):
    """Three installments of 30,000 / 50,000 / 20,000.00, due 1 Mar, 1 May and 1 Jul 2026
    (given out of order, so that FIFO must sort them)."""
    third = make_installment(contract, 3, "20000.00", date(2026, 7, 1), status="scheduled")
    first = make_installment(contract, 1, "30000.00", date(2026, 3, 1))
    second = make_installment(contract, 2, "50000.00", date(2026, 5, 1))
    return first, second, third


@pytest.fixture
def second_finance(org):
    return UserFactory(username="finance2", role=Role.FINANCE, org_unit=org.company)


TODAY = date(2026, 6, 15)


@pytest.fixture
def today(time_machine):
    """Today is Monday 15 June 2026 in the business time zone (Asia/Shanghai)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    time_machine.move_to(datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
