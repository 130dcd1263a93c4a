"""Goals (目标与计划, seed 004 flow 1; seed 002 目标管理): targets per metric, period and scope,
decomposed down the org tree and down the calendar; the supervisor's sales plan (销售计划书)
approved by the manager; target adjustments (执行困难报告单及修正单) with every version kept;
the period review (总结 → 考核评估 → 公布结果); the nightly attainment snapshots; the history
of who belonged to which unit (so a rep who moved teams mid-period counts for the right team).

Models only change state; `services.py` checks rights, locks and writes; `actuals.py` computes
the actual figures from the documents (never typed).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.accounts.scope import ScopedManager
from apps.core.history import track

from .choices import (
    DocumentStatus,
    Metric,
    PeriodKind,
    ReviewStatus,
    ScopeKind,
    SplitMethod,
    TargetStatus,
)


def _amount(verbose_name, **kwargs) -> models.DecimalField:
    # Money to the cent; counts (customers, visits) are whole numbers in the same column.
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


_ONE_SCOPE = (
    (Q(scope_kind=ScopeKind.COMPANY) & Q(org_unit__isnull=True) & Q(user__isnull=True))
    | (Q(scope_kind=ScopeKind.UNIT) & Q(org_unit__isnull=False) & Q(user__isnull=True))
    | (Q(scope_kind=ScopeKind.REP) & Q(user__isnull=False))
)


class MetricSetting(models.Model):
    """Admin table, one row per metric: whether the unfinished part of a closed period rolls
    into the next period's target (seed 004 step 10: 未完成部分滚动至下期)."""

    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices, unique=True)
    roll_over = models.BooleanField(_("roll the unfinished part over"), default=True)

    class Meta:
        verbose_name = _("metric setting")
        verbose_name_plural = _("metric settings")
        ordering = ["metric"]

    def __str__(self) -> str:
        return self.get_metric_display()


