"""Approval use cases: submit, approve, reject (退回), withdraw, and the reminder jobs.

Every service locks the document row, then the request row, in that order, so that two
approvers acting at once, or an approval racing a withdrawal, are serialised and leave exactly
one decision. The domain callbacks (on submitted / approved / rejected / withdrawn) run in the
same transaction; notifications and e-mails go out only after it commits.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import DurationField, ExpressionWrapper, F, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict
from apps.notifications.choices import NotificationKind
from apps.notifications.services import Notice, notify, notify_each

from . import registry
from .choices import ApprovalMode, Decision, RequestStatus, TaskStatus
from .models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, ApprovalTask
from .resolution import apply_delegation, heads_above, resolve_step


def _today():
    return timezone.localdate()


def _lock_document(document: models.Model) -> models.Model:
    return type(document)._base_manager.select_for_update().get(pk=document.pk)


def _request_for(document: models.Model, *, lock: bool) -> ApprovalRequest | None:
    ct = ContentType.objects.get_for_model(type(document))
    qs = ApprovalRequest.objects.filter(content_type=ct, object_id=document.pk)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.select_related("policy", "submitter__org_unit").first()


def approval_request_for(document: models.Model) -> ApprovalRequest | None:
    """The approval request of a document, if it was ever submitted."""
    return _request_for(document, lock=False)


def approval_is_pending(document: models.Model) -> bool:
    request = _request_for(document, lock=False)
    return request is not None and request.status == RequestStatus.PENDING


def approval_assert_editable(document: models.Model) -> None:
    """Raise Conflict while the document is under approval: nobody edits what is being
    approved (the approver must decide on what they see). Domain update services call this."""
    if approval_is_pending(document):
        raise Conflict(
            _("This document is under approval and cannot be changed. Withdraw it first."),
            code="under_approval",
        )


@transaction.atomic
def approval_submit(*, document: models.Model, by: User, comment: str = "") -> ApprovalRequest:
    """Submit a document to its type's approval policy (or resubmit it after a return).

    The first applicable step's approvers get a task and a notification; a document for which
    no step applies is approved at once.
    """
    doctype = registry.for_model(type(document))
    document = _lock_document(document)
    if not doctype.can_submit(by, document):
        raise PermissionDenied(_("You cannot submit this document for approval."))
    policy = (
        ApprovalPolicy.objects.filter(document_type=doctype.key, is_active=True)
        .prefetch_related("steps__user")
        .first()
    )
    if policy is None:
        raise Conflict(
            _("No approval policy is set up for %(type)s.") % {"type": doctype.label},
            code="no_policy",
        )
    now = timezone.now()
    request = _request_for(document, lock=True)
    if request is None:
        request = ApprovalRequest(
            document_type=doctype.key,
            content_type=ContentType.objects.get_for_model(type(document)),
            object_id=document.pk,
            submitted_at=now,
            policy=policy,
            submitter=by,
        )
    elif request.status == RequestStatus.PENDING:
        raise Conflict(_("This document is already under approval."), code="already_pending")
    elif request.status == RequestStatus.APPROVED:
        raise Conflict(_("This document is already approved."), code="already_approved")
    else:
        request.resubmit()
    request.policy = policy
    request.submitter = by
    request.submitted_at = now
    request.title = doctype.get_title(document)[:300]
    request.url = doctype.get_url(document) or ""
    request.amount = doctype.get_amount(document)
    request.percentage = doctype.get_percentage(document)
    request.flags = sorted(doctype.get_flags(document))
    request.current_step, request.current_step_name = None, ""
    request.save()
    ApprovalDecision.objects.create(
        request=request, round=request.round, actor=by, decision=Decision.SUBMIT, comment=comment
    )
    doctype.on_submitted(document, request)
    _advance(request, document, after=None, actor=by)
    return request


def _advance(
    request: ApprovalRequest, document: models.Model, *, after: int | None, actor: User
) -> None:
    """Open the next applicable step after `after`, or approve the request when none is left.

    Approvers who already approved this round are not asked again; a step whose approvers all
    did is passed.
    """
    submitter = request.submitter
    approved_by = set(
        ApprovalTask.objects.filter(
            request=request, round=request.round, status=TaskStatus.APPROVED
        ).values_list("approver_id", flat=True)
    )
    for step in request.policy.steps.all():
        if after is not None and step.order <= after:
            continue
        if not step.applies(
            amount=request.amount, percentage=request.percentage, flags=request.flags
        ):
            continue
        approvers = resolve_step(step, submitter)
        if not approvers:
            raise Conflict(
                _(
                    "Nobody can approve the step “%(step)s”: ask an administrator to set a head "
                    "for the units above the submitter."
                )
                % {"step": step.name},
                code="no_approver",
            )
        assignees = [
            a
            for a in apply_delegation(approvers, submitter=submitter, on=_today())
            if a.approver.pk not in approved_by
        ]
        if not assignees:
            continue
        ApprovalTask.objects.bulk_create(
            ApprovalTask(
                request=request,
                round=request.round,
                step_order=step.order,
                step_name=step.name,
                mode=step.mode,
                approver=a.approver,
                delegated_from=a.delegated_from,
            )
            for a in assignees
        )
        request.current_step, request.current_step_name = step.order, step.name
        request.save(update_fields=["current_step", "current_step_name", "updated_at"])
        notify(
            recipients=[a.approver for a in assignees],
            kind=NotificationKind.APPROVAL_REQUESTED,
            title=_("Waiting for your approval: %(doc)s") % {"doc": request.title},
            body=_("Step: %(step)s. Submitted by %(who)s.")
            % {"step": step.name, "who": submitter.display_name},
            url=request.url or "",
            actor=actor,
        )
        return
    _finish_approved(request, document, actor=actor)


def _finish_approved(request: ApprovalRequest, document: models.Model, *, actor: User) -> None:
    request.approve()
    request.decided_at = timezone.now()
    request.current_step, request.current_step_name = None, ""
    request.save()
    registry.get(request.document_type).on_approved(document, request)
    notify(
        recipients=[request.submitter],
        kind=NotificationKind.APPROVAL_APPROVED,
        title=_("Approved: %(doc)s") % {"doc": request.title},
        url=request.url or "",
        actor=actor,
    )


def _lock(request: ApprovalRequest) -> tuple[ApprovalRequest, models.Model]:
    """Lock the document, then the request (the order every service uses)."""
    ct = ContentType.objects.get_for_id(request.content_type_id)
    document = ct.model_class()._base_manager.select_for_update().get(pk=request.object_id)
    locked = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("policy", "submitter__org_unit")
        .get(pk=request.pk)
    )
    return locked, document


def _my_waiting_task(request: ApprovalRequest, user: User) -> ApprovalTask:
    """The task of the current step waiting for `user`; 409 when it is not their turn (they
    decided already, or their step comes later), 403 when they have no part in it."""
    if request.status != RequestStatus.PENDING:
        raise Conflict(
            _("This request is %(status)s: nothing is waiting for a decision.")
            % {"status": request.get_status_display()},
            code="not_pending",
        )
    task = (
        ApprovalTask.objects.select_for_update()
        .filter(
            request=request,
            round=request.round,
            step_order=request.current_step,
            approver=user,
            status=TaskStatus.WAITING,
        )
        .first()
    )
    if task is not None:
        return task
    if approval_is_participant(request, user):
        raise Conflict(
            _("This request is not waiting for your decision now."), code="not_your_turn"
        )
    raise PermissionDenied(_("You are not an approver of this request."))


def approval_is_participant(request: ApprovalRequest, user: User) -> bool:
    """Whether `user` approves some step of the request's current round (now, before, or
    later)."""
    if ApprovalTask.objects.filter(request=request, round=request.round, approver=user).exists():
        return True
    for step in request.policy.steps.all():
        if request.current_step is not None and step.order <= request.current_step:
            continue
        if step.applies(amount=request.amount, percentage=request.percentage, flags=request.flags):
            assignees = apply_delegation(
                resolve_step(step, request.submitter), submitter=request.submitter, on=_today()
            )
            if any(a.approver.pk == user.pk for a in assignees):
                return True
    return False


@transaction.atomic
def approval_approve(*, request: ApprovalRequest, by: User, comment: str = "") -> ApprovalRequest:
    """The current step's approver `by` agrees (同意). With "any one" the step is done; with
    "all" it is done when the last of its approvers agrees. Then the next step opens, or the
    request is approved and the document's on_approved callback runs."""
    request, document = _lock(request)
    task = _my_waiting_task(request, by)
    task.approve()
    task.decided_at = timezone.now()
    task.save()
    ApprovalDecision.objects.create(
        request=request,
        round=request.round,
        task=task,
        step_name=task.step_name,
        actor=by,
        on_behalf_of=task.delegated_from,
        decision=Decision.APPROVE,
        comment=comment,
    )
    siblings = ApprovalTask.objects.filter(
        request=request, round=request.round, step_order=task.step_order, status=TaskStatus.WAITING
    )
    if task.mode == ApprovalMode.ANY:
        for other in siblings.select_for_update():
            other.supersede()
            other.save()
    elif siblings.exists():
        return request
    _advance(request, document, after=task.step_order, actor=by)
    return request


