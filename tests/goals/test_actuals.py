"""Actuals (实际完成, `apps.goals.actuals`) computed from hand-made documents of June 2026 with
known answers: contracts signed on and just outside the period's boundaries, a terminated
contract, a customer's first and second contracts, a payment with two allocations of which
one is taken back, a reversed payment, visit records at the period's day boundaries in
Asia/Shanghai time, effective or not, and rep1b who moved from team 1 to team 2 on 16 June.

The builders here (`june_documents`, `move`) are shared by the report tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from apps.contracts.models import Contract
from apps.customers.models import Customer
from apps.goals import actuals
from apps.goals.choices import Metric
from apps.goals.models import UnitMembership
from apps.receivables.models import Allocation, Installment, Payment
from apps.receivables.services import (
    allocation_reverse,
    payment_allocate,
    payment_record,
    payment_reverse,
)
from apps.visits.models import VisitRecord

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
JUNE = (date(2026, 6, 1), date(2026, 6, 30))
MOVE_DAY = date(2026, 6, 16)
_numbers = count(1)


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def contract(owner, customer: Customer, signed_on: date | None, amount: str,
             status: str = "signed") -> Contract:  # fmt: skip
    made = Contract.objects.create(
        number=f"HT-GOALS-{next(_numbers):05d}", title="设备采购合同", customer=customer,
        owner=owner, amount=D(amount), credit_portion=D(amount),
    )  # fmt: skip
    # The state and the signing day as the contract services would have left them.
    reason = "客户违约解除" if status == "terminated" else ""
    Contract.objects.filter(pk=made.pk).update(
        status=status, signed_on=signed_on, termination_reason=reason
    )
    return Contract.objects.get(pk=made.pk)


def installment(of: Contract, amount: str, due: date, sequence: int = 1) -> Installment:
    made = Installment.objects.create(
        contract=of, customer=of.customer, owner=of.owner, sequence=sequence,
        kind="on_delivery", due_date=due, amount=D(amount),
    )  # fmt: skip
    Installment.objects.filter(pk=made.pk).update(status="due")
    return Installment.objects.get(pk=made.pk)


def pay(finance, customer: Customer, received_on: date, lines: list[tuple[Installment, str]]):
    total = sum(D(amount) for _i, amount in lines)
    payment = payment_record(
        by=finance, customer=customer, amount=total, received_on=received_on,
        bank_reference=f"GOALS-{next(_numbers)}",
    ).payment  # fmt: skip
    fresh = [(Installment.objects.get(pk=i.pk), amount) for i, amount in lines]
    allocations = payment_allocate(payment=payment, by=finance, lines=fresh)
    return payment, allocations


def visit(owner, customer: Customer, started_at: datetime, **kwargs) -> VisitRecord:
    return VisitRecord.objects.create(
        owner=owner, customer=customer, purpose="order", started_at=started_at, **kwargs
    )


def move(user, old_unit, new_unit, on: date) -> None:
    """Put `user` in `new_unit` from `on` (in `old_unit` before). The trigger on the user's
    unit writes today's date; the rows are set to the day the test needs."""
    from apps.accounts.models import User

    User.objects.filter(pk=user.pk).update(org_unit=new_unit)
    UnitMembership.objects.filter(user=user).delete()
    UnitMembership.objects.create(
        user=user, org_unit=old_unit, valid_from=date(1, 1, 1), valid_to=on
    )
    UnitMembership.objects.create(user=user, org_unit=new_unit, valid_from=on)
    user.refresh_from_db()


@dataclass
class June:
    contracts: dict[str, Contract]
    payments: dict[str, Payment]
    allocations: dict[str, Allocation]
    visits: dict[str, VisitRecord]


