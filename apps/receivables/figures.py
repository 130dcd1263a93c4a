"""Receivables figures (应收分析): aging (账龄), collection rate (回款率), DSO (应收账款周转天数),
overdue ratio (逾期率) and bad-debt ratio (坏账率), per company, team, rep and customer. The one
source of truth for the figures page, its Excel export and the report API.

Every figure is over the caller's data scope (`Installment.objects.visible_to`, the helper of
the installment list: a rep their own installments, a supervisor or manager those of the
units they head, finance and admins everything), optionally narrowed to a **team** (the
owners in an org unit and the units below it), a **rep** (the installment's owner) or a
**customer**. Rows are grouped by:

- ``company``: one row, everything in the scope;
- ``team``: the installment owner's org unit (a team row counts the installments of the people
  who sit in that unit; narrowing to a team takes its sub-units too);
- ``rep``: the installment's owner;
- ``customer``: the installment's customer — a page of at most ``limit`` customers, the
  largest open amount first, searchable by name (a company has 200k customers).

Money is Decimal to the cent; a ratio is a percentage Decimal to one decimal (``Decimal("62.5")``
is 62.5 %), ``None`` when its denominator is 0 (shown as "—").

Definitions:

- **Open amount** of an installment now = amount − paid − written off
  (`selectors.open_amount_expr`), over the open installments (scheduled, due, partially paid).
- **Aging as of a day D** (账龄): today's open amounts bucketed by days past due at D
  (D − due date): **current** (not yet due, or due on D), **1–30**, **31–60**, **61–90**,
  **90+** days. **Open** = all buckets, **overdue** = all but current. D defaults to today;
  a later D shows what will be overdue by then if nothing more is paid.
- **Overdue ratio** (逾期率) = overdue ÷ open × 100. In the aging as of D; in the collection
  figures as of the period's last day (balances then, see below).
- **Open at a day** (for a period's balances): open now, plus the live (not reversed)
  allocations dated on or after that day, plus the approved write-offs approved on or after
  it — the balance before what was collected or written off since. An installment counts by
  its due date; when its contract was signed is not looked at.
- **Collected** (回款) in a period [start, end] = the live allocations dated in the period to
  installments due on or before its end (money applied in advance to a later installment
  counts in no period's rate: it reduces what that installment leaves to collect).
- **Due** (应收) in the period = the amounts of the installments falling due in it (whatever
  happened to them since). An installment is billed when it falls due: there are no invoices,
  so this is also the "invoiced" amount of the DSO.
- **To collect** in the period = Σ, over the installments due on or before its end, of their
  open amount at its start = the overdue open amount at the start (``overdue_at_start``) +
  what falls due in the period less what was already collected or written off on it before.
- **Collection rate** (回款率) = collected ÷ to collect × 100 (at most 100 %).
- **DSO** (应收账款周转天数) = receivable at end ÷ due × N, where receivable at end = the open
  amount, at the end of the period, of the installments due on or before its end, and N the
  number of days of the period.
- **Bad-debt ratio** (坏账率) = written off (write-offs approved within the period) ÷ due × 100.
  A write-off is usually of an old debt, so a period may exceed 100 %.

Each figure is a few grouped SQL aggregates (conditional ``SUM … FILTER (WHERE …)`` grouped by
an integer key: the owner, or the customer), never a Python loop over installments, plus one
small query for the names of the rows found: the aging one aggregate (three for customers: the
ranking by open amount, the buckets of the page's customers, the total), the collection
figures four (the open installments, those falling due in the period, allocations,
write-offs; seven for customers). The team rows add up their owners' rows and the total adds
up the rows, so they always agree. The aging and the open installments' sums read only the
covering index ``installment_open_aging`` (migration 0002), what falls due in a period only
``installment_due_order`` (migration 0003): index-only scans, never a pass over the million
installments. The figures page asks for both reports at once (`aging_and_collection`): one
pass over the open installments serves the aging and the collection figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain
from typing import Any

from django.db import models
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OrgUnit, User
from apps.accounts.names import person_name
from apps.accounts.scope import Scope, headed_paths, scope_of, scope_q, visible_users
from apps.customers.models import Customer
from apps.leads.periods import Period as LeadPeriod
from apps.leads.periods import period_bounds
from apps.leads.periods import period_dates as month_or_week_dates

from .choices import OPEN_STATUSES, AgingBucket, WriteOffStatus
from .models import Allocation, Installment, WriteOff
from .selectors import DaysSince, bucket_expr, open_amount_expr, page_of, today

ZERO = Decimal("0.00")
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)
_MONEY = DecimalField(max_digits=16, decimal_places=2)

GROUP_BY = ("company", "team", "rep", "customer")
CUSTOMER_PAGE = 50  # customers per page
MAX_CUSTOMER_ROWS = 5000  # at most per call (the Excel export; the API pages by 500)

# The aging buckets: (attribute, label), in order.
BUCKETS: tuple[tuple[str, Any], ...] = (
    ("current", AgingBucket.CURRENT.label),
    ("d1_30", AgingBucket.D1_30.label),
    ("d31_60", AgingBucket.D31_60.label),
    ("d61_90", AgingBucket.D61_90.label),
    ("d90_plus", AgingBucket.D90_PLUS.label),
)


# --- periods -------------------------------------------------------------------------------


class Period(models.TextChoices):
    """The named periods of the collection figures."""

    THIS_MONTH = "this_month", _("This month")
    LAST_MONTH = "last_month", _("Last month")
    THIS_QUARTER = "this_quarter", _("This quarter")
    LAST_QUARTER = "last_quarter", _("Last quarter")
    CUSTOM = "custom", _("Custom dates")


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def period_dates(period: str, *, on: date | None = None) -> tuple[date, date]:
    """The first and last day (inclusive) of a named period around `on` (default today)."""
    on = on or today()
    if period in (Period.THIS_QUARTER, Period.LAST_QUARTER):
        first = _quarter_start(on)
        if period == Period.LAST_QUARTER:
            first = _quarter_start(first - timedelta(days=1))
        after = _quarter_start(first + timedelta(days=93))
        return first, after - timedelta(days=1)
    named = LeadPeriod.LAST_MONTH if period == Period.LAST_MONTH else LeadPeriod.THIS_MONTH
    return month_or_week_dates(named, on=on)


# --- scope ---------------------------------------------------------------------------------


def figure_teams(*, user: User) -> QuerySet[OrgUnit]:
    """Units `user` may narrow the figures to: every active unit for finance, admins and the
    ERP (money documents are company-wide for them), the units a head heads and those below,
    else none (a rep has only their own figures)."""
    scope = scope_of(user, money=True)
    units = OrgUnit.objects.filter(is_active=True)
    if scope is Scope.ALL:
        return units.order_by("path")
    if scope is not Scope.SUBTREE:
        return units.none()
    q = Q()
    for path in headed_paths(user):
        q |= Q(path__startswith=path)
    return units.filter(q).order_by("path")


def figure_people(*, user: User, team: OrgUnit | None = None) -> QuerySet[User]:
    """The people whose receivables `user` may see (in `team`'s subtree when given)."""
    scope = scope_of(user, money=True)
    people = User.objects.all() if scope is Scope.ALL else visible_users(user)
    if team is not None:
        people = people.filter(org_unit__path__startswith=team.path)
    return people


def figure_customer(*, user: User, pk: int) -> Customer | None:
    """The customer `pk` when `user` may see at least one of its installments, else None."""
    visible = Installment.objects.visible_to(user).filter(customer_id=pk)
    return Customer.objects.filter(pk=pk).filter(models.Exists(visible)).first()


def _narrow_q(
    *,
    team: OrgUnit | None,
    owner: User | None,
    customer: Customer | None,
    prefix: str = "",
) -> Q:
    """The narrowing to a team / owner / customer (already checked against the caller's
    scope), of installments through `prefix` (e.g. "installment__")."""
    q = Q()
    if team is not None:
        people = User.objects.filter(org_unit__path__startswith=team.path).values("pk")
        q &= Q(**{f"{prefix}owner_id__in": people})
    if owner is not None:
        q &= Q(**{f"{prefix}owner_id": owner.pk})
    if customer is not None:
        q &= Q(**{f"{prefix}customer_id": customer.pk})
    return q


def _scoped_installments(user: User, narrow: dict) -> QuerySet[Installment]:
    """The installments of `user`'s scope (the installment list's helper), narrowed."""
    return Installment.objects.visible_to(user).filter(_narrow_q(**narrow)).order_by()


def _via_installment_q(user: User, narrow: dict) -> Q:
    """The same scope and narrowing for allocations and write-offs, by their installment."""
    return scope_q(user, owner_field="installment__owner", money=True) & _narrow_q(
        **narrow, prefix="installment__"
    )


# --- grouping ------------------------------------------------------------------------------


# In SQL the rows are grouped by an integer column only (a hash aggregate, no join): the
# installment's owner for the team and rep groupings, its customer for the customer one. The
# names, and the team of each owner, come from one small query over the keys found; the team
# rows add up their owners' rows.
KEY_COLUMNS = {"company": None, "team": "owner_id", "rep": "owner_id", "customer": "customer_id"}


def _key_column(group_by: str) -> str | None:
    if group_by not in KEY_COLUMNS:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BY)}, not {group_by!r}")
    return KEY_COLUMNS[group_by]


