"""What a user may do with an approval request now: the `available_transitions` of its detail.

These are the same rules the services enforce (`apps.approvals.services`): the services stay the
authority, raising 403/409; here they are only read, to tell a client which buttons to show.
They use the request's prefetched tasks (`selectors.approval_get`), so a detail costs no query
more.
"""

from __future__ import annotations

from apps.accounts.models import User

from .choices import RequestStatus, TaskStatus
from .models import ApprovalRequest

APPROVE = "approve"
REJECT = "reject"
WITHDRAW = "withdraw"
TRANSITIONS = (APPROVE, REJECT, WITHDRAW)


def can_decide(user: User, approval: ApprovalRequest) -> bool:
    """Whether a task of the request's current step is waiting for `user` (approve or return)."""
    if approval.status != RequestStatus.PENDING or approval.current_step is None:
        return False
    return any(
        task.approver_id == user.pk
        and task.round == approval.round
        and task.step_order == approval.current_step
        and task.status == TaskStatus.WAITING
        for task in approval.tasks.all()
    )


def can_withdraw(user: User, approval: ApprovalRequest) -> bool:
    """Whether `user` may take the request back: its submitter, while it is pending."""
    return approval.status == RequestStatus.PENDING and approval.submitter_id == user.pk


def available_transitions(user: User, approval: ApprovalRequest) -> list[str]:
    """The transition names `user` may take on the request now, in a stable order."""
    names: list[str] = []
    if can_decide(user, approval):
        names += [APPROVE, REJECT]
    if can_withdraw(user, approval):
        names.append(WITHDRAW)
    return names