@transaction.atomic
def approval_reject(*, request: ApprovalRequest, by: User, comment: str) -> ApprovalRequest:
    """The current step's approver returns the document (退回) with a required comment; the
    request ends this round and the document goes back to its author."""
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say why the document is returned.")})
    request, document = _lock(request)
    task = _my_waiting_task(request, by)
    task.reject()
    task.decided_at = timezone.now()
    task.save()
    _cancel_waiting(request, exclude=task.pk)
    ApprovalDecision.objects.create(
        request=request,
        round=request.round,
        task=task,
        step_name=task.step_name,
        actor=by,
        on_behalf_of=task.delegated_from,
        decision=Decision.REJECT,
        comment=comment.strip(),
    )
    request.reject()
    request.decided_at = timezone.now()
    request.save()
    registry.get(request.document_type).on_rejected(document, request)
    notify(
        recipients=[request.submitter],
        kind=NotificationKind.APPROVAL_REJECTED,
        title=_("Returned: %(doc)s") % {"doc": request.title},
        body=comment.strip(),
        url=request.url or "",
        actor=by,
    )
    return request


@transaction.atomic
def approval_withdraw(*, request: ApprovalRequest, by: User, comment: str = "") -> ApprovalRequest:
    """The submitter takes the document back (撤回) before the chain has decided."""
    request, document = _lock(request)
    if request.submitter_id != by.pk:
        raise PermissionDenied(_("Only the submitter can withdraw this request."))
    if request.status != RequestStatus.PENDING:
        raise Conflict(
            _("This request is %(status)s and can no longer be withdrawn.")
            % {"status": request.get_status_display()},
            code="not_pending",
        )
    waiting = list(
        ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING).select_related(
            "approver"
        )
    )
    _cancel_waiting(request)
    ApprovalDecision.objects.create(
        request=request, round=request.round, actor=by, decision=Decision.WITHDRAW, comment=comment
    )
    request.withdraw()
    request.decided_at = timezone.now()
    request.current_step, request.current_step_name = None, ""
    request.save()
    doctype = registry.get(request.document_type)
    (doctype.on_withdrawn or doctype.on_rejected)(document, request)
    notify(
        recipients=[t.approver for t in waiting],
        kind=NotificationKind.GENERAL,
        title=_("Withdrawn by the submitter: %(doc)s") % {"doc": request.title},
        url=request.url or "",
        actor=by,
    )
    return request


