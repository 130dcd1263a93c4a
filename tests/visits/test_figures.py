"""Visit figures (apps.visits.figures) on hand-made plans and records with known answers, their
scope, and their query budget."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.customers.models import Customer
from apps.visits import figures
from apps.visits.choices import PlanStatus, VisitPurpose
from apps.visits.models import VisitPlan, VisitRecord

pytestmark = pytest.mark.django_db

MON = date(2026, 11, 2)  # a Monday
NEXT_MON = MON + timedelta(days=7)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def make_customer(owner, name: str = "Acme", **kwargs) -> Customer:
    return Customer.objects.create(owner=owner, name=name, **kwargs)


def make_plan(owner, customer, day: date, status: str = PlanStatus.PLANNED) -> VisitPlan:
    plan = VisitPlan.objects.create(
        owner=owner, customer=customer, planned_date=day, purpose=VisitPurpose.SERVICE
    )
    if status != PlanStatus.PLANNED:
        # FSM fields are protected: set the state in the database, as the services would.
        VisitPlan.objects.filter(pk=plan.pk).update(status=status)
    return plan


def make_record(owner, customer, started: datetime, *, plan=None, **kwargs) -> VisitRecord:
    return VisitRecord.objects.create(
        owner=owner, customer=customer, started_at=started, plan=plan,
        purpose=VisitPurpose.SERVICE, **kwargs,
    )  # fmt: skip


@pytest.fixture
def week(org):
    """rep1a's week: 5 plans (2 done, 1 missed, 1 open, 1 cancelled) plus one from the week
    before; 4 visits (3 effective: an order, a payment, a next step; one with nothing) to 2
    customers and one to a lead-less second customer; rep1b one visit; rep2a one visit."""
    a, b = make_customer(org.rep1a, "A"), make_customer(org.rep1a, "B")
    p1 = make_plan(org.rep1a, a, MON, PlanStatus.DONE)
    p2 = make_plan(org.rep1a, b, MON + timedelta(days=1), PlanStatus.DONE)
    make_plan(org.rep1a, a, MON + timedelta(days=2), PlanStatus.MISSED)
    make_plan(org.rep1a, b, MON + timedelta(days=6), PlanStatus.PLANNED)
    make_plan(org.rep1a, a, MON + timedelta(days=3), PlanStatus.CANCELLED)
    make_plan(org.rep1a, a, MON - timedelta(days=1), PlanStatus.DONE)  # last week
    make_record(org.rep1a, a, at(MON), plan=p1, order_amount=Decimal("1000.00"))
    make_record(org.rep1a, b, at(MON + timedelta(days=1)), plan=p2,
                payment_collected=Decimal("250.50"))  # fmt: skip
    make_record(org.rep1a, a, at(MON + timedelta(days=4)), next_step="Send the quote")
    make_record(org.rep1a, a, at(MON + timedelta(days=6), 23))  # Sunday 23:00: in the week
    make_record(org.rep1a, a, at(NEXT_MON, 0), order_amount=Decimal("5"))  # next week
    make_record(org.rep1b, make_customer(org.rep1b, "C"), at(MON + timedelta(days=2)))
    make_record(org.rep2a, make_customer(org.rep2a, "D"), at(MON + timedelta(days=2)),
                payment_collected=Decimal("10.00"))  # fmt: skip
    return a, b


def test_rep_figures_have_the_known_answers(org, week):
    # when the rep's figures for the week are computed
    f = figures.owner_figures(user=org.rep1a, start=MON, end=NEXT_MON)[org.rep1a.pk]

    # then plans exclude the cancelled one and other weeks; execution = done / (done + missed)
    assert (f.plans, f.done, f.missed, f.open_plans) == (4, 2, 1, 1)
    assert f.execution_rate == pytest.approx(2 / 3, abs=1e-4)
    # and visits are the records started in [Monday 00:00, next Monday 00:00) local time
    assert (f.visits, f.effective) == (4, 3)
    assert f.effective_rate == 0.75
    assert f.customers == 2
    assert f.visits_per_customer == 2.0
    assert f.collections == Decimal("250.50")
    assert f.orders == Decimal("1000.00")


def test_rates_are_none_without_a_denominator(org):
    # given nothing at all
    f = figures.Figures()

    # then no rate is invented
    assert f.execution_rate is None
    assert f.effective_rate is None
    assert f.visits_per_customer is None


def test_rep_sees_only_own_figures(org, week):
    # when rep1b asks for figures
    result = figures.owner_figures(user=org.rep1b, start=MON, end=NEXT_MON)

    # then only rep1b's row is there
    assert set(result) == {org.rep1b.pk}


def test_rep_of_another_team_gets_nothing_for_team1(org, week):
    # when rep3a narrows the figures to team1's reps
    result = figures.owner_figures(
        user=org.rep3a, start=MON, end=NEXT_MON, owner_ids=[org.rep1a.pk, org.rep1b.pk]
    )

    # then nothing
    assert result == {}


def test_team_row_adds_up_its_reps(org, week):
    # when manager1 (heads dept1) looks at the figures
    result = figures.visit_figures(user=org.manager1, start=MON, end=NEXT_MON)

    # then there is a row per team of dept1, adding up its reps
    rows = {r.name: r.figures for r in result.units}
    assert set(rows) == {"Team 1", "Team 2"}
    assert rows["Team 1"].visits == 5  # rep1a 4 + rep1b 1
    assert rows["Team 1"].effective == 3
    assert rows["Team 2"].collections == Decimal("10.00")
    assert result.total.visits == 6
    # and team3 (dept2) is not in manager1's figures
    assert all(r.unit.pk != org.team3.pk for r in result.units)


def test_supervisor_drills_straight_into_own_team(org, week):
    # when sup1 opens the figures
    result = figures.visit_figures(user=org.sup1, start=MON, end=NEXT_MON)

    # then the rows are team1's reps
    assert result.team == org.team1
    names = {r.owner.username: r.figures.visits for r in result.reps}
    assert names == {"rep1a": 4, "rep1b": 1}


def test_not_visited_lists_never_and_long_ago_visited_customers(org):
    # given three customers of rep1a: visited 40 days ago, 5 days ago, never
    now = timezone.now()
    old = make_customer(org.rep1a, "Old")
    recent = make_customer(org.rep1a, "Recent")
    never = make_customer(org.rep1a, "Never")
    make_record(org.rep1a, old, now - timedelta(days=40))
    make_record(org.rep1a, old, now - timedelta(days=45))
    make_record(org.rep1a, recent, now - timedelta(days=5))
    make_customer(org.rep2a, "Other team")

    # when rep1a lists customers not visited in 30 days
    rows = list(figures.not_visited_customers(user=org.rep1a, days=30))

    # then never-visited comes first, then the oldest last visit; recent and others' are out
    assert [c.name for c in rows] == ["Never", "Old"]
    assert figures.days_since(rows[1].last_visit, now=now) == 40
    assert rows[0].last_visit is None
    assert figures.not_visited_counts(user=org.sup1, days=30) == {org.rep1a.pk: 2}
    assert recent.pk not in {c.pk for c in rows} and never.pk in {c.pk for c in rows}


def test_figures_query_count_does_not_grow_with_reps(org, week, django_assert_max_num_queries):
    # given more reps with visits in team1
    from tests.factories import UserFactory

    for i in range(8):
        rep = UserFactory(username=f"extra{i}", role="rep", org_unit=org.team1)
        make_record(rep, make_customer(rep, f"X{i}"), at(MON + timedelta(days=1)))

    # when the admin opens the company figures
    with django_assert_max_num_queries(7):
        result = figures.visit_figures(user=org.admin, start=MON, end=NEXT_MON)

    # then every rep's visit is counted
    assert result.total.visits == 6 + 8