def _company_label() -> str:
    return str(_("All receivables"))


def _regroup(group_by: str, rows: dict[int | None, Any], make: Any) -> list[Any]:
    """Name the per-key rows (`rows`: owner or customer id → row) and, for the team grouping,
    add up the owners' rows into one row per org unit (`make(key, label)` makes an empty row).
    One query."""
    keys = [key for key in rows if key is not None]
    if group_by == "customer":
        names = dict(Customer.objects.filter(pk__in=keys).values_list("pk", "name"))
        for key, row in rows.items():
            row.label = names.get(key, "")
        return list(rows.values())
    people = {
        p["pk"]: p
        for p in User.objects.filter(pk__in=keys).values(
            "pk", "username", "first_name", "last_name", "org_unit_id", "org_unit__name"
        )
    }
    if group_by == "rep":
        for key, row in rows.items():
            person = people.get(key) or {}
            row.label = person_name(
                person.get("first_name") or "", person.get("last_name") or ""
            ) or person.get("username", "")
        return list(rows.values())
    teams: dict[int | None, Any] = {}
    for key, row in rows.items():
        person = people.get(key) or {}
        unit = person.get("org_unit_id")
        if unit not in teams:
            teams[unit] = make(unit, person.get("org_unit__name") or str(_("No unit")))
        teams[unit].add(row)
    return list(teams.values())


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole as a percentage to one decimal; None when whole is 0."""
    if not whole:
        return None
    return (part * HUNDRED / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def _sum(expression: Any, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(expression, filter=condition), Value(ZERO), output_field=_MONEY)


def _page_bounds(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(limit, MAX_CUSTOMER_ROWS)), max(0, offset)


# --- aging ---------------------------------------------------------------------------------


@dataclass
class AgingRow:
    """The open money of one group by aging bucket as of the report's day."""

    key: int | None
    label: str
    current: Decimal = ZERO
    d1_30: Decimal = ZERO
    d31_60: Decimal = ZERO
    d61_90: Decimal = ZERO
    d90_plus: Decimal = ZERO
    count: int = 0  # open installments

    @property
    def overdue(self) -> Decimal:
        return self.d1_30 + self.d31_60 + self.d61_90 + self.d90_plus

    @property
    def open(self) -> Decimal:
        return self.current + self.overdue

    @property
    def overdue_ratio(self) -> Decimal | None:
        return _pct(self.overdue, self.open)

    def bucket_amounts(self) -> list[tuple[str, Any, Decimal]]:
        """(attribute, label, amount) per bucket, in order."""
        return [(name, label, getattr(self, name)) for name, label in BUCKETS]

    def add(self, other: AgingRow) -> None:
        for name, _label in BUCKETS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.count += other.count


