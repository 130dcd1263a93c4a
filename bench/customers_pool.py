"""Benchmark of the nightly public-pool job (issue 4 "Figures": over 200,000 customers under
10 s).

Against the development database, inside a transaction that is rolled back at the end (nothing
stays): bulk-inserts 200 reps and 200,000 customers spread over the tiers, with last follow-ups
as on an ordinary night (``--scenario night``: a day's worth due for release, a day's worth
newly in the warning window) or as on a first run over a neglected book (``--scenario
backlog``: follow-ups from 0 to 120 days ago, more than half released at once), then times
`customer_pool_release_due` (history triggers, notifications included)
and a second, idempotent run. Then, back at the state before the job (a savepoint), prints
EXPLAIN (ANALYZE, BUFFERS) of the release and the warning statements as the job runs them
(their timings include the dead row versions the rolled-back run left behind).

    .venv/bin/python bench/customers_pool.py [--customers 200000] [--reps 200] [--seed 4]
        [--database NAME]      # default: the configured database (DATABASE_URL)
        [--scenario night|backlog]
        [--no-job-settings]    # without the job's SET LOCAL settings, for comparison
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesctl.settings")

import django
import pgtrigger

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.transaction import savepoint, savepoint_rollback  # noqa: E402
from django.utils import timezone  # noqa: E402
from pghistory.models import Context  # noqa: E402

from apps.accounts.choices import OrgUnitKind, Role  # noqa: E402
from apps.accounts.models import OrgUnit, User  # noqa: E402
from apps.customers import pool  # noqa: E402
from apps.customers.models import Customer  # noqa: E402
from apps.customers.pool import customer_pool_release_due  # noqa: E402


class Rollback(Exception):
    pass


def _load(count: int, reps: list[User], rng: random.Random, now, scenario: str) -> None:
    """Bulk-insert `count` customers in batches of 10,000, tiers at random, the last
    follow-ups as the `scenario` says:

    - ``night``: an ordinary night — the job ran yesterday, so every owned customer was
      followed up within its tier's days plus one; those whose clock ran out since (about
      one day's worth, 1/(days + 1) of each tier) are released, the next days' are warned;
    - ``backlog``: the first run over a book nobody cleaned up — follow-ups from 0 to 120
      days ago, so that more than half of all customers are released at once.
    """
    days = pool.pool_days()
    warning = settings.CUSTOMER_POOL_WARNING_DAYS
    batch = []
    for i in range(count):
        tier = rng.choice("ABCD")
        ago = rng.uniform(0, 120) if scenario == "backlog" else rng.uniform(0, days[tier] + 1)
        # On an ordinary night, those inside the warning window since before yesterday's run
        # were warned then.
        warned_days_ago = ago - (days[tier] - warning)
        warned_at = (
            now - timedelta(days=warned_days_ago)
            if scenario == "night" and warned_days_ago > 1 and ago <= days[tier]
            else None
        )
        batch.append(
            Customer(
                name=f"基准测试客户 {i:06d}",
                name_key=f"bench{i}",
                tier=tier,
                owner=rng.choice(reps),
                last_follow_up_at=now - timedelta(days=ago),
                pool_warning_at=warned_at,
            )
        )
        if len(batch) == 10_000:
            Customer.objects.bulk_create(batch)
            batch = []
    if batch:
        Customer.objects.bulk_create(batch)


def _explain(now) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the job's two statements, each undone after."""
    days = json.dumps(pool.pool_days())
    context_id = str(uuid.uuid4())
    statements = pool.job_statements(now=now, days=days, context_id=context_id)
    Context.objects.create(id=context_id, metadata={"job": "bench"})
    for title, statement, params in statements:
        undo = savepoint()
        with pgtrigger.ignore(pool.UPDATE_TRIGGER), connection.cursor() as cursor:
            for setting in pool.JOB_SETTINGS:
                cursor.execute(setting)
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, VERBOSE off) {statement}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        savepoint_rollback(undo)
        print(f"\n=== EXPLAIN ANALYZE: {title} ===\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--database", help="database name (default: the configured one)")
    parser.add_argument(
        "--scenario",
        choices=["night", "backlog"],
        default="night",
        help="night: an ordinary nightly run (default); backlog: the worst first run",
    )
    parser.add_argument(
        "--no-job-settings",
        action="store_true",
        help="run the job without its SET LOCAL settings (pool.JOB_SETTINGS), to compare",
    )
    args = parser.parse_args()
    if args.no_job_settings:
        pool.JOB_SETTINGS = ()
    if args.database:
        connection.close()
        connection.settings_dict["NAME"] = args.database
    rng = random.Random(args.seed)
    now = timezone.now()
    try:
        with transaction.atomic():
            unit = OrgUnit.objects.create(
                code="bench-pool", name="Bench pool", kind=OrgUnitKind.TEAM
            )
            reps = User.objects.bulk_create(
                User(username=f"bench-pool-{i}", role=Role.REP, org_unit=unit)
                for i in range(args.reps)
            )
            started = time.perf_counter()
            # The load's own insert events are not what is measured: skip that trigger.
            with pgtrigger.ignore("customers.Customer:insert_insert"):
                _load(args.customers, reps, rng, now, args.scenario)
            took = time.perf_counter() - started
            print(f"{args.scenario}: loaded {args.customers:,} customers in {took:.1f} s")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE customers_customer")

            before_job = savepoint()
            started = time.perf_counter()
            run = customer_pool_release_due(now=now)
            elapsed = time.perf_counter() - started
            print(
                f"customer_pool_release_due: released {run.released:,}, warned {run.warned:,} "
                f"in {elapsed:.2f} s (target < 10 s)"
            )
            started = time.perf_counter()
            again = customer_pool_release_due(now=now)
            print(
                f"second run (idempotent): released {again.released}, warned {again.warned} "
                f"in {time.perf_counter() - started:.2f} s"
            )
            savepoint_rollback(before_job)
            _explain(now)
            raise Rollback
    except Rollback:
        print("rolled back: nothing was kept")


if __name__ == "__main__":
    main()
