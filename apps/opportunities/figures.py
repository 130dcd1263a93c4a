"""Pipeline figures (商机分析): the one source of truth for the stage durations, the funnel, the
win rate, the cycle time and the weighted forecast that the pages, the API and later reports
show.

Every figure is over the caller's data scope (`apps.accounts.scope`: own, own + the units they
head, or the whole company), optionally narrowed to a **team** (an org unit and every unit
below it, by the owner's unit) or one **owner**. A **period** is [start, end) of instants (the
local days of settings.TIME_ZONE, `apps.leads.periods.period_bounds`).

Definitions:

- **Stage duration** (阶段停留时长), per open stage: the number, the average and the median
  (`percentile_cont(0.5)`) of `left_at − entered_at`, in days, over the stage-history rows
  (`StageChange`) whose `left_at` is in the period — stays that ended in the period. Current
  stays (not left yet) are **not** counted by default; with `include_current=True` the current
  stays in open stages that began before the end of the period are counted too, up to now.
  Won and lost are terminal: they have no duration.
- **Funnel conversion** (漏斗转化): the opportunities *created* in the period. A deal
  **reached** a stage when it has a stage-history row for that stage or a later one (in the
  order prospecting → qualification → needs analysis → proposal → negotiation → won; lost is
  not "later"): a deal that moved back and forth is counted once per stage (distinct deals,
  by the furthest stage it ever reached — `Opportunity.furthest_stage`, which a trigger of the
  stage history keeps). The **conversion rate** of a stage is reached(next stage) /
  reached(stage); won and lost are the deals now won / lost.
- **Win rate** (赢单率) = won / (won + lost) among the deals **closed in the period** (their
  won or lost stage-history row was entered in the period), per rep, per team (the owner's
  org unit) and in total. None when nothing closed.
- **Cycle time** (成交周期) = the average days from the deal's creation to its win, over the
  deals won in the period.
- **Weighted forecast** (加权预测): open deals by expected close month — this month and the
  next months (6 in all by default); a deal whose expected close date is before this month is
  **overdue** (逾期), one after the last month or without a date is left out. Per cell Σ amount
  and Σ amount × probability / 100, the probability being the `StageSetting` of the deal's
  current stage; per rep, per team (the owner's org unit) and the totals.
- **Target** of a forecast month (`forecast_targets`): the active monthly target of the signed
  contract amount (合同签约额) of the scope shown — the owner's (a rep target) when narrowed to
  one person, the team's (a unit target) when narrowed to a team, else the company's for a
  company-wide viewer, the unit's for the head of one unit, the rep's own for a rep. The
  **gap** = target − weighted forecast (what the open deals, weighted, leave to find;
  negative when the forecast exceeds the target).

Each figure is one grouped SQL aggregate (GROUP BY stage / owner in the database, never a
Python loop over deals); the rolled-up team and total rows add up the per-owner rows, so they
always agree with them. The scope is an `owner_id IN (subquery of visible users)` filter (or
none company-wide, or `owner_id = me`), which keeps the stage-history indexes usable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from apps.accounts.models import OrgUnit, User
from apps.accounts.names import person_name
from apps.accounts.scope import Scope, headed_paths, scope_of, visible_users
from apps.goals.choices import Metric, PeriodKind, TargetStatus
from apps.goals.models import Target

from .choices import OPEN_STAGES, Stage
from .models import Opportunity, StageChange, StageSetting
from .selectors import stage_settings

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
DAY_SECONDS = 86400.0
DEFAULT_FORECAST_MONTHS = 6
MAX_FORECAST_MONTHS = 12
OVERDUE = "overdue"
# The forward order of the stages a deal can reach (lost is not "further" than any stage).
FUNNEL_STAGES = (*OPEN_STAGES, Stage.WON)
_MONEY = DecimalField(max_digits=20, decimal_places=4)


# --- SQL building blocks -------------------------------------------------------------------


class Median(Aggregate):
    """`percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`: Postgres' ordered-set aggregate."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _seconds(later, earlier) -> Func:
    """EXTRACT(EPOCH FROM later − earlier): an interval as seconds (a float8: EXTRACT gives a
    numeric, slower to sort for a median and to sum)."""
    return Func(
        ExpressionWrapper(later - earlier, output_field=DurationField()),
        template="EXTRACT(EPOCH FROM %(expressions)s)::double precision",
        output_field=FloatField(),
    )


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / DAY_SECONDS, 1)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return person_name(first or "", last or "") or (username or "")


