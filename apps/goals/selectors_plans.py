"""Reads of sales plans and target adjustments, restricted to the user's scope (else 404).

- A plan: its author, the heads of its unit and of the units above, administrators; the members
  of its unit see it once approved (read only).
- An adjustment: its applicant, the heads of the target's unit (or of the rep's unit) and
  above, administrators.
- A target to adjust: the user's own rep targets and the targets of the units they head.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import ALL_SCOPE_ROLES, headed_paths

from .choices import DocumentStatus, ScopeKind, TargetStatus
from .models import SalesPlan, Target, TargetAdjustment, TargetVersion


def _sees_all(user: User) -> bool:
    return bool(user.is_superuser or user.role in ALL_SCOPE_ROLES)


def _under(paths: list[str], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def _heads_a_top_unit(user: User) -> bool:
    return any(path.count(".") == 1 for path in headed_paths(user))


# --- plans ----------------------------------------------------------------------------------


def plan_visible_q(user: User) -> Q:
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if _sees_all(user):
        return Q()
    q = Q(owner_id=user.pk) | _under(headed_paths(user), "org_unit__")
    if user.org_unit_id:
        q |= Q(org_unit_id=user.org_unit_id, status=DocumentStatus.APPROVED)
    return q


@dataclass(frozen=True)
class PlanFilters:
    status: str = ""
    org_unit: int | None = None
    period_kind: str = ""
    day: date | None = None  # plans whose period contains this day


def plan_list(*, user: User, filters: PlanFilters | None = None) -> QuerySet[SalesPlan]:
    """The plans `user` may see, newest period first."""
    qs = SalesPlan.objects.filter(plan_visible_q(user)).select_related("owner", "org_unit")
    filters = filters or PlanFilters()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.org_unit:
        qs = qs.filter(org_unit_id=filters.org_unit)
    if filters.period_kind:
        qs = qs.filter(period_kind=filters.period_kind)
    if filters.day:
        qs = qs.filter(period_start__lte=filters.day, period_end__gte=filters.day)
    return qs.order_by("-period_start", "-id")


def plan_get(*, user: User, pk: int) -> SalesPlan:
    """One plan in scope (else 404) with its targets and their reps."""
    return get_object_or_404(
        SalesPlan.objects.filter(plan_visible_q(user))
        .select_related("owner", "org_unit")
        .prefetch_related(
            Prefetch(
                "targets",
                queryset=Target.objects.select_related("user").order_by("metric", "id"),
            )
        ),
        pk=pk,
    )


def plan_unit_choices(*, user: User) -> QuerySet[OrgUnit]:
    """The active units `user` may write a plan for: the units they head and those below; an
    administrator: all."""
    units = OrgUnit.objects.filter(is_active=True)
    if user.is_superuser or user.role == Role.ADMIN:
        return units.order_by("path")
    return units.filter(_under(headed_paths(user), "")).order_by("path")


def plan_filter_units(*, user: User) -> QuerySet[OrgUnit]:
    """The units offered by the list's unit filter."""
    if _sees_all(user):
        return OrgUnit.objects.filter(is_active=True).order_by("path")
    q = _under(headed_paths(user), "")
    if user.org_unit_id:
        q |= Q(pk=user.org_unit_id)
    return OrgUnit.objects.filter(q, is_active=True).order_by("path")


# --- adjustments ----------------------------------------------------------------------------


def adjustment_visible_q(user: User) -> Q:
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if _sees_all(user):
        return Q()
    paths = headed_paths(user)
    q = (
        Q(owner_id=user.pk)
        | _under(paths, "target__org_unit__")
        | _under(paths, "target__user__org_unit__")
    )
    if _heads_a_top_unit(user):
        q |= Q(target__scope_kind=ScopeKind.COMPANY)
    return q


@dataclass(frozen=True)
class AdjustmentFilters:
    status: str = ""


def adjustment_list(
    *, user: User, filters: AdjustmentFilters | None = None
) -> QuerySet[TargetAdjustment]:
    """The adjustments `user` may see, latest change first."""
    qs = TargetAdjustment.objects.filter(adjustment_visible_q(user)).select_related(
        "owner", "target__org_unit", "target__user"
    )
    filters = filters or AdjustmentFilters()
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.order_by("-updated_at", "-id")


def adjustment_get(*, user: User, pk: int) -> TargetAdjustment:
    """One adjustment in scope (else 404) with its target and the target's versions."""
    return get_object_or_404(
        TargetAdjustment.objects.filter(adjustment_visible_q(user))
        .select_related("owner", "target__org_unit", "target__user", "target__parent")
        .prefetch_related(
            Prefetch(
                "target__versions",
                queryset=TargetVersion.objects.select_related("changed_by", "adjustment").order_by(
                    "version"
                ),
            )
        ),
        pk=pk,
    )


def target_visible_for_adjustment_q(user: User) -> Q:
    """Targets `user` may look at to propose an adjustment: own rep targets, the targets of the
    units they head (and of their reps); everything for an administrator."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if _sees_all(user):
        return Q()
    paths = headed_paths(user)
    q = Q(user_id=user.pk) | _under(paths, "org_unit__") | _under(paths, "user__org_unit__")
    if _heads_a_top_unit(user):
        q |= Q(scope_kind=ScopeKind.COMPANY)
    return q


def target_for_adjustment_get(*, user: User, pk: int) -> Target:
    """A live target in the user's sight (else 404), with its versions."""
    return get_object_or_404(
        Target.objects.filter(target_visible_for_adjustment_q(user))
        .exclude(status=TargetStatus.DRAFT)
        .select_related("org_unit", "user__org_unit", "parent")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=TargetVersion.objects.select_related("changed_by").order_by("version"),
            )
        ),
        pk=pk,
    )
