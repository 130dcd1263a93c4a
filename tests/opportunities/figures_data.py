"""Hand-made pipeline data for the figures tests: deals with explicit stage histories."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.customers.models import Customer
from apps.opportunities.models import Opportunity, StageChange


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def deal(
    owner,
    stays: list[tuple[str, datetime]],
    *,
    amount: str = "0.00",
    close: date | None = None,
    name: str = "Deal",
) -> Opportunity:
    """A deal of `owner` created at the first stay's time that went through `stays` (stage,
    entered at): each stay is left when the next one is entered; the last one is current."""
    customer = Customer.objects.create(owner=owner, name=f"{name} customer")
    last_stage, last_at = stays[-1]
    opportunity = Opportunity.objects.create(
        name=name, customer=customer, owner=owner, amount=Decimal(amount),
        expected_close_date=close, stage=last_stage, stage_entered_at=last_at,
        lost_reason="price" if last_stage == "lost" else "",
        lost_competitor="Rival Co" if last_stage == "lost" else "",
    )  # fmt: skip
    Opportunity.objects.filter(pk=opportunity.pk).update(created_at=stays[0][1])
    rows = []
    for i, (stage, entered) in enumerate(stays):
        left = stays[i + 1][1] if i + 1 < len(stays) else None
        rows.append(
            StageChange(
                opportunity=opportunity,
                stage=stage,
                entered_at=entered,
                left_at=left,
                from_stage=stays[i - 1][0] if i else "",
            )
        )
    StageChange.objects.bulk_create(rows)
    return opportunity


def days(n: float) -> timedelta:
    return timedelta(days=n)
