"""Benchmark of the pipeline figures (issue 5 "Figures": funnel and stage-duration figures for
the whole company under 500 ms with 300,000 opportunities).

Two modes:

- **scale** (the default when the database holds the scale company of ``manage.py
  seed_scale``, loaded with ``--add opportunities,visits``): times every figure of
  `apps.opportunities.figures` over that data, for the administrator and the sales director
  (the whole company: the target), a regional manager and a supervisor (for comparison), for
  this month, last month, the last 90 days and the longest period the pages allow (366 days);
  then the funnel page and the API endpoints (`/api/v1/pipeline-figures/funnel/`,
  `/stage-durations/`) for the whole company through Django's test Client, with their
  queries per request. Nothing is written but a token and a session, rolled back.
- **synthetic** (``--synthetic``, or a database without the scale company): inside a
  transaction that is rolled back at the end, a company of 10 departments × 2 teams × 10 reps,
  5,000 customers and N opportunities (COPY) created over the last 540 days, each with its
  stage history (about 4 rows a deal); then the same timings for the admin and a supervisor.

p50/p95/max over `--runs` runs after one warming call, then EXPLAIN (ANALYZE, BUFFERS) of
each figure's queries for the whole company (the longest period).

    .venv/bin/python bench/pipeline_figures.py [--database salesctl_scale] [--runs 20]
        [--no-explain]
    .venv/bin/python bench/pipeline_figures.py --synthetic [--opportunities 300000]
        [--seed 5] [--database NAME]
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
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.accounts.choices import OrgUnitKind, Role  # noqa: E402
from apps.accounts.models import OrgUnit, User  # noqa: E402
from apps.customers.models import Customer  # noqa: E402
from apps.leads.periods import MAX_PERIOD_DAYS, period_bounds  # noqa: E402
from apps.opportunities import figures  # noqa: E402
from apps.opportunities.choices import OPEN_STAGES  # noqa: E402
from bench.common import DEFAULT_DATABASE, percentile, timed  # noqa: E402
from bench.common import figures as timing  # noqa: E402


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


# The target's figures: the others are timed for comparison.
TARGET_FIGURES = ("funnel", "stage durations", "stage durations +current")
TARGET_MS = 500.0


def _periods() -> dict[str, tuple]:
    today = timezone.localdate()
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return {
        "this month": period_bounds(first, today),
        "last month": period_bounds(last_month_end.replace(day=1), last_month_end),
        "last 90 d": period_bounds(today - timedelta(days=89), today),
        "last 366 d": period_bounds(today - timedelta(days=MAX_PERIOD_DAYS - 1), today),
    }


def _time(users: dict[str, User], runs: int, company: set[str]) -> list[tuple[str, float]]:
    """Print the figures of every user, period and figure; return the (case, p95) of the
    target's cases (the whole company)."""
    settings_by_stage = figures.stage_settings()
    target: list[tuple[str, float]] = []
    for label, period in _periods().items():
        for who, user in users.items():
            for name, call in _figure_calls(user, period, settings_by_stage).items():
                if name.startswith("weighted") and label != "this month":
                    continue  # the forecast has no period
                call()  # warm
                ms = [timed(call)[0] for _ in range(runs)]
                mark = ""
                if who in company and name in TARGET_FIGURES:
                    target.append((f"{who} {label} {name}", percentile(ms, 0.95)))
                    mark = "  *"
                print(f"{who:<11} {label:<10}  {name:<28} {timing(ms)}{mark}", flush=True)
    return target


