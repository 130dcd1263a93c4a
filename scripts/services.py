"""Probes used by scripts/services.sh: does a Postgres or Redis answer, and make the database.

    services.py pg-wait URL [SECONDS]      exit 0 once Postgres at URL lets us in
    services.py redis-wait URL [SECONDS]   exit 0 once Redis at URL answers PING
    services.py pg-createdb URL            create URL's database unless it exists

Runs with the project's virtualenv (psycopg, redis). Exit status 1 and one line on stderr when
the service did not answer in time; SECONDS 0 means try once.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit


def _retry(attempt: Callable[[], None], seconds: float) -> str | None:
    """Call `attempt` until it stops raising or `seconds` pass; the last error, or None."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            attempt()
            return None
        except Exception as exc:  # any failure to answer is "not ready yet"
            first_line = (str(exc).strip().splitlines() or [""])[0]
            error = f"{exc.__class__.__name__}: {first_line}"
        if time.monotonic() >= deadline:
            return error
        time.sleep(0.3)


def _maintenance_url(url: str) -> str:
    """The same server's `postgres` database, for CREATE DATABASE."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def pg_wait(url: str, seconds: float) -> str | None:
    import psycopg

    def attempt() -> None:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")

    return _retry(attempt, seconds)


def redis_wait(url: str, seconds: float) -> str | None:
    import redis

    def attempt() -> None:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()

    return _retry(attempt, seconds)


def pg_createdb(url: str) -> str | None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    if not name:
        return "the URL names no database"
    try:
        psycopg.connect(url, connect_timeout=5).close()
        return None
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            return f"{exc.__class__.__name__}: {exc}"
    with psycopg.connect(_maintenance_url(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"created database {name}", file=sys.stderr)
    return None


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    command, url, *rest = argv
    seconds = float(rest[0]) if rest else 0.0
    if command == "pg-wait":
        error = pg_wait(url, seconds)
    elif command == "redis-wait":
        error = redis_wait(url, seconds)
    elif command == "pg-createdb":
        error = pg_createdb(url)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if error:
        print(f"{command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