def _with_owners(per_owner: QuerySet, owner_column: str) -> list[dict]:
    """The rows of `per_owner` (an aggregate grouped by an owner id, `owner_column`), each with
    the owner's names and unit: one statement, the aggregate as a subquery joined to the users
    and units afterwards. Grouping by the owner id alone keeps the rows to sort or hash narrow;
    grouping by the names as well made Postgres sort every deal with them (on disk at scale).
    Read from the queryset's database (the replica for a report, see apps.core.replica)."""
    sql, params = per_owner.query.sql_with_params()
    users, units = User._meta.db_table, OrgUnit._meta.db_table
    # The ORM's own SQL and the models' table names; every value stays a parameter.
    statement = (
        f'SELECT agg.*, u.username AS "owner_username", u.first_name AS "owner_first_name", '  # noqa: S608
        f'u.last_name AS "owner_last_name", u.org_unit_id AS "owner_unit_id", '
        f'ou.name AS "owner_unit_name" FROM ({sql}) AS agg '
        f'INNER JOIN "{users}" u ON u.id = agg."{owner_column}" '
        f'LEFT OUTER JOIN "{units}" ou ON ou.id = u.org_unit_id'
    )
    with connections[per_owner.db].cursor() as cursor:
        cursor.execute(statement, params)
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


# --- scope ---------------------------------------------------------------------------------


def figure_teams(*, user: User) -> QuerySet[OrgUnit]:
    """Units `user` may narrow the figures to: every active unit company-wide, else the units
    they head and those below, else none (a rep has only their own figures)."""
    scope = scope_of(user)
    units = OrgUnit.objects.filter(is_active=True)
    if scope is Scope.ALL:
        return units.order_by("path")
    if scope is not Scope.SUBTREE:
        return units.none()
    q = Q()
    for path in headed_paths(user):
        q |= Q(path__startswith=path)
    return units.filter(q).order_by("path")


def figure_people(*, user: User, team: OrgUnit | None = None) -> QuerySet[User]:
    """The people whose figures `user` may see (in `team`'s subtree when given)."""
    people = visible_users(user)
    if team is not None:
        people = people.filter(org_unit__path__startswith=team.path)
    return people


def sees_everyone(user: User) -> bool:
    """Whether `user`'s subtree holds every user (the head of the company, as the sales
    director): their scope is then no filter at all, and the figures read the stage history
    without joining each stay's deal for its owner. Cached on the user for the request; only
    the head of a top unit costs a query (is anyone outside their subtree?)."""
    cached = getattr(user, "_sees_everyone", None)
    if cached is None:
        top = any(path.count(".") == 1 for path in headed_paths(user))
        cached = top and not User.objects.exclude(pk__in=visible_users(user).values("pk")).exists()
        user._sees_everyone = cached
    return cached


def owner_q(
    user: User, *, team: OrgUnit | None = None, owner: User | None = None, prefix: str = ""
) -> Q:
    """The filter on `<prefix>owner_id` for `user`'s scope narrowed to `team` / `owner`.

    Company-wide and unnarrowed (an admin, or the head of the whole company: `sees_everyone`)
    it is no filter at all; for one person an equality; otherwise
    `owner_id IN (SELECT id FROM user …)`, which Postgres turns into a hash semi-join, so the
    stage-history and opportunity indexes stay usable. `team` and `owner` are expected to be
    checked against the scope by the caller (`figure_teams`, `figure_people`); one outside the
    scope gives no rows."""
    column = f"{prefix}owner_id"
    scope = scope_of(user)
    if scope is Scope.NONE:
        return Q(pk__in=[])
    if owner is not None:
        if scope is Scope.ALL or owner.pk == user.pk:
            return Q(**{column: owner.pk})
        return Q(**{column: owner.pk}) & Q(**{f"{column}__in": visible_users(user).values("pk")})
    if team is None:
        if scope is Scope.ALL or (scope is Scope.SUBTREE and sees_everyone(user)):
            return Q()
        if scope is Scope.OWN:
            return Q(**{column: user.pk})
    if scope is Scope.OWN:  # a rep narrowing to a team: only their own deals, if in it
        return Q(**{column: user.pk}) & Q(
            **{f"{column}__in": figure_people(user=user, team=team).values("pk")}
        )
    return Q(**{f"{column}__in": figure_people(user=user, team=team).values("pk")})


