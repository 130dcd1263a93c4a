"""Target attainment (目标达成) for a period, a metric (or all five) and a node of the org tree:
the one source of the attainment page, its Excel export and the report API.

A **node** is the company, an org unit or a rep. Its **rows** are its children down the org
tree: the company's top units (the departments under the company's root unit, and the people
sitting in the root unit itself), a unit's direct child units and the people whose membership
was in that unit during the period, and for a rep the units the rep was in during the period
(two rows for a rep who moved teams mid-period).

Each row has, per metric:

- **target**: the live target (not a draft) of that metric, period and scope — the unit's
  target for a unit, the rep's target set in that unit for a rep row; a unit (or the company)
  with no target of its own for the period takes the sum of its parts' (`Targets.roll_up`);
  None when neither is set;
- **actual**: from `actuals.compute` — ONE computation per metric for the whole period, every
  row read from it (a unit includes its subunits; a rep row is what the rep did while in that
  unit, so a rep who moved counts for the old team before the move and the new one after);
- **attainment** = actual ÷ target × 100 (one decimal; None without a target or with 0);
- **gap** = target − actual (what remains; negative when exceeded; None without a target).

The node's own figures (its `totals`) are its target and its actual (the sum of its rows'
actuals). The **time elapsed** is the share of the period's days gone by today (today
included), to compare the attainment with the pace.

Scope: admins, finance and the ERP see the company and everything; a head (supervisor,
manager) the units they head and everything below, and of a rep what the rep did while in
those units; a rep only themselves. A unit or rep outside the scope is `Http404`.

Queries: the org units, the memberships of the period, the targets of the period, and one
per metric (the actuals) — whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.names import person_name
from apps.accounts.scope import Scope, headed_paths, scope_of

from . import actuals
from .choices import Metric, TargetStatus
from .models import Target, UnitMembership
from .periods import Period

ZERO = Decimal("0")
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)
# People listed as rows even with nothing done (others only when they have an actual).
SALES_ROLES = frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER})


def pct(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """part ÷ whole × 100 to one decimal; None without a whole (or a zero one)."""
    if not whole:
        return None
    return (part * HUNDRED / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def elapsed_pct(period: Period, today: date | None = None) -> Decimal:
    """The share of the period's days gone by `today` (today included), 0 to 100."""
    today = today or timezone.localdate()
    if today < period.start:
        return Decimal("0.0")
    if today > period.end:
        return Decimal("100.0")
    return pct(Decimal((today - period.start).days + 1), Decimal(period.days))


# --- the org tree and the people of a period ------------------------------------------------


@dataclass
class Unit:
    id: int
    name: str
    parent_id: int | None
    path: str
    kind: str
    is_active: bool


class OrgTree:
    """Every org unit (one query, a few hundred rows) with its children and ancestors."""

    def __init__(self) -> None:
        self.units: dict[int, Unit] = {
            row["id"]: Unit(**row)
            for row in OrgUnit.objects.order_by("path").values(
                "id", "name", "parent_id", "path", "kind", "is_active"
            )
        }
        self.children: dict[int | None, list[Unit]] = {}
        for unit in self.units.values():
            self.children.setdefault(unit.parent_id, []).append(unit)
        roots = self.children.get(None, [])
        # One root unit is the company itself: the company node stands for it.
        self.root: Unit | None = roots[0] if len(roots) == 1 else None

    def ancestors_map(self) -> dict[int, list[int]]:
        """The map `actuals.compute` needs, from the same query."""
        return {
            pk: [int(part) for part in unit.path.split(".") if part]
            for pk, unit in self.units.items()
        }

    def get(self, pk: int | None) -> Unit | None:
        return self.units.get(pk) if pk is not None else None

    def subtree(self, unit: Unit) -> set[int]:
        return {pk for pk, u in self.units.items() if u.path.startswith(unit.path)}

    def ancestors(self, unit: Unit) -> list[Unit]:
        """From the top down to `unit` itself."""
        ids = [int(part) for part in unit.path.split(".") if part]
        return [self.units[pk] for pk in ids if pk in self.units]


@dataclass
class Person:
    id: int
    name: str
    role: str


