"""`/api/v1/users/` and `/api/v1/org-units/`: scope, filters, history, query budgets."""

from __future__ import annotations

import pghistory
import pytest

from apps.accounts.choices import Role
from apps.accounts.models import User

from ..factories import OrgUnitFactory, UserFactory
from .conftest import assert_problem

USERS = "/api/v1/users/"
UNITS = "/api/v1/org-units/"

EVERYONE = {
    "admin", "erp", "finance", "manager1", "manager2", "sup1", "sup2", "sup3",
    "rep1a", "rep1b", "rep2a", "rep3a",
}  # fmt: skip

# Who sees whom on /users/ (DESIGN.md "Data scope"). Finance reads every money document, so it
# sees every owner, as it sees the whole org tree.
USER_SCOPE = {
    "rep1a": {"rep1a"},
    "sup1": {"sup1", "rep1a", "rep1b"},
    "manager1": {"manager1", "sup1", "sup2", "rep1a", "rep1b", "rep2a"},
    "manager2": {"manager2", "sup3", "rep3a"},
    "admin": EVERYONE,
    "erp": EVERYONE,
    "finance": EVERYONE,
}


def _usernames(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {u["username"] for u in response.json()["results"]}


@pytest.mark.parametrize(("viewer", "visible"), list(USER_SCOPE.items()))
def test_user_list_is_scoped(org, bearer, viewer, visible):
    # given a user of the reference org
    client = bearer(getattr(org, viewer))
    # when they list users
    response = client.get(USERS)
    # then they see exactly their scope
    assert _usernames(response) == visible


@pytest.mark.parametrize(("viewer", "visible"), list(USER_SCOPE.items()))
def test_user_detail_is_scoped(org, bearer, viewer, visible):
    # given a user of the reference org
    client = bearer(getattr(org, viewer))
    # when they open every user's detail
    seen = {
        name
        for name, user in org.users().items()
        if client.get(f"{USERS}{user.pk}/").status_code == 200
    }
    # then exactly their scope opens
    assert seen == visible


def test_user_outside_scope_is_404(org, bearer):
    # given a rep of team1
    # when they open a rep of another department
    response = bearer(org.rep1a).get(f"{USERS}{org.rep3a.pk}/")
    # then 404, as if it did not exist
    assert_problem(response, 404, "not-found")


def test_user_detail_shape(org, bearer):
    # given a rep with a phone
    org.rep1a.phone = "13800138000"
    org.rep1a.save()
    # when their supervisor opens them
    body = bearer(org.sup1).get(f"{USERS}{org.rep1a.pk}/").json()
    # then the documented fields are there
    assert body["username"] == "rep1a"
    assert body["display_name"] == org.rep1a.display_name
    assert body["phone"] == "13800138000"
    assert body["role"] == "rep"
    assert body["role_display"] == "Sales rep"
    assert body["org_unit"] == {"id": org.team1.pk, "name": "Team 1"}
    assert body["is_active"] is True
    assert body["updated_at"]


def test_me_is_the_caller(org, bearer):
    # given / when a supervisor asks who they are
    body = bearer(org.sup2).get(f"{USERS}me/").json()
    # then the answer is their own user
    assert body["id"] == org.sup2.pk
    assert body["role"] == Role.SUPERVISOR


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"role": "supervisor"}, {"sup1", "sup2", "sup3"}),
        ({"org_unit": "team1"}, {"sup1", "rep1a", "rep1b"}),
        ({"is_active": "false"}, {"rep2a"}),
        ({"search": "rep1"}, {"rep1a", "rep1b"}),
        ({"search": "rep3a@example"}, {"rep3a"}),
    ],
)
def test_user_filters(org, bearer, query, expected):
    # given rep2a is inactive
    org.rep2a.is_active = False
    org.rep2a.save()
    if query.get("org_unit") == "team1":
        query = {"org_unit": org.team1.pk}
    # when the admin filters users
    response = bearer(org.admin).get(USERS, query)
    # then only the matching users come back
    assert _usernames(response) == expected


def test_user_history_shows_who_changed_what(org, bearer):
    # given the admin changed a rep's phone
    rep = User.objects.get(pk=org.rep1a.pk)
    with pghistory.context(user=org.admin.pk):
        rep.phone = "13900000000"
        rep.save()
    # when the rep's supervisor reads the rep's history
    response = bearer(org.sup1).get(f"{USERS}{rep.pk}/history/")
    # then the newest entry names the admin and the change, old → new
    assert response.status_code == 200
    entry = response.json()[0]
    assert entry["action"] == "update"
    assert entry["actor"] == {"id": org.admin.pk, "name": org.admin.display_name}
    assert {
        "field": "phone",
        "label": "phone",
        "old": "",
        "new": "13900000000",
        "old_display": "",
        "new_display": "13900000000",
    } in entry["changes"]


