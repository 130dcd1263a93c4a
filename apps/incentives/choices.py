from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class KpiMetric(models.TextChoices):
    """What a scorecard line measures: figures the product already computes from documents."""

    CONTRACT_ATTAINMENT = "contract_attainment", _("Contract amount attainment")
    COLLECTION_ATTAINMENT = "collection_attainment", _("Collection attainment")
    COLLECTION_RATE = "collection_rate", _("Collection rate")
    NEW_CUSTOMERS = "new_customers", _("New active customers")
    EFFECTIVE_VISIT_RATE = "effective_visit_rate", _("Effective visit rate")
    PLAN_EXECUTION_RATE = "plan_execution_rate", _("Visit plan execution rate")
    LEAD_SLA_COMPLIANCE = "lead_sla_compliance", _("Lead SLA compliance")
    SATISFACTION = "satisfaction", _("Customer satisfaction")
    OVERDUE_RATIO = "overdue_ratio", _("Overdue ratio")


class Curve(models.TextChoices):
    """How a metric's value becomes points (0 up to the cap)."""

    LINEAR = "linear", _("Linear up to a cap")
    THRESHOLDS = "thresholds", _("Thresholds")


class Grade(models.TextChoices):
    S = "S", "S"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class SchemeRole(models.TextChoices):
    """Whose performance a scheme assesses: a rep on their own figures, a supervisor on their
    unit's."""

    REP = "rep", _("Sales rep")
    SUPERVISOR = "supervisor", _("Supervisor")


class AssessmentPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class ScorecardStatus(models.TextChoices):
    """Seed 004 steps 10–12: computed at period end; the supervisor writes the assessment and
    submits; the manager approves (or returns); the result is published."""

    COMPUTED = "computed", _("Computed")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")


class FactorKind(models.TextChoices):
    PRODUCT_LINE = "product_line", _("Product line")
    CUSTOMER_TIER = "customer_tier", _("Customer tier")


class SurveyTrigger(models.TextChoices):
    CONTRACT_COMPLETED = "contract_completed", _("Contract completed")
    SERVICE_VISIT = "service_visit", _("Service visit")


class SurveyStatus(models.TextChoices):
    SENT = "sent", pgettext_lazy("survey", "Sent")
    ANSWERED = "answered", _("Answered")
