"""Commissions on collections (回款提成): the plans, the monthly statements, the clawback of a
closed month, the approval and the payroll export.

**Collected** in month M for rep R (the same source as `Metric.COLLECTED` in
`apps.goals.actuals`, mirrored in `_COLLECTIONS`): the allocations (核销) not reversed of the
payments not reversed received (received_on) in M, credited to the owner of the installment
they settle. An allocation earns commission once: one already on another rep's approved
statement (the customer changed hands since) is not counted again.

**Base**: each allocation × its factor, to the cent. The factor is the customer tier's factor
(the customer of the installment, i.e. of the contract) × the contract's product-line factor
(its lines' product lines weighted by line amount; a line without a product or product line,
or whose product line has no factor, counts 1; a contract without lines counts 1), to four
decimals. With `plan.clawback_on_write_off` an allocation to an installment written off
(坏账) stays on the statement with a base of 0.

**Commission**: the plan's tiers are marginal on the month's base (like tax brackets), each
tier's part to the cent; above the rep's collection target for M (the live rep-scope month
target of `collected`, apps.goals) `accelerator_rate` × (base − target) is added, to the cent;
no target, no accelerator. earned = tier commission + accelerator; payable = earned + the
adjustments booked on the statement.

**Plan**: the active plan valid in M whose units contain the rep's unit at the month's end
(`goals_unitmembership`): the most specific unit wins, a plan without units applies to every
rep (the least specific). No plan, no statement (a draft whose rep lost their plan keeps its
own).

**Statements** (`statements_compute_due`, the 02:15 job): this month's and last month's for
every rep with a plan, and every draft of the last twelve months, set-based (one statement of
the collections per month, bulk writes). A DRAFT is recomputed in place (its lines replaced
when they changed); PENDING and APPROVED ones are left alone — an approved statement never
changes. For each approved month of the last twelve, what it should earn now is recomputed
from its frozen lines (less those reversed or written off since, plus collections allocated
after it was approved); a difference from its `earned` and the adjustments already booked for
it is booked once as a `CommissionAdjustment` on the rep's earliest draft after that month
(this month's). A second run books nothing.

**Flow**: the rep's supervisor (a head of the rep's unit or above) submits a draft of an ended
month through the approval policy "incentives.commissionstatement" (the manager approves); a
return brings it back to draft with the comment; approval closes it and tells the rep. Finance
and admins export a month's approved statements to Excel for payroll, which stamps them.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import headed_paths
from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_return_to_draft, approval_submit
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.goals import actuals
from apps.goals.choices import Metric, PeriodKind, ScopeKind, TargetStatus
from apps.goals.models import Target, UnitMembership
from apps.notifications.choices import NotificationKind
from apps.notifications.services import notify
from apps.opportunities.figures import add_months

from .choices import FactorKind, StatementStatus
from .models import (
    CommissionAdjustment,
    CommissionFactor,
    CommissionLine,
    CommissionPlan,
    CommissionStatement,
    CommissionTier,
)

CENT = Decimal("0.01")
FACTOR_PLACES = Decimal("0.0001")
ZERO = Decimal("0")
ONE = Decimal("1")
HUNDRED = Decimal("100")
LOOKBACK_MONTHS = 12
JOB = "incentives_commissions"
# pg_advisory_xact_lock key of the job: two workers running it at once take turns.
_JOB_LOCK = 0x1C0_4D15


def money(value: Decimal) -> Decimal:
    """To the cent, half up (every component of a commission is rounded on its own)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- months ----------------------------------------------------------------------------------


def month_of(day: date) -> date:
    """The first day of `day`'s month."""
    return date(day.year, day.month, 1)


def month_end(month: date) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def percent(rate: Decimal) -> Decimal:
    """A rate as the percentage people read: 0.0150 → 1.5, 0.1000 → 10 (never 1E+1)."""
    value = rate * HUNDRED
    if value == value.to_integral_value():
        return value.quantize(ONE)
    return value.normalize()


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def month_ended(month: date, today: date | None = None) -> bool:
    return month_end(month) < (today or timezone.localdate())


# --- the tier computation (pure) -------------------------------------------------------------


@dataclass(frozen=True)
class TierStep:
    """One tier of the computation: the part of the base within [from, to) and its
    commission."""

    from_amount: Decimal
    to_amount: Decimal | None
    rate: Decimal
    portion: Decimal
    amount: Decimal

    @property
    def rate_pct(self) -> Decimal:
        return percent(self.rate)


@dataclass(frozen=True)
class Earnings:
    """What a base earns under a plan's tiers and accelerator."""

    base: Decimal
    target: Decimal | None
    steps: tuple[TierStep, ...]
    tier_amount: Decimal
    excess: Decimal  # the base above the target (0 without a target or below it)
    accelerator_rate: Decimal
    accelerator_amount: Decimal

    @property
    def earned(self) -> Decimal:
        return self.tier_amount + self.accelerator_amount

    @property
    def accelerator_pct(self) -> Decimal:
        return percent(self.accelerator_rate)


def commission_for(
    *,
    base: Decimal,
    tiers: list[tuple[Decimal, Decimal]],
    target: Decimal | None,
    accelerator_rate: Decimal,
) -> Earnings:
    """The commission of a month's `base`: `tiers` are (from amount, rate) — marginal, each
    tier's part rounded to the cent — plus the accelerator's rate on the part above `target`."""
    ordered = sorted(tiers)
    steps = []
    for index, (lower, rate) in enumerate(ordered):
        upper = ordered[index + 1][0] if index + 1 < len(ordered) else None
        top = base if upper is None else min(base, upper)
        portion = max(top - lower, ZERO)
        steps.append(TierStep(lower, upper, rate, portion, money(portion * rate)))
    tier_amount = sum((step.amount for step in steps), ZERO)
    excess = max(base - target, ZERO) if target is not None else ZERO
    accelerator = money(excess * accelerator_rate) if excess else ZERO
    return Earnings(
        base=base, target=target, steps=tuple(steps), tier_amount=tier_amount, excess=excess,
        accelerator_rate=accelerator_rate, accelerator_amount=accelerator,
    )  # fmt: skip


def statement_earnings(statement: CommissionStatement) -> Earnings:
    """The step-by-step computation behind a statement's figures (its plan's tiers, which do
    not change once the plan has statements). Uses `plan.tiers.all()` (prefetch it)."""
    tiers = [(t.from_amount, t.rate) for t in statement.plan.tiers.all()]
    return commission_for(
        base=statement.base, tiers=tiers, target=statement.target,
        accelerator_rate=statement.plan.accelerator_rate,
    )  # fmt: skip


