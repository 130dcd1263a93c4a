"""Benchmark of the pipeline figures (issue 5 "Figures": funnel and stage-duration figures for
the whole company under 500 ms with 300,000 opportunities).

Against the development database (or `--database`), inside a transaction that is rolled back
at the end (nothing stays): a company of 10 departments × 2 teams × 10 reps (200 reps, a
supervisor per team, a manager per department), 5,000 customers, and N opportunities (COPY)
created over the last 540 days, each with its stage history (about 4 rows a deal): forward
moves a stage at a time, some moves back, a quarter won and a quarter lost, the rest open with
an expected close date from two months ago to eight months ahead. Then times every figure of
`apps.opportunities.figures` for the admin (whole company) and for a supervisor (one team), for
the last 90 and the last 365 days, p50/p95/max over `--runs` runs, and prints EXPLAIN (ANALYZE,
BUFFERS) of each figure's query for the whole company.

    .venv/bin/python bench/pipeline_figures.py [--opportunities 300000] [--runs 20]
        [--seed 5] [--database NAME] [--no-explain]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesctl.settings")
os.environ.setdefault("DEBUG", "1")  # development settings (a SECRET_KEY of their own)

import django

django.setup()

import pgtrigger  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.accounts.choices import OrgUnitKind, Role  # noqa: E402
from apps.accounts.models import OrgUnit, User  # noqa: E402
from apps.customers.models import Customer  # noqa: E402
from apps.leads.periods import period_bounds  # noqa: E402
from apps.opportunities import figures  # noqa: E402
from apps.opportunities.choices import OPEN_STAGES  # noqa: E402
from bench.common import figures as timing  # noqa: E402
from bench.common import timed  # noqa: E402


class Rollback(Exception):
    pass


def _org(tag: str) -> tuple[User, User, list[User]]:
    """Company → 10 departments → 2 teams each → 10 reps each. (admin, a supervisor, reps)"""
    company = OrgUnit.objects.create(code=f"{tag}-co", name="Bench Co", kind=OrgUnitKind.COMPANY)
    admin = User.objects.create(username=f"{tag}-admin", role=Role.ADMIN, org_unit=company)
    reps: list[User] = []
    supervisor = None
    for d in range(10):
        dept = OrgUnit.objects.create(
            code=f"{tag}-d{d}", name=f"Dept {d}", kind=OrgUnitKind.DEPARTMENT, parent=company
        )
        manager = User.objects.create(username=f"{tag}-m{d}", role=Role.MANAGER, org_unit=dept)
        dept.head = manager
        dept.save()
        for t in range(2):
            team = OrgUnit.objects.create(
                code=f"{tag}-d{d}t{t}", name=f"Team {d}.{t}", kind=OrgUnitKind.TEAM, parent=dept
            )
            sup = User.objects.create(
                username=f"{tag}-s{d}{t}", role=Role.SUPERVISOR, org_unit=team
            )
            team.head = sup
            team.save()
            supervisor = supervisor or sup
            reps += User.objects.bulk_create(
                User(username=f"{tag}-r{d}{t}{i}", role=Role.REP, org_unit=team) for i in range(10)
            )
    return admin, supervisor, reps


def _reserve_ids(table: str, count: int) -> int:
    """The first of `count` consecutive ids taken from `table`'s sequence."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
        seq = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [seq])
        first = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [seq, first + count])
    return first


def _copy(table: str, columns: list[str], buffer: io.StringIO) -> None:
    buffer.seek(0)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)


