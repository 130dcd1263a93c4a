"""Performance comparison (业绩对比) of one metric: the one source of the comparison page, its
Excel export and the report API. Four views of a node (the company, a unit or a rep, in the
caller's scope exactly as for the attainment report, `attainment.resolve_node`):

- **reps** (rep vs rep): every person whose membership was in the node's subtree during the
  period (the whole company at the company node), ranked by their actual there, with their
  targets and attainment;
- **teams** (team vs team): the node's child units (the company's top units), ranked by actual;
- **months** (month on month): the 12 months up to the period's last month, the node's actual
  per month and its month target when one is set (the target line);
- **years** (year on year): this period and the same period a year earlier for each child of
  the node (as in the attainment report), with the growth = (this − last) ÷ last × 100, and the
  node's months this year and last year for the chart.

Actuals come from `actuals` (one query per period or per 12-month series); targets from the
live targets of the periods (one query).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User

from . import actuals
from .attainment import (
    SALES_ROLES,
    ZERO,
    Cell,
    Crumb,
    Node,
    OrgTree,
    Person,
    Row,
    Viewer,
    _children,
    _Context,
    _load,
    _node_totals,
    _rep_stints,
    _unplaced,
    pct,
    rep_units,
    resolve_node,
    trail,
)
from .choices import Metric, PeriodKind, TargetStatus
from .models import Target
from .periods import Period, period_of


class View(TextChoices):
    REPS = "reps", _("Rep vs rep")
    TEAMS = "teams", _("Team vs team")
    MONTHS = "months", _("Month on month")
    YEARS = "years", _("Year on year")


@dataclass
class Line:
    kind: str  # "unit" or "rep"
    key: int | None
    name: str
    actual: Decimal
    target: Decimal | None = None
    previous: Decimal | None = None  # years: the same period last year
    rank: int = 0
    unit_id: int | None = None

    @property
    def attainment(self) -> Decimal | None:
        return pct(self.actual, self.target)

    @property
    def growth(self) -> Decimal | None:
        if self.previous is None:
            return None
        return pct(self.actual - self.previous, self.previous)


@dataclass
class Point:
    """One month of a series."""

    start: date
    actual: Decimal
    target: Decimal | None = None
    previous: Decimal | None = None  # years: the same month last year

    @property
    def attainment(self) -> Decimal | None:
        return pct(self.actual, self.target)

    @property
    def growth(self) -> Decimal | None:
        if self.previous is None:
            return None
        return pct(self.actual - self.previous, self.previous)


@dataclass
class Comparison:
    view: str
    period: Period
    metric: str
    node: Node
    lines: list[Line] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    trail: list[Crumb] = field(default_factory=list)
    previous_period: Period | None = None

    @property
    def total(self) -> Line:
        """The lines added up (the points for a series). Its target only when every line has
        one: a sum of some lines' targets against all the actuals would be no attainment."""
        items = self.lines or self.points
        targets = [i.target for i in items if i.target is not None]
        previous = [i.previous for i in items if i.previous is not None]
        return Line(
            "total", None, str(_("Total")),
            actual=sum((i.actual for i in items), ZERO),
            target=sum(targets, ZERO) if targets and len(targets) == len(items) else None,
            previous=sum(previous, ZERO) if previous else None,
        )  # fmt: skip

    @property
    def max_value(self) -> Decimal:
        values = [i.actual for i in self.lines or self.points]
        values += [i.target for i in self.lines or self.points if i.target is not None]
        values += [i.previous for i in self.lines or self.points if i.previous is not None]
        return max([*values, ZERO])


def _ranked(lines: list[Line]) -> list[Line]:
    lines.sort(key=lambda line: (-line.actual, line.name))
    for number, line in enumerate(lines, start=1):
        line.rank = number
    return lines


def _month_starts(last: date, count: int) -> list[date]:
    months = [date(last.year, last.month, 1)]
    while len(months) < count:
        previous = months[0] - timedelta(days=1)
        months.insert(0, date(previous.year, previous.month, 1))
    return months


def _node_value(figures: actuals.Actuals, node: Node, units: set[int] | None) -> Decimal:
    if node.kind == "company":
        return figures.total
    if node.kind == "unit":
        return figures.unit(node.unit.id)
    if units is None:
        return figures.rep(node.rep.pk)
    return figures.rep_in_units(node.rep.pk, units)


def _month_targets(node: Node, metric: str, months: list[date]) -> dict[date, Decimal]:
    """The node's live month targets (one query); a rep's targets of a month add up."""
    scope: dict = {"scope_kind": "company"}
    if node.kind == "unit":
        scope = {"scope_kind": "unit", "org_unit_id": node.unit.id}
    elif node.kind == "rep":
        scope = {"scope_kind": "rep", "user_id": node.rep.pk}
    found: dict[date, Decimal] = {}
    rows = (
        Target.objects.filter(
            metric=metric, period_kind=PeriodKind.MONTH, period_start__in=months, **scope
        )
        .exclude(status=TargetStatus.DRAFT)
        .values_list("period_start", "amount")
    )
    for start, amount in rows:
        found[start] = found.get(start, ZERO) + amount
    return found


