"""Visits (拜访): the plan of a visit (拜访计划表), the record of a visit made (拜访总结表), and
the rep's weekly sales report (销售报告), all from seed 002's 进度控制.

A visit record is a follow-up: the service that logs it moves the customer's
`last_follow_up_at` (the public-pool clock) and completes its plan. Models only change state;
`services.py` checks rights, locks, and writes.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.accounts.scope import ScopedManager
from apps.core.fsm import guard
from apps.core.history import track

from .choices import PlanStatus, ReportStatus, VisitPurpose


def _money(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


_ONE_TARGET = (Q(customer__isnull=False) & Q(lead__isnull=True)) | (
    Q(customer__isnull=True) & Q(lead__isnull=False)
)


@guard(_("Give the reason for cancelling the visit."), field="cancel_reason")
def has_cancel_reason(plan: VisitPlan) -> bool:
    return bool((plan.cancel_reason or "").strip())


@track()
class VisitPlan(models.Model):
    """A planned visit (拜访计划表): whom (a customer or a lead), when, its place in the day's
    route, the purpose and the objectives. FSM planned → done (a record was logged) / missed
    (still open the day after: the nightly job) / cancelled (with a reason)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT,
        related_name="visit_plans",
    )  # fmt: skip
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="visit_plans",
    )  # fmt: skip
    lead = models.ForeignKey(
        "leads.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="visit_plans",
    )  # fmt: skip
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", verbose_name=_("opportunity"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="visit_plans",
    )  # fmt: skip
    planned_date = models.DateField(_("date"))
    planned_time = models.TimeField(_("time"), null=True, blank=True)
    route_order = models.PositiveSmallIntegerField(_("order in the day's route"), default=0)
    purpose = models.CharField(_("purpose"), max_length=20, choices=VisitPurpose.choices)
    objectives = models.TextField(_("objectives"), blank=True)
    status = FSMField(
        _("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.PLANNED,
        protected=True,
    )  # fmt: skip
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        ordering = ["planned_date", "route_order", "planned_time", "id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_TARGET, name="visitplan_customer_or_lead"),
        ]
        indexes = [
            models.Index(fields=["owner", "planned_date"], name="visitplan_owner_date"),
            models.Index(fields=["updated_at", "id"], name="visitplan_sync"),
            # A rep's sync through the API (updated since, in that order): their plans, not
            # every plan of the company scanned for theirs.
            models.Index(fields=["owner", "updated_at", "id"], name="visitplan_owner_sync"),
            # The missed-plan job: open plans by date.
            models.Index(
                fields=["planned_date"],
                name="visitplan_open_date",
                condition=Q(status="planned"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.planned_date:%Y-%m-%d} {self.target}"

    def get_absolute_url(self) -> str:
        return reverse("visits:plan_detail", args=[self.pk])

    @property
    def target(self):
        return self.customer or self.lead

    @transition(field=status, source=PlanStatus.PLANNED, target=PlanStatus.DONE)
    def complete(self) -> None:
        """A visit record was logged for this plan."""

    @transition(field=status, source=PlanStatus.PLANNED, target=PlanStatus.MISSED)
    def miss(self) -> None:
        """The day passed without a visit (the nightly job)."""

    @transition(field=status, source=PlanStatus.PLANNED, target=PlanStatus.CANCELLED,
                conditions=[has_cancel_reason])  # fmt: skip
    def cancel(self) -> None:
        """Called off, with a reason."""


@track()
class VisitRecord(models.Model):
    """A visit made (拜访总结表): when, where (an optional check-in from the browser's
    geolocation, with its accuracy), what came of it. A visit is **effective** (有效拜访) when
    it brought an order, a payment, a next step or a stage move; `is_effective` is kept on
    save so the figures are one indexed aggregate."""

    plan = models.OneToOneField(
        VisitPlan, verbose_name=_("visit plan"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="record",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT,
        related_name="visit_records",
    )  # fmt: skip
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="visit_records",
    )  # fmt: skip
    lead = models.ForeignKey(
        "leads.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="visit_records",
    )  # fmt: skip
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", verbose_name=_("opportunity"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="visit_records",
    )  # fmt: skip
    purpose = models.CharField(_("purpose"), max_length=20, choices=VisitPurpose.choices)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Check-in (签到): only when the user allowed the browser to share the location.
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    location_accuracy_m = models.PositiveIntegerField(
        _("location accuracy (m)"), null=True, blank=True
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    problems_handled = models.TextField(_("problems handled"), blank=True)
    payment_collected = _money(_("payment collected"), default=Decimal("0.00"))
    order_amount = _money(_("order amount"), default=Decimal("0.00"))
    competitor_info = models.TextField(_("competitor information"), blank=True)
    customer_feedback = models.TextField(_("customer feedback and news"), blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True)
    stage_moved = models.BooleanField(_("moved the opportunity a stage"), default=False)
    is_effective = models.BooleanField(_("effective visit"), default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("visit record")
        verbose_name_plural = _("visit records")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_TARGET, name="visitrecord_customer_or_lead"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="visitrecord_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(payment_collected__gte=0) & Q(order_amount__gte=0),
                name="visitrecord_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True)
                | (
                    Q(latitude__gte=-90)
                    & Q(latitude__lte=90)
                    & Q(longitude__gte=-180)
                    & Q(longitude__lte=180)
                ),
                name="visitrecord_location_range",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "started_at"], name="visitrecord_owner_time"),
            models.Index(fields=["customer", "started_at"], name="visitrecord_customer_time"),
            models.Index(fields=["updated_at", "id"], name="visitrecord_sync"),
            # The record list's order (newest first) for a head's many reps, a period's visits
            # of the whole company, and the customers visited since a cutoff from the index
            # alone (the anti-join of "not visited in N days", apps.visits.figures).
            models.Index(
                fields=["started_at", "id"], include=["customer"], name="visitrecord_started"
            ),
            # A rep's sync through the API (updated since, in that order).
            models.Index(fields=["owner", "updated_at", "id"], name="visitrecord_owner_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d} {self.customer or self.lead}"

    def get_absolute_url(self) -> str:
        return reverse("visits:record_detail", args=[self.pk])

    def compute_effective(self) -> bool:
        return bool(
            self.order_amount > 0
            or self.payment_collected > 0
            or (self.next_step or "").strip()
            or self.stage_moved
        )

    def save(self, *args, **kwargs) -> None:
        self.is_effective = self.compute_effective()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "is_effective", "updated_at"}
        super().save(*args, **kwargs)


@track()
class WeeklyReport(models.Model):
    """A rep's weekly sales report (销售报告, seed 002 进度控制) for the week starting
    `week_start` (a Monday): drafted by the Monday job with the week's figures, completed and
    submitted by the rep with next week's plan, commented by the supervisor."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT,
        related_name="weekly_reports",
    )  # fmt: skip
    week_start = models.DateField(_("week starting"))
    status = FSMField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT,
        protected=True,
    )  # fmt: skip
    # The week's figures as assembled by the job (target attainment, new customers,
    # collections, effective visit rate, sales…): a snapshot, so the report reads the same later.
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    summary = models.TextField(_("summary of the week"), blank=True)
    competitor_notes = models.TextField(_("competition"), blank=True)
    abnormal_customers = models.TextField(_("abnormal customers"), blank=True)
    next_week_plan = models.TextField(_("next week's targets and plan"), blank=True)
    due_at = models.DateTimeField(_("due"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    supervisor_comment = models.TextField(_("supervisor's comment"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("weekly sales report")
        verbose_name_plural = _("weekly sales reports")
        ordering = ["-week_start", "owner_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "week_start"], name="weeklyreport_one_per_week"
            ),
        ]
        indexes = [
            models.Index(fields=["week_start", "status"], name="weeklyreport_week_status"),
            models.Index(fields=["updated_at", "id"], name="weeklyreport_sync"),
        ]

    def __str__(self) -> str:
        return _("Weekly report %(week)s") % {"week": f"{self.week_start:%Y-%m-%d}"}

    def get_absolute_url(self) -> str:
        return reverse("visits:report_detail", args=[self.pk])

    @transition(field=status, source=ReportStatus.DRAFT, target=ReportStatus.SUBMITTED)
    def submit(self) -> None:
        """The rep completed and sent the report."""

    @transition(field=status, source=ReportStatus.SUBMITTED, target=ReportStatus.REVIEWED)
    def review(self) -> None:
        """The supervisor commented."""

    @transition(field=status, source=ReportStatus.SUBMITTED, target=ReportStatus.DRAFT)
    def return_to_rep(self) -> None:
        """The supervisor sent it back for completion."""
