"""Kinds of notification. A user chooses per kind whether it is also e-mailed."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    APPROVAL_REQUESTED = "approval_requested", _("Approval waiting for me")
    APPROVAL_APPROVED = "approval_approved", _("My submission approved")
    APPROVAL_REJECTED = "approval_rejected", _("My submission returned")
    APPROVAL_REMINDER = "approval_reminder", _("Approval reminder")
    APPROVAL_ESCALATED = "approval_escalated", _("Approval overdue in my team")
    ATTAINMENT_REPORT = "attainment_report", _("Attainment report (weekly and monthly)")
    ASSESSMENT = "assessment", _("Scorecards and commissions")
    SATISFACTION_ALERT = "satisfaction_alert", _("Low customer satisfaction")
    CONTEST = "contest", _("Sales contests")
    GENERAL = "general", _("General")
