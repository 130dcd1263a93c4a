"""Scale data of the pipeline (`manage.py seed_scale`): opportunities (商机), their stage
history (阶段历史) and the approved quotes of the deals that reached negotiation.

Consistent with the stage FSM and the services, as far as generated data can be:

- a deal walks prospecting → qualification → needs analysis → proposal → negotiation one
  stage at a time (a few move back a stage, with a reason, and forward again) up to the stage
  it is in, or to won / lost; every stay is a `StageChange` row whose `left_at` is the next
  stay's `entered_at`, and the last stay (the current one, won and lost included) is not left;
  the deal's `stage_entered_at` is that stay's start and `closed_at` the time it was won or
  lost;
- stays last about the stage's expected days (`StageSetting`, log-normal around them); some
  open deals sit in their stage much longer, and those the nightly stuck-deal job had already
  flagged (`stuck_notified_at`, at its 03:00 run after the limit) and escalated
  (`stuck_escalated_at`, OPPORTUNITY_STUCK_ESCALATE_DAYS later) carry the stamps it leaves;
- about a quarter of the deals are won and 30% lost (with a reason and the competitor who won,
  the `lose` guards); the open ones are mostly in the early stages; deals past needs analysis
  have their needs-analysis notes (the `propose` guard) and deals that reached negotiation an
  approved quote (the `negotiate` guard) whose total is the deal's amount;
- a deal belongs to the customer's owner (sometimes a colleague of their team); open deals
  are on owned customers, won ones on customers that buy (active or dormant); a deal of a
  customer in the public pool was worked by the rep who lost it. A deal starts after its
  customer was created (or claimed) and was qualified no later than the customer's last
  follow-up, so that the visit the `qualify` guard needs (loaded by `apps.visits.scale`) is a
  follow-up the customer already shows. A customer made from a lead has its first deal linked
  to the lead.

The deals, their stays and the quotes are numbered in the order they were created, as a live
database numbers them; each deal's `furthest_stage` is written as the stage history's trigger
would write it (the trigger is skipped during the COPY).

The owners, teams and customers come from the keys `restore_base` provides (and the database),
so ``seed_scale --add opportunities`` loads the same rows as a full load with the same seed.
What the visits loader needs is left in ``ctx.ids["opportunities"]``.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pgtrigger
from django.conf import settings
from django.db import connection
from psycopg import sql

from apps.core.scale import ScaleContext
from apps.customers.models import Contact, Customer
from apps.leads.models import Lead

from .choices import OPEN_STAGES, QuoteStatus, Stage
from .demo_catalogue import CATALOGUE
from .models import Opportunity, Product, Quote, QuoteLine, StageChange, StageSetting

# Leads before the deals: a customer made from a lead has its first deal linked to the lead.
REQUIRES = ("accounts", "customers", "leads")

OPPORTUNITY_COLUMNS = [
    "id", "name", "customer_id", "contact_id", "lead_id", "owner_id", "amount",
    "expected_close_date", "stage", "stage_entered_at", "furthest_stage", "needs_analysis",
    "description", "lost_reason", "lost_competitor", "closed_at", "stuck_notified_at",
    "stuck_escalated_at", "created_at", "updated_at",
]  # fmt: skip
STAGE_COLUMNS = ["opportunity_id", "stage", "from_stage", "entered_at", "left_at",
                 "entered_by_id", "reason"]  # fmt: skip
QUOTE_COLUMNS = [
    "id", "opportunity_id", "owner_id", "version", "status", "valid_until", "notes",
    "list_amount", "total", "max_discount_pct", "return_comment", "approved_at", "created_at",
    "updated_at",
]  # fmt: skip
LINE_COLUMNS = ["quote_id", "position", "product_id", "description", "quantity", "unit_price",
                "discount_pct", "amount"]  # fmt: skip

OPEN = [str(s) for s in OPEN_STAGES]
WON, LOST = str(Stage.WON), str(Stage.LOST)
# Where the deals are now: open ones mostly early; ~25% won, ~30% lost.
FINALS = (*OPEN, WON, LOST)
LOST_AT = FINALS.index(LOST)  # not "further" than any stage (the funnel)
FINAL_WEIGHTS = (14, 10, 8, 7, 6, 25, 30)
# The open stage a lost deal was lost from.
LOST_FROM_WEIGHTS = (30, 25, 20, 15, 10)
# A forward move from proposal or negotiation goes back a stage first, now and then.
BACK_SHARE = 0.07
STALE_SHARE = 0.3  # open deals sitting far longer than expected in their stage
SPAN_DAYS = 700
CUSTOMER_STATUS_WEIGHTS = {"prospect": 1.0, "developing": 2.0, "active": 2.5, "dormant": 1.0,
                           "lost": 0.6}  # fmt: skip
TIER_WEIGHTS = {"A": 3.0, "B": 2.0, "C": 1.0, "D": 0.6}
BUYING = ("active", "dormant")
SUBJECTS = ["数控机床采购", "生产线改造", "年度备件框架", "自动化升级", "检测设备采购", "仓储系统",
            "精密刀具年单", "液压系统更新", "空压站节能改造", "办公设备集采", "焊接机器人工作站",
            "设备维保续约", "激光切割产线", "智能仓储AGV", "会议室设备升级"]  # fmt: skip
NEEDS = [
    "客户现有设备老化，产能不足；关注加工精度与交期，预算已立项，采购部与生产部共同决策。",
    "新厂房投产，需配套整线设备；要求本地化售后，年内完成验收。",
    "现有供应商服务响应慢，希望替换；对价格敏感，需分期付款。",
    "产品升级换代，需要更高精度的设备；技术部主导选型，总经理拍板。",
    "降本增效项目，关注能耗与维护成本；需提供三年总拥有成本对比。",
]
DESCRIPTIONS = ["", "", "", "客户通过展会了解我司产品。", "老客户转介绍。", "年度框架采购。",
                "招投标项目，需准备资质文件。"]  # fmt: skip
LOST_REASONS = ["价格高于竞品", "交期不能满足", "客户预算取消", "技术方案未通过评审",
                "客户项目延期", "关系不到位"]  # fmt: skip
COMPETITORS = ["德马吉森精机", "大隈", "海天精工", "沈阳机床", "牧野", "通快", "大族激光",
               "无"]  # fmt: skip
BACK_REASONS = ["客户需求变更，重新分析", "报价未获客户认可，需调整方案", "客户更换对接人",
                "技术评审提出新要求"]  # fmt: skip
DISCOUNTS = (Decimal("0"), Decimal("0"), Decimal("0"), Decimal("2"), Decimal("3"),
             Decimal("5"))  # fmt: skip
CENT = Decimal("0.01")
DAY = 86400.0


@dataclass(frozen=True)
class _Customer:
    id: int
    name: str
    owner: int | None
    previous: int | None
    status: str
    tier: str
    lo: datetime  # the earliest a deal may start (created, or claimed by its owner)
    hi: datetime | None  # the latest a deal may be qualified (the last follow-up)


def _customers(ctx: ScaleContext) -> list[_Customer]:
    wanted = set(ctx.ids.get("customers", []))
    rows = (
        Customer.objects.order_by("id")
        .values_list(
            "id",
            "name",
            "owner_id",
            "previous_owner_id",
            "status",
            "tier",
            "created_at",
            "claimed_at",
            "last_follow_up_at",
        )
        .iterator(chunk_size=20_000)
    )
    result = []
    for pk, name, owner, previous, status, tier, created, claimed, follow_up in rows:
        if pk not in wanted:
            continue
        lo = claimed if owner is not None and claimed is not None else created
        hi = follow_up if follow_up is not None and follow_up > lo else None
        result.append(_Customer(pk, name, owner, previous, status, tier, lo, hi))
    return result


class _Pool:
    """Customers to draw from, weighted by tier and status (bisect over cumulative weights)."""

    def __init__(self, customers: list[_Customer]) -> None:
        self.items = customers
        self.cum: list[float] = []
        total = 0.0
        for c in customers:
            total += TIER_WEIGHTS.get(c.tier, 1.0) * CUSTOMER_STATUS_WEIGHTS.get(c.status, 1.0)
            self.cum.append(total)

    def draw(self, rng: random.Random) -> _Customer:
        return self.items[bisect_left(self.cum, rng.random() * self.cum[-1])]


def _path(final: str, rng: random.Random) -> list[int]:
    """The stages a deal goes through (indexes into FINALS), back moves included."""
    if final in OPEN:
        top = OPEN.index(final)
    elif final == WON:
        top = len(OPEN) - 1
    else:
        top = rng.choices(range(len(OPEN)), LOST_FROM_WEIGHTS)[0]
    path = [0]
    backs = 0
    while path[-1] < top:
        here = path[-1]
        if here >= 3 and backs < 2 and rng.random() < BACK_SHARE:
            path.append(here - 1)
            backs += 1
        else:
            path.append(here + 1)
    if final in (WON, LOST):
        path.append(FINALS.index(final))
    return path


def _fit(
    times: list[float], path: list[int], c: _Customer, rng: random.Random, *, strict: bool
) -> list[float] | None:
    """Move the stays into the customer's window: qualified no later than its last follow-up,
    started after it was created. None when they cannot fit (another customer is drawn)."""
    q = path.index(1) if 1 in path else None
    if q is not None:
        if c.hi is None:
            return None
        hi = c.hi.timestamp()
        if times[q] > hi:
            if strict:  # rather a customer followed up since: shifting ages the deal
                return None
            shift = times[q] - hi + rng.uniform(0.1, 3) * DAY
            times = [t - shift for t in times]
    lo = c.lo.timestamp() + rng.uniform(0.05, 2) * DAY
    if times[0] < lo:
        end = times[-1]
        if end - lo < 0.3 * DAY * len(times):
            return None
        ratio = (end - lo) / (end - times[0])
        times = [lo + (t - times[0]) * ratio for t in times]
        if q is not None and times[q] > c.hi.timestamp():
            return None
    return times


def _stay_days(expected: int, rng: random.Random) -> float:
    return max(0.05, max(expected, 3) * rng.lognormvariate(-0.35, 0.55))


def _nightly_runs(at: float, tz: ZoneInfo, hour: int) -> datetime:
    """The first run at `hour`:00 local on or after `at`."""
    local = datetime.fromtimestamp(at, tz)
    run = datetime.combine(local.date(), time(hour), tzinfo=tz)
    return run if run >= local else datetime.combine(local.date() + timedelta(days=1), time(hour),
                                                     tzinfo=tz)  # fmt: skip


def _products(ctx: ScaleContext) -> list[tuple[int, Decimal, str]]:
    """The catalogue the quotes are made of: the demo products, added when missing (one
    INSERT … ON CONFLICT, so a catalogue loaded another way is left as it is)."""
    rows = [(code, name, unit, Decimal(price), line, True, f"ERP-{code}", ctx.now, ctx.now)
            for code, name, unit, price, line in CATALOGUE]  # fmt: skip
    values = sql.SQL(", ").join([sql.SQL("(%s, %s, %s, %s, %s, %s, %s, '', %s, %s)")] * len(rows))
    statement = sql.SQL(
        "INSERT INTO opportunities_product (code, name, unit, list_price, product_line, "
        "is_active, external_id, description, created_at, updated_at) VALUES {} "
        "ON CONFLICT DO NOTHING"
    ).format(values)
    with pgtrigger.ignore("opportunities.Product:insert_insert"), connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.connection), [v for row in rows for v in row])
    return list(
        Product.objects.filter(is_active=True, list_price__gt=0)
        .order_by("code")
        .values_list("id", "list_price", "name")
    )


def _quote_lines(amount: float, products: list, rng: random.Random) -> list[tuple]:
    """1–3 lines whose total is about `amount`: (product, quantity, unit price, discount,
    line amount, list amount)."""
    picked = rng.sample(products, k=min(len(products), rng.choice((1, 1, 2, 2, 3))))
    lines = []
    for i, (product_id, price, name) in enumerate(picked):
        share = amount * (0.7 if i == 0 and len(picked) > 1 else 1 / len(picked))
        quantity = Decimal(max(1, min(500, round(share / float(price)))))
        discount = rng.choice(DISCOUNTS)
        gross = quantity * price
        net = (gross * (Decimal(100) - discount) / Decimal(100)).quantize(CENT, ROUND_HALF_UP)
        lines.append((product_id, name, quantity, price, discount, net, gross))
    return lines


def load(ctx: ScaleContext) -> None:
    """Copy the deals, their stage history, and the quotes; see the module docstring."""
    count = ctx.sizes.get("opportunities", 0)
    if count <= 0:
        return
    rng = ctx.rng("opportunities")
    tz = ZoneInfo(settings.TIME_ZONE)
    now_dt = ctx.now
    now = now_dt.timestamp()
    expected = {s.stage: s.expected_days for s in StageSetting.objects.all()}
    factor = float(settings.OPPORTUNITY_STUCK_FACTOR)
    escalate = timedelta(days=int(settings.OPPORTUNITY_STUCK_ESCALATE_DAYS))
    # The last run of the stuck-deal job (03:00 local) before now.
    last_run = _nightly_runs(now, tz, 3)
    if last_run > now_dt:
        last_run -= timedelta(days=1)

    customers = _customers(ctx)
    if not customers:
        return
    owned = [c for c in customers if c.owner is not None]
    pools = {
        "open_early": _Pool(owned or customers),
        "open": _Pool([c for c in owned if c.hi is not None] or customers),
        "won": _Pool(
            [c for c in customers if c.status in BUYING and c.hi is not None] or customers
        ),
        "lost_early": _Pool(customers),
        "lost": _Pool([c for c in customers if c.hi is not None] or customers),
    }
    rep_team: dict[int, int] = ctx.facts["rep_team"]
    team_reps: dict[int, list[int]] = ctx.facts["team_reps"]
    reps: list[int] = ctx.ids["users.rep"]
    contacts = dict(
        Contact.objects.filter(is_primary=True).order_by("id").values_list("customer_id", "id")
    )
    from_lead = dict(
        Lead.objects.filter(converted_customer__isnull=False)
        .order_by("id")
        .values_list("converted_customer_id", "id")
    )
    lead_linked: set[int] = set()
    products = _products(ctx)

    # Each deal is drawn whole (row, stays, quote), then the deals are numbered in the order
    # they were created, as a live database numbers them.
    deals: list[tuple] = []  # (created, customer, row without id and lead, stays, quote)

    def owner_of(c: _Customer) -> int:
        if c.owner is not None:
            team = team_reps.get(rep_team.get(c.owner), [])
            if len(team) > 1 and rng.random() < 0.08:
                return rng.choice(team)
            return c.owner
        return c.previous if c.previous is not None else rng.choice(reps)

    def draw() -> tuple:
        """One deal: (created, customer, row without id and lead, stays, quote)."""
        final = rng.choices(FINALS, FINAL_WEIGHTS)[0]
        path = _path(final, rng)
        early = 1 not in path
        is_open = final in OPEN
        kind = ("open" if is_open else "won" if final == WON else "lost") + (
            "_early" if early and final != WON else ""
        )
        # Durations of the stays before the last one, in seconds.
        durations = [_stay_days(expected.get(FINALS[s], 14), rng) * DAY for s in path[:-1]]
        if is_open:
            limit = expected.get(final, 14)
            if rng.random() < STALE_SHARE:
                current = max(limit, 3) * rng.uniform(factor, 8) * DAY
            else:
                current = max(limit, 3) * rng.uniform(0, 1.3) * DAY
            end = now - current
        else:
            end = now - SPAN_DAYS * rng.random() ** 1.3 * DAY - rng.uniform(0, DAY)
        times = [end]
        for d in reversed(durations):
            times.append(times[-1] - d)
        times.reverse()
        for attempt in range(40):
            c = pools[kind].draw(rng)
            fitted = _fit(times, path, c, rng, strict=attempt < 25)
            if fitted is not None:
                times = fitted
                break
        else:  # the loader's last resort: a deal started just after the customer
            start = c.lo.timestamp() + 60
            step = max(60.0, (min(now, max(end, start + 60)) - start) / len(times))
            times = [start + i * step for i in range(len(times))]
        owner = owner_of(c)
        at = [datetime.fromtimestamp(t, tz) for t in times]
        created, entered = at[0], at[-1]
        stage = FINALS[path[-1]]
        closed = entered if not is_open else None
        # The stage history: one row per stay, each left when the next began.
        stays: list[tuple] = []
        for i, s in enumerate(path):
            back = i > 0 and s < path[i - 1] and s < len(OPEN)
            reason = ""
            if back:
                reason = rng.choice(BACK_REASONS)
            stays.append((
                FINALS[s], FINALS[path[i - 1]] if i else "", at[i],
                at[i + 1] if i + 1 < len(at) else None, owner, reason,
            ))  # fmt: skip
        lost_reason = competitor = ""
        if stage == LOST:
            lost_reason, competitor = rng.choice(LOST_REASONS), rng.choice(COMPETITORS)
            last = stays[-1]
            stays[-1] = (*last[:-1], lost_reason)
        amount = Decimal(round(min(8e6, max(5e3, rng.lognormvariate(11.9, 0.9))), -2))
        amount = amount.quantize(CENT)
        negotiation = OPEN.index(str(Stage.NEGOTIATION))
        quote = None
        if negotiation in path:
            # An approved quote before the first move to negotiation; its total is the
            # amount of the deal.
            first = path.index(negotiation)
            proposal_at, negotiation_at = times[first - 1], times[first]
            made = proposal_at + (negotiation_at - proposal_at) * rng.uniform(0.2, 0.6)
            approved = made + (negotiation_at - made) * rng.uniform(0.1, 0.9)
            lines = _quote_lines(float(amount), products, rng) if products else []
            if lines:
                amount = sum((line[5] for line in lines), Decimal("0.00"))
                quote = (owner, made, approved, lines)
        # Moving to proposal needs the notes; a deal in needs analysis may have them.
        needs = ""
        if any(3 <= s < len(OPEN) for s in path) or (stage == OPEN[2] and rng.random() < 0.5):
            needs = rng.choice(NEEDS)
        if is_open:
            ahead = sum(expected.get(s, 14) for s in OPEN[path[-1] :])
            close_date = (entered + timedelta(days=ahead * rng.uniform(0.4, 1.4))).date()
        elif stage == WON:
            close_date = entered.date()
        else:
            close_date = entered.date() + timedelta(days=rng.randint(-10, 60))
        notified = escalated = None
        if is_open and expected.get(stage, 0) > 0:
            limit_at = times[-1] + expected[stage] * factor * DAY
            if limit_at < last_run.timestamp():
                notified = _nightly_runs(limit_at, tz, 3)
                if notified + escalate <= last_run:
                    escalated = notified + escalate
        updated = max(t for t in (entered, notified, escalated) if t is not None)
        if is_open and rng.random() < 0.4:  # an edit since (amount, close date, notes)
            updated = min(now_dt, updated + timedelta(days=rng.uniform(0, 20)))
        row = [
            f"{c.name} · {rng.choice(SUBJECTS)}", c.id, contacts.get(c.id), None, owner,
            amount, close_date, stage, entered, FINALS[max(s for s in path if s != LOST_AT)],
            needs, rng.choice(DESCRIPTIONS), lost_reason, competitor, closed, notified,
            escalated, created, updated,
        ]  # fmt: skip
        return created, c, row, stays, quote

    for _ in range(count):
        deals.append(draw())
    deals.sort(key=lambda deal: deal[0])
    ids = ctx.reserve_ids(Opportunity, count)
    stays: list[tuple] = []
    quotes: list[tuple] = []  # (opportunity, owner, created, approved, lines)

    def rows() -> Iterator[tuple]:
        for pk, (created, c, row, deal_stays, quote) in zip(ids, deals, strict=True):
            # A customer made from a lead: its first deal came with the lead.
            if (
                c.id in from_lead
                and c.id not in lead_linked
                and created - c.lo < timedelta(days=120)
            ):
                row[3] = from_lead[c.id]
                lead_linked.add(c.id)
            stays.extend((pk, *stay) for stay in deal_stays)
            if quote is not None:
                quotes.append((pk, *quote))
            yield (pk, *row)

    ctx.copy(Opportunity, OPPORTUNITY_COLUMNS, rows(), expected=count)
    deals.clear()
    stays.sort(key=lambda stay: stay[3])  # numbered in the order they began
    ctx.copy(StageChange, STAGE_COLUMNS, stays, expected=len(stays))
    stays.clear()
    quotes.sort(key=lambda quote: quote[2])  # numbered in the order they were made
    _copy_quotes(ctx, quotes, tz)
    ctx.ids["opportunities"] = ids


def _copy_quotes(ctx: ScaleContext, quotes: list[tuple], tz: ZoneInfo) -> None:
    quote_ids = ctx.reserve_ids(Quote, len(quotes))
    lines: list[tuple] = []

    def rows() -> Iterator[tuple]:
        for pk, (opportunity, owner, made, approved, quote_lines) in zip(
            quote_ids, quotes, strict=True
        ):
            made_at = datetime.fromtimestamp(made, tz)
            approved_at = datetime.fromtimestamp(approved, tz)
            total = sum((line[5] for line in quote_lines), Decimal("0.00"))
            gross = sum((line[6] for line in quote_lines), Decimal("0.00"))
            for position, (product, name, quantity, price, discount, net, _g) in enumerate(
                quote_lines, 1
            ):
                lines.append((pk, position, product, name, quantity, price, discount, net))
            yield (
                pk, opportunity, owner, 1, QuoteStatus.APPROVED,
                (made_at + timedelta(days=30)).date(), "", gross.quantize(CENT), total,
                max(line[4] for line in quote_lines), "", approved_at, made_at, approved_at,
            )  # fmt: skip

    ctx.copy(Quote, QUOTE_COLUMNS, rows(), expected=len(quotes))
    ctx.copy(QuoteLine, LINE_COLUMNS, lines, expected=len(lines))
