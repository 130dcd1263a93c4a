"""Credit: exposure registry and available credit, hold and release by finance, default
rating rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.errors import Conflict
from apps.customers import credit
from apps.customers.credit import credit_hold, credit_release, customer_credit, customer_exposures
from apps.customers.models import CreditRatingRule, Customer
from apps.notifications.models import Notification


@pytest.fixture
def exposure_source():
    calls: list[list[int]] = []

    def source(ids: list[int]) -> dict[int, Decimal]:
        calls.append(ids)
        return {i: Decimal("1200.50") for i in ids}

    credit.register_exposure_source(source)
    yield calls
    credit.credit_exposure_sources.remove(source)


def test_without_sources_exposure_is_zero_and_all_the_limit_is_available(org, customer):
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("50000.00"))
    summary = customer_credit(Customer.objects.get(pk=customer.pk))
    assert summary.exposure == Decimal("0.00")
    assert summary.available == Decimal("50000.00")


def test_sources_are_summed_set_based(org, customer, exposure_source):
    other = Customer.objects.create(owner=org.rep1a, name="Other")
    credit.register_exposure_source(exposure_source_2 := (lambda ids: {ids[0]: Decimal("0.50")}))
    try:
        totals = customer_exposures([customer.pk, other.pk])
    finally:
        credit.credit_exposure_sources.remove(exposure_source_2)
    assert exposure_source == [[customer.pk, other.pk]]  # one call for all customers
    assert totals[customer.pk] == Decimal("1201.00")
    assert totals[other.pk] == Decimal("1200.50")
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("1000.00"))
    assert customer_credit(Customer.objects.get(pk=customer.pk)).available == Decimal("-200.50")


def test_finance_puts_on_hold_and_releases_with_a_reason_and_the_owner_is_told(org, customer):
    credit_hold(customer=customer, by=org.finance, reason="61 days overdue")
    held = Customer.objects.get(pk=customer.pk)
    assert held.on_credit_hold and held.credit_hold_reason == "61 days overdue"
    assert Notification.objects.filter(recipient=org.rep1a, body="61 days overdue").exists()
    with pytest.raises(Conflict):
        credit_hold(customer=customer, by=org.finance, reason="again")
    credit_release(customer=customer, by=org.finance, reason="Paid in full")
    assert not Customer.objects.get(pk=customer.pk).on_credit_hold
    assert Notification.objects.filter(recipient=org.rep1a).count() == 2


@pytest.mark.parametrize("who", ["rep1a", "sup1", "manager1", "admin"])
def test_only_finance_holds_credit(org, customer, who):
    with pytest.raises(PermissionDenied):
        credit_hold(customer=customer, by=getattr(org, who), reason="x")
    assert not Customer.objects.get(pk=customer.pk).on_credit_hold


def test_hold_needs_a_reason(org, customer):
    with pytest.raises(ValidationError) as exc:
        credit_hold(customer=customer, by=org.finance, reason="  ")
    assert "reason" in exc.value.error_dict


def test_default_rating_rules_are_installed(db):
    rules = {r.rating: r for r in CreditRatingRule.objects.all()}
    assert set(rules) == {"AAA", "AA", "A", "B", "C"}
    assert rules["AAA"].default_credit_limit == Decimal("1000000.00")
    assert rules["AAA"].payment_term_days == 90
    assert rules["C"].default_credit_limit == Decimal("0.00")
