"""Accounting periods: keys, bounds, labels in both languages, neighbours and ordering."""

from datetime import date

import pytest

from portal.transparency import periods
from portal.transparency.periods import Period


@pytest.mark.parametrize(
    ("key", "kind", "start", "end"),
    [
        ("2026-01", "month", date(2026, 1, 1), date(2026, 1, 31)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),  # a leap year
        ("2025-02", "month", date(2025, 2, 1), date(2025, 2, 28)),
        ("2026-12", "month", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-Q1", "quarter", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q2", "quarter", date(2026, 4, 1), date(2026, 6, 30)),
        ("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_keys_round_trip_with_their_bounds(key, kind, start, end):
    p = periods.parse_key(key)
    assert p is not None and p.kind == kind
    assert (p.start, p.end) == (start, end)
    assert p.key == key


@pytest.mark.parametrize(
    "bad", ["", "2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-01", "2026-1", "1999", "x", None]
)
def test_bad_keys_are_not_periods(bad):
    assert periods.parse_key(bad) is None


def test_make_from_form_parts():
    assert periods.make("month", 2026, 3) == Period("month", 2026, 3)
    assert periods.make("year", 2026, None) == Period("year", 2026)
    assert periods.make("quarter", 2026, 5) is None
    assert periods.make("week", 2026, 1) is None
    assert periods.make("month", "x", 1) is None


def test_labels_in_chinese_and_english():
    assert Period("month", 2026, 1).label("zh_Hans_CN") == "2026年1月"
    assert Period("month", 2026, 1).label("en") == "January 2026"
    assert Period("quarter", 2026, 2).label("zh_Hans_CN") == "2026年第2季度"
    assert Period("quarter", 2026, 2).label("en") == "Q2 2026"
    assert Period("year", 2026).label("zh_Hans_CN") == "2026年"
    assert Period("year", 2026).label("en") == "2026"


def test_neighbours_cross_year_boundaries():
    assert Period("month", 2026, 1).previous() == Period("month", 2025, 12)
    assert Period("month", 2025, 12).next() == Period("month", 2026, 1)
    assert Period("quarter", 2026, 1).previous() == Period("quarter", 2025, 4)
    assert Period("quarter", 2025, 4).next() == Period("quarter", 2026, 1)
    assert Period("year", 2026).previous() == Period("year", 2025)


def test_ordering_by_start_then_widest_first():
    mixed = [
        Period("month", 2026, 2),
        Period("month", 2026, 1),
        Period("quarter", 2026, 1),
        Period("year", 2026),
        Period("month", 2025, 12),
    ]
    assert [p.key for p in periods.ordered(mixed)] == [
        "2025-12",
        "2026",
        "2026-Q1",
        "2026-01",
        "2026-02",
    ]
    assert periods.ordered(mixed, newest_first=True)[0].key == "2026-02"


def test_trailing_periods_for_the_trend():
    keys = [p.key for p in periods.trailing(Period("month", 2026, 2), 4)]
    assert keys == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert [p.key for p in periods.trailing(Period("year", 2001), 5)] == ["2000", "2001"]


def test_containment_and_period_of_a_date():
    assert Period("year", 2026).contains(Period("quarter", 2026, 3))
    assert Period("quarter", 2026, 1).contains(Period("month", 2026, 3))
    assert not Period("quarter", 2026, 1).contains(Period("month", 2026, 4))
    assert periods.period_of_date("quarter", date(2026, 8, 15)) == Period("quarter", 2026, 3)
