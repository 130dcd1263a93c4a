"""Real Chromium against a live server: a sales director (a manager heading the company) opens
the company attainment of June 2026, drills to a department, a team, a rep and one of the
rep's contracts (the contract's own page), comes back and downloads the Excel file, whose rows
are checked (issue 7 "Done when")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from apps.accounts.choices import Role
from apps.goals.choices import Metric
from tests.factories import PASSWORD, UserFactory
from tests.goals.test_actuals import june_documents
from tests.goals.test_attainment import target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
JUNE = "period=month&date=2026-06-15&metric=contract_amount"


class Clock:
    """Travels in time while the documents are made, back to now for the browser (its session
    cookie must not have expired in the real present)."""

    def __init__(self) -> None:
        self.traveller: time_machine.travel | None = None

    def move_to(self, when: datetime) -> None:
        self.stop()
        self.traveller = time_machine.travel(when, tick=True)
        self.traveller.start()

    def stop(self) -> None:
        if self.traveller is not None:
            self.traveller.stop()
            self.traveller = None


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def director(org):
    """A sales director: a manager heading the company's root unit (sees the whole company)."""
    user = UserFactory(username="director", role=Role.MANAGER, org_unit=org.company,
                       first_name="总", last_name="王")  # fmt: skip
    org.company.head = user
    org.company.save()
    return user


@pytest.fixture
def june(org, director):
    clock = Clock()
    try:
        documents = june_documents(org, clock)
    finally:
        clock.stop()
    amount = Metric.CONTRACT_AMOUNT
    target(amount, "1000000.00")
    target(amount, "900000.00", unit=org.dept1)
    target(amount, "10000.00", unit=org.team1)
    target(amount, "4000.00", unit=org.team1, user=org.rep1a)
    return documents


def test_director_drills_from_the_company_to_a_contract_and_downloads_the_excel(
    page: Page, live_server, org, director, june, tmp_path: Path
):
    base = live_server.url
    sign_in(page, base, director.username)

    # the company: a gauge, the chart, a row per department
    page.goto(f"{base}/goals/attainment/?{JUNE}")
    expect(page.get_by_test_id("report-node")).to_contain_text("公司")
    expect(page.locator("[data-gauge=contract_amount] [data-figure=attainment]")).to_have_text(
        "80.3%"
    )
    expect(page.locator("#report-chart [data-bar]")).to_have_count(3)  # and the director
    dept1 = page.locator(f"#report-rows tr[data-key='unit-{org.dept1.pk}']")
    expect(dept1.locator("[data-col=actual]")).to_have_text("803,000.00")

    # drill to the department, then the team, then the rep
    dept1.get_by_role("link", name="Dept 1").click()
    expect(page.get_by_test_id("report-node")).to_contain_text("Dept 1")
    page.locator(f"#report-rows tr[data-key='unit-{org.team1.pk}'] a").click()
    expect(page.get_by_test_id("report-node")).to_contain_text("Team 1")
    expect(page.get_by_test_id("report-trail")).to_contain_text("Dept 1")
    rep_row = page.locator(f"#report-rows tr[data-key='rep-{org.rep1a.pk}']")
    expect(rep_row.locator("[data-col=attainment]")).to_have_text("75.0%")
    rep_row.locator("a").click()
    expect(page.get_by_test_id("report-node")).to_contain_text(org.rep1a.display_name)

    # the documents behind the rep's number, then one contract's own page
    page.locator("#report-documents a").first.click()
    expect(page.locator("[data-figure=total]")).to_have_text("3,000.00")
    c1 = june.contracts["C1"]
    page.locator(f"#document-rows tr[data-document='contract-{c1.pk}'] a").click()
    page.wait_for_url(f"{base}/contracts/{c1.pk}/")
    expect(page.locator("body")).to_contain_text(c1.number)

    # back to the team, and the Excel file of what is on screen
    page.go_back()
    page.go_back()
    page.go_back()
    expect(page.get_by_test_id("report-node")).to_contain_text("Team 1")
    with page.expect_download() as info:
        page.click("#report-export")
    download = info.value
    assert download.suggested_filename.startswith("attainment-2026-06-unit")
    saved = tmp_path / "attainment.xlsx"
    download.save_as(saved)
    sheet = load_workbook(BytesIO(saved.read_bytes())).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows[org.rep1a.display_name][2:5] == (4000, 3000, 75)
    assert rows[org.rep1b.display_name][3] == 0  # C5 was terminated before the move
    total = [name for name in rows if name.startswith("合计") or name.startswith("Total")]
    assert len(total) == 1 and Decimal(str(rows[total[0]][3])) == Decimal("3000")


def test_rep_sees_own_attainment_on_a_phone(browser: Browser, browser_context_args, live_server,
                                            org, june):  # fmt: skip
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    page = context.new_page()
    sign_in(page, live_server.url, org.rep1a.username)
    page.goto(f"{live_server.url}/goals/attainment/?{JUNE}")
    expect(page.get_by_test_id("report-node")).to_contain_text(org.rep1a.display_name)
    expect(page.locator("[data-gauge=contract_amount] [data-figure=actual]")).to_have_text(
        "3,000.00"
    )
    # nothing of the others, and another rep's page is not found
    expect(page.locator("#report-rows")).not_to_contain_text("Team 2")
    response = page.goto(f"{live_server.url}/goals/attainment/?{JUNE}&rep={org.rep1b.pk}")
    assert response.status == 404
    context.close()
