"""Actuals (实际完成): what each metric reached in a period, computed from the documents only,
never typed. Set-based: one query per metric and period, grouped by rep and by the unit the rep
belonged to on the document's date (goals_unitmembership), so a rep who moved teams mid-period
counts for the old team before the move and the new one after.

The definitions (also shown on the report pages):

- **Signed contract amount** (合同签约额): the amount of the contracts signed (signing date) in
  the period, credited to the contract's owner; a terminated contract (解除) does not count.
- **Collected amount** (回款额): the allocations (核销) of payments received (receipt date) in
  the period, not reversed, credited to the owner of the installment they settle; a reversed
  payment or allocation does not count, whenever it was reversed.
- **New active customers** (新增有效客户): customers whose first signed contract (terminated or
  not: the customer did turn active) was signed in the period, credited to that contract's
  owner.
- **Visits** (拜访): visit records started in the period, credited to the rep who made them.
- **Effective visits** (有效拜访): those of the visits with an order, a payment, a next step or
  a stage move (`VisitRecord.is_effective`).

The monthly rollup (`rollup.py`): a period's whole months that are sealed (ended before
yesterday, within the last 36 months) — and the first days of the open month, up to three days
before today — that are fresh (no document of theirs changed since they were summed:
`ActualMonthState`, kept by the triggers of migrations 0003 and 0004) are read from
`ActualMonth`; everything else — the partial months at the edges, the open month's last days,
the months after it, the stale ones — is computed live from the documents, in the same
statement. The result is the one the documents give, to the cent: the rollup is only a cache of
the same grouped sums. A stale sealed month computed live is handed to `rollup.store` when the
caller's transaction commits, so that the next reader finds it fresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import OrgUnit

from .choices import MONEY_METRICS, Metric
from .models import ActualMonthState

ZERO = Decimal("0")

# Each source answers (owner id, day, value, document id) for the days [{lo}, {hi}] (both
# included; the visits compare timestamps: {lo_at} ≤ started_at < {hi_at}): the period's
# %(start)s … %(end)s, a range of the rollup statement, or the span of its stale months. The
# document id is the contract, the allocation or the visit record behind the number (the
# report's drill-down lists them from the same source, so they add up to the figure).
# `{owners}` keeps only the documents of %(owners)s (on the column the owner comes from).
_SOURCES: dict[str, str] = {
    Metric.CONTRACT_AMOUNT: """
        SELECT c.owner_id, c.signed_on AS day, c.amount AS value, c.id AS doc_id
          FROM contracts_contract c
         WHERE c.signed_on BETWEEN {lo} AND {hi} AND c.status <> 'terminated' {owners}
    """,
    Metric.COLLECTED: """
        SELECT i.owner_id, p.received_on AS day, a.amount AS value, a.id AS doc_id
          FROM receivables_payment p
          JOIN receivables_allocation a ON a.payment_id = p.id AND a.reversed_at IS NULL
          JOIN receivables_installment i ON i.id = a.installment_id
         WHERE p.received_on BETWEEN {lo} AND {hi} AND p.status <> 'reversed' {owners}
    """,
    Metric.NEW_CUSTOMERS: """
        SELECT c.owner_id, c.signed_on AS day, 1 AS value, c.id AS doc_id
          FROM contracts_contract c
         WHERE c.signed_on BETWEEN {lo} AND {hi} {owners}
           AND NOT EXISTS (
                SELECT 1 FROM contracts_contract e
                 WHERE e.customer_id = c.customer_id AND e.signed_on IS NOT NULL
                   AND (e.signed_on, e.id) < (c.signed_on, c.id)
           )
    """,
    Metric.VISITS: """
        SELECT v.owner_id, (v.started_at AT TIME ZONE %(tz)s)::date AS day, 1 AS value,
               v.id AS doc_id
          FROM visits_visitrecord v
         WHERE v.started_at >= {lo_at} AND v.started_at < {hi_at} {owners} {driver}
    """,
    Metric.EFFECTIVE_VISITS: """
        SELECT v.owner_id, (v.started_at AT TIME ZONE %(tz)s)::date AS day, 1 AS value,
               v.id AS doc_id
          FROM visits_visitrecord v
         WHERE v.started_at >= {lo_at} AND v.started_at < {hi_at} AND v.is_effective {owners}
               {driver}
    """,
}
# A customer's first contract: none signed before it (an earlier day, or the same day and a
# lower id: the row comparison), one probe of the index contract_customer_signed per contract.
# The column each source's owner comes from (for `owner_ids`).
_OWNER_COLUMN = {
    Metric.CONTRACT_AMOUNT: "c.owner_id", Metric.COLLECTED: "i.owner_id",
    Metric.NEW_CUSTOMERS: "c.owner_id", Metric.VISITS: "v.owner_id",
    Metric.EFFECTIVE_VISITS: "v.owner_id",
}  # fmt: skip
# The visit records are indexed by (owner, start), not by start alone: naming every user as a
# possible owner (accounts_user, a few hundred rows; a visit's owner is always one: NOT NULL,
# foreign key) lets the planner walk that index once per user over a month or two instead of
# reading the whole table (measured on the scale data: 108 ms instead of 208 ms for a month).
_DRIVER = "AND v.owner_id = ANY(ARRAY(SELECT id FROM accounts_user))"
_DRIVEN = frozenset({Metric.VISITS, Metric.EFFECTIVE_VISITS})
_PERIOD = ("%(start)s", "%(end)s", "%(start_at)s", "%(end_at)s")


def _source(
    metric: str,
    bounds: tuple[str, str, str, str] = _PERIOD,
    *,
    owners: bool = False,
    driver: bool = False,
) -> str:
    """The source of `metric` between `bounds` (SQL for the first and last day, and the first
    and after-the-last instant), for every owner or only %(owners)s."""
    if metric not in _SOURCES:
        raise ValueError(f"unknown metric {metric!r}")
    lo, hi, lo_at, hi_at = bounds
    return _SOURCES[metric].format(
        lo=lo, hi=hi, lo_at=lo_at, hi_at=hi_at,
        owners=f"AND {_OWNER_COLUMN[metric]} = ANY(%(owners)s)" if owners else "",
        driver=_DRIVER if driver and metric in _DRIVEN else "",
    )  # fmt: skip


# The unit each document counts for: the membership of its owner on its day (valid_to
# excluded). A rep with no membership row that day (not in any unit) is kept with unit NULL:
# counted for the rep and the company, not for a unit.
_MEMBERSHIP_JOIN = """
      LEFT JOIN goals_unitmembership m
        ON m.user_id = s.owner_id AND m.valid_from <= s.day
       AND (m.valid_to IS NULL OR s.day < m.valid_to)
