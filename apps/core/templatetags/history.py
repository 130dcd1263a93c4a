"""`{% history_panel obj %}`: the change history (变更记录) of one object as a timeline.

Reads `apps.core.history.history_for(obj)` and turns raw values into what a person reads:
choice labels instead of codes, Yes/No, local date-times, and the names of related objects
instead of ids (one query per related model, whatever the number of entries).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django import template
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from apps.core.history import HistoryEntry, history_for

from .shell import person_name_of

register = template.Library()

# Bookkeeping columns nobody needs to read in a history.
HIDDEN_FIELDS = frozenset({"id", "path", "updated_at", "created_at"})

ACTIONS = {"insert": _("created"), "update": _("changed"), "delete": _("deleted")}
EMPTY = ""


@dataclass(frozen=True)
class ShownChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class ShownEntry:
    entry: HistoryEntry
    action: str
    actor: str
    job: str
    changes: list[ShownChange]


def _field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _related_names(model: type[models.Model], entries: list[HistoryEntry]) -> dict:
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for entry in entries:
        for change in entry.changes:
            field = _field(model, change.field)
            if field is not None and field.many_to_one:
                wanted[field.related_model] |= {
                    v for v in (change.old, change.new) if isinstance(v, int)
                }
    return {
        related: {o.pk: _name_of(o) for o in related._default_manager.filter(pk__in=ids)}
        for related, ids in wanted.items()
        if ids
    }


def _name_of(obj: models.Model) -> str:
    if hasattr(obj, "first_name") and hasattr(obj, "last_name"):
        return person_name_of(obj.first_name, obj.last_name) or str(obj)
    return str(obj)


def _shown(model: type[models.Model], name: str, value: Any, names: dict) -> str:
    if value is None or value == "":
        return EMPTY
    field = _field(model, name)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if field is None:
        return str(value)
    if field.many_to_one:
        return names.get(field.related_model, {}).get(value, f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if isinstance(field, models.DateField) and isinstance(value, str):
        day = parse_date(value)
        if day is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    return str(value)


def _actor(entry: HistoryEntry) -> str:
    # history_for names people "first last"; Chinese names read surname first (王伟).
    parts = entry.actor_name.split(" ")
    if len(parts) == 2:
        return person_name_of(parts[0], parts[1])
    return entry.actor_name


def shown_history(obj: models.Model, *, limit: int = 50) -> list[ShownEntry]:
    model = type(obj)
    entries = history_for(obj, limit=limit)
    names = _related_names(model, entries)
    shown = []
    for entry in entries:
        changes = [
            ShownChange(
                label=str(change.label),
                old=_shown(model, change.field, change.old, names),
                new=_shown(model, change.field, change.new, names),
            )
            for change in entry.changes
            if change.field not in HIDDEN_FIELDS
        ]
        if entry.action == "insert":
            changes = [c for c in changes if c.new not in (EMPTY, str(_("No")))]
        shown.append(
            ShownEntry(
                entry=entry,
                action=str(ACTIONS.get(entry.action, entry.action)),
                actor=_actor(entry),
                job=str(entry.context.get("job", "")),
                changes=changes,
            )
        )
    return shown


@register.inclusion_tag("core/_history_panel.html")
def history_panel(obj: models.Model, limit: int = 50) -> dict:
    """The history panel of `obj`: newest change first, an empty state when there is none."""
    return {"entries": shown_history(obj, limit=limit), "limit": limit}
