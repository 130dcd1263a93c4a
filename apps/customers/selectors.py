"""Reads of customers and contacts, restricted to the caller's data scope.

Who sees a customer (DESIGN.md "Data scope"): its owner and the heads of the units above the
owner; admins and integration users; finance (customers carry credit, `Customer.scope_money`);
and every sales user for a customer in the public pool (公海), which is public by definition so
that reps can claim from it. Outside that, a lookup is a 404.

Search uses the trigram GIN index on the name (`customer_name_trgm`) through the
`ilike_contains` lookup of `apps.core.lookups` (registered in `CustomersConfig.ready`): an
`ILIKE '%…%'` that Postgres answers from the index, never Django's `UPPER(name) LIKE`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.accounts.scope import Scope, scope_of, scope_q

from .models import (
    Contact,
    CreditInvestigation,
    CreditLimitRequest,
    Customer,
    DevelopmentApplication,
)


def customer_visible_q(user: User) -> Q:
    """The customers `user` may read: their data scope plus the public pool."""
    scope = scope_of(user, money=True)
    if scope is Scope.NONE:
        return Q(pk__in=[])
    if scope is Scope.ALL:
        return Q()  # (an empty Q OR'd with the pool would mean "the pool only")
    return scope_q(user, money=True) | Q(owner__isnull=True)


@dataclass(frozen=True)
class CustomerFilters:
    """The filters of the customer list (page and API)."""

    search: str = ""
    status: str = ""
    tier: str = ""
    region: str = ""
    owner: int | None = None
    in_pool: bool | None = None


def customer_list(*, user: User, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    """Customers `user` may see, newest change first, with the owner joined (no N+1).

    `filters.search` matches part of the company name, or a whole credit code.
    """
    filters = filters or CustomerFilters()
    qs = Customer.objects.filter(customer_visible_q(user)).select_related("owner", "previous_owner")
    if filters.search:
        term = filters.search.strip()
        q = Q(name__ilike_contains=term)
        if len(term) == 18:
            q |= Q(credit_code=term.upper())
        qs = qs.filter(q)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.tier:
        qs = qs.filter(tier=filters.tier)
    if filters.region:
        qs = qs.filter(region=filters.region)
    if filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    if filters.in_pool is True:
        qs = qs.filter(owner__isnull=True)
    elif filters.in_pool is False:
        qs = qs.filter(owner__isnull=False)
    return qs.order_by("-updated_at", "-id")


def customer_get(*, user: User, pk: int) -> Customer:
    """One customer `user` may see, else 404."""
    return get_object_or_404(customer_list(user=user), pk=pk)


def customer_editable_q(user: User) -> Q:
    """The customers whose profile `user` may change: their data scope, without the pool
    (a pool customer is claimed first)."""
    return scope_q(user, money=True)


def contact_list(*, user: User, customer: Customer | None = None) -> QuerySet[Contact]:
    """Contacts of the customers `user` may see, with their customer joined."""
    qs = Contact.objects.filter(customer__in=Customer.objects.filter(customer_visible_q(user)))
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.select_related("customer").order_by("-is_primary", "name", "id")


def contact_get(*, user: User, pk: int) -> Contact:
    return get_object_or_404(contact_list(user=user), pk=pk)


def development_application_list(
    *, user: User, customer: Customer | None = None
) -> QuerySet[DevelopmentApplication]:
    """Development applications in `user`'s scope (by applicant), customer and applicant
    joined."""
    qs = DevelopmentApplication.objects.visible_to(user).select_related("customer", "owner")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("-updated_at", "-id")


def development_application_get(*, user: User, pk: int) -> DevelopmentApplication:
    return get_object_or_404(development_application_list(user=user), pk=pk)


def credit_investigation_list(
    *, user: User, customer: Customer | None = None
) -> QuerySet[CreditInvestigation]:
    """Credit investigations of the customers in `user`'s scope (finance: all), customer and
    investigator joined."""
    qs = CreditInvestigation.objects.visible_to(user).select_related("customer", "owner")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("-updated_at", "-id")


def credit_investigation_get(*, user: User, pk: int) -> CreditInvestigation:
    return get_object_or_404(credit_investigation_list(user=user), pk=pk)


def credit_limit_request_list(
    *, user: User, customer: Customer | None = None
) -> QuerySet[CreditLimitRequest]:
    """Credit limit requests in `user`'s scope (by applicant; finance: all), customer and
    applicant joined."""
    qs = CreditLimitRequest.objects.visible_to(user).select_related("customer", "owner")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs.order_by("-updated_at", "-id")


def credit_limit_request_get(*, user: User, pk: int) -> CreditLimitRequest:
    return get_object_or_404(credit_limit_request_list(user=user), pk=pk)


def customer_pool_list(*, user: User, search: str = "") -> QuerySet[Customer]:
    """The public pool (公海): customers without an owner, for every user with a data scope
    (reps claim from it), newest change first, the previous owner joined. `search` matches
    part of the name."""
    if scope_of(user) is Scope.NONE:
        return Customer.objects.none()
    qs = Customer.objects.filter(owner__isnull=True).select_related("previous_owner")
    term = search.strip()
    if term:
        q = Q(name__ilike_contains=term)
        if len(term) == 18:
            q |= Q(credit_code=term.upper())
        qs = qs.filter(q)
    return qs.order_by("-updated_at", "-id")
