"""Template helpers of notifications (通知): an icon and a colour per kind."""

from __future__ import annotations

from django import template

from apps.notifications.choices import NotificationKind

register = template.Library()

KIND_ICONS = {
    NotificationKind.APPROVAL_REQUESTED: ("hourglass-split", "bg-primary-subtle text-primary"),
    NotificationKind.APPROVAL_APPROVED: ("check-circle", "bg-success-subtle text-success"),
    NotificationKind.APPROVAL_REJECTED: ("arrow-return-left", "bg-danger-subtle text-danger"),
    NotificationKind.APPROVAL_REMINDER: ("alarm", "bg-warning-subtle text-warning-emphasis"),
    NotificationKind.APPROVAL_ESCALATED: ("exclamation-triangle", "bg-danger-subtle text-danger"),
    NotificationKind.GENERAL: ("bell", "bg-secondary-subtle text-secondary-emphasis"),
}


@register.filter
def notification_icon(kind: str) -> str:
    """The Bootstrap Icons name of a kind of notification."""
    return KIND_ICONS.get(kind, KIND_ICONS[NotificationKind.GENERAL])[0]


@register.filter
def notification_class(kind: str) -> str:
    """The (Bootstrap utility) classes that colour a kind's icon."""
    return KIND_ICONS.get(kind, KIND_ICONS[NotificationKind.GENERAL])[1]
