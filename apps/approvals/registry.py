"""Document types that go through approvals, registered by the domain apps.

The approval engine knows no domain app: a domain app describes its document once, usually in
its AppConfig.ready()::

    approvals.registry.register(DocumentType(
        key="contracts.contract", model=Contract, label=_("Contract"),
        get_amount=lambda c: c.amount,
        on_submitted=contract_mark_pending, on_approved=contract_mark_approved,
        on_rejected=contract_return_to_draft,
    ))

The callbacks run inside the approval service's transaction, with the document row locked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.functional import Promise


def _owner_submits(user: Any, document: models.Model) -> bool:
    return getattr(document, "owner_id", None) == user.pk


def _noop(document: models.Model, request: Any) -> None:
    return None


@dataclass(frozen=True)
class DocumentType:
    key: str
    model: type[models.Model]
    label: str | Promise
    get_amount: Callable[[Any], Decimal | None] = lambda document: None
    get_percentage: Callable[[Any], Decimal | None] = lambda document: None
    # Flags raised at submission (steps conditioned on a flag apply only then), e.g. a
    # contract over the available credit raises "credit_override".
    get_flags: Callable[[Any], Iterable[str]] = lambda document: ()
    get_title: Callable[[Any], str] = str
    get_url: Callable[[Any], str] = lambda document: getattr(
        document, "get_absolute_url", lambda: ""
    )()
    can_submit: Callable[[Any, Any], bool] = _owner_submits
    on_submitted: Callable[[Any, Any], None] = _noop
    on_approved: Callable[[Any, Any], None] = _noop
    on_rejected: Callable[[Any, Any], None] = _noop
    on_withdrawn: Callable[[Any, Any], None] | None = None  # defaults to on_rejected


_BY_KEY: dict[str, DocumentType] = {}


def register(document_type: DocumentType) -> None:
    existing = _BY_KEY.get(document_type.key)
    if existing is not None and existing.model is not document_type.model:
        raise ValueError(f"Approval document type {document_type.key!r} is registered twice.")
    _BY_KEY[document_type.key] = document_type


def get(key: str) -> DocumentType:
    return _BY_KEY[key]


def for_model(model: type[models.Model]) -> DocumentType:
    for document_type in _BY_KEY.values():
        if document_type.model is model or issubclass(model, document_type.model):
            return document_type
    raise LookupError(f"{model.__name__} is not registered for approvals.")


def registered() -> list[DocumentType]:
    return list(_BY_KEY.values())
