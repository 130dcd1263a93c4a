"""ERP upsert of customers and contacts by external id, with optimistic concurrency: a write
based on an older version is refused with 409 and the current record (issue 9)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.customers.models import Contact, Customer


@pytest.fixture
def api_as():
    def make(user) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_authenticate(user)
        return client

    return make


def test_put_creates_then_updates_the_same_customer(org, api_as):
    erp = api_as(org.erp)

    created = erp.put(
        "/api/v1/customers/external/K3-C-0001/",
        {"name": "深圳华星科技有限公司", "region": "华南", "owner": org.rep1a.pk},
        format="json",
    )
    updated = erp.put(
        "/api/v1/customers/external/K3-C-0001/",
        {"name": "深圳华星科技股份有限公司", "region": "华南"},
        format="json",
    )

    assert created.status_code == 201, created.content
    assert updated.status_code == 200, updated.content
    assert created.json()["id"] == updated.json()["id"]
    customer = Customer.objects.get()
    assert (customer.external_id, customer.name, customer.owner) == (
        "K3-C-0001", "深圳华星科技股份有限公司", org.rep1a,
    )  # fmt: skip
    assert updated["ETag"] == f'"{updated.json()["version"]}"'
    assert updated.json()["version"] != created.json()["version"]
    listed = erp.get("/api/v1/customers/", {"external_id": "K3-C-0001"}).json()["results"]
    assert [c["id"] for c in listed] == [customer.pk]


def test_a_stale_version_is_a_409_with_the_current_record_and_changes_nothing(org, api_as):
    erp = api_as(org.erp)
    first = erp.put(
        "/api/v1/customers/external/K3-C-0002/", {"name": "甲公司"}, format="json"
    ).json()
    # someone edits it in salesctl meanwhile
    second = erp.put(
        "/api/v1/customers/external/K3-C-0002/", {"name": "甲公司（新）"}, format="json"
    ).json()

    stale = erp.put(
        "/api/v1/customers/external/K3-C-0002/",
        {"name": "甲公司（ERP）"},
        format="json",
        HTTP_IF_MATCH=f'"{first["version"]}"',
    )
    by_body = erp.patch(
        f"/api/v1/customers/{first['id']}/",
        {"name": "甲公司（ERP）", "version": first["version"]},
        format="json",
    )
    fresh = erp.patch(
        f"/api/v1/customers/{first['id']}/",
        {"name": "甲公司（ERP）"},
        format="json",
        HTTP_IF_MATCH=f'"{second["version"]}"',
    )

    assert stale.status_code == 409, stale.content
    assert stale["Content-Type"].startswith("application/problem+json")
    assert stale.json()["type"].endswith("version-conflict")
    assert stale.json()["current"]["name"] == "甲公司（新）"
    assert stale.json()["current"]["version"] == second["version"]
    assert stale["ETag"] == f'"{second["version"]}"'
    assert by_body.status_code == 409
    assert fresh.status_code == 200 and fresh.json()["name"] == "甲公司（ERP）"


def test_bad_external_ids_and_duplicates_are_field_errors(org, api_as):
    erp = api_as(org.erp)
    erp.put("/api/v1/customers/external/A-1/", {"name": "甲公司"}, format="json")

    taken = erp.post("/api/v1/customers/", {"name": "乙公司", "external_id": "A-1"}, format="json")
    too_long = erp.put(f"/api/v1/customers/external/{'x' * 101}/", {"name": "丙"}, format="json")
    no_name = erp.put("/api/v1/customers/external/A-2/", {}, format="json")

    assert taken.status_code == 400
    assert [e["field"] for e in taken.json()["errors"]] == ["external_id"]
    assert too_long.status_code == 400
    assert [e["field"] for e in too_long.json()["errors"]] == ["external_id"]
    assert no_name.status_code == 400 and no_name.json()["errors"][0]["field"] == "name"
    assert Customer.objects.count() == 1


def test_a_customer_outside_the_callers_scope_is_a_404(org, api_as):
    Customer.objects.create(name="丁公司", owner=org.rep2a, external_id="D-1")

    response = api_as(org.rep1a).put(
        "/api/v1/customers/external/D-1/", {"name": "丁公司（改）"}, format="json"
    )

    assert response.status_code == 404
    assert Customer.objects.get(external_id="D-1").name == "丁公司"


def test_contacts_upsert_under_a_customer_named_by_its_external_id(org, api_as):
    erp = api_as(org.erp)
    erp.put("/api/v1/customers/external/C-9/", {"name": "戊公司"}, format="json")

    created = erp.put(
        "/api/v1/contacts/external/P-1/",
        {"customer_external_id": "C-9", "name": "王经理", "email": "wang@example.com"},
        format="json",
    )
    updated = erp.put("/api/v1/contacts/external/P-1/", {"name": "王总"}, format="json")
    orphan = erp.put("/api/v1/contacts/external/P-2/", {"name": "李"}, format="json")
    unknown = erp.put(
        "/api/v1/contacts/external/P-3/", {"name": "李", "customer_external_id": "nope"},
        format="json",
    )  # fmt: skip

    assert created.status_code == 201, created.content
    assert updated.status_code == 200 and updated.json()["name"] == "王总"
    assert orphan.status_code == 400 and orphan.json()["errors"][0]["field"] == "customer"
    assert unknown.status_code == 404
    assert list(Contact.objects.values_list("external_id", "name")) == [("P-1", "王总")]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_upserts_make_one_customer(org):
    results: list[int] = []

    def put() -> None:
        try:
            client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
            client.force_authenticate(org.erp)
            response = client.put(
                "/api/v1/customers/external/RACE-1/", {"name": "并发公司"}, format="json"
            )
            results.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results).count(201) == 1 and sorted(results).count(200) == 3, results
    assert Customer.objects.filter(external_id="RACE-1").count() == 1
