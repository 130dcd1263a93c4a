"""Query budgets of the goal lists (issue 10): the targets, plans, adjustments and reviews
pages and API, and the attainment and comparison reports, cost the same number of queries with
2 rows as with 10 of other units, reps, owners and targets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from apps.contracts.models import Contract
from apps.customers.models import Customer
from apps.goals.models import PeriodReview, SalesPlan, Target, TargetAdjustment
from apps.opportunities.models import Opportunity
from tests.budgets import ListCase, Marker
from tests.factories import UserFactory

_numbers = count(1)


def _month(k: int) -> date:
    """The first of a month of its own for the k-th row (targets are one per period and scope)."""
    return date(2000 + k // 12, k % 12 + 1, 1)


def _end(start: date) -> date:
    """The last day of `start`'s month."""
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1) - timedelta(days=1)


def _targets(org, n: int) -> list[Target]:
    """n monthly targets in manager1's department, in turn of a team, of a rep (split from
    the team's) and of the department, set by different people."""
    rows = []
    for i in range(n):
        start = _month(next(_numbers))
        common = {
            "metric": "contract_amount",
            "period_kind": "month",
            "period_start": start,
            "period_end": _end(start),
            "amount": Decimal("1000.00"),
        }
        team = Target.objects.create(
            scope_kind="unit", org_unit=(org.team1, org.team2)[i % 2], created_by=org.sup1, **common
        )
        kind = i % 3
        if kind == 0:
            rows.append(team)
        elif kind == 1:
            rows.append(
                Target.objects.create(
                    scope_kind="rep",
                    user=org.rep1a,
                    org_unit=org.team1,
                    parent=team,
                    created_by=org.manager1,
                    **common,
                )
            )
        else:
            rows.append(
                Target.objects.create(
                    scope_kind="unit", org_unit=org.dept1, created_by=org.admin, **common
                )
            )
    return rows


def add_target_page(org, n: int) -> list[Marker]:
    return [f'data-target="{t.pk}"' for t in _targets(org, n)]


def add_targets(org, n: int) -> list[Marker]:
    return [t.pk for t in _targets(org, n)]


def _plans(org, n: int) -> list[SalesPlan]:
    """n quarterly plans, of team 1 by sup1 and team 2 by sup2 in turn."""
    heads = ((org.sup1, org.team1), (org.sup2, org.team2))
    rows = []
    for i in range(n):
        start = _month(3 * next(_numbers))
        owner, unit = heads[i % 2]
        rows.append(
            SalesPlan.objects.create(
                owner=owner,
                org_unit=unit,
                period_kind="quarter",
                period_start=start,
                period_end=_end(date(start.year, start.month + 2, 1)),
                title=f"Plan {start}",
            )
        )
    return rows


def add_plan_page(org, n: int) -> list[Marker]:
    return [f'data-plan="{p.pk}"' for p in _plans(org, n)]


def add_plans(org, n: int) -> list[Marker]:
    return [p.pk for p in _plans(org, n)]


def _adjustments(org, n: int) -> list[TargetAdjustment]:
    """n adjustments, each of another target, by its rep or the team's supervisor."""
    return [
        TargetAdjustment.objects.create(
            owner=target.user or org.sup1,
            target=target,
            difficulty_report="Lost a tender",
            current_amount=target.amount,
            proposed_amount=Decimal("800.00"),
        )
        for target in _targets(org, n)
    ]


def add_adjustment_page(org, n: int) -> list[Marker]:
    return [f'data-adjustment="{a.pk}"' for a in _adjustments(org, n)]


def add_adjustments(org, n: int) -> list[Marker]:
    return [a.pk for a in _adjustments(org, n)]


def _reviews(org, n: int) -> list[PeriodReview]:
    """n monthly reviews of team 1, team 2 and the department in turn, each of its head."""
    units = ((org.team1, org.sup1), (org.team2, org.sup2), (org.dept1, org.manager1))
    rows = []
    for i in range(n):
        start = _month(next(_numbers))
        unit, head = units[i % 3]
        rows.append(
            PeriodReview.objects.create(
                org_unit=unit,
                owner=head,
                period_kind="month",
                period_start=start,
                period_end=_end(start),
            )
        )
    return rows


