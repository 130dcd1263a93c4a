"""Commissions on collections (回款提成, `apps.incentives.commissions`) computed from hand-made
documents with known answers: marginal tiers and their boundaries, rounding per component,
factors (customer tier × product lines weighted by line amount), the accelerator above the
collection target, write-off clawback, the plan chosen by the unit at the month's end (a rep
who changed teams), the nightly job's idempotence, a pending statement left alone, and a
closed month changed after its approval (a reversal, a write-off, a late allocation) booked
once as an adjustment on the current draft, never on the approved statement; two jobs at once.

The builders here (`june_book`, `make_plan`, `approve`) are shared by the other commission
tests.

The June book (today 10 July 2026), company plan: 0 → 1 %, 10,000 → 2 %, 30,000 → 3 %;
customer tier A × 1.5, product line 服务 × 0.5; +1 % above target; clawback on. rep1a:
- C1 for customer A (tier A): lines 服务 10,000, 设备 20,000 (no factor: 1) and a free text
  line 10,000 (no product: 1): factor 1.5 × 35,000 / 40,000 = 1.3125. P1 5 June 8,000 → I1:
  base 10,500.00.
- C2 for customer B (tier C), no lines (factor 1): P2 20 June 20,000 → I2: base 20,000.00;
  P3 31 May 1,000 and P4 1 July 2,000 (other months); P5 25 June 1,500 reversed.
- June target 25,000. Collected 28,000.00, base 30,500.00, tiers 100 + 400 + 15 = 515.00,
  accelerator 5,500 × 1 % = 55.00, earned 570.00. July (to date): P4 2,000 → 20.00.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from apps.approvals.models import ApprovalPolicy, ApprovalStep
from apps.approvals.services import approval_approve, approval_request_for
from apps.contracts.models import Contract, ContractLine
from apps.customers.models import Customer
from apps.goals import actuals
from apps.goals.choices import Metric
from apps.goals.models import Target, UnitMembership
from apps.incentives import commissions
from apps.incentives.commissions import commission_for
from apps.incentives.models import (
    CommissionAdjustment,
    CommissionFactor,
    CommissionLine,
    CommissionPlan,
    CommissionStatement,
    CommissionTier,
)
from apps.opportunities.models import Product
from apps.receivables.models import Allocation, Installment, Payment
from apps.receivables.services import (
    allocation_reverse,
    payment_allocate,
    payment_record,
    payment_reverse,
)

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAY, JUNE, JULY, AUGUST = date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)
TODAY = date(2026, 7, 10)
_numbers = count(1)


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def commission_policy(db) -> None:
    """What migration 0002 installs (a transaction test elsewhere may have flushed it): the
    submitter's own head approves a commission statement (the manager, for a supervisor)."""
    policy, _created = ApprovalPolicy.objects.get_or_create(
        document_type="incentives.commissionstatement", defaults={"name": "Commission"}
    )
    if not policy.steps.exists():
        ApprovalStep.objects.create(
            policy=policy, order=1, name="Head", approver_kind="direct_supervisor"
        )


# --- builders ------------------------------------------------------------------------------

COMPANY_TIERS = (("0", "0.01"), ("10000", "0.02"), ("30000", "0.03"))


def make_plan(
    name: str = "Company plan",
    *,
    tiers=COMPANY_TIERS,
    units=(),
    factors=(),
    accelerator: str = "0.01",
    clawback: bool = True,
    valid_from: date = date(2026, 1, 1),
    valid_to: date | None = None,
    active: bool = True,
) -> CommissionPlan:
    plan = CommissionPlan.objects.create(
        name=name, valid_from=valid_from, valid_to=valid_to, accelerator_rate=D(accelerator),
        clawback_on_write_off=clawback, is_active=active,
    )  # fmt: skip
    for lower, rate in tiers:
        CommissionTier.objects.create(plan=plan, from_amount=D(lower), rate=D(rate))
    for kind, value, factor in factors:
        CommissionFactor.objects.create(plan=plan, kind=kind, value=value, factor=D(factor))
    plan.units.set(units)
    return plan


def customer(owner, name: str, tier: str = "C") -> Customer:
    return Customer.objects.create(name=name, owner=owner, tier=tier)


