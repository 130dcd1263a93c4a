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
