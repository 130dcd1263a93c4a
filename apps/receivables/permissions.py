"""Who may do what with receivables (DESIGN.md "receivables", "Data scope").

Finance records, allocates and reverses payments (回款/核销/冲销) and applies for bad-debt
write-offs (坏账核销); the integration user (ERP) posts and allocates payments through the API;
admins may do all of it. Reps, supervisors and managers read the installments and payments of
their scope (the selectors restrict it) and work their overdue list. The services are the
authority (they raise 403/409); pages and `available_transitions` read the same rules to show
the right buttons.
"""

from __future__ import annotations

from apps.accounts.choices import Role
from apps.accounts.models import User

from .choices import PaymentStatus, WriteOffStatus
from .models import Payment, WriteOff

# Those who handle the money documents themselves.
MONEY_ROLES = frozenset({Role.FINANCE, Role.ADMIN, Role.INTEGRATION})
# The finance workbench: the desk of finance, and the managers who watch collections.
WORKBENCH_ROLES = frozenset({Role.FINANCE, Role.ADMIN, Role.MANAGER})
WRITEOFF_ROLES = frozenset({Role.FINANCE, Role.ADMIN})

PAYMENT_TRANSITIONS = ("allocate", "reverse")


def _has_role(user: User, roles: frozenset[str]) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or user.role in roles)
    )


def can_record_payment(user: User) -> bool:
    """Finance, admins and the ERP integration user record payments."""
    return _has_role(user, MONEY_ROLES)


def can_allocate(user: User) -> bool:
    """Who allocates (核销) a payment to installments, or takes an allocation back."""
    return _has_role(user, MONEY_ROLES)


def can_reverse_payment(user: User) -> bool:
    """Who reverses (冲销) a wrong payment."""
    return _has_role(user, MONEY_ROLES)


def can_write_off(user: User) -> bool:
    """Finance (and admins) apply for a bad-debt write-off."""
    return _has_role(user, WRITEOFF_ROLES)


def can_view_workbench(user: User) -> bool:
    return _has_role(user, WORKBENCH_ROLES)


def payment_transitions(user: User, payment: Payment) -> list[str]:
    """What `user` may do with `payment` now (the API detail's `available_transitions`)."""
    if payment.status != PaymentStatus.RECORDED:
        return []
    names = []
    if can_allocate(user) and payment.allocated_amount < payment.amount:
        names.append("allocate")
    if can_reverse_payment(user):
        names.append("reverse")
    return names


def writeoff_transitions(user: User, writeoff: WriteOff) -> list[str]:
    if writeoff.status == WriteOffStatus.DRAFT and writeoff.owner_id == user.pk:
        return ["submit"]
    return []
