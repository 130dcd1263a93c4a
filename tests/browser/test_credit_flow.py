"""Real Chromium against a live server: a customer's credit on its page — a rep asks for a
higher credit limit and it goes up the default chain (supervisor → manager → finance above
200,000) from each approver's "waiting for me" page; a return brings it back to draft with the
comment; finance puts the customer on credit hold and releases it; a credit investigation rates
the customer.

The UI is pinned to Chinese (zh-hans, the default): the browser sends zh-CN and the users have
no language preference, so the texts below are what a Chinese user reads."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from playwright.sync_api import Browser, Page, expect

from apps.approvals.models import ApprovalRequest
from apps.customers.credit import credit_limit_request_create, credit_limit_request_submit
from apps.customers.models import CreditLimitRequest, Customer
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "深圳华星科技有限公司"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def browser_of(browser: Browser, browser_context_args, live_server):
    """Another person at their own computer: a fresh browser context, signed in."""
    contexts = []

    def open_as(username: str) -> Page:
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, live_server.url, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _run_data_migration(module: str) -> None:
    """A transactional test starts from a flushed database: put back the rows a data migration
    ships (idempotent: the migrations use get_or_create)."""
    importlib.import_module(module).create(django_apps, None)


@pytest.fixture
def default_policies(transactional_db):
    """The default approval policies of seed 004 (credit limit: supervisor → manager →
    finance above 200,000) and the default credit rating rules."""
    _run_data_migration("apps.approvals.migrations.0002_default_policies")
    _run_data_migration("apps.customers.migrations.0003_default_credit_rating_rules")


@pytest.fixture
def customer(org, default_policies):
    return Customer.objects.create(owner=org.rep1a, name=CUSTOMER, region="深圳", tier="B")


def approve_from_inbox(page: Page, base: str, request: ApprovalRequest) -> None:
    page.goto(f"{base}/approvals/")
    expect(page.get_by_role("heading", name="待我审批")).to_be_visible()
    row = page.locator(f"#inbox-task-{request.pk}")
    expect(row).to_contain_text(CUSTOMER)
    row.locator("[data-testid=inbox-approve]:visible").click()
    expect(row.locator("[data-outcome=approved]")).to_be_visible()


def test_rep_requests_a_higher_limit_and_it_applies_after_supervisor_manager_and_finance(
    page: Page, browser_of, live_server, org, customer
):
    base = live_server.url
    customer_url = f"{base}/customers/{customer.pk}/"

    # given the rep on their customer's page, which has no credit limit yet
    sign_in(page, base, org.rep1a.username)
    page.goto(customer_url)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#credit-limit")).to_have_text("0.00")

    # when they request 300,000 (above finance's 200,000) from the page and save the draft
    page.get_by_role("link", name="申请信用额度").click()
    page.fill("#id_requested_limit", "300000")
    page.fill("#id_payment_term_days", "60")
    page.fill("#id_reason", "三季度大单，需提高额度")
    page.get_by_role("button", name="保存草稿").click()

    # then the request page shows the draft, and the limit it asks for
    expect(page.locator("#limit-request-status")).to_have_text("草稿")
    expect(page.locator("#requested-limit")).to_have_text("300,000.00")

    # when they submit it for approval through the panel
    page.fill("#approval-submit-comment", "请审批")
    page.click("[data-testid=approval-submit]")
    panel = page.locator("#approval-panel")
    expect(panel).to_have_attribute("data-approval-status", "pending")
    expect(panel.locator(".approval-step.is-current [data-approver=sup1]")).to_be_visible()
    limit_request = CreditLimitRequest.objects.get(customer=customer)
    request = ApprovalRequest.objects.get(object_id=limit_request.pk)

    # then the supervisor, the manager and finance each approve it from "waiting for me"
    for approver in (org.sup1, org.manager1, org.finance):
        approve_from_inbox(browser_of(approver.username), base, request)

    # then the customer page shows the new limit, the available credit and the new term
    page.goto(customer_url)
    expect(page.locator("#credit-limit")).to_have_text("300,000.00")
    expect(page.locator("#credit-available")).to_have_text("300,000.00")
    expect(page.locator("#credit-facts")).to_contain_text("60")
    item = page.locator(f"#approval-documents [data-credit-limit='{limit_request.pk}']")
    expect(item).to_contain_text("已通过")
    # and with nothing open, the rep may ask again
    expect(page.get_by_role("link", name="申请信用额度")).to_be_visible()


def test_a_returned_request_is_back_in_draft_with_the_supervisors_comment(
    page: Page, browser_of, live_server, org, customer
):
    base = live_server.url
    # given a request for 150,000 the rep has submitted
    limit_request = credit_limit_request_create(
        customer=customer,
        by=org.rep1a,
        data={"requested_limit": Decimal("150000"), "payment_term_days": 45, "reason": "新项目"},
    )
    request = credit_limit_request_submit(limit_request=limit_request, by=org.rep1a)

    # when the supervisor returns it from "waiting for me" with a comment
    sup = browser_of(org.sup1.username)
    sup.goto(f"{base}/approvals/")
    row = sup.locator(f"#inbox-task-{request.pk}")
    row.locator("[data-testid=inbox-return]:visible").click()
    row.locator("textarea[name=comment]").fill("请补充近三个月的回款记录")
    row.locator("[data-testid=inbox-return-confirm]").click()
    expect(row.locator("[data-outcome=returned]")).to_be_visible()

    # then the rep's customer page lists the request as a draft, the limit unchanged
    sign_in(page, base, org.rep1a.username)
    page.goto(f"{base}/customers/{customer.pk}/")
    expect(page.locator("#credit-limit")).to_have_text("0.00")
    item = page.locator(f"#approval-documents [data-credit-limit='{limit_request.pk}']")
    expect(item).to_contain_text("草稿")

    # and the request page shows the comment, and lets the rep revise it
    item.get_by_role("link").click()
    expect(page.locator("#limit-request-status")).to_have_text("草稿")
    expect(page.locator("#return-comment")).to_contain_text("退回意见：")
    expect(page.locator("#return-comment")).to_contain_text("请补充近三个月的回款记录")
    page.click("#limit-request-edit")
    expect(page.locator("#return-comment")).to_contain_text("请补充近三个月的回款记录")
    page.fill("#id_reason", "新项目，附近三个月回款记录")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#limit-request-facts")).to_contain_text("附近三个月回款记录")
    expect(page.locator("#approval-panel")).to_have_attribute("data-approval-status", "rejected")


def test_finance_puts_the_customer_on_credit_hold_and_releases_it(
    page: Page, browser_of, live_server, org, customer
):
    base = live_server.url
    customer_url = f"{base}/customers/{customer.pk}/"
    credit_panel = page.locator("#credit")

    # given finance on the customer's page
    sign_in(page, base, org.finance.username)
    page.goto(customer_url)

    # when they try to put it on hold without a reason
    credit_panel.get_by_role("button", name="信用冻结").click()
    # then the panel asks for one, and nothing changed
    expect(page.locator("#credit-hold-reason-error")).to_have_text("请说明原因。")
    assert not Customer.objects.get(pk=customer.pk).on_credit_hold

    # when they give a reason
    page.fill("#credit-hold-reason-input", "逾期货款超过90天")
    credit_panel.get_by_role("button", name="信用冻结").click()
    # then the panel shows the hold and its reason, and offers to release it
    expect(page.locator("#credit-hold-reason")).to_have_text("逾期货款超过90天")
    # and the page header's badge follows without a reload
    expect(page.locator("#customer-credit-hold")).to_be_visible()
    expect(page.locator("#customer-credit-hold")).to_have_text("信用冻结")
    expect(credit_panel.get_by_role("button", name="解除信用冻结")).to_be_visible()

    # and the rep sees the hold badge and the reason on their customer
    rep = browser_of(org.rep1a.username)
    rep.goto(customer_url)
    expect(rep.locator("#customer-credit-hold")).to_be_visible()
    expect(rep.locator("#customer-credit-hold")).to_have_text("信用冻结")
    expect(rep.locator("#credit-hold-reason")).to_have_text("逾期货款超过90天")
    expect(rep.locator("#credit-hold-form")).to_have_count(0)

    # when finance releases the hold with a reason
    page.fill("#credit-hold-reason-input", "已结清欠款")
    credit_panel.get_by_role("button", name="解除信用冻结").click()
    # then the hold is gone from the page
    expect(credit_panel.get_by_role("button", name="信用冻结")).to_be_visible()
    expect(page.locator("#credit-hold-reason")).to_have_count(0)
    expect(page.locator("#customer-credit-hold")).to_be_hidden()
    # and from the rep's page
    rep.reload()
    expect(rep.locator("#customer-credit-hold")).to_be_hidden()
    assert not Customer.objects.get(pk=customer.pk).on_credit_hold


def test_credit_investigation_rates_the_customer_and_drafts_the_default_limit(
    page: Page, live_server, org, customer
):
    base = live_server.url
    # given the rep on their customer's page, which has no rating and no limit
    sign_in(page, base, org.rep1a.username)
    page.goto(f"{base}/customers/{customer.pk}/")
    expect(page.locator("#credit-rating")).to_have_text("—")

    # when they open the credit investigation and score each factor 85
    page.click("#credit-investigate")
    expect(page.get_by_role("heading", name="信用调查")).to_be_visible()
    for field in ("registered_capital", "years_in_business", "payment_record",
                  "legal_disputes", "financial_standing", "references"):  # fmt: skip
        page.fill(f"#id_{field}", "85")
    page.get_by_role("button", name="完成并评级").click()

    # then the customer page says the rating and the weighted score, and shows the rating
    expect(page.locator("#messages")).to_contain_text("信用评级 AA（加权得分 85.00）。")
    expect(page.locator("#credit-rating")).to_have_text("AA")
    # and a draft request for the rating's default limit waits for the rep to submit it
    limit_request = CreditLimitRequest.objects.get(customer=customer)
    item = page.locator(f"#approval-documents [data-credit-limit='{limit_request.pk}']")
    expect(item).to_contain_text("500,000.00")
    expect(item).to_contain_text("草稿")
    expect(page.locator("#credit-limit")).to_have_text("0.00")
