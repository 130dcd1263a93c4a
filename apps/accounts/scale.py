"""Scale data of accounts (`manage.py seed_scale`): a realistic sales org.

Company (headed by the sales director, a manager whose subtree is the whole company) →
sales regions (大区, each headed by a manager) → city teams (each headed by a supervisor) with
about eleven reps each; plus an administrator, an ERP integration account and finance. With
the default 500 users: 5 regions, 40 teams, 448 reps.

Every login has the password `SCALE_PASSWORD` (one hash for all: hashing is deliberately
slow). What the later loaders need is left in the context: ``ids["users.rep"]``, and in
``facts`` the team of each rep, the city of each team and the reps of each team.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection

from apps.core.scale import REGIONS, ScaleContext, mobile_of, person

from .choices import OrgUnitKind, Role
from .models import PATH_STEP, OrgUnit, User

SCALE_PASSWORD = "scale12345"
REPS_PER_TEAM = 11
TEAM_NAMES = ["一组", "二组", "三组", "四组"]

UNIT_COLUMNS = ["id", "code", "name", "kind", "parent_id", "head_id", "path", "is_active",
                "created_at", "updated_at"]  # fmt: skip
USER_COLUMNS = ["id", "password", "last_login", "is_superuser", "username", "first_name",
                "last_name", "email", "is_staff", "is_active", "date_joined", "role",
                "org_unit_id", "phone", "language", "updated_at"]  # fmt: skip


def _shape(users: int) -> tuple[int, int]:
    """(regions, teams) for `users` logins: a supervisor and ~11 reps per team, up to eight
    teams per region."""
    teams = max(2, round(users / (REPS_PER_TEAM + 1.5)))
    regions = min(len(REGIONS), max(2, math.ceil(teams / 8)))
    return regions, teams


def load(ctx: ScaleContext) -> None:
    """Copy the org units and the users; see the module docstring."""
    rng = ctx.rng("accounts")
    total = ctx.sizes["users"]
    n_regions, n_teams = _shape(total)
    n_finance = max(1, total // 125)
    n_reps = total - (3 + n_finance + n_regions + n_teams)  # admin, erp, director
    if n_reps < n_teams:
        raise ValueError(f"{total} users are too few for {n_teams} teams with reps")

    unit_ids = ctx.reserve_ids(OrgUnit, 1 + n_regions + n_teams)
    user_ids = iter(ctx.reserve_ids(User, total))
    now = ctx.now
    password = make_password(SCALE_PASSWORD)
    region_names = list(REGIONS)[:n_regions]

    units: list[tuple] = []
    users: list[tuple] = []

    def path_of(*ids: int) -> str:
        return "".join(f"{i:0{PATH_STEP}d}." for i in ids)

    def add_user(username: str, role: str, unit_id: int, **extra) -> int:
        pk = next(user_ids)
        name = person(rng)
        users.append((
            pk, password, None, extra.get("superuser", False), username, name[1:], name[0],
            f"{username}@scale.salesctl.local", extra.get("superuser", False), True,
            now.replace(microsecond=0) - timedelta(days=rng.randint(30, 2000)), role, unit_id,
            mobile_of(90_000_000 + pk, ctx.seed), "", now,
        ))  # fmt: skip
        return pk

    company_id = unit_ids[0]
    director = add_user("scale_director", Role.MANAGER, company_id)
    units.append((company_id, "scale-co", "华信精工贸易有限公司", OrgUnitKind.COMPANY, None,
                  director, path_of(company_id), True, now, now))  # fmt: skip
    add_user("scale_admin", Role.ADMIN, company_id, superuser=True)
    add_user("scale_erp", Role.INTEGRATION, company_id)
    for i in range(n_finance):
        add_user(f"scale_fin{i + 1}", Role.FINANCE, company_id)

    region_ids = unit_ids[1 : 1 + n_regions]
    for r, (region_id, region_name) in enumerate(zip(region_ids, region_names, strict=True)):
        head = add_user(f"scale_mgr{r + 1}", Role.MANAGER, region_id)
        units.append((region_id, f"scale-r{r + 1}", f"{region_name}销售部",
                      OrgUnitKind.DEPARTMENT, company_id, head, path_of(company_id, region_id),
                      True, now, now))  # fmt: skip

    team_city: dict[int, str] = {}
    team_reps: dict[int, list[int]] = {}
    rep_team: dict[int, int] = {}
    city_team: dict[str, int] = {}
    team_ids = unit_ids[1 + n_regions :]
    reps_left = n_reps
    for t, team_id in enumerate(team_ids):
        r = t % n_regions
        nth = t // n_regions  # the region's nth team
        cities = REGIONS[region_names[r]]
        city = cities[nth % len(cities)]
        name = f"{city}{TEAM_NAMES[(nth // len(cities)) % len(TEAM_NAMES)]}"
        head = add_user(f"scale_sup{t + 1:02d}", Role.SUPERVISOR, team_id)
        path = path_of(company_id, region_ids[r], team_id)
        units.append((team_id, f"scale-t{t + 1:02d}", name, OrgUnitKind.TEAM, region_ids[r],
                      head, path, True, now, now))  # fmt: skip
        team_city[team_id] = city
        city_team.setdefault(city, team_id)
        # Spread the reps evenly: the first teams get the remainder.
        size = reps_left // (n_teams - t)
        reps_left -= size
        team_reps[team_id] = []
        for _ in range(size):
            number = len(rep_team) + 1
            pk = add_user(f"scale_rep{number:03d}", Role.REP, team_id)
            team_reps[team_id].append(pk)
            rep_team[pk] = team_id

    # Units reference their heads and users their units: both foreign keys are deferred to
    # the commit, so the two COPYs may come in either order.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    ctx.copy(OrgUnit, UNIT_COLUMNS, units)
    ctx.copy(User, USER_COLUMNS, users)

    ctx.ids["units.company"] = [company_id]
    ctx.ids["units.team"] = list(team_ids)
    ctx.ids["users"] = [row[0] for row in users]
    ctx.ids["users.rep"] = list(rep_team)
    ctx.facts.update(
        team_city=team_city, team_reps=team_reps, rep_team=rep_team, city_team=city_team,
        team_head={row[0]: row[5] for row in units if row[3] == OrgUnitKind.TEAM},
    )  # fmt: skip