def _person(row: dict, prefix: str = "user__") -> Person:
    """A person from `values()` of users (`prefix` ""), or of rows with a user (`user__`)."""
    pk = row["user_id"] if prefix else row["id"]
    name = person_name(row[f"{prefix}first_name"] or "", row[f"{prefix}last_name"] or "")
    return Person(pk, name or row[f"{prefix}username"], row[f"{prefix}role"])


def memberships(period: Period) -> list[tuple[int, Person]]:
    """(unit id, person) of every membership that overlaps the period (one query)."""
    rows = (
        UnitMembership.objects.filter(valid_from__lte=period.end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=period.start))
        .order_by("user_id", "valid_from")
        .values(
            "org_unit_id", "user_id", "user__username", "user__first_name", "user__last_name",
            "user__role",
        )
    )  # fmt: skip
    return [(row["org_unit_id"], _person(row)) for row in rows]


# --- scope and nodes --------------------------------------------------------------------------


@dataclass
class Viewer:
    """Who looks, and what of the org tree they may see."""

    user: User
    scope: Scope
    paths: list[str]  # the paths of the units a head heads

    @classmethod
    def of(cls, user: User) -> Viewer:
        # Targets and attainment are money figures too: finance sees the whole company.
        scope = scope_of(user, money=True)
        paths = headed_paths(user) if scope is Scope.SUBTREE else []
        return cls(user, scope, paths)

    @property
    def sees_all(self) -> bool:
        return self.scope is Scope.ALL

    def sees_unit(self, unit: Unit) -> bool:
        if self.sees_all:
            return True
        return any(unit.path.startswith(path) for path in self.paths)

    def sees_company(self, tree: OrgTree) -> bool:
        return self.sees_all or (tree.root is not None and tree.root.path in self.paths)

    def allowed_units(self, tree: OrgTree) -> set[int] | None:
        """The units whose figures the viewer may see; None: all (and the docs of no unit)."""
        if self.sees_all:
            return None
        return {pk for pk, unit in tree.units.items() if self.sees_unit(unit)}

    def top_units(self, tree: OrgTree) -> list[Unit]:
        """The highest units the viewer heads (a head's starting points)."""
        tops = [u for u in tree.units.values() if u.path in self.paths]
        return [u for u in tops if not any(u.path.startswith(o.path) and u is not o for o in tops)]


@dataclass
class Node:
    """Where the report stands: the company, a unit or a rep (`unit` is then the unit the rep
    was reached from, for the breadcrumbs; the rep's figures do not depend on it)."""

    kind: str  # "company", "unit" or "rep"
    unit: Unit | None = None
    rep: User | None = None

    @property
    def key(self) -> int | None:
        if self.kind == "rep":
            return self.rep.pk
        return self.unit.id if self.unit else None

    @property
    def name(self) -> str:
        if self.kind == "rep":
            return self.rep.display_name
        if self.kind == "unit":
            return self.unit.name
        return _("Company")


def resolve_node(
    viewer: Viewer, tree: OrgTree, period: Period, *, unit_id: int | None, rep_id: int | None
) -> Node:
    """The node of the `unit` / `rep` parameters, checked against the viewer's scope (Http404
    outside it); without them the viewer's own starting point: the company for those who see
    it, else the highest unit a head heads, else the rep themselves."""
    unit = tree.get(unit_id)
    if unit_id is not None and unit is None:
        raise Http404
    if rep_id is not None:
        rep = User.objects.filter(pk=rep_id).first()
        if rep is None or not _sees_rep(viewer, tree, period, rep):
            raise Http404
        # The unit a rep is reached from: one the viewer sees (a rep: any of their own).
        if unit is not None and not (viewer.sees_unit(unit) or rep.pk == viewer.user.pk):
            raise Http404
        return Node("rep", unit=unit, rep=rep)
    if unit is not None:
        if not viewer.sees_unit(unit):
            raise Http404
        if tree.root is not None and unit.id == tree.root.id and viewer.sees_company(tree):
            return Node("company")
        return Node("unit", unit=unit)
    if viewer.sees_company(tree):
        return Node("company")
    tops = viewer.top_units(tree)
    if tops:
        return Node("unit", unit=tops[0])
    return Node("rep", rep=viewer.user)


