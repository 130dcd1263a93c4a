"""Benchmark of the daily receivables job (issue 6 "Figures": with 1,000,000 installments the
daily job under 30 s, and a second run the same day under 5 s with no changes).

Two modes, both inside one transaction that is **rolled back at the end**: nothing the runs
write stays, so the scale database can be measured again and again.

**scale** (the default when the database holds installments, e.g. the scale company of
``manage.py seed_scale --database-name salesctl_scale --add contracts,receivables``, which
leaves the state after the job's run of its day): vacuums the tables the job writes (the dead
rows of earlier rolled-back runs would slow this one; ``--no-vacuum`` skips it), then times
the run of the next day (``--today``,
default: the day after the last run the data reflects) — every overdue installment ages a day
and accrues a day of penalty interest, some fall due, some enter a new bucket and escalate,
promises whose date passed are judged — then a second run the same day (nothing changes).
With ``--days N`` the next N days are run one after the other (each timed) before the second
run of the last one.

**synthetic** (``--synthetic``, or a database without installments):

1. loads 200 reps in 20 teams (4 departments, heads), ``--customers`` customers,
   ``--contracts`` signed contracts (grace 0–15 days, 0.03/0.05/0.10 %/day) and
   ``--installments`` installments with COPY, due dates spread over 36 months (30 months back,
   6 ahead), ~7.5 % overdue (up to 180 days; older ones are paid), plus ``--payments``
   payments and 5,000 promises to pay whose date has passed. Triggers are off for the load
   (``session_replication_role = replica``), as for a restore;
2. brings the data to the state *after yesterday's run* in SQL: overdue days, buckets,
   escalated buckets, and the last penalty accrual (dated yesterday) of each installment past
   its grace days — the job continues from an installment's last accrual, so the one row
   stands for the whole history (the accrual table is smaller than in real life: its index is
   a level shallower);
3. times today's run and a second run the same day.

In both modes it then goes back to the state before the runs (a savepoint) and prints EXPLAIN
(ANALYZE, BUFFERS) of the heavy statements as the job runs them.

    .venv/bin/python bench/receivables_daily_job.py --database salesctl_scale [--today DATE]
        [--days 1] [--no-vacuum] [--no-explain]
    .venv/bin/python bench/receivables_daily_job.py --synthetic [--installments 1000000]
        [--contracts 100000] [--customers 50000] [--payments 600000] [--seed 6]
        [--today 2026-06-15] [--database NAME] [--no-explain]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesctl.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

import pgtrigger  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.transaction import savepoint, savepoint_rollback  # noqa: E402
from pghistory.models import Context  # noqa: E402

from apps.accounts.choices import OrgUnitKind, Role  # noqa: E402
from apps.accounts.models import OrgUnit, User  # noqa: E402
from apps.receivables import jobs  # noqa: E402


class Rollback(Exception):
    pass


def _org() -> list[int]:
    """4 departments (a manager each) × 5 teams (a supervisor each) × 10 reps."""
    tag = uuid.uuid4().hex[:6]
    company = OrgUnit.objects.create(code=f"b6-{tag}", name="基准公司", kind=OrgUnitKind.COMPANY)
    reps: list[int] = []
    for d in range(4):
        dept = OrgUnit.objects.create(
            code=f"b6-{tag}-d{d}", name=f"部门{d}", kind=OrgUnitKind.DEPARTMENT, parent=company
        )
        dept.head = User.objects.create(username=f"b6{tag}m{d}", role=Role.MANAGER, org_unit=dept)
        dept.save()
        for t in range(5):
            team = OrgUnit.objects.create(
                code=f"b6-{tag}-d{d}t{t}", name=f"小组{d}{t}", parent=dept
            )
            team.head = User.objects.create(
                username=f"b6{tag}s{d}{t}", role=Role.SUPERVISOR, org_unit=team
            )
            team.save()
            for r in range(10):
                reps.append(
                    User.objects.create(
                        username=f"b6{tag}r{d}{t}{r}", role=Role.REP, org_unit=team
                    ).pk
                )
    User.objects.create(username=f"b6{tag}fin", role=Role.FINANCE, org_unit=company)
    return reps


def _copy(cursor, model, rows, *, with_id: bool = False) -> None:
    """COPY dicts of field values into `model`'s table; the fields a row does not give take
    the model's default (the database has no defaults of its own)."""
    now = datetime.now(ZoneInfo("UTC"))
    fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]

    def default(field):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return now
        if field.has_default():
            return field.get_default()
        return "" if field.empty_strings_allowed and not field.null else None

    defaults = {f.attname: default(f) for f in fields}
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for values in rows:
            copy.write_row([values.get(f.attname, defaults[f.attname]) for f in fields])


