"""Accounting periods of fee statements (pure: no Flask, no database).

A period is a month, a quarter or a year. Its *key* is what URLs, files and the database use:

=========  ===========  ====================  ===================
kind       key          start … end           label (zh / en)
=========  ===========  ====================  ===================
month      ``2026-01``  2026-01-01 … 01-31    2026年1月 / January 2026
quarter    ``2026-Q1``  2026-01-01 … 03-31    2026年第1季度 / Q1 2026
year       ``2026``     2026-01-01 … 12-31    2026年 / 2026
=========  ===========  ====================  ===================

Labels come from the CLDR data of Babel for the locale asked (no message catalog needed).
Periods order by their start date, then the longer period first (the year 2026 before its first
quarter before January), so a mixed list reads from the widest to the narrowest at each start.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

KINDS = ("month", "quarter", "year")
_RANK = {"year": 0, "quarter": 1, "month": 2}
_KEY = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4]))?$")
MIN_YEAR = 2000
MAX_YEAR = 2100


@dataclass(frozen=True, order=False)
class Period:
    kind: str
    year: int
    number: int = 1  # the month (1–12) or the quarter (1–4); 1 for a year

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"year {self.year} out of range")
        limit = {"month": 12, "quarter": 4, "year": 1}[self.kind]
        if not 1 <= self.number <= limit:
            raise ValueError(f"{self.kind} number {self.number} out of range")

    # ---- what it is -----------------------------------------------------------------------

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.number}"
        return f"{self.year:04d}"

    @property
    def start(self) -> date:
        if self.kind == "month":
            return date(self.year, self.number, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * (self.number - 1) + 1, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        if self.kind == "month":
            last_month = self.number
        elif self.kind == "quarter":
            last_month = 3 * self.number
        else:
            last_month = 12
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    @property
    def sort_key(self) -> tuple[date, int]:
        return (self.start, _RANK[self.kind])

    def __lt__(self, other: Period) -> bool:
        return self.sort_key < other.sort_key

    def __str__(self) -> str:
        return self.key

    # ---- neighbours -----------------------------------------------------------------------

    def previous(self) -> Period:
        if self.kind == "year":
            return Period("year", self.year - 1)
        limit = 12 if self.kind == "month" else 4
        if self.number == 1:
            return Period(self.kind, self.year - 1, limit)
        return Period(self.kind, self.year, self.number - 1)

    def next(self) -> Period:
        if self.kind == "year":
            return Period("year", self.year + 1)
        limit = 12 if self.kind == "month" else 4
        if self.number == limit:
            return Period(self.kind, self.year + 1, 1)
        return Period(self.kind, self.year, self.number + 1)

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    # ---- words ----------------------------------------------------------------------------

    def label(self, locale: str = "zh_Hans_CN") -> str:
        from babel.dates import format_skeleton

        skeleton = {"month": "yMMMM", "quarter": "yQQQ", "year": "y"}[self.kind]
        return format_skeleton(skeleton, self.start, locale=locale)


def parse_key(key: str | None) -> Period | None:
    """The period of a key (``2026-01``, ``2026-Q1``, ``2026``), or None when it is not one."""
    m = _KEY.match((key or "").strip())
    if not m:
        return None
    year = int(m.group(1))
    try:
        if m.group(2):
            return Period("month", year, int(m.group(2)))
        if m.group(3):
            return Period("quarter", year, int(m.group(3)))
        return Period("year", year)
    except ValueError:
        return None


def make(kind: str, year: int, number: int | None = None) -> Period | None:
    """A period from a form's parts, or None when they do not make one."""
    try:
        return Period(kind, int(year), 1 if kind == "year" else int(number or 0))
    except (ValueError, TypeError):
        return None


def ordered(periods, newest_first: bool = False) -> list[Period]:
    return sorted(periods, key=lambda p: p.sort_key, reverse=newest_first)


def trailing(last: Period, count: int) -> list[Period]:
    """``count`` periods of ``last``'s kind ending with ``last``, oldest first."""
    out = [last]
    while len(out) < count:
        try:
            out.append(out[-1].previous())
        except ValueError:
            break
    return list(reversed(out))


def period_of_date(kind: str, day: date) -> Period:
    if kind == "month":
        return Period("month", day.year, day.month)
    if kind == "quarter":
        return Period("quarter", day.year, (day.month - 1) // 3 + 1)
    return Period("year", day.year)