"""

# Sum per (rep, unit the rep was in that day) — and per month for a series.
_GROUPED = """
    SELECT s.owner_id, m.org_unit_id, {bucket} AS bucket, SUM(s.value)
      FROM ({source}) s {membership}
     GROUP BY s.owner_id, m.org_unit_id, bucket
"""

# How many months back the rollup is used (the triggers mark one more: migration 0003).
WINDOW_MONTHS = 36
# The open month's days that are sealed: those up to SEALED_LAG_DAYS before today. The
# triggers mark the current month only for a write dated two days back or more (migration
# 0004), so a write they let pass is dated the day before it was made or later: a day three
# days back was written at the latest the day before yesterday, committed since (the one
# assumption of `rollup.py`: no transaction commits more than a day after one of its writes).
SEALED_LAG_DAYS = 3

# The rollup statement, in one snapshot:
# - `cand`: the candidates (the period's whole months that may be sealed, and the sealed days
#   of an open month: %(months)s with their last day %(his)s), each sealed or not by the
#   database's clock (the triggers' clock, or the day set in `salesctl.today` — the tests':
#   migration 0005 — a whole month ended before yesterday, an open
#   month's days three days back, within the window) and fresh or not (its state's computed
#   version is its version, computed over the same days), with the version read;
# - `stale`: those computed from the documents here (`{stale}`), spanned by `span` (from the
#   first to the last: the stale months of a metric are few and recent, or every month from a
#   backdated change on; the rows of fresh months inside the span are dropped by the join);
# - rows ('r': the fresh months read from `ActualMonth` | 'l': the edges, the months known to
#   be live and the days after an open month's sealed ones, fixed ranges | 's': a stale sealed
#   candidate, per month and for every owner, for `rollup.store` | 'd': a candidate computed
#   there but not sealed, owner, unit, bucket, sum), then one ('v', month, version) per stale
#   sealed candidate computed (also those without documents: stored empty).
_ROLLUP = """
    WITH cand AS MATERIALIZED (
        SELECT w.month, w.hi, coalesce(st.version, 0) AS version,
               coalesce(st.computed_version = st.version
                        AND st.through IS NOT DISTINCT FROM nullif(w.hi, w.last), false)
               AS fresh,
               w.month >= (date_trunc('month', t.today) - %(window)s * interval '1 month')::date
               AND w.hi < t.today - CASE WHEN w.hi = w.last THEN 1 ELSE %(lag)s - 1 END
               AS sealed
          FROM (SELECT u.month, u.hi, (u.month + interval '1 month')::date - 1 AS last
                  FROM unnest(%(months)s::date[], %(his)s::date[]) AS u(month, hi)) w
         CROSS JOIN (SELECT coalesce(nullif(current_setting('salesctl.today', true), '')::date,
                                     (statement_timestamp() AT TIME ZONE %(tz)s)::date) AS today) t
          LEFT JOIN goals_actualmonthstate st
            ON st.metric = %(metric)s AND st.month = w.month
    ), stale AS MATERIALIZED (
        SELECT c.month, c.hi, c.sealed FROM cand c WHERE {stale}
    ), span AS MATERIALIZED (
        SELECT min(month) AS lo, max(hi) AS hi,
               min(month)::timestamp AT TIME ZONE %(tz)s AS lo_at,
               (max(hi) + 1)::timestamp AT TIME ZONE %(tz)s AS hi_at
          FROM stale
    )
    SELECT x.kind, x.owner_id, x.org_unit_id, x.bucket, SUM(x.value)
      FROM ({parts}) x
     GROUP BY x.kind, x.owner_id, x.org_unit_id, x.bucket
     UNION ALL
    SELECT 'v', NULL, NULL, c.month, c.version
      FROM cand c JOIN stale t ON t.month = c.month AND t.sealed
