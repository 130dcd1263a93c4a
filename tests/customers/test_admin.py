"""Admin of customers and credit: the pages open, search uses the trigram lookup, the
approval documents are read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.customers.models import CreditLimitRequest

from .conftest import make_customer


@pytest.fixture
def admin_client_(org):
    org.admin.is_staff = org.admin.is_superuser = True
    org.admin.save()
    client = Client()
    client.force_login(org.admin)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "customer",
        "contact",
        "creditratingrule",
        "creditinvestigation",
        "creditlimitrequest",
        "developmentapplication",
    ],
)
def test_admin_lists_open(admin_client_, customer, path):
    assert admin_client_.get(f"/admin/customers/{path}/").status_code == 200


def test_customer_admin_search_and_pool_filter(admin_client_, org, customer):
    make_customer(None, "Pool 100% Co")
    found = admin_client_.get("/admin/customers/customer/?q=100%25").content.decode()
    assert "Pool 100% Co" in found and customer.name not in found
    pool = admin_client_.get("/admin/customers/customer/?in_pool=yes").content.decode()
    assert "Pool 100% Co" in pool and customer.name not in pool
    assert admin_client_.get(f"/admin/customers/customer/{customer.pk}/change/").status_code == 200


def test_limit_requests_cannot_be_added_in_the_admin(admin_client_):
    assert admin_client_.get("/admin/customers/creditlimitrequest/add/").status_code == 403
    assert not CreditLimitRequest.objects.exists()
