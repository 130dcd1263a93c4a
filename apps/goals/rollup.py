"""The exact monthly rollup of the actuals (实际完成按月汇总): for each metric and sealed month,
the grouped sums per (rep, unit the rep was in) that `actuals.py` would compute from the
documents, kept in `ActualMonth` so that a year's figures read twelve small months instead of a
year of documents. Caching only where invalidation is exact:

- A month is **sealed** when it ended before yesterday (in the project's time zone, by the
  database's clock) and lies within the last `actuals.WINDOW_MONTHS` months; older months are
  always computed live.
- The month not sealed yet (the current one, or the last one on the first day of the next)
  is **open**: its first days, up to `actuals.SEALED_LAG_DAYS` (3) days before today, are
  sealed and kept like a month (`ActualMonthState.through`: the last day summed); the days
  after are always computed live — the open month's delta, a few days of documents.
- A sealed month (or an open month's sealed days) of a metric is **fresh** iff its
  `ActualMonthState` row exists, `computed_version` = `version` and it sums those days. The
  triggers add 1 to `version` in the transaction of every write that can change the month's
  figure (a contract, a payment, an allocation, an installment's owner, a visit record, a unit
  membership), whoever writes it — in the current month only a write dated two days back or
  more (migration 0004), so that the day's writes never touch a state row.
- A refresh computes the month from the documents **and reads its version in the same
  snapshot** (one statement, `actuals.stale_months` or the reader's own statement), then
  `store` claims it: `computed_version` := that version only if `version` still equals it
  (`INSERT … ON CONFLICT DO UPDATE … WHERE`, which PostgreSQL evaluates on the latest committed
  row, waiting for a writer in progress) and it is stale or sums fewer days. A write committed
  after the snapshot has bumped the version (or will, and then waits for our row lock): the
  claim fails or is overtaken, and the month stays stale — never fresh with a figure that
  misses a document.

The one assumption: no transaction commits more than a day after one of its writes. A write
into the current month dated yesterday or later marks nothing (the writers mark every month
before their statement's month, by `clock_timestamp()`, and the current month for a document
two days old or older), and the readers use a month from the second day after it ends and an
open month's days from the third: only a write made on such a day (or the day after it) and
committed more than a day later could be missed.

Readers do not wait for writers: `actuals.compute` reads the fresh months and computes the
stale ones from the documents in one statement (a pure read), and hands the stale ones to
`store` when its transaction commits (`transaction.on_commit`, at once outside a transaction),
in a short transaction of its own that waits for a writer holding a state row at most
`LOCK_TIMEOUT`. The nightly job `refresh_recent` (Celery `apps.goals.tasks.refresh_actuals`)
computes every stale or missing sealed month of the window and the open month's sealed days,
one statement per metric.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from . import actuals
from .choices import Metric
from .models import ActualMonth, ActualMonthState

logger = logging.getLogger(__name__)

# How long a claim waits for a writer holding a state row before giving up (the month stays
# stale: the next reader computes it again).
LOCK_TIMEOUT = "500ms"
LOCK_NOT_AVAILABLE = "55P03"

# The claim: the months whose state still has the version read with the documents (a missing
# row was read as 0 and is inserted; a mark inserts 1, so a mark made since makes it fail), and
# that nobody else is storing right now (a transaction-scoped advisory lock per (metric, month),
# tried, not awaited: two readers that computed the same month do not both write it).
_CLAIM = """
    INSERT INTO goals_actualmonthstate AS st (metric, month, version, computed_version, through)
    SELECT %(metric)s, t.month, t.version, t.version, t.through
      FROM unnest(%(months)s::date[], %(versions)s::bigint[], %(throughs)s::date[])
           AS t(month, version, through)
     WHERE pg_try_advisory_xact_lock(hashtext('goals_actualmonth'),
                                     hashtext(%(metric)s || t.month::text))
     ORDER BY t.month
    ON CONFLICT (metric, month) DO UPDATE
       SET computed_version = EXCLUDED.computed_version, through = EXCLUDED.through
     WHERE st.version = EXCLUDED.version
       AND (st.computed_version IS DISTINCT FROM st.version
            OR coalesce(st.through, 'infinity') < coalesce(EXCLUDED.through, 'infinity'))
    RETURNING st.month