# --- the plans' rules ------------------------------------------------------------------------


@dataclass
class PlanRules:
    """A plan as the computation reads it."""

    plan: CommissionPlan
    tiers: list[tuple[Decimal, Decimal]]
    tier_factors: dict[str, Decimal]
    line_factors: dict[str, Decimal]
    unit_paths: list[str]
    _contract_factors: dict[int, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: CommissionPlan) -> PlanRules:
        """From a plan with `tiers`, `factors` and `units` prefetched."""
        factors = list(plan.factors.all())
        return cls(
            plan=plan,
            tiers=[(t.from_amount, t.rate) for t in plan.tiers.all()],
            tier_factors={f.value: f.factor for f in factors if f.kind == FactorKind.CUSTOMER_TIER},
            line_factors={f.value: f.factor for f in factors if f.kind == FactorKind.PRODUCT_LINE},
            unit_paths=[u.path for u in plan.units.all()],
        )

    def specificity(self, unit_path: str | None) -> int | None:
        """How closely the plan covers a unit (the length of its deepest unit containing it; 0
        for a plan of every rep); None when it does not apply."""
        if not self.unit_paths:
            return 0
        if not unit_path:
            return None
        matching = [len(path) for path in self.unit_paths if unit_path.startswith(path)]
        return max(matching) if matching else None

    def contract_factor(self, contract_id: int, mix: dict[int, list[tuple[str, Decimal]]]):
        """The product-line factor of a contract: its lines' factors weighted by amount."""
        if not self.line_factors:
            return ONE
        cached = self._contract_factors.get(contract_id)
        if cached is None:
            lines = mix.get(contract_id, [])
            total = sum((amount for _line, amount in lines), ZERO)
            if total <= 0:
                cached = ONE
            else:
                weighted = sum(
                    (amount * self.line_factors.get(line, ONE) for line, amount in lines), ZERO
                )
                cached = weighted / total
            self._contract_factors[contract_id] = cached
        return cached

    def factor(self, *, tier: str, contract_id: int, mix: dict) -> Decimal:
        tier_factor = self.tier_factors.get(tier, ONE)
        value = tier_factor * self.contract_factor(contract_id, mix)
        return value.quantize(FACTOR_PLACES, rounding=ROUND_HALF_UP)


def _plans_q() -> Any:
    return CommissionPlan.objects.prefetch_related("tiers", "factors", "units")


def _plans_valid_in(month: date) -> list[PlanRules]:
    plans = _plans_q().filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=month),
        is_active=True,
        valid_from__lte=month_end(month),
    )
    return [PlanRules.of(plan) for plan in plans.order_by("id")]


def _plan_for(unit_path: str | None, plans: list[PlanRules]) -> PlanRules | None:
    """The most specific plan; between equals the latest valid_from, then the newest."""
    best, best_key = None, None
    for rules in plans:
        specificity = rules.specificity(unit_path)
        if specificity is None:
            continue
        key = (specificity, rules.plan.valid_from, rules.plan.pk)
        if best_key is None or key > best_key:
            best, best_key = rules, key
    return best


# --- the collections of a month --------------------------------------------------------------

# The source of `Metric.COLLECTED` (apps/goals/actuals.py), with what the commission needs:
# the installment, its contract and customer tier, whether it was written off. An allocation
# already paid out on another rep's approved statement is left out (it earns once).
_COLLECTIONS = """
    SELECT i.owner_id, a.id, a.installment_id, i.contract_id, p.received_on, a.amount,
           i.status = 'written_off' AS written_off, cu.tier
      FROM receivables_payment p
      JOIN receivables_allocation a ON a.payment_id = p.id AND a.reversed_at IS NULL
      JOIN receivables_installment i ON i.id = a.installment_id
      JOIN customers_customer cu ON cu.id = i.customer_id
     WHERE p.received_on BETWEEN %(start)s AND %(end)s AND p.status <> 'reversed' {owners}
       AND NOT EXISTS (
            SELECT 1 FROM incentives_commissionline l
              JOIN incentives_commissionstatement s ON s.id = l.statement_id
             WHERE l.allocation_id = a.id AND s.status = 'approved' AND s.rep_id <> i.owner_id)
     ORDER BY p.received_on, a.id
"""

# Each contract's line amounts per product line ('' for a line without one).
_PRODUCT_MIX = """
    SELECT l.contract_id, coalesce(p.product_line, ''), SUM(l.amount)
      FROM contracts_contractline l
      LEFT JOIN opportunities_product p ON p.id = l.product_id
     WHERE l.contract_id = ANY(%(contracts)s)
     GROUP BY l.contract_id, coalesce(p.product_line, '')
"""


@dataclass(frozen=True)
class Collection:
    """An allocation behind a rep's collected amount."""

    owner_id: int
    allocation_id: int
    installment_id: int
    contract_id: int
    received_on: date
    amount: Decimal
    written_off: bool
    tier: str


def _collections(month: date, owner_ids: list[int] | None = None) -> list[Collection]:
    params: dict[str, Any] = {"start": month, "end": month_end(month)}
    owners = ""
    if owner_ids is not None:
        owners = "AND i.owner_id = ANY(%(owners)s)"
        params["owners"] = [int(pk) for pk in owner_ids]
    with connection.cursor() as cursor:
        cursor.execute(_COLLECTIONS.format(owners=owners), params)
        return [Collection(*row) for row in cursor.fetchall()]


def _product_mix(contract_ids: set[int]) -> dict[int, list[tuple[str, Decimal]]]:
    if not contract_ids:
        return {}
    mix: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(_PRODUCT_MIX, {"contracts": sorted(contract_ids)})
        for contract_id, line, amount in cursor.fetchall():
            mix[contract_id].append((line, amount))
    return mix


def _units_at(day: date, user_ids: list[int] | None = None) -> dict[int, tuple[int, str]]:
    """{user: (unit, unit path)} from the memberships of `day` (valid_to excluded)."""
    qs = UnitMembership.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=day), valid_from__lte=day
    )
    if user_ids is not None:
        qs = qs.filter(user_id__in=user_ids)
    rows = qs.order_by("valid_from", "id").values_list("user_id", "org_unit_id", "org_unit__path")
    return {user_id: (unit_id, path) for user_id, unit_id, path in rows}


