"""`/api/v1/targets/`: list (scope, filters, query budget), detail (children, left to allocate,
versions), create, decompose, set_amount; 404 outside the scope, 403 for a forbidden write,
400 naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rest_framework.test import APIClient

from apps.goals.models import Target
from apps.goals.targets import target_decompose

from .test_targets import make_target

URL = "/api/v1/targets/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def _fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_a_rep_lists_own_own_teams_and_company_targets_only(org):
    company = make_target(org.admin, scope="company")
    team1 = make_target(org.sup1, scope="unit", unit=org.team1)
    own = make_target(org.sup1, scope="rep", rep=org.rep1a)
    make_target(org.sup1, scope="rep", rep=org.rep1b)
    make_target(org.sup2, scope="unit", unit=org.team2)
    make_target(org.manager1, scope="unit", unit=org.dept1)
    assert ids(api(org.rep1a).get(URL)) == {company.pk, team1.pk, own.pk}


def test_a_supervisor_lists_their_team_its_reps_and_the_company(org):
    company = make_target(org.admin, scope="company")
    team1 = make_target(org.sup1, scope="unit", unit=org.team1)
    rep = make_target(org.sup1, scope="rep", rep=org.rep1b)
    make_target(org.sup2, scope="unit", unit=org.team2)
    make_target(org.sup2, scope="rep", rep=org.rep2a)
    make_target(org.manager1, scope="unit", unit=org.dept1)
    assert ids(api(org.sup1).get(URL)) == {company.pk, team1.pk, rep.pk}
    assert len(ids(api(org.manager1).get(URL))) == 6
    assert len(ids(api(org.finance).get(URL))) == 6


def test_list_filters(org):
    team1 = make_target(org.sup1, scope="unit", unit=org.team1)
    visits = make_target(org.sup1, scope="unit", unit=org.team1, metric="visits", amount="30")
    rep = make_target(org.sup1, scope="rep", rep=org.rep1a, day=date(2025, 12, 1))
    client = api(org.admin)
    assert ids(client.get(URL, {"metric": "visits"})) == {visits.pk}
    assert ids(client.get(URL, {"year": 2025})) == {rep.pk}
    assert ids(client.get(URL, {"scope_kind": "unit", "period_kind": "month"})) == {
        team1.pk, visits.pk,
    }  # fmt: skip
    assert ids(client.get(URL, {"org_unit": org.team1.pk, "metric": "contract_amount"})) == {
        team1.pk, rep.pk,
    }  # fmt: skip
    assert ids(client.get(URL, {"user": org.rep1a.pk})) == {rep.pk}


def test_a_bad_filter_is_400_naming_it(org):
    response = api(org.admin).get(URL, {"metric": "profit"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert _fields(response) == ["metric"]


def test_list_query_budget_stays_constant(org, django_assert_max_num_queries):
    client = api(org.manager1)
    for month in range(1, 4):
        make_target(org.manager1, scope="unit", unit=org.team1, day=date(2026, month, 1))
    with django_assert_max_num_queries(6) as few:
        assert len(ids(client.get(URL))) == 3
    for month in range(4, 13):
        for unit in (org.team1, org.team2, org.dept1):
            make_target(org.manager1, scope="unit", unit=unit, day=date(2026, month, 1))
    for rep in (org.rep1a, org.rep1b, org.rep2a):
        make_target(org.manager1, scope="rep", rep=rep)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(client.get(URL))) == 33


def test_detail_has_children_left_to_allocate_and_versions(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    children = target_decompose(target=target, by=org.manager1, direction="org", method="even")
    response = api(org.manager1).get(f"{URL}{target.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["children"] == [c.pk for c in children]
    assert (body["allocated"], body["left_to_allocate"], body["split_direction"]) == (
        "100.00", "0.00", "org",
    )  # fmt: skip
    assert body["is_decomposed"] is True
    assert [(v["version"], v["amount"], v["changed_by"]["id"]) for v in body["versions"]] == [
        (1, "100.00", org.manager1.pk)
    ]
    assert body["scope_name"] == "Dept 1"


def test_another_teams_target_is_404(org):
    target = make_target(org.sup2, scope="unit", unit=org.team2)
    for user in (org.sup1, org.rep1a, org.manager2):
        response = api(user).get(f"{URL}{target.pk}/")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/problem+json")
        posted = api(user).post(f"{URL}{target.pk}/decompose/",
                                {"direction": "org", "method": "even"}, format="json")  # fmt: skip
        assert posted.status_code == 404
    assert not Target.objects.filter(parent=target).exists()


def test_create_sets_a_target(org):
    body = {
        "metric": "collected",
        "period_kind": "quarter",
        "day": "2026-05-05",
        "scope_kind": "rep",
        "user": org.rep1a.pk,
        "amount": "50000.00",
        "reason": "Q2",
    }
    response = api(org.sup1).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["period_start"], data["period_end"]) == ("2026-04-01", "2026-06-30")
    assert (data["user"]["id"], data["org_unit"]["id"], data["version"]) == (
        org.rep1a.pk, org.team1.pk, 1,
    )  # fmt: skip


def test_a_rep_creating_a_target_is_403(org):
    body = {"metric": "visits", "period_kind": "month", "day": "2026-03-01",
            "scope_kind": "rep", "user": org.rep1a.pk, "amount": "10"}  # fmt: skip
    response = api(org.rep1a).post(URL, body, format="json")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert not Target.objects.exists()


def test_a_supervisor_creating_another_teams_target_is_403(org):
    body = {"metric": "visits", "period_kind": "month", "day": "2026-03-01",
            "scope_kind": "unit", "org_unit": org.team2.pk, "amount": "10"}  # fmt: skip
    assert api(org.sup1).post(URL, body, format="json").status_code == 403


def test_bad_create_input_is_400_naming_the_field(org):
    client = api(org.admin)
    base = {"metric": "visits", "period_kind": "month", "day": "2026-03-01",
            "scope_kind": "unit", "org_unit": org.team1.pk, "amount": "10"}  # fmt: skip
    cases = [
        ({"org_unit": None}, "org_unit"),
        ({"org_unit": 999999}, "org_unit"),
        ({"amount": "10.5"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"period_kind": "decade"}, "period_kind"),
        ({"day": "March"}, "day"),
        ({"scope_kind": "rep", "user": None}, "user"),
    ]
    for change, field in cases:
        response = client.post(URL, {**base, **change}, format="json")
        assert response.status_code == 400, (change, response.json())
        assert field in _fields(response), (change, response.json())
    assert not Target.objects.exists()


def test_a_duplicate_is_400_naming_scope_kind(org):
    make_target(org.sup1, scope="unit", unit=org.team1)
    body = {"metric": "contract_amount", "period_kind": "month", "day": "2026-03-20",
            "scope_kind": "unit", "org_unit": org.team1.pk, "amount": "10.00"}  # fmt: skip
    response = api(org.manager1).post(URL, body, format="json")
    assert response.status_code == 400
    assert _fields(response) == ["scope_kind"]


def test_decompose_evenly(org):
    target = make_target(org.admin, scope="company", kind="quarter", day=date(2026, 1, 1),
                         amount="100.00")  # fmt: skip
    response = api(org.admin).post(
        f"{URL}{target.pk}/decompose/", {"direction": "calendar", "method": "even"}, format="json"
    )
    assert response.status_code == 200, response.json()
    children = Target.objects.filter(parent=target).order_by("period_start")
    assert [c.amount for c in children] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert response.json()["children"] == [c.pk for c in children]


def test_a_manual_split_that_does_not_add_up_is_400_naming_manual(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    manual = {f"unit-{org.team1.pk}": "70.00", f"unit-{org.team2.pk}": "20.00"}
    response = api(org.manager1).post(
        f"{URL}{target.pk}/decompose/", {"direction": "org", "method": "manual",
                                         "manual": manual}, format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["manual"]
    assert "10.00 is left to allocate" in errors[0]["message"]
    assert not Target.objects.filter(parent=target).exists()


def test_a_bad_direction_is_400(org):
    target = make_target(org.admin, scope="company")
    response = api(org.admin).post(
        f"{URL}{target.pk}/decompose/", {"direction": "sideways", "method": "even"}, format="json"
    )
    assert response.status_code == 400
    assert _fields(response) == ["direction"]


def test_a_rep_splitting_a_visible_target_is_403(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1)
    response = api(org.rep1a).post(
        f"{URL}{target.pk}/decompose/", {"direction": "org", "method": "even"}, format="json"
    )
    assert response.status_code == 403
    assert not Target.objects.filter(parent=target).exists()


def test_set_amount_adds_a_version(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1)
    response = api(org.sup1).post(
        f"{URL}{target.pk}/set_amount/", {"amount": "1500.00", "reason": "新客户"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert [(v["version"], v["amount"]) for v in response.json()["versions"]] == [
        (2, "1500.00"), (1, "1000.00"),
    ]  # fmt: skip
    missing = api(org.sup1).post(f"{URL}{target.pk}/set_amount/", {"amount": "1.00"},
                                 format="json")  # fmt: skip
    assert missing.status_code == 400
    assert _fields(missing) == ["reason"]
    assert api(org.rep1a).post(f"{URL}{target.pk}/set_amount/",
                               {"amount": "1.00", "reason": "太高"}, format="json"
                               ).status_code == 403  # fmt: skip
