"""`/api/v1/customers/` and `/api/v1/contacts/`: scope (404), validation, query budgets."""

from __future__ import annotations

from .conftest import api, credit_code, make_customer


def test_rep_lists_own_customers_and_the_pool_not_others(org, customer):
    make_customer(org.rep2a, "Not mine")
    pooled = make_customer(None, "Pooled")
    response = api(org.rep1a).get("/api/v1/customers/")
    assert response.status_code == 200
    assert {c["id"] for c in response.json()["results"]} == {customer.pk, pooled.pk}


def test_out_of_scope_customer_is_404(org, customer):
    assert api(org.rep2a).get(f"/api/v1/customers/{customer.pk}/").status_code == 404
    assert api(org.rep2a).get(f"/api/v1/customers/{customer.pk}/history/").status_code == 404
    assert (
        api(org.rep2a).patch(f"/api/v1/customers/{customer.pk}/", {"name": "x"}).status_code == 404
    )


def test_create_with_bad_credit_code_answers_a_field_error(org):
    response = api(org.rep1a).post("/api/v1/customers/", {"name": "A", "credit_code": "123"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["credit_code"]


def test_create_update_and_history(org):
    client = api(org.rep1a)
    created = client.post("/api/v1/customers/", {"name": "Acme", "credit_code": credit_code(5)})
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["owner"]["id"] == org.rep1a.pk
    updated = client.patch(f"/api/v1/customers/{pk}/", {"region": "Shenzhen"})
    assert updated.status_code == 200
    assert updated.json()["region"] == "Shenzhen"
    history = client.get(f"/api/v1/customers/{pk}/history/").json()
    assert history[0]["action"] == "update"
    assert history[0]["actor"]["id"] == org.rep1a.pk


def test_list_filters_and_search(org):
    make_customer(org.rep1a, "Alpha Trading", tier="A")
    make_customer(org.rep1a, "Beta Works", tier="B")
    client = api(org.rep1a)
    assert [c["name"] for c in client.get("/api/v1/customers/?tier=A").json()["results"]] == [
        "Alpha Trading"
    ]
    assert [c["name"] for c in client.get("/api/v1/customers/?search=works").json()["results"]] == [
        "Beta Works"
    ]
    assert client.get("/api/v1/customers/?tier=Z").status_code == 400


def test_customer_list_query_budget(org, django_assert_max_num_queries):
    for i in range(30):
        make_customer(org.rep1a if i % 2 else None, f"Customer {i}")
    with django_assert_max_num_queries(6):
        response = api(org.sup1).get("/api/v1/customers/")
    assert len(response.json()["results"]) == 30


def test_contacts_crud_and_scope(org, customer):
    client = api(org.rep1a)
    created = client.post(
        "/api/v1/contacts/",
        {"customer": customer.pk, "name": "Li Lei", "decision_role": "decision_maker"},
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert client.patch(f"/api/v1/contacts/{pk}/", {"title": "CFO"}).json()["title"] == "CFO"
    assert api(org.rep2a).get(f"/api/v1/contacts/{pk}/").status_code == 404
    assert (
        api(org.rep2a).post("/api/v1/contacts/", {"customer": customer.pk, "name": "X"}).status_code
        == 404
    )
    listed = client.get(f"/api/v1/contacts/?customer={customer.pk}").json()["results"]
    assert [c["id"] for c in listed] == [pk]


def test_contact_list_query_budget(org, customer, django_assert_max_num_queries):
    from apps.customers.models import Contact

    Contact.objects.bulk_create(Contact(customer=customer, name=f"C{i}") for i in range(30))
    with django_assert_max_num_queries(6):
        response = api(org.sup1).get("/api/v1/contacts/")
    assert len(response.json()["results"]) == 30
