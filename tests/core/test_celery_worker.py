"""Jobs run in a real Celery worker that consumes from the real Redis broker and writes to the
real Postgres; beat's schedule lands in django-celery-beat's tables."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection
from django.utils import timezone

from apps.core.models import WorkerHeartbeat
from apps.core.tasks import record_worker_heartbeat
from salesctl.celery import app

pytestmark = pytest.mark.celery_worker

WAIT_SECONDS = 20


@pytest.fixture
def queue(worker_id: str) -> str:
    """A queue of this test's own on the shared broker, so that parallel runs (xdist workers,
    another developer's suite, the worker of `make run`) never take each other's messages."""
    return f"test-{worker_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def worker(queue: str) -> Iterator[None]:
    """A Celery worker thread consuming only `queue`: nothing else can run what is sent there."""
    # The worker selects its queues on the process-wide app: restore them for later tests.
    consume_from = app.amqp.queues._consume_from

    # The job runs in the worker's thread, which opens its own database connection: close it
    # after each job, or the test database could not be dropped at the end of the session.
    def close_connection(**kwargs: object) -> None:
        connection.close()

    task_postrun.connect(close_connection, weak=False)
    try:
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            queues=[queue],
            shutdown_timeout=30,
        ):
            yield
    finally:
        task_postrun.disconnect(close_connection)
        app.amqp.queues._consume_from = consume_from
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def wait_for(predicate, seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_worker_on_redis_runs_heartbeat_job_into_postgres(worker: None, queue: str) -> None:
    # given a worker consuming its own queue on the Redis broker, and no heartbeat yet
    assert not WorkerHeartbeat.objects.exists()

    # when the job is sent through the broker
    record_worker_heartbeat.apply_async(queue=queue)

    # then the worker, the queue's only consumer, stamps a heartbeat in Postgres
    assert wait_for(WorkerHeartbeat.objects.exists), f"no heartbeat within {WAIT_SECONDS}s"
    heartbeat = WorkerHeartbeat.objects.get()
    assert heartbeat.hostname
    assert (timezone.now() - heartbeat.seen_at).total_seconds() < WAIT_SECONDS


@pytest.mark.django_db(transaction=True)
def test_heartbeat_job_run_twice_keeps_one_row_per_worker(worker: None, queue: str) -> None:
    # given the worker has stamped its heartbeat once
    record_worker_heartbeat.apply_async(queue=queue)
    assert wait_for(WorkerHeartbeat.objects.exists)
    first = WorkerHeartbeat.objects.get()

    # when the job runs again
    record_worker_heartbeat.apply_async(queue=queue)

    # then the same row moves forward instead of a second row appearing
    assert wait_for(lambda: WorkerHeartbeat.objects.get(pk=first.pk).seen_at > first.seen_at)
    assert WorkerHeartbeat.objects.count() == 1


# Beat's scheduler closes "old" connections, which inside a test's wrapping transaction means
# closing the test's own connection: this test commits for real instead.
@pytest.mark.django_db(transaction=True)
def test_database_scheduler_registers_the_beat_schedule() -> None:
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    # given an empty schedule table
    assert not PeriodicTask.objects.filter(name="record-worker-heartbeat").exists()

    # when beat's database scheduler starts
    scheduler = DatabaseScheduler(app=app)
    scheduler._finalize.cancel()  # its at-exit sync would run after the test database is gone

    # then every entry of CELERY_BEAT_SCHEDULE is a periodic task in the database
    heartbeat = PeriodicTask.objects.select_related("interval").get(name="record-worker-heartbeat")
    assert heartbeat.task == "apps.core.tasks.record_worker_heartbeat"
    assert (heartbeat.interval.every, heartbeat.interval.period) == (60, "seconds")
    assert heartbeat.enabled
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(app.conf.beat_schedule) <= names