def _sees_rep(viewer: Viewer, tree: OrgTree, period: Period, rep: User) -> bool:
    if viewer.sees_all or rep.pk == viewer.user.pk:
        return True
    if viewer.scope is not Scope.SUBTREE:
        return False
    allowed = viewer.allowed_units(tree) or set()
    if rep.org_unit_id in allowed:
        return True
    return (
        UnitMembership.objects.filter(user=rep, org_unit_id__in=allowed, valid_from__lte=period.end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=period.start))
        .exists()
    )


def rep_units(viewer: Viewer, tree: OrgTree, rep: User) -> set[int] | None:
    """The units whose part of `rep`'s figures the viewer sees (None: all of them)."""
    if viewer.sees_all or rep.pk == viewer.user.pk:
        return None
    return viewer.allowed_units(tree)


@dataclass
class Crumb:
    kind: str
    key: int | None
    name: str


def trail(viewer: Viewer, tree: OrgTree, node: Node) -> list[Crumb]:
    """Company › unit › … › rep, from the highest level the viewer may open."""
    crumbs: list[Crumb] = []
    if viewer.sees_company(tree):
        crumbs.append(Crumb("company", None, _("Company")))
    unit = node.unit
    if node.kind == "rep" and unit is None and node.rep.org_unit_id:
        unit = tree.get(node.rep.org_unit_id)
    if unit is not None:
        for ancestor in tree.ancestors(unit):
            if tree.root is not None and ancestor.id == tree.root.id and crumbs:
                continue  # the company crumb stands for the root unit
            if viewer.sees_unit(ancestor):
                crumbs.append(Crumb("unit", ancestor.id, ancestor.name))
    if node.kind == "rep":
        crumbs.append(Crumb("rep", node.rep.pk, node.rep.display_name))
    return crumbs


# --- targets ----------------------------------------------------------------------------------


class Targets:
    """The live targets of one period (one query), by scope."""

    def __init__(self, period: Period, metrics: list[str]) -> None:
        self.company: dict[str, Decimal] = {}
        self.unit: dict[tuple[str, int], Decimal] = {}
        self.rep: dict[tuple[str, int], dict[int | None, Decimal]] = {}
        rows = (
            Target.objects.filter(
                period_kind=period.kind, period_start=period.start, metric__in=metrics
            )
            .exclude(status=TargetStatus.DRAFT)
            .order_by()
            .values_list("metric", "scope_kind", "org_unit_id", "user_id", "amount")
        )
        for metric, scope_kind, unit_id, user_id, amount in rows:
            if scope_kind == "company":
                self.company[metric] = amount
            elif scope_kind == "unit":
                self.unit[(metric, unit_id)] = amount
            else:
                self.rep.setdefault((metric, user_id), {})[unit_id] = amount

    def roll_up(self, tree: OrgTree) -> None:
        """A unit (or the company) without a target of its own for the period takes the sum of
        its parts' — its child units' (their own or, in turn, their parts') and the targets of
        the reps set in it — so a team whose year was split to its reps, and each rep's year to
        months, still has a month target: what its reps must reach. Marked in `implied`."""
        self.implied: set[tuple[str, int | None]] = set()
        direct: dict[tuple[str, int], Decimal] = {}
        for (metric, _user_id), by_unit in self.rep.items():
            for unit_id, amount in by_unit.items():
                if unit_id is not None:
                    direct[(metric, unit_id)] = direct.get((metric, unit_id), ZERO) + amount
        metrics = {key[0] for key in direct} | {key[0] for key in self.unit}
        for metric in metrics:

            def total(unit: Unit, metric: str = metric) -> Decimal | None:
                own = self.unit.get((metric, unit.id))
                if own is not None:
                    return own
                parts = [total(child) for child in tree.children.get(unit.id, [])]
                parts.append(direct.get((metric, unit.id)))
                known = [p for p in parts if p is not None]
                if not known:
                    return None
                self.unit[(metric, unit.id)] = sum(known, ZERO)
                self.implied.add((metric, unit.id))
                return self.unit[(metric, unit.id)]

            tops = [total(unit) for unit in tree.children.get(None, [])]
            if metric not in self.company:
                known = [t for t in tops if t is not None]
                if known:
                    self.company[metric] = sum(known, ZERO)
                    self.implied.add((metric, None))

    def is_implied(self, metric: str, unit_id: int | None) -> bool:
        """Whether the unit's (None: the company's) target is the sum of its parts'."""
        return (metric, unit_id) in getattr(self, "implied", ())

    def of_rep_in(self, metric: str, user_id: int, unit_id: int | None) -> Decimal | None:
        """The rep's target set in that unit (or set without a unit)."""
        found = self.rep.get((metric, user_id), {})
        if unit_id in found:
            return found[unit_id]
        return found.get(None)

    def of_rep(self, metric: str, user_id: int, units: set[int] | None) -> Decimal | None:
        """All the rep's targets of the period (in `units` when given): a rep who moved may
        have one per team."""
        found = self.rep.get((metric, user_id), {})
        amounts = [a for u, a in found.items() if units is None or u is None or u in units]
        return sum(amounts, ZERO) if amounts else None