"""
_ROLLUP_READ = """
        SELECT 'r' AS kind, a.owner_id, a.org_unit_id, {bucket} AS bucket, a.value{cast} AS value
          FROM goals_actualmonth a
         WHERE a.metric = %(metric)s
           AND a.month IN (SELECT c.month FROM cand c WHERE c.sealed AND c.fresh) {owners}
"""
# The documents summed per (owner, day) first, in the live and the stale parts: the unit
# depends on nothing else, so far fewer memberships are looked up; and the planner estimates
# the documents of the span alone (joined to the few stale months only once summed, it took
# the months' join for a filter of one row in a thousand and walked a million payments by
# index: 9 s instead of 1.5 s for three years of the collected amount).
_PER_DAY = """
        SELECT d.owner_id, d.day, SUM(d.value) AS value FROM ({source}) d GROUP BY 1, 2
"""
_LIVE = """
        SELECT 'l' AS kind, s.owner_id, m.org_unit_id, {bucket} AS bucket, s.value
          FROM ({per_day}) s {membership}
"""
_STALE = """
        SELECT CASE WHEN t.sealed THEN 's' ELSE 'd' END AS kind, s.owner_id, m.org_unit_id,
               CASE WHEN t.sealed THEN t.month ELSE {bucket} END AS bucket, s.value
          FROM ({per_day}) s
          JOIN stale t
            ON t.month = date_trunc('month', s.day::timestamp)::date AND s.day <= t.hi
               {membership}
