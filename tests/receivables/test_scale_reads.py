"""The reads reworked for scale (issue 10) give the same figures as their definitions:

- the finance workbench's totals (the week's, the aging buckets', the unallocated payments'),
  now conditional sums of one pass, at every bucket boundary, for finance and in a manager's
  scope, equal what the installment list itself shows (its `bucket` and `open_value`);
- its "due this week" rows (the first rows' ids first) are the list's first rows;
- the collection figures, whose installment sums are read in two parts (the open installments
  and those falling due in the period), equal the figures of one pass over the installments
  that can have one in the period, for every grouping; a rep with nothing in the period has
  no row;
- the figures page's one pass for the aging and the collection figures gives the same two
  reports as asking for each.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from apps.receivables import figures, selectors
from apps.receivables.choices import AgingBucket
from apps.receivables.models import Payment
from apps.receivables.services import payment_allocate, payment_record

from .conftest import TODAY, make_contract, make_customer, make_installment

pytestmark = pytest.mark.django_db

D = Decimal
WEEK_END = date(2026, 6, 21)  # the Sunday after Monday 15 June 2026


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.fixture
def books(org, today):
    """Installments of two departments at every boundary the workbench counts by, each amount
    a different power of two so that a wrong bucket shows.

    rep1a (dept 1): due Sunday 21 June 1.00 and today 2.00 (this week), Monday 22 June 4.00
    (next week); 1 day overdue 8.00 and 30 days 16.00 (1–30); 31 days 32.00 and 60 days
    64.00 (31–60); 61 days 128.00 and 90 days 256.00 (61–90); 91 days 512.00 (90+); a paid
    one due this week and a written-off one 100 days overdue (neither counts); a partly paid
    one 120 days overdue, 1,024.00 of which 24.00 is paid (90+: 1,000.00 open).
    rep3a (dept 2): 2,048.00 due today and 4,096.00 40 days overdue (31–60)."""
    contract = make_contract(make_customer(org.rep1a, name="边界客户"))
    ages = [(-6, "1.00"), (0, "2.00"), (-7, "4.00"), (1, "8.00"), (30, "16.00"), (31, "32.00"),
            (60, "64.00"), (61, "128.00"), (90, "256.00"), (91, "512.00")]  # fmt: skip
    for seq, (age, amount) in enumerate(ages, start=1):
        make_installment(contract, seq, amount, days_ago(age),
                         status="scheduled" if age <= 0 else "due")  # fmt: skip
    make_installment(contract, 20, "9000.00", days_ago(-2), status="paid",
                     paid_amount=D("9000.00"))  # fmt: skip
    make_installment(contract, 21, "9000.00", days_ago(100), status="written_off",
                     written_off_amount=D("9000.00"))  # fmt: skip
    make_installment(contract, 22, "1024.00", days_ago(120), status="partially_paid",
                     paid_amount=D("24.00"))  # fmt: skip
    other = make_contract(make_customer(org.rep3a, name="二部客户"))
    make_installment(other, 1, "2048.00", TODAY, status="scheduled")
    make_installment(other, 2, "4096.00", days_ago(40))
    return contract


def _buckets(bench) -> dict[int, tuple[int, Decimal]]:
    return {b.bucket: (b.count, b.amount) for b in bench.buckets}


def _from_the_list(user) -> tuple[dict[int, tuple[int, Decimal]], list[int], Decimal]:
    """The buckets, the week's rows and amount as the installment list shows them."""
    rows = list(selectors.installment_list(user=user))
    buckets = {}
    for value in (1, 2, 3, 4):
        mine = [r for r in rows if r.bucket == value and r.open_value > 0]
        buckets[value] = (len(mine), sum((r.open_value for r in mine), D("0.00")))
    week = [r for r in rows if r.status in ("scheduled", "due", "partially_paid")
            and TODAY <= r.due_date <= WEEK_END]  # fmt: skip
    return buckets, [r.pk for r in week], sum((r.open_value for r in week), D("0.00"))


