"""Concurrent allocations never over-pay an installment nor over-allocate a payment (threads
with their own connections against Postgres)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.core.errors import Conflict
from apps.receivables.models import Allocation, Installment, Payment
from apps.receivables.services import payment_allocate, payment_record
from tests.approvals.test_concurrency import run_at_once

from .conftest import make_installment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("today")]


def pay(by, customer, amount, ref):
    return payment_record(by=by, customer=customer, amount=amount,
                          received_on=date(2026, 6, 12), bank_reference=ref).payment  # fmt: skip


def test_two_finance_users_allocating_two_payments_to_one_installment(
    org, customer, contract, second_finance
):
    # given one installment of 1,000 and two payments of 700 each
    installment = make_installment(contract, 1, "1000.00", date(2026, 6, 1))
    a = pay(org.finance, customer, "700.00", "BR-40")
    b = pay(second_finance, customer, "700.00", "BR-41")
    # when both allocate at the same moment, oldest due first
    results = run_at_once(
        lambda: payment_allocate(payment=a, by=org.finance),
        lambda: payment_allocate(payment=b, by=second_finance),
    )
    # then both ran, the installment is paid exactly, 400 stays as credit balance
    assert not [r for r in results if isinstance(r, Exception)], results
    installment = Installment.objects.get(pk=installment.pk)
    assert (installment.status, installment.paid_amount) == ("paid", Decimal("1000.00"))
    allocated = sorted(p.allocated_amount for p in Payment.objects.all())
    assert allocated == [Decimal("300.00"), Decimal("700.00")]


def test_two_chosen_line_allocations_to_one_installment_at_once(
    org, customer, contract, second_finance
):
    installment = make_installment(contract, 1, "1000.00", date(2026, 6, 1))
    a = pay(org.finance, customer, "700.00", "BR-42")
    b = pay(second_finance, customer, "700.00", "BR-43")
    results = run_at_once(
        lambda: payment_allocate(payment=a, by=org.finance, lines=[(installment, "700.00")]),
        lambda: payment_allocate(payment=b, by=second_finance, lines=[(installment, "700.00")]),
    )
    # then exactly one succeeded; the other was refused by its line
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), results
    assert "lines.0.amount" in errors[0].message_dict
    assert Installment.objects.get(pk=installment.pk).paid_amount == Decimal("700.00")


def test_same_payment_allocated_twice_at_once_is_allocated_once(
    org, customer, contract, second_finance
):
    first = make_installment(contract, 1, "600.00", date(2026, 5, 1))
    second = make_installment(contract, 2, "600.00", date(2026, 6, 1))
    payment = pay(org.finance, customer, "500.00", "BR-44")
    results = run_at_once(
        lambda: payment_allocate(payment=payment, by=org.finance, lines=[(first, "500.00")]),
        lambda: payment_allocate(payment=payment, by=second_finance, lines=[(second, "500.00")]),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], Conflict | ValidationError), results
    assert Payment.objects.get(pk=payment.pk).allocated_amount == Decimal("500.00")
    assert Allocation.objects.count() == 1
    paid = sorted(i.paid_amount for i in Installment.objects.all())
    assert paid == [Decimal("0.00"), Decimal("500.00")]


def test_same_reference_posted_twice_at_once_is_one_payment(org, customer, second_finance):
    results = run_at_once(
        lambda: pay(org.finance, customer, "900.00", "BR-45"),
        lambda: pay(second_finance, customer, "900.00", "BR-45"),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Payment.objects.filter(bank_reference="BR-45").count() == 1
    assert {r.pk for r in results} == {Payment.objects.get(bank_reference="BR-45").pk}