@dataclass
class AgingReport:
    as_of: date
    group_by: str
    rows: list[AgingRow]
    total: AgingRow
    has_next: bool = False  # customer grouping: another page follows
    offset: int = 0
    limit: int = CUSTOMER_PAGE

    @property
    def max_open(self) -> Decimal:
        """The largest open amount of a row (the scale of the chart's bars)."""
        return max([row.open for row in self.rows] + [ZERO])


def _aging_sums(on: date) -> dict[str, Any]:
    """One conditional sum per bucket of the open amount (days past due = on − due date). The
    open total is their sum (a sixth SUM over every row would cost a quarter more)."""
    money = open_amount_expr()
    day30, day60, day90 = (on - timedelta(days=n) for n in (30, 60, 90))
    return {
        "a_current": _sum(money, Q(due_date__gte=on)),
        "a_d1_30": _sum(money, Q(due_date__lt=on, due_date__gte=day30)),
        "a_d31_60": _sum(money, Q(due_date__lt=day30, due_date__gte=day60)),
        "a_d61_90": _sum(money, Q(due_date__lt=day60, due_date__gte=day90)),
        "a_d90_plus": _sum(money, Q(due_date__lt=day90)),
        "a_count": Count("*"),  # not Count("id"): the covering index has no id
    }


