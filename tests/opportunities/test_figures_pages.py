"""The pipeline figure pages and API: the numbers of the selectors, scope (404 outside it),
query budgets that do not grow with the number of reps and deals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.choices import Role

from ..factories import UserFactory
from .figures_data import at, deal

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def month_deals(org):
    """This month: rep1a won one deal and lost one; rep3a has an open deal closing this month."""
    today = timezone.localdate()
    first = today.replace(day=1)
    stages = ["prospecting", "qualification", "needs_analysis", "proposal", "negotiation", "won"]
    deal(org.rep1a, [(s, at(first, 8 + i)) for i, s in enumerate(stages)], name="Won")
    deal(org.rep1a, [("prospecting", at(first, 8)), ("lost", at(first, 9))], name="Lost")
    deal(org.rep3a, [("prospecting", at(first, 8))], amount="1000.00", close=today, name="Open")


def test_funnel_page_shows_the_periods_figures(client, org, month_deals):
    client.force_login(org.admin)
    response = client.get("/opportunities/funnel/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-figure="created">3<' in body
    assert 'data-figure="win_rate">50.0%<' in body
    assert "Funnel conversion" in body


def test_forecast_page_shows_weighted_amounts_and_links_to_drill_down(client, org, month_deals):
    client.force_login(org.admin)
    response = client.get("/opportunities/forecast/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-figure="weighted">100.00<' in body  # 1,000.00 × 10% (prospecting)
    assert f"team={org.team3.pk}" in body  # team → its reps
    assert f"owner={org.rep3a.pk}" in body  # rep → the rep's figures / deals


def test_rep_sees_only_own_numbers(client, org, month_deals):
    client.force_login(org.rep3a)
    body = client.get("/opportunities/funnel/").content.decode()
    assert 'data-figure="created">1<' in body


def test_supervisor_sees_the_team(client, org, month_deals):
    client.force_login(org.sup1)
    body = client.get("/opportunities/funnel/").content.decode()
    assert 'data-figure="created">2<' in body


@pytest.mark.parametrize("url", ["/opportunities/funnel/", "/opportunities/forecast/"])
def test_rep_asking_for_another_teams_rep_gets_404(client, org, month_deals, url):
    client.force_login(org.rep1a)
    assert client.get(url, {"owner": org.rep3a.pk}).status_code == 404
    assert client.get(url, {"team": org.team3.pk}).status_code == 404


def test_supervisor_asking_for_another_team_gets_404(client, org, month_deals):
    client.force_login(org.sup1)
    assert client.get("/opportunities/forecast/", {"team": org.team3.pk}).status_code == 404
    assert client.get("/opportunities/forecast/", {"owner": org.rep3a.pk}).status_code == 404
    assert client.get("/opportunities/forecast/", {"owner": org.rep1b.pk}).status_code == 200


def test_invalid_custom_period_is_a_400_naming_the_field(client, org):
    client.force_login(org.admin)
    response = client.get(
        "/opportunities/funnel/",
        {"period": "custom", "start": "2026-05-02", "end": "2026-05-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert 'data-field="end"' in response.content.decode()


def _many_reps(org, n: int) -> None:
    today = timezone.localdate()
    for i in range(n):
        rep = UserFactory(username=f"extra{i}", role=Role.REP, org_unit=org.team2)
        first = today.replace(day=1)
        stays = [("prospecting", at(first, 8)), ("qualification", at(first, 9))]
        deal(rep, stays, amount="10.00", close=today + timedelta(days=40), name=f"X{i}")


@pytest.mark.parametrize("url", ["/opportunities/funnel/", "/opportunities/forecast/"])
def test_pages_cost_the_same_queries_for_many_reps(
    client, org, month_deals, url, django_assert_max_num_queries
):
    client.force_login(org.manager1)
    client.get(url)  # warm the session
    _many_reps(org, 15)
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200


# --- API -----------------------------------------------------------------------------------


def test_api_funnel_and_win_rate(org, month_deals):
    funnel = api(org.admin).get("/api/v1/pipeline-figures/funnel/").json()
    assert funnel["created"] == 3
    assert [s["reached"] for s in funnel["steps"]] == [3, 1, 1, 1, 1, 1]
    win = api(org.admin).get("/api/v1/pipeline-figures/win-rate/").json()
    assert (win["won"], win["lost"], win["win_rate"]) == (1, 1, 0.5)
    assert [r["id"] for r in win["by_team"]] == [org.team1.pk]


def test_api_forecast_and_stage_durations(org, month_deals):
    body = api(org.sup3).get("/api/v1/pipeline-figures/forecast/", {"months": 2}).json()
    assert len(body["buckets"]) == 3 and body["buckets"][0] == "overdue"
    assert body["totals"]["total"]["weighted"] == "100.00"
    assert [r["id"] for r in body["by_rep"]] == [org.rep3a.pk]
    durations = api(org.admin).get("/api/v1/pipeline-figures/stage-durations/").json()
    assert durations["stages"][0]["stage"] == "prospecting"
    assert durations["stages"][0]["stays"] == 2  # the won and the lost deal left prospecting


@pytest.mark.parametrize("action", ["funnel", "stage-durations", "win-rate", "forecast"])
def test_api_owner_outside_the_scope_is_404(org, action):
    response = api(org.rep1a).get(f"/api/v1/pipeline-figures/{action}/", {"owner": org.rep3a.pk})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_api_bad_period_is_400_naming_end(org):
    response = api(org.admin).get(
        "/api/v1/pipeline-figures/funnel/", {"start": "2026-05-02", "end": "2026-05-01"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "end"


def test_api_costs_the_same_queries_for_many_reps(org, month_deals, django_assert_max_num_queries):
    _many_reps(org, 15)
    client = api(org.manager1)
    for action in ("funnel", "stage-durations", "win-rate", "forecast"):
        with django_assert_max_num_queries(6):
            assert client.get(f"/api/v1/pipeline-figures/{action}/").status_code == 200
