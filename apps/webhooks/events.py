"""The events the domain services raise, with their payloads (API.md "Webhooks"): what an ERP
needs to mirror the change — ids, external ids, amounts as decimal strings, dates — so it can
fetch the full record from the API when it needs more.

Each function is called inside the domain service's transaction (see `services.webhook_emit`:
nothing is sent for a rollback) and costs one query when nobody subscribed to the event."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .choices import EventType
from .services import webhook_emit, webhook_emit_many


def _customer_ref(customer: Any) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "external_id": getattr(customer, "external_id", "") or "",
        "name": customer.name,
    }


def contract_data(contract: Any) -> dict[str, Any]:
    return {
        "id": contract.pk,
        "number": contract.number,
        "external_id": contract.external_id or "",
        "status": contract.status,
        "amount": contract.amount,
        "customer": _customer_ref(contract.customer),
        "owner": contract.owner_id,
        "signed_on": contract.signed_on,
        "termination_reason": contract.termination_reason or "",
    }


def contract_event(event_type: str, contract: Any) -> None:
    webhook_emit(event_type, data={"contract": contract_data(contract)})


def payment_data(payment: Any) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "external_id": payment.external_id or "",
        "bank_reference": payment.bank_reference or "",
        "status": payment.status,
        "amount": payment.amount,
        "allocated_amount": payment.allocated_amount,
        "received_on": payment.received_on,
        "customer": _customer_ref(payment.customer),
    }


def payment_event(
    event_type: str, payment: Any, *, allocations: Sequence[Any] = (), reason: str = ""
) -> None:
    data: dict[str, Any] = {"payment": payment_data(payment)}
    if allocations:
        data["allocations"] = [
            {"id": a.pk, "installment": a.installment_id, "amount": a.amount} for a in allocations
        ]
    if reason:
        data["reason"] = reason
    webhook_emit(event_type, data=data)


def credit_event(event_type: str, customer: Any, *, reason: str = "") -> None:
    webhook_emit(event_type, data={"customer": _customer_ref(customer), "reason": reason})


def credit_events(event_type: str, customer_ids: Iterable[int], *, reason: str = "") -> int:
    """The daily job's holds and releases, set-based."""
    from apps.customers.models import Customer

    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    customers = Customer.objects.filter(pk__in=ids).only("pk", "name").order_by("pk")
    return webhook_emit_many(
        event_type,
        items=({"customer": _customer_ref(c), "reason": reason} for c in customers),
    )


def overdue_events(installment_ids: Iterable[int]) -> int:
    """`receivable.overdue` for installments that reached a new aging bucket (1: 1–30 days
    overdue, 2: 31–60, 3: 61–90, 4: over 90), once per bucket."""
    from apps.receivables.models import Installment

    ids = sorted(set(installment_ids))
    if not ids:
        return 0
    rows = (
        Installment.objects.filter(pk__in=ids).select_related("contract", "customer").order_by("pk")
    )
    return webhook_emit_many(
        EventType.RECEIVABLE_OVERDUE,
        items=(
            {
                "installment": {
                    "id": i.pk, "sequence": i.sequence, "due_date": i.due_date,
                    "amount": i.amount, "paid_amount": i.paid_amount,
                    "overdue_days": i.overdue_days, "aging_bucket": i.aging_bucket,
                },
                "contract": {"id": i.contract_id, "number": i.contract.number,
                             "external_id": i.contract.external_id or ""},
                "customer": _customer_ref(i.customer),
            }
            for i in rows
        ),
    )  # fmt: skip
