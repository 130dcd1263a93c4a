"""The home dashboards (issue 7): each role's panels show the right numbers of its own scope,
on hand-made data, and each home page costs a fixed number of queries whatever the rows."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.approvals.models import ApprovalPolicy
from apps.contracts.models import Contract
from apps.core.views import business_now
from apps.customers.models import Customer
from apps.goals.models import Target
from apps.leads.models import Lead
from apps.opportunities.models import Opportunity
from apps.receivables.models import Allocation, CollectionTask, Installment, Payment
from apps.visits.models import VisitPlan, VisitRecord

pytestmark = pytest.mark.django_db

_numbers = count(1)


# --- helpers -------------------------------------------------------------------------------


def home(client, user) -> str:
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str, key: str) -> str:
    """The HTML of one panel (its card, up to the card's end)."""
    found = re.search(rf'id="panel-{key}".*?</section>', html, re.S)
    assert found, f"no panel {key}"
    return found.group(0)


def attr(html: str, name: str) -> str:
    """The value of the first `name="…"` attribute in `html`."""
    found = re.search(rf'{name}="([^"]*)"', html)
    assert found, f"no {name}"
    return found.group(1)


def today() -> date:
    return business_now().date()


def customer(owner, name: str = "", **kwargs) -> Customer:
    return Customer.objects.create(owner=owner, name=name or f"客户{next(_numbers)}", **kwargs)


def plan(owner, *, day: date | None = None, order: int = 0, status: str = "planned", **kwargs):
    kwargs.setdefault("customer", customer(owner))
    return VisitPlan.objects.create(
        owner=owner, planned_date=day or today(), route_order=order, purpose="order",
        status=status, **kwargs,
    )  # fmt: skip


def lead(owner, *, due_in_hours: float, responded: bool = False, **kwargs) -> Lead:
    now = timezone.now()
    return Lead.objects.create(
        company_name=kwargs.pop("name", f"线索{next(_numbers)}"), source="manual", owner=owner,
        team=owner.org_unit, status=kwargs.pop("status", "assigned"),
        first_response_due_at=now + timedelta(hours=due_in_hours),
        first_responded_at=now if responded else None, **kwargs,
    )  # fmt: skip


def deal(owner, stage: str = "prospecting", amount: str = "10000.00", *, stuck: bool = False):
    now = timezone.now()
    return Opportunity.objects.create(
        name=f"商机{next(_numbers)}", customer=customer(owner), owner=owner,
        amount=Decimal(amount), stage=stage, stage_entered_at=now - timedelta(days=40),
        stuck_notified_at=now if stuck else None,
        closed_at=now if stage in ("won", "lost") else None,
        lost_reason="价格" if stage == "lost" else "",
        lost_competitor="海天" if stage == "lost" else "",
    )  # fmt: skip


def contract(owner, amount: str = "100000.00", status: str = "signed", **kwargs) -> Contract:
    kwargs.setdefault("customer", customer(owner))
    item = Contract.objects.create(
        number=f"HT-DASH-{next(_numbers):06d}", title="设备采购合同", owner=owner,
        amount=Decimal(amount), credit_portion=Decimal(amount), **kwargs,
    )  # fmt: skip
    Contract.objects.filter(pk=item.pk).update(status=status)
    return Contract.objects.get(pk=item.pk)


def installment(owner, amount: str, due: date, status: str = "due", **kwargs) -> Installment:
    kwargs.setdefault("customer", customer(owner))
    signed = contract(owner, customer=kwargs["customer"])
    item = Installment.objects.create(
        contract=signed, owner=owner, sequence=1, kind="on_delivery", due_date=due,
        amount=Decimal(amount), **kwargs,
    )  # fmt: skip
    Installment.objects.filter(pk=item.pk).update(status=status)
    return Installment.objects.get(pk=item.pk)


def payment(owner, amount: str, received_on: date, **kwargs) -> Payment:
    kwargs.setdefault("customer", customer(owner))
    return Payment.objects.create(
        owner=owner, amount=Decimal(amount), received_on=received_on, **kwargs
    )


def month_target(*, metric: str = "visits", amount: str, user=None, unit=None) -> Target:
    first = today().replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Target.objects.create(
        metric=metric, period_kind="month", period_start=first, period_end=last,
        scope_kind="rep" if user else "unit", user=user,
        org_unit=unit if unit is not None else (user.org_unit if user else None),
        amount=Decimal(amount),
    )  # fmt: skip


def visits(owner, n: int) -> None:
    # Now: in this month whatever the day, and after the rep's first unit membership.
    c = customer(owner)
    VisitRecord.objects.bulk_create(
        VisitRecord(owner=owner, customer=c, purpose="order", started_at=timezone.now())
        for _ in range(n)
    )


# --- rep -----------------------------------------------------------------------------------


def test_rep_route_lists_own_plans_of_today_in_route_order(client, org):
    # given two plans of rep1a today (out of order), one tomorrow, one of rep1b today
    second = plan(org.rep1a, order=2)
    first = plan(org.rep1a, order=1)
    plan(org.rep1a, day=today() + timedelta(days=1))
    other = plan(org.rep1b)
    # when
    route = panel(home(client, org.rep1a), "today-visits")
    # then
    assert re.findall(r'data-plan="(\d+)"', route) == [str(first.pk), str(second.pk)]
    assert f'data-plan="{other.pk}"' not in route
    assert f'href="/visits/records/new/?plan={first.pk}"' in route


def test_rep_route_shows_a_done_visit_without_a_record_link(client, org):
    # given
    done = plan(org.rep1a, status="done")
    # when
    route = panel(home(client, org.rep1a), "today-visits")
    # then
    assert f'data-record-plan="{done.pk}"' not in route
    assert 'data-plan-status="done"' in route


def test_rep_without_a_plan_today_gets_an_empty_state_with_a_link_to_plan(client, org):
    # when
    route = panel(home(client, org.rep1a), "today-visits")
    # then
    assert "No visits planned today" in route
    assert 'href="/visits/plans/new/"' in route


def test_rep_leads_to_follow_up_put_the_late_ones_first(client, org):
    # given a late lead, a lead due in 3 hours, a contacted one and rep1b's lead
    soon = lead(org.rep1a, due_in_hours=3)
    late = lead(org.rep1a, due_in_hours=-2)
    lead(org.rep1a, due_in_hours=-5, responded=True)
    lead(org.rep1a, due_in_hours=-5, status="contacted")
    other = lead(org.rep1b, due_in_hours=-1)
    # when
    leads = panel(home(client, org.rep1a), "leads-follow-up")
    # then
    assert attr(leads, "data-lead-count") == "2"
    assert attr(leads, "data-late-count") == "1"
    assert re.findall(r'data-lead="(\d+)"', leads) == [str(late.pk), str(soon.pk)]
    assert f'data-lead="{other.pk}"' not in leads
    assert "Late by" in leads and " left" in leads


def test_rep_opportunities_count_open_deals_by_stage_and_list_the_stuck_ones(client, org):
    # given
    deal(org.rep1a, "prospecting")
    deal(org.rep1a, "prospecting")
    stuck = deal(org.rep1a, "proposal", stuck=True)
    deal(org.rep1a, "won")
    deal(org.rep1b, "prospecting")
    # when
    deals = panel(home(client, org.rep1a), "my-opportunities")
    # then
    assert attr(deals, "data-open-count") == "3"
    assert attr(deals, "data-stuck-count") == "1"
    assert '<li data-stage="prospecting" data-count="2">' in deals
    assert '<li data-stage="proposal" data-count="1">' in deals
    assert re.findall(r'data-deal="(\d+)"', deals) == [str(stuck.pk)]


def test_rep_receivables_due_count_overdue_and_the_next_seven_days_and_tasks(client, org):
    # given
    on = today()
    late = installment(org.rep1a, "1000.00", on - timedelta(days=10))
    installment(org.rep1a, "2000.00", on + timedelta(days=3))
    installment(org.rep1a, "4000.00", on + timedelta(days=20))
    installment(org.rep1a, "8000.00", on - timedelta(days=5), status="paid", paid_amount=8000)
    installment(org.rep1b, "16000.00", on - timedelta(days=5))
    CollectionTask.objects.create(
        installment=late, customer=late.customer, owner=org.rep1a, bucket=1, due_on=on
    )
    # when
    due = panel(home(client, org.rep1a), "receivables-due")
    # then
    assert attr(due, "data-overdue-count") == "1"
    assert attr(due, "data-soon-count") == "1"
    assert attr(due, "data-task-count") == "1"
    assert "1,000.00" in due and "2,000.00" in due
    assert "16,000.00" not in due and "4,000.00" not in due


def test_rep_attainment_gauge_is_actual_over_this_months_target(client, org):
    # given a target of 10 visits this month, 4 visits made (and rep1b's visits)
    month_target(amount="10", user=org.rep1a)
    month_target(metric="collected", amount="50000", user=org.rep1b)
    visits(org.rep1a, 4)
    visits(org.rep1b, 3)
    # when
    gauges = panel(home(client, org.rep1a), "my-attainment")
    # then
    assert attr(gauges, "data-gauge-count") == "1"
    assert re.search(r'data-gauge="visits" data-attainment="40.0"', gauges)
    assert "time gone" in gauges


def test_rep_attainment_prefers_the_months_target_to_the_quarters(client, org):
    # given a quarter target of 100 visits and a month target of 10 (both live today)
    month = month_target(amount="10", user=org.rep1a)
    quarter_start = date(month.period_start.year, (month.period_start.month - 1) // 3 * 3 + 1, 1)
    Target.objects.create(
        metric="visits", period_kind="quarter", period_start=quarter_start,
        period_end=(quarter_start + timedelta(days=93)).replace(day=1) - timedelta(days=1),
        scope_kind="rep", user=org.rep1a, org_unit=org.team1, amount=Decimal("100"),
    )  # fmt: skip
    visits(org.rep1a, 5)
    # when
    gauges = panel(home(client, org.rep1a), "my-attainment")
    # then
    assert re.search(r'data-gauge="visits" data-attainment="50.0"', gauges)


def test_rep_attainment_ignores_a_closed_target(client, org):
    # given
    target = month_target(amount="10", user=org.rep1a)
    Target.objects.filter(pk=target.pk).update(status="closed")
    # when
    gauges = panel(home(client, org.rep1a), "my-attainment")
    # then
    assert attr(gauges, "data-gauge-count") == "0"


def test_rep_without_a_target_is_told_so(client, org):
    # when
    gauges = panel(home(client, org.rep1a), "my-attainment")
    # then
    assert "No target for this month yet" in gauges


# --- supervisor and manager ----------------------------------------------------------------


def test_supervisor_sees_the_teams_visits_today_per_rep_not_another_teams(client, org):
    # given
    plan(org.rep1a, order=1, status="done")
    plan(org.rep1a, order=2)
    plan(org.rep1b)
    plan(org.rep1b, day=today() - timedelta(days=1))
    plan(org.rep3a)
    # when
    team = panel(home(client, org.sup1), "team-visits-today")
    # then
    assert attr(team, "data-planned") == "3"
    assert attr(team, "data-done") == "1"
    assert f'data-rep="{org.rep1a.pk}" data-planned="2" data-done="1"' in team
    assert f'data-rep="{org.rep1b.pk}" data-planned="1" data-done="0"' in team
    assert f'data-rep="{org.rep3a.pk}"' not in team


def test_manager_sees_the_visits_of_every_team_of_the_department(client, org):
    # given
    plan(org.rep1a)
    plan(org.rep2a)
    plan(org.rep3a)
    # when
    team = panel(home(client, org.manager1), "team-visits-today")
    # then
    assert attr(team, "data-planned") == "2"
    assert f'data-rep="{org.rep3a.pk}"' not in team


def test_supervisor_funnel_counts_and_sums_the_teams_open_deals_per_stage(client, org):
    # given
    deal(org.rep1a, "qualification", "10000.00")
    deal(org.rep1b, "qualification", "5000.00")
    deal(org.rep1b, "negotiation", "7000.00")
    deal(org.rep1b, "won", "9000.00")
    deal(org.rep3a, "qualification", "100000.00")
    # when
    funnel = panel(home(client, org.sup1), "team-funnel")
    # then
    assert attr(funnel, "data-open-count") == "3"
    assert 'data-stage="qualification" data-count="2" data-amount="15000.00"' in funnel
    assert 'data-stage="negotiation" data-count="1" data-amount="7000.00"' in funnel


def test_supervisor_attainment_is_per_rep_with_the_teams_own_target(client, org):
    # given targets of team 1 (20 visits), rep1a (10), rep1b (5), and rep3a of team 3
    month_target(amount="20", unit=org.team1)
    month_target(amount="10", user=org.rep1a)
    month_target(amount="5", user=org.rep1b)
    month_target(amount="5", user=org.rep3a)
    visits(org.rep1a, 5)
    visits(org.rep1b, 5)
    visits(org.rep3a, 5)
    # when
    team = panel(home(client, org.sup1), "team-attainment")
    # then
    assert f'data-row="{org.rep1a.pk}" data-attainment="50.0"' in team
    assert f'data-row="{org.rep1b.pk}" data-attainment="100.0"' in team
    assert f'data-row="{org.rep3a.pk}"' not in team
    assert re.search(r'data-total="Team 1".*?10 / 20', team, re.S)


def test_manager_attainment_is_per_team_of_the_department(client, org):
    # given unit targets of team 1 (20 visits) and team 2 (10), and team 3 of another dept
    month_target(amount="20", unit=org.team1)
    month_target(amount="10", unit=org.team2)
    month_target(amount="10", unit=org.team3)
    visits(org.rep1a, 3)
    visits(org.rep1b, 2)
    visits(org.rep2a, 10)
    visits(org.rep3a, 10)
    # when
    team = panel(home(client, org.manager1), "attainment-by-team")
    # then
    assert f'data-row="{org.team1.pk}" data-attainment="25.0"' in team
    assert f'data-row="{org.team2.pk}" data-attainment="100.0"' in team
    assert f'data-row="{org.team3.pk}"' not in team


def test_supervisor_without_targets_is_told_so(client, org):
    # when
    team = panel(home(client, org.sup1), "team-attainment")
    # then
    assert "No target for this month yet" in team


def test_supervisor_sees_the_teams_overdue_by_bucket_and_top_customers(client, org):
    # given
    on = today()
    small = installment(org.rep1a, "1000.00", on - timedelta(days=10))
    large = installment(org.rep1b, "5000.00", on - timedelta(days=45))
    installment(org.rep1b, "3000.00", on + timedelta(days=10))
    installment(org.rep3a, "7000.00", on - timedelta(days=10))
    # when
    overdue = panel(home(client, org.sup1), "team-overdue")
    # then
    assert attr(overdue, "data-overdue") == "6000.00"
    assert '<li data-bucket="1" data-amount="1000.00">' in overdue
    assert '<li data-bucket="2" data-amount="5000.00">' in overdue
    assert re.findall(r'data-customer="(\d+)"', overdue) == [
        str(large.customer_id),
        str(small.customer_id),
    ]


def test_customers_owing_the_most_show_their_name_installments_and_open_amount(client, org):
    # given a customer with two overdue installments (one partly paid), another with one
    on = today()
    owing = customer(org.rep1a, "华南机电有限公司")
    installment(org.rep1a, "3000.00", on - timedelta(days=5), customer=owing)
    installment(org.rep1b, "2500.00", on - timedelta(days=40), status="partially_paid",
                paid_amount=Decimal("500.00"), customer=owing)  # fmt: skip
    installment(org.rep1a, "900.00", on + timedelta(days=5), customer=owing)
    other = installment(org.rep1b, "4000.00", on - timedelta(days=70))
    # when
    overdue = panel(home(client, org.sup1), "team-overdue")
    # then the largest open overdue amount first: 3,000 + 2,000, then 4,000
    assert re.findall(r'data-customer="(\d+)"', overdue) == [str(owing.pk), str(other.customer_id)]
    first = re.search(rf'data-customer="{owing.pk}".*?</a>', overdue, re.S).group(0)
    assert "华南机电有限公司" in first and "2 installments" in first and "5,000.00" in first
    assert other.customer.name in overdue


def test_large_contracts_pending_are_those_over_200000_in_scope(client, org):
    # given
    big = contract(org.rep1a, "300000.00", status="pending")
    contract(org.rep1a, "150000.00", status="pending")
    contract(org.rep1b, "500000.00", status="approved")
    other = contract(org.rep3a, "900000.00", status="pending")
    # when
    manager1 = panel(home(client, org.manager1), "large-contracts")
    manager2 = panel(home(client, org.manager2), "large-contracts")
    # then
    assert attr(manager1, "data-count") == "1"
    assert 'data-figure="large-amount"><span class="dash-figure-value money">300,000<' in manager1
    assert re.findall(r'data-contract="(\d+)"', manager1) == [str(big.pk)]
    assert re.findall(r'data-contract="(\d+)"', manager2) == [str(other.pk)]
    assert 'href="/contracts/?status=pending"' in manager1


# --- finance -------------------------------------------------------------------------------


def test_finance_due_this_week_counts_open_installments_monday_to_sunday(client, org):
    # given installments of two departments on Monday and Sunday, next Monday, and a paid one
    on = today()
    monday = on - timedelta(days=on.weekday())
    installment(org.rep1a, "1000.00", monday)
    installment(org.rep3a, "2500.00", monday + timedelta(days=6))
    installment(org.rep3a, "4000.00", monday + timedelta(days=7))
    installment(org.rep1a, "8000.00", monday + timedelta(days=2), status="paid", paid_amount=8000)
    # when
    week = panel(home(client, org.finance), "due-this-week")
    # then
    assert attr(week, "data-count") == "2"
    assert attr(week, "data-amount") == "3500.00"
    assert f'data-day="{monday:%Y-%m-%d}" data-count="1"' in week


def test_finance_overdue_installments_total_count_and_largest_first(client, org):
    # given
    on = today()
    installment(org.rep1a, "1000.00", on - timedelta(days=3))
    large = installment(org.rep3a, "9000.00", on - timedelta(days=100))
    partly = installment(org.rep2a, "5000.00", on - timedelta(days=40), status="partially_paid",
                         paid_amount=Decimal("1000.00"))  # fmt: skip
    installment(org.rep2a, "7000.00", on + timedelta(days=1))
    # when
    overdue = panel(home(client, org.finance), "overdue-installments")
    # then
    assert attr(overdue, "data-count") == "3"
    assert attr(overdue, "data-amount") == "14000.00"
    assert re.findall(r'data-installment="(\d+)"', overdue)[:2] == [str(large.pk), str(partly.pk)]


def test_finance_sees_every_unallocated_payment_oldest_first(client, org):
    # given payments of two departments, one fully allocated and one reversed
    on = today()
    newer = payment(org.rep1a, "1000.00", on - timedelta(days=1))
    older = payment(org.rep3a, "3000.00", on - timedelta(days=9), allocated_amount=500)
    payment(org.rep1a, "2000.00", on - timedelta(days=20), allocated_amount=2000)
    payment(org.rep1a, "4000.00", on - timedelta(days=30), status="reversed",
            reversal_reason="退票")  # fmt: skip
    # when
    payments = panel(home(client, org.finance), "payments-to-allocate")
    # then
    assert attr(payments, "data-count") == "2"
    assert attr(payments, "data-amount") == "3500.00"
    assert re.findall(r'data-payment="(\d+)"', payments) == [str(older.pk), str(newer.pk)]
    assert f'href="/receivables/payments/{older.pk}/allocate/"' in payments
    assert 'href="/receivables/payments/?unallocated=on"' in payments


def test_rep_sees_no_payments_panel_and_finance_no_rep_panel(client, org):
    # when
    rep = home(client, org.rep1a)
    finance = home(client, org.finance)
    # then
    assert 'id="panel-payments-to-allocate"' not in rep
    assert 'id="panel-today-visits"' not in finance


def test_finance_lists_the_customers_on_credit_hold(client, org):
    # given
    held = customer(org.rep3a, on_credit_hold=True, credit_hold_reason="逾期90天")
    customer(org.rep1a)
    # when
    holds = panel(home(client, org.finance), "credit-holds")
    # then
    assert attr(holds, "data-count") == "1"
    assert f'data-customer="{held.pk}"' in holds
    assert "逾期90天" in holds


def test_finance_collection_rate_is_the_receivables_figure_of_the_month(client, org):
    # given 1,000 due today, 400 of it collected today
    on = today()
    item = installment(org.rep1a, "1000.00", on, status="partially_paid", paid_amount=400)
    paid = payment(org.rep1a, "400.00", on, customer=item.customer, allocated_amount=400)
    Allocation.objects.create(
        payment=paid, installment=item, amount=Decimal("400.00"), allocated_on=on
    )
    # when
    rate = panel(home(client, org.finance), "collection-rate")
    # then
    assert attr(rate, "data-rate") == "40.0"
    assert "400.00" in rate


# --- admin ---------------------------------------------------------------------------------


def test_admin_sees_the_api_token_and_approval_policy_counts(client, org):
    # given a usable token, a revoked one and an expired one
    from apps.api.models import ApiToken

    now = timezone.now()
    for i, extra in enumerate([{}, {"revoked_at": now}, {"expires_at": now - timedelta(days=1)}]):
        ApiToken.objects.create(user=org.erp, name=f"t{i}", key_hash=f"{i:064d}", prefix="x",
                                **extra)  # fmt: skip
    first = ApprovalPolicy.objects.order_by("pk").first()
    ApprovalPolicy.objects.filter(pk=first.pk).update(is_active=False)
    policies = ApprovalPolicy.objects.count()
    active = ApprovalPolicy.objects.filter(is_active=True).count()
    # when
    html = home(client, org.admin)
    # then
    tokens = panel(html, "api-tokens")
    assert attr(tokens, "data-count") == "3" and attr(tokens, "data-usable") == "1"
    shown = panel(html, "approval-policies")
    assert attr(shown, "data-count") == str(policies)
    assert attr(shown, "data-active") == str(active)


# --- speed ---------------------------------------------------------------------------------


def seed(org, n: int) -> None:
    """`n` rows of everything each panel reads, for the reps of two teams and two depts."""
    on = today()
    for rep in (org.rep1a, org.rep1b, org.rep2a, org.rep3a):
        for i in range(n):
            plan(rep, order=i, status="done" if i % 2 else "planned")
            lead(rep, due_in_hours=i - n / 2)
            deal(rep, ("prospecting", "proposal", "negotiation")[i % 3], stuck=i % 2 == 0)
            item = installment(rep, "1000.00", on + timedelta(days=i - n))
            CollectionTask.objects.create(
                installment=item, customer=item.customer, owner=rep, bucket=1, due_on=on
            )
            payment(rep, "500.00", on - timedelta(days=i))
            contract(rep, "300000.00", status="pending")
            customer(rep, on_credit_hold=True, credit_hold_reason="逾期")
        visits(rep, n)
    for metric in ("visits", "contract_amount", "collected"):
        for rep in (org.rep1a, org.rep1b, org.rep2a, org.rep3a):
            if not Target.objects.filter(metric=metric, user=rep).exists():
                month_target(metric=metric, amount="10", user=rep)
        for unit in (org.team1, org.team2, org.team3):
            if not Target.objects.filter(metric=metric, org_unit=unit, scope_kind="unit").exists():
                month_target(metric=metric, amount="10", unit=unit)


# Queries of a home page, whatever the rows: the session and user, the scope, and each
# panel's fixed number (see apps/core/dashboards.py).
BUDGETS = {"rep1a": 18, "sup1": 24, "manager1": 23, "finance": 16}


@pytest.mark.parametrize("who", sorted(BUDGETS))
def test_home_page_queries_stay_the_same_with_more_rows(
    client, org, who, django_assert_max_num_queries, settings
):
    # given a few rows of everything, and the page's query count then; the session is read
    # from the database each time (its cache on the shared Redis is emptied by any other test
    # process starting a test, which would add its query to one page and not the other)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    user = getattr(org, who)
    seed(org, 2)
    client.force_login(user)
    client.get("/")  # warm the per-process caches (content types, stage settings)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/").status_code == 200
    # when there are many more rows
    seed(org, 12)
    # then the page costs the same number of queries, within its budget
    with django_assert_max_num_queries(BUDGETS[who]), CaptureQueriesContext(connection) as many:
        assert client.get("/").status_code == 200
    assert len(many) == len(few), "\n".join(
        [q["sql"][:150] for q in few.captured_queries]
        + ["----"]
        + [q["sql"][:150] for q in many.captured_queries]
    )
