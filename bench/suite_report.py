"""docs/benchmarks.md of `make bench` (bench/suite.py): the machine, the data, then a table per
kind of case, the raw-SQL comparison of the reports, the workers' memory and the jobs."""

from __future__ import annotations

import statistics
from typing import Any

from bench.suite_cases import EXPORT_MS, LIST_MS, REPORT_MS
from bench.suite_jobs import DEFAULT_LIMIT_S

MEMORY_LIMIT_MIB = 250.0
RAW_RATIO_LIMIT = 2.0


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _verdict(ok: bool) -> str:
    return "pass" if ok else "**miss**"


def _case_rows(results: list[Any]) -> list[str]:
    rows = [
        "| case | role | 1 client p50 | 1 client max | its DB ms | p50 | p95 | max | req/s "
        "| queries | limit | |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if not r.ms:
            rows.append(f"| {r.name} | {r.role} | — | — | — | — | — | — | — | — | "
                        f"{r.limit_ms:.0f} | **error** {'; '.join(r.errors[:2])} |")  # fmt: skip
            continue
        queries = f"{statistics.median(r.queries):.0f}" if r.queries else "—"
        db_ms = _ms(statistics.median(r.serial_db_ms)) if r.serial_db_ms else "—"
        note = f" ({len(r.errors)} errors: {r.errors[0]})" if r.errors else ""
        rows.append(
            f"| {r.name} | {r.role} | {_ms(statistics.median(r.serial_ms))} | "
            f"{_ms(max(r.serial_ms)) if r.serial_ms else '—'} | {db_ms} | "
            f"{_ms(statistics.median(r.ms))} | {_ms(r.p95)} | {_ms(max(r.ms))} | "
            f"{r.rps:.1f} | {queries} | {r.limit_ms:.0f} | {_verdict(r.passed)}{note} |"
        )
    return rows


def _export_rows(results: list[Any]) -> list[str]:
    rows = [
        "| export | role | p50 | max | its DB ms | queries | size KiB | limit | |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if not r.ms:
            rows.append(f"| {r.name} | {r.role} | — | — | — | — | — | {r.limit_ms:.0f} | "
                        f"**error** {'; '.join(r.errors[:2])} |")  # fmt: skip
            continue
        db_ms = _ms(statistics.median(r.serial_db_ms)) if r.serial_db_ms else "—"
        queries = f"{statistics.median(r.queries):.0f}" if r.queries else "—"
        rows.append(
            f"| {r.name} | {r.role} | {_ms(statistics.median(r.ms))} | {_ms(max(r.ms))} | "
            f"{db_ms} | {queries} | {r.size // 1024:,} | {r.limit_ms:.0f} | "
            f"{_verdict(r.passed)} |"
        )
    return rows


def _raw_rows(results: list[Any]) -> list[str]:
    rows = [
        "| report | ours, 1 client p50 | our queries' time p50 | hand-written SQL (best of 3) "
        "| ours / SQL | our queries / SQL | same figures | what the SQL computes |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        if r.raw_ms is None and not r.raw_error:
            continue
        if r.raw_error:
            rows.append(f"| {r.name} | — | — | — | — | — | **error** {r.raw_error} | "
                        f"{r.raw_covers} |")  # fmt: skip
            continue
        ratio = r.ratio
        db_ratio = r.db_ratio
        ratio_text = "—" if ratio is None else f"{ratio:.1f}×"
        if ratio is not None and ratio >= RAW_RATIO_LIMIT:
            ratio_text = f"**{ratio_text}**"
        check = r.raw_check or "not checked"
        if check.startswith("differs"):
            check = f"**{check}**"
        rows.append(
            f"| {r.name} | {_ms(statistics.median(r.serial_ms))} | "
            f"{_ms(statistics.median(r.serial_db_ms)) if r.serial_db_ms else '—'} | "
            f"{_ms(r.raw_ms)} | "
            f"{ratio_text} | {'—' if db_ratio is None else f'{db_ratio:.1f}×'} | {check} | "
            f"{r.raw_covers} |"
        )
    return rows


def _code(text: str) -> str:
    return f"`{text.replace('|', '/')}`"


def _job_rows(jobs: list[Any]) -> list[str]:
    rows = [
        "| beat entry | schedule | 1st run | 2nd run | queries (1st / 2nd) | limit (1st / 2nd) "
        "| | what the 1st run did → the 2nd |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for j in jobs:
        first, second, source = j.limits
        if j.error:
            rows.append(f"| {j.entry} | {j.schedule} | — | — | — | {first:g} / {second:g} s "
                        f"({source}) | **miss** | {j.error} |")  # fmt: skip
            continue
        runs = [f"{s:.2f} s" for s in j.seconds] + ["—", "—"]
        queries = " / ".join(str(q) for q in j.queries)
        rows.append(
            f"| {j.entry} | {j.schedule} | {runs[0]} | {runs[1]} | {queries} | "
            f"{first:g} / {second:g} s ({source}) | {_verdict(j.passed)} | "
            f"{' → '.join(_code(r) for r in j.results)} |"
        )
    return rows


def _think(s: dict) -> str:
    think = s.get("think_ms") or 0
    return f" ({think / 1000:g} s think time)" if think else " (no think time)"


def render(*, info: dict, results: list[Any], memory: dict, jobs: list[Any]) -> str:
    m = info["machine"]
    mark = info.get("marker") or {}
    s = info["settings"]
    lists = [r for r in results if r.kind == "list"]
    reports = [r for r in results if r.kind == "report"]
    exports = [r for r in results if r.kind == "export"]
    ratios = [r.ratio for r in reports if r.ratio is not None]
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (scripts/bench.sh → bench/suite.py); do not edit by hand. "
        "Run it again on a fresh clone to get this machine's figures "
        "(`BENCH_PRESET=small make bench` for a quick one).",
        "",
        f"- **Date**: {info['date']}",
        f"- **Machine**: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB RAM; Linux "
        f"{m['kernel']}; PostgreSQL {m['postgres']} (shared_buffers {m['shared_buffers']}); "
        f"Python {m['python']}",
        f"- **Load average** (1, 5, 15 min) at the start of `make bench`: "
        f"{m['load_at_bench_start'] or '—'}; when the driver started: "
        f"{m['load_at_driver_start']}. Postgres, Redis, gunicorn and the clients share the "
        "machine.",
        f"- **Data**: database `{info['database']}`, preset **{mark.get('preset', '?')}**, "
        f"seed {mark.get('seed', '?')}, data as of {mark.get('now', '?')} (loaded "
        f"{mark.get('loaded_at', '?')}"
        + (f", in {info['load_seconds']} s by this run" if info.get("load_seconds") else "")
        + ")",
        f"- **Server**: gunicorn, {s['workers']} sync workers, production settings (DEBUG=0) "
        f"with the query count of apps/core/querycount.py; `{s['gunicorn']}`",
        f"- **Clients**: {s['clients']} at once, "
        + (
            f"each waiting 0.5–1.5 × {s['think_ms']:g} ms between its requests"
            if s.get("think_ms")
            else "each sending its next request as soon as the last is answered (no think time)"
        )
        + f"; {s['requests']} requests per list case, "
        f"{s['report_requests']} per report, after {s['serial']} one at a time "
        "(“1 client p50”: the service time without queueing) and a warm-up of every worker; "
        f"no new request of a case after {s.get('case_seconds', 30):g} s (a slow report gets "
        "fewer)",
        f"- **Time**: the driver took {info['driver_seconds']:.0f} s (HTTP part "
        f"{info['http_seconds']:.0f} s)",
        "",
        "## Row counts",
        "",
        "| table | rows |",
        "|---|---:|",
        *[f"| {table} | {count:,} |" for table, count in info["rows"].items()],
        "",
        "## Summary",
        "",
        "| figure | limit | result | |",
        "|---|---|---|---|",
    ]
    worst_list = max(lists, key=lambda r: r.p95, default=None)
    worst_report = max(reports, key=lambda r: r.p95, default=None)
    worst_export = max(exports, key=lambda r: max(r.ms or [0]), default=None)
    if worst_list:
        out.append(
            f"| list pages and endpoints, p95 at {s['clients']} clients{_think(s)} | "
            f"{LIST_MS:.0f} ms | "
            f"worst {_ms(worst_list.p95)} ms ({worst_list.name}, {worst_list.role}); "
            f"{sum(r.passed for r in lists)} of {len(lists)} within | "
            f"{_verdict(all(r.passed for r in lists))} |"
        )
    if lists or reports:
        alone = [r for r in lists + reports if r.serial_ms]
        within = [r for r in alone if statistics.median(r.serial_ms) < r.limit_ms]
        slow = sorted(alone, key=lambda r: -statistics.median(r.serial_ms))[:3]
        out.append(
            f"| for comparison: one request alone (1 client p50) | {LIST_MS:.0f} / "
            f"{REPORT_MS:.0f} ms | "
            f"{len(within)} of {len(alone)} within; slowest "
            + ", ".join(f"{r.name} ({r.role}) {_ms(statistics.median(r.serial_ms))} ms"
                        for r in slow)
            + " | |"
        )  # fmt: skip
    cap = info.get("capacity")
    if cap:
        out.append(
            f"| for comparison: capacity, {cap['clients']} clients without think time over the "
            f"mix of the {cap['cases']} lists for {cap['seconds']:g} s | — | "
            f"{cap['rps']:g} requests/s; p50 {_ms(cap['p50'])} ms, p95 {_ms(cap['p95'])} ms"
            + (f"; {cap['errors']} errors" if cap["errors"] else "")
            + " | |"
        )
    if worst_report:
        slowest = max(reports, key=lambda r: r.judged_ms)
        out.append(
            f"| reports, one request alone (slowest of {s['serial']}) | {REPORT_MS:.0f} ms | "
            f"worst {_ms(slowest.judged_ms)} ms ({slowest.name}); "
            f"{sum(r.passed for r in reports)} of {len(reports)} within | "
            f"{_verdict(all(r.passed for r in reports))} |"
        )
        out.append(
            f"| for comparison: reports, p95 at {s['clients']} clients{_think(s)} | — | worst "
            f"{_ms(worst_report.p95)} ms ({worst_report.name}); "
            f"{sum(r.p95 < r.limit_ms for r in reports if r.ms)} of {len(reports)} under "
            f"{REPORT_MS:.0f} ms | |"
        )
    if ratios:
        out.append(
            f"| reports / hand-written SQL (1 client) | {RAW_RATIO_LIMIT:g}× | worst "
            f"{max(ratios):.1f}×, median {statistics.median(ratios):.1f}× | "
            f"{_verdict(max(ratios) < RAW_RATIO_LIMIT)} |"
        )
    if worst_export:
        out.append(
            f"| Excel exports, slowest of {len(exports)} | {EXPORT_MS / 1000:g} s | "
            f"{_ms(max(worst_export.ms or [0]))} ms ({worst_export.name}) | "
            f"{_verdict(all(r.passed for r in exports))} |"
        )
    if memory:
        out.append(
            f"| gunicorn worker peak memory (VmHWM) | {MEMORY_LIMIT_MIB:.0f} MiB | largest "
            f"{memory['max_hwm_mib']:.0f} MiB, all workers {memory['sum_hwm_mib']:.0f} MiB | "
            f"{_verdict(memory['max_hwm_mib'] < MEMORY_LIMIT_MIB)} |"
        )
    if jobs:
        out.append(
            f"| nightly and periodic jobs | their issue's limit, else {DEFAULT_LIMIT_S:g} s | "
            f"{sum(j.passed for j in jobs)} of {len(jobs)} within | "
            f"{_verdict(all(j.passed for j in jobs))} |"
        )
    else:
        out.append(f"| nightly and periodic jobs | — | not timed: {info.get('jobs_skipped')} | |")
    out += [
        "",
        f"## List pages and endpoints (limit: p95 under {LIST_MS:.0f} ms)",
        "",
        "Times in milliseconds, measured by the clients (connect, request, whole body). "
        "“1 client p50”: one request at a time (the service time, no queueing), and *its DB "
        "ms* the summed time of the statements the server ran for it (X-Query-Ms); p50, p95, "
        f"max and req/s: {s['clients']} clients at once{_think(s)}. *queries*: the statements "
        "a request ran (X-Query-Count, median). "
        + (
            "A client is a user: it reads the page for 0.5–1.5 × the think time before its "
            "next request, so 20 clients offer about 20 requests a second, not the machine's "
            "whole capacity (the capacity probe in the summary measures that)."
            if s.get("think_ms")
            else "With no think time the clients keep every worker busy, "
            f"so p50 at {s['clients']} clients ≈ {s['clients']} ÷ req/s: queueing for "
            f"{s['workers']} workers on {m['cpus']} CPUs."
        ),
        "",
        *_case_rows(lists),
        "",
        f"## Reports (limit: under {REPORT_MS:.0f} ms alone)",
        "",
        f"Judged on “1 client max”, the slowest of the {s['serial']} requests sent one at a "
        "time: the issue sets the concurrency for the list pages and endpoints only (“every "
        "list page and endpoint p95 under 150 ms at 20 concurrent clients; every report under "
        f"500 ms”). The columns after it are {s['clients']} clients asking for the same report "
        "at once, each once or twice: all the requests arrive within about one think time, "
        "a burst no company of this size sends to one report.",
        "",
        *_case_rows(reports),
        "",
        "## Reports against the database's own limit",
        "",
        "For each report endpoint a hand-written SQL statement computes the same figures "
        "straight from the tables (bench/suite_cases.py), run through psql with `\\timing` "
        "(best of 3, JIT off as in the application). *ours / SQL*: the endpoint's "
        "one-client p50 (HTTP, authentication, the queries, serialisation) over the "
        "statement's time — the distance from what the database alone needs "
        f"(limit {RAW_RATIO_LIMIT:g}×). *our queries / SQL*: only our queries' time. "
        "*same figures*: the endpoint's totals compared with the statement's result.",
        "",
        *_raw_rows(reports),
        "",
        f"## Excel exports (limit: {EXPORT_MS / 1000:g} s, one at a time, 3 runs)",
        "",
        *_export_rows(exports),
        "",
        f"## Memory of the gunicorn workers (limit: {MEMORY_LIMIT_MIB:.0f} MiB a worker)",
        "",
    ]
    if memory:
        out += [
            "| process | peak (VmHWM) MiB | now (VmRSS) MiB |",
            "|---|---:|---:|",
            f"| master | {memory['master_hwm_mib']:.0f} | |",
            *[
                f"| worker {pid} | {w.get('VmHWM', 0):.0f} | {w.get('VmRSS', 0):.0f} |"
                for pid, w in memory["workers"].items()
            ],
            f"| all workers | {memory['sum_hwm_mib']:.0f} | |",
        ]
    else:
        out.append("Not measured (no gunicorn pid given).")
    out += ["", "## Jobs (CELERY_BEAT_SCHEDULE)", ""]
    if jobs:
        out += [
            f"Each task's function called in one process on `{info['jobs_database']}`, twice "
            "(tonight's run, then again at once), in a transaction rolled back afterwards "
            "(bench/suite_jobs.py): what the jobs defer to the commit (e-mails, webhooks) is "
            "not in the time.",
            "",
            *_job_rows(jobs),
        ]
    else:
        out.append(f"Not timed: {info.get('jobs_skipped') or 'no jobs database'}.")
    out.append("")
    return "\n".join(out)
