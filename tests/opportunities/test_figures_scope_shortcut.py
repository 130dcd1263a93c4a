"""The head of the whole company sees every deal: the pipeline figures then read without an
owner filter (`figures.sees_everyone`), and give what the administrator's give — but only
while no one is outside their subtree."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Q

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.leads.periods import period_bounds
from apps.opportunities import figures

from .figures_data import at, deal

NOV = period_bounds(date(2026, 11, 1), date(2026, 11, 30))

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user read anew (the scope is cached on the object for a request)."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def director(org) -> User:
    org.company.head = org.manager1
    org.company.save()
    qualified = [("prospecting", at(date(2026, 11, 2))), ("qualification", at(date(2026, 11, 5)))]
    deal(org.rep1a, qualified)
    deal(org.rep3a, [("prospecting", at(date(2026, 11, 3))), ("lost", at(date(2026, 11, 9)))])
    return fresh(org.manager1)


def test_the_head_of_the_company_reads_without_an_owner_filter(org, director):
    assert figures.sees_everyone(director)
    assert figures.owner_q(director, prefix="opportunity__") == Q()
    admin = figures.funnel(user=org.admin, period=NOV)
    mine = figures.funnel(user=director, period=NOV)
    assert (mine.created, [s.reached for s in mine.steps]) == (2, [2, 1, 0, 0, 0, 0])
    assert (mine.created, mine.steps) == (admin.created, admin.steps)
    durations = figures.stage_durations(user=director, period=NOV)
    assert [d.stays for d in durations] == [2, 0, 0, 0, 0]


def test_someone_outside_the_subtree_keeps_the_filter(org, director):
    # given a rep in no unit, with a deal created in November
    outsider = User.objects.create(username="outsider", role=Role.REP)
    deal(outsider, [("prospecting", at(date(2026, 11, 4)))])
    director = fresh(director)
    # then the head of the company does not see it; the administrator does
    assert not figures.sees_everyone(director)
    assert figures.funnel(user=director, period=NOV).created == 2
    assert figures.funnel(user=org.admin, period=NOV).created == 3


def test_the_head_of_a_department_is_not_the_whole_company(org, director):
    manager2 = fresh(org.manager2)
    assert not figures.sees_everyone(manager2)
    assert figures.funnel(user=manager2, period=NOV).created == 1
