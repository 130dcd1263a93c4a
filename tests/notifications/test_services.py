"""Notification writes and reads: notify (in-app, e-mail after commit), mark read, the
selectors' own-only scope and unread count."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.http import Http404

from apps.notifications.choices import NotificationKind
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.selectors import notification_get, notification_list, unread_count
from apps.notifications.services import notification_mark_read, notify

from ..factories import UserFactory


def test_notify_creates_one_notification_per_active_recipient(org):
    # given recipients with a duplicate, a None and an inactive user
    gone = UserFactory(username="gone", is_active=False)
    # when notified
    created = notify(recipients=[org.rep1a, org.rep1a, None, gone, org.rep1b], title="Hi")
    # then each active user gets exactly one
    assert len(created) == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "rep1a",
        "rep1b",
    }


def test_notify_emails_who_chose_email_once_committed(org, django_capture_on_commit_callbacks):
    # given a rep who wants returns by e-mail and a colleague who does not
    NotificationPreference.objects.create(
        user=org.rep1a, kind=NotificationKind.APPROVAL_REJECTED, email=True
    )
    # when both are notified of a return and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[org.rep1a, org.rep1b],
            kind=NotificationKind.APPROVAL_REJECTED,
            title="Returned: Memo",
            body="Add the quote",
            url="/test/memos/1/",
        )
    # then only the rep is mailed, with the comment and the link
    assert [m.to for m in mail.outbox] == [[org.rep1a.email]]
    assert mail.outbox[0].subject == "Returned: Memo"
    assert "Add the quote" in mail.outbox[0].body
    assert "/test/memos/1/" in mail.outbox[0].body


def test_notify_mails_nobody_when_the_transaction_rolls_back(
    org, django_capture_on_commit_callbacks
):
    # given a rep who wants returns by e-mail
    NotificationPreference.objects.create(
        user=org.rep1a, kind=NotificationKind.APPROVAL_REJECTED, email=True
    )
    # when the action that notified them rolls back
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(recipients=[org.rep1a], kind=NotificationKind.APPROVAL_REJECTED, title="Returned")
        raise RuntimeError("the action failed")
    # then no mail is sent and no notification is left
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_mark_read_by_ids_marks_only_the_users_own(org):
    # given a rep's notification and a colleague's
    [mine] = notify(recipients=[org.rep1a], title="Mine")
    [theirs] = notify(recipients=[org.rep1b], title="Theirs")
    # when the rep marks both ids read
    marked = notification_mark_read(user=org.rep1a, ids=[mine.pk, theirs.pk])
    # then only their own was marked
    assert marked == 1
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_notification_list_filters_unread(org):
    # given one read and one unread notification
    [read] = notify(recipients=[org.rep1a], title="old")
    [unread] = notify(recipients=[org.rep1a], title="new")
    notification_mark_read(user=org.rep1a, ids=[read.pk])
    # when listed with each filter
    everything = set(notification_list(org.rep1a).values_list("pk", flat=True))
    only_unread = set(notification_list(org.rep1a, unread=True).values_list("pk", flat=True))
    only_read = set(notification_list(org.rep1a, unread=False).values_list("pk", flat=True))
    # then each holds its own
    assert everything == {read.pk, unread.pk}
    assert only_unread == {unread.pk}
    assert only_read == {read.pk}


def test_notification_get_of_someone_elses_is_404(org):
    # given a rep's notification
    [notification] = notify(recipients=[org.rep1a], title="Mine")
    # when a colleague looks it up
    # then it does not exist for them
    with pytest.raises(Http404):
        notification_get(org.rep1b, notification.pk)


def test_unread_count_counts_only_the_users_unread(org):
    # given two unread and one read of a rep, and a colleague's
    notify(recipients=[org.rep1a], title="a")
    notify(recipients=[org.rep1a], title="b")
    [read] = notify(recipients=[org.rep1a], title="c")
    notification_mark_read(user=org.rep1a, ids=[read.pk])
    notify(recipients=[org.rep1b], title="d")
    # when counted
    count = unread_count(org.rep1a)
    # then two
    assert count == 2
