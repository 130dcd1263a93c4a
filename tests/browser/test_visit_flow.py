"""Real Chromium against a live server: a rep plans a week on the calendar (adds plans on two
days, drags one to another day), then logs the visit from a phone with a check-in (issue 5
"Done when")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apps.customers.models import Customer
from apps.visits.choices import PlanStatus
from apps.visits.models import VisitPlan, VisitRecord
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SHANGHAI = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 35}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def add_plan(page: Page, day: str, customer: str) -> None:
    page.click(f"[data-add-plan='{day}']")
    page.fill("#target-search", customer[:4])
    page.locator("#target-options [data-pick-kind=customer]", has_text=customer).click()
    expect(page.locator("#target-chosen-name")).to_have_text(customer)
    page.select_option("#id_purpose", "order")
    page.fill("#id_objectives", "确认下季度订单")
    page.click("#plan-save")
    page.wait_for_url("**/visits/?week=*")


@pytest.fixture
def phone(browser: Browser, browser_context_args):
    context = browser.new_context(
        **{**browser_context_args, "viewport": PHONE},
        permissions=["geolocation"],
        geolocation=SHANGHAI,
    )
    yield context.new_page()
    context.close()


def test_rep_plans_a_week_and_logs_a_visit_from_a_phone(page: Page, phone: Page, live_server, org):
    base = live_server.url
    today = timezone.localdate()
    # given two customers of rep1a; the week shown is next week (every day is in the future)
    a = Customer.objects.create(name="上海星河精密机械有限公司", owner=org.rep1a)
    b = Customer.objects.create(name="上海恒通物流有限公司", owner=org.rep1a)
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    tue, thu = monday + timedelta(days=1), monday + timedelta(days=3)

    # when the rep adds a plan on Tuesday and one on Thursday
    sign_in(page, base, org.rep1a.username)
    page.goto(f"{base}/visits/?week={monday:%Y-%m-%d}")
    add_plan(page, f"{tue:%Y-%m-%d}", a.name)
    add_plan(page, f"{thu:%Y-%m-%d}", b.name)
    plan_a, plan_b = VisitPlan.objects.get(customer=a), VisitPlan.objects.get(customer=b)
    expect(
        page.locator(f".cal-day[data-date='{tue:%Y-%m-%d}'] [data-plan='{plan_a.pk}']")
    ).to_be_visible()

    # and drags Thursday's plan to Tuesday (the page posts the move, then reloads)
    with page.expect_response(lambda r: "/move/" in r.url) as moved:
        page.locator(f"[data-plan='{plan_b.pk}']").drag_to(
            page.locator(f".cal-day[data-date='{tue:%Y-%m-%d}'] .cal-plans")
        )
    assert moved.value.status == 200
    page.wait_for_load_state()

    # then both are on Tuesday's route, the dragged one last
    tuesday = page.locator(f".cal-day[data-date='{tue:%Y-%m-%d}'] [data-plan]")
    expect(tuesday).to_have_count(2)
    assert VisitPlan.objects.get(pk=plan_b.pk).planned_date == tue
    assert [p.pk for p in VisitPlan.objects.filter(planned_date=tue).order_by("route_order")] == [
        plan_a.pk,
        plan_b.pk,
    ]

    # when the visit day comes (the plan is moved to today) and the rep logs it on a phone
    VisitPlan.objects.filter(pk=plan_a.pk).update(planned_date=today)
    sign_in(phone, base, org.rep1a.username)
    phone.goto(f"{base}/visits/")
    card = phone.locator(f".cal-day.is-focus [data-plan='{plan_a.pk}']")
    expect(card).to_be_visible()
    card.locator("[data-log]").click()
    phone.click("#checkin-button")
    expect(phone.locator("#checkin-button")).to_have_attribute("data-checked-in", "1")
    expect(phone.locator("#checkin-status")).to_contain_text("35")
    phone.fill("#id_outcome", "客户同意试用，下周签合同")
    phone.fill("#id_order_amount", "128000")
    phone.click("details[data-section='4'] summary")  # the collapsed "Next step" section
    phone.fill("#id_next_step", "下周三送合同")
    phone.click("#record-save")

    # then the record is saved with the check-in, and the plan shows as done
    expect(phone.get_by_test_id("record-title")).to_have_text(a.name)
    record = VisitRecord.objects.get(plan=plan_a)
    assert record.is_effective and record.location_accuracy_m == 35
    assert float(record.latitude) == pytest.approx(31.2304)
    assert VisitPlan.objects.get(pk=plan_a.pk).status == PlanStatus.DONE
    phone.goto(f"{base}/visits/")
    expect(phone.locator(f"[data-plan='{plan_a.pk}']")).to_have_attribute("data-status", "done")
