"""The response SLA page narrowed to a team or a rep, its team rows, its drill-down and its
Excel file (cell by cell), and the scope of the narrowing (404 outside it)."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from .test_sla_report import MARCH, march  # noqa: F401 (the known March of the SLA tests)

PAGE = "/leads/sla/"


def test_team_rows_add_up_their_owners(client, org, march):  # noqa: F811
    # given the admin / when they look at March
    client.force_login(org.admin)
    report = client.get(PAGE, MARCH).context["report"]
    # then team 1 (rep1a: 2 due, rep1b: 1) and team 2 (rep2a: 1)
    assert [(r.team.name, r.figures.due, r.figures.responded_in_time, r.figures.breached)
            for r in report.by_team] == [("Team 1", 3, 1, 2), ("Team 2", 1, 1, 0)]  # fmt: skip


def test_team_filter_narrows_every_figure(client, org, march):  # noqa: F811
    client.force_login(org.manager1)
    response = client.get(PAGE, {**MARCH, "team": org.team2.pk})
    report = response.context["report"]
    assert (report.total.due, report.total.responded_in_time) == (1, 1)
    assert [r.owner.username for r in report.by_owner] == ["rep2a"]
    assert list(response.context["page"].object_list) == []


def test_owner_filter_narrows_the_breached_leads(client, org, march):  # noqa: F811
    client.force_login(org.sup1)
    response = client.get(PAGE, {**MARCH, "owner": org.rep1b.pk})
    assert response.context["report"].total.due == 1
    assert list(response.context["page"].object_list) == [march["late"]]


def test_owner_rows_drill_down_to_their_breached_leads_and_draw_a_bar(client, org, march):  # noqa: F811
    client.force_login(org.sup1)
    body = client.get(PAGE, MARCH).content.decode()
    assert f"owner={org.rep1a.pk}" in body
    assert "bg-success" in body and 'id="sla-export"' in body


@pytest.mark.parametrize("params", [{"team": "team3"}, {"owner": "rep2a"}])
def test_narrowing_outside_the_scope_is_404(client, org, march, params):  # noqa: F811
    client.force_login(org.sup1)
    query = {key: getattr(org, value).pk for key, value in params.items()}
    assert client.get(PAGE, {**MARCH, **query}).status_code == 404
    assert client.get(PAGE, {**MARCH, **query, "format": "xlsx"}).status_code == 404


def test_rep_gets_404_on_the_export(client, org, march):  # noqa: F811
    client.force_login(org.rep1a)
    assert client.get(PAGE, {**MARCH, "format": "xlsx"}).status_code == 404


def test_excel_has_owners_teams_grades_and_the_breached_leads(client, org, march):  # noqa: F811
    # given sup1 / when they export March
    client.force_login(org.sup1)
    response = client.get(PAGE, {**MARCH, "format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert response.status_code == 200
    assert "lead-sla-20250301-20250331" in response["Content-Disposition"]
    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["By owner", "By team", "By grade", "Breached leads"]
    owners = workbook["By owner"]
    rows = list(owners.iter_rows(min_row=3, values_only=True))
    assert rows[0] == ("Owner", "Due", "Responded in time", "Responded late", "Breached",
                       "Compliance rate (%)")  # fmt: skip
    assert owners["B3"].font.b and owners["B3"].fill.fgColor.rgb.endswith("DDEBF7")
    assert rows[1] == (org.rep1a.display_name, 2, 1, 0, 1, 50)
    assert rows[2] == (org.rep1b.display_name, 1, 0, 1, 1, 0)
    assert rows[3] == ("Total", 3, 1, 1, 2, 33.3)
    assert owners.cell(row=owners.max_row, column=1).font.b
    assert owners["F4"].number_format == "0.0" and owners["B4"].number_format == "#,##0"
    grades = list(workbook["By grade"].iter_rows(min_row=4, values_only=True))
    assert grades == [("A", 1, 1, 0, 0, 100), ("B", 2, 0, 1, 2, 0), ("Total", 3, 1, 1, 2, 33.3)]
    breached = list(workbook["Breached leads"].iter_rows(min_row=4, values_only=True))
    assert [row[0] for row in breached] == [march["breached"].company_name,
                                            march["late"].company_name, "Total: 2"]  # fmt: skip
    assert breached[0][3] == "2025-03-31 23:00"


def test_page_with_the_filters_stays_within_the_budget(
    client,
    org,
    march,  # noqa: F811
    django_assert_max_num_queries,
):
    client.force_login(org.manager1)
    client.get(PAGE, MARCH)
    with django_assert_max_num_queries(12):
        assert client.get(PAGE, {**MARCH, "team": org.team1.pk}).status_code == 200