def _targets(month: date, user_ids: list[int] | None = None) -> dict[int, Decimal]:
    """The live rep-scope `collected` target of each rep for the month (apps.goals)."""
    qs = Target.objects.filter(
        metric=Metric.COLLECTED, period_kind=PeriodKind.MONTH, period_start=month,
        scope_kind=ScopeKind.REP,
    ).exclude(status=TargetStatus.DRAFT)  # fmt: skip
    if user_ids is not None:
        qs = qs.filter(user_id__in=user_ids)
    return dict(qs.order_by("id").values_list("user_id", "amount"))


LineValues = tuple[int, int, int, date, Decimal, Decimal, Decimal]
# (allocation, installment, contract, received on, amount, factor, base): a line as compared.


@dataclass
class Computed:
    """A rep's statement for a month, as the documents give it now."""

    rep_id: int
    month: date
    rules: PlanRules
    org_unit_id: int | None
    collected: Decimal
    base: Decimal
    earnings: Earnings
    lines: list[LineValues]


def _line(rules: PlanRules, row: Collection, mix: dict) -> LineValues:
    factor = rules.factor(tier=row.tier, contract_id=row.contract_id, mix=mix)
    clawed = row.written_off and rules.plan.clawback_on_write_off
    base = ZERO.quantize(CENT) if clawed else money(row.amount * factor)
    return (row.allocation_id, row.installment_id, row.contract_id, row.received_on,
            row.amount, factor, base)  # fmt: skip


def _compute_month(
    month: date,
    *,
    rep_ids: list[int] | None = None,
    keep: dict[int, int] | None = None,
    skip: frozenset[int] = frozenset(),
) -> dict[int, Computed]:
    """Every rep's (or `rep_ids`') statement of `month` from the documents: the reps (role
    rep: active ones, and inactive ones with collections) with a plan, or with a draft whose
    plan `keep` names ({rep: plan id}) when none applies any more; not the reps of `skip`
    (their statement is pending or approved: nothing to compute). A fixed number of queries
    whatever the number of reps."""
    keep = keep or {}
    reps = User.objects.filter(role=Role.REP).exclude(pk__in=skip)
    if rep_ids is not None:
        reps = reps.filter(pk__in=rep_ids)
    reps = dict(reps.values_list("pk", "is_active"))
    if not reps:
        return {}
    by_rep: dict[int, list[Collection]] = defaultdict(list)
    for row in _collections(month, rep_ids):
        if row.owner_id in reps:
            by_rep[row.owner_id].append(row)
    candidates = [pk for pk, active in reps.items() if active or pk in by_rep]
    if not candidates:
        return {}
    scoped = rep_ids is not None
    units = _units_at(month_end(month), candidates if scoped else None)
    targets = _targets(month, candidates if scoped else None)
    plans = _plans_valid_in(month)
    eligible = set(candidates)
    kept_ids = {plan_id for rep, plan_id in keep.items() if rep in eligible}
    kept = {r.plan.pk: r for r in plans if r.plan.pk in kept_ids}
    missing = kept_ids - set(kept)
    if missing:
        kept |= {plan.pk: PlanRules.of(plan) for plan in _plans_q().filter(pk__in=missing)}
    chosen: dict[int, PlanRules] = {}
    for rep in candidates:
        unit = units.get(rep)
        rules = _plan_for(unit[1] if unit else None, plans)
        if rules is None and rep in keep:
            rules = kept.get(keep[rep])
        if rules is not None:
            chosen[rep] = rules
    mix = {}
    if any(r.line_factors for r in chosen.values()):
        mix = _product_mix({row.contract_id for rep in chosen for row in by_rep.get(rep, [])})
    result = {}
    for rep, rules in chosen.items():
        lines = [_line(rules, row, mix) for row in by_rep.get(rep, [])]
        collected = sum((line[4] for line in lines), ZERO)
        base = sum((line[6] for line in lines), ZERO)
        earnings = commission_for(
            base=base, tiers=rules.tiers, target=targets.get(rep),
            accelerator_rate=rules.plan.accelerator_rate,
        )  # fmt: skip
        unit = units.get(rep)
        result[rep] = Computed(
            rep_id=rep, month=month, rules=rules, org_unit_id=unit[0] if unit else None,
            collected=collected, base=base, earnings=earnings, lines=lines,
        )  # fmt: skip
    return result


# --- writing the drafts ------------------------------------------------------------------------

_FIGURES = (
    "plan_id", "org_unit_id", "collected", "base", "target", "tier_amount",
    "accelerator_amount", "earned", "adjustments", "payable",
)  # fmt: skip


def _figures(computed: Computed, adjustments: Decimal) -> dict[str, Any]:
    earned = computed.earnings.earned
    return {
        "plan_id": computed.rules.plan.pk,
        "org_unit_id": computed.org_unit_id,
        "collected": computed.collected,
        "base": computed.base,
        "target": computed.earnings.target,
        "tier_amount": computed.earnings.tier_amount,
        "accelerator_amount": computed.earnings.accelerator_amount,
        "earned": earned,
        "adjustments": adjustments,
        "payable": earned + adjustments,
    }


def _adjustment_sums(statement_ids: list[int]) -> dict[int, Decimal]:
    return dict(
        CommissionAdjustment.objects.filter(statement_id__in=statement_ids)
        .values("statement_id")
        .annotate(total=Sum("amount"))
        .values_list("statement_id", "total")
    )


_INSERT_LINES = """
    INSERT INTO incentives_commissionline
           (statement_id, allocation_id, installment_id, contract_id, received_on, amount,
            factor, base)
    SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::date[],
                         %s::numeric[], %s::numeric[], %s::numeric[])
"""
_UPDATE_FIGURES = """
    UPDATE incentives_commissionstatement s
       SET plan_id = v.plan_id, org_unit_id = v.org_unit_id, collected = v.collected,
           base = v.base, target = v.target, tier_amount = v.tier_amount,
           accelerator_amount = v.accelerator_amount, earned = v.earned,
           adjustments = v.adjustments, payable = v.payable, computed_at = %s, updated_at = %s
      FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::numeric[], %s::numeric[],
                  %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[],
                  %s::numeric[])
           AS v(id, plan_id, org_unit_id, collected, base, target, tier_amount,
                accelerator_amount, earned, adjustments, payable)
     WHERE s.id = v.id AND s.status = 'draft'
"""


