"""The daily receivables job through a real Celery worker on the Redis broker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.receivables.models import CollectionTask, Installment, PenaltyAccrual
from apps.receivables.tasks import daily_run
from tests.core.test_celery_worker import queue, wait_for, worker  # noqa: F401 (fixtures)

from .conftest_jobs import customer_of, installment, signed_contract

pytestmark = pytest.mark.celery_worker


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_daily_job(org, worker: None, queue: str) -> None:  # noqa: F811
    # given an installment 5 days overdue (the worker's clock is the real one)
    today = timezone.localdate()
    contract = signed_contract(customer_of(org.rep1a), grace=0, rate="0.0500")
    item = installment(contract, today - timedelta(days=5), "10000.00")

    # when beat's task is sent through the broker
    result = daily_run.apply_async(queue=queue)

    # then the worker ran the job into Postgres: due, 5 days overdue, 5 × 5.00, a task
    assert wait_for(lambda: CollectionTask.objects.filter(installment=item).exists())
    assert result.get(timeout=20)["changes"] > 0
    item = Installment.objects.get(pk=item.pk)
    assert (item.status, item.overdue_days, item.aging_bucket) == ("due", 5, 1)
    assert PenaltyAccrual.objects.filter(installment=item).count() == 5
    assert str(item.penalty_accrued) == "25.00"
    # and a second run through the worker changes nothing
    assert daily_run.apply_async(queue=queue).get(timeout=20)["changes"] == 0
