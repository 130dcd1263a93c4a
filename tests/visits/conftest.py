"""Fixtures of the visit tests: customers of the `org` reps and a plan factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.customers.models import Customer
from apps.visits.choices import VisitPurpose
from apps.visits.models import VisitPlan
from apps.visits.services import visit_plan_create
from tests.api.conftest import bearer  # noqa: F401 (the API tests' fixture)


@pytest.fixture
def today() -> date:
    return timezone.localdate()


@pytest.fixture
def customers(org) -> dict[str, Customer]:
    """One customer per rep: 1a (rep1a), 1b (rep1b), 2a (rep2a), 3a (rep3a)."""
    return {
        key: Customer.objects.create(name=f"客户{key}有限公司", owner=getattr(org, f"rep{key}"))
        for key in ("1a", "1b", "2a", "3a")
    }


@pytest.fixture
def make_plan(org, customers, today) -> Callable[..., VisitPlan]:
    def make(by=None, *, days: int = 1, **kwargs: Any) -> VisitPlan:
        by = by or org.rep1a
        kwargs.setdefault("customer", customers["1a"])
        kwargs.setdefault("planned_date", today + timedelta(days=days))
        kwargs.setdefault("purpose", VisitPurpose.ORDER)
        return visit_plan_create(by=by, **kwargs)

    return make


def past_plan(plan: VisitPlan, days_ago: int) -> VisitPlan:
    """Put a plan in the past (the services refuse it; only time can do it)."""
    VisitPlan.objects.filter(pk=plan.pk).update(
        planned_date=timezone.localdate() - timedelta(days=days_ago)
    )
    return VisitPlan.objects.get(pk=plan.pk)