def june_documents(org, time_machine) -> June:
    """The documents of June 2026 (see the module docstring); today is 10 July 2026.

    Contracts (C): C1 rep1a A 1 Jun 1,000 · C2 rep1a A 30 Jun 2,000 (A's second) · C3 rep1a B
    31 May 4,000 · C4 rep1a C 1 Jul 8,000 · C5 rep1b D 10 Jun 16,000 terminated (D's first) ·
    C6 rep2a E 15 Jun 32,000 (E's second: C7 on 1 Dec 2025 64,000) · C8 rep1a F draft 128,000 ·
    C9 and C10 rep1b G 20 Jun 256,000 and 512,000 (same day: G counts once).

    Payments (P): P1 A 5 Jun 300 = 100 to C1 + 200 to C2, the 200 taken back · P2 A 20 Jun 50
    reversed · P3 A 31 May 400 · P4 A 1 Jul 300 · P5 E 30 Jun 500 · P6 G 18 Jun 1,600.

    Visits (V, Shanghai time): V1 rep1a 1 Jun 00:00 · V2 rep1a 31 May 23:59:59 · V3 rep1a
    30 Jun 23:59:59 effective · V4 rep1a 1 Jul 00:00 effective · V5 rep1b 15 Jun 23:59:59
    effective · V6 rep1b 16 Jun 00:00 · V7 rep3a 10 Jun 12:00 effective.

    rep1b moves from team 1 to team 2 on 16 June.
    """
    time_machine.move_to(shanghai(2026, 7, 10, 10, 0))
    move(org.rep1b, org.team1, org.team2, MOVE_DAY)
    customers = {
        key: Customer.objects.create(name=f"客户{key}有限公司", owner=owner)
        for key, owner in (("A", org.rep1a), ("B", org.rep1a), ("C", org.rep1a),
                           ("D", org.rep1b), ("E", org.rep2a), ("F", org.rep1a),
                           ("G", org.rep1b), ("H", org.rep3a))
    }  # fmt: skip
    c = {
        "C7": contract(org.rep2a, customers["E"], date(2025, 12, 1), "64000.00"),
        "C1": contract(org.rep1a, customers["A"], date(2026, 6, 1), "1000.00"),
        "C2": contract(org.rep1a, customers["A"], date(2026, 6, 30), "2000.00"),
        "C3": contract(org.rep1a, customers["B"], date(2026, 5, 31), "4000.00"),
        "C4": contract(org.rep1a, customers["C"], date(2026, 7, 1), "8000.00"),
        "C5": contract(org.rep1b, customers["D"], date(2026, 6, 10), "16000.00", "terminated"),
        "C6": contract(org.rep2a, customers["E"], date(2026, 6, 15), "32000.00"),
        "C8": contract(org.rep1a, customers["F"], None, "128000.00", "draft"),
        "C9": contract(org.rep1b, customers["G"], date(2026, 6, 20), "256000.00", "executing"),
        "C10": contract(org.rep1b, customers["G"], date(2026, 6, 20), "512000.00"),
    }
    i1 = installment(c["C1"], "1000.00", date(2026, 6, 30))
    i2 = installment(c["C2"], "2000.00", date(2026, 7, 30))
    i3 = installment(c["C6"], "32000.00", date(2026, 6, 30))
    i4 = installment(c["C9"], "256000.00", date(2026, 6, 30))
    finance = org.finance
    p1, (a1, a2) = pay(finance, customers["A"], date(2026, 6, 5), [(i1, "100.00"), (i2, "200.00")])
    allocation_reverse(allocation=a2, by=finance, reason="分错了分期")
    p2, _ = pay(finance, customers["A"], date(2026, 6, 20), [(i1, "50.00")])
    payment_reverse(payment=p2, by=finance, reason="银行退回")
    p3, _ = pay(finance, customers["A"], date(2026, 5, 31), [(i1, "400.00")])
    p4, _ = pay(finance, customers["A"], date(2026, 7, 1), [(i1, "300.00")])
    p5, (a5,) = pay(finance, customers["E"], date(2026, 6, 30), [(i3, "500.00")])
    p6, (a6,) = pay(finance, customers["G"], date(2026, 6, 18), [(i4, "1600.00")])
    a, g, h = customers["A"], customers["G"], customers["H"]
    v = {
        "V1": visit(org.rep1a, a, shanghai(2026, 6, 1, 0, 0)),
        "V2": visit(org.rep1a, a, shanghai(2026, 5, 31, 23, 59, 59), next_step="再约"),
        "V3": visit(org.rep1a, a, shanghai(2026, 6, 30, 23, 59, 59), next_step="下周报价"),
        "V4": visit(org.rep1a, a, shanghai(2026, 7, 1, 0, 0), stage_moved=True),
        "V5": visit(org.rep1b, g, shanghai(2026, 6, 15, 23, 59, 59), order_amount=D("10.00")),
        "V6": visit(org.rep1b, g, shanghai(2026, 6, 16, 0, 0)),
        "V7": visit(org.rep3a, h, shanghai(2026, 6, 10, 12, 0), payment_collected=D("5.00")),
    }
    return June(
        contracts=c,
        payments={"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6},
        allocations={"A1": a1, "A2": a2, "A5": a5, "A6": a6},
        visits=v,
    )


@pytest.fixture
def june(org, time_machine) -> June:
    return june_documents(org, time_machine)


def figures(metric: str, **kwargs) -> actuals.Actuals:
    return actuals.compute(metric, *JUNE, **kwargs)


# --- each metric ---------------------------------------------------------------------------


def test_contract_amount_counts_contracts_signed_in_the_period_except_terminated(org, june):
    result = figures(Metric.CONTRACT_AMOUNT)
    # rep1a C1 1,000 (1 Jun) + C2 2,000 (30 Jun); not C3 (31 May), C4 (1 Jul), C8 (draft)
    assert result.rep(org.rep1a.pk) == D("3000.00")
    # rep1b C9 256,000 + C10 512,000; not C5 (terminated)
    assert result.rep(org.rep1b.pk) == D("768000.00")
    assert result.rep(org.rep2a.pk) == D("32000.00")  # C6; C7 was in December
    assert result.rep(org.rep3a.pk) == D("0")
    assert result.total == D("803000.00")


def test_collected_counts_live_allocations_of_payments_received_in_the_period(org, june):
    result = figures(Metric.COLLECTED)
    # P1 100 (its 200 was taken back); not P2 (reversed), P3 (31 May), P4 (1 Jul)
    assert result.rep(org.rep1a.pk) == D("100.00")
    assert result.rep(org.rep2a.pk) == D("500.00")  # P5 on 30 Jun
    assert result.rep(org.rep1b.pk) == D("1600.00")  # P6
    assert result.total == D("2200.00")


def test_reversed_payment_counts_nowhere(org, june):
    # the same month without P2's reversal would have 50 more for rep1a: check the other way
    # round, on a day range holding only P2
    day = date(2026, 6, 20)
    assert actuals.compute(Metric.COLLECTED, day, day).total == D("0")
    assert Payment.objects.get(pk=june.payments["P2"].pk).status == "reversed"


def test_taken_back_allocation_does_not_count_but_its_sibling_does(org, june):
    day = date(2026, 6, 5)
    assert actuals.compute(Metric.COLLECTED, day, day).total == D("100.00")


def test_new_customers_count_a_customers_first_signed_contract(org, june):
    result = figures(Metric.NEW_CUSTOMERS)
    # A's first contract C1 (not C2); D's first C5 although terminated; G once (C9, C10 same
    # day); not E (first in December), B (May), C (July)
    assert result.rep(org.rep1a.pk) == D("1")
    assert result.rep(org.rep1b.pk) == D("2")
    assert result.rep(org.rep2a.pk) == D("0")
    assert result.total == D("3")


def test_visits_count_records_started_in_the_period_in_shanghai_time(org, june):
    result = figures(Metric.VISITS)
    # rep1a V1 (1 Jun 00:00) + V3 (30 Jun 23:59:59); not V2 (31 May 23:59:59), V4 (1 Jul 00:00)
    assert result.rep(org.rep1a.pk) == D("2")
    assert result.rep(org.rep1b.pk) == D("2")  # V5, V6
    assert result.rep(org.rep3a.pk) == D("1")  # V7
    assert result.total == D("5")


def test_effective_visits_count_only_the_effective_ones(org, june):
    result = figures(Metric.EFFECTIVE_VISITS)
    assert result.rep(org.rep1a.pk) == D("1")  # V3; V1 is not effective, V4 is in July
    assert result.rep(org.rep1b.pk) == D("1")  # V5 (an order); V6 is not effective
    assert result.rep(org.rep3a.pk) == D("1")  # V7 (a payment)
    assert result.total == D("3")


def test_a_single_day_at_the_boundary(org, june):
    # 1 June alone: C1 and V1 (00:00 Shanghai is 31 May 16:00 UTC)
    day = date(2026, 6, 1)
    assert actuals.compute(Metric.CONTRACT_AMOUNT, day, day).total == D("1000.00")
    assert actuals.compute(Metric.VISITS, day, day).by_rep == {org.rep1a.pk: D("1")}
    may_31 = date(2026, 5, 31)
    assert actuals.compute(Metric.VISITS, may_31, may_31).total == D("1")  # V2


# --- the rep who moved teams ---------------------------------------------------------------


def test_rep_who_moved_counts_for_the_old_team_before_and_the_new_one_after(org, june):
    visits = figures(Metric.VISITS)
    # V5 on 15 Jun 23:59:59 in team 1, V6 on the move day 16 Jun 00:00 in team 2
    assert visits.rep_in_unit(org.rep1b.pk, org.team1.pk) == D("1")
    assert visits.rep_in_unit(org.rep1b.pk, org.team2.pk) == D("1")
    new = figures(Metric.NEW_CUSTOMERS)
    assert new.rep_in_unit(org.rep1b.pk, org.team1.pk) == D("1")  # D on 10 Jun
    assert new.rep_in_unit(org.rep1b.pk, org.team2.pk) == D("1")  # G on 20 Jun
    amount = figures(Metric.CONTRACT_AMOUNT)
    assert amount.rep_in_unit(org.rep1b.pk, org.team1.pk) == D("0")  # C5 is terminated
    assert amount.rep_in_unit(org.rep1b.pk, org.team2.pk) == D("768000.00")
    assert amount.rep_in_units(org.rep1b.pk, {org.team1.pk, org.team2.pk}) == D("768000.00")


def test_units_roll_up_to_the_department_and_the_company(org, june):
    visits = figures(Metric.VISITS)
    assert visits.unit(org.team1.pk) == D("3")  # V1, V3 (rep1a) + V5 (rep1b before the move)
    assert visits.unit(org.team2.pk) == D("1")  # V6
    assert visits.unit(org.dept1.pk) == D("4")
    assert (visits.unit(org.team3.pk), visits.unit(org.dept2.pk)) == (D("1"), D("1"))
    assert visits.unit(org.company.pk) == D("5") == visits.total
    amount = figures(Metric.CONTRACT_AMOUNT)
    assert amount.unit(org.team1.pk) == D("3000.00")
    assert amount.unit(org.team2.pk) == D("800000.00")  # rep1b 768,000 + rep2a 32,000
    assert amount.unit(org.dept1.pk) == D("803000.00") == amount.unit(org.company.pk)
    new = figures(Metric.NEW_CUSTOMERS)
    assert (new.unit(org.team1.pk), new.unit(org.team2.pk), new.unit(org.dept1.pk)) == (
        D("2"), D("1"), D("3"),
    )  # fmt: skip
    collected = figures(Metric.COLLECTED)
    assert (collected.unit(org.team1.pk), collected.unit(org.team2.pk)) == (
        D("100.00"), D("2100.00"),
    )  # fmt: skip


def test_rep_in_no_unit_counts_for_the_rep_and_the_company_only(org, june):
    UnitMembership.objects.filter(user=org.rep3a).delete()
    visits = figures(Metric.VISITS)
    assert visits.rep(org.rep3a.pk) == D("1")
    assert visits.rep_in_unit(org.rep3a.pk, None) == D("1")
    assert visits.unit(org.team3.pk) == D("0") and visits.total == D("5")


# --- owners, series, documents -------------------------------------------------------------


def test_owner_ids_keep_only_those_owners_documents(org, june):
    result = figures(Metric.CONTRACT_AMOUNT, owner_ids=[org.rep1a.pk, org.rep2a.pk])
    assert result.by_rep == {org.rep1a.pk: D("3000.00"), org.rep2a.pk: D("32000.00")}
    assert result.total == D("35000.00")
    assert figures(Metric.VISITS, owner_ids=[]).total == D("0")


def test_compute_all_gives_every_metric_with_one_query_each(org, june,
                                                           django_assert_num_queries):  # fmt: skip
    units = actuals.unit_ancestors()
    with django_assert_num_queries(5):
        result = actuals.compute_all(*JUNE, units=units)
    assert set(result) == set(Metric.values)
    assert result[Metric.EFFECTIVE_VISITS].total == D("3")


def test_monthly_series_splits_by_month(org, june):
    months = actuals.compute_monthly(Metric.CONTRACT_AMOUNT, date(2026, 5, 1), date(2026, 7, 31))
    assert list(months) == [date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)]
    assert months[date(2026, 5, 1)].total == D("4000.00")  # C3
    assert months[date(2026, 6, 1)].total == D("803000.00")
    assert months[date(2026, 7, 1)].total == D("8000.00")  # C4
    assert months[date(2026, 6, 1)].unit(org.team2.pk) == D("800000.00")
    visits = actuals.compute_monthly(Metric.VISITS, date(2026, 5, 1), date(2026, 7, 31))
    assert [m.total for m in visits.values()] == [D("1"), D("5"), D("1")]  # V2 | … | V4


