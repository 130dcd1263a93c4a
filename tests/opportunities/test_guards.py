"""Each guard of the stage moves, failing alone, names its requirement (DESIGN.md: a guard that
fails says which requirement is missing)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from apps.core.errors import Conflict
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity
from apps.opportunities.services import (
    opportunity_lose,
    opportunity_move_back,
    opportunity_negotiate,
    opportunity_propose,
    opportunity_qualify,
    opportunity_win,
)

from .conftest import approve_quote


def signed_contract(opportunity: Opportunity) -> None:
    """A signed contract for the deal, written directly (won needs one since issue 6)."""
    from apps.contracts.models import Contract

    contract = Contract.objects.create(
        number=f"HT-TEST-{opportunity.pk}", title=opportunity.name,
        customer=opportunity.customer, opportunity=opportunity, owner=opportunity.owner,
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(status="signed")


pytestmark = pytest.mark.django_db


def refused(call) -> dict[str, list[str]]:
    """The unmet requirements: a requirement of the deal's state is a 409 (Conflict) with
    every message; missing input is a 400 (ValidationError) naming the field."""
    with translation.override("en"), pytest.raises((ValidationError, Conflict)) as exc:
        call()
    if isinstance(exc.value, Conflict):
        assert exc.value.code == "guard_failed"
        return {"__all__": exc.value.messages}
    return exc.value.message_dict


def test_qualify_without_decision_maker_names_it(org, deal):
    opp = deal(org.rep1a, decision_maker=False)
    errors = refused(lambda: opportunity_qualify(opportunity=opp, by=org.rep1a))
    assert errors == {
        "__all__": ["The customer needs a contact whose decision role is “decision maker”."]
    }


def test_qualify_without_visit_names_it(org, deal):
    opp = deal(org.rep1a, visited=False)
    errors = refused(lambda: opportunity_qualify(opportunity=opp, by=org.rep1a))
    assert errors == {"__all__": ["Log a visit to the customer first."]}


def test_qualify_missing_both_names_both(org, deal):
    opp = deal(org.rep1a, visited=False, decision_maker=False)
    errors = refused(lambda: opportunity_qualify(opportunity=opp, by=org.rep1a))
    assert len(errors["__all__"]) == 2


def test_propose_without_needs_analysis_names_the_field(org, deal):
    opp = deal(org.rep1a, Stage.NEEDS_ANALYSIS)
    errors = refused(lambda: opportunity_propose(opportunity=opp, by=org.rep1a))
    assert errors == {"needs_analysis": ["Write the needs-analysis notes first."]}
    assert Opportunity.objects.get(pk=opp.pk).stage == Stage.NEEDS_ANALYSIS


def test_negotiate_without_approved_quote_names_it(org, deal):
    opp = deal(org.rep1a, Stage.PROPOSAL)
    errors = refused(lambda: opportunity_negotiate(opportunity=opp, by=org.rep1a))
    assert errors == {"__all__": ["The opportunity needs an approved quote."]}


def test_win_without_signed_contract_names_it(org, deal):
    opp = deal(org.rep1a, Stage.NEGOTIATION)
    approve_quote(opp)
    errors = refused(lambda: opportunity_win(opportunity=opp, by=org.rep1a))
    assert errors == {"__all__": ["The opportunity needs a signed contract."]}


def test_win_with_signed_contract_passes(org, deal):
    opp = deal(org.rep1a, Stage.NEGOTIATION)
    signed_contract(opp)
    assert opportunity_win(opportunity=opp, by=org.rep1a).stage == Stage.WON


def test_lose_without_reason_names_it(org, deal):
    opp = deal(org.rep1a)
    errors = refused(lambda: opportunity_lose(opportunity=opp, by=org.rep1a, lost_competitor="X"))
    assert errors == {"lost_reason": ["Give the reason the deal was lost."]}


def test_lose_without_competitor_names_it(org, deal):
    opp = deal(org.rep1a)
    errors = refused(lambda: opportunity_lose(opportunity=opp, by=org.rep1a, lost_reason="价格"))
    assert errors == {"lost_competitor": ["Name the competitor who won (or “none”)."]}


def test_move_back_without_reason_names_it(org, deal):
    opp = deal(org.rep1a, Stage.PROPOSAL)
    errors = refused(lambda: opportunity_move_back(opportunity=opp, by=org.rep1a, reason="  "))
    assert errors == {"reason": ["Give the reason for going back a stage."]}
    assert Opportunity.objects.get(pk=opp.pk).stage == Stage.PROPOSAL
