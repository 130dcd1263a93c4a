"""Query budgets of the incentive lists (issue 10): scorecards (list and ranking), scoring
schemes, commission statements and plans, contests, satisfaction surveys, the competitor
registry and the deals lost to a competitor / the visits mentioning one, pages and API, and the
process-diagnostics and competitor reports of the API, cost the same number of queries with 2
rows as with 10 of other reps, units, schemes, plans, customers and contracts."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from apps.approvals.models import ApprovalPolicy, ApprovalStep
from apps.approvals.services import approval_submit
from apps.contracts.models import Contract
from apps.customers.models import Contact, Customer
from apps.incentives.models import (
    CommissionFactor,
    CommissionPlan,
    CommissionStatement,
    CommissionTier,
    Competitor,
    Contest,
    SatisfactionSurvey,
    SchemeMetric,
    Scorecard,
    ScorecardLine,
    ScoringScheme,
)
from apps.visits.models import VisitPlan, VisitRecord
from tests.budgets import ListCase, Marker, cases
from tests.factories import UserFactory
from tests.testapp.models import memo_new

from ..opportunities.figures_data import deal

_numbers = count(1)
RIVAL = "Budget Rival"  # a name written on lost deals that no competitor of the registry has
MENTIONED = "Budget Registry Rival"  # a competitor of the registry named in visit records


def _new_reps(org, n: int) -> list:
    """n new reps, of team 1 and team 2 in turn (manager1's department)."""
    return [
        UserFactory(
            username=f"budget-inc-rep-{next(_numbers)}",
            role="rep",
            org_unit=(org.team1, org.team2)[i % 2],
        )
        for i in range(n)
    ]


def _scheme(name: str, *, active: bool, by=None) -> ScoringScheme:
    """A rep's monthly scheme with two metrics (one active scheme per role and period)."""
    scheme, created = ScoringScheme.objects.get_or_create(
        name=name,
        defaults={"role": "rep", "period_kind": "month", "is_active": active, "created_by": by},
    )
    if created:
        for position, (metric, weight) in enumerate((("contract_amount", 60), ("visits", 40))):
            SchemeMetric.objects.create(
                scheme=scheme,
                metric=metric,
                weight=Decimal(weight),
                curve="linear",
                full_at=Decimal("100"),
                position=position,
            )
    return scheme


def _month_start(months_ago: int) -> date:
    first = timezone.localdate().replace(day=1)
    for _ in range(months_ago):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _scorecards(org, n: int, *, scheme: ScoringScheme, months_ago: int) -> list[Scorecard]:
    """n scorecards of new reps under `scheme` for one month, each with two lines, assessed
    by their supervisor or no one."""
    start = _month_start(months_ago)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    cards = []
    for i, rep in enumerate(_new_reps(org, n)):
        card = Scorecard.objects.create(
            scheme=scheme,
            user=rep,
            org_unit=rep.org_unit,
            period_kind="month",
            period_start=start,
            period_end=end,
            score=Decimal(50 + i),
            grade="C",
            rank_in_unit=i + 1,
            rank_in_company=i + 1,
            assessed_by=(org.sup1, org.sup2, None)[i % 3],
            computed_at=timezone.now(),
        )
        for metric in scheme.metrics.all():
            ScorecardLine.objects.create(
                scorecard=card, metric=metric.metric, weight=metric.weight, position=metric.position
            )
        cards.append(card)
    return cards


def add_scorecard_page(org, n: int) -> list[Marker]:
    scheme = _scheme("Budget old scheme", active=False, by=org.admin)
    return [c.get_absolute_url() for c in _scorecards(org, n, scheme=scheme, months_ago=2)]


def add_ranking_page(org, n: int) -> list[Marker]:
    scheme = _scheme("Budget rep scheme", active=True, by=org.admin)
    return [c.get_absolute_url() for c in _scorecards(org, n, scheme=scheme, months_ago=1)]


def add_scorecards(org, n: int) -> list[Marker]:
    scheme = _scheme("Budget old scheme", active=False, by=org.admin)
    return [c.pk for c in _scorecards(org, n, scheme=scheme, months_ago=3)]


def _schemes(org, n: int) -> list[ScoringScheme]:
    by = (org.admin, None)
    return [
        _scheme(f"Budget scheme {next(_numbers)}", active=False, by=by[i % 2]) for i in range(n)
    ]


def add_scheme_page(org, n: int) -> list[Marker]:
    return [s.name for s in _schemes(org, n)]


def add_schemes(org, n: int) -> list[Marker]:
    return [s.pk for s in _schemes(org, n)]


def _plans(org, n: int) -> list[CommissionPlan]:
    """n plans, each for another unit (or every rep), with two tiers and a factor."""
    units = ((org.team1,), (org.team2, org.team3), ())
    plans = []
    for i in range(n):
        k = next(_numbers)
        plan = CommissionPlan.objects.create(
            name=f"Budget plan {k}",
            valid_from=date(2020, 1, 1) + timedelta(days=k),
            created_by=(org.admin, None)[i % 2],
        )
        plan.units.set(units[i % 3])
        CommissionTier.objects.create(plan=plan, from_amount=Decimal("0"), rate=Decimal("0.01"))
        CommissionTier.objects.create(
            plan=plan, from_amount=Decimal("100000"), rate=Decimal("0.02")
        )
        CommissionFactor.objects.create(
            plan=plan, kind="product_line", value=f"Line {k}", factor=Decimal("1.1")
        )
        plans.append(plan)
    return plans


def add_plan_page(org, n: int) -> list[Marker]:
    return [p.name for p in _plans(org, n)]


def add_plans(org, n: int) -> list[Marker]:
    return [p.pk for p in _plans(org, n)]


def _statements(org, n: int) -> list[CommissionStatement]:
    """n statements of manager1's reps, each of another month and plan."""
    reps = (org.rep1a, org.rep1b, org.rep2a)
    plans = _plans(org, 2)
    return [
        CommissionStatement.objects.create(
            plan=plans[i % 2],
            rep=reps[i % 3],
            org_unit=reps[i % 3].org_unit,
            month=_month_start(next(_numbers)),
            computed_at=timezone.now(),
            exported_by=(org.finance, None)[i % 2],
        )
        for i in range(n)
    ]


def add_statement_page(org, n: int) -> list[Marker]:
    return [s.get_absolute_url() for s in _statements(org, n)]


def add_statements(org, n: int) -> list[Marker]:
    return [s.pk for s in _statements(org, n)]


def _contests(org, n: int) -> list[Contest]:
    """n contests of manager1's teams, running, upcoming and ended in turn."""
    today = timezone.localdate()
    spans = ((-5, 5), (10, 20), (-30, -20))
    contests = []
    for i in range(n):
        start, end = spans[i % 3]
        contest = Contest.objects.create(
            name=f"Budget contest {next(_numbers)}",
            metric="contract_amount",
            starts_on=today + timedelta(days=start),
            ends_on=today + timedelta(days=end),
            created_by=(org.manager1, org.sup1)[i % 2],
        )
        contest.units.set(((org.team1,), (org.team1, org.team2))[i % 2])
        contests.append(contest)
    return contests


def add_contest_page(org, n: int) -> list[Marker]:
    return [c.name for c in _contests(org, n)]


def add_contests(org, n: int) -> list[Marker]:
    return [c.pk for c in _contests(org, n)]


def _surveys(org, n: int) -> list[SatisfactionSurvey]:
    """n surveys of manager1's reps' customers, each to its contact, after a contract or a
    visit in turn, every third one answered low with a follow-up visit."""
    reps = (org.rep1a, org.rep1b, org.rep2a)
    now = timezone.now()
    surveys = []
    for i in range(n):
        k, owner = next(_numbers), reps[i % 3]
        customer = Customer.objects.create(name=f"Budget Surveyed {k}", owner=owner)
        contact = Contact.objects.create(customer=customer, name=f"Contact {k}")
        about: dict = {}
        if i % 2:
            about["visit_record"] = VisitRecord.objects.create(
                owner=owner, customer=customer, purpose="service", started_at=now
            )
        else:
            about["contract"] = Contract.objects.create(
                number=f"HT-SURVEY-{k:06d}",
                title="Contract",
                customer=customer,
                owner=owner,
                amount=Decimal("1000.00"),
            )
        answered: dict = {}
        if i % 3 == 0:
            plan = VisitPlan.objects.create(
                owner=owner, customer=customer, purpose="service", planned_date=timezone.localdate()
            )
            answered = {
                "status": "answered",
                "answered_at": now,
                "score": 2,
                "follow_up_plan": plan,
            }
        surveys.append(
            SatisfactionSurvey.objects.create(
                customer=customer,
                contact=contact,
                email=f"c{k}@example.com",
                owner=owner,
                trigger="contract_completed" if i % 2 == 0 else "service_visit",
                token_hash=hashlib.sha256(f"budget-{k}".encode()).hexdigest(),
                sent_at=now,
                expires_at=now + timedelta(days=14),
                **about,
                **answered,
            )
        )
    return surveys


def add_survey_page(org, n: int) -> list[Marker]:
    return [s.get_absolute_url() for s in _surveys(org, n)]


def add_surveys(org, n: int) -> list[Marker]:
    return [s.pk for s in _surveys(org, n)]


def _competitors(n: int) -> list[Competitor]:
    return [
        Competitor.objects.create(
            name=f"Budget Competitor {next(_numbers):03d}", aliases=[f"BC{k}" for k in range(i % 3)]
        )
        for i in range(n)
    ]


def add_competitor_page(org, n: int) -> list[Marker]:
    return [c.name for c in _competitors(n)]


def add_competitors(org, n: int) -> list[Marker]:
    return [c.pk for c in _competitors(n)]


def _lost_deals(org, n: int, competitor: str = RIVAL) -> list:
    """n deals of manager1's reps lost last week to `competitor`, each of its own customer."""
    reps = (org.rep1a, org.rep1b, org.rep2a)
    lost_at = timezone.now() - timedelta(days=7)
    deals = []
    for i in range(n):
        opportunity = deal(
            reps[i % 3],
            [("prospecting", lost_at - timedelta(days=3)), ("lost", lost_at)],
            amount="1000.00",
            name=f"Budget lost deal {next(_numbers):04d}",
        )
        opportunity.lost_competitor = competitor
        opportunity.save(update_fields=["lost_competitor"])
        deals.append(opportunity)
    return deals


def _mentions(org, n: int) -> list[VisitRecord]:
    """n visit records of manager1's reps naming MENTIONED, each at another customer."""
    Competitor.objects.get_or_create(name=MENTIONED)
    reps = (org.rep1a, org.rep1b, org.rep2a)
    records = []
    for i in range(n):
        customer = Customer.objects.create(
            name=f"Budget Mention {next(_numbers)}", owner=reps[i % 3]
        )
        records.append(
            VisitRecord.objects.create(
                owner=reps[i % 3],
                customer=customer,
                purpose="other",
                started_at=timezone.now() - timedelta(days=2),
                competitor_info=f"{MENTIONED} 报价低",
            )
        )
    return records


def add_lost_deal_page(org, n: int) -> list[Marker]:
    return [d.name for d in _lost_deals(org, n)]


def add_lost_deals(org, n: int) -> list[Marker]:
    return [d.pk for d in _lost_deals(org, n)]


def add_mention_page(org, n: int) -> list[Marker]:
    return [r.customer.name for r in _mentions(org, n)]


def add_mentions(org, n: int) -> list[Marker]:
    return [r.pk for r in _mentions(org, n)]


def add_competitor_report(org, n: int) -> list[Marker]:
    """n competitors of the registry, each with a deal lost to it: a row each."""
    return [c.name for c in _competitors(n) if _lost_deals(org, 1, competitor=c.name)]


def _memo_policy() -> None:
    """A one-step policy (the submitter's supervisor) for the test app's memo."""
    policy, created = ApprovalPolicy.objects.get_or_create(
        document_type="testapp.memo", defaults={"name": "Memo"}
    )
    if created:
        ApprovalStep.objects.create(
            policy=policy, order=1, name="Supervisor review", approver_kind="direct_supervisor"
        )


def add_waiting_work(org, n: int) -> list[Marker]:
    """n open deals of manager1's reps waiting in a stage for weeks, and n requests of theirs
    waiting for their supervisors: the oldest stays and requests of the report."""
    _memo_policy()
    reps = (org.rep1a, org.rep1b, org.rep2a)
    stages = ("qualification", "needs_analysis", "proposal")
    now = timezone.now()
    markers = []
    for i in range(n):
        k = next(_numbers)
        markers.append(
            deal(
                reps[i % 3],
                [
                    ("prospecting", now - timedelta(days=60 + i)),
                    (stages[i % 3], now - timedelta(days=40 + i)),
                ],
                name=f"Budget waiting deal {k:04d}",
            ).name
        )
        memo = memo_new(owner=reps[i % 3], title=f"Budget waiting memo {k:04d}")
        markers.append(approval_submit(document=memo, by=reps[i % 3]).title)
    return markers


def _mentioned(org) -> dict:
    return {"competitor": Competitor.objects.get(name=MENTIONED).pk}


LISTS = {
    "incentives:scorecard_list": ListCase(
        "/incentives/scorecards/", "manager1", add_scorecard_page, budget=5
    ),
    "incentives:scorecard_ranking": ListCase(
        "/incentives/scorecards/ranking/", "manager1", add_ranking_page, budget=7
    ),
    "incentives:scheme_list": ListCase("/incentives/schemes/", "admin", add_scheme_page, budget=3),
    "incentives:statement_list": ListCase(
        "/incentives/commissions/", "manager1", add_statement_page, budget=7
    ),
    "incentives:commission_plan_list": ListCase(
        "/incentives/commission-plans/", "admin", add_plan_page, budget=5
    ),
    "incentives:contest_list": ListCase(
        "/incentives/contests/", "manager1", add_contest_page, budget=6
    ),
    "incentives:survey_list": ListCase(
        "/incentives/surveys/", "manager1", add_survey_page, budget=6
    ),
    "incentives:competitor_list": ListCase(
        "/incentives/competitors/registry/", "manager1", add_competitor_page, budget=3
    ),
    "incentives:competitor_lost_deals": ListCase(
        "/incentives/competitors/lost-deals/",
        "manager1",
        add_lost_deal_page,
        budget=3,
        data={"name": RIVAL},
    ),
    "incentives:competitor_mentions": ListCase(
        "/incentives/competitors/mentions/",
        "manager1",
        add_mention_page,
        budget=4,
        data=_mentioned,
    ),
    "api:scorecard-list": ListCase("/api/v1/scorecards/", "manager1", add_scorecards, budget=3),
    "api:scoring-scheme-list": ListCase("/api/v1/scoring-schemes/", "admin", add_schemes, budget=3),
    "api:commission-plan-list": ListCase("/api/v1/commission-plans/", "admin", add_plans, budget=5),
    "api:commission-statement-list": ListCase(
        "/api/v1/commission-statements/", "manager1", add_statements, budget=3
    ),
    "api:contest-list": ListCase(
        "/api/v1/contests/",
        "manager1",
        add_contests,
        budget=6,
    ),
    "api:satisfaction-survey-list": ListCase(
        "/api/v1/satisfaction-surveys/", "manager1", add_surveys, budget=3
    ),
    "api:competitor-list": ListCase("/api/v1/competitors/", "manager1", add_competitors, budget=3),
    "api:report-competitors-lost-deals": ListCase(
        "/api/v1/reports/competitors/lost-deals/",
        "manager1",
        add_lost_deals,
        budget=3,
        data={"name": RIVAL},
        id_key="opportunity",
    ),
    "api:report-competitors-mentions": ListCase(
        "/api/v1/reports/competitors/mentions/",
        "manager1",
        add_mentions,
        budget=4,
        data=_mentioned,
        id_key="visit_record",
    ),
    "api:report-competitors-list": ListCase(
        "/api/v1/reports/competitors/", "manager1", add_competitor_report, budget=5
    ),
    "api:report-process-diagnostics-list": ListCase(
        "/api/v1/reports/process-diagnostics/", "manager1", add_waiting_work, budget=12
    ),
}


@pytest.mark.parametrize("name", cases(LISTS))
def test_incentive_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
