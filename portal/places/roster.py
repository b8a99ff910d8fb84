"""Reading and checking a compound's unit roster (pure: no Flask, no database).

A roster is a CSV or Excel (.xlsx) file with one row per unit and a header row, in Chinese or
English::

    楼栋/building, 房号/room, 专有面积/area_m2, 业主编号/owner_key, 业主姓名/owner_name,
    联系电话/phone, 开发商持有/developer_held

``parse_roster(data, filename)`` returns the rows as ``RosterRow`` and every problem as a
``RowError`` (a code and its parameters, translated by ``roster_labels``). A file with any
problem must be imported not at all. Line numbers are those a spreadsheet shows: the header is
line 1.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from portal.validators import normalise_mobile, parse_area

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 60

# field -> (Chinese header, English header): the names shown to people.
COLUMNS: dict[str, tuple[str, str]] = {
    "building": ("楼栋", "building"),
    "room": ("房号", "room"),
    "area_m2": ("专有面积", "area_m2"),
    "owner_key": ("业主编号", "owner_key"),
    "owner_name": ("业主姓名", "owner_name"),
    "phone": ("联系电话", "phone"),
    "developer_held": ("开发商持有", "developer_held"),
}
REQUIRED_COLUMNS = ("building", "room", "area_m2", "owner_key", "owner_name")
OPTIONAL_COLUMNS = ("phone", "developer_held")
REQUIRED_VALUES = ("building", "room", "area_m2", "owner_key", "owner_name")
MAX_LENGTHS = {"building": 50, "room": 30, "owner_key": 64, "owner_name": 100}

# Other spellings met in the secretaries' files (compared after ``_header_key``).
_ALIASES: dict[str, tuple[str, ...]] = {
    "building": ("楼栋", "楼号", "楼栋号", "栋号", "楼宇", "building", "buildingname", "bldg"),
    "room": ("房号", "房间号", "室号", "门牌号", "room", "roomno", "roomnumber"),
    "area_m2": ("专有面积", "专有部分面积", "aream2", "area", "exclusivearea"),
    "owner_key": ("业主编号", "业主号", "ownerkey", "ownerid", "ownerno"),
    "owner_name": ("业主姓名", "业主", "姓名", "ownername", "name"),
    "phone": ("联系电话", "电话", "手机", "手机号", "手机号码", "phone", "mobile", "tel"),
    "developer_held": ("开发商持有", "开发商", "developerheld", "developer"),
}
_HEADER_LOOKUP = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_HEADER_NOISE = re.compile(r"[\s_\-/.:：*]")

_YES = frozenset({"是", "yes", "y", "true", "1"})
_NO = frozenset({"否", "no", "n", "false", "0", ""})

_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class RosterRow:
    line: int
    building: str
    room: str
    area: Decimal
    owner_key: str
    owner_name: str
    phone: str | None
    developer_held: bool


@dataclass(frozen=True)
class RowError:
    """A problem on one line (``line`` 0: the file as a whole). ``code`` names the message."""

    line: int
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class ParsedRoster:
    rows: list[RosterRow]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})


class _FileProblem(Exception):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.error = RowError(0, code, params)


# ---- helpers ------------------------------------------------------------------------------


def building_sort_key(name: str) -> str:
    """A key that sorts building names naturally: "2栋" before "10栋", "A3" before "A12"."""
    key = _DIGITS.sub(lambda m: m.group().lstrip("0").rjust(10, "0"), name.strip().lower())
    return key[:80]


def parse_developer_flag(raw: str) -> bool | None:
    """是/否, yes/no, y/n, true/false, 1/0 (any case); empty is no; None when unrecognised."""
    value = raw.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None


def _header_key(raw: str) -> str:
    s = unicodedata.normalize("NFKC", raw).strip().lower()
    s = _BRACKETED.sub("", s)
    return _HEADER_NOISE.sub("", s)


def _cell_text(value) -> str:
    """A spreadsheet cell as text; whole floats lose their ".0" (phones stored as numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _clean(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# ---- reading ------------------------------------------------------------------------------


def _is_xlsx(data: bytes, filename: str) -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx")


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or GB18030 (which includes GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _FileProblem("file_encoding") from exc


def _csv_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        raise _FileProblem("file_encoding") from exc
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        # One record per line as a spreadsheet numbers them (a quoted line break stays inside).
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise _FileProblem("file_unreadable") from exc


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign file: zip, xml or openpyxl errors
        raise _FileProblem("file_unreadable") from exc
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [_cell_text(v) for v in values[:MAX_COLUMNS]]
        except Exception as exc:
            raise _FileProblem("file_unreadable") from exc
    finally:
        workbook.close()


def read_records(data: bytes, filename: str = "") -> Iterator[tuple[int, list[str]]]:
    """(line number, cells as text) for every line of the file, blank ones included."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or filename.lower().endswith(".xls"):
        raise _FileProblem("file_type")
    if _is_xlsx(data, filename):
        return _xlsx_records(data)
    return _csv_records(data)


# ---- header -------------------------------------------------------------------------------


def map_header(
    line: int,
    cells: list[str],
    *,
    columns: dict[str, tuple[str, str]],
    required: Iterable[str],
    lookup: dict[str, str],
    key=None,
) -> tuple[dict[str, int], list[RowError]]:
    """field -> column index, and the problems with the header row.

    ``columns``: field -> (Chinese, English) names; ``lookup``: normalised header -> field;
    ``key``: how a header cell is normalised before the lookup (default: this module's).
    """
    key = key or _header_key
    found: dict[str, int] = {}
    errors: list[RowError] = []
    expected = ", ".join(f"{zh} / {en}" for zh, en in columns.values())
    for index, raw in enumerate(cells):
        text = _clean(raw.lstrip("\ufeff"))
        if not text:
            continue  # Excel leaves empty header cells after the last column
        name = lookup.get(key(text))
        if name is None:
            errors.append(
                RowError(line, "header_unknown", {"column": _short(text), "expected": expected})
            )
        elif name in found:
            errors.append(RowError(line, "header_duplicate", {"column": _short(text)}))
        else:
            found[name] = index
    for name in required:
        if name not in found:
            zh, en = columns[name]
            errors.append(RowError(line, "header_missing", {"column": f"{zh} / {en}"}))
    return found, errors


def _map_header(line: int, cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    return map_header(
        line, cells, columns=COLUMNS, required=REQUIRED_COLUMNS, lookup=_HEADER_LOOKUP
    )


# ---- rows ---------------------------------------------------------------------------------


def _check_row(line: int, values: dict[str, str]) -> tuple[RosterRow | None, list[RowError]]:
    errors: list[RowError] = []
    for name in REQUIRED_VALUES:
        if not values[name]:
            errors.append(RowError(line, "required", {"field": name}))
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            errors.append(RowError(line, "too_long", {"field": name, "max": limit}))

    area = None
    if values["area_m2"]:
        area = parse_area(values["area_m2"])
        if area is None:
            errors.append(RowError(line, "area_invalid", {"value": _short(values["area_m2"])}))

    phone = None
    if values["phone"]:
        phone = normalise_mobile(values["phone"])
        if phone is None:
            errors.append(RowError(line, "phone_invalid", {"value": _short(values["phone"])}))

    developer = parse_developer_flag(values["developer_held"])
    if developer is None:
        errors.append(
            RowError(line, "developer_invalid", {"value": _short(values["developer_held"])})
        )

    if errors:
        return None, errors
    row = RosterRow(
        line=line,
        building=values["building"],
        room=values["room"],
        area=area,
        owner_key=values["owner_key"],
        owner_name=values["owner_name"],
        phone=phone,
        developer_held=bool(developer),
    )
    return row, []


def check_records(records: Iterable[tuple[int, list[str]]]) -> ParsedRoster:
    """Validate the records of a file (its header first, blank lines skipped)."""
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    columns: dict[str, int] | None = None
    header_line = 0
    seen_rooms: dict[tuple[str, str], int] = {}
    owner_names: dict[str, tuple[str, int]] = {}
    count = 0

    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if columns is None:
            header_line = line
            columns, header_errors = _map_header(line, cells)
            if header_errors:
                return ParsedRoster([], header_errors)
            continue
        count += 1
        if count > MAX_ROWS:
            return ParsedRoster([], [RowError(0, "too_many_rows", {"max": MAX_ROWS})])

        values = {}
        for name in COLUMNS:
            index = columns.get(name)
            raw = cells[index] if index is not None and index < len(cells) else ""
            # Names keep their own characters; codes and numbers are made half-width.
            values[name] = raw.strip() if name == "owner_name" else _clean(raw)
        row, row_errors = _check_row(line, values)

        # Rules across rows are checked on what is present, even when the row has other faults.
        key = (values["building"], values["room"])
        if values["building"] and values["room"]:
            first = seen_rooms.setdefault(key, line)
            if first != line:
                row_errors.append(
                    RowError(
                        line,
                        "room_duplicate",
                        {"building": key[0], "room": key[1], "first_line": first},
                    )
                )
        if values["owner_key"] and values["owner_name"]:
            first_name, first_line = owner_names.setdefault(
                values["owner_key"], (values["owner_name"], line)
            )
            if first_name != values["owner_name"]:
                row_errors.append(
                    RowError(
                        line,
                        "owner_name_conflict",
                        {
                            "owner_key": values["owner_key"],
                            "name": _short(values["owner_name"]),
                            "first_name": _short(first_name),
                            "first_line": first_line,
                        },
                    )
                )
        if row_errors:
            errors.extend(row_errors)
        elif row is not None:
            rows.append(row)

    if columns is None:
        return ParsedRoster([], [RowError(0, "file_empty")])
    if count == 0 and not errors:
        return ParsedRoster([], [RowError(header_line, "no_rows")])
    if errors:
        return ParsedRoster([], errors)
    return ParsedRoster(rows, [])


def parse_roster(data: bytes, filename: str = "") -> ParsedRoster:
    """Read and check a roster file: all its rows, or every problem found (and no rows)."""
    if len(data) > MAX_BYTES:
        return ParsedRoster([], [RowError(0, "file_too_large", {"mb": MAX_BYTES // 2**20})])
    if not data.strip():
        return ParsedRoster([], [RowError(0, "file_empty")])
    try:
        return check_records(read_records(data, filename))
    except _FileProblem as problem:
        return ParsedRoster([], [problem.error])
