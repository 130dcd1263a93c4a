"""The per-request query count of `make bench` (apps.core.querycount): with
SALESCTL_QUERY_COUNT=1 every response says how many SQL statements it ran, and without it the
middleware is left out of the stack (no header, nothing counted)."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core import querycount

MIDDLEWARE = "apps.core.querycount.QueryCountMiddleware"


@pytest.fixture
def counting(settings, monkeypatch):
    """The middleware listed first, as the bench settings list it; ENABLED is left to the
    test."""
    settings.MIDDLEWARE = [MIDDLEWARE, *settings.MIDDLEWARE]
    return monkeypatch


@pytest.mark.django_db
def test_response_carries_the_number_of_queries_the_request_ran(client, org, counting) -> None:
    # given the query count switched on and a rep logged in
    counting.setattr(querycount, "ENABLED", True)
    client.force_login(org.rep1a)

    # when the rep opens the lead list, its queries captured as well
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/leads/")

    # then the header counts exactly the statements the request ran (session and user too)
    assert response.status_code == 200
    assert int(response[querycount.COUNT_HEADER]) == len(captured.captured_queries)
    assert len(captured.captured_queries) >= 2
    assert float(response[querycount.TIME_HEADER]) >= 0.0


@pytest.mark.django_db
def test_no_header_when_the_query_count_is_off(client, org, counting) -> None:
    # given the middleware listed but the switch off
    counting.setattr(querycount, "ENABLED", False)
    client.force_login(org.rep1a)

    # when a page is requested
    response = client.get("/leads/")

    # then it answers as usual, without the headers
    assert response.status_code == 200
    assert querycount.COUNT_HEADER not in response
    assert querycount.TIME_HEADER not in response


def test_the_switch_is_the_environment_variable_read_at_import(monkeypatch) -> None:
    # given the module imported again with and without SALESCTL_QUERY_COUNT=1
    try:
        monkeypatch.setenv("SALESCTL_QUERY_COUNT", "1")
        on = importlib.reload(querycount).ENABLED
        monkeypatch.setenv("SALESCTL_QUERY_COUNT", "0")
        off = importlib.reload(querycount).ENABLED
        monkeypatch.delenv("SALESCTL_QUERY_COUNT")
        unset = importlib.reload(querycount).ENABLED
    finally:
        monkeypatch.undo()
        importlib.reload(querycount)

    # then only "1" switches it on
    assert (on, off, unset) == (True, False, False)