def _requests(admin: User, runs: int) -> list[tuple[str, float]]:
    """The funnel page and the API endpoints for the whole company (this month and the
    longest period): p50/p95 and queries per request."""
    from apps.api.services import token_issue

    today = timezone.localdate()
    start = (today - timedelta(days=MAX_PERIOD_DAYS - 1)).isoformat()
    page = Client(SERVER_NAME="localhost")
    page.force_login(admin)
    _token, raw = token_issue(user=admin, name="bench pipeline figures", days=1)
    api = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
    urls = {
        "page funnel, this month": (page, "/opportunities/funnel/"),
        "page funnel, 366 d": (
            page, f"/opportunities/funnel/?period=custom&start={start}&end={today}"
        ),
        "page forecast, this month": (page, "/opportunities/forecast/"),
        "api funnel, this month": (api, "/api/v1/pipeline-figures/funnel/"),
        "api funnel, 366 d": (
            api, f"/api/v1/pipeline-figures/funnel/?start={start}&end={today}"
        ),
        "api stage-durations, 366 d": (
            api, f"/api/v1/pipeline-figures/stage-durations/?start={start}&end={today}"
        ),
        "api stage-durations +current": (
            api,
            f"/api/v1/pipeline-figures/stage-durations/?start={start}&end={today}"
            "&include_current=true",
        ),
    }  # fmt: skip
    target: list[tuple[str, float]] = []
    print(f"\nrequests as {admin.username} (whole company)          queries  figures")
    for what, (client, url) in urls.items():
        reset_queries()  # the log keeps 9,000 queries: a full one would capture none
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{what}: HTTP {response.status_code}")
        ms = [timed(lambda client=client, url=url: client.get(url))[0] for _ in range(runs)]
        # The API endpoints are the figures; a page adds the win rates (or the forecast) and
        # its rendering: shown for comparison.
        mark = "  *" if what.startswith("api") else ""
        print(f"{what:<46} {len(captured.captured_queries):5}    {timing(ms)}{mark}", flush=True)
        if mark:
            target.append((what, percentile(ms, 0.95)))
    return target


def _explain(user: User) -> None:
    settings_by_stage = figures.stage_settings()
    period = _periods()["last 366 d"]
    for name, call in _figure_calls(user, period, settings_by_stage).items():
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            call()
        for query in captured.captured_queries:
            if "stagesetting" in query["sql"] and "GROUP BY" not in query["sql"]:
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n=== EXPLAIN ANALYZE: {name} (whole company, last 366 days) ===\n{plan}")


def _verdict(target: list[tuple[str, float]]) -> None:
    worst, p95 = max(target, key=lambda case: case[1])
    verdict = "met" if p95 < TARGET_MS else "MISSED"
    print(f"\nworst whole-company p95: {p95:.1f} ms ({worst}); target < {TARGET_MS:.0f} ms: "
          f"{verdict}")  # fmt: skip


def _scale(args: argparse.Namespace) -> None:
    users = {
        who: User.objects.get(username=username)
        for who, username in (
            ("admin", "scale_admin"), ("director", "scale_director"), ("manager", "scale_mgr1"),
            ("supervisor", "scale_sup01"),
        )
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM opportunities_opportunity), "
            "(SELECT count(*) FROM opportunities_stagechange)"
        )
        deals, stays = cursor.fetchone()
    print(f"database {connection.settings_dict['NAME']}: {deals:,} opportunities, "
          f"{stays:,} stage-history rows  (* = the target's cases)")  # fmt: skip
    target = _time(users, args.runs, company={"admin", "director"})
    try:
        with transaction.atomic():
            target += _requests(users["admin"], args.runs)
            raise Rollback
    except Rollback:
        pass
    _verdict(target)
    if not args.no_explain:
        _explain(users["admin"])


def _synthetic(args: argparse.Namespace) -> None:
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
            target = _time({"admin": admin, "supervisor": supervisor}, args.runs, {"admin"})
            _verdict(target)
            if not args.no_explain:
                _explain(admin)
            raise Rollback
    except Rollback:
        print("rolled back: nothing was kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument(
        "--synthetic", action="store_true", help="load synthetic deals (rolled back) instead"
    )
    parser.add_argument("--opportunities", type=int, default=300_000, help="with --synthetic")
    parser.add_argument("--seed", type=int, default=5, help="with --synthetic")
    args = parser.parse_args()
    connection.close()
    connection.settings_dict["NAME"] = args.database
    scale = User.objects.filter(username="scale_admin").exists()
    if args.synthetic or not scale:
        _synthetic(args)
    else:
        _scale(args)


if __name__ == "__main__":
    main()
