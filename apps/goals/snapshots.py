"""The nightly attainment snapshot (01:00): for every live target whose period contains the day,
and every target whose period ended the day before (closed by the 00:30 job, so its final
figure is kept), one `AttainmentSnapshot` row with the target's amount, the actual computed from
the documents, and the scope's name as it is today, so that the history reads the same after a
re-org, a rename or a rep leaving.

Set-based: the targets are read in one query with their names, the actuals computed once per
(metric, period) with `actuals.compute`, and the rows written with one INSERT … ON CONFLICT
(as_of, target) DO UPDATE per batch: a second run the same day replaces that day's rows, never
duplicates them (and drops the rows of targets that no longer qualify, e.g. deleted ones).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Q

from apps.accounts.models import OrgUnit
from apps.accounts.names import person_name

from . import actuals
from .choices import ScopeKind, TargetStatus
from .models import AttainmentSnapshot, Target

BATCH = 5000
_FIELDS = [
    "id", "metric", "period_kind", "period_start", "period_end", "scope_kind", "org_unit_id",
    "user_id", "amount", "org_unit__name", "user__first_name", "user__last_name",
    "user__username",
]  # fmt: skip
_UPDATED = [
    "metric", "period_kind", "period_start", "period_end", "scope_kind", "org_unit",
    "user", "scope_name", "target_amount", "actual",
]  # fmt: skip


def snapshot_targets_q(as_of: date) -> Q:
    """Live targets whose period contains `as_of`, and those whose period ended the eve."""
    running = Q(status=TargetStatus.ACTIVE, period_start__lte=as_of, period_end__gte=as_of)
    ended_eve = Q(
        status__in=[TargetStatus.ACTIVE, TargetStatus.CLOSED],
        period_end=as_of - timedelta(days=1),
    )
    return running | ended_eve


def _company_name() -> str:
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("id").values("name").first()
    return root["name"] if root else ""


def snapshot_attainment(*, as_of: date) -> int:
    """Write the snapshot of `as_of` (see the module docstring). Returns the rows written."""
    rows = list(Target.objects.filter(snapshot_targets_q(as_of)).order_by().values(*_FIELDS))
    periods: dict[tuple[str, date, date], None] = {}
    for row in rows:
        periods[(row["metric"], row["period_start"], row["period_end"])] = None
    computed = {key: actuals.compute(*key) for key in periods}
    company = _company_name() if any(r["scope_kind"] == ScopeKind.COMPANY for r in rows) else ""
    snapshots = []
    for row in rows:
        figures = computed[(row["metric"], row["period_start"], row["period_end"])]
        if row["scope_kind"] == ScopeKind.REP:
            name = person_name(row["user__first_name"], row["user__last_name"])
            name = name or row["user__username"]
        elif row["scope_kind"] == ScopeKind.UNIT:
            name = row["org_unit__name"]
        else:
            name = company
        snapshots.append(
            AttainmentSnapshot(
                as_of=as_of, target_id=row["id"], metric=row["metric"],
                period_kind=row["period_kind"], period_start=row["period_start"],
                period_end=row["period_end"], scope_kind=row["scope_kind"],
                org_unit_id=row["org_unit_id"], user_id=row["user_id"],
                scope_name=(name or "")[:200], target_amount=row["amount"],
                actual=figures.scope(
                    row["scope_kind"], unit_id=row["org_unit_id"], user_id=row["user_id"]
                ),
            )
        )  # fmt: skip
    with transaction.atomic():
        for first in range(0, len(snapshots), BATCH):
            AttainmentSnapshot.objects.bulk_create(
                snapshots[first : first + BATCH],
                update_conflicts=True,
                unique_fields=["as_of", "target"],
                update_fields=_UPDATED,
            )
        with connection.cursor() as cursor:
            # A target snapshotted earlier today that no longer qualifies (deleted: target NULL
            # rows are history and stay; or no longer live) is not part of today's figure.
            cursor.execute(
                "DELETE FROM goals_attainmentsnapshot "
                "WHERE as_of = %s AND target_id IS NOT NULL AND NOT (target_id = ANY(%s))",
                [as_of, [s.target_id for s in snapshots]],
            )
    return len(snapshots)
