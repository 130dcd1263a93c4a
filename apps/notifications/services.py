"""Writes of notifications: send (in-app, plus e-mail after commit), mark read."""

from __future__ import annotations

from collections.abc import Iterable

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
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    if not users:
        return []
    created = Notification.objects.bulk_create(
        Notification(
            recipient_id=pk, kind=kind, title=title[:300], url=url, body=body,
            actor=actor,
        )
        for pk in users
    )  # fmt: skip
    email_ids = set(
        NotificationPreference.objects.filter(user_id__in=users, kind=kind, email=True).values_list(
            "user_id", flat=True
        )
    )
    messages = [
        (title, _email_body(body, url), settings.DEFAULT_FROM_EMAIL, [users[pk].email])
        for pk in email_ids
        if users[pk].email
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
