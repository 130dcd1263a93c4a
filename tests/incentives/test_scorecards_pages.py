"""The scorecard pages and API: the list (filters, search, paging, query budget), the ranking with
its grade distribution and its Excel file, the scorecard page (every number linking to the
documents behind it, the weights scaled up when a line had nothing to measure, "How this is
computed", the head's form, the publication), bad input as form errors or 400 problems; the
scoring-scheme pages (administrators only, validation as field errors, history, deactivation,
recomputation); `/api/v1/scorecards/` and `/api/v1/scoring-schemes/` (scope 404, transitions
403/409/400, ordering, query budget)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from apps.approvals.services import approval_approve, approval_request_for
from apps.goals.periods import period_of
from apps.incentives import scorecards
from apps.incentives.choices import KpiMetric, ScorecardStatus
from apps.incentives.models import Scorecard, ScoringScheme
from tests.api.conftest import assert_problem, bearer  # noqa: F401 (fixture)
from tests.factories import PASSWORD, UserFactory

from .test_scorecards import june_cards, linear, make_scheme
from .test_scorecards_flow import card_of, computed, scorecard_policy, set_status  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
JUNE = period_of("month", date(2026, 6, 1))
PERIOD = "month:2026-06-01"


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def june(org, time_machine, scorecard_policy):  # noqa: F811
    scheme = june_cards(org, time_machine)
    time_machine.move_to(datetime(2026, 7, 10, 10, 0, tzinfo=SHANGHAI))
    return scheme


# --- the list ---------------------------------------------------------------------------------


def test_list_filters_by_period_grade_status_team_and_name(client, org, june):
    login(client, org.manager1)
    url = reverse("incentives:scorecard_list")

    def shown(**query) -> set[int]:
        body = client.get(url, query).content.decode()
        return {c.user_id for c in Scorecard.objects.all() if f'data-scorecard="{c.pk}"' in body}

    # manager1 heads dept 1: rep1a (team 1), rep1b and rep2a (team 2 at June's end)
    assert shown() == {org.rep1a.pk, org.rep1b.pk, org.rep2a.pk}
    assert shown(period=PERIOD, grade="A") == {org.rep1b.pk}
    assert shown(period=PERIOD, unit=org.team2.pk) == {org.rep1b.pk, org.rep2a.pk}
    assert shown(q="rep1a") == {org.rep1a.pk}
    set_status(Scorecard.objects.get(user=org.rep2a), ScorecardStatus.APPROVED)
    assert shown(status="approved") == {org.rep2a.pk}
    assert shown(period="month:2026-05-01") == set()


def test_list_is_sorted_by_rank(client, org, june):
    body = login(client, org.admin).get(reverse("incentives:scorecard_list")).content.decode()
    order = [org.rep3a, org.rep1b, org.rep1a, org.rep2a]
    positions = [body.index(f'data-scorecard="{Scorecard.objects.get(user=u).pk}"') for u in order]
    assert positions == sorted(positions)


def test_a_bad_filter_is_a_form_error_naming_it(client, org, june):
    response = login(client, org.admin).get(reverse("incentives:scorecard_list"), {"period": "x"})
    assert response.status_code == 400
    assert 'data-field="period"' in response.content.decode()
    response = client.get(reverse("incentives:scorecard_ranking"), {"period": "month:2026-06-02"})
    assert response.status_code == 400


def test_list_pages_without_growing_queries(client, org, computed, django_assert_max_num_queries):  # noqa: F811
    scheme = Scorecard.objects.first().scheme
    for n in range(60):
        user = UserFactory(username=f"many{n}", role="rep", org_unit=org.team1)
        Scorecard.objects.create(
            scheme=scheme, user=user, org_unit=org.team1, period_kind="month",
            period_start=JUNE.start, period_end=JUNE.end, score=D(n), computed_at=datetime(
                2026, 7, 2, tzinfo=SHANGHAI),
        )  # fmt: skip
    login(client, org.sup1)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("incentives:scorecard_list"))
    body = response.content.decode()
    assert body.count("data-scorecard=") == 50 and 'rel="next"' in body
    second = client.get(reverse("incentives:scorecard_list"), {"page": 2}).content.decode()
    assert second.count("data-scorecard=") == 12  # 60 + rep1a + rep1b


# --- the ranking ------------------------------------------------------------------------------


def test_ranking_shows_the_grade_distribution_and_the_ranks(client, org, june):
    body = login(client, org.admin).get(reverse("incentives:scorecard_ranking")).content.decode()
    # June under the rep scheme by default: S rep3a, A rep1b, C rep1a, D rep2a
    for grade, count in (("S", 1), ("A", 1), ("B", 0), ("C", 1), ("D", 1)):
        assert f'data-grade-bar="{grade}" data-count="{count}"' in body
    assert body.index(org.rep3a.display_name) < body.index(org.rep2a.display_name)


def test_ranking_exports_the_rows_to_excel(client, org, june):
    scheme = ScoringScheme.objects.get()
    response = login(client, org.sup1).get(
        reverse("incentives:scorecard_ranking"),
        {"period": PERIOD, "scheme": scheme.pk, "format": "xlsx"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'scorecards-2026-06-rep-{scheme.pk}.xlsx"')
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    # sup1 sees team 1 only: rep1a, ranked 3rd in the company, 62.50, C; then the average
    assert rows[0][:6] == (3, 1, org.rep1a.display_name, "Team 1", 62.5, "C")
    assert rows[0][7:9] == (75, 75)  # contract attainment: value, points
    assert rows[-1][2] == "Average" and len(rows) == 2


def test_ranking_of_a_scheme_outside_sight_is_404(client, org, june):
    other = make_scheme(org.admin, linear(KpiMetric.COLLECTION_RATE, 100), role="supervisor",
                        name="Supervisors")  # fmt: skip
    response = login(client, org.sup1).get(
        reverse("incentives:scorecard_ranking"), {"period": PERIOD, "scheme": other.pk}
    )
    assert response.status_code == 404


# --- the scorecard page -------------------------------------------------------------------------


def test_every_number_links_to_the_documents_behind_it(client, org, june):
    card = Scorecard.objects.get(user=org.rep1a)
    body = login(client, org.sup1).get(card.get_absolute_url()).content.decode()
    documents = reverse("goals:attainment_documents")
    node = reverse("goals:attainment")
    query = f"period=month&amp;date=2026-06-01&amp;rep={org.rep1a.pk}&amp;metric=contract_amount"
    assert f'href="{documents}?{query}" data-link="numerator"' in body
    assert f'href="{node}?{query}" data-link="denominator"' in body
    assert f"rep={org.rep1a.pk}&amp;metric=effective_visits" in body
    assert f"rep={org.rep1a.pk}&amp;metric=visits" in body
    # and the documents page behind the numerator adds up to it
    page = client.get(f"{documents}?period=month&date=2026-06-01&rep={org.rep1a.pk}"
                      "&metric=contract_amount")  # fmt: skip
    assert page.status_code == 200 and "3,000.00" in page.content.decode()


def test_a_line_with_nothing_to_measure_is_left_out_and_said_so(client, org, june):
    card = Scorecard.objects.get(user=org.rep3a)  # no target: contract attainment left out
    body = login(client, org.sup3).get(card.get_absolute_url()).content.decode()
    assert 'data-testid="left-out-note"' in body
    assert "scaled up to add up to 100" in body
    assert "How this is computed" in body and "Signed contract amount ÷ the target" in body
    assert 'data-col="effective-weight">→ 100%' in body


def test_the_form_is_the_heads_and_saves_and_submits(client, org, june):
    card = Scorecard.objects.get(user=org.rep1a)
    assert (
        'id="assessment-form"'
        not in login(client, org.admin).get(card.get_absolute_url()).content.decode()
    )
    login(client, org.sup1)
    assert 'id="assessment-form"' in client.get(card.get_absolute_url()).content.decode()
    url = reverse("incentives:scorecard_assess", args=[card.pk])
    # an empty assessment submitted is a form error, nothing changes
    response = client.post(url, {"assessment": "", "submit": "1"})
    assert response.status_code == 400
    assert "Write the assessment before submitting." in response.content.decode()
    assert Scorecard.objects.get(pk=card.pk).status == ScorecardStatus.COMPUTED
    # too long: a form error too
    response = client.post(url, {"assessment": "x" * 20001, "save": "1"})
    assert response.status_code == 400 and 'data-field="assessment"' in response.content.decode()
    # saved, then submitted
    assert client.post(url, {"assessment": "Draft.", "save": "1"}).status_code == 302
    assert Scorecard.objects.get(pk=card.pk).assessment == "Draft."
    assert client.post(url, {"assessment": "Final.", "submit": "1"}).status_code == 302
    card = Scorecard.objects.get(pk=card.pk)
    assert (card.status, card.assessment) == (ScorecardStatus.PENDING, "Final.")


def test_another_head_posting_the_form_gets_a_404(client, org, june):
    card = Scorecard.objects.get(user=org.rep1a)
    url = reverse("incentives:scorecard_assess", args=[card.pk])
    assert login(client, org.sup2).post(url, {"assessment": "x"}).status_code == 404


def test_manager_publishes_from_the_page_and_a_supervisor_cannot(client, org, june):
    card = Scorecard.objects.get(user=org.rep1a)
    request = scorecards.scorecard_submit(scorecard=card, by=org.sup1, assessment="OK.")
    approval_approve(request=request, by=org.manager1)
    url = reverse("incentives:scorecard_publish", args=[card.pk])
    response = login(client, org.sup1).post(url, follow=True)
    assert "Only a manager above" in response.content.decode()
    assert Scorecard.objects.get(pk=card.pk).status == ScorecardStatus.APPROVED
    body = login(client, org.manager1).get(card.get_absolute_url()).content.decode()
    assert 'data-testid="publish-scorecard"' in body
    assert client.post(url).status_code == 302
    assert Scorecard.objects.get(pk=card.pk).status == ScorecardStatus.PUBLISHED


def test_publish_all_from_the_list(client, org, june):
    for user in (org.rep1a, org.rep2a):
        set_status(Scorecard.objects.get(user=user), ScorecardStatus.APPROVED)
    login(client, org.manager1)
    response = client.post(
        reverse("incentives:scorecards_publish"),
        {"period": PERIOD, "unit": org.team2.pk, "next": "/incentives/scorecards/"},
    )
    assert response.status_code == 302 and response["Location"] == "/incentives/scorecards/"
    assert dict(Scorecard.objects.filter(status="published").values_list("user_id", "status")) == {
        org.rep2a.pk: "published"
    }
    # a team outside manager1's units is a 404
    response = client.post(
        reverse("incentives:scorecards_publish"), {"period": PERIOD, "unit": org.team3.pk}
    )
    assert response.status_code == 404


# --- schemes ------------------------------------------------------------------------------------


def _scheme_post(**overrides) -> dict:
    """The form of a scheme using contract attainment 60 and collection rate 40."""
    post = {
        "name": "Reps 2026", "role": "rep", "period_kind": "month", "grade_s_min": "95",
        "grade_a_min": "85", "grade_b_min": "70", "grade_c_min": "60", "notes": "",
        "metrics-TOTAL_FORMS": "2", "metrics-INITIAL_FORMS": "2", "metrics-MIN_NUM_FORMS": "0",
        "metrics-MAX_NUM_FORMS": "9",
        "metrics-0-metric": "contract_attainment", "metrics-0-weight": "60",
        "metrics-0-curve": "linear", "metrics-0-zero_at": "0", "metrics-0-full_at": "100",
        "metrics-0-cap": "120",
        "metrics-1-metric": "collection_rate", "metrics-1-weight": "40",
        "metrics-1-curve": "thresholds", "metrics-1-cap": "100",
        "metrics-1-thresholds": "60:50, 80:80, 95:100",
    }  # fmt: skip
    post.update(overrides)
    return post


@pytest.mark.parametrize("who", ["manager1", "sup1", "rep1a", "finance"])
def test_scheme_pages_are_404_for_anyone_but_an_admin(client, org, who):
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    login(client, getattr(org, who))
    edit = reverse("incentives:scheme_edit", args=[scheme.pk])
    for url in (reverse("incentives:scheme_list"), reverse("incentives:scheme_create"),
                scheme.get_absolute_url(), edit):  # fmt: skip
        assert client.get(url).status_code == 404
    assert client.post(reverse("incentives:scheme_create"), _scheme_post()).status_code == 404
    assert client.post(reverse("incentives:scheme_deactivate", args=[scheme.pk])).status_code == 404
    assert ScoringScheme.objects.get().is_active


def test_admin_creates_a_scheme_from_the_page(client, org):
    login(client, org.admin)
    assert client.get(reverse("incentives:scheme_create")).status_code == 200
    response = client.post(reverse("incentives:scheme_create"), _scheme_post())
    scheme = ScoringScheme.objects.get()
    assert response.status_code == 302 and response["Location"] == scheme.get_absolute_url()
    lines = list(scheme.metrics.values_list("metric", "weight", "curve", "thresholds"))
    assert lines == [
        ("contract_attainment", D("60.00"), "linear", []),
        ("collection_rate", D("40.00"), "thresholds",
         [{"at": "60", "points": "50"}, {"at": "80", "points": "80"},
          {"at": "95", "points": "100"}]),
    ]  # fmt: skip
    assert scheme.created_by == org.admin


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        ({"metrics-1-weight": "30"}, "metrics",
         "The weights add up to 90: they must add up to exactly 100."),
        ({"metrics-0-full_at": "0"}, "contract_attainment.full_at",
         "The value scoring 100 must differ from the value scoring 0."),
        ({"metrics-1-thresholds": "60-50"}, "collection_rate.thresholds",
         "Write each threshold as value:points, for example 80:60."),
        ({"metrics-1-thresholds": "60:50, 60:80"}, "collection_rate.thresholds",
         "Each threshold value can appear once."),
        ({"grade_b_min": "90"}, "grade_b_min", None),
        ({"metrics-0-weight": "abc"}, "contract_attainment.weight", None),
    ],
)  # fmt: skip
def test_bad_scheme_input_is_a_field_error_and_creates_nothing(client, org, overrides, where,
                                                                message):  # fmt: skip
    response = login(client, org.admin).post(
        reverse("incentives:scheme_create"), _scheme_post(**overrides)
    )
    body = response.content.decode()
    assert response.status_code == 400
    if "." in where:
        assert f'data-field="{where}"' in body
    elif where == "metrics":
        assert 'data-field="metrics"' in body
    else:
        assert f'id="field-{where}"' in body and "invalid-feedback" in body
    if message:
        assert message in body
    assert not ScoringScheme.objects.exists()


def test_a_second_active_scheme_is_a_form_error_not_a_500(client, org):
    make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    response = login(client, org.admin).post(reverse("incentives:scheme_create"), _scheme_post())
    assert response.status_code == 400
    assert "already assesses Sales rep by Month: deactivate it first." in response.content.decode()
    assert ScoringScheme.objects.count() == 1


def test_scheme_page_shows_its_history_and_can_be_edited_and_deactivated(client, org):
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    login(client, org.admin)
    response = client.post(
        reverse("incentives:scheme_edit", args=[scheme.pk]), _scheme_post(name="Renamed")
    )
    assert response.status_code == 302
    body = client.get(scheme.get_absolute_url()).content.decode()
    assert "Renamed" in body and "Rep scheme" in body  # the history tells the old name
    assert client.post(reverse("incentives:scheme_deactivate", args=[scheme.pk])).status_code == 302
    scheme.refresh_from_db()
    assert not scheme.is_active
    # deactivating again is a message, not an error page
    response = client.post(reverse("incentives:scheme_deactivate", args=[scheme.pk]), follow=True)
    assert "This scheme is not active." in response.content.decode()


def test_admin_recomputes_a_period_from_the_scheme_page(client, org, june):
    scheme = ScoringScheme.objects.get()
    login(client, org.admin)
    response = client.post(
        reverse("incentives:scheme_recompute", args=[scheme.pk]), {"day": "2026-06-09"},
        follow=True,
    )  # fmt: skip
    assert "0 created, 0 changed, 4 unchanged" in response.content.decode()
    response = client.post(
        reverse("incentives:scheme_recompute", args=[scheme.pk]), {"day": "2026-07-09"},
        follow=True,
    )  # fmt: skip
    assert "has not ended yet" in response.content.decode()
    response = client.post(
        reverse("incentives:scheme_recompute", args=[scheme.pk]), {"day": "junk"}, follow=True
    )
    assert response.status_code == 200 and Scorecard.objects.count() == 4


# --- the API ----------------------------------------------------------------------------------


def test_api_lists_and_reads_scorecards_in_scope(org, june, bearer):  # noqa: F811
    body = bearer(org.sup1).get("/api/v1/scorecards/").json()
    assert [item["user"]["id"] for item in body["results"]] == [org.rep1a.pk]
    card = Scorecard.objects.get(user=org.rep1a)
    detail = bearer(org.sup1).get(f"/api/v1/scorecards/{card.pk}/").json()
    assert (detail["score"], detail["grade"], detail["rank_in_company"]) == ("62.50", "C", 3)
    assert detail["available_transitions"] == ["submit"]
    assert detail["approval"] is None
    lines = {line["metric"]: line for line in detail["lines"]}
    assert lines["contract_attainment"]["numerator"] == "3000.00"
    assert lines["contract_attainment"]["effective_weight"] == "50.00"
    rep3a = Scorecard.objects.get(user=org.rep3a)
    lines = bearer(org.admin).get(f"/api/v1/scorecards/{rep3a.pk}/").json()["lines"]
    assert [(line["measured"], line["effective_weight"]) for line in lines] == [
        (False, "0.00"), (True, "100.00"),
    ]  # fmt: skip


@pytest.mark.parametrize("who", ["rep1a", "rep3a", "sup2", "manager2", "finance"])
def test_api_scorecard_outside_sight_is_404(org, june, bearer, who):  # noqa: F811
    card = Scorecard.objects.get(user=org.rep1a)  # computed: not even rep1a sees it yet
    client = bearer(getattr(org, who))
    assert_problem(client.get(f"/api/v1/scorecards/{card.pk}/"), 404, "not-found")
    assert_problem(client.post(f"/api/v1/scorecards/{card.pk}/submit/"), 404, "not-found")
    listed = [item["id"] for item in client.get("/api/v1/scorecards/").json()["results"]]
    assert card.pk not in listed


def test_api_submit_approve_publish(org, june, bearer):  # noqa: F811
    card = Scorecard.objects.get(user=org.rep1a)
    url = f"/api/v1/scorecards/{card.pk}/"
    # without an assessment: 400 naming it; by manager2's sight: 404 (above); by a rep: 404
    body = assert_problem(bearer(org.sup1).post(f"{url}submit/", {}, format="json"), 400,
                          "validation-error")  # fmt: skip
    assert [error["field"] for error in body["errors"]] == ["assessment"]
    submitted = bearer(org.sup1).post(f"{url}submit/", {"assessment": "Well done."}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending"
    approval = submitted.json()["approval"]
    assert approval == approval_request_for(card).pk
    # submitting again: 409; publishing before approval: 409
    assert_problem(bearer(org.manager1).post(f"{url}submit/", {"assessment": "x"}, format="json"),
                   409, "conflict")  # fmt: skip
    assert_problem(bearer(org.manager1).post(f"{url}publish/"), 409, "conflict")
    # the manager approves through the approvals resource
    assert bearer(org.manager1).post(f"/api/v1/approvals/{approval}/approve/").status_code == 200
    assert_problem(bearer(org.sup1).post(f"{url}publish/"), 403, "permission-denied")
    published = bearer(org.manager1).post(f"{url}publish/")
    assert published.status_code == 200 and published.json()["status"] == "published"
    # now rep1a sees it
    assert bearer(org.rep1a).get(url).json()["assessment"] == "Well done."


def test_api_submit_by_someone_without_the_right_is_403(org, june, bearer):  # noqa: F811
    card = Scorecard.objects.get(user=org.rep1a)
    response = bearer(org.admin).post(
        f"/api/v1/scorecards/{card.pk}/submit/", {"assessment": "x"}, format="json"
    )
    assert_problem(response, 403, "permission-denied")


def test_api_orders_by_rank_and_refuses_an_unknown_ordering(org, june, bearer):  # noqa: F811
    client = bearer(org.admin)
    body = client.get("/api/v1/scorecards/", {"ordering": "rank"}).json()
    assert [item["user"]["id"] for item in body["results"]] == [
        org.rep3a.pk, org.rep1b.pk, org.rep1a.pk, org.rep2a.pk,
    ]  # fmt: skip
    problem = assert_problem(client.get("/api/v1/scorecards/", {"ordering": "score"}), 400,
                             "validation-error")  # fmt: skip
    assert problem["errors"][0]["field"] == "ordering"
    filtered = client.get("/api/v1/scorecards/", {"grade": "S", "period_start": "2026-06-01"})
    assert [item["user"]["id"] for item in filtered.json()["results"]] == [org.rep3a.pk]
    later = client.get("/api/v1/scorecards/", {"updated_since": "2099-01-01T00:00:00+08:00"})
    assert later.json()["results"] == []


def test_api_list_query_count_stays_flat(org, computed, bearer, django_assert_max_num_queries):  # noqa: F811
    scheme = Scorecard.objects.first().scheme
    for n in range(30):
        user = UserFactory(username=f"api{n}", role="rep", org_unit=org.team2)
        Scorecard.objects.create(
            scheme=scheme, user=user, org_unit=org.team2, period_kind="month",
            period_start=JUNE.start, period_end=JUNE.end, computed_at=datetime(
                2026, 7, 2, tzinfo=SHANGHAI),
        )  # fmt: skip
    client = bearer(org.manager1)
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/scorecards/")
    assert response.status_code == 200 and len(response.json()["results"]) == 33


def test_api_scoring_schemes_are_an_admins(org, bearer):  # noqa: F811
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    body = bearer(org.admin).get(f"/api/v1/scoring-schemes/{scheme.pk}/").json()
    assert body["metrics"][0]["metric"] == "contract_attainment"
    for who in (org.manager1, org.rep1a):
        assert_problem(bearer(who).get("/api/v1/scoring-schemes/"), 404, "not-found")
        assert_problem(bearer(who).get(f"/api/v1/scoring-schemes/{scheme.pk}/"), 404,
                       "not-found")  # fmt: skip
