"""Real Chromium against a live server: a customer's contact opens the survey link on a phone
(no login, zh-Hans), answers a low score, is thanked; opening the link again says it was
answered; the owner's follow-up visit is planned."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from apps.incentives.models import SatisfactionSurvey
from apps.visits.models import VisitPlan

from .test_surveys import opened, surveyed_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_a_contact_answers_the_survey_on_a_phone(browser: Browser, browser_context_args,
                                                 live_server, org):  # fmt: skip
    # given a survey sent after rep1a's service visit
    made = opened(surveyed_customer(org.rep1a), org.rep1a)
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE})
    page = context.new_page()
    url = f"{live_server.url}/survey/{made.token}/"
    # when the contact opens the link: the page is in Chinese, without a login
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#survey-about")).to_contain_text("华星精密有限公司")
    # and answers 2 of 5, 3 of 10, with a comment
    page.click("label[for=score-2]")
    page.click("label[for=nps-3]")
    page.fill("#id_comment", "交货延迟两次")
    page.click("#survey-submit")
    # then they are thanked, and the answer is kept with the owner's follow-up visit
    expect(page.locator("#survey-done")).to_have_attribute("data-already", "false")
    survey = SatisfactionSurvey.objects.get()
    assert (survey.status, survey.score, survey.nps, survey.comment) == (
        "answered", 2, 3, "交货延迟两次"
    )  # fmt: skip
    assert VisitPlan.objects.get(pk=survey.follow_up_plan_id).owner_id == org.rep1a.pk
    # when the link is opened again, it says it was answered already
    page.goto(url)
    expect(page.locator("#survey-done")).to_have_attribute("data-already", "true")
    expect(page.locator("#survey-form")).to_have_count(0)
    context.close()
