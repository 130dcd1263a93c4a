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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts.models import OrgUnit

from .choices import Metric

ZERO = Decimal("0")

# Each source answers (owner id, day, value) for a period [%(start)s, %(end)s] (days included;
# the visits compare timestamps: %(start_at)s ≤ started_at < %(end_at)s).
_SOURCES: dict[str, str] = {
    Metric.CONTRACT_AMOUNT: """
        SELECT c.owner_id, c.signed_on AS day, c.amount AS value
          FROM contracts_contract c
         WHERE c.signed_on BETWEEN %(start)s AND %(end)s AND c.status <> 'terminated'
    """,
    Metric.COLLECTED: """
        SELECT i.owner_id, p.received_on AS day, a.amount AS value
          FROM receivables_payment p
          JOIN receivables_allocation a ON a.payment_id = p.id AND a.reversed_at IS NULL
          JOIN receivables_installment i ON i.id = a.installment_id
         WHERE p.received_on BETWEEN %(start)s AND %(end)s
    """,
    Metric.NEW_CUSTOMERS: """
        SELECT c.owner_id, c.signed_on AS day, 1 AS value
          FROM contracts_contract c
         WHERE c.signed_on BETWEEN %(start)s AND %(end)s
           AND NOT EXISTS (
                SELECT 1 FROM contracts_contract e
                 WHERE e.customer_id = c.customer_id AND e.signed_on IS NOT NULL
                   AND (e.signed_on < c.signed_on OR (e.signed_on = c.signed_on AND e.id < c.id))
           )
    """,
    Metric.VISITS: """
        SELECT v.owner_id, (v.started_at AT TIME ZONE %(tz)s)::date AS day, 1 AS value
          FROM visits_visitrecord v
         WHERE v.started_at >= %(start_at)s AND v.started_at < %(end_at)s
    """,
    Metric.EFFECTIVE_VISITS: """
        SELECT v.owner_id, (v.started_at AT TIME ZONE %(tz)s)::date AS day, 1 AS value
          FROM visits_visitrecord v
         WHERE v.started_at >= %(start_at)s AND v.started_at < %(end_at)s AND v.is_effective
    """,
}

# Sum per (rep, unit the rep was in that day). A rep with no membership row (not in any unit)
# is kept with unit NULL: counted for the rep and the company, not for a unit.
_GROUPED = """
    SELECT s.owner_id, m.org_unit_id, SUM(s.value)
      FROM ({source}) s
      LEFT JOIN goals_unitmembership m
        ON m.user_id = s.owner_id AND m.valid_from <= s.day
       AND (m.valid_to IS NULL OR s.day < m.valid_to)
     {where}
     GROUP BY s.owner_id, m.org_unit_id
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

    def rep_in_unit(self, user_id: int, unit_id: int) -> Decimal:
        return self.by_rep_unit.get((user_id, unit_id), ZERO)

    def scope(self, scope_kind: str, *, unit_id: int | None = None, user_id: int | None = None):
        """The actual of a target's scope (company, unit or rep)."""
        if scope_kind == "rep":
            return self.rep(user_id)
        if scope_kind == "unit":
            return self.unit(unit_id)
        return self.total


def _unit_ancestors() -> dict[int, list[int]]:
    """{unit id: [every unit from the top down to itself]} from the tree paths ("0001.0007.":
    each segment is a unit id), a few hundred rows."""
    return {
        pk: [int(part) for part in path.split(".") if part]
        for pk, path in OrgUnit.objects.values_list("id", "path")
    }


def compute(metric: str, start: date, end: date, *, owner_ids: list[int] | None = None) -> Actuals:
    """The actuals of `metric` from `start` to `end` (both included), for everyone or only the
    documents of `owner_ids`. One query."""
    if metric not in _SOURCES:
        raise ValueError(f"unknown metric {metric!r}")
    params = _bounds(start, end)
    where = ""
    if owner_ids is not None:
        where = "WHERE s.owner_id = ANY(%(owners)s)"
        params["owners"] = list(owner_ids)
    sql = _GROUPED.format(source=_SOURCES[metric], where=where)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = Actuals(metric=metric, start=start, end=end)
    by_rep: dict[int, Decimal] = defaultdict(lambda: ZERO)
    by_unit: dict[int, Decimal] = defaultdict(lambda: ZERO)
    ancestors = _unit_ancestors() if rows else {}
    for owner_id, unit_id, value in rows:
        value = Decimal(value)
        result.by_rep_unit[(owner_id, unit_id)] = value
        by_rep[owner_id] += value
        result.total += value
        if unit_id is not None:
            for ancestor in ancestors.get(unit_id, [unit_id]):
                by_unit[ancestor] += value
    result.by_rep, result.by_unit = dict(by_rep), dict(by_unit)
    return result


def compute_all(
    start: date, end: date, *, owner_ids: list[int] | None = None
) -> dict[str, Actuals]:
    """Every metric over one period (five queries)."""
    return {metric: compute(metric, start, end, owner_ids=owner_ids) for metric in Metric.values}
