"""KPI metric calculators (绩效考核指标): the figures a scorecard line measures, for every person
assessed in a period at once — a few grouped queries per metric, never a query per person.

Each calculator answers, per person, a **numerator**, a **denominator** and a **value** (a
`Measure`); the value is None when there is nothing to measure (no target, no visit, no lead
due, no survey answered …): the scorecard then leaves the line out and scales the other weights
up to 100. Percentages have one decimal, like the report pages they come from.

Whose figures: a **rep** is measured on their own documents. A **supervisor** (a person assessed
under a supervisor scheme) is measured on the unit they head and everything below it — the
highest units they head when they head several; one who heads nothing is measured on their own
documents.

The definitions (also shown on the scorecard page, "How this is computed", from `DEFINITIONS`):

- **Contract amount attainment** = signed contract amount ÷ target × 100, and **collection
  attainment** = collected amount ÷ target × 100: the actuals of `apps.goals.actuals` (the same
  numbers as the attainment report; a supervisor's are the unit's, where a document counts for
  the unit its owner was in on the document's day) against the person's live target of the
  period (`apps.goals.attainment.Targets`: a rep's targets of the period, all of them if the rep
  had one per team; a unit's own target, or the sum of its parts' when it has none). No target:
  nothing to measure.
- **New active customers**: the attainment against the new-customers target when there is one,
  else the number of new active customers itself.
- **Effective visit rate** = effective visits ÷ visits × 100 (the goals actuals of both).
- **Collection rate** (回款率) and **overdue ratio** (逾期率): `apps.receivables.figures`'s
  collection figures of the period grouped by rep (collected ÷ to collect × 100; overdue ÷ open
  at the period's last day × 100). A supervisor's: the sums of the people placed in the unit's
  subtree at the period's end, then the ratio.
- **Lead SLA compliance** = leads answered within their response SLA ÷ leads whose first response
  fell due in the period × 100 (`apps.leads.selectors.lead_sla_by_owner`), per lead owner.
- **Visit plan execution rate** = plans done ÷ plans dated in the period that were not cancelled
  × 100 (`apps.visits.figures.plan_counts`): a plan still open at the period's end counts
  against it.
- **Customer satisfaction** = the average score (1–5) of the satisfaction surveys answered in
  the period for the person's customers (the survey's rep).

For the last four a supervisor's figures are the sums over the people whose unit at the
period's end (`goals_unitmembership`) lies in the subtree, then the ratio (never an average of
ratios).

The company-wide reads need a viewer who sees everything: a job has no user, so the module reads
as `everyone()`, an unsaved administrator (scope "all") that nothing is ever saved for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.goals import actuals
from apps.goals.attainment import OrgTree, Targets, pct
from apps.goals.choices import Metric
from apps.goals.models import UnitMembership
from apps.goals.periods import Period
from apps.leads.periods import period_bounds

from .choices import KpiMetric, SurveyStatus

ZERO = Decimal("0")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Measure:
    """What one line measured for one person: the value and, for a ratio or an attainment, its
    numerator and denominator (an attainment's are the actual and the target)."""

    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None


NOTHING = Measure(None, None, None)


@dataclass(frozen=True)
class Subject:
    """A person assessed: their unit at the period's end (their team for the rank) and, for a
    supervisor, the highest units they head (whose subtrees give their figures)."""

    user_id: int
    unit_id: int | None
    headed: tuple[int, ...] = ()


DEFINITIONS: dict[str, Any] = {
    KpiMetric.CONTRACT_ATTAINMENT: _(
        "Signed contract amount ÷ the target of the period × 100. The contracts signed in the "
        "period, not terminated; a supervisor's are those of the unit."
    ),
    KpiMetric.COLLECTION_ATTAINMENT: _(
        "Collected amount ÷ the collection target of the period × 100. The allocations of the "
        "payments received in the period, not reversed."
    ),
    KpiMetric.COLLECTION_RATE: _(
        "Collected ÷ to collect × 100: the money applied in the period to installments due by "
        "its end, over what was open of them at its start."
    ),
    KpiMetric.NEW_CUSTOMERS: _(
        "Customers whose first contract was signed in the period: the attainment of the "
        "new-customers target when there is one, else their number."
    ),
    KpiMetric.EFFECTIVE_VISIT_RATE: _(
        "Effective visits ÷ visits × 100: the visits with an order, a payment, a next step or a "
        "stage move, over all the visits of the period."
    ),
    KpiMetric.PLAN_EXECUTION_RATE: _(
        "Visit plans done ÷ visit plans dated in the period and not cancelled × 100."
    ),
    KpiMetric.LEAD_SLA_COMPLIANCE: _(
        "Leads answered within their response SLA ÷ leads whose first response fell due in the "
        "period × 100."
    ),
    KpiMetric.SATISFACTION: _(
        "The average score (1–5) of the satisfaction surveys answered in the period by the "
        "customers of the person (or of the unit)."
    ),
    KpiMetric.OVERDUE_RATIO: _(
        "Overdue ÷ open receivables at the period's last day × 100. Less is better."
    ),
}

# The metrics whose value is a percentage (the others: an average score; new customers a
# percentage or a count).
PERCENT_METRICS = frozenset(KpiMetric.values) - {KpiMetric.SATISFACTION, KpiMetric.NEW_CUSTOMERS}
# Numerators and denominators in money (the others are counts).
MONEY_METRICS = frozenset(
    {
        KpiMetric.CONTRACT_ATTAINMENT,
        KpiMetric.COLLECTION_ATTAINMENT,
        KpiMetric.COLLECTION_RATE,
        KpiMetric.OVERDUE_RATIO,
    }
)


def everyone() -> User:
    """The viewer of a job's company-wide reads: an unsaved administrator (scope "all")."""
    return User(username="", role=Role.ADMIN, is_active=True)


# --- what a period computes once ----------------------------------------------------------


@dataclass
class Context:
    """The org tree, the memberships at the period's end, the targets and each source read
    once for a period, shared by the metrics that need them."""

    period: Period
    tree: OrgTree = field(init=False)
    units_at_end: dict[int, int] = field(init=False)
    _targets: Targets | None = field(default=None, init=False)
    _cache: dict[str, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.tree = OrgTree()
        self.units_at_end = units_at(self.period)

    def targets(self) -> Targets:
        if self._targets is None:
            wanted = [Metric.CONTRACT_AMOUNT, Metric.COLLECTED, Metric.NEW_CUSTOMERS]
            self._targets = Targets(self.period, wanted)
            self._targets.roll_up(self.tree)
        return self._targets

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def actuals(self, metric: str) -> actuals.Actuals:
        return self.cached(
            f"actuals:{metric}",
            lambda: actuals.compute(
                metric, self.period.start, self.period.end, units=self.tree.ancestors_map()
            ),
        )

    def members(self, headed: Iterable[int]) -> set[int]:
        """The people whose unit at the period's end lies under one of `headed`."""
        inside: set[int] = set()
        for unit_id in headed:
            unit = self.tree.get(unit_id)
            if unit is not None:
                inside |= self.tree.subtree(unit)
        return {user for user, unit in self.units_at_end.items() if unit in inside}


def units_at(period: Period) -> dict[int, int]:
    """{user id: the unit of their membership on the period's last day} (one query)."""
    day = period.end
    rows = (
        UnitMembership.objects.filter(valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .order_by("user_id", "valid_from")
        .values_list("user_id", "org_unit_id")
    )
    return dict(rows)


def top_units(ctx: Context, unit_ids: Iterable[int]) -> tuple[int, ...]:
    """The highest of `unit_ids` (a head of a team and of a unit inside it counts once)."""
    units = [ctx.tree.get(pk) for pk in unit_ids]
    units = [u for u in units if u is not None and u.is_active]
    tops = [u for u in units if not any(u is not o and u.path.startswith(o.path) for o in units)]
    return tuple(sorted(u.id for u in tops))


def subjects_of(
    ctx: Context, people: Iterable[tuple[int, int | None]], *, on_their_units: bool
) -> list[Subject]:
    """The subjects of `people` ((user id, current unit id) pairs): each in their unit at the
    period's end (else their current unit); with `on_their_units` (a supervisor scheme) measured
    on the highest units they head (one query)."""
    people = list(people)
    headed: dict[int, list[int]] = {}
    if on_their_units:
        from apps.accounts.models import OrgUnit

        wanted = {pk for pk, _unit in people}
        for unit_id, head_id in OrgUnit.objects.filter(
            head_id__in=wanted, is_active=True
        ).values_list("id", "head_id"):
            headed.setdefault(head_id, []).append(unit_id)
    return [
        Subject(
            user_id=pk,
            unit_id=ctx.units_at_end.get(pk, unit),
            headed=top_units(ctx, headed.get(pk, ())),
        )
        for pk, unit in people
    ]


# --- the calculators ----------------------------------------------------------------------


def _ratio(numerator: Decimal, denominator: Decimal) -> Measure:
    return Measure(numerator, denominator, pct(numerator, denominator))


def _attainment(ctx: Context, subjects: list[Subject], goal_metric: str) -> dict[int, Measure]:
    figures = ctx.actuals(goal_metric)
    targets = ctx.targets()
    result = {}
    for s in subjects:
        if s.headed:
            actual = sum((figures.unit(u) for u in s.headed), ZERO)
            known = [
                t for t in (targets.unit.get((goal_metric, u)) for u in s.headed) if t is not None
            ]
            target = sum(known, ZERO) if known else None
        else:
            actual = figures.rep(s.user_id)
            target = targets.of_rep(goal_metric, s.user_id, None)
        result[s.user_id] = Measure(actual, target, pct(actual, target))
    return result


def contract_attainment(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    return _attainment(ctx, subjects, Metric.CONTRACT_AMOUNT)


def collection_attainment(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    return _attainment(ctx, subjects, Metric.COLLECTED)


def new_customers(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    result = {}
    for user_id, measure in _attainment(ctx, subjects, Metric.NEW_CUSTOMERS).items():
        if measure.value is None:  # no (positive) target: the count itself
            measure = Measure(measure.numerator, None, measure.numerator)
        result[user_id] = measure
    return result


def effective_visit_rate(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    visits = ctx.actuals(Metric.VISITS)
    effective = ctx.actuals(Metric.EFFECTIVE_VISITS)
    result = {}
    for s in subjects:
        if s.headed:
            done = sum((effective.unit(u) for u in s.headed), ZERO)
            made = sum((visits.unit(u) for u in s.headed), ZERO)
        else:
            done, made = effective.rep(s.user_id), visits.rep(s.user_id)
        result[s.user_id] = _ratio(done, made)
    return result


def _per_owner(
    ctx: Context,
    subjects: list[Subject],
    sums: dict[int, tuple[Decimal, Decimal]],
    make: Callable[[Decimal, Decimal], Measure],
) -> dict[int, Measure]:
    """Per-owner (numerator, denominator) sums → a measure per subject: their own, or the
    sums of the people of the units they head."""
    result = {}
    for s in subjects:
        owners = ctx.members(s.headed) if s.headed else {s.user_id}
        numerator = sum((sums[o][0] for o in owners if o in sums), ZERO)
        denominator = sum((sums[o][1] for o in owners if o in sums), ZERO)
        result[s.user_id] = make(numerator, denominator)
    return result


def _collection_rows(ctx: Context) -> dict[int, Any]:
    from apps.receivables.figures import collection_figures

    def compute() -> dict[int, Any]:
        report = collection_figures(
            user=everyone(), start=ctx.period.start, end=ctx.period.end, group_by="rep"
        )
        return {row.key: row for row in report.rows if row.key is not None}

    return ctx.cached("collection", compute)


def collection_rate(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    rows = _collection_rows(ctx)
    sums = {owner: (row.collected, row.to_collect) for owner, row in rows.items()}
    return _per_owner(ctx, subjects, sums, _ratio)


def overdue_ratio(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    rows = _collection_rows(ctx)
    sums = {owner: (row.overdue_at_end, row.open_at_end) for owner, row in rows.items()}
    return _per_owner(ctx, subjects, sums, _ratio)


def lead_sla_compliance(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    from apps.leads.selectors import lead_sla_by_owner

    rows = lead_sla_by_owner(
        user=everyone(), period=period_bounds(ctx.period.start, ctx.period.end)
    )
    sums = {
        row.owner.pk: (Decimal(row.figures.responded_in_time), Decimal(row.figures.due))
        for row in rows
        if row.owner is not None
    }
    return _per_owner(ctx, subjects, sums, _ratio)


def plan_execution_rate(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    from apps.visits.figures import plan_counts
    from apps.visits.models import VisitPlan

    counts = plan_counts(
        VisitPlan.objects.all(), ctx.period.start, ctx.period.end + timedelta(days=1)
    )
    sums = {owner: (Decimal(row["done"]), Decimal(row["plans"])) for owner, row in counts.items()}
    return _per_owner(ctx, subjects, sums, _ratio)


def _average(total: Decimal, count: Decimal) -> Measure:
    if not count:
        return Measure(total, count, None)
    return Measure(total, count, (total / count).quantize(CENT, rounding=ROUND_HALF_UP))


def satisfaction(ctx: Context, subjects: list[Subject]) -> dict[int, Measure]:
    from .models import SatisfactionSurvey

    start_at, after = period_bounds(ctx.period.start, ctx.period.end)
    rows = (
        SatisfactionSurvey.objects.filter(
            status=SurveyStatus.ANSWERED, answered_at__gte=start_at, answered_at__lt=after
        )
        .order_by()
        .values("owner_id")
        .annotate(total=Sum("score"), answered=Count("id"))
    )
    sums = {r["owner_id"]: (Decimal(r["total"]), Decimal(r["answered"])) for r in rows}
    return _per_owner(ctx, subjects, sums, _average)


CALCULATORS: dict[str, Callable[[Context, list[Subject]], dict[int, Measure]]] = {
    KpiMetric.CONTRACT_ATTAINMENT: contract_attainment,
    KpiMetric.COLLECTION_ATTAINMENT: collection_attainment,
    KpiMetric.COLLECTION_RATE: collection_rate,
    KpiMetric.NEW_CUSTOMERS: new_customers,
    KpiMetric.EFFECTIVE_VISIT_RATE: effective_visit_rate,
    KpiMetric.PLAN_EXECUTION_RATE: plan_execution_rate,
    KpiMetric.LEAD_SLA_COMPLIANCE: lead_sla_compliance,
    KpiMetric.SATISFACTION: satisfaction,
    KpiMetric.OVERDUE_RATIO: overdue_ratio,
}


def measure(
    period: Period, subjects: list[Subject], metrics: Iterable[str], *, ctx: Context | None = None
) -> dict[str, dict[int, Measure]]:
    """{metric: {user id: Measure}} of `subjects` over `period`: each metric computed once for
    everyone (see the module docstring). A person a source says nothing about gets the empty
    measure of that source (0 of 0: no value)."""
    ctx = ctx or Context(period)
    result = {}
    for metric in metrics:
        if metric not in CALCULATORS:
            raise ValueError(f"unknown KPI metric {metric!r}")
        result[metric] = CALCULATORS[metric](ctx, subjects)
    return result