# --- the report -------------------------------------------------------------------------------


@dataclass
class Cell:
    target: Decimal | None
    actual: Decimal
    # The target is the sum of the parts' targets (the unit has none of its own).
    implied: bool = False

    @property
    def attainment(self) -> Decimal | None:
        return pct(self.actual, self.target)

    @property
    def gap(self) -> Decimal | None:
        return None if self.target is None else self.target - self.actual


@dataclass
class Row:
    kind: str  # "unit" or "rep" (a rep node's rows are "unit": the units the rep was in)
    key: int | None
    name: str
    cells: dict[str, Cell] = field(default_factory=dict)
    # A rep row's unit (the unit it is listed under), for its drill-down.
    unit_id: int | None = None


@dataclass
class Attainment:
    period: Period
    node: Node
    metrics: list[str]
    elapsed: Decimal
    totals: dict[str, Cell]
    rows: list[Row]
    trail: list[Crumb]
    today: date

    def max_actual(self, metric: str) -> Decimal:
        return max([row.cells[metric].actual for row in self.rows] + [ZERO])


@dataclass
class _Context:
    """What a report computes once: the tree, the memberships, the targets, the actuals."""

    viewer: Viewer
    tree: OrgTree
    period: Period
    metrics: list[str]
    members: list[tuple[int, Person]]
    targets: Targets
    figures: dict[str, actuals.Actuals]


def _load(viewer: Viewer, tree: OrgTree, node: Node, period: Period, metrics: list[str]):
    members = memberships(period)
    owner_ids: list[int] | None = None
    if node.kind == "unit":
        inside = tree.subtree(node.unit)
        owner_ids = sorted({p.id for unit_id, p in members if unit_id in inside})
    elif node.kind == "rep":
        owner_ids = [node.rep.pk]
    figures = actuals.compute_all(
        period.start, period.end, owner_ids=owner_ids, metrics=metrics,
        units=tree.ancestors_map(),
    )  # fmt: skip
    targets = Targets(period, metrics)
    targets.roll_up(tree)
    return _Context(viewer, tree, period, metrics, members, targets, figures)


def _unit_row(ctx: _Context, unit: Unit) -> Row:
    row = Row("unit", unit.id, unit.name)
    for metric in ctx.metrics:
        target = ctx.targets.unit.get((metric, unit.id))
        row.cells[metric] = Cell(
            target, ctx.figures[metric].unit(unit.id), ctx.targets.is_implied(metric, unit.id)
        )
    return row


def _rep_row(ctx: _Context, person: Person, unit_id: int | None) -> Row:
    row = Row("rep", person.id, person.name, unit_id=unit_id)
    for metric in ctx.metrics:
        target = ctx.targets.of_rep_in(metric, person.id, unit_id)
        row.cells[metric] = Cell(target, ctx.figures[metric].rep_in_unit(person.id, unit_id))
    return row


def _worth_a_row(row: Row, person: Person | None = None) -> bool:
    if person is not None and person.role in SALES_ROLES:
        return True
    return any(c.actual or c.target is not None for c in row.cells.values())


