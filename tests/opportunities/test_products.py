"""The product catalogue (产品 / 价目表): who may change it, search and filters, pages, API
(incl. the ERP upsert by external id and incremental sync), query budgets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.opportunities.models import Product
from apps.opportunities.products import (
    ProductFilters,
    product_create,
    product_list,
    product_search,
    product_update,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def make_product(code: str, name: str, price: str = "100.00", *, line: str = "办公设备",
                 active: bool = True) -> Product:  # fmt: skip
    return Product.objects.create(
        code=code, name=name, unit="台", list_price=Decimal(price), product_line=line,
        is_active=active,
    )  # fmt: skip


@pytest.fixture
def catalogue(db) -> dict[str, Product]:
    return {
        "mfp": make_product("OE-MFP-A3", "A3 彩色数码复合机", "32800.00"),
        "printer": make_product("OE-PRN-A4", "A4 黑白激光打印机", "2180.00"),
        "cnc": make_product("IE-CNC-850", "立式加工中心 VMC850", "368000.00", line="工业设备"),
        "old": make_product("OE-FAX-01", "传真机", "900.00", active=False),
    }


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


DATA = {"code": "SV-MNT-Y", "name": "年度维保合同", "unit": "年", "list_price": "36000.00"}


# --- services -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager1"])
def test_product_managers_create_products(org, role):
    product = product_create(by=getattr(org, role), data=DATA)
    assert product.list_price == Decimal("36000.00")
    assert product.is_active


@pytest.mark.parametrize("role", ["rep1a", "sup1", "finance"])
def test_others_cannot_change_the_catalogue(org, catalogue, role):
    with pytest.raises(PermissionDenied):
        product_create(by=getattr(org, role), data=DATA)
    with pytest.raises(PermissionDenied):
        product_update(product=catalogue["mfp"], by=getattr(org, role), data={"name": "x"})


def test_the_code_is_unique_whatever_its_case(org, catalogue):
    with pytest.raises(ValidationError) as caught:
        product_create(by=org.admin, data={**DATA, "code": "oe-mfp-a3"})
    assert "code" in caught.value.message_dict


@pytest.mark.parametrize(
    ("field", "value"), [("list_price", "-1"), ("list_price", "abc"), ("name", ""), ("unit", "")]
)
def test_bad_product_fields_are_named(org, field, value):
    with pytest.raises(ValidationError) as caught:
        product_create(by=org.admin, data={**DATA, field: value})
    assert list(caught.value.message_dict) == [field]


def test_a_price_change_does_not_touch_quoted_lines(org, catalogue):
    product = product_update(
        product=catalogue["printer"], by=org.manager1, data={"list_price": "1999.00"}
    )
    assert product.list_price == Decimal("1999.00")


# --- selectors ------------------------------------------------------------------------------


def test_search_by_part_of_the_name(org, catalogue):
    found = list(product_list(user=org.rep1a, filters=ProductFilters(search="复合")))
    assert found == [catalogue["mfp"]]


def test_search_by_the_start_of_the_code(org, catalogue):
    found = list(product_list(user=org.rep1a, filters=ProductFilters(search="oe-")))
    assert found == [catalogue["mfp"], catalogue["printer"]]


def test_a_rep_never_sees_inactive_products(org, catalogue):
    found = set(product_list(user=org.rep1a, filters=ProductFilters(active=None)))
    assert catalogue["old"] not in found
    assert product_search(user=org.rep1a, term="传真") == []


def test_a_product_manager_sees_inactive_products_on_request(org, catalogue):
    found = list(product_list(user=org.admin, filters=ProductFilters(active=False)))
    assert found == [catalogue["old"]]


def test_filter_by_product_line(org, catalogue):
    found = list(product_list(user=org.rep1a, filters=ProductFilters(product_line="工业设备")))
    assert found == [catalogue["cnc"]]


# --- pages ----------------------------------------------------------------------------------


def test_the_catalogue_page_lists_and_searches(org, catalogue):
    client = browser(org.rep1a)
    body = client.get(reverse("opportunities:product_list")).content.decode()
    assert "OE-MFP-A3" in body and "IE-CNC-850" in body and "OE-FAX-01" not in body
    assert 'id="product-create"' not in body  # a rep reads only
    body = client.get(reverse("opportunities:product_list"), {"q": "加工"}).content.decode()
    assert "IE-CNC-850" in body and "OE-MFP-A3" not in body


def test_the_catalogue_htmx_request_gets_the_results_only(org, catalogue):
    response = browser(org.rep1a).get(
        reverse("opportunities:product_list"), {"q": "OE"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.startswith('<div id="product-results"')
    assert "<html" not in body


def test_the_catalogue_page_query_budget(org, django_assert_max_num_queries):
    for i in range(60):
        make_product(f"P-{i:03d}", f"产品 {i}")
    client = browser(org.rep1a)
    client.get(reverse("opportunities:product_list"))  # warm the session
    with django_assert_max_num_queries(12):
        response = client.get(reverse("opportunities:product_list"))
    assert response.status_code == 200
    assert response.content.decode().count("data-product=") == 50


def test_a_manager_adds_a_product_on_the_page(org):
    response = browser(org.manager1).post(
        reverse("opportunities:product_create"), {**DATA, "is_active": "on"}
    )
    assert response.status_code == 302
    assert Product.objects.get(code="SV-MNT-Y").is_active


def test_a_duplicate_code_is_shown_on_the_field(org, catalogue):
    response = browser(org.admin).post(
        reverse("opportunities:product_create"), {**DATA, "code": "OE-MFP-A3"}
    )
    assert response.status_code == 200
    assert "Another product has this code." in response.content.decode()


def test_a_manager_edits_a_product(org, catalogue):
    product = catalogue["printer"]
    url = reverse("opportunities:product_edit", args=[product.pk])
    client = browser(org.manager1)
    assert client.get(url).status_code == 200
    client.post(url, {"code": product.code, "name": "A4 激光打印机", "unit": "台",
                      "list_price": "1999.00"})  # fmt: skip
    product = Product.objects.get(pk=product.pk)
    assert product.name == "A4 激光打印机"
    assert not product.is_active  # an unticked box deactivates it


def test_a_rep_cannot_open_the_product_forms(org, catalogue):
    client = browser(org.rep1a)
    assert client.get(reverse("opportunities:product_create")).status_code == 403
    url = reverse("opportunities:product_edit", args=[catalogue["mfp"].pk])
    assert client.get(url).status_code == 403


def test_product_search_answers_json(org, catalogue):
    response = browser(org.rep1a).get(reverse("opportunities:product_search"), {"q": "打印"})
    results = response.json()["results"]
    assert [r["code"] for r in results] == ["OE-PRN-A4"]
    assert results[0]["list_price"] == "2180.00"
    assert results[0]["unit"] == "台"


# --- API ------------------------------------------------------------------------------------


def test_api_lists_active_products_with_search_and_filter(org, catalogue):
    client = api(org.rep1a)
    codes = [p["code"] for p in client.get("/api/v1/products/").json()["results"]]
    assert set(codes) == {"OE-MFP-A3", "OE-PRN-A4", "IE-CNC-850"}
    found = client.get("/api/v1/products/", {"search": "IE-"}).json()["results"]
    assert [p["code"] for p in found] == ["IE-CNC-850"]
    found = client.get("/api/v1/products/", {"product_line": "办公设备"}).json()["results"]
    assert {p["code"] for p in found} == {"OE-MFP-A3", "OE-PRN-A4"}


def test_api_updated_since(org, catalogue):
    from django.utils import timezone

    since = timezone.now()
    product_update(product=catalogue["cnc"], by=org.admin, data={"list_price": "350000"})
    found = api(org.rep1a).get("/api/v1/products/", {"updated_since": since.isoformat()})
    assert [p["code"] for p in found.json()["results"]] == ["IE-CNC-850"]


def test_api_create_is_for_product_managers(org):
    assert api(org.rep1a).post("/api/v1/products/", DATA, format="json").status_code == 403
    response = api(org.manager1).post("/api/v1/products/", DATA, format="json")
    assert response.status_code == 201
    assert response.json()["code"] == "SV-MNT-Y"


def test_api_update_and_errors(org, catalogue):
    client = api(org.admin)
    pk = catalogue["mfp"].pk
    response = client.patch(f"/api/v1/products/{pk}/", {"list_price": "30000.00"}, format="json")
    assert response.status_code == 200
    assert response.json()["list_price"] == "30000.00"
    response = client.patch(f"/api/v1/products/{pk}/", {"code": "OE-PRN-A4"}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["code"]


def test_api_erp_upsert_by_external_id(org):
    client = api(org.erp)
    created = client.put("/api/v1/products/external/ERP-9/", DATA, format="json")
    assert created.status_code == 201
    updated = client.put(
        "/api/v1/products/external/ERP-9/", {**DATA, "list_price": "38000.00"}, format="json"
    )
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    assert Product.objects.get(external_id="ERP-9").list_price == Decimal("38000.00")


def test_api_rep_cannot_read_an_inactive_product(org, catalogue):
    assert api(org.rep1a).get(f"/api/v1/products/{catalogue['old'].pk}/").status_code == 404
    assert api(org.admin).get(f"/api/v1/products/{catalogue['old'].pk}/").status_code == 200


def test_api_product_list_query_budget(org, django_assert_max_num_queries):
    for i in range(60):
        make_product(f"P-{i:03d}", f"产品 {i}")
    client = api(org.rep1a)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/products/")
    assert len(response.json()["results"]) == 50