def _aging_row(key: int | None, label: str, values: dict) -> AgingRow:
    return AgingRow(
        key=key,
        label=label,
        current=values["a_current"],
        d1_30=values["a_d1_30"],
        d31_60=values["a_d31_60"],
        d61_90=values["a_d61_90"],
        d90_plus=values["a_d90_plus"],
        count=values["a_count"],
    )


def aging(
    *,
    user: User,
    as_of: date | None = None,
    group_by: str = "company",
    team: OrgUnit | None = None,
    owner: User | None = None,
    customer: Customer | None = None,
    search: str = "",
    limit: int = CUSTOMER_PAGE,
    offset: int = 0,
) -> AgingReport:
    """The aging of the open installments in `user`'s scope as of `as_of` (default today),
    one row per `group_by` key (see the module docstring), and the total.

    `team`, `owner` and `customer` narrow it (checked against the scope by the caller: see
    `figure_teams`, `figure_people`, `figure_customer`). For `group_by="customer"` the rows
    are one page (`limit` from `offset`) of the customers whose name contains `search`, the
    largest open amount first, and the total is over all of them."""
    on = as_of or today()
    key = _key_column(group_by)
    narrow = {"team": team, "owner": owner, "customer": customer}
    qs = _open_installments(user, narrow)
    sums = _aging_sums(on)
    if group_by != "customer":
        return _aging_report(on, group_by, _grouped_open(qs, key, sums))
    if group_by == "customer":
        limit, offset = _page_bounds(limit, offset)
        search = (search or "").strip()
        if search:
            qs = qs.filter(customer__name__ilike_contains=search)
        # Rank on the open amount alone (one SUM per row), then the buckets of the page's
        # customers only (the customer + due date index).
        ranked = list(
            qs.values(key)
            .annotate(a_rank=_sum(open_amount_expr()))
            .order_by("-a_rank", key)
            .values_list(key, flat=True)[offset : offset + limit + 1]
        )
        ids = ranked[:limit]
        found = {r[key]: r for r in qs.filter(customer_id__in=ids).values(key).annotate(**sums)}
        by_key = {pk: _aging_row(pk, "", found[pk]) for pk in ids if pk in found}
        rows = _regroup(group_by, by_key, None)
        total = _aging_row(None, str(_("Total")), qs.aggregate(**sums))
        return AgingReport(on, group_by, rows, total, len(ranked) > limit, offset, limit)
    raise AssertionError(group_by)  # pragma: no cover (checked by _key_column)


def _open_installments(user: User, narrow: dict) -> QuerySet[Installment]:
    """The open installments of `user`'s scope, narrowed: the aging's, and the open part of
    the collection figures (the rows of the covering index ``installment_open_aging``)."""
    return _scoped_installments(user, narrow).filter(status__in=OPEN_STATUSES)


def _grouped_open(qs: QuerySet[Installment], key: str | None, sums: dict) -> list[dict]:
    """`sums` over `qs` per `key` column value (one row for the company)."""
    if key is None:
        return [qs.aggregate(**sums)]
    return list(qs.values(key).annotate(**sums))


