"""The report API of the goals: `GET /api/v1/reports/attainment/` and
`GET /api/v1/reports/comparison/` answer the numbers of `apps.goals.attainment` and
`apps.goals.comparison` (the data and targets of June 2026 of `test_attainment`), obey the data
scope (404 for a unit or rep outside it), answer bad parameters with a 400 problem naming the
field, and cost a fixed number of queries."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.choices import Role
from tests.factories import UserFactory

from .test_attainment import june  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

ATTAINMENT = "/api/v1/reports/attainment/"
COMPARISON = "/api/v1/reports/comparison/"
JUNE = {"period": "month", "date": "2026-06-15"}


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def _figure(figures: list[dict], metric: str) -> dict:
    return next(f for f in figures if f["metric"] == metric)


def test_attainment_of_a_department(org, june):  # noqa: F811
    response = api(org.finance).get(ATTAINMENT, {**JUNE, "unit": org.dept1.pk,
                                                 "metric": "contract_amount"})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"kind": "month", "start": "2026-06-01", "end": "2026-06-30",
                              "label": "2026-06"}  # fmt: skip
    assert body["node"] == {"kind": "unit", "id": org.dept1.pk, "name": "Dept 1"}
    assert body["totals"] == [{"metric": "contract_amount", "target": "900000.00",
                               "actual": "803000.00", "attainment": "89.2",
                               "gap": "97000.00"}]  # fmt: skip
    rows = {(row["kind"], row["id"]): row for row in body["rows"]}
    team2 = _figure(rows[("unit", org.team2.pk)]["figures"], "contract_amount")
    assert (team2["actual"], team2["attainment"], team2["gap"]) == (
        "800000.00", "160.0", "-300000.00",
    )  # fmt: skip
    assert rows[("rep", org.manager1.pk)]["unit"] == org.dept1.pk


def test_attainment_with_all_metrics_of_a_rep(org, june):  # noqa: F811
    body = api(org.finance).get(ATTAINMENT, {**JUNE, "rep": org.rep1b.pk}).json()
    assert [f["metric"] for f in body["totals"]] == [
        "contract_amount", "collected", "new_customers", "visits", "effective_visits",
    ]  # fmt: skip
    assert _figure(body["totals"], "visits")["actual"] == "2.00"
    assert _figure(body["totals"], "visits")["target"] is None
    assert [row["id"] for row in body["rows"]] == [org.team1.pk, org.team2.pk]


def test_comparison_of_teams_and_months(org, june):  # noqa: F811
    teams = api(org.manager1).get(COMPARISON, {**JUNE, "view": "teams"}).json()
    assert [(line["rank"], line["id"], line["actual"]) for line in teams["lines"]] == [
        (1, org.team2.pk, "800000.00"), (2, org.team1.pk, "3000.00"),
    ]  # fmt: skip
    assert teams["total"]["actual"] == "803000.00"
    months = api(org.finance).get(COMPARISON, {**JUNE, "view": "months"}).json()
    assert len(months["points"]) == 12
    assert months["points"][-1] == {"month": "2026-06-01", "target": "1000000.00",
                                    "actual": "803000.00", "attainment": "80.3",
                                    "previous": None}  # fmt: skip


def test_a_rep_gets_their_own_months_by_default(org, june):  # noqa: F811
    body = api(org.rep1a).get(COMPARISON, JUNE).json()
    assert body["view"] == "months" and body["node"]["id"] == org.rep1a.pk
    assert body["points"][-1]["actual"] == "3000.00"


@pytest.mark.parametrize("url", [ATTAINMENT, COMPARISON])
@pytest.mark.parametrize(
    ("viewer", "params"),
    [("sup1", {"unit": "team3"}), ("rep1a", {"rep": "rep1b"}), ("manager1", {"rep": "rep3a"})],
)
def test_outside_the_scope_is_a_404_problem(org, june, url, viewer, params):  # noqa: F811
    query = {key: getattr(org, value).pk for key, value in params.items()}
    response = api(getattr(org, viewer)).get(url, {**JUNE, **query})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (ATTAINMENT, {"period": "decade"}, "period"),
        (ATTAINMENT, {"date": "15/06/2026"}, "date"),
        (ATTAINMENT, {"metric": "profit"}, "metric"),
        (ATTAINMENT, {"unit": "abc"}, "unit"),
        (COMPARISON, {"view": "weekly"}, "view"),
        (COMPARISON, {"metric": "all"}, "metric"),
        (COMPARISON, {"rep": "0"}, "rep"),
    ],
)
def test_bad_parameter_is_a_400_problem_naming_the_field(org, url, params, field):
    response = api(org.finance).get(url, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_unknown_unit_is_404(org):
    assert api(org.finance).get(ATTAINMENT, {"unit": 999999}).status_code == 404


def test_anonymous_is_refused(db):
    assert APIClient().get(ATTAINMENT).status_code == 401


def test_attainment_costs_the_same_queries(org, june, django_assert_max_num_queries):  # noqa: F811
    client = api(org.finance)
    for n in range(10):
        UserFactory(username=f"extra{n}", role=Role.REP, org_unit=org.team2)
    # units, memberships, targets, five actuals, and the API's own (throttle, idempotency)
    with django_assert_max_num_queries(10):
        response = client.get(ATTAINMENT, {**JUNE, "unit": org.team2.pk})
    assert response.status_code == 200
    assert len(response.json()["rows"]) == 13  # rep1b, rep2a, sup2 and the ten
