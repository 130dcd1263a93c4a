"""The pipeline (商机): opportunities through guarded stages, their stage history, the product
catalogue (产品 / 价目表) and quotes (报价单) with lines.

Stages follow seed 002 (寻找客户 → 客户甄别 → 需求分析 → 方案报价 → 谈判/处理异议 → 赢单 / 输单);
each move is a named transition whose guards are `apps.core.fsm.guard` functions, so a refused
move names what is missing. Probability and expected days per stage are the admin table
`StageSetting`. Models only change state; `services.py` checks rights, locks, records the
stage history and notifies.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from apps.accounts.scope import ScopedManager
from apps.core.fsm import guard
from apps.core.history import track

from .choices import OPEN_STAGES, QuoteStatus, Stage, previous_stage

CENT = Decimal("0.01")


def _money(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


@track()
class StageSetting(models.Model):
    """Admin table: the win probability and the expected days of each stage (阶段赢率与周期).
    A deal in a stage longer than expected days × settings.OPPORTUNITY_STUCK_FACTOR is stuck."""

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, unique=True)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MaxValueValidator(100)]
    )
    expected_days = models.PositiveIntegerField(_("expected days in stage"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stage setting")
        verbose_name_plural = _("stage settings")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="stage_probability_0_100"
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_stage_display())


# --- guards (conditions of the stage transitions; each says what is missing) ---------------


@guard(_("The customer needs a contact whose decision role is “decision maker”."))
def has_decision_maker(opportunity: Opportunity) -> bool:
    return opportunity.customer.contacts.filter(decision_role="decision_maker").exists()


@guard(_("Log a visit to the customer first."))
def has_logged_visit(opportunity: Opportunity) -> bool:
    # Read through the reverse relation: the visits app depends on this one, not the reverse.
    return opportunity.customer.visit_records.exists()


@guard(_("Write the needs-analysis notes first."), field="needs_analysis")
def has_needs_analysis(opportunity: Opportunity) -> bool:
    return bool((opportunity.needs_analysis or "").strip())


@guard(_("The opportunity needs an approved quote."))
def has_approved_quote(opportunity: Opportunity) -> bool:
    return opportunity.quotes.filter(status=QuoteStatus.APPROVED).exists()


@guard(_("Give the reason the deal was lost."), field="lost_reason")
def has_lost_reason(opportunity: Opportunity) -> bool:
    return bool((opportunity.lost_reason or "").strip())


@guard(_("Name the competitor who won (or “none”)."), field="lost_competitor")
def has_lost_competitor(opportunity: Opportunity) -> bool:
    return bool((opportunity.lost_competitor or "").strip())


@guard(_("Give the reason for going back a stage."), field="reason")
def has_back_reason(opportunity: Opportunity) -> bool:
    return bool((getattr(opportunity, "_move_reason", "") or "").strip())


@guard(_("The opportunity needs a signed contract."))
def has_signed_contract(opportunity: Opportunity) -> bool:
    # Read through the reverse relation: the contracts app depends on this one, not the reverse.
    return opportunity.contracts.filter(status__in=["signed", "executing", "completed"]).exists()


# Won needs a signed contract (issue 6; an approved quote was enough before contracts).
WIN_CONDITIONS = [has_signed_contract]


# `furthest_stage` is bookkeeping of the stage history (see the field), not a change to show.
@track(exclude=["furthest_stage"])
class Opportunity(models.Model):
    """A deal (商机) with a customer: amount, expected close, and the stage it is in. Opened by
    hand or by converting a lead; moved by named transitions with guards; closed won or lost."""

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
        related_name="opportunities",
    )  # fmt: skip
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="opportunities",
    )  # fmt: skip
    lead = models.ForeignKey(
        "leads.Lead", verbose_name=_("from lead"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="opportunities",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="opportunities",
    )  # fmt: skip
    amount = _money(_("amount"), default=Decimal("0.00"))
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    stage = FSMField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.PROSPECTING,
        protected=True,
    )  # fmt: skip
    stage_entered_at = models.DateTimeField(_("in stage since"))
    # The furthest stage of the forward order (prospecting … negotiation, won) the deal has
    # ever been in: the funnel's "reached" (apps.opportunities.figures). Kept by the trigger
    # `furthest_stage` of the stage history, whoever writes it: a move back or a loss never
    # lowers it; "" while the deal has no history.
    furthest_stage = models.CharField(
        _("furthest stage reached"), max_length=20, choices=Stage.choices, blank=True,
        db_default="", editable=False,
    )  # fmt: skip
    needs_analysis = models.TextField(_("needs analysis"), blank=True)
    description = models.TextField(_("description"), blank=True)
    lost_reason = models.CharField(_("reason lost"), max_length=300, blank=True)
    lost_competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Stuck-deal alerts (停滞商机): owner once, then the supervisor once, per stay in a stage.
    stuck_notified_at = models.DateTimeField(_("stuck alert sent"), null=True, blank=True)
    stuck_escalated_at = models.DateTimeField(_("stuck alert escalated"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="opportunity_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(stage="lost") | (~Q(lost_reason="") & ~Q(lost_competitor="")),
                name="opportunity_lost_has_reason",
            ),
        ]
        indexes = [
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="opportunity_name_trgm"),
            models.Index(fields=["owner", "stage"], name="opportunity_owner_stage"),
            models.Index(fields=["owner", "-updated_at"], name="opportunity_owner_recent"),
            models.Index(fields=["updated_at", "id"], name="opportunity_sync"),
            models.Index(fields=["expected_close_date"], name="opportunity_close_month"),
            # The funnel: deals created in a period, read from the index alone.
            models.Index(
                fields=["created_at"],
                include=["owner", "stage", "furthest_stage"],
                name="opportunity_created",
            ),
            # From a stay of the stage history to its deal's owner and creation (win rates,
            # stage durations of a team), without reading the deals' rows.
            models.Index(
                fields=["id"], include=["owner", "created_at"], name="opportunity_owner_of"
            ),
            # The open deals by owner and close date, read from the index alone: the weighted
            # forecast (in owner order for the whole company, so grouped by owner and month
            # without sorting every deal; a few owners' entries for a team) and the board's
            # column totals and first cards of a team.
            models.Index(
                fields=["owner", "expected_close_date"],
                include=["stage", "amount", "id", "stuck_notified_at"],
                name="opportunity_open_forecast",
                condition=Q(stage__in=[s.value for s in OPEN_STAGES]),
            ),
            # The board's "won and lost this month" of a team, read from the index alone.
            models.Index(
                fields=["owner", "closed_at"],
                include=["stage", "amount"],
                name="opportunity_closed",
                condition=Q(closed_at__isnull=False),
            ),
            # The stuck-deal job: open deals by the time they entered their stage.
            models.Index(
                fields=["stage", "stage_entered_at"],
                name="opportunity_open_since",
                condition=Q(stage__in=[s.value for s in OPEN_STAGES]),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("opportunities:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    # --- transitions (state only; services.py records the history and notifies) -----------

    @transition(field=stage, source=Stage.PROSPECTING, target=Stage.QUALIFICATION,
                conditions=[has_decision_maker, has_logged_visit])  # fmt: skip
    def qualify(self) -> None:
        """客户甄别: the prospect has a decision maker we know and we have been there."""

    @transition(field=stage, source=Stage.QUALIFICATION, target=Stage.NEEDS_ANALYSIS)
    def analyse_needs(self) -> None:
        """需求分析: we are finding out what the customer needs."""

    @transition(field=stage, source=Stage.NEEDS_ANALYSIS, target=Stage.PROPOSAL,
                conditions=[has_needs_analysis])  # fmt: skip
    def propose(self) -> None:
        """方案报价: the needs are written down; a proposal and quote follow."""

    @transition(field=stage, source=Stage.PROPOSAL, target=Stage.NEGOTIATION,
                conditions=[has_approved_quote])  # fmt: skip
    def negotiate(self) -> None:
        """谈判/处理异议: an approved quote is on the table."""

    @transition(field=stage, source=Stage.NEGOTIATION, target=Stage.WON,
                conditions=WIN_CONDITIONS)  # fmt: skip
    def win(self) -> None:
        """赢单."""

    @transition(field=stage, source=list(OPEN_STAGES), target=Stage.LOST,
                conditions=[has_lost_reason, has_lost_competitor])  # fmt: skip
    def lose(self) -> None:
        """输单: with the reason and the competitor."""

    @transition(
        field=stage,
        source=list(OPEN_STAGES[1:]),
        target=RETURN_VALUE(*OPEN_STAGES[:-1]),
        conditions=[has_back_reason],
    )
    def move_back(self) -> str:
        """Back one stage (e.g. the proposal needs a new needs analysis), with a reason."""
        return previous_stage(self.stage)


# The forward order (lost is not "further" than any stage) as a Postgres array: a stage's
# place in it is its rank.
FORWARD_STAGES = (*OPEN_STAGES, Stage.WON)
_FORWARD = "ARRAY[" + ", ".join(f"'{s}'" for s in FORWARD_STAGES) + "]::varchar[]"
FURTHEST_STAGE_SQL = f"""
UPDATE opportunities_opportunity AS o
   SET furthest_stage = reached.stage
  FROM (
        SELECT DISTINCT ON (opportunity_id) opportunity_id, stage,
               array_position({_FORWARD}, stage::varchar) AS rank
          FROM new_stays
         WHERE array_position({_FORWARD}, stage::varchar) IS NOT NULL
         ORDER BY opportunity_id, rank DESC
       ) AS reached
 WHERE o.id = reached.opportunity_id
   AND coalesce(array_position({_FORWARD}, o.furthest_stage::varchar), 0) < reached.rank;
