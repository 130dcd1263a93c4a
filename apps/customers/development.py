"""Development application (新客户开发申请, seed 004 flow 2) use cases.

The rep fills the credit survey (信用调查表) and the development plan for a prospect and
submits it; the default policy "customers.developmentapplication" asks the supervisor, then the
manager. The approval engine calls back (in its transaction, with the document locked):

- submitted → the application is pending (and cannot be edited: `approval_assert_editable`);
- approved → the application is approved and the customer starts development (developing);
- returned (退回) or withdrawn → the application is back in draft with the comment.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from apps.accounts.models import User
from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_assert_editable, approval_submit
from apps.core.errors import Conflict

from .choices import ApplicationStatus, CustomerStatus
from .models import ApprovalDocument, Customer, DevelopmentApplication
from .selectors import customer_editable_q

APPLICATION_FIELDS = (
    "registered_capital",
    "years_in_business",
    "main_business",
    "payment_record",
    "legal_disputes",
    "financial_standing",
    "references",
    "development_plan",
)
# What an approver needs to decide: a submitted survey without these is refused.
REQUIRED_TO_SUBMIT = ("main_business", "financial_standing", "development_plan")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in data.items() if k in APPLICATION_FIELDS}
    capital = cleaned.get("registered_capital")
    if capital is not None and capital < 0:
        raise ValidationError(
            {"registered_capital": [_("The registered capital cannot be negative.")]}
        )
    return cleaned


@transaction.atomic
def development_application_create(
    *, customer: Customer, by: User, data: dict[str, Any]
) -> DevelopmentApplication:
    """Start a development application (a draft) for a prospect `by` may work on.

    A customer has at most one open (draft or pending) application.
    """
    customer = (
        Customer.objects.select_for_update().filter(customer_editable_q(by), pk=customer.pk).first()
    )
    if customer is None:
        raise PermissionDenied(_("You cannot apply to develop this customer."))
    if customer.status != CustomerStatus.PROSPECT:
        raise Conflict(
            _("Only a prospect can be applied for development; this customer is %(status)s.")
            % {"status": customer.get_status_display()},
            code="not_prospect",
        )
    if DevelopmentApplication.objects.filter(
        customer=customer, status__in=[ApplicationStatus.DRAFT, ApplicationStatus.PENDING]
    ).exists():
        raise Conflict(
            _("This customer already has an open development application."), code="already_open"
        )
    try:
        with transaction.atomic():
            return DevelopmentApplication.objects.create(
                customer=customer, owner=by, **_clean(data)
            )
    except IntegrityError:
        raise Conflict(
            _("This customer already has an open development application."), code="already_open"
        ) from None


def _lock_own_draft(document: ApprovalDocument, by: User) -> ApprovalDocument:
    document = type(document).objects.select_for_update().get(pk=document.pk)
    if document.owner_id != by.pk:
        raise PermissionDenied(_("Only the applicant can change this document."))
    approval_assert_editable(document)  # 409 while under approval
    if document.status != ApplicationStatus.DRAFT:
        raise Conflict(
            _("This document is %(status)s and can no longer be changed.")
            % {"status": document.get_status_display()},
            code="not_draft",
        )
    return document


@transaction.atomic
def development_application_update(
    *, application: DevelopmentApplication, by: User, data: dict[str, Any]
) -> DevelopmentApplication:
    """Revise a draft application (also after a return). Refused while it is pending."""
    application = _lock_own_draft(application, by)
    for name, value in _clean(data).items():
        setattr(application, name, value)
    application.save()
    return application


@transaction.atomic
def development_application_submit(
    *, application: DevelopmentApplication, by: User, comment: str = ""
) -> ApprovalRequest:
    """Submit (or resubmit) the application to its approval policy. What a submission needs
    is checked by `on_development_submitted`, so that the approval panel's generic submit
    button enforces it too."""
    application = _lock_own_draft(application, by)
    return approval_submit(document=application, by=by, comment=comment)


# --- approval callbacks (registered in CustomersConfig.ready) -----------------------------


def on_development_submitted(application: DevelopmentApplication, request: ApprovalRequest) -> None:
    """Refuse (rolling the submission back) a survey without what the approvers need, or a
    customer that is no longer a prospect; else the application is pending."""
    missing = {
        name: [ValidationError(_("Fill this in before submitting."), code="required")]
        for name in REQUIRED_TO_SUBMIT
        if not str(getattr(application, name) or "").strip()
    }
    if missing:
        raise ValidationError(missing)
    if application.customer.status != CustomerStatus.PROSPECT:
        raise Conflict(_("This customer is no longer a prospect."), code="not_prospect")
    on_document_submitted(application, request)


def on_document_submitted(document: ApprovalDocument, request: ApprovalRequest) -> None:
    document.submit()
    document.return_comment = ""
    document.save()


def on_development_approved(application: DevelopmentApplication, request: ApprovalRequest) -> None:
    """Approve the application and move the customer to developing."""
    application.approve()
    application.approved_at = timezone.now()
    application.save()
    customer = Customer.objects.select_for_update().get(pk=application.customer_id)
    if not can_proceed(customer.start_development):
        raise Conflict(
            _("The customer is %(status)s and cannot start development.")
            % {"status": customer.get_status_display()},
            code="not_prospect",
        )
    customer.start_development()
    customer.save()
