"""Process diagnostics (流程诊断, seed 003 现状诊断): for every pipeline stage and every approval
step, how many documents passed, how long they waited, where they wait longest now, the trend
month on month and the slowest nodes — the bottlenecks seed 003 asks to find ("审批链条过长导致
响应迟缓").

The one source of truth of these figures for the page, its Excel file and the API
(`reports/process-diagnostics/`). Definitions:

- **Period**: local days [start, end] (settings.TIME_ZONE); by default the last 90 days up to
  today. A wait is counted in the period when it **ended** in it.
- **Stage** (`opportunities.StageChange`, one row per stay of a deal in a stage; open stages
  only — won and lost are terminal): *passed* = the stays that ended in the period; their
  **median** and **90th percentile** (`percentile_cont`) of `left_at − entered_at`; *over
  expected* = those longer than the stage's `StageSetting.expected_days`. *Now*: the current
  stays (not left), how long they have waited so far (median), the oldest, and the share over
  the expected days.
- **Approval step** (`approvals.ApprovalTask`, per `ApprovalRequest.document_type` × step
  name): *passed* = the decisions (an approval or a return) taken in the period, each from the
  task's creation (the step reached the approver) to the decision; in an "all approvers" step
  each approver's decision counts, in an "any one" step the one who decided (the others' tasks
  are "not needed" and never waited for a decision). The expectation is the policy's
  `remind_after_hours`. *Now*: the requests waiting at the step (a request counts once, however
  many approvers it waits for), since the step reached them.
- **Trend**: the median and the 90th percentile per stage / step per month, for the six
  months up to the period's last day (waits that ended in each month).
- **Slowest** (highlighted): the three stages and the three approval steps with the highest
  90th percentile relative to their expectation (`highlight="relative"`, the default: p90 ÷
  expected days / reminder hours; nodes without an expectation are not ranked), or the highest
  90th percentile itself (`highlight="absolute"`).
- **Scope**: the deals' owners and the requests' submitters in the caller's data scope. Only
  those who oversee others may open the diagnostics (heads of units, the company-wide scope);
  a rep or finance may not (`can_view_diagnostics`).
- **Team** (optional): an org unit and the units below it, the owner / submitter placed in
  the team **they belonged to at the time** — on the day the wait ended, or today for a
  current wait (`goals_unitmembership`, the same rule as the goals' actuals): a rep who moved
  teams counts for the old team before the move and for the new one after.

Each figure is one grouped SQL statement (GROUP BY stage / step, percentiles in the
database), not a Python loop over rows; the page costs a fixed number of queries. The approval
steps are grouped by the request's policy (one per document type) and the step's name; the
indexes of approvals migration 0005 let the decisions of a period and the requests waiting
now be read from indexes alone. The trend is a statement per month put together by UNION ALL
(each month's rows come in the index's order, grouped without a sort); a **sealed** month (a
whole month of the period that ended before yesterday) is kept in the cache for an hour, keyed
by the caller's scope and team, so a page reads only the current month live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.names import person_name
from apps.accounts.scope import Scope, headed_paths, scope_of, visible_users
from apps.approvals import registry
from apps.approvals.choices import RequestStatus, TaskStatus
from apps.approvals.models import ApprovalPolicy, ApprovalRequest, ApprovalTask
from apps.goals.models import UnitMembership
from apps.leads.periods import period_bounds
from apps.opportunities.choices import OPEN_STAGES, Stage
from apps.opportunities.figures import add_months, figure_teams, sees_everyone
from apps.opportunities.models import Opportunity, StageChange
from apps.opportunities.selectors import stage_settings

DEFAULT_DAYS = 90
TREND_MONTHS = 6
OLDEST = 20  # "where documents wait longest now"
SLOWEST = 3  # highlighted stages / steps
TREND_CACHE_SECONDS = 3600  # a sealed month of the trend (see `_cached_trend`)
DAY = 86400.0
HOUR = 3600.0


class Highlight:
    RELATIVE = "relative"
    ABSOLUTE = "absolute"
    CHOICES = (
        (RELATIVE, _("Relative to the expected time")),
        (ABSOLUTE, _("Longest 90th percentile")),
    )
    VALUES = (RELATIVE, ABSOLUTE)


# --- access and scope ------------------------------------------------------------------------


def can_view_diagnostics(user: Any) -> bool:
    """Process diagnostics and competitor analysis are for those who oversee others: heads of
    units (supervisors, managers, the director) and the company-wide scope (admins, an ERP
    integration). A rep, or finance, has no such report (the pages answer 404)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.FINANCE and not user.is_superuser:
        return False
    return scope_of(user) in (Scope.ALL, Scope.SUBTREE)


