"""Scale data of visits (`manage.py seed_scale`): visit plans (拜访计划表) of every rep, day by
day over the last two years and the next two weeks, and the visit records (拜访总结表) —
exactly ``sizes["visit_records"]`` of them.

Consistent with the plan FSM and the services, as far as generated data can be:

- a rep visits on working days (a few Saturdays), each rep at their own pace, from the day
  they joined; a day's plans are the rep's route, numbered 1…n in the order of their times;
- a plan of a past day is done (it has its record, by the same rep, to the same customer or
  lead, the same opportunity), missed (the nightly job marked it at 00:30 the day after) or
  cancelled (with a reason); plans of today and later are planned (a few cancelled); about
  one visit in eight was logged without a plan;
- a rep visits their own customers (a customer in the public pool: the rep who lost it,
  before it was released) within the customer's life: after it was created (or claimed) and
  no later than its last follow-up (`last_follow_up_at`: a visit is a follow-up, so none is
  later than the one the customer shows); some visits go to the rep's leads being worked;
- each deal past prospecting had a visit by its owner to its customer before it was
  qualified (the `qualify` guard), linked to the deal, which moved it a stage; other visits
  to a customer with a deal of the rep open at the time are often linked to that deal;
- `is_effective` is `VisitRecord.compute_effective` of the row (an order, a payment, a next
  step or a stage move); check-ins lie around the customer's city.

Every value comes from ``ctx.rng``: the counts per rep and day from one generator, and each
rep's days from generators of their own (plans and records in two, so that the records are
drawn again identically after the plans are copied, without keeping two million rows in
memory). The inputs are read from the database ordered by id (users, customers, leads, deals
and their stage history), so ``seed_scale --add visits`` loads the same rows as a full load.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from apps.accounts.models import User
from apps.core.scale import ScaleContext
from apps.customers.models import Customer
from apps.leads.choices import LeadStatus
from apps.leads.models import Lead

from .choices import PlanStatus, VisitPurpose
from .models import VisitPlan, VisitRecord

REQUIRES = ("accounts", "customers", "opportunities")

PLAN_COLUMNS = [
    "id", "owner_id", "customer_id", "lead_id", "opportunity_id", "planned_date", "planned_time",
    "route_order", "purpose", "objectives", "status", "cancel_reason", "created_at", "updated_at",
]  # fmt: skip
RECORD_COLUMNS = [
    "id", "plan_id", "owner_id", "customer_id", "lead_id", "opportunity_id", "purpose",
    "started_at", "ended_at", "latitude", "longitude", "location_accuracy_m", "checked_in_at",
    "outcome", "problems_handled", "payment_collected", "order_amount", "competitor_info",
    "customer_feedback", "next_step", "next_step_date", "stage_moved", "is_effective",
    "created_at", "updated_at",
]  # fmt: skip

HISTORY_DAYS = 730
AHEAD_DAYS = 14
UNPLANNED = 0.12  # of the visits made
MISSED = 0.09  # missed plans per visit made
CANCELLED = 0.05
QUALIFYING_PLANNED = 0.85
LEAD_VISITS = 0.06
LINK_DEAL = 0.6
FOLLOW_UP_VISITS = 0.7  # customers whose last follow-up was a visit
DAY = 86400.0
# Working hours of a route: 08:30 to 18:00.
ROUTE_START, ROUTE_SPAN = 8.5 * 3600, 9.5 * 3600
MISSED_JOB_AT = time(0, 30)  # settings.CELERY_BEAT_SCHEDULE "visits-mark-missed-plans"

PURPOSES = tuple(VisitPurpose.values)
PURPOSE_WEIGHTS = (15, 15, 10, 20, 8, 20, 5)  # develop, information, collection, service …
LEAD_PURPOSES = (VisitPurpose.DEVELOP, VisitPurpose.INFORMATION)
OBJECTIVES = {
    VisitPurpose.DEVELOP: ["介绍公司与产品，了解客户需求", "拜访决策人，建立联系"],
    VisitPurpose.INFORMATION: ["了解年度采购计划与预算", "收集竞品使用情况"],
    VisitPurpose.COLLECTION: ["催收到期货款", "对账并确认付款计划"],
    VisitPurpose.SERVICE: ["设备使用回访", "季度例行回访"],
    VisitPurpose.PROBLEM: ["处理客户投诉", "现场排查设备故障"],
    VisitPurpose.ORDER: ["确认订单细节与交期", "洽谈年度框架订单"],
    VisitPurpose.OTHER: ["节日拜访", "陪同领导拜访"],
}
OUTCOMES = [
    "客户对新产品方案有兴趣，约定下周技术交流。", "了解客户年度采购计划，预计下季度启动招标。",
    "回访设备使用情况，客户反馈运行稳定。", "催收上期货款，客户承诺月底前付款。",
    "现场处理设备故障，已恢复生产。", "确认订单细节与交期，客户已下单。",
    "拜访采购经理，递交产品资料与报价。", "客户暂无需求，保持联系。",
]  # fmt: skip
PROBLEMS = ["设备异响，已更换轴承。", "交货延期，协调物流加急。", "发票抬头错误，已重开。",
            "操作人员不熟悉新系统，现场培训。"]  # fmt: skip
FEEDBACK = ["客户反映竞品降价明显。", "客户计划扩建新车间。", "客户对售后响应速度满意。",
            "客户更换了采购负责人。", "客户资金紧张，付款可能延后。"]  # fmt: skip
COMPETITOR_INFO = ["海天精工报价低约8%。", "大族激光提供免费试用。", "牧野承诺两周交货。",
                   "通快正在接触客户技术部。"]  # fmt: skip
NEXT_STEPS = ["发送正式报价单", "安排技术交流会", "提交方案书", "安排样机试用", "跟进付款进度",
              "邀请客户参观工厂", "确认合同条款"]  # fmt: skip
CANCEL_REASONS = ["客户临时有事，改期", "天气原因取消", "客户要求改为电话沟通", "内部会议冲突"]
# Where a check-in lies: the centre of the customer's (or lead's) city.
CITY_COORDS: dict[str, tuple[float, float]] = {
    "深圳": (22.54, 114.06), "广州": (23.13, 113.26), "东莞": (23.02, 113.75),
    "佛山": (23.02, 113.12), "珠海": (22.27, 113.58), "厦门": (24.48, 118.09),
    "福州": (26.07, 119.30), "南宁": (22.82, 108.37), "上海": (31.23, 121.47),
    "杭州": (30.27, 120.16), "苏州": (31.30, 120.59), "南京": (32.06, 118.80),
    "宁波": (29.87, 121.54), "无锡": (31.49, 120.31), "合肥": (31.82, 117.23),
    "济南": (36.65, 117.12), "北京": (39.90, 116.41), "天津": (39.34, 117.36),
    "石家庄": (38.04, 114.51), "太原": (37.87, 112.55), "青岛": (36.07, 120.38),
    "大连": (38.91, 121.61), "沈阳": (41.81, 123.43), "哈尔滨": (45.80, 126.53),
    "武汉": (30.59, 114.31), "长沙": (28.23, 112.94), "郑州": (34.75, 113.63),
    "南昌": (28.68, 115.86), "襄阳": (32.01, 112.12), "宜昌": (30.69, 111.29),
    "洛阳": (34.62, 112.45), "株洲": (27.83, 113.13), "成都": (30.57, 104.07),
    "重庆": (29.56, 106.55), "昆明": (25.04, 102.71), "贵阳": (26.65, 106.63),
    "西安": (34.34, 108.94), "兰州": (36.06, 103.83), "乌鲁木齐": (43.83, 87.62),
    "绵阳": (31.47, 104.68),
}  # fmt: skip
MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class _Target:
    """A customer or a lead a rep may visit between `lo` and `hi` (epoch seconds)."""

    id: int
    is_lead: bool
    lo: float
    hi: float
    city: str
    current: bool = True  # still the rep's (a customer released to the pool is not)


@dataclass(frozen=True)
class _Deal:
    id: int
    owner: int
    created: float
    ended: float  # closed, or now for an open deal


@dataclass(frozen=True)
class _Anchored:
    """A visit at a given time: the one a deal had before it was qualified (it moved the
    deal a stage), or the one that is a customer's last follow-up."""

    at: float
    target: _Target
    deal: _Deal | None
    moved: bool
    planned: bool


