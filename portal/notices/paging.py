"""A page of a list, as the ``pager`` macro reads it (page, pages, has_prev …). (Pure.)

The services count first and load the rows only when the page has any, so an empty list costs
one query, and a full one two (plus its eager loads), whatever the data size.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Page:
    page: int
    per_page: int
    total: int
    items: list = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.total else 0

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def wanted(self) -> bool:
        """Whether any row falls on this page (else the rows need not be loaded)."""
        return self.offset < self.total


def clamp(page: int | None, per_page: int | None, default_per_page: int = 20) -> tuple[int, int]:
    page = page if isinstance(page, int) and page > 0 else 1
    per_page = per_page if isinstance(per_page, int) and 0 < per_page <= 100 else default_per_page
    return page, per_page
