"""Notification pages (通知): the list, the bell's badge and menu, opening one, marking read, and
the e-mail preferences. Through Django's test client against the real database; e-mail goes to
Django's locmem outbox."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from apps.approvals.services import approval_submit
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import notify
from tests.approvals.conftest import make_memo, policy  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def note(user, title: str = "Something happened", url: str = "/approvals/") -> Notification:
    return notify(recipients=[user], title=title, url=url)[0]


def is_read(notification: Notification) -> bool:
    return Notification.objects.get(pk=notification.pk).read_at is not None


# --- List -----------------------------------------------------------------------------------


def test_list_shows_only_the_users_own_notifications(client, org):
    # given
    mine = note(org.rep1a, "For rep1a")
    other = note(org.rep1b, "For rep1b")
    client.force_login(org.rep1a)
    # when
    html = client.get("/notifications/").content.decode()
    # then
    assert f'data-notification="{mine.pk}"' in html
    assert f'data-notification="{other.pk}"' not in html


def test_list_highlights_unread_notifications(client, org):
    # given one read and one unread notification
    read = note(org.rep1a, "Old news")
    unread = note(org.rep1a, "New news")
    Notification.objects.filter(pk=read.pk).update(read_at="2026-01-01T00:00:00Z")
    client.force_login(org.rep1a)
    # when
    html = client.get("/notifications/").content.decode()
    # then
    assert f'data-notification="{unread.pk}" data-read="0"' in html
    assert f'data-notification="{read.pk}" data-read="1"' in html


def test_unread_filter_leaves_read_notifications_out(client, org):
    # given
    read = note(org.rep1a)
    unread = note(org.rep1a)
    Notification.objects.filter(pk=read.pk).update(read_at="2026-01-01T00:00:00Z")
    client.force_login(org.rep1a)
    # when
    html = client.get("/notifications/", {"show": "unread"}).content.decode()
    # then
    assert f'data-notification="{unread.pk}"' in html
    assert f'data-notification="{read.pk}"' not in html


def test_list_is_paginated_fifty_a_page(client, org):
    # given 55 notifications
    notify(recipients=[org.rep1a], title="x")  # warm
    for _ in range(54):
        notify(recipients=[org.rep1a], title="x")
    client.force_login(org.rep1a)
    # when
    first = client.get("/notifications/").content.decode()
    second = client.get("/notifications/", {"page": 2}).content.decode()
    # then
    assert first.count("data-notification=") == 50
    assert second.count("data-notification=") == 5


# --- Open, mark read --------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_goes_to_its_link(client, org):
    # given
    notification = note(org.rep1a, url="/approvals/submitted/")
    client.force_login(org.rep1a)
    # when
    response = client.get(f"/notifications/{notification.pk}/open/")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/approvals/submitted/"
    assert is_read(notification)


def test_opening_someone_elses_notification_is_404_and_leaves_it_unread(client, org):
    # given
    notification = note(org.rep1b)
    client.force_login(org.rep1a)
    # when
    response = client.get(f"/notifications/{notification.pk}/open/")
    # then
    assert response.status_code == 404
    assert not is_read(notification)


def test_opening_a_notification_never_leaves_the_site(client, org):
    # given a notification whose link points elsewhere
    notification = note(org.rep1a, url="https://evil.example/")
    client.force_login(org.rep1a)
    # when
    response = client.get(f"/notifications/{notification.pk}/open/")
    # then
    assert response["Location"] == "/notifications/"


def test_marking_someone_elses_notification_read_is_404(client, org):
    # given
    notification = note(org.rep1b)
    client.force_login(org.rep1a)
    # when
    response = client.post(f"/notifications/{notification.pk}/read/")
    # then
    assert response.status_code == 404
    assert not is_read(notification)


def test_marking_one_read_from_the_list_swaps_the_item_and_refreshes_the_bell(client, org):
    # given
    notification = note(org.rep1a)
    client.force_login(org.rep1a)
    # when
    response = client.post(f"/notifications/{notification.pk}/read/", {"from": "item"}, **HTMX)
    # then
    assert f'data-notification="{notification.pk}" data-read="1"' in response.content.decode()
    assert response["HX-Trigger"] == "notifications-changed"
    assert is_read(notification)


def test_mark_all_read_marks_only_the_users_own(client, org):
    # given
    mine = [note(org.rep1a), note(org.rep1a)]
    other = note(org.rep1b)
    client.force_login(org.rep1a)
    # when
    response = client.post("/notifications/read-all/")
    # then
    assert response.status_code == 302
    assert all(is_read(n) for n in mine)
    assert not is_read(other)


def test_mark_all_read_from_the_bell_menu_answers_the_menu(client, org):
    # given
    notification = note(org.rep1a, "Approved: Memo")
    client.force_login(org.rep1a)
    # when
    response = client.post("/notifications/read-all/", {"from": "menu"}, **HTMX)
    # then
    html = response.content.decode()
    assert f'data-notification="{notification.pk}" data-read="1"' in html
    assert response["HX-Trigger"] == "notifications-changed"


# --- Bell ------------------------------------------------------------------------------------


def test_badge_counts_the_users_unread_notifications(client, org):
    # given two unread, one read, and one of someone else
    note(org.rep1a)
    note(org.rep1a)
    Notification.objects.filter(pk=note(org.rep1a).pk).update(read_at="2026-01-01T00:00:00Z")
    note(org.rep1b)
    client.force_login(org.rep1a)
    # when
    html = client.get("/notifications/badge/").content.decode()
    # then
    assert 'data-unread="2"' in html


def test_badge_is_empty_when_everything_is_read(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    html = client.get("/notifications/badge/").content.decode()
    # then
    assert "data-unread" not in html


def test_every_page_has_the_bell_polling_the_badge(client, org):
    # given
    client.force_login(org.rep1a)
    # when
    html = client.get("/").content.decode()
    # then
    assert 'id="notification-bell"' in html
    assert 'hx-get="/notifications/badge/" hx-trigger="load, every 30s' in html


def test_menu_shows_the_newest_notifications(client, org):
    # given
    notification = note(org.rep1a, "Returned: Memo")
    client.force_login(org.rep1a)
    # when
    html = client.get("/notifications/menu/").content.decode()
    # then
    assert "Returned: Memo" in html
    assert f'href="/notifications/{notification.pk}/open/"' in html


# --- E-mail preferences -------------------------------------------------------------------------


def test_preferences_page_saves_the_chosen_kinds(client, org):
    # given
    client.force_login(org.sup1)
    # when sup1 ticks "approval waiting for me" only
    response = client.post("/notifications/preferences/", {"approval_requested": "on"})
    # then
    assert response.status_code == 302
    chosen = set(
        NotificationPreference.objects.filter(user=org.sup1, email=True).values_list(
            "kind", flat=True
        )
    )
    assert chosen == {"approval_requested"}


def test_preferences_page_shows_the_saved_choice(client, org):
    # given
    NotificationPreference.objects.create(user=org.sup1, kind="approval_reminder", email=True)
    client.force_login(org.sup1)
    # when
    html = client.get("/notifications/preferences/").content.decode()
    # then
    assert 'value="on" checked data-kind="approval_reminder"' in html
    assert 'value="on" data-kind="approval_requested"' in html


def test_unticking_a_kind_stops_its_emails(client, org):
    # given sup1 chose e-mail for a kind before
    NotificationPreference.objects.create(user=org.sup1, kind="approval_requested", email=True)
    client.force_login(org.sup1)
    # when sup1 saves the form with nothing ticked
    client.post("/notifications/preferences/", {})
    # then
    assert not NotificationPreference.objects.filter(user=org.sup1, email=True).exists()


@pytest.mark.usefixtures("policy")
def test_chosen_kind_is_then_sent_by_email(client, org, django_capture_on_commit_callbacks):
    # given sup1 chose e-mail for approvals waiting for them
    client.force_login(org.sup1)
    client.post("/notifications/preferences/", {"approval_requested": "on"})
    # when rep1a submits a memo that waits for sup1
    with django_capture_on_commit_callbacks(execute=True):
        approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    # then one e-mail went to sup1
    assert [m.to for m in mail.outbox] == [[org.sup1.email]]
    assert "Memo 5000" in mail.outbox[0].subject


@pytest.mark.usefixtures("policy")
def test_unchosen_kind_is_not_sent_by_email(client, org, django_capture_on_commit_callbacks):
    # given sup1 chose e-mail only for reminders
    client.force_login(org.sup1)
    client.post("/notifications/preferences/", {"approval_reminder": "on"})
    # when a memo waits for sup1
    with django_capture_on_commit_callbacks(execute=True):
        approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    # then the notification is in-app only
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=org.sup1, kind="approval_requested").exists()


def test_preferences_page_warns_a_user_without_an_email_address(client, org):
    # given
    org.sup1.email = ""
    org.sup1.save()
    client.force_login(org.sup1)
    english(client)
    # when
    html = client.get("/notifications/preferences/").content.decode()
    # then
    assert "no e-mail address" in html


@pytest.mark.parametrize("url", ["/notifications/", "/notifications/preferences/"])
def test_notification_pages_need_a_signed_in_user(client, url):
    # when
    response = client.get(url)
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_badge_polled_after_the_session_ended_swaps_nothing(client):
    # when an anonymous (signed-out) page polls the badge
    response = client.get("/notifications/badge/", **HTMX)
    # then htmx gets "no content" instead of the sign-in page
    assert response.status_code == 204
