"""The weighted forecast against the month targets of the signed contract amount, and the Excel
files of the forecast and funnel pages: cell by cell, the same numbers as the pages, scoped."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from apps.goals.choices import Metric, PeriodKind, ScopeKind, TargetStatus
from apps.goals.models import Target
from apps.opportunities import figures

from .figures_data import at, deal

pytestmark = pytest.mark.django_db

FORECAST = "/opportunities/forecast/"
FUNNEL = "/opportunities/funnel/"


def month_after(first: date, n: int) -> date:
    return figures.add_months(first, n)


def target(amount: str, start: date, *, metric: str = Metric.CONTRACT_AMOUNT,
           kind: str = PeriodKind.MONTH, status: str = TargetStatus.ACTIVE, unit=None,
           user=None) -> Target:  # fmt: skip
    end = figures.add_months(start, 1) - timedelta(days=1)
    if user is not None:
        scope, unit = ScopeKind.REP, unit or user.org_unit
    elif unit is not None:
        scope = ScopeKind.UNIT
    else:
        scope = ScopeKind.COMPANY
    target = Target.objects.create(
        metric=metric, period_kind=kind, period_start=start, period_end=end, scope_kind=scope,
        org_unit=unit, user=user, amount=Decimal(amount),
    )  # fmt: skip
    if status != TargetStatus.ACTIVE:
        Target.objects.filter(pk=target.pk).update(status=status)
    return target


@pytest.fixture
def first() -> date:
    return timezone.localdate().replace(day=1)


@pytest.fixture
def pipeline(org, first):
    """rep1a: 1,000 in proposal (60 %) closing this month, 500 in prospecting (10 %) next
    month; rep3a: 2,000 in negotiation (80 %) this month."""
    today = timezone.localdate()
    deal(org.rep1a, [("prospecting", at(first, 8)), ("proposal", at(first, 9))],
         amount="1000.00", close=today, name="A")  # fmt: skip
    deal(org.rep1a, [("prospecting", at(first, 8))], amount="500.00",
         close=month_after(first, 1) + timedelta(days=3), name="B")  # fmt: skip
    deal(org.rep3a, [("prospecting", at(first, 8)), ("negotiation", at(first, 9))],
         amount="2000.00", close=today, name="C")  # fmt: skip


@pytest.fixture
def targets(org, first):
    """Month targets of the company, team 1 and rep1a for this month and the next; noise of
    another metric, a quarter, a draft and another unit that must not be read."""
    target("5000.00", first)
    target("4000.00", month_after(first, 1))
    target("900.00", first, unit=org.team1)
    target("300.00", first, user=org.rep1a)
    target("200.00", month_after(first, 1), user=org.rep1a)
    target("99999.00", first, metric=Metric.COLLECTED)
    target("88888.00", first, unit=org.team3)
    target("77777.00", first, kind=PeriodKind.QUARTER, unit=org.team1)
    target("66666.00", month_after(first, 2), status=TargetStatus.DRAFT)


def _months(response) -> dict[str, dict]:
    return {row["bucket"].key: row for row in response.context["target_rows"]}


def test_company_viewer_sees_the_company_target_and_the_gap(client, org, pipeline, targets, first):
    # given the admin (company-wide) / when they open the forecast
    client.force_login(org.admin)
    response = client.get(FORECAST)
    # then this month: weighted 600 + 1,600 = 2,200 against 5,000: gap 2,800
    months = _months(response)
    this, nxt = months[f"{first:%Y-%m}"], months[f"{month_after(first, 1):%Y-%m}"]
    assert (this["weighted"], this["target"], this["gap"]) == (
        Decimal("2200.00"), Decimal("5000.00"), Decimal("2800.00"),
    )  # fmt: skip
    assert (nxt["weighted"], nxt["target"], nxt["gap"]) == (
        Decimal("50.00"), Decimal("4000.00"), Decimal("3950.00"),
    )  # fmt: skip
    # a month without a target has none (not the draft's 66,666)
    assert months[f"{month_after(first, 2):%Y-%m}"]["target"] is None
    assert response.context["forecast"].totals.target == Decimal("9000.00")
    body = response.content.decode()
    assert 'data-figure="target">5,000.00<' in body
    assert "data-target-marker" in body


def test_team_filter_reads_the_units_target(client, org, pipeline, targets, first):
    client.force_login(org.manager1)
    response = client.get(FORECAST, {"team": org.team1.pk})
    this = _months(response)[f"{first:%Y-%m}"]
    assert (this["weighted"], this["target"], this["gap"]) == (
        Decimal("600.00"), Decimal("900.00"), Decimal("300.00"),
    )  # fmt: skip


def test_owner_filter_reads_the_reps_target(client, org, pipeline, targets, first):
    client.force_login(org.sup1)
    months = _months(client.get(FORECAST, {"owner": org.rep1a.pk}))
    assert months[f"{first:%Y-%m}"]["target"] == Decimal("300.00")
    assert months[f"{first:%Y-%m}"]["gap"] == Decimal("-300.00")  # 600 weighted > 300
    assert months[f"{month_after(first, 1):%Y-%m}"]["gap"] == Decimal("150.00")


def test_rep_sees_their_own_target_and_the_head_of_one_unit_the_units(
    client, org, pipeline, targets, first
):
    client.force_login(org.rep1a)
    assert _months(client.get(FORECAST))[f"{first:%Y-%m}"]["target"] == Decimal("300.00")
    client.force_login(org.sup1)
    assert _months(client.get(FORECAST))[f"{first:%Y-%m}"]["target"] == Decimal("900.00")


def test_without_a_target_there_is_no_gap(client, org, pipeline, first):
    client.force_login(org.admin)
    response = client.get(FORECAST)
    this = _months(response)[f"{first:%Y-%m}"]
    assert (this["target"], this["gap"]) == (None, None)
    assert response.context["forecast"].totals.target is None


def test_targets_cost_one_query_for_all_months(org, targets, first, django_assert_num_queries):
    result = figures.forecast(user=org.admin, months=12, settings_by_stage={})
    with django_assert_num_queries(1):
        found = figures.forecast_targets(user=org.admin, buckets=result.buckets)
    assert found == {f"{first:%Y-%m}": Decimal("5000.00"),
                     f"{month_after(first, 1):%Y-%m}": Decimal("4000.00")}  # fmt: skip


def test_supervisor_asking_for_another_teams_target_gets_404(client, org, targets):
    client.force_login(org.sup1)
    assert client.get(FORECAST, {"team": org.team3.pk}).status_code == 404
    assert client.get(FORECAST, {"team": org.team3.pk, "format": "xlsx"}).status_code == 404


# --- Excel ---------------------------------------------------------------------------------


def _sheets(response) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(response.content))
    return {ws.title: ws for ws in workbook.worksheets}


def test_forecast_excel_has_the_pages_numbers(client, org, pipeline, targets, first):
    # given the admin / when they export the forecast of 3 months
    client.force_login(org.admin)
    sheets = _sheets(client.get(FORECAST, {"months": 3, "format": "xlsx"},
                                HTTP_ACCEPT_LANGUAGE="en"))  # fmt: skip
    # then the sheets by team, by rep and against the target
    assert list(sheets) == ["By team", "By rep", "Against target"]
    reps = sheets["By rep"]
    header = [c.value for c in reps[3]]
    assert header == ["Rep", "Weighted Overdue", f"Weighted {first:%Y-%m}",
                      f"Weighted {month_after(first, 1):%Y-%m}",
                      f"Weighted {month_after(first, 2):%Y-%m}", "Weighted total", "Amount",
                      "Deals"]  # fmt: skip
    assert reps["A3"].font.b
    rows = {r[0]: r[1:] for r in reps.iter_rows(min_row=4, values_only=True)}
    assert rows[org.rep3a.display_name] == (0, 1600, 0, 0, 1600, 2000, 1)
    assert rows[org.rep1a.display_name] == (0, 600, 50, 0, 650, 1500, 2)
    assert rows["Total"] == (0, 2200, 50, 0, 2250, 3500, 3)
    assert reps.cell(row=reps.max_row, column=1).font.b
    assert isinstance(reps["C4"].value, (int, float))
    assert reps["C4"].number_format == "#,##0.00"
    against = list(sheets["Against target"].iter_rows(min_row=3, values_only=True))
    assert against[0] == ("Month", "Weighted forecast", "Target", "Gap")
    assert against[1] == (f"{first:%Y-%m}", 2200, 5000, 2800)
    assert against[2] == (f"{month_after(first, 1):%Y-%m}", 50, 4000, 3950)
    assert against[3] == (f"{month_after(first, 2):%Y-%m}", 0, None, None)
    assert against[-1] == ("Total", 2250, 9000, 6750)


def test_forecast_excel_of_one_rep_has_no_team_sheet(client, org, pipeline, targets):
    client.force_login(org.sup1)
    sheets = _sheets(client.get(FORECAST, {"owner": org.rep1a.pk, "format": "xlsx"},
                                HTTP_ACCEPT_LANGUAGE="en"))  # fmt: skip
    assert list(sheets) == ["By rep", "Against target"]
    names = [r[0] for r in sheets["By rep"].iter_rows(min_row=4, values_only=True)]
    assert names == [org.rep1a.display_name, "Total"]


@pytest.fixture
def month_deals(org, first):
    """This month: rep1a won one deal and lost one; rep3a has one open deal in qualification."""
    stages = ["prospecting", "qualification", "needs_analysis", "proposal", "negotiation", "won"]
    deal(org.rep1a, [(s, at(first, 8 + i)) for i, s in enumerate(stages)], name="Won")
    deal(org.rep1a, [("prospecting", at(first, 8)), ("lost", at(first, 9))], name="Lost")
    deal(org.rep3a, [("prospecting", at(first, 8)), ("qualification", at(first, 10))],
         name="Open")  # fmt: skip


def test_funnel_excel_has_the_funnel_durations_and_win_rates(client, org, month_deals):
    client.force_login(org.admin)
    sheets = _sheets(client.get(FUNNEL, {"format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert list(sheets) == ["Funnel", "Days in each stage", "Win rate by team",
                            "Win rate by rep"]  # fmt: skip
    funnel = list(sheets["Funnel"].iter_rows(min_row=3, values_only=True))
    assert funnel[0] == ("Stage", "Deals reached", "Share of created (%)",
                         "Went on to the next stage (%)")  # fmt: skip
    # all 3 were prospecting; 2 reached qualification (the won one and the open one)
    assert funnel[1] == ("Prospecting", 3, 100, 66.7)
    assert funnel[2][:2] == ("Qualification", 2)
    assert funnel[-1] == ("Created", 3, 100, None)
    durations = list(sheets["Days in each stage"].iter_rows(min_row=4, values_only=True))
    # stays that ended this month: 3 in prospecting, 1 in each of the next four stages
    assert durations[0][:2] == ("Prospecting", 3)
    assert durations[-1][:2] == ("Total", 7)
    reps = list(sheets["Win rate by rep"].iter_rows(min_row=4, values_only=True))
    assert reps[0][:4] == (org.rep1a.display_name, 1, 1, 50)
    assert reps[-1][:4] == ("Total", 1, 1, 50)
    assert sheets["Win rate by rep"]["D4"].number_format == "0.0"


def test_export_links_are_on_both_pages(client, org, month_deals):
    client.force_login(org.admin)
    for url in (FUNNEL, FORECAST):
        body = client.get(url).content.decode()
        assert 'id="figures-export"' in body and "format=xlsx" in body


def test_forecast_cells_drill_down_to_the_deal_list_by_close_month(client, org, pipeline, first):
    client.force_login(org.admin)
    body = client.get(FORECAST).content.decode()
    assert f"owner={org.rep1a.pk}&amp;month={first:%Y-%m}" in body
    assert f"team={org.team1.pk}&amp;month={first:%Y-%m}" in body
    assert "close_month=" not in body  # the deal list's parameter is `month`


def test_forecast_with_targets_stays_within_the_query_budget(
    client, org, pipeline, targets, django_assert_max_num_queries
):
    client.force_login(org.manager1)
    client.get(FORECAST)
    for i in range(10):
        deal(org.rep1b, [("prospecting", at(timezone.localdate(), 8))], amount="10.00",
             close=timezone.localdate(), name=f"N{i}")  # fmt: skip
    with django_assert_max_num_queries(13):
        assert client.get(FORECAST).status_code == 200
