"""Leads (线索): captured prospects, their duplicate touches, scoring rules and territories.

Identity keys (`*_key`, `credit_code`) are kept normalized on save with the same functions as
customers (`apps.customers.normalization`) and indexed, so that dedupe on capture is an indexed
equality against leads *and* customers. The status FSM only changes state here; the services
(`services.py`) check rights, lock, save, notify.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from apps.accounts.scope import ScopedManager
from apps.core.history import track
from apps.core.lookups import Ngrams
from apps.customers.choices import CompanySize
from apps.customers.normalization import normalize_company_name, normalize_email, normalize_phone

from .choices import (
    DecisionTimeFrame,
    Intent,
    LeadGrade,
    LeadSource,
    LeadStatus,
    ScoringField,
    ScoringOperator,
)

_WORKABLE = [LeadStatus.NEW, LeadStatus.ASSIGNED, LeadStatus.CONTACTED, LeadStatus.QUALIFIED,
             LeadStatus.NURTURING]  # fmt: skip


def has_contact_channel(lead: Lead) -> bool:
    """Guard: someone can be reached (a phone or an e-mail)."""
    return bool(lead.phone_key or lead.email_key)


def has_owner(lead: Lead) -> bool:
    return lead.owner_id is not None


def has_reason(lead: Lead) -> bool:
    return bool((lead.disqualify_reason or "").strip())


# The list filters other than the scope, carried by the list indexes (see `Lead.Meta`).
LIST_FILTER_COLUMNS = ["status", "grade", "source", "region", "sla_breached_at"]


@track(exclude=["holder"])
class Lead(models.Model):
    """A prospect (线索) captured from a channel, scored, assigned to a rep within the
    territory's team, worked to a first response within the grade's SLA, and converted into a
    customer (or disqualified / put into nurturing)."""

    company_name = models.CharField(_("company name"), max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, default=""
    )
    region = models.CharField(_("region"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    company_size = models.CharField(
        _("company size"), max_length=20, choices=CompanySize.choices, blank=True
    )
    intent = models.CharField(_("intent"), max_length=10, choices=Intent.choices, blank=True)
    budget = models.DecimalField(
        _("budget"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    decision_time_frame = models.CharField(
        _("decision time frame"), max_length=10, choices=DecisionTimeFrame.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices)
    channel = models.CharField(
        _("channel"), max_length=100, blank=True, help_text=_("E.g. the exhibition or campaign.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,  # `lead_owner_recent` (owner, -updated_at) serves owner lookups
    )
    team = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,  # `lead_team_status` (team, status) serves team lookups
    )
    # Who holds the lead, in one column the scope filter and the list index share: the
    # owner's id, or minus the team's id while it waits in a team. A head's scope is then one
    # ``holder IN (…)`` — an index range per holder — instead of ``owner IN (…) OR (owner IS
    # NULL AND team IN (…))``, which no index-only scan answers (`selectors.lead_scope_q`).
    holder = models.GeneratedField(
        expression=Coalesce(F("owner_id"), Value(0) - F("team_id")),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
        verbose_name=_("holder"),
    )
    score = models.PositiveSmallIntegerField(_("score"), default=0)
    grade = models.CharField(
        _("grade"), max_length=1, choices=LeadGrade.choices, default=LeadGrade.D
    )
    status = FSMField(
        _("status"),
        max_length=20,
        choices=LeadStatus.choices,
        default=LeadStatus.NEW,
        protected=True,
    )
    disqualify_reason = models.CharField(_("disqualification reason"), max_length=300, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    sla_breached_at = models.DateTimeField(_("response SLA breached at"), null=True, blank=True)
    converted_customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("converted to customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="converted_leads",
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    name_key = models.CharField(max_length=200, editable=False)
    phone_key = models.CharField(max_length=20, editable=False, blank=True)
    email_key = models.CharField(max_length=254, editable=False, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="lead_score_0_100"
            ),
        ]
        indexes = [
            # Search on the name (DESIGN.md "Scale"): Django's icontains compares UPPER(col),
            # so the trigram index is on that expression to be usable by it.
            GinIndex(OpClass(Upper("company_name"), name="gin_trgm_ops"), name="lead_company_trgm"),
            # … and one or two characters (a trigram index draws nothing from 科技): the
            # n-grams of the name (`apps.core.lookups.NgramContains`).
            GinIndex(Ngrams("company_name"), name="lead_company_ngrams"),
            # Dedupe keys (`services.find_duplicate`): equality only. Declared here rather than
            # with `db_index=True`, which adds a `varchar_pattern_ops` twin per column that no
            # query needs and every insert and update writes (issue 4, bench/leads_dedupe.py).
            models.Index(fields=["name_key"], name="lead_name_key"),
            models.Index(fields=["phone_key"], name="lead_phone_key"),
            models.Index(fields=["email_key"], name="lead_email_key"),
            models.Index(fields=["credit_code"], name="lead_credit_code"),
            # The list (`selectors.lead_list`/`lead_page`, the API cursor): the scope filter
            # then the order (updated_at, id), so that a page is a range of one index, in
            # either direction, and the ids of a deep page an index-only scan.
            # The holder (scope) and the sync indexes carry the filter columns (INCLUDE), so
            # that a filtered or deep page is an index-only scan that skips non-matching
            # entries without reading their rows: a supervisor's "grade A" page read 660,000
            # rows (1.2 s), a manager's page 1,000 275,000 (0.9 s) without them
            # (bench/leads_list.py).
            models.Index(fields=["owner", "-updated_at", "-id"], name="lead_owner_recent"),
            models.Index(
                fields=["holder", "-updated_at", "-id"],
                include=LIST_FILTER_COLUMNS,
                name="lead_holder_recent",
            ),
            models.Index(
                fields=["updated_at", "id"],
                include=["holder", *LIST_FILTER_COLUMNS],
                name="lead_sync",
            ),
            models.Index(fields=["status", "-updated_at", "-id"], name="lead_status_recent"),
            # Unassigned leads waiting in a team, which its heads see (small: partial).
            models.Index(
                fields=["team", "-updated_at", "-id"],
                name="lead_team_waiting",
                condition=Q(owner__isnull=True),
            ),
            models.Index(fields=["team", "status"], name="lead_team_status"),
            # The SLA job: due, not answered, not flagged yet.
            models.Index(
                fields=["first_response_due_at"],
                name="lead_sla_due",
                condition=Q(first_responded_at__isnull=True, sla_breached_at__isnull=True),
            ),
            # The period of the lead reports: the leads captured in it (the sources page,
            # `source_figures`) and those whose first response fell due in it (the SLA page
            # and API, `selectors._sla_due_in`). A month is ~8% of the leads, stored together
            # (ids follow the capture): a bitmap scan of ~5,000 pages instead of all 39,000
            # (0.15–0.2 s a pass over 1M leads; issue 10, bench/suite_cases.py).
            models.Index(fields=["created_at"], name="lead_created"),
            models.Index(fields=["first_response_due_at"], name="lead_response_due"),
        ]

    def __str__(self) -> str:
        return self.company_name

    def get_absolute_url(self) -> str:
        return reverse("leads:detail", args=[self.pk])

    def save(self, *args, **kwargs) -> None:
        self.name_key = normalize_company_name(self.company_name)
        self.phone_key = normalize_phone(self.phone)
        self.email_key = normalize_email(self.email)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key", "phone_key",
                                       "email_key", "updated_at"}  # fmt: skip
        super().save(*args, **kwargs)

    # --- transitions (state only; see services.py) ------------------------------------------

    @transition(field=status, source=LeadStatus.NEW, target=LeadStatus.ASSIGNED,
                conditions=[has_owner])  # fmt: skip
    def assign(self) -> None:
        """An owner was given to a new lead."""

    @transition(
        field=status,
        source=[LeadStatus.ASSIGNED, LeadStatus.NURTURING],
        target=LeadStatus.CONTACTED,
        conditions=[has_owner],
    )
    def contact(self) -> None:
        """The owner reached the prospect (the first response of the SLA)."""

    @transition(
        field=status,
        source=LeadStatus.CONTACTED,
        target=LeadStatus.QUALIFIED,
        conditions=[has_contact_channel, has_owner],
    )
    def qualify(self) -> None:
        """The prospect has a real need, budget and timing."""

    @transition(field=status, source=_WORKABLE, target=LeadStatus.DISQUALIFIED,
                conditions=[has_reason])  # fmt: skip
    def disqualify(self) -> None:
        """Not a prospect (the reason is kept)."""

    @transition(
        field=status,
        source=[LeadStatus.ASSIGNED, LeadStatus.CONTACTED, LeadStatus.QUALIFIED],
        target=LeadStatus.NURTURING,
    )
    def nurture(self) -> None:
        """Not ready to buy now: kept warm for later."""

    @transition(field=status, source=LeadStatus.QUALIFIED, target=LeadStatus.CONVERTED,
                conditions=[has_owner])  # fmt: skip
    def convert(self) -> None:
        """Became a customer (the service creates or links it)."""


class LeadTouch(models.Model):
    """A repeated capture of a known prospect (a duplicate): kept on the existing lead or
    customer instead of creating a second record (seed 003: dedupe)."""

    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="touches",
    )  # fmt: skip
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="lead_touches",
    )  # fmt: skip
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices)
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    payload = models.JSONField(_("captured data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lead touch")
        verbose_name_plural = _("lead touches")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead__isnull=False) & Q(customer__isnull=True))
                | (Q(lead__isnull=True) & Q(customer__isnull=False)),
                name="lead_touch_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.created_at:%Y-%m-%d}"


@track()
class ScoringRule(models.Model):
    """A lead scoring rule (线索评分规则): when `field` matches, add `points` (may be negative).
    The score is the clamped sum (0–100); its grade follows settings.LEAD_GRADE_THRESHOLDS."""

    name = models.CharField(_("name"), max_length=100)
    field = models.CharField(_("field"), max_length=30, choices=ScoringField.choices)
    operator = models.CharField(
        _("operator"), max_length=10, choices=ScoringOperator.choices, default="equals"
    )
    value = models.CharField(_("value"), max_length=100, blank=True, help_text=_("For “equals”."))
    values = models.JSONField(
        _("values"), default=list, blank=True, help_text=_("For “is one of”: a list of values.")
    )
    min_value = models.DecimalField(
        pgettext_lazy("range", "from"), max_digits=14, decimal_places=2, null=True, blank=True,
        help_text=_("For “between”: inclusive; empty means no lower bound."),
    )  # fmt: skip
    max_value = models.DecimalField(
        pgettext_lazy("range", "to"), max_digits=14, decimal_places=2, null=True, blank=True,
        help_text=_("For “between”: exclusive; empty means no upper bound."),
    )  # fmt: skip
    points = models.SmallIntegerField(_("points"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["field", "id"]

    def __str__(self) -> str:
        return self.name


@track()
class Territory(models.Model):
    """A sales territory (销售区域): the leads of a region go to this team."""

    region = models.CharField(_("region"), max_length=100, unique=True)
    team = models.ForeignKey(
        "accounts.OrgUnit", verbose_name=_("team"), on_delete=models.PROTECT,
        related_name="territories",
    )  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["region"]

    def __str__(self) -> str:
        return self.region


class PendingImport(models.Model):
    """An uploaded import file (线索导入) waiting between the preview and the confirmation.

    Kept in the database, not on a web machine's disk, so that the preview and the confirmation
    may be served by different machines and the purge job (`importing.import_purge_stale`, on a
    worker) sees every upload. A bookkeeping row, not history-tracked: it is deleted when the
    import commits, or by the purge once older than LEAD_IMPORT_UPLOAD_TTL_HOURS.
    """

    token = models.UUIDField(_("token"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=255)
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    suffix = models.CharField(_("file type"), max_length=10)
    content = models.BinaryField(_("content"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    # Set by the service, not auto_now_add: a test (or a data repair) may date a row.
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("pending import")
        verbose_name_plural = _("pending imports")
        # The purge deletes by age.
        indexes = [models.Index(fields=["created_at"], name="pending_import_created")]

    def __str__(self) -> str:
        return self.name
