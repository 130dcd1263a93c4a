"""Demo sales contests for `manage.py seed_demo` (after the visits, contracts and receivables
demos): a contest running this month on the collected amount for the teams of the first
department, and one on effective visits over last month for every team, ended, with its final
ranking kept by the nightly job. Set through the services as an administrator would.
Idempotent: a contest whose name exists is not set again."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.choices import OrgUnitKind, Role
from apps.accounts.models import OrgUnit, User
from apps.goals.choices import Metric

from .contests import contest_create, contests_finalize
from .models import Contest

RUNNING_NAME = "本月签约冠军赛"
RUNNING_RULES = (
    "本月内签约合同额（按签约日期，解除的合同不计）最高者获胜。\n"
    "奖励：第一名 3,000 元，第二名 2,000 元，第三名 1,000 元。"
)
ENDED_NAME = "上月有效拜访之星"
ENDED_RULES = (
    "上月有效拜访次数最多者获胜（有订单、回款、下一步或推进阶段的拜访）。\n奖励：带薪休假一天。"
)


@transaction.atomic
def load(stdout=None) -> int:
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("username").first()
    teams = list(OrgUnit.objects.filter(kind=OrgUnitKind.TEAM, is_active=True).order_by("path"))
    if admin is None or not teams:
        return 0
    today = timezone.localdate()
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    created = 0
    if not Contest.objects.filter(name=RUNNING_NAME).exists():
        first_department = teams[0].parent_id
        units = [t for t in teams if t.parent_id == first_department] or teams[:1]
        contest_create(
            by=admin, name=RUNNING_NAME, description=RUNNING_RULES, metric=Metric.CONTRACT_AMOUNT,
            starts_on=month_start, ends_on=next_month - timedelta(days=1), units=units,
        )  # fmt: skip
        created += 1
    if not Contest.objects.filter(name=ENDED_NAME).exists():
        contest_create(
            by=admin, name=ENDED_NAME, description=ENDED_RULES,
            metric=Metric.EFFECTIVE_VISITS, starts_on=date(last_month_end.year,
                                                           last_month_end.month, 1),
            ends_on=last_month_end, units=teams,
        )  # fmt: skip
        created += 1
    # The nightly job keeps the ended contest's final ranking.
    finalized = contests_finalize(today=today)
    if stdout:
        stdout.write(f"incentives: {created} sales contests, {finalized} final rankings kept\n")
    return created
