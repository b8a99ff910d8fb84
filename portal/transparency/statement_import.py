"""Reading and checking a fee statement file (pure: no Flask, no database).

A statement file is a CSV or Excel (.xlsx) file with a header row in Chinese or English and one
row per figure; the column ``部分/section`` says what a row is:

==============  ================================================================================
section         the row gives
==============  ================================================================================
收入 / income    an income line: 类别/category, 金额/amount, optionally 项目/item and 说明/note
支出 / expense   an expense line: the same columns
收费 / billing   the billing: 应缴户数/households_billed, 已缴户数/households_paid,
                 应收金额/amount_billed, 实收金额/amount_collected — for the whole compound when
                 楼栋/building is empty, else for that building
结余 / opening   the balance brought forward from the previous period in 金额/amount (may be
                 negative)
==============  ================================================================================

``parse_statement(data, filename)`` returns the statement's parts, or every problem as a
``RowError`` (code + parameters, translated by ``labels``) and nothing else: a file with any
problem is imported not at all. Line numbers are those a spreadsheet shows (the header is 1).
When there are building rows but no whole-compound billing row, the compound's billing is their
sum; when there are both, the buildings must add up to it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from portal.places.roster import RowError, _FileProblem, map_header, read_records
from portal.transparency import feecore
from portal.transparency.feecore import Billing, Line

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2_000
MAX_LENGTHS = {"item": 100, "note": 300, "building": 50}

# field -> (Chinese header, English header)
COLUMNS: dict[str, tuple[str, str]] = {
    "section": ("部分", "section"),
    "category": ("类别", "category"),
    "item": ("项目", "item"),
    "amount": ("金额", "amount"),
    "note": ("说明", "note"),
    "building": ("楼栋", "building"),
    "households_billed": ("应缴户数", "households_billed"),
    "households_paid": ("已缴户数", "households_paid"),
    "amount_billed": ("应收金额", "amount_billed"),
    "amount_collected": ("实收金额", "amount_collected"),
}
REQUIRED_COLUMNS = ("section", "category", "amount")
BILLING_COLUMNS = ("households_billed", "households_paid", "amount_billed", "amount_collected")

_ALIASES: dict[str, tuple[str, ...]] = {
    "section": ("部分", "类型", "收支", "section", "type", "kind"),
    "category": ("类别", "科目", "分类", "category"),
    "item": ("项目", "名称", "明细", "item", "description", "label"),
    "amount": ("金额", "金额元", "amount", "amountcny", "amountyuan"),
    "note": ("说明", "备注", "note", "notes", "remark", "remarks"),
    "building": ("楼栋", "楼号", "楼宇", "building"),
    "households_billed": ("应缴户数", "应收户数", "householdsbilled", "billedhouseholds"),
    "households_paid": ("已缴户数", "实缴户数", "householdspaid", "paidhouseholds"),
    "amount_billed": ("应收金额", "应收", "amountbilled", "billed"),
    "amount_collected": ("实收金额", "实收", "amountcollected", "collected"),
}
_SECTIONS: dict[str, tuple[str, ...]] = {
    "income": ("收入", "income", "revenue"),
    "expense": ("支出", "expense", "expenses", "expenditure"),
    "billing": ("收费", "收缴", "收费情况", "billing", "collection"),
    "opening": ("结余", "上期结余", "期初结余", "opening", "openingbalance", "balance"),
}
SECTION_NAMES = {name: aliases[0] + " / " + aliases[1] for name, aliases in _SECTIONS.items()}

# Category words as the companies write them -> category code (per direction).
CATEGORY_WORDS: dict[str, dict[str, str]] = {
    "income": {
        "物业费": "property_fees",
        "物业服务费": "property_fees",
        "物业费收入": "property_fees",
        "政府补贴": "subsidy",
        "补贴": "subsidy",
        "停车费": "parking",
        "停车": "parking",
        "停车收入": "parking",
        "公共收益": "common_area",
        "共有部分收益": "common_area",
        "广告": "common_area",
        "场地租金": "common_area",
        "其他收入": "other_income",
        "其他": "other_income",
        "other": "other_income",
    },
    "expense": {
        "人员工资": "wages",
        "工资": "wages",
        "人员费用": "wages",
        "保洁": "cleaning",
        "保洁费": "cleaning",
        "绿化": "greening",
        "绿化养护": "greening",
        "秩序维护": "security",
        "安保": "security",
        "保安": "security",
        "维修养护": "repairs",
        "维修": "repairs",
        "公共能耗": "utilities",
        "公共水电": "utilities",
        "水电费": "utilities",
        "管理费用": "management",
        "管理费": "management",
        "办公费": "management",
        "其他支出": "other_expense",
        "其他": "other_expense",
        "other": "other_expense",
    },
}

_HEADER_LOOKUP = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_SECTION_LOOKUP = {alias: name for name, aliases in _SECTIONS.items() for alias in aliases}


def _key(raw: str) -> str:
    s = unicodedata.normalize("NFKC", raw or "").strip().lower()
    for ch in " _-/.:：*()（）[]【】":
        s = s.replace(ch, "")
    return s


def _clean(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def category_code(direction: str, raw: str) -> str | None:
    """The category code a cell names (its code, its Chinese word), or None."""
    k = _key(raw)
    for code in feecore.CATEGORIES[direction]:
        if k == _key(code):
            return code
    words = {_key(w): c for w, c in CATEGORY_WORDS[direction].items()}
    return words.get(k)


@dataclass
class ParsedStatement:
    lines: list[Line] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)  # the file line of each line
    billing: Billing | None = None
    buildings: list[Billing] = field(default_factory=list)
    building_lines: dict[str, int] = field(default_factory=dict)
    opening_balance: Decimal = Decimal("0.00")
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})


def _map_header(line: int, cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    return map_header(
        line, cells, columns=COLUMNS, required=REQUIRED_COLUMNS, lookup=_HEADER_LOOKUP, key=_key
    )


def _amount(line, values, name, errors, *, allow_negative=False) -> Decimal | None:
    raw = values[name]
    if not raw:
        errors.append(RowError(line, "required", {"field": name}))
        return None
    value = feecore.parse_amount(raw, allow_negative=allow_negative)
    if value is None:
        code = "balance_invalid" if allow_negative else "amount_invalid"
        errors.append(RowError(line, code, {"field": name, "value": _short(raw)}))
    return value


def _count(line, values, name, errors) -> int | None:
    raw = values[name]
    if not raw:
        errors.append(RowError(line, "required", {"field": name}))
        return None
    value = feecore.parse_count(raw)
    if value is None:
        errors.append(RowError(line, "count_invalid", {"field": name, "value": _short(raw)}))
    return value


def _billing_problems(line: int, b: Billing) -> list[RowError]:
    out = []
    for problem in feecore.check_billing(b):
        out.append(RowError(line, problem.code, dict(problem.params)))
    return out


def check_records(records: Iterable[tuple[int, list[str]]]) -> ParsedStatement:
    result = ParsedStatement()
    errors: list[RowError] = []
    columns: dict[str, int] | None = None
    header_line = 0
    count = 0
    seen_lines: dict[tuple[str, str, str], int] = {}
    compound_billing_line = 0
    opening_line = 0

    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if columns is None:
            header_line = line
            columns, header_errors = _map_header(line, cells)
            if header_errors:
                return ParsedStatement(errors=header_errors)
            continue
        count += 1
        if count > MAX_ROWS:
            return ParsedStatement(errors=[RowError(0, "too_many_rows", {"max": MAX_ROWS})])
        values = {}
        for name in COLUMNS:
            index = columns.get(name)
            raw = cells[index] if index is not None and index < len(cells) else ""
            values[name] = _clean(raw)
        row_errors: list[RowError] = []
        for name, limit in MAX_LENGTHS.items():
            if len(values[name]) > limit:
                row_errors.append(RowError(line, "too_long", {"field": name, "max": limit}))

        section = _SECTION_LOOKUP.get(_key(values["section"]))
        if not values["section"]:
            row_errors.append(RowError(line, "required", {"field": "section"}))
        elif section is None:
            row_errors.append(
                RowError(line, "section_unknown", {"value": _short(values["section"])})
            )

        if section in ("income", "expense"):
            category = None
            if not values["category"]:
                row_errors.append(RowError(line, "required", {"field": "category"}))
            else:
                category = category_code(section, values["category"])
                if category is None:
                    row_errors.append(
                        RowError(
                            line,
                            "category_unknown",
                            {"value": _short(values["category"]), "section": section},
                        )
                    )
            amount = _amount(line, values, "amount", row_errors)
            for name in ("item", "note"):
                if feecore.contains_phone(values[name]):
                    row_errors.append(RowError(line, "phone_in_text", {"field": name}))
            if category is not None:
                key = (section, category, values["item"])
                first = seen_lines.setdefault(key, line)
                if first != line:
                    row_errors.append(
                        RowError(
                            line,
                            "line_duplicate",
                            {"category": category, "item": values["item"], "first_line": first},
                        )
                    )
            if not row_errors:
                result.lines.append(Line(section, category, values["item"], amount, values["note"]))
                result.line_numbers.append(line)

        elif section == "billing":
            missing = [n for n in BILLING_COLUMNS if n not in columns]
            if missing:
                for name in missing:
                    zh, en = COLUMNS[name]
                    row_errors.append(
                        RowError(line, "billing_column_missing", {"column": f"{zh} / {en}"})
                    )
            else:
                hb = _count(line, values, "households_billed", row_errors)
                hp = _count(line, values, "households_paid", row_errors)
                ab = _amount(line, values, "amount_billed", row_errors)
                ac = _amount(line, values, "amount_collected", row_errors)
                building = values["building"]
                if building:
                    first = result.building_lines.setdefault(building, line)
                    if first != line:
                        row_errors.append(
                            RowError(
                                line,
                                "building_duplicate",
                                {"building": building, "first_line": first},
                            )
                        )
                elif compound_billing_line:
                    row_errors.append(
                        RowError(line, "billing_twice", {"first_line": compound_billing_line})
                    )
                if not row_errors:
                    b = Billing(hb, hp, ab, ac, building)
                    row_errors.extend(_billing_problems(line, b))
                    if not row_errors:
                        if building:
                            result.buildings.append(b)
                        else:
                            result.billing = b
                            compound_billing_line = line

        elif section == "opening":
            if opening_line:
                row_errors.append(RowError(line, "opening_twice", {"first_line": opening_line}))
            value = _amount(line, values, "amount", row_errors, allow_negative=True)
            if not row_errors:
                result.opening_balance = value
                opening_line = line

        errors.extend(row_errors)

    if columns is None:
        return ParsedStatement(errors=[RowError(0, "file_empty")])
    if count == 0 and not errors:
        return ParsedStatement(errors=[RowError(header_line, "no_rows")])
    if not errors:
        if not result.lines:
            errors.append(RowError(0, "no_lines"))
        if result.billing is None and result.buildings:
            result.billing = feecore.sum_billing(result.buildings)
        elif result.billing is None:
            errors.append(RowError(0, "billing_missing"))
        elif result.buildings:
            sums = feecore.sum_billing(result.buildings)
            b = result.billing
            if (
                sums.households_billed,
                sums.households_paid,
                sums.amount_billed,
                sums.amount_collected,
            ) != (b.households_billed, b.households_paid, b.amount_billed, b.amount_collected):
                errors.append(RowError(compound_billing_line, "buildings_do_not_add_up"))
    if errors:
        return ParsedStatement(errors=errors)
    return result


def parse_statement(data: bytes, filename: str = "") -> ParsedStatement:
    """Read and check a statement file: all its parts, or every problem (and nothing else)."""
    if len(data) > MAX_BYTES:
        return ParsedStatement(errors=[RowError(0, "file_too_large", {"mb": MAX_BYTES // 2**20})])
    if not data.strip():
        return ParsedStatement(errors=[RowError(0, "file_empty")])
    try:
        return check_records(read_records(data, filename))
    except _FileProblem as problem:
        return ParsedStatement(errors=[problem.error])


def to_csv_rows(
    lines: Iterable[Line],
    billing: Billing | None,
    buildings: Iterable[Billing],
    opening_balance: Decimal,
    lang: str = "zh",
) -> list[list[str]]:
    """A statement as rows of the import format (header first), e.g. for the sample file or
    to export a draft for editing in a spreadsheet."""
    zh = lang.startswith("zh")
    header = [COLUMNS[n][0 if zh else 1] for n in COLUMNS]
    sec = {name: _SECTIONS[name][0 if zh else 1] for name in _SECTIONS}
    rows = [header]
    for line in lines:
        rows.append(
            [sec[line.direction], line.category, line.item, str(line.amount), line.note] + [""] * 5
        )
    if billing is not None:
        rows.append(
            [sec["billing"], "", "", "", "", ""]
            + [
                str(billing.households_billed),
                str(billing.households_paid),
                str(billing.amount_billed),
                str(billing.amount_collected),
            ]
        )
    for b in buildings:
        rows.append(
            [sec["billing"], "", "", "", "", b.building]
            + [
                str(b.households_billed),
                str(b.households_paid),
                str(b.amount_billed),
                str(b.amount_collected),
            ]
        )
    rows.append([sec["opening"], "", "", str(opening_balance), ""] + [""] * 5)
    return rows
