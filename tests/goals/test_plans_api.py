"""`/api/v1/sales-plans/` and `/api/v1/target-adjustments/`: create, update in draft, submit,
withdraw, errors as problem+json, scope 404s and query budgets."""

from __future__ import annotations

from decimal import Decimal

from rest_framework.test import APIClient

from apps.approvals.services import approval_approve, approval_request_for
from apps.goals.choices import Metric
from apps.goals.models import SalesPlan, TargetAdjustment
from apps.goals.plans import PlanLine, adjustment_create

from .test_plans import CA, approve_plan, live_target, make_plan

PLANS = "/api/v1/sales-plans/"
ADJUSTMENTS = "/api/v1/target-adjustments/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def plan_body(org, **extra):
    return {
        "org_unit": org.team1.pk,
        "period_kind": "quarter",
        "day": "2031-05-10",
        "problems": "Too few new customers",
        "expense_budget": "8000.00",
        "targets": [
            {"metric": CA, "amount": "1000"},
            {"metric": CA, "user": org.rep1a.pk, "amount": "700"},
            {"metric": CA, "user": org.rep1b.pk, "amount": "300"},
        ],
        **extra,
    }


def test_create_update_submit_and_approve_a_plan_over_the_api(org):
    client = api(org.sup1)
    created = client.post(PLANS, plan_body(org), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["available_transitions"] == ["submit"]
    assert len(body["targets"]) == 3 and body["period_start"] == "2031-04-01"
    pk = body["id"]
    # a partial update of a section keeps the grid
    patched = client.patch(f"{PLANS}{pk}/", {"training_plan": "Negotiation course"}, format="json")
    assert patched.status_code == 200 and len(patched.json()["targets"]) == 3
    submitted = client.post(f"{PLANS}{pk}/submit/", {}, format="json")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "pending"
    assert submitted.json()["available_transitions"] == ["withdraw"]
    # editing while pending is a 409
    assert client.patch(f"{PLANS}{pk}/", {"problems": "x"}, format="json").status_code == 409
    approval_approve(request=approval_request_for(SalesPlan.objects.get(pk=pk)), by=org.manager1)
    detail = client.get(f"{PLANS}{pk}/").json()
    assert detail["status"] == "approved"
    assert {t["status"] for t in detail["targets"]} == {"active"}


def test_rep_lines_not_adding_up_are_400_naming_the_metric(org):
    body = plan_body(org)
    body["targets"][2]["amount"] = "200"
    response = api(org.sup1).post(PLANS, body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert errors[0]["field"] == "targets"
    assert str(Metric.CONTRACT_AMOUNT.label) in errors[0]["message"]


def test_a_rep_creating_a_plan_is_403(org):
    response = api(org.rep1a).post(PLANS, plan_body(org), format="json")
    assert response.status_code == 403
    assert not SalesPlan.objects.exists()


def test_bad_period_is_400_naming_the_field(org):
    response = api(org.sup1).post(PLANS, plan_body(org, period_kind="decade"), format="json")
    assert response.status_code == 400
    assert "period_kind" in {e["field"] for e in response.json()["errors"]}


def test_another_teams_plan_is_404_over_the_api(org):
    plan = make_plan(org)
    for user in (org.sup2, org.manager2, org.rep1a):
        client = api(user)
        assert client.get(f"{PLANS}{plan.pk}/").status_code == 404
        assert client.post(f"{PLANS}{plan.pk}/submit/", {}).status_code == 404
        assert client.patch(f"{PLANS}{plan.pk}/", {"problems": "x"}).status_code == 404
    assert plan.pk not in {p["id"] for p in api(org.sup2).get(PLANS).json()["results"]}
    assert api(org.manager1).get(f"{PLANS}{plan.pk}/").status_code == 200


def test_someone_else_in_scope_cannot_submit_the_plan(org):
    plan = make_plan(org)
    assert api(org.manager1).post(f"{PLANS}{plan.pk}/submit/", {}).status_code == 403


def test_plan_list_queries_stay_constant(org, django_assert_max_num_queries):
    make_plan(org)
    client = api(org.manager1)
    with django_assert_max_num_queries(10) as few:
        assert client.get(PLANS).status_code == 200
    for _ in range(8):
        make_plan(org)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PLANS)
    assert len(response.json()["results"]) == 9


# --- adjustments ----------------------------------------------------------------------------


def approved_rep_target(org):
    plan = make_plan(org)
    approve_plan(org, plan)
    return live_target(CA, user=org.rep1a)


def test_adjustment_create_submit_and_approval_over_the_api(org):
    target = approved_rep_target(org)
    client = api(org.rep1a)
    created = client.post(
        ADJUSTMENTS,
        {"target": target.pk, "proposed_amount": "50000", "difficulty_report": "Lost a tender"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["available_transitions"] == ["submit"]
    assert client.post(f"{ADJUSTMENTS}{pk}/submit/", {}).json()["status"] == "pending"
    approval_approve(
        request=approval_request_for(TargetAdjustment.objects.get(pk=pk)), by=org.manager1
    )
    detail = client.get(f"{ADJUSTMENTS}{pk}/").json()
    assert detail["status"] == "approved"
    versions = detail["target"]["versions"]
    assert [(v["version"], v["changed_by"]["id"]) for v in versions] == [
        (1, org.manager1.pk),
        (2, org.manager1.pk),
    ]
    assert versions[1]["reason"] == "Lost a tender" and versions[1]["adjustment"] == pk


def test_adjustment_bad_input_is_400_naming_the_field(org):
    target = approved_rep_target(org)
    client = api(org.rep1a)
    negative = client.post(
        ADJUSTMENTS,
        {"target": target.pk, "proposed_amount": "-1", "difficulty_report": "x"},
        format="json",
    )
    assert negative.status_code == 400
    assert "proposed_amount" in {e["field"] for e in negative.json()["errors"]}
    empty = client.post(
        ADJUSTMENTS,
        {"target": target.pk, "proposed_amount": "1", "difficulty_report": ""},
        format="json",
    )
    assert empty.status_code == 400
    assert "difficulty_report" in {e["field"] for e in empty.json()["errors"]}


def test_a_second_open_adjustment_is_409_over_the_api(org):
    target = approved_rep_target(org)
    body = {"target": target.pk, "proposed_amount": "1", "difficulty_report": "x"}
    assert api(org.rep1a).post(ADJUSTMENTS, body, format="json").status_code == 201
    assert api(org.sup1).post(ADJUSTMENTS, body, format="json").status_code == 409


def test_another_teams_adjustment_and_target_are_404_over_the_api(org):
    target = approved_rep_target(org)
    adjustment = adjustment_create(
        by=org.rep1a, target=target, proposed_amount="1", difficulty_report="x"
    )
    for user in (org.rep1b, org.sup2, org.manager2):
        client = api(user)
        assert client.get(f"{ADJUSTMENTS}{adjustment.pk}/").status_code == 404
        assert client.post(f"{ADJUSTMENTS}{adjustment.pk}/submit/", {}).status_code == 404
        created = client.post(
            ADJUSTMENTS,
            {"target": target.pk, "proposed_amount": "2", "difficulty_report": "y"},
            format="json",
        )
        assert created.status_code == 404
    assert api(org.manager1).get(f"{ADJUSTMENTS}{adjustment.pk}/").status_code == 200


def test_adjustment_list_queries_stay_constant(org, django_assert_max_num_queries):
    target = approved_rep_target(org)
    adjustment_create(by=org.rep1a, target=target, proposed_amount="1", difficulty_report="x")
    client = api(org.manager1)
    with django_assert_max_num_queries(10) as few:
        assert client.get(ADJUSTMENTS).status_code == 200
    for metric in ("visits", "effective_visits", "new_customers", "collected"):
        plan = make_plan(org, grid=[PlanLine(metric, Decimal("10"), org.rep1a.pk)])
        approve_plan(org, plan)
        adjustment_create(by=org.rep1a, target=plan.targets.get(), proposed_amount="5",
                          difficulty_report="x")  # fmt: skip
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(ADJUSTMENTS)
    assert len(response.json()["results"]) == 5