def contract(owner, of: Customer, amount: str, lines=()) -> Contract:
    made = Contract.objects.create(
        number=f"HT-COMM-{next(_numbers):05d}", title="设备采购合同", customer=of, owner=owner,
        amount=D(amount), credit_portion=D(amount),
    )  # fmt: skip
    Contract.objects.filter(pk=made.pk).update(status="signed", signed_on=date(2026, 5, 10))
    for position, (product, line_amount) in enumerate(lines):
        ContractLine.objects.create(
            contract=made, position=position, product=product,
            description="" if product else "现场改造工程", quantity=D("1"),
            unit_price=D(line_amount), amount=D(line_amount),
        )  # fmt: skip
    return Contract.objects.get(pk=made.pk)


def product(code: str, line: str) -> Product:
    return Product.objects.create(code=code, name=code, list_price=D("1.00"), product_line=line)


def installment(of: Contract, amount: str, sequence: int = 1) -> Installment:
    made = Installment.objects.create(
        contract=of, customer=of.customer, owner=of.owner, sequence=sequence,
        kind="on_delivery", due_date=date(2026, 6, 30), amount=D(amount),
    )  # fmt: skip
    Installment.objects.filter(pk=made.pk).update(status="due")
    return Installment.objects.get(pk=made.pk)


def pay(finance, of: Customer, received_on: date, lines) -> tuple[Payment, list[Allocation]]:
    total = sum(D(amount) for _i, amount in lines)
    payment = payment_record(
        by=finance, customer=of, amount=total, received_on=received_on,
        bank_reference=f"COMM-{next(_numbers)}",
    ).payment  # fmt: skip
    if not lines:
        return payment, []
    fresh = [(Installment.objects.get(pk=i.pk), amount) for i, amount in lines]
    return payment, payment_allocate(payment=payment, by=finance, lines=fresh)


def record(finance, of: Customer, received_on: date, amount: str) -> Payment:
    """A payment received but not allocated yet."""
    return payment_record(
        by=finance, customer=of, amount=D(amount), received_on=received_on,
        bank_reference=f"COMM-{next(_numbers)}",
    ).payment  # fmt: skip


def write_off(inst: Installment) -> None:
    """As the approved write-off leaves it (坏账)."""
    Installment.objects.filter(pk=inst.pk).update(status="written_off")


def collection_target(rep, month: date, amount: str, status: str = "active") -> Target:
    return Target.objects.create(
        metric=Metric.COLLECTED, period_kind="month", period_start=month,
        period_end=commissions.month_end(month), scope_kind="rep", user=rep,
        org_unit=rep.org_unit, amount=D(amount), status=status,
    )  # fmt: skip


def move(user, old_unit, new_unit, on: date) -> None:
    """Put `user` in `new_unit` from `on` (the trigger writes today's date; set the rows)."""
    from apps.accounts.models import User

    User.objects.filter(pk=user.pk).update(org_unit=new_unit)
    UnitMembership.objects.filter(user=user).delete()
    UnitMembership.objects.create(
        user=user, org_unit=old_unit, valid_from=date(1, 1, 1), valid_to=on
    )
    UnitMembership.objects.create(user=user, org_unit=new_unit, valid_from=on)
    user.refresh_from_db()


def statement_of(rep, month: date) -> CommissionStatement:
    return CommissionStatement.objects.get(rep=rep, month=month)


def approve(statement: CommissionStatement, *, submitter, approver) -> CommissionStatement:
    """Through the approval engine: `submitter` submits, `approver` agrees."""
    commissions.statement_submit(statement=statement, by=submitter)
    approval_approve(request=approval_request_for(statement), by=approver)
    return CommissionStatement.objects.get(pk=statement.pk)


def run(day: date = TODAY) -> dict[str, int]:
    return commissions.statements_compute_due(today=day)


@dataclass
class Book:
    plan: CommissionPlan
    a: Customer
    b: Customer
    c1: Contract
    c2: Contract
    i1: Installment
    i2: Installment
    p1: Payment
    p2: Payment
    a1: Allocation
    a2: Allocation