def test_documents_add_up_to_the_reps_actual(org, june):
    page = actuals.documents(Metric.CONTRACT_AMOUNT, *JUNE, owner_id=org.rep1b.pk)
    assert [row[0] for row in page.rows] == [june.contracts["C9"].pk, june.contracts["C10"].pk]
    assert page.total == figures(Metric.CONTRACT_AMOUNT).rep(org.rep1b.pk) == D("768000.00")
    collected = actuals.documents(Metric.COLLECTED, *JUNE, owner_id=org.rep1a.pk)
    assert [row[0] for row in collected.rows] == [june.allocations["A1"].pk]
    assert collected.total == D("100.00")
    visits = actuals.documents(Metric.VISITS, *JUNE, owner_id=org.rep1a.pk)
    assert [row[0] for row in visits.rows] == [june.visits["V1"].pk, june.visits["V3"].pk]


def test_documents_in_a_unit_add_up_to_the_reps_part_there(org, june):
    team1 = actuals.documents(Metric.VISITS, *JUNE, owner_id=org.rep1b.pk,
                              unit_ids=[org.team1.pk])  # fmt: skip
    assert [row[0] for row in team1.rows] == [june.visits["V5"].pk]
    assert team1.total == figures(Metric.VISITS).rep_in_unit(org.rep1b.pk, org.team1.pk)


def test_documents_page_keeps_the_total_of_all(org, june):
    first = actuals.documents(Metric.VISITS, *JUNE, owner_id=org.rep1a.pk, limit=1)
    second = actuals.documents(Metric.VISITS, *JUNE, owner_id=org.rep1a.pk, limit=1, offset=1)
    past = actuals.documents(Metric.VISITS, *JUNE, owner_id=org.rep1a.pk, limit=1, offset=5)
    assert [r[0] for r in first.rows + second.rows] == [june.visits["V1"].pk, june.visits["V3"].pk]
    assert (first.count, first.total, second.total) == (2, D("2"), D("2"))
    assert (past.rows, past.count, past.total) == ([], 2, D("2"))


@pytest.mark.parametrize("metric", ["profit", ""])
def test_unknown_metric_is_refused(metric):
    with pytest.raises(ValueError):
        actuals.compute(metric, *JUNE)


def test_end_before_start_is_refused(db):
    with pytest.raises(ValueError):
        actuals.compute(Metric.VISITS, JUNE[1], JUNE[0])