def _cancel_waiting(request: ApprovalRequest, exclude: int | None = None) -> None:
    for other in (
        ApprovalTask.objects.select_for_update()
        .filter(request=request, status=TaskStatus.WAITING)
        .exclude(pk=exclude)
    ):
        other.cancel()
        other.save()


def _hours(field: str) -> ExpressionWrapper:
    return ExpressionWrapper(
        F(field) * Value(timedelta(hours=1), output_field=DurationField()),
        output_field=DurationField(),
    )


@transaction.atomic
def approval_send_reminders(*, now=None) -> int:
    """Remind approvers of steps waiting longer than their policy's reminder limit, once per
    task. Set-based and safe on several workers: rows are claimed with SKIP LOCKED and marked in
    one UPDATE, so a second run (or a second worker) finds nothing to send."""
    now = now or timezone.now()
    due = list(
        ApprovalTask.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            status=TaskStatus.WAITING,
            reminded_at__isnull=True,
            request__status=RequestStatus.PENDING,
        )
        .alias(limit=_hours("request__policy__remind_after_hours"))
        .filter(created_at__lte=now - F("limit"))
        .select_related("approver", "request")
    )
    if not due:
        return 0
    ApprovalTask.objects.filter(pk__in=[t.pk for t in due]).update(reminded_at=now)
    notify_each(
        [
            Notice(
                task.approver,
                _("Reminder: waiting for your approval: %(doc)s") % {"doc": task.request.title},
                task.request.url or "",
                _("Step: %(step)s.") % {"step": task.step_name},
            )
            for task in due
        ],
        kind=NotificationKind.APPROVAL_REMINDER,
    )
    return len(due)