def june_book(org, time_machine, *, plan: CommissionPlan | None = None) -> Book:
    """The June documents of the module docstring; today is 10 July 2026."""
    time_machine.move_to(shanghai(2026, 7, 10, 10, 0))
    plan = plan or make_plan(
        factors=[("customer_tier", "A", "1.5"), ("product_line", "服务", "0.5")]
    )
    a = customer(org.rep1a, "甲机械有限公司", tier="A")
    b = customer(org.rep1a, "乙贸易有限公司", tier="C")
    service, equipment = product("SV-COMM", "服务"), product("EQ-COMM", "设备")
    c1 = contract(org.rep1a, a, "40000.00",
                  [(service, "10000.00"), (equipment, "20000.00"), (None, "10000.00")])  # fmt: skip
    c2 = contract(org.rep1a, b, "25000.00")
    i1, i2 = installment(c1, "40000.00"), installment(c2, "25000.00")
    finance = org.finance
    p1, (a1,) = pay(finance, a, date(2026, 6, 5), [(i1, "8000.00")])
    p2, (a2,) = pay(finance, b, date(2026, 6, 20), [(i2, "20000.00")])
    pay(finance, b, date(2026, 5, 31), [(i2, "1000.00")])
    pay(finance, b, date(2026, 7, 1), [(i2, "2000.00")])
    p5, _ = pay(finance, b, date(2026, 6, 25), [(i2, "1500.00")])
    payment_reverse(payment=p5, by=finance, reason="银行退票")
    collection_target(org.rep1a, JUNE, "25000.00")
    return Book(plan, a, b, c1, c2, i1, i2, p1, p2, a1, a2)


@pytest.fixture
def book(org, time_machine) -> Book:
    return june_book(org, time_machine)


def figures(statement: CommissionStatement) -> tuple:
    return (statement.collected, statement.base, statement.target, statement.tier_amount,
            statement.accelerator_amount, statement.earned, statement.adjustments,
            statement.payable)  # fmt: skip


# --- the computation -------------------------------------------------------------------------

TIERS = [(D(a), D(r)) for a, r in COMPANY_TIERS]


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("0.00", "0.00"),
        ("9999.99", "100.00"),  # 99.9999 → 100.00
        ("10000.00", "100.00"),  # exactly the boundary: all in the first tier
        ("10000.01", "100.00"),  # 0.01 × 2 % = 0.0002 → 0.00
        ("10025.00", "100.50"),
        ("30000.00", "500.00"),
        ("45000.00", "950.00"),  # 100 + 400 + 15,000 × 3 %
    ],
)
def test_tiers_are_marginal_on_the_base(base, expected):
    earnings = commission_for(base=D(base), tiers=TIERS, target=None, accelerator_rate=D("0.01"))
    assert earnings.tier_amount == D(expected)
    assert earnings.accelerator_amount == 0 and earnings.earned == D(expected)


def test_each_tier_is_rounded_half_up_on_its_own():
    # given two tiers of 0.5 % split at 1,001: each holds 1,001 × 0.5 % = 5.005
    tiers = [(D("0"), D("0.005")), (D("1001"), D("0.005"))]
    # when 2,002 is computed, then each part rounds up to 5.01 (the whole would be 10.01)
    earnings = commission_for(base=D("2002.00"), tiers=tiers, target=None, accelerator_rate=D(0))
    assert [step.amount for step in earnings.steps] == [D("5.01"), D("5.01")]
    assert earnings.tier_amount == D("10.02")


@pytest.mark.parametrize(
    ("base", "target", "accelerator"),
    [
        ("25000.00", "20000.00", "50.00"),  # 5,000 above × 1 %
        ("20000.00", "20000.00", "0.00"),  # at the target: nothing above
        ("19000.00", "20000.00", "0.00"),
        ("25000.00", None, "0.00"),  # no target, no accelerator
        ("100.50", "0.00", "1.01"),  # 1.005 → half up
    ],
)
def test_accelerator_applies_to_the_base_above_the_target(base, target, accelerator):
    earnings = commission_for(
        base=D(base), tiers=TIERS, target=None if target is None else D(target),
        accelerator_rate=D("0.01"),
    )  # fmt: skip
    assert earnings.accelerator_amount == D(accelerator)
    assert earnings.earned == earnings.tier_amount + D(accelerator)