@dataclass
class _Day:
    """What one rep does on one day: visits made from plans (`done`), without a plan
    (`unplanned`), plans missed, cancelled, or still planned, and the deals' visits."""

    done: int = 0
    unplanned: int = 0
    missed: int = 0
    cancelled: int = 0
    planned: int = 0
    anchored: list[_Anchored] = field(default_factory=list)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class _Inputs:
    """What the visits are made of, read from the database (ordered by id)."""

    def __init__(self, ctx: ScaleContext, now: float) -> None:
        reps = ctx.ids["users.rep"]
        self.reps = reps
        self.joined = {
            pk: joined.timestamp()
            for pk, joined in User.objects.filter(pk__in=reps).values_list("id", "date_joined")
        }
        wanted = set(ctx.ids.get("customers", []))
        self.targets: dict[int, list[_Target]] = defaultdict(list)
        self.city: dict[int, str] = {}
        rows = (
            Customer.objects.order_by("id")
            .values_list(
                "id",
                "owner_id",
                "previous_owner_id",
                "created_at",
                "claimed_at",
                "last_follow_up_at",
                "region",
            )
            .iterator(chunk_size=20_000)
        )
        for pk, owner, previous, created, claimed, follow_up, region in rows:
            if pk not in wanted:
                continue
            self.city[pk] = region
            rep = owner if owner is not None else previous
            if rep is None or follow_up is None:
                continue  # never followed up: never visited
            lo = (claimed if owner is not None and claimed else created).timestamp()
            if follow_up.timestamp() > lo:
                self.targets[rep].append(
                    _Target(pk, False, lo, follow_up.timestamp(), region, owner is not None)
                )
        self.leads: dict[int, list[_Target]] = defaultdict(list)
        worked = [LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.NURTURING]
        rows = (
            Lead.objects.filter(status__in=worked, owner__isnull=False)
            .order_by("id")
            .values_list(
                "id", "owner_id", "first_responded_at", "created_at", "updated_at", "region"
            )
            .iterator(chunk_size=20_000)
        )
        for pk, owner, responded, created, updated, region in rows:
            lo = (responded or created).timestamp()
            hi = min(updated.timestamp(), now)
            if hi > lo:
                self.leads[owner].append(_Target(pk, True, lo, hi, region))
        # The deals (open until now, or until they closed) and when each was qualified.
        self.deals: dict[int, list[_Deal]] = defaultdict(list)
        self.qualified: list[tuple[_Deal, int, float]] = []
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT o.id, o.owner_id, o.customer_id, o.created_at, o.closed_at,
                       (SELECT min(s.entered_at) FROM opportunities_stagechange s
                         WHERE s.opportunity_id = o.id AND s.stage = 'qualification')
                  FROM opportunities_opportunity o ORDER BY o.id
                """
            )
            for pk, owner, customer, created, closed, qualified in cursor.fetchall():
                deal = _Deal(pk, owner, created.timestamp(),
                             closed.timestamp() if closed else now)  # fmt: skip
                self.deals[customer].append(deal)
                if qualified is not None:
                    self.qualified.append((deal, customer, qualified.timestamp()))


def load(ctx: ScaleContext) -> None:
    """Copy the plans, then the records; see the module docstring."""
    total = ctx.sizes.get("visit_records", 0)
    reps = ctx.ids.get("users.rep", [])
    if total <= 0 or not reps:
        return
    tz = ZoneInfo(settings.TIME_ZONE)
    now = ctx.now.timestamp()
    today = ctx.now.astimezone(tz).date()
    first_day = today - timedelta(days=HISTORY_DAYS)
    inputs = _Inputs(ctx, now)
    rng = ctx.rng("visits")
    days: dict[int, dict[date, _Day]] = {rep: {} for rep in reps}
    anchored = 0

    def anchor(rep: int, visit: _Anchored) -> None:
        nonlocal anchored
        day = datetime.fromtimestamp(visit.at, tz).date()
        days[rep].setdefault(day, _Day()).anchored.append(visit)
        anchored += 1

    # --- the deals' visits before their qualification (as many as the total allows) -------
    for deal, customer, qualified in inputs.qualified:
        if anchored >= total or deal.owner not in days:
            continue
        at = qualified - min(3 * DAY, qualified - deal.created) * rng.uniform(0.1, 0.9)
        target = _Target(customer, False, at, at, inputs.city.get(customer, ""))
        anchor(deal.owner, _Anchored(at, target, deal, True, rng.random() < QUALIFYING_PLANNED))
    # --- most customers' last follow-up was a visit (within the history, after a third of
    # the total is left for the rest) ---------------------------------------------------------
    history_start = datetime.combine(first_day, time(0), tzinfo=tz).timestamp()
    for rep in reps:
        for target in inputs.targets.get(rep, ()):
            if anchored >= total * 2 // 3:
                break
            if target.hi >= history_start and rng.random() < FOLLOW_UP_VISITS:
                deal = _open_deal(inputs, target.id, rep, target.hi)
                anchor(rep, _Anchored(target.hi, target, deal, False, rng.random() < 0.85))

    # --- visits per rep and day: each rep's pace, scaled to the total asked for ------------
    pace = {rep: rng.uniform(0.6, 1.4) for rep in reps}
    calendar = [first_day + timedelta(days=i) for i in range(HISTORY_DAYS + AHEAD_DAYS)]
    weight = {d: (1.0 if d.weekday() < 5 else 0.2 if d.weekday() == 5 else 0.0) for d in calendar}
    joined = inputs.joined
    slots = [
        (rep, d)
        for rep in reps
        for d in calendar
        if d < today
        and weight[d]
        and datetime.combine(d, time(23), tzinfo=tz).timestamp() > joined.get(rep, 0)
    ]
    capacity = sum(pace[rep] * weight[d] for rep, d in slots)
    regular = total - anchored
    mean = regular / capacity if capacity else 0.0
    counts = [_poisson(rng, mean * pace[rep] * weight[d]) for rep, d in slots]
    # Exactly `regular` visits: add or take single visits at random slots.
    diff = regular - sum(counts)
    while diff and slots:
        i = rng.randrange(len(slots))
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 0:
            counts[i] -= 1
            diff += 1
    for (rep, d), n in zip(slots, counts, strict=True):
        lam = mean * pace[rep] * weight[d]
        missed, cancelled = _poisson(rng, lam * MISSED), _poisson(rng, lam * CANCELLED)
        if not (n or missed or cancelled):
            continue
        unplanned = sum(rng.random() < UNPLANNED for _ in range(n))
        slot = days[rep].setdefault(d, _Day())
        slot.done, slot.unplanned = n - unplanned, unplanned
        slot.missed, slot.cancelled = missed, cancelled
    for rep in reps:  # plans of today and the next days (fewer the further ahead)
        for k in range(AHEAD_DAYS):
            d = today + timedelta(days=k)
            lam = mean * pace[rep] * (1.0 if d.weekday() < 5 else 0.2 if d.weekday() == 5 else 0)
            planned = _poisson(rng, lam * max(0.1, 1 - k / 10))
            if planned:
                slot = days[rep].setdefault(d, _Day())
                slot.planned, slot.cancelled = planned, _poisson(rng, lam * 0.03)

    plan_count = sum(
        s.done + s.missed + s.cancelled + s.planned + sum(a.planned for a in s.anchored)
        for per_rep in days.values()
        for s in per_rep.values()
    )
    maker = _Maker(ctx, inputs, tz, now, days)
    maker.plan_ids = ctx.reserve_ids(VisitPlan, plan_count)
    maker.record_ids = ctx.reserve_ids(VisitRecord, total)
    ctx.copy(VisitPlan, PLAN_COLUMNS, maker.rows(plans=True), expected=plan_count)
    ctx.copy(VisitRecord, RECORD_COLUMNS, maker.rows(plans=False), expected=total)


def _open_deal(inputs: _Inputs, customer: int, rep: int, at: float) -> _Deal | None:
    """A deal of `rep` with `customer` open at `at`, if any."""
    for deal in inputs.deals.get(customer, ()):
        if deal.owner == rep and deal.created <= at <= deal.ended:
            return deal
    return None


class _Maker:
    """Draws each rep's days — the same way on each pass — and makes the plan or the record
    rows. The n-th plan drawn has the n-th reserved plan id on both passes."""

    plan_ids: list[int]
    record_ids: list[int]

    def __init__(self, ctx: ScaleContext, inputs: _Inputs, tz: ZoneInfo, now: float,
                 days: dict[int, dict[date, _Day]]) -> None:  # fmt: skip
        self.ctx, self.inputs, self.tz, self.now, self.days = ctx, inputs, tz, now, days

    def at(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, self.tz)

    def rows(self, *, plans: bool) -> Iterator[tuple]:
        """Day by day, rep by rep (so the ids follow the dates, as in a live database); each
        rep's generators are drawn in the order of their days either way."""
        plan_ids, record_ids = iter(self.plan_ids), iter(self.record_ids)
        rngs = {
            rep: (
                self.ctx.rng(f"visits.rep{rep}"),  # targets, times, statuses, plans
                self.ctx.rng(f"visits.rep{rep}.records"),  # what came of the visits
            )
            for rep in self.inputs.reps
        }
        order = {rep: i for i, rep in enumerate(self.inputs.reps)}
        days = sorted(
            ((day, rep) for rep, per_rep in self.days.items() for day in per_rep),
            key=lambda key: (key[0], order[key[1]]),
        )
        for day, rep in days:
            rng, rec = rngs[rep]
            for visit in self._day(rep, day, self.days[rep][day], rng):
                plan_id = next(plan_ids, None) if visit["status"] is not None else None
                plan = self._plan(plan_id, visit, rng) if plan_id is not None else None
                if plans:
                    if plan is not None:
                        yield plan
                elif visit["record"]:
                    record_id = next(record_ids, None)
                    if record_id is not None:
                        yield self._record(record_id, plan_id, visit, rec)

    def _day(self, rep: int, day: date, slot: _Day, rng: random.Random) -> list[dict]:
        """The day's visits in route order, each a dict: target, time, status (None for a
        visit without a plan), whether it has a record."""
        start = datetime.combine(day, time(0), tzinfo=self.tz).timestamp()
        kinds = (
            [PlanStatus.DONE] * slot.done + [None] * slot.unplanned
            + [PlanStatus.MISSED] * slot.missed + [PlanStatus.CANCELLED] * slot.cancelled
            + [PlanStatus.PLANNED] * slot.planned
        )  # fmt: skip
        rng.shuffle(kinds)
        step = ROUTE_SPAN / max(1, len(kinds))
        visits = []
        for i, status in enumerate(kinds):
            ts = start + ROUTE_START + i * step + rng.uniform(0, step * 0.3)
            made = status in (PlanStatus.DONE, None)
            target = self._target(rep, ts, rng, made=made)
            if target is None:
                continue
            if status == PlanStatus.MISSED and start + DAY + 1800 > self.now:
                status = PlanStatus.PLANNED  # yesterday's: tonight's job has not run yet
            purpose = (
                rng.choice(LEAD_PURPOSES) if target.is_lead
                else rng.choices(PURPOSES, PURPOSE_WEIGHTS)[0]
            )  # fmt: skip
            deal = None
            if not target.is_lead and rng.random() < LINK_DEAL:
                deal = _open_deal(self.inputs, target.id, rep, ts)
            visits.append(
                {
                    "ts": ts,
                    "target": target,
                    "status": status,
                    "purpose": purpose,
                    "deal": deal,
                    "record": made,
                    "moved": False,
                    "exact": False,
                }
            )
        for a in slot.anchored:
            purpose = (
                rng.choice(LEAD_PURPOSES) if a.moved
                else rng.choices(PURPOSES, PURPOSE_WEIGHTS)[0]
            )  # fmt: skip
            visits.append({"ts": a.at, "target": a.target,
                           "status": PlanStatus.DONE if a.planned else None,
                           "purpose": purpose, "deal": a.deal, "record": True,
                           "moved": a.moved, "exact": True})  # fmt: skip
        visits.sort(key=lambda v: v["ts"])
        order = 0
        for v in visits:
            v["rep"], v["day"] = rep, day
            if v["status"] is not None:
                order += 1
                v["order"] = order
        return visits

    def _target(self, rep: int, ts: float, rng: random.Random, *, made: bool) -> _Target | None:
        """A customer (sometimes a lead) of the rep that a visit at `ts` may be to: within
        its window; a plan of a day to come, only one still the rep's."""
        customers = self.inputs.targets.get(rep, ())
        leads = self.inputs.leads.get(rep, ())
        future = ts > self.now

        def fits(t: _Target) -> bool:
            if future:
                return t.current and t.lo <= ts
            return t.lo <= ts <= t.hi

        pools = [leads, customers] if rng.random() < LEAD_VISITS else [customers, leads]
        for pool in pools:
            for _ in range(6 if pool else 0):
                target = pool[rng.randrange(len(pool))]
                if fits(target):
                    return target
        for pool in pools:
            fitting = [t for t in pool if fits(t)]
            if fitting:
                return fitting[rng.randrange(len(fitting))]
        if not made:
            return None  # a plan that was not carried out need not be
        # No customer of the rep at that time: a visit must still be somewhere.
        pool = customers or leads
        return pool[rng.randrange(len(pool))] if pool else None

    def _plan(self, pk: int, v: dict, rng: random.Random) -> tuple:
        ts, status, deal = v["ts"], v["status"], v["deal"]
        local = self.at(ts)
        if v["exact"] and deal is not None:  # planned after the deal was opened
            created = deal.created + (ts - deal.created) * rng.uniform(0.05, 0.6)
        else:
            created = min(ts - rng.uniform(0.2, 8) * DAY, self.now - rng.uniform(0, DAY))
        created = min(max(created, self.inputs.joined.get(v["rep"], created)), ts, self.now)
        reason = ""
        if status == PlanStatus.DONE:
            updated = min(self.now, ts + rng.uniform(1, 4) * 3600)
        elif status == PlanStatus.MISSED:
            run = datetime.combine(v["day"] + timedelta(days=1), MISSED_JOB_AT, tzinfo=self.tz)
            updated = run.timestamp() + rng.uniform(0, 60)
        elif status == PlanStatus.CANCELLED:
            reason = rng.choice(CANCEL_REASONS)
            updated = min(self.now, created + (ts - created) * rng.uniform(0.3, 1))
        else:
            updated = created
        v["plan_created"] = created
        opportunity = deal.id if deal is not None and deal.created <= created else None
        v["plan_opportunity"] = opportunity
        target = v["target"]
        return (
            pk, v["rep"], None if target.is_lead else target.id,
            target.id if target.is_lead else None, opportunity, v["day"],
            time(local.hour, local.minute), v["order"], v["purpose"],
            rng.choice(OBJECTIVES[v["purpose"]]), status, reason, self.at(created),
            self.at(max(updated, created)),
        )  # fmt: skip

    def _record(self, pk: int, plan_id: int | None, v: dict, rng: random.Random) -> tuple:
        ts = v["ts"] if v["exact"] else v["ts"] + rng.uniform(-10, 25) * 60
        ts = min(ts, self.now - 60)
        ended = min(self.now, ts + rng.uniform(20, 90) * 60)
        purpose = v["purpose"]
        target = v["target"]
        lat = lon = accuracy = checked = None
        coords = CITY_COORDS.get(target.city)
        if coords and rng.random() < 0.75:
            lat = Decimal(coords[0] + rng.gauss(0, 0.06)).quantize(MICRO)
            lon = Decimal(coords[1] + rng.gauss(0, 0.06)).quantize(MICRO)
            accuracy = rng.choice((5, 10, 15, 20, 35, 50, 80))
            checked = self.at(min(ended, ts + rng.uniform(0, 180)))
        payment = order = Decimal("0.00")
        if purpose == VisitPurpose.COLLECTION and rng.random() < 0.6:
            payment = Decimal(rng.randint(1, 200) * 1000)
        if purpose == VisitPurpose.ORDER and rng.random() < 0.45:
            order = Decimal(rng.randint(1, 300) * 1000)
        next_step, next_date = "", None
        if v["moved"] or rng.random() < 0.4:
            next_step = rng.choice(NEXT_STEPS)
            next_date = (self.at(ts) + timedelta(days=rng.randint(2, 21))).date()
        problems = ""
        if purpose in (VisitPurpose.PROBLEM, VisitPurpose.SERVICE) and rng.random() < 0.5:
            problems = rng.choice(PROBLEMS)
        competitor = rng.choice(COMPETITOR_INFO) if rng.random() < 0.1 else ""
        feedback = rng.choice(FEEDBACK) if rng.random() < 0.3 else ""
        effective = bool(order > 0 or payment > 0 or next_step or v["moved"])
        created = min(self.now, ended + rng.uniform(2, 180) * 60)
        updated = created
        if rng.random() < 0.1:  # corrected within the week
            updated = min(self.now, created + rng.uniform(0, 7) * DAY)
        deal = v["deal"]
        # A record logged from a plan takes the plan's opportunity (the logging service).
        opportunity = v["plan_opportunity"] if plan_id is not None else None
        if opportunity is None and deal is not None:
            opportunity = deal.id
        return (
            pk, plan_id, v["rep"], None if target.is_lead else target.id,
            target.id if target.is_lead else None, opportunity, purpose, self.at(ts),
            self.at(ended), lat, lon, accuracy, checked, rng.choice(OUTCOMES), problems,
            payment, order, competitor, feedback, next_step, next_date, v["moved"], effective,
            self.at(created), self.at(updated),
        )  # fmt: skip
