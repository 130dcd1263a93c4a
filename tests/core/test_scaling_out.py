"""Scaling out (issue 10): one beat however many are started, jobs routed to queues by kind,
and report reads from a replica with read-your-writes for the user who just wrote."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.beat import BeatLock, LockedDatabaseScheduler
from apps.core.replica import REPLICA_URL_NAMES, url_reads_replica
from salesctl.celery import app as celery_app

# --- beat -------------------------------------------------------------------------------


@pytest.fixture
def lock_key() -> Iterator[str]:
    key = f"test-beat-lock-{uuid.uuid4().hex}"
    yield key
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(key)


@pytest.fixture
def beat_queue() -> Iterator[str]:
    name = f"test-beat-{uuid.uuid4().hex[:10]}"
    yield name
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(name)


def _queued(queue: str) -> int:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL).llen(queue)


def _beat(lock_key: str, queue: str) -> LockedDatabaseScheduler:
    """A beat whose only job is the heartbeat every second, sent to `queue`."""
    app = Celery("beat-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.beat_schedule = {
        "test-heartbeat": {
            "task": "apps.core.tasks.record_worker_heartbeat",
            "schedule": 1.0,
            "options": {"queue": queue},
        }
    }
    scheduler = LockedDatabaseScheduler(app=app, lock_key=lock_key)
    scheduler._finalize.cancel()  # its at-exit sync would run after the test database is gone
    return scheduler


def test_the_beat_lock_is_held_by_one_and_renewed_only_by_it(lock_key: str) -> None:
    first = BeatLock(settings.CELERY_BROKER_URL, lock_key, timeout=30)
    second = BeatLock(settings.CELERY_BROKER_URL, lock_key, timeout=30)

    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewing its own lock
    # the second cannot release what it does not hold
    assert not second.release()
    assert not second.acquire()
    assert first.release()
    assert second.acquire()


def test_a_dead_beats_lock_expires_and_another_takes_over(lock_key: str) -> None:
    dead = BeatLock(settings.CELERY_BROKER_URL, lock_key, timeout=0.3)
    waiting = BeatLock(settings.CELERY_BROKER_URL, lock_key, timeout=0.3)
    assert dead.acquire()
    assert not waiting.acquire()
    time.sleep(0.4)  # the holder died without releasing: no renewal
    assert waiting.acquire()


@pytest.mark.django_db(transaction=True)
def test_two_beats_send_a_due_job_once(lock_key: str, beat_queue: str) -> None:
    # given two beats started with the same schedule
    first = _beat(lock_key, beat_queue)
    second = _beat(lock_key, beat_queue)
    try:
        first.tick()
        second.tick()
        assert first.holding and not second.holding
        time.sleep(1.2)  # the heartbeat is due

        # when both tick
        first.tick()
        second.tick()

        # then the job was sent once, by the holder
        assert _queued(beat_queue) == 1

        # and when the holder stops, the other takes over and sends the next run
        first.close()
        assert not first.holding
        time.sleep(1.2)
        second.tick()
        assert second.holding
        second.tick()
        assert _queued(beat_queue) >= 2
    finally:
        first.close()
        second.close()


# --- queues -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("apps.webhooks.tasks.deliver", "webhooks"),
        ("apps.webhooks.tasks.sweep", "webhooks"),
        ("apps.goals.tasks.send_weekly_reports", "reports"),
        ("apps.visits.tasks_reports.draft_weekly_reports", "reports"),
        ("apps.leads.tasks.purge_import_uploads", "imports"),
        ("apps.receivables.tasks.daily_run", "default"),
        ("apps.customers.tasks.release_pool_due", "default"),
    ],
)
def test_jobs_are_routed_to_the_queue_of_their_kind(task: str, queue: str) -> None:
    route = celery_app.amqp.router.route({}, task)
    assert route["queue"].name == queue


def test_a_worker_without_q_consumes_every_queue() -> None:
    # (the declared queues: the worker tests of this process add their own at run time)
    assert {q.name for q in celery_app.conf.task_queues} == set(settings.CELERY_QUEUE_NAMES)
    assert set(settings.CELERY_QUEUE_NAMES) == {"default", "reports", "webhooks", "imports"}


def test_every_scheduled_job_goes_to_a_declared_queue() -> None:
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        route = celery_app.amqp.router.route({}, entry["task"])
        assert route["queue"].name in settings.CELERY_QUEUE_NAMES, entry["task"]


# --- replica ----------------------------------------------------------------------------


def test_the_replica_url_names_match_existing_report_pages() -> None:
    for name in [
        "goals:attainment",
        "goals:comparison",
        "opportunities:funnel",
        "opportunities:forecast",
        "receivables:figures",
        "visits:figures",
        "incentives:diagnostics",
        "incentives:scorecard_ranking",
        "incentives:statement_export",
    ]:
        reverse(name)  # a renamed page would silently fall back to the primary
        assert url_reads_replica(name), name
    for name in ["customers:list", "receivables:payment_list", "api:customer-list"]:
        assert not url_reads_replica(name), name
    assert REPLICA_URL_NAMES


@pytest.fixture
def replica(settings) -> str:
    """The second database connection standing in for the replica (settings_test: a test
    mirror of the test database, its own connection, seeing only committed rows like a
    streaming replica), with report reads turned on."""
    settings.REPLICA_READS = True
    return "replica"


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_report_reads_the_replica_until_the_user_writes(client, replica: str) -> None:
    from tests.org import build_org

    org = build_org()
    manager = org.manager1
    client.force_login(manager)
    url = reverse("opportunities:funnel")

    # a report page reads from the replica
    with CaptureQueriesContext(connections[replica]) as on_replica:
        assert client.get(url).status_code == 200
    assert len(on_replica.captured_queries) > 0

    # an ordinary list does not
    with CaptureQueriesContext(connections[replica]) as on_replica:
        assert client.get(reverse("customers:list")).status_code == 200
    assert len(on_replica.captured_queries) == 0

    # after the user writes something, their next report reads the primary (read-your-writes)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    with CaptureQueriesContext(connections[replica]) as on_replica:
        assert client.get(url).status_code == 200
    assert len(on_replica.captured_queries) == 0


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_without_replica_reads_every_read_goes_to_the_primary(client, replica, settings) -> None:
    from tests.org import build_org

    settings.REPLICA_READS = False
    org = build_org()
    client.force_login(org.manager1)
    with CaptureQueriesContext(connections[replica]) as on_replica:
        assert client.get(reverse("opportunities:funnel")).status_code == 200
    assert len(on_replica.captured_queries) == 0
