"""The approval engine's data (审批流程): policies and their steps, requests with their rounds,
the tasks waiting for approvers, the decisions taken, and delegations.

A request belongs to one document (any model a domain app registered, reached through a generic
relation: this app knows no domain app). Resubmitting after a return starts the next `round` of
the same request; tasks and decisions carry their round, so every round stays readable.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.accounts.choices import Role
from apps.core.history import track

from .choices import (
    ApprovalMode,
    ApproverKind,
    ConditionMetric,
    Decision,
    RequestStatus,
    TaskStatus,
)


@track()
class ApprovalPolicy(models.Model):
    """The approval chain (审批流程) of one document type: ordered steps, reminder limits."""

    document_type = models.CharField(_("document type"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    remind_after_hours = models.PositiveIntegerField(
        _("remind approver after (hours)"), default=24, validators=[MinValueValidator(1)]
    )
    escalate_after_hours = models.PositiveIntegerField(
        _("notify approver's head after (hours)"), default=72, validators=[MinValueValidator(1)]
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        ordering = ["document_type"]
        constraints = [
            models.CheckConstraint(
                condition=Q(escalate_after_hours__gt=models.F("remind_after_hours")),
                name="policy_escalate_after_remind",
                violation_error_message=_("Escalation must come later than the reminder."),
            )
        ]

    def __str__(self) -> str:
        return self.name


@track()
class ApprovalStep(models.Model):
    """One step of a chain: who approves, relative to the submitter, and when the step applies.

    A condition compares the document's amount or percentage with the thresholds: the step
    applies when the value is above `condition_min` (if set) and at most `condition_max` (if
    set). A document without that value skips a conditional step.
    """

    policy = models.ForeignKey(
        ApprovalPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="steps"
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=200)
    approver_kind = models.CharField(_("approver"), max_length=30, choices=ApproverKind.choices)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("named user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    mode = models.CharField(
        _("who must approve"), max_length=10, choices=ApprovalMode.choices, default=ApprovalMode.ANY
    )
    condition_metric = models.CharField(
        _("condition on"), max_length=20, choices=ConditionMetric.choices, blank=True
    )
    condition_min = models.DecimalField(
        _("applies above"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    condition_max = models.DecimalField(
        _("applies up to"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    condition_flag = models.CharField(
        _("flag"),
        max_length=50,
        blank=True,
        help_text=_("For “flag raised by the document”: e.g. credit_override."),
    )

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="step_unique_order"),
            models.CheckConstraint(
                condition=~Q(approver_kind=ApproverKind.ROLE) | ~Q(role=""),
                name="step_role_needs_role",
                violation_error_message=_("Choose the role that approves this step."),
            ),
            models.CheckConstraint(
                condition=~Q(approver_kind=ApproverKind.NAMED_USER) | Q(user__isnull=False),
                name="step_named_user_needs_user",
                violation_error_message=_("Choose the user who approves this step."),
            ),
            models.CheckConstraint(
                condition=Q(condition_metric="")
                | (Q(condition_metric="flag") & ~Q(condition_flag=""))
                | (
                    ~Q(condition_metric="flag")
                    & (Q(condition_min__isnull=False) | Q(condition_max__isnull=False))
                ),
                name="step_condition_needs_threshold",
                violation_error_message=_("A condition needs a threshold."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def applies(
        self,
        *,
        amount: Decimal | None,
        percentage: Decimal | None,
        flags: Iterable[str] = (),
    ) -> bool:
        if not self.condition_metric:
            return True
        if self.condition_metric == ConditionMetric.FLAG:
            return self.condition_flag in set(flags)
        value = amount if self.condition_metric == ConditionMetric.AMOUNT else percentage
        if value is None:
            return False
        if self.condition_min is not None and not value > self.condition_min:
            return False
        return not (self.condition_max is not None and value > self.condition_max)


@track()
class ApprovalRequest(models.Model):
    """A document's way through its approval chain (FSM: pending → approved / rejected /
    withdrawn; a rejected or withdrawn request is resubmitted as the next round)."""

    document_type = models.CharField(_("document type"), max_length=100, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    document = GenericForeignKey("content_type", "object_id")
    policy = models.ForeignKey(
        ApprovalPolicy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+"
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="approval_requests",
    )
    title = models.CharField(_("document"), max_length=300)
    url = models.CharField(_("link"), max_length=500, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    percentage = models.DecimalField(
        _("percentage"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    # Flags the document raised at its last submission (DocumentType.get_flags), e.g.
    # "credit_override"; steps conditioned on a flag apply only when it is here.
    flags = models.JSONField(_("flags"), default=list, blank=True)
    round = models.PositiveIntegerField(_("round"), default=1)
    status = FSMField(
        _("status"),
        max_length=20,
        choices=RequestStatus.choices,
        default=RequestStatus.PENDING,
        protected=True,
    )
    current_step = models.PositiveSmallIntegerField(_("current step"), null=True, blank=True)
    current_step_name = models.CharField(_("current step"), max_length=200, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    # Data scope: a request is its submitter's (approvers see it through their tasks).
    scope_owner_field = "submitter"

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="approval_one_request_per_document"
            )
        ]
        indexes = [models.Index(fields=["submitter", "-submitted_at"], name="approval_by_sub")]

    def __str__(self) -> str:
        return self.title

    @transition(field=status, source=RequestStatus.PENDING, target=RequestStatus.APPROVED)
    def approve(self) -> None:
        """Every applicable step approved."""

    @transition(field=status, source=RequestStatus.PENDING, target=RequestStatus.REJECTED)
    def reject(self) -> None:
        """Returned to the submitter (退回) with a comment."""

    @transition(field=status, source=RequestStatus.PENDING, target=RequestStatus.WITHDRAWN)
    def withdraw(self) -> None:
        """Taken back by the submitter before a decision."""

    @transition(
        field=status,
        source=[RequestStatus.REJECTED, RequestStatus.WITHDRAWN],
        target=RequestStatus.PENDING,
    )
    def resubmit(self) -> None:
        """Revised and submitted again: the next round."""
        self.round += 1
        self.decided_at = None


class ApprovalTask(models.Model):
    """A step of a round waiting for (or decided by) one approver. "Waiting for me" (待我审批)
    is the list of a user's waiting tasks."""

    request = models.ForeignKey(
        ApprovalRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="tasks"
    )
    round = models.PositiveIntegerField(_("round"))
    step_order = models.PositiveSmallIntegerField(_("step"))
    step_name = models.CharField(_("step"), max_length=200)
    mode = models.CharField(_("who must approve"), max_length=10, choices=ApprovalMode.choices)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.PROTECT,
        related_name="approval_tasks",
    )
    delegated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = FSMField(
        _("status"),
        max_length=20,
        choices=TaskStatus.choices,
        default=TaskStatus.WAITING,
        protected=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval task")
        verbose_name_plural = _("approval tasks")
        ordering = ["round", "step_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round", "step_order", "approver"], name="task_unique_approver"
            )
        ]
        indexes = [
            models.Index(
                fields=["approver", "-created_at"],
                name="task_waiting_by_approver",
                condition=Q(status="waiting"),
            ),
            models.Index(
                fields=["created_at"], name="task_waiting_age", condition=Q(status="waiting")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.round}/{self.step_order}: {self.approver_id}"

    @transition(field=status, source=TaskStatus.WAITING, target=TaskStatus.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=TaskStatus.WAITING, target=TaskStatus.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=status, source=TaskStatus.WAITING, target=TaskStatus.SUPERSEDED)
    def supersede(self) -> None:
        """Another approver of an any-one step decided first."""

    @transition(field=status, source=TaskStatus.WAITING, target=TaskStatus.CANCELLED)
    def cancel(self) -> None:
        """The request was returned or withdrawn before this approver decided."""


class ApprovalDecision(models.Model):
    """What someone did in a round, with their comment: submitted, approved, returned,
    withdrew. Never changed once written."""

    request = models.ForeignKey(
        ApprovalRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="decisions",
    )
    round = models.PositiveIntegerField(_("round"))
    task = models.ForeignKey(
        ApprovalTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    step_name = models.CharField(_("step"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("approval decision")
        verbose_name_plural = _("approval decisions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.actor_id})"


@track()
class Delegation(models.Model):
    """A user's delegate (代理审批人) for a date range: tasks that reach the user in that range
    go to the delegate, and the task records on whose behalf."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.CASCADE,
        related_name="delegations",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegate"),
        on_delete=models.CASCADE,
        related_name="delegated_to_me",
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="delegation_dates_ordered",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=~Q(delegate=models.F("user")),
                name="delegation_not_self",
                violation_error_message=_("You cannot delegate to yourself."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.delegate_id}"