"""
_SPAN = (
    "(SELECT lo FROM span)", "(SELECT hi FROM span)", "(SELECT lo_at FROM span)",
    "(SELECT hi_at FROM span)",
)  # fmt: skip
_MONTH_BUCKET = "date_trunc('month', s.day::timestamp)::date"


# The documents of one rep behind a figure, a page of them with the sum and count of all.
_DOCUMENTS = """
    SELECT s.doc_id, s.day, s.value, SUM(s.value) OVER (), COUNT(*) OVER ()
      FROM ({source}) s {membership}
     WHERE s.owner_id = %(owner)s {unit_filter}
     ORDER BY s.day, s.doc_id
     LIMIT %(limit)s OFFSET %(offset)s
"""


def _bounds(start: date, end: date) -> dict:
    tz = timezone.get_default_timezone()
    return {
        "start": start,
        "end": end,
        "start_at": timezone.make_aware(datetime.combine(start, time.min), tz),
        "end_at": timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
        "tz": settings.TIME_ZONE,
    }


@dataclass
class Actuals:
    """One metric over one period: per rep, per unit (a unit includes its subunits) and the
    company total."""

    metric: str
    start: date
    end: date
    by_rep: dict[int, Decimal] = field(default_factory=dict)
    by_unit: dict[int, Decimal] = field(default_factory=dict)
    # Per (rep, unit the rep was in): a rep who moved teams has two rows.
    by_rep_unit: dict[tuple[int, int | None], Decimal] = field(default_factory=dict)
    total: Decimal = ZERO

    def rep(self, user_id: int) -> Decimal:
        return self.by_rep.get(user_id, ZERO)

    def unit(self, unit_id: int) -> Decimal:
        return self.by_unit.get(unit_id, ZERO)

    def rep_in_unit(self, user_id: int, unit_id: int | None) -> Decimal:
        return self.by_rep_unit.get((user_id, unit_id), ZERO)

    def rep_in_units(self, user_id: int, unit_ids: set[int] | frozenset[int]) -> Decimal:
        """What the rep did while in one of `unit_ids` (e.g. a head's subtree)."""
        return sum(
            (value for (rep, unit), value in self.by_rep_unit.items()
             if rep == user_id and unit in unit_ids),
            ZERO,
        )  # fmt: skip

    def scope(self, scope_kind: str, *, unit_id: int | None = None, user_id: int | None = None):
        """The actual of a target's scope (company, unit or rep)."""
        if scope_kind == "rep":
            return self.rep(user_id)
        if scope_kind == "unit":
            return self.unit(unit_id)
        return self.total

    def add(self, owner_id: int, unit_id: int | None, value: Decimal, ancestors: dict) -> None:
        key = (owner_id, unit_id)
        self.by_rep_unit[key] = self.by_rep_unit.get(key, ZERO) + value
        self.by_rep[owner_id] = self.by_rep.get(owner_id, ZERO) + value
        self.total += value
        if unit_id is not None:
            for ancestor in ancestors.get(unit_id, [unit_id]):
                self.by_unit[ancestor] = self.by_unit.get(ancestor, ZERO) + value


def unit_ancestors() -> dict[int, list[int]]:
    """{unit id: [every unit from the top down to itself]} from the tree paths ("0001.0007.":
    each segment is a unit id), a few hundred rows. One query: a caller computing several
    metrics loads it once and passes it on."""
    return {
        pk: [int(part) for part in path.split(".") if part]
        for pk, path in OrgUnit.objects.values_list("id", "path")
    }


_unit_ancestors = unit_ancestors  # the name the first callers used


@dataclass
class StaleMonth:
    """A sealed month (or the sealed days of an open month) computed from the documents
    because its rollup was stale or missing: the version of its `ActualMonthState` read in the
    same snapshot as the documents (0: no state row), and its rows (owner, unit, sum) for every
    owner — what `rollup.store` keeps."""

    version: int
    rows: list[tuple[int, int | None, Decimal]] = field(default_factory=list)
    # The last day summed when only the month's first days are (an open month), else None.
    through: date | None = None


def _first_of_next(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def split_months(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """The whole months of [start, end] (their first days) and the ranges left at the edges
    (a partial first and last month; the whole period when it holds no whole month)."""
    first = start if start.day == 1 else _first_of_next(start)
    after = _first_of_next(end)
    stop = after if after - timedelta(days=1) == end else date(end.year, end.month, 1)
    months = []
    day = first
    while day < stop:
        months.append(day)
        day = _first_of_next(day)
    if not months:
        return [], [(start, end)]
    edges = []
    if start < first:
        edges.append((start, first - timedelta(days=1)))
    if stop <= end:
        edges.append((stop, end))
    return months, edges


def may_be_sealed(month: date, today: date) -> bool:
    """Whether `month` (its first day) is sealed on `today` — the rule the rollup statement
    applies with the database's clock (which decides): ended before yesterday, and within the
    last `WINDOW_MONTHS` months."""
    last_day = _first_of_next(month) - timedelta(days=1)
    months_back = (today.year - month.year) * 12 + today.month - month.month
    return last_day < today - timedelta(days=1) and months_back <= WINDOW_MONTHS


def sealed_through(month: date, today: date) -> date | None:
    """The last sealed day of `month` (its first day) on `today` when the month itself is not
    sealed but its first days are (`SEALED_LAG_DAYS` before today), within the window; None
    otherwise (sealed whole, or no day sealed yet) — the statement decides with the database's
    clock."""
    if may_be_sealed(month, today):
        return None
    through = today - timedelta(days=SEALED_LAG_DAYS)
    months_back = (today.year - month.year) * 12 + today.month - month.month
    if through < month or months_back > WINDOW_MONTHS:
        return None
    return min(through, _last_day(month))


def _last_day(month: date) -> date:
    return _first_of_next(month) - timedelta(days=1)


def candidates(months: list[date], today: date) -> list[tuple[date, date]]:
    """(first day, last day summed) of the months of `months` the rollup may hold on `today`:
    the sealed ones whole, an open one up to its last sealed day."""
    found = []
    for month in months:
        if may_be_sealed(month, today):
            found.append((month, _last_day(month)))
        elif (through := sealed_through(month, today)) is not None:
            found.append((month, through))
    return found


def _merge(ranges: list[tuple[date, date]]) -> list[tuple[date, date]]:
    merged: list[tuple[date, date]] = []
    for lo, hi in sorted(ranges):
        if merged and merged[-1][1] + timedelta(days=1) >= lo:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _check(metric: str, start: date, end: date) -> None:
    if metric not in _SOURCES:
        raise ValueError(f"unknown metric {metric!r}")
    if end < start:
        raise ValueError("end is before start")


def _run(
    metric: str,
    start: date,
    end: date,
    *,
    bucket: str,
    owner_ids: list[int] | None,
) -> list[tuple]:
    """The plain live statement over one range (the period holds no month that may be
    sealed)."""
    params = _bounds(start, end)
    if owner_ids is not None:
        params["owners"] = [int(pk) for pk in owner_ids]
    source = _source(metric, owners=owner_ids is not None)
    sql = _GROUPED.format(source=source, membership=_MEMBERSHIP_JOIN, bucket=bucket)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _rollup_statement(
    metric: str,
    *,
    monthly: bool,
    owners: bool,
    read: bool,
    live: int,
    stale: str,
    fixed_span: bool = False,
) -> str:
    """The rollup statement (`_ROLLUP`): with `read` the fresh months from `ActualMonth`,
    `live` fixed ranges (%(lo_N)s …) from the documents for %(owners)s or everyone, and the
    candidates of `cand` where `stale` holds from the documents for everyone — over their own
    span, or with `fixed_span` only those within %(span_lo)s … %(span_hi)s."""
    bucket = _MONTH_BUCKET if monthly else "NULL::date"
    parts = []
    if read:
        parts.append(
            _ROLLUP_READ.format(
                bucket="a.month" if monthly else "NULL::date",
                cast="" if metric in MONEY_METRICS else "::bigint",  # counts stay whole
                owners="AND a.owner_id = ANY(%(owners)s)" if owners else "",
            )
        )
    for n in range(live):
        bounds = (f"%(lo_{n})s", f"%(hi_{n})s", f"%(lo_at_{n})s", f"%(hi_at_{n})s")
        source = _source(metric, bounds, owners=owners, driver=not owners)
        per_day = _PER_DAY.format(source=source)
        parts.append(_LIVE.format(per_day=per_day, membership=_MEMBERSHIP_JOIN, bucket=bucket))
    if fixed_span:
        # Bounds the planner sees (a month or three years of documents are planned apart);
        # the months outside them are left out of this computation, not summed as empty.
        stale += " AND c.month BETWEEN %(span_lo)s AND %(span_hi)s"
        span = ("%(span_lo)s", "%(span_hi)s", "%(span_lo_at)s", "%(span_hi_at)s")
    else:
        span = _SPAN
    per_day = _PER_DAY.format(source=_source(metric, span, driver=True))
    parts.append(_STALE.format(per_day=per_day, membership=_MEMBERSHIP_JOIN, bucket=bucket))
    return _ROLLUP.format(stale=stale, parts=" UNION ALL ".join(parts))


def _rollup_params(
    metric: str,
    months: list[date],
    live: list[tuple[date, date]],
    his: list[date] | None = None,
) -> dict:
    """The parameters of `_rollup_statement`: the candidates `months` with their last days
    summed `his` (their last days when not given: whole months), the `live` ranges."""
    params = {
        "metric": metric,
        "months": months,
        "his": his if his is not None else [_last_day(month) for month in months],
        "window": WINDOW_MONTHS,
        "lag": SEALED_LAG_DAYS,
        "tz": settings.TIME_ZONE,
    }
    for n, (lo, hi) in enumerate(live):
        bounds = _bounds(lo, hi)
        params |= {
            f"lo_{n}": lo, f"hi_{n}": hi,
            f"lo_at_{n}": bounds["start_at"], f"hi_at_{n}": bounds["end_at"],
        }  # fmt: skip
    return params


def _split_rows(rows: list[tuple], *, monthly: bool, owner_ids: list[int] | None):
    """The rows of a rollup statement → ([(owner, unit, bucket, sum)], {month: StaleMonth});
    the rows computed for everyone are kept only for `owner_ids` (when given)."""
    keep = None if owner_ids is None else {int(pk) for pk in owner_ids}
    found: list[tuple] = []
    stale: dict[date, StaleMonth] = {}
    stale_rows: list[tuple] = []
    for kind, owner_id, unit_id, bucket, value in rows:
        if kind == "v":
            stale[bucket] = StaleMonth(int(value))
            continue
        if kind == "s":
            stale_rows.append((bucket, owner_id, unit_id, value))
            bucket = bucket if monthly else None
        if kind in ("s", "d") and keep is not None and owner_id not in keep:
            continue
        found.append((owner_id, unit_id, bucket, value))
    for month, owner_id, unit_id, value in stale_rows:
        stale[month].rows.append((owner_id, unit_id, Decimal(value)))
    return found, stale


def _rows(
    metric: str,
    start: date,
    end: date,
    *,
    monthly: bool,
    owner_ids: list[int] | None,
) -> list[tuple]:
    """(owner, unit, bucket, sum) of `metric` over [start, end] — one statement: the fresh
    sealed months (and an open month's fresh sealed days) from the rollup, the rest from the
    documents. The stale sealed ones it computed are handed to `rollup.store` when the
    transaction commits (at once outside one)."""
    _check(metric, start, end)
    months, edges = split_months(start, end)
    today = timezone.localdate()
    cands = candidates(months, today)
    if not cands:
        bucket = _MONTH_BUCKET if monthly else "NULL::date"
        return _run(metric, start, end, bucket=bucket, owner_ids=owner_ids)
    # What this clock sees as neither sealed nor an open month's sealed days is computed live
    # over fixed ranges (the planner sees their bounds); the candidates are decided by the
    # statement (the database's clock): fresh → the rollup, else computed from the documents.
    his = dict(cands)
    live = _merge(
        edges
        + [(m, _last_day(m)) for m in months if m not in his]
        + [(hi + timedelta(days=1), _last_day(m)) for m, hi in cands if hi < _last_day(m)]
    )
    owners = owner_ids is not None
    sql = _rollup_statement(
        metric, monthly=monthly, owners=owners, read=True, live=len(live),
        stale="NOT (c.sealed AND c.fresh)",
    )  # fmt: skip
    params = _rollup_params(metric, list(his), live, list(his.values()))
    if owners:
        params["owners"] = [int(pk) for pk in owner_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found, stale = _split_rows(cursor.fetchall(), monthly=monthly, owner_ids=owner_ids)
    if stale:
        from . import rollup  # rollup.py builds on this module

        _set_through(stale, his)
        transaction.on_commit(partial(rollup.store, metric, stale), robust=True)
    return found


def _set_through(stale: dict[date, StaleMonth], his: dict[date, date]) -> None:
    for month, computed in stale.items():
        computed.through = his[month] if his[month] < _last_day(month) else None


def stale_months(
    metric: str, months: list[date], *, open_days: bool = False, today: date | None = None
) -> dict[date, StaleMonth]:
    """The sealed months among `months` (first days) whose rollup is stale or missing —
    with `open_days` also an open month's sealed days — computed from the documents for every
    owner, grouped by month. Two statements: the states of `months` (which to compute, so that
    the second is planned for their span), then the documents of those with their versions
    read again in the same snapshot (one that turned stale in between, outside that span, is
    left for the next refresh)."""
    if metric not in _SOURCES:
        raise ValueError(f"unknown metric {metric!r}")
    cands = candidates(sorted(set(months)), today or timezone.localdate())
    if not open_days:
        cands = [(m, hi) for m, hi in cands if hi == _last_day(m)]
    states = {
        month: (version, computed, through)
        for month, version, computed, through in ActualMonthState.objects.filter(
            metric=metric, month__in=[m for m, _hi in cands]
        ).values_list("month", "version", "computed_version", "through")
    }
    todo = []
    for month, hi in cands:
        version, computed, through = states.get(month, (0, None, None))
        if computed != version or through != (hi if hi < _last_day(month) else None):
            todo.append((month, hi))
    if not todo:
        return {}
    sql = _rollup_statement(
        metric, monthly=True, owners=False, read=False, live=0,
        stale="c.sealed AND NOT c.fresh", fixed_span=True,
    )  # fmt: skip
    span = _bounds(todo[0][0], max(hi for _m, hi in todo))
    his = dict(todo)
    params = _rollup_params(metric, list(his), [], list(his.values())) | {
        "span_lo": span["start"], "span_hi": span["end"],
        "span_lo_at": span["start_at"], "span_hi_at": span["end_at"],
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        stale = _split_rows(cursor.fetchall(), monthly=True, owner_ids=None)[1]
    _set_through(stale, his)
    return stale


def compute(
    metric: str,
    start: date,
    end: date,
    *,
    owner_ids: list[int] | None = None,
    units: dict[int, list[int]] | None = None,
) -> Actuals:
    """The actuals of `metric` from `start` to `end` (both included), for everyone or only the
    documents of `owner_ids`. One query (two when `units`, the `unit_ancestors()` map, is not
    given and something was found); the sealed months come from the rollup when fresh."""
    rows = _rows(metric, start, end, monthly=False, owner_ids=owner_ids)
    result = Actuals(metric=metric, start=start, end=end)
    if rows and units is None:
        units = unit_ancestors()
    for owner_id, unit_id, _bucket, value in rows:
        result.add(owner_id, unit_id, Decimal(value), units or {})
    return result


def compute_live(
    metric: str,
    start: date,
    end: date,
    *,
    owner_ids: list[int] | None = None,
    units: dict[int, list[int]] | None = None,
) -> Actuals:
    """`compute` from the documents only, never from the rollup: the reference the rollup is
    checked against (its tests, the benchmark). One query."""
    _check(metric, start, end)
    rows = _run(metric, start, end, bucket="NULL::date", owner_ids=owner_ids)
    result = Actuals(metric=metric, start=start, end=end)
    if rows and units is None:
        units = unit_ancestors()
    for owner_id, unit_id, _bucket, value in rows:
        result.add(owner_id, unit_id, Decimal(value), units or {})
    return result


def compute_all(
    start: date,
    end: date,
    *,
    owner_ids: list[int] | None = None,
    metrics: list[str] | None = None,
    units: dict[int, list[int]] | None = None,
) -> dict[str, Actuals]:
    """Every metric (or `metrics`) over one period: one query each, and the unit tree once."""
    units = unit_ancestors() if units is None else units
    return {
        metric: compute(metric, start, end, owner_ids=owner_ids, units=units)
        for metric in (metrics or Metric.values)
    }


def compute_monthly(
    metric: str,
    start: date,
    end: date,
    *,
    owner_ids: list[int] | None = None,
    units: dict[int, list[int]] | None = None,
) -> dict[date, Actuals]:
    """The actuals of `metric` month by month from `start` to `end` (one query): {the first
    day of each month: its Actuals}, every month of the range present (empty when nothing).
    `start` and `end` are normally the first and last days of months."""
    rows = _rows(metric, start, end, monthly=True, owner_ids=owner_ids)
    if rows and units is None:
        units = unit_ancestors()
    months: dict[date, Actuals] = {}
    day = date(start.year, start.month, 1)
    while day <= end:
        following = _first_of_next(day)
        months[day] = Actuals(metric, max(day, start), min(following - timedelta(days=1), end))
        day = following
    for owner_id, unit_id, month, value in rows:
        months[month].add(owner_id, unit_id, Decimal(value), units or {})
    return months


@dataclass
class DocumentPage:
    """A page of the documents behind a rep's figure: (document id, day, value) in date order,
    with the sum and the count of all of them (not only the page)."""

    rows: list[tuple[int, date, Decimal]]
    total: Decimal
    count: int


def documents(
    metric: str,
    start: date,
    end: date,
    *,
    owner_id: int,
    unit_ids: list[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DocumentPage:
    """The documents of `owner_id` behind `metric` from `start` to `end` — contracts (signed
    amount, new customers), allocations (collected) or visit records — from the same source as
    the figures, so that they add up to `compute(...).rep(owner_id)` exactly, or with
    `unit_ids` to what the rep did while in one of those units (`rep_in_unit`). One query."""
    source = _source(metric)
    params = _bounds(start, end) | {
        "owner": owner_id,
        "limit": max(1, limit),
        "offset": max(0, offset),
    }
    unit_filter = ""
    if unit_ids is not None:
        unit_filter = "AND m.org_unit_id = ANY(%(units)s)"
        params["units"] = [int(pk) for pk in unit_ids]
    sql = _DOCUMENTS.format(source=source, membership=_MEMBERSHIP_JOIN, unit_filter=unit_filter)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if not found and offset:
        # A page past the end: the sum and count still come from the first row of all.
        first = documents(metric, start, end, owner_id=owner_id, unit_ids=unit_ids, limit=1)
        return DocumentPage([], first.total, first.count)
    total = Decimal(found[0][3]) if found else ZERO
    count = int(found[0][4]) if found else 0
    return DocumentPage([(r[0], r[1], Decimal(r[2])) for r in found], total, count)
