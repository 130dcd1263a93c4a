"""`{% history_panel obj %}`: the change history (变更记录) of one object as a timeline.

Reads `apps.core.history.history_for(obj)`, which already gives what a person reads for each
value (choice labels, Yes/No, local date-times, names of related objects).
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.history import HistoryEntry, history_for

register = template.Library()

ACTIONS = {"insert": _("created"), "update": _("changed"), "delete": _("deleted")}


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


def shown_history(obj: models.Model, *, limit: int = 50) -> list[ShownEntry]:
    shown = []
    for entry in history_for(obj, limit=limit):
        changes = [
            ShownChange(label=str(change.label), old=change.old_display, new=change.new_display)
            for change in entry.changes
        ]
        shown.append(
            ShownEntry(
                entry=entry,
                action=str(ACTIONS.get(entry.action, entry.action)),
                actor=entry.actor_name,
                job=str(entry.context.get("job", "")),
                changes=changes,
            )
        )
    return shown


@register.inclusion_tag("core/_history_panel.html")
def history_panel(obj: models.Model, limit: int = 50) -> dict:
    """The history panel of `obj`: newest change first, an empty state when there is none."""
    return {"entries": shown_history(obj, limit=limit), "limit": limit}
