"""Allocation (核销): oldest due first, chosen lines, partial payments, over-payment and the
credit balance (预收款), its later application, the refusals, the owner's notification."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.errors import Conflict
from apps.notifications.models import Notification
from apps.receivables.models import Allocation, Installment, Payment
from apps.receivables.selectors import customer_credit_balance
from apps.receivables.services import credit_balance_apply, payment_allocate, payment_record

from .conftest import make_contract, make_installment

pytestmark = pytest.mark.usefixtures("today")


def pay(org, customer, amount, ref):
    return payment_record(by=org.finance, customer=customer, amount=amount,
                          received_on=date(2026, 6, 12), bank_reference=ref).payment  # fmt: skip


def fresh(*objects):
    return [type(o).objects.get(pk=o.pk) for o in objects]


def test_partial_payment_leaves_the_installment_partially_paid(org, customer, schedule):
    first, _second, _third = schedule
    payment = pay(org, customer, "12000.50", "BR-1")
    # when
    allocations = payment_allocate(payment=payment, by=org.finance)
    # then
    [first] = fresh(first)
    assert [(a.installment_id, a.amount) for a in allocations] == [(first.pk, Decimal("12000.50"))]
    assert (first.status, first.paid_amount, first.open_amount) == (
        "partially_paid", Decimal("12000.50"), Decimal("17999.50"),
    )  # fmt: skip
    assert first.paid_at is None
    assert Payment.objects.get(pk=payment.pk).allocated_amount == Decimal("12000.50")


def test_fifo_pays_oldest_due_first_across_installments(org, customer, schedule):
    first, second, third = schedule
    payment = pay(org, customer, "45000.00", "BR-2")
    # when
    payment_allocate(payment=payment, by=org.finance)
    # then 30,000 pays the first in full, 15,000 goes to the second; the third is untouched
    first, second, third = fresh(first, second, third)
    assert (first.status, first.paid_amount, first.paid_at) == (
        "paid", Decimal("30000.00"), date(2026, 6, 15),
    )  # fmt: skip
    assert (second.status, second.paid_amount) == ("partially_paid", Decimal("15000.00"))
    assert (third.status, third.paid_amount) == ("scheduled", Decimal("0.00"))
    assert Allocation.objects.filter(allocated_on=date(2026, 6, 15)).count() == 2


def test_second_payment_continues_where_the_first_stopped(org, customer, schedule):
    first, second, _third = schedule
    payment_allocate(payment=pay(org, customer, "40000.00", "BR-3"), by=org.finance)
    payment_allocate(payment=pay(org, customer, "40000.00", "BR-4"), by=org.finance)
    first, second = fresh(first, second)
    assert (first.status, second.status, second.paid_amount) == (
        "paid", "paid", Decimal("50000.00"),
    )  # fmt: skip


def test_chosen_lines_allocate_exactly_those_amounts(org, customer, schedule):
    first, second, third = schedule
    payment = pay(org, customer, "25000.00", "BR-5")
    # when
    payment_allocate(payment=payment, by=org.finance,
                     lines=[(third, "20000.00"), (second, Decimal("4999.99"))])  # fmt: skip
    # then
    first, second, third = fresh(first, second, third)
    assert (first.paid_amount, second.paid_amount, third.paid_amount) == (
        Decimal("0.00"), Decimal("4999.99"), Decimal("20000.00"),
    )  # fmt: skip
    assert third.status == "paid" and second.status == "partially_paid"
    assert Payment.objects.get(pk=payment.pk).unallocated_amount == Decimal("0.01")


def test_a_line_over_the_installments_open_amount_is_refused_naming_it(org, customer, schedule):
    first, second, _third = schedule
    payment = pay(org, customer, "90000.00", "BR-6")
    with pytest.raises(ValidationError) as caught:
        payment_allocate(payment=payment, by=org.finance,
                         lines=[(second, "100.00"), (first, "30000.01")])  # fmt: skip
    assert "lines.1.amount" in caught.value.message_dict
    assert not Allocation.objects.exists()
    assert Installment.objects.get(pk=second.pk).paid_amount == Decimal("0.00")


def test_lines_over_the_payments_unallocated_amount_are_refused(org, customer, schedule):
    first, second, _third = schedule
    payment = pay(org, customer, "1000.00", "BR-7")
    with pytest.raises(ValidationError) as caught:
        payment_allocate(payment=payment, by=org.finance,
                         lines=[(first, "600.00"), (second, "400.01")])  # fmt: skip
    assert list(caught.value.message_dict) == ["lines.1.amount"]
    assert not Allocation.objects.exists()


def test_a_line_of_another_customers_installment_is_refused(org, customer, schedule):
    other = make_contract(customer.__class__.objects.create(name="别家", owner=org.rep2a))
    foreign = make_installment(other, 1, "500.00", date(2026, 5, 1))
    payment = pay(org, customer, "500.00", "BR-8")
    with pytest.raises(ValidationError) as caught:
        payment_allocate(payment=payment, by=org.finance, lines=[(foreign, "500.00")])
    assert "lines.0.installment" in caught.value.message_dict


def test_over_payment_leaves_a_credit_balance(org, customer, schedule):
    payment = pay(org, customer, "100000.01", "BR-9")
    payment_allocate(payment=payment, by=org.finance)
    # then all three are paid and one cent stays as the customer's credit balance
    assert set(Installment.objects.values_list("status", flat=True)) == {"paid"}
    assert Payment.objects.get(pk=payment.pk).unallocated_amount == Decimal("0.01")
    assert customer_credit_balance(customer) == Decimal("0.01")


def test_credit_balance_is_applied_to_a_new_installment(org, customer, contract):
    # given a prepayment with nothing open, kept as the credit balance
    make_installment(contract, 1, "1000.00", date(2026, 5, 1), status="paid",
                     paid_amount=Decimal("1000.00"))  # fmt: skip
    early = pay(org, customer, "3000.00", "BR-10")
    later = pay(org, customer, "2500.00", "BR-11")
    with pytest.raises(Conflict):
        payment_allocate(payment=early, by=org.finance)
    assert customer_credit_balance(customer) == Decimal("5500.00")
    # when a new contract's installments appear and the balance is applied (by the signer)
    new = make_contract(customer)
    a = make_installment(new, 1, "4000.00", date(2026, 8, 1), status="scheduled")
    b = make_installment(new, 2, "4000.00", date(2026, 9, 1), status="scheduled")
    allocations = credit_balance_apply(customer=customer, by=org.rep1a)
    # then oldest payment first, oldest due first
    assert [(x.payment_id, x.installment_id, x.amount) for x in allocations] == [
        (early.pk, a.pk, Decimal("3000.00")),
        (later.pk, a.pk, Decimal("1000.00")),
        (later.pk, b.pk, Decimal("1500.00")),
    ]
    a, b = fresh(a, b)
    assert (a.status, b.status, b.open_amount) == ("paid", "partially_paid", Decimal("2500.00"))
    assert customer_credit_balance(customer) == Decimal("0.00")


def test_fully_allocated_payment_cannot_be_allocated_again(org, customer, schedule):
    payment = pay(org, customer, "100.00", "BR-12")
    payment_allocate(payment=payment, by=org.finance)
    with pytest.raises(Conflict):
        payment_allocate(payment=payment, by=org.finance)


@pytest.mark.parametrize("who", ["rep1a", "sup1", "manager1"])
def test_only_finance_allocates(org, customer, schedule, who):
    payment = pay(org, customer, "100.00", "BR-13")
    with pytest.raises(PermissionDenied):
        payment_allocate(payment=payment, by=getattr(org, who))


def test_customers_owner_is_notified_after_commit(
    org, customer, schedule, django_capture_on_commit_callbacks
):
    payment = pay(org, customer, "100.00", "BR-14")
    with django_capture_on_commit_callbacks(execute=True):
        payment_allocate(payment=payment, by=org.finance)
    note = Notification.objects.get(recipient=org.rep1a)
    assert customer.name in note.title and note.url == payment.get_absolute_url()
