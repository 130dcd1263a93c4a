"""Visit pages: plan create/edit/move/cancel, record form and list (scope, messages, budget)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.visits.choices import PlanStatus
from apps.visits.models import VisitPlan, VisitRecord
from apps.visits.services import visit_record_create


def test_rep_plans_a_visit_from_the_form(client, org, customers, today):
    client.force_login(org.rep1a)
    assert client.get(f"/visits/plans/new/?date={today:%Y-%m-%d}").status_code == 200
    response = client.post(
        "/visits/plans/new/",
        {
            "customer": customers["1a"].pk,
            "planned_date": f"{today:%Y-%m-%d}",
            "purpose": "order",
            "objectives": "确认订单",
        },
    )
    assert response.status_code == 302
    plan = VisitPlan.objects.get()
    assert (plan.owner, plan.customer, plan.objectives) == (org.rep1a, customers["1a"], "确认订单")


def test_plan_form_without_target_shows_the_error(client, org, today):
    client.force_login(org.rep1a)
    response = client.post(
        "/visits/plans/new/", {"planned_date": f"{today:%Y-%m-%d}", "purpose": "order"}
    )
    assert response.status_code == 400
    assert not VisitPlan.objects.exists()


def test_picker_lists_only_customers_in_scope(client, org, customers):
    client.force_login(org.rep1a)
    html = client.get("/visits/targets/", {"q": "客户"}).content.decode()
    assert customers["1a"].name in html
    assert customers["2a"].name not in html


def test_plan_pages_outside_scope_are_404(client, org, make_plan, today):
    plan = make_plan()
    client.force_login(org.rep2a)
    assert client.get(f"/visits/plans/{plan.pk}/").status_code == 404
    assert client.get(f"/visits/plans/{plan.pk}/edit/").status_code == 404
    assert client.post(f"/visits/plans/{plan.pk}/move/", {"planned_date": today}).status_code == 404
    assert client.post(f"/visits/plans/{plan.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert client.get(f"/visits/records/new/?plan={plan.pk}").status_code == 404


def test_move_answers_json_and_a_refused_move_says_why(client, org, make_plan, today):
    plan = make_plan(days=1)
    client.force_login(org.rep1a)
    ok = client.post(
        f"/visits/plans/{plan.pk}/move/",
        {"planned_date": f"{today + timedelta(days=2):%Y-%m-%d}"},
        HTTP_ACCEPT="application/json",
    )
    assert ok.status_code == 200 and ok.json()["ok"]
    refused = client.post(
        f"/visits/plans/{plan.pk}/move/",
        {"planned_date": f"{today - timedelta(days=1):%Y-%m-%d}"},
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400
    assert "past" in refused.json()["message"]
    assert VisitPlan.objects.get(pk=plan.pk).planned_date == today + timedelta(days=2)


def test_supervisor_of_another_team_cannot_move(client, org, make_plan, today):
    plan = make_plan()
    client.force_login(org.sup2)
    assert client.post(f"/visits/plans/{plan.pk}/move/", {"planned_date": today}).status_code == 404


def test_cancel_without_reason_is_a_message(client, org, make_plan):
    plan = make_plan()
    client.force_login(org.rep1a)
    response = client.post(f"/visits/plans/{plan.pk}/cancel/", {"reason": ""}, follow=True)
    assert response.status_code == 200
    assert list(response.context["messages"])
    assert VisitPlan.objects.get(pk=plan.pk).status == PlanStatus.PLANNED


def test_record_form_logs_the_plans_visit(client, org, make_plan):
    plan = make_plan(days=0)
    client.force_login(org.rep1a)
    page = client.get(f"/visits/records/new/?plan={plan.pk}").content.decode()
    assert 'inputmode="decimal"' in page and 'id="checkin-button"' in page
    started = timezone.localtime() - timedelta(hours=1)
    response = client.post(
        f"/visits/records/new/?plan={plan.pk}",
        {
            "purpose": "order",
            "started_at": started.strftime("%Y-%m-%dT%H:%M"),
            "order_amount": "1200.50",
            "latitude": "31.230416",
            "longitude": "121.473701",
            "location_accuracy_m": "30",
        },
    )
    record = VisitRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/visits/records/{record.pk}/"
    assert VisitPlan.objects.get(pk=plan.pk).status == PlanStatus.DONE
    assert record.is_effective and record.location_accuracy_m == 30


def test_record_pages_outside_scope_are_404(client, org, customers):
    record = visit_record_create(
        by=org.rep1a,
        customer=customers["1a"],
        data={"purpose": "order", "started_at": timezone.now()},
    )
    client.force_login(org.rep2a)
    assert client.get(f"/visits/records/{record.pk}/").status_code == 404
    assert client.get(f"/visits/records/{record.pk}/edit/").status_code == 404
    assert client.get(f"/visits/records/new/?customer={customers['1a'].pk}").status_code == 404


def test_record_list_filters_and_budget(client, org, customers, django_assert_max_num_queries):
    for i in range(25):
        visit_record_create(
            by=org.rep1a,
            customer=customers["1a"],
            data={
                "purpose": "order",
                "started_at": timezone.now() - timedelta(days=i),
                "next_step": "报价" if i % 2 else "",
            },
        )
    visit_record_create(
        by=org.rep2a,
        customer=customers["2a"],
        data={"purpose": "order", "started_at": timezone.now()},
    )
    client.force_login(org.sup1)
    with django_assert_max_num_queries(14):
        html = client.get("/visits/records/").content.decode()
    assert customers["2a"].name not in html
    html = client.get("/visits/records/", {"effective": "on"}).content.decode()
    assert html.count("data-record=") == 12


def test_record_list_pages_without_counting_the_table(client, org, customers):
    # given 31 records in sup1's team: one more than a page
    for i in range(31):
        visit_record_create(
            by=org.rep1a,
            customer=customers["1a"],
            data={"purpose": "order", "started_at": timezone.now() - timedelta(hours=i)},
        )
    client.force_login(org.sup1)
    # when the first page is read, no COUNT(*) of the records is run
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/visits/records/").content.decode()
    assert not [q for q in queries if "COUNT(" in q["sql"] and "visits_visitrecord" in q["sql"]]
    # then the first page has 30 and a link to the next, which has the last one and no next
    assert first.count("data-record=") == 30
    assert 'rel="next"' in first
    second = client.get("/visits/records/", {"page": "2"}).content.decode()
    assert second.count("data-record=") == 1
    assert 'rel="next"' not in second and 'rel="prev"' in second
    # and a page number out of range or not a number shows the first page, never a 500
    for raw in ("0", "-1", "x", "99999999999"):
        assert (
            client.get("/visits/records/", {"page": raw}).content.decode().count("data-record=")
            == 30
        )
