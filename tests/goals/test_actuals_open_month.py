"""The open month's sealed days in the rollup of the actuals (`rollup.py`, migration 0004): a
report of the open month (the current one, or the last one on the first day of the next) reads
its first days — up to three days before today — from the rollup and computes only the days
after live, with the figures the documents give, to the cent; a write dated two days back or
more marks the month, the writes of the day and of yesterday mark nothing.

Today is set for the code (a time machine) and for the rollup triggers (``salesctl.today``,
migration 0005): the 24th of a month, where O is that month, and the 1st of the next, where O
is the month before; T is O's last sealed day (today − 3). On the second and third day of a
month no day of an open month is sealed (`test_no_open_month_on_the_second_and_third`).

Documents (C contract, P payment, V visit record), all in O: C1 rep1a A O+0 1,000 (A's first)
· C2 rep1b G T 2,000 (G's first) · C3 rep1a A yesterday 40 (A's second) · C4 rep2a E yesterday
300 (E's first). P1 A O+0 100 → C1 · P2 G T 200 → C2 · P3 A yesterday 7 → C1. V1 rep1a O+0
effective · V2 rep1b T 23:59:59 · V3 rep2a yesterday 00:00 effective.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.customers.models import Customer
from apps.goals import actuals, rollup, tasks
from apps.goals.choices import Metric
from apps.goals.models import ActualMonth, ActualMonthState

from .test_actuals import SHANGHAI, contract, installment, pay, visit
from .test_actuals_rollup import figures, last_day, month_back, same_as_live

pytestmark = pytest.mark.django_db

D = Decimal
METRICS = list(Metric.values)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=SHANGHAI)


def open_month(today: date) -> tuple[date, date] | None:
    """(O, T): the open month with sealed days today and its last sealed day, or None."""
    found = [
        (month, hi)
        for month, hi in actuals.candidates([month_back(1, today), month_back(0, today)], today)
        if hi < last_day(month)
    ]
    return found[0] if found else None


@dataclass
class Open:
    today: date
    month: date  # O
    through: date  # T
    yesterday: date
    customers: dict[str, Customer]


MID_MONTH = date(2026, 11, 24)
FIRST_OF_NEXT = date(2026, 12, 1)


@pytest.fixture
def today(request, time_machine) -> date:
    """The day the test runs on (MID_MONTH unless parametrized), for the code and the
    database's triggers alike (for the test's transaction)."""
    day = getattr(request, "param", MID_MONTH)
    time_machine.move_to(datetime.combine(day, time(12), tzinfo=SHANGHAI), tick=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('salesctl.today', %s, true)", [day.isoformat()])
    assert timezone.localdate() == day
    return day


def test_no_open_month_on_the_second_and_third():
    assert open_month(date(2026, 12, 2)) is None and open_month(date(2026, 12, 3)) is None
    assert open_month(date(2026, 12, 4)) == (date(2026, 12, 1), date(2026, 12, 1))


@pytest.fixture
def docs(org, today) -> Open:
    month, through = open_month(today)
    yesterday = today - timedelta(days=1)
    customers = {
        key: Customer.objects.create(name=f"月中客户{key}有限公司", owner=owner)
        for key, owner in (("A", org.rep1a), ("G", org.rep1b), ("E", org.rep2a))
    }
    a, g, e = customers["A"], customers["G"], customers["E"]
    c1 = contract(org.rep1a, a, month, "1000.00")
    c2 = contract(org.rep1b, g, through, "2000.00")
    contract(org.rep1a, a, yesterday, "40.00")
    contract(org.rep2a, e, yesterday, "300.00")
    i1 = installment(c1, "1000.00", month + timedelta(days=20))
    i2 = installment(c2, "2000.00", through + timedelta(days=20))
    pay(org.finance, a, month, [(i1, "100.00")])
    pay(org.finance, g, through, [(i2, "200.00")])
    pay(org.finance, a, yesterday, [(i1, "7.00")])
    visit(org.rep1a, a, at(month, 9), next_step="报价")
    visit(org.rep1b, g, at(through, 23, 59, 59))
    visit(org.rep2a, e, at(yesterday, 0, 0), order_amount=D("5.00"))
    return Open(today, month, through, yesterday, customers)


@pytest.fixture
def stored(django_capture_on_commit_callbacks):
    """`compute` that lets the stale months it computed be stored (the commit of a request)."""

    def compute(metric: str, start: date, end: date, **kwargs) -> actuals.Actuals:
        with django_capture_on_commit_callbacks(execute=True):
            return actuals.compute(metric, start, end, **kwargs)

    return compute


def state(metric: str, month: date) -> ActualMonthState | None:
    return ActualMonthState.objects.filter(metric=metric, month=month).first()


def is_fresh_through(metric: str, month: date, through: date) -> bool:
    found = state(metric, month)
    return (
        found is not None and found.computed_version == found.version and found.through == through
    )


@pytest.mark.parametrize("today", [MID_MONTH, FIRST_OF_NEXT], indirect=True)
@pytest.mark.parametrize("metric", METRICS)
def test_open_month_gives_the_live_figures_from_its_sealed_days(org, docs, stored, metric):
    # when the open month is computed with the rollup empty, then again from it
    period = (docs.month, last_day(docs.month))
    first = stored(metric, *period)
    # then its days up to T were stored, the month marked as summed through T
    assert is_fresh_through(metric, docs.month, docs.through)
    second = stored(metric, *period)
    # and both are the documents' figures, to the cent, per rep, unit and rep in unit
    assert same_as_live(first)
    assert figures(second) == figures(first)
    assert second.total != 0


def test_known_figures_of_the_open_month(org, docs, stored):
    period = (docs.month, last_day(docs.month))
    for metric in METRICS:
        stored(metric, *period)
    amount = actuals.compute(Metric.CONTRACT_AMOUNT, *period)
    # C1 1,000 + C3 40 | C2 2,000 | C4 300 (live: yesterday)
    assert amount.by_rep == {org.rep1a.pk: D("1040.00"), org.rep1b.pk: D("2000.00"),
                             org.rep2a.pk: D("300.00")}  # fmt: skip
    collected = actuals.compute(Metric.COLLECTED, *period)
    assert collected.by_rep == {org.rep1a.pk: D("107.00"), org.rep1b.pk: D("200.00")}
    new = actuals.compute(Metric.NEW_CUSTOMERS, *period)
    assert new.by_rep == {org.rep1a.pk: 1, org.rep1b.pk: 1, org.rep2a.pk: 1}
    effective = actuals.compute(Metric.EFFECTIVE_VISITS, *period)
    assert effective.by_rep == {org.rep1a.pk: 1, org.rep2a.pk: 1}
    assert str(actuals.compute(Metric.VISITS, *period).total) == "3"  # whole, as live


def test_open_month_sealed_days_are_read_from_the_rollup(org, docs, stored):
    period = (docs.month, last_day(docs.month))
    stored(Metric.CONTRACT_AMOUNT, *period)
    # when the stored row is changed behind the triggers' back
    ActualMonth.objects.filter(
        metric=Metric.CONTRACT_AMOUNT, month=docs.month, owner=org.rep1b
    ).update(value=D("1.00"))
    # then the computation reads it (C2, on T, comes from the rollup) …
    result = actuals.compute(Metric.CONTRACT_AMOUNT, *period)
    assert result.rep(org.rep1b.pk) == D("1.00")
    # … and computes the days after T live (C3 and C4, yesterday)
    assert result.rep(org.rep2a.pk) == D("300.00")


@pytest.mark.parametrize("today", [MID_MONTH, FIRST_OF_NEXT], indirect=True)
def test_a_write_dated_two_days_back_marks_the_open_month(org, docs, stored):
    period = (docs.month, last_day(docs.month))
    before = stored(Metric.VISITS, *period)
    version = state(Metric.VISITS, docs.month).version
    # when a visit of T (three days back) is recorded late
    visit(org.rep2a, docs.customers["E"], at(docs.through, 10))
    # then the month turned stale, and the next computation counts it
    assert state(Metric.VISITS, docs.month).version > version
    after = stored(Metric.VISITS, *period)
    assert after.rep(org.rep2a.pk) == before.rep(org.rep2a.pk) + 1
    assert same_as_live(after) and is_fresh_through(Metric.VISITS, docs.month, docs.through)


def test_writes_of_today_and_yesterday_leave_the_open_month_fresh(org, docs, stored):
    assert docs.month == docs.today.replace(day=1)  # mid-month: the open month is this one
    period = (docs.month, last_day(docs.month))
    for metric in METRICS:
        stored(metric, *period)
    versions = dict(ActualMonthState.objects.values_list("id", "version"))
    # when documents of yesterday and today are written
    e = docs.customers["E"]
    made = contract(org.rep2a, e, docs.yesterday, "5.00")
    pay(org.finance, e, docs.yesterday, [(installment(made, "5.00", docs.today), "5.00")])
    visit(org.rep2a, e, at(docs.yesterday, 18))
    visit(org.rep2a, e, at(docs.today, 8))
    # then no version moved, and the figures (the days after T are live) are still exact
    assert dict(ActualMonthState.objects.values_list("id", "version")) == versions
    for metric in METRICS:
        result = actuals.compute(metric, *period)
        assert same_as_live(result), metric


def test_a_claim_never_goes_back_to_fewer_days(org, docs):
    computed = actuals.stale_months(Metric.VISITS, [docs.month], open_days=True)
    assert computed[docs.month].through == docs.through
    assert rollup.store(Metric.VISITS, computed) == [docs.month]
    # a slower reader that summed one day less (its clock a day behind) does not overwrite it
    fewer = actuals.StaleMonth(computed[docs.month].version, [], docs.through - timedelta(1))
    assert rollup.store(Metric.VISITS, {docs.month: fewer}) == []
    assert is_fresh_through(Metric.VISITS, docs.month, docs.through)
    # the whole month, once sealed, replaces the first days
    whole = actuals.StaleMonth(computed[docs.month].version, [], None)
    assert rollup.store(Metric.VISITS, {docs.month: whole}) == [docs.month]
    assert state(Metric.VISITS, docs.month).through is None


def test_a_whole_month_is_not_read_from_rows_of_its_first_days(org, docs, stored):
    # given a sealed month M with one visit, whose rollup holds only its first ten days
    # (as the open month's were stored before it ended)
    m = month_back(2, docs.today)
    visit(org.rep1a, docs.customers["A"], at(m + timedelta(days=20)))
    version = state(Metric.VISITS, m).version
    ten = actuals.StaleMonth(version, [(org.rep1a.pk, org.team1.pk, D("99"))], m + timedelta(9))
    assert rollup.store(Metric.VISITS, {m: ten}) == [m]
    # when the whole month is computed: its documents, not those rows, and it is stored whole
    result = stored(Metric.VISITS, m, last_day(m))
    assert result.rep(org.rep1a.pk) == 1 and same_as_live(result)
    assert state(Metric.VISITS, m).through is None
    assert state(Metric.VISITS, m).computed_version == state(Metric.VISITS, m).version


def test_nightly_refresh_stores_the_open_months_sealed_days_once(org, docs):
    first = tasks.refresh_actuals()
    second = tasks.refresh_actuals()
    assert all(first[metric] >= 1 for metric in METRICS)
    assert second == dict.fromkeys(METRICS, 0)
    for metric in METRICS:
        assert is_fresh_through(metric, docs.month, docs.through)
        assert same_as_live(actuals.compute(metric, docs.month, last_day(docs.month)))


def test_an_open_month_costs_one_query_per_metric(org, docs, stored, django_assert_num_queries):
    period = (docs.month, last_day(docs.month))
    units = actuals.unit_ancestors()
    for metric in METRICS:
        stored(metric, *period)
    with django_assert_num_queries(len(METRICS)):
        result = actuals.compute_all(*period, units=units)
    assert all(same_as_live(result[metric]) for metric in METRICS)
