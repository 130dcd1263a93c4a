"""Delegations (代理审批): a user names a delegate who approves in their place for a date range.

Reads and writes of a user's own delegations. The approval engine applies them when it opens a
step (`apps.approvals.resolution.apply_delegation`); this module only keeps them. A user manages
their own delegations only: nobody sets a delegate for someone else.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from apps.accounts.models import User

from .models import Delegation


def delegation_list(*, user: User) -> QuerySet[Delegation]:
    """The delegations `user` set up (as the approver who is away), newest start first."""
    if not getattr(user, "is_authenticated", False):
        return Delegation.objects.none()
    return (
        Delegation.objects.filter(user_id=user.pk)
        .select_related("user", "delegate")
        .order_by("-starts_on", "-id")
    )


def delegation_get(*, user: User, pk: int) -> Delegation:
    """One of `user`'s own delegations, else 404 (another user's delegation does not exist for
    them)."""
    return get_object_or_404(delegation_list(user=user), pk=pk)


def _validate(*, user: User, delegate: User, starts_on: date, ends_on: date) -> None:
    errors: dict[str, ValidationError] = {}
    if ends_on < starts_on:
        errors["ends_on"] = ValidationError(
            _("The end date cannot be before the start date."), code="dates_not_ordered"
        )
    if delegate.pk == user.pk:
        errors["delegate"] = ValidationError(
            _("You cannot delegate to yourself."), code="self_delegation"
        )
    elif not delegate.is_active:
        errors["delegate"] = ValidationError(
            _("This user is inactive and cannot approve in your place."), code="inactive"
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def delegation_create(
    *, user: User, delegate: User, starts_on: date, ends_on: date, reason: str = ""
) -> Delegation:
    """`user` delegates their approvals to `delegate` from `starts_on` to `ends_on` (both
    included), e.g. for a leave. Tasks opened in that range go to the delegate, on behalf of
    `user`; tasks already waiting stay with `user`.

    The rules the database also enforces (ordered dates, not oneself) are checked here first
    so that the caller learns which field is wrong, in their language.
    """
    _validate(user=user, delegate=delegate, starts_on=starts_on, ends_on=ends_on)
    # One delegate a day: lock the user's row so that two overlapping requests at once cannot
    # both pass the check.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if Delegation.objects.filter(
        user_id=user.pk, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exists():
        raise ValidationError(
            {
                "starts_on": ValidationError(
                    _("You already have a delegate for part of these dates."), code="overlap"
                )
            }
        )
    return Delegation.objects.create(
        user=user,
        delegate=delegate,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=(reason or "").strip(),
    )


@transaction.atomic
def delegation_delete(*, delegation: Delegation, by: User) -> None:
    """`by` cancels one of their own delegations. Tasks already handed to the delegate stay
    with the delegate (they were assigned when the step opened)."""
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if delegation.user_id != by.pk:
        raise PermissionDenied(_("You can only cancel your own delegations."))
    delegation.delete()
