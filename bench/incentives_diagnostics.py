"""Benchmark of the process diagnostics and the competitor analysis (issue 8 "Figures": process
diagnostics over 300,000 opportunities and their approvals under 1 s).

Over the scale company of ``manage.py seed_scale`` (loaded with ``--add approvals`` for the
approval requests, tasks and decisions of its contracts and quotes): times
`apps.incentives.diagnostics.process_diagnostics` and
`apps.incentives.competitors.competitor_analysis` for the administrator and the sales director
(the whole company: the target), a regional manager and a supervisor (for comparison), over
the default period (the last 90 days; six months for the competitors) and the longest the
pages allow (366 days), and one team; then the pages and the API endpoints for the whole
company through Django's test Client, with their queries per request.

The scale data names its competitors on lost deals and in visit records but has no registry:
the bench registers them (the names and aliases an administrator would enter) inside a
transaction that is rolled back at the end, with the token and session of the requests.

p50/p95/max over `--runs` runs after one warming call, then EXPLAIN (ANALYZE, BUFFERS) of each
statement of the whole-company diagnostics (the default period).

    .venv/bin/python bench/incentives_diagnostics.py [--database salesctl_scale] [--runs 10]
        [--no-explain]
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesctl.settings")
os.environ.setdefault("DEBUG", "1")  # development settings (a SECRET_KEY of their own)

import django

django.setup()

from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.accounts.models import OrgUnit, User  # noqa: E402
from apps.incentives import competitors, diagnostics  # noqa: E402
from apps.incentives.models import Competitor  # noqa: E402
from apps.leads.periods import MAX_PERIOD_DAYS  # noqa: E402
from bench.common import DEFAULT_DATABASE, percentile, timed  # noqa: E402
from bench.common import figures as timing  # noqa: E402

TARGET_MS = 1000.0
# The competitors the scale data names (apps/opportunities/scale.py, apps/visits/scale.py).
SCALE_COMPETITORS = [
    ("德马吉森精机", ["DMG MORI", "德马吉"]), ("大隈", ["Okuma"]), ("海天精工", ["海天"]),
    ("沈阳机床", ["沈机"]), ("牧野", ["Makino"]), ("通快", ["TRUMPF"]),
    ("大族激光", ["大族", "Han's Laser"]),
]  # fmt: skip


class Rollback(Exception):
    pass


def _register(admin: User) -> int:
    if Competitor.objects.exists():
        return 0
    for name, aliases in SCALE_COMPETITORS:
        competitors.competitor_create(by=admin, name=name, aliases=aliases)
    return len(SCALE_COMPETITORS)


def _calls(user: User, team: OrgUnit | None) -> dict:
    today = timezone.localdate()
    longest = today - timedelta(days=MAX_PERIOD_DAYS - 1)
    d_start, d_end = diagnostics.default_period(today)
    c_start, c_end = competitors.default_period(today)
    return {
        "diagnostics, 90 d": lambda: diagnostics.process_diagnostics(
            user=user, start=d_start, end=d_end, team=team
        ),
        "diagnostics, 366 d": lambda: diagnostics.process_diagnostics(
            user=user, start=longest, end=today, team=team
        ),
        "competitors, 6 months": lambda: competitors.competitor_analysis(
            user=user, start=c_start, end=c_end, team=team
        ),
        "competitors, 366 d": lambda: competitors.competitor_analysis(
            user=user, start=longest, end=today, team=team
        ),
    }


def _time(cases: dict[str, tuple[User, OrgUnit | None]], runs: int,
          company: set[str]) -> list[tuple[str, float]]:  # fmt: skip
    target = []
    for who, (user, team) in cases.items():
        for name, call in _calls(user, team).items():
            call()  # warm
            ms = [timed(call)[0] for _ in range(runs)]
            mark = ""
            if who in company and name.startswith("diagnostics"):
                target.append((f"{who} {name}", percentile(ms, 0.95)))
                mark = "  *"
            print(f"{who:<16} {name:<24} {timing(ms)}{mark}", flush=True)
    return target


def _requests(admin: User, runs: int) -> list[tuple[str, float]]:
    from apps.api.services import token_issue

    page = Client(SERVER_NAME="localhost")
    page.force_login(admin)
    _token, raw = token_issue(user=admin, name="bench diagnostics", days=1)
    api = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
    urls = {
        "page diagnostics": (page, "/incentives/diagnostics/"),
        "page diagnostics, xlsx": (page, "/incentives/diagnostics/?format=xlsx"),
        "api process-diagnostics": (api, "/api/v1/reports/process-diagnostics/"),
        "page competitors": (page, "/incentives/competitors/"),
        "api competitors": (api, "/api/v1/reports/competitors/"),
    }
    target = []
    print(f"\nrequests as {admin.username} (whole company)          queries  figures")
    for what, (client, url) in urls.items():
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{what}: HTTP {response.status_code}")
        ms = [timed(lambda client=client, url=url: client.get(url))[0] for _ in range(runs)]
        mark = "  *" if "diagnostics" in what and "xlsx" not in what else ""
        print(f"{what:<46} {len(captured.captured_queries):5}    {timing(ms)}{mark}", flush=True)
        if mark:
            target.append((what, percentile(ms, 0.95)))
    return target


def _explain(admin: User) -> None:
    start, end = diagnostics.default_period()
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        diagnostics.process_diagnostics(user=admin, start=start, end=end)
    for query in captured.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\n=== EXPLAIN ANALYZE (whole company, last 90 days) ===\n{query['sql'][:300]}\n"
              f"{plan}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    connection.close()
    connection.settings_dict["NAME"] = args.database
    if not User.objects.filter(username="scale_admin").exists():
        raise SystemExit(f"{args.database}: no scale company (manage.py seed_scale)")
    users = {who: User.objects.get(username=name) for who, name in (
        ("admin", "scale_admin"), ("director", "scale_director"), ("manager", "scale_mgr1"),
        ("supervisor", "scale_sup01"))}  # fmt: skip
    team = diagnostics.diagnostic_teams(user=users["manager"]).filter(kind="team").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM opportunities_opportunity),"
            " (SELECT count(*) FROM opportunities_stagechange),"
            " (SELECT count(*) FROM approvals_approvalrequest),"
            " (SELECT count(*) FROM approvals_approvaltask),"
            " (SELECT count(*) FROM visits_visitrecord)"
        )
        deals, stays, requests, tasks, visits = cursor.fetchone()
    print(f"database {args.database}: {deals:,} opportunities, {stays:,} stage-history rows, "
          f"{requests:,} approval requests, {tasks:,} approval tasks, {visits:,} visit records"
          "  (* = the target's cases)")  # fmt: skip
    try:
        with transaction.atomic():
            added = _register(users["admin"])
            if added:
                print(f"registered {added} competitors (rolled back at the end)")
            cases = {
                "admin": (users["admin"], None), "director": (users["director"], None),
                "manager": (users["manager"], None), "supervisor": (users["supervisor"], None),
                f"manager, {team.name if team else '-'}": (users["manager"], team),
            }  # fmt: skip
            target = _time(cases, args.runs, company={"admin", "director"})
            target += _requests(users["admin"], args.runs)
            worst, p95 = max(target, key=lambda case: case[1])
            verdict = "met" if p95 < TARGET_MS else "MISSED"
            print(f"\nworst whole-company p95: {p95:.1f} ms ({worst}); target < "
                  f"{TARGET_MS:.0f} ms: {verdict}")  # fmt: skip
            if not args.no_explain:
                _explain(users["admin"])
            raise Rollback
    except Rollback:
        print("rolled back: nothing was kept")


if __name__ == "__main__":
    main()