def _sync_drafts(
    drafts: list[CommissionStatement],
    computed: dict[int, Computed],
    now,
    *,
    created: frozenset[int] = frozenset(),
) -> set[int]:
    """Bring `drafts` (locked) in line with `computed`: figures, adjustments and lines; only
    what changed is written (two statements for the lines, one for the figures, whatever the
    number of reps). `created`: statements made in this run with their figures (only their
    lines are written, and their figures if adjustments were booked on them since). Returns
    the ids of the statements whose figures or lines changed."""
    drafts = [d for d in drafts if d.rep_id in computed]
    if not drafts:
        return set()
    ids = [d.pk for d in drafts]
    sums = _adjustment_sums(ids)
    existing: dict[int, set] = defaultdict(set)
    old = [pk for pk in ids if pk not in created]
    if old:
        for statement_id, *values in CommissionLine.objects.filter(
            statement_id__in=old
        ).values_list(
            "statement_id", "allocation_id", "installment_id", "contract_id", "received_on",
            "amount", "factor", "base",
        ):  # fmt: skip
            existing[statement_id].add(tuple(values))
    changed: set[int] = set()
    replaced: list[int] = []
    rows: list[tuple] = []  # the new lines, as (statement, *LineValues)
    figures_rows: list[tuple] = []
    for draft in drafts:
        calc = computed[draft.rep_id]
        figures = _figures(calc, sums.get(draft.pk, ZERO))
        lines_changed = set(calc.lines) != existing.get(draft.pk, set())
        figures_changed = any(getattr(draft, name) != value for name, value in figures.items())
        if lines_changed:
            if draft.pk not in created:
                replaced.append(draft.pk)
            rows += [(draft.pk, *line) for line in calc.lines]
        if figures_changed or (lines_changed and draft.pk not in created):
            for name, value in figures.items():
                setattr(draft, name, value)
            draft.computed_at = draft.updated_at = now
            figures_rows.append((draft.pk, *(figures[name] for name in _FIGURES)))
        if lines_changed or figures_changed:
            changed.add(draft.pk)
    with connection.cursor() as cursor:
        if replaced:
            cursor.execute(
                "DELETE FROM incentives_commissionline WHERE statement_id = ANY(%s)", [replaced]
            )
        if rows:
            cursor.execute(_INSERT_LINES, [list(column) for column in zip(*rows, strict=True)])
        if figures_rows:
            columns = [list(column) for column in zip(*figures_rows, strict=True)]
            cursor.execute(_UPDATE_FIGURES, [now, now, *columns])
    return changed


def _create_missing(
    month: date, computed: dict[int, Computed], existing: set[int], now
) -> list[CommissionStatement]:
    """New DRAFT statements for the reps with a plan and none for the month yet (their lines
    are written by `_sync_drafts`)."""
    new = [
        CommissionStatement(
            rep_id=rep,
            month=month,
            status=StatementStatus.DRAFT,
            computed_at=now,
            **_figures(calc, ZERO),
        )
        for rep, calc in sorted(computed.items())
        if rep not in existing
    ]
    return CommissionStatement.objects.bulk_create(new, batch_size=500)


# --- closed months: adjustments --------------------------------------------------------------

# The lines of approved statements of %(lo)s … %(hi)s that no longer count: the allocation or
# its payment was reversed (冲销), or (with the plan's clawback) the installment was written off
# (坏账). Driven by those exceptions (few, whatever the size of the books), not by the lines.
_REMOVED = """
    WITH gone AS MATERIALIZED (
        SELECT a.id FROM receivables_allocation a WHERE a.reversed_at IS NOT NULL
         UNION
        SELECT a.id FROM receivables_payment p JOIN receivables_allocation a ON a.payment_id = p.id
         WHERE p.status = 'reversed'
    ), written AS MATERIALIZED (
        SELECT i.id FROM receivables_installment i WHERE i.status = 'written_off'
    )
    SELECT s.id, l.allocation_id, l.installment_id, l.amount, l.base, true
      FROM gone g
      JOIN incentives_commissionline l ON l.allocation_id = g.id
      JOIN incentives_commissionstatement s ON s.id = l.statement_id
     WHERE s.status = 'approved' AND s.month BETWEEN %(lo)s AND %(hi)s
     UNION ALL
    SELECT s.id, l.allocation_id, l.installment_id, l.amount, l.base, false
      FROM written w
      JOIN incentives_commissionline l ON l.installment_id = w.id
      JOIN incentives_commissionstatement s ON s.id = l.statement_id
      JOIN incentives_commissionplan pl ON pl.id = s.plan_id
     WHERE s.status = 'approved' AND s.month BETWEEN %(lo)s AND %(hi)s
       AND pl.clawback_on_write_off AND l.base <> 0
       AND l.allocation_id NOT IN (SELECT id FROM gone)
"""
# The collections of the approved statements %(statements)s's months that are on no approved
# statement (allocated after the statement was computed): the rep's installments, their live
# allocations of payments received in the month.
_ADDED = """
    SELECT s.id, i.owner_id, a.id, a.installment_id, i.contract_id, p.received_on, a.amount,
           i.status = 'written_off', cu.tier
      FROM incentives_commissionstatement s
      JOIN receivables_installment i ON i.owner_id = s.rep_id
      JOIN receivables_allocation a ON a.installment_id = i.id AND a.reversed_at IS NULL
      JOIN receivables_payment p ON p.id = a.payment_id AND p.status <> 'reversed'
       AND p.received_on >= s.month
       AND p.received_on < (s.month + interval '1 month')::date
      JOIN customers_customer cu ON cu.id = i.customer_id
     WHERE s.id = ANY(%(statements)s)
       AND NOT EXISTS (
            SELECT 1 FROM incentives_commissionline l
              JOIN incentives_commissionstatement o ON o.id = l.statement_id
             WHERE l.allocation_id = a.id AND o.status = 'approved')
"""


@dataclass
class _Reopened:
    """An approved statement whose month now earns differently."""

    statement: CommissionStatement
    removed_base: Decimal = ZERO
    added_base: Decimal = ZERO
    reversed: set[int] = field(default_factory=set)
    written_off: set[int] = field(default_factory=set)
    added: set[int] = field(default_factory=set)


def _detail_ids(detail: dict, key: str) -> set[int]:
    return {int(pk) for pk in (detail or {}).get(key, [])}


