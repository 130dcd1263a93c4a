"""`/api/v1/weekly-reports/` and `/api/v1/visit-figures/`: scope, PATCH of a draft by its rep,
the transitions with their 403 / 409 / 400, figures with bad dates, query budgets."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.visits.choices import ReportStatus

from .test_figures import MON, at, make_customer, make_record
from .test_reports import draft, set_status

pytestmark = pytest.mark.django_db
URL = "/api/v1/weekly-reports/"
FIGURES = "/api/v1/visit-figures/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_is_scoped(org):
    # given reports of rep1a and rep3a
    mine, other = draft(org.rep1a), draft(org.rep3a)

    # when sup1 lists, then only team1's
    ids = {r["id"] for r in api(org.sup1).get(URL).json()["results"]}
    assert ids == {mine.pk}
    assert other.pk not in ids


def test_rep_of_another_team_gets_404(org):
    # given rep1a's report
    report = draft(org.rep1a)

    # when rep3a retrieves, patches or submits it, then 404 each time
    client = api(org.rep3a)
    assert client.get(f"{URL}{report.pk}/").status_code == 404
    assert client.patch(f"{URL}{report.pk}/", {"summary": "x"}, format="json").status_code == 404
    assert client.post(f"{URL}{report.pk}/submit/").status_code == 404


def test_rep_patches_and_submits(org):
    # given rep1a's draft
    report = draft(org.rep1a)
    client = api(org.rep1a)

    # when the rep writes and submits
    response = client.patch(
        f"{URL}{report.pk}/", {"summary": "Good", "next_week_plan": "More"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["available_transitions"] == ["submit"]
    response = client.post(f"{URL}{report.pk}/submit/")

    # then submitted, and a second PATCH is a 409
    assert response.status_code == 200
    assert response.json()["status"] == ReportStatus.SUBMITTED
    assert client.patch(f"{URL}{report.pk}/", {"summary": "x"}, format="json").status_code == 409


def test_submit_incomplete_is_400_naming_the_fields(org):
    # given an empty draft
    report = draft(org.rep1a)

    # when the rep submits it
    response = api(org.rep1a).post(f"{URL}{report.pk}/submit/", HTTP_ACCEPT_LANGUAGE="en")

    # then 400 naming both sections
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"summary", "next_week_plan"}


def test_supervisor_patch_is_403(org):
    # given rep1a's draft, which sup1 may see
    report = draft(org.rep1a)

    # when sup1 patches it, then 403
    response = api(org.sup1).patch(f"{URL}{report.pk}/", {"summary": "x"}, format="json")
    assert response.status_code == 403


def test_review_and_return(org):
    # given two submitted reports of team1
    a = set_status(draft(org.rep1a, summary="s", next_week_plan="p"), ReportStatus.SUBMITTED)
    b = set_status(draft(org.rep1b, summary="s", next_week_plan="p"), ReportStatus.SUBMITTED)
    client = api(org.sup1)

    # when sup1 reviews one and returns the other
    reviewed = client.post(f"{URL}{a.pk}/review/", {"comment": "OK"}, format="json")
    returned = client.post(f"{URL}{b.pk}/return/", {"comment": "More"}, format="json")

    # then they are reviewed / draft again with the comments
    assert (reviewed.status_code, reviewed.json()["status"]) == (200, "reviewed")
    assert reviewed.json()["reviewed_by"]["id"] == org.sup1.pk
    assert (returned.status_code, returned.json()["status"]) == (200, "draft")
    assert returned.json()["supervisor_comment"] == "More"
    # and reviewing a reviewed report is a 409
    assert client.post(f"{URL}{a.pk}/review/", {}, format="json").status_code == 409


def test_return_without_comment_is_400_and_rep_review_is_403(org):
    # given a submitted report
    report = set_status(draft(org.rep1a, summary="s", next_week_plan="p"), ReportStatus.SUBMITTED)

    # then returning it without a comment names the comment
    response = api(org.sup1).post(f"{URL}{report.pk}/return/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "comment"
    # and the rep cannot review their own report
    assert api(org.rep1a).post(f"{URL}{report.pk}/review/", {}, format="json").status_code == 403


def test_late_filter(org):
    # given a late open report and a fresh one
    past = MON - timedelta(days=21)
    late = draft(org.rep1a, past)
    draft(org.rep1b, MON + timedelta(days=700))

    # when sup1 asks for the late ones
    rows = api(org.sup1).get(URL, {"late": "true"}).json()["results"]

    # then only the late one, flagged
    assert [(r["id"], r["is_late"]) for r in rows] == [(late.pk, True)]


def test_list_query_budget(org, django_assert_max_num_queries):
    # given many reports
    from tests.factories import UserFactory

    for i in range(30):
        draft(UserFactory(username=f"a{i}", role="rep", org_unit=org.team1), MON)

    # when the admin lists them: a constant number of queries
    with django_assert_max_num_queries(8):
        response = api(org.admin).get(URL)
    assert len(response.json()["results"]) == 30


def test_figures_endpoint_known_answers_and_scope(org):
    # given rep1a's effective visit with a payment and rep3a's visit
    make_record(org.rep1a, make_customer(org.rep1a, "A"), at(MON + timedelta(days=1)),
                payment_collected=Decimal("12.50"))  # fmt: skip
    make_record(org.rep3a, make_customer(org.rep3a, "B"), at(MON + timedelta(days=1)))
    end = (MON + timedelta(days=7)).isoformat()

    # when sup1 asks for the week's figures
    body = api(org.sup1).get(FIGURES, {"start": MON.isoformat(), "end": end}).json()

    # then only team1's visit counts
    assert body["total"]["visits"] == 1
    assert body["total"]["effective_rate"] == 1.0
    assert Decimal(body["total"]["collections"]) == Decimal("12.50")
    assert {r["id"] for r in body["rows"]} >= {org.rep1a.pk}
    # and rep3a's figures narrowed to rep1a are a 404
    response = api(org.rep3a).get(FIGURES, {"owner": org.rep1a.pk})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [({"start": "2026-13-01"}, "start"), ({"end": "yesterday"}, "end"),
     ({"start": "2026-11-10", "end": "2026-11-01"}, "end")],
)  # fmt: skip
def test_figures_bad_dates_are_400_naming_the_field(org, params, field):
    # when the dates are bad, then 400 naming the field
    response = api(org.sup1).get(FIGURES, params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
