"""Writes of notifications: send (in-app, plus e-mail after commit), mark read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from .choices import NotificationKind
from .models import Notification, NotificationPreference


def notify(
    *,
    recipients: Iterable,
    kind: str = NotificationKind.GENERAL,
    title: str,
    url: str = "",
    body: str = "",
    actor=None,
) -> list[Notification]:
    """Notify each recipient in-app (one INSERT for all) and, for those who chose e-mail for
    this kind, by e-mail once the transaction commits (so a rolled-back action mails nobody)."""
    users = {u.pk: u for u in recipients if u is not None}  # each recipient once
    return notify_each(
        [Notice(user, title, url, body) for user in users.values()], kind=kind, actor=actor
    )


@dataclass(frozen=True)
class Notice:
    """One recipient's notification, for `notify_each`."""

    recipient: Any
    title: str
    url: str = ""
    body: str = ""


def notify_each(notices: Iterable[Notice], *, kind: str = NotificationKind.GENERAL,
                actor=None) -> list[Notification]:  # fmt: skip
    """Like `notify`, each recipient with a notification of its own (a batch telling each
    owner about their customers): one INSERT, one read of the e-mail preferences, e-mail after
    commit. Inactive or missing recipients are left out."""
    notices = [n for n in notices if n.recipient is not None and n.recipient.is_active]
    if not notices:
        return []
    created = Notification.objects.bulk_create(
        Notification(
            recipient_id=n.recipient.pk, kind=kind, title=n.title[:300], url=n.url,
            body=n.body, actor=actor,
        )
        for n in notices
    )  # fmt: skip
    email_ids = set(
        NotificationPreference.objects.filter(
            user_id__in={n.recipient.pk for n in notices}, kind=kind, email=True
        ).values_list("user_id", flat=True)
    )
    messages = [
        (n.title, _email_body(n.body, n.url), settings.DEFAULT_FROM_EMAIL, [n.recipient.email])
        for n in notices
        if n.recipient.pk in email_ids and n.recipient.email
    ]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return created


def _email_body(body: str, url: str) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{body}\n\n{base}{url}".strip() if url else body


def notification_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None)."""
    qs = Notification.objects.for_user(user).unread()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now(), updated_at=timezone.now())


@transaction.atomic
def notification_preferences_set(*, user, email_kinds: Iterable[str]) -> list[str]:
    """Store which kinds of notification `user` also gets by e-mail (one row per kind)."""
    chosen = {str(kind) for kind in email_kinds} & set(NotificationKind.values)
    for kind in NotificationKind.values:
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"email": kind in chosen}
        )
    return sorted(chosen)
