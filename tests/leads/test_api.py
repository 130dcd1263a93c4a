"""`/api/v1/leads/` (API.md): capture, dedupe, scope, transitions, history, query budget."""

from __future__ import annotations

import pytest

from apps.leads.models import Lead, LeadTouch
from tests.api.conftest import assert_problem

from .conftest import valid_uscc

URL = "/api/v1/leads/"


def test_create_captures_scores_and_assigns(bearer, org, territories):
    # when the ERP posts a lead
    response = bearer(org.erp).post(
        URL, {"company_name": "上海甲有限公司", "region": "上海", "phone": "13800138000",
              "intent": "high", "channel": "partner-x"}, format="json",
    )  # fmt: skip
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"] == "created"
    assert body["lead"]["source"] == "api"
    assert body["lead"]["owner"]["id"] == org.rep1a.pk
    assert body["lead"]["channel"] == "partner-x"


def test_create_duplicate_answers_the_existing_record(bearer, org, territories, capture):
    original = capture(company_name="上海甲有限公司", region="上海").lead
    response = bearer(org.erp).post(URL, {"company_name": "上海甲股份有限公司"}, format="json")
    assert response.status_code == 200
    assert response.json()["duplicate_of"] == {"kind": "lead", "id": original.pk}
    assert LeadTouch.objects.filter(lead=original).count() == 1


def test_create_with_wrong_credit_code_is_a_field_error(bearer, org):
    response = bearer(org.erp).post(
        URL, {"company_name": "甲", "credit_code": valid_uscc()[:17] + "0"}, format="json"
    )
    body = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["credit_code"]
    assert Lead.objects.count() == 0


def test_create_replays_with_the_same_idempotency_key(bearer, org, territories):
    client = bearer(org.erp, HTTP_IDEMPOTENCY_KEY="lead-1")
    first = client.post(URL, {"company_name": "甲", "region": "上海"}, format="json")
    second = client.post(URL, {"company_name": "甲", "region": "上海"}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert LeadTouch.objects.count() == 0


def test_list_is_scoped_and_searchable(bearer, org, territories, capture):
    # given
    mine = capture(company_name="上海甲科技", region="上海").lead  # rep1a
    capture(company_name="北京乙贸易", region="北京")  # rep2a
    # when
    listing = bearer(org.rep1a).get(URL).json()["results"]
    found = bearer(org.admin).get(URL, {"search": "乙贸"}).json()["results"]
    # then
    assert [row["id"] for row in listing] == [mine.pk]
    assert [row["company_name"] for row in found] == ["北京乙贸易"]


def test_list_filters_by_status_and_grade(bearer, org, territories, capture):
    capture(region="上海")
    capture(region="火星")
    rows = bearer(org.admin).get(URL, {"status": "new", "grade": "D"}).json()["results"]
    assert [row["status"] for row in rows] == ["new"]


def test_list_query_budget_does_not_grow_with_rows(
    bearer, org, territories, capture, django_assert_max_num_queries
):
    for _ in range(30):
        capture(region="上海")
    client = bearer(org.admin)
    with django_assert_max_num_queries(8):
        response = client.get(URL, {"page_size": 50})
    assert len(response.json()["results"]) == 30


@pytest.mark.parametrize("path", ["", "history/"])
def test_lead_outside_scope_is_404(bearer, org, territories, capture, path):
    lead = capture(region="北京").lead  # rep2a's
    response = bearer(org.rep1a).get(f"{URL}{lead.pk}/{path}")
    assert_problem(response, 404, "not-found")


def test_transition_outside_scope_is_404(bearer, org, territories, capture):
    lead = capture(region="北京").lead
    assert_problem(bearer(org.sup1).post(f"{URL}{lead.pk}/contact/"), 404, "not-found")


def test_detail_lists_available_transitions(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    body = bearer(org.rep1a).get(f"{URL}{lead.pk}/").json()
    assert body["available_transitions"] == ["contact", "disqualify", "nurture"]


def test_transition_path_through_the_api(bearer, org, territories, capture):
    lead = capture(region="上海", email="buyer@example.com").lead
    client = bearer(org.rep1a)
    for name in ("contact", "qualify", "convert"):
        response = client.post(f"{URL}{lead.pk}/{name}/", {}, format="json")
        assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "converted"
    assert body["converted_customer"] is not None
    assert body["available_transitions"] == []


def test_wrong_state_is_409(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    response = bearer(org.rep1a).post(f"{URL}{lead.pk}/convert/", {}, format="json")
    assert_problem(response, 409, "conflict")


def test_disqualify_without_reason_is_400(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    response = bearer(org.rep1a).post(f"{URL}{lead.pk}/disqualify/", {}, format="json")
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "reason"


def test_rep_reassign_is_403(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    response = bearer(org.rep1a).post(
        f"{URL}{lead.pk}/reassign/", {"owner": org.rep1b.pk, "reason": "x"}, format="json"
    )
    assert_problem(response, 403, "permission-denied")


def test_supervisor_reassigns_through_the_api(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    response = bearer(org.sup1).post(
        f"{URL}{lead.pk}/reassign/", {"owner": org.rep1b.pk, "reason": "Load"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == org.rep1b.pk


def test_patch_updates_and_rescores(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    response = bearer(org.rep1a).patch(f"{URL}{lead.pk}/", {"intent": "high"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["score"] == lead.score + 25


def test_history_lists_changes(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    response = bearer(org.rep1a).get(f"{URL}{lead.pk}/history/")
    assert response.status_code == 200
    assert response.json()[-1]["action"] == "insert"
