"""Benchmark of an ERP's full incremental sync of the customers (issue 9 "ERP integration":
a full incremental sync of 200,000 customers under 60 s).

Over real HTTP, against the scale database (``manage.py seed_scale --database-name
salesctl_scale``): the app runs under gunicorn with the production settings (DEBUG off, plain
http on 127.0.0.1, the rate limit out of the way, an in-process Celery broker) on that database,
and the client is the ERP's integration user (company-wide scope) with a bearer token issued
for the run and deleted at the end. The client does what an ERP does on its first run:

    GET /api/v1/customers/?updated_since=1970-01-01T00:00:00Z&page_size=500

following `next` to the last page, then once more from the last page's `resume` link (the next
run, with nothing new). Printed: the total seconds, the pages, the rows and rows/s, the time of
a page (p50/p95/max, from the client: HTTP, JSON and all), and the checks that every customer
came exactly once.

The machine this runs on is often busy with other work, which stretches the wall-clock figures.
So the CPU time the sync cost is printed too (from /proc): the gunicorn workers', the client's,
and that of the Postgres backends serving the workers (found by their application_name). Their
sum is about what the sync needs on an idle machine, one request at a time.

    .venv/bin/python bench/erp_sync.py [--database salesctl_scale] [--user scale_erp]
        [--page-size 500] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit, urlunsplit

import common

EVERYTHING = "1970-01-01T00:00:00Z"
TARGET_SECONDS = 60.0


APPLICATION_NAME = "bench-erp-sync"


def _database_url(database: str) -> str:
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesctl"))
    query = f"application_name={APPLICATION_NAME}"
    return urlunsplit(url._replace(path=f"/{database}", query=query))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(database: str, port: int, workers: int) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port`, serving the scale database with production settings."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(database),
        "DEBUG": "0",
        "CONN_MAX_AGE": "600",  # one backend per worker for the whole run: its CPU is counted
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "API_RATE_LIMIT": "1000000/min",
        "CELERY_BROKER_URL": "memory://",
        "CELERY_RESULT_BACKEND": "cache+memory://",
        "CACHE_KEY_PREFIX": f"salesctl-bench-erp-sync-{os.getpid()}",
        "LOG_LEVEL": "ERROR",
        "REPLICA_READS": "0",
    }
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn, constant arguments)
        [str(common.ROOT / ".venv/bin/gunicorn"), "salesctl.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "120",
         "--graceful-timeout", "5"],
        cwd=common.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return server
        except OSError as exc:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log = server.stderr.read().decode()
                raise SystemExit(f"the server did not start:\n{log}") from exc
            time.sleep(0.3)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _workers_cpu(server: subprocess.Popen) -> float:
    with open(f"/proc/{server.pid}/task/{server.pid}/children") as children:
        return sum(_cpu_seconds(int(pid)) for pid in children.read().split())


def _backends_cpu() -> dict[int, float]:
    """CPU seconds of each Postgres backend serving the server's workers, by pid."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME]
        )
        return {pid: _cpu_seconds(pid) for (pid,) in cursor.fetchall()}


def _get(url: str, token: str) -> tuple[float, dict]:
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        body = json.loads(response.read())
    return (time.perf_counter() - started) * 1000, body


def _sync(url: str, token: str) -> tuple[list[float], list[tuple[int, str]], str]:
    """Follow `next` from `url` to the last page: (ms per page, (id, updated_at) per row, the
    last page's resume link)."""
    ms, versions, resume = [], [], url
    while url:
        elapsed, page = _get(url, token)
        ms.append(elapsed)
        versions += [(row["id"], row["updated_at"]) for row in page["results"]]
        resume, url = page["resume"], page["next"]
    return ms, versions, resume


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=common.DEFAULT_DATABASE)
    parser.add_argument("--user", default="scale_erp", help="the integration user")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    common.setup_django(args.database)
    from apps.accounts.models import User
    from apps.api.services import token_issue
    from apps.customers.models import Customer

    user = User.objects.get(username=args.user)
    customers = Customer.objects.count()
    token, raw = token_issue(user=user, name="bench/erp_sync.py", days=1)
    port = _free_port()
    server = _start_server(args.database, port, args.workers)
    try:
        url = (
            f"http://127.0.0.1:{port}/api/v1/customers/"
            f"?updated_since={EVERYTHING}&page_size={args.page_size}"
        )
        _get(url.replace(f"page_size={args.page_size}", "page_size=1"), raw)  # warm both up
        cpu = (_workers_cpu(server), time.process_time(), _backends_cpu())
        started = time.perf_counter()
        ms, versions, resume = _sync(url, raw)
        total = time.perf_counter() - started
        server_cpu = _workers_cpu(server) - cpu[0]
        client_cpu = time.process_time() - cpu[1]
        database_s = sum(s - cpu[2].get(pid, 0.0) for pid, s in _backends_cpu().items())
        again_ms, again, _resume = _sync(resume, raw)
    finally:
        server.terminate()
        server.wait(timeout=30)
        token.delete()

    ids = {pk for pk, _at in versions}
    print(f"database {args.database}: {customers:,} customers; as {user.username} ({user.role})")
    print(f"full sync, page size {args.page_size}, over HTTP (gunicorn, {args.workers} workers)")
    print(f"  total     {total:8.2f} s  (target < {TARGET_SECONDS:.0f} s)")
    print(f"  pages     {len(ms):8,d}")
    print(f"  rows      {len(versions):8,d}  ({len(versions) / total:,.0f} rows/s)")
    print(f"  per page  {common.figures(ms)}")
    print(
        f"  CPU       server {server_cpu:.1f} s + client {client_cpu:.1f} s + database "
        f"{database_s:.1f} s = {server_cpu + client_cpu + database_s:.1f} s (on an idle machine)"
    )
    with open("/proc/loadavg") as loadavg:
        print(f"  load average meanwhile: {loadavg.read().split()[0]} on {os.cpu_count()} cores")
    print(f"next run from `resume` (nothing new): {len(again)} rows, {again_ms[0]:.1f} ms")
    checks = {
        "every customer came": len(ids) == customers,
        "no version came twice": len(set(versions)) == len(versions),
        "no row twice (nothing changed meanwhile)": len(versions) == len(ids),
        "the next run brings nothing": not again,
        f"under {TARGET_SECONDS:.0f} s": total < TARGET_SECONDS,
    }
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'NOT'} {name}")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
