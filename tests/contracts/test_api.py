"""`/api/v1/contracts/` and `/api/v1/contract-amendments/`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.customers.models import Customer
from tests.api.conftest import assert_problem

from .conftest import TERMS_30_70, approved, draft, line

pytestmark = pytest.mark.usefixtures("policies")
BASE = "/api/v1/contracts/"


def test_create_and_retrieve(org, customer, product, bearer):
    client = bearer(org.rep1a)
    response = client.post(BASE, {"customer": customer.pk, "title": "机床采购",
                                  "lines": [line(product)], "terms": TERMS_30_70},
                           format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "100000.00" and body["credit_portion"] == "70000.00"
    assert [t["amount"] for t in body["terms"]] == ["30000.00", "70000.00"]
    assert "submit" in body["available_transitions"]


def test_bad_term_names_the_field(org, customer, product, bearer):
    body = assert_problem(bearer(org.rep1a).post(
        BASE, {"customer": customer.pk, "title": "x", "lines": [line(product)],
               "terms": [{"kind": "prepayment", "due_date": "2026-12-01", "percentage": "30"}]},
        format="json"), 400, "validation-error")  # fmt: skip
    assert body["errors"][0]["field"] == "terms"


def test_submit_on_hold_is_409(org, customer, product, bearer):
    contract = draft(customer, product)
    Customer.objects.filter(pk=customer.pk).update(on_credit_hold=True)
    assert_problem(bearer(org.rep1a).post(f"{BASE}{contract.pk}/submit/"), 409, "conflict")


def test_sign_then_installments_summary(org, customer, product, bearer):
    contract = approved(customer, product, org)
    response = bearer(org.rep1a).post(f"{BASE}{contract.pk}/sign/", {"signed_on": "2026-01-05"},
                                      format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["installments"]["count"] == 2
    assert response.json()["installments"]["open"] == "100000.00"


def test_wrong_state_is_409_and_wrong_role_403(org, customer, product, bearer):
    contract = draft(customer, product)
    assert_problem(bearer(org.rep1a).post(f"{BASE}{contract.pk}/start-execution/"), 409,
                   "conflict")  # fmt: skip
    assert_problem(bearer(org.finance).post(f"{BASE}{contract.pk}/terminate/", {"reason": "x"},
                                          format="json"), 403, "permission-denied")  # fmt: skip


def test_out_of_scope_is_404(org, customer, product, bearer):
    contract = draft(customer, product)
    assert_problem(bearer(org.rep2a).get(f"{BASE}{contract.pk}/"), 404, "not-found")
    assert bearer(org.finance).get(f"{BASE}{contract.pk}/").status_code == 200


def test_list_within_query_budget(org, customer, product, bearer, django_assert_max_num_queries):
    for _ in range(5):
        draft(customer, product)
    client = bearer(org.sup1)
    with django_assert_max_num_queries(12):
        response = client.get(BASE)
    assert len(response.json()["results"]) == 5


def test_amendment_create_and_submit(org, customer, product, bearer):
    from apps.contracts.services import contract_sign

    contract = contract_sign(contract=approved(customer, product, org), by=org.rep1a,
                             signed_on="2026-01-05")  # fmt: skip
    client = bearer(org.rep1a)
    response = client.post("/api/v1/contract-amendments/", {
        "contract": contract.pk, "reason": "加量", "lines": [line(product, "11")],
        "terms": TERMS_30_70}, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "110000.00"
    pk = response.json()["id"]
    response = client.post(f"/api/v1/contract-amendments/{pk}/submit/")
    assert response.json()["status"] == "pending"
    assert Decimal(response.json()["proposed"]["amount"]) == Decimal("110000.00")
