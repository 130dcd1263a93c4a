"""Two approvers acting at once are serialised: exactly one decision is kept."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from apps.approvals.choices import RequestStatus
from apps.approvals.models import ApprovalDecision, ApprovalRequest, ApprovalStep
from apps.approvals.services import approval_approve, approval_reject, approval_submit
from apps.core.errors import Conflict
from tests.testapp.models import Memo

from .conftest import make_memo


def run_at_once(*actions) -> list[object]:
    """Run the actions in threads that start together; return each one's result or error."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int, action) -> None:
        try:
            barrier.wait()
            results[i] = action()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_approve_and_reject_leave_one_decision(org, policy, second_finance):
    # given a memo waiting for two finance users, any one of whom decides
    ApprovalStep.objects.filter(policy=policy, order=3).update(mode="any")
    memo = make_memo(org.rep1a, "200000")
    request = approval_submit(document=memo, by=org.rep1a)
    request = approval_approve(request=request, by=org.sup1)
    request = approval_approve(request=request, by=org.manager1)
    # when one approves while the other returns it, at the same moment
    results = run_at_once(
        lambda: approval_approve(request=request, by=org.finance),
        lambda: approval_reject(request=request, by=second_finance, comment="too risky"),
    )
    # then exactly one succeeded, the other was refused as no longer its turn
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], Conflict), results
    finance_decisions = ApprovalDecision.objects.filter(
        request=request, round=1, step_name="Finance approval"
    )
    assert finance_decisions.count() == 1
    final = ApprovalRequest.objects.get(pk=request.pk)
    memo = Memo.objects.get(pk=memo.pk)
    if finance_decisions.get().decision == "approve":
        assert (final.status, memo.status, memo.approved_count) == (
            RequestStatus.APPROVED, "approved", 1,
        )  # fmt: skip
    else:
        assert (final.status, memo.status) == (RequestStatus.REJECTED, "draft")


@pytest.mark.django_db(transaction=True)
def test_same_approver_double_click_approves_once(org, policy):
    # given a memo above the manager threshold waiting for the supervisor
    request = approval_submit(document=make_memo(org.rep1a, "50000"), by=org.rep1a)
    # when the supervisor's approval arrives twice at once
    results = run_at_once(
        lambda: approval_approve(request=request, by=org.sup1),
        lambda: approval_approve(request=request, by=org.sup1),
    )
    # then one approval is recorded and the manager's step is opened once
    assert sum(isinstance(r, Conflict | PermissionDenied) for r in results) == 1, results
    assert ApprovalDecision.objects.filter(request=request, decision="approve").count() == 1
    assert request.tasks.filter(approver=org.manager1, status="waiting").count() == 1
    assert Memo.objects.get(pk=request.object_id).amount == Decimal("50000")
