"""Real Chromium against a live server: a rep drafts a contract with two payment terms (30 %
prepayment, 70 % on delivery), submits it, the supervisor approves it from the contract page's
approval panel, the rep records the signing, and the installments appear.

The UI is pinned to Chinese (zh-hans, the default)."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from playwright.sync_api import Browser, expect

from apps.contracts.models import Contract
from apps.customers.models import Customer
from apps.opportunities.models import Product
from apps.receivables.models import Installment
from tests.browser.test_credit_flow import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(org):
    for module in ("apps.approvals.migrations.0002_default_policies",
                   "apps.approvals.migrations.0004_credit_override_steps",
                   "apps.contracts.migrations.0002_amendment_policy"):  # fmt: skip
        importlib.import_module(module).create(django_apps, None)
    Product.objects.create(code="CNC-01", name="数控机床", unit="台", list_price=Decimal("10000"))
    return Customer.objects.create(name="深圳华星科技有限公司", owner=org.rep1a,
                                   credit_limit=Decimal("1000000"))  # fmt: skip


def test_rep_drafts_submits_supervisor_approves_rep_signs(browser: Browser, browser_context_args,
                                                          live_server, org, setup):  # fmt: skip
    base = live_server.url
    rep = browser.new_context(**browser_context_args).new_page()
    sign_in(rep, base, "rep1a")
    # the rep drafts a contract: one line, 30 % prepayment and 70 % on delivery
    rep.goto(f"{base}/contracts/new/?customer={setup.pk}")
    rep.fill("[name=title]", "机床采购合同")
    rep.locator(".product-picker").first.fill("数控")
    rep.locator(".product-option").first.click()
    rep.locator("[name=line-quantity]").first.fill("10")
    rep.click("#term-add")
    rep.click("#term-add")
    terms = rep.locator("#term-rows tr.contract-term")
    terms.nth(0).locator("[name=term-kind]").select_option("prepayment")
    terms.nth(0).locator("[name=term-due_date]").fill("2026-12-01")
    terms.nth(0).locator("[name=term-percentage]").fill("30")
    terms.nth(1).locator("[name=term-kind]").select_option("on_delivery")
    terms.nth(1).locator("[name=term-due_date]").fill("2027-03-01")
    terms.nth(1).locator("[name=term-percentage]").fill("70")
    expect(rep.locator("#terms-check")).to_have_class("card-footer small text-success")
    rep.click("#contract-save")
    expect(rep.locator("#contract-status")).to_have_text("草稿")
    contract = Contract.objects.get()
    assert contract.amount == Decimal("100000.00")
    # and submits it
    rep.click("#contract-submit")
    expect(rep.locator("#contract-status")).to_have_text("审批中")
    # the supervisor approves it from the contract page
    sup = browser.new_context(**browser_context_args).new_page()
    sign_in(sup, base, "sup1")
    sup.goto(f"{base}/contracts/{contract.pk}/")
    sup.click("[data-testid=approval-approve]")
    for _ in range(50):  # the panel posts with htmx: wait for the decision to be stored
        if Contract.objects.get(pk=contract.pk).status == "approved":
            break
        sup.wait_for_timeout(200)
    assert Contract.objects.get(pk=contract.pk).status == "approved"
    # the rep signs it and sees the installments
    rep.goto(f"{base}/contracts/{contract.pk}/")
    rep.fill("#signed-on", "2026-11-20")
    rep.click("#contract-sign")
    expect(rep.locator("#contract-installments tbody tr")).to_have_count(2)
    expect(rep.locator("#contract-installments")).to_contain_text("30,000.00")
    expect(rep.locator("#contract-installments")).to_contain_text("70,000.00")
    assert Installment.objects.filter(contract=contract).count() == 2
