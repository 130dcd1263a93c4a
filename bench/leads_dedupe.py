"""Benchmark of the capture dedupe (issue 4 "Figures": `find_duplicate` p95 under 20 ms with 1M
leads and 200k customers).

Against the scale database (``manage.py seed_scale --database-name salesctl_scale``), read
only: times `apps.leads.services.find_duplicate` on random existing identities — a lead's or
a customer's phone, a contact's phone, an e-mail, a company name, a credit code — and on new
ones (a whole new company: name, phone, e-mail and credit code, the usual capture), N calls
spread evenly over those kinds; prints p50/p95/max overall and per kind, then EXPLAIN
(ANALYZE, BUFFERS) of the dedupe queries of one existing and one new identity.

    .venv/bin/python bench/leads_dedupe.py [--database salesctl_scale] [--calls 2000] [--seed 4]
"""

from __future__ import annotations

import argparse
import random

import common

KINDS = [
    "lead phone", "customer phone", "contact phone", "lead e-mail", "customer e-mail",
    "lead name", "customer name", "credit code", "new company",
]  # fmt: skip


def sample(table: str, column: str, count: int, rng: random.Random) -> list[str]:
    """`count` non-empty values of `column` from random rows (by random ids: no sort of the
    whole table)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {table}")  # noqa: S608 (constant names)
        low, high = cursor.fetchone()
        ids = [rng.randint(low, high) for _ in range(count * 4)]
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE id = ANY(%s) AND {column} <> '' LIMIT %s",  # noqa: S608
            [ids, count],
        )
        return [row[0] for row in cursor.fetchall()]


def identities(per_kind: int, rng: random.Random) -> list[tuple[str, dict[str, str]]]:
    """(kind, find_duplicate keywords) for each call, shuffled."""
    from apps.core.scale import credit_code_of

    empty = {"name_key": "", "phone_key": "", "email_key": "", "credit_code": ""}
    sources = {
        "lead phone": ("leads_lead", "phone_key"),
        "customer phone": ("customers_customer", "phone_key"),
        "contact phone": ("customers_contact", "phone_key"),
        "lead e-mail": ("leads_lead", "email_key"),
        "customer e-mail": ("customers_customer", "email_key"),
        "lead name": ("leads_lead", "name_key"),
        "customer name": ("customers_customer", "name_key"),
        "credit code": ("leads_lead", "credit_code"),
    }
    calls: list[tuple[str, dict[str, str]]] = []
    for kind, (table, column) in sources.items():
        for value in sample(table, column, per_kind, rng):
            calls.append((kind, {**empty, column: value}))
    for n in range(per_kind):
        # Outside every index range seed_scale uses: a company nobody has seen.
        calls.append((
            "new company",
            {
                "name_key": f"基准新公司{rng.randrange(10**9)}",
                "phone_key": f"+86199{rng.randrange(10**8):08d}",
                "email_key": f"new{n}.{rng.randrange(10**6)}@example.cn",
                "credit_code": credit_code_of(9 * 10**12 + rng.randrange(10**9), "深圳"),
            },
        ))  # fmt: skip
    rng.shuffle(calls)
    return calls


def explain_dedupe(keys: dict[str, str], title: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.leads.services import find_duplicate

    with CaptureQueriesContext(connection) as captured:
        found = find_duplicate(**keys)
    print(f"\n=== EXPLAIN: {title} → {type(found).__name__ if found else 'no duplicate'} ===")
    for query in captured.captured_queries:
        print(f"\n-- {query['sql'][:300]}")
        print(common.explain(query["sql"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=common.DEFAULT_DATABASE)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    common.setup_django(args.database)

    from django.db import connection

    from apps.leads.models import Lead
    from apps.leads.services import find_duplicate

    rng = random.Random(args.seed)
    print(f"database {connection.settings_dict['NAME']}: {Lead.objects.count():,} leads")
    calls = identities(max(1, args.calls // len(KINDS)), rng)
    for _kind, keys in calls[:50]:  # warm the caches and the connection
        find_duplicate(**keys)
    by_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
    found = dict.fromkeys(KINDS, 0)
    for kind, keys in calls:
        ms, result = common.timed(lambda keys=keys: find_duplicate(**keys))
        by_kind[kind].append(ms)
        found[kind] += result is not None
    every = [ms for values in by_kind.values() for ms in values]
    print(f"find_duplicate, {len(every)} calls: {common.figures(every)}  (target p95 < 20 ms)")
    for kind, values in by_kind.items():
        if values:
            print(f"  {kind:16} {common.figures(values)}  found {found[kind]}/{len(values)}")
    existing = next(keys for kind, keys in calls if kind == "lead phone")
    explain_dedupe(existing, "an existing lead's phone")
    explain_dedupe(next(keys for kind, keys in calls if kind == "new company"), "a new company")


if __name__ == "__main__":
    main()