def test_workbench_totals_at_every_bucket_boundary(org, books):
    bench = selectors.workbench(user=org.finance)
    assert (bench.today, bench.week_end) == (TODAY, WEEK_END)
    # this week: Sunday 1.00, today 2.00 and rep3a's 2,048.00 (not Monday's 4.00, not the paid)
    assert (bench.due_this_week_count, bench.due_this_week_amount) == (3, D("2051.00"))
    assert _buckets(bench) == {
        AgingBucket.D1_30: (2, D("24.00")),  # 8 + 16: days 1 and 30
        AgingBucket.D31_60: (3, D("4192.00")),  # 32 + 64 + rep3a's 4,096: days 31, 60, 40
        AgingBucket.D61_90: (2, D("384.00")),  # 128 + 256: days 61 and 90
        AgingBucket.D90_PLUS: (2, D("1512.00")),  # 512 (day 91) + 1,000 open of the partly paid
    }
    assert (bench.overdue_count, bench.overdue_amount) == (9, D("6112.00"))
    # and the same as the installment list says, row by row
    buckets, week, week_amount = _from_the_list(org.finance)
    assert _buckets(bench) == buckets
    assert [i.pk for i in bench.due_this_week] == week
    assert bench.due_this_week_amount == week_amount


def test_workbench_totals_keep_to_the_scope(org, books):
    # manager1 heads dept 1: rep3a's installments are not counted
    bench = selectors.workbench(user=org.manager1)
    assert (bench.due_this_week_count, bench.due_this_week_amount) == (2, D("3.00"))
    assert _buckets(bench)[AgingBucket.D31_60] == (2, D("96.00"))
    buckets, week, week_amount = _from_the_list(org.manager1)
    assert _buckets(bench) == buckets
    assert [i.pk for i in bench.due_this_week] == week
    assert bench.due_this_week_amount == week_amount


def test_workbench_with_nothing_open_counts_zero(org, today):
    bench = selectors.workbench(user=org.finance)
    assert (bench.due_this_week_count, bench.due_this_week_amount) == (0, D("0.00"))
    assert [(b.count, b.amount) for b in bench.buckets] == [(0, D("0.00"))] * 4
    assert (bench.unallocated_count, bench.unallocated_amount) == (0, D("0.00"))


def test_workbench_due_this_week_is_the_first_rows_oldest_due_first(org, today):
    # 25 installments due this week, given out of order: the first 20 by due date,
    # installment and id
    contract = make_contract(make_customer(org.rep1a, name="本周客户"))
    made = [
        make_installment(contract, seq, "10.00", TODAY + timedelta(days=(seq * 7) % 6),
                         status="scheduled")
        for seq in range(25, 0, -1)
    ]  # fmt: skip
    expected = sorted(made, key=lambda i: (i.due_date, i.sequence, i.pk))[:20]
    bench = selectors.workbench(user=org.finance)
    assert [i.pk for i in bench.due_this_week] == [i.pk for i in expected]
    assert bench.due_this_week_count == 25
    assert all(i.days_overdue == 0 and i.open_value == D("10.00") for i in bench.due_this_week)


def test_workbench_unallocated_totals(org, books):
    # a payment of 700 with 300 allocated (400 left), one fully allocated, one of another
    # department (200 left), one reversed
    customer, other = books.customer, make_customer(org.rep3a, name="二部付款人")

    def pay(ref, amount, allocated="0.00", payer=customer, **kwargs):
        Payment.objects.create(customer=payer, owner=payer.owner, amount=D(amount),
                               allocated_amount=D(allocated), received_on=TODAY,
                               bank_reference=ref, **kwargs)  # fmt: skip

    pay("U-1", "700.00", "300.00")
    pay("U-2", "50.00", "50.00")
    pay("U-3", "200.00", payer=other)
    pay("U-4", "80.00", status="reversed", reversal_reason="重复入账")
    # then
    bench = selectors.workbench(user=org.finance)
    assert (bench.unallocated_count, bench.unallocated_amount) == (2, D("600.00"))
    assert {p.bank_reference for p in bench.unallocated} == {"U-1", "U-3"}
    mine = selectors.workbench(user=org.manager1)
    assert (mine.unallocated_count, mine.unallocated_amount) == (1, D("400.00"))


# --- collection figures ---------------------------------------------------------------------


def _one_pass(user, start: date, end: date, group_by: str) -> figures.CollectionReport:
    """The collection figures with the installment sums of one pass over the installments
    that can have a figure in the period (the definition; rows without figures dropped)."""
    queries = figures._period_queries(
        user, start, end, narrow={"team": None, "owner": None, "customer": None}, search=""
    )
    key = figures._key_column(group_by)
    if key is None:
        installments = [queries.installments.aggregate(**queries.installment_sums)]
    else:
        installments = queries.installments.values(key).annotate(**queries.installment_sums)
    _parts, allocations, write_offs = queries.grouped(group_by)
    return figures._collection_report(start, end, group_by, installments, allocations, write_offs)