def test_statement_figures_and_lines_come_from_the_month_collections(org, book):
    # when the job runs on 10 July
    result = run()

    # then rep1a's June statement has the known figures (module docstring)
    june = statement_of(org.rep1a, JUNE)
    assert june.status == "draft" and june.plan == book.plan and june.org_unit == org.team1
    assert figures(june) == (
        D("28000.00"), D("30500.00"), D("25000.00"), D("515.00"), D("55.00"), D("570.00"),
        D("0.00"), D("570.00"),
    )  # fmt: skip
    lines = set(june.lines.values_list("allocation_id", "contract_id", "amount", "factor", "base"))
    assert lines == {
        (book.a1.pk, book.c1.pk, D("8000.00"), D("1.3125"), D("10500.00")),
        (book.a2.pk, book.c2.pk, D("20000.00"), D("1.0000"), D("20000.00")),
    }
    # the collected amount is the goals' actual of the month (one definition)
    actual = actuals.compute(Metric.COLLECTED, JUNE, date(2026, 6, 30)).rep(org.rep1a.pk)
    assert june.collected == actual
    # July to date: P4 2,000, no target → no accelerator
    july = statement_of(org.rep1a, JULY)
    assert (july.collected, july.base, july.target, july.earned) == (
        D("2000.00"), D("2000.00"), None, D("20.00"),
    )  # fmt: skip
    # every active rep with the plan has a statement for both months (zeros when nothing)
    assert set(CommissionStatement.objects.values_list("rep__username", "month")) == {
        (rep, month) for rep in ("rep1a", "rep1b", "rep2a", "rep3a") for month in (JUNE, JULY)
    }
    assert statement_of(org.rep3a, JUNE).payable == 0
    assert result["created"] == 8


def test_a_draft_target_gives_no_accelerator(org, book):
    # given a draft (not live) July target below the July base
    collection_target(org.rep1a, JULY, "100.00", status="draft")
    run()
    assert statement_of(org.rep1a, JULY).accelerator_amount == 0


def test_written_off_installment_is_left_out_of_the_base_with_clawback(org, book):
    # given I2 (20,000 collected in June) written off before the job
    write_off(book.i2)
    run()
    june = statement_of(org.rep1a, JUNE)
    # then the collection stays, its base is 0: base 10,500 → 100 + 10 = 110, below target
    assert (june.collected, june.base, june.earned) == (
        D("28000.00"), D("10500.00"), D("110.00"),
    )  # fmt: skip
    assert june.lines.get(allocation=book.a2).base == 0


def test_without_clawback_a_written_off_installment_still_counts(org, time_machine):
    plan = make_plan(
        factors=[("customer_tier", "A", "1.5"), ("product_line", "服务", "0.5")], clawback=False
    )
    book = june_book(org, time_machine, plan=plan)
    write_off(book.i2)
    run()
    assert statement_of(org.rep1a, JUNE).base == D("30500.00")


def test_plan_is_chosen_by_the_unit_at_the_end_of_the_month(org, time_machine):
    # given a company plan (1 %), a dept1 plan (2 %) and a team2 plan (5 %)
    time_machine.move_to(shanghai(2026, 7, 10, 10, 0))
    company = make_plan("Company", tiers=[("0", "0.01")])
    dept1 = make_plan("Dept 1", tiers=[("0", "0.02")], units=[org.dept1])
    team2 = make_plan("Team 2", tiers=[("0", "0.05")], units=[org.team2])
    # rep1b collected 1,000 on 5 June in team 1 and moved to team 2 on 16 June; rep2a moves
    # from team 2 to team 3 on 5 July
    for rep, day in ((org.rep1a, 3), (org.rep1b, 5), (org.rep2a, 8), (org.rep3a, 9)):
        buyer = customer(rep, f"{rep.username}客户")
        pay(org.finance, buyer, date(2026, 6, day),
            [(installment(contract(rep, buyer, "5000.00"), "5000.00"), "1000.00")])  # fmt: skip
    move(org.rep1b, org.team1, org.team2, date(2026, 6, 16))
    move(org.rep2a, org.team2, org.team3, date(2026, 7, 5))

    # when the job runs
    run()

    # then each June statement has the plan of the unit the rep was in on 30 June, the most
    # specific one winning
    june = {s.rep.username: s for s in CommissionStatement.objects.filter(month=JUNE)}
    assert (june["rep1a"].plan, june["rep1a"].org_unit, june["rep1a"].earned) == (
        dept1, org.team1, D("20.00"),
    )  # fmt: skip
    assert (june["rep1b"].plan, june["rep1b"].org_unit, june["rep1b"].earned) == (
        team2, org.team2, D("50.00"),
    )  # fmt: skip
    assert (june["rep2a"].plan, june["rep2a"].org_unit) == (team2, org.team2)
    assert (june["rep3a"].plan, june["rep3a"].earned) == (company, D("10.00"))
    # and in July rep2a (now in team 3) is under the company plan
    assert statement_of(org.rep2a, JULY).plan == company


