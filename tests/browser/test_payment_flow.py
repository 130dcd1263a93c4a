"""Real Chromium against a live server: finance records a payment and allocates it, and the
rep's "my overdue" list changes (issue 6 "Done when")."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apps.contracts.models import Contract
from apps.customers.models import Customer
from apps.receivables.models import Installment, Payment
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
CUSTOMER = "深圳华星科技有限公司"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def rep_phone(browser: Browser, browser_context_args, live_server, org):
    """The rep on a phone."""
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    page = context.new_page()
    sign_in(page, live_server.url, org.rep1a.username)
    yield page
    context.close()


def test_finance_records_and_allocates_a_payment_and_the_reps_overdue_list_changes(
    page: Page, rep_phone: Page, live_server, org
):
    base = live_server.url
    today = timezone.localdate()
    # given rep1a's customer with a signed contract: one installment 40 days overdue
    customer = Customer.objects.create(name=CUSTOMER, owner=org.rep1a)
    contract = Contract.objects.create(
        number="HT-2026-000001", title="设备采购合同", customer=customer, owner=org.rep1a,
        amount=Decimal("30000.00"), credit_portion=Decimal("30000.00"),
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(status="signed")  # state for the test
    overdue = Installment.objects.create(
        contract=contract, customer=customer, owner=org.rep1a, sequence=1, kind="on_delivery",
        due_date=today - timedelta(days=40), amount=Decimal("30000.00"),
    )  # fmt: skip
    Installment.objects.filter(pk=overdue.pk).update(status="due")

    # the rep sees it on their overdue list
    rep_phone.goto(f"{base}/receivables/my-overdue/")
    row = rep_phone.locator(f"#overdue-results [data-installment='{overdue.pk}']")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("days-overdue")).to_contain_text("40")

    # when finance records the customer's transfer, choosing the customer by typing its name
    sign_in(page, base, org.finance.username)
    page.goto(f"{base}/receivables/payments/new/")
    page.fill("#customer-search", "华星")
    page.locator("#customer-options [data-pick-id]").first.click()
    expect(page.get_by_test_id("customer-chosen")).to_have_text(CUSTOMER)
    page.fill("#id_amount", "30000.00")
    page.fill("#id_bank_reference", "ICBC-20260615-0001")
    page.fill("#id_payer_name", "华星科技")
    page.click("#payment-save")

    # then the payment page previews oldest due first; finance allocates it
    expect(page.locator("#fifo-preview")).to_contain_text("HT-2026-000001")
    page.click("#allocate-fifo")
    expect(page.get_by_test_id("payment-unallocated")).to_have_text("0.00")
    payment = Payment.objects.get(bank_reference="ICBC-20260615-0001")
    assert payment.allocated_amount == Decimal("30000.00")
    assert Installment.objects.get(pk=overdue.pk).status == "paid"

    # and the installment has left the rep's overdue list
    rep_phone.reload()
    expect(rep_phone.locator(f"#overdue-results [data-installment='{overdue.pk}']")).to_have_count(
        0
    )
