"""`make bench` (issue 10): the benchmark suite's driver, run by scripts/bench.sh against a
gunicorn it started with the production settings on the bench database.

    bench/suite.py marker --database NAME
        prints "preset seed now" of the seed_scale load in NAME (nothing when it has none)
    bench/suite.py run --database NAME --base-url http://127.0.0.1:PORT --gunicorn-pid PID
        [--jobs-database NAME] [--clients 20] [--requests 100] [--report-requests 40]
        [--serial 10] [--only TEXT] [--output docs/benchmarks.md] [--json FILE]

`run`:

1. logs in the roles of the scale company (apps/accounts/scale.py) through the login form
   and issues each an API token (deleted at the end);
2. every case of bench/suite_cases.py — the list pages and endpoints, the reports — first
   `--serial` requests one at a time (the service time), then `--clients` clients at once,
   back to back, for `--requests` (lists) or `--report-requests` (reports) requests: p50,
   p95, max, requests/s, and the queries per request and their time from the
   ``X-Query-Count`` / ``X-Query-Ms`` headers (apps.core.querycount);
3. the Excel exports, one at a time, 3 each;
4. for each report with a hand-written statement: the statement through psql (``\\timing``,
   best of 3), the check that it gives the report's numbers, and the ratio of our time to it;
5. the gunicorn workers' peak memory (VmHWM of /proc/PID/status, per worker and summed);
6. the jobs of CELERY_BEAT_SCHEDULE, twice each, on `--jobs-database` (bench/suite_jobs.py;
   skipped without it);
7. writes the report (bench/suite_report.py) to `--output`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")

from bench.suite_cases import ROLES, Case, Dates, cases  # noqa: E402
from bench.suite_http import Auth, Server, run_concurrent, run_mixed  # noqa: E402

PASSWORD = "scale12345"  # apps.accounts.scale.SCALE_PASSWORD
TOKEN_NAME = "make bench"
RAW_RUNS = 3
EXPORT_RUNS = 3
SERIAL_SECONDS = 10.0


def log(message: str) -> None:
    print(message, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


# --- results -----------------------------------------------------------------------------


@dataclass
class CaseResult:
    kind: str
    name: str
    role: str
    path: str
    limit_ms: float
    serial_ms: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    rps: float = 0.0
    queries: list[int] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    serial_db_ms: list[float] = field(default_factory=list)
    size: int = 0
    errors: list[str] = field(default_factory=list)
    raw_ms: float | None = None
    raw_covers: str = ""
    raw_check: str = ""
    raw_error: str = ""

    @property
    def p95(self) -> float:
        return percentile(self.ms, 0.95)

    @property
    def judged_ms(self) -> float:
        """What the limit applies to: a list's p95 at the concurrent clients; a report's
        slowest request alone (the issue sets the concurrency for the lists only: "every list
        page and endpoint p95 under 150 ms at 20 concurrent clients; every report under
        500 ms"), its figures at the clients shown beside it."""
        if self.kind == "report":
            return max(self.serial_ms) if self.serial_ms else 0.0
        return self.p95

    @property
    def passed(self) -> bool:
        return bool(self.ms) and not self.errors and self.judged_ms < self.limit_ms

    @property
    def ratio(self) -> float | None:
        if self.raw_ms and self.serial_ms:
            return statistics.median(self.serial_ms) / self.raw_ms
        return None

    @property
    def db_ratio(self) -> float | None:
        if self.raw_ms and self.serial_db_ms:
            return statistics.median(self.serial_db_ms) / self.raw_ms
        return None

    def line(self) -> str:
        if not self.ms:
            return f"{self.kind:6} {self.name:32} {self.role:10} FAILED {self.errors[:1]}"
        queries = statistics.median(self.queries) if self.queries else float("nan")
        alone = statistics.median(self.serial_ms or [0])
        return (
            f"{self.kind:6} {self.name:32} {self.role:10} 1 client p50 "
            f"{alone:7.1f}  p50 {statistics.median(self.ms):7.1f}"
            f"  p95 {self.p95:7.1f}  max {max(self.ms):7.1f} ms  {self.rps:6.1f} req/s  "
            f"{queries:4.0f} q  {'ok' if self.passed else 'MISS'}"
            + (f"  errors {len(self.errors)}: {self.errors[0]}" if self.errors else "")
        )


# --- the scale company -------------------------------------------------------------------


def marker(database: str) -> dict[str, Any] | None:
    """The metadata of the seed_scale load of `database` (its pghistory context row), with
    the preset whose sizes it matches."""
    from django.db import connection

    from apps.core.management.commands.seed_scale import JOB, PRESETS

    connection.close()
    connection.settings_dict["NAME"] = database
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pghistory_context') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(
            "SELECT metadata, created_at FROM pghistory_context WHERE metadata->>'job' = %s "
            "ORDER BY created_at LIMIT 1",
            [JOB],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    metadata = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    sizes = metadata.get("sizes", {})
    preset = next((name for name, s in PRESETS.items() if s == sizes), "custom")
    return {**metadata, "preset": preset, "loaded_at": row[1].isoformat()}


def find_users() -> dict[str, Any]:
    from apps.accounts.choices import Role
    from apps.accounts.models import User

    users = {role: User.objects.filter(username=name).first() for role, name in ROLES.items()}
    missing = [ROLES[role] for role, user in users.items() if user is None]
    if missing:
        raise SystemExit(f"no {', '.join(missing)}: load the data with manage.py seed_scale")
    supervisor = users["supervisor"]
    users["rep"] = (
        User.objects.filter(role=Role.REP, is_active=True, org_unit_id=supervisor.org_unit_id)
        .order_by("username")
        .first()
    )
    if users["rep"] is None:
        raise SystemExit(f"no rep in the team of {supervisor.username}")
    return users


def issue_tokens(users: dict[str, Any]) -> dict[str, str]:
    """An API token per role (and per client: the per-token rate limit is not measured)."""
    from apps.api.services import token_issue

    tokens: dict[str, str] = {}
    for role, user in users.items():
        _token, raw = token_issue(user=user, name=TOKEN_NAME, days=1)
        tokens[role] = raw
    return tokens


def drop_tokens(users: dict[str, Any]) -> None:
    from apps.api.models import ApiToken

    ApiToken.objects.filter(user__in=list(users.values()), name=TOKEN_NAME).delete()


def row_counts() -> dict[str, int]:
    from django.db import connection

    tables = [
        "accounts_user", "customers_customer", "customers_contact", "leads_lead",
        "opportunities_opportunity", "opportunities_stagechange", "visits_visitplan",
        "visits_visitrecord", "contracts_contract", "receivables_installment",
        "receivables_payment", "receivables_allocation", "receivables_penaltyaccrual",
        "approvals_approvalrequest", "approvals_approvaltask", "goals_target",
        "incentives_scorecard", "incentives_commissionstatement",
        "notifications_notification",
    ]  # fmt: skip
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if cursor.fetchone()[0]:
                cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (constant names)
                counts[table] = cursor.fetchone()[0]
    return counts


# --- the machine -------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    from django.db import connection

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "postgres": postgres,
        "shared_buffers": shared_buffers,
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
        "load_at_bench_start": os.environ.get("BENCH_LOADAVG_START", ""),
        "load_at_driver_start": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def worker_memory(master: int) -> dict[str, Any]:
    """Peak (VmHWM) and current (VmRSS) memory of gunicorn's master and workers, in MiB."""

    def status(pid: int) -> dict[str, int]:
        values = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _sep, rest = line.partition(":")
            if key in {"VmHWM", "VmRSS"}:
                values[key] = int(rest.split()[0])
        return values

    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            workers.append(int(entry.name))
    per_worker = {}
    for pid in sorted(workers):
        try:
            values = status(pid)
        except OSError:
            continue
        per_worker[pid] = {k: round(v / 1024, 1) for k, v in values.items()}
    master_values = status(master)
    return {
        "master_hwm_mib": round(master_values.get("VmHWM", 0) / 1024, 1),
        "workers": per_worker,
        "sum_hwm_mib": round(sum(w["VmHWM"] for w in per_worker.values()), 1),
        "max_hwm_mib": max((w["VmHWM"] for w in per_worker.values()), default=0.0),
    }


# --- measuring ---------------------------------------------------------------------------


def measure(
    server: Server, case: Case, auth: Auth, *, clients: int, total: int, serial: int,
    workers: int, case_seconds: float, think_ms: float = 0.0,
) -> CaseResult:  # fmt: skip
    result = CaseResult(case.kind, case.name, case.role, case.path, case.limit_ms)
    # Warm every worker (URL resolvers, templates, the connection, the cache) first.
    run_concurrent(server, case.path, auth=auth, clients=workers, total=workers * 2,
                   max_seconds=120)  # fmt: skip
    began = time.monotonic()
    for n in range(serial):
        # A slow case stops after SERIAL_SECONDS (but not before two requests).
        if n >= 2 and time.monotonic() - began > SERIAL_SECONDS:
            break
        answer = server.request(case.path, auth=auth)
        if answer.status != 200:
            result.errors.append(f"HTTP {answer.status}")
            return result
        result.serial_ms.append(answer.ms)
        if answer.db_ms is not None:
            result.serial_db_ms.append(answer.db_ms)
        result.size = answer.size
    run = run_concurrent(server, case.path, auth=auth, clients=clients, total=total,
                         max_seconds=case_seconds, think_ms=think_ms)  # fmt: skip
    ok = [a for a in run.answers if a.status == 200]
    result.ms = [a.ms for a in ok]
    result.rps = run.rps
    result.queries = [a.queries for a in ok if a.queries is not None]
    result.db_ms = [a.db_ms for a in ok if a.db_ms is not None]
    result.errors = run.errors
    return result


def capacity(
    server: Server, all_cases: list[Case], tokens: dict, sessions: dict, args: Any
) -> dict[str, Any]:
    """`args.clients` clients with no think time over a random mix of the list cases, for
    `args.capacity_seconds`: the requests a second the machine serves when saturated."""
    targets = [
        (c.path, Auth(token=tokens[c.role]) if c.api else sessions[c.role])
        for c in all_cases
        if c.kind == "list"
    ]
    if not targets:
        return {}
    run = run_mixed(server, targets, clients=args.clients, seconds=args.capacity_seconds)
    ms = sorted(a.ms for a in run.answers if a.status == 200)
    found = {
        "clients": args.clients, "seconds": round(run.seconds, 1), "cases": len(targets),
        "requests": len(ms), "rps": round(run.rps, 1), "errors": len(run.errors),
        "p50": round(statistics.median(ms), 1) if ms else None,
        "p95": round(ms[max(0, int(len(ms) * 0.95) - 1)], 1) if ms else None,
    }  # fmt: skip
    log(f"capacity: {found}")
    return found


def measure_export(server: Server, case: Case, auth: Auth) -> CaseResult:
    result = CaseResult(case.kind, case.name, case.role, case.path, case.limit_ms)
    for _ in range(EXPORT_RUNS):
        answer = server.request(case.path, auth=auth)
        kind = answer.headers.get("content-type", "")
        if answer.status != 200 or "spreadsheet" not in kind:
            result.errors.append(f"HTTP {answer.status} {kind}")
            return result
        result.ms.append(answer.ms)
        result.serial_ms.append(answer.ms)
        result.size = answer.size
        if answer.queries is not None:
            result.queries.append(answer.queries)
        if answer.db_ms is not None:
            result.db_ms.append(answer.db_ms)
            result.serial_db_ms.append(answer.db_ms)
    return result


def psql_command() -> tuple[list[str], dict[str, str]] | None:
    from django.db import connection

    binary = shutil.which("psql")
    if not binary:
        return None
    s = connection.settings_dict
    env = {**os.environ, "PGOPTIONS": "-c jit=off"}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args = [binary, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", s["NAME"]]
    if s.get("HOST"):
        args += ["-h", str(s["HOST"])]
    if s.get("PORT"):
        args += ["-p", str(s["PORT"])]
    if s.get("USER"):
        args += ["-U", str(s["USER"])]
    return args, env


def time_raw(sql: str) -> float:
    """Best of RAW_RUNS of `sql` in milliseconds: psql's ``\\timing`` (the statement, its
    rows sent to the client), or the same through psycopg when psql is not installed. The
    session has JIT off, as the application's connections do (salesctl/settings.py)."""
    from django.db import connection

    command = psql_command()
    if command is None:
        best = float("inf")
        with connection.cursor() as cursor:
            for _ in range(RAW_RUNS):
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                best = min(best, (time.perf_counter() - started) * 1000)
        return best
    args, env = command
    script = "\\timing on\n\\o /dev/null\n" + "".join(f"{sql};\n" for _ in range(RAW_RUNS))
    done = subprocess.run(  # noqa: S603 (psql and our own statements)
        args, input=script, capture_output=True, text=True, env=env, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[:300])
    times = [
        float(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("Time:")
    ]
    if len(times) != RAW_RUNS:
        raise RuntimeError(f"psql gave {len(times)} timings: {done.stdout[:200]}")
    return min(times)


def raw_figures(server: Server, case: Case, auth: Auth, result: CaseResult) -> None:
    from django.db import connection

    raw = case.raw
    assert raw is not None
    result.raw_covers = raw.covers
    try:
        result.raw_ms = time_raw(raw.sql)
        if raw.check is not None:
            with connection.cursor() as cursor:
                cursor.execute(raw.sql)
                rows = cursor.fetchall()
            body = json.loads(server.request(case.path, auth=auth, keep_body=True).body)
            ours, theirs = raw.check(body, rows)
            result.raw_check = (
                "same" if tuple(ours) == tuple(theirs) else f"differs: ours {ours}, SQL {theirs}"
            )
    except Exception as exc:  # a broken statement is a row of the report
        result.raw_error = f"{type(exc).__name__}: {exc}"[:300]


# --- the run -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from apps.leads.periods import period_bounds
    from bench import suite_jobs, suite_report

    began = time.perf_counter()
    connection.close()
    connection.settings_dict["NAME"] = args.database
    info = {"database": args.database, "marker": marker(args.database), "machine": machine()}
    log(f"bench on {args.database}: {info['marker']}")
    users = find_users()
    info["rows"] = row_counts()
    info["settings"] = {
        "clients": args.clients, "requests": args.requests,
        "report_requests": args.report_requests, "serial": args.serial,
        "case_seconds": args.case_seconds, "think_ms": args.think_ms,
        "workers": args.workers, "gunicorn": os.environ.get("BENCH_GUNICORN_ARGS", ""),
    }  # fmt: skip

    now = timezone.now()
    today = timezone.localdate(now)
    dates = Dates(
        today=today, d90=today - timedelta(days=89), year_start=today.replace(month=1, day=1),
        year_end=today.replace(month=12, day=31),
        week_start=today - timedelta(days=today.weekday()), now=now, bounds=period_bounds,
    )  # fmt: skip
    all_cases = cases(dates, users["rep"].pk)
    if args.only:
        all_cases = [c for c in all_cases if args.only.lower() in f"{c.kind} {c.name}".lower()]

    server = Server(args.base_url)
    server.wait_ready()
    tokens = issue_tokens(users)
    sessions = {role: server.login(user.username, PASSWORD) for role, user in users.items()
                if role != "erp"}  # fmt: skip
    results: list[CaseResult] = []
    try:
        for case in all_cases:
            auth = Auth(token=tokens[case.role]) if case.api else sessions[case.role]
            if case.kind == "export":
                result = measure_export(server, case, auth)
            else:
                total = args.requests if case.kind == "list" else args.report_requests
                result = measure(server, case, auth, clients=args.clients, total=total,
                                 serial=args.serial, workers=args.workers,
                                 case_seconds=args.case_seconds,
                                 think_ms=args.think_ms)  # fmt: skip
                if case.raw is not None and not result.errors:
                    raw_figures(server, case, auth, result)
            results.append(result)
            log(result.line())
            if result.raw_ms is not None or result.raw_error:
                ratio = f"{result.ratio:.1f}×" if result.ratio else "—"
                log(f"       raw SQL {result.raw_ms or 0:.1f} ms, ours/raw {ratio}, "
                    f"check {result.raw_check or result.raw_error}")  # fmt: skip
        if args.capacity_seconds > 0:
            info["capacity"] = capacity(server, all_cases, tokens, sessions, args)
        memory = worker_memory(args.gunicorn_pid) if args.gunicorn_pid else {}
        log(f"gunicorn memory: {memory}")
    finally:
        drop_tokens(users)
        for auth in sessions.values():
            server.logout(auth)
    http_seconds = time.perf_counter() - began

    jobs: list[Any] = []
    if args.jobs_database:
        log(f"jobs on {args.jobs_database} (each twice, rolled back)")
        jobs = suite_jobs.run_jobs(args.jobs_database, budget_s=args.jobs_budget, log=log)
    info["jobs_database"] = args.jobs_database
    info["jobs_skipped"] = args.jobs_skipped
    info["http_seconds"] = round(http_seconds, 1)
    info["driver_seconds"] = round(time.perf_counter() - began, 1)
    info["bench_started"] = os.environ.get("BENCH_STARTED_AT", "")
    info["load_seconds"] = os.environ.get("BENCH_LOAD_SECONDS", "")
    info["date"] = timezone.localtime(now).strftime("%Y-%m-%d %H:%M %Z")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "info": info,
                    "memory": memory,
                    "cases": [asdict(r) for r in results],
                    "jobs": [asdict(j) for j in jobs],
                },
                default=str,
                indent=1,
            )
        )
    text = suite_report.render(info=info, results=results, memory=memory, jobs=jobs)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
        log(f"wrote {args.output}")
    missed = [r for r in results if not r.passed] + [j for j in jobs if not j.passed]
    log(f"{len(results)} cases, {len(jobs)} jobs, {len(missed)} over their limit; "
        f"driver {info['driver_seconds']:.0f} s")  # fmt: skip


