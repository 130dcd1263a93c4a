"""The reports hub (/goals/reports/): a card per report the user's role may open, grouped,
each linking to its page; the others hidden; one page, a few queries."""

from __future__ import annotations

import pytest

from apps.goals import views_hub

pytestmark = [pytest.mark.django_db]

PAGE = "/goals/reports/"


def _cards(client, user) -> set[str]:
    client.force_login(user)
    response = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return {card.key for group in response.context["groups"] for card in group["cards"]}


def test_manager_sees_every_report(client, org):
    cards = _cards(client, org.manager1)
    assert cards == {c.key for c in views_hub.CARDS}


def test_rep_sees_no_sla_nor_receivables_figures(client, org):
    cards = _cards(client, org.rep1a)
    assert {"attainment", "comparison", "visits", "forecast", "funnel", "lead_sources",
            "statement"} <= cards  # fmt: skip
    assert "lead_sla" not in cards and "receivables" not in cards


def test_finance_sees_goals_and_receivables_not_the_pipeline(client, org):
    cards = _cards(client, org.finance)
    assert {"attainment", "comparison", "receivables", "statement", "commissions"} <= cards
    assert not cards & {"visits", "forecast", "funnel", "lead_sources", "lead_sla",
                        "scorecards", "diagnostics"}  # fmt: skip


def test_supervisor_heading_nothing_gets_no_sla_card(client, org):
    # given a supervisor whose unit has another head: the SLA page would answer 404
    from tests.factories import UserFactory

    lone = UserFactory(username="lone", role="supervisor", org_unit=org.team1)
    assert "lead_sla" not in _cards(client, lone)
    assert "lead_sla" in _cards(client, org.sup1)


def test_integration_account_sees_an_empty_hub(client, org):
    client.force_login(org.erp)
    response = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["groups"] == []
    assert "No report is available to your role" in response.content.decode()


def test_cards_link_to_their_reports_grouped(client, org):
    client.force_login(org.admin)
    body = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for url in ("/goals/attainment/", "/visits/figures/", "/opportunities/forecast/",
                "/opportunities/funnel/", "/leads/sources/", "/leads/sla/",
                "/receivables/figures/", "/incentives/diagnostics/", "/incentives/competitors/",
                "/incentives/scorecards/ranking/", "/incentives/commissions/",
                "/incentives/surveys/"):  # fmt: skip
        assert f'href="{url}"' in body
    groups = [g for g in ("goals", "activity", "pipeline", "process", "incentives", "leads",
                          "receivables") if f'data-group="{g}"' in body]  # fmt: skip
    assert len(groups) == 7


def test_a_report_whose_url_is_missing_is_left_out(client, org, monkeypatch):
    # given a card naming a URL that does not exist (an app not installed)
    missing = views_hub.Card("ghost", "goals", "Ghost", "Nowhere", "nowhere:ghost", "x",
                             views_hub.SALES)  # fmt: skip
    monkeypatch.setattr(views_hub, "CARDS", (*views_hub.CARDS, missing))
    client.force_login(org.admin)
    # when / then the page still renders, without it
    response = client.get(PAGE)
    assert response.status_code == 200
    assert 'data-report="ghost"' not in response.content.decode()
    assert 'data-report="forecast"' in response.content.decode()


def test_hub_costs_a_few_queries(client, org, django_assert_max_num_queries):
    client.force_login(org.sup1)
    client.get(PAGE)
    with django_assert_max_num_queries(8):
        assert client.get(PAGE).status_code == 200


def test_anonymous_is_sent_to_the_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "login" in response["Location"]
