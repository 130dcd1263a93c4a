"""`/api/v1/contests/`: list and filters, detail, the leaderboard (live and final), create and
change with their 400 / 403 / 409, scope 404s, a query budget."""

from __future__ import annotations

from datetime import date

import pytest

from apps.incentives import contests
from apps.incentives.models import Contest
from tests.api.conftest import assert_problem, bearer  # noqa: F401 (the API tests' fixture)

from .test_contests import contest, june_contracts, shanghai

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(time_machine):
    time_machine.move_to(shanghai(2026, 7, 10, 9, 0), tick=False)
    return date(2026, 7, 10)


def test_list_filters_by_state_and_answers_in_scope(org, today, bearer):  # noqa: F811
    ended = contest(org, units=[org.team1], name="六月赛")
    running = contest(org, units=[org.team1], start=date(2026, 7, 1), end=date(2026, 7, 31),
                      name="七月赛")  # fmt: skip
    contest(org, units=[org.team3], name="三队赛")
    client = bearer(org.rep1a)
    body = client.get("/api/v1/contests/").json()
    assert {c["id"] for c in body["results"]} == {ended.pk, running.pk}
    only = client.get("/api/v1/contests/?state=running").json()["results"]
    assert [(c["id"], c["state"], c["final"]) for c in only] == [(running.pk, "running", False)]
    assert only[0]["units"] == [{"id": org.team1.pk, "name": "Team 1"}]
    bad = client.get("/api/v1/contests/?state=someday")
    assert_problem(bad, 400, "validation-error")


def test_detail_outside_the_scope_is_a_404(org, today, bearer):  # noqa: F811
    race = contest(org, units=[org.team1])
    for path in (f"/api/v1/contests/{race.pk}/", f"/api/v1/contests/{race.pk}/leaderboard/"):
        assert_problem(bearer(org.rep3a).get(path), 404, "not-found")
        assert bearer(org.sup1).get(path).status_code == 200


def test_the_leaderboard_live_then_final(org, today, bearer):  # noqa: F811
    june_contracts(org)
    race = contest(org, units=[org.team1, org.team2])
    client = bearer(org.rep1a)
    live = client.get(f"/api/v1/contests/{race.pk}/leaderboard/").json()
    assert (live["final"], live["state"], live["end"]) == (False, "ended", "2026-06-30")
    first = live["rows"][0]
    assert (first["user"]["id"], first["rank"], first["value"]) == (org.rep2a.pk, 1, "10000.00")
    assert sorted((r["rank"], r["value"]) for r in live["rows"])[1:3] == [
        (2, "8000.00"), (2, "8000.00")
    ]  # fmt: skip
    contests.contests_finalize(today=today)
    final = client.get(f"/api/v1/contests/{race.pk}/leaderboard/").json()
    assert final["final"] is True and final["finalized_at"]
    assert final["rows"] == live["rows"]


def test_an_admin_creates_a_contest(org, today, bearer):  # noqa: F811
    response = bearer(org.admin).post("/api/v1/contests/", {
        "name": "七月回款赛", "metric": "collected", "starts_on": "2026-07-11",
        "ends_on": "2026-07-31", "units": [org.team1.pk, org.team2.pk],
    }, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "upcoming" and body["available_transitions"] == ["update"]
    assert {u["id"] for u in body["units"]} == {org.team1.pk, org.team2.pk}


def test_bad_input_is_a_400_naming_the_fields(org, today, bearer):  # noqa: F811
    client = bearer(org.manager1)
    empty = client.post("/api/v1/contests/", {
        "name": "x", "metric": "revenue", "starts_on": "2026-07-11", "ends_on": "2026-07-31",
        "units": [],
    }, format="json")  # fmt: skip
    body = assert_problem(empty, 400, "validation-error")
    assert {e["field"] for e in body["errors"]} == {"metric", "units"}
    outside = client.post("/api/v1/contests/", {
        "name": "x", "metric": "visits", "starts_on": "2026-07-31", "ends_on": "2026-07-11",
        "units": [org.team3.pk],
    }, format="json")  # fmt: skip
    body = assert_problem(outside, 400, "validation-error")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages == {
        "ends_on": "The last day is before the first day.",
        "units": "Choose teams within the units you head.",
    }
    assert not Contest.objects.exists()


def test_a_rep_may_not_create_a_contest(org, today, bearer):  # noqa: F811
    response = bearer(org.rep1a).post("/api/v1/contests/", {
        "name": "x", "metric": "visits", "starts_on": "2026-07-11", "ends_on": "2026-07-31",
        "units": [org.team1.pk],
    }, format="json")  # fmt: skip
    assert_problem(response, 403, "permission-denied")


def test_patch_until_it_starts_then_409(org, today, bearer):  # noqa: F811
    upcoming = contest(org, units=[org.team1], start=date(2026, 8, 1), end=date(2026, 8, 31))
    running = contest(org, units=[org.team1], start=date(2026, 7, 1), end=date(2026, 7, 31))
    client = bearer(org.manager1)
    changed = client.patch(f"/api/v1/contests/{upcoming.pk}/", {"name": "八月冲刺"},
                           format="json")  # fmt: skip
    assert changed.status_code == 200 and changed.json()["name"] == "八月冲刺"
    refused = client.patch(f"/api/v1/contests/{running.pk}/", {"name": "改"}, format="json")
    body = assert_problem(refused, 409, "conflict")
    assert body["detail"] == "A contest cannot be changed once it has started."


def test_the_list_takes_a_fixed_number_of_queries(
    org,
    today,
    bearer,  # noqa: F811
    django_assert_max_num_queries,
):
    for n in range(40):
        contest(org, units=[org.team1, org.team2], name=f"赛{n}")
    client = bearer(org.rep1a)
    with django_assert_max_num_queries(10):
        body = client.get("/api/v1/contests/?page_size=50").json()
    assert len(body["results"]) == 40
