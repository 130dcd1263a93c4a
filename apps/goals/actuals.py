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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts.models import OrgUnit

from .choices import Metric

ZERO = Decimal("0")

# Each source answers (owner id, day, value, document id) for a period [%(start)s, %(end)s]
# (days included; the visits compare timestamps: %(start_at)s ≤ started_at < %(end_at)s). The
# document id is the contract, the allocation or the visit record behind the number (the
# report's drill-down lists them from the same source, so they add up to the figure).
_SOURCES: dict[str, str] = {
    Metric.CONTRACT_AMOUNT: """
        SELECT c.owner_id, c.signed_on AS day, c.amount AS value, c.id AS doc_id
          FROM contracts_contract c
         WHERE c.signed_on BETWEEN %(start)s AND %(end)s AND c.status <> 'terminated'
    """,
    Metric.COLLECTED: """
        SELECT i.owner_id, p.received_on AS day, a.amount AS value, a.id AS doc_id
          FROM receivables_payment p
          JOIN receivables_allocation a ON a.payment_id = p.id AND a.reversed_at IS NULL
          JOIN receivables_installment i ON i.id = a.installment_id
         WHERE p.received_on BETWEEN %(start)s AND %(end)s AND p.status <> 'reversed'
    """,
    Metric.NEW_CUSTOMERS: """
        SELECT c.owner_id, c.signed_on AS day, 1 AS value, c.id AS doc_id
          FROM contracts_contract c
         WHERE c.signed_on BETWEEN %(start)s AND %(end)s
           AND NOT EXISTS (
                SELECT 1 FROM contracts_contract e
                 WHERE e.customer_id = c.customer_id AND e.signed_on IS NOT NULL
                   AND (e.signed_on < c.signed_on OR (e.signed_on = c.signed_on AND e.id < c.id))
           )
    """,
    Metric.VISITS: """
        SELECT v.owner_id, (v.started_at AT TIME ZONE %(tz)s)::date AS day, 1 AS value,
               v.id AS doc_id
          FROM visits_visitrecord v
         WHERE v.started_at >= %(start_at)s AND v.started_at < %(end_at)s
    """,
    Metric.EFFECTIVE_VISITS: """
        SELECT v.owner_id, (v.started_at AT TIME ZONE %(tz)s)::date AS day, 1 AS value,
               v.id AS doc_id
          FROM visits_visitrecord v
         WHERE v.started_at >= %(start_at)s AND v.started_at < %(end_at)s AND v.is_effective
    """,
}

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
     {where}
     GROUP BY s.owner_id, m.org_unit_id, bucket
"""

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


def _run(
    metric: str,
    start: date,
    end: date,
    *,
    bucket: str,
    owner_ids: list[int] | None,
) -> list[tuple]:
    if metric not in _SOURCES:
        raise ValueError(f"unknown metric {metric!r}")
    if end < start:
        raise ValueError("end is before start")
    params = _bounds(start, end)
    where = ""
    if owner_ids is not None:
        where = "WHERE s.owner_id = ANY(%(owners)s)"
        params["owners"] = [int(pk) for pk in owner_ids]
    sql = _GROUPED.format(
        source=_SOURCES[metric], membership=_MEMBERSHIP_JOIN, where=where, bucket=bucket
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
    given and something was found)."""
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
    rows = _run(metric, start, end, bucket="date_trunc('month', s.day)::date", owner_ids=owner_ids)
    if rows and units is None:
        units = unit_ancestors()
    months: dict[date, Actuals] = {}
    day = date(start.year, start.month, 1)
    while day <= end:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
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
    if metric not in _SOURCES:
        raise ValueError(f"unknown metric {metric!r}")
    params = _bounds(start, end) | {
        "owner": owner_id,
        "limit": max(1, limit),
        "offset": max(0, offset),
    }
    unit_filter = ""
    if unit_ids is not None:
        unit_filter = "AND m.org_unit_id = ANY(%(units)s)"
        params["units"] = [int(pk) for pk in unit_ids]
    sql = _DOCUMENTS.format(
        source=_SOURCES[metric], membership=_MEMBERSHIP_JOIN, unit_filter=unit_filter
    )
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
