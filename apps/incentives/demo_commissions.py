"""Demo commissions for `manage.py seed_demo`: a company-wide plan (回款提成: 0–100k 1 %,
100k–300k 1.5 %, above 2 %; customers of tier A count 1.2 times; +1 % above the collection
target; clawback of written-off installments), this month's and last month's statements
computed by the nightly job, and last month's submitted by each rep's supervisor and approved
by the manager through the approval engine. Idempotent: the plan is found by its name, the job
changes nothing a second time, and only last month's drafts are submitted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.accounts.selectors import supervisor_of
from apps.approvals.choices import RequestStatus, TaskStatus
from apps.approvals.models import ApprovalTask
from apps.approvals.services import approval_approve, approval_submit
from apps.opportunities.figures import add_months

from .choices import FactorKind, StatementStatus
from .commissions import (
    FactorSpec,
    PlanData,
    TierSpec,
    month_of,
    plan_create,
    statements_compute_due,
)
from .models import CommissionPlan, CommissionStatement

PLAN_NAME = "公司回款提成方案"


def demo_plan_data(valid_from: date) -> PlanData:
    return PlanData(
        name=PLAN_NAME,
        valid_from=valid_from,
        accelerator_rate=Decimal("0.01"),
        clawback_on_write_off=True,
        notes="回款提成：按当月回款（核销）计提，超额累进；A 类客户回款按 1.2 倍计入提成基数；"
        "超出当月回款目标部分加计 1%；坏账核销的回款追回提成。",
        tiers=[
            TierSpec(Decimal("0"), Decimal("0.01")),
            TierSpec(Decimal("100000"), Decimal("0.015")),
            TierSpec(Decimal("300000"), Decimal("0.02")),
        ],
        factors=[FactorSpec(FactorKind.CUSTOMER_TIER, "A", Decimal("1.2"))],
    )


def _approve_last_month(last: date) -> int:
    """Last month's drafts: the rep's supervisor submits, the approvers of each step agree."""
    approved = 0
    drafts = (
        CommissionStatement.objects.filter(month=last, status=StatementStatus.DRAFT)
        .select_related("rep__org_unit")
        .order_by("id")
    )
    for statement in drafts:
        head = supervisor_of(statement.rep)
        if head is None:
            continue
        request = approval_submit(document=statement, by=head, comment="上月提成结算，请审批。")
        for _round in range(5):  # one task per step; the default policy has one
            if request.status != RequestStatus.PENDING:
                break
            task = (
                ApprovalTask.objects.filter(
                    request=request, round=request.round, step_order=request.current_step,
                    status=TaskStatus.WAITING,
                )
                .select_related("approver")
                .order_by("id")
                .first()
            )  # fmt: skip
            if task is None:
                break
            # The request as the engine left it (its status moved on when the last step agreed).
            request = approval_approve(request=request, by=task.approver, comment="同意。")
        if request.status == RequestStatus.APPROVED:
            approved += 1
    return approved


@transaction.atomic
def load(stdout=None) -> int:
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("username").first()
    if admin is None:
        return 0
    today = timezone.localdate()
    this = month_of(today)
    created = 0
    if not CommissionPlan.objects.filter(name=PLAN_NAME).exists():
        if CommissionPlan.objects.filter(is_active=True).exists():
            if stdout:
                stdout.write("commissions: an active plan exists already, no demo plan\n")
        else:
            plan_create(by=admin, data=demo_plan_data(date(this.year - 1, 1, 1)))
            created = 1
    result = statements_compute_due(today=today)
    approved = _approve_last_month(add_months(this, -1))
    if stdout:
        stdout.write(
            f"commissions: {created} plan, {result['created']} statements computed, "
            f"{approved} of last month approved\n"
        )
    return created
