"""The org tree's materialized path."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from apps.accounts.models import OrgUnit


def test_path_reflects_ancestry(org):
    assert org.team1.path.startswith(org.dept1.path)
    assert org.dept1.path.startswith(org.company.path)
    assert org.team1.depth == 2
    assert org.team1.is_descendant_of(org.company)
    assert not org.team1.is_descendant_of(org.dept2)


def test_moving_a_unit_rewrites_the_whole_subtree(org):
    # given a unit under team1
    from tests.factories import OrgUnitFactory

    sub = OrgUnitFactory(code="sub", parent=org.team1)
    # when dept1 moves under dept2
    org.dept1.parent = org.dept2
    org.dept1.save()
    # then every descendant's path starts with the new ancestry
    for code in ("d1", "t1", "t2", "sub"):
        assert OrgUnit.objects.get(code=code).path.startswith(org.dept2.path)
    assert OrgUnit.objects.get(pk=sub.pk).depth == 4


def test_a_unit_cannot_be_its_own_parent(org):
    with pytest.raises(IntegrityError):
        OrgUnit.objects.filter(pk=org.team1.pk).update(parent=org.team1)


def test_a_unit_cannot_move_under_its_own_descendant(org):
    # given dept1 above team1
    from django.core.exceptions import ValidationError

    org.dept1.parent = org.team1
    # when it is moved under team1 / then the move is refused and nothing changes
    with pytest.raises(ValidationError):
        org.dept1.full_clean()
    with pytest.raises(ValidationError):
        org.dept1.save()
    assert OrgUnit.objects.get(pk=org.dept1.pk).parent_id == org.company.pk
