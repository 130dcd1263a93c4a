"""Benchmark of the ERP's bulk payments (issue 9: 100,000 payments in 100 batches of 1,000
through `POST /api/v1/payments/bulk/`, allocation included, in under 120 s).

End to end over real HTTP: a gunicorn server (production settings: DEBUG off) is started on
a free port against a copy of the scale database, and the script posts the batches one after
the other, as an ERP would, with the bearer token of a finance user (`requests`). Each
payment goes to a customer with open installments (consecutive customers, so a batch holds
1,000 different customers; past the last one the list starts again) for a third of what the
customer has open, so that each is allocated (oldest due first, often over several
installments), a customer met again later paying what is still open and keeping the rest as
credit balance.

The copy is made once from the scale database (``manage.py seed_scale --database-name
salesctl_scale``): ``CREATE DATABASE salesctl_bench_erp TEMPLATE salesctl_scale``, again with
``--fresh``. Postgres copies a template only while nobody is connected to it; when other
benchmarks keep it busy, copy it with ``pg_dump -Fd -j 2 -Z 0 -f DIR salesctl_scale``,
``createdb salesctl_bench_erp``, ``pg_restore -j 2 -d salesctl_bench_erp DIR`` (about three
minutes) and run without ``--fresh``. Each run uses keys of its own (``ERP-<run>-<n>``), so
runs over the same copy add up; the last batch is then sent again (an ERP's retry) and must
answer all `unchanged`.

Prints the total time, the per-batch p50/p95/max, payments per second, and checks what was
written: every payment recorded once, allocations adding up to the payments' allocated
amounts, no installment paid over its amount.

    .venv/bin/python bench/erp_bulk_payments.py [--database salesctl_bench_erp]
        [--template salesctl_scale] [--fresh] [--batches 100] [--size 1000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DATABASE, ROOT, figures, setup_django

TARGET_SECONDS = 120.0
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/salesctl"


def _database_url(name: str) -> str:
    """DATABASE_URL (as the settings read it) with the database name replaced."""
    parts = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_URL))
    return urlunsplit(parts._replace(path=f"/{name}"))


def _copy_database(name: str, template: str, fresh: bool) -> None:
    """CREATE DATABASE `name` TEMPLATE `template` unless it exists (or `fresh`: drop it
    first). Postgres refuses while someone is connected to the template: try again every
    second for up to 30 minutes."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(_database_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not fresh:
            print(f"using the existing copy {name!r}")
            return
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        deadline, waiting = time.monotonic() + 1800, False
        while True:
            try:
                started = time.perf_counter()
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
                print(f"copied {template!r} to {name!r} in {time.perf_counter() - started:.1f} s")
                return
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                if not waiting:
                    print(f"{template!r} is in use; waiting (up to 30 minutes) to copy it …")
                    waiting = True
                time.sleep(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(database: str, port: int, workers: int) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port`, production settings (DEBUG off) but plain HTTP, and a
    rate limit the benchmark does not reach."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(database),
        "DEBUG": "0",
        "SECRET_KEY": "bench-erp-bulk-payments-not-a-secret",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_RATE_LIMIT": "100000/min",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "salesctl.settings",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "salesctl.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "300",
        "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own command line)


def _wait_until_up(base: str, server: subprocess.Popen, token: str) -> None:
    import requests

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped (exit {server.returncode})")
        try:
            requests.get(
                f"{base}/api/v1/", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            return
        except requests.RequestException:
            time.sleep(0.5)
    sys.exit("the server did not answer within three minutes")


def _customers(count: int) -> list[tuple[int, str]]:
    """(customer id, a third of its open amount) for up to `count` customers with open
    installments, in id order."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT customer_id,
                   GREATEST(ROUND(SUM(amount - paid_amount - written_off_amount) / 3, 2), 1.00)
              FROM receivables_installment
             WHERE status IN ('scheduled', 'due', 'partially_paid')
             GROUP BY customer_id
            HAVING SUM(amount - paid_amount - written_off_amount) > 0
             ORDER BY customer_id
             LIMIT %s
            """,
            [count],
        )
        return [(pk, str(amount)) for pk, amount in cursor.fetchall()]


def _batches(run: str, customers, batches: int, size: int, day: str) -> list[list[dict]]:
    out = []
    for b in range(batches):
        records = []
        for i in range(b * size, (b + 1) * size):
            pk, amount = customers[i % len(customers)]
            records.append(
                {"customer": pk, "amount": amount, "received_on": day, "method": "bank_transfer",
                 "bank_reference": f"BENCH-ERP-{run}-{i:06d}", "external_id": f"ERP-{run}-{i:06d}",
                 "payer_name": "ERP bench", "notes": ""}
            )  # fmt: skip
        out.append(records)
    return out


def _check(run: str, expected: int) -> None:
    """Every payment recorded once; allocations add up; no installment over-paid."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*), COUNT(DISTINCT p.external_id), COALESCE(SUM(p.amount), 0),
                   COALESCE(SUM(p.allocated_amount), 0),
                   (SELECT COALESCE(SUM(a.amount), 0) FROM receivables_allocation a
                      JOIN receivables_payment q ON q.id = a.payment_id
                     WHERE q.external_id LIKE %s AND a.reversed_at IS NULL),
                   (SELECT COUNT(*) FROM receivables_allocation a
                      JOIN receivables_payment q ON q.id = a.payment_id
                     WHERE q.external_id LIKE %s),
                   COUNT(*) FILTER (WHERE p.allocated_amount > 0)
              FROM receivables_payment p WHERE p.external_id LIKE %s
            """,
            [f"ERP-{run}-%"] * 3,
        )
        count, distinct, amount, allocated, lines, allocations, with_allocations = cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*) FROM receivables_installment"
            " WHERE paid_amount > amount - written_off_amount"
        )
        (overpaid,) = cursor.fetchone()
    print(
        f"written: {count:,} payments ({distinct:,} external ids) of {amount:,.2f}; "
        f"{with_allocations:,} allocated, {allocations:,} allocations of {lines:,.2f} "
        f"(payments' allocated amounts {allocated:,.2f}); over-paid installments: {overpaid}"
    )
    if count != expected or distinct != expected or lines != allocated or overpaid:
        sys.exit("CHECK FAILED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="salesctl_bench_erp")
    parser.add_argument("--template", default=DEFAULT_DATABASE)
    parser.add_argument("--fresh", action="store_true", help="copy the template again")
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    _copy_database(args.database, args.template, args.fresh)
    setup_django(args.database)
    import requests
    from django.db import connection

    from apps.accounts.choices import Role
    from apps.accounts.models import User
    from apps.api.services import token_issue
    from apps.receivables.selectors import today

    finance = User.objects.filter(role=Role.FINANCE, is_active=True).order_by("id").first()
    if finance is None:
        sys.exit("no finance user: load the scale company first")
    _token, raw = token_issue(user=finance, name="bench erp bulk payments", days=1)
    run = time.strftime("%Y%m%d%H%M%S")
    customers = _customers(args.batches * args.size)
    if not customers:
        sys.exit("no customer with open installments: load receivables at scale first")
    batches = _batches(run, customers, args.batches, args.size, today().isoformat())
    print(
        f"{args.batches} batches of {args.size:,} payments for {len(customers):,} customers with "
        f"open installments, as {finance.username} (finance); run {run}"
    )
    connection.close()  # the server has the database to itself while the clock runs

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start_server(args.database, port, args.workers)
    try:
        _wait_until_up(base, server, raw)
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {raw}", "Accept-Language": "en"})
        # Warm each worker (imports, URL configuration, first connection), not timed.
        for _ in range(args.workers * 2):
            session.get(f"{base}/api/v1/payments/", params={"page_size": 1}, timeout=60)
        ms: list[float] = []
        started = time.perf_counter()
        for n, records in enumerate(batches):
            t0 = time.perf_counter()
            response = session.post(
                f"{base}/api/v1/payments/bulk/", json={"records": records}, timeout=300
            )
            ms.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200 or response.json()["created"] != len(records):
                sys.exit(f"batch {n}: {response.status_code} {response.text[:2000]}")
        total = time.perf_counter() - started
        t0 = time.perf_counter()
        replay = session.post(
            f"{base}/api/v1/payments/bulk/", json={"records": batches[-1]}, timeout=300
        )
        replay_ms = (time.perf_counter() - t0) * 1000
    finally:
        server.terminate()
        server.wait(30)

    payments = args.batches * args.size
    print(f"total {total:.1f} s for {payments:,} payments: {payments / total:,.0f} payments/s")
    print(f"per batch of {args.size:,}: {figures(ms)}")
    replayed = replay.json() if replay.status_code == 200 else {}
    print(
        f"the last batch sent again: {replay.status_code}, "
        f"{replayed.get('unchanged', 0):,} unchanged, {replayed.get('created', 0)} created "
        f"in {replay_ms:.0f} ms"
    )
    verdict = "meets" if total < TARGET_SECONDS else "MISSES"
    print(f"  {verdict} the target of {TARGET_SECONDS:.0f} s")
    _check(run, payments)
    if replayed.get("unchanged") != len(batches[-1]):
        sys.exit("CHECK FAILED: the replayed batch was not all unchanged")


if __name__ == "__main__":
    main()
