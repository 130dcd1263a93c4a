"""Deal pages: list (scope, search, query budget), detail (404 out of scope), create with the
customer picker, edit, and the transition view (message or JSON for the board)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity

from .conftest import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return as_user


def test_list_shows_scope_only_within_query_budget(org, deal, login, django_assert_max_num_queries):
    mine = [deal(org.rep1a) for _ in range(6)]
    other = deal(org.rep2a)
    client = login(org.rep1a)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("opportunities:list"))
    html = response.content.decode()
    assert all(f'data-opportunity="{o.pk}"' in html for o in mine)
    assert f'data-opportunity="{other.pk}"' not in html


def test_list_htmx_search_returns_the_rows(org, deal, login):
    deal(org.rep1a, name="机床项目")
    deal(org.rep1a, name="刀具项目")
    response = login(org.rep1a).get(
        reverse("opportunities:list"), {"q": "机床"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "机床项目" in html and "刀具项目" not in html and "<html" not in html


def test_detail_out_of_scope_is_404(org, deal, login):
    other = deal(org.rep2a)
    assert login(org.rep1a).get(reverse("opportunities:detail", args=[other.pk])).status_code == 404


def test_detail_shows_stepper_moves_and_history(org, deal, login):
    opp = deal(org.rep1a, visited=False)
    html = login(org.rep1a).get(reverse("opportunities:detail", args=[opp.pk])).content.decode()
    assert 'data-testid="stage-stepper"' in html
    assert 'data-transition="qualify"' in html
    assert "Log a visit to the customer first." in html
    assert 'id="stage-history"' in html


def test_create_with_customer_picker(org, login):
    customer = make_customer(org.rep1a, name="星河机械")
    client = login(org.rep1a)
    picker = client.get(reverse("opportunities:deal_customer_search"), {"q": "星河"})
    assert f"?customer={customer.pk}" in picker.content.decode()
    data = {"customer": customer.pk, "name": "新机床", "amount": "100"}
    response = client.post(reverse("opportunities:create"), data)
    opp = Opportunity.objects.get(name="新机床")
    assert response.status_code == 302 and opp.owner == org.rep1a and opp.stage == "prospecting"


def test_create_for_someone_elses_customer_is_refused(org, login):
    customer = make_customer(org.rep2a)
    response = login(org.rep1a).post(reverse("opportunities:create"),
                                     {"customer": customer.pk, "name": "x"})  # fmt: skip
    assert response.status_code == 400 and not Opportunity.objects.filter(name="x").exists()


def test_edit_saves(org, deal, login):
    opp = deal(org.rep1a)
    response = login(org.rep1a).post(reverse("opportunities:edit", args=[opp.pk]),
                                     {"name": "改名", "amount": "5"})  # fmt: skip
    assert response.status_code == 302
    assert Opportunity.objects.get(pk=opp.pk).name == "改名"


def test_transition_json_names_missing_input(org, deal, login):
    opp = deal(org.rep1a, Stage.NEEDS_ANALYSIS)
    client = login(org.rep1a)
    url = reverse("opportunities:transition", args=[opp.pk, "propose"])
    response = client.post(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["needs_analysis"]
    response = client.post(url, {"needs_analysis": "十台"}, HTTP_ACCEPT="application/json")
    assert response.json()["stage"] == "proposal"


def test_transition_json_lists_unmet_requirements_with_409(org, deal, login):
    opp = deal(org.rep1a, Stage.PROPOSAL)
    url = reverse("opportunities:transition", args=[opp.pk, "negotiate"])
    response = login(org.rep1a).post(url, HTTP_ACCEPT="application/json",
                                     HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 409
    assert response.json()["errors"] == {"__all__": ["The opportunity needs an approved quote."]}


def test_transition_wrong_stage_json_is_409(org, deal, login):
    opp = deal(org.rep1a)
    url = reverse("opportunities:transition", args=[opp.pk, "win"])
    response = login(org.rep1a).post(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 409 and "Prospecting" in response.json()["message"]


def test_transition_page_post_redirects_with_message(org, deal, login):
    opp = deal(org.rep1a)
    response = login(org.rep1a).post(reverse("opportunities:transition", args=[opp.pk, "qualify"]))
    assert response.status_code == 302
    assert Opportunity.objects.get(pk=opp.pk).stage == "qualification"


def test_board_page_within_query_budget(org, deal, login, django_assert_max_num_queries):
    for stage in (Stage.PROSPECTING, Stage.PROPOSAL, Stage.NEGOTIATION):
        for _ in range(3):
            deal(org.rep1a, stage)
    client = login(org.sup1)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("opportunities:board"))
    assert response.content.decode().count('class="board-card"') == 9
