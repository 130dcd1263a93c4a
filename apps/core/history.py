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
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from pghistory.models import Events

# Fields that hold secrets, change on every login, or are bookkeeping: never kept in history.
ALWAYS_EXCLUDED = ("password", "last_login", "updated_at")
# Columns kept but nobody needs to read in a history.
HIDDEN_FIELDS = frozenset({"id", "path", "updated_at", "created_at"})


def track(*, exclude: Iterable[str] = ()):
    """Class decorator: keep insert/update/delete history of a model (see module doc)."""

    def decorate(model: type[models.Model]) -> type[models.Model]:
        names = {f.name for f in model._meta.fields}
        excluded = [name for name in (*ALWAYS_EXCLUDED, *exclude) if name in names]
        return pghistory.track(
            pghistory.InsertEvent(),
            pghistory.UpdateEvent(),
            pghistory.DeleteEvent(),
            exclude=excluded or None,
        )(model)

    return decorate


def history_context(**kwargs: Any):
    """Attach context (e.g. ``job="mark_overdue"``) to the history of writes in a block."""
    return pghistory.context(**kwargs)


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    old: Any
    new: Any
    old_display: str
    new_display: str


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


def _field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name)  # accepts attnames such as "head_id" too
    except FieldDoesNotExist:
        return None


def _display_values(model: type[models.Model], raw: list[tuple[str, Any, Any]]) -> dict:
    """What a person reads for raw values: choice labels, Yes/No, local date-times, and the
    names of related objects (one query per related model, not per row)."""
    wanted: dict[type[models.Model], set] = {}
    for name, old, new in raw:
        field = _field(model, name)
        if field is not None and field.is_relation and field.many_to_one:
            wanted.setdefault(field.related_model, set()).update(
                v for v in (old, new) if isinstance(v, int)
            )
    names = {
        (related, obj.pk): str(obj)
        for related, ids in wanted.items()
        for obj in related._base_manager.filter(pk__in=ids)
    }
    shown = {}
    for name, old, new in raw:
        field = _field(model, name)
        for value in (old, new):
            if value is None or value == "":
                continue
            shown[(name, _key(value))] = _display(field, value, names)
    return shown


def _key(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) else repr(value)


def _display(field: models.Field | None, value: Any, names: dict) -> str:
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if field is None:
        return str(value)
    if field.is_relation and field.many_to_one:
        return names.get((field.related_model, value), f"#{value}")
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


def history_for(obj: models.Model, *, limit: int = 100) -> list[HistoryEntry]:
    """The newest `limit` history entries of `obj`, newest first, with their field diffs.

    A fixed number of queries whatever the number of events: the events (with context), the
    actors, and one per related model to name foreign-key values.
    """
    events = list(Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:limit])
    actor_ids = {
        e.pgh_context.get("user")
        for e in events
        if e.pgh_context and isinstance(e.pgh_context.get("user"), int)
    }
    User = get_user_model()
    actors = {
        u.pk: (u.get_full_name() or u.username)
        for u in User.objects.filter(pk__in=actor_ids).only(
            "pk", "username", "first_name", "last_name"
        )
    }
    model = type(obj)
    raw_by_event = {}
    for e in events:
        if (e.pgh_label or "").lower() == "insert":
            raw = [
                (k, None, v)
                for k, v in (e.pgh_data or {}).items()
                if k not in HIDDEN_FIELDS and v is not None and v != "" and v is not False
            ]
        else:
            raw = [(k, v[0], v[1]) for k, v in (e.pgh_diff or {}).items() if k not in HIDDEN_FIELDS]
        raw_by_event[e.pgh_slug] = raw
    shown = _display_values(model, [r for raw in raw_by_event.values() for r in raw])

    def show(name: str, value: Any) -> str:
        if value is None or value == "":
            return ""
        return shown.get((name, _key(value)), str(value))

    entries = []
    for e in events:
        ctx = e.pgh_context or {}
        action = (e.pgh_label or "update").lower()
        changes = []
        for name, old, new in raw_by_event[e.pgh_slug]:
            field = _field(model, name)
            changes.append(
                Change(
                    field=field.name if field is not None else name,
                    label=str(field.verbose_name) if field is not None else name,
                    old=old,
                    new=new,
                    old_display=show(name, old),
                    new_display=show(name, new),
                )
            )
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
