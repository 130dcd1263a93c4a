"""Fixtures of the API tests: clients that speak English, and bearer tokens issued for real."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.api.services import token_issue


@pytest.fixture
def api() -> APIClient:
    """An anonymous client asking for English messages."""
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def bearer() -> Callable[..., APIClient]:
    """`bearer(user)`: a client authenticated with a freshly issued token of `user`."""

    def make(user: User, **client_kwargs) -> APIClient:
        _token, raw = token_issue(user=user, name="test", days=30)
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en", **client_kwargs)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def throttle_rate(settings) -> Callable[[str], None]:
    """`throttle_rate("2/min")`: the per-token rate for this test (read on every request)."""

    def set_rate(rate: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"token": rate},
        }

    return set_rate


def assert_problem(response, status: int, kind: str) -> dict:
    """The response is an RFC 9457 problem of `kind` with `status`; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:salesctl:problem:{kind}"
    assert body["status"] == status
    assert body["title"]
    assert isinstance(body["detail"], str)
    return body
