"""The KPI metric calculators (`apps.incentives.kpi`) on hand-made documents with known answers:
the attainments against each person's targets (the goals actuals: June 2026 of
tests.goals.test_actuals), new customers as an attainment or a count, the effective visit rate,
the collection rate and overdue ratio (the receivables figures of May 2026 of
tests.receivables.test_figures), the visit plan execution rate, the lead SLA compliance and the
customer satisfaction; a supervisor measured on the unit he heads; nothing to measure gives no
value; the queries do not grow with the people measured."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from apps.customers.models import Customer
from apps.goals.choices import Metric
from apps.goals.periods import period_of
from apps.incentives import kpi
from apps.incentives.choices import KpiMetric, SurveyStatus, SurveyTrigger
from apps.incentives.models import SatisfactionSurvey
from apps.leads.models import Lead
from apps.visits.models import VisitPlan
from tests.factories import UserFactory
from tests.goals.test_actuals import june_documents
from tests.goals.test_attainment import target
from tests.receivables.conftest import second_finance  # noqa: F401 (the `may` fixture's)
from tests.receivables.test_figures import MAY, may  # noqa: F401 (fixture)

from .test_scorecards import june_targets

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
JUNE = period_of("month", date(2026, 6, 1))
_tokens = count(1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def subjects(org, *users, heads: bool = False) -> list[kpi.Subject]:
    ctx = kpi.Context(JUNE)
    return kpi.subjects_of(ctx, [(u.pk, u.org_unit_id) for u in users], on_their_units=heads)


def measured(metric: str, org, *users, period=JUNE, heads=False) -> dict[int, kpi.Measure]:
    ctx = kpi.Context(period)
    people = kpi.subjects_of(ctx, [(u.pk, u.org_unit_id) for u in users], on_their_units=heads)
    return kpi.measure(period, people, [metric], ctx=ctx)[metric]


def triple(m: kpi.Measure) -> tuple:
    return (m.numerator, m.denominator, m.value)


@pytest.fixture
def june(org, time_machine):
    documents = june_documents(org, time_machine)
    june_targets(org)
    return documents


# --- attainments --------------------------------------------------------------------------------


def test_contract_attainment_of_reps_against_their_targets(org, june):
    result = measured(KpiMetric.CONTRACT_ATTAINMENT, org, org.rep1a, org.rep1b, org.rep3a)
    # rep1a: 3,000 of 4,000
    assert triple(result[org.rep1a.pk]) == (D("3000.00"), D("4000.00"), D("75.0"))
    # rep1b had a target in each team he was in: 768,000 of 2,000 + 600,000 = 127.6 %
    assert triple(result[org.rep1b.pk]) == (D("768000.00"), D("602000.00"), D("127.6"))
    # rep3a has no target: nothing to measure (what he did is still told)
    assert triple(result[org.rep3a.pk]) == (D("0"), None, None)


def test_collection_attainment_reads_the_collected_amount(org, june):
    target(Metric.COLLECTED, "400.00", unit=org.team1, user=org.rep1a)
    result = measured(KpiMetric.COLLECTION_ATTAINMENT, org, org.rep1a, org.rep2a)
    # P1's 100 (its other 200 was taken back) of 400
    assert triple(result[org.rep1a.pk]) == (D("100.00"), D("400.00"), D("25.0"))
    assert result[org.rep2a.pk].value is None  # 500 collected, but no target


def test_a_zero_target_is_nothing_to_measure(org, june):
    target(Metric.COLLECTED, "0.00", unit=org.team1, user=org.rep1a)
    assert measured(KpiMetric.COLLECTION_ATTAINMENT, org, org.rep1a)[org.rep1a.pk].value is None


def test_supervisor_is_measured_on_the_unit_he_heads(org, june):
    result = measured(KpiMetric.CONTRACT_ATTAINMENT, org, org.sup1, org.manager1, heads=True)
    # team 1: rep1a's 3,000 (rep1b's June contracts in team 1: only the terminated C5)
    assert triple(result[org.sup1.pk]) == (D("3000.00"), D("10000.00"), D("30.0"))
    # dept 1 has no target of its own: the sum of its parts' (team 1's 10,000 and rep1b's
    # 600,000 set in team 2), against the department's 803,000
    assert triple(result[org.manager1.pk]) == (D("803000.00"), D("610000.00"), D("131.6"))


def test_head_of_nothing_is_measured_on_his_own_documents(org, june):
    loner = UserFactory(username="loner", role="supervisor", org_unit=org.team1)
    assert (
        kpi.subjects_of(kpi.Context(JUNE), [(loner.pk, org.team1.pk)], on_their_units=True)[
            0
        ].headed
        == ()
    )


def test_new_customers_are_an_attainment_with_a_target_else_a_count(org, june):
    target(Metric.NEW_CUSTOMERS, "2", unit=org.team1, user=org.rep1a)
    result = measured(KpiMetric.NEW_CUSTOMERS, org, org.rep1a, org.rep1b, org.rep2a)
    assert triple(result[org.rep1a.pk]) == (D("1"), D("2"), D("50.0"))  # A's first contract
    assert triple(result[org.rep1b.pk]) == (D("2"), None, D("2"))  # D and G, no target
    assert triple(result[org.rep2a.pk]) == (D("0"), None, D("0"))  # nothing new: 0, a value


def test_effective_visit_rate_of_reps_and_of_a_team(org, june):
    result = measured(KpiMetric.EFFECTIVE_VISIT_RATE, org, org.rep1a, org.rep3a, org.rep2a)
    assert triple(result[org.rep1a.pk]) == (D("1"), D("2"), D("50.0"))  # V3 of V1, V3
    assert triple(result[org.rep3a.pk]) == (D("1"), D("1"), D("100.0"))  # V7
    assert result[org.rep2a.pk].value is None  # no visit: nothing to measure
    # team 1: V1, V3 (rep1a) and V5 (rep1b, the day before his move); V3 and V5 effective
    team = measured(KpiMetric.EFFECTIVE_VISIT_RATE, org, org.sup1, heads=True)
    assert triple(team[org.sup1.pk]) == (D("2"), D("3"), D("66.7"))


# --- receivables --------------------------------------------------------------------------------


def test_collection_rate_and_overdue_ratio_are_the_receivables_figures(org, may):  # noqa: F811
    month = period_of("month", MAY[0])
    rate = measured(KpiMetric.COLLECTION_RATE, org, org.rep1a, org.rep1b, period=month)
    # collected 2,400 of 4,300 to collect (tests.receivables.test_figures)
    assert triple(rate[org.rep1a.pk]) == (D("2400.00"), D("4300.00"), D("55.8"))
    assert rate[org.rep1b.pk].value is None  # nothing to collect
    overdue = measured(KpiMetric.OVERDUE_RATIO, org, org.rep1a, period=month)
    assert triple(overdue[org.rep1a.pk]) == (D("1100.00"), D("1400.00"), D("78.6"))
    # sup1's team: only rep1a has receivables, so the same sums
    team = measured(KpiMetric.COLLECTION_RATE, org, org.sup1, period=month, heads=True)
    assert triple(team[org.sup1.pk]) == (D("2400.00"), D("4300.00"), D("55.8"))
    # sup2's team has none
    assert (
        measured(KpiMetric.COLLECTION_RATE, org, org.sup2, period=month, heads=True)[
            org.sup2.pk
        ].value
        is None
    )


# --- visit plans, leads, surveys ------------------------------------------------------------


def plan(owner, customer, day: date, status: str) -> VisitPlan:
    made = VisitPlan.objects.create(owner=owner, customer=customer, planned_date=day,
                                    purpose="order")  # fmt: skip
    VisitPlan.objects.filter(pk=made.pk).update(status=status)
    return made


def test_plan_execution_rate_is_done_over_plans_not_cancelled(org):
    customer = Customer.objects.create(name="计划客户", owner=org.rep1a)
    for day, status in ((1, "done"), (10, "done"), (30, "done"), (12, "missed"), (29, "planned"),
                        (15, "cancelled")):  # fmt: skip
        plan(org.rep1a, customer, date(2026, 6, day), status)
    plan(org.rep1a, customer, date(2026, 7, 1), "done")  # July
    plan(org.rep1a, customer, date(2026, 5, 31), "missed")  # May
    plan(org.rep1b, customer, date(2026, 6, 3), "done")
    result = measured(KpiMetric.PLAN_EXECUTION_RATE, org, org.rep1a, org.rep2a)
    # 3 done of 5 (the cancelled one does not count; the one still open counts against)
    assert triple(result[org.rep1a.pk]) == (D("3"), D("5"), D("60.0"))
    assert result[org.rep2a.pk].value is None
    # team 1 (rep1a and rep1b): 4 of 6
    team = measured(KpiMetric.PLAN_EXECUTION_RATE, org, org.sup1, heads=True)
    assert triple(team[org.sup1.pk]) == (D("4"), D("6"), D("66.7"))


def lead(owner, due: datetime, answered: datetime | None) -> Lead:
    return Lead.objects.create(
        company_name=f"线索{next(_tokens)}", source="api", owner=owner,
        first_response_due_at=due, first_responded_at=answered,
    )  # fmt: skip


def test_lead_sla_compliance_is_answered_in_time_over_due_in_the_period(org):
    due = at(2026, 6, 10, 12, 0)
    lead(org.rep1a, due, due - timedelta(hours=1))  # in time
    lead(org.rep1a, due, due)  # in time, to the second
    lead(org.rep1a, due, due + timedelta(minutes=1))  # late
    lead(org.rep1a, at(2026, 6, 30, 23, 0), None)  # not answered
    lead(org.rep1a, at(2026, 7, 1, 0, 0), None)  # due in July
    lead(org.rep1a, at(2026, 5, 31, 23, 59), at(2026, 5, 31, 20, 0))  # due in May
    result = measured(KpiMetric.LEAD_SLA_COMPLIANCE, org, org.rep1a, org.rep1b)
    assert triple(result[org.rep1a.pk]) == (D("2"), D("4"), D("50.0"))
    assert result[org.rep1b.pk].value is None  # no lead due


def survey(owner, customer, answered: datetime | None, score: int | None) -> SatisfactionSurvey:
    token = hashlib.sha256(f"t{next(_tokens)}".encode()).hexdigest()
    return SatisfactionSurvey.objects.create(
        customer=customer, email="buyer@example.com", owner=owner,
        trigger=SurveyTrigger.SERVICE_VISIT, token_hash=token,
        status=SurveyStatus.ANSWERED if answered else SurveyStatus.SENT,
        sent_at=at(2026, 5, 20, 9, 0), expires_at=at(2026, 8, 20, 9, 0),
        answered_at=answered, score=score,
    )  # fmt: skip


def test_satisfaction_is_the_average_score_of_surveys_answered_in_the_period(org):
    customer = Customer.objects.create(name="满意度客户", owner=org.rep1a)
    survey(org.rep1a, customer, at(2026, 6, 1, 0, 0), 5)
    survey(org.rep1a, customer, at(2026, 6, 15, 12, 0), 4)
    survey(org.rep1a, customer, at(2026, 6, 30, 23, 59), 4)
    survey(org.rep1a, customer, at(2026, 7, 1, 0, 0), 1)  # July
    survey(org.rep1a, customer, None, None)  # not answered
    survey(org.rep2a, customer, at(2026, 6, 2, 9, 0), 2)
    result = measured(KpiMetric.SATISFACTION, org, org.rep1a, org.rep1b)
    assert triple(result[org.rep1a.pk]) == (D("13"), D("3"), D("4.33"))  # 13 / 3
    assert result[org.rep1b.pk].value is None
    # dept 1: rep1a's three and rep2a's one: 15 / 4
    dept = measured(KpiMetric.SATISFACTION, org, org.manager1, heads=True)
    assert triple(dept[org.manager1.pk]) == (D("15"), D("4"), D("3.75"))


# --- queries --------------------------------------------------------------------------------


def test_every_metric_for_everyone_reads_a_fixed_number_of_queries(
    org, june, django_assert_max_num_queries
):
    people = [org.rep1a, org.rep1b, org.rep2a, org.rep3a]
    with django_assert_max_num_queries(20) as few:
        ctx = kpi.Context(JUNE)
        subjects = kpi.subjects_of(ctx, [(u.pk, u.org_unit_id) for u in people],
                                   on_their_units=False)  # fmt: skip
        kpi.measure(JUNE, subjects, list(kpi.CALCULATORS), ctx=ctx)
    people += [UserFactory(username=f"more{n}", role="rep", org_unit=org.team3) for n in range(10)]
    with django_assert_max_num_queries(len(few.captured_queries)):
        ctx = kpi.Context(JUNE)
        subjects = kpi.subjects_of(ctx, [(u.pk, u.org_unit_id) for u in people],
                                   on_their_units=False)  # fmt: skip
        result = kpi.measure(JUNE, subjects, list(kpi.CALCULATORS), ctx=ctx)
    assert set(result) == set(KpiMetric.values)
    assert all(len(by_person) == 14 for by_person in result.values())


def test_unknown_metric_is_refused(org):
    with pytest.raises(ValueError):
        kpi.measure(JUNE, [], ["bogus"])
