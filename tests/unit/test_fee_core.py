"""Fee arithmetic and rules: amounts, exact rates, totals, the revision diff, overdue questions,
personal data in free text, and commitments from a contract's text."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from portal.transparency import charts, feecore
from portal.transparency.feecore import Billing, Line

D = Decimal


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1234.5", D("1234.50")),
        ("1,234.50", D("1234.50")),
        ("¥86,500", D("86500.00")),
        ("0", D("0.00")),
        ("-0", D("0.00")),
        (12.3, D("12.30")),
        (" 7 ", D("7.00")),
    ],
)
def test_amounts_parse_to_cents(raw, value):
    assert feecore.parse_amount(raw) == value


@pytest.mark.parametrize("raw", ["", "abc", "1.234", "-5", "NaN", "Infinity", "1e20", None])
def test_bad_amounts(raw):
    assert feecore.parse_amount(raw) is None


def test_negative_amounts_only_where_allowed():
    assert feecore.parse_amount("-1500", allow_negative=True) == D("-1500.00")


def test_counts():
    assert feecore.parse_count("240") == 240
    assert feecore.parse_count("240.0") == 240
    assert feecore.parse_count("-1") is None
    assert feecore.parse_count("1.5") is None


def test_collection_rate_is_an_exact_fraction_rounded_half_up_for_display():
    b = Billing(3, 2, D("300.00"), D("200.00"))
    assert b.collection_rate == Fraction(2, 3)
    assert b.payment_rate == Fraction(2, 3)
    assert feecore.percent(b.collection_rate) == D("66.7")
    # 0.8125 -> 81.25 % -> 81.3 (half up, where banker's rounding would give 81.2)
    assert feecore.percent(feecore.rate(D("81.25"), D("100"))) == D("81.3")
    assert feecore.percent(feecore.rate(D("1"), D("8"))) == D("12.5")
    assert feecore.percent(feecore.rate(D("0"), D("8"))) == D("0.0")
    assert feecore.rate(D("5"), D("0")) is None
    assert feecore.percent(None) is None


def test_rates_compare_exactly_where_floats_would_tie():
    # 1/3 of 0.03 vs 0.01: as floats 0.01/0.03 != 1/3 by a hair; as fractions they are equal
    assert feecore.rate(D("0.01"), D("0.03")) == Fraction(1, 3)
    assert feecore.rate(D("0.01"), D("0.03")) == feecore.rate(D("1"), D("3"))


def test_totals_and_balances():
    lines = [
        Line("income", "property_fees", "", D("100.10")),
        Line("income", "parking", "", D("0.20")),
        Line("expense", "wages", "", D("50.05")),
    ]
    t = feecore.totals(lines, D("-10.00"))
    assert (t.income, t.expense, t.surplus) == (D("100.30"), D("50.05"), D("50.25"))
    assert t.closing_balance == D("40.25")
    assert feecore.by_category(lines, "income") == [
        ("property_fees", D("100.10")),
        ("parking", D("0.20")),
    ]


def test_statement_rules():
    lines = [
        Line("income", "property_fees", "a", D("1")),
        Line("income", "property_fees", "a", D("2")),
        Line("expense", "parking", "", D("1")),  # parking is an income category
    ]
    billing = Billing(10, 11, D("100"), D("101"))
    buildings = [Billing(5, 5, D("50"), D("50"), "1栋"), Billing(4, 4, D("40"), D("40"), "2栋")]
    codes = [p.code for p in feecore.check_statement(lines, billing, buildings)]
    assert codes == [
        "line_duplicate",
        "category_unknown",
        "paid_over_billed",
        "collected_over_billed",
        "buildings_do_not_add_up",
    ]
    ok = Billing(9, 9, D("90"), D("90"))
    assert feecore.check_statement(lines[:1], ok, buildings) == []


def test_diff_lists_added_removed_and_changed_lines_with_old_and_new_amounts():
    old = [
        Line("income", "property_fees", "", D("100.00")),
        Line("expense", "cleaning", "保洁外包", D("30.00"), "note"),
        Line("expense", "greening", "", D("10.00")),
        Line("expense", "repairs", "", D("5.00")),
    ]
    new = [
        Line("income", "property_fees", "", D("120.00")),
        Line("expense", "cleaning", "保洁外包", D("30.00"), "note changed"),
        Line("expense", "repairs", "", D("5.00")),
        Line("expense", "utilities", "", D("7.00")),
    ]
    changes = feecore.diff_lines(old, new)
    summary = [(c.kind, c.key[1], c.old and c.old.amount, c.new and c.new.amount) for c in changes]
    assert summary == [
        ("changed", "property_fees", D("100.00"), D("120.00")),
        ("changed", "cleaning", D("30.00"), D("30.00")),
        ("added", "utilities", None, D("7.00")),
        ("removed", "greening", D("10.00"), None),
    ]
    assert changes[0].delta == D("20.00")
    assert changes[1].note_changed and not changes[0].note_changed
    assert changes[3].delta == D("-10.00")
    assert feecore.diff_lines(old, old) == []


def test_diff_of_billing_figures_and_buildings():
    a = Billing(10, 8, D("100"), D("80"))
    b = Billing(10, 9, D("100"), D("90"))
    changes = feecore.diff_figures(
        a, b, D("0"), D("5"), [Billing(10, 8, D("100"), D("80"), "1栋")], []
    )
    names = [(c.name, c.old, c.new, c.building) for c in changes]
    assert ("opening_balance", D("0"), D("5"), "") in names
    assert ("households_paid", 8, 9, "") in names
    assert ("amount_collected", D("80"), D("90"), "") in names
    assert ("households_billed", 10, None, "1栋") in names


def test_overdue_rule():
    asked = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    seven = timedelta(days=7)
    assert not feecore.is_overdue(asked, None, asked + seven, 7)  # exactly 7 days: not yet
    assert feecore.is_overdue(asked, None, asked + seven + timedelta(seconds=1), 7)
    assert not feecore.is_overdue(asked, asked + timedelta(days=30), asked + timedelta(days=40), 7)
    assert feecore.is_overdue(asked, None, asked + timedelta(days=2), 1)
    assert feecore.overdue_since(asked, 7) == asked + seven


@pytest.mark.parametrize(
    ("text", "has"),
    [
        ("联系13812345678", True),
        ("电话 138 1234 5678", True),
        ("+86 138-1234-5678", True),
        ("座机 010-12345678", True),
        ("0755 1234567", True),
        ("1栋 502 室", False),
        ("2026年1月 物业费 86500.00", False),
        ("合同编号 20260101001", False),
        ("", False),
        (None, False),
    ],
)
def test_phone_numbers_in_free_text(text, has):
    assert feecore.contains_phone(text) is has


def test_commitments_split_from_contract_text_and_categories_guessed():
    text = (
        "1. 报修30分钟内响应，24小时内到场\n\n（2）每日清扫楼道两次\n三、绿化每月修剪一次\n"
        "- 门岗24小时值守\n消防设施每月巡检\n电梯年检合格\n其他承诺"
    )
    items = feecore.split_commitments(text)
    assert items == [
        "报修30分钟内响应，24小时内到场",
        "每日清扫楼道两次",
        "绿化每月修剪一次",
        "门岗24小时值守",
        "消防设施每月巡检",
        "电梯年检合格",
        "其他承诺",
    ]
    assert [feecore.guess_category(i) for i in items] == [
        "repairs",
        "cleaning",
        "greening",
        "security",
        "fire_safety",
        "facilities",
        "other",
    ]


def test_chart_bars_are_proportional_and_rounded_half_up():
    chart = charts.hbars(
        [("a", D("100"), "¥100", "income"), ("b", D("50"), "¥50", "income"), ("c", D("0"), "", "x")]
    )
    full, half, none = (b.width for b in chart.bars)
    assert half * 2 in (full, full + 1)
    assert none == 0
    shared = charts.hbars([("a", D("50"), "", "income")], top=D("100"))
    assert shared.bars[0].width == half
    trend = charts.vbars(
        [("1", "", [("in", D("10"), "", "income"), ("out", D("5"), "", "expense")])],
        top_text_for=str,
    )
    inc, exp = trend.groups[0].bars
    assert inc.height == 150 and exp.height == 75
    assert inc.y + inc.height == trend.plot_bottom
    assert trend.top_text == "10"
