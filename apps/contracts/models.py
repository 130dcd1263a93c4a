"""Contracts (合同): numbered without gaps per year, lines, payment terms as installments,
penalty interest for late payment (逾期罚息), credit-checked approval and signing, amendments
(补充协议) that keep the old version.

Models only change state; `services.py` numbers, checks credit, locks, submits to approvals,
and on signing creates the receivable installments (apps.receivables).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.accounts.scope import ScopedManager
from apps.core.fsm import guard
from apps.core.history import track

from .choices import AmendmentStatus, ContractStatus, InstallmentKind

CENT = Decimal("0.01")


def _money(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class ContractSequence(models.Model):
    """The last contract number given in a year. `services.next_contract_number` increments it
    with one `INSERT … ON CONFLICT DO UPDATE … RETURNING` inside the creating transaction, so
    two contracts created at once get consecutive numbers and a rolled-back creation leaves
    no gap (the increment rolls back with it)."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("contract number sequence")
        verbose_name_plural = _("contract number sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


@guard(_("Give the reason for terminating the contract."), field="termination_reason")
def has_termination_reason(contract: Contract) -> bool:
    return bool((contract.termination_reason or "").strip())


@guard(_("Add at least one line to the contract."))
def has_lines(contract: Contract) -> bool:
    return contract.lines.exists()


@guard(_("Add the payment terms (installments) of the contract."))
def has_terms(contract: Contract) -> bool:
    return contract.terms.exists()


@guard(_("The payment terms must add up exactly to the contract amount."))
def terms_add_up(contract: Contract) -> bool:
    total = contract.terms.aggregate(total=models.Sum("amount"))["total"] or Decimal("0")
    return total == contract.amount


@guard(_("Give the signing date."), field="signed_on")
def has_signing_date(contract: Contract) -> bool:
    return contract.signed_on is not None


@track()
class Contract(models.Model):
    """A sales contract (合同) with a customer, usually from a won opportunity. FSM draft →
    pending approval → approved → signed → executing → completed, or → terminated (reason);
    a return from approval brings it back to draft."""

    number = models.CharField(_("contract number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
        related_name="contracts",
    )  # fmt: skip
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", verbose_name=_("opportunity"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="contracts",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="contracts",
    )  # fmt: skip
    amount = _money(_("amount"), default=Decimal("0.00"))
    # The part not prepaid: what the customer owes on credit (赊销), checked against the
    # available credit at submission and at signing. Kept by services from the terms.
    credit_portion = _money(_("credit portion"), default=Decimal("0.00"))
    penalty_rate_per_day = models.DecimalField(
        _("penalty interest per day (%)"), max_digits=6, decimal_places=4,
        default=Decimal("0.0500"), validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Percent of the overdue principal per day, e.g. 0.05."),
    )  # fmt: skip
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=0)
    status = FSMField(
        _("status"), max_length=20, choices=ContractStatus.choices,
        default=ContractStatus.DRAFT, protected=True,
    )  # fmt: skip
    # Raised at submission when the credit portion exceeded the available credit: the
    # credit-override steps (manager + finance) joined the approval chain.
    needs_credit_override = models.BooleanField(_("credit override needed"), default=False)
    signed_on = models.DateField(_("signing date"), null=True, blank=True)
    starts_on = models.DateField(_("start date"), null=True, blank=True)
    ends_on = models.DateField(_("end date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    termination_reason = models.CharField(_("reason for termination"), max_length=300, blank=True)
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("terminated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    # Finance sees every money document (DESIGN.md "Data scope").
    scope_money = True

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="contract_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(credit_portion__gte=0) & Q(credit_portion__lte=models.F("amount")),
                name="contract_credit_portion_within_amount",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="contract_unique_external_id",
            ),
            models.CheckConstraint(
                condition=~Q(status="terminated") | ~Q(termination_reason=""),
                name="contract_terminated_has_reason",
            ),
        ]
        indexes = [
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="contract_title_trgm"),
            models.Index(fields=["owner", "-updated_at"], name="contract_owner_recent"),
            models.Index(fields=["customer", "status"], name="contract_customer_status"),
            # The dashboards' large contracts pending approval, the largest first, and their
            # count and amount: a range of this small index (with the owner for the scope).
            models.Index(
                fields=["-amount", "id"],
                include=["owner"],
                name="contract_pending_amount",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["updated_at", "id"], name="contract_sync"),
            # Actuals (goals) and tier recompute: signed contracts by signing date.
            models.Index(fields=["signed_on", "owner"], name="contract_signed_on"),
            # New customers (goals actuals): whether a customer signed before, one probe per
            # contract instead of hashing every signed contract.
            models.Index(
                fields=["customer", "signed_on", "id"],
                name="contract_customer_signed",
                condition=Q(signed_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:detail", args=[self.pk])

    @transition(field=status, source=ContractStatus.DRAFT, target=ContractStatus.PENDING,
                conditions=[has_lines, has_terms, terms_add_up])  # fmt: skip
    def submit(self) -> None:
        """Submitted to the contract policy (by amount; credit override when over credit)."""

    @transition(field=status, source=ContractStatus.PENDING, target=ContractStatus.APPROVED)
    def approve(self) -> None:
        """The policy's last step approved it."""

    @transition(field=status, source=ContractStatus.PENDING, target=ContractStatus.DRAFT)
    def return_to_draft(self) -> None:
        """Returned (退回) or withdrawn: the owner revises and resubmits."""

    @transition(field=status, source=ContractStatus.APPROVED, target=ContractStatus.SIGNED,
                conditions=[has_signing_date])  # fmt: skip
    def sign(self) -> None:
        """Both parties signed: the installments are created (services)."""

    @transition(field=status, source=ContractStatus.SIGNED, target=ContractStatus.EXECUTING)
    def start_execution(self) -> None:
        """Delivery started."""

    @transition(field=status, source=ContractStatus.EXECUTING, target=ContractStatus.COMPLETED)
    def complete(self) -> None:
        """Delivered and paid (or the rest written off)."""

    @transition(
        field=status,
        source=[ContractStatus.DRAFT, ContractStatus.APPROVED, ContractStatus.SIGNED,
                ContractStatus.EXECUTING],
        target=ContractStatus.TERMINATED,
        conditions=[has_termination_reason],
    )  # fmt: skip
    def terminate(self) -> None:
        """Ended early, with a reason."""


class ContractLine(models.Model):
    """A line of a contract: product (or a free description), quantity, unit price, discount;
    `amount` = quantity × unit price × (1 − discount %), half-up to the cent."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        "opportunities.Product", verbose_name=_("product"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
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
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")
        ordering = ["contract", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="contractline_qty_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="contractline_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount_pct__gte=0) & Q(discount_pct__lte=100),
                name="contractline_discount_0_100",
            ),
        ]

    def __str__(self) -> str:
        return self.description or str(self.product)

    def compute_amount(self) -> Decimal:
        gross = self.quantity * self.unit_price
        net = gross * (Decimal("100") - self.discount_pct) / Decimal("100")
        return net.quantize(CENT, rounding=ROUND_HALF_UP)


class PaymentTerm(models.Model):
    """One installment of the contract's payment terms (付款条款): kind, due date, and an
    amount or a percentage of the total. `amount` is always kept (from the percentage, the
    last term taking the rounding) so the terms add up exactly to the contract amount. On
    signing each term becomes a receivable installment."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="terms"
    )
    sequence = models.PositiveSmallIntegerField(_("installment"))
    kind = models.CharField(_("kind"), max_length=20, choices=InstallmentKind.choices)
    due_date = models.DateField(_("due date"))
    percentage = models.DecimalField(
        _("percentage of the total"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    amount = _money(_("amount"))

    class Meta:
        verbose_name = _("payment term")
        verbose_name_plural = _("payment terms")
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "sequence"], name="term_unique_sequence"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="term_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sequence}. {self.get_kind_display()} {self.amount}"


@track()
class ContractAmendment(models.Model):
    """An amendment (补充协议) to a signed contract: new lines, amount and payment terms,
    through the contract approval policy. On approval the contract takes the new terms and
    its version goes up; `previous` keeps the version it replaced (lines, terms, amount) so
    nothing is lost."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="amendments"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    number = models.PositiveSmallIntegerField(_("amendment number"))
    reason = models.TextField(_("reason"))
    status = FSMField(
        _("status"), max_length=20, choices=AmendmentStatus.choices,
        default=AmendmentStatus.DRAFT, protected=True,
    )  # fmt: skip
    # The proposed version: {"amount", "credit_portion", "lines": [...], "terms": [...]} and,
    # once approved, the replaced one in `previous`.
    proposed = models.JSONField(_("proposed terms"), default=dict)
    previous = models.JSONField(_("replaced terms"), default=dict, blank=True)
    amount = _money(_("new amount"), default=Decimal("0.00"))
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_money = True

    class Meta:
        verbose_name = _("contract amendment")
        verbose_name_plural = _("contract amendments")
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="amendment_unique_number"),
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status__in=["draft", "pending"]),
                name="amendment_one_open_per_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number}-A{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:amendment_detail", args=[self.pk])

    @transition(field=status, source=AmendmentStatus.DRAFT, target=AmendmentStatus.PENDING)
    def submit(self) -> None:
        """Submitted to the contract policy."""

    @transition(field=status, source=AmendmentStatus.PENDING, target=AmendmentStatus.APPROVED)
    def approve(self) -> None:
        """Approved: the services apply it to the contract."""

    @transition(field=status, source=AmendmentStatus.PENDING, target=AmendmentStatus.DRAFT)
    def return_to_draft(self) -> None:
        """Returned or withdrawn."""
