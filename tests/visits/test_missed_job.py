"""The nightly missed-plan job: set-based, idempotent, in a real worker."""

from __future__ import annotations

import pytest

from apps.visits.choices import PlanStatus
from apps.visits.models import VisitPlan
from apps.visits.services import visit_plan_cancel, visit_plan_mark_missed
from apps.visits.tasks import mark_missed_plans
from tests.core.test_celery_worker import queue, worker  # noqa: F401

from .conftest import past_plan


def test_open_plans_of_past_days_are_missed_once(make_plan, org):
    # given an open plan of yesterday, a cancelled one of yesterday and an open one of today
    yesterday = past_plan(make_plan(), 1)
    cancelled = past_plan(visit_plan_cancel(plan=make_plan(), by=org.rep1a, reason="x"), 1)
    today = make_plan(days=0)
    # when the job runs twice
    first, second = visit_plan_mark_missed(), visit_plan_mark_missed()
    # then only yesterday's open plan is missed, once
    assert (first, second) == (1, 0)
    status = dict(VisitPlan.objects.values_list("pk", "status"))
    assert status[yesterday.pk] == PlanStatus.MISSED
    assert status[cancelled.pk] == PlanStatus.CANCELLED
    assert status[today.pk] == PlanStatus.PLANNED


def test_job_is_one_update(make_plan, django_assert_num_queries):
    for _ in range(5):
        past_plan(make_plan(), 3)
    with django_assert_num_queries(3):  # savepoint, UPDATE, release (history context)
        assert visit_plan_mark_missed() == 5


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_job_twice_and_marks_once(worker, queue, make_plan):  # noqa: F811
    # given two open plans of last week
    for days_ago in (7, 6):
        past_plan(make_plan(), days_ago)
    # when the job runs in the worker twice
    first = mark_missed_plans.apply_async(queue=queue).get(timeout=20)
    stamps = dict(VisitPlan.objects.values_list("pk", "updated_at"))
    second = mark_missed_plans.apply_async(queue=queue).get(timeout=20)
    # then both were missed by the first run and the second changed nothing
    assert (first, second) == (2, 0)
    assert set(VisitPlan.objects.values_list("status", flat=True)) == {PlanStatus.MISSED}
    assert dict(VisitPlan.objects.values_list("pk", "updated_at")) == stamps
