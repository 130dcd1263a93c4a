"""Quote (报价单) use cases and the quote-discount approval callbacks (折扣审批).

The callbacks run inside the approval service's transaction with the quote locked (see
apps.approvals.registry): submitted → pending; approved → approved (a quote whose discount is
over no step's threshold is approved at once); returned or withdrawn → draft with the comment.
"""

from __future__ import annotations

from django.utils import timezone

from apps.approvals.choices import Decision
from apps.approvals.models import ApprovalDecision, ApprovalRequest

from .models import Quote


def on_quote_submitted(quote: Quote, request: ApprovalRequest) -> None:
    quote.submit()
    quote.return_comment = ""
    quote.save()


def on_quote_approved(quote: Quote, request: ApprovalRequest) -> None:
    quote.approve()
    quote.approved_at = timezone.now()
    quote.save()


def on_quote_returned(quote: Quote, request: ApprovalRequest) -> None:
    """Back to draft, keeping the approver's comment for the owner (退回)."""
    decision = (
        ApprovalDecision.objects.filter(
            request=request, decision__in=[Decision.REJECT, Decision.WITHDRAW]
        )
        .order_by("-id")
        .first()
    )
    quote.return_to_draft()
    quote.return_comment = decision.comment if decision else ""
    quote.save()
