"""`/api/v1/satisfaction-surveys/`: read-only list and detail in scope (never the token), the
filters and `updated_since`, the figures of a filtered set, 404s, 400s, a query budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.incentives import surveys
from apps.incentives.models import SatisfactionSurvey
from tests.api.conftest import assert_problem, bearer  # noqa: F401 (the API tests' fixture)

from .test_surveys import NOW, opened, surveyed_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def made(org, now):
    """rep1a: answered 5/10 and 1/2 (low); not answered. rep3a: answered 4/none."""
    c1a = surveyed_customer(org.rep1a, name="甲客户")
    c3a = surveyed_customer(org.rep3a, name="丙客户")
    good, low, waiting, other = (
        opened(c1a, org.rep1a), opened(c1a, org.rep1a), opened(c1a, org.rep1a),
        opened(c3a, org.rep3a),
    )  # fmt: skip
    surveys.survey_answer(token=good.token, score=5, nps=10, comment="很好")
    surveys.survey_answer(token=low.token, score=1, nps=2, comment="太慢")
    surveys.survey_answer(token=other.token, score=4)
    return {"good": good.survey, "low": low.survey, "waiting": waiting.survey,
            "other": other.survey}  # fmt: skip


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_list_in_scope_without_the_token(org, made, bearer):  # noqa: F811
    mine = bearer(org.rep1a).get("/api/v1/satisfaction-surveys/")
    assert ids(mine) == {made["good"].pk, made["low"].pk, made["waiting"].pk}
    row = next(r for r in mine.json()["results"] if r["id"] == made["low"].pk)
    assert (row["score"], row["nps"], row["comment"], row["status"]) == (1, 2, "太慢", "answered")
    assert row["follow_up_plan"] is not None
    assert row["owner"]["id"] == org.rep1a.pk and row["customer"]["name"] == "甲客户"
    assert "token" not in row and "token_hash" not in row
    assert ids(bearer(org.manager2).get("/api/v1/satisfaction-surveys/")) == {made["other"].pk}
    assert len(ids(bearer(org.admin).get("/api/v1/satisfaction-surveys/"))) == 4


def test_detail_outside_the_scope_is_a_404(org, made, bearer):  # noqa: F811
    url = f"/api/v1/satisfaction-surveys/{made['low'].pk}/"
    assert_problem(bearer(org.rep1b).get(url), 404, "not-found")
    assert_problem(bearer(org.sup3).get(url), 404, "not-found")
    assert bearer(org.sup1).get(url).json()["score"] == 1


def test_filters(org, made, bearer):  # noqa: F811
    client = bearer(org.admin)
    base = "/api/v1/satisfaction-surveys/"
    assert ids(client.get(f"{base}?answered=false")) == {made["waiting"].pk}
    assert ids(client.get(f"{base}?score=1")) == {made["low"].pk}
    assert ids(client.get(f"{base}?owner={org.rep3a.pk}")) == {made["other"].pk}
    assert ids(client.get(f"{base}?unit={org.dept2.pk}")) == {made["other"].pk}
    customer = made["other"].customer_id
    assert ids(client.get(f"{base}?customer={customer}")) == {made["other"].pk}
    day = NOW.date()
    assert len(ids(client.get(f"{base}?sent_from={day}&sent_until={day}"))) == 4
    assert ids(client.get(f"{base}?sent_from={day + timedelta(days=1)}")) == set()


def test_updated_since_returns_what_changed(org, made, bearer, time_machine):  # noqa: F811
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    SatisfactionSurvey.objects.get(pk=made["waiting"].pk).save()
    since = (NOW + timedelta(minutes=30)).isoformat()
    response = bearer(org.admin).get("/api/v1/satisfaction-surveys/", {"updated_since": since})
    assert ids(response) == {made["waiting"].pk}


@pytest.mark.parametrize(
    "query", ["score=9", "answered=perhaps", "sent_from=yesterday", "owner=1.5", "trigger=call"]
)
def test_bad_filters_are_a_400(org, made, bearer, query):  # noqa: F811
    response = bearer(org.admin).get(f"/api/v1/satisfaction-surveys/?{query}")
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == query.split("=")[0]


def test_stats_of_the_filtered_set(org, made, bearer):  # noqa: F811
    client = bearer(org.rep1a)
    body = client.get("/api/v1/satisfaction-surveys/stats/").json()
    # answers 5 and 1; recommend 10 (promoter) and 2 (detractor) → NPS 0
    assert body == {
        "sent": 3, "answered": 2, "response_rate": "66.7", "average": "3.00", "promoters": 1,
        "passives": 0, "detractors": 1, "nps": "0.0",
    }  # fmt: skip
    good_only = client.get("/api/v1/satisfaction-surveys/stats/?score=5").json()
    assert (good_only["nps"], good_only["average"]) == ("100.0", "5.00")


def test_the_list_takes_a_fixed_number_of_queries(
    org,
    now,
    bearer,  # noqa: F811
    django_assert_max_num_queries,
):
    customer = surveyed_customer(org.rep1a)
    for _ in range(40):
        made = opened(customer, org.rep1a)
        SatisfactionSurvey.objects.filter(pk=made.survey.pk).update(
            status="answered", score=4, answered_at=timezone.now()
        )
    client = bearer(org.sup1)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/satisfaction-surveys/?page_size=100")
    assert len(response.json()["results"]) == 40
