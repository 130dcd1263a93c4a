"""Customer pages: list (search, filters, paging, budget), 360 page, forms with inline errors."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.customers.models import Contact, Customer

from .conftest import credit_code, make_customer


@pytest.fixture
def client_for():
    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


def test_list_shows_scope_and_search(org, customer, client_for):
    make_customer(org.rep2a, "Other team's")
    response = client_for(org.rep1a).get("/customers/")
    html = response.content.decode()
    assert response.status_code == 200
    assert customer.name in html
    assert "Other team&#x27;s" not in html and "Other team's" not in html
    found = client_for(org.rep1a).get("/customers/?q=华星", HTTP_HX_REQUEST="true")
    assert customer.name in found.content.decode()
    assert "<html" not in found.content.decode()


def test_list_pages_by_50_within_a_query_budget(org, client_for, django_assert_max_num_queries):
    Customer.objects.bulk_create(
        Customer(owner=org.rep1a if i % 2 else org.rep1b, name=f"Co {i:03}", name_key=f"co{i}")
        for i in range(60)
    )
    client = client_for(org.sup1)
    with django_assert_max_num_queries(12):
        first = client.get("/customers/")
    assert first.content.decode().count("data-customer=") == 50
    assert 'rel="next"' in first.content.decode()
    second = client.get("/customers/?page=2")
    assert second.content.decode().count("data-customer=") == 10


def test_detail_out_of_scope_is_404(org, customer, client_for):
    assert client_for(org.rep2a).get(f"/customers/{customer.pk}/").status_code == 404
    assert client_for(org.rep2a).get(f"/customers/{customer.pk}/edit/").status_code == 404


def test_detail_shows_profile_contacts_history_and_placeholders(org, customer, client_for):
    Contact.objects.create(customer=customer, name="Li Lei", is_primary=True)
    response = client_for(org.rep1a).get(f"/customers/{customer.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    for marker in ("Li Lei", 'id="history"', 'id="credit"', 'data-coming="receivables"'):
        assert marker in html


def test_create_form_shows_the_credit_code_error_inline(org, client_for):
    response = client_for(org.rep1a).post(
        "/customers/new/", {"name": "A", "credit_code": "123", "tier": "C"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="field-credit_code"' in html and "invalid-feedback" in html
    assert not Customer.objects.exists()


def test_create_form_creates_and_redirects(org, client_for):
    response = client_for(org.rep1a).post(
        "/customers/new/", {"name": "Acme", "credit_code": credit_code(7), "tier": "B"}
    )
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert customer.owner == org.rep1a


def test_duplicate_credit_code_error_on_the_edit_form(org, customer, client_for):
    make_customer(org.rep1a, "Other", credit_code=credit_code(8))
    response = client_for(org.rep1a).post(
        f"/customers/{customer.pk}/edit/",
        {"name": customer.name, "credit_code": credit_code(8), "tier": "B"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_contact_form_adds_a_contact(org, customer, client_for):
    response = client_for(org.rep1a).post(
        f"/customers/{customer.pk}/contacts/new/",
        {"name": "Han Meimei", "decision_role": "influencer"},
    )
    assert response.status_code == 302
    assert customer.contacts.get().name == "Han Meimei"


def test_pool_customer_detail_is_visible_but_not_editable_by_a_rep(org, client_for):
    pooled = make_customer(None, "Pooled")
    client = client_for(org.rep3a)
    assert client.get(f"/customers/{pooled.pk}/").status_code == 200
    assert client.get(f"/customers/{pooled.pk}/edit/").status_code == 403