def _aging_report(on: date, group_by: str, grouped: list[dict]) -> AgingReport:
    """The aging of a grouping other than the customer one from its grouped sums
    (`_aging_sums`, per key column value: `_grouped_open`)."""
    key = _key_column(group_by)
    if key is None:
        row = _aging_row(None, _company_label(), grouped[0])
        total = AgingRow(None, row.label)
        total.add(row)
        return AgingReport(on, group_by, [row], total)
    by_key = {r[key]: _aging_row(r[key], "", r) for r in grouped}
    rows = _regroup(group_by, by_key, lambda k, label: AgingRow(k, label))
    rows.sort(key=lambda r: (-r.open, r.label))
    total = AgingRow(None, str(_("Total")))
    for row in rows:
        total.add(row)
    return AgingReport(on, group_by, rows, total)


# --- collection figures --------------------------------------------------------------------


@dataclass
class CollectionRow:
    """The collection figures of one group for a period (see the module docstring). The
    sums are kept so that a total adds them up and computes its own ratios."""

    key: int | None
    label: str
    days: int  # N, the days of the period
    collected: Decimal = ZERO
    due: Decimal = ZERO
    to_collect: Decimal = ZERO
    overdue_at_start: Decimal = ZERO
    receivable_at_end: Decimal = ZERO  # open at the end, of what was due by the end
    overdue_at_end: Decimal = ZERO
    open_at_end: Decimal = ZERO
    written_off: Decimal = ZERO

    @property
    def collection_rate(self) -> Decimal | None:
        return _pct(self.collected, self.to_collect)

    @property
    def dso(self) -> Decimal | None:
        if not self.due:
            return None
        return (self.receivable_at_end * self.days / self.due).quantize(
            TENTH, rounding=ROUND_HALF_UP
        )

    @property
    def overdue_ratio(self) -> Decimal | None:
        return _pct(self.overdue_at_end, self.open_at_end)

    @property
    def bad_debt_ratio(self) -> Decimal | None:
        return _pct(self.written_off, self.due)

    def add(self, other: CollectionRow) -> None:
        for name in SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in SUMS)


SUMS = (
    "collected",
    "due",
    "to_collect",
    "overdue_at_start",
    "receivable_at_end",
    "overdue_at_end",
    "open_at_end",
    "written_off",
)


@dataclass
class CollectionReport:
    start: date
    end: date
    group_by: str
    rows: list[CollectionRow]
    total: CollectionRow
    has_next: bool = False
    offset: int = 0
    limit: int = CUSTOMER_PAGE

    @property
    def days(self) -> int:
        return self.total.days


def _open_sums(start: date, end: date, *, only: Q | None = None) -> dict[str, Any]:
    """Today's open amounts in four disjoint ranges of due dates (before the start, from the
    start to the day before the end, on the end, after it), so that each row feeds one sum;
    the balances add them up. Over the open installments: without `only` (a query that keeps
    the open ones) the sums read only the columns of the covering index
    ``installment_open_aging``."""
    money = open_amount_expr()
    ranges = {
        "o_before_start": Q(due_date__lt=start),
        "o_in_period": Q(due_date__gte=start, due_date__lt=end),
        "o_on_end": Q(due_date=end),
        "o_after_end": Q(due_date__gt=end),
    }
    return {name: _sum(money, only & q if only else q) for name, q in ranges.items()}


def _installment_sums(start: date, end: date) -> dict[str, Any]:
    """Over any installments: what falls due in the period (`c_due`), and the open sums of
    the open ones."""
    return {"c_due": _sum("amount", Q(due_date__gte=start, due_date__lte=end))} | _open_sums(
        start, end, only=Q(status__in=OPEN_STATUSES)
    )


def _back_sums(later: Q, *, start: date, end: date, prefix: str = "installment__") -> dict:
    """Over allocations or write-offs dated on or after the start: the amounts to add back to
    today's open amounts to get the balances at the start and at the end of the period.
    `later` tells the rows dated after the end."""
    due = f"{prefix}due_date"
    return {
        "b_start_by_end": _sum("amount", Q(**{f"{due}__lte": end})),
        "b_start_before_start": _sum("amount", Q(**{f"{due}__lt": start})),
        "b_end_by_end": _sum("amount", later & Q(**{f"{due}__lte": end})),
        "b_end_before_end": _sum("amount", later & Q(**{f"{due}__lt": end})),
        "b_end_all": _sum("amount", later),
    }


