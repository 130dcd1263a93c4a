from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    """What a target measures; the actuals are computed from the documents (goals/actuals.py)."""

    CONTRACT_AMOUNT = "contract_amount", _("Signed contract amount")
    COLLECTED = "collected", _("Collected amount")
    NEW_CUSTOMERS = "new_customers", _("New active customers")
    VISITS = "visits", _("Visits")
    EFFECTIVE_VISITS = "effective_visits", _("Effective visits")


MONEY_METRICS = frozenset({Metric.CONTRACT_AMOUNT, Metric.COLLECTED})


class PeriodKind(models.TextChoices):
    YEAR = "year", _("Year")
    QUARTER = "quarter", _("Quarter")
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")


class ScopeKind(models.TextChoices):
    COMPANY = "company", _("Company")
    UNIT = "unit", _("Org unit")
    REP = "rep", _("Rep")


class TargetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # part of a sales plan not yet approved
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")  # its period was closed (attainment evaluated)


class DocumentStatus(models.TextChoices):
    """Sales plans and target adjustments: the approval engine moves them."""

    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")


class ReviewStatus(models.TextChoices):
    """Period review (seed 004 flow 1 steps 8–12): the supervisor summarises, the manager
    reviews (approves or returns), the result is published to the team."""

    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")


class SplitMethod(models.TextChoices):
    EVEN = "even", _("Even split")
    SEASONAL = "seasonal", _("Last year's seasonality")
    MANUAL = "manual", _("By hand")
