"""The ERP side of the catalogue (issue 9): the upsert by external id honours the version the
ERP read (`If-Match` / `version`: 409 with the current product), and `POST products/bulk/`
upserts up to 1,000 products all or none, at a fixed number of queries."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.core.history import history_for
from apps.core.versions import version_of
from apps.opportunities.models import Product

BULK = "/api/v1/products/bulk/"


def client(user) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(user)
    return api


def product(key: str, code: str, price: str = "100.00", **fields) -> dict:
    return {"external_id": key, "code": code, "name": f"产品 {code}", "unit": "台",
            "list_price": price, **fields}  # fmt: skip


def make(key: str, code: str, price: str = "100.00") -> Product:
    return Product.objects.create(
        external_id=key, code=code, name=f"产品 {code}", unit="台", list_price=Decimal(price)
    )


def fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- PUT products/external/<external_id>/ ---------------------------------------------------


def test_the_upsert_answers_the_version_and_a_stale_one_is_a_409_with_the_current_product(org):
    # given a product the ERP created, then a manager changed its price
    erp = client(org.erp)
    created = erp.put("/api/v1/products/external/P-1/", product("P-1", "CNC-1"), format="json")
    assert created.status_code == 201
    read = created.json()["version"]
    assert created["ETag"] == f'"{read}"'
    changed = client(org.manager1).patch(
        f"/api/v1/products/{created.json()['id']}/", {"list_price": "120.00"}, format="json"
    )
    # when the ERP sends its change based on what it read
    stale = erp.put(
        "/api/v1/products/external/P-1/", product("P-1", "CNC-1", "90.00"), format="json",
        HTTP_IF_MATCH=f'"{read}"',
    )  # fmt: skip
    by_body = erp.put(
        "/api/v1/products/external/P-1/", product("P-1", "CNC-1", "90.00", version=read),
        format="json",
    )  # fmt: skip
    # then both are refused with the current product, and the price stays
    assert stale.status_code == 409, stale.content
    assert stale.json()["type"] == "urn:salesctl:problem:version-conflict"
    assert stale.json()["current"]["list_price"] == "120.00"
    assert stale.json()["current"]["version"] == changed.json()["version"]
    assert stale["ETag"] == f'"{changed.json()["version"]}"'
    assert by_body.status_code == 409
    assert Product.objects.get(external_id="P-1").list_price == Decimal("120.00")
    # and based on the current version it applies
    fresh = erp.put(
        "/api/v1/products/external/P-1/", product("P-1", "CNC-1", "90.00"), format="json",
        HTTP_IF_MATCH=stale["ETag"],
    )  # fmt: skip
    assert fresh.status_code == 200 and fresh.json()["list_price"] == "90.00"


def test_a_rep_cannot_upsert_products(org):
    response = client(org.rep1a).put(
        "/api/v1/products/external/P-1/", product("P-1", "CNC-1"), format="json"
    )
    assert response.status_code == 403
    assert not Product.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_upserts_make_one_product(org):
    # given four ERP workers sending the same new product at once
    statuses: list[int] = []

    def put() -> None:
        try:
            response = client(org.erp).put(
                "/api/v1/products/external/RACE-1/", product("RACE-1", "RACE-1"), format="json"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one created it and the others updated it
    assert sorted(statuses) == [200, 200, 200, 201], statuses
    assert Product.objects.filter(external_id="RACE-1").count() == 1


# --- POST products/bulk/ ----------------------------------------------------------------------


def test_a_batch_creates_updates_and_leaves_unchanged_with_one_result_per_record(org):
    # given two products the ERP synced
    same, dearer = make("B-1", "CNC-1"), make("B-2", "CNC-2")
    # when it sends them again (one with a new price) and a new one
    response = client(org.erp).post(
        BULK,
        {"records": [
            product("B-3", "CNC-3", product_line="机床"),
            product("B-1", "CNC-1"),
            product("B-2", "CNC-2", "150.00"),
        ]},
        format="json",
    )  # fmt: skip
    # then each record has its result, in order
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 1)
    new = Product.objects.get(external_id="B-3")
    assert [(r["index"], r["status"], r["id"]) for r in body["results"]] == [
        (0, "created", new.pk), (1, "unchanged", same.pk), (2, "updated", dearer.pk),
    ]  # fmt: skip
    assert new.product_line == "机床"
    # the unchanged product was not written; the history has the price change
    assert Product.objects.get(pk=same.pk).updated_at == same.updated_at
    change = history_for(Product.objects.get(pk=dearer.pk))[0]
    assert change.actor_id == org.erp.pk
    assert [c.field for c in change.changes] == ["list_price"]


def test_one_bad_record_writes_nothing_and_names_the_record_and_field(org):
    make("B-1", "CNC-1")
    response = client(org.erp).post(
        BULK,
        {"records": [
            product("B-1", "CNC-1", "200.00"),
            product("B-2", "CNC-2", "-1"),
            {"external_id": "B-3", "name": "无编码"},
            product("B-4", "CNC-4", "1.234"),
        ]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400, response.content
    assert sorted(fields(response)) == [
        "records.1.list_price", "records.2.code", "records.2.list_price", "records.2.unit",
        "records.3.list_price",
    ]  # fmt: skip
    assert Product.objects.count() == 1
    assert Product.objects.get().list_price == Decimal("100.00")


@pytest.mark.parametrize("count", [0, 1001])
def test_an_empty_batch_or_more_than_1000_records_is_a_400(org, count):
    records = [product(f"E-{i}", f"E-{i}") for i in range(count)]
    response = client(org.erp).post(BULK, {"records": records}, format="json")
    assert response.status_code == 400
    assert fields(response) == ["records"]
    assert not Product.objects.exists()


def test_an_external_id_or_a_code_twice_in_the_batch_or_taken_is_an_error_of_that_record(org):
    # given a product holding the code CNC-1
    make("OLD", "CNC-1")
    response = client(org.erp).post(
        BULK,
        {"records": [
            product("D-1", "CNC-2"),
            product("D-1", "CNC-3"),
            product("D-4", "cnc-1"),
            product("D-5", "X-9"),
            product("D-6", "x-9"),
        ]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert fields(response) == ["records.1.external_id", "records.2.code", "records.4.code"]
    assert Product.objects.count() == 1


def test_replaying_a_batch_answers_unchanged_and_touches_nothing(org):
    records = [product("R-1", "R-1", "10"), product("R-2", "R-2", is_active=False)]
    assert client(org.erp).post(BULK, {"records": records}, format="json").json()["created"] == 2
    before = dict(Product.objects.values_list("external_id", "updated_at"))

    again = client(org.erp).post(BULK, {"records": records}, format="json")

    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["unchanged", "unchanged"]
    assert dict(Product.objects.values_list("external_id", "updated_at")) == before


def test_a_stale_version_in_a_batch_is_an_error_of_that_record(org):
    # given a product the ERP read, changed since
    item = make("V-1", "V-1")
    read = version_of(item)
    item.name = "改名"
    item.save()
    # when a batch is based on the old version
    response = client(org.erp).post(
        BULK, {"records": [product("V-2", "V-2"), product("V-1", "V-1", version=read)]},
        format="json",
    )  # fmt: skip
    # then that record is refused, and nothing is written
    assert response.status_code == 400
    assert fields(response) == ["records.1.version"]
    assert response.json()["errors"][0]["code"] == "stale_version"
    assert Product.objects.count() == 1 and Product.objects.get().name == "改名"


def test_only_product_managers_and_the_erp_send_batches(org):
    records = [product("M-1", "M-1")]
    assert client(org.rep1a).post(BULK, {"records": records}, format="json").status_code == 403
    assert client(org.sup1).post(BULK, {"records": "bad"}, format="json").status_code == 403
    assert not Product.objects.exists()
    assert client(org.manager1).post(BULK, {"records": records}, format="json").status_code == 200


def _batch(n: int, tag: str) -> list[dict]:
    """Half new products, half price changes of existing ones."""
    for i in range(1, n, 2):
        make(f"{tag}-{i}", f"{tag}-{i}")
    return [product(f"{tag}-{i}", f"{tag}-{i}", "200.00") for i in range(n)]


def test_the_query_count_does_not_grow_with_the_batch(org):
    small, large = _batch(5, "S"), _batch(50, "L")
    counts = []
    for records in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = client(org.erp).post(BULK, {"records": records}, format="json")
        assert response.status_code == 200, response.content
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 12, counts
    assert Product.objects.filter(list_price=Decimal("200.00")).count() == 55


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"records": None},
        {"records": [[], 7]},
        {"records": [product("B-1", "B-1", "NaN")]},
        {"records": [product("B-1", "B-1", "1e400")]},
        {"records": [product("B-1", "B-1", {"amount": 1})]},
        {"records": [product("B-1", "B-1", version=1.5)]},
        {"records": [product("B-\x00", "B-1")]},
        {"records": [product("", "B-1")]},
        {"records": [product("B-1", "B" * 51)]},
    ],
)
def test_bad_input_is_a_400_never_a_500(org, body):
    response = client(org.erp).post(BULK, body, format="json")
    assert response.status_code == 400, response.content
    assert not Product.objects.exists()


@pytest.mark.parametrize("key", ["%00", "x" * 101, "%20"])
def test_a_bad_external_id_in_the_address_is_a_400(org, key):
    response = client(org.erp).put(
        f"/api/v1/products/external/{key}/", product("", "B-1"), format="json"
    )
    assert response.status_code == 400, response.content
    assert fields(response) == ["external_id"]
    assert not Product.objects.exists()