class SalesPlan(models.Model):
    """Sales plan (销售计划书, seed 004 flow 1 steps 1–3): a supervisor's plan for a unit and a
    period; the manager approves (its targets become active) or returns it with comments."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT,
        related_name="sales_plans",
    )  # fmt: skip
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    title = models.CharField(_("title"), max_length=200)
    problems = models.TextField(_("problems to solve"), blank=True)
    profit_target = _amount(_("profit target"), null=True, blank=True)
    expense_budget = _amount(_("expense budget"), null=True, blank=True)
    expense_control_plan = models.TextField(_("expense control plan"), blank=True)
    collection_plan = models.TextField(_("collection plan"), blank=True)
    price_plan = models.TextField(_("price plan"), blank=True)
    channel_plan = models.TextField(_("channel plan"), blank=True)
    promotion_plan = models.TextField(_("promotion plan"), blank=True)
    training_plan = models.TextField(_("training plan"), blank=True)
    status = FSMField(
        _("status"), max_length=20, choices=DocumentStatus.choices,
        default=DocumentStatus.DRAFT, protected=True,
    )  # fmt: skip
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        ordering = ["-period_start", "-id"]
        indexes = [
            models.Index(fields=["org_unit", "-period_start"], name="salesplan_unit_period"),
            models.Index(fields=["updated_at", "id"], name="salesplan_sync"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="salesplan_period_order"
            ),
            models.CheckConstraint(
                condition=Q(expense_budget__gte=0) | Q(expense_budget__isnull=True),
                name="salesplan_budget_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("goals:plan_detail", args=[self.pk])

    @transition(field=status, source=DocumentStatus.DRAFT, target=DocumentStatus.PENDING)
    def submit(self) -> None:
        """Submitted to the manager."""

    @transition(field=status, source=DocumentStatus.PENDING, target=DocumentStatus.APPROVED)
    def approve(self) -> None:
        """The manager approved it: its targets become active."""

    @transition(field=status, source=DocumentStatus.PENDING, target=DocumentStatus.DRAFT)
    def return_to_draft(self) -> None:
        """Returned (退回) or withdrawn: the supervisor revises and resubmits."""


@track(exclude=["updated_at"])
class Target(models.Model):
    """A target (目标) for one metric, one period (start..end, both days included) and one
    scope: the company, an org unit, or a rep. A decomposed target has children (down the org
    tree or down the calendar) whose amounts add up to it exactly."""

    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices)
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    scope_kind = models.CharField(_("scope"), max_length=10, choices=ScopeKind.choices)
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="targets",
    )  # fmt: skip
    # A rep's target: `user` is the rep, `org_unit` the unit the rep belonged to when it was set.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="targets",
    )  # fmt: skip
    amount = _amount(_("target"))
    # The unfinished part of the previous period rolled into this one (included in `amount`).
    rolled_in = _amount(_("rolled over from the previous period"), default=0)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent target"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="children",
    )  # fmt: skip
    split_method = models.CharField(
        _("split method"), max_length=10, choices=SplitMethod.choices, blank=True
    )
    plan = models.ForeignKey(
        SalesPlan, verbose_name=_("sales plan"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="targets",
    )  # fmt: skip
    status = FSMField(
        _("status"), max_length=10, choices=TargetStatus.choices,
        default=TargetStatus.ACTIVE, protected=True,
    )  # fmt: skip
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["period_start", "metric", "id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_SCOPE, name="target_one_scope"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="target_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="target_period_order"
            ),
            # One live target per metric, period and scope (a draft plan may propose another).
            models.UniqueConstraint(
                fields=["metric", "period_kind", "period_start", "scope_kind", "org_unit", "user"],
                condition=~Q(status=TargetStatus.DRAFT),
                nulls_distinct=False,
                name="target_one_live_per_scope",
            ),
        ]
        indexes = [
            models.Index(fields=["period_start", "period_end"], name="target_period"),
            models.Index(fields=["user", "period_start"], name="target_user_period"),
            models.Index(fields=["org_unit", "period_start"], name="target_unit_period"),
            models.Index(fields=["updated_at", "id"], name="target_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.period_start:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("goals:target_detail", args=[self.pk])

    @transition(field=status, source=TargetStatus.DRAFT, target=TargetStatus.ACTIVE)
    def activate(self) -> None:
        """Its sales plan was approved."""

    @transition(field=status, source=TargetStatus.ACTIVE, target=TargetStatus.CLOSED)
    def close(self) -> None:
        """Its period was closed and its attainment evaluated."""


class TargetVersion(models.Model):
    """Every amount a target has had (版本): who set it, when and why. Version 1 is the amount
    it was set with; an approved adjustment or a roll-over adds the next."""

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("version"))
    amount = _amount(_("target"))
    reason = models.TextField(_("reason"), blank=True)
    adjustment = models.ForeignKey(
        "goals.TargetAdjustment", verbose_name=_("adjustment"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("target version")
        verbose_name_plural = _("target versions")
        ordering = ["target_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["target", "version"], name="targetversion_unique"),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.amount}"


class TargetAdjustment(models.Model):
    """Target adjustment (执行困难报告单及修正单, seed 004 flow 1 step 6): a rep or supervisor
    reports the difficulty and proposes a revised amount; the manager approves (the target gets
    a new version) or returns it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="adjustments"
    )
    difficulty_report = models.TextField(_("difficulty report"))
    current_amount = _amount(_("target when submitted"))
    proposed_amount = _amount(_("proposed target"))
    status = FSMField(
        _("status"), max_length=20, choices=DocumentStatus.choices,
        default=DocumentStatus.DRAFT, protected=True,
    )  # fmt: skip
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("target adjustment")
        verbose_name_plural = _("target adjustments")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(proposed_amount__gte=0), name="adjustment_not_negative"
            ),
            models.UniqueConstraint(
                fields=["target"],
                condition=Q(status__in=["draft", "pending"]),
                name="adjustment_one_open_per_target",
            ),
        ]
        indexes = [models.Index(fields=["updated_at", "id"], name="adjustment_sync")]

    def __str__(self) -> str:
        return _("Adjustment of %(target)s") % {"target": self.target}

    def get_absolute_url(self) -> str:
        return reverse("goals:adjustment_detail", args=[self.pk])

    @transition(field=status, source=DocumentStatus.DRAFT, target=DocumentStatus.PENDING)
    def submit(self) -> None:
        """Submitted to the manager."""

    @transition(field=status, source=DocumentStatus.PENDING, target=DocumentStatus.APPROVED)
    def approve(self) -> None:
        """Approved: the target takes the proposed amount as a new version."""

    @transition(field=status, source=DocumentStatus.PENDING, target=DocumentStatus.DRAFT)
    def return_to_draft(self) -> None:
        """Returned or withdrawn."""


class PeriodReview(models.Model):
    """The review of a closed period for an org unit (seed 004 flow 1 steps 8–12): the close
    job opens it with the attainment figures; the unit's head writes the summary and submits;
    the manager approves or returns it; the approved result is published to the unit."""

    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT,
        related_name="period_reviews",
    )  # fmt: skip
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    # Attainment per metric and rep when the period closed: {metric: {"target", "actual", …}}.
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("summary by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    summary = models.TextField(_("summary"), blank=True)
    corrections = models.TextField(_("corrections"), blank=True)
    status = FSMField(
        _("status"), max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.OPEN,
        protected=True,
    )  # fmt: skip
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("period review")
        verbose_name_plural = _("period reviews")
        ordering = ["-period_start", "org_unit_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "period_kind", "period_start"], name="review_one_per_period"
            ),
        ]
        indexes = [models.Index(fields=["updated_at", "id"], name="review_sync")]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.period_start:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("goals:review_detail", args=[self.pk])

    @transition(field=status, source=ReviewStatus.OPEN, target=ReviewStatus.PENDING)
    def submit(self) -> None:
        """The head's summary went to the manager."""

    @transition(field=status, source=ReviewStatus.PENDING, target=ReviewStatus.APPROVED)
    def approve(self) -> None:
        """The manager approved the evaluation."""

    @transition(field=status, source=ReviewStatus.PENDING, target=ReviewStatus.OPEN)
    def return_to_draft(self) -> None:
        """Returned for corrections (修正)."""

    @transition(field=status, source=ReviewStatus.APPROVED, target=ReviewStatus.PUBLISHED)
    def publish(self) -> None:
        """Published to the unit (公布结果)."""


