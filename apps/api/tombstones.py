"""Tombstones (墓碑): what was deleted, for the systems that mirror salesctl through the API
(API.md "ERP integration"; the feed is `apps.api.api_tombstones`).

Most records are never deleted: a payment is reversed, a contract terminated, an opportunity
lost, a lead closed, and each of those is a status that `updated_since` already serves. A few
are deleted for real, and a mirror learns that only from here:

- `installments`: the unpaid installments a contract amendment replaces
  (`apps.contracts.services`);
- `targets`: the draft targets a sales plan replaces or drops (`apps.goals.plans`), with their
  `target-adjustments`;
- `delegations`: a delegation its approver cancels (`apps.approvals.delegations`);
- `webhooks`: a deleted subscription (`apps.webhooks.services`);
- `customers`, `contacts`: deleted in the admin site.

Receivers of `pre_delete` and `post_delete` per model write the tombstones in the transaction
of the delete, so a rolled-back delete leaves none. Django's collector sends both signals for
every row, also for `QuerySet.delete()` and for the rows a delete cascades to (a model with a
receiver is never "fast-deleted"), inside the delete's own transaction: all the `pre_delete`
first, then, after the DELETE statements, all the `post_delete`. An INSERT per row made deleting
2,000 draft targets five times as slow (1.0 s → 5.3 s, in salesctl_scale), so the receivers
count the rows of one deletion (its `origin`) in `pre_delete` and write their tombstones in one
INSERT at its last `post_delete` (0.5 s → 0.9 s).

Who sees a tombstone (`visible_q`), by the resource's `audience`:

- `scope` (most): company-wide users (admins, integration users, finance for money records)
  see all; others see the tombstones of records whose owner is in their data scope, of records
  of their org unit or of units they head (a unit's target), and of records that had neither
  owner nor unit (a pool customer, the company's target), which every reader of the resource
  could see;
- `own`: only the record's owner (a delegation is seen by its approver only);
- `managers`: only those who manage the resource (webhooks: admins and integration users).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connections
from django.db.models import Model, Q
from django.db.models.signals import post_delete, pre_delete

from apps.accounts.scope import Scope, _subtree_q, headed_paths, scope_of, visible_users

from .models import Tombstone


def _none(obj: Any) -> int | None:
    return None


def _nobody(user: Any) -> bool:
    return False


@dataclass(frozen=True)
class TombstoneResource:
    """A resource whose deletions are recorded: its API name, its model (app label.Model), and
    how to read the scope of one of its records as it is being deleted."""

    name: str
    model: str
    owner: Callable[[Any], int | None] = _none
    org_unit: Callable[[Any], int | None] = _none
    audience: str = "scope"  # "scope" | "own" | "managers"
    money: bool = False  # finance sees all of it, as with the records themselves
    manages: Callable[[Any], bool] = _nobody


def _contact_owner(contact: Any) -> int | None:
    from apps.customers.models import Customer

    # Cascaded from the customer's own delete, the customer row is still there: Django deletes
    # the dependent rows (and sends their post_delete) first.
    return (
        Customer.objects.filter(pk=contact.customer_id).values_list("owner_id", flat=True).first()
    )


def _target_unit(target: Any) -> int | None:
    return target.org_unit_id if target.user_id is None else None


def _manages_webhooks(user: Any) -> bool:
    from apps.webhooks.services import can_manage

    return can_manage(user)


RESOURCES: dict[str, TombstoneResource] = {
    r.name: r
    for r in (
        TombstoneResource(
            "customers", "customers.Customer", owner=lambda c: c.owner_id, money=True
        ),
        TombstoneResource("contacts", "customers.Contact", owner=_contact_owner, money=True),
        TombstoneResource(
            "installments", "receivables.Installment", owner=lambda i: i.owner_id, money=True
        ),
        TombstoneResource(
            "targets",
            "goals.Target",
            owner=lambda t: t.user_id,
            org_unit=_target_unit,
            money=True,  # as `apps.goals.selectors.target_visible_q`
        ),
        TombstoneResource(
            "target-adjustments", "goals.TargetAdjustment", owner=lambda a: a.owner_id
        ),
        TombstoneResource(
            "delegations", "approvals.Delegation", owner=lambda d: d.user_id, audience="own"
        ),
        TombstoneResource(
            "webhooks",
            "webhooks.WebhookSubscription",
            audience="managers",
            manages=_manages_webhooks,
        ),
    )
}


@dataclass
class _Deletion:
    """The tombstones of one deletion (one collector run) under way: how many rows it deletes
    of the resources, and the tombstones of those already deleted. Holding `origin` keeps its
    id from being reused while the deletion runs."""

    origin: Any
    expected: int = 0
    rows: list[Tombstone] = field(default_factory=list)


def _deletions(using: str) -> dict[int, _Deletion]:
    """The deletions under way on connection `using` (a connection belongs to one thread)."""
    connection = connections[using]
    deletions = getattr(connection, "_tombstone_deletions", None)
    if deletions is None:
        deletions = connection._tombstone_deletions = {}
    return deletions


def _before_delete(sender: type[Model], instance: Model, using: str, **kwargs: Any) -> None:
    origin = kwargs.get("origin")
    deletion = _deletions(using).setdefault(id(origin), _Deletion(origin))
    deletion.expected += 1


def _tombstone(resource: TombstoneResource, instance: Model) -> Tombstone:
    return Tombstone(
        resource=resource.name,
        object_id=instance.pk,
        external_id=getattr(instance, "external_id", "") or "",
        owner_id=resource.owner(instance),
        org_unit_id=resource.org_unit(instance),
    )


def _after_delete(resource: TombstoneResource) -> Callable[..., None]:
    def receiver(sender: type[Model], instance: Model, using: str, **kwargs: Any) -> None:
        deletions = _deletions(using)
        key = id(kwargs.get("origin"))
        deletion = deletions.get(key)
        if deletion is None:  # a post_delete without its pre_delete: write it alone
            Tombstone.objects.using(using).bulk_create([_tombstone(resource, instance)])
            return
        deletion.rows.append(_tombstone(resource, instance))
        if len(deletion.rows) >= deletion.expected:
            del deletions[key]
            Tombstone.objects.using(using).bulk_create(deletion.rows)

    return receiver


def connect() -> None:
    """Connect the receivers to each resource's model (from `ApiConfig.ready`)."""
    for resource in RESOURCES.values():
        model = apps.get_model(resource.model)
        uid = f"tombstone:{resource.name}"
        pre_delete.connect(_before_delete, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(_after_delete(resource), sender=model, weak=False, dispatch_uid=uid)


def _scope_q(user: Any, resource: TombstoneResource) -> Q:
    scope = scope_of(user, money=resource.money)
    if scope is Scope.ALL:
        return Q()
    if scope is Scope.NONE:
        return Q(pk__in=[])
    nobody = Q(owner__isnull=True)
    units = Q(org_unit_id=user.org_unit_id) if user.org_unit_id else Q(pk__in=[])
    if scope is Scope.OWN:
        owners = Q(owner_id=user.pk)
    else:
        owners = Q(owner_id__in=visible_users(user).values("pk"))
        units |= _subtree_q(headed_paths(user), "org_unit__")
    return (nobody & Q(org_unit__isnull=True)) | owners | (nobody & units)


def visible_q(user: Any, resource: TombstoneResource) -> Q:
    """The tombstones of `resource` that `user` may see (see the module docstring)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if resource.audience == "own":
        return Q(owner_id=user.pk)
    if resource.audience == "managers":
        return Q() if resource.manages(user) else Q(pk__in=[])
    return _scope_q(user, resource)


def tombstone_list(*, user: Any, resources: list[str] | None = None) -> Any:
    """The tombstones `user` may see, of `resources` (default: all), oldest deletion first."""
    q = Q(pk__in=[])
    for name in resources or list(RESOURCES):
        q |= Q(resource=name) & visible_q(user, RESOURCES[name])
    return Tombstone.objects.filter(q).order_by("deleted_at", "id")
