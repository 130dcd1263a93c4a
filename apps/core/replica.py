"""Reports and exports read from a Postgres replica when `DATABASE_REPLICA_URL` is set
(issue 10, "Scaling out").

- `ReplicaRouter` sends a read to the `replica` database only inside `replica_reads()`; every
  other read, and every write, goes to `default`. Migrations run on `default` only.
- `ReplicaReadsMiddleware` opens `replica_reads()` for the safe requests (GET, HEAD) of the
  report and export pages and endpoints listed in `REPLICA_URL_NAMES`, the heavy reads that
  tolerate a replica's lag of a second or two.
- Read-your-writes: a user whose request changed something (any unsafe method answered below
  400) is pinned to `default` for `REPLICA_PIN_SECONDS` (in the shared cache, so every web node
  knows it), so the report they open right after their own write shows it.

Without a replica configured, or with `REPLICA_READS` off, nothing changes.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# URL names (namespace:name, regular expressions matched in full) whose GET reads the replica:
# the report pages, figures and exports, in the UI and in the API.
REPLICA_URL_NAMES: tuple[str, ...] = (
    r"goals:(reports|attainment|comparison|ranking|trend|export.*|report.*)",
    r"opportunities:(forecast|funnel|figures.*|.*export.*)",
    r"receivables:(figures.*|aging.*|.*export.*|statement_export.*)",
    r"visits:(figures.*|.*export.*)",
    r"leads:(.*export.*|figures.*|sla.*)",
    r"incentives:(diagnostics.*|scorecard_ranking|statement_export|.*export.*)",
    r"api:(report-.*|.*-figures-.*|.*figure.*|.*diagnostic.*|.*funnel.*|.*forecast.*)",
)
_PATTERNS = [re.compile(p) for p in REPLICA_URL_NAMES]

_reading_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "salesctl_reading_replica", default=False
)


def replica_configured() -> bool:
    return REPLICA in connections.settings and getattr(settings, "REPLICA_READS", False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside go to the replica (when one is configured)."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Reads inside go to the primary, even within `replica_reads()`."""
    token = _reading_replica.set(False)
    try:
        yield
    finally:
        _reading_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _reading_replica.get() and replica_configured():
            return REPLICA
        return "default"

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"


def _pin_key(user_id: int) -> str:
    return f"replica-pin:{user_id}"


def pin_to_primary(user_id: int) -> None:
    cache.set(_pin_key(user_id), 1, timeout=getattr(settings, "REPLICA_PIN_SECONDS", 15))


def pinned_to_primary(user_id: int) -> bool:
    return bool(cache.get(_pin_key(user_id)))


def url_reads_replica(view_name: str) -> bool:
    return any(p.fullmatch(view_name) for p in _PATTERNS)


def _user_id(request: HttpRequest) -> int | None:
    """The user of the request: the session's, or a bearer token's (DRF authenticates only
    inside the view, after this middleware has chosen the database)."""
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
    if scheme.lower() == "bearer" and raw.strip():
        from apps.api.selectors import token_for_secret

        token = token_for_secret(raw.strip())
        if token is not None:
            return token.user_id
    return None


class ReplicaReadsMiddleware:
    """Place it after AuthenticationMiddleware (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        finally:
            token = getattr(request, "_replica_token", None)
            if token is not None:
                _reading_replica.reset(token)
        if (
            request.method not in SAFE_METHODS
            and response.status_code < 400
            and replica_configured()
        ):
            # DRF has put a bearer token's user on the request by now.
            user_id = _user_id(request)
            if user_id is not None:
                pin_to_primary(user_id)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.method not in SAFE_METHODS or not replica_configured():
            return None
        match = request.resolver_match
        if match is None or not url_reads_replica(match.view_name):
            return None
        user_id = _user_id(request)
        if user_id is not None and pinned_to_primary(user_id):
            return None  # read-your-writes: this user just changed something
        request._replica_token = _reading_replica.set(True)
        return None
