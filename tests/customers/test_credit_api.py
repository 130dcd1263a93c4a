"""Credit over the API and the pages: investigations, limit requests (+ submit), credit hold
and release by finance only, with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from apps.approvals.services import approval_approve, approval_request_for
from apps.customers.models import CreditLimitRequest, Customer

from .conftest import api

SCORES = {
    "registered_capital": 85,
    "years_in_business": 85,
    "payment_record": 85,
    "legal_disputes": 85,
    "financial_standing": 85,
    "references": 85,
}


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_investigation_completed_over_the_api_rates_the_customer(org, customer):
    client = api(org.rep1a)
    created = client.post("/api/v1/credit-investigations/", {"customer": customer.pk, **SCORES})
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    done = client.post(f"/api/v1/credit-investigations/{pk}/complete/", {})
    assert done.status_code == 200, done.json()
    assert (done.json()["rating"], done.json()["total_score"]) == ("AA", "85.00")
    assert Customer.objects.get(pk=customer.pk).credit_rating == "AA"
    [draft] = client.get(f"/api/v1/credit-limit-requests/?customer={customer.pk}").json()["results"]
    assert (draft["requested_limit"], draft["status"]) == ("500000.00", "draft")
    assert client.post(f"/api/v1/credit-investigations/{pk}/complete/", {}).status_code == 409


def test_score_above_100_is_a_field_error(org, customer):
    response = api(org.rep1a).post(
        "/api/v1/credit-investigations/", {"customer": customer.pk, "payment_record": 101}
    )
    assert response.status_code == 400
    assert "payment_record" in {e["field"] for e in response.json()["errors"]}


def test_limit_request_submit_approve_and_edit_lock_over_the_api(org, customer):
    client = api(org.rep1a)
    body = {
        "customer": customer.pk,
        "requested_limit": "80000.00",
        "payment_term_days": 30,
        "reason": "Q3",
    }
    created = client.post("/api/v1/credit-limit-requests/", body)
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["available_transitions"] == ["submit"]
    submitted = client.post(f"/api/v1/credit-limit-requests/{pk}/submit/", {})
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending"
    assert client.patch(f"/api/v1/credit-limit-requests/{pk}/", {"reason": "x"}).status_code == 409
    assert api(org.rep1a).get(f"/api/v1/customers/{customer.pk}/").json()["credit_limit"] == (
        "0.00"
    )
    request = approval_request_for(CreditLimitRequest.objects.get(pk=pk))
    approval_approve(request=request, by=org.sup1)
    approval_approve(request=request, by=org.manager1)
    assert api(org.rep1a).get(f"/api/v1/customers/{customer.pk}/").json()["credit_limit"] == (
        "80000.00"
    )


def test_out_of_scope_limit_request_is_404(org, customer):
    body = {"customer": customer.pk, "requested_limit": "1", "payment_term_days": 1, "reason": "x"}
    pk = api(org.rep1a).post("/api/v1/credit-limit-requests/", body).json()["id"]
    assert api(org.rep2a).get(f"/api/v1/credit-limit-requests/{pk}/").status_code == 404
    assert api(org.rep2a).post(f"/api/v1/credit-limit-requests/{pk}/submit/", {}).status_code == (
        404
    )
    assert api(org.finance).get(f"/api/v1/credit-limit-requests/{pk}/").status_code == 200


def test_finance_holds_and_releases_over_the_api(org, customer):
    client = api(org.finance)
    held = client.post(f"/api/v1/customers/{customer.pk}/credit-hold/", {"reason": "Overdue"})
    assert held.status_code == 200, held.json()
    assert held.json()["on_credit_hold"] is True
    released = client.post(f"/api/v1/customers/{customer.pk}/credit-release/", {"reason": "Paid"})
    assert released.status_code == 200 and released.json()["on_credit_hold"] is False


@pytest.mark.parametrize("who", ["rep1a", "sup1", "manager1", "admin"])
def test_credit_hold_is_finance_only_over_the_api(org, customer, who):
    response = api(getattr(org, who)).post(
        f"/api/v1/customers/{customer.pk}/credit-hold/", {"reason": "x"}
    )
    assert response.status_code == 403
    assert not Customer.objects.get(pk=customer.pk).on_credit_hold


def test_credit_hold_without_a_reason_is_a_field_error(org, customer):
    response = api(org.finance).post(f"/api/v1/customers/{customer.pk}/credit-hold/", {})
    assert response.status_code == 400
    assert "reason" in {e["field"] for e in response.json()["errors"]}


# --- pages --------------------------------------------------------------------------------


def test_credit_buttons_follow_the_role(org, customer):
    rep_page = _login(org.rep1a).get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="credit-limit-apply"' in rep_page and 'id="credit-investigate"' in rep_page
    assert 'id="credit-hold"' not in rep_page
    finance_page = _login(org.finance).get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="credit-hold"' in finance_page


def test_finance_holds_on_the_page_and_an_empty_reason_is_a_field_error(org, customer):
    client = _login(org.finance)
    url = f"/customers/{customer.pk}/credit-hold/"
    refused = client.post(url, {"reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200
    assert 'id="credit-hold-reason-error"' in refused.content.decode()
    assert not Customer.objects.get(pk=customer.pk).on_credit_hold
    done = client.post(url, {"reason": "Overdue"}, HTTP_HX_REQUEST="true")
    assert 'id="credit-release"' in done.content.decode()
    assert Customer.objects.get(pk=customer.pk).on_credit_hold


def test_a_rep_cannot_hold_on_the_page(org, customer):
    response = _login(org.rep1a).post(f"/customers/{customer.pk}/credit-hold/", {"reason": "x"})
    assert response.status_code == 403
    assert not Customer.objects.get(pk=customer.pk).on_credit_hold


def test_limit_request_form_and_detail_with_the_approval_panel(org, customer):
    client = _login(org.rep1a)
    response = client.post(
        f"/customers/{customer.pk}/credit-limit/new/",
        {"requested_limit": "", "payment_term_days": "30", "reason": ""},
    )
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    response = client.post(
        f"/customers/{customer.pk}/credit-limit/new/",
        {"requested_limit": "60000", "payment_term_days": "30", "reason": "Q3"},
    )
    limit_request = CreditLimitRequest.objects.get(customer=customer)
    assert response.status_code == 302 and response.url == limit_request.get_absolute_url()
    detail = client.get(limit_request.get_absolute_url())
    assert detail.status_code == 200
    assert limit_request.requested_limit == Decimal("60000.00")
    assert _login(org.rep2a).get(limit_request.get_absolute_url()).status_code == 404


def test_investigation_page_completes_and_rates(org, customer):
    response = _login(org.rep1a).post(
        f"/customers/{customer.pk}/credit-investigation/", {**SCORES, "complete": "1"}
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).credit_rating == "AA"