@dataclass
class _PeriodQueries:
    """The sources of a period's figures, scoped and narrowed, not yet grouped.

    `installments` are those that can have a figure in the period (a customer row each, in
    the customer grouping). Summed over them or over their two parts that carry every
    non-zero sum — the open ones (`open_installments`, from the covering index
    ``installment_open_aging``) and those falling due in the period (`due_installments`,
    from ``installment_due_order``) — the figures are the same; the two parts are two short
    index-only scans where `installments` is a pass over the whole table."""

    installments: QuerySet[Installment]
    open_installments: QuerySet[Installment]
    due_installments: QuerySet[Installment]
    allocations: QuerySet[Allocation]
    write_offs: QuerySet[WriteOff]
    installment_sums: dict[str, Any]
    open_sums: dict[str, Any]
    allocation_sums: dict[str, Any]
    write_off_sums: dict[str, Any]

    def per_customer(self) -> QuerySet:
        """Every installment sum per customer, one row per customer with an installment
        that can have a figure (the ranking of the customer grouping)."""
        return self.installments.values("customer_id").annotate(**self.installment_sums)

    def grouped(
        self, group_by: str, *, open_rows: list[dict] | None = None
    ) -> tuple[Iterable[dict], Iterable[dict], Iterable[dict]]:
        """The aggregates grouped by `group_by`'s key column (one row each for "company"):
        the open and the falling-due installments' rows one after the other (each with its
        own sums), the allocations and write-offs by their installment's. A key with no
        row has zero figures. `open_rows`: the open installments' rows already read (with
        `open_sums` among their sums)."""
        key = _key_column(group_by)
        due = {"c_due": _sum("amount")}
        if key is None:
            if open_rows is None:
                open_rows = [self.open_installments.aggregate(**self.open_sums)]
            return (
                [*open_rows, self.due_installments.aggregate(**due)],
                [self.allocations.aggregate(**self.allocation_sums)],
                [self.write_offs.aggregate(**self.write_off_sums)],
            )
        via = f"installment__{key}"
        if open_rows is None:  # not read yet (nor ever, if the caller only wants the others)
            open_rows = self.open_installments.values(key).annotate(**self.open_sums)
        return (
            chain(open_rows, self.due_installments.values(key).annotate(**due)),
            self.allocations.values(via).annotate(**self.allocation_sums),
            self.write_offs.values(via).annotate(**self.write_off_sums),
        )


def _period_queries(
    user: User, start: date, end: date, *, narrow: dict, search: str
) -> _PeriodQueries:
    start_at, after_end = period_bounds(start, end)
    inst_q = Q()
    via_q = _via_installment_q(user, narrow)
    if search:
        inst_q &= Q(customer__name__ilike_contains=search)
        via_q &= Q(installment__customer__name__ilike_contains=search)
    # The installments that can have a figure in the period: the open ones, those falling due
    # in it, and those paid or written off since its start (so that a customer who paid
    # everything in the period still has a row).
    base = (
        Q(status__in=OPEN_STATUSES)
        | Q(due_date__gte=start, due_date__lte=end)
        | Q(due_date__lte=end, paid_at__gte=start)
        | Q(due_date__lte=end, status="written_off", updated_at__gte=start_at)
    )
    installments = _scoped_installments(user, narrow).filter(inst_q)
    return _PeriodQueries(
        installments=installments.filter(base),
        open_installments=installments.filter(status__in=OPEN_STATUSES),
        due_installments=installments.filter(due_date__gte=start, due_date__lte=end),
        allocations=Allocation.objects.filter(
            via_q, reversed_at__isnull=True, allocated_on__gte=start
        ).order_by(),
        write_offs=WriteOff.objects.filter(
            via_q, status=WriteOffStatus.APPROVED, approved_at__gte=start_at
        ).order_by(),
        installment_sums=_installment_sums(start, end),
        open_sums=_open_sums(start, end),
        allocation_sums=_back_sums(Q(allocated_on__gt=end), start=start, end=end)
        | {"collected": _sum("amount", Q(allocated_on__lte=end, installment__due_date__lte=end))},
        write_off_sums=_back_sums(Q(approved_at__gte=after_end), start=start, end=end)
        | {"written_off": _sum("amount", Q(approved_at__lt=after_end))},
    )


