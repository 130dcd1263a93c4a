"""Bad-debt write-off (坏账核销): drafted by finance, approved by another finance user and a
manager; approval takes the amount off the installment; a return brings it back to draft."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.approvals.choices import RequestStatus
from apps.approvals.services import approval_approve, approval_reject
from apps.core.errors import Conflict
from apps.receivables.models import Installment, WriteOff
from apps.receivables.services import (
    payment_allocate,
    payment_record,
    writeoff_create,
    writeoff_submit,
)

pytestmark = pytest.mark.usefixtures("today")


@pytest.fixture
def partly_paid(org, customer, schedule):
    first = schedule[0]
    payment = payment_record(
        by=org.finance,
        customer=customer,
        amount="10000.00",
        received_on=date(2026, 6, 1),
        bank_reference="BR-30",
    ).payment
    payment_allocate(payment=payment, by=org.finance, lines=[(first, "10000.00")])
    return Installment.objects.get(pk=first.pk)  # 30,000, 10,000 paid, 20,000 open


def test_write_off_approved_end_to_end(org, partly_paid, second_finance):
    # given a draft for the whole open amount, submitted by finance
    writeoff = writeoff_create(installment=partly_paid, by=org.finance, amount="20000.00",
                               reason="客户破产清算")  # fmt: skip
    request = writeoff_submit(writeoff=writeoff, by=org.finance)
    assert WriteOff.objects.get(pk=writeoff.pk).status == "pending"
    # when the other finance user, then a manager approve
    with pytest.raises(PermissionDenied):
        approval_approve(request=request, by=org.finance)  # nobody approves their own
    request = approval_approve(request=request, by=second_finance)
    request = approval_approve(request=request, by=org.manager1)
    # then
    assert request.status == RequestStatus.APPROVED
    installment = Installment.objects.get(pk=partly_paid.pk)
    assert (installment.status, installment.written_off_amount, installment.open_amount) == (
        "written_off", Decimal("20000.00"), Decimal("0.00"),
    )  # fmt: skip
    writeoff = WriteOff.objects.get(pk=writeoff.pk)
    assert writeoff.status == "approved" and writeoff.approved_at is not None


def test_partial_write_off_keeps_the_installment_open(org, partly_paid, second_finance):
    writeoff = writeoff_create(installment=partly_paid, by=org.finance, amount="5000.00",
                               reason="协商减免")  # fmt: skip
    request = writeoff_submit(writeoff=writeoff, by=org.finance)
    request = approval_approve(request=request, by=second_finance)
    approval_approve(request=request, by=org.manager1)
    installment = Installment.objects.get(pk=partly_paid.pk)
    assert (installment.status, installment.open_amount) == ("partially_paid", Decimal("15000.00"))


def test_returned_write_off_goes_back_to_draft_with_the_comment(org, partly_paid, second_finance):
    writeoff = writeoff_create(installment=partly_paid, by=org.finance, amount="20000.00",
                               reason="客户失联")  # fmt: skip
    request = writeoff_submit(writeoff=writeoff, by=org.finance)
    approval_reject(request=request, by=second_finance, comment="先发律师函")
    writeoff = WriteOff.objects.get(pk=writeoff.pk)
    assert (writeoff.status, writeoff.return_comment) == ("draft", "先发律师函")
    assert Installment.objects.get(pk=partly_paid.pk).written_off_amount == Decimal("0.00")


def test_write_off_over_the_open_amount_is_refused(org, partly_paid):
    with pytest.raises(ValidationError) as caught:
        writeoff_create(installment=partly_paid, by=org.finance, amount="20000.01", reason="x")
    assert "amount" in caught.value.message_dict


def test_only_one_open_write_off_per_installment(org, partly_paid):
    writeoff_create(installment=partly_paid, by=org.finance, amount="100.00", reason="a")
    with pytest.raises(Conflict):
        writeoff_create(installment=partly_paid, by=org.finance, amount="100.00", reason="b")


def test_rep_cannot_apply_for_a_write_off(org, partly_paid):
    with pytest.raises(PermissionDenied):
        writeoff_create(installment=partly_paid, by=org.rep1a, amount="100.00", reason="a")


def test_paid_installment_cannot_be_written_off(org, customer, contract):
    from .conftest import make_installment

    paid = make_installment(contract, 9, "100.00", date(2026, 5, 1), status="paid",
                            paid_amount=Decimal("100.00"))  # fmt: skip
    with pytest.raises(Conflict):
        writeoff_create(installment=paid, by=org.finance, amount="1.00", reason="a")