class UnitMembership(models.Model):
    """Who belonged to which org unit, when (from `valid_from` to `valid_to`, the latter
    excluded; open while current). Kept by a trigger on the user's `org_unit_id`, whatever
    writes it, so the documents of a rep who moved teams mid-period count for the team the rep
    was in on the document's date."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="memberships",
    )  # fmt: skip
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), on_delete=models.CASCADE,
        related_name="memberships",
    )  # fmt: skip
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit membership")
        verbose_name_plural = _("unit memberships")
        ordering = ["user_id", "valid_from"]
        indexes = [
            models.Index(fields=["user", "valid_from"], name="membership_user_from"),
            models.Index(fields=["org_unit", "valid_from"], name="membership_unit_from"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="membership_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.org_unit_id} {self.valid_from}"


class AttainmentSnapshot(models.Model):
    """Attainment of a target as of a day (the nightly job): the target's amount and the actual
    computed from the documents that day, so the history reads the same after a re-org."""

    as_of = models.DateField(_("as of"))
    target = models.ForeignKey(
        Target, verbose_name=_("target"), null=True, on_delete=models.SET_NULL,
        related_name="snapshots",
    )  # fmt: skip
    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices)
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    scope_kind = models.CharField(_("scope"), max_length=10, choices=ScopeKind.choices)
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    # Names as they were, for a unit renamed or a rep gone since.
    scope_name = models.CharField(_("scope name"), max_length=200, blank=True)
    target_amount = _amount(_("target"))
    actual = _amount(_("actual"))

    class Meta:
        verbose_name = _("attainment snapshot")
        verbose_name_plural = _("attainment snapshots")
        ordering = ["-as_of", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["as_of", "target"], name="snapshot_one_per_day"),
        ]
        indexes = [
            models.Index(fields=["period_start", "metric", "scope_kind"], name="snapshot_period"),
        ]

    def __str__(self) -> str:
        return f"{self.as_of} {self.metric} {self.actual}/{self.target_amount}"


class ScheduledReportRun(models.Model):
    """One attainment report sent to one person for one period (weekly or monthly): the unique
    row makes the job idempotent (sent once per period, whatever the retries)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period_kind", "period_start"], name="scheduledreport_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period_kind} {self.period_start}"


class ActualMonth(models.Model):
    """One sealed month of an actual (实际完成, `actuals.py`) — or the sealed first days of the
    open month (`ActualMonthState.through`) — per rep and the unit the rep was in on the
    documents' days: an exact cache of the grouped sums, written only by `rollup.py` from the
    documents and trusted only while its `ActualMonthState` is fresh (the triggers of
    migrations 0003 and 0004 bump the state whenever a document of that month changes).
    Counts (customers, visits) are whole numbers in the same column."""

    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices)
    month = models.DateField(_("month"))  # its first day
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )  # fmt: skip
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), null=True, blank=True,
        on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )  # fmt: skip
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("monthly actual")
        verbose_name_plural = _("monthly actuals")
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "month", "owner", "org_unit"],
                nulls_distinct=False,
                name="actualmonth_one_per_rep_unit",
            ),
        ]
        indexes = [models.Index(fields=["metric", "month"], name="actualmonth_metric_month")]

    def __str__(self) -> str:
        return f"{self.metric} {self.month:%Y-%m} {self.owner_id}@{self.org_unit_id} {self.value}"


class ActualMonthState(models.Model):
    """Whether the `ActualMonth` rows of a (metric, month) may be read: fresh iff the row
    exists and `computed_version` = `version`. The triggers add 1 to `version` whenever a
    document of that month changes; a refresh sets `computed_version` to the version it read
    in the same snapshot as the documents it summed, and only if nobody bumped it since.
    `through`: the last day the rows sum when they hold only the sealed first days of an open
    month (the current one, or the last one on the first day of the next), else None (the
    whole month)."""

    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices)
    month = models.DateField(_("month"))
    version = models.BigIntegerField(_("version"), default=0)
    computed_version = models.BigIntegerField(_("computed version"), null=True, blank=True)
    through = models.DateField(_("summed through"), null=True, blank=True)

    class Meta:
        verbose_name = _("monthly actual state")
        verbose_name_plural = _("monthly actual states")
        constraints = [
            models.UniqueConstraint(fields=["metric", "month"], name="actualmonthstate_unique"),
        ]

    def __str__(self) -> str:
        through = f" to {self.through}" if self.through else ""
        return f"{self.metric} {self.month:%Y-%m}{through} v{self.version}/{self.computed_version}"
