"""Reads of notifications: a user sees their own, never anyone else's (not even an
administrator: a notification is a personal message, not a business record)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import Notification

if TYPE_CHECKING:
    from apps.accounts.models import User


def notification_list(user: User, *, unread: bool | None = None) -> QuerySet[Notification]:
    """`user`'s notifications, newest first; only the unread ones with `unread=True`, only the
    read ones with `unread=False`."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.for_user(user).select_related("actor")
    if unread is True:
        qs = qs.unread()
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs.order_by("-created_at", "-id")


def notification_get(user: User, pk: int) -> Notification:
    """One of `user`'s notifications, else 404."""
    return get_object_or_404(notification_list(user), pk=pk)


def unread_count(user: User) -> int:
    """How many of `user`'s notifications are unread (the badge on the bell)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.for_user(user).unread().count()
