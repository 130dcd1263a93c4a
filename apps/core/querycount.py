"""Per-request query count for the benchmarks (`make bench`, issue 10): a middleware that
counts the SQL statements a request runs and the time they take, and returns them in the
``X-Query-Count`` and ``X-Query-Ms`` response headers.

Off unless the process starts with ``SALESCTL_QUERY_COUNT=1`` (read once, at import): then
Django drops the middleware when it loads the stack (``MiddlewareNotUsed``), so production
pays nothing for it being listed. Put it first in MIDDLEWARE, so that the queries of the
session and authentication middleware count too. Statements are counted through
``connection.execute_wrapper`` on every configured database (the replica too), which sees
what the ORM and raw cursors run alike, without DEBUG's query log.

A streaming response's rows are produced after the middleware has returned: their queries
are not in the count.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.http import HttpRequest, HttpResponse

ENABLED = os.environ.get("SALESCTL_QUERY_COUNT", "") == "1"

COUNT_HEADER = "X-Query-Count"
TIME_HEADER = "X-Query-Ms"


class _Counter:
    """An execute wrapper: counts the statements run through it and adds up their time."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


class QueryCountMiddleware:
    """Adds ``X-Query-Count`` (statements run) and ``X-Query-Ms`` (their summed duration,
    in milliseconds) to every response, when ``SALESCTL_QUERY_COUNT=1``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not ENABLED:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counter = _Counter()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(counter))
            response = self.get_response(request)
        response[COUNT_HEADER] = str(counter.count)
        response[TIME_HEADER] = f"{counter.seconds * 1000:.1f}"
        return response
