"""The demo goals (seed_demo) load through the services and add up."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from apps.goals import demo
from apps.goals.choices import Metric, ScopeKind
from apps.goals.models import SalesPlan, Target

pytestmark = pytest.mark.django_db


def test_demo_goals_split_the_company_targets_down_to_every_rep_and_load_once(org):
    # when the demo loads twice
    assert demo.load() == 3
    assert demo.load() == 0
    # then each company target is split down to the reps, and the reps' years add up to it
    for metric, amount in demo.YEAR_TARGETS.items():
        company = Target.objects.get(scope_kind=ScopeKind.COMPANY, metric=metric)
        assert company.amount == amount
        reps = Target.objects.filter(
            scope_kind=ScopeKind.REP, metric=metric, period_kind="year"
        ).aggregate(total=Sum("amount"))["total"]
        assert reps == amount
    # every rep has this month's visit target, and a plan waits in draft for a team head
    assert Target.objects.filter(metric=Metric.VISITS, period_kind="month").count() == 4
    assert SalesPlan.objects.count() == 1
