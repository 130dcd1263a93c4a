"""The UI shell: a home page per role, navigation by role, the language switch, error pages."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import RequestFactory

from apps.core import views as core_views

pytestmark = pytest.mark.django_db


def panels(html: str) -> set[str]:
    return set(re.findall(r'data-panel="([^"]+)"', html))


def nav_keys(html: str) -> set[str]:
    return set(re.findall(r'data-nav="([^"]+)"', html))


def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


# --- Home per role ---------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    # when
    response = client.get("/")
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_is_in_chinese_by_default(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.get("/")
    # then
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_rep_home_shows_the_reps_panels(client, org):
    # given
    client.force_login(org.rep1a)
    english(client)
    # when
    html = client.get("/").content.decode()
    # then
    assert "My workspace" in html
    assert panels(html) == {
        "today-visits",
        "leads-follow-up",
        "my-opportunities",
        "receivables-due",
        "my-attainment",
    }


def test_supervisor_home_shows_the_team_panels(client, org):
    # given
    client.force_login(org.sup1)
    english(client)
    # when
    html = client.get("/").content.decode()
    # then
    assert "Team workspace" in html
    assert panels(html) == {
        "approvals-waiting",
        "team-visits-today",
        "team-funnel",
        "team-attainment",
        "team-overdue",
        "large-contracts",
    }


def test_manager_home_shows_the_department_panels(client, org):
    # given
    client.force_login(org.manager1)
    english(client)
    # when
    html = client.get("/").content.decode()
    # then
    assert "Department workspace" in html
    assert panels(html) == {
        "approvals-waiting",
        "attainment-by-team",
        "team-funnel",
        "aging",
        "large-contracts",
        "team-visits-today",
    }


def test_finance_home_shows_the_finance_panels(client, org):
    # given
    client.force_login(org.finance)
    english(client)
    # when
    html = client.get("/").content.decode()
    # then
    assert "Finance workspace" in html
    assert panels(html) == {
        "approvals-waiting",
        "due-this-week",
        "payments-to-allocate",
        "overdue-installments",
        "credit-holds",
        "collection-rate",
    }


@pytest.mark.parametrize("who", ["rep1a", "sup1", "manager1", "finance", "admin"])
def test_no_home_page_shows_a_coming_soon_placeholder(client, org, who):
    # given
    client.force_login(getattr(org, who))
    english(client)
    # when
    html = client.get("/").content.decode()
    # then every panel has its content: none is a placeholder of a module to come
    assert "Coming soon" not in html
    assert not re.search(r'data-empty-module="[^"]+"', html)


def test_admin_home_counts_users_by_role_and_units_from_the_database(client, org):
    # given the reference org: 4 reps, 3 supervisors, 2 managers and 6 units
    client.force_login(org.admin)
    # when
    html = client.get("/").content.decode()
    # then
    assert {"org-summary", "admin-links", "api-tokens", "approval-policies"} <= panels(html)
    assert '<li data-role="rep" data-count="4">' in html
    assert '<li data-role="supervisor" data-count="3">' in html
    assert '<li data-role="manager" data-count="2">' in html
    assert '<div class="stat" data-stat="org-units"><span class="stat-value">6</span>' in html


def test_admin_home_leaves_deactivated_users_out_of_the_active_count(client, org):
    # given
    org.rep3a.is_active = False
    org.rep3a.save()
    client.force_login(org.admin)
    # when
    html = client.get("/").content.decode()
    # then
    assert '<li data-role="rep" data-count="3">' in html
    assert 'data-stat="inactive-users"><span class="stat-value">1</span>' in html


def test_home_greets_the_user_with_name_role_and_unit(client, org):
    # given
    org.sup1.first_name, org.sup1.last_name = "Ada", "Lovelace"
    org.sup1.save()
    client.force_login(org.sup1)
    english(client)
    # when
    html = client.get("/").content.decode()
    # then
    assert "Ada Lovelace" in html
    assert "Sales supervisor" in html
    assert "Team 1" in html


def test_home_shows_today_in_the_business_time_zone(client, org, settings):
    # given a moment that is still the 1st in UTC but already the 2nd in Shanghai
    import time_machine

    settings.TIME_ZONE = "Asia/Shanghai"
    client.force_login(org.rep1a)
    # when
    with time_machine.travel("2026-03-01T20:00:00+00:00", tick=False):
        html = client.get("/").content.decode()
    # then
    assert '<time datetime="2026-03-02">' in html


# --- Navigation by role ------------------------------------------------------------------------


def test_rep_navigation_has_home_but_no_org_users_or_admin(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    keys = nav_keys(client.get("/").content.decode())
    # then
    assert "home" in keys
    assert not keys & {"org", "users", "api_docs", "admin"}


def test_supervisor_navigation_has_org_and_users(client, org):
    # given
    client.force_login(org.sup1)
    # when
    keys = nav_keys(client.get("/").content.decode())
    # then
    assert {"home", "org", "users"} <= keys
    assert not keys & {"api_docs", "admin"}


def test_finance_navigation_has_org_and_users_but_no_admin(client, org):
    # given
    client.force_login(org.finance)
    # when
    keys = nav_keys(client.get("/").content.decode())
    # then
    assert {"home", "org", "users"} <= keys
    assert "admin" not in keys


def test_staff_admin_navigation_has_api_docs_and_admin(client, org):
    # given
    org.admin.is_staff = True
    org.admin.save()
    client.force_login(org.admin)
    # when
    keys = nav_keys(client.get("/").content.decode())
    # then
    assert {"home", "org", "users", "api_docs", "admin"} <= keys


def test_navigation_marks_the_current_page_as_active(client, org):
    # given
    client.force_login(org.sup1)
    # when
    html = client.get("/accounts/org/").content.decode()
    # then
    assert re.search(r'class="nav-link active" href="/accounts/org/" data-nav="org"', html)
    assert not re.search(r'class="nav-link active"[^>]*data-nav="home"', html)


# --- Language switch -----------------------------------------------------------------------


def test_language_switch_sets_english_and_the_page_then_reads_in_english(client, org):
    # given a rep looking at the Chinese home page
    client.force_login(org.rep1a)
    assert '<html lang="zh-hans">' in client.get("/").content.decode()
    # when they choose English in the switch
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    # then they are back on the page, now in English
    assert response.status_code == 302
    assert response["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "My workspace" in html


def test_language_switch_form_posts_to_set_language_with_next(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    html = client.get("/accounts/profile/").content.decode()
    # then
    assert 'action="/i18n/setlang/" method="post" id="language-form"' in html
    assert '<input type="hidden" name="next" value="/accounts/profile/">' in html
    assert 'name="language" value="en"' in html


# --- htmx and security wiring --------------------------------------------------------------


def test_pages_carry_the_csrf_token_for_htmx_and_load_local_assets(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    html = client.get("/").content.decode()
    # then
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]+\"\}'", html)
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html
    assert "//cdn" not in html and "https://" not in html


# --- Error pages ---------------------------------------------------------------------------


def test_unknown_url_gets_the_html_404_page(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.get("/no-such-page/")
    # then
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'data-status="404"' in html
    assert 'href="/"' in html


def test_404_page_is_shown_to_anonymous_visitors_too(client, db):
    # when
    response = client.get("/no-such-page/")
    # then
    assert response.status_code == 404
    assert 'data-status="404"' in response.content.decode()


def test_500_page_renders_without_touching_the_database(django_assert_num_queries, db):
    # given a request whose user would need the database to be loaded
    request = RequestFactory().get("/somewhere/")
    # when the server error handler answers it
    with django_assert_num_queries(0):
        response = core_views.server_error(request)
    # then it is the standalone error page
    assert response.status_code == 500
    html = response.content.decode()
    assert 'data-status="500"' in html
    assert 'href="/"' in html


def test_403_handler_renders_the_html_page(rf, db):
    # given
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/accounts/users/")
    request.user = AnonymousUser()
    # when
    response = core_views.permission_denied(request)
    # then
    assert response.status_code == 403
    assert 'data-status="403"' in response.content.decode()


def test_finance_home_states_that_finance_sees_all_money_documents(client, org):
    # given
    client.force_login(org.finance)
    english(client)
    # when
    html = client.get("/").content.decode()
    # then
    assert "All money documents" in html


def test_integration_user_home_points_to_the_api_documentation(client, org):
    # given
    client.force_login(org.erp)
    english(client)
    # when
    html = client.get("/").content.decode()
    # then
    assert panels(html) == {"api-access"}
    assert 'href="/api/docs/"' in html


def test_a_form_posted_without_its_csrf_token_gets_the_friendly_403_page(org):
    # given a browser whose form lost its CSRF token
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.rep1a)
    english(client)
    # when
    response = client.post("/accounts/profile/", {"first_name": "X"})
    # then
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-status="403"' in html
    assert "This form has expired" in html
