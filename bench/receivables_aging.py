"""Benchmark of the receivables aging (issue 6 "Figures": aging for the whole company under
500 ms with 1,000,000 installments).

Over the scale database (``manage.py seed_scale --database-name salesctl_scale --add
contracts,receivables``): `apps.receivables.figures.aging` for a finance user (the whole
company: the target) grouped by company, team and rep, and for comparison the same for a
regional manager (a department) and a supervisor (a team), and the first page of customers
for finance. p50/p95/max over ``--runs`` runs after one warming call, the queries each
report issues, then EXPLAIN (ANALYZE, BUFFERS) of the whole company's queries. Reads only.

    .venv/bin/python bench/receivables_aging.py [--database salesctl_scale] [--runs 20]
        [--no-explain]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DATABASE,
    explain,
    figures,
    percentile,
    setup_django,
    timed,
)

TARGET_MS = 500.0
GROUPINGS = ("company", "team", "rep")


def _users():
    """(label, user) of finance (the whole company), a regional manager and a supervisor."""
    from apps.accounts.choices import OrgUnitKind, Role
    from apps.accounts.models import User

    active = User.objects.filter(is_active=True).order_by("id")
    finance = active.filter(role=Role.FINANCE).first() or active.filter(role=Role.ADMIN).first()
    if finance is None:
        sys.exit("no finance or admin user: load the scale company first")
    found = [("finance (whole company)", finance)]
    manager = active.filter(role=Role.MANAGER, org_unit__kind=OrgUnitKind.DEPARTMENT).first()
    if manager is not None:
        found.append((f"manager {manager.username} (a region)", manager))
    supervisor = active.filter(role=Role.SUPERVISOR, org_unit__kind=OrgUnitKind.TEAM).first()
    if supervisor is not None:
        found.append((f"supervisor {supervisor.username} (a team)", supervisor))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    setup_django(args.database)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    try:
        from apps.receivables.figures import aging
    except ImportError:
        sys.exit("apps.receivables.figures.aging is not there yet")
    from apps.receivables.choices import OPEN_STATUSES
    from apps.receivables.models import Installment

    total = Installment.objects.count()
    open_count = Installment.objects.filter(status__in=OPEN_STATUSES).count()
    print(f"installments: {total:,} ({open_count:,} open)")
    verdicts = []
    company_queries: list[dict] = []
    for label, user in _users():
        for group_by in (*GROUPINGS, "customer") if "finance" in label else GROUPINGS:
            aging(user=user, group_by=group_by)  # warm
            ms = []
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as captured:
                    elapsed, report = timed(lambda u=user, g=group_by: aging(user=u, group_by=g))
                ms.append(elapsed)
            queries = len(captured.captured_queries)
            print(
                f"{label:<34} by {group_by:<8}: {figures(ms)}  {queries} queries, "
                f"{len(report.rows)} rows, open {report.total.open:,.2f}"
            )
            if "finance" in label and group_by in GROUPINGS:
                verdicts.append((group_by, percentile(ms, 0.95)))
                if group_by == "company":
                    company_queries = captured.captured_queries
    for group_by, p95 in verdicts:
        verdict = "meets" if p95 < TARGET_MS else "MISSES"
        print(f"whole company by {group_by}: p95 {p95:.1f} ms {verdict} the target of "
              f"{TARGET_MS:.0f} ms")  # fmt: skip
    if args.no_explain:
        return
    for query in company_queries:
        print(f"\n--- whole company, by company: {query['sql'][:200]}…")
        print(explain(query["sql"]))


if __name__ == "__main__":
    main()
