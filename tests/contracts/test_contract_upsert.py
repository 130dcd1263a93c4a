"""`PUT /api/v1/contracts/external/<external_id>/`: the ERP drafts a contract by its key, or
changes that draft, with the version it read (`If-Match` / `version`: 409 with the current
contract), under the rules of the contract create and update (issue 9)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.contracts.models import Contract, ContractSequence
from apps.contracts.services import contract_submit
from tests.api.conftest import assert_problem

from .conftest import TERMS_30_70, line

pytestmark = pytest.mark.usefixtures("policies")
URL = "/api/v1/contracts/external/"


def client(user) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(user)
    return api


def body(customer, product, **fields) -> dict:
    return {"customer": customer.pk, "title": "机床采购合同", "lines": [line(product)],
            "terms": TERMS_30_70, **fields}  # fmt: skip


def test_put_drafts_the_contract_then_changes_the_same_draft(org, customer, product):
    erp = client(org.erp)
    # when the ERP sends a new contract, then a change of it
    created = erp.put(f"{URL}ERP-HT-1/", body(customer, product), format="json")
    changed = erp.put(
        f"{URL}ERP-HT-1/",
        body(customer, product, title="机床采购合同（修订）", lines=[line(product, "12")]),
        format="json",
    )
    # then the first made a numbered draft for the customer's owner, the second changed it
    assert created.status_code == 201, created.content
    assert changed.status_code == 200, changed.content
    first, second = created.json(), changed.json()
    assert first["id"] == second["id"]
    assert (first["status"], first["external_id"]) == ("draft", "ERP-HT-1")
    assert first["owner"]["id"] == org.rep1a.pk and first["number"].startswith("HT-")
    assert (second["title"], second["amount"]) == ("机床采购合同（修订）", "120000.00")
    assert [t["amount"] for t in second["terms"]] == ["36000.00", "84000.00"]
    # each answer carries the contract's version, in the body and the ETag
    assert changed["ETag"] == f'"{second["version"]}"' and second["version"] != first["version"]
    assert second["amendment_version"] == 1
    assert Contract.objects.count() == 1


def test_a_customer_named_by_its_external_id(org, customer, product):
    customer.external_id = "K3-C-1"
    customer.save()
    data = body(customer, product)
    del data["customer"]

    response = client(org.erp).put(
        f"{URL}ERP-HT-2/", {**data, "customer_external_id": "K3-C-1"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] == customer.pk


def test_a_stale_version_is_a_409_with_the_current_contract_and_changes_nothing(
    org, customer, product
):
    # given a draft the ERP read, then its owner changed the title
    erp = client(org.erp)
    read = erp.put(f"{URL}ERP-HT-3/", body(customer, product), format="json").json()
    edited = client(org.rep1a).patch(
        f"/api/v1/contracts/{read['id']}/", {"title": "销售改的标题"}, format="json"
    )
    assert edited.status_code == 200, edited.content
    # when the ERP sends its change based on what it read
    stale = erp.put(
        f"{URL}ERP-HT-3/", body(customer, product, title="ERP 标题"), format="json",
        HTTP_IF_MATCH=f'"{read["version"]}"',
    )  # fmt: skip
    by_body = erp.put(
        f"{URL}ERP-HT-3/", body(customer, product, title="ERP 标题", version=read["version"]),
        format="json",
    )  # fmt: skip
    # then both are refused with the current contract, and the title stays
    problem = assert_problem(stale, 409, "version-conflict")
    assert problem["current"]["title"] == "销售改的标题"
    assert problem["current"]["version"] == edited.json()["version"]
    assert stale["ETag"] == f'"{edited.json()["version"]}"'
    assert by_body.status_code == 409
    assert Contract.objects.get().title == "销售改的标题"
    # and based on the current version it applies
    fresh = erp.put(
        f"{URL}ERP-HT-3/", body(customer, product, title="ERP 标题"), format="json",
        HTTP_IF_MATCH=stale["ETag"],
    )  # fmt: skip
    assert fresh.status_code == 200 and fresh.json()["title"] == "ERP 标题"


def test_a_submitted_contract_is_no_longer_changed_by_the_upsert(org, customer, product):
    # given a contract the ERP drafted and the rep submitted
    erp = client(org.erp)
    created = erp.put(f"{URL}ERP-HT-4/", body(customer, product), format="json").json()
    contract_submit(contract=Contract.objects.get(pk=created["id"]), by=org.rep1a)
    # when the ERP sends a change
    response = erp.put(f"{URL}ERP-HT-4/", body(customer, product, title="改"), format="json")
    # then it is the update's 409 (not a draft), and nothing changed
    assert_problem(response, 409, "conflict")
    assert Contract.objects.get().title == "机床采购合同"


def test_a_contract_outside_the_callers_scope_is_a_404_and_finance_may_not_change_it(
    org, customer, product
):
    # given rep1a's contract drafted by the ERP
    client(org.erp).put(f"{URL}ERP-HT-5/", body(customer, product), format="json")
    # when a rep of another team, and finance (who sees every contract), send a change
    other = client(org.rep2a).put(f"{URL}ERP-HT-5/", {"title": "改"}, format="json")
    finance = client(org.finance).put(f"{URL}ERP-HT-5/", {"title": "改"}, format="json")
    # then the rep gets a 404 and finance a 403, and nothing changed
    assert_problem(other, 404, "not-found")
    assert_problem(finance, 403, "permission-denied")
    assert Contract.objects.get().title == "机床采购合同"


def test_a_new_contract_follows_the_create_rules(org, customer, product):
    rep2a = client(org.rep2a)
    # a customer outside the caller's scope is a 404, nothing is drafted
    assert_problem(rep2a.put(f"{URL}N-1/", body(customer, product), format="json"), 404,
                   "not-found")  # fmt: skip
    # without a customer it is a 400 naming the customer
    no_customer = client(org.erp).put(f"{URL}N-2/", {"title": "无客户"}, format="json")
    assert [e["field"] for e in assert_problem(no_customer, 400, "validation-error")["errors"]] == [
        "customer"
    ]
    # terms that do not add up are the create's 400
    bad_terms = client(org.erp).put(
        f"{URL}N-3/", body(customer, product, terms=TERMS_30_70[:1]), format="json"
    )
    assert assert_problem(bad_terms, 400, "validation-error")["errors"][0]["field"] == "terms"
    assert not Contract.objects.exists()


@pytest.mark.parametrize(
    ("key", "data"),
    [
        ("%00", {}),
        ("x" * 101, {}),
        ("N-1", {"version": "abc"}),
        ("N-1", {"lines": "all"}),
        ("N-1", {"lines": [{"product": "x", "quantity": "many"}]}),
        ("N-1", {"customer": "one"}),
        ("N-1", {"customer_external_id": "\x00"}),
        ("N-1", {"grace_days": "-1", "penalty_rate_per_day": "NaN"}),
    ],
)
def test_bad_input_is_a_400_never_a_500(org, customer, product, key, data):
    response = client(org.erp).put(f"{URL}{key}/", {**body(customer, product), **data},
                                   format="json")  # fmt: skip
    assert response.status_code == 400, response.content
    assert not Contract.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_upserts_make_one_contract_and_leave_no_gap(org, customer, product):
    # given four ERP workers sending the same new contract at once
    statuses: list[int] = []

    def put() -> None:
        try:
            response = client(org.erp).put(f"{URL}RACE-1/", body(customer, product),
                                           format="json")  # fmt: skip
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one drafted it and the others changed it; the losers' numbers were rolled back
    assert sorted(statuses) == [200, 200, 200, 201], statuses
    assert Contract.objects.filter(external_id="RACE-1").count() == 1
    assert ContractSequence.objects.get().last_number == 1
