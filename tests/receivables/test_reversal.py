"""Reversal (冲销): a wrong payment's allocations are taken back, states restored, nothing
deleted; one allocation can be taken back to allocate differently."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.core.errors import Conflict
from apps.core.history import history_for
from apps.receivables.models import Allocation, Installment, Payment
from apps.receivables.services import (
    allocation_reverse,
    payment_allocate,
    payment_record,
    payment_reverse,
)

pytestmark = pytest.mark.usefixtures("today")


def pay(org, customer, amount, ref):
    return payment_record(by=org.finance, customer=customer, amount=amount,
                          received_on=date(2026, 6, 12), bank_reference=ref).payment  # fmt: skip


def test_reversal_restores_every_installment_and_keeps_the_rows(org, customer, schedule):
    first, second, _third = schedule
    earlier = pay(org, customer, "10000.00", "BR-20")
    payment_allocate(payment=earlier, by=org.finance)  # first: 10,000 paid
    wrong = pay(org, customer, "35000.00", "BR-21")
    payment_allocate(payment=wrong, by=org.finance)  # first paid, second 15,000
    # when the wrong payment is reversed
    payment_reverse(payment=wrong, by=org.finance, reason="银行退票")
    # then
    first = Installment.objects.get(pk=first.pk)
    second = Installment.objects.get(pk=second.pk)
    assert (first.status, first.paid_amount, first.paid_at) == (
        "partially_paid", Decimal("10000.00"), None,
    )  # fmt: skip
    assert (second.status, second.paid_amount) == ("due", Decimal("0.00"))
    wrong = Payment.objects.get(pk=wrong.pk)
    assert (wrong.status, wrong.allocated_amount, wrong.reversal_reason) == (
        "reversed", Decimal("0.00"), "银行退票",
    )  # fmt: skip
    assert wrong.unallocated_amount == Decimal("0.00")
    live = Allocation.objects.filter(payment=wrong, reversed_at__isnull=True)
    assert not live.exists()
    assert Allocation.objects.filter(payment=wrong, reversed_by=org.finance).count() == 2
    assert any(c.field == "status" for e in history_for(wrong) for c in e.changes), (
        "the reversal is in the payment's history"
    )


def test_reversal_needs_a_reason(org, customer, schedule):
    payment = pay(org, customer, "100.00", "BR-22")
    with pytest.raises(ValidationError) as caught:
        payment_reverse(payment=payment, by=org.finance, reason="  ")
    assert "reason" in caught.value.message_dict


def test_reversed_payment_cannot_be_reversed_or_allocated_again(org, customer, schedule):
    payment = pay(org, customer, "100.00", "BR-23")
    payment_reverse(payment=payment, by=org.finance, reason="重复录入")
    with pytest.raises(Conflict):
        payment_reverse(payment=payment, by=org.finance, reason="again")
    with pytest.raises(Conflict):
        payment_allocate(payment=payment, by=org.finance)


def test_one_allocation_taken_back_and_allocated_differently(org, customer, schedule):
    first, _second, third = schedule
    payment = pay(org, customer, "20000.00", "BR-24")
    [allocation] = payment_allocate(payment=payment, by=org.finance)
    assert allocation.installment_id == first.pk
    # when it is taken back and put on the third installment instead
    allocation_reverse(allocation=allocation, by=org.finance, reason="客户指定支付尾款")
    payment_allocate(payment=payment, by=org.finance, lines=[(third, "20000.00")])
    # then
    first = Installment.objects.get(pk=first.pk)
    third = Installment.objects.get(pk=third.pk)
    assert (first.status, first.paid_amount) == ("due", Decimal("0.00"))
    assert (third.status, third.paid_amount) == ("paid", Decimal("20000.00"))
    assert Payment.objects.get(pk=payment.pk).allocated_amount == Decimal("20000.00")
    with pytest.raises(Conflict):
        allocation_reverse(allocation=allocation, by=org.finance, reason="twice")
