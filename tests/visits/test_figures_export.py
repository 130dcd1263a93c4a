"""The visit figures page: its Excel file cell by cell (the page's rows and total), the team
and rep filters, and the scope of both (404 outside it)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.conf import settings
from openpyxl import load_workbook

from .test_figures import MON, week  # noqa: F401 (the known week of the figures tests)

pytestmark = pytest.mark.django_db

PAGE = "/visits/figures/"
WEEK = {"period": "custom", "start": MON.isoformat(), "end": (MON + timedelta(days=6)).isoformat()}


def _rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(response.content)).active
    return ws, list(ws.iter_rows(min_row=3, values_only=True))


def test_excel_has_a_row_per_team_and_the_total(client, org, week):  # noqa: F811
    # given manager1 (heads dept1: team 1 and team 2) / when they export the known week
    client.force_login(org.manager1)
    ws, rows = _rows(client.get(PAGE, {**WEEK, "format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en"))
    # then the translated header, bold
    days = settings.VISIT_NOT_VISITED_DAYS
    assert rows[0] == (
        "Team / rep", "Level", "Plans", "Done", "Missed", "Plan execution rate (%)", "Visits",
        "Effective visits", "Effective visit rate (%)", "Customers visited",
        "Visits per customer", "Collections", "Orders", f"Not visited in {days} days",
    )  # fmt: skip
    assert ws["A3"].font.b and ws["N3"].font.b
    # and team 1 adds up rep1a and rep1b, team 2 is rep2a's (a payment: effective), numbers
    # as numbers
    assert rows[1] == ("Team 1", "Org unit", 4, 2, 1, 66.7, 5, 3, 60, 3, 1.67, 250.5, 1000, 0)
    assert rows[2] == ("Team 2", "Org unit", 0, 0, 0, None, 1, 1, 100, 1, 1, 10, 0, 0)
    assert rows[3] == ("Total", None, 4, 2, 1, 66.7, 6, 4, 66.7, 4, 1.5, 260.5, 1000, 0)
    assert ws.cell(row=ws.max_row, column=1).font.b
    assert ws["L4"].number_format == "#,##0.00" and ws["F4"].number_format == "0.0"
    assert "2026-11-02" in ws["A2"].value  # the filters row tells the period


def test_excel_of_one_rep(client, org, week):  # noqa: F811
    client.force_login(org.sup1)
    _ws, rows = _rows(client.get(PAGE, {**WEEK, "owner": org.rep1a.pk, "format": "xlsx"},
                                 HTTP_ACCEPT_LANGUAGE="en"))  # fmt: skip
    assert rows[1][:8] == (org.rep1a.display_name, "Rep", 4, 2, 1, 66.7, 4, 3)
    assert rows[-1][:8] == ("Total", None, 4, 2, 1, 66.7, 4, 3)


def test_page_offers_the_team_and_rep_filters_and_the_export(client, org, week):  # noqa: F811
    client.force_login(org.manager1)
    body = client.get(PAGE, {**WEEK, "team": org.team1.pk}).content.decode()
    assert 'id="figures-team"' in body and 'id="figures-owner"' in body
    assert f'<option value="{org.team1.pk}" selected>' in body
    assert f'value="{org.rep3a.pk}"' not in body  # another department's rep is not offered
    assert 'id="figures-export"' in body and "format=xlsx" in body


def test_rep_has_no_team_filter(client, org, week):  # noqa: F811
    client.force_login(org.rep1a)
    body = client.get(PAGE, WEEK).content.decode()
    assert 'id="figures-team"' not in body and 'id="figures-owner"' not in body


@pytest.mark.parametrize("params", [{"team": "team3"}, {"owner": "rep3a"}])
def test_export_outside_the_scope_is_404(client, org, week, params):  # noqa: F811
    client.force_login(org.sup1)
    query = {key: getattr(org, value).pk for key, value in params.items()}
    assert client.get(PAGE, {**WEEK, **query, "format": "xlsx"}).status_code == 404
    assert client.get(PAGE, {**WEEK, **query}).status_code == 404
