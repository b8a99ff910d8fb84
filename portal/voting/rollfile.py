"""The published roll.csv and ballots.csv: canonical bytes, fingerprint, and reading them back.

Pure: no Flask, no database.

Canonical form (what the portal publishes and fingerprints):

* UTF-8 without BOM, LF line endings, a header row, every row ending with LF;
* ``roll.csv``: ``voter_key,unit,area_m2``, rows sorted by (unit, voter_key) as plain strings
  (code-point order), areas with exactly two decimals;
* ``ballots.csv``: ``voter_key,choice,channel,receipt``, rows sorted by (voter_key, receipt);
* fields quoted only when they need it (a comma, a quote or a line break), as ``csv`` does.

``roll_fingerprint`` is the SHA-256 (hex) of the canonical roll CSV.

Reading (the recount command takes any such file, not only canonical ones): a UTF-8 BOM and CRLF
line endings are accepted; the header must hold exactly the expected column names, in any order
(surrounding spaces and letter case ignored); every row must have as many fields as the header;
leading and trailing spaces of each field are dropped; blank lines (and rows whose fields are all
empty) are skipped. Line numbers are the line a text editor shows, the header being line 1.
Problems raise ``RecountFileError`` with an English message naming the file and the line.
Ballot rows are kept as they are: checking them (unknown voter, duplicate, empty choice, channel)
is the tally's job, which reports them with their line numbers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from portal.voting.tally import BallotRecord, RollEntry, format_area

ROLL_COLUMNS = ("voter_key", "unit", "area_m2")
BALLOT_COLUMNS = ("voter_key", "choice", "channel", "receipt")

_AREA = re.compile(r"^[0-9]+(\.[0-9]{1,2})?$")


class RecountFileError(ValueError):
    """A roll or ballots file that cannot be read; the message names the file and the line."""


# ---- writing ----------------------------------------------------------------------------------


def _csv_bytes(header: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def canonical_roll_csv(entries: Iterable[RollEntry]) -> bytes:
    """The canonical roll.csv (see the module docstring)."""
    rows = sorted((e.unit.strip(), e.voter_key.strip(), format_area(e.area_m2)) for e in entries)
    return _csv_bytes(ROLL_COLUMNS, ((key, unit, area) for unit, key, area in rows))


def roll_fingerprint(entries: Iterable[RollEntry]) -> str:
    """SHA-256 (hex) of ``canonical_roll_csv(entries)``: the roll's published fingerprint."""
    return hashlib.sha256(canonical_roll_csv(entries)).hexdigest()


def canonical_ballots_csv(records: Iterable[BallotRecord]) -> bytes:
    """The canonical ballots.csv: one row per ballot given, sorted by (voter_key, receipt).

    The caller passes the ballots that count (the ledger's accepted ballots); ties on
    (voter_key, receipt) keep a deterministic order by choice and channel.
    """
    rows = sorted(
        (
            r.voter_key.strip(),
            (r.receipt or "").strip(),
            r.choice.strip(),
            r.channel.strip(),
        )
        for r in records
    )
    return _csv_bytes(
        BALLOT_COLUMNS,
        ((key, choice, channel, receipt) for key, receipt, choice, channel in rows),
    )


# ---- reading ----------------------------------------------------------------------------------


def _records(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) for every record, blank ones skipped; the header is line 1."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecountFileError(
            f"{filename}: not UTF-8 text (byte {exc.start + 1} cannot be read)"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or all(not f.strip() for f in fields):
                continue
            yield line, [f.strip() for f in fields]
    except csv.Error as exc:
        raise RecountFileError(f"{filename}, line {start}: not readable as CSV ({exc})") from None


def _read_header(
    records: Iterator[tuple[int, list[str]]], filename: str, expected: tuple[str, ...]
) -> tuple[int, list[str]]:
    """The header's line and its column names in file order, checked against ``expected``."""
    want = ",".join(expected)
    try:
        line, fields = next(records)
    except StopIteration:
        raise RecountFileError(f"{filename} is empty: it needs a header row {want}") from None
    names = [f.lower() for f in fields]
    missing = [c for c in expected if c not in names]
    extra = [f for f, n in zip(fields, names, strict=True) if n not in expected]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if missing or extra or doubled:
        problems = []
        if missing:
            problems.append("missing " + ", ".join(missing))
        if extra:
            problems.append("unexpected " + ", ".join(repr(x) for x in extra))
        if doubled:
            problems.append("repeated " + ", ".join(doubled))
        raise RecountFileError(
            f"{filename}, line {line}: the header must be {want} ({'; '.join(problems)})"
        )
    return line, names


def _rows(
    data: bytes, filename: str, expected: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    records = _records(data, filename)
    _, names = _read_header(records, filename, expected)
    for line, fields in records:
        if len(fields) != len(names):
            raise RecountFileError(
                f"{filename}, line {line}: {len(fields)} fields, but the header has "
                f"{len(names)} ({','.join(names)})"
            )
        yield line, dict(zip(names, fields, strict=True))


def parse_area_m2(raw: str) -> Decimal | None:
    """A positive area written as digits with at most two decimals ("85", "85.5", "85.50")."""
    if not _AREA.match(raw):
        return None
    value = Decimal(raw)
    return value if value > 0 else None


def parse_roll_csv(data: bytes, filename: str = "roll.csv") -> list[RollEntry]:
    """The roll's rows, in file order. A header-only file gives ``[]`` (the tally refuses it)."""
    entries: list[RollEntry] = []
    unit_lines: dict[str, int] = {}
    for line, row in _rows(data, filename, ROLL_COLUMNS):
        if not row["voter_key"]:
            raise RecountFileError(f"{filename}, line {line}: the voter_key is empty")
        if not row["unit"]:
            raise RecountFileError(f"{filename}, line {line}: the unit is empty")
        area = parse_area_m2(row["area_m2"])
        if area is None:
            raise RecountFileError(
                f"{filename}, line {line}: the area_m2 {row['area_m2']!r} is not a positive "
                "number with at most two decimals"
            )
        first = unit_lines.setdefault(row["unit"], line)
        if first != line:
            raise RecountFileError(
                f"{filename}, line {line}: the unit {row['unit']!r} is already listed "
                f"on line {first}"
            )
        entries.append(RollEntry(row["voter_key"], row["unit"], area))
    return entries


def parse_ballots_csv(data: bytes, filename: str = "ballots.csv") -> list[BallotRecord]:
    """The ballot rows, in file order, each with its line number; not checked (the tally does)."""
    return [
        BallotRecord(line, row["voter_key"], row["choice"], row["channel"], row["receipt"])
        for line, row in _rows(data, filename, BALLOT_COLUMNS)
    ]
