"""`POST /api/v1/payments/bulk/` (issue 9): up to 1,000 payments validated together, recorded
all or none, each new one allocated oldest due first exactly as recording and allocating them
one by one would; the same batch again doubles nothing; a constant number of queries; two
batches racing for one customer never over-allocate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.notifications.models import Notification
from apps.receivables.bulk import payment_bulk_record
from apps.receivables.models import Allocation, Installment, Payment
from apps.webhooks import services as webhooks
from apps.webhooks.models import WebhookEvent
from tests.approvals.test_concurrency import run_at_once

from .conftest import api, make_contract, make_customer, make_installment

pytestmark = pytest.mark.usefixtures("today")

URL = "/api/v1/payments/bulk/"


def record(customer, amount: str, ref: str, **extra) -> dict:
    return {"customer": customer.pk, "amount": amount, "received_on": "2026-06-12",
            "bank_reference": ref, **extra}  # fmt: skip


def post(user, records, **body):
    return api(user).post(URL, {"records": records, **body}, format="json",
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip


def fields(response) -> list[str]:
    return sorted(e["field"] for e in response.json()["errors"])


def state(installments) -> list[tuple]:
    rows = Installment.objects.in_bulk([i.pk for i in installments])
    return [(rows[i.pk].status, rows[i.pk].paid_amount, rows[i.pk].paid_at) for i in installments]


def test_new_payments_are_recorded_and_allocated_oldest_due_first(org, customer, schedule):
    first, second, third = schedule
    # when the ERP posts two payments of the customer (30,000 / 50,000 / 20,000 open)
    records = [record(customer, "40000.00", "BR-1"),
               record(customer, "50000.00", "BR-2", external_id="K3-2")]  # fmt: skip
    response = post(org.erp, records)
    # then both are created, in the order sent, and allocated oldest due first
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    one, two = Payment.objects.order_by("id")
    assert body["results"] == [
        {"index": 0, "status": "created", "id": one.pk, "external_id": ""},
        {"index": 1, "status": "created", "id": two.pk, "external_id": "K3-2"},
    ]
    lines = list(Allocation.objects.order_by("id").values_list("payment", "installment", "amount"))
    assert lines == [
        (one.pk, first.pk, Decimal("30000.00")), (one.pk, second.pk, Decimal("10000.00")),
        (two.pk, second.pk, Decimal("40000.00")), (two.pk, third.pk, Decimal("10000.00")),
    ]  # fmt: skip
    assert state(schedule) == [
        ("paid", Decimal("30000.00"), date(2026, 6, 15)),
        ("paid", Decimal("50000.00"), date(2026, 6, 15)),
        ("partially_paid", Decimal("10000.00"), None),
    ]
    assert (one.allocated_amount, two.allocated_amount) == (
        Decimal("40000.00"),
        Decimal("50000.00"),
    )


def twin_schedule(owner, name: str) -> tuple:
    """A customer with two contracts: 300 due 1 May + 500 due 1 Apr, and 200 due 1 Apr."""
    customer = make_customer(owner, name)
    a, b = make_contract(customer), make_contract(customer)
    installments = (
        make_installment(a, 1, "300.00", date(2026, 5, 1)),
        make_installment(a, 2, "500.00", date(2026, 4, 1), status="partially_paid",
                         paid_amount=Decimal("100.00")),
        make_installment(b, 1, "200.00", date(2026, 4, 1)),
    )  # fmt: skip
    return customer, installments


def test_a_batch_allocates_exactly_as_the_same_payments_posted_one_by_one(org):
    # given two twin customers with the same open installments, and a customer with none
    bulk_customer, bulk_installments = twin_schedule(org.rep1a, "甲")
    single_customer, single_installments = twin_schedule(org.rep1a, "乙")
    bulk_idle, single_idle = make_customer(org.rep1b, "丙"), make_customer(org.rep1b, "丁")
    amounts = [("150.00", "c"), ("450.00", "c"), ("50.00", "idle"), ("700.00", "c"),
               ("80.00", "c")]  # fmt: skip

    # when the first is posted as one batch
    response = post(org.erp, [
        record(bulk_customer if who == "c" else bulk_idle, amount, f"BULK-{n}")
        for n, (amount, who) in enumerate(amounts)
    ])  # fmt: skip
    assert response.status_code == 200, response.json()
    # and the twin one by one: record, then allocate oldest due first
    client = api(org.erp)
    for n, (amount, who) in enumerate(amounts):
        customer = single_customer if who == "c" else single_idle
        pk = client.post("/api/v1/payments/", record(customer, amount, f"ONE-{n}"),
                         format="json").json()["id"]  # fmt: skip
        allocated = client.post(f"/api/v1/payments/{pk}/allocate/", {}, format="json")
        assert allocated.status_code in (200, 409)  # 409: nothing open any more / at all

    # then the same allocations, payment by payment, and the same installment states
    def allocations(prefix: str, installments) -> list[list[tuple]]:
        position = {i.pk: n for n, i in enumerate(installments)}
        payments = Payment.objects.filter(bank_reference__startswith=prefix).order_by("id")
        return [
            [(position[a.installment_id], a.amount) for a in p.allocations.order_by("id")]
            + [("allocated", p.allocated_amount)]
            for p in payments
        ]

    assert allocations("BULK-", bulk_installments) == allocations("ONE-", single_installments)
    assert state(bulk_installments) == state(single_installments)
    assert state(bulk_installments)[0] == ("paid", Decimal("300.00"), date(2026, 6, 15))


def test_a_customer_with_nothing_open_keeps_the_payment_as_credit(org, customer):
    response = post(org.finance, [record(customer, "500.00", "BR-3")])
    assert response.status_code == 200, response.json()
    payment = Payment.objects.get()
    assert (payment.allocated_amount, payment.unallocated_amount) == (Decimal("0"), Decimal("500"))


def test_allocate_false_records_the_payments_unallocated(org, customer, schedule):
    response = post(org.finance, [record(customer, "500.00", "BR-4")], allocate=False)
    assert response.status_code == 200, response.json()
    assert Payment.objects.get().allocated_amount == Decimal("0.00")
    assert not Allocation.objects.exists()
    assert {i.paid_amount for i in Installment.objects.all()} == {Decimal("0.00")}


def test_one_bad_record_rejects_the_whole_batch_naming_it(org, customer, schedule):
    other = make_customer(org.rep2a, "乙公司", external_id="K3-C-9")
    records = [
        record(customer, "100.00", "BR-10"),
        {**record(customer, "100.00", "BR-11"), "customer": 999999},
        record(customer, "-5.00", "BR-12"),
        record(customer, "100.00", "BR-10"),  # the key of record 0 again
        {**record(customer, "100.00", "BR-14"), "received_on": "2026-06-16"},
        {**record(customer, "100.00", ""), "external_id": ""},
        {"customer_external_id": "K3-C-404", "amount": "1.00", "received_on": "2026-06-12",
         "external_id": "E-16"},
        {"customer_external_id": other.external_id, "amount": "1.00",
         "received_on": "2026-06-12", "external_id": "E-17"},
    ]  # fmt: skip
    # when posted
    response = post(org.erp, records)
    # then 400 naming each invalid record and field; nothing is written
    assert response.status_code == 400, response.json()
    assert fields(response) == [
        "records.1.customer", "records.2.amount", "records.3.bank_reference",
        "records.4.received_on", "records.5.bank_reference",
        "records.6.customer_external_id",
    ]  # fmt: skip
    assert not Payment.objects.exists()
    assert not Allocation.objects.exists()
    assert {i.paid_amount for i in Installment.objects.all()} == {Decimal("0.00")}


def test_a_key_recorded_for_another_payment_is_400_naming_the_key(org, customer):
    post(org.erp, [record(customer, "100.00", "BR-20"), {**record(customer, "7.00", ""),
                                                         "external_id": "E-21"}])  # fmt: skip
    # when a batch reuses the keys with another amount and another date
    response = post(org.erp, [
        record(customer, "100.00", "BR-22"),
        record(customer, "100.01", "BR-20"),
        {**record(customer, "7.00", ""), "external_id": "E-21", "received_on": "2026-06-11"},
    ])  # fmt: skip
    assert response.status_code == 400
    assert fields(response) == ["records.1.bank_reference", "records.2.external_id"]
    assert "100.00" in response.json()["errors"][0]["message"]
    assert Payment.objects.count() == 2


@pytest.mark.parametrize("count", [0, 1001])
def test_no_record_or_more_than_1000_is_400(org, customer, count):
    response = post(org.erp, [record(customer, "1.00", f"N-{n}") for n in range(count)])
    assert response.status_code == 400
    assert fields(response) == ["records"]
    assert not Payment.objects.exists()


def test_the_same_batch_again_is_unchanged_and_doubles_nothing(org, customer, schedule):
    records = [record(customer, "40000.00", "BR-30"),
               {**record(customer, "5000.00", ""), "external_id": "E-31"}]  # fmt: skip
    first = post(org.erp, records).json()
    before = state(schedule)
    # when the ERP sends it again (a retry after a timeout)
    again = post(org.erp, records)
    # then every record is unchanged, the same payments, nothing allocated twice
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 2)
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first["results"]]
    assert [r["status"] for r in again.json()["results"]] == ["unchanged", "unchanged"]
    assert (Payment.objects.count(), Allocation.objects.count()) == (2, 3)
    assert state(schedule) == before


def test_idempotency_key_replays_the_first_answer(org, customer, schedule):
    client = api(org.erp)
    body = {"records": [record(customer, "100.00", "BR-40")]}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-40")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-40")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (Payment.objects.count(), Allocation.objects.count()) == (1, 1)


@pytest.mark.parametrize("who", ["rep1a", "sup1", "manager1"])
def test_only_finance_and_the_erp_post_payments_in_bulk(org, customer, who):
    response = post(getattr(org, who), [record(customer, "100.00", "BR-50")])
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_customer_by_external_id(org):
    customer = make_customer(org.rep3a, "丙公司", external_id="K3-C-1")
    response = post(org.erp, [{"customer_external_id": "K3-C-1", "amount": "9.00",
                               "received_on": "2026-06-12", "external_id": "E-60"}])  # fmt: skip
    assert response.status_code == 200, response.json()
    payment = Payment.objects.get()
    assert (payment.customer, payment.owner, payment.recorded_by) == (customer, org.rep3a, org.erp)


def test_each_owner_is_told_once_per_customer_not_once_per_payment(org, customer, schedule):
    post(org.erp, [record(customer, "100.00", f"BR-7{n}") for n in range(3)])
    (notification,) = Notification.objects.filter(recipient=org.rep1a)
    assert "300.00" in notification.title


def test_webhook_events_for_recorded_and_allocated_payments(org, customer, schedule):
    # given an ERP subscription
    webhooks.subscription_create(by=org.admin, data={
        "name": "ERP", "url": "https://erp.example.com/hook",
        "event_types": ["payment.recorded", "payment.allocated"],
    })  # fmt: skip
    idle = make_customer(org.rep1b, "闲置客户")
    # when a batch records one payment that allocates and one that cannot
    post(org.erp, [record(customer, "35000.00", "BR-80", external_id="K3-80"),
                   record(idle, "10.00", "BR-81")])  # fmt: skip
    # then two payment.recorded events and one payment.allocated with its lines
    recorded = WebhookEvent.objects.filter(type="payment.recorded")
    assert sorted(e.payload["payment"]["bank_reference"] for e in recorded) == ["BR-80", "BR-81"]
    (allocated,) = WebhookEvent.objects.filter(type="payment.allocated")
    assert allocated.payload["payment"]["external_id"] == "K3-80"
    assert allocated.payload["payment"]["allocated_amount"] == "35000.00"
    assert [(a["installment"], a["amount"]) for a in allocated.payload["allocations"]] == [
        (schedule[0].pk, "30000.00"), (schedule[1].pk, "5000.00"),
    ]  # fmt: skip


def _customers_with_installments(org, count: int) -> list:
    customers = []
    for n in range(count):
        customer = make_customer(org.rep1a, f"客户{n}")
        contract = make_contract(customer)
        make_installment(contract, 1, "100.00", date(2026, 4, 1))
        make_installment(contract, 2, "100.00", date(2026, 5, 1))
        customers.append(customer)
    return customers


def test_fifty_records_cost_the_queries_of_five(org):
    # given ten customers with open installments and an ERP subscription
    webhooks.subscription_create(by=org.admin, data={
        "name": "ERP", "url": "https://erp.example.com/hook",
        "event_types": ["payment.recorded", "payment.allocated"],
    })  # fmt: skip
    customers = _customers_with_installments(org, 10)
    client = api(org.erp)

    def batch(prefix: str, size: int) -> int:
        records = [record(customers[n % len(customers)], "30.00", f"{prefix}-{n}")
                   for n in range(size)]  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            response = client.post(URL, {"records": records}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["created"] == size
        return len(captured.captured_queries)

    # when 5 records, then 50 (each allocated, each customer's owner told) are posted
    five, fifty = batch("Q5", 5), batch("Q50", 50)
    # then the same number of queries
    assert fifty == five, (five, fifty)
    assert Allocation.objects.count() > 55


@pytest.mark.django_db(transaction=True)
def test_two_batches_racing_for_one_customer_never_over_allocate(org, customer, contract):
    # given one installment of 1,000 and two batches of 700 for the customer, one with a key
    # of the other too
    installment = make_installment(contract, 1, "1000.00", date(2026, 6, 1))
    day = date(2026, 6, 12)

    def batch(ref: str):
        records = [{"customer": customer.pk, "amount": "700.00", "received_on": day,
                    "bank_reference": ref},
                   {"customer": customer.pk, "amount": "1.00", "received_on": day,
                    "bank_reference": "BOTH"}]  # fmt: skip
        return payment_bulk_record(by=org.erp, records=records)

    # when both are posted at the same moment
    results = run_at_once(lambda: batch("RACE-A"), lambda: batch("RACE-B"))
    # then both succeeded, the installment is paid exactly once over, the shared key is one
    # payment, and what is left stays as credit balance
    assert not [r for r in results if isinstance(r, Exception)], results
    installment = Installment.objects.get(pk=installment.pk)
    assert (installment.status, installment.paid_amount) == ("paid", Decimal("1000.00"))
    assert sum(a.amount for a in Allocation.objects.all()) == Decimal("1000.00")
    assert Payment.objects.filter(bank_reference="BOTH").count() == 1
    statuses = sorted(r.status for result in results for r in result)
    assert statuses == ["created", "created", "created", "unchanged"]
    allocated = sorted(p.allocated_amount for p in Payment.objects.exclude(bank_reference="BOTH"))
    assert sum(allocated) + Payment.objects.get(bank_reference="BOTH").allocated_amount == Decimal(
        "1000.00"
    )


def test_schema_documents_the_bulk_endpoint(db):
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    post_op = schema["paths"]["/api/v1/payments/bulk/"]["post"]
    assert post_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PaymentBulkRequest"
    )
    assert {"200", "400", "403", "409", "422"} <= set(post_op["responses"])
    put_op = schema["paths"]["/api/v1/payments/external/{external_id}/"]["put"]
    assert {"200", "201", "400", "404", "409"} <= set(put_op["responses"])
    component = schema["components"]["schemas"]["PaymentBulkRecordRequest"]["properties"]
    assert {"customer", "customer_external_id", "external_id", "bank_reference"} <= set(component)
