"""Fixtures for the approval engine: a policy for the test-only memo document."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.approvals.models import ApprovalPolicy, ApprovalStep
from tests.testapp.models import memo_new


@pytest.fixture
def policy(db):
    """Supervisor reviews; the manager approves above 10,000; finance (all of them) above
    100,000."""
    policy = ApprovalPolicy.objects.create(
        document_type="testapp.memo", name="Memo", remind_after_hours=24, escalate_after_hours=48
    )
    ApprovalStep.objects.create(
        policy=policy, order=1, name="Supervisor review", approver_kind="direct_supervisor"
    )
    ApprovalStep.objects.create(
        policy=policy, order=2, name="Manager approval", approver_kind="role", role="manager",
        condition_metric="amount", condition_min=Decimal("10000"),
    )  # fmt: skip
    ApprovalStep.objects.create(
        policy=policy, order=3, name="Finance approval", approver_kind="role", role="finance",
        condition_metric="amount", condition_min=Decimal("100000"), mode="all",
    )  # fmt: skip
    return policy


@pytest.fixture
def second_finance(org):
    from tests.factories import UserFactory

    return UserFactory(username="finance2", role="finance", org_unit=org.company)


@pytest.fixture
def memo(org):
    return memo_new(owner=org.rep1a, title="Memo of rep1a", amount=Decimal("5000"))


def make_memo(owner, amount: str = "5000", **kwargs):
    return memo_new(owner=owner, title=f"Memo {amount}", amount=Decimal(amount), **kwargs)
