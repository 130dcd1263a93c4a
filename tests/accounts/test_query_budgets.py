"""Query budgets of the people lists (issue 10): the users page and the org tree, and the
users, org units and API tokens of the API, cost the same number of queries with 2 rows as
with 10 in other units, under other heads, of other users."""

from __future__ import annotations

from itertools import count

import pytest

from apps.accounts.models import OrgUnit, User
from apps.api.services import token_issue, token_revoke
from tests.budgets import ListCase, Marker
from tests.factories import OrgUnitFactory, UserFactory

_numbers = count(1)


def _users(org, n: int) -> list[User]:
    units = (org.team1, org.team2, org.team3, org.dept1)
    roles = ("rep", "rep", "supervisor", "finance")
    return [
        UserFactory(
            username=f"budget-user-{next(_numbers)}", org_unit=units[i % 4], role=roles[i % 4]
        )
        for i in range(n)
    ]


def _units(org, n: int) -> list[OrgUnit]:
    """n teams under the two departments in turn, each headed by another supervisor."""
    parents = (org.dept1, org.dept2)
    heads = (org.sup1, org.sup2, org.sup3, None)
    return [
        OrgUnitFactory(code=f"budget-{next(_numbers)}", parent=parents[i % 2], head=heads[i % 4])
        for i in range(n)
    ]


def add_user_page(org, n: int) -> list[Marker]:
    return [f"/accounts/users/{u.pk}/" for u in _users(org, n)]


def add_org_page(org, n: int) -> list[Marker]:
    return [f'data-unit="{u.code}"' for u in _units(org, n)]


def add_users(org, n: int) -> list[Marker]:
    return [u.pk for u in _users(org, n)]


def add_units(org, n: int) -> list[Marker]:
    return [u.pk for u in _units(org, n)]


def add_tokens(org, n: int) -> list[Marker]:
    """n tokens of other users, issued by the admin or themselves, every third one revoked."""
    owners = (org.erp, org.rep1a, org.finance, org.manager1)
    rows = []
    for i in range(n):
        owner = owners[i % 4]
        token, _raw = token_issue(
            user=owner, name=f"budget-{next(_numbers)}", days=30, by=org.admin if i % 2 else owner
        )
        if i % 3 == 0:
            token = token_revoke(token=token, by=org.admin)
        rows.append(token.pk)
    return rows


LISTS = {
    "accounts:user_list": ListCase("/accounts/users/", "admin", add_user_page, budget=3),
    "accounts:org": ListCase("/accounts/org/", "admin", add_org_page, budget=2),
    "api:user-list": ListCase("/api/v1/users/", "admin", add_users, budget=2),
    "api:org-unit-list": ListCase("/api/v1/org-units/", "admin", add_units, budget=2),
    "api:token-list": ListCase("/api/v1/tokens/", "admin", add_tokens, budget=2),
}


@pytest.mark.parametrize("name", LISTS)
def test_people_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
