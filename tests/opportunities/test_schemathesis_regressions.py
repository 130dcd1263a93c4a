"""Bugs schemathesis found in `/api/v1/opportunities/` (scripts/schemathesis.sh), kept fixed."""

from __future__ import annotations

import pytest

from apps.opportunities.choices import Stage
from tests.api.conftest import assert_problem


@pytest.mark.parametrize("path", ["/api/v1/opportunities/", "/api/v1/opportunities/board/"])
def test_close_month_of_year_0000_is_400_naming_it(org, bearer, path):
    # given / when the month filter names year 0000, which matches YYYY-MM but is no date (a
    # 500 before)
    response = bearer(org.manager1).get(path, {"close_month": "0000-01"})
    # then it is a 400 naming the parameter
    body = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["close_month"]


def test_board_cards_answer_what_the_schema_promises(org, deal, bearer):
    # given an open deal
    deal(org.rep1a, stage=Stage.QUALIFICATION)
    schema = (
        bearer(org.admin).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    )
    card_schema = schema["components"]["schemas"]["BoardCard"]
    # when the board is read
    body = bearer(org.rep1a).get("/api/v1/opportunities/board/").json()
    # then each card has every field the schema requires (it promised probability and
    # weighted_amount, which are the column's and were left out)
    (card,) = [card for column in body["columns"] for card in column["cards"]]
    assert set(card_schema["required"]) <= set(card)
    assert set(card) <= set(card_schema["properties"])
