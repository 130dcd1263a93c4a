"""Receivables (应收与回款): installments created by signing a contract, payments received
(回款) and their allocation (核销) to installments, penalty interest (逾期罚息), collection
tasks and records (催收), bad-debt write-offs (坏账核销).

Money is never deleted: a wrong payment is reversed (冲销) with a reason and its allocations
are reversed with it; an installment leaves the books only by an approved write-off. Every
money model keeps its history. Models only change state; `services.py` locks and writes;
the daily job (`jobs.py`) is set-based SQL.
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
from apps.contracts.choices import InstallmentKind
from apps.core.history import track

from .choices import (
    CollectionMethod,
    CollectionTaskStatus,
    InstallmentStatus,
    PaymentMethod,
    PaymentStatus,
    PromiseStatus,
    WriteOffStatus,
)

ZERO = Decimal("0.00")


def _money(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


@track()
class Installment(models.Model):
    """A receivable installment (应收款 / 回款计划) of a signed contract. FSM scheduled → due →
    partially paid → paid; written off only through the write-off approval. Overdue is
    derived (due date passed, money open) and kept in `overdue_days` / `aging_bucket` by the
    daily job; `escalated_bucket` remembers the highest bucket already escalated, so each
    escalation happens once."""

    contract = models.ForeignKey(
        "contracts.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
        related_name="installments",
    )  # fmt: skip
    # Denormalized from the contract for set-based jobs, scope and figures without joins.
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
        related_name="installments",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="installments",
    )  # fmt: skip
    sequence = models.PositiveSmallIntegerField(_("installment"))
    kind = models.CharField(_("kind"), max_length=20, choices=InstallmentKind.choices)
    due_date = models.DateField(_("due date"))
    amount = _money(_("amount"))
    paid_amount = _money(_("paid"), default=ZERO)
    written_off_amount = _money(_("written off"), default=ZERO)
    status = FSMField(
        _("status"), max_length=20, choices=InstallmentStatus.choices,
        default=InstallmentStatus.SCHEDULED, protected=True,
    )  # fmt: skip
    overdue_days = models.PositiveIntegerField(_("days overdue"), default=0)
    aging_bucket = models.PositiveSmallIntegerField(_("aging bucket"), default=0)
    escalated_bucket = models.PositiveSmallIntegerField(_("escalated bucket"), default=0)
    penalty_accrued = _money(_("penalty interest accrued"), default=ZERO)
    paid_at = models.DateField(_("paid on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_money = True

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "sequence"], name="installment_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="installment_amount_not_negative"
            ),
            # Allocation never exceeds the installment: the database refuses it too.
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0)
                & Q(written_off_amount__gte=0)
                & Q(paid_amount__lte=F("amount") - F("written_off_amount")),
                name="installment_paid_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "due_date"], name="installment_customer_due"),
            models.Index(fields=["owner", "due_date"], name="installment_owner_due"),
            models.Index(fields=["updated_at", "id"], name="installment_sync"),
            # The daily job and the aging figures: open installments by due date.
            models.Index(
                fields=["due_date"],
                name="installment_open_due",
                condition=Q(status__in=["scheduled", "due", "partially_paid"]),
            ),
            # The installment lists' order (oldest due first): a page is the first rows of
            # this index, not a sort of the million installments. Its included columns let
            # the collection figures sum what falls due in a period per owner or customer
            # and look up each allocation's due date from the index alone.
            models.Index(
                fields=["due_date", "sequence", "id"],
                include=["amount", "owner", "customer"],
                name="installment_due_order",
            ),
            # The dashboards' largest overdue amounts: the open installments by open amount,
            # the largest first (the expression of `selectors.open_amount_expr`).
            models.Index(
                (F("amount") - F("paid_amount") - F("written_off_amount")).desc(),
                F("due_date"),
                F("id"),
                name="installment_open_amount",
                condition=Q(status__in=["scheduled", "due", "partially_paid"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}/{self.sequence} {self.due_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("receivables:installment_detail", args=[self.pk])

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid_amount - self.written_off_amount

    @transition(field=status, source=InstallmentStatus.SCHEDULED, target=InstallmentStatus.DUE)
    def fall_due(self) -> None:
        """The due date came (the daily job, set-based)."""

    @transition(
        field=status,
        source=[InstallmentStatus.SCHEDULED, InstallmentStatus.DUE,
                InstallmentStatus.PARTIALLY_PAID, InstallmentStatus.PAID],
        target=InstallmentStatus.PARTIALLY_PAID,
    )  # fmt: skip
    def pay_partly(self) -> None:
        """Part of it is allocated (also after a reversal took a full payment back)."""

    @transition(
        field=status,
        source=[InstallmentStatus.SCHEDULED, InstallmentStatus.DUE,
                InstallmentStatus.PARTIALLY_PAID],
        target=InstallmentStatus.PAID,
    )  # fmt: skip
    def pay(self) -> None:
        """Fully allocated."""

    @transition(
        field=status,
        source=[InstallmentStatus.PARTIALLY_PAID, InstallmentStatus.PAID],
        target=InstallmentStatus.DUE,
    )
    def unpay(self) -> None:
        """A reversal took every allocation back (due or not: the job sets it right)."""

    @transition(field=status, source=list(InstallmentStatus.values[:3]),
                target=InstallmentStatus.WRITTEN_OFF)  # fmt: skip
    def write_off(self) -> None:
        """坏账: the approved write-off took the open amount off the books."""


class PenaltyAccrual(models.Model):
    """Penalty interest (逾期罚息) of one installment for one day after the grace days:
    overdue principal × daily rate, to the cent. One row per installment per day, so a re-run
    of the daily job adds nothing."""

    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), on_delete=models.PROTECT,
        related_name="penalty_accruals",
    )  # fmt: skip
    accrual_date = models.DateField(_("date"))
    principal = _money(_("overdue principal"))
    rate_per_day = models.DecimalField(_("rate per day (%)"), max_digits=6, decimal_places=4)
    amount = _money(_("penalty interest"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("penalty interest accrual")
        verbose_name_plural = _("penalty interest accruals")
        ordering = ["installment", "accrual_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["installment", "accrual_date"], name="accrual_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.installment_id} {self.accrual_date} {self.amount}"


@track()
class Payment(models.Model):
    """A payment received (回款), recorded by finance or posted by the ERP. Idempotent on the
    bank reference and on the external id. `allocated_amount` is the sum of its live
    allocations; the rest is the customer's credit balance (预收款 / 余额) until applied. A
    wrong payment is reversed (冲销) with a reason, never deleted."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
        related_name="payments",
    )  # fmt: skip
    # The customer's owner when recorded: scope and the rep's figures.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="payments",
    )  # fmt: skip
    amount = _money(_("amount"))
    received_on = models.DateField(_("received on"))
    method = models.CharField(
        _("method"), max_length=20, choices=PaymentMethod.choices,
        default=PaymentMethod.BANK_TRANSFER,
    )  # fmt: skip
    bank_reference = models.CharField(_("bank reference"), max_length=100, blank=True, default="")
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    allocated_amount = _money(_("allocated"), default=ZERO)
    status = FSMField(
        _("status"), max_length=20, choices=PaymentStatus.choices,
        default=PaymentStatus.RECORDED, protected=True,
    )  # fmt: skip
    reversal_reason = models.CharField(_("reason for reversal"), max_length=300, blank=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_money = True

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(allocated_amount__gte=0) & Q(allocated_amount__lte=F("amount")),
                name="payment_allocated_within_amount",
            ),
            models.UniqueConstraint(
                fields=["bank_reference"],
                condition=~Q(bank_reference=""),
                name="payment_unique_bank_reference",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="payment_unique_external_id",
            ),
            models.CheckConstraint(
                condition=~Q(status="reversed") | (~Q(reversal_reason="") & Q(allocated_amount=0)),
                name="payment_reversed_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "received_on"], name="payment_customer_date"),
            models.Index(fields=["owner", "received_on"], name="payment_owner_date"),
            models.Index(fields=["received_on"], name="payment_received_on"),
            models.Index(fields=["updated_at", "id"], name="payment_sync"),
            # The finance workbench: payments with money left to allocate, with what its
            # totals sum and scope by (an index-only scan, no visit of the table's pages).
            models.Index(
                fields=["customer"],
                include=["amount", "allocated_amount", "owner"],
                name="payment_unallocated",
                condition=Q(status="recorded") & Q(allocated_amount__lt=F("amount")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received_on:%Y-%m-%d} {self.amount}"

    def get_absolute_url(self) -> str:
        return reverse("receivables:payment_detail", args=[self.pk])

    @property
    def unallocated_amount(self) -> Decimal:
        return (
            self.amount - self.allocated_amount if self.status == PaymentStatus.RECORDED else ZERO
        )

    @transition(field=status, source=PaymentStatus.RECORDED, target=PaymentStatus.REVERSED)
    def reverse(self) -> None:
        """冲销: its allocations were reversed first (services)."""


@track()
class Allocation(models.Model):
    """Part of a payment applied to an installment (核销). Never deleted: undoing it (with the
    payment's reversal, or to re-allocate) sets `reversed_at`."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="allocations"
    )
    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), on_delete=models.PROTECT,
        related_name="allocations",
    )  # fmt: skip
    amount = _money(_("amount"))
    allocated_on = models.DateField(_("allocated on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("allocated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reversed by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["payment", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["installment", "allocated_on"], name="allocation_installment"),
            # The live allocations of the payments received in a few days (the collected
            # amount of the open month's last days, goals.actuals), read from the index alone.
            models.Index(
                fields=["payment"],
                include=["installment", "amount"],
                name="allocation_payment_live",
                condition=Q(reversed_at__isnull=True),
            ),
            models.Index(fields=["allocated_on"], name="allocation_date"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.installment_id}: {self.amount}"


@track()
class CollectionTask(models.Model):
    """A collection task (催收任务) opened by the daily job when an installment enters an
    aging bucket, for the person that bucket escalates to."""

    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), on_delete=models.PROTECT,
        related_name="collection_tasks",
    )  # fmt: skip
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
        related_name="collection_tasks",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT,
        related_name="collection_tasks",
    )  # fmt: skip
    bucket = models.PositiveSmallIntegerField(_("aging bucket"))
    status = models.CharField(
        _("status"), max_length=10, choices=CollectionTaskStatus.choices,
        default=CollectionTaskStatus.OPEN,
    )  # fmt: skip
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_money = True

    class Meta:
        verbose_name = _("collection task")
        verbose_name_plural = _("collection tasks")
        ordering = ["status", "due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["installment", "bucket"], name="collectiontask_once_per_bucket"
            ),
        ]
        indexes = [models.Index(fields=["owner", "status"], name="collectiontask_owner_status")]

    def __str__(self) -> str:
        return f"{self.customer} {self.get_status_display()}"


@track()
class CollectionRecord(models.Model):
    """A collection contact (催收记录): whom, how, what was said, and a promise to pay (承诺
    付款: date and amount) that the daily job checks — a promise not kept by its date is
    flagged broken."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
        related_name="collection_records",
    )  # fmt: skip
    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="collection_records",
    )  # fmt: skip
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
        related_name="collection_records",
    )  # fmt: skip
    method = models.CharField(_("method"), max_length=20, choices=CollectionMethod.choices)
    notes = models.TextField(_("notes"))
    promised_on = models.DateField(_("promised payment date"), null=True, blank=True)
    promised_amount = _money(_("promised amount"), null=True, blank=True)
    promise_status = models.CharField(
        _("promise"), max_length=10, choices=PromiseStatus.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_money = True

    class Meta:
        verbose_name = _("collection record")
        verbose_name_plural = _("collection records")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(promised_on__isnull=True, promised_amount__isnull=True)
                | Q(promised_on__isnull=False, promised_amount__gt=0),
                name="collectionrecord_promise_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="collectionrecord_customer"),
            models.Index(
                fields=["promised_on"],
                name="collectionrecord_open_promise",
                condition=Q(promise_status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.created_at:%Y-%m-%d}"


@track()
class WriteOff(models.Model):
    """A bad-debt write-off (坏账核销) of an installment's open amount, through the approval
    policy "receivables.writeoff" (finance, then the manager)."""

    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), on_delete=models.PROTECT,
        related_name="write_offs",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    amount = _money(_("amount"))
    reason = models.TextField(_("reason"))
    status = FSMField(
        _("status"), max_length=20, choices=WriteOffStatus.choices,
        default=WriteOffStatus.DRAFT, protected=True,
    )  # fmt: skip
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_money = True

    class Meta:
        verbose_name = _("bad-debt write-off")
        verbose_name_plural = _("bad-debt write-offs")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="writeoff_amount_positive"),
            models.UniqueConstraint(
                fields=["installment"],
                condition=Q(status__in=["draft", "pending"]),
                name="writeoff_one_open_per_installment",
            ),
        ]

    def __str__(self) -> str:
        return _("Write-off of %(installment)s") % {"installment": self.installment}

    def get_absolute_url(self) -> str:
        return reverse("receivables:writeoff_detail", args=[self.pk])

    @transition(field=status, source=WriteOffStatus.DRAFT, target=WriteOffStatus.PENDING)
    def submit(self) -> None:
        """Submitted to the write-off policy."""

    @transition(field=status, source=WriteOffStatus.PENDING, target=WriteOffStatus.APPROVED)
    def approve(self) -> None:
        """Approved: the services write the installment off."""

    @transition(field=status, source=WriteOffStatus.PENDING, target=WriteOffStatus.DRAFT)
    def return_to_draft(self) -> None:
        """Returned or withdrawn."""
