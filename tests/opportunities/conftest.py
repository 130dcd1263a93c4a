"""Fixtures of the pipeline tests: customers with or without a decision maker and a visit, deals
put in a given stage with their stage history, approved quotes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.customers.models import Contact, Customer
from apps.opportunities.choices import OPEN_STAGES, QuoteStatus, Stage
from apps.opportunities.models import Opportunity, Quote, StageChange
from apps.opportunities.services import opportunity_create
from apps.visits.models import VisitRecord
from tests.api.conftest import bearer  # noqa: F401 (the API tests' fixture)


def make_customer(owner, *, name: str = "", decision_maker: bool = True,
                  visited: bool = True) -> Customer:  # fmt: skip
    customer = Customer.objects.create(name=name or f"客户{Customer.objects.count() + 1}",
                                       owner=owner)  # fmt: skip
    if decision_maker:
        Contact.objects.create(customer=customer, name="王总", decision_role="decision_maker")
    if visited:
        VisitRecord.objects.create(
            owner=owner, customer=customer, purpose="develop", started_at=timezone.now()
        )
    return customer


def approve_quote(opportunity: Opportunity) -> Quote:
    """An approved quote, written directly (the quote editor is another part's)."""
    return Quote.objects.create(
        opportunity=opportunity, owner=opportunity.owner, status=QuoteStatus.APPROVED,
        total=opportunity.amount, approved_at=timezone.now(),
    )  # fmt: skip


def put_in_stage(opportunity: Opportunity, stage: str, *, days_ago: float = 0) -> Opportunity:
    """Jump a deal to `stage` (test set-up only), entered `days_ago`, with its history row."""
    at = timezone.now() - timedelta(days=days_ago)
    lost, closed = stage == Stage.LOST, stage in (Stage.WON, Stage.LOST)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        stage=stage, stage_entered_at=at, closed_at=at if closed else None,
        lost_reason="价格" if lost else "", lost_competitor="海天" if lost else "",
    )  # fmt: skip
    StageChange.objects.filter(opportunity=opportunity).delete()
    StageChange.objects.create(opportunity=opportunity, stage=stage, entered_at=at)
    return Opportunity.objects.get(pk=opportunity.pk)


@pytest.fixture
def deal(db) -> Callable[..., Opportunity]:
    """`deal(owner, stage=..., amount=..., **customer_kwargs)`: a deal of `owner`'s customer."""

    def make(
        owner, stage: str = Stage.PROSPECTING, amount: str = "100000.00", *,
        days_ago: float = 0, close=None, name: str = "", **customer_kwargs,
    ) -> Opportunity:  # fmt: skip
        customer = make_customer(owner, **customer_kwargs)
        opportunity = opportunity_create(
            customer=customer, owner=owner, by=owner, name=name or f"商机 {customer.name}",
            amount=Decimal(amount), expected_close_date=close,
        )  # fmt: skip
        if stage != Stage.PROSPECTING or days_ago:
            opportunity = put_in_stage(opportunity, stage, days_ago=days_ago)
        if stage in OPEN_STAGES[3:] and not opportunity.needs_analysis:
            Opportunity.objects.filter(pk=opportunity.pk).update(needs_analysis="需要十台机床")
            # (refresh_from_db would set the protected stage field: read a fresh row instead)
            opportunity = Opportunity.objects.get(pk=opportunity.pk)
        return opportunity

    return make
