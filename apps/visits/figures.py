"""Visit figures (拜访统计, seed 002 进度控制): the one source of truth for the numbers the
figures page, the weekly sales report, the API and later reports show.

For a period [start, end) of local days (settings.TIME_ZONE) and per rep (the plan's / the
record's `owner`):

- **plans**: visit plans whose `planned_date` is in the period, cancelled ones excluded;
  **done** and **missed**: those of them now done / missed (a plan still planned is neither).
- **plan execution rate** (计划执行率) = done / (done + missed): the share of the plans whose
  date has passed (the nightly job marks a plan still open the day after as missed) that were
  carried out. None when no plan has passed yet. Plans still open do not count against it.
- **visits**: visit records whose `started_at` falls in the period, planned or not;
  **effective visits**: those with `is_effective` (an order, a payment, a next step or a stage
  move — `VisitRecord.compute_effective`); **effective visit rate** (有效拜访率) =
  effective / visits, None without visits.
- **customers visited**: distinct customers of the period's visits (visits to leads are
  visits but not customers); **visits per customer** = visits to customers / customers
  visited, None without any.
- **collections**: Σ `payment_collected` and **orders**: Σ `order_amount` of the period's visits
  (money recorded on visits, not the receivables ledger).
- **customers not visited in N days** (default settings.VISIT_NOT_VISITED_DAYS): customers
  with an owner, in the caller's scope, whose last visit record started more than N days
  before now, or that were never visited.

A **team row** adds up its reps' rows (every unit shows the reps of its subtree; "customers
visited" of a unit is the sum of its reps' — a customer has one owner, so two reps rarely share
one). Each figure is one grouped SQL aggregate (GROUP BY owner) over the caller's data scope
(`apps.accounts.scope`): a page costs the same number of queries for 5 reps or 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import visible_users
from apps.customers.models import Customer
from apps.leads.periods import period_bounds
from apps.opportunities.figures import figure_teams

from .choices import PlanStatus
from .models import VisitPlan, VisitRecord

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Figures:
    """The visit figures of one rep, one unit or the whole scope for a period."""

    plans: int = 0
    done: int = 0
    missed: int = 0
    visits: int = 0
    effective: int = 0
    customer_visits: int = 0
    customers: int = 0
    collections: Decimal = ZERO
    orders: Decimal = ZERO

    @property
    def execution_rate(self) -> float | None:
        """done / (done + missed)."""
        return _rate(self.done, self.done + self.missed)

    @property
    def effective_rate(self) -> float | None:
        """effective / visits."""
        return _rate(self.effective, self.visits)

    @property
    def visits_per_customer(self) -> float | None:
        return round(self.customer_visits / self.customers, 2) if self.customers else None

    @property
    def open_plans(self) -> int:
        return self.plans - self.done - self.missed

    def add(self, other: Figures) -> None:
        for name in ("plans", "done", "missed", "visits", "effective", "customer_visits",
                     "customers", "collections", "orders"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {
            "plans": self.plans,
            "done": self.done,
            "missed": self.missed,
            "execution_rate": self.execution_rate,
            "visits": self.visits,
            "effective": self.effective,
            "effective_rate": self.effective_rate,
            "customers": self.customers,
            "visits_per_customer": self.visits_per_customer,
            "collections": self.collections,
            "orders": self.orders,
        }


# --- grouped aggregates (GROUP BY owner) ---------------------------------------------------


def plan_counts(plans: QuerySet[VisitPlan], start: date, end: date) -> dict[int, dict]:
    """{owner id: {plans, done, missed}} of `plans` dated in [start, end). One query."""
    rows = (
        plans.filter(planned_date__gte=start, planned_date__lt=end)
        .exclude(status=PlanStatus.CANCELLED)
        .order_by()
        .values("owner_id")
        .annotate(
            plans=Count("id"),
            done=Count("id", filter=Q(status=PlanStatus.DONE)),
            missed=Count("id", filter=Q(status=PlanStatus.MISSED)),
        )
    )
    return {row.pop("owner_id"): row for row in rows}


def record_sums(records: QuerySet[VisitRecord], start: date, end: date) -> dict[int, dict]:
    """{owner id: {visits, effective, customer_visits, customers, collections, orders}} of
    `records` started in [start, end) (local days). One query."""
    first, after = period_bounds(start, end - timedelta(days=1))
    rows = (
        records.filter(started_at__gte=first, started_at__lt=after)
        .order_by()
        .values("owner_id")
        .annotate(
            visits=Count("id"),
            effective=Count("id", filter=Q(is_effective=True)),
            customer_visits=Count("customer_id"),
            customers=Count("customer_id", distinct=True),
            collections=Coalesce(Sum("payment_collected"), Value(ZERO), output_field=_MONEY),
            orders=Coalesce(Sum("order_amount"), Value(ZERO), output_field=_MONEY),
        )
    )
    return {row.pop("owner_id"): row for row in rows}


def figures_by_owner(
    *, plans: QuerySet[VisitPlan], records: QuerySet[VisitRecord], start: date, end: date
) -> dict[int, Figures]:
    """{owner id: Figures} from already scoped (or job-wide) plans and records. Two queries."""
    result: dict[int, Figures] = {}
    for owner_id, row in plan_counts(plans, start, end).items():
        result.setdefault(owner_id, Figures()).__dict__.update(row)
    for owner_id, row in record_sums(records, start, end).items():
        result.setdefault(owner_id, Figures()).__dict__.update(row)
    return result


def owner_figures(
    *, user: User, start: date, end: date, owner_ids: Iterable[int] | None = None
) -> dict[int, Figures]:
    """Figures per rep over `user`'s scope (optionally only `owner_ids`). Two queries."""
    plans = VisitPlan.objects.visible_to(user)
    records = VisitRecord.objects.visible_to(user)
    if owner_ids is not None:
        ids = list(owner_ids)
        plans, records = plans.filter(owner_id__in=ids), records.filter(owner_id__in=ids)
    return figures_by_owner(plans=plans, records=records, start=start, end=end)