def _reason(reversed_ids, written_off_ids, added_ids, dropped_ids) -> str:
    parts = []
    if reversed_ids:
        parts.append(
            _("reversed since the approval: allocations %(ids)s")
            % {"ids": ", ".join(f"#{pk}" for pk in sorted(reversed_ids))}
        )
    if written_off_ids:
        parts.append(
            _("written off since the approval: installments %(ids)s")
            % {"ids": ", ".join(f"#{pk}" for pk in sorted(written_off_ids))}
        )
    if added_ids:
        parts.append(
            _("allocated after the approval: allocations %(ids)s")
            % {"ids": ", ".join(f"#{pk}" for pk in sorted(added_ids))}
        )
    if dropped_ids:
        parts.append(
            _("no longer collected: allocations %(ids)s")
            % {"ids": ", ".join(f"#{pk}" for pk in sorted(dropped_ids))}
        )
    if not parts:
        return _("Recomputed after the approval.")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _book_adjustments(lo: date, hi: date) -> tuple[int, int]:
    """Book what each approved month of [lo, hi] should earn now minus what it earned and was
    adjusted by already, on the rep's earliest draft after that month. Returns (booked,
    deferred: no draft to book on yet)."""
    approved = {
        pk: (rep_id, month, collected)
        for pk, rep_id, month, collected in CommissionStatement.objects.filter(
            status=StatementStatus.APPROVED, month__range=(lo, hi)
        ).values_list("pk", "rep_id", "month", "collected")
    }
    if not approved:
        return 0, 0
    with connection.cursor() as cursor:
        cursor.execute(_REMOVED, {"lo": lo, "hi": hi})
        removed = cursor.fetchall()
    reversed_amount: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for statement_id, _allocation, _installment, amount, _base, was_reversed in removed:
        if was_reversed:
            reversed_amount[statement_id] += amount
    # Which closed months gained collections since: the rep's collected amount of the month
    # now (the goals' actual, read from its monthly rollup) against the statement's less what
    # was reversed since; only those are searched for the allocations added.
    reps = sorted({rep for rep, _m, _c in approved.values()})
    now_collected = actuals.compute_monthly(Metric.COLLECTED, lo, month_end(hi), owner_ids=reps)
    candidates = [
        pk
        for pk, (rep, month, collected) in approved.items()
        if now_collected[month].rep(rep) != collected - reversed_amount[pk]
    ]
    added = []
    if candidates:
        with connection.cursor() as cursor:
            cursor.execute(_ADDED, {"statements": candidates})
            added = cursor.fetchall()
    booked_rows = list(
        CommissionAdjustment.objects.filter(source_month__range=(lo, hi)).values_list(
            "statement__rep_id", "source_month", "amount", "detail"
        )
    )
    booked: dict[tuple[int, date], Decimal] = defaultdict(lambda: ZERO)
    named: dict[tuple[int, date], dict[str, set[int]]] = defaultdict(
        lambda: {"allocations": set(), "installments": set(), "added": set()}
    )
    for rep_id, month, amount, detail in booked_rows:
        booked[(rep_id, month)] += amount
        for key in ("allocations", "installments", "added"):
            named[(rep_id, month)][key] |= _detail_ids(detail, key)
    ids = {row[0] for row in removed} | {row[0] for row in added}
    ids |= {pk for pk, (rep, month, _c) in approved.items() if (rep, month) in booked}
    reopened: dict[int, _Reopened] = {
        statement.pk: _Reopened(statement)
        for statement in CommissionStatement.objects.filter(pk__in=ids).select_related("plan")
    }
    for statement_id, allocation_id, installment_id, _amount, base, was_reversed in removed:
        entry = reopened[statement_id]
        entry.removed_base += base
        if not base:
            continue  # no money at stake (written off before the approval, or a factor of 0)
        if was_reversed:
            entry.reversed.add(allocation_id)
        else:
            entry.written_off.add(installment_id)
    if added:
        plans = {e.statement.plan_id for e in reopened.values()}
        rules = {p.pk: PlanRules.of(p) for p in _plans_q().filter(pk__in=plans)}
        mix = {}
        if any(r.line_factors for r in rules.values()):
            mix = _product_mix({row[4] for row in added})
        for statement_id, *values in added:
            entry = reopened[statement_id]
            line = _line(rules[entry.statement.plan_id], Collection(*values), mix)
            entry.added_base += line[6]
            entry.added.add(line[0])
    plans_tiers: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for plan_id, lower, rate in CommissionTier.objects.filter(
        plan_id__in={e.statement.plan_id for e in reopened.values()}
    ).values_list("plan_id", "from_amount", "rate"):
        plans_tiers[plan_id].append((lower, rate))
    changes = []
    for entry in reopened.values():
        statement = entry.statement
        key = (statement.rep_id, statement.month)
        now_earns = commission_for(
            base=statement.base - entry.removed_base + entry.added_base,
            tiers=plans_tiers[statement.plan_id], target=statement.target,
            accelerator_rate=statement.plan.accelerator_rate,
        ).earned  # fmt: skip
        difference = now_earns - statement.earned - booked[key]
        if difference:
            changes.append((statement, entry, difference, named[key]))
    if not changes:
        return 0, 0
    reps = {statement.rep_id for statement, *_rest in changes}
    drafts: dict[int, list[CommissionStatement]] = defaultdict(list)
    for draft in (
        CommissionStatement.objects.select_for_update()
        .filter(rep_id__in=reps, status=StatementStatus.DRAFT)
        .order_by("month")
    ):
        drafts[draft.rep_id].append(draft)
    new = []
    deferred = 0
    for statement, entry, difference, already in changes:
        carrier = next((d for d in drafts[statement.rep_id] if d.month > statement.month), None)
        if carrier is None:
            deferred += 1
            continue
        dropped = already["added"] - entry.added
        reversed_ids = (entry.reversed - already["allocations"]) | dropped
        written_off_ids = entry.written_off - already["installments"]
        added_ids = entry.added - already["added"]
        new.append(
            CommissionAdjustment(
                statement=carrier,
                source_month=statement.month,
                amount=difference,
                reason=_reason(
                    entry.reversed - already["allocations"], written_off_ids, added_ids, dropped
                ),
                detail={
                    "allocations": sorted(reversed_ids),
                    "installments": sorted(written_off_ids),
                    "added": sorted(added_ids),
                    "statement": statement.pk,
                },
            )
        )
    CommissionAdjustment.objects.bulk_create(new)
    return len(new), deferred


# --- the job ---------------------------------------------------------------------------------


