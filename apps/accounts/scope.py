"""Data scope (数据权限): what records a user may see.

Every later app restricts its querysets through this module, so the rule lives in one place:

- **all**: admins, integration users (an ERP mirrors the whole company), and finance for money
  documents (models that set ``scope_money = True``);
- **subtree**: a user who heads org units sees their own records plus the records owned by
  everyone in those units and all units below them, recursively;
- **own**: everyone else sees the records they own.

A model opts in by using `ScopedQuerySet` (or `ScopedManager`) and, if its owner is not the
``owner`` field, by naming it in ``scope_owner_field`` (e.g. ``"customer__owner"``). Selectors
then call ``Model.objects.visible_to(user)``. An object outside the scope is simply absent from
the queryset, so a detail lookup answers 404, never a 403 that leaks its existence.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from .choices import Role

if TYPE_CHECKING:
    from .models import User

ALL_SCOPE_ROLES = frozenset({Role.ADMIN, Role.INTEGRATION})


class Scope(enum.StrEnum):
    NONE = "none"
    OWN = "own"
    SUBTREE = "subtree"
    ALL = "all"


def headed_paths(user: User) -> list[str]:
    """Tree paths of the active units `user` heads, cached on the user object for the request."""
    cached = getattr(user, "_headed_paths", None)
    if cached is None:
        from .models import OrgUnit

        cached = list(
            OrgUnit.objects.filter(head_id=user.pk, is_active=True).values_list("path", flat=True)
        )
        user._headed_paths = cached
    return cached


def scope_of(user: Any, *, money: bool = False) -> Scope:
    """The scope `user` has over a kind of record (`money`: a money document)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope.NONE
    if user.is_superuser or user.role in ALL_SCOPE_ROLES:
        return Scope.ALL
    if money and user.role == Role.FINANCE:
        return Scope.ALL
    if headed_paths(user):
        return Scope.SUBTREE
    return Scope.OWN


def _subtree_q(paths: list[str], prefix: str) -> Q:
    q = Q()
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def visible_users(user: User) -> models.QuerySet:
    """The users whose records `user` may see (a queryset usable as a subquery)."""
    from .models import User as UserModel

    scope = scope_of(user)
    if scope is Scope.ALL:
        return UserModel.objects.all()
    if scope is Scope.NONE:
        return UserModel.objects.none()
    q = Q(pk=user.pk)
    if scope is Scope.SUBTREE:
        q |= _subtree_q(headed_paths(user), "org_unit__")
    return UserModel.objects.filter(q)


def scope_q(user: Any, *, owner_field: str = "owner", money: bool = False) -> Q:
    """A filter restricting a queryset whose owner is `owner_field` to what `user` may see."""
    scope = scope_of(user, money=money)
    if scope is Scope.ALL:
        return Q()
    if scope is Scope.NONE:
        return Q(pk__in=[])
    if scope is Scope.OWN:
        return Q(**{owner_field: user.pk})
    return Q(**{f"{owner_field}__in": visible_users(user).values("pk")})


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows how to restrict itself to a user's data scope."""

    def visible_to(self, user: Any) -> ScopedQuerySet:
        model = self.model
        return self.filter(
            scope_q(
                user,
                owner_field=getattr(model, "scope_owner_field", "owner"),
                money=getattr(model, "scope_money", False),
            )
        )


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def can_see_user(viewer: User, owner_id: int | None) -> bool:
    """Whether `viewer` may see a record owned by user `owner_id` (for a single object)."""
    if owner_id is None:
        return scope_of(viewer) is Scope.ALL
    return visible_users(viewer).filter(pk=owner_id).exists()