# --- not visited in N days -----------------------------------------------------------------
#
# "Not visited in N days" is "no visit record started since the cutoff": an anti-join
# (NOT EXISTS) on `visitrecord_started`, not every customer's last visit computed and compared
# (issue 10: 200k customers, 2M visits). The last visit itself is looked up only for the rows
# a page shows, or sorts on.


def not_visited_days() -> int:
    return settings.VISIT_NOT_VISITED_DAYS


def last_visit_subquery() -> Subquery:
    """The start of a customer's last visit: one backward scan of `visitrecord_customer_time`
    per customer (LIMIT 1), not an aggregate over all its visits."""
    return Subquery(
        VisitRecord.objects.filter(customer_id=OuterRef("pk"))
        .order_by("-started_at")
        .values("started_at")[:1]
    )


def visited_since(cutoff: datetime | None = None) -> Exists:
    """Whether the customer (the outer row) has a visit record started at or after `cutoff`
    (any visit at all without one)."""
    visits = VisitRecord.objects.filter(customer_id=OuterRef("pk"))
    if cutoff is not None:
        visits = visits.filter(started_at__gte=cutoff)
    return Exists(visits)


def not_visited_q(cutoff: datetime) -> Q:
    """Customers whose last visit started before `cutoff`, or never visited: no visit since."""
    return ~Q(visited_since(cutoff))


