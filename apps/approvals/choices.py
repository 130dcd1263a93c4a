"""States and kinds of the approval engine."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Returned")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ApproverKind(models.TextChoices):
    DIRECT_SUPERVISOR = "direct_supervisor", _("Direct supervisor (head of the submitter's unit)")
    UNIT_ABOVE_HEAD = "unit_above_head", _("Head of the unit above")
    ROLE = "role", _("A role within the submitter's department")
    NAMED_USER = "named_user", _("A named user")


class ApprovalMode(models.TextChoices):
    ANY = "any", _("Any one approver")
    ALL = "all", _("All approvers")


class ConditionMetric(models.TextChoices):
    NONE = "", _("Always")
    AMOUNT = "amount", _("Amount")
    PERCENTAGE = "percentage", _("Percentage")
    # The document raised a flag at submission (e.g. a contract over the available credit
    # raises "credit_override": the credit-override steps join its chain).
    FLAG = "flag", _("Flag raised by the document")


class TaskStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Returned")
    SUPERSEDED = "superseded", _("Not needed")
    CANCELLED = "cancelled", _("Cancelled")


class Decision(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Returned")
    WITHDRAW = "withdraw", _("Withdrawn")