def diagnostic_teams(*, user: User):
    """The org units `user` may narrow the diagnostics to (their subtree; every unit
    company-wide)."""
    return figure_teams(user=user)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 90 days up to today (local days, both included)."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def trend_months(end: date) -> list[date]:
    """The first days of the TREND_MONTHS months up to `end`'s month, oldest first."""
    last = end.replace(day=1)
    return [add_months(last, -i) for i in range(TREND_MONTHS - 1, -1, -1)]


class Sql:
    """A statement built from fragments with positional parameters kept in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, fragment: str, *params: Any) -> Sql:
        self.parts.append(fragment)
        self.params.extend(params)
        return self

    def extend(self, other: tuple[str, list[Any]]) -> Sql:
        fragment, params = other
        return self.add(fragment, *params)

    @property
    def text(self) -> str:
        return " ".join(self.parts)

    def fetch(self) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(self.text, self.params)
            return cursor.fetchall()


def scope_sql(user: User, column: str) -> tuple[str, list[Any]]:
    """` AND <column> IN (the users <user> may see)` — nothing company-wide (the admin, the
    head of the whole company), so that the indexes of the big tables stay usable alone."""
    scope = scope_of(user)
    if scope is Scope.ALL or (scope is Scope.SUBTREE and sees_everyone(user)):
        return "", []
    if scope is Scope.SUBTREE:
        sql, params = visible_users(user).order_by().values("pk").query.sql_with_params()
        return f" AND {column} IN ({sql})", list(params)
    return f" AND {column} = %s", [user.pk]


def local_day(column: str) -> str:
    """The local date of a timestamp column (the time zone is the first parameter)."""
    return f"({column} AT TIME ZONE %s)::date"


# --- results ---------------------------------------------------------------------------------


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / DAY, 1)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 1)


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


@dataclass
class Waits:
    """The waiting figures of one node (a stage or an approval step), in seconds.

    passed: waits that ended in the period; p50 / p90: their median and 90th percentile;
    passed_over: those longer than expected. pending: waiting now; pending_p50: the median
    wait so far; oldest_since: when the longest current wait began; pending_over: current
    waits already longer than expected."""

    passed: int = 0
    p50: float | None = None
    p90: float | None = None
    passed_over: int = 0
    pending: int = 0
    pending_p50: float | None = None
    oldest_since: datetime | None = None
    pending_over: int = 0

    @property
    def passed_over_pct(self) -> float | None:
        return _pct(self.passed_over, self.passed)

    @property
    def pending_over_pct(self) -> float | None:
        return _pct(self.pending_over, self.pending)


@dataclass
class Node:
    """A stage or an approval step with its figures. `expected` is in seconds (None: no
    expectation); `unit` says how the page shows durations ("days" for stages, "hours" for
    approval steps). `slow_rank` is 1–3 for the highlighted slowest nodes."""

    kind: str  # "stage" | "step"
    key: str
    label: str
    expected: float | None
    waits: Waits
    now: datetime
    unit: str = "days"
    document_type: str = ""
    document_label: str = ""
    step_name: str = ""
    step_order: int = 0
    slow_rank: int | None = None

    def _shown(self, seconds: float | None) -> float | None:
        return _days(seconds) if self.unit == "days" else _hours(seconds)

    @property
    def expected_value(self) -> float | None:
        return self._shown(self.expected)

    @property
    def p50(self) -> float | None:
        return self._shown(self.waits.p50)

    @property
    def p90(self) -> float | None:
        return self._shown(self.waits.p90)

    @property
    def pending_p50(self) -> float | None:
        return self._shown(self.waits.pending_p50)

    @property
    def oldest(self) -> float | None:
        """How long the longest current wait has lasted."""
        if self.waits.oldest_since is None:
            return None
        return self._shown((self.now - self.waits.oldest_since).total_seconds())

    @property
    def ratio(self) -> float | None:
        """p90 ÷ the expected time (None without either)."""
        if not self.expected or self.waits.p90 is None:
            return None
        return round(self.waits.p90 / self.expected, 2)


@dataclass(frozen=True)
class OldStay:
    """A deal waiting in its stage now (where documents wait longest)."""

    opportunity_id: int
    name: str
    stage: str
    entered_at: datetime
    owner_id: int
    owner_name: str
    waited_days: float
    expected_days: int | None

    @property
    def stage_label(self) -> str:
        return str(Stage(self.stage).label)

    @property
    def over_expected(self) -> bool:
        return bool(self.expected_days) and self.waited_days > self.expected_days

    @property
    def url(self) -> str:
        return Opportunity(pk=self.opportunity_id).get_absolute_url()


@dataclass(frozen=True)
class OldRequest:
    """A request waiting at a step now: since when, and for whom."""

    request_id: int
    title: str
    document_type: str
    document_label: str
    step_name: str
    since: datetime
    submitter_id: int
    submitter_name: str
    approvers: list[str]
    waited_hours: float
    remind_hours: int | None

    @property
    def over_expected(self) -> bool:
        return bool(self.remind_hours) and self.waited_hours > self.remind_hours

    @property
    def url(self) -> str:
        from django.urls import reverse

        return reverse("approvals:detail", args=[self.request_id])


@dataclass(frozen=True)
class TrendPoint:
    month: date
    passed: int
    p50: float | None  # shown unit (days / hours)
    p90: float | None


@dataclass
class Trend:
    """Per node key, a point per month (every month present, empty ones with no figure)."""

    months: list[date]
    series: dict[str, list[TrendPoint]] = field(default_factory=dict)

    def points(self, key: str) -> list[TrendPoint]:
        return self.series.get(key) or [TrendPoint(m, 0, None, None) for m in self.months]


@dataclass
class Diagnostics:
    start: date
    end: date
    team: OrgUnit | None
    highlight: str
    now: datetime
    stages: list[Node]
    steps: list[Node]
    oldest_stays: list[OldStay]
    oldest_requests: list[OldRequest]
    stage_trend: Trend
    step_trend: Trend

    @property
    def slow_stages(self) -> list[Node]:
        return sorted((n for n in self.stages if n.slow_rank), key=lambda n: n.slow_rank)

    @property
    def slow_steps(self) -> list[Node]:
        return sorted((n for n in self.steps if n.slow_rank), key=lambda n: n.slow_rank)


# --- stages ----------------------------------------------------------------------------------

_STAGE = StageChange._meta.db_table
_OPPORTUNITY = Opportunity._meta.db_table
_USER = User._meta.db_table
_TASK = ApprovalTask._meta.db_table
_REQUEST = ApprovalRequest._meta.db_table
_POLICY = ApprovalPolicy._meta.db_table
_OPEN = [str(s) for s in OPEN_STAGES]


# The length of a stay, and of an approval task's wait, in seconds: a float8 sorts several
# times faster than an interval (the percentiles sort every wait of a group).
_STAY = "(date_part('epoch', s.left_at) - date_part('epoch', s.entered_at))"
_WAIT = "(date_part('epoch', t.decided_at) - date_part('epoch', t.created_at))"


def team_filter(q: Sql, team: OrgUnit | None, column: str, day: str, day_params: list[Any]) -> Sql:
    """` AND the user <column> belonged to <team> (or a unit below it) on the day <day>` (an
    SQL date expression with `day_params`), from the unit memberships; nothing without a team.
    The people ever in the team come first, so that the planner narrows to them before it
    checks the dates."""
    if team is None:
        return q
    membership = UnitMembership._meta.db_table
    units = OrgUnit._meta.db_table
    return q.add(
        f"AND {column} IN (SELECT m2.user_id FROM {membership} m2"  # noqa: S608 (table names)
        f" JOIN {units} mu2 ON mu2.id = m2.org_unit_id WHERE mu2.path LIKE %s)"
        f" AND EXISTS (SELECT 1 FROM {membership} m JOIN {units} mu ON mu.id = m.org_unit_id"
        f" WHERE m.user_id = {column} AND mu.path LIKE %s AND m.valid_from <= {day}"
        f" AND (m.valid_to IS NULL OR {day} < m.valid_to))",
        team.path + "%",
        team.path + "%",
        *day_params,
        *day_params,
    )


def _needs_deal(user: User, team: OrgUnit | None) -> bool:
    return team is not None or bool(scope_sql(user, "x")[0])


def _stage_part(user: User, team: OrgUnit | None, select: str, params: list[Any]) -> Sql:
    part = Sql()
    part.add(select, *params)
    part.add(f"FROM {_STAGE} s")
    if _needs_deal(user, team):
        part.add(f"JOIN {_OPPORTUNITY} o ON o.id = s.opportunity_id")
    return part


def _by_stage(column: str, values: dict[str, Any], default: Any) -> tuple[str, list[Any]]:
    """CASE <column> WHEN stage THEN value … ELSE default END, as parameters."""
    whens, params = [], []
    for stage in _OPEN:
        whens.append("WHEN %s THEN %s")
        params += [stage, values.get(stage, default)]
    return f"(CASE {column} {' '.join(whens)} END)", params


def _stage_passed(
    user: User, team: OrgUnit | None, bounds: tuple[datetime, datetime], expected: dict
) -> dict[str, tuple]:
    """Per open stage: (passed, [median, p90] seconds, over expected).

    Company-wide, a statement per stage put together by UNION ALL: each reads its stage's
    stays from the index in order and sorts only them, and Postgres runs the parts in
    parallel. Narrowed to people (a head's scope, a team), one statement grouped by stage, so
    that the deals of those people are joined once."""
    tz = settings.TIME_ZONE
    select = (
        "SELECT {stage}, count(*), percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP"
        f" (ORDER BY {_STAY}), count(*) FILTER (WHERE {_STAY} > {{limit}})"
    )
    if _needs_deal(user, team):
        limit, params = _by_stage("s.stage", expected, float("inf"))
        q = _stage_part(user, team, select.format(stage="s.stage", limit=limit), params)
        q.add("WHERE s.stage = ANY(%s) AND s.left_at >= %s AND s.left_at < %s", _OPEN, *bounds)
        q.extend(scope_sql(user, "o.owner_id"))
        team_filter(q, team, "o.owner_id", local_day("s.left_at"), [tz])
        q.add("GROUP BY s.stage")
        return {row[0]: row[1:] for row in q.fetch()}
    parts = []
    for stage in _OPEN:
        part = _stage_part(
            user, team, select.format(stage="%s::text", limit="%s"),
            [stage, expected.get(stage, float("inf"))],
        )  # fmt: skip
        part.add("WHERE s.stage = %s AND s.left_at >= %s AND s.left_at < %s", stage, *bounds)
        parts.append(part)
    return {row[0]: row[1:] for row in _union(parts).fetch()}


def _stage_current(
    user: User, team: OrgUnit | None, now: datetime, today: date, expected: dict
) -> dict[str, tuple]:
    """Per open stage: (deals in it now, median wait so far in seconds, the oldest entry,
    those over the expected days). The median wait is now − the median entry time. Shaped
    as `_stage_passed`."""
    limits = {s: now - timedelta(seconds=e) for s, e in expected.items()}
    select = (
        "SELECT {stage}, count(*), date_part('epoch', %s::timestamptz)"
        " - percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', s.entered_at)),"
        " min(s.entered_at), count(*) FILTER (WHERE s.entered_at < {limit})"
    )
    if _needs_deal(user, team):
        limit, params = _by_stage("s.stage", limits, None)
        q = _stage_part(
            user, team, select.format(stage="s.stage", limit=limit + "::timestamptz"),
            [now, *params],
        )  # fmt: skip
        q.add("WHERE s.left_at IS NULL AND s.stage = ANY(%s) AND s.entered_at <= %s", _OPEN, now)
        q.extend(scope_sql(user, "o.owner_id"))
        team_filter(q, team, "o.owner_id", "%s::date", [today])
        q.add("GROUP BY s.stage")
        return {row[0]: row[1:] for row in q.fetch()}
    parts = []
    for stage in _OPEN:
        part = _stage_part(
            user, team, select.format(stage="%s::text", limit="%s::timestamptz"),
            [stage, now, limits.get(stage)],
        )  # fmt: skip
        part.add("WHERE s.left_at IS NULL AND s.stage = %s AND s.entered_at <= %s", stage, now)
        parts.append(part)
    return {row[0]: row[1:] for row in _union(parts).fetch()}


def _oldest_stays(
    user: User, team: OrgUnit | None, now: datetime, today: date, expected_days: dict
) -> list[OldStay]:
    """The OLDEST current stays of open stages: one index scan per stage (the current stays'
    partial index, in entry order), each cut at OLDEST, then the oldest of those."""
    q = Sql()
    selects = []
    for stage in _OPEN:
        part = Sql()
        part.add(
            "(SELECT s.opportunity_id, s.stage, s.entered_at, s.id FROM "  # noqa: S608 (table names)
            f"{_STAGE} s JOIN {_OPPORTUNITY} o ON o.id = s.opportunity_id"
            " WHERE s.left_at IS NULL AND s.stage = %s AND s.entered_at <= %s",
            stage,
            now,
        )
        part.extend(scope_sql(user, "o.owner_id"))
        team_filter(part, team, "o.owner_id", "%s::date", [today])
        part.add("ORDER BY s.entered_at, s.id LIMIT %s)", OLDEST)
        selects.append(part)
    q.add("SELECT c.opportunity_id, o.name, c.stage, c.entered_at, o.owner_id,")
    q.add("u.first_name, u.last_name, u.username FROM (")
    for i, part in enumerate(selects):
        if i:
            q.add("UNION ALL")
        q.add(part.text, *part.params)
    q.add(f") c JOIN {_OPPORTUNITY} o ON o.id = c.opportunity_id")
    q.add(f"JOIN {_USER} u ON u.id = o.owner_id ORDER BY c.entered_at, c.id LIMIT %s", OLDEST)
    result = []
    for opp, name, stage, entered, owner, first, last, username in q.fetch():
        result.append(
            OldStay(
                opportunity_id=opp, name=name, stage=stage, entered_at=entered, owner_id=owner,
                owner_name=person_name(first, last) or username,
                waited_days=round((now - entered).total_seconds() / DAY, 1),
                expected_days=expected_days.get(stage),
            )
        )  # fmt: skip
    return result


# --- trends: the sealed months from the cache, the others live -------------------------------


def scope_key(user: User) -> str:
    """Who sees the same rows (the cache key of the trend's sealed months)."""
    scope = scope_of(user)
    if scope is Scope.ALL or (scope is Scope.SUBTREE and sees_everyone(user)):
        return "all"
    if scope is Scope.SUBTREE:
        return "sub:" + ",".join(sorted(headed_paths(user))) + f":{user.pk}"
    return f"own:{user.pk}"


def _sealed(month: date, end_at: datetime, today: date) -> bool:
    """A whole month inside the period that ended before yesterday: its waits no longer
    change (a late write of the last day settles within a day; the cache lives an hour)."""
    after = add_months(month, 1)
    return period_bounds(after, after)[0] <= end_at and after - timedelta(days=1) < today - (
        timedelta(days=1)
    )


def _cached_trend(
    kind: str,
    user: User,
    team: OrgUnit | None,
    months: list[date],
    end_at: datetime,
    today: date,
    compute: Callable[[list[tuple[date, datetime, datetime]]], dict[tuple[str, date], tuple]],
) -> dict[tuple[str, date], tuple]:
    """The trend's rows: (key, month) → (passed, [median, p90]). A sealed month is read from
    the cache when there (TREND_CACHE_SECONDS), the others computed in one statement and the
    sealed ones among them stored."""
    keys = {
        m: f"incentives:diagnostics:{kind}:{scope_key(user)}:{team.pk if team else 0}:{m:%Y-%m}"
        for m in months
        if _sealed(m, end_at, today)
    }
    found = cache.get_many(list(keys.values())) if keys else {}
    rows: dict[tuple[str, date], tuple] = {}
    missing = []
    for month in months:
        key = keys.get(month)
        if key is not None and key in found:
            rows.update({(k, month): tuple(v) for k, v in found[key].items()})
            continue
        lo = period_bounds(month, month)[0]
        hi = min(end_at, period_bounds(add_months(month, 1), add_months(month, 1))[0])
        missing.append((month, lo, hi))
    computed = compute(missing) if missing else {}
    rows.update(computed)
    store = {}
    for month, _lo, _hi in missing:
        if month in keys:
            store[keys[month]] = {k: v for (k, m), v in computed.items() if m == month}
    if store:
        cache.set_many(store, TREND_CACHE_SECONDS)
    return rows


def _union(parts: list[Sql]) -> Sql:
    q = Sql()
    for i, part in enumerate(parts):
        if i:
            q.add("UNION ALL")
        q.add(f"({part.text})", *part.params)
    return q


def _stage_trend(
    user: User, team: OrgUnit | None, ranges: list[tuple[date, datetime, datetime]]
) -> dict[tuple[str, date], tuple]:
    """Per month and stage. Company-wide, a statement per month and stage (the stays of a
    stage and month read in the index's order), put together by UNION ALL; narrowed to
    people, one statement over the months' span grouped by stage and month."""
    tz = settings.TIME_ZONE
    percentiles = f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {_STAY})"
    if _needs_deal(user, team):
        q = _stage_part(
            user, team,
            "SELECT s.stage, date_trunc('month', s.left_at AT TIME ZONE %s)::date AS month,"
            f" count(*), {percentiles}",
            [tz],
        )  # fmt: skip
        q.add(
            "WHERE s.stage = ANY(%s) AND s.left_at >= %s AND s.left_at < %s",
            _OPEN, ranges[0][1], ranges[-1][2],
        )  # fmt: skip
        q.extend(scope_sql(user, "o.owner_id"))
        team_filter(q, team, "o.owner_id", local_day("s.left_at"), [tz])
        q.add("GROUP BY s.stage, month")
        wanted = {month for month, _lo, _hi in ranges}
        return {(key, month): (passed, p) for key, month, passed, p in q.fetch()
                if month in wanted}  # fmt: skip
    parts = []
    for month, lo, hi in ranges:
        for stage in _OPEN:
            part = _stage_part(user, team, f"SELECT %s::text, %s::date, count(*), {percentiles}",
                               [stage, month])  # fmt: skip
            part.add("WHERE s.stage = %s AND s.left_at >= %s AND s.left_at < %s", stage, lo, hi)
            parts.append(part)
    return {(key, month): (passed, p)
            for key, month, passed, p in _union(parts).fetch() if passed}  # fmt: skip


# --- approval steps --------------------------------------------------------------------------

_DECIDED = [str(TaskStatus.APPROVED), str(TaskStatus.REJECTED)]


@dataclass(frozen=True)
class Policy:
    document_type: str
    remind_hours: int


def _policies() -> dict[int, Policy]:
    """Every approval policy by id: its document type and reminder limit (the approval steps'
    expectation)."""
    return {
        pk: Policy(document_type, hours)
        for pk, document_type, hours in ApprovalPolicy.objects.order_by().values_list(
            "id", "document_type", "remind_after_hours"
        )
    }


def _remind_case(column: str, policies: dict[int, Policy]) -> tuple[str, list[Any]]:
    """CASE <policy column> WHEN id THEN its reminder limit in seconds … END."""
    whens, params = [], []
    for pk, policy in policies.items():
        whens.append("WHEN %s THEN %s::float8")
        params += [pk, policy.remind_hours * HOUR]
    if not whens:
        return "NULL::float8", []
    return f"(CASE {column} {' '.join(whens)} END)", params


# The tasks decided in a range joined to their requests (the policy, the submitter), grouped by
# the policy's id and the step's name ("C" order: the grouping needs no language's collation).
_DECIDED_FROM = (
    f"FROM {_TASK} t JOIN {_REQUEST} r ON r.id = t.request_id"
    " WHERE t.decided_at >= %s AND t.decided_at < %s AND t.status = ANY(%s)"
)


def _decided(user: User, team: OrgUnit | None, lo: datetime, hi: datetime, select: str,
             params: list[Any]) -> Sql:  # fmt: skip
    tz = settings.TIME_ZONE
    q = Sql()
    q.add(select, *params)
    q.add(_DECIDED_FROM, lo, hi, _DECIDED)
    q.extend(scope_sql(user, "r.submitter_id"))
    team_filter(q, team, "r.submitter_id", local_day("t.decided_at"), [tz])
    q.add('GROUP BY r.policy_id, t.step_name COLLATE "C"')
    return q


def _step_passed(
    user: User, team: OrgUnit | None, bounds: tuple[datetime, datetime], policies: dict
) -> dict[tuple[int, str], tuple]:
    case, case_params = _remind_case("r.policy_id", policies)
    q = _decided(
        user, team, bounds[0], bounds[1],
        'SELECT r.policy_id, t.step_name COLLATE "C", min(t.step_order), count(*),'
        f" percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {_WAIT}),"
        f" count(*) FILTER (WHERE {_WAIT} > {case})",
        case_params,
    )  # fmt: skip
    return {(row[0], row[1]): row[2:] for row in q.fetch()}


def _waiting_steps(user: User, team: OrgUnit | None, now: datetime, today: date) -> Sql:
    """The requests waiting now, one row per request and step: (request, policy, step name,
    step order, since, approvers)."""
    q = Sql()
    q.add(
        "SELECT t.request_id, r.policy_id, t.step_name, min(t.step_order) AS step_order,"  # noqa: S608 (table names)
        " min(t.created_at) AS since,"
        " array_agg(t.approver_id ORDER BY t.approver_id) AS approvers"
        f" FROM {_TASK} t JOIN {_REQUEST} r ON r.id = t.request_id"
        " WHERE t.status = %s AND r.status = %s AND t.created_at <= %s",
        str(TaskStatus.WAITING),
        str(RequestStatus.PENDING),
        now,
    )
    q.extend(scope_sql(user, "r.submitter_id"))
    team_filter(q, team, "r.submitter_id", "%s::date", [today])
    q.add("GROUP BY t.request_id, r.policy_id, t.step_name")
    return q


def _step_pending(
    user: User, team: OrgUnit | None, now: datetime, today: date, policies: dict
) -> dict[tuple[int, str], tuple]:
    waiting = _waiting_steps(user, team, now, today)
    case, case_params = _remind_case("w.policy_id", policies)
    q = Sql()
    q.add(
        "SELECT w.policy_id, w.step_name, min(w.step_order), count(*),"
        " date_part('epoch', %s::timestamptz)"
        " - percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', w.since)),"
        " min(w.since),"
        f" count(*) FILTER (WHERE date_part('epoch', %s::timestamptz - w.since) > {case})",
        now,
        now,
        *case_params,
    )
    q.add(f"FROM ({waiting.text}) w", *waiting.params)
    q.add("GROUP BY w.policy_id, w.step_name")
    return {(row[0], row[1]): row[2:] for row in q.fetch()}


def _oldest_requests(
    user: User, team: OrgUnit | None, now: datetime, today: date, policies: dict
) -> list[OldRequest]:
    waiting = _waiting_steps(user, team, now, today)
    q = Sql()
    q.add(
        "SELECT w.request_id, r.title, w.policy_id, w.step_name, w.since, r.submitter_id,"  # noqa: S608 (table names)
        " u.first_name, u.last_name, u.username,"
        " ARRAY(SELECT concat_ws('|', a.first_name, a.last_name, a.username)"
        f" FROM {_USER} a WHERE a.id = ANY(w.approvers) ORDER BY a.id)"
    )
    q.add(f"FROM (({waiting.text}) ORDER BY since, request_id LIMIT %s) w", *waiting.params, OLDEST)
    q.add(f"JOIN {_REQUEST} r ON r.id = w.request_id JOIN {_USER} u ON u.id = r.submitter_id")
    q.add("ORDER BY w.since, w.request_id")
    result = []
    for row in q.fetch():
        request, title, policy_id, step, since, submitter, first, last, username = row[:9]
        approvers = []
        for packed in row[9] or []:
            a_first, a_last, a_username = [*packed.split("|"), "", ""][:3]
            approvers.append(person_name(a_first, a_last) or a_username)
        policy = policies.get(policy_id)
        doctype = policy.document_type if policy else ""
        result.append(
            OldRequest(
                request_id=request, title=title, document_type=doctype,
                document_label=_document_label(doctype), step_name=step, since=since,
                submitter_id=submitter, submitter_name=person_name(first, last) or username,
                approvers=approvers,
                waited_hours=round((now - since).total_seconds() / HOUR, 1),
                remind_hours=policy.remind_hours if policy else None,
            )
        )  # fmt: skip
    return result


def _step_trend(
    user: User, team: OrgUnit | None, ranges: list[tuple[date, datetime, datetime]],
    policies: dict[int, Policy],
) -> dict[tuple[str, date], tuple]:  # fmt: skip
    parts = [
        _decided(
            user, team, lo, hi,
            'SELECT r.policy_id, t.step_name COLLATE "C", %s::date, count(*),'
            f" percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {_WAIT})",
            [month],
        )
        for month, lo, hi in ranges
    ]  # fmt: skip
    rows = {}
    for policy_id, step_name, month, passed, percentiles in _union(parts).fetch():
        policy = policies.get(policy_id)
        key = step_key(policy.document_type if policy else str(policy_id), step_name)
        rows[(key, month)] = (passed, percentiles)
    return rows


def _document_label(key: str) -> str:
    try:
        return str(registry.get(key).label)
    except KeyError:
        return key


def step_key(document_type: str, step_name: str) -> str:
    return f"{document_type}/{step_name}"


# --- the lot ---------------------------------------------------------------------------------


def _rank(nodes: list[Node], highlight: str) -> None:
    """Mark the SLOWEST nodes (see the module docstring)."""
    # A node whose waits took no time is not a bottleneck, whatever the others.
    if highlight == Highlight.ABSOLUTE:
        ranked = [n for n in nodes if n.waits.p90]
        ranked.sort(key=lambda n: (-n.waits.p90, n.key))
    else:
        ranked = [n for n in nodes if n.ratio]
        ranked.sort(key=lambda n: (-n.ratio, -n.waits.p90, n.key))
    for rank, node in enumerate(ranked[:SLOWEST], start=1):
        node.slow_rank = rank


def _pair(percentiles: list | None) -> tuple[float | None, float | None]:
    """The (median, p90) seconds of a `percentile_cont(ARRAY[0.5, 0.9])`."""
    if not percentiles:
        return None, None
    return _seconds(percentiles[0]), _seconds(percentiles[1])


def _trend(rows: dict[tuple[str, date], tuple], months: list[date], unit: str) -> Trend:
    shown = _days if unit == "days" else _hours
    trend = Trend(months=months)
    for key in sorted({k for k, _m in rows}):
        points = []
        for month in months:
            passed, percentiles = rows.get((key, month), (0, None))
            p50, p90 = (
                (_seconds(percentiles[0]), _seconds(percentiles[1]))
                if percentiles
                else (None, None)
            )
            points.append(TrendPoint(month, passed, shown(p50), shown(p90)))
        trend.series[key] = points
    return trend


def process_diagnostics(
    *,
    user: User,
    start: date,
    end: date,
    team: OrgUnit | None = None,
    highlight: str = Highlight.RELATIVE,
    now: datetime | None = None,
) -> Diagnostics:
    """Every figure of the diagnostics (see the module docstring) for `user`'s scope, narrowed
    to `team` (expected to be one of `diagnostic_teams(user)`: the caller checks it). A fixed
    number of queries: the stage settings, the policies, and ten grouped statements."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    bounds = period_bounds(start, end)
    settings_by_stage = stage_settings()
    expected_days = {s: settings_by_stage[s].expected_days for s in _OPEN if s in settings_by_stage}
    expected = {s: float(d) * DAY for s, d in expected_days.items() if d}
    policies = _policies()

    passed = _stage_passed(user, team, bounds, expected)
    current = _stage_current(user, team, now, today, expected)
    stages = []
    for stage in _OPEN:
        n, percentiles, over = passed.get(stage, (0, None, 0))
        pending, pending_p50, oldest, pending_over = current.get(stage, (0, None, None, 0))
        p50, p90 = _pair(percentiles)
        waits = Waits(
            passed=n, p50=p50, p90=p90, passed_over=over or 0, pending=pending,
            pending_p50=_seconds(pending_p50), oldest_since=oldest,
            pending_over=pending_over or 0,
        )  # fmt: skip
        stages.append(
            Node("stage", stage, str(Stage(stage).label), expected.get(stage), waits, now)
        )
    _rank(stages, highlight)

    decided = _step_passed(user, team, bounds, policies)
    waiting = _step_pending(user, team, now, today, policies)
    steps = []
    for policy_id, step_name in set(decided) | set(waiting):
        order_d, n, percentiles, over = decided.get((policy_id, step_name), (None, 0, None, 0))
        order_w, pending, pending_p50, oldest, pending_over = waiting.get(
            (policy_id, step_name), (None, 0, None, None, 0)
        )
        p50, p90 = _pair(percentiles)
        waits = Waits(
            passed=n, p50=p50, p90=p90, passed_over=over or 0, pending=pending,
            pending_p50=_seconds(pending_p50), oldest_since=oldest,
            pending_over=pending_over or 0,
        )  # fmt: skip
        policy = policies.get(policy_id)
        document_type = policy.document_type if policy else str(policy_id)
        hours = policy.remind_hours if policy else None
        steps.append(
            Node(
                "step", step_key(document_type, step_name), step_name,
                float(hours) * HOUR if hours else None, waits, now, unit="hours",
                document_type=document_type, document_label=_document_label(document_type),
                step_name=step_name, step_order=min(o for o in (order_d, order_w) if o is not None),
            )
        )  # fmt: skip
    steps.sort(key=lambda n: (n.document_label, n.document_type, n.step_order, n.step_name))
    _rank(steps, highlight)

    months = trend_months(end)
    stage_rows = _cached_trend(
        "stages", user, team, months, bounds[1], today,
        lambda ranges: _stage_trend(user, team, ranges),
    )  # fmt: skip
    step_rows = _cached_trend(
        "steps", user, team, months, bounds[1], today,
        lambda ranges: _step_trend(user, team, ranges, policies),
    )  # fmt: skip
    return Diagnostics(
        start=start, end=end, team=team, highlight=highlight, now=now, stages=stages,
        steps=steps,
        oldest_stays=_oldest_stays(user, team, now, today, expected_days),
        oldest_requests=_oldest_requests(user, team, now, today, policies),
        stage_trend=_trend(stage_rows, months, "days"),
        step_trend=_trend(step_rows, months, "hours"),
    )  # fmt: skip
