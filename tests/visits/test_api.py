"""`/api/v1/visit-plans/` and `/api/v1/visit-records/`: scope, transitions, errors."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.visits.choices import PlanStatus
from apps.visits.models import VisitPlan
from tests.api.conftest import assert_problem


def test_create_and_list_plans_in_scope(bearer, org, customers, today, make_plan):
    make_plan(by=org.rep2a, customer=customers["2a"])
    api = bearer(org.rep1a)
    response = api.post(
        "/api/v1/visit-plans/",
        {
            "customer": customers["1a"].pk,
            "planned_date": f"{today:%Y-%m-%d}",
            "purpose": "order",
            "objectives": "签约",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = api.get("/api/v1/visit-plans/").json()
    assert [row["id"] for row in body["results"]] == [response.json()["id"]]


def test_plan_of_another_team_is_404(bearer, org, make_plan):
    plan = make_plan()
    api = bearer(org.rep2a)
    assert_problem(api.get(f"/api/v1/visit-plans/{plan.pk}/"), 404, "not-found")
    assert api.post(f"/api/v1/visit-plans/{plan.pk}/cancel/", {"reason": "x"}).status_code == 404


def test_cancel_without_reason_is_400_naming_the_field(bearer, org, make_plan):
    plan = make_plan()
    response = bearer(org.rep1a).post(
        f"/api/v1/visit-plans/{plan.pk}/cancel/", {"reason": ""}, format="json"
    )
    body = response.json()
    assert response.status_code == 400
    assert {e["field"] for e in body["errors"]} == {"cancel_reason"}


def test_move_and_conflict_when_not_planned(bearer, org, make_plan, today):
    plan = make_plan()
    api = bearer(org.rep1a)
    moved = api.post(
        f"/api/v1/visit-plans/{plan.pk}/move/",
        {"planned_date": f"{today + timedelta(days=3):%Y-%m-%d}"},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["route_order"] == 1
    VisitPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.CANCELLED)
    response = api.post(
        f"/api/v1/visit-plans/{plan.pk}/move/", {"planned_date": f"{today:%Y-%m-%d}"}, format="json"
    )
    assert response.status_code == 409


def test_rep_cannot_plan_for_another_rep_is_403(bearer, org, customers, today):
    response = bearer(org.rep1a).post(
        "/api/v1/visit-plans/",
        {
            "owner": org.rep1b.pk,
            "customer": customers["1b"].pk,
            "planned_date": f"{today:%Y-%m-%d}",
            "purpose": "order",
        },
        format="json",
    )
    assert response.status_code == 403


def test_record_from_plan_completes_it_and_second_is_409(bearer, org, make_plan):
    plan = make_plan(days=0)
    api = bearer(org.rep1a)
    data = {
        "plan": plan.pk,
        "started_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "payment_collected": "500.00",
        "latitude": "31.2",
        "longitude": "121.4",
        "location_accuracy_m": 20,
    }
    response = api.post("/api/v1/visit-records/", data, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["is_effective"] is True
    assert VisitPlan.objects.get(pk=plan.pk).status == PlanStatus.DONE
    assert api.post("/api/v1/visit-records/", data, format="json").status_code == 409


def test_record_with_location_out_of_range_is_400(bearer, org, customers):
    response = bearer(org.rep1a).post(
        "/api/v1/visit-records/",
        {
            "customer": customers["1a"].pk,
            "purpose": "service",
            "started_at": timezone.now().isoformat(),
            "latitude": "95",
            "longitude": "10",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "latitude" in {e["field"] for e in response.json()["errors"]}


def test_record_list_scope_and_update(bearer, org, customers):
    api = bearer(org.rep1a)
    created = api.post(
        "/api/v1/visit-records/",
        {
            "customer": customers["1a"].pk,
            "purpose": "service",
            "started_at": timezone.now().isoformat(),
        },
        format="json",
    ).json()
    assert bearer(org.rep2a).get(f"/api/v1/visit-records/{created['id']}/").status_code == 404
    assert [r["id"] for r in bearer(org.sup1).get("/api/v1/visit-records/").json()["results"]] == [
        created["id"]
    ]
    patched = api.patch(
        f"/api/v1/visit-records/{created['id']}/", {"next_step": "寄样品"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["is_effective"] is True
    assert (
        bearer(org.sup1)
        .patch(f"/api/v1/visit-records/{created['id']}/", {"outcome": "x"}, format="json")
        .status_code
        == 403
    )


def test_plan_list_query_budget(bearer, org, make_plan, django_assert_max_num_queries):
    for i in range(30):
        make_plan(days=i % 6)
    api = bearer(org.admin)
    with django_assert_max_num_queries(12):
        assert len(api.get("/api/v1/visit-plans/").json()["results"]) == 30
