"""`manage.py seed_demo`: the demo company, its org tree and one login per role, then each
app's demo data (`apps/<app>/demo.py`, function `load(stdout)`).

Idempotent: units are found by code and users by username, so a second run changes nothing
(with --password, every demo login gets that password again); the apps' loaders skip what
exists.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.choices import OrgUnitKind, Role
from apps.accounts.models import OrgUnit, User
from apps.core.history import history_context

DEFAULT_PASSWORD = "demo12345"


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent: str | None


UNITS = [
    UnitSpec("company", "华南精工贸易有限公司", OrgUnitKind.COMPANY, None),
    UnitSpec("dept1", "华南销售部", OrgUnitKind.DEPARTMENT, "company"),
    UnitSpec("dept2", "华东销售部", OrgUnitKind.DEPARTMENT, "company"),
    UnitSpec("team1", "深圳一组", OrgUnitKind.TEAM, "dept1"),
    UnitSpec("team2", "广州二组", OrgUnitKind.TEAM, "dept1"),
    UnitSpec("team3", "上海一组", OrgUnitKind.TEAM, "dept2"),
    UnitSpec("team4", "杭州二组", OrgUnitKind.TEAM, "dept2"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超"]


def _name(i: int) -> tuple[str, str]:
    return SURNAMES[i % len(SURNAMES)], GIVEN[(i * 7) % len(GIVEN)]


def demo_users() -> list[tuple[str, str, str, str | None]]:
    """(username, role, unit code, unit code headed or None) for every demo login."""
    users: list[tuple[str, str, str, str | None]] = [
        ("admin", Role.ADMIN, "company", None),
        ("erp", Role.INTEGRATION, "company", None),
        ("finance1", Role.FINANCE, "company", None),
        ("finance2", Role.FINANCE, "company", None),
        ("manager1", Role.MANAGER, "dept1", "dept1"),
        ("manager2", Role.MANAGER, "dept2", "dept2"),
    ]
    for t in range(1, 5):
        users.append((f"supervisor{t}", Role.SUPERVISOR, f"team{t}", f"team{t}"))
    for r in range(1, 13):
        users.append((f"rep{r}", Role.REP, f"team{(r - 1) // 3 + 1}", None))
    return users


class Command(BaseCommand):
    help = "Load the demo company, org tree and users (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--password",
            default=None,
            help=f"password of every demo login (default {DEFAULT_PASSWORD}); when given, "
            "existing demo users get it too",
        )

    @transaction.atomic
    def handle(self, *args, password: str | None, **options) -> None:
        reset = password is not None
        password = password or DEFAULT_PASSWORD
        with history_context(job="seed_demo"):
            units = self._units()
            self._users(units, password, reset=reset)
        self._apps_demo_data()
        self._print_logins(password)

    def _apps_demo_data(self) -> None:
        """Each installed app may ship a `demo` module with `load(stdout)`; they run in the
        order of INSTALLED_APPS (customers before leads, as conversion needs customers)."""
        for config in apps.get_app_configs():
            if not config.name.startswith("apps."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            # A history context of its own per app (pghistory merges nested contexts into one:
            # a job run inside a loader would otherwise rename every demo write "its" job). A
            # loader of several parts (`OWN_HISTORY_CONTEXTS`) opens one per part itself.
            if getattr(module, "OWN_HISTORY_CONTEXTS", False):
                module.load(stdout=self.stdout)
                continue
            with history_context(job="seed_demo", app=config.label):
                module.load(stdout=self.stdout)

    def _units(self) -> dict[str, OrgUnit]:
        units: dict[str, OrgUnit] = {}
        for spec in UNITS:
            unit = OrgUnit.objects.filter(code=spec.code).first() or OrgUnit(code=spec.code)
            parent = units[spec.parent] if spec.parent else None
            wanted = (spec.name, spec.kind, parent.pk if parent else None)
            if unit.pk is None or (unit.name, unit.kind, unit.parent_id) != wanted:
                unit.name, unit.kind, unit.parent = spec.name, spec.kind, parent
                unit.save()
            units[spec.code] = unit
        return units

    def _users(self, units: dict[str, OrgUnit], password: str, *, reset: bool) -> None:
        # One hash for all new logins: hashing is deliberately slow (~0.3 s each).
        hashed = make_password(password)
        for i, (username, role, unit_code, heads) in enumerate(demo_users()):
            surname, given = _name(i)
            user = User.objects.filter(username=username).first() or User(username=username)
            wanted = {
                "role": role,
                "org_unit_id": units[unit_code].pk,
                "last_name": surname,
                "first_name": given,
                "email": f"{username}@demo.salesctl.local",
                "is_active": True,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
            }
            changed = user.pk is None or any(getattr(user, k) != v for k, v in wanted.items())
            for key, value in wanted.items():
                setattr(user, key, value)
            if user.pk is None or reset:
                user.password = hashed
                changed = True
            if changed:
                user.save()
            if heads and units[heads].head_id != user.pk:
                units[heads].head = user
                units[heads].save()

    def _print_logins(self, password: str) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS(f"Demo data ready. Logins (password: {password}):"))
        rows = [
            ("manager1, manager2", "sales manager / 销售经理 (one per department)"),
            ("supervisor1 … supervisor4", "sales supervisor / 销售主管 (one per team)"),
            ("rep1 … rep12", "sales rep / 销售人员 (rep1–rep3 in team 1, …)"),
            ("finance1, finance2", "finance / 财务"),
            ("admin", "administrator / 系统管理员"),
            ("erp", "integration user for the API (manage.py issue_token erp)"),
        ]
        for login, what in rows:
            out.write(f"  {login:<28} {what}")
