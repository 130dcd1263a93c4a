"""Reads of approvals, scoped: a user sees the requests of the people in their data scope and
every request in which they approve a step."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.accounts.scope import Scope, scope_of, scope_q

from .choices import RequestStatus, TaskStatus
from .models import ApprovalDecision, ApprovalRequest, ApprovalTask


def approval_list(*, user: User, status: str = "", document_type: str = "") -> QuerySet:
    if scope_of(user) is Scope.ALL:
        # (An empty Q() ORed with a condition would be dropped by Django: no filter at all.)
        qs = ApprovalRequest.objects.all()
    else:
        mine = ApprovalTask.objects.filter(request=OuterRef("pk"), approver=user)
        qs = ApprovalRequest.objects.filter(scope_q(user, owner_field="submitter") | Exists(mine))
    qs = qs.select_related("submitter", "policy")
    if status:
        qs = qs.filter(status=status)
    if document_type:
        qs = qs.filter(document_type=document_type)
    return qs


def approval_get(*, user: User, pk: int) -> ApprovalRequest:
    qs = approval_list(user=user).prefetch_related(
        Prefetch(
            "tasks",
            queryset=ApprovalTask.objects.select_related("approver", "delegated_from"),
        ),
        Prefetch(
            "decisions",
            queryset=ApprovalDecision.objects.select_related("actor", "on_behalf_of"),
        ),
    )
    return get_object_or_404(qs, pk=pk)


def approval_inbox(*, user: User, document_type: str = "") -> QuerySet:
    """Tasks waiting for `user` (待我审批), oldest first, with their requests."""
    qs = ApprovalTask.objects.filter(
        approver=user, status=TaskStatus.WAITING, request__status=RequestStatus.PENDING
    ).select_related("request__submitter", "delegated_from")
    if document_type:
        qs = qs.filter(request__document_type=document_type)
    return qs.order_by("created_at", "id")


def approval_submitted_by(*, user: User, status: str = "") -> QuerySet:
    qs = ApprovalRequest.objects.filter(submitter=user).select_related("policy")
    if status:
        qs = qs.filter(status=status)
    return qs


def approval_rounds(request: ApprovalRequest) -> list[dict]:
    """The request's rounds, newest first, each with its tasks and decisions (uses the
    prefetched relations of approval_get)."""
    rounds: dict[int, dict] = {}
    for task in request.tasks.all():
        rounds.setdefault(task.round, {"round": task.round, "tasks": [], "decisions": []})
        rounds[task.round]["tasks"].append(task)
    for decision in request.decisions.all():
        rounds.setdefault(decision.round, {"round": decision.round, "tasks": [], "decisions": []})
        rounds[decision.round]["decisions"].append(decision)
    return [rounds[k] for k in sorted(rounds, reverse=True)]


def approval_waiting_count(*, user: User) -> int:
    return approval_inbox(user=user).count()
