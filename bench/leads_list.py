"""Benchmark of the lead list (issue 4 "Figures": p95 under 150 ms at any page and any filter,
with 1M leads; queries per request must not grow with the rows shown).

Against the scale database (``manage.py seed_scale --database-name salesctl_scale``), inside
a transaction rolled back at the end (the API tokens and sessions it makes do not stay):

- the page ``/leads/`` through Django's test Client, logged in as the administrator (all
  data), the sales director (a manager heading the company: all data through the subtree
  scope), a regional manager, a supervisor and a rep: first page, deep pages, and each
  filter (status, grade, source, response time missed, a company-name search, a phone);
- the API ``/api/v1/leads/`` with a bearer token (the ERP integration, a supervisor, a rep):
  first page, pages further on by following ``next``, a page deep in the keyset (a cursor at
  the middle of the table), and each filter (status, grade, source, owner, search).

Each case runs `--repeat` times; p50/p95/max and the queries per request are printed, then
EXPLAIN (ANALYZE, BUFFERS) of the main list queries (the slowest case of each kind).

    .venv/bin/python bench/leads_list.py [--database salesctl_scale] [--repeat 15]
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import common


class Rollback(Exception):
    pass


@dataclass
class Case:
    kind: str
    who: str
    what: str
    ms: list[float] = field(default_factory=list)
    queries: int = 0
    sql: list[str] = field(default_factory=list)

    def label(self) -> str:
        return f"{self.kind:4} {self.who:15} {self.what:16}"


def run_case(case: Case, call: Callable[[], object], repeat: int) -> Case:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = call()  # the first request also warms the caches
    status = getattr(response, "status_code", 200)
    if status != 200:
        raise SystemExit(f"{case.kind} {case.who} {case.what}: HTTP {status}")
    case.queries = len(captured.captured_queries)
    case.sql = [q["sql"] for q in captured.captured_queries]
    for _ in range(repeat):
        ms, _response = common.timed(call)
        case.ms.append(ms)
    print(f"{case.label():46} {case.queries:5}    {common.figures(case.ms)}", flush=True)
    return case


def cursor_at(position: list) -> str:
    raw = json.dumps({"p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=common.DEFAULT_DATABASE)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    common.setup_django(args.database)

    from django.db import connection, transaction
    from django.test import Client

    from apps.accounts.models import User
    from apps.api.services import token_issue
    from apps.leads.models import Lead

    users = {u.username: u for u in User.objects.filter(username__startswith="scale_")}
    if not users:
        raise SystemExit("no scale users: load the data with manage.py seed_scale first")
    rep = users["scale_rep001"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'leads_lead'")
        print(f"database {connection.settings_dict['NAME']}: ~{cursor.fetchone()[0]:,} leads")
    some = Lead.objects.filter(owner=rep).exclude(phone="").values("phone").first() or {}
    phone = some.get("phone", "13800138000")
    filters = {
        "status": "status=contacted",
        "grade": "grade=A",
        "source": "source=exhibition",
        "sla missed": "sla=breached",
        "search name": "q=华盛",
        "search phone": f"q={phone}",
    }
    cases: list[Case] = []
    try:
        with transaction.atomic():
            # --- the HTML page -------------------------------------------------------------
            page_users = ["scale_admin", "scale_director", "scale_mgr1", "scale_sup01",
                          "scale_rep001"]  # fmt: skip
            for username in page_users:
                client = Client(SERVER_NAME="localhost")
                client.force_login(users[username])
                queries = {"page 1": "", "page 10": "page=10", "page 100": "page=100",
                           "page 1000": "page=1000"}  # fmt: skip
                queries.update(filters)
                for what, query in queries.items():
                    url = f"/leads/?{query}"
                    cases.append(
                        run_case(
                            Case("page", username, what),
                            lambda client=client, url=url: client.get(url),
                            args.repeat,
                        )
                    )
            # --- the API ---------------------------------------------------------------------
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT updated_at, id FROM leads_lead ORDER BY updated_at, id "
                    "OFFSET (SELECT count(*) / 2 FROM leads_lead) LIMIT 1"
                )
                middle_at, middle_id = cursor.fetchone()
            middle = cursor_at([middle_at.isoformat(), middle_id])
            for username in ["scale_erp", "scale_sup01", "scale_rep001"]:
                user = users[username]
                api_queries = {"first page": "", "middle (cursor)": f"cursor={middle}"}
                api_queries.update({
                    "status": "status=contacted", "grade": "grade=A",
                    "source": "source=exhibition", "owner": f"owner={rep.pk}",
                    "search": "search=华盛",
                })  # fmt: skip
                for what, query in api_queries.items():
                    # A token per case: the per-token rate limit is not what is measured.
                    _token, raw = token_issue(user=user, name=f"bench {what}", days=1)
                    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
                    url = f"/api/v1/leads/?{query}"
                    cases.append(
                        run_case(
                            Case("api", username, what),
                            lambda client=client, url=url: client.get(url),
                            args.repeat,
                        )
                    )
                # Following `next` page after page from the start.
                _token, raw = token_issue(user=user, name="bench next", days=1)
                client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
                follow = Case("api", username, "next × 20")
                url = "/api/v1/leads/"
                for _ in range(20):
                    ms, response = common.timed(lambda client=client, url=url: client.get(url))
                    follow.ms.append(ms)
                    url = response.json()["next"]
                    if not url:
                        break
                    url = url.replace("http://localhost", "")
                print(f"{follow.label():46}   n/a    {common.figures(follow.ms)}", flush=True)
                cases.append(follow)
            raise Rollback
    except Rollback:
        pass

    worst = max(cases, key=lambda c: common.percentile(c.ms, 0.95))
    print("\ncase                                          queries  figures")
    for case in cases:
        print(f"{case.label():46} {case.queries:5}    {common.figures(case.ms)}")
    print(
        f"\nworst p95: {common.percentile(worst.ms, 0.95):.1f} ms "
        f"({worst.kind} {worst.who} {worst.what}); target < 150 ms"
    )
    explain_slowest(cases)


def explain_slowest(cases: list[Case]) -> None:
    """EXPLAIN ANALYZE of the lead query of the slowest case per kind and scope."""
    from django.db import connection

    shown: set[tuple[str, str]] = set()
    for case in sorted(cases, key=lambda c: -common.percentile(c.ms, 0.95)):
        key = (case.kind, case.who)
        if key in shown or len(shown) >= 6:
            continue
        shown.add(key)
        lead_sql = [s for s in case.sql if 'FROM "leads_lead"' in s and "LIMIT" in s]
        if not lead_sql:
            continue
        print(f"\n=== EXPLAIN: {case.kind} {case.who} {case.what} ===\n-- {lead_sql[0][:600]}")
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {lead_sql[0]}")
            print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