RATES = (Decimal("0.0300"), Decimal("0.0500"), Decimal("0.1000"))


def _installments(contracts, per_contract: int, today: date, rng: random.Random):
    """Due dates over 36 months (30 back, 6 ahead); an installment past due is still open
    with a chance falling with its age (none after 180 days): ~7.5 % of all are overdue."""
    for cid, customer, owner in contracts:
        for seq in range(1, per_contract + 1):
            due = today + timedelta(days=rng.randint(-912, 182))
            amount = Decimal(rng.randint(100_000, 20_000_000)) / 100
            age = (today - due).days
            paid, status = Decimal("0.00"), "scheduled"
            if age > 0:
                status = "due"
                p_open = 0.8 if age <= 30 else 0.5 if age <= 90 else 0.3 if age <= 180 else 0
                if rng.random() >= p_open:
                    status, paid = "paid", amount
                elif rng.random() < 0.3:
                    status = "partially_paid"
                    paid = (amount * Decimal("0.4")).quantize(Decimal("0.01"))
            yield {
                "contract_id": cid, "customer_id": customer, "owner_id": owner,
                "sequence": seq, "kind": "on_delivery", "due_date": due, "amount": amount,
                "paid_amount": paid, "status": status,
            }  # fmt: skip


def _load(args, today: date, rng: random.Random) -> None:
    from apps.contracts.models import Contract
    from apps.customers.models import Customer
    from apps.receivables.models import CollectionRecord, Installment, Payment

    reps = _org()
    now = datetime.now(ZoneInfo("UTC"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SELECT COALESCE(max(id), 0) FROM customers_customer")
        first_customer = cursor.fetchone()[0] + 1
        _copy(
            cursor, Customer,
            ({"id": first_customer + i, "name": f"基准客户{i:06d}", "name_key": f"bench6 {i}",
              "owner_id": reps[i % len(reps)], "credit_limit": Decimal("500000.00")}
             for i in range(args.customers)),
            with_id=True,
        )  # fmt: skip
        cursor.execute("SELECT COALESCE(max(id), 0) FROM contracts_contract")
        first_contract = cursor.fetchone()[0] + 1
        contracts = [
            (first_contract + i, first_customer + i % args.customers,
             reps[(i % args.customers) % len(reps)])
            for i in range(args.contracts)
        ]  # fmt: skip
        _copy(
            cursor, Contract,
            ({"id": cid, "number": f"BENCH6-{cid:08d}", "title": "基准合同",
              "customer_id": customer, "owner_id": owner, "status": "signed",
              "penalty_rate_per_day": rng.choice(RATES), "grace_days": rng.randint(0, 15)}
             for cid, customer, owner in contracts),
            with_id=True,
        )  # fmt: skip
        per_contract = max(1, args.installments // args.contracts)
        _copy(cursor, Installment, _installments(contracts, per_contract, today, rng))
        _copy(
            cursor, Payment,
            ({"customer_id": first_customer + i % args.customers,
              "owner_id": reps[(i % args.customers) % len(reps)],
              "amount": Decimal(rng.randint(10_000, 5_000_000)) / 100,
              "received_on": today - timedelta(days=rng.randint(1, 900))}
             for i in range(args.payments)),
        )  # fmt: skip
        _copy(
            cursor, CollectionRecord,
            ({"customer_id": first_customer + rng.randrange(args.customers),
              "owner_id": reps[0], "method": "phone", "notes": "承诺付款",
              "promised_on": today - timedelta(days=rng.randint(1, 5)),
              "promised_amount": Decimal(rng.randint(10_000, 1_000_000)) / 100,
              "promise_status": "pending", "created_at": now - timedelta(days=10)}
             for _ in range(5000)),
        )  # fmt: skip

        # The state after yesterday's run.
        yesterday = today - timedelta(days=1)
        cursor.execute(
            """
            UPDATE receivables_installment i
               SET overdue_days = %(y)s::date - i.due_date,
                   aging_bucket = CASE WHEN %(y)s::date - i.due_date <= 30 THEN 1
                                       WHEN %(y)s::date - i.due_date <= 60 THEN 2
                                       WHEN %(y)s::date - i.due_date <= 90 THEN 3 ELSE 4 END,
                   escalated_bucket = CASE WHEN %(y)s::date - i.due_date <= 30 THEN 1
                                       WHEN %(y)s::date - i.due_date <= 60 THEN 2
                                       WHEN %(y)s::date - i.due_date <= 90 THEN 3 ELSE 4 END
             WHERE i.status IN ('due', 'partially_paid') AND i.due_date < %(y)s
               AND i.contract_id >= %(first)s
            """,
            {"y": yesterday, "first": first_contract},
        )
        cursor.execute(
            """
            WITH last AS (
                INSERT INTO receivables_penaltyaccrual
                       (installment_id, accrual_date, principal, rate_per_day, amount, created_at)
                SELECT i.id, %(y)s, i.amount - i.paid_amount, c.penalty_rate_per_day,
                       round((i.amount - i.paid_amount) * c.penalty_rate_per_day / 100, 2), now()
                  FROM receivables_installment i JOIN contracts_contract c ON c.id = i.contract_id
                 WHERE i.status IN ('due', 'partially_paid')
                   AND i.due_date + c.grace_days < %(y)s AND i.contract_id >= %(first)s
                RETURNING installment_id, amount)
            UPDATE receivables_installment i SET penalty_accrued = last.amount
              FROM last WHERE i.id = last.installment_id
            """,
            {"y": yesterday, "first": first_contract},
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("ANALYZE receivables_installment")
        cursor.execute("ANALYZE receivables_penaltyaccrual")
        cursor.execute("ANALYZE contracts_contract")
        cursor.execute("ANALYZE receivables_payment")
        cursor.execute("ANALYZE receivables_collectionrecord")
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE overdue_days > 0) FROM receivables_installment"
        )
        total, overdue = cursor.fetchone()
    print(f"installments: {total:,}, overdue as of yesterday: {overdue:,} ({overdue / total:.1%})")


def _explain(today: date) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the heavy statements as the job runs them: with its
    settings and its history triggers skipped."""
    context = Context.objects.create(id=uuid.uuid4(), metadata={"job": "bench"})
    chain = jobs.escalation_chain()
    params = {
        "today": today, "now": datetime.now(ZoneInfo("UTC")), "context": str(context.id),
        "task_due": today + timedelta(days=3), "owners": list(chain),
        "supervisors": [p[0] for p in chain.values()], "managers": [p[1] for p in chain.values()],
        "prefix": jobs.AUTO_HOLD_PREFIX.replace("_", "\\_") + "%",
        "hold_since": today - timedelta(days=60), "reason": "bench", "tz": "Asia/Shanghai",
    }  # fmt: skip
    sql = jobs.statements()
    with (
        pgtrigger.ignore(jobs.INSTALLMENT_UPDATE_TRIGGER, jobs.TASK_INSERT_TRIGGER),
        connection.cursor() as cursor,
    ):
        for setting in jobs.JOB_SETTINGS:
            cursor.execute(setting)
        for name in ("aging_and_penalty", "reset", "escalation", "release", "promises"):
            statement, values = jobs.positional(sql[name], params)
            started = time.perf_counter()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, values)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n--- {name} ({time.perf_counter() - started:.2f} s) ---\n{plan}")


def _state_day() -> date | None:
    """The last day the job ran over the installments (the day their overdue days count to),
    None without overdue installments."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(due_date + overdue_days) FROM receivables_installment "
            "WHERE overdue_days > 0"
        )
        return cursor.fetchone()[0]


def _counts() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM receivables_installment),
                   (SELECT count(*) FROM receivables_installment WHERE overdue_days > 0),
                   (SELECT count(*) FROM receivables_payment),
                   (SELECT count(*) FROM receivables_penaltyaccrual),
                   (SELECT count(*) FROM receivables_collectiontask)
            """
        )
        installments, overdue, payments, accruals, tasks = cursor.fetchone()
    return (
        f"installments: {installments:,} ({overdue:,} overdue), payments: {payments:,}, "
        f"penalty accruals: {accruals:,}, collection tasks: {tasks:,}"
    )


def _warm() -> None:
    """Load the URL configuration (the notifications link to pages), as a running worker has
    it: the first `reverse` of a process imports every view module (~5 s)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (evaluated for its side effect)


