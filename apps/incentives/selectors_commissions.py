"""Reads of the commissions part, restricted to who may see them:

- statements (a money document, `scope_money`): the rep their own (any state), a head those
  of the reps in their units and below, finance, admins and integration users all; anything
  else is absent (404);
- plans: admins, finance and integration users all; anyone else the plans that may apply to
  them (a plan for every rep, for their unit or a unit above it, for a unit they head or one
  below it) and the plans of the statements they see.

Every queryset carries what its pages and the API show (select_related / prefetch), so a list
costs a fixed number of queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404

from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import Scope, headed_paths, scope_of

from .models import (
    CommissionAdjustment,
    CommissionLine,
    CommissionPlan,
    CommissionStatement,
    CommissionTier,
)

ZERO = Decimal("0")


# --- statements ------------------------------------------------------------------------------


@dataclass
class StatementFilters:
    month: date | None = None
    status: str = ""
    unit: OrgUnit | None = None  # the statement's unit (at the month's end) and below
    rep: int | None = None
    search: str = ""  # part of the rep's name or username


def statement_list(
    *, user: User, filters: StatementFilters | None = None
) -> QuerySet[CommissionStatement]:
    """The statements `user` may see, newest month first, then by team and rep."""
    f = filters or StatementFilters()
    qs = (
        CommissionStatement.objects.visible_to(user)
        .select_related("rep", "rep__org_unit", "org_unit", "plan")
        .order_by("-month", "org_unit__path", "rep__username", "id")
    )
    if f.month is not None:
        qs = qs.filter(month=f.month)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.unit is not None:
        qs = qs.filter(org_unit__path__startswith=f.unit.path)
    if f.rep is not None:
        qs = qs.filter(rep_id=f.rep)
    search = (f.search or "").strip()
    if search:
        names = User.objects.alias(
            full=Concat("last_name", "first_name"),
            spaced=Concat("first_name", Value(" "), "last_name"),
        ).filter(
            Q(username__icontains=search) | Q(full__icontains=search) | Q(spaced__icontains=search)
        )
        qs = qs.filter(rep_id__in=names.values("pk"))
    return qs


def statement_get(*, user: User, pk: int) -> CommissionStatement:
    """One statement `user` may see, with its plan's tiers, else 404."""
    qs = (
        statement_list(user=user)
        .select_related("exported_by")
        .prefetch_related(Prefetch("plan__tiers", queryset=_tiers_with_pct()))
    )
    return get_object_or_404(qs, pk=pk)


@dataclass
class StatementTotals:
    count: int
    collected: Decimal
    base: Decimal
    tier_amount: Decimal
    accelerator_amount: Decimal
    earned: Decimal
    adjustments: Decimal
    payable: Decimal


def statement_totals(qs: QuerySet[CommissionStatement]) -> StatementTotals:
    """The sums of a filtered list (all its rows, not a page): one query."""
    names = ("collected", "base", "tier_amount", "accelerator_amount", "earned", "adjustments",
             "payable")  # fmt: skip
    sums = qs.order_by().aggregate(count=Count("id"), **{name: Sum(name) for name in names})
    return StatementTotals(count=sums["count"] or 0, **{name: sums[name] or ZERO for name in names})


def statement_lines(statement: CommissionStatement) -> QuerySet[CommissionLine]:
    """The collections behind a statement, in date order, with their payment, contract,
    customer and installment."""
    return (
        CommissionLine.objects.filter(statement=statement)
        .select_related("allocation", "contract", "contract__customer", "installment")
        .order_by("received_on", "id")
    )


def statement_adjustments(statement: CommissionStatement) -> list[CommissionAdjustment]:
    """The adjustments booked on this statement (of earlier, closed months)."""
    return list(statement.adjustment_lines.order_by("source_month", "id"))


def adjustments_of_month(statement: CommissionStatement) -> list[CommissionAdjustment]:
    """The adjustments of this statement's month booked later on other statements (a closed
    month is never changed: what changed after is booked there)."""
    return list(
        CommissionAdjustment.objects.filter(
            statement__rep_id=statement.rep_id, source_month=statement.month
        )
        .exclude(statement_id=statement.pk)
        .select_related("statement")
        .order_by("id")
    )


# --- plans -----------------------------------------------------------------------------------


def _tiers_with_pct() -> QuerySet[CommissionTier]:
    """The tiers in order, each with `rate_pct` (the rate in percent) for display."""
    return CommissionTier.objects.annotate(rate_pct=F("rate") * 100).order_by("from_amount")


def _sees_all_plans(user: User) -> bool:
    from .commissions import can_manage_plans

    return scope_of(user) is Scope.ALL or can_manage_plans(user)


def plan_list(*, user: User, active: bool | None = None) -> QuerySet[CommissionPlan]:
    """The plans `user` may see (see the module docstring), active first, newest first."""
    qs = CommissionPlan.objects.prefetch_related(
        Prefetch("units", queryset=OrgUnit.objects.order_by("path")),
        Prefetch("tiers", queryset=_tiers_with_pct()),
        "factors",
    ).annotate(statement_count=Count("statements", distinct=True))
    if scope_of(user) is Scope.NONE:
        return qs.none()
    if not _sees_all_plans(user):
        links = CommissionPlan.units.through.objects
        q = ~Q(pk__in=links.values("commissionplan_id"))  # a plan for every rep
        if user.org_unit_id:
            chain = [int(part) for part in user.org_unit.path.split(".") if part]
            q |= Q(pk__in=links.filter(orgunit_id__in=chain).values("commissionplan_id"))
        for path in headed_paths(user):
            q |= Q(pk__in=links.filter(orgunit__path__startswith=path).values("commissionplan_id"))
        q |= Q(pk__in=CommissionStatement.objects.visible_to(user).values("plan_id"))
        qs = qs.filter(q)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("-is_active", "-valid_from", "name", "id")


def plan_get(*, user: User, pk: int) -> CommissionPlan:
    return get_object_or_404(plan_list(user=user), pk=pk)
