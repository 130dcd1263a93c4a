"""Customers (客户) and their contacts (联系人).

Identity keys (`*_key`) are kept normalized on save (see normalization.py) and indexed, so that
dedupe on capture is an indexed equality against leads *and* customers.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.accounts.scope import ScopedManager
from apps.core.history import track

from .choices import CompanySize, CreditRating, CustomerStatus, CustomerTier, DecisionRole
from .normalization import normalize_company_name, normalize_email, normalize_phone


@track()
class Customer(models.Model):
    """A company we sell to. `owner` is the rep responsible; no owner means it is in the public
    pool (公海). Status FSM: prospect → developing → active → dormant / lost."""

    name = models.CharField(_("company name"), max_length=200)
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, default=""
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(
        _("company size"), max_length=20, choices=CompanySize.choices, blank=True
    )
    region = models.CharField(_("region"), max_length=100, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_key = models.CharField(max_length=20, editable=False, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email_key = models.CharField(max_length=254, editable=False, blank=True, db_index=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    tier = models.CharField(
        _("customer tier"), max_length=1, choices=CustomerTier.choices, default=CustomerTier.C
    )
    status = FSMField(
        _("status"),
        max_length=20,
        choices=CustomerStatus.choices,
        default=CustomerStatus.PROSPECT,
        protected=True,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    # Credit (信用): rating from the last investigation, limit and term (by approval), hold.
    credit_rating = models.CharField(
        _("credit rating"), max_length=3, choices=CreditRating.choices, blank=True
    )
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    payment_term_days = models.PositiveIntegerField(_("payment term (days)"), default=0)
    on_credit_hold = models.BooleanField(_("on credit hold"), default=False)
    credit_hold_reason = models.CharField(_("credit hold reason"), max_length=300, blank=True)
    # Follow-up and the public pool.
    last_follow_up_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    pool_warning_at = models.DateTimeField(_("pool warning sent"), null=True, blank=True)
    released_at = models.DateTimeField(_("released to the pool at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="customer_unique_credit_code",
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="customer_credit_limit_not_negative"
            ),
        ]
        indexes = [
            # Server-side search on the name (DESIGN.md "Scale": trigram GIN, no LIKE scans).
            GinIndex(fields=["name"], name="customer_name_trgm", opclasses=["gin_trgm_ops"]),
            models.Index(fields=["owner", "-updated_at"], name="customer_owner_recent"),
            models.Index(fields=["updated_at", "id"], name="customer_sync"),
            models.Index(
                fields=["last_follow_up_at"],
                name="customer_pool_due",
                condition=Q(owner__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    def save(self, *args, **kwargs) -> None:
        self.name_key = normalize_company_name(self.name)
        self.phone_key = normalize_phone(self.phone)
        self.email_key = normalize_email(self.email)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key", "phone_key",
                                       "email_key"}  # fmt: skip
        super().save(*args, **kwargs)

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None

    @transition(field=status, source=CustomerStatus.PROSPECT, target=CustomerStatus.DEVELOPING)
    def start_development(self) -> None:
        """The development application (新客户开发申请) was approved."""

    @transition(
        field=status,
        source=[CustomerStatus.PROSPECT, CustomerStatus.DEVELOPING, CustomerStatus.DORMANT],
        target=CustomerStatus.ACTIVE,
    )
    def activate(self) -> None:
        """A first contract was signed (or business resumed)."""

    @transition(field=status, source=CustomerStatus.ACTIVE, target=CustomerStatus.DORMANT)
    def make_dormant(self) -> None:
        """No business for a long time."""

    @transition(
        field=status,
        source=[CustomerStatus.PROSPECT, CustomerStatus.DEVELOPING, CustomerStatus.DORMANT,
                CustomerStatus.ACTIVE],
        target=CustomerStatus.LOST,
    )  # fmt: skip
    def lose(self) -> None:
        """Lost to a competitor or closed."""


@track()
class Contact(models.Model):
    """A person at a customer, with their role in the buying decision (决策角色)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    decision_role = models.CharField(
        _("decision role"), max_length=20, choices=DecisionRole.choices, default=DecisionRole.OTHER
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_key = models.CharField(max_length=20, editable=False, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email_key = models.CharField(max_length=254, editable=False, blank=True, db_index=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    # Data scope: a contact belongs to its customer's owner.
    scope_owner_field = "customer__owner"

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]
        indexes = [models.Index(fields=["updated_at", "id"], name="contact_sync")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.phone_key = normalize_phone(self.phone)
        self.email_key = normalize_email(self.email)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_key", "email_key"}
        super().save(*args, **kwargs)
