"""The exact monthly rollup of the actuals (`apps.goals.rollup`, `ActualMonth`): a period's
sealed months read from the rollup give the figures the documents give, to the cent, and every
write into a sealed month — by a service or by hand — makes the next computation see it.

The months are relative to the real today (the triggers use the database's clock, which no
time machine moves): M5 … M2 are the fifth to the second month before the current one, always
sealed (ended before yesterday). The period runs from the 10th of M5 (a partial first month,
computed live) to today (the current month, always live).

Documents (C contract, P payment, V visit record; rep1b moves from team 1 to team 2 on the 16th
of M3):
C7 rep1a B M5+3 4,000 (before the period) · C8 rep1a B M5+20 500 · C1 rep1a A M4+2 1,000 (A's
first) · C3 rep1b D M4+9 16,000 terminated (D's first) · C2 rep1a A M3+5 2,000 (A's second) ·
C4 rep2a E M3+14 32,000 · C5, C6 rep1b G M2+19 256,000 and 512,000 (same day) · C9 rep3a H
today 700.
P4 G M4+17 1,600 → C5 · P1 A M3+4 300 = 100 → C1 + 200 → C2, the 200 taken back · P2 A M3+19
50 → C1, reversed · P3 E M2+10 500 → C4 · P5 A today 30 → C1.
V1 rep1a M4+1 00:00 · V2 rep1a last day of M3 23:59:59 effective · V3 rep1b M3+15 23:59:59
effective (team 1) · V4 rep1b M3+16 00:00 (team 2) · V5 rep3a M2+9 effective · V6 rep1a today.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.contracts.models import Contract
from apps.contracts.services import contract_terminate
from apps.customers.models import Customer
from apps.goals import actuals, rollup, tasks
from apps.goals.choices import Metric
from apps.goals.models import ActualMonth, ActualMonthState, UnitMembership
from apps.receivables.models import Allocation, Installment, Payment
from apps.receivables.services import allocation_reverse, payment_reverse
from apps.visits.models import VisitRecord

from .test_actuals import SHANGHAI, contract, installment, move, pay, visit

D = Decimal
METRICS = list(Metric.values)


def month_back(n: int, today: date | None = None) -> date:
    """The first day of the month `n` months before the current one."""
    today = today or timezone.localdate()
    index = today.year * 12 + today.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def last_day(month: date) -> date:
    return month_back(-1, month) - timedelta(days=1)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=SHANGHAI)


@dataclass
class Docs:
    today: date
    m5: date
    m4: date
    m3: date
    m2: date
    start: date
    contracts: dict[str, Contract]
    installments: dict[str, Installment]
    payments: dict[str, Payment]
    allocations: dict[str, Allocation]
    customers: dict[str, Customer]


@pytest.fixture
def docs(org) -> Docs:
    today = timezone.localdate()
    m5, m4, m3, m2 = (month_back(n, today) for n in (5, 4, 3, 2))
    move(org.rep1b, org.team1, org.team2, m3 + timedelta(days=15))
    customers = {
        key: Customer.objects.create(name=f"汇总客户{key}有限公司", owner=owner)
        for key, owner in (("A", org.rep1a), ("B", org.rep1a), ("D", org.rep1b),
                           ("E", org.rep2a), ("G", org.rep1b), ("H", org.rep3a))
    }  # fmt: skip
    c = {
        "C7": contract(org.rep1a, customers["B"], m5 + timedelta(days=2), "4000.00"),
        "C8": contract(org.rep1a, customers["B"], m5 + timedelta(days=19), "500.00"),
        "C1": contract(org.rep1a, customers["A"], m4 + timedelta(days=1), "1000.00"),
        "C3": contract(org.rep1b, customers["D"], m4 + timedelta(days=8), "16000.00",
                       "terminated"),
        "C2": contract(org.rep1a, customers["A"], m3 + timedelta(days=4), "2000.00"),
        "C4": contract(org.rep2a, customers["E"], m3 + timedelta(days=13), "32000.00"),
        "C5": contract(org.rep1b, customers["G"], m2 + timedelta(days=18), "256000.00",
                       "executing"),
        "C6": contract(org.rep1b, customers["G"], m2 + timedelta(days=18), "512000.00"),
        "C9": contract(org.rep3a, customers["H"], today, "700.00"),
    }  # fmt: skip
    i = {
        "I1": installment(c["C1"], "1000.00", m4 + timedelta(days=27)),
        "I2": installment(c["C2"], "2000.00", m3 + timedelta(days=27)),
        "I4": installment(c["C4"], "32000.00", m3 + timedelta(days=27)),
        "I5": installment(c["C5"], "256000.00", m2 + timedelta(days=27)),
    }
    finance = org.finance
    p4, (a4,) = pay(finance, customers["G"], m4 + timedelta(days=16), [(i["I5"], "1600.00")])
    p1, (a1, a2) = pay(finance, customers["A"], m3 + timedelta(days=3),
                       [(i["I1"], "100.00"), (i["I2"], "200.00")])  # fmt: skip
    allocation_reverse(allocation=a2, by=finance, reason="分错了分期")
    p2, _ = pay(finance, customers["A"], m3 + timedelta(days=18), [(i["I1"], "50.00")])
    payment_reverse(payment=p2, by=finance, reason="银行退回")
    p3, (a3,) = pay(finance, customers["E"], m2 + timedelta(days=9), [(i["I4"], "500.00")])
    p5, _ = pay(finance, customers["A"], today, [(i["I1"], "30.00")])
    a, g, h = customers["A"], customers["G"], customers["H"]
    visit(org.rep1a, a, at(m4, 0, 0))
    visit(org.rep1a, a, at(last_day(m3), 23, 59, 59), next_step="下周报价")
    visit(org.rep1b, g, at(m3 + timedelta(days=14), 23, 59, 59), order_amount=D("10.00"))
    visit(org.rep1b, g, at(m3 + timedelta(days=15), 0, 0))
    visit(org.rep3a, h, at(m2 + timedelta(days=8)), payment_collected=D("5.00"))
    visit(org.rep1a, a, at(today, 9))
    return Docs(
        today=today, m5=m5, m4=m4, m3=m3, m2=m2, start=m5 + timedelta(days=9),
        contracts=c, installments=i,
        payments={"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5},
        allocations={"A1": a1, "A2": a2, "A3": a3, "A4": a4}, customers=customers,
    )  # fmt: skip


@pytest.fixture
def stored(django_capture_on_commit_callbacks):
    """`compute` that lets the stale months it computed be stored (the commit of a request)."""

    def compute(metric: str, start: date, end: date, **kwargs) -> actuals.Actuals:
        with django_capture_on_commit_callbacks(execute=True):
            return actuals.compute(metric, start, end, **kwargs)

    return compute


def figures(result: actuals.Actuals) -> tuple:
    return (result.by_rep, result.by_unit, result.by_rep_unit, result.total)


def same_as_live(result: actuals.Actuals, **kwargs) -> bool:
    live = actuals.compute_live(result.metric, result.start, result.end, **kwargs)
    return figures(result) == figures(live)


def sealed_months(docs: Docs) -> list[date]:
    months = [month_back(n, docs.today) for n in (4, 3, 2, 1)]
    return [m for m in months if actuals.may_be_sealed(m, docs.today)]


def is_fresh(metric: str, month: date) -> bool:
    state = ActualMonthState.objects.filter(metric=metric, month=month).first()
    return state is not None and state.computed_version == state.version


# --- the figures -----------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
def test_rollup_gives_the_live_figures(org, docs, stored, metric):
    # when the period is computed with the rollup empty, then again from it
    first = stored(metric, docs.start, docs.today)
    assert all(is_fresh(metric, month) for month in sealed_months(docs))
    second = stored(metric, docs.start, docs.today)

    # then both are the documents' figures, to the cent, per rep, unit and rep in unit
    assert same_as_live(first)
    assert figures(second) == figures(first)
    assert second.total != 0


@pytest.mark.parametrize("metric", METRICS)
def test_monthly_series_and_owner_filter_give_the_live_figures(org, docs, stored, metric):
    stored(metric, docs.start, docs.today)
    months = actuals.compute_monthly(metric, docs.m5, docs.today)
    for month, result in months.items():
        assert figures(result) == figures(actuals.compute_live(metric, result.start, result.end)), (
            month
        )
    owners = [org.rep1a.pk, org.rep1b.pk]
    mine = actuals.compute(metric, docs.start, docs.today, owner_ids=owners)
    assert same_as_live(mine, owner_ids=owners)


def test_known_figures_of_the_sealed_months(org, docs, stored):
    # M4 … M2 read from the rollup once stored
    start, end = docs.m4, last_day(docs.m2)
    stored(Metric.CONTRACT_AMOUNT, start, end)
    amount = actuals.compute(Metric.CONTRACT_AMOUNT, start, end)
    # C1 1,000 + C2 2,000 | C5 + C6 768,000 (C3 terminated) | C4 32,000
    assert (amount.rep(org.rep1a.pk), amount.rep(org.rep1b.pk)) == (D("3000.00"), D("768000.00"))
    assert amount.unit(org.team2.pk) == D("800000.00")  # rep1b after the move + rep2a
    collected = actuals.compute(Metric.COLLECTED, start, end)
    # P1 100 (its 200 taken back), not P2 (reversed); P4 1,600; P3 500
    assert collected.by_rep == {org.rep1a.pk: D("100.00"), org.rep1b.pk: D("1600.00"),
                                org.rep2a.pk: D("500.00")}  # fmt: skip
    visits = actuals.compute(Metric.VISITS, start, end)
    # rep1b: V3 in team 1 the day before the move, V4 in team 2 on the move day
    assert visits.rep_in_unit(org.rep1b.pk, org.team1.pk) == D("1")
    assert visits.rep_in_unit(org.rep1b.pk, org.team2.pk) == D("1")
    new = actuals.compute(Metric.NEW_CUSTOMERS, start, end)
    assert new.by_rep == {org.rep1a.pk: D("1"), org.rep1b.pk: D("2"), org.rep2a.pk: D("1")}


def test_counts_stay_whole_numbers_from_the_rollup(org, docs, stored):
    stored(Metric.VISITS, docs.start, docs.today)
    result = actuals.compute(Metric.VISITS, docs.m4, last_day(docs.m3))
    assert str(result.rep(org.rep1a.pk)) == "2"  # as live (a sum of ones), not "2.00"
    amount = stored(Metric.CONTRACT_AMOUNT, docs.m3, last_day(docs.m3))
    assert str(amount.rep(org.rep1a.pk)) == "2000.00"


def test_fresh_months_are_read_from_the_rollup(org, docs, stored):
    # given M3 stored
    stored(Metric.CONTRACT_AMOUNT, docs.m3, last_day(docs.m3))
    # when its row is changed behind the triggers' back (nothing but `rollup` writes there)
    ActualMonth.objects.filter(
        metric=Metric.CONTRACT_AMOUNT, month=docs.m3, owner=org.rep1a
    ).update(value=D("1.00"))
    # then the computation reads it: the rollup answered, not the documents
    assert actuals.compute(Metric.CONTRACT_AMOUNT, docs.m3, last_day(docs.m3)).rep(
        org.rep1a.pk
    ) == D("1.00")


def test_months_outside_the_window_are_always_live(org, docs, stored):
    old = month_back(actuals.WINDOW_MONTHS + 3, docs.today)
    contract(org.rep1a, docs.customers["B"], old + timedelta(days=3), "9.00")
    result = stored(Metric.CONTRACT_AMOUNT, old, last_day(old))
    assert result.rep(org.rep1a.pk) == D("9.00")
    assert not ActualMonthState.objects.filter(month=old).exists()


# --- invalidation: every write into a sealed month is seen ----------------------------------


def test_allocation_reversed_today_of_a_payment_three_months_ago(org, docs, stored):
    # given P1 (received in M3) stored with its 100 to C1
    before = stored(Metric.COLLECTED, docs.start, docs.today)
    state = ActualMonthState.objects.get(metric=Metric.COLLECTED, month=docs.m3)
    # when finance takes the allocation back today
    allocation = Allocation.objects.get(pk=docs.allocations["A1"].pk)
    allocation_reverse(allocation=allocation, by=org.finance, reason="分错了分期")
    # then M3 is stale, and the next computation has 100 less for rep1a
    state.refresh_from_db()
    assert state.version > state.computed_version
    after = stored(Metric.COLLECTED, docs.start, docs.today)
    assert after.rep(org.rep1a.pk) == before.rep(org.rep1a.pk) - D("100.00")
    assert same_as_live(after) and is_fresh(Metric.COLLECTED, docs.m3)


def test_reversed_payment_of_a_sealed_month(org, docs, stored):
    before = stored(Metric.COLLECTED, docs.start, docs.today)
    payment_reverse(payment=Payment.objects.get(pk=docs.payments["P3"].pk), by=org.finance,
                    reason="银行退回")  # fmt: skip
    after = stored(Metric.COLLECTED, docs.start, docs.today)
    assert after.rep(org.rep2a.pk) == before.rep(org.rep2a.pk) - D("500.00")
    assert same_as_live(after)


def test_installment_given_to_another_rep_moves_its_collected_amount(org, docs, stored):
    stored(Metric.COLLECTED, docs.start, docs.today)
    Installment.objects.filter(pk=docs.installments["I4"].pk).update(owner=org.rep3a)
    after = stored(Metric.COLLECTED, docs.start, docs.today)
    assert (after.rep(org.rep2a.pk), after.rep(org.rep3a.pk)) == (D("0"), D("500.00"))
    assert same_as_live(after)


def test_late_visit_record_two_months_back(org, docs, stored):
    before = {
        m: stored(m, docs.start, docs.today) for m in (Metric.VISITS, Metric.EFFECTIVE_VISITS)
    }
    visit(org.rep2a, docs.customers["E"], at(docs.m2 + timedelta(days=3)), next_step="回访")
    for metric, old in before.items():
        after = stored(metric, docs.start, docs.today)
        assert after.rep(org.rep2a.pk) == old.rep(org.rep2a.pk) + 1
        assert after.unit(org.team2.pk) == old.unit(org.team2.pk) + 1
        assert same_as_live(after)


def test_visit_becoming_effective_counts(org, docs, stored):
    stored(Metric.EFFECTIVE_VISITS, docs.start, docs.today)
    VisitRecord.objects.filter(owner=org.rep1a, started_at=at(docs.m4, 0, 0)).update(
        is_effective=True
    )
    assert same_as_live(stored(Metric.EFFECTIVE_VISITS, docs.start, docs.today))


def test_terminated_contract_leaves_the_signed_amount(org, docs, stored):
    before = stored(Metric.CONTRACT_AMOUNT, docs.start, docs.today)
    new_before = stored(Metric.NEW_CUSTOMERS, docs.start, docs.today)
    contract_terminate(contract=Contract.objects.get(pk=docs.contracts["C4"].pk), by=org.rep2a,
                       reason="客户违约解除")  # fmt: skip
    after = stored(Metric.CONTRACT_AMOUNT, docs.start, docs.today)
    assert after.rep(org.rep2a.pk) == before.rep(org.rep2a.pk) - D("32000.00")
    assert same_as_live(after)
    # E did turn active: still a new customer
    new_after = stored(Metric.NEW_CUSTOMERS, docs.start, docs.today)
    assert figures(new_after) == figures(new_before)


def test_first_contract_moved_later_makes_the_second_one_first(org, docs, stored):
    # given A's first contract C1 in M4, its second C2 in M3, stored
    stored(Metric.NEW_CUSTOMERS, docs.start, docs.today)
    m4 = actuals.compute(Metric.NEW_CUSTOMERS, docs.m4, last_day(docs.m4))
    assert m4.rep(org.rep1a.pk) == D("1")
    # when C1's signing day is corrected to M2
    Contract.objects.filter(pk=docs.contracts["C1"].pk).update(
        signed_on=docs.m2 + timedelta(days=1)
    )
    # then A turned active in M3 (C2): M4 lost it, M3 gained it, M2 did not (C1 is second)
    months = actuals.compute_monthly(Metric.NEW_CUSTOMERS, docs.m4, last_day(docs.m2))
    assert [months[m].rep(org.rep1a.pk) for m in (docs.m4, docs.m3, docs.m2)] == [
        D("0"), D("1"), D("0"),
    ]  # fmt: skip
    assert same_as_live(stored(Metric.NEW_CUSTOMERS, docs.start, docs.today))


def test_membership_edited_moves_a_sealed_month_to_the_other_team(org, docs, stored):
    # given rep1b in team 1 until the 16th of M3, stored
    before = stored(Metric.VISITS, docs.start, docs.today)
    assert before.rep_in_unit(org.rep1b.pk, org.team1.pk) == D("1")
    # when the move is corrected to the 1st of M3
    moved = docs.m3
    UnitMembership.objects.filter(user=org.rep1b, org_unit=org.team1).update(valid_to=moved)
    UnitMembership.objects.filter(user=org.rep1b, org_unit=org.team2).update(valid_from=moved)
    # then both of rep1b's M3 visits count for team 2
    after = stored(Metric.VISITS, docs.start, docs.today)
    assert after.rep_in_unit(org.rep1b.pk, org.team1.pk) == D("0")
    assert after.rep_in_unit(org.rep1b.pk, org.team2.pk) == D("2")
    assert same_as_live(after)


def test_writes_in_the_current_month_mark_nothing(org, docs, stored):
    # given the rollup stored for every metric
    for metric in METRICS:
        stored(metric, docs.start, docs.today)
    versions = dict(ActualMonthState.objects.values_list("id", "version"))
    # when documents of today are written (a contract, a payment, a visit)
    c = contract(org.rep2a, docs.customers["E"], docs.today, "5.00")
    pay(org.finance, docs.customers["E"], docs.today,
        [(installment(c, "5.00", docs.today), "5.00")])  # fmt: skip
    visit(org.rep2a, docs.customers["E"], at(docs.today, 8))
    # then no state row was added for the current month, no version moved (the current
    # month's rows, if any, were marked by the fixture's backdated writes: a membership moved
    # from M3 on, first contracts of past months — test_actuals_open_month.py)
    assert dict(ActualMonthState.objects.values_list("id", "version")) == versions


def test_unrelated_changes_mark_nothing(org, docs, stored):
    stored(Metric.CONTRACT_AMOUNT, docs.start, docs.today)
    versions = dict(ActualMonthState.objects.values_list("id", "version"))
    Contract.objects.filter(pk=docs.contracts["C2"].pk).update(notes="补充说明", title="新标题")
    Installment.objects.filter(pk=docs.installments["I2"].pk).update(status="overdue")
    assert dict(ActualMonthState.objects.values_list("id", "version")) == versions


# --- the claim: a write after the snapshot keeps the month stale -----------------------------


def test_version_bumped_between_the_snapshot_and_the_claim_keeps_the_month_stale(org, docs):
    # given M2's visits computed with the version of that snapshot
    computed = actuals.stale_months(Metric.VISITS, [docs.m2])
    assert set(computed) == {docs.m2}
    # when a late visit is written into M2 before they are stored
    visit(org.rep2a, docs.customers["E"], at(docs.m2 + timedelta(days=2)))
    # then the claim fails, nothing is written, and the month stays stale
    assert rollup.store(Metric.VISITS, computed) == []
    assert not ActualMonth.objects.filter(metric=Metric.VISITS, month=docs.m2).exists()
    assert not is_fresh(Metric.VISITS, docs.m2)
    # and the next computation counts the late visit
    result = actuals.compute(Metric.VISITS, docs.m2, last_day(docs.m2))
    assert result.rep(org.rep2a.pk) == D("1") and same_as_live(result)


def test_a_month_stored_twice_is_written_once(org, docs):
    computed = actuals.stale_months(Metric.VISITS, [docs.m3, docs.m2])
    again = actuals.stale_months(Metric.VISITS, [docs.m3, docs.m2])
    assert rollup.store(Metric.VISITS, computed) == [docs.m3, docs.m2]
    assert rollup.store(Metric.VISITS, again) == []  # already fresh: the claim fails


class WriterInProgress:
    """A late visit written into `month` in a transaction of its own thread (so its mark holds
    the month's state row) that commits only when told to."""

    def __init__(self, org, docs: Docs, month: date) -> None:
        self.written, self.go = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._write, args=(org, docs, month))

    def _write(self, org, docs: Docs, month: date) -> None:
        try:
            with transaction.atomic():
                visit(org.rep2a, docs.customers["E"], at(month + timedelta(days=2)))
                self.written.set()
                self.go.wait(10)
        finally:
            connection.close()

    def __enter__(self) -> WriterInProgress:
        self.thread.start()
        assert self.written.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.go.set()
        self.thread.join(10)


