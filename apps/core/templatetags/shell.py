"""Template helpers of the UI shell: form widgets in Bootstrap dress, people's names and
avatars, role badges, and links that keep the current filters while changing the page."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.http import QueryDict
from django.utils.html import format_html

from apps.accounts.names import is_cjk

register = template.Library()


ROLE_BADGES = {
    "rep": "role-rep",
    "supervisor": "role-supervisor",
    "manager": "role-manager",
    "finance": "role-finance",
    "admin": "role-admin",
    "integration": "role-integration",
}


@register.filter
def person_name(user: Any) -> str:
    """The display name of a user: their name (surname first for Chinese), else username."""
    return user.display_name if user else ""


@register.filter
def initials(user: Any) -> str:
    """One or two letters for an avatar: the surname of a Chinese name (王), else the initials."""
    if not user:
        return "?"
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if is_cjk(first + last):
        return (last or first)[:1]
    letters = "".join(part[:1] for part in (first, last) if part).upper()
    return letters or (user.username[:1].upper() if user.username else "?")


@register.filter
def role_badge(role: str) -> str:
    """The CSS class of a role's badge."""
    return ROLE_BADGES.get(str(role), "role-rep")


@register.filter
def form_control(field: forms.BoundField, extra: str = "") -> str:
    """Render a form field's widget with Bootstrap's classes (and `is-invalid` on error)."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    if extra:
        css += f" {extra}"
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters changed (None or "" removes one), e.g.
    ``?{% query_with page=3 %}`` for a pagination link that keeps the search and filters."""
    request = context.get("request")
    params: QueryDict = request.GET.copy() if request else QueryDict(mutable=True)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


@register.simple_tag
def icon(name: str, extra: str = "") -> str:
    """A Bootstrap Icons glyph, hidden from screen readers (its text says the same)."""
    return format_html('<i class="bi bi-{} {}" aria-hidden="true"></i>', name, extra)
