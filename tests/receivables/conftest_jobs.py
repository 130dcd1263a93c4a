"""Helpers of the daily-job and collection tests: contracts, installments and payments are
created directly (their services belong to other modules), states set with `.update()`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from apps.contracts.models import Contract
from apps.customers.models import Customer
from apps.receivables.models import Installment, Payment

_numbers = count(1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def on(time_machine, day: date, hour: int = 1) -> None:
    """Move the clock to `day` at `hour` o'clock business time (the job runs at 01:00)."""
    time_machine.move_to(datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI))


def customer_of(owner, name: str = "深圳华星科技有限公司", **kwargs) -> Customer:
    return Customer.objects.create(owner=owner, name=name, **kwargs)


def signed_contract(
    customer: Customer, *, grace: int = 0, rate: str = "0.0500", amount: str = "100000.00"
) -> Contract:
    contract = Contract.objects.create(
        number=f"HT-2026-9{next(_numbers):05d}", title="设备采购合同", customer=customer,
        owner=customer.owner, amount=Decimal(amount), credit_portion=Decimal(amount),
        grace_days=grace, penalty_rate_per_day=Decimal(rate),
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(status="signed")
    return contract


def installment(
    contract: Contract, due: date, amount: str = "10000.00", *, sequence: int = 1,
    status: str = "scheduled", paid: str = "0.00", **kwargs,
) -> Installment:  # fmt: skip
    item = Installment.objects.create(
        contract=contract, customer=contract.customer, owner=contract.owner, sequence=sequence,
        kind="on_delivery", due_date=due, amount=Decimal(amount), **kwargs,
    )  # fmt: skip
    updates = {}
    if status != "scheduled":
        updates["status"] = status
    if Decimal(paid):
        updates["paid_amount"] = Decimal(paid)
    if updates:
        Installment.objects.filter(pk=item.pk).update(**updates)
    return reload(item)


def payment(customer: Customer, amount: str, received_on: date, **kwargs) -> Payment:
    return Payment.objects.create(
        customer=customer, owner=customer.owner, amount=Decimal(amount), received_on=received_on,
        **kwargs,
    )  # fmt: skip


def reload(obj):
    """A fresh copy (`refresh_from_db` cannot set a protected FSM field)."""
    return type(obj).objects.get(pk=obj.pk)