def _figures(report) -> list[tuple]:
    rows = [*report.rows, report.total]
    return [(r.key, r.label, *(getattr(r, name) for name in figures.SUMS)) for r in rows]


@pytest.fixture
def periods_books(org, books, time_machine):
    """`books`, with a payment on 10 June allocated oldest due first to rep1a's customer, and
    rep2a's customer paid in full on 2 June for an installment due 1 June (nothing open)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    payment = payment_record(by=org.finance, customer=books.customer, amount="600.00",
                             received_on=date(2026, 6, 10), bank_reference="P-1",
                             ).payment  # fmt: skip
    payment_allocate(payment=payment, by=org.finance, lines=None)
    paid = make_contract(make_customer(org.rep2a, name="结清客户"))
    inst = make_installment(paid, 1, "90.00", date(2026, 6, 1))
    time_machine.move_to(datetime(2026, 6, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    payment = payment_record(by=org.finance, customer=paid.customer, amount="90.00",
                             received_on=date(2026, 6, 2), bank_reference="P-2",
                             ).payment  # fmt: skip
    payment_allocate(payment=payment, by=org.finance, lines=[(inst, "90.00")])
    time_machine.move_to(datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    return books


PERIODS = [
    (date(2026, 6, 1), date(2026, 6, 30)),  # this month
    (date(2026, 1, 1), TODAY),  # this year to date
    (date(2026, 3, 1), date(2026, 3, 31)),  # an earlier month
    (TODAY, TODAY),  # one day
    (date(2025, 1, 1), date(2025, 1, 31)),  # nothing in it
]


@pytest.mark.parametrize("group_by", ["company", "team", "rep"])
@pytest.mark.parametrize("period", PERIODS)
def test_collection_figures_equal_one_pass_over_the_installments(
    org, periods_books, group_by, period
):
    for user in (org.finance, org.manager1, org.sup1):
        ours = figures.collection_figures(user=user, start=period[0], end=period[1],
                                          group_by=group_by)  # fmt: skip
        assert _figures(ours) == _figures(_one_pass(user, *period, group_by)), user.username


def test_rep_with_nothing_in_the_period_has_no_row(org, periods_books):
    # rep2a's only installment was due 1 June and paid 2 June: a row in June; in March it
    # was open at the end (due later, paid since); in July nothing is left of it
    june, march, july = (
        figures.collection_figures(user=org.finance, start=date(2026, month, 1),
                                   end=date(2026, month, 30), group_by="rep")
        for month in (6, 3, 7)
    )  # fmt: skip
    row = {r.key: r for r in june.rows}[org.rep2a.pk]
    assert (row.due, row.to_collect, row.collected) == (D("90.00"),) * 3
    assert row.collection_rate == D("100.0")
    row = {r.key: r for r in march.rows}[org.rep2a.pk]
    assert (row.due, row.to_collect, row.open_at_end, row.overdue_at_end) == (
        D("0.00"), D("0.00"), D("90.00"), D("0.00"),
    )  # fmt: skip
    assert org.rep2a.pk not in {r.key for r in july.rows}
    assert {r.key for r in july.rows} == {org.rep1a.pk, org.rep3a.pk}  # their open money


@pytest.mark.parametrize("group_by", ["company", "team", "rep", "customer"])
def test_page_pass_gives_the_same_reports_as_each(org, periods_books, group_by):
    start, end = date(2026, 6, 1), date(2026, 6, 30)
    for user in (org.finance, org.manager1, org.rep1a):
        for as_of in (TODAY, TODAY + timedelta(days=31)):
            for narrow in ({}, {"owner": org.rep1a}, {"team": org.team1}):
                kw = {"user": user, "group_by": group_by, **narrow}
                aging, collection = figures.aging_and_collection(
                    as_of=as_of, start=start, end=end, **kw
                )
                alone = figures.aging(as_of=as_of, **kw)
                assert [vars(r) for r in aging.rows] == [vars(r) for r in alone.rows]
                assert vars(aging.total) == vars(alone.total)
                assert (aging.as_of, aging.has_next) == (alone.as_of, alone.has_next)
                each = figures.collection_figures(start=start, end=end, **kw)
                assert _figures(collection) == _figures(each)
                assert collection.has_next == each.has_next


def test_page_pass_refuses_an_end_before_the_start(org):
    with pytest.raises(ValueError):
        figures.aging_and_collection(user=org.finance, as_of=None, start=TODAY,
                                     end=TODAY - timedelta(days=1))  # fmt: skip