def _children(ctx: _Context, unit: Unit | None) -> list[Row]:
    """The rows under `unit` (None: the top of a tree without a single root): its child
    units, then the people whose membership was in it during the period."""
    units = ctx.tree.children.get(unit.id if unit else None, [])
    rows = []
    for child in units:
        row = _unit_row(ctx, child)
        if child.is_active or _worth_a_row(row):
            rows.append(row)
    people: dict[int, Person] = {}
    for unit_id, person in ctx.members:
        if unit is not None and unit_id == unit.id:
            people.setdefault(person.id, person)
    here = unit.id if unit else None
    # Documents of the unit's people on days without a membership row are not the unit's.
    reps = [_rep_row(ctx, person, here) for person in people.values()]
    rows += sorted(
        (r for r, p in zip(reps, people.values(), strict=True) if _worth_a_row(r, p)),
        key=lambda r: r.name,
    )
    return rows


def _unplaced(ctx: _Context) -> list[Row]:
    """At the company: the people with documents on days they were in no unit."""
    keys = {rep for m in ctx.metrics for (rep, unit) in ctx.figures[m].by_rep_unit if unit is None}
    if not keys:
        return []
    rows = []
    for value in User.objects.filter(pk__in=keys).values(
        "id", "username", "first_name", "last_name", "role"
    ):
        rows.append(_rep_row(ctx, _person(value, prefix=""), None))
    return sorted(rows, key=lambda r: r.name)


def _node_totals(ctx: _Context, node: Node) -> dict[str, Cell]:
    totals = {}
    for metric in ctx.metrics:
        figures = ctx.figures[metric]
        if node.kind == "company":
            totals[metric] = Cell(
                ctx.targets.company.get(metric), figures.total,
                ctx.targets.is_implied(metric, None),
            )  # fmt: skip
        elif node.kind == "unit":
            totals[metric] = Cell(
                ctx.targets.unit.get((metric, node.unit.id)), figures.unit(node.unit.id),
                ctx.targets.is_implied(metric, node.unit.id),
            )  # fmt: skip
        else:
            units = rep_units(ctx.viewer, ctx.tree, node.rep)
            actual = (
                figures.rep(node.rep.pk)
                if units is None
                else figures.rep_in_units(node.rep.pk, units)
            )
            totals[metric] = Cell(ctx.targets.of_rep(metric, node.rep.pk, units), actual)
    return totals


def _rep_stints(ctx: _Context, rep: User) -> list[Row]:
    """A rep node's rows: each unit the rep was in during the period (in the viewer's
    scope), with what the rep did there."""
    units = rep_units(ctx.viewer, ctx.tree, rep)
    seen: list[int | None] = []
    for unit_id, person in ctx.members:
        if person.id == rep.pk and unit_id not in seen:
            seen.append(unit_id)
    for metric in ctx.metrics:
        for owner, unit_id in ctx.figures[metric].by_rep_unit:
            if owner == rep.pk and unit_id not in seen:
                seen.append(unit_id)
    rows = []
    for unit_id in seen:
        if units is not None and unit_id not in units:
            continue
        unit = ctx.tree.get(unit_id)
        row = Row("unit", unit_id, unit.name if unit else _("No unit"), unit_id=unit_id)
        for metric in ctx.metrics:
            row.cells[metric] = Cell(
                ctx.targets.of_rep_in(metric, rep.pk, unit_id),
                ctx.figures[metric].rep_in_unit(rep.pk, unit_id),
            )
        rows.append(row)
    return rows


def attainment(
    *,
    user: User,
    period: Period,
    metrics: list[str] | None = None,
    unit_id: int | None = None,
    rep_id: int | None = None,
    today: date | None = None,
) -> Attainment:
    """The attainment report of `period` for the node of `unit_id` / `rep_id` (see the module
    docstring), in `user`'s scope: Http404 for a node outside it."""
    metrics = list(metrics or Metric.values)
    for metric in metrics:
        if metric not in Metric.values:
            raise ValueError(f"unknown metric {metric!r}")
    viewer = Viewer.of(user)
    tree = OrgTree()
    node = resolve_node(viewer, tree, period, unit_id=unit_id, rep_id=rep_id)
    ctx = _load(viewer, tree, node, period, metrics)
    if node.kind == "company":
        rows = _children(ctx, tree.root) + _unplaced(ctx)
    elif node.kind == "unit":
        rows = _children(ctx, node.unit)
    else:
        rows = _rep_stints(ctx, node.rep)
    return Attainment(
        period=period,
        node=node,
        metrics=metrics,
        elapsed=elapsed_pct(period, today),
        totals=_node_totals(ctx, node),
        rows=rows,
        trail=trail(viewer, tree, node),
        today=today or timezone.localdate(),
    )