"""
_DELETE = "DELETE FROM goals_actualmonth WHERE metric = %(metric)s AND month = ANY(%(months)s)"
_INSERT = """
    INSERT INTO goals_actualmonth (metric, month, owner_id, org_unit_id, value)
    SELECT %(metric)s, t.month, t.owner_id, t.org_unit_id, t.value
      FROM unnest(%(months)s::date[], %(owners)s::bigint[], %(units)s::bigint[],
                  %(values)s::numeric[]) AS t(month, owner_id, org_unit_id, value)
"""


def store(metric: str, computed: dict[date, actuals.StaleMonth]) -> list[date]:
    """Keep the sealed months `computed` (each with the version read in the snapshot of its
    rows) as the rollup of `metric`, those whose claim succeeds (see the module docstring).
    One short transaction of four statements; returns the months written.

    A writer that marked one of these months and has not committed holds its state row: the
    claim waits for it (then fails: the version moved) at most `LOCK_TIMEOUT`, then gives up
    and writes nothing — a reader's request is never held by a long writing transaction."""
    if not computed:
        return []
    try:
        return _store(metric, computed)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        logger.info("actuals rollup %s: a writer holds a month, not stored", metric)
        return []


def _store(metric: str, computed: dict[date, actuals.StaleMonth]) -> list[date]:
    months = sorted(computed)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(
            _CLAIM,
            {
                "metric": metric,
                "months": months,
                "versions": [computed[month].version for month in months],
                "throughs": [computed[month].through for month in months],
            },
        )
        claimed = sorted(row[0] for row in cursor.fetchall())
        if not claimed:
            return []
        cursor.execute(_DELETE, {"metric": metric, "months": claimed})
        rows = [(month, *row) for month in claimed for row in computed[month].rows]
        if rows:
            cursor.execute(
                _INSERT,
                {
                    "metric": metric,
                    "months": [row[0] for row in rows],
                    "owners": [row[1] for row in rows],
                    "units": [row[2] for row in rows],
                    "values": [row[3] for row in rows],
                },
            )
    return claimed


def refresh_months(metric: str, months: list[date]) -> list[date]:
    """Refresh the rollup of `metric` for those of `months` (first days) that are sealed and
    stale or missing: one grouped statement computes them all from the documents with their
    versions, then `store` claims and writes them. Returns the months written (a month a
    writer changed meanwhile stays stale: the next reader computes it live)."""
    return store(metric, actuals.stale_months(metric, months))


def window_months(today: date | None = None) -> list[date]:
    """The first days of the months the rollup may hold: the `WINDOW_MONTHS` months before the
    current one (those not yet sealed are left out by the statement itself)."""
    today = today or timezone.localdate()
    months = []
    year, month = today.year, today.month
    for _ in range(actuals.WINDOW_MONTHS):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(date(year, month, 1))
    return sorted(months)


def refresh_recent(*, today: date | None = None) -> dict[str, int]:
    """The nightly refresh: every stale or missing sealed month of the window, and the sealed
    days of the open month (the current one, or the last one on the first day of the next),
    for every metric — two statements per metric computing them all, one short transaction
    storing them; and the months that left the window (and the one the triggers still mark
    beyond it) are dropped. Returns {metric: months written}."""
    today = today or timezone.localdate()
    months = window_months(today)
    gone = date(months[0].year - (months[0].month == 1), (months[0].month - 2) % 12 + 1, 1)
    ActualMonth.objects.filter(month__lt=gone).delete()
    ActualMonthState.objects.filter(month__lt=gone).delete()
    months.append(today.replace(day=1))
    written = {}
    for metric in Metric.values:
        computed = actuals.stale_months(metric, months, open_days=True, today=today)
        written[metric] = len(store(metric, computed))
        logger.info("actuals rollup %s: %d months refreshed", metric, written[metric])
    return written
