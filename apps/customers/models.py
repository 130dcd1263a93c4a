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

from .choices import (
    ApplicationStatus,
    CompanySize,
    CreditRating,
    CustomerStatus,
    CustomerTier,
    DecisionRole,
    InvestigationStatus,
)
from .normalization import normalize_company_name, normalize_email, normalize_phone


@track()
class Customer(models.Model):
    """A company we sell to. `owner` is the rep responsible; no owner means it is in the public
    pool (公海). Status FSM: prospect → developing → active → dormant / lost."""

    name = models.CharField(_("company name"), max_length=200)
    name_key = models.CharField(max_length=200, editable=False)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, default=""
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(
        _("company size"), max_length=20, choices=CompanySize.choices, blank=True
    )
    region = models.CharField(_("region"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_key = models.CharField(max_length=20, editable=False, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email_key = models.CharField(max_length=254, editable=False, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    # The ERP's key (API.md "ERP integration"): `PUT /api/v1/customers/external/<id>/` upserts.
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, default="", db_default=""
    )
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
        db_index=False,  # `customer_owner_recent` (owner, -updated_at) serves owner lookups
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
    # Who lost it at the last release: that rep cannot re-claim it during the cool-off.
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    # Finance reads every customer: a customer carries credit (limit, exposure, hold), and
    # finance approves limits and puts customers on hold company-wide (DESIGN.md "Data scope":
    # finance sees all money documents). Unowned customers (the public pool) are added for
    # everyone by `selectors.customer_list`.
    scope_money = True

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
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="customer_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="customer_credit_limit_not_negative"
            ),
        ]
        indexes = [
            # Server-side search on the name (DESIGN.md "Scale": trigram GIN, no LIKE scans).
            GinIndex(fields=["name"], name="customer_name_trgm", opclasses=["gin_trgm_ops"]),
            # Dedupe keys and the region filter: equality only. Declared here rather than with
            # `db_index=True`, which adds a second `varchar_pattern_ops` twin per column that
            # no query needs; every index is written again by each non-HOT update, and the
            # nightly pool job updates up to half the table (issue 4, bench/customers_pool.py).
            models.Index(fields=["name_key"], name="customer_name_key"),
            models.Index(fields=["phone_key"], name="customer_phone_key"),
            models.Index(fields=["email_key"], name="customer_email_key"),
            models.Index(fields=["region"], name="customer_region"),
            models.Index(fields=["owner", "-updated_at"], name="customer_owner_recent"),
            models.Index(fields=["updated_at", "id"], name="customer_sync"),
            models.Index(
                fields=["last_follow_up_at"],
                name="customer_pool_due",
                condition=Q(owner__isnull=False),
            ),
            # The customers on credit hold (the finance home), the latest change first.
            models.Index(
                fields=["-updated_at", "-id"],
                include=["owner"],
                name="customer_credit_hold",
                condition=Q(on_credit_hold=True),
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
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    # Data scope: a contact belongs to its customer's owner, and finance sees it like the
    # customer (to reach the customer's finance contact when collecting).
    scope_owner_field = "customer__owner"
    scope_money = True

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]
        indexes = [models.Index(fields=["updated_at", "id"], name="contact_sync")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="contact_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.phone_key = normalize_phone(self.phone)
        self.email_key = normalize_email(self.email)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_key", "email_key"}
        super().save(*args, **kwargs)


def _money(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class ApprovalDocument(models.Model):
    """What a development application and a credit limit request share: an owner (the
    applicant, who submits), a status moved by the approval engine's callbacks, and the
    comment of the last return (退回) so the applicant sees why."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = FSMField(
        _("status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.DRAFT,
        protected=True,
    )
    return_comment = models.TextField(_("comment of the last return"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        abstract = True

    @transition(field=status, source=ApplicationStatus.DRAFT, target=ApplicationStatus.PENDING)
    def submit(self) -> None:
        """Submitted to its approval policy."""

    @transition(field=status, source=ApplicationStatus.PENDING, target=ApplicationStatus.APPROVED)
    def approve(self) -> None:
        """The last step of the policy approved it."""

    @transition(field=status, source=ApplicationStatus.PENDING, target=ApplicationStatus.DRAFT)
    def return_to_draft(self) -> None:
        """Returned (退回) or withdrawn: the applicant revises and resubmits."""


@track()
class DevelopmentApplication(ApprovalDocument):
    """New-customer development application (新客户开发申请, seed 004 flow 2): the credit survey
    (信用调查表) and the development plan a rep submits for a prospect. Supervisor review, then
    manager review; approval moves the customer to "developing"."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="development_applications",
    )
    registered_capital = _money(_("registered capital"), null=True, blank=True)
    years_in_business = models.PositiveSmallIntegerField(
        _("years in business"), null=True, blank=True
    )
    main_business = models.TextField(_("main business"), blank=True)
    payment_record = models.TextField(_("payment record"), blank=True)
    legal_disputes = models.TextField(_("legal disputes"), blank=True)
    financial_standing = models.TextField(_("financial standing"), blank=True)
    references = models.TextField(_("references"), blank=True)
    development_plan = models.TextField(_("development plan"), blank=True)

    class Meta:
        verbose_name = _("development application")
        verbose_name_plural = _("development applications")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-updated_at"], name="devapp_owner_recent"),
            models.Index(fields=["updated_at", "id"], name="devapp_sync"),
        ]
        constraints = [
            # One open application per customer: a second would ask the approvers twice.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["draft", "pending"]),
                name="devapp_one_open_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(registered_capital__gte=0) | Q(registered_capital__isnull=True),
                name="devapp_capital_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return _("Development application: %(customer)s") % {"customer": self.customer}

    def get_absolute_url(self) -> str:
        return reverse("customers:development_detail", args=[self.pk])


@track()
class CreditRatingRule(models.Model):
    """Admin table: what a credit rating (信用评级) means. An investigation's weighted score
    at or above `min_score` earns the rating; the rating gives the default credit limit and
    payment term of a customer that has none yet."""

    rating = models.CharField(
        _("credit rating"), max_length=3, choices=CreditRating.choices, unique=True
    )
    min_score = models.DecimalField(_("minimum score"), max_digits=5, decimal_places=2)
    default_credit_limit = _money(_("default credit limit"))
    payment_term_days = models.PositiveIntegerField(_("payment term (days)"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("credit rating rule")
        verbose_name_plural = _("credit rating rules")
        ordering = ["-min_score"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_score__gte=0) & Q(min_score__lte=100),
                name="rating_rule_score_0_100",
            ),
            models.CheckConstraint(
                condition=Q(default_credit_limit__gte=0), name="rating_rule_limit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.rating


def _score(verbose_name) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(verbose_name, default=0)


@track()
class CreditInvestigation(models.Model):
    """A credit investigation (信用调查) of a customer: each factor scored 0–100, a weighted
    total (weights in settings.CUSTOMER_CREDIT_WEIGHTS) and the rating it earns by the thresholds
    of `CreditRatingRule`. Applying it sets the customer's rating."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="credit_investigations",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("investigator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_capital = _score(_("registered capital score"))
    years_in_business = _score(_("years in business score"))
    payment_record = _score(_("payment record score"))
    legal_disputes = _score(_("legal disputes score"))
    financial_standing = _score(_("financial standing score"))
    references = _score(_("references score"))
    notes = models.TextField(_("notes"), blank=True)
    total_score = models.DecimalField(
        _("weighted score"), max_digits=5, decimal_places=2, default=Decimal("0.00")
    )
    rating = models.CharField(
        _("credit rating"), max_length=3, choices=CreditRating.choices, blank=True
    )
    status = FSMField(
        _("status"),
        max_length=20,
        choices=InvestigationStatus.choices,
        default=InvestigationStatus.DRAFT,
        protected=True,
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_owner_field = "customer__owner"
    scope_money = True

    class Meta:
        verbose_name = _("credit investigation")
        verbose_name_plural = _("credit investigations")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["updated_at", "id"], name="investigation_sync")]
        constraints = [
            models.CheckConstraint(
                condition=Q(registered_capital__lte=100)
                & Q(years_in_business__lte=100)
                & Q(payment_record__lte=100)
                & Q(legal_disputes__lte=100)
                & Q(financial_standing__lte=100)
                & Q(references__lte=100),
                name="investigation_scores_0_100",
            )
        ]

    def __str__(self) -> str:
        return _("Credit investigation: %(customer)s") % {"customer": self.customer}

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.customer_id]) + "#credit"

    @transition(field=status, source=InvestigationStatus.DRAFT, target=InvestigationStatus.APPLIED)
    def apply(self) -> None:
        """Its rating was given to the customer."""


@track()
class CreditLimitRequest(ApprovalDocument):
    """A credit limit change request (信用额度调整): the new limit and payment term, with the
    reason. Goes through its policy (supervisor → manager → finance above 200,000); the new
    limit applies to the customer only when approved."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="credit_limit_requests",
    )
    investigation = models.ForeignKey(
        CreditInvestigation,
        verbose_name=_("credit investigation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    current_limit = _money(_("current limit"), default=Decimal("0.00"))
    requested_limit = _money(_("requested limit"))
    payment_term_days = models.PositiveIntegerField(_("payment term (days)"))
    reason = models.TextField(_("reason"))

    # Finance approves limits company-wide, so it reads every request.
    scope_money = True

    class Meta:
        verbose_name = _("credit limit request")
        verbose_name_plural = _("credit limit requests")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-updated_at"], name="limitreq_owner_recent"),
            models.Index(fields=["updated_at", "id"], name="limitreq_sync"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_limit__gte=0), name="limitreq_limit_not_negative"
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["draft", "pending"]),
                name="limitreq_one_open_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return _("Credit limit request: %(customer)s") % {"customer": self.customer}

    def get_absolute_url(self) -> str:
        return reverse("customers:credit_limit_detail", args=[self.pk])