# The installment sums a row of `_PeriodQueries.grouped` may carry (a missing one is zero).
INSTALLMENT_SUMS = ("o_before_start", "o_in_period", "o_on_end", "o_after_end", "c_due")


def _merge(
    group_by: str,
    days: int,
    installments: Iterable[dict],
    allocations: Iterable[dict],
    write_offs: Iterable[dict],
) -> dict[int | None, CollectionRow]:
    """Add the three aggregates up into one row per key column value (one pass over the
    grouped rows; unnamed but for the company row)."""
    rows: dict[int | None, CollectionRow] = {}
    column = _key_column(group_by)

    def row_of(values: dict, prefix: str = "") -> CollectionRow:
        key = values[prefix + column] if column else None
        if key not in rows:
            rows[key] = CollectionRow(key, "" if column else _company_label(), days)
        return rows[key]

    for values in installments:
        row = row_of(values)
        o_before_start, o_in_period, o_on_end, o_after_end, c_due = (
            values.get(name, ZERO) for name in INSTALLMENT_SUMS
        )
        before_end = o_before_start + o_in_period  # due before the end
        by_end = before_end + o_on_end  # due on or before the end
        row.due += c_due
        row.to_collect += by_end
        row.overdue_at_start += o_before_start
        row.receivable_at_end += by_end
        row.overdue_at_end += before_end
        row.open_at_end += by_end + o_after_end
    for values in allocations:
        row = row_of(values, "installment__")
        row.collected += values["collected"]
        _add_back(row, values)
    for values in write_offs:
        row = row_of(values, "installment__")
        row.written_off += values["written_off"]
        _add_back(row, values)
    return rows


def _add_back(row: CollectionRow, values: dict) -> None:
    row.to_collect += values["b_start_by_end"]
    row.overdue_at_start += values["b_start_before_start"]
    row.receivable_at_end += values["b_end_by_end"]
    row.overdue_at_end += values["b_end_before_end"]
    row.open_at_end += values["b_end_all"]


def collection_figures(
    *,
    user: User,
    start: date,
    end: date,
    group_by: str = "company",
    team: OrgUnit | None = None,
    owner: User | None = None,
    customer: Customer | None = None,
    search: str = "",
    limit: int = CUSTOMER_PAGE,
    offset: int = 0,
) -> CollectionReport:
    """Collected, due, to collect, collection rate, DSO, overdue ratio and bad-debt ratio of
    the period [start, end] (inclusive days) in `user`'s scope, one row per `group_by` key,
    and the total (see the module docstring for the definitions).

    For `group_by="customer"` the rows are one page (`limit` from `offset`) of the customers
    whose name contains `search` and that have an installment open now or falling due, paid
    or written off in the period: the largest open amount first, then the largest amount
    due in the period; the total is over all of them."""
    if end < start:
        raise ValueError("end is before start")
    _key_column(group_by)
    days = (end - start).days + 1
    narrow = {"team": team, "owner": owner, "customer": customer}
    search = (search or "").strip() if group_by == "customer" else ""
    queries = _period_queries(user, start, end, narrow=narrow, search=search)
    if group_by != "customer":
        return _collection_report(start, end, group_by, *queries.grouped(group_by))
    if group_by == "customer":
        limit, offset = _page_bounds(limit, offset)
        page = list(
            queries.per_customer()
            .alias(c_open=F("o_before_start") + F("o_in_period") + F("o_on_end") + F("o_after_end"))
            .order_by("-c_open", "-c_due", "customer_id")[offset : offset + limit + 1]
        )
        ids = [values["customer_id"] for values in page[:limit]]
        queries.allocations = queries.allocations.filter(installment__customer_id__in=ids)
        queries.write_offs = queries.write_offs.filter(installment__customer_id__in=ids)
        _i, allocations, write_offs = queries.grouped("customer")
        merged = _merge(group_by, days, page[:limit], allocations, write_offs)
        rows = _regroup(group_by, {pk: merged[pk] for pk in ids}, None)
        totals = _merge("company", days, *_queries_total(user, start, end, narrow, search))
        total = CollectionRow(None, str(_("Total")), days)
        total.add(totals[None])
        return CollectionReport(start, end, group_by, rows, total, len(page) > limit, offset, limit)
    raise AssertionError(group_by)  # pragma: no cover (checked by _key_column)


