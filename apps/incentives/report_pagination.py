"""The API's cursor pagination (`apps.api.pagination.CursorPagination`: `cursor` and
`page_size`, a `next` / `previous` link, `results`) over the rows of a report that are
computed in full, in Python, rather than read from a table: the competitor analysis's rows
(one per competitor and per name written on lost deals, which grow with what the reps write).

The cursor is a keyset, as the standard one: the sort key of the last row seen (a tuple of
ints and strings, ending with one that is unique to the row), and a page is "the rows after
it" in the report's own order. A row whose figures changed between two pages moves in the
order like a record changed during a list's pull: it may be seen again or not at all on this
pass, but a page never repeats or skips a row that kept its place.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from apps.api.pagination import CursorPagination

SortKey = tuple[int | str, ...]


class RowCursorPagination(CursorPagination):
    """Pages of `rows`, sorted ascending by `key` (a tuple of ints and strings, unique per
    row): `paginate_rows` instead of `paginate_queryset`; the response and the links are the
    standard ones (`resume` is always null: a report is not a sync)."""

    def paginate_rows(
        self, rows: Sequence[Any], key: Callable[[Any], SortKey], size: int, request: Request
    ) -> list[Any]:
        """The page of `rows` the request's cursor asks for; `size` is the length of a key."""
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.sync = False
        self.key = key
        self.ordering = tuple(f"k{i}" for i in range(size))  # the cursor's length
        position, reverse = self.decode_cursor(request)
        self.reverse = reverse
        if position is None:
            after = list(rows)
        else:
            bound = tuple(position)
            try:
                after = [r for r in rows if (key(r) < bound if reverse else key(r) > bound)]
            except TypeError:  # a cursor not made here (a list where a number goes…)
                raise self._invalid_cursor() from None
            if reverse:
                after.reverse()
        return self._set_page(after[: self.page_size + 1], position, reverse)

    def decode_cursor(self, request: Request) -> tuple[list[Any] | None, bool]:
        position, reverse = super().decode_cursor(request)
        if position is not None and not all(
            isinstance(v, int | str) and not isinstance(v, bool) for v in position
        ):
            raise self._invalid_cursor()
        return position, reverse

    def encode_cursor(self, row: Any, *, reverse: bool) -> str:
        payload: dict[str, Any] = {"p": list(self.key(row))}
        if reverse:
            payload["r"] = True
        raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        encoded = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def links(self) -> dict[str, str | None]:
        """`next`, `previous` and `resume` of the page, for a report's body."""
        return {
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "resume": self.get_resume_link(),
        }


# --- the schema ----------------------------------------------------------------------------

PAGE_PARAMETERS = [
    OpenApiParameter(
        CursorPagination.cursor_query_param,
        str,
        description=_("The pagination cursor, from a `next` or `previous` link."),
    ),
    OpenApiParameter(
        CursorPagination.page_size_query_param,
        {"type": "integer", "minimum": 1, "maximum": CursorPagination.max_page_size},
        description=_("Number of results per page (default 50, at most 500)."),
    ),
]


class PageLinksSerializer(serializers.Serializer):
    """The links of a page, as the standard pagination answers them."""

    next = serializers.URLField(allow_null=True, help_text=_("The next page; null on the last."))
    previous = serializers.URLField(allow_null=True, help_text=_("The previous page, if any."))
    resume = serializers.URLField(
        allow_null=True,
        help_text=_(
            "With `updated_since` (a sync): where to pick up next time. Keep the one of the "
            "last page and pull from it on your next run: it serves the changes made since, "
            "and no change twice. Null without `updated_since`."
        ),
    )