def statements_compute_due(*, today: date) -> dict[str, int]:
    """The nightly job (see the module docstring): this month's and last month's statements of
    every rep with a plan and every draft of the last twelve months recomputed, the closed
    months' adjustments booked. Idempotent; serialised between workers by an advisory lock."""
    this = month_of(today)
    last = add_months(this, -1)
    window = add_months(this, -LOOKBACK_MONTHS)
    result = {"months": 0, "created": 0, "updated": 0, "unchanged": 0, "left_alone": 0,
              "adjustments": 0, "deferred": 0}  # fmt: skip
    with history_context(job=JOB), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_JOB_LOCK])
        now = timezone.now()
        draft_months = set(
            CommissionStatement.objects.filter(
                status=StatementStatus.DRAFT, month__range=(window, this)
            )
            .values_list("month", flat=True)
            .distinct()
        )
        months = sorted({last, this} | draft_months)
        work: list[tuple[date, list[CommissionStatement], dict[int, Computed]]] = []
        created_ids: set[int] = set()
        for month in months:
            statements = list(
                CommissionStatement.objects.select_for_update().filter(month=month).order_by("id")
            )
            drafts = [s for s in statements if s.status == StatementStatus.DRAFT]
            result["left_alone"] += len(statements) - len(drafts)
            keep = {s.rep_id: s.plan_id for s in drafts}
            closed = frozenset(s.rep_id for s in statements if s.status != StatementStatus.DRAFT)
            every_rep = month in (last, this)
            computed = _compute_month(
                month, rep_ids=None if every_rep else list(keep), keep=keep, skip=closed
            )
            if every_rep:
                created = _create_missing(month, computed, {s.rep_id for s in statements}, now)
                created_ids |= {s.pk for s in created}
                drafts += created
            work.append((month, drafts, computed))
        result["adjustments"], result["deferred"] = _book_adjustments(window, last)
        for _month, drafts, computed in work:
            changed = _sync_drafts(drafts, computed, now, created=frozenset(created_ids))
            old = [d for d in drafts if d.pk not in created_ids and d.rep_id in computed]
            result["updated"] += sum(1 for d in old if d.pk in changed)
            result["unchanged"] += sum(1 for d in old if d.pk not in changed)
        result["created"] = len(created_ids)
        result["months"] = len(months)
    return result


def _recompute(statement: CommissionStatement) -> None:
    """Recompute one locked DRAFT statement from the documents now."""
    computed = _compute_month(
        statement.month, rep_ids=[statement.rep_id], keep={statement.rep_id: statement.plan_id}
    )
    _sync_drafts([statement], computed, timezone.now())


@transaction.atomic
def statement_recompute(*, statement: CommissionStatement) -> CommissionStatement:
    """Recompute one DRAFT statement from the documents now (a pending or approved one is
    left as it is)."""
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status == StatementStatus.DRAFT:
        _recompute(statement)
    return statement


# --- who may do what ---------------------------------------------------------------------------


def _heads_rep(user: Any, statement: CommissionStatement) -> bool:
    """`user` heads the rep's unit at the month's end or now, or a unit above either."""
    paths = headed_paths(user)
    if not paths:
        return False
    units = []
    if statement.org_unit_id:
        units.append(statement.org_unit.path)
    rep_unit = statement.rep.org_unit if statement.rep.org_unit_id else None
    if rep_unit is not None:
        units.append(rep_unit.path)
    return any(unit.startswith(path) for unit in units for path in paths)


def can_submit_statement(user: Any, statement: CommissionStatement) -> bool:
    """The rep's supervisor (a head of the rep's unit or above, never the rep)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.pk == statement.rep_id:
        return False
    return _heads_rep(user, statement)


def can_manage_plans(user: Any) -> bool:
    """Admins and finance define the commission plans."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return user.is_superuser or user.role in (Role.ADMIN, Role.FINANCE)


def can_export_payroll(user: Any) -> bool:
    """Finance and admins export the approved statements for payroll."""
    return can_manage_plans(user)


def submittable_now(statement: CommissionStatement, today: date | None = None) -> bool:
    return statement.status == StatementStatus.DRAFT and month_ended(statement.month, today)


def _assert_submittable(statement: CommissionStatement) -> None:
    if statement.status != StatementStatus.DRAFT:
        raise Conflict(
            _("The statement is %(status)s: only a draft can be submitted.")
            % {"status": statement.get_status_display()},
            code="not_draft",
        )
    if not month_ended(statement.month):
        raise Conflict(
            _("The month %(month)s has not ended yet: submit its statement from the 1st of the "
              "next month.") % {"month": month_label(statement.month)},
            code="month_not_ended",
        )  # fmt: skip


# --- the supervisor's and the manager's actions --------------------------------------------


@transaction.atomic
def statement_submit(
    *, statement: CommissionStatement, by: User, comment: str = ""
) -> ApprovalRequest:
    """The supervisor submits a draft of an ended month to the manager (or resubmits it after
    a return). Its figures are recomputed from the documents first (`on_statement_submitted`)."""
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    if not can_submit_statement(by, statement):
        raise PermissionDenied(_("Only the rep's supervisor can submit this statement."))
    _assert_submittable(statement)
    return approval_submit(document=statement, by=by, comment=comment)


@dataclass
class TeamSubmission:
    submitted: list[CommissionStatement] = field(default_factory=list)
    refused: list[tuple[CommissionStatement, str]] = field(default_factory=list)


@transaction.atomic
def statements_submit_team(
    *, by: User, month: date, unit: OrgUnit | None = None, comment: str = ""
) -> TeamSubmission:
    """Submit every draft of `month` that `by` may submit (of `unit` and below, when given),
    one approval each; a statement refused (e.g. nobody to approve it) is reported and the
    others go on."""
    if not headed_paths(by):
        raise PermissionDenied(
            _("Only a supervisor or manager can submit their team's statements.")
        )
    if not month_ended(month):
        raise Conflict(
            _("The month %(month)s has not ended yet: submit its statements from the 1st of the "
              "next month.") % {"month": month_label(month)},
            code="month_not_ended",
        )  # fmt: skip
    drafts = (
        CommissionStatement.objects.visible_to(by)
        .filter(month=month, status=StatementStatus.DRAFT)
        .select_related("rep__org_unit", "org_unit")
        .order_by("org_unit__path", "rep__username", "id")
    )
    if unit is not None:
        drafts = drafts.filter(
            Q(org_unit__path__startswith=unit.path) | Q(rep__org_unit__path__startswith=unit.path)
        )
    result = TeamSubmission()
    for statement in drafts:
        if not can_submit_statement(by, statement):
            continue
        try:
            with transaction.atomic():
                approval_submit(document=statement, by=by, comment=comment)
        except (Conflict, ValidationError, PermissionDenied) as exc:
            message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            result.refused.append((statement, message))
        else:
            result.submitted.append(statement)
    return result


