"""Cursor pagination per API.md: page size 50 by default, at most 500, a stable `next` link.

Ordering is (updated_at, id) where the model has `updated_at`, so that an incremental sync
(`updated_since` + cursor) never misses or repeats a record while others change.

The cursor is a keyset: the ordering values of the last row seen, and a page is "the rows
after (updated_at, id)". DRF's own CursorPagination keeps only the first ordering value plus
an OFFSET among equal values, and caps that offset at 1,000; a job that updates 200k rows in
one statement gives them all the same `updated_at`, which would make such a cursor skip rows
when one of them changes again, or loop at the cap. A keyset on a unique ordering does neither:
a row changed during the pull moves past the cursor and is simply seen again, newer.

A list asked with `updated_since` is a *sync* (`apps.api.filters.UpdatedSinceFilter`): its
pages are ordered by (updated_at, id) whatever the view's own ordering (a sync by any other
order would miss a row that changes behind the cursor), hold only rows older than the sync
horizon (rows whose transaction has surely committed), and carry a `resume` link: where the
client picks up next time. Pulling from `resume` serves each version of a row, (id,
updated_at), once: the rows after the last one served, as far as the horizon then is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from apps.core.pagination import in_order_of

from .filters import sync_field


def is_sync(request: Request) -> bool:
    """Whether `request` is an incremental sync (`updated_since` was applied to it)."""
    return getattr(request, "sync_horizon", None) is not None


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


def _plain(value: Any) -> Any:
    # Full precision: DjangoJSONEncoder would cut microseconds, and the keyset would then
    # land between two rows of the same millisecond.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


class CursorPagination(BasePagination):
    """Keyset pagination over an ordering whose last field is unique (`id`).

    A view may set `cursor_ordering` (plain column names, optionally "-"-prefixed, ending with
    a unique one); the default is ("updated_at", "id") when the model has `updated_at`.
    """

    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    ordering = ("updated_at", "id")

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        if is_sync(request):
            return (sync_field(view), "id")
        ordering = getattr(view, "cursor_ordering", None)
        if ordering:
            return tuple(ordering)
        field_names = {f.name for f in queryset.model._meta.get_fields()}
        if "updated_at" in field_names:
            return ("updated_at", "id")
        return ("id",)

    # --- the page -----------------------------------------------------------------------

    def paginate_queryset(self, queryset: QuerySet, request: Request, view=None) -> list[Any]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.sync = is_sync(request)
        self.ordering = self.get_ordering(request, queryset, view)
        position, reverse = self.decode_cursor(request)
        self.reverse = reverse

        order = tuple(_flip(f) for f in self.ordering) if reverse else self.ordering
        queryset = queryset.order_by(*order)
        if position is not None:
            queryset = queryset.filter(self._after(order, position))
        try:
            if getattr(view, "cursor_ids_first", False):
                rows = self._rows_by_ids_first(queryset)
            else:
                rows = list(queryset[: self.page_size + 1])
        except (DjangoValidationError, ValueError, TypeError):
            raise self._invalid_cursor() from None
        return self._set_page(rows, position, reverse)

    def _set_page(self, rows: list[Any], position: list[Any] | None, reverse: bool) -> list[Any]:
        """The page from up to `page_size` + 1 `rows` read after `position` in the direction
        asked (backwards when `reverse`): the extra row tells whether there is more."""
        has_more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()
            self.has_next, self.has_previous = position is not None, has_more
        else:
            self.has_next, self.has_previous = has_more, position is not None
        self.page = rows
        return rows

    def _rows_by_ids_first(self, queryset: QuerySet) -> list[Any]:
        """The page in two queries: the ids first, from the filter and ordering columns alone
        (an index-only scan where an index carries them: a view over a million rows sets
        `cursor_ids_first`), then only those rows with their joins. As one query, a filter
        that matches few rows among a head's 25,000 read every one of those rows to sort
        them (0.3 s for a supervisor's "grade A" leads; bench/leads_list.py)."""
        ids = list(queryset.values_list("pk", flat=True)[: self.page_size + 1])
        return in_order_of(queryset, ids)

    @staticmethod
    def _after(order: tuple[str, ...], position: list[Any]) -> Q:
        """Rows strictly after `position` in `order`: (a > x) or (a = x and b > y) or ...

        The leading `a >= x` lets Postgres use the index on the first column as a range.
        """
        first = order[0]
        bound = Q(
            **{f"{first.lstrip('-')}__{'lte' if first.startswith('-') else 'gte'}": position[0]}
        )
        after = Q()
        for i, field in enumerate(order):
            name = field.lstrip("-")
            equal = {order[j].lstrip("-"): position[j] for j in range(i)}
            lookup = "lt" if field.startswith("-") else "gt"
            after |= Q(**equal, **{f"{name}__{lookup}": position[i]})
        return bound & after

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError(
                {self.page_size_query_param: [_("A valid integer is required.")]}
            ) from None
        if size < 1:
            raise ValidationError(
                {self.page_size_query_param: [_("Ensure this value is at least 1.")]}
            )
        return min(size, self.max_page_size)

    # --- the cursor ----------------------------------------------------------------------

    def _invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [_("Invalid cursor.")]})

    def decode_cursor(self, request: Request) -> tuple[list[Any] | None, bool]:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None, False
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            position, reverse = data["p"], bool(data.get("r", False))
            sync = bool(data.get("s", False))
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
            raise self._invalid_cursor() from None
        if not isinstance(position, list) or len(position) != len(self.ordering):
            raise self._invalid_cursor()
        if sync != self.sync:  # a sync's position is in another ordering than a plain list's
            raise self._invalid_cursor()
        return position, reverse

    def encode_cursor(self, row: Any, *, reverse: bool) -> str:
        position = [_plain(getattr(row, f.lstrip("-"))) for f in self.ordering]
        payload: dict[str, Any] = {"p": position}
        if reverse:
            payload["r"] = True
        if self.sync:
            payload["s"] = 1
        raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        encoded = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        return self.encode_cursor(self.page[-1], reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous or not self.page:
            return None
        return self.encode_cursor(self.page[0], reverse=True)

    def get_resume_link(self) -> str | None:
        """A sync's next starting point: after the last row of this page, or where this page
        started when it is empty (nothing new yet). None for a plain list, and for a page
        reached backwards."""
        if not self.sync or self.reverse:
            return None
        if self.page:
            return self.encode_cursor(self.page[-1], reverse=False)
        return self.base_url

    # --- the response and its schema ---------------------------------------------------

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            OrderedDict(
                [
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("resume", self.get_resume_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "resume", "results"],
            "properties": {
                "next": {**link, "description": str(_("The next page; null on the last."))},
                "previous": {**link, "description": str(_("The previous page, if any."))},
                "resume": {
                    **link,
                    "description": str(
                        _(
                            "With `updated_since` (a sync): where to pick up next time. Keep "
                            "the one of the last page and pull from it on your next run: it "
                            "serves the changes made since, and no change twice. Null "
                            "without `updated_since`."
                        )
                    ),
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(_("The pagination cursor, from a `next` or `previous` link.")),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(_("Number of results per page (default 50, at most 500).")),
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
