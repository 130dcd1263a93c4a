"""Navigation by role. Each app registers its entries once (in its AppConfig.ready), so the
shell knows no domain app and later apps add themselves without editing the base template.

An entry names a URL (skipped while the URL does not exist, e.g. an app not installed yet),
the roles that see it and the sidebar section it sits in. The sidebar shows the sections in
the order of `SECTIONS`, and the entries of a section by `order`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise  # "" for a section without a heading
    order: int


SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section("workspace", "", 0),
        Section("sales", _("Sales"), 10),
        Section("money", _("Receivables"), 20),
        Section("analysis", _("Analysis"), 30),
        Section("incentives", _("Assessment and incentives"), 40),
        Section("company", _("Company"), 80),
        Section("system", _("System"), 90),
    )
}


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    icon: str = "circle"  # a Bootstrap Icons name, without the "bi-" prefix
    roles: frozenset[str] | None = None  # None: every signed-in user
    order: int = 100
    staff_only: bool = False
    section: str = "sales"  # a key of SECTIONS
    children: tuple = field(default_factory=tuple)
    # A URL name answering a small count badge (an htmx fragment loaded after the page), e.g.
    # the approvals waiting for the user; "" for none.
    badge_url: str = ""


_REGISTRY: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    if item.section not in SECTIONS:
        raise ValueError(f"Unknown navigation section {item.section!r} for {item.key!r}")
    _REGISTRY[item.key] = item


def _is_active(url: str, current_path: str) -> bool:
    return current_path == url if url == "/" else current_path.startswith(url)


def nav_for(user, current_path: str = "") -> list[dict]:
    """The entries `user` sees, in sidebar order, each with its section and whether it is the
    page being shown (the longest matching URL wins, so /accounts/org/ is not also /accounts/)."""
    items = []
    for item in sorted(
        _REGISTRY.values(), key=lambda i: (SECTIONS[i.section].order, i.order, i.key)
    ):
        if item.roles is not None and user.role not in item.roles and not user.is_superuser:
            continue
        if item.staff_only and not user.is_staff:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        section = SECTIONS[item.section]
        try:
            badge_url = reverse(item.badge_url) if item.badge_url else ""
        except NoReverseMatch:
            badge_url = ""
        items.append(
            {
                "key": item.key,
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "active": False,
                "section": section.key,
                "section_label": section.label,
                "badge_url": badge_url,
            }
        )
    matches = [i for i in items if _is_active(i["url"], current_path)]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items
