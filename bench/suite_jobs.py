"""The nightly and periodic jobs of `make bench` (bench/suite.py): every entry of
CELERY_BEAT_SCHEDULE, its task's function called in this process as the Celery worker calls
it, twice (tonight's run, then a second run at once, which should find little or nothing left
to do), inside a transaction rolled back at the end.

The rollback keeps the bench database as the load left it, so that a second `make bench`
measures the same work; what the jobs hand to `transaction.on_commit` (e-mails, webhooks, the
tasks they queue) therefore never runs, and a sub-task a job calls with ``.delay()`` runs
inline (CELERY_TASK_ALWAYS_EAGER in bench/settings_bench.py), its time counted in the job's.

Limits: those the earlier issues set for the job (the per-issue benchmarks' docstrings), else
10 s.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SUITE = Path(__file__).resolve().parent / "suite.py"

DEFAULT_LIMIT_S = 10.0
# beat entry → (limit of the first run, of the second run, where the limit comes from)
LIMITS_S: dict[str, tuple[float, float, str]] = {
    "customers-release-pool-due": (10.0, 10.0, "issue 4"),
    "visits-mark-missed-plans": (10.0, 10.0, "issue 5"),
    "opportunities-flag-stuck": (10.0, 10.0, "issue 5"),
    "receivables-daily-run": (30.0, 5.0, "issue 6"),
    "goals-snapshot-attainment": (60.0, 60.0, "issue 7"),
    "incentives-compute-scorecards": (15.0, 15.0, "issue 8: 30 s with the commissions"),
    "incentives-compute-commissions": (15.0, 15.0, "issue 8: 30 s with the scorecards"),
}


class _Rollback(Exception):
    pass


@dataclass
class JobResult:
    entry: str
    task: str
    schedule: str
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    error: str = ""
    timed_out: float = 0.0

    @property
    def limits(self) -> tuple[float, float, str]:
        return LIMITS_S.get(self.entry, (DEFAULT_LIMIT_S, DEFAULT_LIMIT_S, "default"))

    @property
    def passed(self) -> bool:
        first, second, _source = self.limits
        if self.error or len(self.seconds) < 2:
            return False
        return self.seconds[0] < first and self.seconds[1] < second


def _schedule_text(schedule: Any) -> str:
    if isinstance(schedule, int | float):
        return f"every {schedule:g} s"
    fields = ("minute", "hour", "day_of_week", "day_of_month")
    parts = [f"{name} {getattr(schedule, f'_orig_{name}', '*')}" for name in fields]
    return "cron " + ", ".join(p for p in parts if not p.endswith(" *"))


def _summary(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def run_one(database: str, entry: str) -> JobResult:
    """Beat entry `entry`'s task twice against `database` (the default connection pointed
    there), in one transaction rolled back afterwards."""
    from django.conf import settings
    from django.db import connection, transaction

    from salesctl.celery import app

    app.loader.import_default_modules()
    connection.close()
    connection.settings_dict["NAME"] = database
    spec = settings.CELERY_BEAT_SCHEDULE[entry]
    result = JobResult(entry, spec["task"], _schedule_text(spec["schedule"]))
    task = app.tasks.get(spec["task"])
    if task is None:
        result.error = "task not registered"
        return result
    counts: list[int] = []

    def counter(execute, sql, params, many, context):
        if counts:  # not the connection's own set-up statements
            counts[-1] += 1
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(counter), transaction.atomic():
            for _run in (1, 2):
                counts.append(0)
                started = time.perf_counter()
                value = task()
                result.seconds.append(time.perf_counter() - started)
                result.queries.append(counts[-1])
                result.results.append(_summary(value))
            raise _Rollback
    except _Rollback:
        pass
    except Exception as exc:  # a failing job is a row of the report, not the end
        result.error = f"{type(exc).__name__}: {exc}"[:200]
    return result


def timeout_of(entry: str) -> float:
    """How long both runs of `entry` may take before the job is stopped: three times its
    first run's limit, at least 30 s."""
    first, _second, _source = LIMITS_S.get(entry, (DEFAULT_LIMIT_S, DEFAULT_LIMIT_S, ""))
    return max(3 * first, 30.0)


class _Child:
    """`suite.py jobs --database D`: a process that reads beat entries on its standard input
    and answers each with one JSON line once both runs are done. Started again after a job
    was stopped."""

    def __init__(self, database: str) -> None:
        command = [sys.executable, str(SUITE), "jobs", "--database", database]
        self.process = subprocess.Popen(  # noqa: S603 (our own script, our own arguments)
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def ask(self, entry: str, timeout: float) -> dict | None:
        """The child's answer for `entry`, or None when it took longer than `timeout` (then
        the child is killed: Postgres rolls its transaction back when the connection drops)."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(entry + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.stop()
                    return None
                line = self.process.stdout.readline()
                if not line:
                    raise RuntimeError("the jobs' process ended")
                if line.startswith("{"):
                    return json.loads(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def serve(database: str) -> None:
    """The child's loop (see `_Child`)."""
    for line in sys.stdin:
        entry = line.strip()
        if entry:
            result = run_one(database, entry)
            print(json.dumps(asdict(result), default=str), flush=True)


def run_jobs(database: str, *, budget_s: float, log: Any = print) -> list[JobResult]:
    """Every beat entry, in a child process (`_Child`) so that a job running far over its
    limit can be stopped (`timeout_of`) and the suite stays within its time; entries not
    started within `budget_s` are listed as not run."""
    from django.conf import settings

    began = time.monotonic()
    results: list[JobResult] = []
    child: _Child | None = None
    try:
        for entry, spec in settings.CELERY_BEAT_SCHEDULE.items():
            result = JobResult(entry, spec["task"], _schedule_text(spec["schedule"]))
            results.append(result)
            if time.monotonic() - began > budget_s:
                result.error = f"not run: the jobs' budget of {budget_s:.0f} s was spent"
                log(f"  job {entry:34} {result.error}")
                continue
            limit = timeout_of(entry)
            child = child or _Child(database)
            try:
                found = child.ask(entry, limit)
            except (RuntimeError, OSError) as exc:
                child.stop()
                child = None
                result.error = f"{type(exc).__name__}: {exc}"[:200]
                found = {}
            if found is None:
                child = None
                result.error = f"stopped after {limit:.0f} s (both runs together)"
                result.timed_out = limit
            elif found:
                result.seconds = found["seconds"]
                result.queries = found["queries"]
                result.results = found["results"]
                result.error = found["error"]
            runs = " / ".join(f"{s:.2f} s" for s in result.seconds)
            log(f"  job {entry:34} {runs:20} {result.error or result.results[:1]}")
    finally:
        if child is not None:
            child.stop()
    return results
