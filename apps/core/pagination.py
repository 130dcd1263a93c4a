"""Pages of the big lists without an exact COUNT(*) of the table (DESIGN.md "Scale"): one row
more than shown is read to know whether a next page exists, so page N costs an index scan of
N pages' rows, whatever the table holds. The templates' `_pagination.html` shows Previous,
the page's number and Next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

PER_PAGE = 50
# A page number past this is taken as the first page (no OFFSET of a billion rows).
MAX_PAGE = 10**6


@dataclass
class Page:
    number: int
    object_list: list[Any] = field(default_factory=list)
    has_next: bool = False
    per_page: int = PER_PAGE

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)


def page_number(raw: str | None) -> int:
    """The page asked for; anything but a whole number from 1 to MAX_PAGE is the first."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) <= MAX_PAGE else 1


def paginate(queryset: QuerySet, raw_page: str | None, per_page: int = PER_PAGE) -> Page:
    number = page_number(raw_page)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return Page(number=number, object_list=rows[:per_page], has_next=len(rows) > per_page,
                per_page=per_page)  # fmt: skip


def in_order_of(queryset: QuerySet, ids: list[Any]) -> list[Any]:
    """The rows of `queryset` with these primary keys, in the order of `ids` (the second step
    of reading a page ids first)."""
    rows = {row.pk: row for row in queryset.filter(pk__in=ids)} if ids else {}
    return [rows[pk] for pk in ids if pk in rows]


class IdsFirst:
    """`queryset` (ordered, ending with a unique key) sliced for a `Paginator` ids first: a
    page's ids from the filter and ordering columns alone, then only those rows with their
    joins. As one query, every matching row was read and joined before the sort kept a page
    of them (the SLA page's 40,000 breached leads of a month for 25: issue 10). `count` is
    known to the caller (the report's figure), so the paginator asks for no COUNT(*)."""

    def __init__(self, queryset: QuerySet, count: int) -> None:
        self.queryset = queryset
        self._count = count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: slice) -> list:
        return in_order_of(self.queryset, list(self.queryset.values_list("pk", flat=True)[index]))
