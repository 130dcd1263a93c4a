"""Real Chromium against a live server: signing in, the language switch, the phone menu."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.choices import Role
from tests.factories import PASSWORD, OrgUnitFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def rep(transactional_db):
    team = OrgUnitFactory(code="team-a", name="Team A")
    return UserFactory(username="rep-browser", role=Role.REP, org_unit=team)


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_user_signs_in_through_the_form_and_lands_on_the_chinese_home(page: Page, live_server, rep):
    # given the sign-in page
    # when the rep signs in with the form
    sign_in(page, live_server.url, rep.username)
    # then their workspace is shown, in Chinese
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-panel=today-visits]")).to_be_visible()
    expect(page.locator("#user-menu")).to_contain_text(rep.last_name)


def test_wrong_password_keeps_the_user_on_the_login_page_with_an_error(
    page: Page, live_server, rep
):
    # given
    page.goto(f"{live_server.url}/accounts/login/")
    # when
    page.fill("#login-form input[name=username]", rep.username)
    page.fill("#login-form input[name=password]", "not-the-password")
    page.click("#login-form button[type=submit]")
    # then
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_language_switch_in_the_page_turns_the_ui_to_english(page: Page, live_server, rep):
    # given a signed-in rep on the Chinese home page
    sign_in(page, live_server.url, rep.username)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # when they pick English in the language switch
    page.click("#language-menu")
    page.click("#language-form button[data-language=en]")
    # then the same page comes back in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name=re.compile(r"Today's visit route"))).to_be_visible()
    expect(page.locator("#home-greeting")).to_contain_text("Sales rep")


def test_phone_shows_the_menu_button_and_the_menu_slides_in(page: Page, live_server, rep):
    # given a phone-sized screen
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, rep.username)
    toggle = page.locator("#menu-toggle")
    nav = page.locator("#appSidebar")
    expect(toggle).to_be_visible()
    expect(nav).not_to_be_visible()
    # when the menu button is tapped
    toggle.click()
    # then the navigation opens over the page
    expect(nav).to_be_visible()
    expect(nav).to_have_class(re.compile(r"\bshow\b"))
    expect(page.locator("#appSidebar [data-nav=home]")).to_be_visible()


def test_desktop_shows_the_sidebar_without_a_menu_button(page: Page, live_server, rep):
    # given the default desktop viewport
    # when
    sign_in(page, live_server.url, rep.username)
    # then
    expect(page.locator("#appSidebar [data-nav=home]")).to_be_visible()
    expect(page.locator("#menu-toggle")).to_be_hidden()


def test_users_search_box_updates_the_results_as_one_types(page: Page, live_server, rep):
    # given a supervisor of a team with two reps
    team = rep.org_unit
    sup = UserFactory(username="sup-browser", role=Role.SUPERVISOR, org_unit=team)
    team.head = sup
    team.save()
    UserFactory(username="zed-browser", role=Role.REP, org_unit=team)
    sign_in(page, live_server.url, sup.username)
    page.goto(f"{live_server.url}/accounts/users/")
    expect(page.locator("#user-results tr[data-user]")).to_have_count(3)
    # when they type in the search box (no submit)
    page.fill("#user-search", "zed")
    # then the table narrows to the match and the address keeps the search
    expect(page.locator("#user-results tr[data-user]")).to_have_count(1)
    expect(page.locator("#user-results tr[data-user=zed-browser]")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=zed"))
