from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """The events an ERP can subscribe to (API.md "Webhooks")."""

    CONTRACT_APPROVED = "contract.approved", _("Contract approved")
    CONTRACT_SIGNED = "contract.signed", _("Contract signed")
    CONTRACT_TERMINATED = "contract.terminated", _("Contract terminated")
    RECEIVABLE_OVERDUE = "receivable.overdue", _("Installment overdue")
    PAYMENT_RECORDED = "payment.recorded", _("Payment recorded")
    PAYMENT_ALLOCATED = "payment.allocated", _("Payment allocated")
    PAYMENT_REVERSED = "payment.reversed", _("Payment reversed")
    CUSTOMER_CREDIT_HOLD = "customer.credit_hold", _("Customer put on credit hold")
    CUSTOMER_CREDIT_RELEASED = "customer.credit_released", _("Customer's credit hold released")
    PING = "ping", _("Test event (ping)")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")
