"""The panels of the home pages (工作台, issue 7): one function per panel returning its
template context, always over the caller's data scope and in a constant number of queries
whatever the number of rows (indexed filters, LIMITs and aggregates, never a loop of queries).

Every function takes the user and `now` (the business time zone's now, `views.business_now`),
so that "today" is the same day for every panel of a page. The numbers come from the owning
apps' selectors and figures wherever those exist (one source of truth per number); what no
selector answers yet is written here with the same scope helpers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.names import person_name
from apps.accounts.scope import visible_users

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)

ROUTE_SHOWN = 12  # plans of the day's route listed (a rep plans a handful)
ROWS_SHOWN = 5  # rows of a short list (leads, stuck deals, tasks, customers …)
PEOPLE_SHOWN = 8  # reps or units of a team panel
LARGE_CONTRACT = Decimal("200000.00")  # "large contract" of the manager's panel (issue 7)
DUE_SOON_DAYS = 7


def _share(value: Decimal | int, peak: Decimal | int) -> int:
    """The width (0–100) of a bar of `value` on a scale whose longest bar is `peak`."""
    if not peak or not value:
        return 0
    return max(2, min(100, round(float(value) * 100 / float(peak))))


def whole(value: Decimal | int | None) -> str:
    """A compact figure: to the unit, with thousands separators whatever the language (the
    exact amount is on the list behind it; zh-Hans formats no grouping of its own)."""
    return f"{Decimal(value or 0):,.0f}"


def _name(user_row: dict, prefix: str = "owner__") -> str:
    return (
        person_name(user_row[f"{prefix}first_name"], user_row[f"{prefix}last_name"])
        or (user_row[f"{prefix}username"])
    )


# --- rep: today's route ------------------------------------------------------------------


def today_route(*, user: User, now: datetime) -> dict[str, Any]:
    """The rep's plans of the day in route order (拜访路线), with the customer or lead, the
    time, the purpose and the status. One query (a row more than shown tells "more")."""
    from apps.visits.choices import PlanStatus
    from apps.visits.selectors import visit_plan_list

    today = now.date()
    rows = list(
        visit_plan_list(user=user, owner=user.pk, date_from=today, date_to=today)[: ROUTE_SHOWN + 1]
    )
    plans = rows[:ROUTE_SHOWN]
    return {
        "plans": plans,
        "more": len(rows) > ROUTE_SHOWN,
        "done": sum(1 for p in plans if p.status == PlanStatus.DONE),
        "open": sum(1 for p in plans if p.status == PlanStatus.PLANNED),
        "today": today,
        "planned_status": PlanStatus.PLANNED,
        "done_status": PlanStatus.DONE,
    }


# --- rep: leads to follow up -------------------------------------------------------------


def leads_follow_up(*, user: User, now: datetime) -> dict[str, Any]:
    """The rep's assigned leads not contacted yet (the first-response SLA, 线索响应), the
    soonest due first (so the late ones lead), with how many there are and how many are late.
    Two queries."""
    from apps.leads.choices import LeadStatus
    from apps.leads.selectors import lead_list

    waiting = lead_list(user=user, status=LeadStatus.ASSIGNED).filter(
        owner_id=user.pk, first_responded_at__isnull=True
    )
    totals = waiting.order_by().aggregate(
        n=Count("pk"), late=Count("pk", filter=Q(first_response_due_at__lt=now))
    )
    leads = list(
        waiting.order_by(F("first_response_due_at").asc(nulls_last=True), "id")[:ROWS_SHOWN]
    )
    for lead in leads:
        due = lead.first_response_due_at
        lead.is_late = due is not None and due < now
    return {"leads": leads, "count": totals["n"], "late": totals["late"], "now": now}


# --- rep: my opportunities ---------------------------------------------------------------


@dataclass
class StageFigure:
    stage: str
    label: str
    count: int = 0
    amount: Decimal = ZERO
    stuck: int = 0
    width: int = 0

    @property
    def amount_text(self) -> str:
        return whole(self.amount)


def _open_stages(qs) -> list[StageFigure]:
    """Open deals of `qs` per open stage (count, amount, stuck), in the stage order: one
    grouped query."""
    from apps.opportunities.choices import OPEN_STAGES

    figures = {str(s): StageFigure(str(s), str(s.label)) for s in OPEN_STAGES}
    rows = (
        qs.filter(stage__in=OPEN_STAGES)
        .order_by()
        .values("stage")
        .annotate(
            n=Count("*"),
            amount=Coalesce(Sum("amount"), ZERO, output_field=_MONEY),
            stuck=Count("stuck_notified_at"),  # the non-null ones: the stuck deals
        )
    )
    for row in rows:
        f = figures[row["stage"]]
        f.count, f.amount, f.stuck = row["n"], row["amount"], row["stuck"]
    stages = list(figures.values())
    peak = max((f.amount for f in stages), default=ZERO)
    for f in stages:
        f.width = _share(f.amount, peak)
    return stages


def my_opportunities(*, user: User, now: datetime) -> dict[str, Any]:
    """The rep's open deals by stage (count, amount) and the stuck ones (停滞商机: the stuck
    alert went out), the longest in their stage first. Two queries."""
    from apps.opportunities.models import Opportunity
    from apps.opportunities.selectors import OpportunityFilters, opportunity_list

    stages = _open_stages(Opportunity.objects.visible_to(user).filter(owner_id=user.pk))
    stuck = list(
        opportunity_list(user=user, filters=OpportunityFilters(owner=user.pk, stuck=True))
        .order_by("stage_entered_at", "id")[:ROWS_SHOWN]
    )  # fmt: skip
    return {
        "stages": stages,
        "count": sum(s.count for s in stages),
        "amount_text": whole(sum((s.amount for s in stages), ZERO)),
        "stuck": stuck,
        "stuck_count": sum(s.stuck for s in stages),
        "now": now,
    }


# --- rep: my receivables due -------------------------------------------------------------


def receivables_due(*, user: User, now: datetime) -> dict[str, Any]:
    """The rep's open collection tasks (催收任务) and installments overdue or due within the
    next seven days (amounts open). Four queries: task counts, first tasks, the installments'
    totals, the first installments."""
    from apps.receivables.choices import OPEN_STATUSES
    from apps.receivables.collections import collection_task_counts, collection_task_list
    from apps.receivables.models import Installment
    from apps.receivables.selectors import installment_list, open_amount_expr

    today = now.date()
    until = today + timedelta(days=DUE_SOON_DAYS)
    counts = collection_task_counts(user=user)
    tasks = list(collection_task_list(user=user, mine=True)[:ROWS_SHOWN])
    open_soon = Installment.objects.visible_to(user).filter(
        status__in=OPEN_STATUSES, due_date__lte=until
    )
    money = open_amount_expr()
    totals = open_soon.aggregate(
        overdue_n=Count("pk", filter=Q(due_date__lt=today)),
        overdue=Coalesce(Sum(money, filter=Q(due_date__lt=today)), ZERO, output_field=_MONEY),
        soon_n=Count("pk", filter=Q(due_date__gte=today)),
        soon=Coalesce(Sum(money, filter=Q(due_date__gte=today)), ZERO, output_field=_MONEY),
    )
    installments = list(
        installment_list(user=user, due_to=until)
        .filter(status__in=OPEN_STATUSES, open_value__gt=0)[:ROWS_SHOWN]
    )  # fmt: skip
    return {
        "tasks": tasks,
        "task_count": counts.open,
        "task_overdue": counts.overdue,
        "installments": installments,
        "overdue_count": totals["overdue_n"],
        "overdue_amount": totals["overdue"],
        "soon_count": totals["soon_n"],
        "soon_amount": totals["soon"],
        "today": today,
        "until": until,
    }


# --- attainment (rep and team) -----------------------------------------------------------

# A scope may have several live targets of a metric today (a month inside a quarter inside
# a year): the month's is the one a home page shows (issue 7), then the shorter periods.
_PERIOD_RANK = {"month": 0, "quarter": 1, "year": 2, "week": 3}
_ARC = math.pi * 40  # the gauge's half circle (radius 40)


@dataclass
class Attainment:
    """Actual against the target of one metric and scope, with the time elapsed of the
    target's period (today included) to compare the pace."""

    metric: str
    label: str
    money: bool
    target: Decimal | None
    actual: Decimal
    start: date | None = None
    end: date | None = None
    elapsed: Decimal | None = None
    name: str = ""
    key: int | None = None

    @property
    def attainment(self) -> Decimal | None:
        from apps.goals.attainment import pct

        return pct(self.actual, self.target)

    @property
    def actual_text(self) -> str:
        return whole(self.actual)

    @property
    def target_text(self) -> str:
        return "—" if self.target is None else whole(self.target)

    @property
    def width(self) -> int:
        pct = self.attainment
        return 0 if pct is None else max(0, min(100, round(float(pct))))

    @property
    def pace(self) -> str:
        """success on pace (attained ≥ time elapsed), warning behind by at most a fifth,
        danger further behind; secondary without a target."""
        pct = self.attainment
        if pct is None or self.elapsed is None:
            return "secondary"
        if pct >= self.elapsed:
            return "success"
        return "warning" if pct >= self.elapsed * Decimal("0.8") else "danger"

    @property
    def dash(self) -> str:
        """The gauge's filled arc (SVG stroke-dasharray)."""
        return f"{_ARC * self.width / 100:.1f} {_ARC:.1f}"

    @property
    def tick(self) -> dict[str, str]:
        """The time-elapsed tick across the gauge's arc."""
        angle = math.pi * float(self.elapsed or 0) / 100
        cos, sin = math.cos(angle), math.sin(angle)
        return {
            "x1": f"{50 - 32 * cos:.1f}",
            "y1": f"{50 - 32 * sin:.1f}",
            "x2": f"{50 - 48 * cos:.1f}",
            "y2": f"{50 - 48 * sin:.1f}",
        }