def test_no_plan_means_no_statement(org, time_machine):
    # given only a team 3 plan, an inactive company plan and one that starts in August
    time_machine.move_to(shanghai(2026, 7, 10, 10, 0))
    make_plan("Team 3", units=[org.team3])
    make_plan("Old", active=False)
    make_plan("Later", valid_from=AUGUST)
    run()
    assert set(CommissionStatement.objects.values_list("rep__username", flat=True)) == {"rep3a"}


# --- the job: drafts, idempotence, pending -------------------------------------------------


def test_second_run_changes_nothing(org, book):
    run()
    before = list(CommissionStatement.objects.order_by("id").values_list("id", "updated_at"))
    lines = list(CommissionLine.objects.order_by("id").values_list("id", flat=True))

    result = run()

    assert (result["created"], result["updated"], result["adjustments"]) == (0, 0, 0)
    assert result["unchanged"] == 8
    assert list(CommissionStatement.objects.order_by("id").values_list("id", "updated_at")) == (
        before
    )
    assert list(CommissionLine.objects.order_by("id").values_list("id", flat=True)) == lines


def test_draft_is_recomputed_in_place(org, book):
    run()
    june = statement_of(org.rep1a, JUNE)
    # given a new June collection found after the first run
    _p, (late,) = pay(org.finance, book.b, date(2026, 6, 28), [(book.i2, "2000.00")])

    result = run()

    again = statement_of(org.rep1a, JUNE)
    assert again.pk == june.pk and result["updated"] == 1
    # base 32,500: 100 + 400 + 75 = 575, accelerator 75.00
    assert (again.collected, again.base, again.earned) == (
        D("30000.00"), D("32500.00"), D("650.00"),
    )  # fmt: skip
    assert again.lines.filter(allocation=late).exists() and again.lines.count() == 3


def test_pending_statement_is_left_alone(org, book):
    run()
    june = statement_of(org.rep1a, JUNE)
    commissions.statement_submit(statement=june, by=org.sup1)
    # given a June collection found while it waits for the manager
    pay(org.finance, book.b, date(2026, 6, 28), [(book.i2, "2000.00")])

    result = run()

    pending = statement_of(org.rep1a, JUNE)
    assert pending.status == "pending" and figures(pending) == figures(june)
    assert pending.lines.count() == 2 and result["left_alone"] == 1


# --- closed months -----------------------------------------------------------------------------


def _approved_june(org) -> CommissionStatement:
    run()
    return approve(statement_of(org.rep1a, JUNE), submitter=org.sup1, approver=org.manager1)


def test_reversal_in_an_approved_month_is_an_adjustment_on_the_current_draft(
    org, book, time_machine
):
    # given rep1a's June statement approved (570.00)
    june = _approved_june(org)
    assert june.status == "approved"
    frozen = (figures(june), june.updated_at, set(june.lines.values_list("id", "base")))

    # when P1 (8,000, base 10,500) is reversed on 20 July and the job runs
    time_machine.move_to(shanghai(2026, 7, 20, 10, 0))
    payment_reverse(payment=book.p1, by=org.finance, reason="客户付款被银行退回")
    result = run(date(2026, 7, 20))

    # then June is unchanged …
    june = statement_of(org.rep1a, JUNE)
    assert (figures(june), june.updated_at, set(june.lines.values_list("id", "base"))) == frozen
    # … and July's draft carries June's difference: base 20,000 → 300.00, below target: 0;
    # 300 − 570 = −270.00
    adjustment = CommissionAdjustment.objects.get()
    july = statement_of(org.rep1a, JULY)
    assert (adjustment.statement, adjustment.source_month, adjustment.amount) == (
        july, JUNE, D("-270.00"),
    )  # fmt: skip
    assert adjustment.detail["allocations"] == [book.a1.pk]
    assert f"#{book.a1.pk}" in adjustment.reason and result["adjustments"] == 1
    assert (july.earned, july.adjustments, july.payable) == (
        D("20.00"), D("-270.00"), D("-250.00"),
    )  # fmt: skip

    # when the job runs again, then it books nothing more
    again = run(date(2026, 7, 20))
    assert again["adjustments"] == 0 and CommissionAdjustment.objects.count() == 1
    assert statement_of(org.rep1a, JULY).payable == D("-250.00")


