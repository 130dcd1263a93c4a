"""States and kinds of contracts (DESIGN.md "contracts", seed 000: payment terms, 逾期罚息)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    SIGNED = "signed", _("Signed")
    EXECUTING = "executing", _("Executing")
    COMPLETED = "completed", pgettext_lazy("contract", "Completed")
    TERMINATED = "terminated", _("Terminated")


# A contract in these states holds credit (approved, not yet billed) or is billed.
LIVE_STATUSES = (ContractStatus.APPROVED, ContractStatus.SIGNED, ContractStatus.EXECUTING)


class InstallmentKind(models.TextChoices):
    PREPAYMENT = "prepayment", _("Prepayment")
    ON_DELIVERY = "on_delivery", _("On delivery")
    ON_ACCEPTANCE = "on_acceptance", _("On acceptance")
    RETENTION = "retention", _("Retention")
    OTHER = "other", pgettext_lazy("installment kind", "Other")


class AmendmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
