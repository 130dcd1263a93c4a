"""`/api/v1/opportunities/` and `/api/v1/stage-settings/`: scope, moves with their errors,
create, PATCH, board, history, query budget."""

from __future__ import annotations

import pytest

from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db
BASE = "/api/v1/opportunities/"


def test_list_is_scoped_and_annotated(org, deal, bearer):
    mine = deal(org.rep1a, Stage.PROPOSAL, "1000.00")
    deal(org.rep2a)
    body = bearer(org.rep1a).get(BASE).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert (body["results"][0]["probability"], body["results"][0]["weighted_amount"]) == (
        60,
        "600.00",
    )


def test_list_query_budget(org, deal, bearer, django_assert_max_num_queries):
    for _ in range(8):
        deal(org.rep1a)
    client = bearer(org.sup1)
    with django_assert_max_num_queries(8):
        response = client.get(BASE, {"search": "客户"})
    assert len(response.json()["results"]) == 8


def test_detail_out_of_scope_is_404(org, deal, bearer):
    other = deal(org.rep2a)
    assert_problem(bearer(org.rep1a).get(f"{BASE}{other.pk}/"), 404, "not-found")


def test_detail_lists_moves_and_stage_history(org, deal, bearer):
    opp = deal(org.rep1a)
    body = bearer(org.rep1a).get(f"{BASE}{opp.pk}/").json()
    assert body["available_transitions"] == ["qualify", "lose"]
    assert [s["stage"] for s in body["stage_history"]] == ["prospecting"]


def test_qualify_moves_the_deal(org, deal, bearer):
    opp = deal(org.rep1a)
    response = bearer(org.rep1a).post(f"{BASE}{opp.pk}/qualify/")
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "qualification"


def test_propose_takes_the_needs_analysis_in_the_same_call(org, deal, bearer):
    opp = deal(org.rep1a, Stage.NEEDS_ANALYSIS)
    client = bearer(org.rep1a)
    body = assert_problem(client.post(f"{BASE}{opp.pk}/propose/", {}, format="json"), 400,
                          "validation-error")  # fmt: skip
    assert body["errors"][0]["field"] == "needs_analysis"
    response = client.post(f"{BASE}{opp.pk}/propose/", {"needs_analysis": "十台"}, format="json")
    assert response.json()["stage"] == "proposal"


def test_wrong_stage_is_409(org, deal, bearer):
    opp = deal(org.rep1a)
    body = assert_problem(bearer(org.rep1a).post(f"{BASE}{opp.pk}/win/"), 409, "conflict")
    assert "Prospecting" in body["detail"]


def test_unmet_requirement_of_the_deal_is_409_naming_it(org, deal, bearer):
    # given a deal whose customer has no decision maker
    opp = deal(org.rep1a, decision_maker=False)
    # when it is qualified, then 409 with the requirement, and the stage is unchanged
    response = bearer(org.rep1a).post(f"{BASE}{opp.pk}/qualify/", HTTP_ACCEPT_LANGUAGE="en")
    body = assert_problem(response, 409, "conflict")
    assert "decision maker" in body["detail"]
    assert Opportunity.objects.get(pk=opp.pk).stage == Stage.PROSPECTING


def test_peer_in_scope_gets_403_and_other_team_404(org, deal, bearer):
    opp = deal(org.rep1a)
    assert_problem(bearer(org.rep2a).post(f"{BASE}{opp.pk}/qualify/"), 404, "not-found")
    Opportunity.objects.filter(pk=opp.pk).update(owner=org.sup1)
    # rep1a no longer owns it and is no head: out of scope
    assert_problem(bearer(org.rep1a).post(f"{BASE}{opp.pk}/qualify/"), 404, "not-found")


def test_lose_needs_reason_and_competitor(org, deal, bearer):
    opp = deal(org.rep1a)
    client = bearer(org.rep1a)
    body = assert_problem(client.post(f"{BASE}{opp.pk}/lose/", {}, format="json"), 400,
                          "validation-error")  # fmt: skip
    assert {e["field"] for e in body["errors"]} == {"lost_reason", "lost_competitor"}
    data = {"lost_reason": "价格", "lost_competitor": "none"}
    response = client.post(f"{BASE}{opp.pk}/lose/", data, format="json")
    assert response.json()["stage"] == "lost"


def test_move_back_needs_a_reason(org, deal, bearer):
    opp = deal(org.rep1a, Stage.QUALIFICATION)
    client = bearer(org.rep1a)
    assert_problem(client.post(f"{BASE}{opp.pk}/move_back/", {}, format="json"), 400,
                   "validation-error")  # fmt: skip
    response = client.post(f"{BASE}{opp.pk}/move_back/", {"reason": "未甄别"}, format="json")
    assert response.json()["stage"] == "prospecting"


def test_create_and_patch(org, bearer):
    from .conftest import make_customer

    customer = make_customer(org.rep1a)
    client = bearer(org.rep1a)
    response = client.post(BASE, {"customer": customer.pk, "name": "新商机", "amount": "500.00"},
                           format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    response = client.patch(f"{BASE}{pk}/", {"amount": "700.00"}, format="json")
    assert response.json()["amount"] == "700.00"


def test_create_for_a_customer_out_of_scope_is_400(org, bearer):
    from .conftest import make_customer

    customer = make_customer(org.rep2a)
    response = bearer(org.rep1a).post(BASE, {"customer": customer.pk, "name": "x"}, format="json")
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "customer"


def test_board_endpoint(org, deal, bearer):
    deal(org.rep1a, Stage.PROPOSAL, "100.00")
    body = bearer(org.rep1a).get(f"{BASE}board/").json()
    proposal = next(c for c in body["columns"] if c["stage"] == "proposal")
    assert (proposal["count"], proposal["total"], proposal["weighted"]) == (1, "100.00", "60.00")


def test_history_subresource(org, deal, bearer):
    opp = deal(org.rep1a)
    response = bearer(org.rep1a).get(f"{BASE}{opp.pk}/history/")
    assert response.status_code == 200 and response.json()


def test_stage_settings_read_only(org, bearer):
    client = bearer(org.rep1a)
    rows = client.get("/api/v1/stage-settings/").json()["results"]
    assert {r["stage"]: r["probability"] for r in rows}["negotiation"] == 80
    assert client.post("/api/v1/stage-settings/", {}).status_code == 405