def _collection_report(
    start: date,
    end: date,
    group_by: str,
    installments: Iterable[dict],
    allocations: Iterable[dict],
    write_offs: Iterable[dict],
) -> CollectionReport:
    """The collection figures of a grouping other than the customer one from its grouped
    sums (`_PeriodQueries.grouped`)."""
    days = (end - start).days + 1
    merged = _merge(group_by, days, installments, allocations, write_offs)
    if group_by == "company":
        row = merged[None]
        total = CollectionRow(None, row.label, days)
        total.add(row)
        return CollectionReport(start, end, group_by, [row], total)
    rows = _regroup(group_by, merged, lambda key, label: CollectionRow(key, label, days))
    rows = [row for row in rows if not row.is_empty()]
    rows.sort(key=lambda r: (-r.to_collect, -r.due, r.label))
    total = CollectionRow(None, str(_("Total")), days)
    for row in rows:
        total.add(row)
    return CollectionReport(start, end, group_by, rows, total)


def aging_and_collection(
    *,
    user: User,
    as_of: date | None,
    start: date,
    end: date,
    group_by: str = "company",
    team: OrgUnit | None = None,
    owner: User | None = None,
    customer: Customer | None = None,
    search: str = "",
    limit: int = CUSTOMER_PAGE,
    offset: int = 0,
) -> tuple[AgingReport, CollectionReport]:
    """`aging(as_of=…)` and `collection_figures(start=…, end=…)` with the same grouping and
    narrowing (the figures page and its export), the same reports: but where the grouping
    is not by customer (whose rows each ranks its own way), the open installments are read
    once for both, the aging's sums and the collection figures' open sums in one pass."""
    if end < start:
        raise ValueError("end is before start")
    key = _key_column(group_by)
    common = {"user": user, "group_by": group_by, "team": team, "owner": owner,
              "customer": customer, "search": search, "limit": limit, "offset": offset}  # fmt: skip
    if group_by == "customer":
        return aging(as_of=as_of, **common), collection_figures(start=start, end=end, **common)
    on = as_of or today()
    narrow = {"team": team, "owner": owner, "customer": customer}
    queries = _period_queries(user, start, end, narrow=narrow, search="")
    # The aging's sums are named a_*, the collection's o_*: one row carries both.
    grouped = _grouped_open(queries.open_installments, key, _aging_sums(on) | queries.open_sums)
    _open, allocations, write_offs = queries.grouped(group_by, open_rows=grouped)
    return (
        _aging_report(on, group_by, grouped),
        _collection_report(start, end, group_by, _open, allocations, write_offs),
    )


def _queries_total(
    user: User, start: date, end: date, narrow: dict, search: str
) -> tuple[Iterable[dict], Iterable[dict], Iterable[dict]]:
    """The company-wide (in scope) aggregates of a period: the total of a paged grouping."""
    return _period_queries(user, start, end, narrow=narrow, search=search).grouped("company")


# --- drill-down to documents ---------------------------------------------------------------


@dataclass
class CustomerInstallments:
    """The open installments of one customer with their days past due as of a day."""

    as_of: date
    rows: list[Installment] = field(default_factory=list)
    has_next: bool = False


def customer_installments(
    *, user: User, customer: Customer, as_of: date | None = None, page: int = 1, per_page: int = 50
) -> CustomerInstallments:
    """One page of `customer`'s open installments in `user`'s scope, oldest due first, with
    `open_value`, `days_overdue` (as of `as_of`, 0 when not overdue) and `bucket`."""
    on = as_of or today()
    qs = (
        Installment.objects.visible_to(user)
        .filter(customer_id=customer.pk, status__in=OPEN_STATUSES)
        .select_related("contract", "owner")
        .annotate(
            open_value=open_amount_expr(),
            days_overdue=models.Case(
                models.When(due_date__lt=on, then=DaysSince(on, "due_date")),
                default=Value(0),
                output_field=models.IntegerField(),
            ),
            bucket=bucket_expr(on),
        )
        .order_by("due_date", "sequence", "id")
    )
    rows, has_next = page_of(qs, number=page, per_page=per_page)
    return CustomerInstallments(on, rows, has_next)
