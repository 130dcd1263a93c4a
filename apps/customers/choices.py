"""States and kinds of customers (DESIGN.md "customers")."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    DEVELOPING = "developing", _("Developing")
    ACTIVE = "active", pgettext_lazy("customer status", "Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class CustomerTier(models.TextChoices):
    A = "A", _("Tier A")
    B = "B", _("Tier B")
    C = "C", _("Tier C")
    D = "D", _("Tier D")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Under 20 staff")
    SMALL = "small", _("20–99 staff")
    MEDIUM = "medium", _("100–499 staff")
    LARGE = "large", _("500–1999 staff")
    ENTERPRISE = "enterprise", _("2000+ staff")


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")
    FINANCE = "finance", _("Finance contact")
    OTHER = "other", _("Other")


class CreditRating(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class ApplicationStatus(models.TextChoices):
    """States of a document that goes through approval: a development application or a credit
    limit request. A return (退回) brings it back to draft."""

    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")


class InvestigationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPLIED = "applied", _("Applied")


class CreditFactor(models.TextChoices):
    """The factors of a credit investigation (信用调查), each scored 0–100."""

    REGISTERED_CAPITAL = "registered_capital", _("Registered capital")
    YEARS_IN_BUSINESS = "years_in_business", _("Years in business")
    PAYMENT_RECORD = "payment_record", _("Payment record")
    LEGAL_DISPUTES = "legal_disputes", _("Legal disputes")
    FINANCIAL_STANDING = "financial_standing", _("Financial standing")
    REFERENCES = "references", _("References")