# --- approval callbacks (registered in IncentivesConfig.ready) --------------------------------


def approval_title(statement: CommissionStatement) -> str:
    return _("Commission statement %(month)s · %(rep)s") % {
        "month": month_label(statement.month),
        "rep": statement.rep.display_name,
    }


def on_statement_submitted(statement: CommissionStatement, request: ApprovalRequest) -> None:
    """Refuse (rolling the submission back) what is not a draft of an ended month; else the
    figures are recomputed from the documents now and the statement is pending, the request
    carrying the recomputed payable."""
    _assert_submittable(statement)
    _recompute(statement)
    statement.submit()
    statement.save()
    if request.amount != statement.payable:
        request.amount = statement.payable
        request.save(update_fields=["amount", "updated_at"])


def on_statement_approved(statement: CommissionStatement, request: ApprovalRequest) -> None:
    """Closed: it never changes again. The rep is told after the commit."""
    statement.approve()
    statement.approved_at = timezone.now()
    statement.save()
    rep = User.objects.get(pk=statement.rep_id)
    title = _("Your commission for %(month)s is approved: %(amount)s payable") % {
        "month": month_label(statement.month),
        "amount": f"{statement.payable:,.2f}",
    }
    url = statement.get_absolute_url()
    transaction.on_commit(
        lambda: notify(recipients=[rep], kind=NotificationKind.ASSESSMENT, title=title, url=url)
    )


def on_statement_returned(statement: CommissionStatement, request: ApprovalRequest) -> None:
    """Returned (or withdrawn): a draft again, with the comment; the job recomputes it."""
    approval_return_to_draft(statement, request)


# --- the payroll export ------------------------------------------------------------------------


@dataclass
class PayrollExport:
    content: bytes
    filename: str
    count: int


@transaction.atomic
def statements_export_payroll(*, by: User, month: date) -> PayrollExport:
    """The approved statements of `month` as an Excel file for payroll (sheet 1: a row per
    rep; 2: the lines; 3: the adjustments), stamped exported at/by. Finance and admins."""
    from . import exports_commissions

    if not can_export_payroll(by):
        raise PermissionDenied(_("Only finance can export commissions for payroll."))
    statements = list(
        CommissionStatement.objects.select_for_update(of=("self",))
        .filter(month=month, status=StatementStatus.APPROVED)
        .select_related("rep", "org_unit")
        .order_by("org_unit__path", "rep__username", "id")
    )
    if not statements:
        raise Conflict(
            _("No approved commission statement for %(month)s to export.")
            % {"month": month_label(month)},
            code="nothing_to_export",
        )
    ids = [s.pk for s in statements]
    lines = (
        CommissionLine.objects.filter(statement_id__in=ids)
        .select_related("allocation", "contract", "installment")
        .order_by("statement_id", "received_on", "id")
    )
    adjustments = CommissionAdjustment.objects.filter(statement_id__in=ids).order_by(
        "statement_id", "source_month", "id"
    )
    content = exports_commissions.payroll_workbook(
        month=month, statements=statements, lines=lines, adjustments=adjustments
    )
    now = timezone.now()
    CommissionStatement.objects.filter(pk__in=ids).update(
        exported_at=now, exported_by=by, updated_at=now
    )
    return PayrollExport(content, f"commissions-{month:%Y-%m}.xlsx", len(statements))


# --- plans -----------------------------------------------------------------------------------


@dataclass
class TierSpec:
    from_amount: Decimal
    rate: Decimal  # a fraction: 0.015 is 1.5 %


@dataclass
class FactorSpec:
    kind: str
    value: str
    factor: Decimal


@dataclass
class PlanData:
    """What a plan is made of (the form and the API build it)."""

    name: str
    valid_from: date | None
    valid_to: date | None = None
    units: list[OrgUnit] = field(default_factory=list)
    accelerator_rate: Decimal = ZERO
    clawback_on_write_off: bool = True
    notes: str = ""
    tiers: list[TierSpec] = field(default_factory=list)
    factors: list[FactorSpec] = field(default_factory=list)


MAX_BASE = Decimal("99999999999999.99")


def _places(value: Decimal, places: int) -> bool:
    return value == value.quantize(Decimal(1).scaleb(-places))


