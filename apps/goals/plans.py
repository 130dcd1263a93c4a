"""Sales plans (销售计划书) and target adjustments (执行困难报告单及修正单): seed 004 flow 1 steps
1–3 and 6–7. The approval engine calls back in its transaction, with the document locked."""

from __future__ import annotations

from django.utils import timezone

from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_return_to_draft

from .models import SalesPlan, TargetAdjustment


def on_plan_submitted(plan: SalesPlan, request: ApprovalRequest) -> None:
    plan.submit()
    plan.save()


def on_plan_approved(plan: SalesPlan, request: ApprovalRequest) -> None:
    plan.approve()
    plan.approved_at = timezone.now()
    plan.save()


def on_plan_returned(plan: SalesPlan, request: ApprovalRequest) -> None:
    approval_return_to_draft(plan, request)


def on_adjustment_submitted(adjustment: TargetAdjustment, request: ApprovalRequest) -> None:
    adjustment.submit()
    adjustment.save()


def on_adjustment_approved(adjustment: TargetAdjustment, request: ApprovalRequest) -> None:
    adjustment.approve()
    adjustment.approved_at = timezone.now()
    adjustment.save()


def on_adjustment_returned(adjustment: TargetAdjustment, request: ApprovalRequest) -> None:
    approval_return_to_draft(adjustment, request)
