"""Cursor pagination per API.md: page size 50 by default, at most 500, a stable `next` link.

Ordering is (updated_at, id) where the model has `updated_at`, so that an incremental sync
(`updated_since` + cursor) never misses or repeats a record while others change.
"""

from rest_framework.pagination import CursorPagination as DRFCursorPagination


class CursorPagination(DRFCursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    ordering = ("updated_at", "id")

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", None)
        if ordering:
            return ordering
        field_names = {f.name for f in queryset.model._meta.get_fields()}
        if "updated_at" in field_names:
            return ("updated_at", "id")
        return ("id",)