@transaction.atomic
def approval_escalate_overdue(*, now=None) -> int:
    """Tell an approver's head about a step waiting past the policy's escalation limit, once per
    task (same claiming as the reminders). Set-based: the claim, the mark, the approvers'
    heads and the notifications take a fixed number of statements, whatever the tasks."""
    now = now or timezone.now()
    due = list(
        ApprovalTask.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            status=TaskStatus.WAITING,
            escalated_at__isnull=True,
            request__status=RequestStatus.PENDING,
        )
        .alias(limit=_hours("request__policy__escalate_after_hours"))
        .filter(created_at__lte=now - F("limit"))
        .select_related("approver__org_unit", "request")
        .order_by("id")
    )
    if not due:
        return 0
    ApprovalTask.objects.filter(pk__in=[t.pk for t in due]).update(escalated_at=now)
    heads = heads_above(list({t.approver_id: t.approver for t in due}.values()))
    notify_each(
        [
            Notice(
                head,
                _("Overdue approval: %(who)s has not decided on %(doc)s")
                % {"who": task.approver.display_name, "doc": task.request.title},
                task.request.url or "",
                _("Step: %(step)s, waiting since %(since)s.")
                % {
                    "step": task.step_name,
                    "since": f"{timezone.localtime(task.created_at):%Y-%m-%d %H:%M}",
                },
            )
            for task in due
            for head in heads[task.approver_id]
        ],
        kind=NotificationKind.APPROVAL_ESCALATED,
    )
    return len(due)


def approval_return_comment(request: ApprovalRequest) -> str:
    """The comment of the last return (退回) or withdrawal of `request` ("" if none)."""
    decision = (
        ApprovalDecision.objects.filter(
            request=request, decision__in=[Decision.REJECT, Decision.WITHDRAW]
        )
        .order_by("-id")
        .first()
    )
    return decision.comment if decision else ""


def approval_return_to_draft(document: models.Model, request: ApprovalRequest) -> None:
    """The `on_rejected` callback of every document with a `return_to_draft` transition and a
    `return_comment` field: back to draft, keeping the approver's comment for the owner."""
    document.return_to_draft()
    document.return_comment = approval_return_comment(request)
    document.save()
