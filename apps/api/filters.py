"""Filters every API list shares: `updated_since` for incremental sync (API.md "ERP
integration").

A sync must not miss a row whose transaction commits late. `updated_at` is taken by Python
(`auto_now`) when the row is saved, but the row only becomes visible when its transaction
commits, which may be seconds later. A client that read past that timestamp in the meantime
(its next pull starts after the last row it got) would never see the row. So a list asked with
`updated_since` serves only rows older than the *sync horizon* (`sync_horizon`), before which
every write has committed. The horizon is `API_SYNC_SETTLE_SECONDS` (default 5) before the
earlier of

- now, and
- the start of the oldest transaction open in the database (`pg_stat_activity`): whatever such
  a transaction writes is stamped after it started, so a long transaction (a job updating
  200,000 rows, a service waiting on a lock) holds the horizon back until it ends, instead of
  its rows being missed.

The settle time covers a timestamp taken a little before its transaction started (a job's
`now = timezone.now()` before its first query), the clock skew between the hosts, and a read
replica's lag. A row saved just now is therefore served a few seconds later, on the next pull;
while a long transaction runs (a big job, a long report query, `pg_dump`), the syncs see only
what is older than its start, and catch up when it ends: delayed, never missed.

What the horizon relies on: a write stamps `updated_at` with a time taken inside its
transaction, or at most the settle time before it starts; the API's database role sees the
other sessions in `pg_stat_activity` (the same role, or `pg_read_all_stats`); the hosts' clocks
agree within the settle time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

UPDATED_SINCE = "updated_since"
SYNC_FIELD = "updated_at"
SETTLE_SECONDS = 5.0

# The start of the oldest transaction open in another session of this database. Read-only ones
# too: a job may read for a while before it writes rows stamped with its start.
_OLDEST_TRANSACTION_SQL = """
    SELECT min(xact_start) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND backend_type = 'client backend'
"""


def sync_field(view: Any) -> str:
    """The column a list syncs on: `updated_at`, or what the view names (`sync_field`)."""
    return getattr(view, "sync_field", None) or SYNC_FIELD


def _has_field(model: Any, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def _has_updated_at(model: Any) -> bool:
    return _has_field(model, SYNC_FIELD)


def settle_seconds() -> float:
    """`API_SYNC_SETTLE_SECONDS`: how old a change must be before a sync serves it."""
    return float(getattr(settings, "API_SYNC_SETTLE_SECONDS", SETTLE_SECONDS))


@dataclass(frozen=True)
class SyncHorizon:
    """Every write stamped before `at` (or at it, when `inclusive`) has committed."""

    at: datetime
    inclusive: bool

    def q(self, field: str) -> Q:
        return Q(**{f"{field}__{'lte' if self.inclusive else 'lt'}": self.at})


def sync_horizon(model: Any) -> SyncHorizon:
    """How far a sync of `model` may read now (see the module docstring).

    Bound by now, it is inclusive (with a settle time of 0 and a frozen clock, a row stamped
    now is served); bound by an open transaction, it is not (a row it writes may bear that
    very time). Asked of the database that `model` is written to: a replica does not know the
    primary's open transactions (its lag is what the settle time covers)."""
    settle = timedelta(seconds=settle_seconds())
    now = timezone.now()
    with connections[router.db_for_write(model)].cursor() as cursor:
        cursor.execute(_OLDEST_TRANSACTION_SQL)
        (oldest,) = cursor.fetchone()
    if oldest is not None and oldest <= now:
        return SyncHorizon(at=oldest - settle, inclusive=False)
    return SyncHorizon(at=now - settle, inclusive=True)


def parse_updated_since(raw: str) -> datetime:
    """An ISO 8601 date-time; naive values are in the business time zone.

    An unencoded "+08:00" offset arrives as " 08:00" (a "+" in a query string is a space), so
    that spelling is accepted too rather than answered with a puzzling error.
    """
    value = parse_datetime(raw.strip())
    if value is None and " " in raw.strip():
        head, _sep, tail = raw.strip().rpartition(" ")
        value = parse_datetime(f"{head}+{tail}")
    if value is None:
        raise ValueError(raw)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        # Postgres takes UTC offsets up to ±15:59, Python up to ±23:59.
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 with a positive offset, 9999-12-31 with a negative one
        edge = datetime.min if value.year == 1 else datetime.max
        return edge.replace(tzinfo=UTC)


class UpdatedSinceFilter(BaseFilterBackend):
    """`?updated_since=<ISO 8601 date-time>`: rows with `updated_at` at or after it, and
    before the sync horizon (`sync_horizon`).

    Applies to lists whose model has `updated_at` (or the view's `sync_field`). The request is
    then a sync: `apps.api.pagination.CursorPagination` pages it by (updated_at, id), whatever
    the view's own ordering, and answers a `resume` link, so that a client pulls everything
    changed since its last run, once.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view) -> QuerySet:
        raw = request.query_params.get(UPDATED_SINCE)
        field = sync_field(view)
        if raw is None or not _has_field(queryset.model, field):
            return queryset
        try:
            since = parse_updated_since(raw)
        except ValueError:
            raise ValidationError(
                {
                    UPDATED_SINCE: [
                        _("Enter a valid ISO 8601 date-time, e.g. 2025-01-31T08:00:00+08:00.")
                    ]
                }
            ) from None
        horizon = sync_horizon(queryset.model)
        request.sync_horizon = horizon  # read by the pagination: this request is a sync
        return queryset.filter(horizon.q(field), **{f"{field}__gte": since})

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        model = _view_model(view)
        if model is None or not _has_field(model, sync_field(view)):
            return []
        return [
            {
                "name": UPDATED_SINCE,
                "required": False,
                "in": "query",
                "description": str(
                    _(
                        "Incremental sync: only records changed at or after this ISO 8601 "
                        "date-time (1970-01-01T00:00:00Z for everything). The pages are then "
                        "ordered by change (oldest first), whatever `ordering` says, and a "
                        "change is served once its transaction has surely committed: a few "
                        "seconds (API_SYNC_SETTLE_SECONDS) after it was made, and once every "
                        "longer transaction open meanwhile has ended. Follow `next` to the "
                        "last page, then keep its `resume` link: it pulls the next changes, "
                        "and only those, next time."
                    )
                ),
                "schema": {"type": "string", "format": "date-time"},
            }
        ]


def _view_model(view) -> Any:
    """The model a list view returns, without running its (user-scoped) get_queryset()."""
    queryset = getattr(view, "queryset", None)
    if queryset is not None:
        return queryset.model
    get_serializer_class = getattr(view, "get_serializer_class", None)
    serializer_class = get_serializer_class() if get_serializer_class else None
    return getattr(getattr(serializer_class, "Meta", None), "model", None)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An integer id filter (`?org_unit=4`) for FilterSets: no query to check that the row
    exists (the result is scoped anyway), and "4.5" is a 400, not silently 4."""

    field_class = forms.IntegerField
