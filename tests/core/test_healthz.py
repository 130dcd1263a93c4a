"""/healthz answers for the load balancer and the container healthchecks: 200 while Postgres
and Redis both answer, 503 naming the one that does not."""

from __future__ import annotations

import socket

import pytest


def closed_port() -> int:
    """A local TCP port that nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_healthz_is_ok_when_postgres_and_redis_answer(client) -> None:
    # given the real Postgres and Redis of the test run

    # when the health check is asked, without logging in
    response = client.get("/healthz")

    # then both are reported ok
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_when_redis_does_not_answer(client, settings) -> None:
    # given Redis is configured on a port where nothing listens
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    # when the health check is asked
    response = client.get("/healthz")

    # then it fails, naming Redis and still reporting the database
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["redis"].startswith("error")
    assert body["database"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_when_a_worker_last_ran(client):
    # given a heartbeat recorded by a worker
    from apps.core.services import worker_heartbeat_record

    worker_heartbeat_record(hostname="celery@test")
    # when / then: informational, health stays ok
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["worker_last_seen"] is not None
