"""Accounts pages: sign in and out, own profile and password, users list and detail, org tree,
org unit detail, and the history panel. Every list and detail obeys the data scope."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.validators import EmailValidator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from apps.accounts.choices import Role
from apps.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def listed_users(html: str) -> set[str]:
    return set(re.findall(r'<tr data-user="([^"]+)">', html))


def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


# --- Sign in / out ---------------------------------------------------------------------------


def test_login_page_has_the_username_and_password_fields(client, db):
    # when
    html = client.get("/accounts/login/").content.decode()
    # then
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert "salesctl" in html and "销售流程管控" in html


def test_login_with_the_right_password_lands_on_home(client, org):
    # when
    response = client.post("/accounts/login/", {"username": "rep1a", "password": PASSWORD})
    # then
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_with_a_wrong_password_shows_a_translated_error(client, org):
    # when a user signs in with a wrong password (default language: zh-Hans)
    response = client.post("/accounts/login/", {"username": "rep1a", "password": "wrong"})
    # then the page says so in Chinese and nobody is signed in
    assert response.status_code == 200
    html = response.content.decode()
    assert "请输入一个正确的" in html
    assert 'id="form-errors"' in html
    assert "_auth_user_id" not in client.session


def test_login_error_is_in_english_for_an_english_visitor(client, org):
    # given
    english(client)
    # when
    response = client.post("/accounts/login/", {"username": "rep1a", "password": "wrong"})
    # then
    assert "Please enter a correct" in response.content.decode()


def test_login_switches_to_the_users_preferred_language(client, org):
    # given a rep who prefers English
    org.rep1a.language = "en"
    org.rep1a.save()
    # when they sign in
    response = client.post("/accounts/login/", {"username": "rep1a", "password": PASSWORD})
    # then the language cookie is set and the home page is in English
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en">' in client.get("/").content.decode()


def test_signed_in_user_visiting_login_goes_home(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.get("/accounts/login/")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logout_by_get_is_refused(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.get("/accounts/logout/")
    # then
    assert response.status_code == 405
    assert client.get("/").status_code == 200


def test_logout_by_post_signs_out_and_goes_to_login(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.post("/accounts/logout/")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_logout_tells_the_user_they_have_signed_out(client, org):
    # given
    client.force_login(org.rep1a)
    english(client)
    # when
    response = client.post("/accounts/logout/", follow=True)
    # then
    assert "You have signed out." in response.content.decode()


# --- Profile ---------------------------------------------------------------------------------


def test_profile_edit_changes_the_users_fields(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.post(
        "/accounts/profile/",
        {
            "last_name": "王",
            "first_name": "伟",
            "email": "Wang.Wei@Example.com",
            "phone": "+86 138-0013-8000",
            "language": "",
        },
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    org.rep1a.refresh_from_db()
    assert (org.rep1a.last_name, org.rep1a.first_name) == ("王", "伟")
    assert org.rep1a.email == "wang.wei@example.com"
    assert org.rep1a.phone == "+86 138-0013-8000"


def test_profile_save_shows_a_success_message(client, org):
    # given
    client.force_login(org.rep1a)
    english(client)
    data = {"last_name": "X", "first_name": "Y", "email": "", "phone": "", "language": ""}
    # when
    response = client.post("/accounts/profile/", data, follow=True)
    # then
    assert "Your profile has been saved." in response.content.decode()


def test_profile_with_an_invalid_email_shows_the_field_error_and_changes_nothing(client, org):
    # given
    client.force_login(org.rep1a)
    before = User.objects.values().get(pk=org.rep1a.pk)
    # when
    response = client.post(
        "/accounts/profile/",
        {"last_name": "New", "first_name": "Name", "email": "not-an-email", "phone": ""},
    )
    # then the form comes back with the error on the e-mail field, in Chinese
    assert response.status_code == 200
    html = response.content.decode()
    field = html.split('id="field-email"', 1)[1].split('id="field-phone"', 1)[0]
    assert "is-invalid" in field
    with translation.override("zh-hans"):
        message = str(EmailValidator.message)
    assert message != "Enter a valid email address."
    assert message in field
    # and nothing was saved
    assert User.objects.values().get(pk=org.rep1a.pk) == before


def test_profile_with_an_invalid_phone_is_refused(client, org):
    # given
    client.force_login(org.rep1a)
    english(client)
    # when
    response = client.post(
        "/accounts/profile/",
        {"last_name": "A", "first_name": "B", "email": "", "phone": "call me maybe"},
    )
    # then
    assert response.status_code == 200
    field = response.content.decode().split('id="field-phone"', 1)[1]
    assert "Enter a phone number of digits" in field
    org.rep1a.refresh_from_db()
    assert org.rep1a.phone == ""


def test_profile_cannot_change_role_or_org_unit(client, org):
    # given
    client.force_login(org.rep1a)
    # when a crafted form also posts a role and a unit
    client.post(
        "/accounts/profile/",
        {"last_name": "A", "first_name": "B", "role": Role.ADMIN, "org_unit": org.dept2.pk},
    )
    # then they are ignored
    org.rep1a.refresh_from_db()
    assert org.rep1a.role == Role.REP
    assert org.rep1a.org_unit_id == org.team1.pk


def test_choosing_a_preferred_language_switches_the_ui(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.post(
        "/accounts/profile/",
        {"last_name": "A", "first_name": "B", "email": "", "phone": "", "language": "en"},
    )
    # then
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    org.rep1a.refresh_from_db()
    assert org.rep1a.language == "en"
    html = client.get("/accounts/profile/").content.decode()
    assert '<html lang="en">' in html
    assert "Your profile has been saved." in html


# --- Password --------------------------------------------------------------------------------


def test_password_change_sets_the_new_password(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Kx9-new-secret-77",
            "new_password2": "Kx9-new-secret-77",
        },
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    org.rep1a.refresh_from_db()
    assert org.rep1a.check_password("Kx9-new-secret-77")
    assert client.get("/accounts/password/done/").status_code == 200  # still signed in


def test_password_change_with_a_wrong_old_password_changes_nothing(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": "Kx9-n-77", "new_password2": "Kx9-n-77"},
    )
    # then
    assert response.status_code == 200
    assert 'id="field-old_password"' in response.content.decode()
    org.rep1a.refresh_from_db()
    assert org.rep1a.check_password(PASSWORD)


# --- Users list and detail ---------------------------------------------------------------------


def test_rep_sees_only_themselves_in_the_users_list(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    html = client.get("/accounts/users/").content.decode()
    # then
    assert listed_users(html) == {"rep1a"}


def test_supervisor_sees_their_own_team_in_the_users_list(client, org):
    # given
    client.force_login(org.sup1)
    # when
    html = client.get("/accounts/users/").content.decode()
    # then
    assert listed_users(html) == {"sup1", "rep1a", "rep1b"}


def test_manager_sees_their_department_in_the_users_list(client, org):
    # given
    client.force_login(org.manager1)
    # when
    html = client.get("/accounts/users/").content.decode()
    # then
    assert listed_users(html) == {"manager1", "sup1", "sup2", "rep1a", "rep1b", "rep2a"}


def test_admin_sees_everyone_in_the_users_list(client, org):
    # given
    client.force_login(org.admin)
    # when
    html = client.get("/accounts/users/").content.decode()
    # then
    assert listed_users(html) == set(org.users())


def test_users_list_search_matches_username_name_or_email(client, org):
    # given
    org.rep2a.first_name = "Zhuge"
    org.rep2a.save()
    client.force_login(org.admin)
    # when
    html = client.get("/accounts/users/", {"q": "zhug"}).content.decode()
    # then
    assert listed_users(html) == {"rep2a"}


def test_users_list_search_stays_within_scope(client, org):
    # given
    client.force_login(org.sup1)
    # when
    html = client.get("/accounts/users/", {"q": "rep"}).content.decode()
    # then
    assert listed_users(html) == {"rep1a", "rep1b"}


def test_users_list_filters_by_role(client, org):
    # given
    client.force_login(org.admin)
    # when
    html = client.get("/accounts/users/", {"role": "supervisor"}).content.decode()
    # then
    assert listed_users(html) == {"sup1", "sup2", "sup3"}


def test_users_list_filters_by_org_unit(client, org):
    # given
    client.force_login(org.admin)
    # when
    html = client.get("/accounts/users/", {"unit": org.team2.pk}).content.decode()
    # then
    assert listed_users(html) == {"sup2", "rep2a"}


def test_users_list_filter_by_an_org_unit_out_of_scope_is_404(client, org):
    # given
    client.force_login(org.sup1)
    # when
    response = client.get("/accounts/users/", {"unit": org.team3.pk})
    # then
    assert response.status_code == 404


def test_users_list_answers_htmx_with_the_results_table_only(client, org):
    # given
    client.force_login(org.admin)
    # when the search box asks as one types
    response = client.get("/accounts/users/", {"q": "sup"}, headers={"HX-Request": "true"})
    # then only the results are sent back
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="user-results"')
    assert "<html" not in html
    assert listed_users(html) == {"sup1", "sup2", "sup3"}
    assert "HX-Request" in response["Vary"]


def test_users_list_search_box_is_wired_to_htmx(client, org):
    # given
    client.force_login(org.admin)
    # when
    html = client.get("/accounts/users/").content.decode()
    # then
    assert 'hx-trigger="input changed delay:300ms, search"' in html
    assert 'hx-target="#user-results"' in html


def test_users_list_pages_by_fifty(client, org):
    # given 12 users of the org and 50 more
    UserFactory.create_batch(50, org_unit=org.team1)
    client.force_login(org.admin)
    # when
    first = client.get("/accounts/users/").content.decode()
    second = client.get("/accounts/users/", {"page": 2}).content.decode()
    # then
    assert len(listed_users(first)) == 50
    assert len(listed_users(second)) == 12
    assert not listed_users(first) & listed_users(second)


def _users_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/accounts/users/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_users_list_query_count_does_not_grow_with_the_rows(
    client, org, django_assert_max_num_queries
):
    # given an admin looking at the list with 5 extra users, then with 40
    client.force_login(org.admin)
    UserFactory.create_batch(5, org_unit=org.team1)
    client.get("/accounts/users/")  # warm the session cache
    with django_assert_max_num_queries(5):
        few = _users_list_queries(client)
    UserFactory.create_batch(35, org_unit=org.team2)
    # when
    with django_assert_max_num_queries(5):
        many = _users_list_queries(client)
    # then
    assert many == few


def test_user_detail_within_scope_shows_the_profile(client, org):
    # given
    client.force_login(org.sup1)
    english(client)
    # when
    response = client.get(f"/accounts/users/{org.rep1a.pk}/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert org.rep1a.email in html
    assert "Team 1" in html
    assert "Sales rep" in html
    assert 'id="history"' in html


def test_rep_cannot_see_another_reps_detail(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.get(f"/accounts/users/{org.rep1b.pk}/")
    # then
    assert response.status_code == 404


def test_supervisor_cannot_see_another_teams_user(client, org):
    # given
    client.force_login(org.sup1)
    # when
    response = client.get(f"/accounts/users/{org.rep3a.pk}/")
    # then
    assert response.status_code == 404


# --- Org tree and unit detail ------------------------------------------------------------------


def test_org_page_shows_visible_units_with_head_and_member_count(client, org):
    # given
    client.force_login(org.sup1)
    # when
    html = client.get("/accounts/org/").content.decode()
    # then the chain above the supervisor and their team, with its 3 members
    units = dict(re.findall(r'data-unit="([^"]+)" data-members="(\d+)"', html))
    assert set(units) == {"co", "d1", "t1"}
    assert units["t1"] == "3"
    assert str(org.sup1.first_name) in html


def test_org_page_counts_members_in_one_query_per_page(client, org, django_assert_max_num_queries):
    # given
    client.force_login(org.admin)
    client.get("/accounts/org/")
    # when / then
    with django_assert_max_num_queries(4):
        client.get("/accounts/org/")


def test_org_unit_detail_within_scope_lists_members(client, org):
    # given
    client.force_login(org.sup1)
    # when
    response = client.get(f"/accounts/org/{org.team1.pk}/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/accounts/users/{org.rep1a.pk}/" in html
    assert f"/accounts/users/{org.rep1b.pk}/" in html
    assert 'id="history"' in html


def test_supervisor_cannot_see_another_departments_unit(client, org):
    # given
    client.force_login(org.sup1)
    # when
    response = client.get(f"/accounts/org/{org.team3.pk}/")
    # then
    assert response.status_code == 404


def test_rep_cannot_see_a_sibling_department(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    response = client.get(f"/accounts/org/{org.dept2.pk}/")
    # then
    assert response.status_code == 404


# --- History panel ---------------------------------------------------------------------------


def test_history_panel_shows_a_profile_change_with_who_and_old_and_new(client, org):
    # given a rep whose first name is "Old"
    org.rep1a.first_name, org.rep1a.last_name = "Old", "Smith"
    org.rep1a.save()
    client.force_login(org.rep1a)
    english(client)
    # when they rename themselves through the profile page
    client.post(
        "/accounts/profile/",
        {"last_name": "Smith", "first_name": "New", "email": org.rep1a.email, "phone": ""},
    )
    # then their history shows the change, by them, from Old to New
    html = client.get(f"/accounts/users/{org.rep1a.pk}/").content.decode()
    panel = html.split('id="history"', 1)[1]
    latest = panel.split('data-history-action="update"', 1)[1].split("</li>", 1)[0]
    assert '<span class="timeline-actor">' in latest
    assert "New Smith" in latest
    change = latest.split('data-change-label="first name"', 1)[1]
    assert re.search(r'change-old">Old</span>.*change-new">New</span>', change, re.S)


def test_history_panel_shows_an_org_unit_head_change_by_name(client, org):
    # given the admin makes sup2 the head of team 1 (through the ORM, as a job would)
    from apps.core.history import history_context

    with history_context(job="reorganise"):
        org.team1.head = org.sup2
        org.team1.save()
    client.force_login(org.admin)
    english(client)
    # when
    html = client.get(f"/accounts/org/{org.team1.pk}/").content.decode()
    # then
    latest = html.split('data-history-action="update"', 1)[1].split("</li>", 1)[0]
    assert "reorganise" in latest
    assert str(org.sup1) in latest and str(org.sup2) in latest


def test_history_panel_has_an_empty_state_without_history(client, org):
    # given a user whose history was never recorded (created before tracking began)
    from django.apps import apps

    apps.get_model("accounts", "UserEvent").objects.filter(pgh_obj_id=org.rep1a.pk).delete()
    client.force_login(org.rep1a)
    english(client)
    # when
    html = client.get(f"/accounts/users/{org.rep1a.pk}/").content.decode()
    # then
    assert 'data-history-count="0"' in html
    assert "No changes recorded yet" in html
