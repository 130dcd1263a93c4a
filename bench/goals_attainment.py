"""Benchmark of the target attainment report (issue 7 "Figures": company attainment for a year
with drill-down to every rep under 500 ms; any report's Excel export under 5 s, with 500 reps
and 36 months of documents).

Over the scale database (``manage.py seed_scale --database-name salesctl_scale``):
`apps.goals.attainment.attainment` for an admin or finance user over this year (all five
metrics), then the drill-down — a department, a team, a rep — and the Excel export of the
company year; p50/p95/max over ``--runs`` runs after one warming call, the queries each issues,
then EXPLAIN (ANALYZE, BUFFERS) of the company year's actuals. Reads only.

    .venv/bin/python bench/goals_attainment.py [--database salesctl_scale] [--runs 10]
        [--year 2026] [--no-explain]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DATABASE, explain, figures, percentile, setup_django, timed

TARGET_MS = 500.0
EXPORT_TARGET_MS = 5000.0


def _viewer():
    from apps.accounts.choices import Role
    from apps.accounts.models import User

    active = User.objects.filter(is_active=True).order_by("id")
    user = active.filter(role=Role.ADMIN).first() or active.filter(role=Role.FINANCE).first()
    if user is None:
        sys.exit("no admin or finance user: load the scale company first")
    return user


def _drill_path(user, report):
    """(label, unit_id, rep_id) of a department, a team under it and a rep of that team: the
    children with the largest actual of the first metric, as a manager would click."""
    from apps.goals import attainment

    metric = report.metrics[0]
    steps = []
    units = [row for row in report.rows if row.kind == "unit"]
    if not units:
        return steps
    department = max(units, key=lambda row: row.cells[metric].actual)
    steps.append((f"department {department.name}", department.key, None))
    below = attainment.attainment(user=user, period=report.period, unit_id=department.key)
    teams = [row for row in below.rows if row.kind == "unit"]
    if teams:
        team = max(teams, key=lambda row: row.cells[metric].actual)
        steps.append((f"team {team.name}", team.key, None))
        below = attainment.attainment(user=user, period=report.period, unit_id=team.key)
    reps = [row for row in below.rows if row.kind == "rep"]
    if reps:
        rep = max(reps, key=lambda row: row.cells[metric].actual)
        steps.append((f"rep {rep.name}", rep.unit_id, rep.key))
    return steps


def _measure(label: str, call, runs: int) -> tuple[float, object, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm
    ms: list[float] = []
    result, captured_queries = None, []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            elapsed, result = timed(call)
        ms.append(elapsed)
        captured_queries = captured.captured_queries
    print(f"{label:<44}: {figures(ms)}  {len(captured_queries)} queries")
    return percentile(ms, 0.95), result, captured_queries


def _check_exact(period) -> None:
    """The year's actuals with the rollup against the documents alone (`compute_live`): the
    same figures per rep, unit and rep in unit, to the cent, or the benchmark fails."""
    from apps.goals import actuals
    from apps.goals.choices import Metric

    units = actuals.unit_ancestors()
    for metric in Metric.values:
        cached = actuals.compute(metric, period.start, period.end, units=units)
        live = actuals.compute_live(metric, period.start, period.end, units=units)
        same = (cached.by_rep_unit, cached.by_unit, cached.total) == (
            live.by_rep_unit, live.by_unit, live.total,
        )  # fmt: skip
        if not same:
            sys.exit(f"{metric}: the rollup differs from the documents")
    print("every metric of the year: identical to the live computation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--year", type=int, default=None, help="default: this year")
    parser.add_argument("--no-explain", action="store_true")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--warm", action="store_true", help="run the nightly refresh first")
    start.add_argument("--cold", action="store_true", help="empty the rollup first")
    args = parser.parse_args()
    setup_django(args.database)

    from django.utils import timezone

    from apps.goals import attainment, exports, rollup
    from apps.goals.models import ActualMonth, ActualMonthState
    from apps.goals.periods import period_of

    user = _viewer()
    day = date(args.year, 6, 30) if args.year else timezone.localdate()
    year = period_of("year", day)
    print(f"viewer {user.username} ({user.role}), period {year.start} – {year.end}")

    def company():
        return attainment.attainment(user=user, period=year)

    if args.cold:
        ActualMonthState.objects.all().delete()
        ActualMonth.objects.all().delete()
        elapsed, _report = timed(company)
        print(f"{'company year, empty rollup (first call)':<44}: {elapsed:8.2f} ms")
    if args.warm:
        elapsed, written = timed(rollup.refresh_recent)
        print(f"{'nightly refresh (refresh_recent)':<44}: {elapsed:8.2f} ms  months {written}")

    p95, report, company_queries = _measure("company year, all metrics", company, args.runs)
    verdicts = [("company year", p95, TARGET_MS)]
    print(f"  {len(report.rows)} rows; " + ", ".join(
        f"{metric} {cell.actual:,.2f}" for metric, cell in report.totals.items()
    ))  # fmt: skip
    for label, unit_id, rep_id in _drill_path(user, report):
        p95, _result, _queries = _measure(
            f"drill to {label}"[:44],
            lambda u=unit_id, r=rep_id: attainment.attainment(
                user=user, period=year, unit_id=u, rep_id=r
            ),
            args.runs,
        )
        verdicts.append((label, p95, TARGET_MS))

    def export():
        return exports.attainment_workbook(company())

    p95, content, _queries = _measure("Excel export of the company year", export,
                                      max(1, args.runs // 2))  # fmt: skip
    print(f"  {len(content):,} bytes")
    verdicts.append(("Excel export", p95, EXPORT_TARGET_MS))
    for label, p95, target in verdicts:
        verdict = "meets" if p95 < target else "MISSES"
        print(f"{label}: p95 {p95:.1f} ms {verdict} the target of {target:.0f} ms")
    _check_exact(year)
    if args.no_explain:
        return
    for query in company_queries:
        if "goals_unitmembership m" not in query["sql"]:
            continue
        print(f"\n--- company year: {query['sql'][:160]}…")
        print(explain(query["sql"]))


if __name__ == "__main__":
    main()
