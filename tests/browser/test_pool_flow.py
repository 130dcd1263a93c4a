"""Real Chromium against a live server: the public pool (公海) — a rep releases a customer with
a reason, another rep finds it on the pool page and claims it; the claim cap and the cool-off
refuse a claim with a message that says why.

The UI is pinned to Chinese (zh-hans, the default): the browser sends zh-CN and the users have
no language preference, so the texts below are what a Chinese user reads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apps.customers.models import Customer
from apps.customers.pool import customer_claim, customer_release
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "杭州远帆新材料有限公司"


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


@pytest.fixture(autouse=True)
def _pool_rules(settings):
    settings.CUSTOMER_POOL_CLAIM_CAP = 50
    settings.CUSTOMER_POOL_COOLOFF_DAYS = 30


def pool_row(page: Page, customer: Customer):
    return page.locator(f"#pool-row-{customer.pk}")


def search_pool(page: Page, base: str, term: str) -> None:
    page.goto(f"{base}/customers/pool/")
    expect(page.get_by_role("heading", name="公海")).to_be_visible()
    page.fill("#pool-search", term)
    expect(page).to_have_url(re.compile(r"q="))


def test_rep_releases_a_customer_and_another_rep_finds_and_claims_it(
    page: Page, browser_of, live_server, org
):
    base = live_server.url
    # given rep1a's customer, and another customer already in the pool
    customer = Customer.objects.create(owner=org.rep1a, name=CUSTOMER, region="杭州", tier="C")
    other = Customer.objects.create(owner=None, name="宁波港城物流有限公司", region="宁波")

    # when rep1a releases it to the pool from its page, with a reason
    sign_in(page, base, org.rep1a.username)
    page.goto(f"{base}/customers/{customer.pk}/")
    page.get_by_text("退回公海", exact=True).click()
    page.get_by_placeholder("退回原因").fill("客户暂无采购计划")
    page.get_by_role("button", name="确认退回").click()

    # then the page says so and shows the customer in the pool, without owner or release button
    expect(page.locator("#messages")).to_contain_text("客户已退回公海。")
    expect(page.locator("#customer-in-pool")).to_have_text("公海")
    expect(page.locator("#customer-release")).to_have_count(0)

    # when rep2a (another team) opens the pool from their customer list and searches it
    rep2a = browser_of(org.rep2a.username)
    rep2a.goto(f"{base}/customers/")
    rep2a.get_by_role("link", name="公海").click()
    expect(pool_row(rep2a, other)).to_be_visible()
    rep2a.fill("#pool-search", "远帆")
    # then only the match is left
    expect(pool_row(rep2a, other)).to_have_count(0)
    row = pool_row(rep2a, customer)
    expect(row).to_contain_text(CUSTOMER)

    # when they claim it
    row.get_by_role("button", name="领取").click()
    # then the row says it is theirs
    expect(row.locator("[data-claimed]")).to_have_text("已由您领取")
    expect(row.get_by_role("button", name="领取")).to_have_count(0)

    # and it is in their own customers, and no longer in the pool
    rep2a.goto(f"{base}/customers/?pool=no")
    expect(rep2a.locator(f"#customer-results tr[data-customer='{customer.pk}']")).to_contain_text(
        CUSTOMER
    )
    search_pool(rep2a, base, "远帆")
    expect(rep2a.locator("#pool-results")).to_contain_text("公海中没有符合条件的客户")
    assert Customer.objects.get(pk=customer.pk).owner == org.rep2a


def test_a_claim_over_the_cap_is_refused_with_the_cap_in_the_message(
    page: Page, live_server, org, settings
):
    base = live_server.url
    # given a cap of 1 claimed customer, which rep2a already holds
    settings.CUSTOMER_POOL_CLAIM_CAP = 1
    customer_claim(customer=Customer.objects.create(name="已领取的客户", owner=None), by=org.rep2a)
    customer = Customer.objects.create(name=CUSTOMER, owner=None)

    # when rep2a claims another from the pool page
    sign_in(page, base, org.rep2a.username)
    search_pool(page, base, "远帆")
    row = pool_row(page, customer)
    row.get_by_role("button", name="领取").click()

    # then the row says why, and the customer stays in the pool
    expect(row.locator("[data-claim-error]")).to_have_text(
        "您从公海领取的客户已有 1 个，已达上限（1 个）。请先退回一个客户，再领取新的客户。"
    )
    expect(row.get_by_role("button", name="领取")).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).owner_id is None


def test_the_rep_who_lost_a_customer_cannot_claim_it_back_during_the_cool_off(
    page: Page, live_server, org
):
    base = live_server.url
    # given a customer rep1a released to the pool today
    customer = Customer.objects.create(owner=org.rep1a, name=CUSTOMER)
    customer_release(customer=customer, by=org.rep1a, reason="暂停合作")
    today = timezone.localdate()
    until = today + timedelta(days=30)
    refusal = (
        f"该客户于 {today.isoformat()} 从您名下退回公海，冷却期为 30 天，"
        f"您可在 {until.isoformat()} 起重新领取。"
    )

    # when rep1a tries to claim it back from the pool page
    sign_in(page, base, org.rep1a.username)
    search_pool(page, base, "远帆")
    row = pool_row(page, customer)
    row.get_by_role("button", name="领取").click()
    # then the row gives the cool-off and the day it ends
    expect(row.locator("[data-claim-error]")).to_have_text(refusal)

    # and the claim button on the customer's page is refused the same way
    page.goto(f"{base}/customers/{customer.pk}/")
    page.locator("#customer-claim").click()
    expect(page).to_have_url(re.compile(r"/customers/pool/$"))
    expect(page.locator("#messages")).to_contain_text(refusal)
    assert Customer.objects.get(pk=customer.pk).owner_id is None
