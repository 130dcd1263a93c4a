"""The survey pages: the public answer page (no login, zh-Hans by default, one-time, 410 once
expired, 404 for an unknown token, CSRF on), and in the app the list (scope, filters, the
figures of the filtered set, paging, Excel), the detail and the customer page's panel."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from apps.incentives.models import SatisfactionSurvey
from tests.goals.test_actuals import contract

from .test_surveys import NOW, opened, surveyed_customer

pytestmark = pytest.mark.django_db


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return english(client)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def made(org, now):
    """A survey after rep1a's completed contract HT-… “机床采购合同” of 120,000."""
    customer = surveyed_customer(org.rep1a)
    deal = contract(org.rep1a, customer, None, "120000.00", "completed")
    return opened(customer, org.rep1a, trigger="contract_completed", contract_id=deal.pk)


def answer_form(client: Client, url: str, **data) -> object:
    """GET the page (for the CSRF cookie) and POST the answer with the token."""
    client.get(url)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    return client.post(url, {"csrfmiddlewaretoken": token, **data})


# --- the public page --------------------------------------------------------------------------


def test_the_page_needs_no_login_and_is_in_chinese_by_default(org, made):
    # given a visitor whose browser asks for English, not logged in
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    # when they open the link
    response = client.get(f"/survey/{made.token}/")
    # then the page is the survey's, in zh-Hans, with a language switch
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'id="language-form"' in html
    assert "华星精密有限公司" in html and org.rep1a.display_name in html
    survey = SatisfactionSurvey.objects.select_related("contract").get()
    assert survey.contract.number in html
    # and no amount of the contract
    assert "120000" not in html and "120,000" not in html


def test_the_language_switch_gives_english(org, made):
    response = english(Client()).get(f"/survey/{made.token}/")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "How likely are you to recommend us? 0–10" in html


def test_an_answer_is_recorded_once(org, made):
    url = f"/survey/{made.token}/"
    client = english(Client(enforce_csrf_checks=True))
    # when the customer answers
    response = answer_form(client, url, score="4", nps="9", comment="服务很好")
    # then they are thanked and the answer is kept
    assert response.status_code == 200
    assert "Thank you for your answer!" in response.content.decode()
    survey = SatisfactionSurvey.objects.get()
    assert (survey.status, survey.score, survey.nps, survey.comment) == (
        "answered", 4, 9, "服务很好"
    )  # fmt: skip
    # when the form is sent again (a second tab), or the link opened again
    again = answer_form(english(Client(enforce_csrf_checks=True)), url, score="1", nps="0")
    reopened = english(Client()).get(url)
    # then both say it was answered already, and nothing changed
    for page in (again, reopened):
        assert page.status_code == 200
        assert "This survey was answered already. Thank you!" in page.content.decode()
        assert 'id="survey-form"' not in page.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.nps) == (4, 9)


def test_an_expired_link_answers_410_and_saves_nothing(org, made, time_machine):
    url = f"/survey/{made.token}/"
    client = english(Client())
    client.get(url)
    csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    time_machine.move_to(NOW + timedelta(days=15), tick=False)
    page = client.get(url)
    posted = client.post(url, {"csrfmiddlewaretoken": csrf, "score": "5"})
    for response in (page, posted):
        assert response.status_code == 410
        assert "This survey link has expired." in response.content.decode()
    assert SatisfactionSurvey.objects.get().status == "sent"


def test_an_unknown_token_is_a_404(org, made):
    assert Client().get("/survey/not-a-real-token/").status_code == 404
    assert Client().post("/survey/not-a-real-token/", {"score": "5"}).status_code == 404


def test_a_missing_score_is_a_form_error(org, made):
    response = answer_form(english(Client()), f"/survey/{made.token}/", nps="8")
    assert response.status_code == 400
    assert "Choose a satisfaction from 1 to 5." in response.content.decode()
    assert SatisfactionSurvey.objects.get().status == "sent"


def test_an_nps_out_of_range_is_a_form_error(org, made):
    response = answer_form(english(Client()), f"/survey/{made.token}/", score="3", nps="12")
    assert response.status_code == 400
    assert "from 0 to 10" in response.content.decode()


def test_csrf_protection_stays_on(org, made):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/survey/{made.token}/", {"score": "5"})
    assert response.status_code == 403
    assert SatisfactionSurvey.objects.get().status == "sent"


# --- the list in the app ----------------------------------------------------------------------


@pytest.fixture
def book(org, now):
    """Surveys of rep1a (team 1): answered 5/10, 2/3 (low) and one not answered; of rep2a
    (team 2): answered 4/8; of rep3a (team 3): answered 1/0. The 2/3 one is 20 days old."""
    c1a = surveyed_customer(org.rep1a, name="甲客户")
    c2a = surveyed_customer(org.rep2a, name="乙客户")
    c3a = surveyed_customer(org.rep3a, name="丙客户")
    made = {}
    for key, customer, rep, score, nps in (
        ("1a-good", c1a, org.rep1a, 5, 10), ("1a-low", c1a, org.rep1a, 2, 3),
        ("1a-open", c1a, org.rep1a, None, None), ("2a", c2a, org.rep2a, 4, 8),
        ("3a", c3a, org.rep3a, 1, 0),
    ):  # fmt: skip
        survey = opened(customer, rep).survey
        if score is not None:
            SatisfactionSurvey.objects.filter(pk=survey.pk).update(
                status="answered", score=score, nps=nps, answered_at=timezone.now()
            )
        made[key] = survey
    old = timezone.now() - timedelta(days=20)
    SatisfactionSurvey.objects.filter(pk=made["1a-low"].pk).update(sent_at=old, answered_at=old)
    return made


