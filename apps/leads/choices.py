"""States and kinds of leads (DESIGN.md "leads", seed 003)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")
    NURTURING = "nurturing", _("Nurturing")


# Leads a rep is working on: what "the fewest open leads" of assignment counts.
OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.ASSIGNED, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)


class LeadSource(models.TextChoices):
    WEB_FORM = "web_form", _("Website form")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    EXHIBITION = "exhibition", _("Exhibition")
    REFERRAL = "referral", _("Referral")
    COLD_CALL = "cold_call", _("Cold call")
    MANUAL = "manual", _("Manual entry")


class LeadGrade(models.TextChoices):
    A = "A", _("Grade A")
    B = "B", _("Grade B")
    C = "C", _("Grade C")
    D = "D", _("Grade D")


class Intent(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class DecisionTimeFrame(models.TextChoices):
    WITHIN_1_MONTH = "1m", _("Within a month")
    WITHIN_3_MONTHS = "3m", _("1–3 months")
    WITHIN_6_MONTHS = "6m", _("3–6 months")
    LATER = "later", _("Over 6 months")
    UNKNOWN = "unknown", _("Unknown")


class ScoringField(models.TextChoices):
    INDUSTRY = "industry", _("Industry")
    COMPANY_SIZE = "company_size", _("Company size")
    REGION = "region", _("Region")
    INTENT = "intent", _("Intent")
    BUDGET = "budget", _("Budget")
    DECISION_TIME_FRAME = "decision_time_frame", _("Decision time frame")
    SOURCE = "source", _("Source")


class ScoringOperator(models.TextChoices):
    EQUALS = "equals", _("Equals")
    IN = "in", _("Is one of")
    RANGE = "range", _("Between (numbers)")
