"""Assessment and incentives (考核与激励, seed 000 销售绩效评估 / 激励机制, seed 001 绩效评估与激励,
seed 004 steps 10–12 考核评估 → 公布结果):

- **KPI scorecards** (绩效考核表): an admin's `ScoringScheme` per role and period, weighted
  `SchemeMetric` lines with a scoring curve; at period end a job computes a `Scorecard` per
  person (score, grade, ranks) with its `ScorecardLine`s; the supervisor writes the assessment,
  the manager approves through the approval engine, the result is published.
- **Commissions** (回款提成): `CommissionPlan` with marginal rate tiers on the collected amount,
  factors per product line or customer tier, an accelerator above the collection target and
  clawback; a monthly `CommissionStatement` per rep with its `CommissionLine`s (the allocations
  behind it) and `CommissionAdjustment`s (a late reversal or write-off of a closed month).
- **Sales contests** (销售竞赛): `Contest` on one metric for a set of units; the final ranking is
  kept in `ContestStanding`.
- **Customer satisfaction** (客户满意度): a one-time, expiring `SatisfactionSurvey` link.
- **Competitors** (竞争对手): the names and aliases competitor analysis looks for.

Models only change state; the services check rights, lock and write.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.accounts.scope import ScopedManager
from apps.core.history import track
from apps.goals.choices import Metric

from .choices import (
    AssessmentPeriod,
    Curve,
    FactorKind,
    Grade,
    KpiMetric,
    SchemeRole,
    ScorecardStatus,
    StatementStatus,
    SurveyStatus,
    SurveyTrigger,
)


def _money(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


def _points(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=7, decimal_places=2, **kwargs)


# --------------------------------------------------------------------------- scorecards


@track(exclude=["updated_at"])
class ScoringScheme(models.Model):
    """考核方案: how one role is assessed per period. Its metrics' weights add up to 100; the
    grade thresholds are the lowest score of each grade (below C is D)."""

    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role assessed"), max_length=20, choices=SchemeRole.choices)
    period_kind = models.CharField(
        _("period"), max_length=10, choices=AssessmentPeriod.choices,
        default=AssessmentPeriod.MONTH,
    )  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    grade_s_min = _points(_("lowest score for S"), default=95)
    grade_a_min = _points(_("lowest score for A"), default=85)
    grade_b_min = _points(_("lowest score for B"), default=70)
    grade_c_min = _points(_("lowest score for C"), default=60)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("scoring scheme")
        verbose_name_plural = _("scoring schemes")
        ordering = ["role", "period_kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "period_kind"], condition=Q(is_active=True),
                name="scheme_one_active_per_role_period",
            ),
            models.CheckConstraint(
                condition=Q(grade_s_min__gte=models.F("grade_a_min"))
                & Q(grade_a_min__gte=models.F("grade_b_min"))
                & Q(grade_b_min__gte=models.F("grade_c_min"))
                & Q(grade_c_min__gte=0),
                name="scheme_grades_ordered",
            ),
        ]  # fmt: skip
        indexes = [models.Index(fields=["updated_at", "id"], name="scheme_sync")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("incentives:scheme_detail", args=[self.pk])


@track()
class SchemeMetric(models.Model):
    """One weighted line of a scheme. LINEAR: points = (value − zero_at) / (full_at − zero_at) ×
    100, clamped to [0, cap] (full_at below zero_at for a metric where less is better, e.g. the
    overdue ratio). THRESHOLDS: `thresholds` = [{"at": value, "points": p}, …]; the points of the
    highest `at` reached (less is better: of the lowest `at` not exceeded), 0 when none."""

    scheme = models.ForeignKey(
        ScoringScheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="metrics"
    )
    metric = models.CharField(_("metric"), max_length=30, choices=KpiMetric.choices)
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2)
    curve = models.CharField(_("scoring curve"), max_length=20, choices=Curve.choices)
    zero_at = models.DecimalField(_("value scoring 0"), max_digits=16, decimal_places=4, default=0)
    full_at = models.DecimalField(
        _("value scoring 100"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    cap = _points(_("highest points"), default=120)
    lower_is_better = models.BooleanField(_("less is better"), default=False)
    thresholds = models.JSONField(_("thresholds"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("scheme metric")
        verbose_name_plural = _("scheme metrics")
        ordering = ["scheme_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "metric"], name="scheme_metric_once"),
            models.CheckConstraint(
                condition=Q(weight__gt=0) & Q(weight__lte=100), name="scheme_metric_weight"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.weight}%"


@track(exclude=["updated_at"])
class Scorecard(models.Model):
    """绩效考核表: one person's assessment for one period under one scheme."""

    scheme = models.ForeignKey(
        ScoringScheme, verbose_name=_("scheme"), on_delete=models.PROTECT,
        related_name="scorecards",
    )  # fmt: skip
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assessed"), on_delete=models.PROTECT,
        related_name="scorecards",
    )  # fmt: skip
    # The unit the person belonged to at the period's end (their team for the rank).
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    period_kind = models.CharField(_("period"), max_length=10, choices=AssessmentPeriod.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    score = _points(_("score"), default=0)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, default=Grade.D)
    rank_in_unit = models.PositiveIntegerField(_("rank in team"), null=True, blank=True)
    unit_size = models.PositiveIntegerField(_("assessed in team"), default=0)
    rank_in_company = models.PositiveIntegerField(_("rank in company"), null=True, blank=True)
    company_size = models.PositiveIntegerField(_("assessed in company"), default=0)
    assessment = models.TextField(_("written assessment"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assessed by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    status = FSMField(
        _("status"), max_length=20, choices=ScorecardStatus.choices,
        default=ScorecardStatus.COMPUTED, protected=True,
    )  # fmt: skip
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_owner_field = "user"

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["-period_start", "rank_in_company", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period_kind", "period_start"], name="scorecard_one_per_period"
            ),
        ]
        indexes = [
            models.Index(fields=["period_kind", "period_start", "score"], name="scorecard_rank"),
            models.Index(fields=["updated_at", "id"], name="scorecard_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.period_start:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("incentives:scorecard_detail", args=[self.pk])

    @property
    def owner_id(self) -> int:  # the approval engine's submitter check
        return self.user_id

    @transition(field=status, source=ScorecardStatus.COMPUTED, target=ScorecardStatus.PENDING)
    def submit(self) -> None:
        """The supervisor's assessment went to the manager."""

    @transition(field=status, source=ScorecardStatus.PENDING, target=ScorecardStatus.APPROVED)
    def approve(self) -> None:
        """The manager approved the assessment."""

    @transition(field=status, source=ScorecardStatus.PENDING, target=ScorecardStatus.COMPUTED)
    def return_to_draft(self) -> None:
        """Returned to the supervisor with a comment."""

    @transition(field=status, source=ScorecardStatus.APPROVED, target=ScorecardStatus.PUBLISHED)
    def publish(self) -> None:
        """Published to the person (公布结果)."""


class ScorecardLine(models.Model):
    """One metric of a scorecard: the value (numerator / denominator for a ratio or an
    attainment; None when there was nothing to measure), the points and the weighted points."""

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="lines"
    )
    metric = models.CharField(_("metric"), max_length=30, choices=KpiMetric.choices)
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4, null=True, blank=True)
    numerator = _money(_("numerator"), null=True, blank=True)
    denominator = _money(_("denominator"), null=True, blank=True)
    points = _points(_("points"), default=0)
    weighted = _points(_("weighted points"), default=0)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("scorecard line")
        verbose_name_plural = _("scorecard lines")
        ordering = ["scorecard_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "metric"], name="scorecard_line_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()}: {self.points}"


# --------------------------------------------------------------------------- commissions


@track(exclude=["updated_at"])
class CommissionPlan(models.Model):
    """提成方案 on the collected amount (回款提成). The month's commission base is the collected
    amount × the factors of the product line and the customer tier; the tiers' rates apply to
    the part of the base within each tier (marginal, like tax brackets); above the rep's
    collection target for the month the accelerator's extra rate applies to the excess."""

    name = models.CharField(_("name"), max_length=200)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # For the reps of these units and their subunits; none: every rep.
    units = models.ManyToManyField(
        "accounts.OrgUnit", verbose_name=_("units"), blank=True, related_name="+"
    )
    accelerator_rate = models.DecimalField(
        _("extra rate above target"), max_digits=6, decimal_places=4, default=0
    )
    clawback_on_write_off = models.BooleanField(
        _("claw back the commission of a written-off installment"), default=True
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("commission plan")
        verbose_name_plural = _("commission plans")
        ordering = ["-valid_from", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="commission_plan_dates",
            ),
            models.CheckConstraint(
                condition=Q(accelerator_rate__gte=0), name="commission_plan_accelerator"
            ),
        ]
        indexes = [models.Index(fields=["updated_at", "id"], name="commission_plan_sync")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("incentives:commission_plan_detail", args=[self.pk])


class CommissionTier(models.Model):
    """From `from_amount` of the month's base upward (to the next tier), `rate` applies."""

    plan = models.ForeignKey(
        CommissionPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="tiers"
    )
    from_amount = _money(_("from base amount"))
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4)

    class Meta:
        verbose_name = _("commission tier")
        verbose_name_plural = _("commission tiers")
        ordering = ["plan_id", "from_amount"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "from_amount"], name="commission_tier_once"),
            models.CheckConstraint(
                condition=Q(from_amount__gte=0) & Q(rate__gte=0) & Q(rate__lte=1),
                name="commission_tier_values",
            ),
        ]

    def __str__(self) -> str:
        return f"≥ {self.from_amount}: {self.rate}"


