"""`/api/v1/notifications/`: only the caller's own, the unread filter, mark read, counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.notifications.choices import NotificationKind
from apps.notifications.models import Notification
from apps.notifications.services import notify
from tests.api.conftest import assert_problem

NOTIFICATIONS = "/api/v1/notifications/"
MARK_ALL_READ = "/api/v1/notifications/mark-all-read/"
UNREAD_COUNT = "/api/v1/notifications/unread-count/"


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def send(recipient, title: str = "Hello", **kwargs) -> Notification:
    [notification] = notify(recipients=[recipient], title=title, **kwargs)
    return notification


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_list_holds_only_the_callers_own(org):
    # given notifications of two users
    mine = send(org.rep1a)
    send(org.rep1b)
    # when the first lists notifications
    listed = ids(client_for(org.rep1a).get(NOTIFICATIONS))
    # then only theirs
    assert listed == {mine.pk}


def test_administrator_does_not_see_others_notifications(org):
    # given a rep's notification
    send(org.rep1a)
    # when an administrator lists notifications
    listed = ids(client_for(org.admin).get(NOTIFICATIONS))
    # then nothing: notifications are personal, whatever the data scope
    assert listed == set()


def test_list_shape(org):
    # given a notification sent by a supervisor
    notification = send(
        org.rep1a,
        "Approved: Memo",
        kind=NotificationKind.APPROVAL_APPROVED,
        body="Well done",
        url="/test/memos/1/",
        actor=org.sup1,
    )
    # when the rep lists their notifications
    [row] = client_for(org.rep1a).get(NOTIFICATIONS).json()["results"]
    # then every documented field is there
    assert row == {
        "id": notification.pk,
        "kind": "approval_approved",
        "kind_display": "My submission approved",
        "title": "Approved: Memo",
        "body": "Well done",
        "url": "/test/memos/1/",
        "actor": {"id": org.sup1.pk, "display_name": org.sup1.display_name},
        "created_at": row["created_at"],
        "read_at": None,
        "is_read": False,
    }
    assert row["created_at"]


def test_list_is_newest_first(org):
    # given three notifications sent one after the other
    sent = [send(org.rep1a, f"n{i}").pk for i in range(3)]
    # when listed
    rows = client_for(org.rep1a).get(NOTIFICATIONS).json()["results"]
    # then the newest comes first
    assert [r["id"] for r in rows] == list(reversed(sent))


def test_unread_filter_keeps_only_unread(org):
    # given one read and one unread notification
    read = send(org.rep1a, "old")
    unread = send(org.rep1a, "new")
    client = client_for(org.rep1a)
    client.post(f"{NOTIFICATIONS}{read.pk}/mark-read/")
    # when the list is filtered
    only_unread = ids(client.get(NOTIFICATIONS, {"unread": "true"}))
    only_read = ids(client.get(NOTIFICATIONS, {"unread": "false"}))
    # then each filter keeps its own
    assert only_unread == {unread.pk}
    assert only_read == {read.pk}


def test_invalid_unread_filter_is_400_naming_it(org):
    # given / when the filter is not a boolean
    response = client_for(org.rep1a).get(NOTIFICATIONS, {"unread": "maybe"})
    # then 400 naming the parameter
    problem = assert_problem(response, 400, "validation-error")
    assert problem["errors"][0]["field"] == "unread"


def test_detail_of_own_notification(org):
    # given a rep's notification
    notification = send(org.rep1a, "Mine")
    # when they open it
    response = client_for(org.rep1a).get(f"{NOTIFICATIONS}{notification.pk}/")
    # then it is answered
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Mine"


@pytest.mark.parametrize("other", ["rep1b", "sup1", "admin"])
def test_detail_of_someone_elses_notification_is_404(org, other):
    # given a rep's notification
    notification = send(org.rep1a)
    # when another user (a colleague, their supervisor, an administrator) opens it
    response = client_for(getattr(org, other)).get(f"{NOTIFICATIONS}{notification.pk}/")
    # then 404
    assert_problem(response, 404, "not-found")


def test_mark_read_marks_it_read(org):
    # given an unread notification
    notification = send(org.rep1a)
    # when its recipient marks it read
    response = client_for(org.rep1a).post(f"{NOTIFICATIONS}{notification.pk}/mark-read/")
    # then the answer is the notification, read
    assert response.status_code == 200, response.content
    assert response.json()["is_read"] is True
    assert response.json()["read_at"] is not None
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_mark_read_of_someone_elses_notification_is_404_and_leaves_it_unread(org):
    # given a rep's unread notification
    notification = send(org.rep1a)
    # when a colleague marks it read
    response = client_for(org.rep1b).post(f"{NOTIFICATIONS}{notification.pk}/mark-read/")
    # then 404, and it stays unread
    assert_problem(response, 404, "not-found")
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_mark_read_twice_keeps_the_first_read_time(org):
    # given a notification marked read
    notification = send(org.rep1a)
    client = client_for(org.rep1a)
    first = client.post(f"{NOTIFICATIONS}{notification.pk}/mark-read/").json()
    # when it is marked read again
    second = client.post(f"{NOTIFICATIONS}{notification.pk}/mark-read/")
    # then it answers the same read time
    assert second.status_code == 200, second.content
    assert second.json()["read_at"] == first["read_at"]


def test_mark_all_read_marks_the_callers_unread_and_counts_them(org):
    # given two unread notifications of a rep, one already read, and a colleague's
    client = client_for(org.rep1a)
    send(org.rep1a)
    send(org.rep1a)
    read = send(org.rep1a)
    client.post(f"{NOTIFICATIONS}{read.pk}/mark-read/")
    colleagues = send(org.rep1b)
    # when the rep marks all read
    response = client.post(MARK_ALL_READ)
    # then the two unread ones were marked, and the colleague's is untouched
    assert response.status_code == 200, response.content
    assert response.json() == {"marked": 2}
    assert not Notification.objects.filter(recipient=org.rep1a, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=colleagues.pk).read_at is None


def test_unread_count_counts_the_callers_unread(org):
    # given a rep with three notifications, one read, and a colleague's
    client = client_for(org.rep1a)
    send(org.rep1a)
    send(org.rep1a)
    read = send(org.rep1a)
    client.post(f"{NOTIFICATIONS}{read.pk}/mark-read/")
    send(org.rep1b)
    # when the rep asks for the unread count
    response = client.get(UNREAD_COUNT)
    # then it is their two unread
    assert response.status_code == 200, response.content
    assert response.json() == {"unread": 2}


@pytest.mark.parametrize("path", [NOTIFICATIONS, UNREAD_COUNT])
def test_anonymous_caller_is_401(db, path):
    # given / when an anonymous client asks
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").get(path)
    # then 401
    assert_problem(response, 401, "not-authenticated")


def _queries(user: User) -> tuple[int, int]:
    client = client_for(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(NOTIFICATIONS, {"page_size": 100})
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


def test_list_query_count_does_not_grow_with_rows(org):
    # given 3 notifications from various actors
    actors = [org.sup1, org.manager1, org.admin]
    for i in range(3):
        send(org.rep1a, actor=actors[i % 3])
    few, rows = _queries(org.rep1a)
    assert rows == 3
    # when there are 30
    for i in range(27):
        send(org.rep1a, actor=actors[i % 3])
    many, rows = _queries(org.rep1a)
    # then listing them costs one query
    assert rows == 30
    assert many == few == 1