def add_review_page(org, n: int) -> list[Marker]:
    return [f'data-review="{r.pk}"' for r in _reviews(org, n)]


def add_reviews(org, n: int) -> list[Marker]:
    return [r.pk for r in _reviews(org, n)]


def add_reps_with_results(org, n: int) -> list[Marker]:
    """n new reps of team 1, each with this month's target and a contract signed today: a
    report row each."""
    today = timezone.localdate()
    start = today.replace(day=1)
    names = []
    for _ in range(n):
        k = next(_numbers)
        rep = UserFactory(
            username=f"budget-goal-rep-{k}",
            first_name="Budget",
            last_name=f"GoalRep{k}",
            role="rep",
            org_unit=org.team1,
        )
        Target.objects.create(
            metric="contract_amount",
            period_kind="month",
            period_start=start,
            period_end=_end(start),
            scope_kind="rep",
            user=rep,
            org_unit=org.team1,
            amount=Decimal("1000.00"),
        )
        customer = Customer.objects.create(name=f"Budget Goal Customer {k}", owner=rep)
        contract = Contract.objects.create(
            number=f"HT-GOAL-{k:06d}",
            title="Contract",
            customer=customer,
            owner=rep,
            amount=Decimal("500.00"),
            signed_on=today,
        )
        Contract.objects.filter(pk=contract.pk).update(status="signed")  # state for the test
        names.append(rep.get_full_name())
    return names


def add_rep_contracts(org, n: int) -> list[Marker]:
    """n contracts of rep1a signed today, each with its own customer, every other one from a
    deal: the documents behind rep1a's actual."""
    today = timezone.localdate()
    numbers = []
    for i in range(n):
        k = next(_numbers)
        customer = Customer.objects.create(name=f"Budget Doc Customer {k}", owner=org.rep1a)
        deal = (
            Opportunity.objects.create(
                customer=customer,
                owner=org.rep1a,
                name=f"Deal {k}",
                stage_entered_at=timezone.now(),
            )
            if i % 2
            else None
        )
        contract = Contract.objects.create(
            number=f"HT-DOC-{k:06d}",
            title="Contract",
            customer=customer,
            owner=org.rep1a,
            opportunity=deal,
            amount=Decimal("500.00"),
            signed_on=today,
        )
        Contract.objects.filter(pk=contract.pk).update(status="signed")  # state for the test
        numbers.append(contract.number)
    return numbers


LISTS = {
    "goals:target_list": ListCase("/goals/targets/", "manager1", add_target_page, budget=3),
    "goals:plan_list": ListCase("/goals/plans/", "manager1", add_plan_page, budget=5),
    "goals:adjustment_list": ListCase(
        "/goals/adjustments/", "manager1", add_adjustment_page, budget=4
    ),
    "goals:review_list": ListCase("/goals/reviews/", "manager1", add_review_page, budget=4),
    "goals:attainment_documents": ListCase(
        "/goals/attainment/documents/",
        "sup1",
        add_rep_contracts,
        budget=7,
        data=lambda org: {"metric": "contract_amount", "rep": org.rep1a.pk},
    ),
    "api:target-list": ListCase("/api/v1/targets/", "manager1", add_targets, budget=3),
    "api:sales-plan-list": ListCase("/api/v1/sales-plans/", "manager1", add_plans, budget=4),
    "api:target-adjustment-list": ListCase(
        "/api/v1/target-adjustments/", "manager1", add_adjustments, budget=4
    ),
    "api:period-review-list": ListCase(
        "/api/v1/period-reviews/", "manager1", add_reviews, budget=4
    ),
    "api:report-attainment-list": ListCase(
        "/api/v1/reports/attainment/", "sup1", add_reps_with_results, budget=10
    ),
    "api:report-comparison-list": ListCase(
        "/api/v1/reports/comparison/",
        "sup1",
        add_reps_with_results,
        budget=6,
        data={"view": "reps"},
    ),
}


@pytest.mark.parametrize("name", LISTS)
def test_goal_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
