"""Real Chromium against a live server: June's scorecards are computed; the supervisor writes a
rep's assessment and submits it, the manager approves it on the scorecard's approval panel and
publishes it, and the rep signs in and finds the published scorecard (seed 004 steps 10–12;
issue 8 "Done when")."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from apps.approvals.models import ApprovalPolicy, ApprovalStep
from apps.goals.periods import period_of
from apps.incentives import scorecards
from apps.incentives.choices import KpiMetric, ScorecardStatus
from apps.incentives.models import Scorecard
from tests.browser.test_approval_flow import browser_of, sign_in  # noqa: F401 (fixture)
from tests.incentives.test_scorecards import linear, make_scheme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ASSESSMENT = "Strong June: every visit planned was made."


@pytest.fixture
def june_card(org):
    """rep1a's computed scorecard of June 2026 (the default approval policy: the manager)."""
    policy, created = ApprovalPolicy.objects.get_or_create(
        document_type="incentives.scorecard", defaults={"name": "Scorecard approval"}
    )
    if created:
        ApprovalStep.objects.create(
            policy=policy, order=1, name="Manager approval", approver_kind="role", role="manager"
        )
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    scorecards.scorecards_compute(scheme=scheme, period=period_of("month", date(2026, 6, 1)))
    return Scorecard.objects.get(user=org.rep1a)


def test_supervisor_submits_manager_approves_and_publishes_rep_sees_it(
    page: Page,
    browser_of,  # noqa: F811 (the fixture imported above)
    live_server,
    org,
    june_card,
):
    base = live_server.url
    card_url = f"{base}{june_card.get_absolute_url()}"
    status = page.get_by_test_id("scorecard-status")

    # the supervisor writes the assessment and submits it
    sign_in(page, base, org.sup1.username)
    page.goto(card_url)
    expect(status).to_have_attribute("data-status", "computed")
    page.fill("#assessment-form textarea[name=assessment]", ASSESSMENT)
    page.click("[data-testid=submit-assessment]")
    expect(status).to_have_attribute("data-status", "pending")
    expect(page.locator("#approval-panel")).to_have_attribute("data-approval-status", "pending")

    # the manager approves it on the scorecard's approval panel, then publishes it
    manager = browser_of(org.manager1.username)
    manager.goto(card_url)
    expect(manager.get_by_test_id("assessment-text")).to_have_text(ASSESSMENT)
    manager.fill("#approval-comment", "Agreed.")
    manager.click("[data-testid=approval-approve]")
    expect(manager.locator("#approval-panel")).to_have_attribute("data-approval-status", "approved")
    manager.reload()
    expect(manager.get_by_test_id("scorecard-status")).to_have_attribute("data-status", "approved")
    manager.click("[data-testid=publish-scorecard]")
    expect(manager.get_by_test_id("scorecard-status")).to_have_attribute("data-status", "published")
    assert Scorecard.objects.get(pk=june_card.pk).status == ScorecardStatus.PUBLISHED

    # the rep signs in, finds it in the list and opens it
    rep = browser_of(org.rep1a.username)
    rep.goto(f"{base}/incentives/scorecards/")
    row = rep.locator(f"#scorecard-rows tr[data-scorecard='{june_card.pk}']")
    expect(row).to_be_visible()
    row.locator("a").first.click()
    rep.wait_for_url(card_url)
    expect(rep.get_by_test_id("scorecard-status")).to_have_attribute("data-status", "published")
    expect(rep.get_by_test_id("assessment-text")).to_have_text(ASSESSMENT)
    expect(rep.locator("[data-figure=score]")).to_have_text("0.00")
    # and nobody else's: rep1b's scorecard is not found
    other = Scorecard.objects.get(user=org.rep1b)
    response = rep.goto(f"{base}{other.get_absolute_url()}")
    assert response.status == 404
