"""Demo goals for `manage.py seed_demo`: this year's company targets for the signed contract
amount, the collected amount and the new active customers, decomposed down the org tree to
every rep (evenly), each rep's year down to quarters and this quarter down to months, and the
visit targets of this month for every rep; one sales plan waiting for the manager. Set through
the services as an administrator would, so every split adds up and has its first version.
Idempotent: a second run finds the company targets and changes nothing."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.choices import OrgUnitKind, Role
from apps.accounts.models import OrgUnit, User

from .choices import Metric, PeriodKind, ScopeKind
from .models import SalesPlan, Target
from .targets import Direction, target_create, target_decompose

YEAR_TARGETS = {
    Metric.CONTRACT_AMOUNT: Decimal("36000000"),
    Metric.COLLECTED: Decimal("30000000"),
    Metric.NEW_CUSTOMERS: Decimal("120"),
}
MONTH_VISITS = Decimal("60")
MONTH_EFFECTIVE_VISITS = Decimal("25")


def _split_down(target: Target, admin: User) -> None:
    """Down the org tree to the reps, then each rep's year to quarters and this quarter to
    months."""
    children = target_decompose(target=target, by=admin, direction=Direction.ORG, method="even")
    for child in children:
        if child.scope_kind == ScopeKind.REP:
            quarters = target_decompose(
                target=child, by=admin, direction=Direction.CALENDAR, method="even"
            )
            today = timezone.localdate()
            for quarter in quarters:
                if quarter.period_start <= today <= quarter.period_end:
                    target_decompose(
                        target=quarter, by=admin, direction=Direction.CALENDAR, method="even"
                    )
        else:
            _split_down(child, admin)


@transaction.atomic
def load(stdout=None) -> int:
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("username").first()
    top = OrgUnit.objects.filter(parent=None).order_by("path").first()
    if admin is None or top is None:
        return 0
    today = timezone.localdate()
    if Target.objects.filter(scope_kind=ScopeKind.COMPANY, period_start__year=today.year).exists():
        return 0
    created = 0
    for metric, amount in YEAR_TARGETS.items():
        company = target_create(
            by=admin, metric=metric, period_kind=PeriodKind.YEAR, day_in_period_or_start=today,
            scope_kind=ScopeKind.COMPANY, amount=amount, reason="年度经营目标 (demo)",
        )  # fmt: skip
        _split_down(company, admin)
        created += 1
    reps = User.objects.filter(role=Role.REP, is_active=True).exclude(org_unit=None)
    for rep in reps.order_by("username"):
        for metric, amount in (
            (Metric.VISITS, MONTH_VISITS),
            (Metric.EFFECTIVE_VISITS, MONTH_EFFECTIVE_VISITS),
        ):
            target_create(
                by=admin, metric=metric, period_kind=PeriodKind.MONTH,
                day_in_period_or_start=today, scope_kind=ScopeKind.REP, user=rep, amount=amount,
                reason="月度拜访目标 (demo)",
            )  # fmt: skip
    team = OrgUnit.objects.filter(kind=OrgUnitKind.TEAM).exclude(head=None).order_by("path")
    team = team.select_related("head").first()
    if team is not None and not SalesPlan.objects.filter(org_unit=team).exists():
        from .periods import period_of

        quarter = period_of(PeriodKind.QUARTER, today).next()
        SalesPlan.objects.create(
            owner=team.head, org_unit=team, period_kind=PeriodKind.QUARTER,
            period_start=quarter.start, period_end=quarter.end,
            title=f"{team.name} 下季度销售计划书",
            problems="老客户复购下降；新区域渠道尚未打开。",
            profit_target=Decimal("1800000"), expense_budget=Decimal("240000"),
            expense_control_plan="差旅费按人月控制在 6,000 元以内，招待费事前审批。",
            collection_plan="逾期 30 天以上的客户每周电话催收，60 天以上由主管上门。",
            price_plan="标准价不变，批量订单折扣不超过 8%。",
            channel_plan="新增两家区域代理商。",
            promotion_plan="季度末行业展会一次。",
            training_plan="每月一次产品培训、一次谈判技巧培训。",
        )  # fmt: skip
    if stdout:
        stdout.write(f"goals: {created} company targets decomposed to every rep\n")
    return created
