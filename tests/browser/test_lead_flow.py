"""Real Chromium against a live server: a lead's way from the public web form to a customer
(issue 4 "Done when": capture → assignment → contact → qualify → convert)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.customers.models import Customer
from apps.leads.choices import LeadSource, LeadStatus
from apps.leads.models import Lead, Territory
from apps.leads.services import lead_capture
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
COMPANY = "上海星河精密机械有限公司"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def visitor(browser: Browser, browser_context_args):
    """An anonymous visitor on a phone."""
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    yield context.new_page()
    context.close()


def test_web_form_lead_is_assigned_contacted_qualified_and_converted(
    page: Page, visitor: Page, live_server, org
):
    base = live_server.url
    # given 上海 is team 1's territory, and rep1a already works an open lead there
    Territory.objects.create(region="上海", team=org.team1)
    busy = lead_capture(data={"company_name": "已有线索公司", "region": "上海"},
                        source=LeadSource.API).lead  # fmt: skip
    assert busy.owner == org.rep1a

    # when a visitor sends the public web form from a campaign link, on their phone
    visitor.goto(f"{base}/leads/form/?utm_source=baidu")
    visitor.fill("#id_company_name", COMPANY)
    visitor.fill("#id_contact_name", "陈经理")
    visitor.fill("#id_phone", "139 1234 5678")
    visitor.fill("#id_email", "chen@xinghe.example.cn")
    visitor.fill("#id_region", "上海")
    visitor.fill("#id_message", "需要数控机床报价")
    visitor.click("#webform-submit")

    # then they are thanked, and the lead went to the least-loaded rep of team 1
    expect(visitor.get_by_test_id("webform-thanks")).to_be_visible()
    lead = Lead.objects.get(company_name=COMPANY)
    assert (lead.source, lead.channel) == (LeadSource.WEB_FORM, "baidu")
    assert (lead.status, lead.team, lead.owner) == (LeadStatus.ASSIGNED, org.team1, org.rep1b)

    # when that rep opens it from their list and works it with the detail page's buttons
    sign_in(page, base, org.rep1b.username)
    page.goto(f"{base}/leads/")
    page.locator(f"#lead-results tr[data-lead='{lead.pk}'] a").click()
    expect(page.get_by_test_id("lead-title")).to_have_text(COMPANY)
    for step, following in (("contact", "qualify"), ("qualify", "convert")):
        page.click(f"#lead-actions [data-transition={step}]")
        expect(page.locator(f"#lead-actions [data-transition={following}]")).to_be_visible()
    page.click("#lead-actions [data-transition=convert]")

    # then the page shows the customer it became, owned by the rep
    customer_link = page.get_by_test_id("lead-customer")
    expect(customer_link).to_have_text(COMPANY)
    expect(page.locator("#lead-actions [data-transition]")).to_have_count(0)
    lead = Lead.objects.get(pk=lead.pk)
    customer = Customer.objects.get(pk=lead.converted_customer_id)
    assert lead.status == LeadStatus.CONVERTED
    assert (customer.name, customer.owner) == (COMPANY, org.rep1b)
    assert customer.contacts.filter(name="陈经理").exists()