def not_visited_cutoff(days: int, *, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


NOT_VISITED_ORDERS = {
    # Most days since the last visit first; never visited counts as the most.
    "days": (F("last_visit").asc(nulls_first=True), "id"),
    "-days": (F("last_visit").desc(nulls_last=True), "-id"),
    "name": ("name", "id"),
}


def _owned_customers(*, user: User, owner_ids: Iterable[int] | None) -> QuerySet[Customer]:
    """Customers with an owner in `user`'s scope (and among `owner_ids`): unordered."""
    qs = Customer.objects.visible_to(user).filter(owner__isnull=False)
    if owner_ids is not None:
        qs = qs.filter(owner_id__in=list(owner_ids))
    return qs.order_by()


def _not_visited_base(
    *, user: User, days: int | None, owner_ids: Iterable[int] | None, now: datetime | None
) -> QuerySet[Customer]:
    """Customers with an owner in `user`'s scope (and among `owner_ids`) not visited for more
    than `days` days, or never: unordered, not annotated."""
    days = not_visited_days() if days is None else days
    return _owned_customers(user=user, owner_ids=owner_ids).filter(
        not_visited_q(not_visited_cutoff(days, now=now))
    )


def not_visited_customers(
    *,
    user: User,
    days: int | None = None,
    owner_ids: Iterable[int] | None = None,
    order: str = "days",
    now: datetime | None = None,
) -> QuerySet[Customer]:
    """Customers with an owner in `user`'s scope not visited for more than `days` days (or
    never), each annotated with `last_visit`, sorted by days since (most first) by default.
    A queryset (every row's last visit is looked up to sort them): a page of a large scope
    reads `NotVisitedPages` instead."""
    qs = (
        _not_visited_base(user=user, days=days, owner_ids=owner_ids, now=now)
        .select_related("owner")
        .annotate(last_visit=last_visit_subquery())
    )
    return qs.order_by(*NOT_VISITED_ORDERS.get(order, NOT_VISITED_ORDERS["days"]))


# Beyond this many not-visited customers, their first this many rows (100 pages) are read in
# the order of an index, a page at a time (see NotVisitedPages); fewer, or deeper, are sorted
# (a last visit looked up for each).
STREAM_FROM = 2500


class NotVisitedPages:
    """The customers of `not_visited_customers`, in the same order, sliced for a `Paginator`
    a page at a time: a page's ids first, then only those rows with their owner and last
    visit. `count` is the figures' not-visited total (the same rows), so no COUNT(*).

    Sorting on the last visit looks it up for every not-visited customer of the scope
    (60,000 for a sales director: seconds). So beyond STREAM_FROM of them, the two orders by
    days read a page in the order of an index and stop after it: most days first are the
    never-visited customers by id (an anti-join in primary key order), then the others; fewest
    days first are the customers whose last visit is the most recent before the cutoff (the
    visits backwards from the cutoff on `visitrecord_started`, each kept when it is its
    customer's last), then the never-visited by id, descending. Where the first part runs out,
    deep pages (from row STREAM_FROM: the cost of reading grows with the depth) and the order
    by name sort the ids on the columns alone; a small list (a rep's, a team's) is sorted
    whole in one query, as `not_visited_customers`."""

    def __init__(
        self,
        *,
        user: User,
        count: int,
        days: int | None = None,
        owner_ids: Iterable[int] | None = None,
        order: str = "days",
        now: datetime | None = None,
        stream_from: int = STREAM_FROM,
    ) -> None:
        days = not_visited_days() if days is None else days
        self.stream_from = stream_from
        self.cutoff = not_visited_cutoff(days, now=now)
        owner_ids = None if owner_ids is None else list(owner_ids)
        self.customers = _owned_customers(user=user, owner_ids=owner_ids)
        self.base = self.customers.filter(not_visited_q(self.cutoff))
        self.order = order if order in NOT_VISITED_ORDERS else "days"
        self._count = count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def _sorted(self, qs: QuerySet[Customer]) -> QuerySet:
        """`qs`'s ids in the page's order, sorted on the columns (and the last visit)."""
        if self.order != "name":
            qs = qs.annotate(last_visit=last_visit_subquery())
        return qs.order_by(*NOT_VISITED_ORDERS[self.order]).values_list("pk", flat=True)

    def _never(self) -> QuerySet:
        """The never-visited customers' ids by id (descending for fewest days first)."""
        return (
            self.base.filter(~visited_since())
            .order_by("-id" if self.order == "-days" else "id")
            .values_list("pk", flat=True)
        )

    def _latest_lapsed(self) -> QuerySet:
        """The customers visited before the cutoff but not since, by their last visit, latest
        first (then by id, descending): their last visits, read backwards from the cutoff."""
        later = VisitRecord.objects.filter(customer_id=OuterRef("customer_id")).filter(
            Q(started_at__gt=OuterRef("started_at"))
            | Q(started_at=OuterRef("started_at"), pk__gt=OuterRef("pk"))
        )
        return (
            VisitRecord.objects.filter(started_at__lt=self.cutoff)
            .filter(customer_id__in=self.customers.values("pk"))
            .filter(~Exists(later))
            .order_by("-started_at", "-customer_id")
            .values_list("customer_id", flat=True)
        )

    def _ids(self, start: int, stop: int) -> list[int]:
        if self.order == "name" or start >= self.stream_from:
            return list(self._sorted(self.base)[start:stop])
        never, lapsed = self.base.filter(~visited_since()), self.base.filter(visited_since())
        if self.order == "days":
            first, first_part, rest = self._never(), never, self._sorted(lapsed)
        else:
            first, first_part, rest = self._latest_lapsed(), lapsed, self._never()
        ids = list(first[start:stop])
        if len(ids) == stop - start:
            return ids
        # The first part ran out inside this slice (start + len(ids) rows), or before it.
        n_first = start + len(ids) if ids or start == 0 else first_part.count()
        return ids + list(rest[max(0, start - n_first) : stop - n_first])

    def __getitem__(self, index: slice) -> list[Customer]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("NotVisitedPages takes a slice")
        start = max(0, index.start or 0)
        stop = self._count if index.stop is None else index.stop
        if stop <= start:
            return []
        with_owner = self.base.select_related("owner").annotate(last_visit=last_visit_subquery())
        if self._count <= self.stream_from:  # a small list: sorted whole, in one query
            return list(with_owner.order_by(*NOT_VISITED_ORDERS[self.order])[start:stop])
        ids = self._ids(start, stop)
        rows = {c.pk: c for c in with_owner.filter(pk__in=ids)} if ids else {}
        return [rows[pk] for pk in ids if pk in rows]


def days_since(last_visit: datetime | None, *, now: datetime | None = None) -> int | None:
    if last_visit is None:
        return None
    return ((now or timezone.now()) - last_visit).days


def not_visited_counts(
    *,
    user: User,
    days: int | None = None,
    owner_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> dict[int, int]:
    """{owner id: number of their customers not visited in `days` days}. One query (an
    anti-join, no last visit looked up)."""
    qs = _not_visited_base(user=user, days=days, owner_ids=owner_ids, now=now)
    return dict(qs.values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"))


# --- the drill-down: company → unit → rep --------------------------------------------------


@dataclass
class FigureRow:
    """One line of the figures table: a unit (aggregating its reps) or a rep."""

    kind: str  # "unit" | "rep"
    id: int
    name: str
    figures: Figures
    not_visited: int = 0
    unit: OrgUnit | None = None
    owner: User | None = None


@dataclass
class VisitFigures:
    start: date
    end: date  # exclusive
    days: int
    total: Figures
    units: list[FigureRow] = field(default_factory=list)
    reps: list[FigureRow] = field(default_factory=list)
    team: OrgUnit | None = None
    not_visited: int = 0
    # The people the figures cover (for the not-visited list of the same people).
    owner_ids: list[int] = field(default_factory=list)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def rows(self) -> list[FigureRow]:
        return [*self.units, *self.reps]

    @property
    def max_visits(self) -> int:
        return max([r.figures.visits for r in self.rows] + [1])


def visit_figures(
    *,
    user: User,
    start: date,
    end: date,
    team: OrgUnit | None = None,
    owner: User | None = None,
    days: int | None = None,
) -> VisitFigures:
    """The figures of [start, end) over `user`'s scope, narrowed to `team` (and the units
    below it) or one `owner`: a row per child unit of `team` (or per top unit `user` may see)
    aggregating its reps, a row per rep placed directly in it, and the total. Five queries
    whatever the number of reps: people, units, plans, records, not-visited counts.

    `team` and `owner` must already be checked to be in the scope (`figure_teams`,
    `visible_users`); anyone outside simply has no figures."""
    days = not_visited_days() if days is None else days
    people = visible_users(user).filter(is_active=True).select_related("org_unit")
    if owner is not None:
        people = people.filter(pk=owner.pk)
    elif team is not None:
        people = people.filter(org_unit__path__startswith=team.path)
    people_list = list(people.order_by("username"))
    ids = [p.pk for p in people_list]
    by_owner = owner_figures(user=user, start=start, end=end, owner_ids=ids)
    nv = not_visited_counts(user=user, days=days, owner_ids=ids)
    total = Figures()
    for f in by_owner.values():
        total.add(f)
    result = VisitFigures(
        start=start, end=end, days=days, total=total, team=team,
        not_visited=sum(nv.values()), owner_ids=ids,
    )  # fmt: skip

    # Which units are rows: the children of `team`, or the top units of the caller's view.
    if owner is None:
        if team is not None:
            units = list(OrgUnit.objects.filter(parent=team, is_active=True).order_by("name"))
        else:
            visible = list(figure_teams(user=user))
            paths = [u.path for u in visible]
            units = [u for u in visible if not any(u.path.startswith(p) and u.path != p
                                                    for p in paths)]  # fmt: skip
            if len(units) == 1:  # one head unit: show its children straight away
                result.team = team = units[0]
                units = list(OrgUnit.objects.filter(parent=team, is_active=True).order_by("name"))
        rows = {u.pk: FigureRow("unit", u.pk, u.name, Figures(), unit=u) for u in units}
        for person in people_list:
            path = person.org_unit.path if person.org_unit_id else ""
            for u in units:
                if path.startswith(u.path):
                    rows[u.pk].figures.add(by_owner.get(person.pk, Figures()))
                    rows[u.pk].not_visited += nv.get(person.pk, 0)
                    break
        result.units = list(rows.values())
        in_units = {p.pk for p in people_list for u in units
                    if p.org_unit_id and p.org_unit.path.startswith(u.path)}  # fmt: skip
    else:
        in_units = set()
    for person in people_list:
        if person.pk in in_units:
            continue
        f = by_owner.get(person.pk)
        if f is None and person.role != "rep":
            continue  # a head or an admin who visits nobody is not a row
        result.reps.append(
            FigureRow(
                "rep", person.pk, person.display_name, f or Figures(),
                not_visited=nv.get(person.pk, 0), owner=person,
            )
        )  # fmt: skip
    return result
