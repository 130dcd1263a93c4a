"""Visit plans: create (scope, who for whom, route order), edit, move, cancel (guard, state)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.errors import Conflict
from apps.leads.models import Lead
from apps.visits.choices import PlanStatus
from apps.visits.models import VisitPlan
from apps.visits.services import (
    visit_plan_cancel,
    visit_plan_create,
    visit_plan_move,
    visit_plan_update,
)

from .conftest import past_plan


def test_new_plans_go_last_in_the_days_route(make_plan):
    # given two plans on one day
    first, second = make_plan(), make_plan()
    # when a third is added
    third = make_plan()
    # then the route is 1, 2, 3
    assert [first.route_order, second.route_order, third.route_order] == [1, 2, 3]


def test_plan_needs_exactly_one_of_customer_or_lead(org, customers, today):
    lead = Lead.objects.create(company_name="线索公司", owner=org.rep1a)
    with pytest.raises(ValidationError) as exc:
        visit_plan_create(
            by=org.rep1a, customer=customers["1a"], lead=lead, planned_date=today, purpose="order"
        )
    assert "customer" in exc.value.message_dict
    with pytest.raises(ValidationError):
        visit_plan_create(by=org.rep1a, planned_date=today, purpose="order")


def test_plan_to_a_lead_in_scope_is_accepted(org, today):
    lead = Lead.objects.create(company_name="线索公司", owner=org.rep1a)
    plan = visit_plan_create(by=org.rep1a, lead=lead, planned_date=today, purpose="develop")
    assert plan.lead == lead and plan.customer is None


def test_rep_cannot_plan_a_visit_to_another_teams_customer(org, customers, today):
    with pytest.raises(ValidationError) as exc:
        visit_plan_create(
            by=org.rep1a, customer=customers["2a"], planned_date=today, purpose="order"
        )
    assert "customer" in exc.value.message_dict


def test_rep_cannot_plan_for_another_rep(org, customers, today):
    with pytest.raises(PermissionDenied):
        visit_plan_create(
            by=org.rep1a,
            owner=org.rep1b,
            customer=customers["1b"],
            planned_date=today,
            purpose="order",
        )


def test_supervisor_plans_for_a_rep_of_the_team_but_not_another_team(org, customers, today):
    plan = visit_plan_create(
        by=org.sup1,
        owner=org.rep1b,
        customer=customers["1b"],
        planned_date=today,
        purpose="service",
    )
    assert plan.owner == org.rep1b
    with pytest.raises(PermissionDenied):
        visit_plan_create(
            by=org.sup1,
            owner=org.rep2a,
            customer=customers["1b"],
            planned_date=today,
            purpose="service",
        )


def test_plan_in_the_past_is_refused(org, customers, today):
    with pytest.raises(ValidationError) as exc:
        visit_plan_create(
            by=org.rep1a,
            customer=customers["1a"],
            planned_date=today - timedelta(days=1),
            purpose="order",
        )
    assert "planned_date" in exc.value.message_dict


def test_opportunity_must_belong_to_the_customer(org, customers, today):
    with pytest.raises(ValidationError) as exc:
        visit_plan_create(
            by=org.rep1a,
            customer=customers["1a"],
            opportunity=999999,
            planned_date=today,
            purpose="order",
        )
    assert "opportunity" in exc.value.message_dict


def test_move_renumbers_both_days_routes(make_plan, org, today):
    # given a day with three plans and the next day with one
    a, b, c = make_plan(days=1), make_plan(days=1), make_plan(days=1)
    d = make_plan(days=2)
    # when b moves to the next day, first in the route
    moved = visit_plan_move(
        plan=b, by=org.rep1a, planned_date=today + timedelta(days=2), route_order=1
    )
    # then the new day is b, d and the old day is a, c numbered 1, 2
    assert moved.planned_date == today + timedelta(days=2)
    order = lambda day: list(  # noqa: E731
        VisitPlan.objects.filter(planned_date=day)
        .order_by("route_order")
        .values_list("pk", "route_order")
    )
    assert order(today + timedelta(days=2)) == [(b.pk, 1), (d.pk, 2)]
    assert order(today + timedelta(days=1)) == [(a.pk, 1), (c.pk, 2)]


def test_move_up_within_the_day(make_plan, org, today):
    a, b = make_plan(), make_plan()
    visit_plan_move(plan=b, by=org.rep1a, planned_date=b.planned_date, route_order=1)
    assert list(VisitPlan.objects.order_by("route_order").values_list("pk", flat=True)) == [
        b.pk,
        a.pk,
    ]


def test_move_to_the_past_is_refused(make_plan, org, today):
    plan = make_plan()
    with pytest.raises(ValidationError) as exc:
        visit_plan_move(plan=plan, by=org.rep1a, planned_date=today - timedelta(days=1))
    assert "planned_date" in exc.value.message_dict
    assert VisitPlan.objects.get(pk=plan.pk).planned_date == plan.planned_date


def test_move_by_another_rep_is_forbidden(make_plan, org, today):
    plan = make_plan()
    with pytest.raises(PermissionDenied):
        visit_plan_move(plan=plan, by=org.rep1b, planned_date=today)


def test_only_planned_plans_move_or_change(make_plan, org, today):
    plan = visit_plan_cancel(plan=make_plan(), by=org.rep1a, reason="客户出差")
    with pytest.raises(Conflict):
        visit_plan_move(plan=plan, by=org.rep1a, planned_date=today)
    with pytest.raises(Conflict):
        visit_plan_update(plan=plan, by=org.rep1a, data={"objectives": "x"})


def test_cancel_needs_a_reason_and_names_the_field(make_plan, org):
    plan = make_plan()
    with pytest.raises(ValidationError) as exc:
        visit_plan_cancel(plan=plan, by=org.rep1a, reason="  ")
    assert "cancel_reason" in exc.value.message_dict
    assert VisitPlan.objects.get(pk=plan.pk).status == PlanStatus.PLANNED


def test_cancel_with_a_reason(make_plan, org):
    plan = visit_plan_cancel(plan=make_plan(), by=org.rep1a, reason="客户临时有会")
    assert (plan.status, plan.cancel_reason) == (PlanStatus.CANCELLED, "客户临时有会")


def test_cancel_a_missed_plan_is_a_conflict(make_plan, org):
    plan = past_plan(make_plan(), 2)
    VisitPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.MISSED)
    with pytest.raises(Conflict):
        visit_plan_cancel(plan=plan, by=org.rep1a, reason="x")


def test_update_changes_date_and_goes_last(make_plan, org, today):
    make_plan(days=3)
    plan = make_plan(days=1)
    plan = visit_plan_update(
        plan=plan,
        by=org.rep1a,
        data={"planned_date": today + timedelta(days=3), "objectives": "签单"},
    )
    assert (plan.route_order, plan.objectives) == (2, "签单")
