"""Contract pages: list (scope, search, budget), create with terms, detail, sign, print."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.contracts.models import Contract

from .conftest import approved, draft

pytestmark = pytest.mark.usefixtures("policies")


def login(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_list_shows_scope_and_search(org, customer, product, django_assert_max_num_queries):
    mine = [draft(customer, product) for _ in range(4)]
    client = login(org.rep1a)
    with django_assert_max_num_queries(14):
        html = client.get("/contracts/").content.decode()
    assert all(c.number in html for c in mine)
    assert mine[0].number not in login(org.rep2a).get("/contracts/").content.decode()
    html = client.get("/contracts/", {"q": mine[1].number}).content.decode()
    assert mine[1].number in html and mine[2].number not in html


def test_create_page_saves_lines_and_terms(org, customer, product):
    client = login(org.rep1a)
    assert client.get(f"/contracts/new/?customer={customer.pk}").status_code == 200
    response = client.post(f"/contracts/new/?customer={customer.pk}", {
        "title": "机床", "penalty_rate_per_day": "0.05", "grace_days": "5",
        "line-product": [product.pk], "line-quantity": ["2"], "line-unit_price": ["10000"],
        "line-discount_pct": [""], "line-description": [""],
        "term-kind": ["prepayment", "on_delivery"], "term-due_date": ["2026-12-01", "2027-01-01"],
        "term-percentage": ["30", "70"], "term-amount": ["", ""],
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    contract = Contract.objects.get()
    assert (
        contract.amount == 20000 and contract.credit_portion == 14000 and contract.grace_days == 5
    )


def test_create_page_shows_term_errors(org, customer, product):
    response = login(org.rep1a).post(f"/contracts/new/?customer={customer.pk}", {
        "title": "机床", "penalty_rate_per_day": "0.05", "grace_days": "0",
        "line-product": [product.pk], "line-quantity": ["2"], "line-unit_price": [""],
        "line-discount_pct": [""], "line-description": [""],
        "term-kind": ["prepayment"], "term-due_date": ["2026-12-01"],
        "term-percentage": ["30"], "term-amount": [""],
    })  # fmt: skip
    assert response.status_code == 400
    assert "add up to" in response.content.decode() and not Contract.objects.exists()


def test_detail_sign_and_print(org, customer, product):
    contract = approved(customer, product, org)
    client = login(org.rep1a)
    assert 'id="contract-sign"' in client.get(f"/contracts/{contract.pk}/").content.decode()
    client.post(f"/contracts/{contract.pk}/sign/", {"signed_on": "2026-01-05"})
    html = client.get(f"/contracts/{contract.pk}/").content.decode()
    assert 'id="contract-installments"' in html
    assert client.get(f"/contracts/{contract.pk}/print/").status_code == 200


def test_out_of_scope_page_is_404(org, customer, product):
    contract = draft(customer, product)
    assert login(org.rep2a).get(f"/contracts/{contract.pk}/").status_code == 404
    assert login(org.rep2a).get(f"/contracts/{contract.pk}/edit/").status_code == 404
