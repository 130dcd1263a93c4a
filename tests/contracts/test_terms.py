"""Payment terms: percentages become amounts half-up to the cent, the last percentage term
takes the rounding so that the terms add up exactly; a set that does not add up is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.contracts.services import TermInput, clean_terms, credit_portion_of, term_amounts

D = date(2026, 12, 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    total=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2),
    cuts=st.lists(st.integers(min_value=1, max_value=9999), min_size=1, max_size=8),
)
def test_percentage_terms_add_up_exactly(total, cuts):
    # given percentages (2 decimals) that add up to 100
    pcts = [Decimal(c) / 100 for c in cuts]
    remainder = Decimal(100) - sum(pcts)
    if remainder <= 0:
        return
    pcts.append(remainder)
    terms = [TermInput(kind="other", due_date=D, percentage=p) for p in pcts]
    # when
    amounts = term_amounts(total, terms)
    # then they add up to the total to the cent, each but the last is half-up of its share
    assert sum(amounts) == total
    for pct, amount in zip(pcts[:-1], amounts[:-1], strict=True):
        assert amount == (total * pct / 100).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert all(a == a.quantize(Decimal("0.01")) for a in amounts)


def test_last_term_takes_the_rounding():
    terms = [TermInput(kind="other", due_date=D, percentage=Decimal("33.33")),
             TermInput(kind="other", due_date=D, percentage=Decimal("33.33")),
             TermInput(kind="other", due_date=D, percentage=Decimal("33.34"))]  # fmt: skip
    assert term_amounts(Decimal("100.01"), terms) == [
        Decimal("33.33"), Decimal("33.33"), Decimal("33.35")]  # fmt: skip


def test_mixed_amount_and_percentage_terms():
    terms = [TermInput(kind="prepayment", due_date=D, amount=Decimal("1000.00")),
             TermInput(kind="on_delivery", due_date=D, percentage=Decimal("90"))]  # fmt: skip
    assert term_amounts(Decimal("10000.00"), terms) == [Decimal("1000.00"), Decimal("9000.00")]


def test_terms_not_adding_up_is_a_field_error():
    with pytest.raises(ValidationError) as exc:
        clean_terms([{"kind": "prepayment", "due_date": "2026-12-01", "percentage": "30"},
                     {"kind": "on_delivery", "due_date": "2027-01-01", "percentage": "60"}],
                    Decimal("1000.00"))  # fmt: skip
    assert list(exc.value.message_dict) == ["terms"]


def test_each_bad_term_names_term_and_field():
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        clean_terms([{"kind": "x", "due_date": "soon", "percentage": "30"},
                     {"kind": "other", "due_date": "2027-01-01", "amount": "5", "percentage": "5"}],
                    Decimal("1000.00"))  # fmt: skip
    assert set(exc.value.message_dict) == {
        "terms[0].kind", "terms[0].due_date", "terms[1].percentage"}  # fmt: skip
    assert exc.value.message_dict["terms[0].kind"][0].startswith("Term 1")


def test_credit_portion_is_amount_less_prepayments():
    assert credit_portion_of([Decimal("300.00"), Decimal("700.00")],
                             ["prepayment", "on_delivery"]) == Decimal("700.00")  # fmt: skip
