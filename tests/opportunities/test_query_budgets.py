"""Query budgets of the pipeline lists (issue 10): the deal list, the board and the catalogue
pages, and the opportunities, products and quotes of the API, cost the same number of queries
with 2 rows as with 10 whose owners, customers, contacts, stages and products all differ."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

import pytest

from apps.opportunities.choices import OPEN_STAGES
from apps.opportunities.models import Opportunity, Product, Quote, QuoteLine
from apps.opportunities.services import opportunity_create
from tests.budgets import ListCase, Marker, client_of, count_queries

from .conftest import make_customer, put_in_stage

_numbers = count(1)


def _deals(org, n: int) -> list[Opportunity]:
    """n deals of manager1's reps in turn, each of its own customer and contact, spread over
    the open stages."""
    reps = (org.rep1a, org.rep1b, org.rep2a)
    deals = []
    for i in range(n):
        owner = reps[i % 3]
        customer = make_customer(
            owner, name=f"Budget Deal Customer {next(_numbers)}", visited=False
        )
        deal = opportunity_create(
            customer=customer,
            owner=owner,
            by=owner,
            name=f"Deal of {customer.name}",
            amount=Decimal("100000.00"),
            contact=customer.contacts.first(),
        )
        stage = OPEN_STAGES[i % len(OPEN_STAGES)]
        deals.append(put_in_stage(deal, stage) if i % len(OPEN_STAGES) else deal)
    return deals


def _products(n: int) -> list[Product]:
    return [
        Product.objects.create(
            code=f"BUDGET-{(k := next(_numbers))}",
            name=f"Machine {k}",
            list_price=Decimal("1000.00"),
            product_line=f"Line {k % 3}",
        )
        for _ in range(n)
    ]


def add_deal_page(org, n: int) -> list[Marker]:
    return [deal.get_absolute_url() for deal in _deals(org, n)]


def add_deals(org, n: int) -> list[Marker]:
    return [deal.pk for deal in _deals(org, n)]


def add_product_page(org, n: int) -> list[Marker]:
    return [product.code for product in _products(n)]


def add_products(org, n: int) -> list[Marker]:
    return [product.pk for product in _products(n)]


def add_quotes(org, n: int) -> list[Marker]:
    """n quotes, each of another deal, with two lines of their own products."""
    quotes = []
    for deal in _deals(org, n):
        quote = Quote.objects.create(opportunity=deal, owner=deal.owner, total=Decimal("2000.00"))
        for position, product in enumerate(_products(2)):
            QuoteLine.objects.create(
                quote=quote,
                position=position,
                product=product,
                quantity=Decimal("1"),
                unit_price=product.list_price,
            )
        quotes.append(quote.pk)
    return quotes


LISTS = {
    "opportunities:list": ListCase("/opportunities/", "manager1", add_deal_page, budget=6),
    "opportunities:board": ListCase("/opportunities/board/", "manager1", add_deal_page, budget=9),
    "opportunities:product_list": ListCase(
        "/opportunities/products/", "manager1", add_product_page, budget=3
    ),
    "api:opportunity-list": ListCase("/api/v1/opportunities/", "manager1", add_deals, budget=3),
    "api:product-list": ListCase("/api/v1/products/", "manager1", add_products, budget=2),
    "api:quote-list": ListCase("/api/v1/quotes/", "manager1", add_quotes, budget=3),
}


@pytest.mark.parametrize("name", LISTS)
def test_pipeline_list_queries_do_not_grow_with_rows(org, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))


def test_stage_settings_cost_one_fixed_budget(org):
    """The stage settings are one row per stage (no more can be added) and join nothing."""
    sql, response = count_queries(client_of(org.manager1, api=True), "/api/v1/stage-settings/")
    assert response.json()["results"]
    assert len(sql) <= 2  # the token, the settings
