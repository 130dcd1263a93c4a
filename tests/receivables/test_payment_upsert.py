"""`PUT /api/v1/payments/external/<external_id>/` (issue 9): the ERP records a payment by its
own key, or answers it again; money received does not change (409 naming the field), the
descriptive fields do, optionally guarded by the version the ERP read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.receivables.models import Payment

from .conftest import api, make_customer

pytestmark = pytest.mark.usefixtures("today")

URL = "/api/v1/payments/external/{}/"


def put(user, key: str, body: dict, **headers):
    return api(user).put(URL.format(key), body, format="json", HTTP_ACCEPT_LANGUAGE="en",
                         **headers)  # fmt: skip


def body(customer, **extra) -> dict:
    return {"customer": customer.pk, "amount": "45000.00", "received_on": "2026-06-12",
            "payer_name": "华星科技", **extra}  # fmt: skip


def test_put_creates_then_answers_the_same_payment(org, customer):
    created = put(org.erp, "K3-P-1", body(customer, bank_reference="BR-1"))
    again = put(org.erp, "K3-P-1", body(customer, bank_reference="BR-1"))

    assert created.status_code == 201, created.json()
    assert again.status_code == 200, again.json()
    assert again.json() == created.json()
    payment = Payment.objects.get()
    assert (payment.external_id, payment.bank_reference, payment.recorded_by) == (
        "K3-P-1", "BR-1", org.erp,
    )  # fmt: skip
    assert again["ETag"] == f'"{again.json()["version"]}"'


def test_put_changes_the_payer_notes_and_method(org, customer):
    first = put(org.erp, "K3-P-2", body(customer)).json()

    changed = put(org.erp, "K3-P-2", body(customer, payer_name="华星科技（深圳）",
                                          notes="ERP 更正", method="cheque"))  # fmt: skip

    assert changed.status_code == 200, changed.json()
    payment = Payment.objects.get()
    assert (payment.payer_name, payment.notes, payment.method) == (
        "华星科技（深圳）", "ERP 更正", "cheque",
    )  # fmt: skip
    assert changed.json()["version"] != first["version"]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"amount": "45000.01"}, "amount"), ({"received_on": "2026-06-11"}, "received_on")],
)
def test_another_amount_or_date_is_409_naming_the_field(org, customer, change, field):
    put(org.erp, "K3-P-3", body(customer))

    response = put(org.erp, "K3-P-3", body(customer, notes="x", **change))

    assert response.status_code == 409, response.json()
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert "reverse it" in response.json()["errors"][0]["message"]
    payment = Payment.objects.get()
    assert (payment.amount, payment.notes) == (Decimal("45000.00"), "")


def test_another_customer_is_409_naming_the_customer(org, customer):
    other = make_customer(org.rep1b, "乙公司", external_id="K3-C-2")
    put(org.erp, "K3-P-4", body(customer))

    response = put(org.erp, "K3-P-4", {**body(customer), "customer": None,
                                       "customer_external_id": other.external_id})  # fmt: skip

    assert response.status_code == 409
    assert [e["field"] for e in response.json()["errors"]] == ["customer"]
    assert Payment.objects.get().customer == customer


def test_a_stale_version_is_409_with_the_current_payment_and_changes_nothing(org, customer):
    first = put(org.erp, "K3-P-5", body(customer)).json()
    second = put(org.erp, "K3-P-5", body(customer, notes="finance edited")).json()

    stale = put(org.erp, "K3-P-5", body(customer, notes="ERP"),
                HTTP_IF_MATCH=f'"{first["version"]}"')  # fmt: skip
    by_body = put(org.erp, "K3-P-5", body(customer, notes="ERP", version=first["version"]))
    fresh = put(org.erp, "K3-P-5", body(customer, notes="ERP"),
                HTTP_IF_MATCH=f'"{second["version"]}"')  # fmt: skip

    assert (stale.status_code, by_body.status_code) == (409, 409), stale.json()
    assert stale.json()["current"]["notes"] == "finance edited"
    assert stale.json()["current"]["version"] == second["version"]
    assert fresh.status_code == 200, fresh.json()
    assert Payment.objects.get().notes == "ERP"


def test_a_bank_reference_of_another_payment_is_409(org, customer):
    put(org.erp, "K3-P-6", body(customer, bank_reference="BR-6"))

    response = put(org.erp, "K3-P-7", body(customer, bank_reference="BR-6"))

    assert response.status_code == 409
    assert [e["field"] for e in response.json()["errors"]] == ["bank_reference"]
    assert Payment.objects.count() == 1


def test_creating_needs_a_known_customer(org, customer):
    missing = put(org.erp, "K3-P-8", {"amount": "1.00", "received_on": "2026-06-12"})
    unknown = put(org.erp, "K3-P-8", {"customer_external_id": "K3-C-404", "amount": "1.00",
                                      "received_on": "2026-06-12"})  # fmt: skip

    assert (missing.status_code, unknown.status_code) == (400, 400)
    assert [e["field"] for e in missing.json()["errors"]] == ["customer"]
    assert [e["field"] for e in unknown.json()["errors"]] == ["customer_external_id"]
    assert not Payment.objects.exists()


def test_customer_by_its_external_id(org):
    customer = make_customer(org.rep3a, "丙公司", external_id="K3-C-3")
    response = put(org.erp, "K3-P-9", {"customer_external_id": "K3-C-3", "amount": "9.00",
                                       "received_on": "2026-06-12"})  # fmt: skip
    assert response.status_code == 201, response.json()
    assert Payment.objects.get().customer == customer


def test_a_payment_outside_the_scope_is_404_and_a_rep_cannot_record(org, customer):
    put(org.erp, "K3-P-10", body(customer))

    # rep3a's team does not see rep1a's customer's payment; rep1a sees it but cannot record
    outside = put(org.rep3a, "K3-P-10", {"amount": "45000.00", "received_on": "2026-06-12",
                                         "notes": "x"})  # fmt: skip
    own = put(org.rep1a, "K3-P-10", body(customer, notes="x"))
    new = put(org.rep1a, "K3-P-11", body(customer))

    assert (outside.status_code, own.status_code, new.status_code) == (404, 403, 403)
    assert Payment.objects.get().notes == ""