def _live_targets(q: Q, today: date) -> list:
    """The live (active) targets matching `q` whose period contains today: one query."""
    from apps.goals.choices import TargetStatus
    from apps.goals.models import Target

    return list(
        Target.objects.filter(
            q, status=TargetStatus.ACTIVE, period_start__lte=today, period_end__gte=today
        ).order_by("id")
    )


def _preferred(targets: list) -> dict[tuple[str, int | None, str], Any]:
    """One target per (scope kind, unit or rep, metric): the month's first, then the shorter
    periods; the newest among equals."""
    best: dict[tuple[str, int | None, str], Any] = {}
    for target in targets:
        owner = target.user_id if target.scope_kind == "rep" else target.org_unit_id
        key = (target.scope_kind, owner, target.metric)
        rank = (_PERIOD_RANK.get(target.period_kind, 9), -target.pk)
        held = best.get(key)
        if held is None or rank < (_PERIOD_RANK.get(held.period_kind, 9), -held.pk):
            best[key] = target
    return best


def _actuals(targets, *, owner_ids: list[int] | None, units: dict | None) -> dict:
    """The actuals of every (metric, period) the targets need: one query each (at most the
    five metrics × the four period kinds, in practice one per metric): `goals.actuals` reads
    what the monthly rollup holds for the period and computes only the rest from the
    documents."""
    from apps.goals import actuals

    found: dict[tuple[str, date, date], Any] = {}
    for target in targets:
        key = (target.metric, target.period_start, target.period_end)
        if key not in found:
            found[key] = actuals.compute(
                target.metric, target.period_start, target.period_end,
                owner_ids=owner_ids, units=units,
            )  # fmt: skip
    return found


