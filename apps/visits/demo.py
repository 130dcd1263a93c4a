"""Demo visits for `manage.py seed_demo`: for each demo rep, visits to their customers over
the last 90 days (most logged, some effective, some missed or cancelled) and plans for the
coming week, with realistic objectives and outcomes. Idempotent: a rep who already has visit
plans is left as they are.

Past plans cannot be made through the services (a plan for yesterday is refused), so they are
written directly in their final state; the coming week goes through `visit_plan_create`.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.accounts.models import User
from apps.customers.models import Customer

from .choices import PlanStatus, VisitPurpose
from .models import VisitPlan, VisitRecord
from .services import visit_plan_create

DAYS_BACK = 90
CANCEL_REASON = "客户临时有会，改期"
OBJECTIVES = {
    VisitPurpose.DEVELOP: ["介绍公司产品线，了解采购流程", "拜访采购经理，争取列入供应商名录"],
    VisitPurpose.INFORMATION: ["了解年度采购预算和决策人", "收集竞品使用情况和价格"],
    VisitPurpose.COLLECTION: ["催收上月到期货款", "确认回款计划，争取本周到账"],
    VisitPurpose.SERVICE: ["回访设备使用情况", "上门培训操作人员"],
    VisitPurpose.PROBLEM: ["处理上批货物质量投诉", "协调交期延误问题"],
    VisitPurpose.ORDER: ["确认下季度订单数量", "商谈年度框架协议价格"],
    VisitPurpose.OTHER: ["节日拜访，维护关系"],
}
OUTCOMES = ["客户认可方案，答应下周给采购意向", "决策人出差，与采购专员沟通了需求",
            "客户对价格有异议，需要申请特价", "现场解决了设备报警问题，客户满意",
            "客户确认下单，合同走流程中", "了解到客户正在比较三家供应商"]  # fmt: skip
COMPETITORS = ["", "", "海天精工报价低约5%", "大隈承诺30天账期", "大族激光刚做了一次免费试用"]
FEEDBACK = ["", "客户明年扩产，用量会增加", "采购负责人近期调岗", "客户希望提供更详细的技术资料"]
NEXT_STEPS = ["", "", "发送报价单", "安排技术交流", "寄送样品", "约总经理面谈"]


@transaction.atomic
def load(stdout=None) -> int:
    rng = random.Random(20261125)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    reps = list(User.objects.filter(role="rep", is_active=True).order_by("username"))
    made = 0
    for rep in reps:
        customers = list(Customer.objects.filter(owner=rep).order_by("id"))
        if not customers or VisitPlan.objects.filter(owner=rep).exists():
            continue
        records: list[VisitRecord] = []
        day = today - timedelta(days=DAYS_BACK)
        while day < today:
            if day.weekday() < 5 and rng.random() < 0.45:
                for order in range(1, rng.choice([2, 2, 3]) + 1):
                    customer = rng.choice(customers)
                    purpose = rng.choice(VisitPurpose.values)
                    at = time(hour=rng.choice([9, 10, 14, 15, 16]), minute=rng.choice([0, 30]))
                    fate = rng.random()
                    status = (PlanStatus.DONE if fate < 0.78 else PlanStatus.MISSED
                              if fate < 0.9 else PlanStatus.CANCELLED)  # fmt: skip
                    plan = VisitPlan(
                        owner=rep, customer=customer, planned_date=day, planned_time=at,
                        route_order=order, purpose=purpose,
                        objectives=rng.choice(OBJECTIVES[purpose]),
                        status=status, cancel_reason=CANCEL_REASON if status == "cancelled" else "",
                    )  # fmt: skip
                    plan.save()
                    made += 1
                    if status != PlanStatus.DONE:
                        continue
                    started = timezone.make_aware(datetime.combine(day, at), tz)
                    started += timedelta(minutes=rng.randrange(-20, 30))
                    effective = rng.random() < 0.6
                    records.append(VisitRecord(
                        plan=plan, owner=rep, customer=customer, purpose=purpose,
                        started_at=started,
                        ended_at=started + timedelta(minutes=rng.choice([30, 45, 60, 90])),
                        outcome=rng.choice(OUTCOMES),
                        order_amount=Decimal(rng.choice([20000, 58000, 128000]))
                        if effective and purpose == VisitPurpose.ORDER else Decimal("0.00"),
                        payment_collected=Decimal(rng.choice([10000, 35000, 80000]))
                        if effective and purpose == VisitPurpose.COLLECTION else Decimal("0.00"),
                        competitor_info=rng.choice(COMPETITORS),
                        customer_feedback=rng.choice(FEEDBACK),
                        next_step=rng.choice(NEXT_STEPS[2:]) if effective else "",
                        next_step_date=day + timedelta(days=7) if effective else None,
                    ))  # fmt: skip
            day += timedelta(days=1)
        for record in records:
            record.save()  # (save computes is_effective)
        # The coming week, through the service (new plans go last in each day's route).
        for offset in range(0, 7):
            planned = today + timedelta(days=offset)
            if planned.weekday() >= 5:
                continue
            for _ in range(rng.choice([1, 2])):
                purpose = rng.choice(VisitPurpose.values)
                visit_plan_create(
                    by=rep, customer=rng.choice(customers), planned_date=planned,
                    planned_time=time(hour=rng.choice([9, 10, 14, 15])), purpose=purpose,
                    objectives=rng.choice(OBJECTIVES[purpose]),
                )  # fmt: skip
                made += 1
    # The visits are follow-ups: the customers' pool clocks are at least their last visit.
    last_visit = (
        VisitRecord.objects.filter(customer=OuterRef("pk"))
        .values("customer")
        .annotate(last=Max("started_at"))
        .values("last")
    )
    Customer.objects.filter(visit_records__isnull=False).distinct().update(
        last_follow_up_at=Greatest(
            Coalesce("last_follow_up_at", Subquery(last_visit)), Subquery(last_visit)
        )
    )
    if stdout is not None:
        stdout.write(f"  visit plans: {made} created")
    # The weekly sales reports summarise these visits, so they come after them.
    from . import demo_reports

    demo_reports.load(stdout)
    return made
