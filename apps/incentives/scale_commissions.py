"""Scale data of commissions (`manage.py seed_scale`): one company-wide commission plan (the
demo's tiers, tier A × 1.2, service lines × 0.8, +1 % above target), valid from three years
before `ctx.now`, so that the benchmark times the statements of every rep. The statements
themselves are not loaded: the nightly job computes them (bench/incentives_commissions.py).
Idempotent: nothing is created while an active plan exists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils import timezone

from apps.core.scale import ScaleContext

from .choices import FactorKind
from .models import CommissionFactor, CommissionPlan, CommissionTier

PLAN_NAME = "回款提成方案（规模测试）"
TIERS = ((Decimal("0"), Decimal("0.01")), (Decimal("100000"), Decimal("0.015")),
         (Decimal("300000"), Decimal("0.02")))  # fmt: skip
FACTORS = ((FactorKind.CUSTOMER_TIER, "A", Decimal("1.2")),
           (FactorKind.PRODUCT_LINE, "服务", Decimal("0.8")))  # fmt: skip


def ensure_plan(valid_from: date) -> CommissionPlan:
    """The active company-wide plan (the existing one, else a new one from `valid_from`)."""
    plan = CommissionPlan.objects.filter(is_active=True).order_by("id").first()
    if plan is not None:
        return plan
    plan = CommissionPlan.objects.create(
        name=PLAN_NAME, valid_from=valid_from, accelerator_rate=Decimal("0.01"),
        clawback_on_write_off=True,
    )  # fmt: skip
    CommissionTier.objects.bulk_create(
        CommissionTier(plan=plan, from_amount=lower, rate=rate) for lower, rate in TIERS
    )
    CommissionFactor.objects.bulk_create(
        CommissionFactor(plan=plan, kind=kind, value=value, factor=factor)
        for kind, value, factor in FACTORS
    )
    return plan


def load(ctx: ScaleContext) -> None:
    today = timezone.localtime(ctx.now).date()
    before = CommissionPlan.objects.filter(is_active=True).exists()
    plan = ensure_plan(date(today.year - 3, 1, 1))
    ctx.log(f"  commission plan: {plan.name} ({'kept' if before else 'created'})")