def test_reversed_allocation_after_approval_is_clawed_back_a_month_later(org, book, time_machine):
    # given June approved; in August the June allocation A2 alone is taken back
    _approved_june(org)
    time_machine.move_to(shanghai(2026, 8, 3, 10, 0))
    allocation_reverse(allocation=book.a2, by=org.finance, reason="分错了分期")
    run(date(2026, 8, 3))
    # then the earliest draft after June (July's, last month's) carries it: base 10,500 → 110
    adjustment = CommissionAdjustment.objects.get()
    assert adjustment.statement == statement_of(org.rep1a, JULY)
    assert adjustment.amount == D("-460.00") and adjustment.detail["allocations"] == [book.a2.pk]


def test_write_off_after_approval_claws_back_once(org, book, time_machine):
    # given June approved; I2 (base 20,000) written off on 15 July
    _approved_june(org)
    time_machine.move_to(shanghai(2026, 7, 15, 10, 0))
    write_off(book.i2)
    run(date(2026, 7, 15))
    run(date(2026, 7, 16))
    # then one adjustment: base 10,500 → 110.00; 110 − 570 = −460.00, naming the installment
    adjustment = CommissionAdjustment.objects.get()
    assert (adjustment.source_month, adjustment.amount) == (JUNE, D("-460.00"))
    assert adjustment.detail["installments"] == [book.i2.pk]
    assert f"#{book.i2.pk}" in adjustment.reason


def test_collection_allocated_after_approval_is_added_then_taken_back(org, book, time_machine):
    # given a payment received on 29 June but allocated only after June was approved
    late = record(org.finance, book.b, date(2026, 6, 29), "1000.00")
    _approved_june(org)
    (allocation,) = payment_allocate(
        payment=late, by=org.finance, lines=[(Installment.objects.get(pk=book.i2.pk), "1000.00")]
    )

    run()

    # then June earns 40.00 more (base 31,500: 545 + 65 = 610), booked on July
    first = CommissionAdjustment.objects.get()
    assert (first.amount, first.detail["added"]) == (D("40.00"), [allocation.pk])

    # when that allocation is reversed, then the 40.00 goes back, once
    allocation_reverse(allocation=allocation, by=org.finance, reason="重复核销")
    run()
    run()
    amounts = list(CommissionAdjustment.objects.order_by("id").values_list("amount", flat=True))
    assert amounts == [D("40.00"), D("-40.00")]
    assert statement_of(org.rep1a, JULY).adjustments == 0


def test_job_queries_do_not_grow_with_the_reps(org, book, django_assert_max_num_queries):
    # given the job over 4 reps × 2 months with a closed month to look back at
    _approved_june(org)
    payment_reverse(payment=book.p1, by=org.finance, reason="退票")
    # when it runs, then a fixed number of statements (per month, not per rep or line)
    with django_assert_max_num_queries(45):
        run()


# --- two workers -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_jobs_at_once_make_one_set_of_statements_and_adjustments(org, time_machine):
    # given June approved (as the approval leaves it) and its P1 reversed since
    book = june_book(org, time_machine)
    run()
    CommissionStatement.objects.filter(rep=org.rep1a, month=JUNE).update(status="approved")
    CommissionStatement.objects.filter(month=JULY).delete()
    payment_reverse(payment=book.p1, by=org.finance, reason="退票")

    # when two workers run the job at the same moment
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = run()
        except Exception as exc:  # reported below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then both finished and together made one run's effects
    assert not any(isinstance(r, Exception) for r in results), results
    assert CommissionStatement.objects.filter(month=JULY).count() == 4
    assert sorted(r["created"] for r in results) == [0, 4]
    assert list(CommissionAdjustment.objects.values_list("amount", flat=True)) == [D("-270.00")]
