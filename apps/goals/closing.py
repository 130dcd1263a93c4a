"""Period close and review (seed 004 flow 1 steps 8–12)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_return_to_draft

from .models import PeriodReview


def can_submit_review(user: Any, review: PeriodReview) -> bool:
    """The head of the reviewed unit writes and submits the summary."""
    return review.org_unit.head_id == user.pk


def on_review_submitted(review: PeriodReview, request: ApprovalRequest) -> None:
    review.submit()
    review.save()


def on_review_approved(review: PeriodReview, request: ApprovalRequest) -> None:
    review.approve()
    review.approved_at = timezone.now()
    review.save()


def on_review_returned(review: PeriodReview, request: ApprovalRequest) -> None:
    approval_return_to_draft(review, request)
