"""Change history (变更记录) for tracked models, on django-pghistory.

A domain model declares itself tracked in one line::

    @track()
    class Customer(models.Model): ...

Postgres triggers then record every insert, update and delete, including bulk updates made by
jobs, together with the context (user, URL) that `pghistory.middleware.HistoryMiddleware` or
`history_context()` put around the write. `history_for()` reads the events of one object in the
shape the history panel and the `/history/` API sub-resource show: who, when, which fields
changed from what to what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pghistory
from django.contrib.auth import get_user_model
from django.db import models
from pghistory.models import Events

# Fields that change on every login or hold secrets: never kept in history.
ALWAYS_EXCLUDED = ("password", "last_login")


def track(*, exclude: Iterable[str] = ()):
    """Class decorator: keep insert/update/delete history of a model (see module doc)."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=[*ALWAYS_EXCLUDED, *exclude] if exclude else None,
    )


def history_context(**kwargs: Any):
    """Attach context (e.g. ``job="mark_overdue"``) to the history of writes in a block."""
    return pghistory.context(**kwargs)


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    id: str
    at: datetime
    action: str  # "insert" | "update" | "delete"
    actor_id: int | None
    actor_name: str
    url: str
    context: dict
    changes: list[Change]


_ACTIONS = {"insert": "insert", "update": "update", "delete": "delete"}


def _label(model: type[models.Model], name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def history_for(obj: models.Model, *, limit: int = 100) -> list[HistoryEntry]:
    """The newest `limit` history entries of `obj`, newest first, with their field diffs.

    Two queries whatever the number of events: the events (with context) and the actors.
    """
    events = list(
        Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:limit]
    )
    actor_ids = {
        e.pgh_context.get("user")
        for e in events
        if e.pgh_context and isinstance(e.pgh_context.get("user"), int)
    }
    User = get_user_model()
    actors = {
        u.pk: (u.get_full_name() or u.username)
        for u in User.objects.filter(pk__in=actor_ids).only("pk", "username", "first_name", "last_name")
    }
    model = type(obj)
    entries = []
    for e in events:
        ctx = e.pgh_context or {}
        action = e.pgh_label.lower() if e.pgh_label else "update"
        diff = e.pgh_diff or {}
        if action == "insert":
            changes = [
                Change(k, _label(model, k), None, v)
                for k, v in (e.pgh_data or {}).items()
                if k not in ("id",) and v not in (None, "")
            ]
        else:
            changes = [Change(k, _label(model, k), v[0], v[1]) for k, v in diff.items()]
        actor_id = ctx.get("user") if isinstance(ctx.get("user"), int) else None
        entries.append(
            HistoryEntry(
                id=str(e.pgh_id),
                at=e.pgh_created_at,
                action=_ACTIONS.get(action, action),
                actor_id=actor_id,
                actor_name=actors.get(actor_id, "") if actor_id else "",
                url=ctx.get("url", ""),
                context={k: v for k, v in ctx.items() if k not in ("user", "url")},
                changes=changes,
            )
        )
    return entries
