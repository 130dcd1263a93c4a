"""Reads of targets (目标), scoped to the caller:

- a rep sees their own rep targets, the targets of their own unit and the company's;
- a supervisor or manager sees the company's targets, the targets of the units they head and
  of every unit below, and the rep targets of the reps in them (by the unit the target was set
  for, or the rep's current unit);
- admins, finance and the ERP see every target.

A target outside the scope is absent: its page and its API detail answer 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import Scope, headed_paths, scope_of

from .choices import ScopeKind
from .models import Target, TargetVersion


def _subtree_q(paths: list[str], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def target_visible_q(user: Any) -> Q:
    """The targets `user` may see (see the module docstring)."""
    scope = scope_of(user, money=True)  # finance sees every target (money figures)
    if scope is Scope.ALL:
        return Q()
    if scope is Scope.NONE:
        return Q(pk__in=[])
    q = Q(scope_kind=ScopeKind.COMPANY) | Q(scope_kind=ScopeKind.REP, user_id=user.pk)
    if user.org_unit_id:
        q |= Q(scope_kind=ScopeKind.UNIT, org_unit_id=user.org_unit_id)
    paths = headed_paths(user) if user.role != Role.REP else []
    if paths:
        units = _subtree_q(paths, "org_unit__")
        q |= Q(scope_kind=ScopeKind.UNIT) & units
        q |= Q(scope_kind=ScopeKind.REP) & (units | _subtree_q(paths, "user__org_unit__"))
    return q


def target_list(
    *,
    user: Any,
    metric: str | None = None,
    period_kind: str | None = None,
    year: int | None = None,
    scope_kind: str | None = None,
    unit: int | OrgUnit | None = None,
    rep: int | User | None = None,
    status: str | None = None,
) -> QuerySet[Target]:
    """Targets `user` may see, newest period first, with their unit and rep loaded and
    `has_children` (split or not) annotated: one query for a page."""
    queryset = (
        Target.objects.filter(target_visible_q(user))
        .select_related("org_unit", "user")
        .annotate(has_children=Exists(Target.objects.filter(parent_id=OuterRef("pk"))))
        .order_by("-period_start", "period_end", "metric", "scope_kind", "org_unit__path", "id")
    )
    if metric:
        queryset = queryset.filter(metric=metric)
    if period_kind:
        queryset = queryset.filter(period_kind=period_kind)
    if year:
        queryset = queryset.filter(period_start__year=year)
    if scope_kind:
        queryset = queryset.filter(scope_kind=scope_kind)
    if unit:
        queryset = queryset.filter(org_unit_id=getattr(unit, "pk", unit))
    if rep:
        queryset = queryset.filter(user_id=getattr(rep, "pk", rep))
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def target_get(*, user: Any, pk: Any) -> Target:
    """One target in `user`'s scope (its scope, parent, author loaded), else 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    target = (
        Target.objects.filter(target_visible_q(user))
        .select_related(
            "org_unit", "user", "parent", "parent__org_unit", "parent__user", "created_by", "plan"
        )
        .filter(pk=pk)
        .first()
    )
    if target is None:
        raise Http404
    return target


def target_is_visible(*, user: Any, pk: int | None) -> bool:
    """Whether `user` may open target `pk` (e.g. a parent target, to link to it)."""
    if pk is None:
        return False
    return Target.objects.filter(target_visible_q(user), pk=pk).exists()


def target_versions(target: Target) -> QuerySet[TargetVersion]:
    """Every version of `target`, newest first, with who changed it."""
    return target.versions.select_related("changed_by").order_by("-version")


def settable_units(user: Any) -> QuerySet[OrgUnit]:
    """The active units `user` may set targets for (the create form's choices)."""
    units = OrgUnit.objects.filter(is_active=True).order_by("path")
    if user.is_superuser or user.role == Role.ADMIN:
        return units
    if user.role not in (Role.SUPERVISOR, Role.MANAGER):
        return units.none()
    return units.filter(_subtree_q(headed_paths(user), ""))


def settable_reps(user: Any) -> QuerySet[User]:
    """The active reps `user` may set targets for (the create form's choices)."""
    reps = (
        User.objects.filter(is_active=True, role=Role.REP, org_unit__isnull=False)
        .select_related("org_unit")
        .order_by("org_unit__path", "username")
    )
    if user.is_superuser or user.role == Role.ADMIN:
        return reps
    if user.role not in (Role.SUPERVISOR, Role.MANAGER):
        return reps.none()
    return reps.filter(_subtree_q(headed_paths(user), "org_unit__")).exclude(pk=user.pk)
