"""Credit (信用): exposure and available credit, credit hold and release.

**Exposure** (占用额度) = unpaid receivables + approved contracts' unbilled credit portion
(DESIGN.md "customers"). Those apps do not exist yet: they plug in by appending a callable to
`credit_exposure_sources` (in their AppConfig.ready), so this app never imports them. Each
source takes a list of customer ids and answers {customer_id: Decimal} with one set-based
query; a customer it does not mention has no exposure from it. Until a source is registered
the exposure is 0 and the available credit is the whole limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.core.errors import Conflict
from apps.notifications.services import notify

from .models import Customer

ExposureSource = Callable[[list[int]], dict[int, Decimal]]

credit_exposure_sources: list[ExposureSource] = []

ZERO = Decimal("0.00")


def register_exposure_source(source: ExposureSource) -> None:
    """Add a source of exposure (receivables, contracts), once."""
    if source not in credit_exposure_sources:
        credit_exposure_sources.append(source)


def customer_exposures(customer_ids: Iterable[int]) -> dict[int, Decimal]:
    """Exposure per customer, summed over every registered source (one query per source,
    whatever the number of customers)."""
    ids = list(customer_ids)
    totals = dict.fromkeys(ids, ZERO)
    for source in credit_exposure_sources:
        for customer_id, amount in source(ids).items():
            if customer_id in totals:
                totals[customer_id] += amount or ZERO
    return totals


@dataclass(frozen=True)
class CreditSummary:
    limit: Decimal
    exposure: Decimal
    available: Decimal
    on_hold: bool


def customer_credit(customer: Customer) -> CreditSummary:
    """Limit, exposure and available credit (可用额度 = limit − exposure; negative when the
    customer is over its limit) — the one source of these figures for pages, API and the
    contract credit check."""
    exposure = customer_exposures([customer.pk])[customer.pk]
    return CreditSummary(
        limit=customer.credit_limit,
        exposure=exposure,
        available=customer.credit_limit - exposure,
        on_hold=customer.on_credit_hold,
    )


def can_manage_credit_hold(user: User) -> bool:
    return user.is_active and user.role == Role.FINANCE


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why.")]})
    return reason[:300]


@transaction.atomic
def credit_hold(*, customer: Customer, by: User, reason: str) -> Customer:
    """Finance puts a customer on credit hold (信用冻结): no new contract can be submitted for
    it. The owner is told why."""
    if not can_manage_credit_hold(by):
        raise PermissionDenied(_("Only finance can put a customer on credit hold."))
    reason = _reason(reason)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.on_credit_hold:
        raise Conflict(_("This customer is already on credit hold."), code="already_on_hold")
    customer.on_credit_hold = True
    customer.credit_hold_reason = reason
    customer.save(update_fields=["on_credit_hold", "credit_hold_reason", "updated_at"])
    notify(
        recipients=[customer.owner],
        title=_("Credit hold: %(customer)s") % {"customer": customer.name},
        body=reason,
        url=customer.get_absolute_url(),
        actor=by,
    )
    return customer


@transaction.atomic
def credit_release(*, customer: Customer, by: User, reason: str) -> Customer:
    """Finance lifts a customer's credit hold, with the reason; the owner is told."""
    if not can_manage_credit_hold(by):
        raise PermissionDenied(_("Only finance can release a credit hold."))
    reason = _reason(reason)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.on_credit_hold:
        raise Conflict(_("This customer is not on credit hold."), code="not_on_hold")
    customer.on_credit_hold = False
    customer.credit_hold_reason = ""
    customer.save(update_fields=["on_credit_hold", "credit_hold_reason", "updated_at"])
    notify(
        recipients=[customer.owner],
        title=_("Credit hold released: %(customer)s") % {"customer": customer.name},
        body=reason,
        url=customer.get_absolute_url(),
        actor=by,
    )
    return customer
