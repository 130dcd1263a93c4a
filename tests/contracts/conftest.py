"""Fixtures of the contract tests: a customer with a credit limit, a product, and helpers to
draft a contract with two payment terms and take it through approval."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from apps.approvals.models import ApprovalRequest, ApprovalTask
from apps.approvals.services import approval_approve
from apps.contracts.models import Contract
from apps.contracts.services import contract_create, contract_submit
from apps.customers.models import Customer
from apps.opportunities.models import Product
from tests.api.conftest import bearer  # noqa: F401 (the API tests' fixture)


@pytest.fixture
def policies(db):
    """The default policies (a transactional test starts from a flushed database)."""
    for module in ("apps.approvals.migrations.0002_default_policies",
                   "apps.approvals.migrations.0004_credit_override_steps",
                   "apps.contracts.migrations.0002_amendment_policy"):  # fmt: skip
        importlib.import_module(module).create(django_apps, None)


@pytest.fixture
def product(db) -> Product:
    return Product.objects.create(code="CNC-01", name="数控机床", unit="台",
                                  list_price=Decimal("10000.00"))  # fmt: skip


@pytest.fixture
def customer(org) -> Customer:
    return Customer.objects.create(name="深圳华星科技有限公司", owner=org.rep1a,
                                   credit_limit=Decimal("1000000.00"))  # fmt: skip


def line(product, quantity="10", price="10000.00", discount="0") -> dict:
    return {"product": product.pk, "quantity": quantity, "unit_price": price,
            "discount_pct": discount}  # fmt: skip


TERMS_30_70 = [
    {"kind": "prepayment", "due_date": "2026-12-01", "percentage": "30"},
    {"kind": "on_delivery", "due_date": "2027-03-01", "percentage": "70"},
]


def draft(customer, product, *, by=None, quantity="10", terms=TERMS_30_70, **kwargs) -> Contract:
    return contract_create(
        by=by or customer.owner, customer=customer, data={"title": "机床采购合同"},
        lines=[line(product, quantity)], terms=terms, **kwargs,
    )  # fmt: skip


def approve_all(contract, *approvers) -> Contract:
    """Each approver approves the task waiting for them, in order."""
    request = ApprovalRequest.objects.get(object_id=contract.pk, document_type="contracts.contract")
    for user in approvers:
        approval_approve(request=request, by=user)
    return Contract.objects.get(pk=contract.pk)


def approved(customer, product, org, **kwargs) -> Contract:
    """A drafted, submitted and supervisor-approved contract (100,000: supervisor only)."""
    contract = draft(customer, product, **kwargs)
    contract_submit(contract=contract, by=customer.owner)
    return approve_all(contract, org.sup1)


def waiting_steps(contract) -> list[str]:
    return list(
        ApprovalTask.objects.filter(request__object_id=contract.pk,
                                    request__document_type="contracts.contract")
        .values_list("step_name", flat=True)
    )  # fmt: skip
