"""Query budgets of the visit lists (issue 10): the calendar (a rep's and a team's week), the
record and weekly report pages, and the plans, records, weekly reports and visit figures of
the API, cost the same number of queries with 2 rows as with 10 of other reps, customers,
leads and opportunities."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from apps.customers.models import Customer
from apps.leads.models import Lead
from apps.opportunities.models import Opportunity
from apps.visits.models import VisitPlan, VisitRecord, WeeklyReport
from apps.visits.selectors import week_start
from tests.budgets import ListCase, Marker
from tests.factories import UserFactory

_numbers = count(1)


def _reps(org) -> tuple:
    return (org.rep1a, org.rep1b, org.rep2a)  # manager1's department; team 1 is 1a and 1b


def _target(owner, i: int) -> dict:
    """What a visit is about, turn by turn: a customer with an open deal, or a lead."""
    k = next(_numbers)
    if i % 2:
        return {"lead": Lead.objects.create(company_name=f"Budget Lead {k}", owner=owner)}
    customer = Customer.objects.create(name=f"Budget Visit Customer {k}", owner=owner)
    deal = Opportunity.objects.create(
        customer=customer, owner=owner, name=f"Deal {k}", stage_entered_at=timezone.now()
    )
    return {"customer": customer, "opportunity": deal}


def _plans(owners, n: int) -> list[VisitPlan]:
    """n plans of `owners` in turn, spread over this week."""
    monday = week_start(timezone.localdate())
    return [
        VisitPlan.objects.create(
            owner=owners[i % len(owners)],
            planned_date=monday + timedelta(days=i % 7),
            route_order=i,
            purpose="order",
            **_target(owners[i % len(owners)], i),
        )
        for i in range(n)
    ]


def _records(owners, n: int) -> list[VisitRecord]:
    """n records of `owners` in turn, this week, every other one logged against a plan."""
    monday = week_start(timezone.localdate())
    records = []
    for i in range(n):
        owner = owners[i % len(owners)]
        target = _target(owner, i)
        plan = (
            VisitPlan.objects.create(owner=owner, planned_date=monday, purpose="order", **target)
            if i % 4 < 2
            else None
        )
        started = timezone.make_aware(datetime.combine(monday, time(9 + i % 8)))
        records.append(
            VisitRecord.objects.create(
                owner=owner,
                plan=plan,
                purpose="order",
                started_at=started,
                order_amount=Decimal("1000.00"),
                **target,
            )
        )
    return records


def add_own_calendar(org, n: int) -> list[Marker]:
    return [plan.get_absolute_url() for plan in _plans((org.rep1a,), n)]


def add_team_calendar(org, n: int) -> list[Marker]:
    return [plan.get_absolute_url() for plan in _plans((org.rep1a, org.rep1b), n)]


def add_record_page(org, n: int) -> list[Marker]:
    return [record.get_absolute_url() for record in _records(_reps(org), n)]


def add_plans(org, n: int) -> list[Marker]:
    return [plan.pk for plan in _plans(_reps(org), n)]


def add_records(org, n: int) -> list[Marker]:
    return [record.pk for record in _records(_reps(org), n)]


def _reports(org, n: int) -> list[WeeklyReport]:
    """n weekly reports of manager1's reps, each of another week, every other one reviewed by
    another supervisor."""
    reps, reviewers = _reps(org), (org.sup1, org.sup2, None)
    monday = week_start(timezone.localdate())
    return [
        WeeklyReport.objects.create(
            owner=reps[i % 3],
            week_start=monday - timedelta(weeks=next(_numbers)),
            due_at=timezone.now(),
            reviewed_by=reviewers[i % 3],
        )
        for i in range(n)
    ]


def add_report_page(org, n: int) -> list[Marker]:
    return [report.get_absolute_url() for report in _reports(org, n)]


def add_reports(org, n: int) -> list[Marker]:
    return [report.pk for report in _reports(org, n)]


def add_figure_reps(org, n: int) -> list[Marker]:
    """n new reps of team 1, each with a plan and a visit this week: a figure row each."""
    names = []
    for _ in range(n):
        k = next(_numbers)
        rep = UserFactory(
            username=f"budget-rep-{k}",
            first_name="Budget",
            last_name=f"Rep{k}",
            role="rep",
            org_unit=org.team1,
        )
        _plans((rep,), 1)
        _records((rep,), 1)
        names.append(f"budget-rep-{k}" if not rep.get_full_name() else rep.get_full_name())
    return names


LISTS = {
    "visits:calendar": ListCase("/visits/", "rep1a", add_own_calendar, budget=4),
    "visits:calendar (team)": ListCase(
        "/visits/", "sup1", add_team_calendar, budget=8, data=lambda org: {"team": org.team1.pk}
    ),
    "visits:record_list": ListCase("/visits/records/", "manager1", add_record_page, budget=5),
    "visits:report_list": ListCase("/visits/reports/", "manager1", add_report_page, budget=4),
    "api:visit-plan-list": ListCase("/api/v1/visit-plans/", "manager1", add_plans, budget=3),
    "api:visit-record-list": ListCase("/api/v1/visit-records/", "manager1", add_records, budget=3),
    "api:weekly-report-list": ListCase(
        "/api/v1/weekly-reports/", "manager1", add_reports, budget=3
    ),
    "api:visit-figures-list": ListCase(
        "/api/v1/visit-figures/",
        "sup1",
        add_figure_reps,
        budget=8,
        data=lambda org: {"team": org.team1.pk},
    ),
}


@pytest.mark.parametrize("name", LISTS)
def test_visit_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