def claim_in_thread(metric: str, computed: dict) -> tuple[threading.Thread, dict]:
    claimed: dict = {}

    def claim() -> None:
        try:
            claimed["months"] = rollup.store(metric, computed)
        finally:
            connection.close()

    thread = threading.Thread(target=claim)
    thread.start()
    return thread, claimed


def test_a_month_outside_the_refresh_span_is_not_stored_empty(org, docs):
    # given M3 and M2 both missing, and a refresh planned for M3 only (M2 turned stale after
    # the refresh read the states)
    sql = actuals._rollup_statement(
        Metric.VISITS, monthly=True, owners=False, read=False, live=0,
        stale="c.sealed AND NOT c.fresh", fixed_span=True,
    )  # fmt: skip
    span = actuals._bounds(docs.m3, last_day(docs.m3))
    params = actuals._rollup_params(Metric.VISITS, [docs.m3, docs.m2], []) | {
        "span_lo": span["start"], "span_hi": span["end"],
        "span_lo_at": span["start_at"], "span_hi_at": span["end_at"],
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        computed = actuals._split_rows(cursor.fetchall(), monthly=True, owner_ids=None)[1]
    # then only M3 is computed (M2, with a visit, is not handed over as an empty month)
    assert set(computed) == {docs.m3}
    assert rollup.store(Metric.VISITS, computed) == [docs.m3]
    assert same_as_live(actuals.compute(Metric.VISITS, docs.m3, last_day(docs.m2)))


@pytest.mark.django_db(transaction=True)
def test_claim_waits_for_a_writer_in_progress_and_then_fails(org, docs):
    # given M2's visits computed (no state row yet: version 0)
    computed = actuals.stale_months(Metric.VISITS, [docs.m2])
    # when a writer has written into M2 but not committed, and the claim runs meanwhile
    with WriterInProgress(org, docs, docs.m2) as writer:
        claim, claimed = claim_in_thread(Metric.VISITS, computed)
        claim.join(0.2)
        assert claim.is_alive()  # waiting for the writer's row
        writer.go.set()  # the writer commits
        claim.join(10)
    # then the claim failed: the month stays stale and the next computation counts the visit
    assert claimed["months"] == []
    assert not is_fresh(Metric.VISITS, docs.m2)
    assert actuals.compute(Metric.VISITS, docs.m2, last_day(docs.m2)).rep(org.rep2a.pk) == 1


@pytest.mark.django_db(transaction=True)
def test_claim_gives_up_on_a_long_writer(org, docs):
    computed = actuals.stale_months(Metric.VISITS, [docs.m2])
    with WriterInProgress(org, docs, docs.m2):
        # when the writer stays open longer than the claim's lock timeout
        claim, claimed = claim_in_thread(Metric.VISITS, computed)
        claim.join(10)
        # then the claim returned without waiting for it, writing nothing
        assert not claim.is_alive() and claimed["months"] == []
    assert not ActualMonth.objects.filter(metric=Metric.VISITS, month=docs.m2).exists()
    assert not is_fresh(Metric.VISITS, docs.m2)


# --- queries and the nightly job ---------------------------------------------------------------


def test_a_year_costs_one_query_per_metric_fresh_or_not(org, docs, stored,
                                                      django_assert_num_queries):  # fmt: skip
    units = actuals.unit_ancestors()
    start = month_back(11, docs.today)
    # stale: the months are computed from the documents in the same statement
    with django_assert_num_queries(len(METRICS)):
        actuals.compute_all(start, docs.today, units=units)
    for metric in METRICS:
        stored(metric, start, docs.today)
    # fresh: read from the rollup, the current month live, in one statement
    with django_assert_num_queries(len(METRICS)):
        result = actuals.compute_all(start, docs.today, units=units)
    assert all(same_as_live(result[metric]) for metric in METRICS)


def test_storing_the_stale_months_costs_four_statements(org, docs, django_assert_num_queries):
    computed = actuals.stale_months(Metric.COLLECTED, sealed_months(docs))
    # the lock timeout, the claim, the old rows out, the new rows in (and the savepoint pair of
    # the test's transaction), however many months
    with django_assert_num_queries(6) as captured:
        assert rollup.store(Metric.COLLECTED, computed) == sorted(computed)
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 4 and len(computed) >= 3


def test_nightly_refresh_fills_every_stale_month_once(org, docs):
    # when the nightly job runs twice
    first = tasks.refresh_actuals()
    second = tasks.refresh_actuals()
    # then every sealed month of the window was computed once, for every metric (and the open
    # month's sealed days: test_actuals_open_month.py)
    window = [m for m in rollup.window_months(docs.today)
              if actuals.may_be_sealed(m, docs.today)]  # fmt: skip
    open_days = [
        month
        for month, hi in actuals.candidates(
            [month_back(1, docs.today), month_back(0, docs.today)], docs.today
        )
        if hi < last_day(month)
    ]
    assert first == {metric: len(window) + len(open_days) for metric in METRICS}
    assert second == dict.fromkeys(METRICS, 0)
    assert all(is_fresh(metric, month) for metric in METRICS for month in window)
    # and what it stored is what the documents say
    for metric in METRICS:
        assert same_as_live(actuals.compute(metric, window[0], last_day(window[-1])))


def test_nightly_refresh_drops_the_months_that_left_the_window(org, docs):
    old = month_back(actuals.WINDOW_MONTHS + 2, docs.today)
    edge = month_back(actuals.WINDOW_MONTHS + 1, docs.today)  # still marked by the triggers
    for month in (old, edge):
        # (the edge month may have a state already: the fixture's move marked it)
        ActualMonthState.objects.get_or_create(metric=Metric.VISITS, month=month)
        ActualMonth.objects.create(metric=Metric.VISITS, month=month, owner=org.rep1a,
                                   value=D("3"))  # fmt: skip
    rollup.refresh_recent(today=docs.today)
    for model in (ActualMonth, ActualMonthState):
        kept = model.objects.filter(month__lte=edge).values_list("month", flat=True)
        assert set(kept) == {edge}


def test_refresh_of_chosen_months_skips_the_fresh_and_the_unsealed(org, docs):
    current = month_back(0, docs.today)
    assert rollup.refresh_months(Metric.VISITS, [docs.m3, current]) == [docs.m3]
    assert rollup.refresh_months(Metric.VISITS, [docs.m3, docs.m2]) == [docs.m2]
    # (the current month may have a state row: the fixture's backdated writes marked it)
    assert not ActualMonthState.objects.filter(month=current, computed_version__isnull=False)
    assert not ActualMonth.objects.filter(month=current).exists()


def test_owner_filtered_computation_stores_every_owners_month(org, docs, stored):
    mine = stored(Metric.VISITS, docs.start, docs.today, owner_ids=[org.rep3a.pk])
    assert set(mine.by_rep) == {org.rep3a.pk}
    assert all(is_fresh(Metric.VISITS, month) for month in sealed_months(docs))
    assert same_as_live(actuals.compute(Metric.VISITS, docs.start, docs.today))
