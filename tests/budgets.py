"""Query budgets of list pages and list endpoints (issue 10): the queries a list costs must not
grow with its rows, and must not exceed the count measured when its test was written.

`assert_constant_queries` asks a list for page 1 with its default filters, counts the queries,
adds rows of the same kind with *varied* related objects (other owners, customers, contracts:
an N+1 on any relation then shows), asks again and compares. The added rows must be on the
second answer, so that rows the viewer cannot see (which cost nothing) cannot pass for rows
that cost nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.api.services import token_issue

Marker = str | int  # text the page shows, or the id of a row in a JSON list's "results"


def count_queries(client: Any, url: str, data: dict | None = None) -> tuple[list[str], Any]:
    """The SQL of one GET of `url` (after a first, uncounted one) and its response.

    The first request fills what a process or the cache keeps between requests (content
    types, cached settings, a token's "last used" stamp), which a list pays once, not per row.
    """
    client.get(url, data)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data)
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    return [q["sql"] for q in captured.captured_queries], response


def _missing(response: Any, markers: Iterable[Marker], id_key: str = "id") -> list[Marker]:
    body = response.content.decode()
    ids: set[Any] = set()
    if any(isinstance(m, int) for m in markers):
        payload = response.json()
        rows = payload["results"] if isinstance(payload, dict) else payload
        ids = {row.get(id_key) for row in rows}
    return [m for m in markers if (m not in ids if isinstance(m, int) else str(m) not in body)]


def _listing(statements: list[str]) -> str:
    return "\n".join(f"  {i}. {sql[:300]}" for i, sql in enumerate(statements, 1))


def assert_constant_queries(
    client: Any,
    url: str,
    add_rows: Callable[[], Iterable[Marker]],
    budget: int,
    *,
    data: dict | None = None,
    shown: Iterable[Marker] = (),
    id_key: str = "id",
) -> int:
    """GET `url` costs the same queries before and after `add_rows()`, and at most `budget`.

    `shown` are markers of the rows already there (they must be on the first answer);
    `add_rows` adds rows visible to the client's user and returns their markers (they must be
    on the second answer); an int marker is the `id_key` of a row of a JSON list's
    "results". Returns the count.
    """
    with _private_cache():
        return _compare(client, url, add_rows, budget, data, shown, id_key)


@contextmanager
def _private_cache() -> Iterator[None]:
    """The cache under a key prefix of this measurement alone, emptied afterwards.

    Another test process on the same Redis empties its own prefix at the start of each of its
    tests, and that prefix is the same for every process not run by xdist: a session held in
    the cache (SESSION_ENGINE cached_db) could vanish between the two counts and cost one
    more query on the second, for a reason that has nothing to do with the rows."""
    default = settings.CACHES["default"]
    prefix = f"salesctl-budget-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with override_settings(
        CACHES={**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}
    ):
        try:
            yield
        finally:
            cache.delete_pattern("*")


def _compare(
    client: Any,
    url: str,
    add_rows: Callable[[], Iterable[Marker]],
    budget: int,
    data: dict | None,
    shown: Iterable[Marker],
    id_key: str,
) -> int:
    few, first = count_queries(client, url, data)
    assert not (missing := _missing(first, list(shown), id_key)), f"not listed before: {missing}"
    markers = list(add_rows())
    assert markers, "add_rows() must return the markers of the rows it added"
    many, second = count_queries(client, url, data)
    assert not (missing := _missing(second, markers, id_key)), f"added rows not listed: {missing}"
    assert len(many) == len(few), (
        f"{url}: {len(few)} queries before, {len(many)} after adding rows\n"
        f"before:\n{_listing(few)}\nafter:\n{_listing(many)}"
    )
    assert len(many) <= budget, f"{url}: {len(many)} queries, over the budget of {budget}"
    return len(many)


def client_of(user: User, *, api: bool) -> Client | APIClient:
    """A client of `user`: a bearer token issued for real for the API (asking for English),
    a logged-in session for a page."""
    if api:
        _token, raw = token_issue(user=user, name="budget", days=30)
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client
    client = Client()
    client.force_login(user)
    return client


@dataclass(frozen=True)
class ListCase:
    """One list of an app's budget module: its address, who looks at it, how to add `n` of its
    rows (visible to that viewer, each with other related objects; returns their markers), and
    its budget."""

    url: str
    viewer: str  # an attribute of tests.org.Org
    add: Callable[[Any, int], list[Marker]]
    budget: int
    data: dict | Callable[[Any], dict] | None = None  # the query, or a function of the org
    id_key: str = "id"  # what identifies a row of the API's "results"

    def check(self, org: Any, *, shown: Iterable[Marker] = (), more: int = 8) -> int:
        """The list costs the same queries with the rows already there (`shown`) as with
        `more` added, and at most the budget."""
        user = getattr(org, self.viewer)
        client = client_of(user, api=self.url.startswith("/api/"))
        return assert_constant_queries(
            client, self.url, lambda: self.add(org, more), self.budget,
            data=self.data(org) if callable(self.data) else self.data, shown=shown,
            id_key=self.id_key,
        )  # fmt: skip


def cases(lists: dict[str, ListCase]) -> list[str]:
    """The names of `lists`, as pytest parameters."""
    return list(lists)
