"""Benchmark of the pipeline board (issue 5 "Figures": board p95 under 200 ms for a team, with
300,000 opportunities).

Against the scale database (``manage.py seed_scale --database-name salesctl_scale``, then
``--add opportunities,visits``), inside a transaction rolled back at the end (the API tokens
and sessions it makes do not stay):

- the page ``/opportunities/board/`` through Django's test Client, as the board view serves
  it — the whole page and the htmx refresh of the columns (``HX-Request``) — logged in as a
  supervisor (their team), a rep (their deals), a supervisor narrowing to one rep, the sales
  director and the administrator narrowing to one team (``?team=``), a team with a close
  month; and, for comparison (not the target), a regional manager and the director
  unfiltered (the whole region / company);
- the API ``/api/v1/opportunities/board/`` with a bearer token: the supervisor, the rep, the
  ERP integration with ``?team=``.

Each case runs `--repeat` times after one warming request; p50/p95/max and the queries per
request are printed, then EXPLAIN (ANALYZE, BUFFERS) of the opportunity queries of the
slowest team case.

    .venv/bin/python bench/pipeline_board.py [--database salesctl_scale] [--repeat 30]
"""

from __future__ import annotations

import argparse

import common
from leads_list import Case, Rollback, run_case

TARGET_MS = 200.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=common.DEFAULT_DATABASE)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    common.setup_django(args.database)

    from django.db import connection, reset_queries, transaction
    from django.test import Client
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.api.services import token_issue
    from apps.opportunities.models import Opportunity

    users = {u.username: u for u in User.objects.filter(username__startswith="scale_")}
    if not users or not Opportunity.objects.exists():
        raise SystemExit(
            "no scale opportunities: load them with manage.py seed_scale --add opportunities"
        )
    supervisor = users["scale_sup01"]
    team = supervisor.org_unit
    rep = User.objects.filter(org_unit=team, role="rep", is_active=True).order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'opportunities_opportunity'"
        )
        total = cursor.fetchone()[0]
    open_in_team = Opportunity.objects.filter(
        owner__org_unit=team, stage__in=["prospecting", "qualification", "needs_analysis",
                                         "proposal", "negotiation"],
    ).count()  # fmt: skip
    print(
        f"database {connection.settings_dict['NAME']}: ~{total:,} opportunities; team "
        f"{team.name} ({team.pk}): {open_in_team:,} open deals; rep {rep.username}"
    )
    month = timezone.localdate().strftime("%Y-%m")
    # (user, what, query, partial, counts toward the team target)
    page_cases = [
        ("scale_sup01", "team (own)", "", False, True),
        ("scale_sup01", "team htmx", "", True, True),
        ("scale_sup01", "team, one rep", f"owner={rep.pk}", False, True),
        ("scale_sup01", "team, month", f"month={month}", False, True),
        (rep.username, "rep (own)", "", False, True),
        (rep.username, "rep htmx", "", True, True),
        ("scale_director", "?team=", f"team={team.pk}", False, True),
        ("scale_admin", "?team=", f"team={team.pk}", False, True),
        ("scale_mgr1", "region", "", False, False),
        ("scale_director", "company", "", False, False),
    ]
    cases: list[tuple[Case, bool]] = []
    try:
        with transaction.atomic():
            for username, what, query, partial, in_target in page_cases:
                client = Client(SERVER_NAME="localhost")
                client.force_login(users.get(username) or rep)
                headers = {"HTTP_HX_REQUEST": "true"} if partial else {}
                reset_queries()  # the log keeps 9,000 queries: a full one would capture none
                url = f"/opportunities/board/?{query}"
                case = run_case(
                    Case("page", username[:15], what),
                    lambda client=client, url=url, headers=headers: client.get(url, **headers),
                    args.repeat,
                )
                cases.append((case, in_target))
            api_cases = [
                ("scale_sup01", "team (own)", ""),
                (rep.username, "rep (own)", ""),
                ("scale_erp", "?team=", f"team={team.pk}"),
            ]
            for username, what, query in api_cases:
                _token, raw = token_issue(user=users[username], name=f"bench {what}", days=1)
                client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
                url = f"/api/v1/opportunities/board/?{query}"
                reset_queries()
                case = run_case(
                    Case("api", username[:15], what),
                    lambda client=client, url=url: client.get(url),
                    args.repeat,
                )
                cases.append((case, True))
            raise Rollback
    except Rollback:
        pass

    print("\ncase                                          queries  figures")
    for case, in_target in cases:
        mark = "" if in_target else "   (not a team: for comparison)"
        print(f"{case.label():46} {case.queries:5}    {common.figures(case.ms)}{mark}")
    team_cases = [case for case, in_target in cases if in_target]
    worst = max(team_cases, key=lambda c: common.percentile(c.ms, 0.95))
    p95 = common.percentile(worst.ms, 0.95)
    verdict = "met" if p95 < TARGET_MS else "MISSED"
    print(
        f"\nworst team p95: {p95:.1f} ms ({worst.kind} {worst.who} {worst.what}); "
        f"target < {TARGET_MS:.0f} ms: {verdict}"
    )
    explain(worst)


def explain(case: Case) -> None:
    from django.db import connection

    for sql in case.sql:
        if 'FROM "opportunities_opportunity"' not in sql:
            continue
        print(f"\n=== EXPLAIN: {case.kind} {case.who} {case.what} ===\n-- {sql[:400]}")
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
