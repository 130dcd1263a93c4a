"""Fixtures and helpers for the customers tests."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.customers.models import Customer
from apps.customers.normalization import uscc_check_char


def credit_code(n: int) -> str:
    """A valid unified social credit code (correct check character) numbered `n`."""
    first17 = f"9144030{n:010d}"
    return first17 + uscc_check_char(first17)


def make_customer(owner, name: str = "Acme", **kwargs) -> Customer:
    return Customer.objects.create(owner=owner, name=name, **kwargs)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def customer(org):
    """A customer of rep1a (team1 under dept1)."""
    return make_customer(org.rep1a, "深圳华星科技有限公司", region="Shenzhen", tier="B")