def listed(response) -> set[int]:
    return {s.pk for s in response.context["surveys"]}


def test_each_sees_the_surveys_in_their_scope(org, book):
    seen = {
        name: listed(logged_in(getattr(org, name)).get("/incentives/surveys/"))
        for name in ("rep1a", "rep1b", "sup1", "manager1", "manager2", "admin")
    }
    team1 = {book["1a-good"].pk, book["1a-low"].pk, book["1a-open"].pk}
    assert seen["rep1a"] == team1
    assert seen["rep1b"] == set()
    assert seen["sup1"] == team1
    assert seen["manager1"] == team1 | {book["2a"].pk}
    assert seen["manager2"] == {book["3a"].pk}
    assert seen["admin"] == {s.pk for s in book.values()}


def test_the_figures_follow_the_filters(org, book):
    client = logged_in(org.manager1)
    everything = client.get("/incentives/surveys/").context["stats"]
    # dept 1: answers 5, 2, 4 → 3.67; recommend 10, 3, 8 → (1 − 1) / 3 = 0
    assert (everything.sent, everything.answered, str(everything.average)) == (4, 3, "3.67")
    assert str(everything.nps) == "0.0"
    team1 = client.get(f"/incentives/surveys/?unit={org.team1.pk}&answered=yes")
    assert listed(team1) == {book["1a-good"].pk, book["1a-low"].pk}
    assert str(team1.context["stats"].nps) == "0.0"  # 1 promoter, 1 detractor
    low = client.get("/incentives/surveys/?score=2")
    assert listed(low) == {book["1a-low"].pk}
    recent = client.get(f"/incentives/surveys/?start={(NOW - timedelta(days=5)).date()}")
    assert book["1a-low"].pk not in listed(recent)
    by_rep = client.get(f"/incentives/surveys/?rep={org.rep2a.pk}&trigger=service_visit")
    assert listed(by_rep) == {book["2a"].pk}
    assert str(by_rep.context["stats"].nps) == "0.0"  # a passive only: (0 − 0) / 1
    unanswered = client.get("/incentives/surveys/?answered=no")
    assert listed(unanswered) == {book["1a-open"].pk}
    assert unanswered.context["stats"].average is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("score=9", "Satisfaction"),
        ("start=2026-13-01", "Sent from"),
        ("start=2026-07-10&end=2026-07-01", "The end is before the start."),
        ("answered=maybe", "Answered"),
    ],
)
def test_bad_filters_are_a_form_error(org, book, query, message):
    response = logged_in(org.manager1).get(f"/incentives/surveys/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_filtering_by_a_rep_outside_the_scope_is_refused(org, book):
    response = logged_in(org.manager1).get(f"/incentives/surveys/?rep={org.rep3a.pk}")
    assert response.status_code == 400
    assert "Choose one within your data scope." in response.content.decode()


def test_the_excel_file_has_the_filtered_surveys_and_their_figures(org, book):
    response = logged_in(org.manager1).get("/incentives/surveys/?answered=yes&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(response.content))
    figures = {row[0]: row[1] for row in workbook["Figures"].iter_rows(min_row=4, values_only=True)}
    assert figures["Answered"] == 3 and figures["NPS"] == 0
    assert figures["Average satisfaction (1–5)"] == pytest.approx(3.67)
    rows = list(workbook["Surveys"].iter_rows(min_row=4, values_only=True))
    assert sorted(r[10] for r in rows) == [2, 4, 5]
    assert {r[1] for r in rows} == {"甲客户", "乙客户"}


def test_the_list_pages_within_a_query_budget(org, now, django_assert_max_num_queries):
    customer = surveyed_customer(org.rep1a)
    for _ in range(60):
        opened(customer, org.rep1a)
    client = logged_in(org.sup1)
    # session, user, the filter's units and reps, the figures, the page
    with django_assert_max_num_queries(10):
        first = client.get("/incentives/surveys/")
    assert len(first.context["surveys"]) == 50 and first.context["pages"] == 2
    second = client.get("/incentives/surveys/?page=2")
    assert len(second.context["surveys"]) == 10


def test_the_detail_is_a_404_outside_the_scope(org, book):
    url = f"/incentives/surveys/{book['1a-low'].pk}/"
    assert logged_in(org.rep1b).get(url).status_code == 404
    assert logged_in(org.sup2).get(url).status_code == 404
    page = logged_in(org.sup1).get(url)
    assert page.status_code == 200
    assert "甲客户" in page.content.decode()


def test_the_customer_page_shows_its_satisfaction(org, book):
    customer = book["1a-good"].customer
    response = logged_in(org.rep1a).get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="customer-satisfaction"' in html
    panel = response.context["satisfaction"]
    # answers 5 and 2; the third is not answered
    assert str(panel.stats.average) == "3.50" and panel.stats.sent == 3
    assert [s.pk for s in panel.latest] == [book["1a-good"].pk, book["1a-low"].pk]
