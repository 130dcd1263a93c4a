"""A small org used by scope tests: company → 2 departments → 2 teams each, with heads.

company (head: none)                         admin, erp (integration), finance
  dept1 (head: manager1)
    team1 (head: sup1)  rep1a, rep1b
    team2 (head: sup2)  rep2a
  dept2 (head: manager2)
    team3 (head: sup3)  rep3a
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.choices import OrgUnitKind, Role
from apps.accounts.models import OrgUnit, User

from .factories import OrgUnitFactory, UserFactory


@dataclass
class Org:
    company: OrgUnit
    dept1: OrgUnit
    dept2: OrgUnit
    team1: OrgUnit
    team2: OrgUnit
    team3: OrgUnit
    admin: User
    erp: User
    finance: User
    manager1: User
    manager2: User
    sup1: User
    sup2: User
    sup3: User
    rep1a: User
    rep1b: User
    rep2a: User
    rep3a: User

    def users(self) -> dict[str, User]:
        return {k: v for k, v in vars(self).items() if isinstance(v, User)}


def build_org() -> Org:
    company = OrgUnitFactory(code="co", name="Company", kind=OrgUnitKind.COMPANY)
    dept1 = OrgUnitFactory(code="d1", name="Dept 1", kind=OrgUnitKind.DEPARTMENT, parent=company)
    dept2 = OrgUnitFactory(code="d2", name="Dept 2", kind=OrgUnitKind.DEPARTMENT, parent=company)
    team1 = OrgUnitFactory(code="t1", name="Team 1", parent=dept1)
    team2 = OrgUnitFactory(code="t2", name="Team 2", parent=dept1)
    team3 = OrgUnitFactory(code="t3", name="Team 3", parent=dept2)

    def user(name: str, role: str, unit: OrgUnit) -> User:
        return UserFactory(username=name, role=role, org_unit=unit)

    org = Org(
        company=company, dept1=dept1, dept2=dept2, team1=team1, team2=team2, team3=team3,
        admin=user("admin", Role.ADMIN, company),
        erp=user("erp", Role.INTEGRATION, company),
        finance=user("finance", Role.FINANCE, company),
        manager1=user("manager1", Role.MANAGER, dept1),
        manager2=user("manager2", Role.MANAGER, dept2),
        sup1=user("sup1", Role.SUPERVISOR, team1),
        sup2=user("sup2", Role.SUPERVISOR, team2),
        sup3=user("sup3", Role.SUPERVISOR, team3),
        rep1a=user("rep1a", Role.REP, team1),
        rep1b=user("rep1b", Role.REP, team1),
        rep2a=user("rep2a", Role.REP, team2),
        rep3a=user("rep3a", Role.REP, team3),
    )  # fmt: skip
    for unit, head in ((dept1, org.manager1), (dept2, org.manager2), (team1, org.sup1),
                       (team2, org.sup2), (team3, org.sup3)):  # fmt: skip
        unit.head = head
        unit.save()
    return org
