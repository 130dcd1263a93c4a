"""The performance comparison (`apps.goals.comparison`) and its page: rep vs rep, team vs team,
month on month and year on year of the signed contract amount, on the documents and targets of
June 2026 of `test_attainment`, plus two contracts of June 2025 for the year on year: rep1a
(team 1) 1,000 on 10 June 2025 and rep3a (team 3) 500 on 20 June 2025."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.http import Http404
from openpyxl import load_workbook

from apps.customers.models import Customer
from apps.goals import comparison
from apps.goals.choices import Metric

from .test_actuals import contract
from .test_attainment import PERIOD, june  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

D = Decimal
AMOUNT = Metric.CONTRACT_AMOUNT
PAGE = "/goals/comparison/"
JUNE_QUERY = {"period": "month", "date": "2026-06-15"}


@pytest.fixture
def last_june(org, june):  # noqa: F811 (the fixture)
    old = Customer.objects.create(name="老客户有限公司", owner=org.rep1a)
    contract(org.rep1a, old, date(2025, 6, 10), "1000.00")
    south = Customer.objects.create(name="南方客户有限公司", owner=org.rep3a)
    contract(org.rep3a, south, date(2025, 6, 20), "500.00")
    return june


def compare(user, view: str, **kwargs) -> comparison.Comparison:
    return comparison.comparison(user=user, view=view, period=PERIOD, metric=AMOUNT, **kwargs)


def lines(result: comparison.Comparison) -> list[tuple]:
    return [(line.rank, line.kind, line.key, line.actual, line.target, line.attainment)
            for line in result.lines]  # fmt: skip


def test_team_vs_team_ranks_the_child_units(org, june):  # noqa: F811
    result = compare(org.finance, "teams", unit_id=org.dept1.pk)
    assert lines(result) == [
        (1, "unit", org.team2.pk, D("800000.00"), D("500000.00"), D("160.0")),
        (2, "unit", org.team1.pk, D("3000.00"), D("10000.00"), D("30.0")),
    ]
    assert result.total.actual == D("803000.00") and result.total.target == D("510000.00")
    company = compare(org.finance, "teams")
    assert [(line.key, line.actual) for line in company.lines] == [
        (org.dept1.pk, D("803000.00")), (org.dept2.pk, D("0")),
    ]  # fmt: skip


def test_rep_vs_rep_ranks_the_people_of_the_subtree(org, june):  # noqa: F811
    result = compare(org.finance, "reps", unit_id=org.dept1.pk)
    top = lines(result)[:3]
    # rep1b: both teams of dept1 (768,000), against both targets (2,000 + 600,000)
    assert top == [
        (1, "rep", org.rep1b.pk, D("768000.00"), D("602000.00"), D("127.6")),
        (2, "rep", org.rep2a.pk, D("32000.00"), None, None),
        (3, "rep", org.rep1a.pk, D("3000.00"), D("4000.00"), D("75.0")),
    ]
    assert {line.key for line in result.lines[3:]} == {org.manager1.pk, org.sup1.pk, org.sup2.pk}
    assert result.total.actual == D("803000.00")


def test_rep_vs_rep_in_a_team_counts_only_the_time_in_it(org, june):  # noqa: F811
    result = compare(org.finance, "reps", unit_id=org.team1.pk)
    by_rep = {line.key: line for line in result.lines}
    assert by_rep[org.rep1a.pk].actual == D("3000.00")
    # rep1b signed nothing while in team 1 (C5 is terminated); the team-1 target only
    assert (by_rep[org.rep1b.pk].actual, by_rep[org.rep1b.pk].target) == (D("0"), D("2000.00"))


def test_month_on_month_gives_twelve_months_with_the_target_line(org, june):  # noqa: F811
    result = compare(org.finance, "months")
    assert (result.points[0].start, result.points[-1].start) == (date(2025, 7, 1), date(2026, 6, 1))
    by_month = {p.start: p for p in result.points}
    assert len(by_month) == 12
    assert by_month[date(2025, 12, 1)].actual == D("64000.00")  # C7
    assert by_month[date(2026, 5, 1)].actual == D("4000.00")  # C3
    june_point = by_month[date(2026, 6, 1)]
    assert (june_point.actual, june_point.target, june_point.attainment) == (
        D("803000.00"), D("1000000.00"), D("80.3"),
    )  # fmt: skip
    assert by_month[date(2026, 4, 1)].target is None
    assert result.total.actual == D("871000.00")
    assert result.total.target is None  # only June has a target


def test_month_on_month_of_a_rep(org, june):  # noqa: F811
    result = compare(org.finance, "months", rep_id=org.rep1a.pk)
    by_month = {p.start: p.actual for p in result.points}
    assert (by_month[date(2026, 5, 1)], by_month[date(2026, 6, 1)]) == (D("4000.00"), D("3000.00"))
    assert sum(by_month.values()) == D("7000.00")


def test_year_on_year_per_child_with_growth(org, last_june):
    result = compare(org.finance, "years", unit_id=org.dept1.pk)
    by_key = {(line.kind, line.key): line for line in result.lines}
    team1 = by_key[("unit", org.team1.pk)]
    assert (team1.actual, team1.previous, team1.growth) == (D("3000.00"), D("1000.00"), D("200.0"))
    team2 = by_key[("unit", org.team2.pk)]
    assert (team2.previous, team2.growth) == (D("0"), None)  # nothing last year
    assert result.previous_period.start == date(2025, 6, 1)
    company = compare(org.finance, "years")
    dept2 = {line.key: line for line in company.lines}[org.dept2.pk]
    assert (dept2.actual, dept2.previous, dept2.growth) == (D("0"), D("500.00"), D("-100.0"))
    assert [(p.start, p.actual, p.previous) for p in company.points] == [
        (date(2026, 6, 1), D("803000.00"), D("1500.00")),
    ]


def test_a_rep_compares_only_themselves(org, june):  # noqa: F811
    reps = compare(org.rep1a, "reps")
    assert [(line.key, line.actual) for line in reps.lines] == [(org.rep1a.pk, D("3000.00"))]
    teams = compare(org.rep1a, "teams")
    assert [(line.key, line.actual) for line in teams.lines] == [(org.team1.pk, D("3000.00"))]


@pytest.mark.parametrize(
    ("viewer", "params"),
    [("sup1", {"unit_id": "team2"}), ("rep1a", {"rep_id": "rep2a"}),
     ("manager2", {"unit_id": "dept1"})],
)  # fmt: skip
@pytest.mark.parametrize("view", ["reps", "teams", "months", "years"])
def test_a_node_outside_the_scope_is_404(org, june, viewer, params, view):  # noqa: F811
    kwargs = {key: getattr(org, value).pk for key, value in params.items()}
    with pytest.raises(Http404):
        compare(getattr(org, viewer), view, **kwargs)


def test_unknown_view_or_metric_is_refused(org):
    with pytest.raises(ValueError):
        compare(org.finance, "weekly")
    with pytest.raises(ValueError):
        comparison.comparison(user=org.finance, view="teams", period=PERIOD, metric="profit")


# --- the page ---------------------------------------------------------------------------------


def test_page_draws_bars_for_teams_and_links_to_their_reps(client, org, june):  # noqa: F811
    client.force_login(org.manager1)
    response = client.get(PAGE, {**JUNE_QUERY, "view": "teams"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-bar="1"' in body and 'data-bar="2"' in body
    assert f'data-key="unit-{org.team2.pk}"' in body
    assert f"unit={org.team2.pk}" in body  # drill into team 2
    assert "160.0%" in body


def test_page_draws_a_line_for_month_on_month(client, org, june):  # noqa: F811
    client.force_login(org.finance)
    body = client.get(PAGE, {**JUNE_QUERY, "view": "months"}).content.decode()
    assert '<polyline class="actual"' in body and '<polyline class="target"' in body
    assert 'data-key="2026-06"' in body


def test_rep_lands_on_month_on_month(client, org, june):  # noqa: F811
    client.force_login(org.rep1a)
    body = client.get(PAGE, JUNE_QUERY).content.decode()
    assert re.search(r'class="nav-link active"[^>]*data-view="months"', body)
    assert '<polyline class="actual"' in body


@pytest.mark.parametrize(
    ("params", "field"),
    [({"view": "weekly"}, "view"), ({"metric": "all"}, "metric"), ({"period": "week"}, "period"),
     ({"unit": "-1"}, "unit")],
)  # fmt: skip
def test_bad_filter_is_a_form_error_naming_the_field(client, org, params, field):
    client.force_login(org.finance)
    response = client.get(PAGE, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def test_page_outside_the_scope_is_404(client, org, june):  # noqa: F811
    client.force_login(org.sup3)
    assert client.get(PAGE, {**JUNE_QUERY, "unit": org.team1.pk}).status_code == 404


def test_excel_export_of_rep_vs_rep_cell_by_cell(client, org, june):  # noqa: F811
    client.force_login(org.sup2)
    response = client.get(PAGE, {**JUNE_QUERY, "view": "reps", "format": "xlsx"},
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 200
    assert "comparison-2026-06-reps-unit" in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet.title == "Rep vs rep"
    values = list(sheet.iter_rows(values_only=True))
    assert values[2] == ("Rank", "Name", "Target", "Actual", "Attainment (%)")
    # team 2 in June: rep1b after the move (768,000 against the team-2 target 600,000),
    # rep2a 32,000, sup2 nothing
    assert values[3] == (1, org.rep1b.display_name, 600000, 768000, 128)
    assert values[4] == (2, org.rep2a.display_name, None, 32000, None)
    assert values[5] == (3, org.sup2.display_name, None, 0, None)
    # no total target: two of the three have none (600,000 against 800,000 is no attainment)
    assert values[6] == (None, "Total", None, 800000, None)
    assert len(values) == 7
    assert sheet["D4"].number_format == "#,##0.00" and sheet["B7"].font.bold


def test_excel_export_of_year_on_year(client, org, last_june):
    client.force_login(org.finance)
    response = client.get(PAGE, {**JUNE_QUERY, "view": "years", "format": "xlsx"},
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    values = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert values[2] == ("Name", "This period", "Same period last year", "Growth (%)")
    assert values[3] == ("Dept 1", 803000, 1000, 80200)
    assert values[4] == ("Dept 2", 0, 500, -100)
    assert values[5] == ("Total", 803000, 1500, 53433.3)
