"""`{% approval_panel document %}`: a document's approval panel (审批), for any registered
document's detail page.

The panel shows the current round of the chain as a vertical stepper (each step: its name, the
approvers with "on behalf of" for a delegate, what they decided, when, and their comment), the
step waiting now highlighted, the earlier rounds collapsed below, and the buttons the viewer may
use now: submit (or resubmit), approve, return (退回) and withdraw (撤回). The buttons post to
`apps.approvals.views` with htmx and swap the panel; without JavaScript they post and redirect
back with a message.

The page that includes the panel has already checked that the viewer may see the document; the
services stay the authority on who may do what (the buttons only follow the same rules, from
`apps.approvals.permissions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.accounts.models import User
from apps.approvals import registry
from apps.approvals.choices import Decision, RequestStatus, TaskStatus
from apps.approvals.forms import DecisionForm
from apps.approvals.models import (
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalStep,
    ApprovalTask,
)
from apps.approvals.permissions import can_decide, can_withdraw
from apps.approvals.resolution import apply_delegation, resolve_step
from apps.approvals.selectors import approval_rounds
from apps.approvals.services import approval_request_for

register = template.Library()

# Step states of the stepper and their icon (Bootstrap Icons).
STATE_ICONS = {
    "submitted": "send",
    "approved": "check-lg",
    "current": "hourglass-split",
    "returned": "arrow-return-left",
    "withdrawn": "arrow-counterclockwise",
    "cancelled": "dash",
    "upcoming": "circle",
    "done": "patch-check",
}
STATE_LABELS = {
    "approved": _("Approved"),
    "current": _("Waiting"),
    "returned": _("Returned"),
    "cancelled": _("Not reached"),
    "upcoming": pgettext_lazy("approval step", "Next"),
}
STATUS_BADGES = {
    RequestStatus.PENDING: "bg-primary-subtle text-primary-emphasis",
    RequestStatus.APPROVED: "bg-success-subtle text-success-emphasis",
    RequestStatus.REJECTED: "bg-danger-subtle text-danger-emphasis",
    RequestStatus.WITHDRAWN: "bg-secondary-subtle text-secondary-emphasis",
}
TASK_BADGES = {
    TaskStatus.WAITING: "text-primary",
    TaskStatus.APPROVED: "text-success",
    TaskStatus.REJECTED: "text-danger",
    TaskStatus.SUPERSEDED: "text-body-tertiary",
    TaskStatus.CANCELLED: "text-body-tertiary",
}


@dataclass
class ShownApprover:
    user: User
    on_behalf_of: User | None = None
    status: str = ""
    status_label: str | Promise = ""
    at: datetime | None = None
    comment: str = ""

    @property
    def status_class(self) -> str:
        return TASK_BADGES.get(self.status, "text-body-secondary")


@dataclass
class ShownStep:
    """One line of the stepper: the submission, a step of the chain, or the outcome."""

    state: str
    name: str | Promise
    approvers: list[ShownApprover] = field(default_factory=list)
    actor: User | None = None
    on_behalf_of: User | None = None
    at: datetime | None = None
    comment: str = ""
    mode: str = "any"

    @property
    def all_must_approve(self) -> bool:
        return self.mode == "all" and len(self.approvers) > 1

    @property
    def any_one_approves(self) -> bool:
        return self.mode != "all" and len(self.approvers) > 1

    @property
    def icon(self) -> str:
        return STATE_ICONS.get(self.state, "circle")

    @property
    def state_label(self) -> str | Promise:
        return STATE_LABELS.get(self.state, "")


@dataclass
class ShownRound:
    """An earlier round, collapsed: how it ended, and every decision in it."""

    number: int
    outcome: str  # "returned", "withdrawn", "approved" or "" (unknown)
    by: User | None
    on_behalf_of: User | None
    at: datetime | None
    comment: str
    step_name: str
    decisions: list[ApprovalDecision]


def document_type_label(key: str, policy_name: str = "") -> str | Promise:
    """What a person calls a document type: the label its app registered, else the policy's
    name, else the key."""
    try:
        return registry.get(key).label
    except KeyError:
        return policy_name or key


def _prefetch(approval: ApprovalRequest) -> None:
    """Load what the panel reads in a fixed number of queries (whatever the chain's length)."""
    prefetch_related_objects(
        [approval],
        Prefetch(
            "tasks",
            queryset=ApprovalTask.objects.select_related("approver", "delegated_from"),
        ),
        Prefetch(
            "decisions",
            queryset=ApprovalDecision.objects.select_related("actor", "on_behalf_of"),
        ),
        Prefetch("policy__steps", queryset=ApprovalStep.objects.select_related("user")),
    )


def _upcoming_approvers(step: Any, submitter: User) -> list[ShownApprover]:
    """Who a step not opened yet would go to today (it is resolved again when it opens)."""
    assignees = apply_delegation(
        resolve_step(step, submitter), submitter=submitter, on=timezone.localdate()
    )
    return [ShownApprover(user=a.approver, on_behalf_of=a.delegated_from) for a in assignees]


def _round_steps(approval: ApprovalRequest, tasks: list, decisions: list) -> list[ShownStep]:
    """The stepper of the request's latest round."""
    steps: list[ShownStep] = []
    comments = {d.task_id: d.comment for d in decisions if d.task_id}
    submitted = next((d for d in decisions if d.decision == Decision.SUBMIT), None)
    steps.append(
        ShownStep(
            state="submitted",
            name=_("Submitted"),
            actor=submitted.actor if submitted else approval.submitter,
            at=submitted.created_at if submitted else approval.submitted_at,
            comment=submitted.comment if submitted else "",
        )
    )
    by_step: dict[int, list] = {}
    for task in tasks:
        by_step.setdefault(task.step_order, []).append(task)
    pending = approval.status == RequestStatus.PENDING
    for order in sorted(by_step):
        step_tasks = by_step[order]
        statuses = {t.status for t in step_tasks}
        if TaskStatus.REJECTED in statuses:
            state = "returned"
        elif pending and order == approval.current_step:
            state = "current"
        elif TaskStatus.APPROVED in statuses:
            state = "approved"
        else:
            state = "cancelled"
        decided = [t.decided_at for t in step_tasks if t.decided_at]
        steps.append(
            ShownStep(
                state=state,
                name=step_tasks[0].step_name,
                mode=step_tasks[0].mode,
                at=max(decided) if decided and state != "current" else None,
                approvers=[
                    ShownApprover(
                        user=t.approver,
                        on_behalf_of=t.delegated_from,
                        status=t.status,
                        status_label=t.get_status_display(),
                        at=t.decided_at,
                        comment=comments.get(t.pk, ""),
                    )
                    for t in step_tasks
                ],
            )
        )
    if pending:
        for step in approval.policy.steps.all():
            opened = approval.current_step is not None and step.order <= approval.current_step
            if opened or step.order in by_step:
                continue
            if step.applies(amount=approval.amount, percentage=approval.percentage):
                steps.append(
                    ShownStep(
                        state="upcoming",
                        name=step.name,
                        mode=step.mode,
                        approvers=_upcoming_approvers(step, approval.submitter),
                    )
                )
    elif approval.status == RequestStatus.APPROVED:
        steps.append(ShownStep(state="done", name=_("Approved"), at=approval.decided_at))
    elif approval.status == RequestStatus.WITHDRAWN:
        withdrawal = next((d for d in decisions if d.decision == Decision.WITHDRAW), None)
        steps.append(
            ShownStep(
                state="withdrawn",
                name=_("Withdrawn"),
                actor=withdrawal.actor if withdrawal else approval.submitter,
                at=withdrawal.created_at if withdrawal else approval.decided_at,
                comment=withdrawal.comment if withdrawal else "",
            )
        )
    return steps


def _earlier_round(number: int, decisions: list) -> ShownRound:
    ending = next(
        (
            d
            for d in reversed(decisions)
            if d.decision in (Decision.REJECT, Decision.WITHDRAW, Decision.APPROVE)
        ),
        None,
    )
    outcome = {Decision.REJECT: "returned", Decision.WITHDRAW: "withdrawn"}.get(
        ending.decision if ending else "", "approved" if ending else ""
    )
    return ShownRound(
        number=number,
        outcome=outcome,
        by=ending.actor if ending else None,
        on_behalf_of=ending.on_behalf_of if ending else None,
        at=ending.created_at if ending else None,
        comment=ending.comment if ending else "",
        step_name=ending.step_name if ending else "",
        decisions=decisions,
    )


def _preview(document: models.Model, doctype: registry.DocumentType, user: User) -> dict:
    """The chain a submission by `user` would follow today, and whether a policy exists."""
    policy = (
        ApprovalPolicy.objects.filter(document_type=doctype.key, is_active=True)
        .prefetch_related("steps__user")
        .first()
    )
    if policy is None:
        return {"has_policy": False, "steps": []}
    amount, percentage = doctype.get_amount(document), doctype.get_percentage(document)
    steps = [
        ShownStep(
            state="upcoming",
            name=step.name,
            mode=step.mode,
            approvers=_upcoming_approvers(step, user),
        )
        for step in policy.steps.all()
        if step.applies(amount=amount, percentage=percentage)
    ]
    return {"has_policy": True, "steps": steps, "policy": policy}


def approval_panel_context(
    *,
    user: User,
    document: models.Model | None,
    approval: ApprovalRequest | None = None,
    form: DecisionForm | None = None,
    error: str = "",
    notice: str = "",
    next_url: str = "",
) -> dict:
    """Everything `approvals/_panel_section.html` shows, for `user` looking at `document`.

    `approval` may be passed when the caller already has the document's request (it is
    reloaded with what the panel reads); `form`, `error` and `notice` carry the result of an
    action just posted.
    """
    doctype = registry.for_model(type(document)) if document is not None else None
    if approval is None and document is not None:
        approval = approval_request_for(document)
    if approval is not None:
        _prefetch(approval)
        if doctype is None:
            doctype = registry.get(approval.document_type)
    rounds = approval_rounds(approval) if approval else []
    latest = rounds[0] if rounds and rounds[0]["round"] == approval.round else None
    steps = (
        _round_steps(approval, latest["tasks"], latest["decisions"]) if latest is not None else []
    )
    earlier = [
        _earlier_round(r["round"], r["decisions"])
        for r in rounds
        if approval is not None and r["round"] != approval.round
    ]
    returned = None
    if approval is not None and approval.status == RequestStatus.REJECTED and latest:
        returned = next(
            (d for d in reversed(latest["decisions"]) if d.decision == Decision.REJECT), None
        )
    may_submit = (
        document is not None
        and doctype is not None
        and (
            approval is None or approval.status in (RequestStatus.REJECTED, RequestStatus.WITHDRAWN)
        )
        and doctype.can_submit(user, document)
    )
    preview = (
        _preview(document, doctype, user)
        if may_submit and approval is None
        else {"has_policy": True, "steps": []}
    )
    content_type = ContentType.objects.get_for_model(type(document)) if document else None
    return {
        "approval": approval,
        "document": document,
        "content_type_id": content_type.pk if content_type else None,
        "type_label": doctype.label if doctype else "",
        "steps": steps,
        "earlier_rounds": earlier,
        "returned": returned,
        "preview": preview,
        "may_submit": may_submit,
        "may_decide": approval is not None and can_decide(user, approval),
        "may_withdraw": approval is not None and can_withdraw(user, approval),
        "form": form or DecisionForm(),
        "error": error,
        "notice": notice,
        "next_url": next_url,
        "status_class": STATUS_BADGES.get(approval.status, "") if approval else "",
    }


@register.inclusion_tag("approvals/_panel.html", takes_context=True)
def approval_panel(
    context: template.Context, document: models.Model, approval: ApprovalRequest | None = None
) -> dict:
    """The approval panel of `document` (a model registered in `apps.approvals.registry`)."""
    request = context.get("request")
    panel = approval_panel_context(
        user=request.user,
        document=document,
        approval=approval,
        next_url=request.get_full_path() if request else "",
    )
    return {**panel, "request": request, "csrf_token": context.get("csrf_token")}


@register.filter
def doc_type_label(key: str, policy_name: str = "") -> str | Promise:
    """`{{ approval.document_type|doc_type_label:approval.policy.name }}`."""
    return document_type_label(key, policy_name)


@register.filter
def approval_status_class(status: str) -> str:
    """The badge classes of a request status."""
    return STATUS_BADGES.get(status, "text-bg-light")


@register.filter
def waiting_too_long(task: ApprovalTask, now: datetime | None = None) -> bool:
    """Whether a waiting task is older than its policy's reminder limit (shown in red)."""
    now = now or timezone.now()
    hours = task.request.policy.remind_after_hours
    return task.created_at < now - timedelta(hours=hours)
