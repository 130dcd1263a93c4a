"""Exposure and available credit include open installments and approved-but-unsigned
contracts' credit portion (issue 6); pending contracts are reserved for the credit check."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from apps.contracts.models import Contract
from apps.customers.credit import customer_credit
from apps.customers.models import Customer
from apps.receivables.exposure import pending_contracts
from apps.receivables.models import Installment


def _contract(customer, owner, number, status, credit, amount="100000.00"):
    contract = Contract.objects.create(
        number=number, title="设备采购合同", customer=customer, owner=owner,
        amount=Decimal(amount), credit_portion=Decimal(credit),
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(status=status)  # state set up for the test
    return contract


def test_exposure_sums_open_installments_and_approved_contracts(org):
    # given a customer with a 500,000 limit
    customer = Customer.objects.create(name="深圳甲公司", owner=org.rep1a,
                                       credit_limit=Decimal("500000.00"))  # fmt: skip
    signed = _contract(customer, org.rep1a, "HT-2026-000001", "signed", "80000.00")
    Installment.objects.create(
        contract=signed, customer=customer, owner=org.rep1a, sequence=1, kind="on_delivery",
        due_date=date(2026, 12, 1), amount=Decimal("50000.00"), paid_amount=Decimal("20000.00"),
        status="partially_paid",
    )  # fmt: skip
    Installment.objects.create(
        contract=signed, customer=customer, owner=org.rep1a, sequence=2, kind="retention",
        due_date=date(2027, 6, 1), amount=Decimal("30000.00"),
    )  # fmt: skip
    Installment.objects.create(
        contract=signed, customer=customer, owner=org.rep1a, sequence=3, kind="prepayment",
        due_date=date(2026, 10, 1), amount=Decimal("20000.00"), paid_amount=Decimal("20000.00"),
        status="paid",
    )  # fmt: skip
    _contract(customer, org.rep1a, "HT-2026-000002", "approved", "45000.50")
    _contract(customer, org.rep1a, "HT-2026-000003", "pending", "10000.00")
    _contract(customer, org.rep1a, "HT-2026-000004", "draft", "99999.00")
    # when
    summary = customer_credit(customer)
    # then open installments (30,000 + 30,000) + approved unsigned (45,000.50)
    assert summary.exposure == Decimal("105000.50")
    assert summary.available == Decimal("394999.50")
    assert pending_contracts([customer.pk]) == {customer.pk: Decimal("10000.00")}
