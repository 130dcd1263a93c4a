"""Reads of users and org units, restricted to the caller's data scope."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .choices import OrgUnitKind
from .models import OrgUnit, User
from .scope import Scope, headed_paths, scope_of, scope_q


def user_list(*, user: User, search: str = "") -> QuerySet[User]:
    """Users `user` may see: their own row and the members of the units they head; everyone
    for admins, integration users and finance (finance reads every money document, so it must
    know every owner; like the org tree in `org_unit_list`)."""
    qs = User.objects.filter(scope_q(user, owner_field="pk", money=True)).select_related("org_unit")
    if search:
        qs = qs.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
        )
    return qs.order_by("username")


def user_get(*, user: User, pk: int) -> User:
    """One user within scope, else 404."""
    return get_object_or_404(user_list(user=user), pk=pk)


def org_unit_list(*, user: User) -> QuerySet[OrgUnit]:
    """Org units `user` may see: the chain above their own unit and every unit under the units
    they head; all units for admins, integration users and finance (finance sees all money
    documents, and needs the whole tree to read them)."""
    qs = OrgUnit.objects.select_related("parent", "head")
    scope = scope_of(user, money=True)
    if scope is Scope.ALL:
        return qs
    if scope is Scope.NONE:
        return qs.none()
    q = Q(pk__in=[])
    if user.org_unit_id:
        own_path = user.org_unit.path
        ancestor_ids = [int(part) for part in own_path.split(".") if part]
        q |= Q(pk__in=ancestor_ids)
    for path in headed_paths(user):
        q |= Q(path__startswith=path)
    return qs.filter(q)


def org_unit_get(*, user: User, pk: int) -> OrgUnit:
    return get_object_or_404(org_unit_list(user=user), pk=pk)


def org_tree(*, user: User) -> list[tuple[OrgUnit, int]]:
    """Visible units in tree order with their depth, for the org chart page."""
    units = list(org_unit_list(user=user).order_by("path"))
    if not units:
        return []
    base = min(u.depth for u in units)
    return [(u, u.depth - base) for u in units]


def unit_chain(unit: OrgUnit | None) -> list[OrgUnit]:
    """The unit and its ancestors, nearest first, with their heads (one query, from the
    materialized path)."""
    if unit is None:
        return []
    ids = [int(part) for part in unit.path.split(".") if part]
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=ids).select_related("head")}
    return [units[i] for i in reversed(ids) if i in units]


def first_head(units: list[OrgUnit], user: User) -> User | None:
    """The head of the first active unit of `units` headed by an active user other than
    `user`."""
    for unit in units:
        head = unit.head
        if unit.is_active and head is not None and head.is_active and head.pk != user.pk:
            return head
    return None


def supervisor_of(user: User) -> User | None:
    """The user's direct supervisor (直属上级): the head of their unit, or of the nearest unit
    above headed by someone else — the one rule for alerts, escalations and the approval
    step "direct supervisor"."""
    return first_head(unit_chain(user.org_unit), user)


def supervisors_of(users: list[User]) -> dict[int, User | None]:
    """`supervisor_of` each of `users` (with their `org_unit` loaded) — {user id: supervisor
    or None} — from one query of the units on their paths, whatever their number."""
    paths = {u.pk: [int(part) for part in u.org_unit.path.split(".") if part]
             for u in users if u.org_unit is not None}  # fmt: skip
    wanted = {pk for ids in paths.values() for pk in ids}
    units = OrgUnit.objects.filter(pk__in=wanted).select_related("head").in_bulk() if wanted else {}
    return {
        user.pk: first_head([units[pk] for pk in reversed(paths.get(user.pk, [])) if pk in units],
                            user)
        for user in users
    }  # fmt: skip


def seller_name() -> str:
    """The selling company's name on printed documents (quotes, contracts, statements of
    account): the ``COMPANY_NAME`` setting, else the root company unit's name."""
    configured = getattr(settings, "COMPANY_NAME", "")
    if configured:
        return configured
    company = (
        OrgUnit.objects.filter(kind=OrgUnitKind.COMPANY, parent__isnull=True)
        .order_by("id")
        .values_list("name", flat=True)
        .first()
    )
    return company or "salesctl"
