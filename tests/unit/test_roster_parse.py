"""The pure roster reader and checker: headers, encodings, XLSX, every error code, line numbers."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from portal.places.roster import (
    MAX_ROWS,
    building_sort_key,
    parse_developer_flag,
    parse_roster,
)

DATA = Path(__file__).resolve().parent.parent / "data"
ZH = "楼栋,房号,专有面积,业主编号,业主姓名,联系电话,开发商持有"
EN = "building,room,area_m2,owner_key,owner_name,phone,developer_held"


def csv_bytes(*lines: str, header: str = ZH, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


def parse_lines(*lines: str, header: str = ZH):
    return parse_roster(csv_bytes(*lines, header=header), "r.csv")


def codes(parsed) -> list[tuple[int, str]]:
    return [(e.line, e.code) for e in parsed.errors]


def xlsx_bytes(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- the sample files --------------------------------------------------------------------


def test_good_sample_reads_72_units_in_3_buildings():
    parsed = parse_roster((DATA / "roster-sample.csv").read_bytes(), "roster-sample.csv")
    assert parsed.ok, parsed.errors
    assert len(parsed.rows) == 72
    assert {r.building for r in parsed.rows} == {"1栋", "2栋", "3栋"}
    two = [r for r in parsed.rows if r.owner_key == "YP-0013"]
    assert [(r.building, r.room) for r in two] == [("1栋", "401"), ("1栋", "402")]
    developer = [r for r in parsed.rows if r.developer_held]
    assert {r.owner_key for r in developer} == {"DEV-001"}
    assert len(developer) == 2
    assert any(r.phone is None for r in parsed.rows)
    first = parsed.rows[0]
    assert (first.line, first.building, first.room, first.area) == (
        2,
        "1栋",
        "101",
        Decimal("89.53"),
    )
    assert first.owner_name == "邱桂" and first.phone == "13800000001"


def test_bad_sample_names_exactly_lines_5_8_10_and_keeps_no_rows():
    parsed = parse_roster((DATA / "roster-sample-bad.csv").read_bytes(), "bad.csv")
    assert parsed.bad_lines == [5, 8, 10]
    assert codes(parsed) == [(5, "area_invalid"), (8, "room_duplicate"), (10, "phone_invalid")]
    assert parsed.rows == []
    dup = parsed.errors[1]
    assert dup.params["first_line"] == 7 and dup.params["room"] == "202"


# ---- headers ------------------------------------------------------------------------------


def test_english_headers():
    parsed = parse_lines("1栋,101,89.5,K1,张三,13800138000,no", header=EN)
    assert parsed.ok
    assert parsed.rows[0].area == Decimal("89.50")


def test_mixed_order_and_mixed_languages():
    header = "owner_name,专有面积,房号,building,业主编号"
    parsed = parse_lines("张三,89.5,101,1栋,K1", header=header)
    assert parsed.ok, parsed.errors
    row = parsed.rows[0]
    assert (row.building, row.room, row.owner_key, row.owner_name) == ("1栋", "101", "K1", "张三")
    assert row.phone is None and row.developer_held is False


def test_header_spelling_variants_are_understood():
    header = " Building , Room , Area (m²) , Owner-Key , OWNER_NAME , 手机号 , 开发商"
    parsed = parse_lines("1栋,101,89.5,K1,张三,,是", header=header)
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].developer_held is True


def test_utf8_bom_is_accepted():
    data = b"\xef\xbb\xbf" + csv_bytes("1栋,101,89.5,K1,张三,,")
    parsed = parse_roster(data, "r.csv")
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].building == "1栋"


def test_gbk_csv_as_excel_saves_it_in_china():
    data = csv_bytes("1栋,101,89.5,K1,张三,13800138000,否", encoding="gbk")
    parsed = parse_roster(data, "r.csv")
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].owner_name == "张三"


def test_gb18030_rare_character_in_a_name():
    data = csv_bytes("1栋,101,89.5,K1,王䶮,,", encoding="gb18030")
    parsed = parse_roster(data, "r.csv")
    assert parsed.ok and parsed.rows[0].owner_name == "王䶮"


def test_tab_separated_text_is_read():
    data = ("\t".join(EN.split(",")) + "\n1栋\t101\t89.5\tK1\t张三\t\t\n").encode()
    parsed = parse_roster(data, "r.csv")
    assert parsed.ok, parsed.errors


def test_missing_required_column_is_a_file_level_error():
    parsed = parse_lines("1栋,101,K1,张三", header="楼栋,房号,业主编号,业主姓名")
    assert codes(parsed) == [(1, "header_missing")]
    assert "专有面积" in parsed.errors[0].params["column"]
    assert parsed.rows == []


def test_unknown_column_is_a_file_level_error():
    parsed = parse_lines("1栋,101,89.5,K1,张三,,,x", header=ZH + ",备注")
    assert codes(parsed) == [(1, "header_unknown")]
    assert parsed.errors[0].params["column"] == "备注"


def test_duplicate_column_is_an_error():
    parsed = parse_lines(
        "1栋,101,89.5,K1,张三,x", header="楼栋,房号,专有面积,业主编号,业主姓名,姓名"
    )
    assert codes(parsed) == [(1, "header_duplicate")]


def test_phone_and_developer_columns_are_optional_and_empty_header_cells_ignored():
    parsed = parse_lines("1栋,101,89.5,K1,张三,,", header="楼栋,房号,专有面积,业主编号,业主姓名,,")
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].phone is None and parsed.rows[0].developer_held is False


def test_header_after_leading_blank_lines_keeps_spreadsheet_line_numbers():
    data = ("\n" + ZH + "\n1栋,101,0,K1,张三,,\n").encode()
    parsed = parse_roster(data, "r.csv")
    assert codes(parsed) == [(3, "area_invalid")]


# ---- files ------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf", b",,,\n,,\n"])
def test_empty_file_is_an_error(data):
    parsed = parse_roster(data, "r.csv")
    assert codes(parsed) == [(0, "file_empty")]


def test_header_without_rows_is_an_error():
    parsed = parse_roster((ZH + "\n").encode(), "r.csv")
    assert codes(parsed) == [(1, "no_rows")]


def test_old_excel_xls_is_refused_with_its_own_message():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    assert codes(parse_roster(ole, "r.xls")) == [(0, "file_type")]


def test_damaged_xlsx_is_unreadable():
    assert codes(parse_roster(b"PK\x03\x04garbage", "r.xlsx")) == [(0, "file_unreadable")]


def test_undecodable_bytes_are_an_encoding_error():
    # 0x80 alone is neither UTF-8 nor GB18030
    assert codes(parse_roster(b"\x80\x80\x80,\xff\n", "r.csv")) == [(0, "file_encoding")]


def test_more_than_max_rows_is_refused():
    lines = [f"1栋,{i},50,K{i},业主{i},," for i in range(1, MAX_ROWS + 2)]
    parsed = parse_lines(*lines)
    assert codes(parsed) == [(0, "too_many_rows")]
    assert parsed.errors[0].params["max"] == MAX_ROWS


def test_exactly_max_rows_is_accepted():
    lines = [f"{i // 100}栋,{i},50,K{i},业主{i},," for i in range(MAX_ROWS)]
    parsed = parse_lines(*lines)
    assert parsed.ok and len(parsed.rows) == MAX_ROWS


def test_too_large_file_is_refused():
    data = csv_bytes("1栋,101,89.5,K1,张三,,") + b" " * (10 * 1024 * 1024)
    assert codes(parse_roster(data, "r.csv")) == [(0, "file_too_large")]


# ---- XLSX ---------------------------------------------------------------------------------


def test_xlsx_with_numbers_as_excel_stores_them():
    data = xlsx_bytes(
        [
            EN.split(","),
            ["1栋", 101, 89.53, "K1", "张三", 13800000001, "否"],
            ["1栋", 102, 100, "K2", "李四", 13800000002.0, None],
            ["2栋", "201", 1.234, "K3", "王五", None, True],  # three decimals
            ["2栋", "202", 56.1, "K4", "赵六", "+86 138 0000 0004", 1],
        ]
    )
    parsed = parse_roster(data, "roster.xlsx")
    assert codes(parsed) == [(4, "area_invalid")]
    ok = parse_roster(
        xlsx_bytes(
            [
                EN.split(","),
                ["1栋", 101, 89.53, "K1", "张三", 13800000001, "否"],
                ["1栋", 102, 100, "K2", "李四", 13800000002.0, None],
                ["2栋", "201", 0.1 + 0.2, "K3", "王五", None, True],  # 0.30000000000000004
                ["2栋", "202", 56.1, "K4", "赵六", "+86 138 0000 0004", 1],
            ]
        ),
        "roster.xlsx",
    )
    assert ok.ok, ok.errors
    rows = {r.room: r for r in ok.rows}
    assert rows["101"].area == Decimal("89.53") and rows["101"].phone == "13800000001"
    assert rows["102"].area == Decimal("100.00") and rows["102"].phone == "13800000002"
    assert rows["201"].area == Decimal("0.30") and rows["201"].developer_held is True
    assert rows["202"].phone == "13800000004" and rows["202"].developer_held is True


def test_xlsx_line_numbers_count_blank_rows_like_excel():
    data = xlsx_bytes(
        [
            ZH.split(","),
            ["1栋", "101", 50, "K1", "张三", None, None],
            [None] * 7,
            ["1栋", "102", -3, "K2", "李四", None, None],
        ]
    )
    assert codes(parse_roster(data, "r.xlsx")) == [(4, "area_invalid")]


def test_xlsx_is_recognised_by_content_whatever_its_name():
    data = xlsx_bytes([ZH.split(","), ["1栋", "101", 50, "K1", "张三", None, None]])
    assert parse_roster(data, "upload").ok


def test_xlsx_reads_the_first_worksheet_only():
    wb = Workbook()
    wb.active.append(EN.split(","))
    wb.active.append(["1栋", "101", 50, "K1", "张三", None, None])
    other = wb.create_sheet("notes")
    other.append(["not", "a", "roster"])
    buf = io.BytesIO()
    wb.save(buf)
    parsed = parse_roster(buf.getvalue(), "r.xlsx")
    assert parsed.ok and len(parsed.rows) == 1


# ---- row rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0.01", Decimal("0.01")),
        ("1.2", Decimal("1.20")),
        ("89.53", Decimal("89.53")),
        ("1,234.50", Decimal("1234.50")),
        ("８９.５", Decimal("89.50")),  # full-width digits
    ],
)
def test_area_accepted(raw, expected):
    parsed = parse_lines(f'1栋,101,"{raw}",K1,张三,,')
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].area == expected


@pytest.mark.parametrize("raw", ["0", "-1", "1.234", "abc", "0.00", "-12.50", "1e3x"])
def test_area_refused(raw):
    parsed = parse_lines(f"1栋,101,{raw},K1,张三,,")
    assert codes(parsed) == [(2, "area_invalid")]
    assert parsed.errors[0].params["value"] == raw


def test_empty_area_is_required_not_invalid():
    parsed = parse_lines("1栋,101,,K1,张三,,")
    assert codes(parsed) == [(2, "required")]
    assert parsed.errors[0].params["field"] == "area_m2"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("", None),
    ],
)
def test_phone_accepted(raw, expected):
    parsed = parse_lines(f"1栋,101,50,K1,张三,{raw},")
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].phone == expected


@pytest.mark.parametrize("raw", ["12345", "0571-88888888", "23800138000", "1380013800"])
def test_phone_refused(raw):
    parsed = parse_lines(f"1栋,101,50,K1,张三,{raw},")
    assert codes(parsed) == [(2, "phone_invalid")]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("是", True),
        ("否", False),
        ("yes", True),
        ("No", False),
        ("Y", True),
        ("n", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("", False),
        (" 是 ", True),
    ],
)
def test_developer_flag_values(raw, expected):
    assert parse_developer_flag(raw) is expected
    parsed = parse_lines(f"1栋,101,50,K1,张三,,{raw}")
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].developer_held is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "有"])
def test_developer_flag_refused(raw):
    parsed = parse_lines(f"1栋,101,50,K1,张三,,{raw}")
    assert codes(parsed) == [(2, "developer_invalid")]


@pytest.mark.parametrize(
    "line, field",
    [
        (",101,50,K1,张三,,", "building"),
        ("1栋,,50,K1,张三,,", "room"),
        ("1栋,101,50,,张三,,", "owner_key"),
        ("1栋,101,50,K1,,,", "owner_name"),
    ],
)
def test_required_values(line, field):
    parsed = parse_lines(line)
    assert codes(parsed) == [(2, "required")]
    assert parsed.errors[0].params["field"] == field


def test_short_row_misses_its_values():
    parsed = parse_lines("1栋,101")
    assert [e.params["field"] for e in parsed.errors] == ["area_m2", "owner_key", "owner_name"]


def test_too_long_values():
    parsed = parse_lines(f"{'楼' * 51},101,50,K1,张三,,")
    assert codes(parsed) == [(2, "too_long")]
    assert parsed.errors[0].params == {"field": "building", "max": 50}


def test_room_repeated_within_building_but_not_across_buildings():
    parsed = parse_lines(
        "1栋,101,50,K1,张三,,",
        "2栋,101,50,K2,李四,,",
        "1栋,101,60,K3,王五,,",
    )
    assert codes(parsed) == [(4, "room_duplicate")]
    assert parsed.errors[0].params == {"building": "1栋", "room": "101", "first_line": 2}


def test_one_owner_key_one_name():
    parsed = parse_lines(
        "1栋,101,50,K1,张三,,",
        "1栋,102,50,K1,张三,,",
        "1栋,103,50,K1,张叁,,",
    )
    assert codes(parsed) == [(4, "owner_name_conflict")]
    assert parsed.errors[0].params == {
        "owner_key": "K1",
        "name": "张叁",
        "first_name": "张三",
        "first_line": 2,
    }


def test_every_problem_of_every_line_is_listed():
    parsed = parse_lines(
        "1栋,101,abc,K1,张三,12345,maybe",
        "1栋,102,50,K2,李四,,",
        ",103,50,K3,王五,,",
        "1栋,102,50,K4,赵六,,",
    )
    assert codes(parsed) == [
        (2, "area_invalid"),
        (2, "phone_invalid"),
        (2, "developer_invalid"),
        (4, "required"),
        (5, "room_duplicate"),
    ]
    assert parsed.rows == []


def test_blank_lines_are_skipped_but_counted():
    parsed = parse_lines("1栋,101,50,K1,张三,,", "", ",,,,,,", "1栋,102,-1,K2,李四,,")
    assert codes(parsed) == [(5, "area_invalid")]


def test_quoted_values_with_commas():
    parsed = parse_lines('1栋,101,"1,089.50",K1,"Zhang, San",,')
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].area == Decimal("1089.50")
    assert parsed.rows[0].owner_name == "Zhang, San"


def test_codes_are_made_half_width_and_trimmed():
    parsed = parse_lines("１栋 , １０１ ,50, Ｋ１ ,张三,,")
    assert parsed.ok
    row = parsed.rows[0]
    assert (row.building, row.room, row.owner_key) == ("1栋", "101", "K1")


# ---- building order -----------------------------------------------------------------------


def test_building_sort_key_is_natural():
    names = ["10栋", "2栋", "1栋", "A12", "A3", "3号楼", "11栋"]
    assert sorted(names, key=building_sort_key) == [
        "1栋",
        "2栋",
        "3号楼",
        "10栋",
        "11栋",
        "A3",
        "A12",
    ]
    assert building_sort_key("02栋") == building_sort_key("2栋")
    assert len(building_sort_key("楼" * 200)) <= 80
