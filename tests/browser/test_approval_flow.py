"""Real Chromium against a live server: a document's way through its approval chain, driven by
three people in their own browsers, through the approval panel, the inbox and the bell."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.approvals.models import ApprovalRequest
from apps.notifications.models import Notification
from tests.approvals.conftest import policy  # noqa: F401 (fixture)
from tests.factories import PASSWORD
from tests.testapp.models import Memo, memo_new

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Trade show budget 2026"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def browser_of(browser: Browser, browser_context_args, live_server):
    """Another person at their own computer: a fresh browser context, signed in. Closed at the
    end, so that no polling page keeps a connection to the test database."""
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


def inbox_row(page: Page, request_id: int):
    return page.locator(f"#inbox-task-{request_id}")


@pytest.fixture
def memo(org):
    # Above the manager's 10,000: supervisor, then manager.
    return memo_new(owner=org.rep1a, title=TITLE, amount=Decimal("50000"))


@pytest.mark.usefixtures("policy")
def test_memo_is_returned_resubmitted_and_approved_by_supervisor_and_manager(
    page: Page, browser_of, live_server, org, memo
):
    base = live_server.url
    memo_url = f"{base}/test/memos/{memo.pk}/"
    panel = page.locator("#approval-panel")

    # given the rep on their draft memo, whose panel shows the chain it will follow
    sign_in(page, base, org.rep1a.username)
    page.goto(memo_url)
    expect(panel).to_have_attribute("data-approval-status", "none")
    expect(panel.locator("[data-approver=sup1]")).to_be_visible()
    expect(panel.locator("[data-approver=manager1]")).to_be_visible()

    # when the rep submits it through the panel
    page.fill("#approval-submit-comment", "Booth and brochures")
    page.click("[data-testid=approval-submit]")

    # then the panel (swapped by htmx) shows it waiting for the supervisor, and the page's
    # status follows
    expect(panel).to_have_attribute("data-approval-status", "pending")
    expect(panel.locator(".approval-step.is-current [data-approver=sup1]")).to_be_visible()
    expect(page.get_by_test_id("memo-status")).to_have_text("pending")
    request = ApprovalRequest.objects.get(object_id=memo.pk)

    # when the supervisor finds it in their inbox and returns it with a comment
    sup = browser_of(org.sup1.username)
    expect(sup.locator("[data-nav-badge=approvals] [data-waiting-count]")).to_have_text("1")
    sup.goto(f"{base}/approvals/")
    row = inbox_row(sup, request.pk)
    expect(row).to_contain_text(TITLE)
    row.locator("[data-testid=inbox-return]:visible").click()
    row.locator("textarea[name=comment]").fill("Add the exhibitor's quote, please.")
    row.locator("[data-testid=inbox-return-confirm]").click()

    # then the row says it went back, and the supervisor's badge empties
    expect(inbox_row(sup, request.pk).locator("[data-outcome=returned]")).to_be_visible()
    expect(sup.locator("[data-nav-badge=approvals] [data-waiting-count]")).to_have_count(0)

    # and the rep sees the comment on the memo page and a notification in the bell
    page.goto(memo_url)
    expect(panel).to_have_attribute("data-approval-status", "rejected")
    expect(page.get_by_test_id("approval-return-comment")).to_have_text(
        "Add the exhibitor's quote, please."
    )
    expect(page.get_by_test_id("memo-status")).to_have_text("draft")
    expect(page.locator("#notification-badge .notification-count")).to_have_attribute(
        "data-unread", "1"
    )
    page.click("#notification-bell")
    returned_item = page.locator("#notification-menu [data-notification][data-read='0']")
    expect(returned_item).to_have_count(1)
    expect(returned_item).to_contain_text(TITLE)

    # when the rep resubmits
    page.keyboard.press("Escape")
    page.fill("#approval-submit-comment", "Quote attached")
    page.click("[data-testid=approval-submit]")

    # then round 2 waits for the supervisor, and round 1 is kept below with its reason
    expect(panel).to_have_attribute("data-round", "2")
    expect(panel).to_have_attribute("data-approval-status", "pending")
    expect(panel.locator("details.approval-round[data-round='1']")).to_contain_text(
        "Add the exhibitor's quote, please."
    )

    # when the supervisor approves on the memo page's panel
    sup.goto(memo_url)
    sup.fill("#approval-comment", "OK now")
    sup.click("[data-testid=approval-approve]")

    # then the manager's step is the current one
    sup_panel = sup.locator("#approval-panel")
    expect(sup_panel.get_by_test_id("approval-notice")).to_be_visible()
    expect(sup_panel.locator(".approval-step.is-current [data-approver=manager1]")).to_be_visible()

    # when the manager approves from their inbox
    manager = browser_of(org.manager1.username)
    manager.goto(f"{base}/approvals/")
    inbox_row(manager, request.pk).locator("[data-testid=inbox-approve]:visible").click()
    expect(inbox_row(manager, request.pk).locator("[data-outcome=approved]")).to_be_visible()

    # then the memo is approved, and the rep is told so
    page.goto(memo_url)
    expect(panel).to_have_attribute("data-approval-status", "approved")
    expect(page.get_by_test_id("memo-status")).to_have_text("approved")
    assert Memo.objects.get(pk=memo.pk).approved_count == 1
    approved = Notification.objects.get(recipient=org.rep1a, kind="approval_approved")
    page.goto(f"{base}/notifications/")
    item = page.locator(f"[data-notification='{approved.pk}']")
    expect(item).to_have_attribute("data-read", "0")
    expect(item).to_contain_text(TITLE)

    # and opening it marks it read and leads to the memo
    item.get_by_test_id("notification-link").click()
    expect(page).to_have_url(re.compile(rf"/test/memos/{memo.pk}/$"))
    assert Notification.objects.get(pk=approved.pk).read_at is not None
