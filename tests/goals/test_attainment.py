"""The target attainment report (`apps.goals.attainment`) and its pages: the documents of June
2026 of `test_actuals` with targets set by hand, so that every row's target, actual,
attainment and gap is known; the drill-down company → department → team → rep → documents;
rep1b who moved from team 1 to team 2 on 16 June; the scope (404 outside it); the Excel file
cell by cell; bad filters; the query budget.

Targets of June 2026 (month), contract amount: company 1,000,000 · dept1 900,000 · team1
10,000 · team2 500,000 · rep1a (team1) 4,000 · rep1b (team1) 2,000 and (team2) 600,000.
Visits: team1 10."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.http import Http404
from django.utils import translation
from openpyxl import load_workbook

from apps.accounts.choices import Role
from apps.goals import attainment
from apps.goals.choices import Metric
from apps.goals.models import Target
from apps.goals.periods import period_of
from tests.factories import UserFactory

from .test_actuals import June, contract, june_documents, visit

pytestmark = pytest.mark.django_db

D = Decimal
PERIOD = period_of("month", date(2026, 6, 15))
PAGE = "/goals/attainment/"
DOCUMENTS = "/goals/attainment/documents/"
JUNE_QUERY = {"period": "month", "date": "2026-06-15"}


def target(metric: str, amount: str, *, unit=None, user=None, status: str = "active") -> Target:
    scope = "rep" if user else ("unit" if unit else "company")
    made = Target.objects.create(
        metric=metric, period_kind="month", period_start=PERIOD.start, period_end=PERIOD.end,
        scope_kind=scope, org_unit=unit, user=user, amount=D(amount),
    )  # fmt: skip
    if status != "active":
        Target.objects.filter(pk=made.pk).update(status=status)
    return made


@pytest.fixture
def june(org, time_machine) -> June:
    documents = june_documents(org, time_machine)
    amount = Metric.CONTRACT_AMOUNT
    target(amount, "1000000.00")
    target(amount, "900000.00", unit=org.dept1)
    target(amount, "10000.00", unit=org.team1)
    target(amount, "500000.00", unit=org.team2)
    target(amount, "4000.00", unit=org.team1, user=org.rep1a)
    target(amount, "2000.00", unit=org.team1, user=org.rep1b)
    target(amount, "600000.00", unit=org.team2, user=org.rep1b)
    target(Metric.VISITS, "10", unit=org.team1)
    target(amount, "1.00", unit=org.team3, status="draft")  # a draft is no target
    return documents


def report(user, **kwargs) -> attainment.Attainment:
    kwargs.setdefault("metrics", [Metric.CONTRACT_AMOUNT])
    return attainment.attainment(user=user, period=PERIOD, **kwargs)


def rows(result: attainment.Attainment, metric: str = Metric.CONTRACT_AMOUNT) -> dict:
    return {(row.kind, row.key): row.cells[metric] for row in result.rows}


# --- rows, totals, drill-down -------------------------------------------------------------------


def test_company_rows_are_the_departments(org, june):
    result = report(org.finance)
    assert result.node.kind == "company"
    found = rows(result)
    assert list(found) == [("unit", org.dept1.pk), ("unit", org.dept2.pk)]
    dept1 = found[("unit", org.dept1.pk)]
    assert (dept1.target, dept1.actual) == (D("900000.00"), D("803000.00"))
    assert dept1.attainment == D("89.2")  # 803,000 / 900,000 = 89.22 %
    assert dept1.gap == D("97000.00")
    dept2 = found[("unit", org.dept2.pk)]
    assert (dept2.target, dept2.actual, dept2.attainment, dept2.gap) == (None, D("0"), None, None)
    total = result.totals[Metric.CONTRACT_AMOUNT]
    assert (total.target, total.actual) == (D("1000000.00"), D("803000.00"))
    assert (total.attainment, total.gap) == (D("80.3"), D("197000.00"))


def test_department_rows_are_its_teams_and_its_people(org, june):
    found = rows(report(org.finance, unit_id=org.dept1.pk))
    assert list(found) == [("unit", org.team1.pk), ("unit", org.team2.pk),
                           ("rep", org.manager1.pk)]  # fmt: skip
    team1, team2 = found[("unit", org.team1.pk)], found[("unit", org.team2.pk)]
    assert (team1.actual, team1.attainment, team1.gap) == (D("3000.00"), D("30.0"), D("7000.00"))
    # over the target: 160 % and a negative gap
    assert (team2.actual, team2.attainment, team2.gap) == (
        D("800000.00"), D("160.0"), D("-300000.00"),
    )  # fmt: skip
    assert found[("rep", org.manager1.pk)].actual == D("0")


def test_team_rows_are_the_reps_who_were_in_it_during_the_period(org, june):
    team1 = rows(report(org.finance, unit_id=org.team1.pk))
    # rep1b left team 1 on 16 June but belonged to it in June: listed with the part before
    assert set(team1) == {("rep", org.rep1a.pk), ("rep", org.rep1b.pk), ("rep", org.sup1.pk)}
    rep1a = team1[("rep", org.rep1a.pk)]
    assert (rep1a.target, rep1a.actual, rep1a.attainment) == (D("4000.00"), D("3000.00"), D("75.0"))
    rep1b = team1[("rep", org.rep1b.pk)]
    assert (rep1b.target, rep1b.actual, rep1b.attainment) == (D("2000.00"), D("0"), D("0.0"))
    team2 = rows(report(org.finance, unit_id=org.team2.pk))
    rep1b_after = team2[("rep", org.rep1b.pk)]
    assert (rep1b_after.target, rep1b_after.actual) == (D("600000.00"), D("768000.00"))
    assert rep1b_after.attainment == D("128.0")
    assert team2[("rep", org.rep2a.pk)].actual == D("32000.00")


def test_rows_add_up_to_the_node_for_every_metric(org, june):
    for unit in (None, org.dept1, org.team1, org.team2):
        result = report(org.finance, unit_id=unit.pk if unit else None, metrics=None)
        for metric in Metric.values:
            total = sum((row.cells[metric].actual for row in result.rows), D("0"))
            assert total == result.totals[metric].actual, (unit, metric)


def test_mover_counts_for_team1_before_and_team2_after(org, june):
    new = Metric.NEW_CUSTOMERS
    team1 = report(org.finance, unit_id=org.team1.pk, metrics=[new])
    team2 = report(org.finance, unit_id=org.team2.pk, metrics=[new])
    assert rows(team1, new)[("rep", org.rep1b.pk)].actual == D("1")  # D, 10 June
    assert rows(team2, new)[("rep", org.rep1b.pk)].actual == D("1")  # G, 20 June
    assert team1.totals[new].actual == D("2") and team2.totals[new].actual == D("1")
    dept1 = report(org.finance, unit_id=org.dept1.pk, metrics=[new])
    assert dept1.totals[new].actual == D("3")


def test_rep_node_rows_are_the_units_the_rep_was_in(org, june):
    result = report(org.finance, rep_id=org.rep1b.pk, metrics=[Metric.VISITS,
                                                               Metric.CONTRACT_AMOUNT])  # fmt: skip
    assert result.node.kind == "rep"
    found = rows(result)
    assert list(found) == [("unit", org.team1.pk), ("unit", org.team2.pk)]
    assert rows(result, Metric.VISITS)[("unit", org.team1.pk)].actual == D("1")  # V5
    assert rows(result, Metric.VISITS)[("unit", org.team2.pk)].actual == D("1")  # V6
    total = result.totals[Metric.CONTRACT_AMOUNT]
    # both of the rep's targets of June: 2,000 (team 1) + 600,000 (team 2)
    assert (total.target, total.actual, total.attainment) == (
        D("602000.00"), D("768000.00"), D("127.6"),
    )  # fmt: skip


def test_unit_without_a_target_and_a_draft_target(org, june):
    result = report(org.finance, unit_id=org.dept2.pk)
    assert result.totals[Metric.CONTRACT_AMOUNT].target is None  # dept2 has none
    team3 = rows(result)[("unit", org.team3.pk)]
    assert team3.target is None  # its target is a draft


def test_time_elapsed_compares_with_the_pace(org, june):
    assert report(org.finance, today=date(2026, 6, 15)).elapsed == D("50.0")  # 15 of 30 days
    assert report(org.finance, today=date(2026, 5, 31)).elapsed == D("0.0")
    assert report(org.finance, today=date(2026, 7, 1)).elapsed == D("100.0")


def test_breadcrumbs_from_the_company_to_the_rep(org, june):
    with translation.override("en"):
        trail = report(org.finance, rep_id=org.rep1a.pk, unit_id=org.team1.pk).trail
    assert [(c.kind, c.name) for c in trail] == [
        ("company", "Company"), ("unit", "Dept 1"), ("unit", "Team 1"),
        ("rep", org.rep1a.display_name),
    ]  # fmt: skip


# --- scope ----------------------------------------------------------------------------------


def test_heads_start_at_their_unit_and_reps_at_themselves(org, june):
    assert report(org.manager1).node.unit.id == org.dept1.pk
    assert report(org.sup1).node.unit.id == org.team1.pk
    mine = report(org.rep1a)
    assert (mine.node.kind, mine.node.rep.pk) == ("rep", org.rep1a.pk)
    assert mine.totals[Metric.CONTRACT_AMOUNT].actual == D("3000.00")
    # a supervisor's trail starts at their own team
    assert [c.name for c in report(org.sup1).trail] == ["Team 1"]


@pytest.mark.parametrize(
    ("viewer", "params"),
    [
        ("sup1", {"unit_id": "team2"}),
        ("sup1", {"unit_id": "dept1"}),
        ("sup1", {"rep_id": "rep2a"}),
        ("manager1", {"unit_id": "team3"}),
        ("manager1", {"rep_id": "rep3a"}),
        ("rep1a", {"unit_id": "team1"}),
        ("rep1a", {"rep_id": "rep1b"}),
    ],
)
def test_a_node_outside_the_scope_is_404(org, june, viewer, params):
    kwargs = {key: getattr(org, value).pk for key, value in params.items()}
    with pytest.raises(Http404):
        report(getattr(org, viewer), **kwargs)


def test_head_sees_only_the_part_of_a_mover_done_in_their_units(org, june):
    # sup2 (team 2) sees rep1b, who is in team 2 now: only what was done there
    seen_by_sup2 = report(org.sup2, rep_id=org.rep1b.pk, metrics=[Metric.NEW_CUSTOMERS])
    assert seen_by_sup2.totals[Metric.NEW_CUSTOMERS].actual == D("1")  # G
    assert [row.key for row in seen_by_sup2.rows] == [org.team2.pk]
    # sup1 (team 1) still sees rep1b's first half of June, not the rest
    seen_by_sup1 = report(org.sup1, rep_id=org.rep1b.pk, metrics=[Metric.NEW_CUSTOMERS])
    assert seen_by_sup1.totals[Metric.NEW_CUSTOMERS].actual == D("1")  # D
    assert [row.key for row in seen_by_sup1.rows] == [org.team1.pk]
    # finance sees both
    seen_by_finance = report(org.finance, rep_id=org.rep1b.pk, metrics=[Metric.NEW_CUSTOMERS])
    assert seen_by_finance.totals[Metric.NEW_CUSTOMERS].actual == D("2")


# --- documents --------------------------------------------------------------------------------


def test_documents_add_up_to_the_reps_actual_and_link_to_their_pages(org, june):
    found = attainment.rep_documents(
        user=org.finance, period=PERIOD, metric=Metric.CONTRACT_AMOUNT, rep_id=org.rep1a.pk
    )
    assert [d.pk for d in found.rows] == [june.contracts["C1"].pk, june.contracts["C2"].pk]
    assert (
        found.total
        == D("3000.00")
        == report(org.finance, rep_id=org.rep1a.pk).totals[Metric.CONTRACT_AMOUNT].actual
    )
    assert found.rows[0].url == f"/contracts/{june.contracts['C1'].pk}/"
    collected = attainment.rep_documents(
        user=org.finance, period=PERIOD, metric=Metric.COLLECTED, rep_id=org.rep1a.pk
    )
    assert [d.kind for d in collected.rows] == ["allocation"]
    assert collected.rows[0].url == f"/receivables/payments/{june.payments['P1'].pk}/"
    assert collected.total == D("100.00")
    visits = attainment.rep_documents(
        user=org.finance, period=PERIOD, metric=Metric.EFFECTIVE_VISITS, rep_id=org.rep1a.pk
    )
    assert [d.url for d in visits.rows] == [f"/visits/records/{june.visits['V3'].pk}/"]


def test_documents_of_a_mover_seen_by_the_old_head(org, june):
    found = attainment.rep_documents(
        user=org.sup1, period=PERIOD, metric=Metric.NEW_CUSTOMERS, rep_id=org.rep1b.pk
    )
    assert [d.pk for d in found.rows] == [june.contracts["C5"].pk]
    in_team2 = attainment.rep_documents(
        user=org.finance, period=PERIOD, metric=Metric.VISITS, rep_id=org.rep1b.pk,
        unit_id=org.team2.pk,
    )  # fmt: skip
    assert [d.pk for d in in_team2.rows] == [june.visits["V6"].pk]


def test_documents_are_paginated_with_the_total_of_all(org, june):
    first = attainment.rep_documents(user=org.finance, period=PERIOD, metric=Metric.VISITS,
                                     rep_id=org.rep1a.pk, per_page=1)  # fmt: skip
    assert (len(first.rows), first.count, first.total, first.has_next) == (1, 2, D("2"), True)
    second = attainment.rep_documents(user=org.finance, period=PERIOD, metric=Metric.VISITS,
                                      rep_id=org.rep1a.pk, per_page=1, page=2)  # fmt: skip
    assert second.rows[0].pk == june.visits["V3"].pk and not second.has_next


def test_documents_of_someone_outside_the_scope_are_404(org, june):
    with pytest.raises(Http404):
        attainment.rep_documents(user=org.rep1a, period=PERIOD, metric=Metric.VISITS,
                                 rep_id=org.rep1b.pk)  # fmt: skip
    with pytest.raises(Http404):
        attainment.rep_documents(user=org.sup3, period=PERIOD, metric=Metric.VISITS,
                                 rep_id=org.rep1a.pk)  # fmt: skip


# --- queries ----------------------------------------------------------------------------------


def test_company_year_costs_a_constant_number_of_queries(org, june, django_assert_num_queries):
    year = period_of("year", date(2026, 6, 15))
    # units, memberships, targets, and one query per metric (5)
    with django_assert_num_queries(8):
        attainment.attainment(user=org.finance, period=year)
    for n in range(15):
        rep = UserFactory(username=f"more{n}", role=Role.REP, org_unit=org.team3)
        made = contract(rep, june.contracts["C1"].customer, date(2026, 3, n + 1), "10.00")
        visit(rep, made.customer, june.visits["V1"].started_at)
    with django_assert_num_queries(8):
        result = attainment.attainment(user=org.finance, period=year, unit_id=org.dept2.pk)
    assert [(r.kind, r.key) for r in result.rows] == [("unit", org.team3.pk),
                                                      ("rep", org.manager2.pk)]  # fmt: skip
    assert result.totals[Metric.CONTRACT_AMOUNT].actual == D("150.00")


def test_page_costs_the_same_queries_with_more_reps(client, org, june,
                                                    django_assert_max_num_queries):  # fmt: skip
    client.force_login(org.finance)
    client.get(PAGE, JUNE_QUERY)
    for n in range(12):
        rep = UserFactory(username=f"extra{n}", role=Role.REP, org_unit=org.team1)
        contract(rep, june.contracts["C1"].customer, date(2026, 6, 2), "5.00")
    # session, user, the units (twice: the filter's list and the report), memberships,
    # targets, the five actuals
    with django_assert_max_num_queries(11):
        response = client.get(PAGE, {**JUNE_QUERY, "unit": org.team1.pk})
    assert response.status_code == 200
    assert len(re.findall(r'data-key="rep-\d+"', response.content.decode())) == 15


# --- the pages --------------------------------------------------------------------------------


def _cell(body: str, key: str, column: str) -> str:
    row = re.search(rf'<tr[^>]*data-key="{key}"[^>]*>(.*?)</tr>', body, re.S)
    assert row, f"no row {key}"
    cell = re.search(rf'data-col="{column}"[^>]*>(.*?)</t[dh]>', row.group(1), re.S)
    assert cell, f"no cell {column} in row {key}"
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip()


def test_page_shows_the_company_with_gauges_chart_and_drill_links(client, org, june):
    client.force_login(org.finance)
    response = client.get(PAGE, {**JUNE_QUERY, "metric": "contract_amount"},
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert _cell(body, f"unit-{org.dept1.pk}", "target") == "900,000.00"
    assert _cell(body, f"unit-{org.dept1.pk}", "actual") == "803,000.00"
    assert _cell(body, f"unit-{org.dept1.pk}", "attainment") == "89.2%"
    assert _cell(body, f"unit-{org.dept1.pk}", "gap") == "97,000.00"
    assert _cell(body, "total", "attainment") == "80.3%"
    assert 'data-gauge="contract_amount"' in body and 'id="report-chart"' in body
    assert body.count("data-gauge=") == 5  # a gauge per metric, the table of the one chosen
    assert 'data-col="visits"' not in body
    assert f"unit={org.dept1.pk}" in body  # the drill link
    assert "How these figures are computed" in body


def test_page_with_all_metrics_has_a_gauge_each(client, org, june):
    client.force_login(org.finance)
    body = client.get(PAGE, {**JUNE_QUERY, "unit": org.team1.pk}).content.decode()
    assert body.count("data-gauge=") == 5
    assert 'data-col="visits"' in body


def test_page_drills_from_team_to_rep_to_documents(client, org, june):
    client.force_login(org.sup1)
    body = client.get(PAGE, {**JUNE_QUERY, "metric": "contract_amount"}).content.decode()
    assert f"rep={org.rep1a.pk}" in body  # the team's rows link to the reps
    rep_page = client.get(PAGE, {**JUNE_QUERY, "metric": "contract_amount",
                                 "rep": org.rep1a.pk, "unit": org.team1.pk})  # fmt: skip
    assert rep_page.status_code == 200
    assert "/goals/attainment/documents/?" in rep_page.content.decode()
    documents = client.get(DOCUMENTS, {**JUNE_QUERY, "metric": "contract_amount",
                                       "rep": org.rep1a.pk})  # fmt: skip
    assert documents.status_code == 200
    page = documents.content.decode()
    assert f'href="/contracts/{june.contracts["C1"].pk}/"' in page
    assert f'href="/contracts/{june.contracts["C2"].pk}/"' in page
    assert 'data-figure="total">3,000.00<' in page


@pytest.mark.parametrize(
    ("viewer", "params"),
    [("sup1", {"unit": "team3"}), ("rep1a", {"rep": "rep1b"}), ("manager2", {"rep": "rep1a"})],
)
def test_page_outside_the_scope_is_404(client, org, june, viewer, params):
    client.force_login(getattr(org, viewer))
    query = {key: getattr(org, value).pk for key, value in params.items()}
    assert client.get(PAGE, {**JUNE_QUERY, **query}).status_code == 404
    if "rep" in query:
        assert client.get(DOCUMENTS, {**JUNE_QUERY, **query}).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "decade"}, "period"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "1800-01-01"}, "date"),
        ({"metric": "profit"}, "metric"),
        ({"unit": "x"}, "unit"),
        ({"rep": "0"}, "rep"),
    ],
)
def test_bad_filter_is_a_form_error_naming_the_field(client, org, params, field):
    client.force_login(org.finance)
    response = client.get(PAGE, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def test_documents_page_needs_a_rep(client, org):
    client.force_login(org.finance)
    response = client.get(DOCUMENTS, JUNE_QUERY)
    assert response.status_code == 400 and 'data-field="rep"' in response.content.decode()


# --- Excel ------------------------------------------------------------------------------------


def test_excel_export_of_a_department_cell_by_cell(client, org, june):
    client.force_login(org.manager1)
    response = client.get(PAGE, {**JUNE_QUERY, "metric": "contract_amount", "format": "xlsx"},
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attainment-2026-06-unit" in response["Content-Disposition"]
    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["Signed contract amount"]
    sheet = workbook["Signed contract amount"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Target attainment: Signed contract amount"
    assert values[2] == ("Name", "Level", "Target", "Actual", "Attainment (%)",
                         "Time elapsed (%)", "Gap")  # fmt: skip
    assert values[3] == ("Team 1", "Org unit", 10000, 3000, 30, 100, 7000)
    assert values[4] == ("Team 2", "Org unit", 500000, 800000, 160, 100, -300000)
    assert values[5] == (org.manager1.display_name, "Rep", None, 0, None, 100, None)
    assert values[6] == ("Total: Dept 1", "Total", 900000, 803000, 89.2, 100, 97000)
    assert len(values) == 7
    header, money, total = sheet["C3"], sheet["D4"], sheet["A7"]
    assert header.font.bold and header.fill.fgColor.rgb.endswith("DDEBF7")
    assert money.number_format == "#,##0.00" and sheet["E4"].number_format == "0.0"
    assert total.font.bold


def test_excel_export_of_all_metrics_has_a_sheet_each_with_counts(client, org, june):
    client.force_login(org.finance)
    response = client.get(PAGE, {**JUNE_QUERY, "unit": org.team1.pk, "format": "xlsx"},
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    workbook = load_workbook(BytesIO(response.content))
    assert len(workbook.sheetnames) == 5
    visits = workbook["Visits"]
    by_name = {row[0]: row for row in visits.iter_rows(min_row=4, values_only=True)}
    assert by_name[org.rep1a.display_name][3] == 2  # V1, V3
    assert by_name[org.rep1b.display_name][3] == 1  # V5, before the move
    assert by_name["Total: Team 1"][2:5] == (10, 3, 30)
    assert visits["D4"].number_format == "#,##0"


def test_excel_column_names_follow_the_language(client, org, june):
    client.force_login(org.finance)
    response = client.get(PAGE, {**JUNE_QUERY, "metric": "visits", "format": "xlsx"},
                          HTTP_ACCEPT_LANGUAGE="zh-hans")  # fmt: skip
    sheet = load_workbook(BytesIO(response.content)).active
    with translation.override("zh-hans"):
        expected = (translation.gettext("Name"), translation.gettext("Level"),
                    translation.gettext("Target"), translation.gettext("Actual"))  # fmt: skip
        title = str(Metric.VISITS.label)
    assert tuple(c.value for c in sheet[3][:4]) == expected
    assert sheet.title == title
