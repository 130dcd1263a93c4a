"""Benchmark of the nightly attainment snapshot: under 60 s (issue 7 "Figures").

The target: 500 reps and 36 months of documents.

Against the scale database (``manage.py seed_scale --database-name salesctl_scale`` with its
contracts, receivables and visits), inside a transaction rolled back at the end. When the
database holds no live target for the day, the bench first sets one per active rep and per
unit for each of the five metrics and each period kind (year, quarter, month, week) containing
the day, as a company's targets would be, so that the snapshot has its full width (500 reps ×
5 metrics × 4 kinds = 10,000 rep targets). Then `goals.snapshots.snapshot_attainment` runs
twice for the same day, as the Celery task calls it: the first writes the rows, the second must
replace them (same row count, no duplicate). For each run: seconds, rows, queries.

    .venv/bin/python bench/goals_snapshot.py [--database salesctl_scale] [--as-of YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import time as clock
from datetime import date

import common
from leads_list import Rollback

TARGET_S = 60.0


def _set_targets(as_of: date) -> int:
    """One ACTIVE target per active rep and per unit, per metric and period kind of `as_of`."""
    from decimal import Decimal

    from apps.accounts.choices import Role
    from apps.accounts.models import OrgUnit, User
    from apps.goals.choices import Metric, PeriodKind, ScopeKind
    from apps.goals.models import Target
    from apps.goals.periods import period_of

    reps = list(User.objects.filter(is_active=True, role=Role.REP).values_list("pk", "org_unit_id"))
    units = list(OrgUnit.objects.filter(is_active=True).values_list("pk", flat=True))
    rows = []
    for kind in PeriodKind.values:
        period = period_of(kind, as_of)
        for metric in Metric.values:
            common_fields = {
                "metric": metric, "period_kind": kind, "period_start": period.start,
                "period_end": period.end, "amount": Decimal("100000.00"),
            }  # fmt: skip
            rows += [
                Target(scope_kind=ScopeKind.REP, user_id=pk, org_unit_id=unit, **common_fields)
                for pk, unit in reps
            ]
            rows += [
                Target(scope_kind=ScopeKind.UNIT, org_unit_id=pk, **common_fields) for pk in units
            ]
    Target.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=common.DEFAULT_DATABASE)
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="the day (default: today)"
    )
    args = parser.parse_args()
    common.setup_django(args.database)

    from django.db import connection, reset_queries, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.goals.models import AttainmentSnapshot, Target
    from apps.goals.snapshots import snapshot_attainment, snapshot_targets_q

    as_of = args.as_of or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM accounts_user WHERE role = 'rep' AND is_active), "
            "(SELECT count(*) FROM contracts_contract), (SELECT count(*) FROM visits_visitrecord)"
        )
        reps, contracts, records = cursor.fetchone()
    if not reps:
        raise SystemExit("no scale reps: manage.py seed_scale --database-name salesctl_scale first")
    print(
        f"database {connection.settings_dict['NAME']}: {reps:,} active reps, {contracts:,} "
        f"contracts, {records:,} visit records; as of {as_of}"
    )
    results: list[tuple[str, float, int, int]] = []
    try:
        with transaction.atomic():
            live = Target.objects.filter(snapshot_targets_q(as_of)).count()
            if not live:
                started = clock.perf_counter()
                added = _set_targets(as_of)
                print(f"set {added:,} targets in {clock.perf_counter() - started:.1f} s")
            for what in ("1st run", "2nd run (replaces)"):
                reset_queries()
                with CaptureQueriesContext(connection) as captured:
                    started = clock.perf_counter()
                    rows = snapshot_attainment(as_of=as_of)
                    seconds = clock.perf_counter() - started
                queries = len(captured.captured_queries)
                results.append((what, seconds, rows, queries))
                print(
                    f"snapshot, {what:<20} {seconds:7.2f} s  {rows:>8,} rows  {queries:4} queries"
                )
            stored = AttainmentSnapshot.objects.filter(as_of=as_of).count()
            print(f"rows stored for {as_of}: {stored:,} (the second run replaced, not added)")
            raise Rollback
    except Rollback:
        pass
    worst = max(results, key=lambda r: r[1])
    verdict = "met" if worst[1] < TARGET_S else "MISSED"
    print(f"\nslowest run: {worst[1]:.2f} s ({worst[0]}); target < {TARGET_S:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
