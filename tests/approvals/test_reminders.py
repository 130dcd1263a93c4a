"""Reminders and escalation of steps waiting too long: once per step per threshold, also when
the job runs twice, and in a real Celery worker on the real Redis broker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.approvals.models import ApprovalTask
from apps.approvals.services import (
    approval_escalate_overdue,
    approval_send_reminders,
    approval_submit,
)
from apps.approvals.tasks import escalate_overdue, send_reminders
from apps.notifications.models import Notification
from tests.core.test_celery_worker import queue, worker  # noqa: F401  (fixtures)

from .conftest import make_memo


def age(request, hours: int) -> None:
    ApprovalTask.objects.filter(request=request).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def test_fresh_step_is_not_reminded(org, policy):
    request = approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    age(request, 23)
    assert approval_send_reminders() == 0
    assert not Notification.objects.filter(kind="approval_reminder").exists()


def test_step_past_the_reminder_limit_reminds_the_approver_once(org, policy):
    # given a step waiting 25 hours (limit 24)
    request = approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    age(request, 25)
    # when the job runs twice
    assert approval_send_reminders() == 1
    assert approval_send_reminders() == 0
    # then the supervisor got exactly one reminder, and nobody was escalated yet
    assert Notification.objects.filter(recipient=org.sup1, kind="approval_reminder").count() == 1
    assert approval_escalate_overdue() == 0


def test_step_past_the_escalation_limit_notifies_the_approvers_head_once(org, policy):
    # given a step waiting 49 hours (escalation after 48)
    request = approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    age(request, 49)
    # when both jobs run twice
    for _ in range(2):
        approval_send_reminders()
        approval_escalate_overdue()
    # then the supervisor was reminded once and his head (the manager) told once
    assert Notification.objects.filter(recipient=org.sup1, kind="approval_reminder").count() == 1
    assert (
        Notification.objects.filter(recipient=org.manager1, kind="approval_escalated").count() == 1
    )


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_reminder_and_escalation_jobs_run_in_a_real_worker_once(org, policy, worker, queue):  # noqa: F811
    # given an overdue step
    request = approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    age(request, 72)
    # when beat's jobs reach the worker twice through Redis
    sent = []
    for _ in range(2):
        sent.append(send_reminders.apply_async(queue=queue))
        sent.append(escalate_overdue.apply_async(queue=queue))
    # then the first run of each job sends one, the second none
    assert [result.get(timeout=30) for result in sent] == [1, 1, 0, 0]
    assert Notification.objects.filter(recipient=org.sup1, kind="approval_reminder").count() == 1
    assert (
        Notification.objects.filter(recipient=org.manager1, kind="approval_escalated").count() == 1
    )


def test_escalation_of_many_steps_costs_the_queries_of_one(org, policy, django_assert_num_queries):
    # given one overdue step: the claim, the mark, the heads, the notification, the e-mail
    # preferences (and the savepoint pair of the test's transaction)
    age(approval_submit(document=make_memo(org.rep1a), by=org.rep1a), 49)
    with django_assert_num_queries(7):
        assert approval_escalate_overdue() == 1
    # when three more, waiting on three approvers, are overdue
    for rep in (org.rep1b, org.rep2a, org.rep3a):
        age(approval_submit(document=make_memo(rep), by=rep), 49)
    with django_assert_num_queries(7):
        assert approval_escalate_overdue() == 3
    # then each approver's head was told once per step: sup1's and sup2's head is manager1,
    # sup3's manager2, with the step's approver named
    escalated = Notification.objects.filter(kind="approval_escalated")
    assert sorted(escalated.values_list("recipient__username", flat=True)) == [
        "manager1", "manager1", "manager1", "manager2",
    ]  # fmt: skip
    assert escalated.filter(recipient=org.manager2, title__contains=org.sup3.display_name).exists()


def test_reminders_of_many_steps_cost_the_queries_of_one(org, policy, django_assert_num_queries):
    # given one step past the reminder limit: the claim, the mark, the notification, the e-mail
    # preferences (and the savepoint pair of the test's transaction)
    age(approval_submit(document=make_memo(org.rep1a), by=org.rep1a), 25)
    with django_assert_num_queries(6):
        assert approval_send_reminders() == 1
    # when three more, waiting on three approvers, are past it
    requests = {}
    for rep in (org.rep1b, org.rep2a, org.rep3a):
        requests[rep.username] = approval_submit(document=make_memo(rep), by=rep)
        age(requests[rep.username], 25)
    with django_assert_num_queries(6):
        assert approval_send_reminders() == 3
    # then each approver was reminded once per step, linked to that step's document
    reminded = Notification.objects.filter(kind="approval_reminder")
    assert sorted(reminded.values_list("recipient__username", flat=True)) == [
        "sup1", "sup1", "sup2", "sup3",
    ]  # fmt: skip
    assert reminded.get(recipient=org.sup3).url == requests["rep3a"].url