def _attainment_of(target, actual: Decimal, today: date, **extra: Any) -> Attainment:
    from apps.goals.attainment import elapsed_pct
    from apps.goals.choices import MONEY_METRICS, Metric
    from apps.goals.periods import period_between

    return Attainment(
        metric=target.metric,
        label=str(Metric(target.metric).label),
        money=target.metric in MONEY_METRICS,
        target=target.amount,
        actual=actual,
        start=target.period_start,
        end=target.period_end,
        elapsed=elapsed_pct(
            period_between(target.period_kind, target.period_start, target.period_end), today
        ),
        **extra,
    )


def my_attainment(*, user: User, now: datetime) -> dict[str, Any]:
    """A gauge per metric the rep has a live target for today (the month's preferred):
    actual ÷ target and the time elapsed. One query for the targets and one per metric."""
    from apps.goals.choices import Metric

    today = now.date()
    targets = _preferred(_live_targets(Q(scope_kind="rep", user_id=user.pk), today))
    chosen = sorted(targets.values(), key=lambda t: Metric.values.index(t.metric))
    found = _actuals(chosen, owner_ids=[user.pk], units={})
    gauges = [
        _attainment_of(t, found[(t.metric, t.period_start, t.period_end)].rep(user.pk), today)
        for t in chosen
    ]
    return {"gauges": gauges}


