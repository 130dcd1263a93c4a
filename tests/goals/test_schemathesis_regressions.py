"""Bugs schemathesis found in `/api/v1/sales-plans/` and `/api/v1/targets/`
(scripts/schemathesis.sh), kept fixed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.goals.models import SalesPlan

from .test_plans_api import PLANS, api, plan_body
from .test_targets import make_target


def test_a_patch_with_a_target_line_without_its_amount_is_400_naming_it(org):
    # given a draft plan with its grid
    client = api(org.sup1)
    created = client.post(PLANS, plan_body(org), format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    # when a PATCH replaces the grid with a line that has no amount (a 500 before: DRF makes
    # the lines of a partial update partial too)
    response = client.patch(
        f"{PLANS}{pk}/", {"targets": [{"metric": "contract_amount"}]}, format="json"
    )
    # then it is a 400 naming the line's field, and the grid is unchanged
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["targets.0.amount"]
    plan = SalesPlan.objects.get(pk=pk)
    assert sorted(t.amount for t in plan.targets.all()) == [
        Decimal("300"), Decimal("700"), Decimal("1000"),
    ]  # fmt: skip


@pytest.mark.parametrize("year", ["3.2305650831557412e+16", "2025.5", "0"])
def test_a_year_no_date_can_have_is_400_naming_it(org, year):
    # given a target of 2025
    make_target(org.sup1, scope="rep", rep=org.rep1a, day=date(2025, 12, 1))
    # when the list is filtered by a year that is no integer, or none a date can have (a huge
    # one was a 500)
    response = api(org.admin).get("/api/v1/targets/", {"year": year})
    # then it is a 400 naming the filter
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["year"]
