"""States and kinds of receivables (DESIGN.md "receivables", seed 000)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InstallmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("Due")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    WRITTEN_OFF = "written_off", _("Written off")


# Installments with money still to collect.
OPEN_STATUSES = (
    InstallmentStatus.SCHEDULED,
    InstallmentStatus.DUE,
    InstallmentStatus.PARTIALLY_PAID,
)


class AgingBucket(models.IntegerChoices):
    """Days overdue (账龄): 0 current, then 1–30, 31–60, 61–90, over 90."""

    CURRENT = 0, _("Current")
    D1_30 = 1, _("1–30 days")
    D31_60 = 2, _("31–60 days")
    D61_90 = 3, _("61–90 days")
    D90_PLUS = 4, _("Over 90 days")


class PaymentStatus(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    REVERSED = "reversed", _("Reversed")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ACCEPTANCE_BILL = "acceptance_bill", _("Bank acceptance bill")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", pgettext_lazy("payment method", "Other")


class CollectionMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Visit")
    MESSAGE = "message", _("Message / WeChat")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Collection letter")
    LEGAL = "legal", _("Lawyer's letter / legal action")


class PromiseStatus(models.TextChoices):
    NONE = "", _("No promise")
    PENDING = "pending", _("Promised")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


class CollectionTaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", pgettext_lazy("task", "Done")


class WriteOffStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
