"""The fee statement file: Chinese or English headers, CSV or XLSX, every bad line numbered."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from portal.transparency.statement_import import parse_statement, to_csv_rows

DATA = Path(__file__).resolve().parent.parent / "data" / "fees"
D = Decimal


def test_the_chinese_sample_reads_whole():
    parsed = parse_statement((DATA / "statement-sample.csv").read_bytes(), "s.csv")
    assert parsed.ok, parsed.errors
    assert len(parsed.lines) == 11
    assert parsed.lines[0].category == "property_fees"
    assert parsed.lines[0].item == "物业服务费"
    assert parsed.lines[0].amount == D("86500.00")
    assert parsed.lines[5].direction == "expense" and parsed.lines[5].category == "cleaning"
    assert parsed.lines[7].category == "security"  # 秩序维护
    assert parsed.billing.households_billed == 240
    assert parsed.billing.amount_collected == D("86500.00")
    assert [b.building for b in parsed.buildings] == ["1栋", "2栋"]
    assert parsed.building_lines == {"1栋": 14, "2栋": 15}
    assert parsed.opening_balance == D("20000.00")
    assert parsed.line_numbers[0] == 2


def test_the_english_sample_with_a_negative_opening_balance():
    parsed = parse_statement((DATA / "statement-sample-en.csv").read_bytes(), "s.csv")
    assert parsed.ok, parsed.errors
    assert parsed.opening_balance == D("-1500.00")
    assert parsed.buildings == []


def test_every_bad_line_is_named_and_nothing_is_kept():
    parsed = parse_statement((DATA / "statement-sample-bad.csv").read_bytes(), "bad.csv")
    assert not parsed.ok
    assert parsed.lines == [] and parsed.billing is None
    codes = {(e.line, e.code) for e in parsed.errors}
    assert codes == {
        (2, "amount_invalid"),
        (3, "category_unknown"),
        (4, "phone_in_text"),
        (5, "line_duplicate"),
        (6, "section_unknown"),
        (7, "paid_over_billed"),
        (8, "building_duplicate"),
        (9, "amount_invalid"),
    }
    dup = next(e for e in parsed.errors if e.code == "line_duplicate")
    assert dup.params["first_line"] == 4


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_with_numbers_as_cells():
    data = _xlsx(
        [
            ["部分", "类别", "金额", "应缴户数", "已缴户数", "应收金额", "实收金额"],
            ["收入", "物业费", 1000.5, None, None, None, None],
            ["支出", "保洁", 200, None, None, None, None],
            ["收费", None, None, 10, 9, 1100, 1000.5],
        ]
    )
    parsed = parse_statement(data, "s.xlsx")
    assert parsed.ok, parsed.errors
    assert parsed.lines[0].amount == D("1000.50")
    assert parsed.billing.households_paid == 9


def test_buildings_alone_make_the_compound_billing():
    csv = (
        "section,category,amount,building,households_billed,households_paid,amount_billed,"
        "amount_collected\nincome,property_fees,10,,,,,\nbilling,,,A,2,1,10,5\n"
        "billing,,,B,3,3,30,30\n"
    )
    parsed = parse_statement(csv.encode())
    assert parsed.ok, parsed.errors
    assert parsed.billing.households_billed == 5
    assert parsed.billing.amount_collected == D("35.00")


def test_buildings_must_add_up_to_the_compound_row():
    csv = (
        "section,category,amount,building,households_billed,households_paid,amount_billed,"
        "amount_collected\nincome,property_fees,10,,,,,\nbilling,,,,5,4,40,36\n"
        "billing,,,A,2,1,10,5\nbilling,,,B,3,3,30,30\n"
    )
    parsed = parse_statement(csv.encode())
    assert [(e.line, e.code) for e in parsed.errors] == [(3, "buildings_do_not_add_up")]


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        ("", [(0, "file_empty")]),
        ("section,category,amount\n", [(1, "no_rows")]),
        ("section,amount\nincome,1\n", [(1, "header_missing")]),
        ("section,category,amount,colour\n", [(1, "header_unknown")]),
        ("section,category,amount,金额\n", [(1, "header_duplicate")]),
        ("section,category,amount\nincome,property_fees,1\n", [(0, "billing_missing")]),
        ("section,category,amount\nbilling,,\n", [(2, "billing_column_missing")] * 4),
        ("section,category,amount\nopening,,5\n", [(0, "no_lines"), (0, "billing_missing")]),
        (
            "section,category,amount\nincome,property_fees,1\nopening,,1\nopening,,2\n",
            [(4, "opening_twice")],
        ),
        ("section,category,amount\nincome,,\n", [(2, "required"), (2, "required")]),
    ],
)
def test_file_and_header_problems(csv, expected):
    parsed = parse_statement(csv.encode("utf-8"))
    assert [(e.line, e.code) for e in parsed.errors] == expected


def test_old_excel_files_are_refused():
    parsed = parse_statement(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"x" * 100, "old.xls")
    assert [e.code for e in parsed.errors] == ["file_type"]


def test_gbk_csv_from_an_old_excel():
    text = "部分,类别,金额,应缴户数,已缴户数,应收金额,实收金额\n收入,物业费,5,,,,\n收费,,,1,1,5,5\n"
    parsed = parse_statement(text.encode("gbk"))
    assert parsed.ok, parsed.errors


def test_export_rows_read_back_the_same():
    parsed = parse_statement((DATA / "statement-sample.csv").read_bytes())
    for lang in ("zh", "en"):
        rows = to_csv_rows(
            parsed.lines, parsed.billing, parsed.buildings, parsed.opening_balance, lang
        )
        text = "\n".join(",".join(r) for r in rows)
        again = parse_statement(text.encode())
        assert again.ok, again.errors
        assert again.lines == parsed.lines
        assert again.buildings == parsed.buildings
        assert again.billing == parsed.billing
        assert again.opening_balance == parsed.opening_balance