def visible_units(user: User) -> list[Unit]:
    """The units `user` may pick in the filters (in tree order)."""
    viewer = Viewer.of(user)
    if viewer.scope not in (Scope.ALL, Scope.SUBTREE):
        return []
    tree = OrgTree()
    return [u for u in tree.units.values() if u.is_active and viewer.sees_unit(u)]


# --- the documents behind a rep's number ------------------------------------------------------


@dataclass
class Document:
    kind: str  # "contract", "allocation" or "visit"
    pk: int
    day: date
    value: Decimal
    number: str  # the contract number, the payment's reference, the visit's purpose
    customer: str
    url: str
    detail: str = ""  # the contract of an allocation, the result of a visit


@dataclass
class Documents:
    period: Period
    metric: str
    rep: User
    unit: Unit | None
    rows: list[Document]
    total: Decimal
    count: int
    page: int
    per_page: int
    trail: list[Crumb]

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.count

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


def rep_documents(
    *,
    user: User,
    period: Period,
    metric: str,
    rep_id: int,
    unit_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Documents:
    """A page of the documents behind `rep_id`'s `metric` in `period` — the contracts, the
    allocations with their payments, or the visit records — adding up to the rep's actual on
    the report: all of them, or those of the rep's days in `unit_id`; for a head only the
    rep's days in the head's units. Http404 outside the scope. Three queries."""
    if metric not in Metric.values:
        raise ValueError(f"unknown metric {metric!r}")
    viewer = Viewer.of(user)
    tree = OrgTree()
    node = resolve_node(viewer, tree, period, unit_id=unit_id, rep_id=rep_id)
    allowed = rep_units(viewer, tree, node.rep)
    unit_ids: list[int] | None
    if node.unit is not None:
        unit_ids = [node.unit.id]
    else:
        unit_ids = None if allowed is None else sorted(allowed)
    page = max(1, page)
    found = actuals.documents(
        metric, period.start, period.end, owner_id=node.rep.pk, unit_ids=unit_ids,
        limit=per_page, offset=(page - 1) * per_page,
    )  # fmt: skip
    return Documents(
        period=period, metric=metric, rep=node.rep, unit=node.unit,
        rows=_load_documents(metric, found.rows), total=found.total, count=found.count,
        page=page, per_page=per_page, trail=trail(viewer, tree, node),
    )  # fmt: skip


def _load_documents(metric: str, rows: list[tuple[int, date, Decimal]]) -> list[Document]:
    ids = [pk for pk, _day, _value in rows]
    if not ids:
        return []
    if metric in (Metric.CONTRACT_AMOUNT, Metric.NEW_CUSTOMERS):
        from apps.contracts.models import Contract

        found = Contract.objects.select_related("customer").in_bulk(ids)
        make = _contract_document
    elif metric == Metric.COLLECTED:
        from apps.receivables.models import Allocation

        found = Allocation.objects.select_related(
            "payment", "payment__customer", "installment__contract"
        ).in_bulk(ids)
        make = _allocation_document
    else:
        from apps.visits.models import VisitRecord

        found = VisitRecord.objects.select_related("customer", "lead").in_bulk(ids)
        make = _visit_document
    return [make(found[pk], day, value) for pk, day, value in rows if pk in found]


def _contract_document(contract: Any, day: date, value: Decimal) -> Document:
    return Document(
        "contract", contract.pk, day, value, contract.number, contract.customer.name,
        reverse("contracts:detail", args=[contract.pk]), contract.title,
    )  # fmt: skip


def _allocation_document(allocation: Any, day: date, value: Decimal) -> Document:
    payment = allocation.payment
    return Document(
        "allocation", allocation.pk, day, value,
        payment.bank_reference or payment.external_id or f"#{payment.pk}",
        payment.customer.name, reverse("receivables:payment_detail", args=[payment.pk]),
        allocation.installment.contract.number,
    )  # fmt: skip


def _visit_document(record: Any, day: date, value: Decimal) -> Document:
    target = record.customer or record.lead
    return Document(
        "visit", record.pk, day, value, record.get_purpose_display(), str(target or ""),
        reverse("visits:record_detail", args=[record.pk]),
        record.next_step or record.outcome[:80],
    )  # fmt: skip
