"""Scale data of goals (`manage.py seed_scale`): the targets of 36 months (the year of `now`
and the two before) for every rep, team, department and the company, for the five metrics, by
year, quarter and month, each with its first version.

Consistent with the services: every target adds up exactly to its children, which go one
way: the year targets down the org tree (company → departments → teams → reps), a rep's year
down the calendar (quarters → months), a unit's quarter to its months. Every scope's quarter is
the sum of its months and its year of its quarters, and a unit's target of any period is the
sum of its child units' and its reps'. Weeks are not loaded (a month decomposes into weeks on
demand). The targets of the periods that ended before today are closed, as the nightly
close leaves them (without roll-over of the gaps: the loaded history has none, and no
attainment reviews).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.utils import timezone

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.core.scale import ScaleContext

from .choices import Metric, PeriodKind, ScopeKind, SplitMethod, TargetStatus
from .models import Target, TargetVersion
from .periods import Period, period_of

REQUIRES = ("accounts",)

COLUMNS = [
    "id", "metric", "period_kind", "period_start", "period_end", "scope_kind", "org_unit_id",
    "user_id", "amount", "rolled_in", "parent_id", "split_method", "plan_id", "status",
    "version", "created_by_id", "created_at", "updated_at",
]  # fmt: skip
VERSION_COLUMNS = [
    "id", "target_id", "version", "amount", "reason", "adjustment_id", "changed_by_id",
    "created_at",
]  # fmt: skip

# A rep's monthly target: (low, high), money in yuan.
MONTHLY = {
    Metric.CONTRACT_AMOUNT: (150_000, 600_000),
    Metric.COLLECTED: (120_000, 500_000),
    Metric.NEW_CUSTOMERS: (1, 5),
    Metric.VISITS: (40, 80),
    Metric.EFFECTIVE_VISITS: (15, 40),
}


def load(ctx: ScaleContext) -> None:
    rng = ctx.rng("goals.targets")
    today = timezone.localtime(ctx.now).date()
    years = [today.year - 2, today.year - 1, today.year]
    units = {u.id: u for u in OrgUnit.objects.order_by("path")}
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit in units.values():
        children[unit.parent_id].append(unit.id)
    reps: dict[int, list[int]] = defaultdict(list)
    for rep_id, unit_id in (
        User.objects.filter(role=Role.REP, is_active=True)
        .exclude(org_unit=None)
        .order_by("id")
        .values_list("id", "org_unit_id")
    ):
        reps[unit_id].append(rep_id)
    roots = children[None]
    # The company target is the root unit's (a single root), else the sum of the roots.
    months = [period_of(PeriodKind.MONTH, date(y, m, 1)) for y in years for m in range(1, 13)]

    # Leaf amounts: every rep's monthly targets.
    rep_month: dict[tuple[int, str, date], Decimal] = {}
    for unit_reps in reps.values():
        for rep in unit_reps:
            for metric, (low, high) in MONTHLY.items():
                for month in months:
                    value = rng.randint(low, high)
                    if metric in (Metric.CONTRACT_AMOUNT, Metric.COLLECTED):
                        value = value // 1000 * 1000
                    rep_month[(rep, metric, month.start)] = Decimal(value)

    targets: list[list] = []
    versions: list[list] = []
    now = ctx.now
    ids = iter(ctx.reserve_ids(Target, _count(units, reps, roots, years)))
    version_ids = iter(ctx.reserve_ids(TargetVersion, _count(units, reps, roots, years)))

    def add(metric, period: Period, scope_kind, unit_id, user_id, amount, parent_id, split):
        pk = next(ids)
        targets.append([
            pk, metric, period.kind, period.start, period.end, scope_kind, unit_id, user_id,
            amount, Decimal("0"), parent_id, split, None,
            TargetStatus.CLOSED if period.end < today else TargetStatus.ACTIVE, 1, None, now, now,
        ])  # fmt: skip
        versions.append([next(version_ids), pk, 1, amount, "seed_scale", None, None, now])
        return pk

    def scope_months(scope_kind, unit_id, user_id, metric) -> dict[date, Decimal]:
        if scope_kind == ScopeKind.REP:
            return {m.start: rep_month[(user_id, metric, m.start)] for m in months}
        total: dict[date, Decimal] = defaultdict(Decimal)
        members = [(ScopeKind.REP, None, r) for r in reps.get(unit_id, [])] + [
            (ScopeKind.UNIT, child, None)
            for child in (children[unit_id] if unit_id is not None else roots)
        ]
        for kind, child_unit, rep in members:
            for start, value in memo(kind, child_unit, rep, metric).items():
                total[start] += value
        return dict(total)

    cache: dict[tuple, dict[date, Decimal]] = {}

    def memo(scope_kind, unit_id, user_id, metric):
        key = (scope_kind, unit_id, user_id, metric)
        if key not in cache:
            cache[key] = scope_months(scope_kind, unit_id, user_id, metric)
        return cache[key]

    def add_scope(scope_kind, unit_id, user_id, metric, year, org_parent) -> int:
        by_month = memo(scope_kind, unit_id, user_id, metric)
        year_period = period_of(PeriodKind.YEAR, date(year, 1, 1))
        year_total = sum((v for start, v in by_month.items() if start.year == year), Decimal("0"))
        year_id = add(metric, year_period, scope_kind, unit_id, user_id, year_total, org_parent,
                      SplitMethod.MANUAL)  # fmt: skip
        for quarter in year_period.children():
            q_months = quarter.children()
            q_total = sum((by_month[m.start] for m in q_months), Decimal("0"))
            # A target has children in one direction: a unit's (or the company's) year splits
            # down the org tree, so its quarters stand alone; a rep's year splits by quarter.
            q_parent = year_id if scope_kind == ScopeKind.REP else None
            q_id = add(metric, quarter, scope_kind, unit_id, user_id, q_total, q_parent,
                       SplitMethod.MANUAL)  # fmt: skip
            for month in q_months:
                add(metric, month, scope_kind, unit_id, user_id, by_month[month.start], q_id,
                    SplitMethod.MANUAL)  # fmt: skip
        return year_id

    def add_unit_tree(unit_id, metric, year, parent_id) -> None:
        unit_year = add_scope(ScopeKind.UNIT, unit_id, None, metric, year, parent_id)
        for child in children[unit_id]:
            add_unit_tree(child, metric, year, unit_year)
        for rep in reps.get(unit_id, []):
            add_scope(ScopeKind.REP, units[unit_id].id, rep, metric, year, unit_year)

    for metric in MONTHLY:
        for year in years:
            company_year = add_scope(ScopeKind.COMPANY, None, None, metric, year, None)
            for root in roots:
                add_unit_tree(root, metric, year, company_year)
    # Rep targets carry their unit (the unit of the rep when it was set).
    ctx.copy(Target, COLUMNS, targets, expected=len(targets))
    ctx.copy(TargetVersion, VERSION_COLUMNS, versions, expected=len(versions))


def _count(units, reps, roots, years) -> int:
    scopes = 1 + len(units) + sum(len(r) for r in reps.values())
    return scopes * len(MONTHLY) * len(years) * (1 + 4 + 12)


def settle(ctx: ScaleContext) -> None:
    """The rollup of the actuals as the nightly `goals-refresh-actuals` leaves it (every sealed
    month of the window and the open month's sealed days, from the loaded documents): else its
    first run after a load computes 36 months of every metric."""
    from django.db import connection

    from .rollup import refresh_recent

    today = timezone.localtime(ctx.now).date()
    # The load's today for the database's side too (`salesctl.today`, migration 0005), when
    # the load is dated otherwise than the clock (`--now`).
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('salesctl.today', %s, false)", [today.isoformat()])
    try:
        written = refresh_recent(today=today)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET salesctl.today")
    ctx.log(f"goals: the actuals' rollup refreshed ({sum(written.values()):,} months)")