@dataclass
class MetricBlock:
    """One metric of the team attainment: the headed units' own figures and a bar per child
    unit or rep."""

    metric: str
    label: str
    money: bool
    totals: list[Attainment] = field(default_factory=list)
    rows: list[Attainment] = field(default_factory=list)
    more: int = 0


def team_attainment(*, user: User, now: datetime) -> dict[str, Any]:
    """Attainment this month of the units `user` heads: per child unit (a manager's teams) or,
    for a unit without sub-units, per rep (a supervisor's reps): actual against target as
    progress bars, per metric that has a target. Queries: the headed units, their children,
    the reps (without children), the targets, the period's members, the unit tree, and one
    per metric — whatever the number of rows."""
    from apps.goals.choices import Metric
    from apps.goals.models import UnitMembership

    today = now.date()
    headed = list(OrgUnit.objects.filter(head_id=user.pk, is_active=True).order_by("path"))
    if not headed:
        return {"blocks": [], "headed": []}
    children = list(
        OrgUnit.objects.filter(parent__in=headed, is_active=True).order_by("path", "id")
    )
    reps: list[User] = []
    if not children:
        reps = list(
            visible_users(user)
            .filter(is_active=True, role=Role.REP, org_unit__in=headed)
            .order_by("username")
        )
    q = Q(scope_kind="unit", org_unit__in=[*headed, *children])
    if reps:
        q |= Q(scope_kind="rep", user_id__in=[r.pk for r in reps])
    targets = _preferred(_live_targets(q, today))
    if not targets:
        return {"blocks": [], "headed": headed}
    start = min(t.period_start for t in targets.values())
    end = max(t.period_end for t in targets.values())
    subtree = Q()
    for unit in headed:
        subtree |= Q(org_unit__path__startswith=unit.path)
    # Whoever was in the subtree during the periods: a rep who left the team mid-period still
    # counts for it before leaving (goals.actuals, by the membership on the document's day).
    members = list(
        UnitMembership.objects.filter(subtree, valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    from apps.goals.actuals import unit_ancestors

    found = _actuals(targets.values(), owner_ids=members, units=unit_ancestors())
    blocks = []
    for metric in Metric.values:
        block = MetricBlock(metric, str(Metric(metric).label), False)
        for unit in headed:
            target = targets.get(("unit", unit.pk, metric))
            if target is not None:
                actual = found[(metric, target.period_start, target.period_end)].unit(unit.pk)
                block.totals.append(_attainment_of(target, actual, today, name=unit.name))
        rows = [("unit", u.pk, u.name) for u in children] or [
            ("rep", r.pk, person_name(r.first_name, r.last_name) or r.username) for r in reps
        ]
        for kind, pk, name in rows:
            target = targets.get((kind, pk, metric))
            if target is None:
                continue
            figures = found[(metric, target.period_start, target.period_end)]
            actual = figures.unit(pk) if kind == "unit" else figures.rep(pk)
            block.rows.append(_attainment_of(target, actual, today, name=name, key=pk))
        if block.totals or block.rows:
            block.money = (block.totals or block.rows)[0].money
            block.rows.sort(key=lambda a: (-(a.attainment or 0), a.name))
            block.more = max(0, len(block.rows) - PEOPLE_SHOWN)
            block.rows = block.rows[:PEOPLE_SHOWN]
            blocks.append(block)
    return {"blocks": blocks, "headed": headed, "by_unit": bool(children)}


# --- supervisor / manager ----------------------------------------------------------------


@dataclass
class RepVisits:
    pk: int
    name: str
    planned: int = 0
    done: int = 0

    @property
    def width(self) -> int:
        return _share(self.done, self.planned)


def team_visits_today(*, user: User, now: datetime) -> dict[str, Any]:
    """Today's visit plans of the reps `user` oversees: planned and done per rep (the reps
    with the most planned first), the totals and the reps with no plan today. Two queries:
    the reps, the plans grouped by rep."""
    from apps.visits.choices import PlanStatus
    from apps.visits.models import VisitPlan
    from apps.visits.selectors import calendar_people

    today = now.date()
    reps = {
        r["pk"]: RepVisits(r["pk"], _name(r, ""))
        for r in calendar_people(user=user)
        .filter(role=Role.REP)
        .values("pk", "username", "first_name", "last_name")
    }
    rows = (
        VisitPlan.objects.visible_to(user)
        .filter(planned_date=today, owner_id__in=list(reps))
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"), done=Count("pk", filter=Q(status=PlanStatus.DONE)))
    )
    for row in rows:
        rep = reps[row["owner_id"]]
        rep.planned, rep.done = row["n"], row["done"]
    ranked = sorted(reps.values(), key=lambda r: (-r.planned, -r.done, r.name))
    headed = OrgUnit.objects.filter(head_id=user.pk, is_active=True).order_by("path").first()
    return {
        "reps": ranked[:PEOPLE_SHOWN],
        "more": max(0, len(ranked) - PEOPLE_SHOWN),
        "rep_count": len(ranked),
        "planned": sum(r.planned for r in ranked),
        "done": sum(r.done for r in ranked),
        "idle": sum(1 for r in ranked if not r.planned),
        "team": headed,
        "today": today,
    }


def team_funnel(*, user: User, now: datetime) -> dict[str, Any]:
    """The open deals in `user`'s scope per stage (count, amount) as horizontal bars: the
    totals of the pipeline board's columns. One grouped query."""
    from apps.opportunities.models import Opportunity

    stages = _open_stages(Opportunity.objects.visible_to(user))
    return {
        "stages": stages,
        "count": sum(s.count for s in stages),
        "amount_text": whole(sum((s.amount for s in stages), ZERO)),
        "stuck_count": sum(s.stuck for s in stages),
    }


class _OfGroup(Subquery):
    """A scalar subquery on the grouping columns of an aggregate query (e.g. a name by the
    grouped id): not a grouping key itself, so that PostgreSQL evaluates it on the output
    rows only — after the LIMIT when the query has one and does not sort on it."""

    def get_group_by_cols(self):
        return []


def team_overdue(*, user: User, now: datetime) -> dict[str, Any]:
    """The overdue receivables in `user`'s scope: the total and the aging buckets (the
    receivables figures' aging, one query) and the five customers owing the most overdue
    money (one grouped query)."""
    from apps.customers.models import Customer
    from apps.receivables.figures import aging
    from apps.receivables.models import Installment
    from apps.receivables.selectors import open_amount_expr, overdue_q

    today = now.date()
    report = aging(user=user, as_of=today)
    total = report.total
    buckets = [
        {"bucket": i, "label": label, "amount": amount}
        for i, (name, label, amount) in enumerate(total.bucket_amounts())
        if name != "current"
    ]
    peak = max((b["amount"] for b in buckets), default=ZERO)
    for b in buckets:
        b["width"] = _share(b["amount"], peak)
        b["amount_text"] = whole(b["amount"])
    # Grouped by the customer id alone and counted with COUNT(*): an index-only scan of the
    # overdue part of the open-installment covering index (`installment_open_aging`, which
    # holds the customer but not the id); the name is a subquery that PostgreSQL runs after
    # the LIMIT, for the five rows shown only.
    named = Customer.objects.filter(pk=OuterRef("customer_id")).order_by().values("name")[:1]
    customers = list(
        Installment.objects.visible_to(user)
        .filter(overdue_q(today))
        .order_by()
        .values("customer_id")
        .annotate(amount=Sum(open_amount_expr()), n=Count("*"), customer_name=_OfGroup(named))
        .filter(amount__gt=0)
        .order_by("-amount", "customer_id")[:ROWS_SHOWN]
    )
    return {
        "overdue": total.overdue,
        "open": total.open,
        "ratio": total.overdue_ratio,
        "buckets": buckets,
        "customers": customers,
    }


def large_contracts(*, user: User, now: datetime) -> dict[str, Any]:
    """Contracts pending approval over 200,000 in `user`'s scope, the largest first, with
    their count and amount. Two queries."""
    from apps.contracts.choices import ContractStatus
    from apps.contracts.selectors import ContractFilters, contract_list

    pending = contract_list(
        user=user, filters=ContractFilters(status=ContractStatus.PENDING)
    ).filter(amount__gt=LARGE_CONTRACT)
    totals = pending.order_by().aggregate(
        n=Count("*"), amount=Coalesce(Sum("amount"), ZERO, output_field=_MONEY)
    )
    return {
        "contracts": list(pending.order_by("-amount", "id")[:ROWS_SHOWN]),
        "count": totals["n"],
        "amount": totals["amount"],
        "amount_text": whole(totals["amount"]),
        "threshold": whole(LARGE_CONTRACT),
        "status": ContractStatus.PENDING,
    }


# --- finance -----------------------------------------------------------------------------


def due_this_week(*, user: User, now: datetime) -> dict[str, Any]:
    """The open installments falling due this week, Monday to Sunday: count and open amount,
    per day and in total (the open-installment index). One grouped query."""
    from apps.receivables.choices import OPEN_STATUSES
    from apps.receivables.models import Installment
    from apps.receivables.selectors import open_amount_expr

    today = now.date()
    monday = today - timedelta(days=today.weekday())
    sunday = monday + timedelta(days=6)
    rows = {
        row["due_date"]: row
        for row in Installment.objects.visible_to(user)
        .filter(status__in=OPEN_STATUSES, due_date__gte=monday, due_date__lte=sunday)
        .order_by()
        .values("due_date")
        .annotate(n=Count("*"), amount=Sum(open_amount_expr()))  # index-only: no id
    }
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        row = rows.get(day, {})
        days.append(
            {"date": day, "count": row.get("n", 0), "amount": row.get("amount") or ZERO,
             "is_today": day == today, "past": day < today}
        )  # fmt: skip
    peak = max((d["amount"] for d in days), default=ZERO)
    for d in days:
        d["width"] = _share(d["amount"], peak)
    return {
        "days": days,
        "count": sum(d["count"] for d in days),
        "amount": sum((d["amount"] for d in days), ZERO),
        "monday": monday,
        "sunday": sunday,
    }


def overdue_installments(*, user: User, now: datetime) -> dict[str, Any]:
    """The overdue installments in `user`'s scope: count and open amount (one aggregate) and
    the five largest open amounts (one query)."""
    from apps.receivables.models import Installment
    from apps.receivables.selectors import my_overdue, open_amount_expr, overdue_q

    today = now.date()
    totals = (
        Installment.objects.visible_to(user)
        .filter(overdue_q(today))
        .aggregate(
            n=Count("*"),  # not Count("pk"): the open-installment covering index has no id
            amount=Coalesce(Sum(open_amount_expr()), ZERO, output_field=_MONEY),
        )
    )
    top = list(my_overdue(user=user).order_by("-open_value", "due_date", "id")[:ROWS_SHOWN])
    return {"count": totals["n"], "amount": totals["amount"], "top": top}


def payments_to_allocate(*, user: User, now: datetime) -> dict[str, Any]:
    """Recorded payments with money left to allocate (待核销), the oldest received first, with
    their count and the amount left (the partial index of unallocated payments). Two
    queries."""
    from apps.receivables.selectors import payment_list

    unallocated = payment_list(user=user, unallocated=True)
    totals = unallocated.order_by().aggregate(
        n=Count("*"),  # from the partial index of unallocated payments alone (no id there)
        amount=Coalesce(Sum(F("amount") - F("allocated_amount"), output_field=_MONEY), ZERO,
                        output_field=_MONEY),
    )  # fmt: skip
    return {
        "payments": list(unallocated.order_by("received_on", "id")[:ROWS_SHOWN]),
        "count": totals["n"],
        "amount": totals["amount"],
    }


def credit_holds(*, user: User, now: datetime) -> dict[str, Any]:
    """Customers on credit hold (信用冻结) in `user`'s sight, the latest change first, and how
    many. Two queries."""
    from apps.customers.selectors import customer_list

    held = customer_list(user=user).filter(on_credit_hold=True)
    return {
        "customers": list(held[:ROWS_SHOWN]),
        "count": held.order_by().count(),
    }


def collection_rate(*, user: User, now: datetime) -> dict[str, Any]:
    """This month's collection figures (回款率, collected, to collect, due) in `user`'s scope,
    from the receivables figures: three aggregate queries."""
    from apps.goals.attainment import elapsed_pct
    from apps.goals.periods import period_between
    from apps.receivables.figures import Period, collection_figures, period_dates

    start, end = period_dates(Period.THIS_MONTH, on=now.date())
    total = collection_figures(user=user, start=start, end=end).total
    rate = total.collection_rate
    return {
        "figures": total,
        "rate": rate,
        "width": 0 if rate is None else max(0, min(100, round(float(rate)))),
        "elapsed": elapsed_pct(period_between("month", start, end), now.date()),
        "start": start,
        "end": end,
    }


# --- admin -------------------------------------------------------------------------------


def api_tokens(*, user: User, now: datetime) -> dict[str, Any]:
    """API tokens: usable (neither revoked nor expired), and all. One aggregate."""
    from apps.api.selectors import token_list

    usable = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    totals = (
        token_list(user=user).order_by().aggregate(n=Count("pk"), usable=Count("pk", filter=usable))
    )
    return {"count": totals["n"], "usable": totals["usable"], "staff": user.is_staff}


def approval_policies(*, user: User, now: datetime) -> dict[str, Any]:
    """Approval policies (审批流程): active and all. One aggregate (admins only see this
    panel: the policies are configuration, not anyone's records)."""
    from apps.approvals.models import ApprovalPolicy

    totals = ApprovalPolicy.objects.aggregate(
        n=Count("pk"), active=Count("pk", filter=Q(is_active=True))
    )
    return {"count": totals["n"], "active": totals["active"], "staff": user.is_staff}
