"""Query budgets of the customer lists (issue 10): the customer list and the public pool pages,
and the customers, contacts, development applications, credit investigations and credit limit
requests of the API, cost the same number of queries with 2 rows as with 10 whose owners,
previous owners and customers all differ."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

import pytest

from apps.customers.models import (
    Contact,
    CreditInvestigation,
    CreditLimitRequest,
    Customer,
    DevelopmentApplication,
)
from tests.budgets import ListCase, Marker

_numbers = count(1)


def _reps(org) -> tuple:
    return (org.rep1a, org.rep1b, org.rep2a)  # manager1's department


def _customers(org, n: int, *, pool: bool = False) -> list[Customer]:
    """n customers of manager1's reps in turn (or in the pool, left by them), each with
    another rep as its previous owner."""
    reps = _reps(org)
    return [
        Customer.objects.create(
            name=f"Budget Customer {next(_numbers)}",
            owner=None if pool else reps[i % 3],
            previous_owner=reps[(i + 1) % 3],
        )
        for i in range(n)
    ]


def add_customers_page(org, n: int) -> list[Marker]:
    return [c.get_absolute_url() for c in _customers(org, n)]


def add_pool_page(org, n: int) -> list[Marker]:
    return [c.name for c in _customers(org, n, pool=True)]


def add_customers(org, n: int) -> list[Marker]:
    return [c.pk for c in _customers(org, n)]


def add_contacts(org, n: int) -> list[Marker]:
    return [
        Contact.objects.create(customer=customer, name=f"Contact {customer.pk}").pk
        for customer in _customers(org, n)
    ]


def add_development_applications(org, n: int) -> list[Marker]:
    return [
        DevelopmentApplication.objects.create(customer=c, owner=c.owner).pk
        for c in _customers(org, n)
    ]


def add_credit_investigations(org, n: int) -> list[Marker]:
    return [
        CreditInvestigation.objects.create(customer=c, owner=c.previous_owner).pk
        for c in _customers(org, n)
    ]


def add_credit_limit_requests(org, n: int) -> list[Marker]:
    rows = []
    for c in _customers(org, n):
        investigation = CreditInvestigation.objects.create(customer=c, owner=c.owner)
        rows.append(
            CreditLimitRequest.objects.create(
                customer=c,
                owner=c.owner,
                investigation=investigation,
                requested_limit=Decimal("50000"),
                payment_term_days=30,
                reason="More orders",
            ).pk
        )
    return rows


LISTS = {
    "customers:list": ListCase("/customers/", "manager1", add_customers_page, budget=3),
    "customers:pool": ListCase("/customers/pool/", "rep1a", add_pool_page, budget=3),
    "api:customer-list": ListCase("/api/v1/customers/", "manager1", add_customers, budget=3),
    "api:contact-list": ListCase("/api/v1/contacts/", "manager1", add_contacts, budget=3),
    "api:development-application-list": ListCase(
        "/api/v1/development-applications/", "manager1", add_development_applications, budget=3
    ),
    "api:credit-investigation-list": ListCase(
        "/api/v1/credit-investigations/", "manager1", add_credit_investigations, budget=3
    ),
    "api:credit-limit-request-list": ListCase(
        "/api/v1/credit-limit-requests/", "manager1", add_credit_limit_requests, budget=3
    ),
}


@pytest.mark.parametrize("name", LISTS)
def test_customer_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
