from decimal import Decimal

import pytest

from portal.validators import normalise_mobile, parse_area


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("19912345678", "19912345678"),
        ("13000000000", "13000000000"),
    ],
)
def test_mobile_numbers_accepted(raw, expected):
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "12345",
        "12800138000",  # second digit 2 is not a mobile prefix
        "11800138000",
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "23800138000",
        "1380013800a",
        "+8513800138000",
        "010-12345678",  # a landline
    ],
)
def test_mobile_numbers_refused(raw):
    assert normalise_mobile(raw) is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("89.53", Decimal("89.53")),
        ("0.01", Decimal("0.01")),
        ("120", Decimal("120.00")),
        (" 75.5 ", Decimal("75.50")),
        ("1,234.50", Decimal("1234.50")),
        (89.53, Decimal("89.53")),
        (120, Decimal("120.00")),
        ("89.530", Decimal("89.53")),
    ],
)
def test_areas_accepted(raw, expected):
    assert parse_area(raw) == expected


@pytest.mark.parametrize(
    "raw", [None, "", "0", "0.00", "-12.5", "abc", "1.234", "NaN", "Infinity", "1e20", 0.001]
)
def test_areas_refused(raw):
    assert parse_area(raw) is None