def _timed_run(label: str, today: date) -> float:
    started = time.perf_counter()
    run = jobs.receivables_daily_run(today=today)
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.2f} s  changes={run.changes:,} {run}")
    return elapsed


# The tables the job writes: vacuumed before the runs (unless --no-vacuum), so that the dead
# rows earlier rolled-back runs left behind do not weigh on this one.
JOB_TABLES = ("receivables_installment", "receivables_installmentevent",
              "receivables_penaltyaccrual", "receivables_collectiontask",
              "receivables_collectionrecord", "customers_customer")  # fmt: skip


def _vacuum() -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in JOB_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"vacuumed {', '.join(JOB_TABLES)} in {time.perf_counter() - started:.1f} s")


def _scale(args) -> None:
    """Time the next day's run (or the next `--days`) and a second run, over the data as it
    is; everything rolled back."""
    if not args.no_vacuum:
        _vacuum()
    _warm()
    print(_counts())
    state = _state_day()
    today = args.today or ((state + timedelta(days=1)) if state else date.today())
    print(f"the data reflects the run of {state}; running {today}"
          f"{f' and the {args.days - 1} days after' if args.days > 1 else ''}")  # fmt: skip
    with transaction.atomic():
        before = savepoint()
        for n in range(args.days):
            day = today + timedelta(days=n)
            _timed_run(f"first run of {day}", day)
        _timed_run(f"second run of {day}, same day", day)
        savepoint_rollback(before)
        if not args.no_explain:
            _explain(today)
        transaction.set_rollback(True)
    print("\nrolled back: nothing stays")


def _synthetic(args) -> None:
    rng = random.Random(args.seed)
    today = args.today or date(2026, 6, 15)
    try:
        with transaction.atomic():
            started = time.perf_counter()
            _load(args, today, rng)
            print(f"load: {time.perf_counter() - started:.1f} s")
            _warm()
            before = savepoint()
            for label in ("first run today", "second run, same day"):
                _timed_run(label, today)
            savepoint_rollback(before)
            if not args.no_explain:
                _explain(today)
            raise Rollback
    except Rollback:
        print("\nrolled back: nothing stays")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", action="store_true", help="load a company of its own")
    parser.add_argument("--installments", type=int, default=1_000_000)
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--payments", type=int, default=600_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--days", type=int, default=1, help="scale mode: days to run in turn")
    parser.add_argument("--database", default="")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--no-vacuum", action="store_true", help="scale mode: no VACUUM first")
    args = parser.parse_args()
    if args.database:
        connection.close()
        connection.settings_dict["NAME"] = args.database
    from apps.receivables.models import Installment

    if args.synthetic or not Installment.objects.exists():
        _synthetic(args)
    else:
        _scale(args)


if __name__ == "__main__":
    main()
