"""The domain services raise their webhook events, with the payload an ERP mirrors, in the
transaction of the change (a failed change raises nothing)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_approve
from apps.contracts.services import contract_sign, contract_submit, contract_terminate
from apps.core.errors import Conflict
from apps.customers.credit import credit_hold, credit_release
from apps.receivables.jobs import receivables_daily_run
from apps.receivables.services import payment_allocate, payment_record, payment_reverse
from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery, WebhookEvent
from tests.contracts.conftest import customer, draft, policies, product  # noqa: F401 (fixtures)
from tests.receivables.conftest_jobs import customer_of, installment, on, signed_contract

ALL = [
    "contract.approved", "contract.signed", "contract.terminated", "receivable.overdue",
    "payment.recorded", "payment.allocated", "payment.reversed", "customer.credit_hold",
    "customer.credit_released",
]  # fmt: skip


@pytest.fixture
def subscription(org):
    return services.subscription_create(
        by=org.admin,
        data={"name": "ERP", "url": "https://erp.example.com/hook", "event_types": ALL},
    )


def events(kind: str) -> list[dict]:
    return [e.payload for e in WebhookEvent.objects.filter(type=kind).order_by("created_at")]


def test_contract_approved_signed_and_terminated(org, subscription, policies, customer, product):  # noqa: F811
    contract = draft(customer, product)
    contract_submit(contract=contract, by=org.rep1a)
    request = ApprovalRequest.objects.get(object_id=contract.pk, document_type="contracts.contract")
    approval_approve(request=request, by=org.sup1)

    (approved,) = events("contract.approved")
    assert approved["contract"]["id"] == contract.pk
    assert approved["contract"]["status"] == "approved"
    assert approved["contract"]["customer"]["name"] == customer.name

    contract = contract_sign(contract=contract, by=org.rep1a, signed_on="2026-11-02")
    (signed,) = events("contract.signed")
    assert signed["contract"]["signed_on"] == "2026-11-02"
    assert Decimal(signed["contract"]["amount"]) == contract.amount

    contract_terminate(contract=contract, by=org.rep1a, reason="客户取消订单")
    (terminated,) = events("contract.terminated")
    assert terminated["contract"]["termination_reason"] == "客户取消订单"
    # one delivery per event for the one subscription
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 3


def test_payment_recorded_allocated_and_reversed(org, subscription):
    buyer = customer_of(org.rep1a)
    contract = signed_contract(buyer)
    due = installment(contract, date(2026, 12, 1), "10000.00", status="due")

    result = payment_record(
        by=org.finance, customer=buyer, amount="6000.00", received_on=date(2026, 11, 20),
        method="bank_transfer", bank_reference="BR-1", external_id="ERP-PAY-1",
    )  # fmt: skip
    payment = result.payment
    payment_allocate(payment=payment, by=org.finance)
    payment_reverse(payment=payment, by=org.finance, reason="银行退票")

    (recorded,) = events("payment.recorded")
    assert recorded["payment"]["external_id"] == "ERP-PAY-1"
    assert recorded["payment"]["amount"] == "6000.00"
    (allocated,) = events("payment.allocated")
    assert allocated["allocations"] == [
        {"id": allocated["allocations"][0]["id"], "installment": due.pk, "amount": "6000.00"}
    ]
    assert allocated["payment"]["allocated_amount"] == "6000.00"
    (reversed_,) = events("payment.reversed")
    assert reversed_["reason"] == "银行退票" and reversed_["payment"]["status"] == "reversed"


def test_a_failed_change_raises_no_event(org, subscription):
    buyer = customer_of(org.rep1a)
    credit_hold(customer=buyer, by=org.finance, reason="逾期")
    assert len(events("customer.credit_hold")) == 1

    with pytest.raises(Conflict):
        credit_hold(customer=buyer, by=org.finance, reason="again")

    assert len(events("customer.credit_hold")) == 1
    credit_release(customer=buyer, by=org.finance, reason="已回款")
    (released,) = events("customer.credit_released")
    assert released == {
        "customer": {"id": buyer.pk, "external_id": "", "name": buyer.name},
        "reason": "已回款",
    }


def test_the_daily_job_raises_overdue_once_per_bucket_and_the_automatic_hold(
    org, subscription, time_machine, settings
):
    settings.RECEIVABLES_CREDIT_HOLD_DAYS = 60
    buyer = customer_of(org.rep1a)
    contract = signed_contract(buyer)
    today = date(2026, 5, 20)
    late = installment(contract, today - timedelta(days=61), "5000.00", status="due")

    on(time_machine, today)
    receivables_daily_run()
    on(time_machine, today + timedelta(days=1))
    receivables_daily_run()  # same bucket: nothing new

    (overdue,) = events("receivable.overdue")
    assert overdue["installment"]["id"] == late.pk
    assert overdue["installment"]["aging_bucket"] == 3
    assert overdue["contract"]["number"] == contract.number
    (hold,) = events("customer.credit_hold")
    assert hold["customer"]["id"] == buyer.pk


def test_without_a_subscription_the_services_write_no_event(org):
    buyer = customer_of(org.rep1a)
    credit_hold(customer=buyer, by=org.finance, reason="逾期")
    assert not WebhookEvent.objects.exists()
