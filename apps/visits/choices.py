"""States and kinds of visits (DESIGN.md "visits", seed 002: 拜访计划表 / 拜访总结表 / 销售报告)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VisitPurpose(models.TextChoices):
    """The purposes seed 002 lists for a visit plan (拜访的内容和目的)."""

    DEVELOP = "develop", _("Develop a new customer")
    INFORMATION = "information", _("Information gathering")
    COLLECTION = "collection", _("Collection")
    SERVICE = "service", _("Service")
    PROBLEM = "problem", _("Problem handling")
    ORDER = "order", _("Order")
    OTHER = "other", pgettext_lazy("visit purpose", "Other")


class PlanStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", pgettext_lazy("visit plan", "Done")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    REVIEWED = "reviewed", _("Reviewed")
