"""Demo contracts for `manage.py seed_demo` (after the customers and opportunities demos):
for each rep's first customers, a contract through the real services — signed and executing
with installments (some already due), signed, approved, draft — and one terminated draft.
Deals in negotiation give their contract (with the approved quote's lines) and are won when it
is signed. Idempotent: each demo contract carries an external id ("demo-…") and is made once."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.approvals.choices import RequestStatus, TaskStatus
from apps.approvals.models import ApprovalRequest, ApprovalTask
from apps.approvals.services import approval_approve
from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity, Product

from . import services
from .models import Contract

# What becomes of the contract of each of a rep's first customers.
PLAN = ("executing", "signed", "approved", "draft")


def _approve_through(contract: Contract) -> None:
    """Every approver of the chain approves in turn (the demo has nobody waiting)."""
    for _ in range(10):
        request = ApprovalRequest.objects.get(
            object_id=contract.pk, document_type="contracts.contract"
        )
        if request.status != RequestStatus.PENDING:
            return
        task = (
            ApprovalTask.objects.filter(
                request=request, round=request.round, status=TaskStatus.WAITING
            )
            .select_related("approver")
            .first()
        )
        if task is None:
            return
        approval_approve(request=request, by=task.approver)


def _one(rep: User, customer: Customer, index: int, fate: str, products: list[Product]) -> bool:
    key = f"demo-{rep.username}-{index}"
    if Contract.objects.filter(external_id=key).exists():
        return False
    today = timezone.localdate()
    signed_on = today - timedelta(days=20 + 25 * index)
    opportunity = Opportunity.objects.filter(customer=customer, stage=Stage.NEGOTIATION).first()
    lines = None
    if opportunity is None or not opportunity.quotes.filter(status="approved").exists():
        opportunity = None
        product = products[index % len(products)]
        lines = [{"product": product.pk, "quantity": str(2 + index), "unit_price": ""}]
    terms = [
        {"kind": "prepayment", "due_date": signed_on.isoformat(), "percentage": "30"},
        {"kind": "on_delivery", "due_date": (signed_on + timedelta(days=45)).isoformat(),
         "percentage": "60"},
        {"kind": "retention", "due_date": (signed_on + timedelta(days=365)).isoformat(),
         "percentage": "10"},
    ]  # fmt: skip
    data = {"title": f"{customer.name} 销售合同", "external_id": key, "grace_days": 5}
    contract = services.contract_create(
        by=rep, customer=None if opportunity else customer, opportunity=opportunity, data=data,
        lines=lines, terms=terms,
    )  # fmt: skip
    if fate == "draft":
        return True
    services.contract_submit(contract=contract, by=rep)
    _approve_through(contract)
    contract = Contract.objects.get(pk=contract.pk)
    if fate == "approved" or contract.status != "approved":
        return True
    contract = services.contract_sign(contract=contract, by=rep, signed_on=signed_on)
    if fate == "executing":
        services.contract_start_execution(contract=contract, by=rep)
    return True


def load(stdout=None) -> int:
    products = list(Product.objects.filter(is_active=True).order_by("id")[:5])
    if not products:
        return 0
    created = 0
    reps = list(User.objects.filter(role="rep", is_active=True).order_by("username"))
    for rep in reps:
        customers = list(
            Customer.objects.filter(owner=rep, on_credit_hold=False).order_by("id")[:4]
        )
        for index, customer in enumerate(customers):
            try:
                with transaction.atomic():
                    created += _one(rep, customer, index, PLAN[index], products)
            except Conflict as exc:  # e.g. no approver for a step in a partial demo org
                if stdout is not None:
                    stdout.write(f"  contracts: skipped {customer.name}: {exc}")
    if reps and not Contract.objects.filter(external_id="demo-terminated").exists():
        customer = Customer.objects.filter(owner=reps[0]).order_by("id").first()
        if customer is not None:
            with transaction.atomic():
                contract = services.contract_create(
                    by=reps[0], customer=customer, data={"title": f"{customer.name} 试用合同",
                                                         "external_id": "demo-terminated"},
                    lines=[{"product": products[0].pk, "quantity": "1", "unit_price": ""}],
                )  # fmt: skip
                services.contract_terminate(contract=contract, by=reps[0], reason="客户取消采购")
                created += 1
    if stdout is not None:
        stdout.write(f"  contracts: {created} created")
    return created
