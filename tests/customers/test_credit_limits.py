"""Credit investigation scoring and credit limit requests through approvals: supervisor →
manager (→ finance above 200,000), the limit applies only when approved, return with the
comment, edit lock while pending."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.approvals.models import ApprovalTask
from apps.approvals.services import approval_approve, approval_reject
from apps.core.errors import Conflict
from apps.core.history import history_for
from apps.customers.credit import (
    credit_investigation_complete,
    credit_investigation_create,
    credit_investigation_update,
    credit_limit_request_create,
    credit_limit_request_submit,
    credit_limit_request_update,
    credit_score,
)
from apps.customers.models import CreditLimitRequest, Customer

ALL_90 = {
    "registered_capital": 90,
    "years_in_business": 90,
    "payment_record": 90,
    "legal_disputes": 90,
    "financial_standing": 90,
    "references": 90,
}


def waiting(request) -> set[str]:
    return set(
        ApprovalTask.objects.filter(request=request, status="waiting").values_list(
            "approver__username", flat=True
        )
    )


def limit_of(customer) -> Decimal:
    return Customer.objects.get(pk=customer.pk).credit_limit


def _request(org, customer, amount: str, days: int = 45) -> CreditLimitRequest:
    return credit_limit_request_create(
        customer=customer,
        by=org.rep1a,
        data={"requested_limit": Decimal(amount), "payment_term_days": days, "reason": "Q3 order"},
    )


def test_limit_up_to_200000_needs_supervisor_then_manager_and_applies_only_when_approved(
    org, customer
):
    # given a draft request for 150,000
    limit_request = _request(org, customer, "150000.00")
    # when the rep submits, the supervisor is asked and the limit has not changed
    request = credit_limit_request_submit(limit_request=limit_request, by=org.rep1a)
    assert waiting(request) == {"sup1"}
    assert limit_of(customer) == Decimal("0.00")
    approval_approve(request=request, by=org.sup1)
    assert waiting(request) == {"manager1"}
    assert limit_of(customer) == Decimal("0.00")
    # when the manager approves
    approval_approve(request=request, by=org.manager1)
    # then no finance step (not above 200,000): the limit and the term apply
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.credit_limit, fresh.payment_term_days) == (Decimal("150000.00"), 45)
    assert CreditLimitRequest.objects.get(pk=limit_request.pk).status == "approved"


def test_limit_above_200000_also_needs_finance(org, customer):
    limit_request = _request(org, customer, "200000.01", days=60)
    request = credit_limit_request_submit(limit_request=limit_request, by=org.rep1a)
    approval_approve(request=request, by=org.sup1)
    approval_approve(request=request, by=org.manager1)
    # then finance is asked and the limit is still unchanged
    assert waiting(request) == {"finance"}
    assert limit_of(customer) == Decimal("0.00")
    approval_approve(request=request, by=org.finance)
    assert limit_of(customer) == Decimal("200000.01")


def test_applied_limit_is_in_the_customers_history_with_the_request(org, customer):
    limit_request = _request(org, customer, "1000.00")
    request = credit_limit_request_submit(limit_request=limit_request, by=org.rep1a)
    approval_approve(request=request, by=org.sup1)
    approval_approve(request=request, by=org.manager1)
    [entry] = [
        e
        for e in history_for(customer)
        if e.action == "update" and any(c.field == "credit_limit" for c in e.changes)
    ]
    assert entry.context["credit_limit_request"] == limit_request.pk


def test_a_return_brings_the_request_back_to_draft_with_the_comment(org, customer):
    limit_request = _request(org, customer, "90000.00")
    request = credit_limit_request_submit(limit_request=limit_request, by=org.rep1a)
    approval_reject(request=request, by=org.sup1, comment="Too high for a new customer")
    fresh = CreditLimitRequest.objects.get(pk=limit_request.pk)
    assert fresh.status == "draft"
    assert fresh.return_comment == "Too high for a new customer"
    assert limit_of(customer) == Decimal("0.00")
    # and the rep revises and resubmits
    credit_limit_request_update(
        limit_request=fresh, by=org.rep1a, data={"requested_limit": Decimal("50000.00")}
    )
    request = credit_limit_request_submit(limit_request=fresh, by=org.rep1a)
    assert waiting(request) == {"sup1"}
    assert CreditLimitRequest.objects.get(pk=limit_request.pk).return_comment == ""


def test_editing_while_pending_is_a_conflict(org, customer):
    limit_request = _request(org, customer, "90000.00")
    credit_limit_request_submit(limit_request=limit_request, by=org.rep1a)
    with pytest.raises(Conflict):
        credit_limit_request_update(
            limit_request=limit_request, by=org.rep1a, data={"requested_limit": Decimal("1")}
        )
    assert CreditLimitRequest.objects.get(pk=limit_request.pk).requested_limit == Decimal(
        "90000.00"
    )


def test_request_needs_limit_term_and_reason(org, customer):
    with pytest.raises(ValidationError) as exc:
        credit_limit_request_create(
            customer=customer, by=org.rep1a, data={"requested_limit": Decimal("-1")}
        )
    assert set(exc.value.error_dict) == {"requested_limit", "payment_term_days", "reason"}
    assert not CreditLimitRequest.objects.exists()


def test_one_open_request_per_customer(org, customer):
    _request(org, customer, "1000.00")
    with pytest.raises(Conflict):
        _request(org, customer, "2000.00")


def test_a_rep_cannot_request_a_limit_for_another_reps_customer(org, customer):
    with pytest.raises(PermissionDenied):
        credit_limit_request_create(
            customer=customer,
            by=org.rep2a,
            data={"requested_limit": Decimal("1"), "payment_term_days": 1, "reason": "x"},
        )


def test_only_the_applicant_submits(org, customer):
    limit_request = _request(org, customer, "1000.00")
    with pytest.raises(PermissionDenied):
        credit_limit_request_submit(limit_request=limit_request, by=org.sup1)


# --- investigation scoring ---------------------------------------------------------------


def test_weighted_score_uses_the_settings_weights(settings):
    settings.CUSTOMER_CREDIT_WEIGHTS = {"payment_record": 3, "financial_standing": 1}
    assert credit_score({"payment_record": 80, "financial_standing": 40, "references": 0}) == (
        Decimal("70.00")
    )


@pytest.mark.parametrize(
    ("score", "rating", "limit", "days"),
    [
        (95, "AAA", "1000000.00", 90),
        (80, "AA", "500000.00", 60),
        (79, "A", "200000.00", 45),
        (60, "B", "50000.00", 30),
        (59, "C", "0.00", 0),
    ],
)
def test_completed_investigation_rates_the_customer_and_drafts_the_default_limit(
    org, customer, score, rating, limit, days
):
    # given an investigation with every factor at `score`
    investigation = credit_investigation_create(
        customer=customer, by=org.rep1a, data=dict.fromkeys(ALL_90, score)
    )
    # when it is completed
    investigation = credit_investigation_complete(investigation=investigation, by=org.rep1a)
    # then the customer has the rating, and the limit is still 0 until a request is approved
    fresh = Customer.objects.get(pk=customer.pk)
    assert (investigation.rating, fresh.credit_rating) == (rating, rating)
    assert investigation.total_score == Decimal(score)
    assert fresh.credit_limit == Decimal("0.00")
    drafts = list(CreditLimitRequest.objects.filter(customer=customer))
    if Decimal(limit) == 0:
        assert drafts == []
    else:
        [draft] = drafts
        assert draft.status == "draft" and draft.owner == org.rep1a
        assert (draft.requested_limit, draft.payment_term_days) == (Decimal(limit), days)
        assert draft.investigation == investigation


def test_no_draft_request_when_the_customer_already_has_a_limit(org, customer):
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("10000.00"))
    investigation = credit_investigation_create(customer=customer, by=org.sup1, data=ALL_90)
    credit_investigation_complete(investigation=investigation, by=org.sup1)
    assert Customer.objects.get(pk=customer.pk).credit_rating == "AAA"
    assert not CreditLimitRequest.objects.exists()


def test_a_score_outside_0_100_is_a_field_error(org, customer):
    with pytest.raises(ValidationError) as exc:
        credit_investigation_create(
            customer=customer, by=org.rep1a, data={"payment_record": 101, "legal_disputes": "x"}
        )
    assert set(exc.value.error_dict) == {"payment_record", "legal_disputes"}


def test_a_completed_investigation_cannot_change(org, customer):
    investigation = credit_investigation_create(customer=customer, by=org.rep1a, data=ALL_90)
    credit_investigation_complete(investigation=investigation, by=org.rep1a)
    with pytest.raises(Conflict):
        credit_investigation_update(investigation=investigation, by=org.rep1a, data={})
    with pytest.raises(Conflict):
        credit_investigation_complete(investigation=investigation, by=org.rep1a)


def test_a_rep_cannot_investigate_another_reps_customer(org, customer):
    with pytest.raises(PermissionDenied):
        credit_investigation_create(customer=customer, by=org.rep2a, data=ALL_90)