def render_again(source: str, output: str) -> None:
    """docs/benchmarks.md from the raw results of an earlier run (`run --json`)."""
    from bench import suite_report
    from bench.suite_jobs import JobResult

    saved = json.loads(Path(source).read_text())
    results = [CaseResult(**case) for case in saved["cases"]]
    jobs = [JobResult(**job) for job in saved["jobs"]]
    text = suite_report.render(
        info=saved["info"], results=results, memory=saved["memory"], jobs=jobs
    )
    Path(output).write_text(text)
    log(f"wrote {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mark = sub.add_parser("marker", help="print the preset, seed and time of the load")
    mark.add_argument("--database", required=True)
    go = sub.add_parser("run", help="run the suite against the bench's gunicorn")
    go.add_argument("--database", required=True)
    go.add_argument("--base-url", required=True)
    go.add_argument("--gunicorn-pid", type=int, default=0)
    go.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 3)))
    go.add_argument("--jobs-database", default="")
    go.add_argument("--jobs-skipped", default="", help="why the jobs are not timed")
    go.add_argument(
        "--jobs-budget", type=float, default=300.0, help="seconds after which no job starts"
    )
    go.add_argument("--clients", type=int, default=20)
    go.add_argument("--requests", type=int, default=60, help="per list case")
    go.add_argument("--report-requests", type=int, default=20, help="per report case")
    go.add_argument("--serial", type=int, default=5, help="one-at-a-time requests per case")
    go.add_argument(
        "--case-seconds", type=float, default=30.0,
        help="no new request of a case's concurrent part after this (the running ones end)",
    )  # fmt: skip
    go.add_argument(
        "--think-ms", type=float, default=1000.0,
        help="each client waits 0.5–1.5 × this between its requests (0: none, a closed loop)",
    )  # fmt: skip
    go.add_argument(
        "--capacity-seconds", type=float, default=20.0,
        help="the capacity probe: the clients without think time over the mix of lists (0: off)",
    )  # fmt: skip
    go.add_argument("--only", default="", help="only the cases whose kind or name has this")
    go.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    go.add_argument("--json", default="")
    child = sub.add_parser("jobs", help="time the beat entries read on stdin (for run)")
    child.add_argument("--database", required=True)
    again = sub.add_parser("render", help="write the report again from a --json file")
    again.add_argument("--json", required=True)
    again.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    if args.command == "render":
        render_again(args.json, args.output)
        return
    if args.command == "jobs":
        import django

        django.setup()
        from bench.suite_jobs import serve

        serve(args.database)
        return
    if args.command == "marker":
        import django

        django.setup()
        from django.db import OperationalError

        try:
            found = marker(args.database)
        except OperationalError:
            print("absent")  # no such database (or no server: the caller finds out)
            return
        print(f"{found['preset']} {found.get('seed')} {found.get('now')}" if found else "empty")
        return
    run(args)


if __name__ == "__main__":
    main()