def _load(count: int, reps: list[User], customers: list[int], rng: random.Random) -> int:
    """COPY `count` opportunities and their stage history; returns the stage rows made."""
    now = timezone.now()
    today = timezone.localdate()
    first_id = _reserve_ids("opportunities_opportunity", count)
    opp_cols = [
        "id", "name", "customer_id", "owner_id", "amount", "expected_close_date", "stage",
        "stage_entered_at", "needs_analysis", "description", "lost_reason", "lost_competitor",
        "closed_at", "created_at", "updated_at",
    ]  # fmt: skip
    sc_cols = ["opportunity_id", "stage", "from_stage", "entered_at", "left_at", "reason"]
    opps, stays = io.StringIO(), io.StringIO()
    stage_rows = 0
    for n in range(count):
        oid = first_id + n
        created = now - timedelta(days=rng.uniform(0, 540))
        at = created
        index = 0
        history = [("prospecting", at)]
        target = rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 4))
        while index < target and at < now:
            at += timedelta(days=rng.uniform(0.5, 25))
            if index > 0 and rng.random() < 0.08:  # a move back
                index -= 1
            else:
                index += 1
            history.append((OPEN_STAGES[index], at))
        fate = rng.random()
        if at < now and fate < 0.5:
            at += timedelta(days=rng.uniform(0.5, 25))
            history.append(("won" if fate < 0.25 else "lost", at))
        history = [(s, t) for s, t in history if t <= now] or history[:1]
        stage, entered = history[-1]
        closed = stage in ("won", "lost")
        close_date = today + timedelta(days=rng.randint(-60, 240)) if not closed else entered.date()
        amount = f"{rng.randint(1, 2000) * 500}.00"
        opps.write(
            "\t".join([
                str(oid), f"Bench deal {n}", str(rng.choice(customers)), str(rng.choice(reps).pk),
                amount, close_date.isoformat(), stage, entered.isoformat(), "", "",
                "price" if stage == "lost" else "", "Rival" if stage == "lost" else "",
                entered.isoformat() if closed else "\\N", created.isoformat(), entered.isoformat(),
            ]) + "\n"
        )  # fmt: skip
        for i, (s, t) in enumerate(history):
            left = history[i + 1][1].isoformat() if i + 1 < len(history) else "\\N"
            before = history[i - 1][0] if i else ""
            stays.write(f"{oid}\t{s}\t{before}\t{t.isoformat()}\t{left}\t\n")
            stage_rows += 1
    _copy("opportunities_opportunity", opp_cols, opps)
    _copy("opportunities_stagechange", sc_cols, stays)
    return stage_rows


def _figure_calls(user: User, period, settings_by_stage) -> dict:
    return {
        "funnel": lambda: figures.funnel(user=user, period=period),
        "stage durations": lambda: figures.stage_durations(
            user=user, period=period, settings_by_stage=settings_by_stage
        ),
        "stage durations +current": lambda: figures.stage_durations(
            user=user, period=period, include_current=True, settings_by_stage=settings_by_stage
        ),
        "win rate & cycle time": lambda: figures.win_rates(user=user, period=period),
        "weighted forecast (6 months)": lambda: figures.forecast(
            user=user, settings_by_stage=settings_by_stage
        ),
    }


def _time(users: dict[str, User], runs: int) -> None:
    settings_by_stage = figures.stage_settings()
    today = timezone.localdate()
    for days in (90, 365):
        period = period_bounds(today - timedelta(days=days - 1), today)
        for who, user in users.items():
            for name, call in _figure_calls(user, period, settings_by_stage).items():
                if days == 365 and name.startswith("weighted"):
                    continue  # the forecast has no period
                call()  # warm
                ms = [timed(call)[0] for _ in range(runs)]
                print(f"{who:<11} last {days:>3} d  {name:<30} {timing(ms)}")


def _explain(user: User) -> None:
    settings_by_stage = figures.stage_settings()
    today = timezone.localdate()
    period = period_bounds(today - timedelta(days=89), today)
    for name, call in _figure_calls(user, period, settings_by_stage).items():
        with CaptureQueriesContext(connection) as captured:
            call()
        for query in captured.captured_queries:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n=== EXPLAIN ANALYZE: {name} (whole company, last 90 days) ===\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database", help="database name (default: the configured one)")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    if args.database:
        connection.close()
        connection.settings_dict["NAME"] = args.database
    rng = random.Random(args.seed)
    tag = f"bench-pf{date.today():%m%d}{rng.randint(0, 9999)}"
    try:
        with transaction.atomic():
            admin, supervisor, reps = _org(tag)
            with pgtrigger.ignore("customers.Customer:insert_insert"):
                customers = Customer.objects.bulk_create(
                    Customer(name=f"{tag} 客户 {i}", name_key=f"{tag}{i}", owner=rng.choice(reps))
                    for i in range(5000)
                )
            started = time.perf_counter()
            # The load's own history events are not what is measured: skip that trigger.
            with pgtrigger.ignore("opportunities.Opportunity:insert_insert"):
                stage_rows = _load(args.opportunities, reps, [c.pk for c in customers], rng)
            print(
                f"loaded {args.opportunities:,} opportunities and {stage_rows:,} stage-history "
                f"rows in {time.perf_counter() - started:.1f} s"
            )
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE opportunities_opportunity")
                cursor.execute("ANALYZE opportunities_stagechange")
                cursor.execute("ANALYZE accounts_user")
                cursor.execute("ANALYZE accounts_orgunit")
            _time({"admin": admin, "supervisor": supervisor}, args.runs)
            if not args.no_explain:
                _explain(admin)
            raise Rollback
    except Rollback:
        print("rolled back: nothing was kept")


if __name__ == "__main__":
    main()
