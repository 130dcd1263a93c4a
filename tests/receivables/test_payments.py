"""Recording payments (回款): validation, owner, idempotency on the bank reference and the
external id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.receivables.models import Payment
from apps.receivables.services import PaymentReferenceConflict, payment_record

pytestmark = pytest.mark.usefixtures("today")


def record(by, customer, amount="1000.00", ref="BR-001", **kwargs):
    return payment_record(
        by=by, customer=customer, amount=amount, received_on=kwargs.pop("received_on",
        date(2026, 6, 10)), bank_reference=ref, **kwargs,
    )  # fmt: skip


def test_finance_records_a_payment_owned_by_the_customers_owner(org, customer):
    # when
    result = record(org.finance, customer, "12345.67", payer_name="华星科技")
    # then
    payment = result.payment
    assert result.created
    assert (payment.amount, payment.allocated_amount, payment.unallocated_amount) == (
        Decimal("12345.67"), Decimal("0.00"), Decimal("12345.67"),
    )  # fmt: skip
    assert (payment.owner, payment.recorded_by, payment.status) == (
        org.rep1a, org.finance, "recorded",
    )  # fmt: skip


def test_same_bank_reference_twice_is_one_payment(org, customer):
    # given
    first = record(org.finance, customer, "5000.00", ref="BR-777").payment
    # when the same transfer is posted again
    again = record(org.finance, customer, "5000.00", ref="BR-777")
    # then it is the same payment
    assert not again.created and again.payment.pk == first.pk
    assert Payment.objects.filter(bank_reference="BR-777").count() == 1


def test_same_external_id_twice_is_one_payment(org, customer):
    first = record(org.erp, customer, "800.00", ref="", external_id="ERP-9").payment
    again = record(org.erp, customer, "800.00", ref="", external_id="ERP-9")
    assert (again.created, again.payment.pk) == (False, first.pk)


def test_same_reference_with_another_amount_is_a_conflict_naming_the_field(org, customer):
    # given
    record(org.finance, customer, "5000.00", ref="BR-778")
    # when / then
    with pytest.raises(PaymentReferenceConflict) as caught:
        record(org.finance, customer, "5000.01", ref="BR-778")
    assert caught.value.field == "bank_reference"
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "field"),
    [("0", "amount"), ("-5.00", "amount"), ("1.005", "amount"), ("abc", "amount")],
)
def test_bad_amount_is_refused_by_field(org, customer, amount, field):
    with pytest.raises(ValidationError) as caught:
        record(org.finance, customer, amount)
    assert field in caught.value.message_dict
    assert not Payment.objects.exists()


def test_future_received_date_is_refused(org, customer):
    with pytest.raises(ValidationError) as caught:
        record(org.finance, customer, received_on=date(2026, 6, 16))
    assert "received_on" in caught.value.message_dict


def test_a_reference_is_required(org, customer):
    with pytest.raises(ValidationError) as caught:
        record(org.finance, customer, ref="")
    assert "bank_reference" in caught.value.message_dict


@pytest.mark.parametrize("who", ["rep1a", "sup1", "manager1"])
def test_only_finance_records_payments(org, customer, who):
    with pytest.raises(PermissionDenied):
        record(getattr(org, who), customer)
