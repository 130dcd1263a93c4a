"""Penalty interest (逾期罚息) of the daily job: one accrual per installment per day after the
grace days, open amount × daily rate to the cent (half up), caught up after missed days,
never twice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from apps.receivables.jobs import receivables_daily_run
from apps.receivables.models import PenaltyAccrual

from .conftest_jobs import customer_of, installment, on, reload, signed_contract

pytestmark = pytest.mark.django_db


def accruals(item) -> list[tuple[date, Decimal, Decimal]]:
    return list(
        PenaltyAccrual.objects.filter(installment=item)
        .order_by("accrual_date")
        .values_list("accrual_date", "principal", "amount")
    )


@pytest.fixture
def overdue(org):
    """Due 30 Jan 2026, 3 grace days, 0.05 %/day, 10,000.00 open."""
    contract = signed_contract(customer_of(org.rep1a), grace=3, rate="0.0500")
    return installment(contract, date(2026, 1, 30), "10000.00", status="due")


def test_first_accrual_is_the_day_after_the_grace_days_across_the_month_end(overdue, time_machine):
    # given the grace days run to 2 Feb (31 Jan, 1 Feb, 2 Feb)
    # when the job runs on 2 Feb, then on 3 Feb
    on(time_machine, date(2026, 2, 2))
    first = receivables_daily_run()
    on(time_machine, date(2026, 2, 3))
    receivables_daily_run()

    # then nothing accrued within the grace days, 5.00 on 3 Feb
    assert first.accruals == 0
    assert accruals(overdue) == [(date(2026, 2, 3), Decimal("10000.00"), Decimal("5.00"))]
    assert reload(overdue).penalty_accrued == Decimal("5.00")


def test_missed_days_are_caught_up_and_a_rerun_adds_nothing(overdue, time_machine):
    # given the job did not run since the installment fell due
    # when it runs on 6 Feb, then again the same day
    on(time_machine, date(2026, 2, 6))
    run = receivables_daily_run()
    again = receivables_daily_run()

    # then one accrual per day from 3 Feb to 6 Feb: 4 × 5.00 = 20.00, and nothing the second time
    assert [row[0] for row in accruals(overdue)] == [date(2026, 2, d) for d in (3, 4, 5, 6)]
    assert run.accruals == 4 and run.penalty_amount == Decimal("20.00")
    assert again.accruals == 0 and again.changes == 0
    assert reload(overdue).penalty_accrued == Decimal("20.00")


def test_catch_up_continues_after_the_last_accrual(overdue, time_machine):
    # given the job ran on 4 Feb, then not over the weekend
    on(time_machine, date(2026, 2, 4))
    receivables_daily_run()

    # when it runs again on Monday 9 Feb
    on(time_machine, date(2026, 2, 9))
    run = receivables_daily_run()

    # then it adds 5 Feb … 9 Feb, and the total is the sum of the rows
    assert run.accruals == 5
    assert len(accruals(overdue)) == 7
    assert reload(overdue).penalty_accrued == Decimal("35.00")


def test_principal_is_the_open_amount_as_of_the_run(overdue, time_machine):
    # given 6,000.00 of the 10,000.00 was paid after the first accrual
    on(time_machine, date(2026, 2, 3))
    receivables_daily_run()
    type(overdue).objects.filter(pk=overdue.pk).update(
        paid_amount=Decimal("6000.00"), status="partially_paid"
    )

    # when the job runs the next day
    on(time_machine, date(2026, 2, 4))
    receivables_daily_run()

    # then the new day accrues on 4,000.00: 2.00
    assert accruals(overdue)[-1] == (date(2026, 2, 4), Decimal("4000.00"), Decimal("2.00"))
    assert reload(overdue).penalty_accrued == Decimal("7.00")


@pytest.mark.parametrize(
    ("open_amount", "expected"),
    [("10.00", "0.01"), ("30.00", "0.02"), ("1234.50", "0.62"), ("8.99", "0.00")],
)
def test_daily_amount_is_rounded_half_up_to_the_cent(org, time_machine, open_amount, expected):
    # given an installment due yesterday without grace days at 0.05 %/day
    contract = signed_contract(customer_of(org.rep1a), grace=0, rate="0.0500")
    item = installment(contract, date(2026, 3, 9), open_amount, status="due")

    # when the job runs today
    on(time_machine, date(2026, 3, 10))
    receivables_daily_run()

    # then 10.00 × 0.0005 = 0.005 → 0.01, 30.00 → 0.015 → 0.02, 1,234.50 → 0.61725 → 0.62
    assert [row[2] for row in accruals(item)] == [Decimal(expected)]


def test_no_penalty_on_paid_written_off_or_zero_rate_installments(org, time_machine):
    # given a paid one, a written-off one, and one of a contract without penalty interest
    contract = signed_contract(customer_of(org.rep1a), grace=0)
    free = signed_contract(customer_of(org.rep1a, "无罚息客户"), grace=0, rate="0")
    paid = installment(contract, date(2026, 3, 1), status="paid", paid="10000.00")
    written = installment(
        contract, date(2026, 3, 1), sequence=2, status="written_off",
        written_off_amount=Decimal("10000.00"),
    )  # fmt: skip
    zero = installment(free, date(2026, 3, 1), status="due")

    # when the job runs ten days later
    on(time_machine, date(2026, 3, 11))
    receivables_daily_run()

    # then none of them accrues
    assert PenaltyAccrual.objects.filter(installment__in=[paid, written, zero]).count() == 0
    assert reload(zero).overdue_days == 10


def test_each_installment_accrues_with_its_own_contract_terms(org, time_machine):
    # given two contracts with other grace days and rates, both due 31 Jan
    short = signed_contract(customer_of(org.rep1a), grace=0, rate="0.1000")
    long = signed_contract(customer_of(org.rep2a, "第二客户"), grace=10, rate="0.0300")
    a = installment(short, date(2026, 1, 31), "2000.00", status="due")
    b = installment(long, date(2026, 1, 31), "2000.00", status="due")

    # when the job runs on 12 Feb
    on(time_machine, date(2026, 2, 12))
    receivables_daily_run()

    # then a: 1–12 Feb × 2.00 = 24.00; b: 11–12 Feb × 0.60 = 1.20
    assert len(accruals(a)) == 12 and reload(a).penalty_accrued == Decimal("24.00")
    assert [row[0] for row in accruals(b)] == [date(2026, 2, 11), date(2026, 2, 12)]
    assert reload(b).penalty_accrued == Decimal("1.20")
    assert accruals(a)[0][0] == date(2026, 2, 1) and accruals(a)[-1][0] == date(
        2026, 2, 1
    ) + timedelta(11)