def comparison(
    *,
    user: User,
    view: str,
    period: Period,
    metric: str,
    unit_id: int | None = None,
    rep_id: int | None = None,
) -> Comparison:
    """The comparison `view` of `metric` for the node of `unit_id` / `rep_id` in `period` (see
    the module docstring), in `user`'s scope: Http404 for a node outside it."""
    if view not in View.values:
        raise ValueError(f"unknown view {view!r}")
    if metric not in Metric.values:
        raise ValueError(f"unknown metric {metric!r}")
    viewer = Viewer.of(user)
    tree = OrgTree()
    node = resolve_node(viewer, tree, period, unit_id=unit_id, rep_id=rep_id)
    result = Comparison(view, period, metric, node, trail=trail(viewer, tree, node))
    if view == View.MONTHS:
        months = _month_starts(period.end, 12)
        end = period_of(PeriodKind.MONTH, period.end).end
        owner_ids = [node.rep.pk] if node.kind == "rep" else None
        series = actuals.compute_monthly(
            metric, months[0], end, owner_ids=owner_ids, units=tree.ancestors_map()
        )
        targets = _month_targets(node, metric, months)
        units = rep_units(viewer, tree, node.rep) if node.kind == "rep" else None
        result.points = [
            Point(start, _node_value(series[start], node, units), targets.get(start))
            for start in months
        ]
        return result
    if view == View.YEARS:
        return _years(result, viewer, tree)
    ctx = _load(viewer, tree, node, period, [metric])
    rows = _team_rows(ctx, node, tree) if view == View.TEAMS else _rep_rows(ctx, node, tree)
    result.lines = _ranked(
        [
            Line(
                row.kind,
                row.key,
                row.name,
                row.cells[metric].actual,
                row.cells[metric].target,
                unit_id=row.unit_id,
            )
            for row in rows
        ]
    )
    return result


def _team_rows(ctx: _Context, node: Node, tree: OrgTree) -> list[Row]:
    if node.kind == "rep":
        return _rep_stints(ctx, node.rep)
    rows = _children(ctx, tree.root if node.kind == "company" else node.unit)
    return [row for row in rows if row.kind == "unit"]


def _rep_rows(ctx: _Context, node: Node, tree: OrgTree) -> list[Row]:
    """Each person of the node's subtree during the period, all their units there added up."""
    metric = ctx.metrics[0]
    figures = ctx.figures[metric]
    if node.kind == "rep":
        totals = _node_totals(ctx, node)
        return [Row("rep", node.rep.pk, node.rep.display_name, {metric: totals[metric]})]
    inside = None if node.kind == "company" else tree.subtree(node.unit)
    people: dict[int, Person] = {}
    units_of: dict[int, set[int]] = {}
    for unit_id, person in ctx.members:
        if inside is None or unit_id in inside:
            people.setdefault(person.id, person)
            units_of.setdefault(person.id, set()).add(unit_id)
    rows = []
    for pk, person in people.items():
        mine = units_of[pk]
        if inside is None:
            actual = figures.rep(pk)
            target = ctx.targets.of_rep(metric, pk, None)
        else:
            actual = figures.rep_in_units(pk, inside)
            target = ctx.targets.of_rep(metric, pk, mine)
        row = Row("rep", pk, person.name, {metric: Cell(target, actual)})
        if person.role in SALES_ROLES or actual or target is not None:
            rows.append(row)
    if node.kind == "company":
        known = set(people)
        rows += [row for row in _unplaced(ctx) if row.key not in known]
    return rows


def _years(result: Comparison, viewer: Viewer, tree: OrgTree) -> Comparison:
    """This period and the same one a year earlier per child, and the node's months of both
    years for the chart (three queries for the actuals)."""
    period, metric, node = result.period, result.metric, result.node
    last = period.same_last_year()
    result.previous_period = last
    ctx = _load(viewer, tree, node, period, [metric])
    before = _load(viewer, tree, node, last, [metric])
    if node.kind == "rep":
        rows, old_rows = _rep_stints(ctx, node.rep), _rep_stints(before, node.rep)
    else:
        unit = tree.root if node.kind == "company" else node.unit
        rows, old_rows = _children(ctx, unit), _children(before, unit)
    previous = {(r.kind, r.key): r.cells[metric].actual for r in old_rows}
    lines = [
        Line(
            row.kind,
            row.key,
            row.name,
            row.cells[metric].actual,
            row.cells[metric].target,
            previous=previous.get((row.kind, row.key), ZERO),
            unit_id=row.unit_id,
        )
        for row in rows
    ]
    current = {(line.kind, line.key) for line in lines}
    for row in old_rows:  # a team or rep of last year that is gone this year
        if (row.kind, row.key) not in current and row.cells[metric].actual:
            lines.append(Line(row.kind, row.key, row.name, ZERO,
                              previous=row.cells[metric].actual, unit_id=row.unit_id))  # fmt: skip
    result.lines = _ranked(lines)
    # The chart: the node's months of this period's year(s), this year and last year.
    months = _month_starts(period.end, max(1, _months_between(period.start, period.end)))
    owner_ids = [node.rep.pk] if node.kind == "rep" else None
    ancestors = tree.ancestors_map()
    now = actuals.compute_monthly(metric, period.start, period.end, owner_ids=owner_ids,
                                  units=ancestors)  # fmt: skip
    then = actuals.compute_monthly(metric, last.start, last.end, owner_ids=owner_ids,
                                   units=ancestors)  # fmt: skip
    units = rep_units(viewer, tree, node.rep) if node.kind == "rep" else None
    then_values = list(then.values())
    result.points = [
        Point(
            start,
            _node_value(now[start], node, units),
            previous=_node_value(then_values[i], node, units) if i < len(then_values) else None,
        )
        for i, start in enumerate(months)
    ]
    return result


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1
