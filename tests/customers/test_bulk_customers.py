"""`POST /api/v1/customers/bulk/`: up to 1,000 customer upserts by external id, validated
together and applied all or none, at a fixed number of queries (issue 9)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.history import history_for
from apps.core.versions import version_of
from apps.customers.models import Customer

from .conftest import credit_code, make_customer

URL = "/api/v1/customers/bulk/"


def client(user) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(user)
    return api


def fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_a_batch_creates_and_updates_by_external_id_with_one_result_per_record(org):
    # given a customer the ERP already synced
    existing = make_customer(org.rep1a, "甲公司", external_id="K3-1", region="华南")
    # when the ERP sends it again with a change, and two new ones
    response = client(org.erp).post(
        URL,
        {"records": [
            {"external_id": "K3-2", "name": "乙科技有限公司", "phone": "138-0013-8000",
             "owner": org.rep1b.pk},
            {"external_id": "K3-1", "name": "甲公司", "region": "华东"},
            {"external_id": "K3-3", "name": "丙公司", "credit_code": credit_code(3)},
        ]},
        format="json",
    )  # fmt: skip
    # then each record has its result, in order, and the counts add up
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 1, 0)
    assert [(r["index"], r["status"], r["external_id"]) for r in body["results"]] == [
        (0, "created", "K3-2"), (1, "updated", "K3-1"), (2, "created", "K3-3"),
    ]  # fmt: skip
    assert body["results"][1]["id"] == existing.pk
    new = Customer.objects.get(external_id="K3-2")
    assert body["results"][0]["id"] == new.pk
    # the new customer is owned as `customer_create` would own it, with its dedupe keys
    assert new.owner == org.rep1b and new.status == "prospect"
    assert (new.name_key, new.phone_key) == ("乙科技", "+8613800138000")
    assert Customer.objects.get(external_id="K3-3").owner == org.erp
    assert Customer.objects.get(pk=existing.pk).region == "华东"
    # and the history has both writes, by the ERP user
    inserted, updated = history_for(new)[0], history_for(existing)[0]
    assert (inserted.action, inserted.actor_id) == ("insert", org.erp.pk)
    assert (updated.action, updated.actor_id) == ("update", org.erp.pk)
    assert [(c.field, c.old, c.new) for c in updated.changes] == [("region", "华南", "华东")]


def test_one_bad_record_writes_nothing_and_names_the_record_and_field(org):
    # given a synced customer
    make_customer(org.rep1a, "甲公司", external_id="K3-1")
    # when a batch has a good record, a bad phone and a bad credit code
    response = client(org.erp).post(
        URL,
        {"records": [
            {"external_id": "K3-1", "name": "甲公司（新）"},
            {"external_id": "K3-2", "name": "乙公司", "phone": "12"},
            {"external_id": "K3-3", "name": "丙公司", "credit_code": "123"},
            {"external_id": "K3-4", "name": "", "tier": "Z"},
        ]},
        format="json",
    )  # fmt: skip
    # then it is a 400 naming each bad field of each bad record, and nothing was written
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert sorted(fields(response)) == [
        "records.1.phone", "records.2.credit_code", "records.3.name", "records.3.tier",
    ]  # fmt: skip
    assert list(Customer.objects.values_list("external_id", "name")) == [("K3-1", "甲公司")]


@pytest.mark.parametrize("count", [0, 1001])
def test_an_empty_batch_or_more_than_1000_records_is_a_400(org, count):
    records = [{"external_id": f"E-{i}", "name": f"公司{i}"} for i in range(count)]
    response = client(org.erp).post(URL, {"records": records}, format="json")
    assert response.status_code == 400, response.content
    assert fields(response) == ["records"]
    assert not Customer.objects.exists()


def test_an_external_id_twice_in_the_batch_is_a_400(org):
    response = client(org.erp).post(
        URL,
        {"records": [{"external_id": "D-1", "name": "甲"}, {"external_id": "D-1", "name": "乙"}]},
        format="json",
    )
    assert response.status_code == 400
    assert fields(response) == ["records.1.external_id"]
    assert response.json()["errors"][0]["code"] == "duplicate_external_id"
    assert not Customer.objects.exists()


def test_a_credit_code_taken_or_sent_twice_is_an_error_of_that_record(org):
    # given a customer holding a credit code
    make_customer(org.rep1a, "甲公司", credit_code=credit_code(1))
    # when one new record takes that code and two others share another one
    response = client(org.erp).post(
        URL,
        {"records": [
            {"external_id": "C-1", "name": "乙公司", "credit_code": credit_code(1)},
            {"external_id": "C-2", "name": "丙公司", "credit_code": credit_code(2)},
            {"external_id": "C-3", "name": "丁公司", "credit_code": credit_code(2)},
        ]},
        format="json",
    )  # fmt: skip
    # then the taker and the second sharer are refused, as `customer_create` would refuse them
    assert response.status_code == 400
    assert fields(response) == ["records.0.credit_code", "records.2.credit_code"]
    assert {e["code"] for e in response.json()["errors"]} == {"duplicate_credit_code"}
    assert Customer.objects.count() == 1


def test_replaying_a_batch_answers_unchanged_and_touches_nothing(org):
    # given a batch applied once
    records = [
        {"external_id": "R-1", "name": "甲公司", "credit_code": credit_code(7).lower()},
        {"external_id": "R-2", "name": " 乙公司 ", "phone": "13800138000", "tier": "B"},
    ]
    first = client(org.erp).post(URL, {"records": records}, format="json")
    assert first.json()["created"] == 2
    before = dict(Customer.objects.values_list("external_id", "updated_at"))
    # when the same batch is sent again
    again = client(org.erp).post(URL, {"records": records}, format="json")
    # then every record is unchanged and no row was written
    assert again.status_code == 200
    body = again.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 2)
    assert {r["status"] for r in body["results"]} == {"unchanged"}
    assert dict(Customer.objects.values_list("external_id", "updated_at")) == before
    assert len(history_for(Customer.objects.get(external_id="R-2"))) == 1  # the insert only


def test_a_stale_version_is_an_error_of_that_record(org):
    # given a customer the ERP read, then changed in salesctl
    customer = make_customer(org.rep1a, "甲公司", external_id="V-1")
    read = version_of(customer)
    customer.region = "华北"
    customer.save()
    # when the ERP sends its change based on the old version
    stale = client(org.erp).post(
        URL,
        {"records": [
            {"external_id": "V-2", "name": "乙公司"},
            {"external_id": "V-1", "name": "甲公司（ERP）", "version": read},
        ]},
        format="json",
    )  # fmt: skip
    # then that record is refused with the current version, and nothing is written
    assert stale.status_code == 400
    assert fields(stale) == ["records.1.version"]
    assert stale.json()["errors"][0]["code"] == "stale_version"
    assert str(version_of(Customer.objects.get(pk=customer.pk))) in stale.json()["detail"]
    assert Customer.objects.count() == 1
    # and based on the current version it applies
    current = version_of(Customer.objects.get(pk=customer.pk))
    fresh = client(org.erp).post(
        URL,
        {"records": [{"external_id": "V-1", "name": "甲公司（ERP）", "version": current}]},
        format="json",
    )
    assert fresh.status_code == 200 and fresh.json()["updated"] == 1


def test_a_rep_cannot_upsert_another_reps_customer_in_a_batch(org):
    # given a customer of rep2a (another team) and one in the public pool
    make_customer(org.rep2a, "丁公司", external_id="S-1")
    make_customer(None, "戊公司", external_id="S-2")
    # when rep1a sends a batch naming them, with a new customer of their own
    response = client(org.rep1a).post(
        URL,
        {"records": [
            {"external_id": "S-3", "name": "己公司"},
            {"external_id": "S-1", "name": "丁公司（改）"},
            {"external_id": "S-2", "name": "戊公司（改）"},
        ]},
        format="json",
    )  # fmt: skip
    # then the other rep's customer is "no such customer" (no 404 for the batch), the pool
    # customer must be claimed first, and nothing is written
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("records.1.external_id", "not_found"), ("records.2.external_id", "permission_denied"),
    ]  # fmt: skip
    assert errors[0]["message"] == "No such customer in your data scope."
    assert "丁公司" not in response.content.decode()
    assert set(Customer.objects.values_list("name", flat=True)) == {"丁公司", "戊公司"}


def test_a_new_customers_owner_must_be_in_the_callers_team(org):
    # when a supervisor creates customers for a rep of their team and one of another team
    response = client(org.sup1).post(
        URL,
        {"records": [
            {"external_id": "O-1", "name": "甲公司", "owner": org.rep1a.pk},
            {"external_id": "O-2", "name": "乙公司", "owner": org.rep2a.pk},
            {"external_id": "O-3", "name": "丙公司", "owner": 987654},
        ]},
        format="json",
    )  # fmt: skip
    # then only their own team's rep may own one
    assert response.status_code == 400
    assert fields(response) == ["records.1.owner", "records.2.owner"]
    ok = client(org.sup1).post(
        URL, {"records": [{"external_id": "O-1", "name": "甲公司", "owner": org.rep1a.pk}]},
        format="json",
    )  # fmt: skip
    assert ok.status_code == 200
    assert Customer.objects.get(external_id="O-1").owner == org.rep1a


def test_a_user_without_a_data_scope_gets_403_for_the_whole_batch(org):
    # given a deactivated user (no data scope) whose session is still open
    org.rep1a.is_active = False
    org.rep1a.save()
    # when they send a batch
    response = client(org.rep1a).post(
        URL, {"records": [{"external_id": "P-1", "name": "甲公司"}]}, format="json"
    )
    # then it is refused as a whole
    assert response.status_code == 403
    assert not Customer.objects.exists()


def _batch(owner: User, n: int, tag: str, first_code: int) -> list[dict]:
    """Half new customers, half changes of existing ones, with credit codes and owners."""
    records = []
    for i in range(n):
        key = f"{tag}-{i}"
        if i % 2:
            make_customer(owner, f"旧{key}", external_id=key)
        records.append({
            "external_id": key, "name": f"公司{key}", "owner": owner.pk,
            "credit_code": credit_code(first_code + i), "phone": "13800138000",
        })  # fmt: skip
    return records


def test_the_query_count_does_not_grow_with_the_batch(org):
    # given batches of 5 and 50 records, each half new and half changes, sent by a supervisor
    # (a scope that needs the visibility reads)
    small, large = _batch(org.rep1a, 5, "S", 100), _batch(org.rep1a, 50, "L", 200)
    counts = []
    for records in (small, large):
        api = client(User.objects.get(pk=org.sup1.pk))  # a fresh user: no cached scope
        # when each is sent
        with CaptureQueriesContext(connection) as queries:
            response = api.post(URL, {"records": records}, format="json")
        assert response.status_code == 200, response.content
        counts.append(len(queries))
    # then both cost the same few queries
    assert counts[0] == counts[1] <= 15, counts
    assert Customer.objects.filter(name__startswith="公司L").count() == 50


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"records": "all"},
        {"records": [1, "x", None]},
        {"records": [{"external_id": {"a": 1}, "name": ["甲"]}]},
        {"records": [{"external_id": "B-1", "name": "甲", "owner": "me"}]},
        {"records": [{"external_id": "B-1", "name": "甲", "owner": 10**30}]},
        {"records": [{"external_id": "B-1", "name": "甲", "version": "abc"}]},
        {"records": [{"external_id": "B-\x00", "name": "甲\x00"}]},
        {"records": [{"external_id": " ", "name": "甲"}]},
        {"records": [{"external_id": "x" * 101, "name": "甲"}]},
        {"records": [{"external_id": "B-1", "name": "甲", "email": "not-an-email"}]},
    ],
)
def test_bad_input_is_a_400_never_a_500(org, body):
    response = client(org.erp).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert not Customer.objects.exists()


def test_a_body_that_is_not_json_is_a_400(org):
    response = client(org.erp).post(URL, "{records: [", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_batches_of_the_same_new_customers_make_each_once(org):
    # given two ERP workers sending the same 20 new customers at once, in opposite orders
    records = [{"external_id": f"RACE-{i}", "name": f"并发公司{i}"} for i in range(20)]
    answers: list[dict] = []

    def post(batch: list[dict]) -> None:
        try:
            response = client(org.erp).post(URL, {"records": batch}, format="json")
            answers.append({"status": response.status_code, **response.json()})
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(batch,)) for batch in (records, records[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then both succeed, each customer is created once, and the later batch finds them
    assert [a["status"] for a in answers] == [200, 200], answers
    assert sorted(a["created"] for a in answers) == [0, 20]
    assert Customer.objects.filter(external_id__startswith="RACE-").count() == 20
