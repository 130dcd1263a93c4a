"""What the scale benchmarks share: Django set up against the scale database, and timing
figures (p50/p95/max).

The scale database is loaded by ``manage.py seed_scale --database-name salesctl_scale`` (see
apps/core/management/commands/seed_scale.py); a benchmark names it with ``--database``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "salesctl_scale"


def setup_django(database: str) -> None:
    """Set Django up (development settings) with the default connection on `database`."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesctl.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = database


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(ms: Sequence[float]) -> str:
    """ "p50 … p95 … max …" of durations in milliseconds."""
    return (
        f"p50 {statistics.median(ms):7.2f} ms  p95 {percentile(ms, 0.95):7.2f} ms  "
        f"max {max(ms):7.2f} ms  (n={len(ms)})"
    )


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def explain(sql: str, params: Sequence[Any] = ()) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement, as text."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())