RETURN NULL;
"""  # noqa: S608 (built from constants)


class StageChange(models.Model):
    """One stay of an opportunity in a stage (阶段历史): entered, left, by whom, and why (the
    reason of a move back or of a loss). Stage durations, cycle time and the funnel come from
    these rows."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE,
        related_name="stage_history",
    )  # fmt: skip
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    from_stage = models.CharField(_("from stage"), max_length=20, choices=Stage.choices, blank=True)
    entered_at = models.DateTimeField(_("entered at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("moved by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage history")
        ordering = ["opportunity", "entered_at", "id"]
        constraints = [
            # One current (not left) stay per opportunity.
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=Q(left_at__isnull=True),
                name="stagechange_one_current",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("entered_at")),
                name="stagechange_left_after_entered",
            ),
        ]
        indexes = [
            models.Index(fields=["opportunity", "entered_at"], name="stagechange_opp"),
            models.Index(fields=["stage", "entered_at"], name="stagechange_stage"),
            # Stage durations: the stays that ended in a period, per stage, and the current
            # stays (left_at null), each read from the index alone.
            models.Index(
                fields=["stage", "left_at"],
                include=["entered_at", "opportunity"],
                name="stagechange_stage_left",
            ),
            models.Index(
                fields=["stage", "entered_at"],
                include=["opportunity"],
                condition=Q(left_at__isnull=True),
                name="stagechange_current",
            ),
        ]
        triggers = [
            # The deal's furthest stage reached (`Opportunity.furthest_stage`) follows its
            # history: one UPDATE per INSERT statement, whatever inserts the stays (the
            # services, a bulk load, a data fix).
            pgtrigger.Trigger(
                name="furthest_stage",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                referencing=pgtrigger.Referencing(new="new_stays"),
                func=FURTHEST_STAGE_SQL,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} {self.stage} {self.entered_at:%Y-%m-%d}"


@track()
class Product(models.Model):
    """A product in the catalogue (产品) with its list price (价目表). The ERP is master for
    products: `external_id` is its key."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, default="件")
    list_price = _money(_("list price"))
    product_line = models.CharField(_("product line"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(list_price__gte=0), name="product_price_not_negative"
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="product_unique_external_id",
            ),
        ]
        indexes = [
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="product_name_trgm"),
            models.Index(fields=["updated_at", "id"], name="product_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def _has_lines(quote: Quote) -> bool:
    return quote.lines.exists()


has_lines = guard(_("Add at least one line to the quote."))(_has_lines)


@track()
class Quote(models.Model):
    """A quote (报价单) for an opportunity, one version per revision (the earlier versions stay
    readable). A discount over the policy threshold goes through the quote-discount approval
    (折扣审批, document type "opportunities.quote", percentage = the largest line discount);
    a quote with no discount over any step's threshold is approved at submission."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT,
        related_name="quotes",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="quotes",
    )  # fmt: skip
    version = models.PositiveIntegerField(_("version"), default=1)
    status = FSMField(
        _("status"), max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT,
        protected=True,
    )  # fmt: skip
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Totals, kept by services.quote_recompute from the lines (Decimal, half-up to the cent).
    list_amount = _money(_("list amount"), default=Decimal("0.00"))
    total = _money(_("total"), default=Decimal("0.00"))
    max_discount_pct = models.DecimalField(
        _("largest discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0.00")
    )
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "version"], name="quote_unique_version"),
            models.CheckConstraint(condition=Q(total__gte=0), name="quote_total_not_negative"),
        ]
        indexes = [
            models.Index(fields=["owner", "-updated_at"], name="quote_owner_recent"),
            models.Index(fields=["updated_at", "id"], name="quote_sync"),
        ]

    def __str__(self) -> str:
        return _("Quote %(number)s v%(version)s") % {"number": self.number, "version": self.version}

    def get_absolute_url(self) -> str:
        return reverse("opportunities:quote_detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"BJ-{self.opportunity_id:06d}"

    @property
    def discount_amount(self) -> Decimal:
        return self.list_amount - self.total

    @transition(field=status, source=QuoteStatus.DRAFT, target=QuoteStatus.PENDING,
                conditions=[has_lines])  # fmt: skip
    def submit(self) -> None:
        """Submitted to the quote-discount policy."""

    @transition(field=status, source=QuoteStatus.PENDING, target=QuoteStatus.APPROVED)
    def approve(self) -> None:
        """The policy's last step approved it (or no step applied)."""

    @transition(field=status, source=QuoteStatus.PENDING, target=QuoteStatus.DRAFT)
    def return_to_draft(self) -> None:
        """Returned (退回) or withdrawn: the owner revises and resubmits."""


class QuoteLine(models.Model):
    """A line of a quote: product, quantity, unit price and discount; `amount` is
    quantity × unit price × (1 − discount %), half-up to the cent."""

    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(CENT)]
    )
    unit_price = _money(_("unit price"))
    discount_pct = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    amount = _money(_("amount"), default=Decimal("0.00"))

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["quote", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="quoteline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="quoteline_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount_pct__gte=0) & Q(discount_pct__lte=100),
                name="quoteline_discount_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"

    def compute_amount(self) -> Decimal:
        gross = self.quantity * self.unit_price
        net = gross * (Decimal("100") - self.discount_pct) / Decimal("100")
        return net.quantize(CENT, rounding=ROUND_HALF_UP)
