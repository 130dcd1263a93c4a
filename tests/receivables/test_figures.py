"""Receivables figures (应收分析, `apps.receivables.figures`): aging buckets at every boundary,
the collection rate, DSO, overdue ratio and bad-debt ratio of a period built with the real
payment, allocation, reversal and write-off services on the days they happened, the groupings
(company, team, rep, customer) and the data scope. Every expected number is worked out by hand
in the test's comments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.approvals.services import approval_approve
from apps.receivables import figures
from apps.receivables.models import Installment
from apps.receivables.services import (
    allocation_reverse,
    payment_allocate,
    payment_record,
    writeoff_create,
    writeoff_submit,
)

from .conftest import TODAY, make_contract, make_customer, make_installment

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")


def on_day(time_machine, day: date) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI))


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


# --- aging ---------------------------------------------------------------------------------


@pytest.fixture
def boundaries(org, today):
    """rep1a's customer owes one installment per boundary, each a different power of two so
    that a wrong bucket shows: due in 5 days 1.00 and today 2.00 (current); 1 day overdue 4.00
    and 30 days 8.00 (1–30); 31 days 16.00 and 60 days 32.00 (31–60); 61 days 64.00 and 90
    days 128.00 (61–90); 91 days 256.00 (90+). Plus what must not count: a paid installment,
    a written-off one, and a partly paid one that counts only its open 50.00 (90+)."""
    contract = make_contract(make_customer(org.rep1a, name="边界客户"))
    ages = [(-5, "1.00"), (0, "2.00"), (1, "4.00"), (30, "8.00"), (31, "16.00"),
            (60, "32.00"), (61, "64.00"), (90, "128.00"), (91, "256.00")]  # fmt: skip
    for seq, (age, amount) in enumerate(ages, start=1):
        make_installment(contract, seq, amount, days_ago(age),
                         status="scheduled" if age < 0 else "due")  # fmt: skip
    make_installment(contract, 20, "1000.00", days_ago(45), status="paid",
                     paid_amount=D("1000.00"))  # fmt: skip
    make_installment(contract, 21, "2000.00", days_ago(200), status="written_off",
                     written_off_amount=D("2000.00"))  # fmt: skip
    make_installment(contract, 22, "150.00", days_ago(120), status="partially_paid",
                     paid_amount=D("100.00"))  # fmt: skip
    return contract


def test_aging_puts_each_boundary_day_in_its_bucket(org, boundaries):
    report = figures.aging(user=org.finance, as_of=TODAY)
    row = report.rows[0]
    assert row.current == D("3.00")  # 1 + 2: not yet due and due today
    assert row.d1_30 == D("12.00")  # 4 + 8: days 1 and 30
    assert row.d31_60 == D("48.00")  # 16 + 32: days 31 and 60
    assert row.d61_90 == D("192.00")  # 64 + 128: days 61 and 90
    assert row.d90_plus == D("306.00")  # 256 (day 91) + 50 open of the partly paid one
    assert row.open == D("561.00")
    assert row.overdue == D("558.00")
    assert row.overdue_ratio == D("99.5")  # 558 / 561 = 99.465… %
    assert row.count == 10  # the paid and the written-off one are not open
    assert (report.total.open, report.total.overdue) == (D("561.00"), D("558.00"))


def test_aging_as_of_another_day_counts_the_days_to_that_day(org, boundaries):
    # as of tomorrow every installment is a day older: today's 2.00 is 1 day overdue, the
    # 30-day 8.00 is 31, the 60-day 32.00 is 61, the 90-day 128.00 is 91
    row = figures.aging(user=org.finance, as_of=TODAY + timedelta(days=1)).rows[0]
    assert row.current == D("1.00")
    assert row.d1_30 == D("6.00")  # 2 + 4
    assert row.d31_60 == D("24.00")  # 8 + 16
    assert row.d61_90 == D("96.00")  # 32 + 64
    assert row.d90_plus == D("434.00")  # 128 + 256 + 50


def test_aging_defaults_to_today(org, boundaries):
    assert figures.aging(user=org.finance).as_of == TODAY
    assert figures.aging(user=org.finance).rows[0].d1_30 == D("12.00")


def test_nothing_open_has_no_overdue_ratio(org, today):
    row = figures.aging(user=org.finance).rows[0]
    assert (row.open, row.overdue_ratio) == (D("0.00"), None)


@pytest.fixture
def three_teams(org, today):
    """Overdue money in three teams: rep1a (team 1) two customers, 100.00 10 days overdue and
    200.00 due in 10 days; rep1b (team 1) 40.00 45 days overdue; rep2a (team 2) 300.00 100 days
    overdue; rep3a (team 3) 7.00 due today."""
    a1 = make_contract(make_customer(org.rep1a, name="甲公司"))
    a2 = make_contract(make_customer(org.rep1a, name="乙公司"))
    b = make_contract(make_customer(org.rep1b, name="丙公司"))
    c = make_contract(make_customer(org.rep2a, name="丁公司"))
    d = make_contract(make_customer(org.rep3a, name="戊公司"))
    make_installment(a1, 1, "100.00", days_ago(10))
    make_installment(a2, 1, "200.00", days_ago(-10), status="scheduled")
    make_installment(b, 1, "40.00", days_ago(45))
    make_installment(c, 1, "300.00", days_ago(100))
    make_installment(d, 1, "7.00", TODAY)
    return {"a1": a1.customer, "a2": a2.customer, "b": b.customer, "c": c.customer}


def _by_key(report) -> dict:
    return {row.key: row for row in report.rows}


def test_aging_by_team_rep_and_customer(org, three_teams):
    teams = _by_key(figures.aging(user=org.finance, group_by="team"))
    assert set(teams) == {org.team1.pk, org.team2.pk, org.team3.pk}
    assert (teams[org.team1.pk].open, teams[org.team1.pk].overdue) == (D("340.00"), D("140.00"))
    assert teams[org.team1.pk].label == "Team 1"
    assert teams[org.team2.pk].d90_plus == D("300.00")
    assert teams[org.team3.pk].current == D("7.00")
    reps = _by_key(figures.aging(user=org.finance, group_by="rep"))
    assert reps[org.rep1a.pk].d1_30 == D("100.00") and reps[org.rep1b.pk].d31_60 == D("40.00")
    customers = figures.aging(user=org.finance, group_by="customer")
    # the largest open amount first: 丁 300, 乙 200, 甲 100, 丙 40, 戊 7
    assert [r.label for r in customers.rows] == ["丁公司", "乙公司", "甲公司", "丙公司", "戊公司"]
    for grouping in ("company", "team", "rep", "customer"):
        total = figures.aging(user=org.finance, group_by=grouping).total
        assert (total.open, total.overdue) == (D("647.00"), D("440.00")), grouping


def test_customer_grouping_pages_and_searches(org, three_teams):
    first = figures.aging(user=org.finance, group_by="customer", limit=2)
    assert [r.label for r in first.rows] == ["丁公司", "乙公司"] and first.has_next
    last = figures.aging(user=org.finance, group_by="customer", limit=2, offset=4)
    assert [r.label for r in last.rows] == ["戊公司"] and not last.has_next
    assert first.total.open == D("647.00")  # the total is over every customer, not the page
    found = figures.aging(user=org.finance, group_by="customer", search="乙")
    assert [r.label for r in found.rows] == ["乙公司"] and found.total.open == D("200.00")


def test_narrowing_to_a_team_or_a_rep(org, three_teams):
    team = figures.aging(user=org.finance, group_by="rep", team=org.dept1)
    assert set(_by_key(team)) == {org.rep1a.pk, org.rep1b.pk, org.rep2a.pk}  # subtree
    rep = figures.aging(user=org.finance, group_by="customer", owner=org.rep1a)
    assert {r.label for r in rep.rows} == {"甲公司", "乙公司"}


def test_unknown_grouping_is_refused(org):
    with pytest.raises(ValueError):
        figures.aging(user=org.finance, group_by="region")


# --- scope ---------------------------------------------------------------------------------


def test_rep_sees_only_own_installments(org, three_teams):
    report = figures.aging(user=org.rep1b, group_by="customer")
    assert [r.label for r in report.rows] == ["丙公司"]
    assert report.total.open == D("40.00")
    assert figures.aging(user=org.rep1b).rows[0].open == D("40.00")


def test_supervisor_sees_the_team_and_manager_the_department(org, three_teams):
    assert figures.aging(user=org.sup1).total.open == D("340.00")  # rep1a + rep1b
    assert figures.aging(user=org.manager1).total.open == D("640.00")  # teams 1 and 2
    assert set(_by_key(figures.aging(user=org.manager1, group_by="team"))) == {
        org.team1.pk, org.team2.pk,
    }  # fmt: skip


def test_someone_without_installments_in_scope_gets_empty_figures(org, three_teams):
    # sup3 heads team 3: nothing of teams 1 and 2, and by rep only rep3a
    assert set(_by_key(figures.aging(user=org.sup3, group_by="rep"))) == {org.rep3a.pk}
    report = figures.aging(user=org.sup3, group_by="customer", owner=org.rep1a)
    assert report.rows == [] and report.total.open == D("0.00")
    collection = figures.collection_figures(
        user=org.sup3, start=date(2026, 6, 1), end=date(2026, 6, 30), group_by="rep",
        team=org.team1,
    )  # fmt: skip
    assert collection.rows == [] and collection.total.due == D("0.00")


def test_scope_helpers_refuse_what_is_outside(org, three_teams):
    assert org.team3 not in figures.figure_teams(user=org.sup1)
    assert not figures.figure_people(user=org.sup1).filter(pk=org.rep3a.pk).exists()
    assert figures.figure_people(user=org.finance).filter(pk=org.rep3a.pk).exists()
    assert figures.figure_customer(user=org.rep1b, pk=three_teams["a1"].pk) is None
    assert figures.figure_customer(user=org.sup1, pk=three_teams["a1"].pk) is not None
    assert list(figures.figure_teams(user=org.rep1a)) == []


# --- collection figures --------------------------------------------------------------------

MAY = (date(2026, 5, 1), date(2026, 5, 31))  # N = 31 days


@pytest.fixture
def may(org, time_machine, second_finance):
    """rep1a's customer, with what happened around May 2026 done by the services on its day:

    I1 1,000 due 10 Apr (overdue on 1 May): 400 allocated 10 May.
    I2 2,000 due 20 May: 2,000 allocated 25 May.
    I3   500 due  5 May: 100 allocated 20 Apr (in advance), 200 on 5 Jun.
    I4   800 due  1 Mar: written off (approved) 15 May.
    I5   700 due 10 Jun: paid early, 28 May.
    I6   300 due  1 Jul: nothing paid.
    I7   100 due 12 May: 100 allocated 13 May and taken back the same day.
    """
    customer = make_customer(org.rep1a, name="五月客户")
    contract = make_contract(customer)
    on_day(time_machine, date(2026, 2, 1))
    i = {
        1: make_installment(contract, 1, "1000.00", date(2026, 4, 10), status="scheduled"),
        2: make_installment(contract, 2, "2000.00", date(2026, 5, 20), status="scheduled"),
        3: make_installment(contract, 3, "500.00", date(2026, 5, 5), status="scheduled"),
        4: make_installment(contract, 4, "800.00", date(2026, 3, 1), status="due"),
        5: make_installment(contract, 5, "700.00", date(2026, 6, 10), status="scheduled"),
        6: make_installment(contract, 6, "300.00", date(2026, 7, 1), status="scheduled"),
        7: make_installment(contract, 7, "100.00", date(2026, 5, 12), status="scheduled"),
    }
    references = iter(range(1, 100))

    def pay(day: date, lines: list[tuple[int, str]]):
        on_day(time_machine, day)
        total = sum(D(amount) for _n, amount in lines)
        payment = payment_record(by=org.finance, customer=customer, amount=total,
                                 received_on=day, bank_reference=f"MAY-{next(references)}",
                                 ).payment  # fmt: skip
        fresh = [(Installment.objects.get(pk=i[n].pk), amount) for n, amount in lines]
        return payment_allocate(payment=payment, by=org.finance, lines=fresh)

    pay(date(2026, 4, 20), [(3, "100.00")])
    pay(date(2026, 5, 10), [(1, "400.00")])
    on_day(time_machine, date(2026, 5, 13))
    (wrong,) = pay(date(2026, 5, 13), [(7, "100.00")])
    allocation_reverse(allocation=wrong, by=org.finance, reason="错配到其他分期")
    on_day(time_machine, date(2026, 5, 15))
    writeoff = writeoff_create(installment=i[4], by=org.finance, amount="800.00",
                               reason="客户破产清算")  # fmt: skip
    request = writeoff_submit(writeoff=writeoff, by=org.finance)
    request = approval_approve(request=request, by=second_finance)
    approval_approve(request=request, by=org.manager1)
    pay(date(2026, 5, 25), [(2, "2000.00")])
    pay(date(2026, 5, 28), [(5, "700.00")])
    pay(date(2026, 6, 5), [(3, "200.00")])
    on_day(time_machine, TODAY)
    assert Installment.objects.get(pk=i[4].pk).status == "written_off"
    return customer


def test_collection_figures_of_a_period(org, may):
    report = figures.collection_figures(user=org.finance, start=MAY[0], end=MAY[1])
    row = report.total
    # due in May: I2 2,000 + I3 500 + I7 100
    assert row.due == D("2600.00")
    # allocated in May to installments due by 31 May: I1 400 + I2 2,000 (I5 is due in June,
    # I7's allocation was taken back, I3's 100 came in April)
    assert row.collected == D("2400.00")
    # open on 1 May, of what is due by 31 May: I1 1,000 + I2 2,000 + I3 400 + I4 800 + I7 100
    assert row.to_collect == D("4300.00")
    assert row.overdue_at_start == D("1800.00")  # I1 1,000 + I4 800
    assert row.collection_rate == D("55.8")  # 2,400 / 4,300 = 55.81 %
    # open on 31 May of what was due by then: I1 600 + I3 400 + I7 100
    assert row.receivable_at_end == D("1100.00")
    assert row.dso == D("13.1")  # 1,100 / 2,600 × 31 = 13.12 days
    # on 31 May: overdue I1 600 + I3 400 + I7 100; open also I6 300 (I5 was paid early)
    assert (row.overdue_at_end, row.open_at_end) == (D("1100.00"), D("1400.00"))
    assert row.overdue_ratio == D("78.6")  # 1,100 / 1,400 = 78.57 %
    assert row.written_off == D("800.00")
    assert row.bad_debt_ratio == D("30.8")  # 800 / 2,600 = 30.77 %
    assert report.days == 31 and report.rows[0].collection_rate == D("55.8")


def test_collection_figures_of_another_period(org, may):
    # June: due I5 700 (paid in May); to collect, open on 1 Jun of what is due by 30 Jun:
    # I1 600 + I3 400 + I7 100 (I5 was paid in advance: nothing left); collected in June to
    # those: I3 200 (5 Jun)
    row = figures.collection_figures(
        user=org.finance, start=date(2026, 6, 1), end=date(2026, 6, 30)
    ).total
    assert (row.due, row.to_collect, row.collected) == (D("700.00"), D("1100.00"), D("200.00"))
    assert row.collection_rate == D("18.2")  # 200 / 1,100
    assert row.receivable_at_end == D("900.00")  # I1 600 + I3 200 + I7 100
    assert row.dso == D("38.6")  # 900 / 700 × 30 = 38.57
    assert (row.written_off, row.bad_debt_ratio) == (D("0.00"), D("0.0"))


def test_nothing_due_has_no_rates(org, may):
    row = figures.collection_figures(
        user=org.finance, start=date(2025, 1, 1), end=date(2025, 1, 31)
    ).total
    assert (row.to_collect, row.due) == (D("0.00"), D("0.00"))
    assert (row.collection_rate, row.dso, row.bad_debt_ratio) == (None, None, None)


def test_collection_figures_by_rep_team_and_customer_add_up(org, may, time_machine):
    # given rep3a's customer with 500 due 10 May, 250 of it collected on 12 May
    other = make_contract(make_customer(org.rep3a, name="三组客户"))
    inst = make_installment(other, 1, "500.00", date(2026, 5, 10))
    on_day(time_machine, date(2026, 5, 12))
    payment = payment_record(
        by=org.finance, customer=other.customer, amount="250.00", received_on=date(2026, 5, 12),
        bank_reference="T3",
    ).payment  # fmt: skip
    payment_allocate(payment=payment, by=org.finance, lines=[(inst, "250.00")])
    on_day(time_machine, TODAY)
    # when
    reps = _by_key(figures.collection_figures(user=org.finance, start=MAY[0], end=MAY[1],
                                              group_by="rep"))  # fmt: skip
    teams = _by_key(figures.collection_figures(user=org.finance, start=MAY[0], end=MAY[1],
                                               group_by="team"))  # fmt: skip
    customers = figures.collection_figures(user=org.finance, start=MAY[0], end=MAY[1],
                                           group_by="customer")  # fmt: skip
    # then
    assert set(reps) == {org.rep1a.pk, org.rep3a.pk}
    assert (reps[org.rep1a.pk].collected, reps[org.rep1a.pk].collection_rate) == (
        D("2400.00"), D("55.8"),
    )  # fmt: skip
    assert (reps[org.rep3a.pk].collected, reps[org.rep3a.pk].to_collect) == (
        D("250.00"), D("500.00"),
    )  # fmt: skip
    assert reps[org.rep3a.pk].collection_rate == D("50.0")
    assert teams[org.team3.pk].dso == D("15.5")  # 250 open / 500 due × 31
    assert [r.label for r in customers.rows] == ["五月客户", "三组客户"]  # open 1,000 vs 250
    for report in (figures.collection_figures(user=org.finance, start=MAY[0], end=MAY[1],
                                              group_by=g) for g in figures.GROUP_BY):  # fmt: skip
        total = report.total
        assert (total.collected, total.to_collect, total.due) == (
            D("2650.00"), D("4800.00"), D("3100.00"),
        ), report.group_by  # fmt: skip
        assert total.collection_rate == D("55.2")  # 2,650 / 4,800 = 55.21 %


def test_customer_who_paid_everything_in_the_period_still_has_a_row(org, today, time_machine):
    # given a customer whose only installment, overdue on 1 May, was paid in full on 3 May
    contract = make_contract(make_customer(org.rep1a, name="结清客户"))
    inst = make_installment(contract, 1, "90.00", date(2026, 4, 1))
    on_day(time_machine, date(2026, 5, 3))
    payment = payment_record(by=org.finance, customer=contract.customer, amount="90.00",
                             received_on=date(2026, 5, 3), bank_reference="P3").payment  # fmt: skip
    payment_allocate(payment=payment, by=org.finance, lines=[(inst, "90.00")])
    on_day(time_machine, TODAY)
    # when
    report = figures.collection_figures(user=org.finance, start=MAY[0], end=MAY[1],
                                        group_by="customer")  # fmt: skip
    # then
    assert [(r.label, r.collected, r.collection_rate) for r in report.rows] == [
        ("结清客户", D("90.00"), D("100.0"))
    ]


def test_rep_collection_figures_exclude_other_reps(org, may):
    # rep1b owns nothing of May: nothing due, nothing collected
    row = figures.collection_figures(user=org.rep1b, start=MAY[0], end=MAY[1]).total
    assert (row.due, row.collected, row.to_collect, row.written_off) == (D("0.00"),) * 4
    mine = figures.collection_figures(user=org.rep1a, start=MAY[0], end=MAY[1]).total
    assert (mine.collected, mine.collection_rate) == (D("2400.00"), D("55.8"))


def test_named_periods(today):
    assert figures.period_dates("this_month") == (date(2026, 6, 1), date(2026, 6, 30))
    assert figures.period_dates("last_month") == (date(2026, 5, 1), date(2026, 5, 31))
    assert figures.period_dates("this_quarter") == (date(2026, 4, 1), date(2026, 6, 30))
    assert figures.period_dates("last_quarter") == (date(2026, 1, 1), date(2026, 3, 31))
    assert figures.period_dates("last_quarter", on=date(2026, 2, 3)) == (
        date(2025, 10, 1), date(2025, 12, 31),
    )  # fmt: skip


def test_end_before_start_is_refused(org):
    with pytest.raises(ValueError):
        figures.collection_figures(user=org.finance, start=MAY[1], end=MAY[0])


# --- the page ------------------------------------------------------------------------------


def _cell(body: str, key, column: str) -> str:
    """The text of a table cell: the row `data-key`, the cell `data-col`."""
    import re

    row = re.search(rf'<tr[^>]*data-key="{key}"[^>]*>(.*?)</tr>', body, re.S)
    assert row, f"no row {key}"
    cell = re.search(rf'data-col="{column}"[^>]*>([^<]*)<', row.group(1))
    assert cell, f"no cell {column} in row {key}"
    return cell.group(1).strip()


def test_page_shows_aging_and_collection_by_team(client, org, three_teams):
    client.force_login(org.finance)
    response = client.get("/receivables/figures/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert _cell(body, org.team1.pk, "d1_30") == "100.00"
    assert _cell(body, org.team1.pk, "d31_60") == "40.00"
    assert _cell(body, org.team1.pk, "open") == "340.00"
    assert _cell(body, org.team1.pk, "overdue_ratio") == "41.2%"  # 140 / 340
    assert _cell(body, org.team2.pk, "d90_plus") == "300.00"
    assert _cell(body, "total", "open") == "647.00"
    assert 'data-figure="overdue_ratio">68.0%<' in body  # 440 / 647
    assert "How these figures are computed" in body
    assert 'class="progress-stacked aging-bar"' in body  # the chart
    # each team drills down to its reps
    assert f"group_by=rep&amp;team={org.team1.pk}" in body


def test_page_drills_from_rep_to_customers_to_installments(client, org, three_teams):
    client.force_login(org.sup1)
    body = client.get("/receivables/figures/", {"group_by": "rep"}).content.decode()
    assert f"group_by=customer&amp;owner={org.rep1a.pk}" in body
    body = client.get(
        "/receivables/figures/", {"group_by": "customer", "owner": org.rep1a.pk}
    ).content.decode()
    customer = three_teams["a1"]
    assert f"/receivables/figures/customers/{customer.pk}/" in body
    assert _cell(body, customer.pk, "d1_30") == "100.00"
    response = client.get(f"/receivables/figures/customers/{customer.pk}/",
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 200
    page = response.content.decode()
    assert "10 days overdue" in page and 'data-figure="open">100.00<' in page


def test_rep_page_shows_only_own_figures(client, org, three_teams):
    client.force_login(org.rep1b)
    body = client.get("/receivables/figures/").content.decode()  # by customer for a rep
    assert 'data-figure="open">40.00<' in body
    assert "丙公司" in body and "甲公司" not in body and "丁公司" not in body


@pytest.mark.parametrize(
    "params",
    [{"owner": "rep1a"}, {"team": "team1"}, {"group_by": "customer", "owner": "rep2a"}],
)
def test_drill_down_outside_the_scope_is_404(client, org, three_teams, params):
    client.force_login(org.sup3)
    query = {k: (getattr(org, v).pk if k in ("owner", "team") else v) for k, v in params.items()}
    assert client.get("/receivables/figures/", query).status_code == 404


def test_customer_page_outside_the_scope_is_404(client, org, three_teams):
    client.force_login(org.rep1b)
    url = f"/receivables/figures/customers/{three_teams['a1'].pk}/"
    assert client.get(url).status_code == 404
    client.force_login(org.sup1)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"group_by": "region"}, "group_by"),
        ({"period": "custom", "start": "2026-05-02", "end": "2026-05-01"}, "end"),
        ({"period": "custom", "start": "2026-05-02"}, "end"),
        ({"period": "decade"}, "period"),
        ({"team": "x"}, "team"),
    ],
)
def test_bad_filter_is_a_form_error_naming_the_field(client, org, params, field):
    client.force_login(org.finance)
    response = client.get("/receivables/figures/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def test_excel_export_has_both_tables(client, org, three_teams):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(org.finance)
    response = client.get("/receivables/figures/", {"group_by": "rep", "format": "xlsx"},
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["Aging", "Collection"]
    rows = list(workbook["Aging"].iter_rows(values_only=True))
    assert rows[2][:3] == ("Rep", "Current", "1–30 days")
    by_label = {row[0]: row for row in rows[3:]}
    assert by_label[org.rep2a.display_name][5] == 300  # over 90 days
    assert by_label["Total"][6] == 647  # open
    assert len(by_label) == 5  # four reps and the total


def test_page_costs_the_same_queries_for_many_reps_and_customers(
    client, org, three_teams, django_assert_max_num_queries
):
    from apps.accounts.choices import Role
    from tests.factories import UserFactory

    client.force_login(org.finance)
    client.get("/receivables/figures/")  # warm the session
    for n in range(12):
        rep = UserFactory(username=f"extra{n}", role=Role.REP, org_unit=org.team2)
        contract = make_contract(make_customer(rep, name=f"客户{n}"))
        make_installment(contract, 1, "10.00", days_ago(n))
    # session and user, the units of the team filter, the names of the rows, then by team or
    # rep 4: the open installments once for both tables, the falling-due ones, the
    # allocations, the write-offs; by customer aging 3 (the ranking, the page's buckets, the
    # total) and collection 7 (the ranking, the page's allocations and write-offs, the total's
    # open and falling-due installments, allocations and write-offs)
    for group_by in ("team", "rep", "customer"):
        with django_assert_max_num_queries(14 if group_by == "customer" else 8):
            response = client.get("/receivables/figures/", {"group_by": group_by})
        assert response.status_code == 200


def test_navigation_lists_the_page_for_finance_not_for_reps(client, org):
    from apps.core.navigation import nav_for

    assert "receivables_figures" in {i["key"] for i in nav_for(org.finance)}
    assert "receivables_figures" in {i["key"] for i in nav_for(org.sup1)}
    assert "receivables_figures" not in {i["key"] for i in nav_for(org.rep1a)}
