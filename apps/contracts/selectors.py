"""Contract reads, restricted to the user's data scope (finance sees every contract): the
list with its search and filters, one contract with what its page shows, amendments.
Out of scope is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.receivables.models import Installment

from .models import Contract, ContractAmendment, ContractLine, PaymentTerm


@dataclass(frozen=True)
class ContractFilters:
    """The filters of the contract list (page and API)."""

    search: str = ""
    status: str = ""
    owner: int | None = None
    customer: int | None = None
    signed_month: date | None = None  # any day of the month


def contract_list(*, user: User, filters: ContractFilters | None = None) -> QuerySet[Contract]:
    """Contracts `user` may see, newest change first, customer and owner joined (no N+1).

    `search` matches the contract number (a part of it), or part of the title or of the
    customer's name."""
    filters = filters or ContractFilters()
    qs = Contract.objects.visible_to(user).select_related("customer", "owner")
    if filters.search:
        term = filters.search.strip()
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(title__ilike_contains=term)
            | Q(customer__name__ilike_contains=term)
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.signed_month is not None:
        month = filters.signed_month
        qs = qs.filter(signed_on__year=month.year, signed_on__month=month.month)
    return qs.order_by("-updated_at", "-id")


def contract_get(*, user: User, pk: int) -> Contract:
    """One contract in `user`'s scope with its lines (and products), terms and installments,
    else 404."""
    qs = (
        contract_list(user=user)
        .select_related("opportunity")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ContractLine.objects.select_related("product").order_by("position", "id"),
            ),
            Prefetch("terms", queryset=PaymentTerm.objects.order_by("sequence")),
            Prefetch("installments", queryset=Installment.objects.order_by("sequence")),
            Prefetch("amendments", queryset=ContractAmendment.objects.order_by("-number")),
        )
    )
    return get_object_or_404(qs, pk=pk)


def amendment_list(*, user: User, contract: int | None = None) -> QuerySet[ContractAmendment]:
    qs = ContractAmendment.objects.visible_to(user).select_related(
        "contract", "contract__customer", "owner"
    )
    if contract is not None:
        qs = qs.filter(contract_id=contract)
    return qs.order_by("-updated_at", "-id")


def amendment_get(*, user: User, pk: int) -> ContractAmendment:
    return get_object_or_404(amendment_list(user=user), pk=pk)
