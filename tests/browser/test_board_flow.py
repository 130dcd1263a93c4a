"""Real Chromium against a live server: a rep drags a deal on the board into the next stage
through a guard that asks for input (needs analysis → proposal asks for the notes)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from apps.customers.models import Customer
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity, StageChange
from apps.opportunities.services import opportunity_create
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_rep_drags_a_deal_to_proposal_and_writes_the_needs_analysis(page: Page, live_server, org):
    # given a deal of rep1a in needs analysis, without needs-analysis notes
    customer = Customer.objects.create(name="星河精密机械", owner=org.rep1a)
    opp = opportunity_create(customer=customer, owner=org.rep1a, by=org.rep1a,
                             name="星河 数控机床", amount=Decimal("300000.00"))  # fmt: skip
    Opportunity.objects.filter(pk=opp.pk).update(stage=Stage.NEEDS_ANALYSIS)
    StageChange.objects.filter(opportunity=opp).update(stage=Stage.NEEDS_ANALYSIS)
    base = live_server.url
    sign_in(page, base, org.rep1a.username)
    page.goto(f"{base}/opportunities/board/")
    card = page.locator(f".board-card[data-id='{opp.pk}']")
    expect(page.locator("#column-needs_analysis").locator(card)).to_have_count(1)

    # when they drag the card into the proposal column
    card.drag_to(page.locator("#column-proposal .board-cards"))

    # then the board asks for the needs-analysis notes in place, and the card has not moved
    notes = page.locator("#board-modal textarea[name=needs_analysis]")
    expect(notes).to_be_visible()
    expect(page.locator(f"#column-needs_analysis .board-card[data-id='{opp.pk}']")).to_have_count(1)

    # when they write the notes and confirm
    notes.fill("十台五轴加工中心，交期三个月内")
    page.click("#board-modal-submit")

    # then the card lands in the proposal column, whose total now counts it
    expect(page.locator(f"#column-proposal .board-card[data-id='{opp.pk}']")).to_have_count(1)
    expect(page.locator("#column-proposal [data-testid=column-count]")).to_have_text("1")
    opp = Opportunity.objects.get(pk=opp.pk)
    assert (opp.stage, opp.needs_analysis) == (Stage.PROPOSAL, "十台五轴加工中心，交期三个月内")
