"""The report API of the receivables figures: `GET /api/v1/reports/receivables-aging/` and
`GET /api/v1/reports/collection/` answer the numbers of `apps.receivables.figures` (worked
out by hand below), obey the data scope (404 for a team, rep or customer outside it), answer
bad parameters with a 400 problem naming the field, and cost a fixed number of queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.accounts.choices import Role
from apps.receivables.services import payment_allocate, payment_record
from tests.factories import UserFactory

from .conftest import TODAY, api, make_contract, make_customer, make_installment

pytestmark = pytest.mark.django_db

AGING = "/api/v1/reports/receivables-aging/"
COLLECTION = "/api/v1/reports/collection/"
MAY = {"start": "2026-05-01", "end": "2026-05-31"}


def _pay(org, time_machine, installment, amount: str, day: date, reference: str) -> None:
    time_machine.move_to(
        datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    payment = payment_record(
        by=org.finance, customer=installment.customer, amount=amount, received_on=day,
        bank_reference=reference,
    ).payment  # fmt: skip
    payment_allocate(payment=payment, by=org.finance, lines=[(installment, amount)])


@pytest.fixture
def books(org, today, time_machine):
    """rep1a (team 1): 1,000 due 10 Apr with 400 allocated 10 May, and 600 due 20 May unpaid.
    rep3a (team 3): 300 due 5 May, paid in full 6 May. Today is 15 June 2026."""
    first = make_contract(make_customer(org.rep1a, name="华东客户"))
    other = make_contract(make_customer(org.rep3a, name="华南客户"))
    old = make_installment(first, 1, "1000.00", date(2026, 4, 10))
    make_installment(first, 2, "600.00", date(2026, 5, 20))
    paid = make_installment(other, 1, "300.00", date(2026, 5, 5))
    _pay(org, time_machine, old, "400.00", date(2026, 5, 10), "B-1")
    _pay(org, time_machine, paid, "300.00", date(2026, 5, 6), "B-2")
    time_machine.move_to(datetime(2026, 6, 15, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    return {"east": first.customer, "south": other.customer}


def _rows(body: dict) -> dict:
    return {row["key"]: row for row in body["rows"]}


def test_aging_by_rep(org, books):
    response = api(org.finance).get(AGING, {"group_by": "rep"})
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2026-06-15" and body["group_by"] == "rep"
    rep = _rows(body)[org.rep1a.pk]
    # 600 open of the 1,000 due 10 Apr: 66 days → 61–90; 600 due 20 May: 26 days → 1–30
    assert (rep["current"], rep["d1_30"], rep["d61_90"], rep["d90_plus"]) == (
        "0.00", "600.00", "600.00", "0.00",
    )  # fmt: skip
    assert (rep["open"], rep["overdue"], rep["overdue_ratio"], rep["count"]) == (
        "1200.00", "1200.00", "100.0", 2,
    )  # fmt: skip
    assert set(_rows(body)) == {org.rep1a.pk}  # rep3a has nothing open
    assert body["total"]["open"] == "1200.00" and body["next"] is None


def test_aging_as_of_a_day(org, books):
    # on 19 May the 1,000 was 39 days overdue and the 600 not yet due
    body = api(org.finance).get(AGING, {"as_of": "2026-05-19"}).json()
    total = body["total"]
    assert (total["current"], total["d31_60"], total["overdue_ratio"]) == (
        "600.00", "600.00", "50.0",
    )  # fmt: skip


def test_aging_customers_are_paged(org, books):
    extra = make_contract(make_customer(org.rep1a, name="华北客户"))
    make_installment(extra, 1, "50.00", TODAY)
    client = api(org.finance)
    first = client.get(AGING, {"group_by": "customer", "page_size": 1}).json()
    assert [r["label"] for r in first["rows"]] == ["华东客户"]
    assert first["total"]["open"] == "1250.00"  # every customer, not the page
    assert "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert [r["label"] for r in second["rows"]] == ["华北客户"] and second["next"] is None
    found = client.get(AGING, {"group_by": "customer", "q": "华北"}).json()
    assert [r["label"] for r in found["rows"]] == ["华北客户"]


def test_collection_of_a_period(org, books):
    body = api(org.finance).get(COLLECTION, {**MAY, "group_by": "rep"}).json()
    assert (body["start"], body["end"], body["days"]) == ("2026-05-01", "2026-05-31", 31)
    rows = _rows(body)
    east = rows[org.rep1a.pk]
    # to collect: 1,000 overdue on 1 May + 600 due in May; collected 400 on 10 May
    assert (east["due"], east["to_collect"], east["collected"]) == (
        "600.00", "1600.00", "400.00",
    )  # fmt: skip
    assert east["overdue_at_start"] == "1000.00"
    assert east["collection_rate"] == "25.0"
    # open on 31 May of what was due by then: 600 + 600; DSO 1,200 / 600 × 31
    assert (east["receivable_at_end"], east["dso"]) == ("1200.00", "62.0")
    assert (east["overdue_ratio"], east["bad_debt_ratio"]) == ("100.0", "0.0")
    south = rows[org.rep3a.pk]
    assert (south["collected"], south["collection_rate"], south["dso"]) == (
        "300.00", "100.0", "0.0",
    )  # fmt: skip
    total = body["total"]
    # 700 / 1,900 = 36.84 %; DSO 1,200 / 900 × 31 = 41.33
    assert (total["collection_rate"], total["dso"]) == ("36.8", "41.3")


def test_collection_defaults_to_this_month(org, books):
    body = api(org.finance).get(COLLECTION).json()
    assert (body["start"], body["end"], body["group_by"]) == ("2026-06-01", "2026-06-30", "company")
    # nothing falls due in June: no DSO, no bad-debt ratio
    assert (body["total"]["dso"], body["total"]["bad_debt_ratio"]) == (None, None)


def test_collection_by_team_and_customer(org, books):
    teams = _rows(api(org.finance).get(COLLECTION, {**MAY, "group_by": "team"}).json())
    assert set(teams) == {org.team1.pk, org.team3.pk}
    assert teams[org.team1.pk]["label"] == "Team 1"
    customers = api(org.finance).get(COLLECTION, {**MAY, "group_by": "customer"}).json()
    assert [r["label"] for r in customers["rows"]] == ["华东客户", "华南客户"]


# --- scope ---------------------------------------------------------------------------------


def test_rep_gets_only_own_figures(org, books):
    body = api(org.rep1b).get(COLLECTION, {**MAY, "group_by": "rep"}).json()
    assert body["rows"] == [] and body["total"]["collected"] == "0.00"
    body = api(org.rep3a).get(AGING, {"group_by": "customer"}).json()
    assert body["rows"] == [] and body["total"]["open"] == "0.00"
    body = api(org.rep1a).get(COLLECTION, MAY).json()
    assert body["total"]["collected"] == "400.00"


@pytest.mark.parametrize("url", [AGING, COLLECTION])
def test_outside_the_scope_is_404(org, books, url):
    client = api(org.sup3)
    for params in ({"team": org.team1.pk}, {"owner": org.rep1a.pk},
                   {"customer": books["east"].pk}):  # fmt: skip
        response = client.get(url, params)
        assert response.status_code == 404, params
        assert response["Content-Type"].startswith("application/problem+json")
    assert client.get(url, {"owner": org.rep3a.pk}).status_code == 200


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (AGING, {"group_by": "region"}, "group_by"),
        (AGING, {"as_of": "2026-13-01"}, "as_of"),
        (AGING, {"page_size": "501"}, "page_size"),
        (AGING, {"page": "0"}, "page"),
        (AGING, {"team": "abc"}, "team"),
        (COLLECTION, {"start": "2026-05-02", "end": "2026-05-01"}, "end"),
        (COLLECTION, {"start": "2024-01-01", "end": "2026-01-01"}, "end"),
        (COLLECTION, {"start": "yesterday"}, "start"),
        (COLLECTION, {"group_by": "Team"}, "group_by"),
    ],
)
def test_bad_parameter_is_a_400_naming_it(org, url, params, field):
    response = api(org.finance).get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_anonymous_is_refused(client):
    assert client.get(AGING).status_code in (401, 403)


# --- cost ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [AGING, COLLECTION])
@pytest.mark.parametrize("group_by", ["company", "team", "rep", "customer"])
def test_queries_do_not_grow_with_reps_and_customers(
    org, books, url, group_by, django_assert_max_num_queries
):
    for n in range(12):
        rep = UserFactory(username=f"more{n}", role=Role.REP, org_unit=org.team2)
        contract = make_contract(make_customer(rep, name=f"客户{n}"))
        make_installment(contract, 1, "10.00", TODAY - timedelta(days=n * 7))
    client = api(org.manager1)
    # the scope (units headed), the names of the rows, then the aggregates: aging 1 (3 for
    # customers: the ranking, the page's buckets, the total), collection 4: the open and the
    # falling-due installments, the allocations, the write-offs (7 for customers: the ranking,
    # the page's allocations and write-offs, the total's 4)
    budget = {AGING: 5, COLLECTION: 9}[url]
    with django_assert_max_num_queries(budget):
        response = client.get(url, {**MAY, "group_by": group_by})
    assert response.status_code == 200
    assert len(response.json()["rows"]) >= 12 or group_by in ("company", "team")


# --- the response body ---------------------------------------------------------------------


@pytest.mark.parametrize("group_by", ["company", "team", "rep", "customer"])
def test_body_is_what_the_report_serializers_give(org, books, group_by):
    # the rows are represented field by field with the serializers' own fields: the same
    # JSON as the serializers, nulls (no ratio: nothing due in January) and zeros included
    from apps.receivables import figures
    from apps.receivables.api_figures import (
        AgingReportSerializer,
        CollectionReportSerializer,
        _aging_row,
        _collection_row,
    )

    for period in (MAY, {"start": "2026-01-01", "end": "2026-01-31"}):
        body = api(org.finance).get(COLLECTION, {**period, "group_by": group_by}).json()
        report = figures.collection_figures(
            user=org.finance, start=date.fromisoformat(period["start"]),
            end=date.fromisoformat(period["end"]), group_by=group_by,
        )  # fmt: skip
        expected = CollectionReportSerializer({
            "start": report.start, "end": report.end, "days": report.days,
            "group_by": group_by, "rows": [_collection_row(r) for r in report.rows],
            "total": _collection_row(report.total), "next": None,
        }).data  # fmt: skip
        assert body == expected
    body = api(org.finance).get(AGING, {"group_by": group_by}).json()
    report = figures.aging(user=org.finance, group_by=group_by)
    expected = AgingReportSerializer({
        "as_of": report.as_of, "group_by": group_by,
        "rows": [_aging_row(r) for r in report.rows], "total": _aging_row(report.total),
        "next": None,
    }).data  # fmt: skip
    assert body == expected
    assert list(body) == list(expected) and list(body["total"]) == list(expected["total"])