# --- stage durations -----------------------------------------------------------------------


@dataclass(frozen=True)
class StageDuration:
    """How long deals stayed in one stage (stays that ended in the period)."""

    stage: str
    stays: int
    avg_days: float | None
    median_days: float | None
    expected_days: int | None = None

    @property
    def label(self) -> str:
        return str(Stage(self.stage).label)

    @property
    def over_expected(self) -> bool:
        return bool(self.expected_days and self.avg_days and self.avg_days > self.expected_days)


# One stage's count, average and median (seconds) over its stays (intervals `d`).
_STAGE_DURATION_SQL = (
    "SELECT {i} AS i, COUNT(*) AS n, EXTRACT(EPOCH FROM AVG(stays.d)) AS avg, "
    "EXTRACT(EPOCH FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY stays.d)) AS median "
    "FROM ({stays}) AS stays"
)


def stage_durations(
    *,
    user: User,
    period: tuple[datetime, datetime],
    team: OrgUnit | None = None,
    owner: User | None = None,
    include_current: bool = False,
    now: datetime | None = None,
    settings_by_stage: dict[str, StageSetting] | None = None,
) -> list[StageDuration]:
    """Count, average and median days per open stage (see the module docstring): one
    aggregate query, plus one for the expected days unless `settings_by_stage` is given. Every
    open stage has a row, in stage order.

    The query aggregates each stage on its own (five aggregates put together by UNION ALL):
    each reads its stage's stays from the `stagechange_stage_left` index (and, with
    `include_current`, its current stays from `stagechange_current`) alone, and sorts only
    that stage's durations for the median. The durations stay intervals until the five
    results: intervals average and sort faster than the seconds extracted from each."""
    start, end = period
    now = now or timezone.now()
    stays = StageChange.objects.filter(
        owner_q(user, team=team, owner=owner, prefix="opportunity__")
    ).order_by()
    stay = ExpressionWrapper(F("left_at") - F("entered_at"), output_field=DurationField())
    so_far = ExpressionWrapper(Value(now) - F("entered_at"), output_field=DurationField())
    selects, params = [], []
    for i, stage in enumerate(OPEN_STAGES):
        parts = [
            stays.filter(stage=stage, left_at__gte=start, left_at__lt=end)
            .annotate(d=stay)
            .values("d")
        ]
        if include_current:
            parts.append(
                stays.filter(stage=stage, left_at__isnull=True, entered_at__lt=end)
                .annotate(d=so_far)
                .values("d")
            )
        # The SQL of the ORM's own querysets; every value stays a parameter.
        compiled = [part.query.sql_with_params() for part in parts]
        union = " UNION ALL ".join(f"({sql})" for sql, _params in compiled)
        selects.append(_STAGE_DURATION_SQL.format(i=i, stays=union))
        params += [value for _sql, part_params in compiled for value in part_params]
    with connections[stays.db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        rows = {i: (n, avg, median) for i, n, avg, median in cursor.fetchall()}
    settings_by_stage = stage_settings() if settings_by_stage is None else settings_by_stage
    result = []
    for i, stage in enumerate(OPEN_STAGES):
        setting = settings_by_stage.get(stage)
        n, avg, median = rows.get(i, (0, None, None))
        result.append(
            StageDuration(
                stage=stage,
                stays=n or 0,
                avg_days=_days(None if avg is None else float(avg)),
                median_days=_days(None if median is None else float(median)),
                expected_days=setting.expected_days if setting else None,
            )
        )
    return result


# --- funnel --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    reached: int
    next_rate: float | None  # reached(next) / reached(this); None for won or when 0 reached
    share: float | None  # reached / created: the width of the funnel bar

    @property
    def label(self) -> str:
        return str(Stage(self.stage).label)

    @property
    def next_pct(self) -> float | None:
        return _pct(self.next_rate)

    @property
    def share_pct(self) -> float:
        return _pct(self.share) or 0.0


@dataclass(frozen=True)
class Funnel:
    """The deals created in the period and how far they went."""

    created: int
    won: int
    lost: int
    steps: list[FunnelStep]

    @property
    def open(self) -> int:
        return self.created - self.won - self.lost

    @property
    def win_rate(self) -> float | None:
        return _rate(self.won, self.won + self.lost)

    @property
    def win_pct(self) -> float | None:
        return _pct(self.win_rate)


def funnel(
    *,
    user: User,
    period: tuple[datetime, datetime],
    team: OrgUnit | None = None,
    owner: User | None = None,
) -> Funnel:
    """The funnel of the deals created in the period (see the module docstring): one query
    over the deals alone — each carries the furthest stage it reached, so no stage history is
    joined — read from the `opportunity_created` index alone. The deals are counted by
    (furthest stage, current stage), at most 7 × 7 rows, and the reached counts are sums of
    those rows: one count per row instead of eight filtered counts per deal."""
    start, end = period
    groups = (
        Opportunity.objects.filter(owner_q(user, team=team, owner=owner))
        .filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values_list("furthest_stage", "stage")
        .annotate(n=Count("*"))
    )
    created = won = lost = 0
    reached_by_furthest: dict[str, int] = {}
    for furthest, stage, n in groups:
        created += n
        won += n if stage == Stage.WON else 0
        lost += n if stage == Stage.LOST else 0
        reached_by_furthest[furthest] = reached_by_furthest.get(furthest, 0) + n
    # reached(stage i) = the deals whose furthest stage is stage i or a later one
    reached = [
        sum(reached_by_furthest.get(s, 0) for s in FUNNEL_STAGES[i:])
        for i in range(len(FUNNEL_STAGES))
    ]
    steps = []
    for i, stage in enumerate(FUNNEL_STAGES):
        nxt = reached[i + 1] if i + 1 < len(reached) else None
        steps.append(
            FunnelStep(
                stage=stage,
                reached=reached[i],
                next_rate=None if nxt is None else _rate(nxt, reached[i]),
                share=_rate(reached[i], created),
            )
        )
    return Funnel(created=created, won=won, lost=lost, steps=steps)


# --- win rate and cycle time ---------------------------------------------------------------


@dataclass
class ClosedFigures:
    """Deals closed in the period: won, lost, and the summed days to win (for the average)."""

    won: int = 0
    lost: int = 0
    cycle_seconds: float = 0.0

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return _rate(self.won, self.won + self.lost)

    @property
    def win_pct(self) -> float | None:
        return _pct(self.win_rate)

    @property
    def cycle_days(self) -> float | None:
        return _days(self.cycle_seconds / self.won) if self.won else None

    def add(self, other: ClosedFigures) -> None:
        self.won += other.won
        self.lost += other.lost
        self.cycle_seconds += other.cycle_seconds


@dataclass
class ClosedRow:
    """A rep's or a team's line of the win-rate table."""

    kind: str  # "rep" | "team"
    id: int | None
    name: str
    figures: ClosedFigures
    unit_id: int | None = None


@dataclass
class WinRates:
    total: ClosedFigures
    by_rep: list[ClosedRow]
    by_team: list[ClosedRow]


def win_rates(
    *,
    user: User,
    period: tuple[datetime, datetime],
    team: OrgUnit | None = None,
    owner: User | None = None,
) -> WinRates:
    """Win rate and cycle time per rep, per team (the owner's unit) and in total (see the
    module docstring): one query grouped by owner over the won/lost stage-history rows entered
    in the period (the `(stage, entered_at)` index)."""
    start, end = period
    per_owner = (
        StageChange.objects.filter(owner_q(user, team=team, owner=owner, prefix="opportunity__"))
        .filter(stage__in=[Stage.WON, Stage.LOST], entered_at__gte=start, entered_at__lt=end)
        .order_by()
        .values("opportunity__owner_id")
        .annotate(
            won=Count("opportunity_id", filter=Q(stage=Stage.WON), distinct=True),
            lost=Count("opportunity_id", filter=Q(stage=Stage.LOST), distinct=True),
            cycle=Sum(
                _seconds(F("entered_at"), F("opportunity__created_at")),
                filter=Q(stage=Stage.WON),
            ),
        )
    )
    total = ClosedFigures()
    reps: list[ClosedRow] = []
    teams: dict[int | None, ClosedRow] = {}
    for row in _with_owners(per_owner, "opportunity__owner_id"):  # one row per owner
        figures = ClosedFigures(won=row["won"], lost=row["lost"], cycle_seconds=row["cycle"] or 0.0)
        unit_id = row["owner_unit_id"]
        reps.append(
            ClosedRow(
                "rep", row["opportunity__owner_id"],
                _name(row["owner_first_name"], row["owner_last_name"], row["owner_username"]),
                figures, unit_id=unit_id,
            )
        )  # fmt: skip
        team_row = teams.setdefault(
            unit_id,
            ClosedRow("team", unit_id, row["owner_unit_name"] or "", ClosedFigures(),
                      unit_id=unit_id),
        )  # fmt: skip
        team_row.figures.add(figures)
        total.add(figures)
    reps.sort(key=lambda r: (-(r.figures.win_rate or 0), -r.figures.won, r.name))
    by_team = sorted(teams.values(), key=lambda r: r.name)
    return WinRates(total=total, by_rep=reps, by_team=by_team)


# --- weighted forecast ---------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class ForecastCell:
    """Open deals in one bucket: how many, Σ amount and Σ amount × probability."""

    deals: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO

    def add(self, other: ForecastCell) -> None:
        self.add_values(other.deals, other.amount, other.weighted)

    def add_values(self, deals: int, amount: Decimal, weighted: Decimal) -> None:
        self.deals += deals
        self.amount += amount
        self.weighted += weighted


@dataclass(frozen=True)
class ForecastBucket:
    key: str  # "overdue" or "YYYY-MM"
    month: date | None  # the first of the month; None for overdue


@dataclass
class ForecastRow:
    """A rep's or a team's line of the forecast: a cell per bucket and the row's total.
    `target` is where the goals issue puts the target of the period to compare with."""

    kind: str  # "rep" | "team" | "total"
    id: int | None
    name: str
    cells: dict[str, ForecastCell] = field(default_factory=dict)
    unit_id: int | None = None
    target: Decimal | None = None
    # The total once `forecast` has added every cell (a company's page and API read it
    # three times per row); None: add the cells up when asked.
    sealed_total: ForecastCell | None = field(default=None, repr=False, compare=False)

    @property
    def total(self) -> ForecastCell:
        if self.sealed_total is not None:
            return self.sealed_total
        total = ForecastCell()
        for cell in self.cells.values():
            total.add(cell)
        return total

    def seal(self) -> None:
        """Keep the total of the cells added so far: the row is complete."""
        self.sealed_total = None
        self.sealed_total = self.total

    def cell(self, key: str) -> ForecastCell:
        return self.cells.get(key) or ForecastCell()


@dataclass
class Forecast:
    this_month: date
    buckets: list[ForecastBucket]
    by_rep: list[ForecastRow]
    by_team: list[ForecastRow]
    totals: ForecastRow
    # The target of each month bucket ("YYYY-MM" → amount) of the scope shown; empty when the
    # scope has no target (see `forecast_targets`).
    targets: dict[str, Decimal] = field(default_factory=dict)

    def with_targets(self, targets: dict[str, Decimal]) -> Forecast:
        """Attach the month targets; the totals row's `target` is their sum."""
        self.targets = targets
        self.totals.target = sum(targets.values(), ZERO) if targets else None
        return self

    def target_rows(self) -> list[dict]:
        """Per month bucket: the weighted forecast, the target (None without one) and the gap
        (target − weighted; None without a target)."""
        rows = []
        for b in self.buckets:
            if b.month is None:
                continue
            weighted = self.totals.cell(b.key).weighted
            target = self.targets.get(b.key)
            gap = None if target is None else target - weighted
            rows.append({"bucket": b, "weighted": weighted, "target": target, "gap": gap})
        return rows

    @property
    def target_gap(self) -> Decimal | None:
        """The gap over the months that have a target."""
        gaps = [r["gap"] for r in self.target_rows() if r["gap"] is not None]
        return sum(gaps, ZERO) if gaps else None

    @property
    def max_amount(self) -> Decimal:
        """The largest bucket amount or month target (the chart's scale)."""
        amounts = [self.totals.cell(b.key).amount for b in self.buckets]
        return max([*amounts, *self.targets.values(), Decimal("0.01")])

    def chart(self) -> list[dict]:
        """A bar per bucket: the amount and the weighted amount as % of the largest amount,
        and where the month's target falls (None without one)."""
        top = self.max_amount
        bars = []
        for b in self.buckets:
            cell = self.totals.cell(b.key)
            target = self.targets.get(b.key)
            bars.append({
                "bucket": b, "cell": cell, "target": target,
                "amount_pct": round(float(cell.amount / top * 100), 1),
                "weighted_pct": round(float(cell.weighted / top * 100), 1),
                "target_pct": None if target is None else round(float(target / top * 100), 1),
            })  # fmt: skip
        return bars


def forecast(
    *,
    user: User,
    team: OrgUnit | None = None,
    owner: User | None = None,
    months: int = DEFAULT_FORECAST_MONTHS,
    today: date | None = None,
    settings_by_stage: dict[str, StageSetting] | None = None,
) -> Forecast:
    """The weighted forecast (see the module docstring): one query grouped by owner and close
    month (the probability of each stage is a CASE over the seven `StageSetting` rows, read
    once, so there is no join per deal), plus the stage settings unless given."""
    months = max(1, min(months, MAX_FORECAST_MONTHS))
    today = today or timezone.localdate()
    first = today.replace(day=1)
    horizon = add_months(first, months)
    overdue_month = add_months(first, -1)  # every past month collapses into this one
    settings_by_stage = stage_settings() if settings_by_stage is None else settings_by_stage
    probability = Case(
        *[
            When(stage=s, then=Value(Decimal(settings_by_stage[s].probability)))
            for s in OPEN_STAGES
            if s in settings_by_stage
        ],
        default=Value(Decimal(0)),
        output_field=_MONEY,
    )
    # The month of a close date: date_trunc of a timestamp (a date would be turned into a
    # timestamptz first, at a time-zone conversion per deal), back to a date.
    bucket = Case(
        When(expected_close_date__lt=first, then=Value(overdue_month)),
        default=Func(
            F("expected_close_date"),
            template="date_trunc('month', %(expressions)s::timestamp)::date",
            output_field=DateField(),
        ),
        output_field=DateField(),
    )
    per_owner = (
        Opportunity.objects.filter(owner_q(user, team=team, owner=owner))
        .filter(stage__in=OPEN_STAGES, expected_close_date__lt=horizon)
        .order_by()
        .annotate(bucket=bucket)
        .values("owner_id", "bucket")
        .annotate(
            deals=Count("*"),
            amount_sum=Sum("amount"),
            # Σ (amount × probability), divided by 100 once per cell: the same exact numeric
            # as Σ (amount × probability / 100) without a numeric division per deal.
            weighted_sum=ExpressionWrapper(
                Sum(F("amount") * probability, output_field=_MONEY) / Value(Decimal(100)),
                output_field=_MONEY,
            ),
        )
    )
    buckets = [ForecastBucket(OVERDUE, None)] + [
        ForecastBucket(add_months(first, i).strftime("%Y-%m"), add_months(first, i))
        for i in range(months)
    ]
    reps: dict[int, ForecastRow] = {}
    teams: dict[int | None, ForecastRow] = {}
    totals = ForecastRow("total", None, "")
    keys: dict[date, str] = {}
    for row in _with_owners(per_owner, "owner_id"):  # one row per owner and month, not per deal
        month = row["bucket"]
        key = keys.get(month)
        if key is None:
            key = keys[month] = OVERDUE if month < first else month.strftime("%Y-%m")
        deals, amount = row["deals"], _money(row["amount_sum"])
        weighted = _money(row["weighted_sum"])
        unit_id = row["owner_unit_id"]
        rep = reps.get(row["owner_id"])
        if rep is None:
            rep = reps[row["owner_id"]] = ForecastRow(
                "rep", row["owner_id"],
                _name(row["owner_first_name"], row["owner_last_name"], row["owner_username"]),
                unit_id=unit_id,
            )  # fmt: skip
        team_row = teams.get(unit_id)
        if team_row is None:
            team_row = teams[unit_id] = ForecastRow(
                "team", unit_id, row["owner_unit_name"] or "", unit_id=unit_id
            )
        for target_row in (rep, team_row, totals):
            cell = target_row.cells.get(key)
            if cell is None:
                cell = target_row.cells[key] = ForecastCell()
            cell.add_values(deals, amount, weighted)
    for each in (*reps.values(), *teams.values(), totals):
        each.seal()
    by_rep = sorted(reps.values(), key=lambda r: (-r.total.weighted, r.name))
    by_team = sorted(teams.values(), key=lambda r: r.name)
    return Forecast(
        this_month=first, buckets=buckets, by_rep=by_rep, by_team=by_team, totals=totals
    )


def target_scope_q(
    user: User, *, team: OrgUnit | None = None, owner: User | None = None
) -> Q | None:
    """Which target is the forecast's scope (see the module docstring): a filter on
    `goals.Target`, or None when the scope shown has no single target (the head of several
    separate units, nobody)."""
    if owner is not None:
        return Q(scope_kind="rep", user_id=owner.pk)
    if team is not None:
        return Q(scope_kind="unit", org_unit_id=team.pk)
    scope = scope_of(user)
    if scope is Scope.ALL or (scope is Scope.SUBTREE and sees_everyone(user)):
        return Q(scope_kind="company")
    if scope is Scope.SUBTREE:
        paths = headed_paths(user)
        tops = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
        return Q(scope_kind="unit", org_unit__path=tops[0]) if len(tops) == 1 else None
    if scope is Scope.OWN:
        return Q(scope_kind="rep", user_id=user.pk)
    return None


def forecast_targets(
    *,
    user: User,
    buckets: list[ForecastBucket],
    team: OrgUnit | None = None,
    owner: User | None = None,
) -> dict[str, Decimal]:
    """The active monthly targets of the signed contract amount of the forecast's scope, by
    month bucket ("YYYY-MM" → amount): one query for all the months."""
    q = target_scope_q(user, team=team, owner=owner)
    months = {b.month: b.key for b in buckets if b.month is not None}
    if q is None or not months:
        return {}
    rows = (
        Target.objects.filter(q)
        .filter(
            metric=Metric.CONTRACT_AMOUNT,
            period_kind=PeriodKind.MONTH,
            status=TargetStatus.ACTIVE,
            period_start__in=list(months),
        )
        .order_by()
        .values_list("period_start", "amount")
    )
    return {months[start]: _money(amount) for start, amount in rows}


# --- the lot, for a page -------------------------------------------------------------------


@dataclass
class PipelineFigures:
    funnel: Funnel
    durations: list[StageDuration]
    win_rates: WinRates


def pipeline_figures(
    *,
    user: User,
    period: tuple[datetime, datetime],
    team: OrgUnit | None = None,
    owner: User | None = None,
    include_current: bool = False,
    settings_by_stage: dict[str, StageSetting] | None = None,
) -> PipelineFigures:
    """Funnel, stage durations and win rates of one period: three aggregate queries (four
    without `settings_by_stage`)."""
    return PipelineFigures(
        funnel=funnel(user=user, period=period, team=team, owner=owner),
        durations=stage_durations(
            user=user,
            period=period,
            team=team,
            owner=owner,
            include_current=include_current,
            settings_by_stage=settings_by_stage,
        ),
        win_rates=win_rates(user=user, period=period, team=team, owner=owner),
    )
