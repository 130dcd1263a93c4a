"""Opportunity use cases (商机): open, edit, move through the stages, close.

Every stage move goes through `_move`: it locks the opportunity, checks the actor's right,
refuses with every unmet guard named (apps.core.fsm), calls the transition, closes the current
stage stay and opens the next one in the stage history (阶段历史), and clears the stuck alerts.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.customers.models import Contact, Customer

from .models import Opportunity, StageChange


def _enter_stage(opportunity: Opportunity, *, by: User | None, at: datetime, from_stage: str = "",
                 reason: str = "") -> StageChange:  # fmt: skip
    """Close the current stay (if any) and open one in the opportunity's current stage."""
    StageChange.objects.filter(opportunity=opportunity, left_at__isnull=True).update(left_at=at)
    return StageChange.objects.create(
        opportunity=opportunity, stage=opportunity.stage, from_stage=from_stage, entered_at=at,
        entered_by=by, reason=reason,
    )  # fmt: skip


@transaction.atomic
def opportunity_create(
    *,
    customer: Customer,
    owner: User,
    by: User | None,
    name: str,
    amount: Decimal = Decimal("0.00"),
    expected_close_date: date | None = None,
    contact: Contact | None = None,
    lead=None,
    description: str = "",
) -> Opportunity:
    """Open an opportunity in the first stage (prospecting) and start its stage history.
    `by` None is the system (e.g. a lead conversion already checked the rights)."""
    if by is not None and customer.owner_id not in (by.pk, owner.pk) and not by.is_superuser:
        from apps.customers.selectors import customer_editable_q

        if not Customer.objects.filter(customer_editable_q(by), pk=customer.pk).exists():
            raise PermissionDenied(_("You cannot open an opportunity for this customer."))
    now = timezone.now()
    opportunity = Opportunity.objects.create(
        name=name, customer=customer, owner=owner, amount=amount,
        expected_close_date=expected_close_date, contact=contact, lead=lead,
        description=description, stage_entered_at=now,
    )  # fmt: skip
    _enter_stage(opportunity, by=by, at=now)
    return opportunity
