"""The data scope primitive (数据权限), as a matrix of roles × records.

User rows stand in for "owned records" here: a user owns their own row (scope_owner_field =
"pk"), so `User.objects.visible_to(viewer)` exercises exactly the filter every later app uses.
"""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.accounts.scope import Scope, can_see_user, scope_of, scope_q
from apps.accounts.selectors import org_unit_list

ALL = {
    "admin", "erp", "finance", "manager1", "manager2", "sup1", "sup2", "sup3",
    "rep1a", "rep1b", "rep2a", "rep3a",
}  # fmt: skip

# viewer → usernames whose records the viewer sees
EXPECTED = {
    "admin": ALL,
    "erp": ALL,
    "finance": {"finance"},  # finance sees all *money* documents, its own otherwise
    "manager1": {"manager1", "sup1", "sup2", "rep1a", "rep1b", "rep2a"},
    "manager2": {"manager2", "sup3", "rep3a"},
    "sup1": {"sup1", "rep1a", "rep1b"},
    "sup2": {"sup2", "rep2a"},
    "sup3": {"sup3", "rep3a"},
    "rep1a": {"rep1a"},
    "rep1b": {"rep1b"},
    "rep2a": {"rep2a"},
    "rep3a": {"rep3a"},
}


@pytest.mark.parametrize("viewer", sorted(EXPECTED))
def test_each_role_sees_exactly_its_scope(org, viewer):
    # given the reference org
    user = org.users()[viewer]
    # when the viewer's records are listed through the scope
    seen = set(User.objects.visible_to(user).values_list("username", flat=True))
    # then exactly the expected owners' records are there
    assert seen == EXPECTED[viewer]


@pytest.mark.parametrize("viewer", sorted(EXPECTED))
def test_money_documents_are_all_visible_to_finance_only_among_non_heads(org, viewer):
    # given a money document owned by each user
    user = org.users()[viewer]
    # when the viewer's scope over money documents is applied
    seen = set(
        User.objects.filter(scope_q(user, owner_field="pk", money=True)).values_list(
            "username", flat=True
        )
    )
    # then finance sees everyone's, everyone else the same as for any record
    assert seen == (ALL if viewer == "finance" else EXPECTED[viewer])


def test_head_sees_units_below_recursively(org):
    # given a new team created under team1, with a rep in it
    from tests.factories import OrgUnitFactory, UserFactory

    subteam = OrgUnitFactory(code="t1x", parent=org.team1)
    deep_rep = UserFactory(username="deep", org_unit=subteam)
    # when the department manager and the team supervisor look
    # then both see the rep two levels below
    assert User.objects.visible_to(org.manager1).filter(pk=deep_rep.pk).exists()
    assert User.objects.visible_to(org.sup1).filter(pk=deep_rep.pk).exists()
    assert not User.objects.visible_to(org.sup2).filter(pk=deep_rep.pk).exists()


def test_moving_a_team_moves_its_records_into_the_new_heads_scope(org):
    # given team2 under dept1
    assert not User.objects.visible_to(org.manager2).filter(pk=org.rep2a.pk).exists()
    # when team2 is moved under dept2
    org.team2.parent = org.dept2
    org.team2.save()
    # then manager2 sees team2's rep and manager1 no longer does
    fresh_m1 = User.objects.get(pk=org.manager1.pk)
    fresh_m2 = User.objects.get(pk=org.manager2.pk)
    assert User.objects.visible_to(fresh_m2).filter(pk=org.rep2a.pk).exists()
    assert not User.objects.visible_to(fresh_m1).filter(pk=org.rep2a.pk).exists()


def test_supervisor_who_heads_no_unit_sees_only_own(org):
    # given sup1 is no longer head of team1
    org.team1.head = None
    org.team1.save()
    sup1 = User.objects.get(pk=org.sup1.pk)
    # when / then
    assert scope_of(sup1) is Scope.OWN
    assert set(User.objects.visible_to(sup1).values_list("username", flat=True)) == {"sup1"}


def test_inactive_unit_gives_no_subtree_scope(org):
    # given team3 deactivated
    org.team3.is_active = False
    org.team3.save()
    sup3 = User.objects.get(pk=org.sup3.pk)
    # then its head falls back to own records
    assert scope_of(sup3) is Scope.OWN


def test_inactive_or_anonymous_user_sees_nothing(org):
    from django.contrib.auth.models import AnonymousUser

    org.admin.is_active = False
    assert not User.objects.visible_to(org.admin).exists()
    assert not User.objects.visible_to(AnonymousUser()).exists()


def test_scope_filter_for_a_relation_owner_field(org):
    # given a record whose owner is reached through a relation (org unit members here)
    from apps.accounts.models import OrgUnit

    q = scope_q(org.sup1, owner_field="members")
    # then the filter follows the relation: team1 has sup1's reps as members
    assert OrgUnit.objects.filter(q).filter(pk=org.team1.pk).exists()
    assert not OrgUnit.objects.filter(q).filter(pk=org.team3.pk).exists()


def test_can_see_user_single_object_check(org):
    assert can_see_user(org.sup1, org.rep1a.pk)
    assert not can_see_user(org.sup1, org.rep3a.pk)
    assert not can_see_user(org.rep1a, None)
    assert can_see_user(org.admin, None)


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("rep1a", {"co", "d1", "t1"}),
        ("sup1", {"co", "d1", "t1"}),
        ("manager1", {"co", "d1", "t1", "t2"}),
        ("manager2", {"co", "d2", "t3"}),
        ("admin", {"co", "d1", "d2", "t1", "t2", "t3"}),
        ("finance", {"co", "d1", "d2", "t1", "t2", "t3"}),
    ],
)
def test_org_units_visible_are_own_chain_and_headed_subtrees(org, viewer, expected):
    user = org.users()[viewer]
    assert set(org_unit_list(user=user).values_list("code", flat=True)) == expected


def test_scope_query_is_constant_in_the_number_of_rows(org, django_assert_num_queries):
    # given many more reps in team1
    from tests.factories import UserFactory

    UserFactory.create_batch(30, org_unit=org.team1)
    manager = User.objects.get(pk=org.manager1.pk)
    # when the manager's visible users are listed: one query for the headed units, one for rows
    with django_assert_num_queries(2):
        rows = list(User.objects.visible_to(manager))
    # then all of them are there
    assert len(rows) == 36
