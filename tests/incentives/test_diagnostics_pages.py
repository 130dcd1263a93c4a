"""The process-diagnostics page, its Excel file and `GET /api/v1/reports/process-diagnostics/`:
the selector's numbers, who may open them (404 for a rep, finance, a team outside the scope),
bad parameters (a form error / a 400 problem naming the field), query budgets."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
import time_machine
from django.conf import settings
from openpyxl import load_workbook
from rest_framework.test import APIClient

from .test_diagnostics import NOW, build_approvals, build_stays, deal, local, nov

pytestmark = pytest.mark.django_db
URL = "/incentives/diagnostics/"
API = "/api/v1/reports/process-diagnostics/"
NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}


@pytest.fixture
def stays(org):
    return build_stays(org)


@pytest.fixture
def approvals(org):
    return build_approvals(org)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def page(client, user, params=None):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client.get(URL, params or {})


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_page_shows_the_figures_and_marks_the_slowest(client, org, stays, approvals):
    response = page(client, org.admin, NOVEMBER)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-stage="qualification" class="diag-slow" data-slow="1"' in body
    assert 'data-col="p90">18.2<' in body
    assert "财务审批" in body and 'data-slow-step="contracts.contract/财务审批"' in body
    assert f'href="/opportunities/{stays["P1"].pk}/"' in body  # waiting longest now
    assert 'id="stage-trend"' in body and "<polyline" in body  # the SVG trend chart


def test_default_period_is_the_last_90_days(client, org, stays):
    response = page(client, org.admin)
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.start, result.end) == (date(2026, 9, 3), date(2026, 12, 1))


def test_page_for_a_team(client, org, stays):
    response = page(client, org.manager1, {**NOVEMBER, "team": org.team2.pk})
    assert response.status_code == 200
    q = next(n for n in response.context["result"].stages if n.key == "qualification")
    assert q.waits.passed == 4


@pytest.mark.parametrize("who", ["rep1a", "finance"])
def test_rep_and_finance_get_404(client, org, stays, who):
    assert page(client, getattr(org, who)).status_code == 404
    assert page(client, getattr(org, who), {"format": "xlsx"}).status_code == 404
    assert api(getattr(org, who)).get(API).status_code == 404


def test_a_team_outside_the_scope_is_404(client, org, stays):
    assert page(client, org.sup1, {"team": org.team3.pk}).status_code == 404
    assert page(client, org.manager1, {"team": org.team3.pk}).status_code == 404
    assert api(org.sup1).get(API, {"team": org.team2.pk}).status_code == 404
    assert page(client, org.sup1, {"team": org.team1.pk}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "2026-11-30", "end": "2026-11-01"}, "end"),
        ({"start": "2025-01-01", "end": "2026-11-30"}, "end"),  # longer than a year
        ({"highlight": "loudest"}, "highlight"),
        ({"team": "abc"}, "team"),
    ],
)
def test_bad_parameters_name_the_field(client, org, params, field):
    response = page(client, org.admin, params)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    answer = api(org.admin).get(API, params)
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_api_gives_the_same_figures(org, stays, approvals):
    body = api(org.admin).get(API, {**NOVEMBER, "highlight": "absolute"}).json()
    q = next(s for s in body["stages"] if s["key"] == "qualification")
    assert (q["passed"], q["median"], q["p90"], q["expected"]) == (10, 11.0, 18.2, 14.0)
    assert q["unit"] == "days" and q["slowest_rank"] == 1
    finance = next(s for s in body["approval_steps"] if s["label"] == "财务审批")
    assert (finance["passed"], finance["pending"], finance["p90"]) == (2, 1, 38.0)
    assert body["oldest_stays"][0]["name"] == "P1"
    assert body["oldest_requests"][0]["step"] == "财务审批"
    trend = {t["key"]: t["points"] for t in body["stage_trend"]}
    assert trend["qualification"][-1] == {
        "month": "2026-11-01",
        "passed": 10,
        "median": 11.0,
        "p90": 18.2,
    }


def test_excel_file_has_the_figures(client, org, stays, approvals):
    response = page(client, org.admin, {**NOVEMBER, "format": "xlsx"})
    assert response.status_code == 200
    assert "process-diagnostics-20261101-20261130" in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["Qualification"][1:4] == (10, 11.0, 18.2)
    assert book.worksheets[1].cell(row=4, column=1).value  # approval steps written
    assert len(book.worksheets) == 6


def test_page_and_api_queries_do_not_grow_with_rows(client, org, stays, approvals,
                                                    django_assert_max_num_queries):  # fmt: skip
    for i in range(6):
        deal(org.rep1b, [("proposal", nov(2 + i)), ("negotiation", nov(12 + i))], name=f"Y{i}")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(org.manager1)
    with django_assert_max_num_queries(24):
        assert client.get(URL, NOVEMBER).status_code == 200
    with django_assert_max_num_queries(20):
        assert api(org.manager1).get(API, NOVEMBER).status_code == 200


def test_navigation_and_reports_hub_link_the_page(client, org):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(org.manager1)
    body = client.get("/goals/reports/").content.decode()
    assert 'data-report="diagnostics"' in body and 'data-report="competitors"' in body
    client.force_login(org.rep1a)
    body = client.get("/goals/reports/").content.decode()
    assert 'data-report="diagnostics"' not in body


def test_current_stays_count_up_to_now(client, org):
    # a deal in prospecting since 3 days before now
    deal(org.rep1a, [("prospecting", NOW - timedelta(days=3))], name="fresh")
    response = page(client, org.admin)
    prospecting = response.context["result"].stages[0]
    assert (prospecting.waits.pending, prospecting.oldest) == (1, 3.0)
    assert local(date(2026, 12, 1)) == NOW