def _validate_plan(data: PlanData, plan: CommissionPlan | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    if not (data.name or "").strip():
        errors["name"].append(_("Give the plan a name."))
    if data.valid_from is None:
        errors["valid_from"].append(_("Give the first day the plan applies."))
    elif data.valid_to is not None and data.valid_to < data.valid_from:
        errors["valid_to"].append(_("The plan cannot end before it starts."))
    rate = data.accelerator_rate
    if rate is None or not rate.is_finite() or rate < 0 or rate > 1 or not _places(rate, 4):
        errors["accelerator_rate"].append(
            _(
                "The extra rate above target is a percentage between 0 and 100 with at most two "
                "decimals."
            )
        )
    tiers = data.tiers
    if not tiers:
        errors["tiers"].append(_("Give at least one tier, starting at 0."))
    else:
        amounts = [t.from_amount for t in tiers]
        if any(a is None or not a.is_finite() or a < 0 or not _places(a, 2) for a in amounts):
            errors["tiers"].append(_("A tier starts at an amount of 0 or more, to the cent."))
        elif amounts[0] != 0:
            errors["tiers"].append(_("The first tier starts at 0."))
        elif any(b <= a for a, b in pairwise(amounts)):
            errors["tiers"].append(_("Each tier starts above the one before it."))
        elif amounts[-1] > MAX_BASE:
            errors["tiers"].append(_("A tier starts at an amount too large."))
        rates = [t.rate for t in tiers]
        if any(r is None or not r.is_finite() or r < 0 or r > 1 or not _places(r, 4)
               for r in rates):  # fmt: skip
            errors["tiers"].append(
                _("A tier's rate is a percentage between 0 and 100 with at most two decimals.")
            )
    seen = set()
    for factor in data.factors:
        if factor.kind not in FactorKind.values:
            errors["factors"].append(_("A factor applies to a product line or a customer tier."))
            continue
        value = (factor.value or "").strip()
        if not value:
            errors["factors"].append(_("Name the product line or customer tier of each factor."))
        elif (factor.kind, value) in seen:
            errors["factors"].append(_("“%(value)s” has two factors: keep one.") % {"value": value})
        seen.add((factor.kind, value))
        f = factor.factor
        if f is None or not f.is_finite() or f < 0 or f >= 100 or not _places(f, 4):
            errors["factors"].append(
                _("A factor is a number from 0 to 99.9999 with at most four decimals.")
            )
    if plan is not None and plan.statements.exists():
        old_tiers = sorted((t.from_amount, t.rate) for t in plan.tiers.all())
        if not errors.get("tiers") and old_tiers != sorted((t.from_amount, t.rate) for t in tiers):
            errors["tiers"].append(
                _(
                    "This plan already has statements, so its tiers cannot change: make a new "
                    "plan (and end this one) instead."
                )
            )
        if not errors.get("accelerator_rate") and plan.accelerator_rate != rate:
            errors["accelerator_rate"].append(
                _(
                    "This plan already has statements, so its extra rate above target cannot "
                    "change: make a new plan instead."
                )
            )
        if plan.clawback_on_write_off != data.clawback_on_write_off:
            errors["clawback_on_write_off"].append(
                _(
                    "This plan already has statements, so its clawback rule cannot change: make "
                    "a new plan instead."
                )
            )
    return errors


def _overlapping(data: PlanData, plan: CommissionPlan | None) -> CommissionPlan | None:
    """An active plan for one of the same units (or, without units, another plan for every
    rep) whose validity overlaps. The active plans are locked so that two people saving at
    once cannot both pass the check."""
    others = list(
        CommissionPlan.objects.select_for_update()
        .filter(is_active=True)
        .exclude(pk=plan.pk if plan else None)
        .prefetch_related("units")
        .order_by("id")
    )
    units = {u.pk for u in data.units}
    for other in others:
        other_units = {u.pk for u in other.units.all()}
        same_scope = (units & other_units) if units else not other_units
        if not same_scope:
            continue
        starts_before_other_ends = other.valid_to is None or data.valid_from <= other.valid_to
        ends_after_other_starts = data.valid_to is None or data.valid_to >= other.valid_from
        if starts_before_other_ends and ends_after_other_starts:
            return other
    return None


def _check(data: PlanData, plan: CommissionPlan | None, *, active: bool) -> None:
    errors = _validate_plan(data, plan)
    if not errors and active:
        other = _overlapping(data, plan)
        if other is not None:
            field_name = "units" if data.units else "valid_from"
            errors[field_name].append(
                _("The active plan “%(plan)s” already applies to the same units at the same "
                  "time: end it first or choose other dates or units.") % {"plan": other.name}
            )  # fmt: skip
    if errors:
        raise ValidationError(dict(errors))


def _write_rules(plan: CommissionPlan, data: PlanData) -> None:
    plan.units.set(data.units)
    current = sorted((t.from_amount, t.rate) for t in plan.tiers.all())
    wanted = sorted((t.from_amount, t.rate) for t in data.tiers)
    if current != wanted:
        CommissionTier.objects.filter(plan=plan).delete()
        CommissionTier.objects.bulk_create(
            CommissionTier(plan=plan, from_amount=a, rate=r) for a, r in wanted
        )
    CommissionFactor.objects.filter(plan=plan).delete()
    CommissionFactor.objects.bulk_create(
        CommissionFactor(plan=plan, kind=f.kind, value=f.value.strip(), factor=f.factor)
        for f in data.factors
    )


@transaction.atomic
def plan_create(*, by: User, data: PlanData) -> CommissionPlan:
    """A new commission plan (admins and finance): validity, units, tiers, factors,
    accelerator, clawback. Overlapping an active plan of the same units is refused."""
    if not can_manage_plans(by):
        raise PermissionDenied(_("Only an administrator or finance can set commission plans."))
    _check(data, None, active=True)
    plan = CommissionPlan.objects.create(
        name=data.name.strip(), valid_from=data.valid_from, valid_to=data.valid_to,
        accelerator_rate=data.accelerator_rate,
        clawback_on_write_off=data.clawback_on_write_off, notes=data.notes or "",
        created_by=by,
    )  # fmt: skip
    _write_rules(plan, data)
    return plan


@transaction.atomic
def plan_update(*, plan: CommissionPlan, by: User, data: PlanData) -> CommissionPlan:
    """Change a plan. Once it has statements its tiers, accelerator and clawback are fixed
    (the closed months are recomputed with them): a new plan is made instead."""
    if not can_manage_plans(by):
        raise PermissionDenied(_("Only an administrator or finance can change commission plans."))
    plan = CommissionPlan.objects.select_for_update().get(pk=plan.pk)
    _check(data, plan, active=plan.is_active)
    plan.name = data.name.strip()
    plan.valid_from, plan.valid_to = data.valid_from, data.valid_to
    plan.accelerator_rate = data.accelerator_rate
    plan.clawback_on_write_off = data.clawback_on_write_off
    plan.notes = data.notes or ""
    plan.save()
    _write_rules(plan, data)
    return plan


@transaction.atomic
def plan_deactivate(*, plan: CommissionPlan, by: User) -> CommissionPlan:
    """Stop a plan: no new statement is made with it (its drafts keep it while no other plan
    applies to their reps; approved statements are not touched)."""
    if not can_manage_plans(by):
        raise PermissionDenied(_("Only an administrator or finance can change commission plans."))
    plan = CommissionPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.is_active:
        raise Conflict(_("This plan is already inactive."), code="inactive")
    plan.is_active = False
    plan.save()
    return plan


def plan_data_of(plan: CommissionPlan) -> PlanData:
    """A plan's current data (the API's partial update starts from it)."""
    return PlanData(
        name=plan.name, valid_from=plan.valid_from, valid_to=plan.valid_to,
        units=list(plan.units.all()), accelerator_rate=plan.accelerator_rate,
        clawback_on_write_off=plan.clawback_on_write_off, notes=plan.notes,
        tiers=[TierSpec(t.from_amount, t.rate) for t in plan.tiers.all()],
        factors=[FactorSpec(f.kind, f.value, f.factor) for f in plan.factors.all()],
    )  # fmt: skip
