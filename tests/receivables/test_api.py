"""`/api/v1/payments/`, `/api/v1/installments/`, `/api/v1/write-offs/`: record (idempotent,
409 naming the field), allocate, reverse, filters, scope 404s, query budgets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.receivables.models import Installment, Payment

from .conftest import api, make_contract, make_customer, make_installment

pytestmark = pytest.mark.usefixtures("today")

BODY = {"amount": "45000.00", "received_on": "2026-06-12", "bank_reference": "BR-50",
        "payer_name": "华星科技"}  # fmt: skip


def test_erp_records_the_same_payment_twice_and_gets_the_same_body(org, customer):
    client = api(org.erp)
    body = {**BODY, "customer": customer.pk}
    first = client.post("/api/v1/payments/", body, format="json")
    again = client.post("/api/v1/payments/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Payment.objects.count() == 1


def test_same_reference_with_another_amount_is_409_naming_the_field(org, customer):
    client = api(org.erp)
    client.post("/api/v1/payments/", {**BODY, "customer": customer.pk}, format="json")
    response = client.post(
        "/api/v1/payments/", {**BODY, "customer": customer.pk, "amount": "45000.01"},
        format="json", HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 409
    assert [e["field"] for e in response.json()["errors"]] == ["bank_reference"]


def test_idempotency_key_replays_the_first_answer(org, customer):
    client = api(org.erp)
    body = {**BODY, "customer": customer.pk}
    first = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"


def test_allocate_fifo_then_reverse(org, customer, schedule):
    first, second, _third = schedule
    client = api(org.finance)
    created = client.post("/api/v1/payments/", {**BODY, "customer": customer.pk}, format="json")
    pk = created.json()["id"]
    assert created.json()["available_transitions"] == ["allocate", "reverse"]
    # when allocated oldest due first
    response = client.post(f"/api/v1/payments/{pk}/allocate/", {}, format="json")
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["allocated_amount"], body["unallocated_amount"]) == ("45000.00", "0.00")
    assert [(a["installment"], a["amount"]) for a in body["allocations"]] == [
        (first.pk, "30000.00"), (second.pk, "15000.00"),
    ]  # fmt: skip
    # when reversed
    response = client.post(f"/api/v1/payments/{pk}/reverse/", {"reason": "退票"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "reversed"
    assert Installment.objects.get(pk=first.pk).paid_amount == Decimal("0.00")
    # and a second reversal conflicts
    again = client.post(f"/api/v1/payments/{pk}/reverse/", {"reason": "x"}, format="json")
    assert again.status_code == 409


def test_allocate_chosen_line_over_the_open_amount_is_400_naming_the_line(org, customer, schedule):
    first = schedule[0]
    client = api(org.finance)
    pk = client.post("/api/v1/payments/", {**BODY, "customer": customer.pk}, format="json").json()[
        "id"
    ]
    response = client.post(
        f"/api/v1/payments/{pk}/allocate/",
        {"lines": [{"installment": first.pk, "amount": "30000.01"}]}, format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["lines.0.amount"]


def test_reverse_without_reason_is_400(org, customer):
    client = api(org.finance)
    pk = client.post("/api/v1/payments/", {**BODY, "customer": customer.pk}, format="json").json()[
        "id"
    ]
    response = client.post(f"/api/v1/payments/{pk}/reverse/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"


def test_rep_cannot_record(org, customer):
    response = api(org.rep1a).post("/api/v1/payments/", {**BODY, "customer": customer.pk},
                                   format="json")  # fmt: skip
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_payments_and_installments_out_of_scope_are_404(org, customer, schedule):
    first = schedule[0]
    payment = Payment.objects.create(
        customer=customer,
        owner=org.rep1a,
        amount=Decimal("5"),
        received_on=date(2026, 6, 1),
        bank_reference="BR-51",
    )
    for user in (org.rep2a, org.rep1b, org.sup2, org.manager2):
        client = api(user)
        assert client.get(f"/api/v1/payments/{payment.pk}/").status_code == 404
        assert client.get(f"/api/v1/installments/{first.pk}/").status_code == 404
        assert client.get("/api/v1/installments/").json()["results"] == []
    for user in (org.rep1a, org.sup1, org.manager1, org.finance):
        assert api(user).get(f"/api/v1/payments/{payment.pk}/").status_code == 200
        assert api(user).get(f"/api/v1/installments/{first.pk}/").status_code == 200


def test_installment_filters(org, customer, schedule):
    first, second, third = schedule
    client = api(org.finance)
    overdue = client.get("/api/v1/installments/?overdue=true").json()["results"]
    assert {r["id"] for r in overdue} == {first.pk, second.pk}
    row = next(r for r in overdue if r["id"] == first.pk)
    assert (row["days_overdue"], row["aging_bucket"], row["open_amount"]) == (106, 4, "30000.00")
    ranged = client.get("/api/v1/installments/?due_from=2026-06-01&due_to=2026-12-31").json()
    assert [r["id"] for r in ranged["results"]] == [third.pk]
    assert (
        client.get(f"/api/v1/installments/?status=scheduled&customer={customer.pk}").json()[
            "results"
        ][0]["id"]
        == third.pk
    )


def test_installment_list_query_budget(org, django_assert_max_num_queries):
    for n in range(12):
        c = make_customer(org.rep1a, f"客户{n}")
        make_installment(make_contract(c), 1, "100.00", date(2026, 5, n + 1))
    with django_assert_max_num_queries(8):
        response = api(org.finance).get("/api/v1/installments/")
    assert len(response.json()["results"]) == 12


def test_payment_list_query_budget(org, customer, django_assert_max_num_queries):
    for n in range(12):
        Payment.objects.create(customer=customer, owner=org.rep1a, amount=Decimal("5"),
                               received_on=date(2026, 6, 1), bank_reference=f"Q-{n}")  # fmt: skip
    with django_assert_max_num_queries(8):
        response = api(org.finance).get("/api/v1/payments/?unallocated=true")
    assert len(response.json()["results"]) == 12


def test_write_off_create_and_submit(org, customer, schedule, second_finance):
    first = schedule[0]
    client = api(org.finance)
    response = client.post("/api/v1/write-offs/", {"installment": first.pk, "amount": "30000.00",
                                                   "reason": "破产"}, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["available_transitions"]) == ("draft", ["submit"])
    submitted = client.post(f"/api/v1/write-offs/{body['id']}/submit/", {}, format="json")
    assert submitted.json()["status"] == "pending"
    assert api(org.rep2a).get(f"/api/v1/write-offs/{body['id']}/").status_code == 404
    too_much = client.post("/api/v1/write-offs/", {"installment": schedule[1].pk,
                                                   "amount": "50000.01", "reason": "x"},
                           format="json")  # fmt: skip
    assert too_much.status_code == 400