def test_user_history_outside_scope_is_404(org, bearer):
    # given / when a rep asks for another rep's history
    response = bearer(org.rep1a).get(f"{USERS}{org.rep1b.pk}/history/")
    # then 404
    assert_problem(response, 404, "not-found")


def test_history_limit_out_of_range_is_400(org, bearer):
    # given / when more than 500 entries are asked for
    response = bearer(org.admin).get(f"{USERS}{org.rep1a.pk}/history/", {"limit": 501})
    # then 400 naming the parameter
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "limit"


# --- org units --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [
        ("rep1a", {"co", "d1", "t1"}),
        ("sup1", {"co", "d1", "t1"}),
        ("manager1", {"co", "d1", "t1", "t2"}),
        ("finance", {"co", "d1", "d2", "t1", "t2", "t3"}),
        ("erp", {"co", "d1", "d2", "t1", "t2", "t3"}),
    ],
)
def test_org_unit_list_is_scoped(org, bearer, viewer, visible):
    # given / when a user lists org units
    response = bearer(getattr(org, viewer)).get(UNITS)
    # then they see the chain above them and what they head
    assert response.status_code == 200
    assert {u["code"] for u in response.json()["results"]} == visible


def test_org_unit_outside_scope_is_404(org, bearer):
    # given / when a rep of dept1 opens a team of dept2
    response = bearer(org.rep1a).get(f"{UNITS}{org.team3.pk}/")
    # then 404
    assert_problem(response, 404, "not-found")


def test_org_unit_detail_shape(org, bearer):
    # given / when the admin opens team1
    body = bearer(org.admin).get(f"{UNITS}{org.team1.pk}/").json()
    # then the documented fields are there
    assert body["code"] == "t1"
    assert body["kind"] == "team"
    assert body["parent"] == org.dept1.pk
    assert body["head"] == {"id": org.sup1.pk, "display_name": org.sup1.display_name}
    assert body["depth"] == 2
    assert body["path"] == org.team1.path


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "department"}, {"d1", "d2"}),
        ({"parent": "dept1"}, {"t1", "t2"}),
        ({"search": "Team"}, {"t1", "t2", "t3"}),
    ],
)
def test_org_unit_filters(org, bearer, query, expected):
    # given / when the admin filters org units
    if query.get("parent") == "dept1":
        query = {"parent": org.dept1.pk}
    response = bearer(org.admin).get(UNITS, query)
    # then only the matching units come back
    assert {u["code"] for u in response.json()["results"]} == expected


def test_org_unit_history_shows_a_move(org, bearer):
    # given team2 moved from dept1 to dept2 by the admin
    with pghistory.context(user=org.admin.pk):
        org.team2.parent = org.dept2
        org.team2.save()
    # when the admin reads its history
    entry = bearer(org.admin).get(f"{UNITS}{org.team2.pk}/history/").json()[0]
    # then the parent change is named, with the units' names
    change = next(c for c in entry["changes"] if c["field"] == "parent")
    assert (change["old"], change["new"]) == (org.dept1.pk, org.dept2.pk)
    assert (change["old_display"], change["new_display"]) == ("Dept 1", "Dept 2")
    assert entry["actor"]["id"] == org.admin.pk


# --- query budgets ----------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 50])
def test_user_list_queries_do_not_grow_with_rows(org, bearer, rows, django_assert_max_num_queries):
    # given `rows` more users, each in a unit
    UserFactory.create_batch(rows, org_unit=org.team2)
    client = bearer(org.admin)
    client.get(f"{USERS}me/")  # the token's first use records last_used_at
    # when the admin lists up to 100 users
    # then a fixed number of queries: token, user page
    with django_assert_max_num_queries(2):
        response = client.get(USERS, {"page_size": 100})
    assert len(response.json()["results"]) == 12 + rows


@pytest.mark.parametrize("rows", [5, 50])
def test_org_unit_list_queries_do_not_grow_with_rows(
    org, bearer, rows, django_assert_max_num_queries
):
    # given `rows` more teams, each with a head
    for _ in range(rows):
        OrgUnitFactory(parent=org.dept2, head=org.sup3)
    client = bearer(org.admin)
    client.get(f"{USERS}me/")
    # when the admin lists up to 100 units
    # then a fixed number of queries: token, unit page (parents and heads joined)
    with django_assert_max_num_queries(2):
        response = client.get(UNITS, {"page_size": 100})
    assert len(response.json()["results"]) == 6 + rows


def test_supervisor_user_list_queries_do_not_grow_with_rows(
    org, bearer, django_assert_max_num_queries
):
    # given 50 more reps in sup1's team
    UserFactory.create_batch(50, org_unit=org.team1)
    client = bearer(org.sup1)
    client.get(f"{USERS}me/")
    # when the supervisor lists their team
    # then token, headed units, user page
    with django_assert_max_num_queries(3):
        response = client.get(USERS, {"page_size": 100})
    assert len(response.json()["results"]) == 53