class CommissionFactor(models.Model):
    """The collected amount of a product line or a customer tier counts `factor` times."""

    plan = models.ForeignKey(
        CommissionPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="factors"
    )
    kind = models.CharField(_("applies to"), max_length=20, choices=FactorKind.choices)
    value = models.CharField(_("product line or tier"), max_length=100)
    factor = models.DecimalField(_("factor"), max_digits=6, decimal_places=4)

    class Meta:
        verbose_name = _("commission factor")
        verbose_name_plural = _("commission factors")
        ordering = ["plan_id", "kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "kind", "value"], name="commission_factor_once"
            ),
            models.CheckConstraint(condition=Q(factor__gte=0), name="commission_factor_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} × {self.factor}"


@track(exclude=["updated_at"])
class CommissionStatement(models.Model):
    """A rep's commission for one month (提成结算单): computed from the month's collections,
    approved by the manager, exported by finance for payroll. Once approved it never changes:
    a later reversal or write-off of its collections becomes a `CommissionAdjustment` on the
    first statement still open."""

    plan = models.ForeignKey(
        CommissionPlan, verbose_name=_("plan"), on_delete=models.PROTECT,
        related_name="statements",
    )  # fmt: skip
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT,
        related_name="commission_statements",
    )  # fmt: skip
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("org unit"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    month = models.DateField(_("month"))  # its first day
    status = FSMField(
        _("status"), max_length=20, choices=StatementStatus.choices,
        default=StatementStatus.DRAFT, protected=True,
    )  # fmt: skip
    collected = _money(_("collected"), default=0)
    base = _money(_("commission base"), default=0)
    target = _money(_("collection target"), null=True, blank=True)
    tier_amount = _money(_("tier commission"), default=0)
    accelerator_amount = _money(_("accelerator"), default=0)
    earned = _money(_("earned"), default=0)
    adjustments = _money(_("adjustments"), default=0)
    payable = _money(_("payable"), default=0)
    computed_at = models.DateTimeField(_("computed at"))
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("exported by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_owner_field = "rep"
    scope_money = True

    class Meta:
        verbose_name = _("commission statement")
        verbose_name_plural = _("commission statements")
        ordering = ["-month", "rep_id"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "month"], name="commission_statement_once"),
        ]
        indexes = [
            models.Index(fields=["month", "status"], name="commission_statement_month"),
            models.Index(fields=["updated_at", "id"], name="commission_statement_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.rep} {self.month:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("incentives:statement_detail", args=[self.pk])

    @property
    def owner_id(self) -> int:
        return self.rep_id

    @transition(field=status, source=StatementStatus.DRAFT, target=StatementStatus.PENDING)
    def submit(self) -> None:
        """Sent to the manager for approval."""

    @transition(field=status, source=StatementStatus.PENDING, target=StatementStatus.APPROVED)
    def approve(self) -> None:
        """Approved: closed, ready for payroll."""

    @transition(field=status, source=StatementStatus.PENDING, target=StatementStatus.DRAFT)
    def return_to_draft(self) -> None:
        """Returned with a comment."""


class CommissionLine(models.Model):
    """A collection behind a statement: an allocation of a payment received in the month."""

    statement = models.ForeignKey(
        CommissionStatement, verbose_name=_("statement"), on_delete=models.CASCADE,
        related_name="lines",
    )  # fmt: skip
    allocation = models.ForeignKey(
        "receivables.Allocation", verbose_name=_("allocation"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    installment = models.ForeignKey(
        "receivables.Installment", verbose_name=_("installment"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    received_on = models.DateField(_("received on"))
    amount = _money(_("collected"))
    factor = models.DecimalField(_("factor"), max_digits=8, decimal_places=4, default=1)
    base = _money(_("commission base"))

    class Meta:
        verbose_name = _("commission line")
        verbose_name_plural = _("commission lines")
        ordering = ["statement_id", "received_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "allocation"], name="commission_line_once")
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.amount}"


class CommissionAdjustment(models.Model):
    """A change to a closed month's commission (a reversal or write-off found after its
    statement was approved), booked on a later, open statement: `amount` is what the closed
    month should have earned minus what it earned (and earlier adjustments)."""

    statement = models.ForeignKey(
        CommissionStatement, verbose_name=_("statement"), on_delete=models.CASCADE,
        related_name="adjustment_lines",
    )  # fmt: skip
    source_month = models.DateField(_("month adjusted"))
    amount = _money(_("amount"))
    reason = models.TextField(_("reason"))
    # {"allocations": [ids reversed], "installments": [ids written off]}
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("commission adjustment")
        verbose_name_plural = _("commission adjustments")
        ordering = ["statement_id", "source_month", "id"]

    def __str__(self) -> str:
        return f"{self.source_month:%Y-%m} {self.amount}"


# --------------------------------------------------------------------------- contests


@track(exclude=["updated_at"])
class Contest(models.Model):
    """销售竞赛: the reps of `units` (and their subunits) ranked on one metric from `starts_on`
    to `ends_on`; the ranking is live while it runs and kept (`ContestStanding`) once final."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("rules and prizes"), blank=True)
    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    units = models.ManyToManyField("accounts.OrgUnit", verbose_name=_("teams"), related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    finalized_at = models.DateTimeField(_("final ranking kept at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sales contest")
        verbose_name_plural = _("sales contests")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="contest_dates"
            ),
        ]
        indexes = [models.Index(fields=["updated_at", "id"], name="contest_sync")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("incentives:contest_detail", args=[self.pk])


class ContestStanding(models.Model):
    """The final ranking of a contest, kept when it ended."""

    contest = models.ForeignKey(
        Contest, verbose_name=_("contest"), on_delete=models.CASCADE, related_name="standings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    value = _money(_("value"))
    rank = models.PositiveIntegerField(_("rank"))

    class Meta:
        verbose_name = _("contest standing")
        verbose_name_plural = _("contest standings")
        ordering = ["contest_id", "rank", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["contest", "user"], name="contest_standing_once")
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.user}"


# --------------------------------------------------------------------------- satisfaction


class SatisfactionSurvey(models.Model):
    """客户满意度调查: a link sent to the customer's contact after a completed contract or a
    service visit; answered once without a login before it expires. Only the token's SHA-256
    is stored. A low score opens a follow-up visit plan for the owner."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE,
        related_name="satisfaction_surveys",
    )  # fmt: skip
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    email = models.EmailField(_("sent to"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT,
        related_name="satisfaction_surveys",
    )  # fmt: skip
    trigger = models.CharField(_("sent after"), max_length=30, choices=SurveyTrigger.choices)
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name=_("contract"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )  # fmt: skip
    visit_record = models.ForeignKey(
        "visits.VisitRecord", verbose_name=_("visit"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )  # fmt: skip
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=SurveyStatus.choices, default=SurveyStatus.SENT
    )
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    nps = models.PositiveSmallIntegerField(
        _("likelihood to recommend (0–10)"), null=True, blank=True
    )
    comment = models.TextField(_("comment"), blank=True)
    follow_up_plan = models.ForeignKey(
        "visits.VisitPlan", verbose_name=_("follow-up visit"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"], condition=Q(contract__isnull=False),
                name="survey_once_per_contract",
            ),
            models.UniqueConstraint(
                fields=["visit_record"], condition=Q(visit_record__isnull=False),
                name="survey_once_per_visit",
            ),
            models.CheckConstraint(
                condition=(Q(score__isnull=True) | (Q(score__gte=1) & Q(score__lte=5)))
                & (Q(nps__isnull=True) | Q(nps__lte=10)),
                name="survey_answer_range",
            ),
            models.CheckConstraint(
                condition=Q(status=SurveyStatus.SENT)
                | (Q(answered_at__isnull=False) & Q(score__isnull=False)),
                name="survey_answered_has_score",
            ),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["owner", "answered_at"], name="survey_owner_answered"),
            models.Index(fields=["customer", "-sent_at"], name="survey_customer"),
            models.Index(fields=["updated_at", "id"], name="survey_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.sent_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("incentives:survey_detail", args=[self.pk])


# --------------------------------------------------------------------------- competitors


@track(exclude=["updated_at"])
class Competitor(models.Model):
    """A competitor the analysis looks for in lost deals and visit records, by its name and
    aliases (case-insensitive)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    aliases = ArrayField(
        models.CharField(max_length=200), verbose_name=_("aliases"), default=list, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
