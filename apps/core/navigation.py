"""Navigation by role. Each app registers its entries once (in its AppConfig.ready), so the
shell knows no domain app and later apps add themselves without editing the base template."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    icon: str = "circle"
    roles: frozenset[str] | None = None  # None: every signed-in user
    order: int = 100
    staff_only: bool = False
    children: tuple = field(default_factory=tuple)


_REGISTRY: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _REGISTRY[item.key] = item


def nav_for(user, current_path: str = "") -> list[dict]:
    items = []
    for item in sorted(_REGISTRY.values(), key=lambda i: (i.order, i.key)):
        if item.roles is not None and user.role not in item.roles and not user.is_superuser:
            continue
        if item.staff_only and not user.is_staff:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"key": item.key, "label": item.label, "url": url, "icon": item.icon, "active": active})
    return items
